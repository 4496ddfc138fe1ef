//! The serialisable result. Every number carries its unit in its name; every block says how it was measured.

use serde::{Deserialize, Serialize};
use spinekit_anatomy::{ContrastPhase, FractureShape, GenantGrade, Level};

/// Version of the output layout; bump on any incompatible change.
pub const SCHEMA: &str = "spinekit-measure/2";

pub use spinekit_anatomy::{CobbCurve, Measured, Side};

/// All measurements of one CT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpineMeasurements {
    /// [`SCHEMA`].
    pub schema: String,
    pub coordinate_system: String,
    /// What the canal map holds (decides which stenosis thresholds apply).
    pub canal_map: CanalMapKind,
    pub contrast: ContrastUsed,
    /// Measured vertebrae, cranial first (sacrum last when present).
    pub vertebrae: Vec<VertebraMeasurements>,
    pub bone_density: Measured<BoneDensityAssessment>,
    pub alignment: Alignment,
    /// One entry per pair of adjacent levels, cranial first.
    pub spondylolisthesis: Vec<ListhesisPair>,
    /// Mid-body and disc-level sections, cranial first.
    pub canal: Vec<CanalSection>,
    pub timings: Vec<StageTiming>,
}

/// Which contrast phase the density thresholds assume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContrastUsed {
    /// As given by the caller (`None`: unknown).
    pub phase_given: Option<ContrastPhase>,
    /// The phase the thresholds were set for.
    pub phase_used: ContrastPhase,
    pub note: String,
}

/// The local frame of a vertebral body (LPS unit vectors) and how it was derived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BodyFrame {
    /// Centroid of the body mask.
    pub centre_mm: [f64; 3],
    pub axis_left: [f64; 3],
    pub axis_posterior: [f64; 3],
    pub axis_superior: [f64; 3],
    /// Anterior–posterior depth and left–right width of the body through its centre.
    pub depth_mm: f64,
    pub width_mm: f64,
    pub method: String,
}

/// One vertebra.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VertebraMeasurements {
    pub level: Level,
    /// VerSe label in the label maps.
    pub label: u8,
    pub frame: Measured<BodyFrame>,
    pub heights: Measured<BodyHeights>,
    pub fracture: Measured<FractureAssessment>,
    pub body: Measured<BodySize>,
    pub superior_endplate: Measured<EndplateMeasure>,
    pub inferior_endplate: Measured<EndplateMeasure>,
    pub trabecular_roi: Measured<HuStats>,
    pub eroded_body: Measured<HuStats>,
}

/// Anterior, middle and posterior body heights in the mid-sagittal plane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BodyHeights {
    pub anterior_mm: f64,
    pub middle_mm: f64,
    pub posterior_mm: f64,
    /// Ha/Hp and Hm/Hp (Genant wedge and biconcave ratios).
    pub anterior_to_posterior_ratio: f64,
    pub middle_to_posterior_ratio: f64,
    /// Hp / mean Hp of the adjacent measured vertebrae (crush ratio); `None` without a measurable neighbour.
    pub posterior_to_neighbours_ratio: Option<f64>,
    pub neighbours_posterior_mm: Option<f64>,
    /// End points (superior, inferior) of each height in LPS mm.
    pub anterior_points_mm: [[f64; 3]; 2],
    pub middle_points_mm: [[f64; 3]; 2],
    pub posterior_points_mm: [[f64; 3]; 2],
    pub method: String,
}

/// Genant semiquantitative grade from the measured heights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FractureAssessment {
    pub genant_grade: GenantGrade,
    /// 0–3.
    pub genant_grade_value: u8,
    /// Deformity type of the largest height loss; `None` when normal.
    pub shape: Option<FractureShape>,
    /// Height losses (1 − ratio) in percent: wedge 1 − Ha/Hp, biconcave 1 − Hm/Hp, crush 1 − Hp/Hp_neighbours.
    pub wedge_loss_percent: f64,
    pub biconcave_loss_percent: f64,
    pub crush_loss_percent: Option<f64>,
    pub max_loss_percent: f64,
    pub method: String,
}

/// Size of the body mask.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BodySize {
    pub volume_ml: f64,
    pub voxel_count: usize,
    pub method: String,
}

/// An endplate plane fitted to the body surface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndplateMeasure {
    pub centre_mm: [f64; 3],
    /// Unit normal pointing superiorly.
    pub normal: [f64; 3],
    /// Against the scanner's axial plane: coronal positive when the patient's left end is higher; sagittal
    /// positive when the endplate faces anteriorly.
    pub coronal_tilt_deg: f64,
    pub sagittal_tilt_deg: f64,
    /// Posterior and anterior rim (corner) points in the mid-sagittal plane.
    pub posterior_corner_mm: [f64; 3],
    pub anterior_corner_mm: [f64; 3],
    /// Anterior–posterior length of the endplate in the mid-sagittal plane.
    pub ap_length_mm: f64,
    pub rms_residual_mm: f64,
    pub samples: usize,
    pub method: String,
}

/// HU statistics over a region of interest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HuStats {
    pub mean_hu: f64,
    pub median_hu: f64,
    pub sd_hu: f64,
    pub voxel_count: usize,
    pub volume_ml: f64,
    /// Distance kept from the body surface.
    pub erosion_mm: f64,
    pub method: String,
}

/// Bone-density category at one lumbar level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoneDensityCategory {
    /// At or below the specific threshold (Pickhardt 2013 ≤ 110 HU, > 90 % specific for osteoporosis).
    OsteoporosisLikely,
    /// Between the specific and the sensitive threshold (110–160 HU).
    LowBoneDensityPossible,
    /// Above the sensitive threshold (160 HU, 90 % sensitive).
    OsteoporosisUnlikely,
}

/// One threshold as applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DensityThreshold {
    pub name: String,
    /// Which measurement it is compared with ("trabecular_roi mean" or "eroded_body median").
    pub compared_with: String,
    pub native_hu: f64,
    /// After the contrast-phase correction.
    pub applied_hu: f64,
    /// Whether the measured value is at or below the applied threshold.
    pub at_or_below: bool,
    pub meaning: String,
    pub source: String,
}

/// Opportunistic bone-density screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoneDensityAssessment {
    pub level: Level,
    /// Why this level (L1, or which level replaced it and why).
    pub level_choice: String,
    pub trabecular_roi_mean_hu: f64,
    pub eroded_body_median_hu: Option<f64>,
    pub phase_used: ContrastPhase,
    /// Added to every native threshold for the phase.
    pub threshold_correction_hu: f64,
    pub category: BoneDensityCategory,
    /// TotalSegmentator's flag: eroded-body median below 90.25 HU (+ phase add-on).
    pub totalsegmentator_low_density: Option<bool>,
    pub thresholds: Vec<DensityThreshold>,
    pub method: String,
}

/// Alignment on CT (supine).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alignment {
    pub coronal: Measured<CoronalAlignment>,
    pub lumbar_lordosis: Measured<SagittalAngle>,
    pub thoracic_kyphosis: Measured<SagittalAngle>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoronalAlignment {
    /// Curves of at least 5°, cranial first.
    pub curves: Vec<CobbCurve>,
    pub max_cobb_deg: f64,
    /// Largest Cobb ≥ 10° (clinical-reference §4.1).
    pub scoliosis: bool,
    /// Vertebrae whose endplates entered the tilt sequence.
    pub levels_used: Vec<Level>,
    pub method: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SagittalAngle {
    pub upper: Level,
    /// "superior" or "inferior" endplate of `upper`.
    pub upper_endplate: String,
    pub lower: Level,
    pub lower_endplate: String,
    /// Lordosis or kyphosis positive by convention.
    pub angle_deg: f64,
    /// Whether the standard levels were available (LL: L1–S1; TK: T4–last thoracic).
    pub standard_levels: bool,
    pub method: String,
}

/// Slip between two adjacent levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListhesisPair {
    pub upper: Level,
    pub lower: Level,
    pub slip: Measured<Listhesis>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listhesis {
    /// Positive = anterolisthesis (upper body anterior), negative = retrolisthesis.
    pub slip_mm: f64,
    pub slip_percent: f64,
    /// "anterolisthesis", "retrolisthesis".
    pub direction: String,
    /// Meyerding grade of |slip %| (1–5; 5 = spondyloptosis).
    pub meyerding_grade: u8,
    /// |slip| under 2 mm: within this tool's measurement scatter, not a finding.
    pub below_measurement_precision: bool,
    pub lower_endplate_ap_length_mm: f64,
    pub method: String,
}

/// Where a canal section was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "at")]
pub enum CanalLocation {
    MidBody { level: Level },
    Disc { upper: Level, lower: Level },
}

/// What the canal label map contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CanalMapKind {
    /// The soft-tissue content of the osseous canal (CT engine): Verbiest AP thresholds apply.
    OsseousCanal,
    /// The dural sac (CSF + cord, e.g. the phantom): dural-sac area thresholds apply.
    DuralSac,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanalSection {
    pub location: CanalLocation,
    /// "L4 mid-body", "L4-L5 disc".
    pub name: String,
    pub section: Measured<CanalMeasure>,
}

/// Stenosis call from one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StenosisFlag {
    None,
    Relative,
    Absolute,
    /// The thresholds do not apply here (non-lumbar level, or a map of the other kind).
    NotApplicable,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CanalMeasure {
    pub ap_diameter_mm: f64,
    pub transverse_diameter_mm: f64,
    pub area_mm2: f64,
    pub centre_mm: [f64; 3],
    /// Unit canal axis (pointing superiorly) the section is perpendicular to.
    pub axis: [f64; 3],
    pub ap_flag: StenosisFlag,
    pub area_flag: StenosisFlag,
    pub thresholds: String,
    pub method: String,
}

/// Wall time of one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTiming {
    pub stage: String,
    pub ms: f64,
}
