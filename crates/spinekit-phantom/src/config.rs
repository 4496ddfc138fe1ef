//! Every control of the phantom, with defaults and validation.

use crate::degen::Degeneration;
use crate::error::{cfg_err, PhantomError};
use serde::{Deserialize, Serialize};
pub use spinekit_anatomy::ContrastPhase;
use spinekit_anatomy::{Enumeration, FractureShape, GenantGrade, Level};

/// Everything that shapes a phantom. `Default` is a 512×512×300 CT at 0.8×0.8×1 mm from T12 to the sacrum,
/// normal anatomy, non-contrast, 15 HU noise. Unknown JSON fields are rejected so that typos surface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhantomConfig {
    /// Seed of every random choice (noise, bowel, texture): the same seed gives the same bytes.
    pub seed: u64,
    /// Most cranial level that must lie entirely in the field of view.
    pub first_level: Level,
    /// Most caudal level that must lie entirely in the field of view (`sacrum`: the top sacral segment).
    pub last_level: Level,
    /// Segmentation pattern (normal, L6, T13, 11 rib pairs, sacralised L5).
    pub enumeration: Enumeration,
    /// Voxel size (x, y, z) in mm, each 0.5–3 mm.
    pub voxel_size_mm: [f64; 3],
    /// How large the grid is.
    pub grid: GridSize,
    /// Sagittal alignment.
    pub sagittal: SagittalProfile,
    /// Coronal curve, if any.
    pub scoliosis: Option<Scoliosis>,
    /// Osteoporotic compression fractures.
    pub fractures: Vec<FractureSpec>,
    /// Mean HU of the vertebral trabecular (cancellous) core before noise.
    pub trabecular_hu: f64,
    /// Per-level overrides of `trabecular_hu`.
    pub trabecular_hu_by_level: Vec<LevelHu>,
    /// Levels with bilateral pedicle screws (rods join adjacent instrumented levels).
    pub screws: Vec<Level>,
    /// Contrast phase; sets aorta, vein and organ enhancement.
    pub contrast_phase: ContrastPhase,
    /// Aortic blood-pool HU overriding the phase default.
    pub aorta_hu: Option<f64>,
    /// Positive oral contrast: the small bowel's fluid reads this HU (dilute barium or iodine, 150–400 HU; more
    /// where it is concentrated). None (water) by default; left out of the JSON when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oral_contrast_hu: Option<f64>,
    /// Noise standard deviation (HU) in water at the reference abdomen (32 × 23 cm); larger patients get more.
    pub noise_sigma_hu: f64,
    /// Body habitus.
    pub body: BodyHabitus,
    /// Degenerative changes of older adults (narrowed discs, osteophytes, vacuum discs, aortic calcification);
    /// none by default. Left out of the JSON when none, so older configurations and truths read the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degeneration: Option<Degeneration>,
}

impl Default for PhantomConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            first_level: Level::T12,
            last_level: Level::Sacrum,
            enumeration: Enumeration::Normal,
            voxel_size_mm: [0.8, 0.8, 1.0],
            grid: GridSize::Dims {
                dims: [512, 512, 300],
            },
            sagittal: SagittalProfile::default(),
            scoliosis: None,
            fractures: Vec::new(),
            trabecular_hu: 170.0,
            trabecular_hu_by_level: Vec::new(),
            screws: Vec::new(),
            contrast_phase: ContrastPhase::NonContrast,
            aorta_hu: None,
            oral_contrast_hu: None,
            noise_sigma_hu: 15.0,
            body: BodyHabitus::default(),
            degeneration: None,
        }
    }
}

/// Grid size: explicit voxel counts, a field of view in mm, or just large enough for the requested levels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum GridSize {
    /// Voxel counts (x, y, z); the levels are centred in z and must fit.
    Dims { dims: [usize; 3] },
    /// Field of view (x, y, z) in mm; voxel counts are rounded up.
    FovMm { fov_mm: [f64; 3] },
    /// Square in-plane field of view; z covers the requested levels plus `margin_mm` above and below.
    FitLevels { inplane_fov_mm: f64, margin_mm: f64 },
}

/// Sagittal alignment, with the conventions of clinical-reference §4.1 (all angles in degrees).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SagittalProfile {
    /// Lumbar lordosis: angle between the L1 superior and S1 superior endplates (positive = lordotic).
    pub lumbar_lordosis_deg: f64,
    /// Thoracic kyphosis: T4 superior endplate to the last thoracic inferior endplate (positive = kyphotic).
    pub thoracic_kyphosis_deg: f64,
    /// Cervical lordosis spread over C2-C3 … C6-C7.
    pub cervical_lordosis_deg: f64,
    /// Sacral slope: S1 superior endplate to the horizontal (axial plane).
    pub sacral_slope_deg: f64,
    /// Pelvic tilt: places the femoral heads (PI = PT + SS).
    pub pelvic_tilt_deg: f64,
}

impl Default for SagittalProfile {
    fn default() -> Self {
        // Asymptomatic adult means (clinical-reference §4.3: LL 60.9 ± 12, SS 41 ± 8, PT 13 ± 6, TK 40.6 ± 10).
        Self {
            lumbar_lordosis_deg: 55.0,
            thoracic_kyphosis_deg: 40.0,
            cervical_lordosis_deg: 20.0,
            sacral_slope_deg: 40.0,
            pelvic_tilt_deg: 13.0,
        }
    }
}

/// Which way a coronal curve bulges.
pub use spinekit_anatomy::Side;

/// A single structural coronal curve with compensatory curves above and below.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scoliosis {
    /// Cobb angle of the main curve between its end vertebrae (degrees).
    pub cobb_deg: f64,
    /// Apical vertebra.
    pub apex: Level,
    /// End vertebrae lie this many levels above and below the apex (default 4).
    #[serde(default = "default_half_span")]
    pub half_span_levels: u8,
    /// Convex side of the main curve (default right, the common thoracic pattern).
    #[serde(default = "default_side")]
    pub convex: Side,
}

fn default_half_span() -> u8 {
    4
}
fn default_side() -> Side {
    Side::Right
}

/// A compression fracture to generate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FractureSpec {
    pub level: Level,
    pub grade: GenantGrade,
    pub shape: FractureShape,
    /// Height loss as a fraction (Genant ratio); defaults to the middle of the grade's band (severe: 0.5).
    #[serde(default)]
    pub height_loss: Option<f64>,
}

impl FractureSpec {
    /// The height loss to generate.
    pub fn target_loss(&self) -> f64 {
        self.height_loss.unwrap_or(match self.grade {
            GenantGrade::Severe => 0.5,
            g => {
                let (lo, hi) = g.height_loss_range();
                0.5 * (lo + hi)
            }
        })
    }
}

/// A per-level trabecular HU.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelHu {
    pub level: Level,
    pub hu: f64,
}

/// Patient size and composition.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BodyHabitus {
    /// Abdominal left–right diameter (skin to skin) at L3, mm.
    pub abdomen_lr_mm: f64,
    /// Abdominal anterior–posterior diameter at L3, mm.
    pub abdomen_ap_mm: f64,
    /// Subcutaneous fat thickness over the anterior abdomen, mm (flanks ×1.2, back ×0.8).
    pub subcutaneous_fat_mm: f64,
    /// Scale of muscle cross-sections (1 = average adult; 0.6 = sarcopenic).
    pub muscle_scale: f64,
}

impl Default for BodyHabitus {
    fn default() -> Self {
        Self {
            abdomen_lr_mm: 320.0,
            abdomen_ap_mm: 230.0,
            subcutaneous_fat_mm: 20.0,
            muscle_scale: 1.0,
        }
    }
}

fn in_range(name: &str, v: f64, lo: f64, hi: f64, unit: &str) -> Result<(), PhantomError> {
    if !v.is_finite() || v < lo || v > hi {
        return cfg_err(format!("{name} = {v} {unit} is outside {lo}–{hi} {unit}"));
    }
    Ok(())
}

/// Upper bound on voxels (about 4 GB of output maps).
pub const MAX_VOXELS: usize = 600_000_000;

impl PhantomConfig {
    /// Checks every value; geometry-dependent checks (do the levels fit?) happen in [`crate::generate`].
    pub fn validate(&self) -> Result<(), PhantomError> {
        let e = self.enumeration;
        for (what, l) in [
            ("first_level", self.first_level),
            ("last_level", self.last_level),
        ] {
            if !e.contains(l) {
                return cfg_err(format!(
                    "{what} {l} does not exist in the {} enumeration ({})",
                    e.name(),
                    e.pattern()
                ));
            }
        }
        if self.first_level > self.last_level {
            return cfg_err(format!(
                "first_level {} is caudal to last_level {}",
                self.first_level, self.last_level
            ));
        }
        for (a, &s) in ["x", "y", "z"].iter().zip(&self.voxel_size_mm) {
            in_range(&format!("voxel_size_mm.{a}"), s, 0.5, 3.0, "mm")?;
        }
        match self.grid {
            GridSize::Dims { dims } => {
                if dims.contains(&0) {
                    return cfg_err(format!("grid dims {dims:?} contain a zero"));
                }
                let n = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
                if n.is_none_or(|n| n > MAX_VOXELS) {
                    return cfg_err(format!("grid dims {dims:?} exceed {MAX_VOXELS} voxels"));
                }
            }
            GridSize::FovMm { fov_mm } => {
                for (a, &f) in ["x", "y", "z"].iter().zip(&fov_mm) {
                    in_range(&format!("fov_mm.{a}"), f, 20.0, 2000.0, "mm")?;
                }
            }
            GridSize::FitLevels {
                inplane_fov_mm,
                margin_mm,
            } => {
                in_range("inplane_fov_mm", inplane_fov_mm, 100.0, 1000.0, "mm")?;
                in_range("margin_mm", margin_mm, 0.0, 300.0, "mm")?;
            }
        }
        let s = &self.sagittal;
        in_range(
            "lumbar_lordosis_deg",
            s.lumbar_lordosis_deg,
            -30.0,
            100.0,
            "°",
        )?;
        in_range(
            "thoracic_kyphosis_deg",
            s.thoracic_kyphosis_deg,
            -20.0,
            100.0,
            "°",
        )?;
        in_range(
            "cervical_lordosis_deg",
            s.cervical_lordosis_deg,
            -30.0,
            60.0,
            "°",
        )?;
        in_range("sacral_slope_deg", s.sacral_slope_deg, 0.0, 70.0, "°")?;
        in_range("pelvic_tilt_deg", s.pelvic_tilt_deg, -20.0, 50.0, "°")?;
        if let Some(sc) = &self.scoliosis {
            in_range("scoliosis.cobb_deg", sc.cobb_deg, 0.0, 100.0, "°")?;
            if sc.half_span_levels < 2 || sc.half_span_levels > 8 {
                return cfg_err(format!(
                    "scoliosis.half_span_levels = {} is outside 2–8",
                    sc.half_span_levels
                ));
            }
            let lv = e.levels();
            let Some(ai) = lv.iter().position(|&l| l == sc.apex) else {
                return cfg_err(format!(
                    "scoliosis apex {} does not exist in this enumeration",
                    sc.apex
                ));
            };
            let h = sc.half_span_levels as usize;
            // End vertebrae must be free vertebrae from C2 down to the last lumbar.
            if ai < 1 + h || ai + h > lv.len() - 2 {
                return cfg_err(format!(
                    "scoliosis apex {} with half span {} puts an end vertebra outside C2–{}",
                    sc.apex,
                    h,
                    e.last_lumbar()
                ));
            }
        }
        let mut seen = Vec::new();
        for f in &self.fractures {
            if !e.contains(f.level) || f.level == Level::Sacrum || f.level == Level::C1 {
                return cfg_err(format!(
                    "fracture level {} is not a free vertebra with a body in this enumeration",
                    f.level
                ));
            }
            if seen.contains(&f.level) {
                return cfg_err(format!("fracture level {} is listed twice", f.level));
            }
            seen.push(f.level);
            if f.grade == GenantGrade::Normal {
                return cfg_err(format!(
                    "fracture at {} has grade normal; use mild, moderate or severe",
                    f.level
                ));
            }
            let loss = f.target_loss();
            if !loss.is_finite()
                || GenantGrade::from_height_loss(loss) != Some(f.grade)
                || loss > 0.7
            {
                return cfg_err(format!(
                    "fracture at {}: height loss {loss} does not give grade {} (or exceeds 0.7)",
                    f.level, f.grade
                ));
            }
        }
        in_range("trabecular_hu", self.trabecular_hu, -100.0, 600.0, "HU")?;
        for o in &self.trabecular_hu_by_level {
            in_range(
                &format!("trabecular_hu_by_level {}", o.level),
                o.hu,
                -100.0,
                600.0,
                "HU",
            )?;
            if !e.contains(o.level) {
                return cfg_err(format!(
                    "trabecular_hu_by_level names {}, absent from this enumeration",
                    o.level
                ));
            }
        }
        for &l in &self.screws {
            if !e.contains(l) || matches!(l, Level::C1 | Level::C2 | Level::Sacrum) {
                return cfg_err(format!(
                    "screws at {l}: only C3 to the last lumbar level take pedicle screws"
                ));
            }
        }
        if let Some(a) = self.aorta_hu {
            in_range("aorta_hu", a, -50.0, 800.0, "HU")?;
        }
        if let Some(o) = self.oral_contrast_hu {
            in_range("oral_contrast_hu", o, 0.0, 1500.0, "HU")?;
        }
        in_range("noise_sigma_hu", self.noise_sigma_hu, 0.0, 200.0, "HU")?;
        let b = &self.body;
        in_range("body.abdomen_lr_mm", b.abdomen_lr_mm, 200.0, 600.0, "mm")?;
        in_range("body.abdomen_ap_mm", b.abdomen_ap_mm, 150.0, 450.0, "mm")?;
        in_range(
            "body.subcutaneous_fat_mm",
            b.subcutaneous_fat_mm,
            3.0,
            120.0,
            "mm",
        )?;
        in_range("body.muscle_scale", b.muscle_scale, 0.3, 1.6, "")?;
        if b.abdomen_ap_mm > b.abdomen_lr_mm {
            return cfg_err("body.abdomen_ap_mm must not exceed body.abdomen_lr_mm");
        }
        if b.abdomen_ap_mm < 2.0 * b.subcutaneous_fat_mm + 120.0 {
            return cfg_err("body.subcutaneous_fat_mm is too thick for body.abdomen_ap_mm");
        }
        if let Some(d) = &self.degeneration {
            d.validate(e)?;
        }
        Ok(())
    }

    /// Trabecular HU of `level` (override or global).
    pub fn trabecular_hu_for(&self, level: Level) -> f64 {
        self.trabecular_hu_by_level
            .iter()
            .rev()
            .find(|o| o.level == level)
            .map_or(self.trabecular_hu, |o| o.hu)
    }

    /// A small, fast configuration for tests: 2 mm voxels sized to fit the levels.
    pub fn small(first_level: Level, last_level: Level) -> Self {
        Self {
            first_level,
            last_level,
            voxel_size_mm: [2.0; 3],
            grid: GridSize::FitLevels {
                inplane_fov_mm: 400.0,
                margin_mm: 10.0,
            },
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_round_trips_json() {
        let c = PhantomConfig::default();
        c.validate().unwrap();
        let j = serde_json::to_string(&c).unwrap();
        let back: PhantomConfig = serde_json::from_str(&j).unwrap();
        assert_eq!(back, c);
        let partial: PhantomConfig =
            serde_json::from_str(r#"{"seed": 7, "enumeration": "l6"}"#).unwrap();
        assert_eq!(partial.seed, 7);
        assert_eq!(partial.enumeration, Enumeration::L6);
        assert!(serde_json::from_str::<PhantomConfig>(r#"{"sed": 7}"#).is_err());
    }

    #[test]
    fn bad_values_are_rejected_with_a_message() {
        let bad = |f: &dyn Fn(&mut PhantomConfig)| {
            let mut c = PhantomConfig::default();
            f(&mut c);
            c.validate().unwrap_err().to_string()
        };
        assert!(bad(&|c| c.voxel_size_mm = [0.3, 1.0, 1.0]).contains("voxel_size_mm.x"));
        assert!(bad(&|c| c.first_level = Level::L6).contains("does not exist"));
        assert!(bad(&|c| {
            c.first_level = Level::L3;
            c.last_level = Level::L1
        })
        .contains("caudal"));
        assert!(bad(&|c| c.fractures.push(FractureSpec {
            level: Level::L1,
            grade: GenantGrade::Mild,
            shape: FractureShape::Wedge,
            height_loss: Some(0.35)
        }))
        .contains("does not give grade"));
        assert!(bad(&|c| c.scoliosis = Some(Scoliosis {
            cobb_deg: 30.0,
            apex: Level::L4,
            half_span_levels: 4,
            convex: Side::Left
        }))
        .contains("end vertebra"));
        assert!(bad(&|c| c.screws.push(Level::Sacrum)).contains("screws"));
        assert!(bad(&|c| c.noise_sigma_hu = f64::NAN).contains("noise_sigma_hu"));
        assert!(bad(&|c| c.grid = GridSize::Dims { dims: [0, 10, 10] }).contains("zero"));
    }
}
