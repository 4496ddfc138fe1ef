//! Landmark files and JSON reports.
//!
//! # AP landmark JSON (`"view": "ap"`)
//!
//! ```json
//! {"view": "ap",
//!  "vertebrae": [{"level": "T1", "corners_px": [[x, y], [x, y], [x, y], [x, y]]}, … 17 entries T1..L5]}
//! ```
//! Corners per vertebra in AASCE order as displayed: top-left, top-right, bottom-left, bottom-right; pixels, y down.
//!
//! The lateral schema is in [`crate::lateral`]. An AASCE `landmarks.csv` works too: a file with one row of 136
//! normalised values, or the whole dataset file when a `filenames.csv` beside it names the image.

use crate::aasce::{parse_csv_numbers, AasceDataset};
use crate::ap::{aasce_angles, srs_schwab_curve_type, AasceAngles, ApLandmarks, AP_LEVELS};
use crate::lateral::{measure_lateral, LateralLandmarks, LateralMeasurements};
use crate::{XrError, RESEARCH_NOTICE};
use serde::{Deserialize, Serialize};
use spinekit_anatomy::Level;
use std::path::Path;

/// Landmarks of either view.
#[derive(Debug, Clone, PartialEq)]
pub enum Landmarks {
    Ap(Box<ApLandmarks>),
    Lateral(Box<LateralLandmarks>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApVertebraJson {
    level: Level,
    corners_px: [[f64; 2]; 4],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApJson {
    #[allow(dead_code)]
    view: String,
    vertebrae: Vec<ApVertebraJson>,
}

/// Parses landmark JSON (AP or lateral, chosen by its `"view"` field).
pub fn parse_landmarks_json(text: &str) -> Result<Landmarks, XrError> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| XrError::BadLandmarks(format!("not valid JSON ({e})")))?;
    let view = v.get("view").and_then(|x| x.as_str()).unwrap_or("");
    match view.to_ascii_lowercase().as_str() {
        "ap" | "pa" => {
            let a: ApJson = serde_json::from_value(v)
                .map_err(|e| XrError::BadLandmarks(format!("AP landmark JSON: {e}")))?;
            if a.vertebrae.len() != AP_LEVELS.len() {
                return Err(XrError::BadLandmarks(format!(
                    "expected 17 vertebrae T1–L5, found {}",
                    a.vertebrae.len()
                )));
            }
            let mut c = [[[0.0; 2]; 4]; 17];
            for (k, (v, want)) in a.vertebrae.iter().zip(AP_LEVELS).enumerate() {
                if v.level != want {
                    return Err(XrError::BadLandmarks(format!(
                        "vertebra {} is {}, expected {} (list T1 to L5 in order)",
                        k + 1,
                        v.level,
                        want
                    )));
                }
                c[k] = v.corners_px;
            }
            Ok(Landmarks::Ap(Box::new(ApLandmarks::new(c)?)))
        }
        "lateral" => {
            let mut v = v;
            if let Some(o) = v.as_object_mut() {
                o.remove("view");
            }
            let l: LateralLandmarks = serde_json::from_value(v)
                .map_err(|e| XrError::BadLandmarks(format!("lateral landmark JSON: {e}")))?;
            l.validate()?;
            Ok(Landmarks::Lateral(Box::new(l)))
        }
        _ => Err(XrError::BadLandmarks(
            "the landmark JSON needs \"view\": \"ap\" or \"lateral\"".into(),
        )),
    }
}

/// Reads a landmark file: `.json` (either view) or an AASCE `.csv` (see the module docs). `image_path` names the
/// radiograph (to find its row in a dataset CSV) and `image_size` = (width, height) de-normalises CSV values.
pub fn read_landmarks(
    path: &Path,
    image_path: &Path,
    image_size: [u32; 2],
) -> Result<Landmarks, XrError> {
    let text = std::fs::read_to_string(path).map_err(|e| XrError::io(path, e))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "json" => parse_landmarks_json(&text),
        "csv" => {
            let rows = parse_csv_numbers(&text)
                .map_err(|m| XrError::BadLandmarks(format!("{}: {m}", path.display())))?;
            let row = match rows.len() {
                0 => {
                    return Err(XrError::BadLandmarks(format!(
                        "{} is empty",
                        path.display()
                    )))
                }
                1 => rows.into_iter().next().unwrap_or_default(),
                _ => {
                    let root = path
                        .parent()
                        .and_then(Path::parent)
                        .unwrap_or(Path::new("."));
                    let ds = AasceDataset::open(root)?;
                    let name = image_path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or("");
                    let i = ds.filenames.iter().position(|f| f == name).ok_or_else(|| {
                        XrError::BadLandmarks(format!(
                            "{} has several rows and filenames.csv beside it does not name {name}",
                            path.display()
                        ))
                    })?;
                    ds.landmarks[i].clone()
                }
            };
            Ok(Landmarks::Ap(Box::new(ApLandmarks::from_aasce_row(
                &row,
                image_size[0] as f64,
                image_size[1] as f64,
            )?)))
        }
        "mat" => Err(XrError::BadLandmarks(
            "MATLAB .mat landmarks are not read: use labels/landmarks.csv (same points) or JSON"
                .into(),
        )),
        _ => Err(XrError::BadLandmarks(format!(
            "{}: landmark files must be .json or .csv",
            path.display()
        ))),
    }
}

/// The AP report written as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct ApReport {
    pub notice: &'static str,
    pub view: &'static str,
    pub image_width_px: u32,
    pub image_height_px: u32,
    pub landmarks_source: String,
    /// Levels of the 17 vertebrae the landmarks describe.
    pub levels: Vec<Level>,
    pub cobb: AasceAngles,
    /// SRS–Schwab coronal curve type from these curves (clinical-reference.md §4.2).
    pub srs_schwab_curve_type: &'static str,
    pub srs_schwab_curve_type_method: &'static str,
}

impl ApReport {
    pub fn new(l: &ApLandmarks, image_size: [u32; 2], source: &str) -> Self {
        let cobb = aasce_angles(l, image_size[1] as f64);
        let t = srs_schwab_curve_type(&cobb.curves);
        Self {
            notice: RESEARCH_NOTICE,
            view: "ap",
            image_width_px: image_size[0],
            image_height_px: image_size[1],
            landmarks_source: source.into(),
            levels: AP_LEVELS.to_vec(),
            cobb,
            srs_schwab_curve_type: t,
            srs_schwab_curve_type_method:
                "curves >= 30 deg decide: T (apex T9 or higher), L (apex T10 or lower), \
D (both), N (none); apex rule is an implementation convention",
        }
    }
}

/// The lateral report written as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct LateralReport {
    pub notice: &'static str,
    pub view: &'static str,
    pub image_width_px: u32,
    pub image_height_px: u32,
    pub landmarks_source: String,
    pub landmarks: LateralLandmarks,
    pub measurements: LateralMeasurements,
}

impl LateralReport {
    pub fn new(l: &LateralLandmarks, image_size: [u32; 2], source: &str) -> Result<Self, XrError> {
        Ok(Self {
            notice: RESEARCH_NOTICE,
            view: "lateral",
            image_width_px: image_size[0],
            image_height_px: image_size[1],
            landmarks_source: source.into(),
            landmarks: l.clone(),
            measurements: measure_lateral(l)?,
        })
    }
}

/// Writes any serialisable report as pretty JSON, atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), XrError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| XrError::Write(e.to_string()))?;
    spinekit_atomic::write_bytes_atomic(path, &bytes)
        .map_err(|e| XrError::Write(format!("{}: {e}", path.display())))
}
