//! Radiograph alignment from landmarks (research use only, not a medical device).
//!
//! - [`ap`]: coronal Cobb angles from the four body corners of T1–L5 in the AASCE 2019 convention
//!   ([`ap::aasce_angles`]), with end vertebrae, apices and clinical curve names.
//! - [`lateral`]: pelvic incidence, pelvic tilt, sacral slope, lumbar lordosis, thoracic kyphosis, SVA, T1 pelvic
//!   angle, PI−LL and SRS–Schwab modifiers from a documented landmark JSON (schema in the module docs).
//! - [`aasce`]: loaders for the AASCE folder layout; [`smape`]: the challenge metric.
//! - [`draw`]: annotated PNGs; [`report`]: JSON reports and landmark files.
//!
//! Pixel coordinates are (x = column, y = row) with y pointing down and (0, 0) at the centre of the top-left pixel.

pub mod aasce;
pub mod ap;
pub mod draw;
mod font;
pub mod lateral;
pub mod report;

use std::path::Path;

/// Written into every report and picture.
pub const RESEARCH_NOTICE: &str = "research use only, not a medical device";

#[derive(Debug, thiserror::Error)]
pub enum XrError {
    #[error("cannot read {path}: {message}")]
    Io { path: String, message: String },
    #[error("bad landmarks: {0}")]
    BadLandmarks(String),
    #[error("cannot read the radiograph {0}")]
    Image(String),
    #[error("cannot write output: {0}")]
    Write(String),
}

impl XrError {
    pub(crate) fn io(path: &Path, e: impl std::fmt::Display) -> Self {
        Self::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}

impl From<std::io::Error> for XrError {
    fn from(e: std::io::Error) -> Self {
        Self::Write(e.to_string())
    }
}

/// AASCE SMAPE in percent (clinical-reference.md §4.4): mean over images of Σ|pred−truth| / Σ(pred+truth) × 100,
/// sums over the three angles. An image whose six angles are all zero contributes 0. Empty input gives 0.
pub fn smape(pred: &[[f64; 3]], truth: &[[f64; 3]]) -> f64 {
    let n = pred.len().min(truth.len());
    if n == 0 {
        return 0.0;
    }
    pred.iter()
        .zip(truth)
        .map(|(p, t)| smape_one(p, t))
        .sum::<f64>()
        / n as f64
}

/// One image's SMAPE term in percent.
pub fn smape_one(pred: &[f64; 3], truth: &[f64; 3]) -> f64 {
    let num: f64 = pred.iter().zip(truth).map(|(a, b)| (a - b).abs()).sum();
    let den: f64 = pred.iter().zip(truth).map(|(a, b)| a + b).sum();
    if den == 0.0 {
        0.0
    } else {
        num / den * 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smape_hand_computed() {
        // Image 1: |10−12| + |5−5| + |0−2| = 4 over 34 → 11.7647 %; image 2 exact → 0.
        let p = [[10.0, 5.0, 0.0], [20.0, 10.0, 3.0]];
        let t = [[12.0, 5.0, 2.0], [20.0, 10.0, 3.0]];
        assert!((smape(&p, &t) - 0.5 * 400.0 / 34.0).abs() < 1e-12);
        assert_eq!(smape_one(&[0.0; 3], &[0.0; 3]), 0.0);
        assert_eq!(smape(&[], &[]), 0.0);
    }
}
