//! The machine-readable summary written as `spine.json`.

use serde::{Deserialize, Serialize};
use spinekit_anatomy::{Enumeration, Level};

/// Everything the engine found, in LPS millimetres.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpineReport {
    /// Vertebrae from cranial to caudal.
    pub vertebrae: Vec<VertebraReport>,
    pub discs: Vec<DiscReport>,
    pub numbering: Numbering,
    /// Through the vertebral body centres, cranial to caudal, LPS mm.
    pub centreline_mm: Vec<[f64; 3]>,
    pub findings: Findings,
}

/// One vertebra (or the sacrum).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VertebraReport {
    pub level: Level,
    /// VerSe label written into `labels` and `bodies`.
    pub label: u8,
    pub centroid_mm: [f64; 3],
    pub body_centroid_mm: Option<[f64; 3]>,
    /// Axis-aligned LPS box of the whole vertebra: (min corner, max corner).
    pub bbox_mm: ([f64; 3], [f64; 3]),
    pub volume_ml: f64,
    /// Distance between the two neighbouring disc planes' crossings of the centreline (None when cut by the field
    /// of view): body height plus half of each adjacent disc, a plausibility figure, not a Genant height.
    pub height_mm: Option<f64>,
    /// Cut by the top or bottom of the field of view.
    pub partial: bool,
    /// Whether a rib longer than the transverse process leaves this vertebra (None when not assessable).
    pub rib_bearing: Option<bool>,
    /// Confidence in the level name and the delineation together, 0–1.
    pub confidence: f64,
}

/// One intervertebral disc, named by the level above.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscReport {
    pub upper: Level,
    pub lower: Level,
    /// 100 + VerSe label of the upper level, as written into `discs`.
    pub label: u16,
    pub centre_mm: [f64; 3],
}

/// How sure the level names are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NumberingStatus {
    /// Independent cues agree.
    Confident,
    /// A single cue, or cues that disagree: the most likely numbering is given, check it.
    Uncertain,
    /// No anchor in view: the names are a placeholder.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Numbering {
    pub status: NumberingStatus,
    pub reason: String,
    /// Each cue used, one line each.
    pub evidence: Vec<String>,
    /// Enumeration variant assumed for the names.
    pub enumeration: Enumeration,
    pub sacrum_found: bool,
    /// Rib-bearing vertebrae seen in the field of view.
    pub rib_bearing_count: usize,
    /// Vertebrae without ribs between the last rib-bearing vertebra (or the top of the view) and the sacrum
    /// (or the bottom of the view).
    pub lumbar_type_count: usize,
}

/// Conditions that affect reading the scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Findings {
    /// Voxels ≥ 2500 HU (implants) found.
    pub metal: bool,
    pub metal_volume_ml: f64,
    /// Dense (≥ bone threshold) soft-tissue structures that are not bone, such as contrast in vessels or organs.
    pub contrast_or_dense_soft_tissue: bool,
    pub dense_non_bone_volume_ml: f64,
    /// Fraction of voxels at the scanner's upper limit inside bone (clipped data, e.g. stored as 12 bit).
    pub clipped_high_values: bool,
    /// Image noise in soft tissue (HU; robust SD of neighbouring-voxel differences). A routine 3 mm abdominal
    /// series reads 10–18 HU; a thin-slice bone-kernel or low-dose series 30–80 HU, where the engine is least
    /// reliable (uncorrelated noise of 30 HU added to the IRCADb series shifts its names).
    #[serde(default)]
    pub noise_hu: f64,
    /// Density (HU) of an enhanced blood pool at 300 HU or more (a CT angiogram's aorta), where one was found; a
    /// large homogeneous lumen of positive oral contrast reads the same way and is reported here too.
    #[serde(default)]
    pub blood_pool_hu: Option<f64>,
    /// Density (HU) a region that reads like the blood pool must partly reach to count as bone (the pool + 150 HU);
    /// 400 HU, the cortex every bone region must partly reach, where no pool is found.
    #[serde(default = "default_cortex_hu")]
    pub cortex_hu: f64,
}

/// The cortical density of reports written before it was recorded.
fn default_cortex_hu() -> f64 {
    400.0
}
