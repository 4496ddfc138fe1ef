//! The one analysis report model: `report.json` is its serialisation; the HTML page and the DICOM SR are
//! renderings of it, so the three can never disagree.

use serde::{Deserialize, Serialize};
use spinekit_bodycomp::BodyCompositionReport;
use spinekit_ct::SpineReport;
use spinekit_measure::{Measured, SpineMeasurements};

/// Version of `report.json`'s layout (documented in docs/report-json.md); bump on any incompatible change.
pub const SCHEMA: &str = "spinekit-report/2";

/// Everything `spinekit analyze` found in one CT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisReport {
    /// [`SCHEMA`].
    pub schema: String,
    /// "spinekit 0.1.0".
    pub software: String,
    pub disclaimer: String,
    pub created_utc: String,
    pub coordinate_system: String,
    pub input: InputSummary,
    pub patient: PatientContext,
    /// Levels, centroids, numbering status and evidence (the CT engine's `spine.json` content).
    pub spine: SpineReport,
    /// Heights, fractures, bone density, alignment, listhesis, canal.
    pub measurements: SpineMeasurements,
    /// Muscle and fat at T12–L5 and the contrast-phase estimate, or why the step could not run.
    pub body_composition: Measured<BodyCompositionReport>,
    /// Plain-language findings with their evidence, most important first.
    pub findings: Vec<Finding>,
    pub provenance: Provenance,
}

/// What was analysed (no patient identifiers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSummary {
    /// "DICOM series", "NIfTI", "MetaImage".
    pub format: String,
    pub dims: [usize; 3],
    pub spacing_mm: [f64; 3],
    /// Three-letter orientation code of the voxel axes (LPS convention letters, e.g. "LPS", "RAS").
    pub orientation: String,
    /// Only for DICOM input: the series' own description and UIDs (needed to link SEG/SR back to the source).
    pub series_description: Option<String>,
    pub study_instance_uid: Option<String>,
    pub series_instance_uid: Option<String>,
}

/// Patient facts the measurements depend on, and where each came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientContext {
    pub height_cm: Option<f64>,
    pub weight_kg: Option<f64>,
    /// "female" or "male".
    pub sex: Option<String>,
    pub age_years: Option<f64>,
    /// One line per fact: "height 172 cm from the command line", "sex from DICOM PatientSex".
    pub sources: Vec<String>,
}

/// One finding in plain words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// "numbering", "fracture", "bone density", "alignment", "listhesis", "stenosis", "body composition",
    /// "implants", "contrast".
    pub topic: String,
    /// Whether it is an abnormal result a reader should look at.
    pub flag: bool,
    pub text: String,
    /// The numbers and thresholds behind it.
    pub evidence: String,
}

/// How the report was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Wall time of each stage, in order.
    pub stages: Vec<Stage>,
    pub total_ms: f64,
    /// One line per engine: method and version.
    pub methods: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub stage: String,
    pub ms: f64,
}
