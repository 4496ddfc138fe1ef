//! Ground truth measured on the generated geometry and label maps, serialisable as `truth.json`.

use crate::config::PhantomConfig;
use crate::math::{v3, V3};
use crate::raster::{Grid, Maps, Stats};
use crate::scene::Scene;
use crate::shapes::Shape;
use crate::spine::{Segment, SpineModel};
use serde::{Deserialize, Serialize};
use spinekit_anatomy::{
    CobbCurve, Disc, Enumeration, FractureShape, GenantGrade, Level, Side, Tissue,
};

/// Everything a later engine measures, with the conventions used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// "spinekit-phantom-truth/1".
    pub format: String,
    /// Generator name and version.
    pub generator: String,
    pub seed: u64,
    pub config: PhantomConfig,
    pub coordinate_system: String,
    pub grid: GridTruth,
    pub conventions: Conventions,
    pub label_maps: LabelMapsTruth,
    pub enumeration: EnumerationTruth,
    /// Every vertebra of the column (C1 … sacrum), inside the field of view or not (see `visibility`).
    pub levels: Vec<LevelTruth>,
    pub discs: Vec<DiscTruth>,
    pub alignment: AlignmentTruth,
    pub pelvis: PelvisTruth,
    /// Body composition at the L3 mid-body slice (None when L3 is not in the field of view).
    pub body_composition_l3: Option<BodyCompositionTruth>,
    pub screws: Vec<ScrewTruth>,
    pub contrast_phase: crate::config::ContrastPhase,
    pub aorta_hu: f64,
    pub noise_sigma_hu_reference: f64,
    /// What the degenerative model generated (absent when the configuration has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degeneration: Option<crate::degen::DegenerationTruth>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridTruth {
    pub dims: [usize; 3],
    pub origin_mm: [f64; 3],
    pub spacing_mm: [f64; 3],
    /// Direction cosines of the voxel axes (identity: i → L, j → P, k → S).
    pub direction: [[f64; 3]; 3],
}

/// Method notes, one sentence per quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conventions {
    pub heights: String,
    pub genant: String,
    pub centroids: String,
    pub endplate_tilts: String,
    pub coronal_cobb: String,
    pub sagittal: String,
    pub spinopelvic: String,
    pub pedicles: String,
    pub trabecular_hu: String,
    pub body_composition: String,
    pub noise: String,
    pub visibility: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelMapsTruth {
    pub labels: String,
    pub bodies: String,
    pub discs: String,
    pub canal: Vec<(u8, String)>,
    pub tissues: Vec<(u8, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnumerationTruth {
    pub variant: Enumeration,
    /// Such as "7C-12T-5L".
    pub pattern: String,
    pub levels: Vec<Level>,
    pub rib_bearing: Vec<Level>,
    pub thoracic_count: usize,
    pub lumbar_count: usize,
}

/// How much of a vertebral body lies in the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Full,
    Partial,
    Outside,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelTruth {
    pub level: Level,
    pub verse_label: u8,
    /// Segment name: "L3", or for the sacrum its top segment ("S1" or "fused L5").
    pub segment: String,
    pub visibility: Visibility,
    /// Voxels labelled with this level in `labels` and in `bodies`.
    pub voxel_count: usize,
    pub body_voxel_count: usize,
    pub centroid_mm: Option<[f64; 3]>,
    pub body_centroid_mm: Option<[f64; 3]>,
    /// Origin of the body's local frame and its axes (unit vectors, LPS).
    pub body_center_mm: [f64; 3],
    pub axis_left: [f64; 3],
    pub axis_posterior: [f64; 3],
    pub axis_superior: [f64; 3],
    pub body_width_mm: f64,
    pub body_depth_mm: f64,
    /// Heights of the generated body (None for C1, which has none).
    pub heights: Option<Heights>,
    /// Heights before any fracture.
    pub normal_heights: Option<Heights>,
    pub superior_endplate: Option<Endplate>,
    pub inferior_endplate: Option<Endplate>,
    pub genant_grade: GenantGrade,
    pub fracture: Option<FractureTruth>,
    pub trabecular_hu: f64,
    /// Right then left pedicle (None for C1 and sacral segments).
    pub pedicles: Option<[PedicleTruth; 2]>,
    pub ribs: bool,
    /// Rib heads (centre of the costovertebral joint), right then left, on rib-bearing levels.
    pub rib_heads_mm: Option<[[f64; 3]; 2]>,
    pub screws: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heights {
    pub anterior_mm: f64,
    pub middle_mm: f64,
    pub posterior_mm: f64,
    /// End points (superior, inferior) of each height segment in LPS mm.
    pub anterior_points_mm: [[f64; 3]; 2],
    pub middle_points_mm: [[f64; 3]; 2],
    pub posterior_points_mm: [[f64; 3]; 2],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endplate {
    /// Centre of the rim plane and its upward unit normal.
    pub center_mm: [f64; 3],
    pub normal: [f64; 3],
    /// Anterior and posterior rim points in the mid-sagittal plane, and left and right rim points.
    pub anterior_mm: [f64; 3],
    pub posterior_mm: [f64; 3],
    pub left_mm: [f64; 3],
    pub right_mm: [f64; 3],
    pub coronal_tilt_deg: f64,
    pub sagittal_tilt_deg: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FractureTruth {
    pub shape: FractureShape,
    pub requested_grade: GenantGrade,
    pub requested_height_loss: f64,
    /// Height loss measured on the generated shape with the Genant ratio of the shape.
    pub height_loss: f64,
    /// "1 - Ha/Hp", "1 - Hm/Hp" or "1 - Hp/Hp_ref".
    pub ratio: String,
    pub reference_height_mm: f64,
    pub grade: GenantGrade,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PedicleTruth {
    /// "right" or "left".
    pub side: String,
    pub isthmus_width_mm: f64,
    pub isthmus_height_mm: f64,
    pub isthmus_center_mm: [f64; 3],
    /// Where the pedicle axis leaves the posterior bone surface (screw entry point).
    pub entry_point_mm: [f64; 3],
    /// Unit axis from the entry point into the body (anterior-medial).
    pub direction: [f64; 3],
    /// Medial angle to the vertebra's sagittal plane, and angle to its axial plane (0 = parallel to the endplate).
    pub transverse_angle_deg: f64,
    pub sagittal_angle_deg: f64,
    /// Entry point to the anterior body cortex along the axis.
    pub chord_length_mm: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscTruth {
    pub disc: Disc,
    pub label: u8,
    pub center_mm: [f64; 3],
    /// Rim-plane gap at the centre, and at the anterior/posterior measurement positions (15 %/85 %).
    pub height_mm: f64,
    pub anterior_height_mm: f64,
    pub posterior_height_mm: f64,
    /// Sagittal and coronal angle between the adjacent endplates (lordotic / left-opening positive).
    pub sagittal_angle_deg: f64,
    pub coronal_angle_deg: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CobbTruth {
    #[serde(flatten)]
    pub curve: CobbCurve,
    /// Both end vertebrae fully in the field of view.
    pub in_fov: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AngleTruth {
    pub upper: Level,
    pub lower: Level,
    pub deg: f64,
    pub in_fov: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlignmentTruth {
    /// Coronal curves ≥ 5°, cranial first.
    pub coronal_curves: Vec<CobbTruth>,
    /// Largest coronal Cobb angle (0 without curves).
    pub max_coronal_cobb_deg: f64,
    pub requested_coronal_cobb_deg: Option<f64>,
    /// L1 superior to S1 superior endplate.
    pub lumbar_lordosis: Option<AngleTruth>,
    /// T4 superior to the last thoracic inferior endplate.
    pub thoracic_kyphosis: Option<AngleTruth>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PelvisTruth {
    /// Right then left femoral head centre.
    pub femoral_head_centers_mm: [[f64; 3]; 2],
    pub femoral_head_radius_mm: f64,
    pub femoral_heads_in_fov: bool,
    pub hip_axis_center_mm: [f64; 3],
    /// Top sacral endplate ("S1 endplate") centre and rim points.
    pub s1_endplate: Endplate,
    pub sacral_slope_deg: f64,
    pub pelvic_tilt_deg: f64,
    pub pelvic_incidence_deg: f64,
    /// C7 body centre (a landmark for the C7 plumb line) and whether C7 is in the field of view.
    pub c7_center_mm: [f64; 3],
    pub c7_in_fov: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BodyCompositionTruth {
    pub slice_index: usize,
    pub z_mm: f64,
    pub pixel_area_mm2: f64,
    pub skeletal_muscle_area_cm2: f64,
    pub psoas_area_cm2: f64,
    pub paraspinal_area_cm2: f64,
    pub quadratus_lumborum_area_cm2: f64,
    pub abdominal_wall_muscle_area_cm2: f64,
    pub visceral_fat_area_cm2: f64,
    pub subcutaneous_fat_area_cm2: f64,
    pub other_fat_area_cm2: f64,
    /// Mean CT HU (with noise) over the muscle voxels of the slice (None if there are none).
    pub muscle_mean_hu: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScrewTruth {
    pub level: Level,
    pub side: String,
    pub entry_mm: [f64; 3],
    pub tip_mm: [f64; 3],
    pub diameter_mm: f64,
    pub length_mm: f64,
}

fn arr(v: V3) -> [f64; 3] {
    v.to_array()
}

/// Coronal tilt (degrees) of a plane with upward normal n: its intersection with a coronal plane,
/// positive when the left end is higher.
pub fn coronal_tilt_deg(n: V3) -> f64 {
    (-n.x).atan2(n.z).to_degrees()
}

/// Sagittal tilt (degrees): positive when the endplate faces anteriorly (posterior edge higher).
pub fn sagittal_tilt_deg(n: V3) -> f64 {
    (-n.y).atan2(n.z).to_degrees()
}

fn endplate(seg: &Segment, top: bool) -> Option<Endplate> {
    let b = seg.body.as_ref()?;
    let (c, n) = if top {
        seg.top_plane()
    } else {
        seg.bottom_plane()
    };
    let sgn = if top { 0.5 } else { -0.5 };
    let p = |x: f64, y: f64| arr(seg.frame.to_world(v3(x, y, sgn * b.rim_height(y))));
    Some(Endplate {
        center_mm: arr(c),
        normal: arr(n),
        anterior_mm: p(0.0, -b.b),
        posterior_mm: p(0.0, b.b),
        left_mm: p(b.a, 0.0),
        right_mm: p(-b.a, 0.0),
        coronal_tilt_deg: coronal_tilt_deg(n),
        sagittal_tilt_deg: sagittal_tilt_deg(n),
    })
}

fn heights(seg: &Segment, b: &crate::shapes::BodyShape) -> Heights {
    let ys = b.measure_y();
    let hs = b.heights();
    let pts = |y: f64| {
        [
            arr(seg.frame.to_world(v3(0.0, y, b.z_top(0.0, y)))),
            arr(seg.frame.to_world(v3(0.0, y, b.z_bot(0.0, y)))),
        ]
    };
    Heights {
        anterior_mm: hs[0],
        middle_mm: hs[1],
        posterior_mm: hs[2],
        anterior_points_mm: pts(ys[0]),
        middle_points_mm: pts(ys[1]),
        posterior_points_mm: pts(ys[2]),
    }
}

fn centroid(s: &[f64; 4]) -> Option<[f64; 3]> {
    (s[0] > 0.0).then(|| [s[1] / s[0], s[2] / s[0], s[3] / s[0]])
}

/// Everything needed to compute the truth.
pub struct TruthInput<'a> {
    pub cfg: &'a PhantomConfig,
    pub model: &'a SpineModel,
    pub scene: &'a Scene,
    pub grid: Grid,
    pub maps: &'a Maps,
    pub stats: &'a Stats,
    pub aorta_hu: f64,
}

fn visibility(grid: &Grid, scene: &Scene, seg_index: usize) -> Visibility {
    let Some(p) = scene
        .bone
        .iter()
        .find(|p| p.segment == Some(seg_index) && matches!(p.shape, Shape::Body(_)))
    else {
        return Visibility::Outside;
    };
    let mut full = true;
    let mut any = true;
    for a in 0..3 {
        let lo = grid.origin[a] - 0.5 * grid.spacing[a];
        let hi = grid.origin[a] + (grid.dims[a] as f64 - 0.5) * grid.spacing[a];
        let (plo, phi) = (p.lo.get(a), p.hi.get(a));
        full &= plo >= lo && phi <= hi;
        any &= phi >= lo && plo <= hi;
    }
    if full {
        Visibility::Full
    } else if any {
        Visibility::Partial
    } else {
        Visibility::Outside
    }
}

fn point_in_grid(grid: &Grid, p: V3, margin: f64) -> bool {
    (0..3).all(|a| {
        let lo = grid.origin[a] + margin;
        let hi = grid.origin[a] + (grid.dims[a] as f64 - 1.0) * grid.spacing[a] - margin;
        (lo..=hi).contains(&p.get(a))
    })
}

/// Builds the truth.
pub fn compute(inp: &TruthInput) -> Truth {
    let cfg = inp.cfg;
    let model = inp.model;
    let e = model.enumeration;
    let top = model.sacrum_top();
    let mut levels = Vec::new();
    let mut vis_of = std::collections::HashMap::new();
    for (i, seg) in model.segments.iter().enumerate() {
        if !(seg.free || i == top) {
            continue;
        }
        let level = seg.level;
        let label = level.verse_label() as usize;
        let vis = if level == Level::C1 {
            let c = seg.frame.o;
            if point_in_grid(&inp.grid, c, 0.0) {
                Visibility::Partial
            } else {
                Visibility::Outside
            }
        } else {
            visibility(&inp.grid, inp.scene, i)
        };
        vis_of.insert(level, vis);
        let hs = seg.body.as_ref().map(|b| heights(seg, b));
        let fracture = seg.fracture.map(|f| {
            let h = hs.as_ref().expect("fractured levels have bodies");
            let (loss, ratio, reference) = match f.shape {
                FractureShape::Wedge => (
                    1.0 - h.anterior_mm / h.posterior_mm,
                    "1 - Ha/Hp",
                    h.posterior_mm,
                ),
                FractureShape::Biconcave => (
                    1.0 - h.middle_mm / h.posterior_mm,
                    "1 - Hm/Hp",
                    h.posterior_mm,
                ),
                FractureShape::Crush => {
                    let r = seg.crush_reference_mm.unwrap_or(h.posterior_mm);
                    (1.0 - h.posterior_mm / r, "1 - Hp/Hp_ref", r)
                }
            };
            FractureTruth {
                shape: f.shape,
                requested_grade: f.grade,
                requested_height_loss: f.target_loss(),
                height_loss: loss,
                ratio: ratio.into(),
                reference_height_mm: reference,
                grade: GenantGrade::from_height_loss(loss).unwrap_or(GenantGrade::Normal),
            }
        });
        let pedicles = if seg.free {
            inp.scene.pedicles[i].map(|ps| {
                let f = seg.frame;
                ps.map(|p| {
                    let dl = f.r.apply_t(p.direction);
                    let side = if f.to_local(p.isthmus_center).x > 0.0 {
                        "left"
                    } else {
                        "right"
                    };
                    PedicleTruth {
                        side: side.into(),
                        isthmus_width_mm: p.width_mm,
                        isthmus_height_mm: p.height_mm,
                        isthmus_center_mm: arr(p.isthmus_center),
                        entry_point_mm: arr(p.entry),
                        direction: arr(p.direction),
                        transverse_angle_deg: dl.x.abs().atan2(-dl.y).to_degrees(),
                        sagittal_angle_deg: dl
                            .z
                            .atan2((dl.x * dl.x + dl.y * dl.y).sqrt())
                            .to_degrees(),
                        chord_length_mm: p.chord_mm,
                    }
                })
            })
        } else {
            None
        };
        levels.push(LevelTruth {
            level,
            verse_label: level.verse_label(),
            segment: seg.name.clone(),
            visibility: vis,
            voxel_count: inp.stats.labels[label][0] as usize,
            body_voxel_count: inp.stats.bodies[label][0] as usize,
            centroid_mm: centroid(&inp.stats.labels[label]),
            body_centroid_mm: centroid(&inp.stats.bodies[label]),
            body_center_mm: arr(seg.frame.o),
            axis_left: arr(seg.frame.r.c[0]),
            axis_posterior: arr(seg.frame.r.c[1]),
            axis_superior: arr(seg.frame.r.c[2]),
            body_width_mm: seg.body.map_or(0.0, |b| 2.0 * b.a),
            body_depth_mm: seg.body.map_or(0.0, |b| 2.0 * b.b),
            heights: hs,
            normal_heights: seg.normal_body.as_ref().map(|b| heights(seg, b)),
            superior_endplate: endplate(seg, true),
            inferior_endplate: endplate(seg, false),
            genant_grade: fracture.as_ref().map_or(GenantGrade::Normal, |f| f.grade),
            fracture,
            trabecular_hu: seg.trabecular_hu,
            pedicles,
            ribs: seg.free && e.is_rib_bearing(level),
            rib_heads_mm: inp.scene.rib_heads[i].map(|h| h.map(arr)),
            screws: seg.free && cfg.screws.contains(&level),
        });
    }
    let full = |l: Level| vis_of.get(&l) == Some(&Visibility::Full);

    // Discs.
    let discs = model
        .discs
        .iter()
        .map(|dm| {
            let up = &model.segments[dm.upper];
            let lo = &model.segments[dm.lower];
            let (pu, nu) = up.bottom_plane();
            let (pl, nl) = lo.top_plane();
            let ub = up.body.expect("body");
            let lb = lo.body.expect("body");
            let c = (pu + pl) * 0.5;
            // Gap between the rim planes along the disc axis at the anterior/posterior positions.
            let axis = (pu - pl).normalized();
            let yb = 0.5 * (ub.b + lb.b) * 0.7;
            let ap = (up.frame.r.c[1] + lo.frame.r.c[1]).normalized();
            let gap = |y: f64| {
                let p = c + ap * y;
                let t_l = (pl - p).dot(nl) / axis.dot(nl);
                let t_u = (pu - p).dot(nu) / axis.dot(nu);
                t_u - t_l
            };
            DiscTruth {
                disc: dm.disc,
                label: dm.disc.label(),
                center_mm: arr(c),
                height_mm: dm.height_mm,
                anterior_height_mm: gap(-yb),
                posterior_height_mm: gap(yb),
                sagittal_angle_deg: sagittal_tilt_deg(nl) - sagittal_tilt_deg(nu),
                coronal_angle_deg: coronal_tilt_deg(nl) - coronal_tilt_deg(nu),
            }
        })
        .collect();

    // Coronal curves from the endplate tilt sequence C2 … sacrum.
    let seq: Vec<(Level, f64, f64)> = model
        .segments
        .iter()
        .enumerate()
        .filter(|(i, s)| s.body.is_some() && (s.free || *i == top))
        .map(|(_, s)| {
            let (_, nt) = s.top_plane();
            let (_, nb) = s.bottom_plane();
            (s.level, coronal_tilt_deg(nt), coronal_tilt_deg(nb))
        })
        .collect();
    let coronal_curves = coronal_curves(&seq, &full);
    let max_cobb = coronal_curves
        .iter()
        .map(|c| c.curve.cobb_deg)
        .fold(0.0, f64::max);

    let tilt_sup = |l: Level| model.segment(l).map(|s| sagittal_tilt_deg(s.top_plane().1));
    let tilt_inf = |l: Level| {
        model
            .segment(l)
            .map(|s| sagittal_tilt_deg(s.bottom_plane().1))
    };
    let lumbar_lordosis = match (tilt_sup(Level::L1), tilt_sup(Level::Sacrum)) {
        (Some(a), Some(b)) => Some(AngleTruth {
            upper: Level::L1,
            lower: Level::Sacrum,
            deg: b - a,
            in_fov: full(Level::L1) && full(Level::Sacrum),
        }),
        _ => None,
    };
    let lt = e.last_thoracic();
    let thoracic_kyphosis = match (tilt_sup(Level::T4), tilt_inf(lt)) {
        (Some(a), Some(b)) => Some(AngleTruth {
            upper: Level::T4,
            lower: lt,
            deg: a - b,
            in_fov: full(Level::T4) && full(lt),
        }),
        _ => None,
    };

    // Pelvis.
    let s1 = &model.segments[top];
    let s1e = endplate(s1, true).expect("sacral body");
    let (m, n) = s1.top_plane();
    let fh = model.femoral_heads;
    let hip = (fh[0] + fh[1]) * 0.5;
    let ss = sagittal_tilt_deg(n);
    // Sagittal projections (y, z).
    let to_hip = v3(0.0, hip.y - m.y, hip.z - m.z);
    let pt = (-(to_hip.y)).atan2(-to_hip.z).to_degrees();
    let down_normal = v3(0.0, -n.y, -n.z);
    let pi = (down_normal.cross(to_hip).x.abs())
        .atan2(down_normal.dot(to_hip))
        .to_degrees();
    let r = model.femoral_head_radius_mm;
    let c7 = model.segment(Level::C7).map_or(V3::ZERO, |s| s.frame.o);

    // L3 body composition on the mid-body slice.
    let body_composition_l3 = model.segment(Level::L3).and_then(|s| {
        if !full(Level::L3) {
            return None;
        }
        let g = inp.grid;
        let k = ((s.frame.o.z - g.origin[2]) / g.spacing[2]).round();
        if k < 0.0 || k >= g.dims[2] as f64 {
            return None;
        }
        let k = k as usize;
        let n = g.dims[0] * g.dims[1];
        let tis = &inp.maps.tissues[k * n..(k + 1) * n];
        let ct = &inp.maps.ct[k * n..(k + 1) * n];
        let mut counts = [0usize; 32];
        let mut mu_sum = 0.0;
        let mut mu_n = 0usize;
        for (&t, &h) in tis.iter().zip(ct) {
            counts[t as usize] += 1;
            if Tissue::from_code(t).is_some_and(|t| t.is_skeletal_muscle()) {
                mu_sum += h as f64;
                mu_n += 1;
            }
        }
        let px = g.spacing[0] * g.spacing[1];
        let area = |ts: &[Tissue]| {
            ts.iter().map(|t| counts[t.code() as usize]).sum::<usize>() as f64 * px / 100.0
        };
        Some(BodyCompositionTruth {
            slice_index: k,
            z_mm: g.origin[2] + k as f64 * g.spacing[2],
            pixel_area_mm2: px,
            skeletal_muscle_area_cm2: area(&[
                Tissue::AbdominalWallMuscle,
                Tissue::Psoas,
                Tissue::Paraspinal,
                Tissue::QuadratusLumborum,
                Tissue::OtherMuscle,
            ]),
            psoas_area_cm2: area(&[Tissue::Psoas]),
            paraspinal_area_cm2: area(&[Tissue::Paraspinal]),
            quadratus_lumborum_area_cm2: area(&[Tissue::QuadratusLumborum]),
            abdominal_wall_muscle_area_cm2: area(&[Tissue::AbdominalWallMuscle]),
            visceral_fat_area_cm2: area(&[Tissue::VisceralFat]),
            subcutaneous_fat_area_cm2: area(&[Tissue::SubcutaneousFat]),
            other_fat_area_cm2: area(&[Tissue::OtherFat]),
            muscle_mean_hu: (mu_n > 0).then(|| mu_sum / mu_n as f64),
        })
    });

    let screws = inp
        .scene
        .screws
        .iter()
        .map(|&(level, side, entry, tip, dia)| ScrewTruth {
            level,
            side: if side == 0 { "right" } else { "left" }.into(),
            entry_mm: arr(entry),
            tip_mm: arr(tip),
            diameter_mm: dia,
            length_mm: (tip - entry).norm(),
        })
        .collect();

    let g = inp.grid;
    Truth {
        format: "spinekit-phantom-truth/1".into(),
        generator: format!("spinekit-phantom {}", env!("CARGO_PKG_VERSION")),
        seed: cfg.seed,
        config: cfg.clone(),
        coordinate_system: "DICOM patient coordinates LPS in mm: +x patient left, +y posterior, +z superior; \
            voxel (i, j, k) centre = origin_mm + (i·sx, j·sy, k·sz) (direction identity); the phantom lies \
            supine on a table on its posterior side"
            .into(),
        grid: GridTruth {
            dims: g.dims,
            origin_mm: g.origin,
            spacing_mm: g.spacing,
            direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        },
        conventions: conventions(),
        label_maps: LabelMapsTruth {
            labels: "VerSe'20 whole-vertebra labels: 1–7 C1–C7, 8–19 T1–T12, 20–24 L1–L5, 25 L6, 26 sacrum \
                (including a sacralised L5), 28 T13; ribs, pelvis and femora are 0"
                .into(),
            bodies: "vertebral bodies only, same numbering; for the sacrum only the top segment's body".into(),
            discs: "disc voxels carry the VerSe label of the vertebra above (L4-L5 → 23, L5-S1 → 24)".into(),
            canal: vec![
                (1, "csf: cerebrospinal fluid inside the dural sac (ends at S2); epidural fat is not labelled".into()),
                (2, "cord: spinal cord down to the conus medullaris in L1".into()),
            ],
            tissues: Tissue::ALL.iter().map(|t| (t.code(), t.name().to_string())).collect(),
        },
        enumeration: EnumerationTruth {
            variant: e,
            pattern: e.pattern(),
            levels: e.levels(),
            rib_bearing: e.levels().into_iter().filter(|&l| e.is_rib_bearing(l)).collect(),
            thoracic_count: e.thoracic_count(),
            lumbar_count: e.lumbar_count(),
        },
        levels,
        discs,
        alignment: AlignmentTruth {
            coronal_curves,
            max_coronal_cobb_deg: max_cobb,
            requested_coronal_cobb_deg: cfg.scoliosis.map(|s| s.cobb_deg),
            lumbar_lordosis,
            thoracic_kyphosis,
        },
        pelvis: PelvisTruth {
            femoral_head_centers_mm: [arr(fh[0]), arr(fh[1])],
            femoral_head_radius_mm: r,
            femoral_heads_in_fov: fh.iter().all(|&h| point_in_grid(&g, h, r)),
            hip_axis_center_mm: arr(hip),
            s1_endplate: s1e,
            sacral_slope_deg: ss,
            pelvic_tilt_deg: pt,
            pelvic_incidence_deg: pi,
            c7_center_mm: arr(c7),
            c7_in_fov: full(Level::C7),
        },
        body_composition_l3,
        screws,
        contrast_phase: cfg.contrast_phase,
        aorta_hu: inp.aorta_hu,
        noise_sigma_hu_reference: cfg.noise_sigma_hu,
        degeneration: None,
    }
}

/// Curves between consecutive extrema of the coronal tilt sequence (each entry: level, superior tilt,
/// inferior tilt, cranial first).
fn coronal_curves(seq: &[(Level, f64, f64)], full: &dyn Fn(Level) -> bool) -> Vec<CobbTruth> {
    const MIN_DEG: f64 = 5.0;
    // Tilt of each vertebra (superior and inferior are equal in the coronal plane here, but use the
    // endplate that the Cobb definition names).
    let mid: Vec<f64> = seq.iter().map(|s| 0.5 * (s.1 + s.2)).collect();
    let n = mid.len();
    if n < 2 {
        return Vec::new();
    }
    // Extrema, plateaus collapsed to their first element.
    let mut ext = vec![0usize];
    let mut dir = 0i32;
    for i in 1..n {
        let d = mid[i] - mid[i - 1];
        let s = if d > 1e-6 {
            1
        } else if d < -1e-6 {
            -1
        } else {
            0
        };
        if s != 0 {
            if dir != 0 && s != dir {
                // The previous element was an extremum; step back over a plateau to its first element.
                let mut j = i - 1;
                while j > 0 && (mid[j - 1] - mid[j]).abs() <= 1e-6 {
                    j -= 1;
                }
                ext.push(j);
            }
            dir = s;
        }
    }
    let mut last = n - 1;
    while last > 0 && (mid[last - 1] - mid[last]).abs() <= 1e-6 {
        last -= 1;
    }
    ext.push(last);
    ext.dedup();
    let mut out = Vec::new();
    for w in ext.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (ta, tb) = (seq[a].1, seq[b].2);
        let cobb = (tb - ta).abs();
        if cobb < MIN_DEG {
            continue;
        }
        let target = 0.5 * (ta + tb);
        let apex = (a..=b)
            .min_by(|&i, &j| (mid[i] - target).abs().total_cmp(&(mid[j] - target).abs()))
            .unwrap_or(a);
        out.push(CobbTruth {
            curve: CobbCurve {
                upper_end: seq[a].0,
                lower_end: seq[b].0,
                apex: seq[apex].0,
                cobb_deg: cobb,
                convex: if tb > ta { Side::Right } else { Side::Left },
            },
            in_fov: full(seq[a].0) && full(seq[b].0),
        });
    }
    out
}

fn conventions() -> Conventions {
    Conventions {
        heights: "Ha, Hm, Hp: length of the generated vertebral-body solid along the body's local superior axis \
            (axis_superior) in its mid-sagittal plane, at 15 %, 50 % and 85 % of the anterior–posterior depth \
            (TotalSegmentator spine-report positions), including endplate concavity and fracture deformation; \
            exact on the analytic shape. The `bodies` map holds the voxels whose centre lies inside that solid."
            .into(),
        genant: "Genant 1993 with the clinical-reference §1.2 boundaries (normal < 20 %, mild 20–25 %, moderate \
            25–40 %, severe > 40 %): wedge 1 − Ha/Hp, biconcave 1 − Hm/Hp, crush 1 − Hp/Hp_ref with Hp_ref the mean \
            normal posterior height of the adjacent levels. Levels without a generated fracture are graded normal."
            .into(),
        centroids: "centroid_mm: mean LPS position of the voxel centres carrying the level in `labels` (whole \
            vertebra, VerSe style); body_centroid_mm: the same in `bodies`; body_center_mm: origin of the body's local \
            frame (mid-depth, mid rim height)."
            .into(),
        endplate_tilts: "Endplate planes are the rim planes of the body; normals point superiorly. Coronal tilt = \
            atan2(−n_x, n_z) (the endplate's intersection with a coronal plane against the horizontal, positive \
            when its left end is higher); sagittal tilt = atan2(−n_y, n_z) (positive when the endplate faces \
            anteriorly). The reference horizontal is the scanner's axial plane."
            .into(),
        coronal_cobb: "Cobb angle between the superior endplate of the upper end vertebra and the inferior endplate \
            of the lower end vertebra; curves are the runs between consecutive extrema of the coronal tilt sequence \
            C2 … sacrum, reported when ≥ 5°; convex side right when the tilt increases caudally."
            .into(),
        sagittal: "Lumbar lordosis = sagittal tilt of the S1 (top sacral) superior endplate − tilt of the L1 \
            superior endplate (positive = lordotic); thoracic kyphosis = tilt of the T4 superior endplate − tilt of \
            the last thoracic inferior endplate (T12; T11 with 11 rib pairs; T13 when present), positive = kyphotic."
            .into(),
        spinopelvic: "Sagittal projection (y, z): sacral slope = sagittal tilt of the S1 endplate; pelvic tilt = \
            angle between the vertical (z) and the line from the hip axis centre to the S1 endplate centre, positive \
            when the hip axis is anterior; pelvic incidence = angle between the S1 endplate normal (pointing into \
            the sacrum) and the line to the hip axis (PI = PT + SS)."
            .into(),
        pedicles: "Pedicles are elliptic tubes of constant width (outer cortex to outer cortex) equal to the \
            isthmus width, along the pedicle axis; the entry point is where the axis leaves the vertebra's bone \
            posteriorly; the direction points into the body; widths from clinical-reference §8.1."
            .into(),
        trabecular_hu: "HU assigned to the vertebral-body marrow before noise: plus a zero-mean value-noise texture \
            of ±22 HU (1.3 mm cells); posterior elements +90 HU; a fractured body has +150 HU in the 5 mm under its \
            superior endplate (impaction band)."
            .into(),
        body_composition: "Axial slice nearest to the L3 body centre; areas = voxel count of the `tissues` codes × \
            pixel area (cm²); skeletal muscle = abdominal wall + psoas + paraspinal + quadratus lumborum + other \
            muscle. Visceral fat is the fat inside the abdominal muscle wall (retroperitoneal included); fat between \
            the back muscles and in the canal is other_fat."
            .into(),
        noise: "noise_sigma_hu_reference is the noise SD at the reference abdomen (32 × 23 cm); each slice scales \
            it by exp(0.0095/mm × (effective diameter − 271 mm)) (dose falls off with patient size) and by up to \
            1.2 at the body centre; noise is correlated in-plane (0.6 mm grain, low frequencies suppressed)."
            .into(),
        visibility: "full: the body's bounding box lies inside the grid; partial: it intersects the grid; \
            outside: it does not."
            .into(),
    }
}
