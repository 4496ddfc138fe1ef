//! Bone and alignment measurements from the CT spine engine's anatomy.
//!
//! Turns a CT (HU) and its label maps (whole vertebrae, bodies, canal) into per-level numbers: body heights in
//! each body's own mid-sagittal plane, Genant grade and type, body volume, trabecular HU in two named
//! conventions, a bone-density category, coronal Cobb angles, lumbar lordosis, thoracic kyphosis,
//! spondylolisthesis and canal size with stenosis flags. Pure library: no file I/O, no printing.
//!
//! Geometry: everything is computed in LPS millimetres from the volume's origin, spacing and direction
//! cosines (anisotropic and oblique grids are fine). Each body gets a local frame: superior axis along the chord
//! between its neighbours' body centroids (the column's centreline tangent), posterior axis from the body
//! centroid towards the canal, left = posterior × superior. Label maps are interpolated trilinearly and their
//! 0.5 level is taken as the surface, so heights are sub-voxel.
//!
//! Anything that cannot be measured is a [`Measured::NotMeasurable`] with a reason, never a guessed number.

mod align;
mod body;
mod canal;
mod density;
mod geom;
mod types;

pub use align::{
    meyerding_grade, turning_points, CURVE_REPORT_DEG, LISTHESIS_PRECISION_MM, SCOLIOSIS_DEG,
};
pub use body::{
    HEIGHT_POSITIONS, TOTALSEG_EROSION_MM, TRABECULAR_ANTERIOR_FRACTION, TRABECULAR_EROSION_MM,
    TRABECULAR_SLAB_FRACTION_OF_HM,
};
pub use canal::{
    DURAL_AREA_ABSOLUTE_MM2, DURAL_AREA_RELATIVE_MM2, OSSEOUS_AP_ABSOLUTE_MM,
    OSSEOUS_AP_RELATIVE_MM,
};
pub use density::{
    phase_addon_hu, ARTERIAL_ADDON_HU, PICKHARDT_AT_RISK_HU, PICKHARDT_NPV_HU,
    PICKHARDT_SENSITIVE_HU, PICKHARDT_SPECIFIC_HU, PORTAL_VENOUS_ADDON_HU, TOTALSEG_THRESHOLD_HU,
};
pub use types::*;

use geom::*;
use rayon::prelude::*;
use spinekit_anatomy::{ContrastPhase, GenantGrade, Level};
use spinekit_image::Volume;
use std::time::Instant;

/// Why measuring could not start at all (per-level problems are [`Measured::NotMeasurable`] instead).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MeasureError {
    #[error("the {0} map does not lie on the CT's voxel grid (dimensions or geometry differ)")]
    GridMismatch(&'static str),
    #[error("no vertebra to measure: the label list is empty")]
    NoLevels,
}

/// One vertebra present in the label maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelInput {
    pub level: Level,
    /// Its value in `labels` and `bodies`.
    pub label: u8,
    /// Cut by the edge of the field of view.
    pub partial: bool,
}

/// The anatomy to measure, on the CT's grid.
#[derive(Debug, Clone, Copy)]
pub struct SpineInput<'a> {
    /// Whole vertebrae (used for the posterior direction when the canal is missing).
    pub labels: &'a Volume<u8>,
    /// Vertebral bodies, same labels.
    pub bodies: &'a Volume<u8>,
    /// Canal (any non-zero value), if segmented.
    pub canal: Option<&'a Volume<u8>>,
    pub canal_kind: CanalMapKind,
    pub levels: &'a [LevelInput],
}

/// Measures the output of [`spinekit_ct::segment`] (whose canal map is the osseous canal's content).
pub fn measure_segmentation(
    ct: &Volume<i16>,
    seg: &spinekit_ct::Segmentation,
    phase: Option<ContrastPhase>,
) -> Result<SpineMeasurements, MeasureError> {
    let levels: Vec<LevelInput> = seg
        .report
        .vertebrae
        .iter()
        .map(|v| LevelInput {
            level: v.level,
            label: v.label,
            partial: v.partial,
        })
        .collect();
    measure(
        ct,
        &SpineInput {
            labels: &seg.labels,
            bodies: &seg.bodies,
            canal: Some(&seg.canal),
            canal_kind: CanalMapKind::OsseousCanal,
            levels: &levels,
        },
        phase,
    )
}

/// Per-label voxel statistics (index space).
#[derive(Debug, Clone, Copy)]
struct LabelStats {
    count: usize,
    sum: [f64; 3],
    lo: [usize; 3],
    hi: [usize; 3],
}

impl Default for LabelStats {
    fn default() -> Self {
        Self {
            count: 0,
            sum: [0.0; 3],
            lo: [usize::MAX; 3],
            hi: [0; 3],
        }
    }
}

/// One canal section to measure: where, its name, the (centre, superior, posterior) frame if known, whether the
/// thresholds apply, and why not when the frame is missing.
type CanalJob = (CanalLocation, String, Option<(V3, V3, V3)>, bool, String);

impl LabelStats {
    fn add(&mut self, i: usize, j: usize, k: usize) {
        self.count += 1;
        for (a, q) in [i, j, k].into_iter().enumerate() {
            self.sum[a] += q as f64;
            self.lo[a] = self.lo[a].min(q);
            self.hi[a] = self.hi[a].max(q);
        }
    }
    fn merge(&mut self, o: &LabelStats) {
        self.count += o.count;
        for a in 0..3 {
            self.sum[a] += o.sum[a];
            self.lo[a] = self.lo[a].min(o.lo[a]);
            self.hi[a] = self.hi[a].max(o.hi[a]);
        }
    }
    fn centroid_index(&self) -> [f64; 3] {
        std::array::from_fn(|a| self.sum[a] / self.count as f64)
    }
}

/// Statistics of every label value of a map, in one parallel pass over slices.
fn label_stats(v: &Volume<u8>) -> Vec<LabelStats> {
    let [ni, nj, nk] = v.dims();
    (0..nk)
        .into_par_iter()
        .fold(
            || vec![LabelStats::default(); 256],
            |mut acc, k| {
                let sl = v.slice_k(k);
                for j in 0..nj {
                    for i in 0..ni {
                        let x = sl[i + ni * j];
                        if x != 0 {
                            acc[x as usize].add(i, j, k);
                        }
                    }
                }
                acc
            },
        )
        .reduce(
            || vec![LabelStats::default(); 256],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(&b) {
                    x.merge(y);
                }
                a
            },
        )
}

fn same_grid<T, U>(a: &Volume<T>, b: &Volume<U>) -> bool
where
    T: spinekit_image::Voxel,
    U: spinekit_image::Voxel,
{
    let (ga, gb) = (a.geometry(), b.geometry());
    a.dims() == b.dims()
        && (0..3).all(|i| {
            (ga.origin_mm[i] - gb.origin_mm[i]).abs() < 1e-3
                && (ga.spacing_mm[i] - gb.spacing_mm[i]).abs() < 1e-5
                && (0..3).all(|c| (ga.direction[i][c] - gb.direction[i][c]).abs() < 1e-5)
        })
}

/// Everything known about one vertebra while measuring.
struct Work {
    input: LevelInput,
    stats: LabelStats,
    centroid: V3,
    geom: Result<body::BodyGeom, String>,
    trab: Result<HuStats, String>,
    eroded: Result<HuStats, String>,
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn m<T>(r: &Result<T, String>) -> Measured<T>
where
    T: Clone,
{
    match r {
        Ok(v) => Measured::Value(v.clone()),
        Err(e) => Measured::not(e.clone()),
    }
}

/// Measures everything. `phase = None` means unknown (native thresholds are assumed and the output says so).
pub fn measure(
    ct: &Volume<i16>,
    input: &SpineInput,
    phase: Option<ContrastPhase>,
) -> Result<SpineMeasurements, MeasureError> {
    let t_all = Instant::now();
    let mut timings = Vec::new();
    if !same_grid(ct, input.labels) {
        return Err(MeasureError::GridMismatch("vertebra label"));
    }
    if !same_grid(ct, input.bodies) {
        return Err(MeasureError::GridMismatch("vertebral body"));
    }
    if let Some(c) = input.canal {
        if !same_grid(ct, c) {
            return Err(MeasureError::GridMismatch("canal"));
        }
    }
    if input.levels.is_empty() {
        return Err(MeasureError::NoLevels);
    }
    let g = *ct.geometry();
    let dims = ct.dims();
    let t = Instant::now();
    let (body_stats, vert_stats) =
        rayon::join(|| label_stats(input.bodies), || label_stats(input.labels));
    timings.push(StageTiming {
        stage: "label statistics".into(),
        ms: ms(t),
    });

    // Levels cranial first.
    let t = Instant::now();
    let mut levels: Vec<LevelInput> = input.levels.to_vec();
    levels.sort_by_key(|l| l.level);
    levels.dedup_by_key(|l| l.level);
    let centroids: Vec<Option<V3>> = levels
        .iter()
        .map(|l| {
            let s = &body_stats[l.label as usize];
            (s.count > 0).then(|| g.index_to_world(s.centroid_index()))
        })
        .collect();
    let n = levels.len();
    let mut work: Vec<Work> = (0..n)
        .into_par_iter()
        .map(|i| {
            let lv = levels[i];
            let st = body_stats[lv.label as usize];
            let fail = |e: String| Work {
                input: lv,
                stats: st,
                centroid: [0.0; 3],
                geom: Err(e.clone()),
                trab: Err(e.clone()),
                eroded: Err(e),
            };
            let Some(c) = centroids[i] else {
                return fail(format!("{} has no vertebral-body voxels", lv.level));
            };
            let at_border = (0..3).any(|a| st.lo[a] == 0 || st.hi[a] + 1 >= dims[a]);
            // The sacrum is nearly always cut caudally by an abdominal field of view; only its superior (S1)
            // endplate is used (lordosis, L5–S1 slip), so a cut below it does not prevent the measurement.
            if (lv.partial || at_border) && lv.level != Level::Sacrum {
                return fail(format!(
                    "{} is cut by the edge of the field of view (partial vertebra)",
                    lv.level
                ));
            }
            // Superior axis: chord between the neighbouring body centroids (one-sided at the ends).
            let up = (0..i).rev().find_map(|j| centroids[j]);
            let dn = (i + 1..n).find_map(|j| centroids[j]);
            let s_hint = match (up, dn) {
                (Some(a), Some(b)) => sub(a, b),
                (Some(a), None) => sub(a, c),
                (None, Some(b)) => sub(c, b),
                // A single vertebra: the patient's superior direction.
                (None, None) => [0.0, 0.0, 1.0],
            };
            let s_dir = unit(s_hint).unwrap_or([0.0, 0.0, 1.0]);
            // Posterior hint: towards the canal behind the body, else towards the rest of the vertebra.
            let canal_dir = input
                .canal
                .and_then(|cm| canal_centroid_near(cm, c, s_dir))
                .map(|q| sub(q, c));
            let vs = vert_stats[lv.label as usize];
            let vert_dir = (vs.count > st.count).then(|| {
                let vc = g.index_to_world(vs.centroid_index());
                sub(vc, c)
            });
            let Some(p_hint) = canal_dir.or(vert_dir) else {
                return fail(format!(
                    "{}: no canal and no posterior elements to tell anterior from posterior",
                    lv.level
                ));
            };
            let mask = MaskView::new(input.bodies, Some(lv.label));
            let ctv = CtView::new(ct);
            let geo = body::analyse(&mask, Some(&ctv), c, s_dir, p_hint).map(|mut g| {
                body::corners_on_outline(
                    &MaskView::new(input.labels, Some(lv.label)),
                    Some(&ctv),
                    &mut g,
                );
                g
            });
            let (trab, eroded) = match &geo {
                Ok(bg) => body::density(ct, input.bodies, lv.label, (st.lo, st.hi), bg),
                Err(e) => (Err(e.clone()), Err(e.clone())),
            };
            Work {
                input: lv,
                stats: st,
                centroid: c,
                geom: geo,
                trab,
                eroded,
            }
        })
        .collect();
    timings.push(StageTiming {
        stage: "bodies (frame, heights, endplates, HU)".into(),
        ms: ms(t),
    });

    let t = Instant::now();
    let vox_ml = g.spacing_mm.iter().product::<f64>() / 1000.0;
    let sacrum_reason =
        "the sacrum is not graded (Genant applies to C2–L5); its superior endplate is used for \
                         lordosis and L5–S1 listhesis";
    // Neighbour posterior heights (crush reference).
    let hp: Vec<Option<f64>> = work
        .iter()
        .map(|w| match (&w.geom, w.input.level) {
            (_, Level::Sacrum) => None,
            (Ok(b), _) => Some(b.heights_mm[2]),
            _ => None,
        })
        .collect();
    let mut vertebrae = Vec::with_capacity(n);
    for (i, w) in work.iter_mut().enumerate() {
        let lv = w.input.level;
        let is_sacrum = lv == Level::Sacrum;
        let neigh: Vec<f64> = [i.checked_sub(1), Some(i + 1)]
            .into_iter()
            .flatten()
            .filter_map(|j| hp.get(j).copied().flatten())
            .collect();
        let neigh_hp = (!neigh.is_empty()).then(|| neigh.iter().sum::<f64>() / neigh.len() as f64);
        let frame = match &w.geom {
            Ok(b) => Measured::Value(BodyFrame {
                centre_mm: w.centroid,
                axis_left: b.l,
                axis_posterior: b.p,
                axis_superior: b.s,
                depth_mm: b.depth_mm(),
                width_mm: b.width_mm(),
                method: "origin = body-mask centroid; superior axis = chord between the neighbouring body \
                         centroids (centreline tangent; one-sided at the ends of the column); posterior axis = \
                         body centroid → canal centroid at the same height (else → whole-vertebra centroid), made \
                         orthogonal to the superior axis; left = posterior × superior. Depth and width are chords \
                         through the centroid"
                    .into(),
            }),
            Err(e) => Measured::not(e.clone()),
        };
        let heights = match (&w.geom, is_sacrum) {
            (_, true) => Measured::not(sacrum_reason),
            (Ok(b), false) => {
                let [ha, hm, hpp] = b.heights_mm;
                Measured::Value(BodyHeights {
                    anterior_mm: ha,
                    middle_mm: hm,
                    posterior_mm: hpp,
                    anterior_to_posterior_ratio: ha / hpp,
                    middle_to_posterior_ratio: hm / hpp,
                    posterior_to_neighbours_ratio: neigh_hp.map(|r| hpp / r),
                    neighbours_posterior_mm: neigh_hp,
                    anterior_points_mm: b.points[0],
                    middle_points_mm: b.points[1],
                    posterior_points_mm: b.points[2],
                    method: format!(
                        "Ha, Hm, Hp: length of the body along the body's superior axis in its mid-sagittal plane \
                         (mean of 9 lines at 0 and ±1.5 mm laterally and antero-posteriorly), at 15 %, 50 % and 85 % of the AP depth from \
                         the anterior surface (TotalSegmentator positions, clinical-reference §1.3, S6), endplate \
                         concavity included. Ends: the body mask's surface, refined to the centre of the bright \
                         cortical endplate line in the CT + {} mm where it is visible ({} of {} lines); \
                         neighbours = mean Hp of the adjacent measured vertebrae (§1.1, S2)",
                        body::CORTEX_HALF_MM,
                        b.height_lines_refined,
                        b.height_lines
                    ),
                })
            }
            (Err(e), false) => Measured::not(e.clone()),
        };
        let fracture = match &heights {
            Measured::Value(h) => {
                let wedge = 1.0 - h.anterior_to_posterior_ratio;
                let bic = 1.0 - h.middle_to_posterior_ratio;
                let crush = h.posterior_to_neighbours_ratio.map(|r| 1.0 - r);
                let mut best = (wedge, spinekit_anatomy::FractureShape::Wedge);
                if bic > best.0 {
                    best = (bic, spinekit_anatomy::FractureShape::Biconcave);
                }
                if let Some(c) = crush {
                    if c > best.0 {
                        best = (c, spinekit_anatomy::FractureShape::Crush);
                    }
                }
                let grade = GenantGrade::from_height_loss(best.0).unwrap_or(GenantGrade::Normal);
                Measured::Value(FractureAssessment {
                    genant_grade: grade,
                    genant_grade_value: grade.value(),
                    shape: (grade != GenantGrade::Normal).then_some(best.1),
                    wedge_loss_percent: 100.0 * wedge,
                    biconcave_loss_percent: 100.0 * bic,
                    crush_loss_percent: crush.map(|c| 100.0 * c),
                    max_loss_percent: 100.0 * best.0,
                    method: "Genant 1993 semiquantitative grade from the measured heights (clinical-reference \
                             §1.2, S1): height loss = 1 − ratio for wedge (Ha/Hp), biconcave (Hm/Hp) and crush \
                             (Hp / mean Hp of the adjacent vertebrae, §1.1 S2); the largest loss gives grade and \
                             type with the §1.2 boundaries (< 20 % normal, 20–25 % mild, 25–40 % moderate, > 40 % \
                             severe). Morphometry alone over-calls physiological wedging (T11–L1) and short \
                             vertebrae (§1.2): a finding to review, not a diagnosis"
                        .into(),
                })
            }
            Measured::NotMeasurable { reason } => Measured::not(reason.clone()),
        };
        let body = match &w.geom {
            Ok(_) => Measured::Value(BodySize {
                volume_ml: w.stats.count as f64 * vox_ml,
                voxel_count: w.stats.count,
                method: "voxel count of the body label × voxel volume".into(),
            }),
            Err(e) => Measured::not(e.clone()),
        };
        let ep = |e: Option<&EndplateMeasure>, which: &str| match (&w.geom, e) {
            (Ok(_), Some(e)) => Measured::Value(e.clone()),
            (Ok(_), None) => Measured::not(format!("the {which} endplate could not be fitted")),
            (Err(r), _) => Measured::not(r.clone()),
        };
        let (sup, inf) = match &w.geom {
            Ok(b) => (b.sup.as_ref(), b.inf.as_ref()),
            Err(_) => (None, None),
        };
        let (trab, eroded) = if is_sacrum {
            (
                Measured::not(
                    "the sacrum is not used for bone density (clinical-reference §2.1: T12–L5)",
                ),
                Measured::not(
                    "the sacrum is not used for bone density (clinical-reference §2.1: T12–L5)",
                ),
            )
        } else {
            (m(&w.trab), m(&w.eroded))
        };
        vertebrae.push(VertebraMeasurements {
            level: lv,
            label: w.input.label,
            frame,
            heights,
            fracture,
            body,
            superior_endplate: ep(sup, "superior"),
            inferior_endplate: if is_sacrum {
                Measured::not("the sacrum's inferior surface is not an endplate")
            } else {
                ep(inf, "inferior")
            },
            trabecular_roi: trab,
            eroded_body: eroded,
        });
    }
    let bone_density = density::assess(&vertebrae, phase);
    timings.push(StageTiming {
        stage: "grading".into(),
        ms: ms(t),
    });

    // Alignment.
    let t = Instant::now();
    let tilts: Vec<align::Tilts> = vertebrae
        .iter()
        .filter_map(|v| {
            let sup = v.superior_endplate.value()?;
            let inf = v.inferior_endplate.value().unwrap_or(sup);
            Some(align::Tilts {
                level: v.level,
                sup,
                inf,
            })
        })
        .collect();
    let sets: Vec<align::EndplateSet> = vertebrae
        .iter()
        .map(|v| align::EndplateSet {
            level: v.level,
            sup: v.superior_endplate.value(),
            inf: v.inferior_endplate.value(),
        })
        .collect();
    let alignment = Alignment {
        coronal: align::coronal(&tilts),
        lumbar_lordosis: align::lumbar_lordosis(&sets),
        thoracic_kyphosis: align::thoracic_kyphosis(&sets),
    };
    let mut spondylolisthesis = Vec::new();
    for w in vertebrae.windows(2) {
        let (u, l) = (&w[0], &w[1]);
        let slip = match (u.inferior_endplate.value(), l.superior_endplate.value()) {
            (Some(a), Some(b)) => align::listhesis(a, b),
            (None, _) => Measured::not(format!(
                "{}: {}",
                u.level,
                u.inferior_endplate
                    .reason()
                    .unwrap_or("inferior endplate not measured")
            )),
            (_, None) => Measured::not(format!(
                "{}: {}",
                l.level,
                l.superior_endplate
                    .reason()
                    .unwrap_or("superior endplate not measured")
            )),
        };
        spondylolisthesis.push(ListhesisPair {
            upper: u.level,
            lower: l.level,
            slip,
        });
    }
    timings.push(StageTiming {
        stage: "alignment".into(),
        ms: ms(t),
    });

    // Canal at each mid-body and disc.
    let t = Instant::now();
    let mut jobs: Vec<CanalJob> = Vec::new();
    let locus = |w: &Work| -> Option<(V3, V3, V3)> {
        let b = w.geom.as_ref().ok()?;
        Some((add(b.c, scale(b.p, b.post_mm + 8.0)), b.s, b.p))
    };
    for (i, w) in work.iter().enumerate() {
        let lv = w.input.level;
        if lv != Level::Sacrum {
            let why = w.geom.as_ref().err().cloned().unwrap_or_default();
            jobs.push((
                CanalLocation::MidBody { level: lv },
                format!("{lv} mid-body"),
                locus(w),
                canal::lumbar(lv),
                why,
            ));
        }
        if let Some(nx) = work.get(i + 1) {
            let ln = nx.input.level;
            let loc = match (locus(w), locus(nx)) {
                (Some(a), Some(b)) => {
                    // Disc level: midway between the facing endplate centres when both are fitted.
                    let mid = match (
                        w.geom.as_ref().ok().and_then(|b| b.inf.as_ref()),
                        nx.geom.as_ref().ok().and_then(|b| b.sup.as_ref()),
                    ) {
                        (Some(e1), Some(e2)) => {
                            let m = scale(add(e1.centre_mm, e2.centre_mm), 0.5);
                            let p = unit(add(a.2, b.2)).unwrap_or(a.2);
                            let back = 0.5 * (dot(sub(a.0, m), p) + dot(sub(b.0, m), p));
                            add(m, scale(p, back))
                        }
                        _ => scale(add(a.0, b.0), 0.5),
                    };
                    unit(add(a.1, b.1))
                        .zip(unit(add(a.2, b.2)))
                        .map(|(s, p)| (mid, s, p))
                }
                _ => None,
            };
            jobs.push((
                CanalLocation::Disc {
                    upper: lv,
                    lower: ln,
                },
                format!("{}-{} disc", lv.short_name(), ln.short_name()),
                loc,
                canal::lumbar(lv),
                format!("{lv} or {ln} not measurable"),
            ));
        }
    }
    let canal_sections: Vec<CanalSection> = jobs
        .into_par_iter()
        .map(|(location, name, loc, lumbar, why)| {
            let section = match (input.canal, loc) {
                (None, _) => Measured::not("no canal map"),
                (_, None) => Measured::not(why),
                (Some(cm), Some((pt, s, p))) => {
                    match canal::section(cm, input.canal_kind, pt, s, p, lumbar) {
                        Ok(v) => Measured::Value(v),
                        Err(e) => Measured::not(e),
                    }
                }
            };
            CanalSection {
                location,
                name,
                section,
            }
        })
        .collect();
    timings.push(StageTiming {
        stage: "canal".into(),
        ms: ms(t),
    });
    timings.push(StageTiming {
        stage: "total".into(),
        ms: ms(t_all),
    });

    let contrast = ContrastUsed {
        phase_given: phase,
        phase_used: phase.unwrap_or(ContrastPhase::NonContrast),
        note: match phase {
            None => "unknown: native (non-contrast) assumed for the density thresholds".into(),
            Some(p) => format!(
                "given: {p:?}; density thresholds raised by {} HU",
                density::phase_addon_hu(p)
            ),
        },
    };
    Ok(SpineMeasurements {
        schema: SCHEMA.into(),
        coordinate_system:
            "DICOM patient coordinates LPS, mm (+x left, +y posterior, +z superior); angles in \
                            degrees against the scanner's axial plane"
                .into(),
        canal_map: input.canal_kind,
        contrast,
        vertebrae,
        bone_density,
        alignment,
        spondylolisthesis,
        canal: canal_sections,
        timings,
    })
}

/// Centroid of the canal voxels behind (within 50 mm of) a body centroid, in a ±5 mm slab along `s`.
fn canal_centroid_near(canal: &Volume<u8>, c: V3, s: V3) -> Option<V3> {
    let g = canal.geometry();
    let (lo, hi) = index_box(g, canal.dims(), &box_corners(c, 50.0));
    let mut sum = [0.0; 3];
    let mut n = 0usize;
    for k in lo[2]..=hi[2] {
        for j in lo[1]..=hi[1] {
            for i in lo[0]..=hi[0] {
                if canal.get(i, j, k) == 0 {
                    continue;
                }
                let w = g.index_to_world([i as f64, j as f64, k as f64]);
                let d = sub(w, c);
                if dot(d, s).abs() <= 5.0 && norm(d) <= 50.0 {
                    sum = add(sum, w);
                    n += 1;
                }
            }
        }
    }
    (n >= 5).then(|| scale(sum, 1.0 / n as f64))
}
