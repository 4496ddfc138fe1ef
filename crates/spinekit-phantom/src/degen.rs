//! The degenerative spine of older adults: disc-space narrowing, marginal osteophytes (optionally bridging a
//! disc), vacuum phenomenon and aortic wall calcification. All of it is optional: a configuration without
//! [`Degeneration`] gives the same bytes as before this model existed.

use crate::error::{cfg_err, PhantomError};
use crate::math::{v3, Frame, V3};
use crate::scene::{Mat, Prim, Scene, SoftClass};
use crate::shapes::{section_sdf, BodyShape, Shape};
use crate::spine::{Segment, SpineModel};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use spinekit_anatomy::{Disc, Enumeration, Level};

/// Degenerative changes to generate (random details — spur lengths, plaque positions — follow the seed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Degeneration {
    /// Per-disc changes, each disc at most once.
    pub discs: Vec<DiscDegeneration>,
    /// Calcified plaques added to the abdominal aortic wall between T12 and the bifurcation (on top of the few
    /// small ones every phantom has), mostly on its posterior wall, next to the vertebral bodies.
    pub aortic_plaques: u32,
}

/// Changes at one disc and at the two endplates that face it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscDegeneration {
    /// The vertebra above the disc (`l4` for L4-L5, `l5` for L5-S1).
    pub upper: Level,
    /// Disc height as a fraction of normal (1 = unchanged; 0.3–0.5 is severe narrowing). A narrowed disc too
    /// thin for its lordotic wedge gives up angle until its posterior edge is 1.5 mm high, so lumbar lordosis
    /// falls (the truth's disc heights, angles and lordosis are measured on what was generated).
    #[serde(default = "one")]
    pub height_factor: f64,
    /// Gas (−900 HU) in the nucleus.
    #[serde(default)]
    pub vacuum: bool,
    /// Length (mm) of the longest marginal osteophytes on the anterior and lateral rims of both endplates
    /// facing the disc; 0 = none. Clinically 3–8 mm.
    #[serde(default)]
    pub osteophyte_mm: f64,
    /// The two neighbours' anterior and anterolateral spurs meet and fuse over the disc (bridging osteophytes,
    /// as in DISH or ankylosis). Needs `osteophyte_mm` ≥ 2.
    #[serde(default)]
    pub bridging: bool,
}

fn one() -> f64 {
    1.0
}

impl DiscDegeneration {
    fn new(upper: Level, height_factor: f64, osteophyte_mm: f64) -> Self {
        Self {
            upper,
            height_factor,
            vacuum: false,
            osteophyte_mm,
            bridging: false,
        }
    }
}

/// Named severities for the command line and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DegenerationPreset {
    Moderate,
    Severe,
}

impl DegenerationPreset {
    pub fn name(self) -> &'static str {
        match self {
            DegenerationPreset::Moderate => "moderate",
            DegenerationPreset::Severe => "severe",
        }
    }
}

impl std::str::FromStr for DegenerationPreset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "moderate" => Ok(Self::Moderate),
            "severe" => Ok(Self::Severe),
            _ => Err(format!(
                "'{s}' is not a degeneration grade (moderate or severe)"
            )),
        }
    }
}

impl Degeneration {
    /// A typical older lumbar spine: narrowing growing caudally (L4-L5 and L5-S1 at half height), spurs of
    /// 3–5 mm from T11 down, a vacuum disc at L5-S1, some aortic calcification.
    pub fn moderate() -> Self {
        let mut discs = vec![
            DiscDegeneration::new(Level::T11, 1.0, 3.0),
            DiscDegeneration::new(Level::T12, 0.9, 3.0),
            DiscDegeneration::new(Level::L1, 0.85, 4.0),
            DiscDegeneration::new(Level::L2, 0.8, 4.0),
            DiscDegeneration::new(Level::L3, 0.7, 5.0),
            DiscDegeneration::new(Level::L4, 0.5, 5.0),
            DiscDegeneration::new(Level::L5, 0.5, 4.0),
        ];
        discs[6].vacuum = true;
        Self {
            discs,
            aortic_plaques: 10,
        }
    }

    /// Advanced degeneration: L4-L5 and L5-S1 at a third of their height, spurs of 4–8 mm from T10 down,
    /// bridged T11-T12 and L2-L3, vacuum discs at L4-L5 and L5-S1, heavy aortic calcification.
    pub fn severe() -> Self {
        let mut discs = vec![
            DiscDegeneration::new(Level::T10, 0.9, 4.0),
            DiscDegeneration::new(Level::T11, 0.85, 5.0),
            DiscDegeneration::new(Level::T12, 0.8, 5.0),
            DiscDegeneration::new(Level::L1, 0.7, 6.0),
            DiscDegeneration::new(Level::L2, 0.6, 7.0),
            DiscDegeneration::new(Level::L3, 0.5, 7.0),
            DiscDegeneration::new(Level::L4, 0.35, 8.0),
            DiscDegeneration::new(Level::L5, 0.3, 6.0),
        ];
        discs[1].bridging = true;
        discs[4].bridging = true;
        discs[6].vacuum = true;
        discs[7].vacuum = true;
        Self {
            discs,
            aortic_plaques: 24,
        }
    }

    pub fn preset(p: DegenerationPreset) -> Self {
        match p {
            DegenerationPreset::Moderate => Self::moderate(),
            DegenerationPreset::Severe => Self::severe(),
        }
    }

    /// The change at the disc below `upper`, if any.
    pub fn disc(&self, upper: Level) -> Option<&DiscDegeneration> {
        self.discs.iter().find(|d| d.upper == upper)
    }

    /// Longest osteophyte anywhere (mm).
    pub fn max_osteophyte_mm(&self) -> f64 {
        self.discs
            .iter()
            .map(|d| d.osteophyte_mm)
            .fold(0.0, f64::max)
    }

    /// Checks the values against the enumeration.
    pub fn validate(&self, e: Enumeration) -> Result<(), PhantomError> {
        let levels = e.levels();
        let free = &levels[..levels.len() - 1];
        let mut seen = Vec::new();
        for d in &self.discs {
            if d.upper == Level::C1 || !free.contains(&d.upper) || Disc::below(d.upper, e).is_none()
            {
                return cfg_err(format!(
                    "degeneration names the disc below {}, which has no disc below it in the {} enumeration ({})",
                    d.upper,
                    e.name(),
                    e.pattern()
                ));
            }
            if seen.contains(&d.upper) {
                return cfg_err(format!(
                    "degeneration lists the disc below {} twice",
                    d.upper
                ));
            }
            seen.push(d.upper);
            let f = d.height_factor;
            if !f.is_finite() || !(0.2..=1.0).contains(&f) {
                return cfg_err(format!(
                    "degeneration at the disc below {}: height_factor = {f} is outside 0.2–1",
                    d.upper
                ));
            }
            let o = d.osteophyte_mm;
            if !o.is_finite() || !(0.0..=10.0).contains(&o) {
                return cfg_err(format!(
                    "degeneration at the disc below {}: osteophyte_mm = {o} mm is outside 0–10 mm",
                    d.upper
                ));
            }
            if d.bridging && o < 2.0 {
                return cfg_err(format!(
                    "degeneration at the disc below {}: bridging needs osteophyte_mm ≥ 2 mm",
                    d.upper
                ));
            }
        }
        if self.aortic_plaques > 60 {
            return cfg_err(format!(
                "degeneration.aortic_plaques = {} is above 60",
                self.aortic_plaques
            ));
        }
        Ok(())
    }
}

/// What was generated at one disc (in [`crate::Truth::degeneration`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DegeneratedDiscTruth {
    pub disc: Disc,
    /// VerSe label of the disc (that of the vertebra above).
    pub label: u8,
    /// Requested height factor, the normal mid-disc height and the generated one (also in `discs`).
    pub height_factor: f64,
    pub normal_height_mm: f64,
    pub height_mm: f64,
    /// Centre of the gas ellipsoid in the nucleus and its radii along the disc's axes (left, posterior,
    /// superior), if any.
    pub vacuum_center_mm: Option<[f64; 3]>,
    pub vacuum_radii_mm: Option<[f64; 3]>,
    /// Marginal osteophytes on the upper and lower endplate: how many spurs and the longest reach (mm) beyond
    /// the rim.
    pub upper_spurs: usize,
    pub lower_spurs: usize,
    pub max_spur_mm: f64,
    /// Where bridging spurs meet (one point per bridge, on the plane that splits each bridge between the two
    /// vertebrae); empty when the disc is not bridged.
    pub bridge_points_mm: Vec<[f64; 3]>,
    /// Unit normal (upward) of the plane through each bridge point that splits the bridge in `labels`.
    pub bridge_split_normal: Option<[f64; 3]>,
}

/// Degeneration truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DegenerationTruth {
    pub discs: Vec<DegeneratedDiscTruth>,
    /// Each aortic plaque added: (z from, z to) in mm, wall sector ("posterior", "left", "right",
    /// "anterior"), thickness in mm and HU.
    pub aortic_plaques: Vec<AorticPlaqueTruth>,
    pub conventions: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AorticPlaqueTruth {
    pub z_from_mm: f64,
    pub z_to_mm: f64,
    pub sector: String,
    pub thickness_mm: f64,
    pub hu: f64,
}

/// Cortex of an osteophyte: as dense as the body's shell; its core is sclerotic marrow.
const SPUR_CORTEX_HU: f32 = 1000.0;
const SPUR_CORE_EXTRA_HU: f64 = 120.0;
const SPUR_CORTEX_MM: f64 = 0.8;
/// Spur radius at its base (inside the rim) and at a free tip or a bridge's meeting point.
const SPUR_BASE_R_MM: f64 = 2.0;
const SPUR_TIP_R_MM: f64 = 1.0;
const BRIDGE_R_MM: f64 = 1.6;
/// Rim angles that grow spurs: every 7.5° (about 3 mm along a lumbar rim, so neighbouring spurs overlap into a
/// continuous lip) from −90° (patient's right) through 0° (anterior) to +90° (left); and the half range that
/// bridges.
const SPUR_STEP_DEG: f64 = 7.5;
const SPUR_COUNT: usize = 25;
const BRIDGE_HALF_RANGE_DEG: f64 = 75.0;
pub const VACUUM_HU: f32 = -900.0;
/// Aortic plaque density (dense calcification, clinical plaques read 400–1000+ HU).
pub const PLAQUE_HU: f32 = 900.0;

/// Distance from the body centre to the rim along the local direction (dx, dy) and the outward normal there.
fn rim_point(b: &BodyShape, dx: f64, dy: f64) -> (f64, V3) {
    let (mut lo, mut hi) = (0.0, 2.0 * b.a.max(b.b));
    for _ in 0..60 {
        let m = 0.5 * (lo + hi);
        if section_sdf(m * dx, m * dy, b.a, b.b).0 < 0.0 {
            lo = m;
        } else {
            hi = m;
        }
    }
    let t = 0.5 * (lo + hi);
    let (_, (gx, gy)) = section_sdf(t * dx, t * dy, b.a, b.b);
    let n = v3(gx, gy, 0.0).normalized();
    (t, if n.norm() > 0.5 { n } else { v3(dx, dy, 0.0) })
}

/// One endplate's rim at angle θ: world rim point, outward direction, direction toward the disc and the
/// spur's base (inside the body, 2 mm in from the rim and 1 mm under the endplate).
struct Rim {
    point: V3,
    out: V3,
    base: V3,
}

fn rim(seg: &Segment, top: bool, theta: f64) -> Rim {
    let b = seg.body.expect("segments next to a disc have bodies");
    let (dx, dy) = (theta.sin(), -theta.cos());
    let (t, n) = rim_point(&b, dx, dy);
    let (x, y) = (t * dx, t * dy);
    let side = if top { 1.0 } else { -1.0 };
    let z = side * 0.5 * b.rim_height(y);
    let f = seg.frame;
    Rim {
        point: f.to_world(v3(x, y, z)),
        out: f.dir_to_world(n),
        base: f.to_world(v3(x, y, z - side * 1.0) - n * 2.0),
    }
}

fn spur_mat(seg: &Segment) -> Mat {
    Mat::Bone {
        label: seg.level.verse_label(),
        body_label: 0,
        cortex_hu: SPUR_CORTEX_HU,
        core_hu: (seg.trabecular_hu + SPUR_CORE_EXTRA_HU) as f32,
        texture_hu: 15.0,
    }
}

fn spur(a: V3, b: V3, ra: f64, rb: f64, seg: &Segment, i: usize) -> Prim {
    Prim::new(
        Frame::new(V3::ZERO, crate::math::Rot::IDENTITY),
        Shape::Capsule { a, b, ra, rb },
        SPUR_CORTEX_MM,
        spur_mat(seg),
        Some(i),
    )
}

/// Adds osteophytes (bone) and vacuum gas (soft, after the discs) to the scene; returns the truth per disc.
pub fn add_to_scene(
    sc: &mut Scene,
    model: &SpineModel,
    deg: &Degeneration,
    seed: u64,
) -> Vec<DegeneratedDiscTruth> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0DE6_E005_7E0F_17E5);
    let mut out = Vec::new();
    for dm in &model.discs {
        let Some(spec) = deg.disc(dm.disc.upper) else {
            continue;
        };
        let (ui, li) = (dm.upper, dm.lower);
        let (up, lo) = (&model.segments[ui], &model.segments[li]);
        let (pu, nu) = up.bottom_plane();
        let (pl, nl) = lo.top_plane();
        let mut t = DegeneratedDiscTruth {
            disc: dm.disc,
            label: dm.disc.label(),
            height_factor: spec.height_factor,
            normal_height_mm: dm.normal_height_mm,
            height_mm: dm.height_mm,
            vacuum_center_mm: None,
            vacuum_radii_mm: None,
            upper_spurs: 0,
            lower_spurs: 0,
            max_spur_mm: 0.0,
            bridge_points_mm: Vec::new(),
            bridge_split_normal: None,
        };
        if spec.osteophyte_mm > 0.0 {
            for k in 0..SPUR_COUNT {
                let deg_theta = -90.0 + SPUR_STEP_DEG * k as f64;
                let th = deg_theta.to_radians();
                let w = 0.75 + 0.25 * th.cos();
                let ru = rim(up, false, th);
                let rl = rim(lo, true, th);
                let lu = spec.osteophyte_mm * w * rng.random_range(0.6..1.0);
                let ll = spec.osteophyte_mm * w * rng.random_range(0.6..1.0);
                if spec.bridging && deg_theta.abs() <= BRIDGE_HALF_RANGE_DEG {
                    let l = lu.max(ll).max(2.5);
                    let m = ((ru.point + ru.out * l) + (rl.point + rl.out * l)) * 0.5;
                    sc.bone
                        .push(spur(ru.base, m, SPUR_BASE_R_MM, BRIDGE_R_MM, up, ui));
                    sc.bone
                        .push(spur(rl.base, m, SPUR_BASE_R_MM, BRIDGE_R_MM, lo, li));
                    t.bridge_points_mm.push(m.to_array());
                    t.upper_spurs += 1;
                    t.lower_spurs += 1;
                    t.max_spur_mm = t.max_spur_mm.max(l + BRIDGE_R_MM);
                    continue;
                }
                // Free spurs grow outward and curl toward the disc, stopping 1 mm short of its mid-plane so
                // that the two neighbours' spurs stay apart.
                let gap = (ru.point - rl.point).norm();
                for (r, l, seg, i, toward) in [
                    (&ru, lu, up, ui, -up.frame.r.c[2]),
                    (&rl, ll, lo, li, lo.frame.r.c[2]),
                ] {
                    if l < 1.0 {
                        continue;
                    }
                    let rise = (0.3 * l).min(0.5 * gap - SPUR_TIP_R_MM - 1.0).max(0.0);
                    let tip = r.point + r.out * l + toward * rise;
                    sc.bone
                        .push(spur(r.base, tip, SPUR_BASE_R_MM, SPUR_TIP_R_MM, seg, i));
                    if i == ui {
                        t.upper_spurs += 1;
                    } else {
                        t.lower_spurs += 1;
                    }
                    t.max_spur_mm = t.max_spur_mm.max(l + SPUR_TIP_R_MM);
                }
            }
            if !t.bridge_points_mm.is_empty() {
                // The two spurs of a bridge are mirror images about the plane through their meeting point whose
                // normal is the bisector of the endplate normals: the nearest-solid rule splits them there.
                t.bridge_split_normal = Some((nu + nl).normalized().to_array());
            }
        }
        if spec.vacuum {
            let bu = up.body.expect("body");
            let bl = lo.body.expect("body");
            let origin = (pu + pl) * 0.5;
            let e3 = (pu - pl).normalized();
            let r = crate::math::Rot::from_z_and_x_hint(e3, up.frame.r.c[0] + lo.frame.r.c[0]);
            let (a, b) = (0.5 * (bu.a + bl.a), 0.5 * (bu.b + bl.b));
            // Gas collects in the central-anterior nucleus as a flat cleft inside the disc's central height.
            let half_h = 0.5 * (dm.height_mm + bu.conc_bot + bl.conc_top);
            let radii = v3(0.45 * a, 0.3 * b, 0.6 * half_h);
            let c = v3(0.0, -0.15 * b, 0.0);
            let fr = Frame::new(origin, r).compose(&Frame::new(c, crate::math::Rot::IDENTITY));
            sc.soft.push(Prim::new(
                fr,
                Shape::Ellipsoid { radii },
                0.0,
                Mat::Soft {
                    hu: VACUUM_HU,
                    class: SoftClass::Disc(dm.disc.label()),
                },
                None,
            ));
            t.vacuum_center_mm = Some(fr.o.to_array());
            t.vacuum_radii_mm = Some(radii.to_array());
        }
        out.push(t);
    }
    out
}

/// A calcified plaque on the aortic wall: z range, sector (0 posterior, 1 left, 2 right, 3 anterior),
/// thickness (mm).
#[derive(Debug, Clone, Copy)]
pub struct Plaque {
    pub z0: f64,
    pub z1: f64,
    pub sector: u8,
    pub thick: f64,
}

pub const SECTORS: [&str; 4] = ["posterior", "left", "right", "anterior"];

/// Seeded aortic plaques between `z_lo` and `z_hi`: half on the posterior wall (next to the spine).
pub fn plaques(deg: &Degeneration, seed: u64, z_lo: f64, z_hi: f64) -> Vec<Plaque> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x00A0_47AC_A1C0);
    (0..deg.aortic_plaques)
        .map(|_| {
            let len = rng.random_range(4.0..20.0);
            let z0 = rng.random_range(z_lo..(z_hi - len).max(z_lo + 1.0));
            let sector = if rng.random_bool(0.5) {
                0
            } else {
                rng.random_range(1..4)
            };
            Plaque {
                z0,
                z1: z0 + len,
                sector,
                thick: rng.random_range(1.0..2.0),
            }
        })
        .collect()
}

/// The truth of what [`add_to_scene`] and [`plaques`] generated.
pub fn truth(scene: &Scene, plaques: &[Plaque]) -> DegenerationTruth {
    DegenerationTruth {
        discs: scene.degeneration.clone(),
        aortic_plaques: plaques
            .iter()
            .map(|p| AorticPlaqueTruth {
                z_from_mm: p.z0,
                z_to_mm: p.z1,
                sector: SECTORS[p.sector as usize].into(),
                thickness_mm: p.thick,
                hu: PLAQUE_HU as f64,
            })
            .collect(),
        conventions: "Disc heights: mid-disc rim-plane gap (as in `discs`), normal_height_mm without narrowing. \
            Osteophytes are bone capsules (cortex 0.8 mm at 1000 HU, core = the level's trabecular HU + 120) growing \
            from the anterior and lateral endplate rims (every 7.5° from the patient's right, −90°, through \
            anterior, 0°, to the left, +90°), labelled in `labels` with the vertebra they grow from and absent from \
            `bodies`; a bridge is a pair of spurs meeting at a bridge point, split in `labels` by the plane through \
            it with normal bridge_split_normal. Vacuum: an ellipsoid of gas (−900 HU) in the disc, still labelled \
            as disc. Aortic plaques: arcs of the aortic wall (inner part of the lumen edge) of the given thickness, \
            tissue code calcification."
            .into(),
    }
}
