//! `spinekit xr detect IMAGE -o DIR`: automatic T1–L5 corner landmarks on an AP full-spine radiograph,
//! then the AASCE Cobb angles from them.

use crate::commands::{CmdResult, ExitError};
use clap::Args;
use serde::Serialize;
use spinekit_xr::ap::AP_LEVELS;
use spinekit_xr_detect::{DetectError, Detection, Detector, N_VERTEBRAE};
use std::path::PathBuf;

/// Exit status when the weights are missing or fail their checksum.
const EXIT_WEIGHTS: u8 = 6;
/// Exit status when the image is refused as not an AP spine radiograph.
const EXIT_NOT_AP_SPINE: u8 = 7;

#[derive(Args, Debug)]
pub struct XrDetectArgs {
    /// AP full-spine radiograph: PNG, JPEG or DICOM.
    pub image: PathBuf,
    /// Output folder (created): landmarks.json (readable by `spinekit xr`), detection.json (confidences),
    /// ap.json (Cobb angles) and ap.png (annotated picture).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Use this weights file (with its .sha256 beside it) instead of the shipped one.
    #[arg(long, value_name = "FILE")]
    pub weights: Option<PathBuf>,
    /// Do not write the annotated picture.
    #[arg(long)]
    pub no_picture: bool,
}

#[derive(Serialize)]
struct VertebraOut {
    level: spinekit_anatomy::Level,
    corners_px: [[f64; 2]; 4],
}

/// Same schema as spinekit-xr's AP landmark JSON, so the file can be edited and measured again.
#[derive(Serialize)]
struct LandmarksOut {
    view: &'static str,
    vertebrae: Vec<VertebraOut>,
}

#[derive(Serialize)]
struct VertebraConfidence {
    level: spinekit_anatomy::Level,
    confidence: f64,
}

#[derive(Serialize)]
struct DetectionOut<'a> {
    notice: &'static str,
    method: &'a str,
    image_width_px: usize,
    image_height_px: usize,
    /// 0–1, mean of the per-vertebra heatmap peaks.
    confidence: f64,
    per_vertebra_confidence: Vec<VertebraConfidence>,
}

fn landmarks_out(d: &Detection) -> LandmarksOut {
    LandmarksOut {
        view: "ap",
        vertebrae: (0..N_VERTEBRAE)
            .map(|v| VertebraOut {
                level: AP_LEVELS[v],
                corners_px: std::array::from_fn(|c| d.landmarks_px[4 * v + c]),
            })
            .collect(),
    }
}

fn exit(code: u8, e: impl std::fmt::Display) -> Box<dyn std::error::Error> {
    Box::new(ExitError {
        code,
        message: e.to_string(),
    })
}

pub fn detect(a: XrDetectArgs) -> CmdResult {
    let det = match &a.weights {
        Some(w) => Detector::load(w),
        None => Detector::load_default(),
    }
    .map_err(|e| exit(EXIT_WEIGHTS, e))?;
    let d = det.detect_path(&a.image).map_err(|e| match e {
        DetectError::NotApSpine(_) => exit(EXIT_NOT_AP_SPINE, e),
        other => Box::new(other) as Box<dyn std::error::Error>,
    })?;
    let l = d.ap_landmarks()?;
    let size = [d.image_width_px as u32, d.image_height_px as u32];
    let report = spinekit_xr::report::ApReport::new(&l, size, "spinekit-xr-detect (automatic)");
    std::fs::create_dir_all(&a.output)?;
    spinekit_xr::report::write_json(&a.output.join("landmarks.json"), &landmarks_out(&d))?;
    let conf = DetectionOut {
        notice: spinekit_xr::RESEARCH_NOTICE,
        method: d.method,
        image_width_px: d.image_width_px,
        image_height_px: d.image_height_px,
        confidence: d.confidence,
        per_vertebra_confidence: (0..N_VERTEBRAE)
            .map(|v| VertebraConfidence {
                level: AP_LEVELS[v],
                confidence: d.per_vertebra_confidence[v],
            })
            .collect(),
    };
    spinekit_xr::report::write_json(&a.output.join("detection.json"), &conf)?;
    spinekit_xr::report::write_json(&a.output.join("ap.json"), &report)?;
    if !a.no_picture {
        let gray = match spinekit_xr::draw::load_gray(&a.image) {
            Ok(g) => g,
            // DICOM: render the pixel data with its full range.
            Err(_) => {
                let img = spinekit_io::open_image2d(&a.image, &Default::default())?.image;
                spinekit_picture::render_image2d(&img, None)?
            }
        };
        let pic = spinekit_xr::draw::annotate_ap(&gray, &l, &report.cobb);
        spinekit_xr::draw::write_png(&a.output.join("ap.png"), &pic)?;
    }
    println!(
        "landmarks: 17 vertebrae T1-L5, confidence {:.2} (weakest {:.2})",
        d.confidence,
        d.per_vertebra_confidence
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
    );
    println!(
        "Cobb (AASCE convention): main {:.1} deg, upper {:.1} deg, lower {:.1} deg",
        report.cobb.main_deg, report.cobb.upper_deg, report.cobb.lower_deg
    );
    println!("wrote {}", a.output.display());
    Ok(())
}
