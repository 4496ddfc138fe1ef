//! Automatic landmark detection on AP full-spine radiographs: the four corners of each vertebra
//! T1…L5 (68 points, the AASCE 2019 convention), from a small network trained on two CPU cores.
//!
//! Design (see `model`): the radiograph is resized to 384×192, a U-Net-like network predicts one
//! vertebra-centre heatmap plus eight corner offsets per cell at 1/4 resolution, the 17 strongest
//! peaks sorted top to bottom are T1…L5, and each vertebra's corners come from the regressed offsets.
//! Images that do not look like an AP spine radiograph are refused ([`DetectError::NotApSpine`]).
//!
//! Weights live in this crate's `weights/` folder with a SHA-256 checksum file that is verified on
//! every load; `examples/train.rs` reproduces them (see README.md). Research software, not a
//! medical device.

pub mod data;
pub mod heatmap;
pub mod model;
pub mod preprocess;
pub mod train;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use heatmap::Peak;
use model::{SpineNet, BASE_CHANNELS, OUT_H, OUT_W};
use preprocess::{prepare, Prepared, IN_H, IN_W};
use serde::Serialize;
use sha2::{Digest, Sha256};
use spinekit_image::Image2D;
use std::path::{Path, PathBuf};

/// Vertebrae T1…L5.
pub const N_VERTEBRAE: usize = 17;
/// Four corners per vertebra: top-left, top-right, bottom-left, bottom-right.
pub const N_POINTS: usize = 4 * N_VERTEBRAE;
/// Vertebra names in landmark order.
pub const VERTEBRA_NAMES: [&str; N_VERTEBRAE] = [
    "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11", "T12", "L1", "L2", "L3",
    "L4", "L5",
];
/// File name of the shipped weights (burnpack) inside `weights/`; the checksum is `<name>.sha256`.
pub const WEIGHTS_FILE: &str = "spine-ap-centernet.bpk";
/// Environment variable that points the default loader at another weights file (installed binaries).
pub const WEIGHTS_ENV: &str = "SPINEKIT_XR_DETECT_WEIGHTS";
/// Method string carried by every detection.
pub const METHOD: &str = "spinekit-xr-detect centre-heatmap + corner-offset CNN (384x192 input, AASCE 2019 training split)";

#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("landmark model weights not found at {0} (run the training example, see spinekit-xr-detect/README.md)")]
    WeightsMissing(String),
    #[error("landmark model weights at {path} fail their SHA-256 check (expected {expected}, got {actual}): the file is damaged or not the shipped one")]
    ChecksumMismatch {
        path: String,
        expected: String,
        actual: String,
    },
    #[error("landmark model weights could not be read: {0}")]
    Weights(String),
    #[error("not an AP spine radiograph (refused): {0}")]
    NotApSpine(String),
    #[error("cannot read the image: {0}")]
    Image(String),
    #[error("training data: {0}")]
    Dataset(String),
    #[error("cannot write {0}")]
    Write(String),
}

pub type Result<T, E = DetectError> = std::result::Result<T, E>;

/// Landmarks found on one radiograph.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    /// 68 points (x, y) in original image pixels (the AASCE label convention x = u·width), T1…L5,
    /// corners in the order top-left, top-right, bottom-left, bottom-right (AASCE convention).
    #[serde(serialize_with = "ser_points")]
    pub landmarks_px: [[f64; 2]; N_POINTS],
    /// Overall confidence 0–1: the mean of the per-vertebra confidences.
    pub confidence: f64,
    /// Per vertebra (T1…L5), the centre-heatmap peak height 0–1.
    pub per_vertebra_confidence: [f64; N_VERTEBRAE],
    pub image_width_px: usize,
    pub image_height_px: usize,
    pub method: &'static str,
}

impl Detection {
    /// The landmarks in spinekit-xr's form (for angles, reports and drawings).
    pub fn ap_landmarks(&self) -> Result<spinekit_xr::ap::ApLandmarks> {
        spinekit_xr::ap::ApLandmarks::from_points(&self.landmarks_px)
            .map_err(|e| DetectError::NotApSpine(e.to_string()))
    }

    /// AASCE-convention Cobb angles of the detected landmarks.
    pub fn angles(&self) -> Result<spinekit_xr::ap::AasceAngles> {
        Ok(spinekit_xr::ap::aasce_angles(
            &self.ap_landmarks()?,
            self.image_height_px as f64,
        ))
    }
}

fn ser_points<S: serde::Serializer>(p: &[[f64; 2]; N_POINTS], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(p.iter())
}

/// What the network saw, before the accept/refuse decision (used by evaluation and tests).
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The 17 vertebrae when at least 17 heatmap peaks exist.
    pub detection: Option<Detection>,
    /// Reasons to refuse; empty when the image is accepted.
    pub refusals: Vec<String>,
}

/// The landmark detector: network weights on the CPU.
pub struct Detector {
    model: SpineNet,
    device: Device,
}

/// SHA-256 of `bytes` as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `weights/` of this crate (where training writes and the default loader reads).
pub fn weights_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("weights")
}

/// The weights the default loader uses: `$SPINEKIT_XR_DETECT_WEIGHTS` or `weights/spine-ap-centernet.bpk`.
pub fn default_weights_path() -> PathBuf {
    std::env::var_os(WEIGHTS_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| weights_dir().join(WEIGHTS_FILE))
}

/// Writes `bytes` and their checksum file next to each other, each atomically (temp file + rename).
pub fn write_weights(path: &Path, bytes: &[u8]) -> Result<()> {
    let sum = format!(
        "{}  {}\n",
        sha256_hex(bytes),
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(WEIGHTS_FILE)
    );
    let sum_path = checksum_path(path);
    for (p, b) in [(path.to_path_buf(), bytes), (sum_path, sum.as_bytes())] {
        spinekit_atomic::write_bytes_atomic(&p, b)
            .map_err(|e| DetectError::Write(format!("{}: {e}", p.display())))?;
    }
    Ok(())
}

fn checksum_path(weights: &Path) -> PathBuf {
    let mut s = weights.as_os_str().to_owned();
    s.push(".sha256");
    PathBuf::from(s)
}

impl Detector {
    /// Loads the shipped weights (see [`default_weights_path`]), verifying their SHA-256.
    pub fn load_default() -> Result<Self> {
        Self::load(&default_weights_path())
    }

    /// Loads weights from `path`, verifying them against `<path>.sha256` (sha256sum format).
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path)
            .map_err(|_| DetectError::WeightsMissing(path.display().to_string()))?;
        let sum_path = checksum_path(path);
        let expected = std::fs::read_to_string(&sum_path)
            .map_err(|_| DetectError::WeightsMissing(sum_path.display().to_string()))?;
        let expected = expected
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_lowercase();
        let actual = sha256_hex(&bytes);
        if expected != actual {
            return Err(DetectError::ChecksumMismatch {
                path: path.display().to_string(),
                expected,
                actual,
            });
        }
        Self::from_verified_bytes(bytes)
    }

    /// Builds the network from burnpack bytes that the caller has already verified.
    pub fn from_verified_bytes(bytes: Vec<u8>) -> Result<Self> {
        let device = Device::flex();
        let record =
            burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
                .map_err(|e| DetectError::Weights(e.to_string()))?;
        let model = SpineNet::new(BASE_CHANNELS, &device)
            .try_load_record(record)
            .map_err(|e| DetectError::Weights(e.to_string()))?
            .valid();
        Ok(Self { model, device })
    }

    /// Wraps an in-memory model (training-time evaluation).
    pub fn from_model(model: SpineNet) -> Self {
        Self {
            model: model.valid(),
            device: Device::flex(),
        }
    }

    /// Reads an image file (DICOM radiograph, PNG, JPEG) and detects its landmarks.
    pub fn detect_path(&self, path: &Path) -> Result<Detection> {
        let opened = spinekit_io::open_image2d(path, &Default::default())
            .map_err(|e| DetectError::Image(e.to_string()))?;
        self.detect(&opened.image)
    }

    /// Detects the 68 landmarks, or refuses an image that is not an AP spine radiograph.
    pub fn detect(&self, img: &Image2D) -> Result<Detection> {
        let a = self.analyse(img);
        match (a.detection, a.refusals.is_empty()) {
            (Some(d), true) => Ok(d),
            _ => Err(DetectError::NotApSpine(a.refusals.join("; "))),
        }
    }

    /// Runs the network and all plausibility checks without deciding.
    pub fn analyse(&self, img: &Image2D) -> Analysis {
        let mut refusals = image_checks(img);
        if img.width < 16 || img.height < 16 {
            return Analysis {
                detection: None,
                refusals,
            };
        }
        let prep = prepare(&img.data, img.width, img.height, img.inverted);
        let (heat, offs) = self.infer(std::slice::from_ref(&prep)).remove(0);
        let peaks = heatmap::peaks(&heat, &offs, PEAK_FLOOR);
        let Some(seventeen) = heatmap::seventeen(peaks) else {
            refusals.push("fewer than 17 vertebra-like structures found".into());
            return Analysis {
                detection: None,
                refusals,
            };
        };
        let d = to_detection(&prep, &seventeen);
        refusals.extend(geometry_checks(&d));
        Analysis {
            detection: Some(d),
            refusals,
        }
    }

    /// Network outputs (sigmoid heatmap, offsets) for prepared images.
    pub fn infer(&self, batch: &[Prepared]) -> Vec<(Vec<f32>, Vec<f32>)> {
        infer(&self.model, &self.device, batch)
    }
}

/// Heatmap values below this are not considered peaks at all.
const PEAK_FLOOR: f32 = 0.02;

pub(crate) fn infer(
    model: &SpineNet,
    device: &Device,
    batch: &[Prepared],
) -> Vec<(Vec<f32>, Vec<f32>)> {
    let b = batch.len();
    let mut flat = Vec::with_capacity(b * IN_H * IN_W);
    for p in batch {
        flat.extend_from_slice(&p.pixels);
    }
    let x = Tensor::<4>::from_data(TensorData::new(flat, [b, 1, IN_H, IN_W]), device);
    let out = model.forward(x);
    let heat: Vec<f32> = burn::tensor::activation::sigmoid(out.heat_logits)
        .into_data()
        .try_to_vec()
        .unwrap_or_default();
    let offs: Vec<f32> = out.offsets.into_data().try_to_vec().unwrap_or_default();
    let n = OUT_H * OUT_W;
    (0..b)
        .map(|i| {
            (
                heat[i * n..(i + 1) * n].to_vec(),
                offs[i * 8 * n..(i + 1) * 8 * n].to_vec(),
            )
        })
        .collect()
}

fn to_detection(prep: &Prepared, v: &[Peak]) -> Detection {
    let mut landmarks_px = [[0f64; 2]; N_POINTS];
    let mut per = [0f64; N_VERTEBRAE];
    for (k, p) in v.iter().enumerate() {
        per[k] = p.score as f64;
        for c in 0..4 {
            landmarks_px[4 * k + c] =
                prep.to_pixels([p.corners[c][0] as f64, p.corners[c][1] as f64]);
        }
    }
    Detection {
        landmarks_px,
        confidence: (per.iter().sum::<f64>() / N_VERTEBRAE as f64).clamp(0.0, 1.0),
        per_vertebra_confidence: per,
        image_width_px: prep.orig_width,
        image_height_px: prep.orig_height,
        method: METHOD,
    }
}

/// Width/height of AP full-spine radiographs: AASCE 0.24–0.49; allow a margin for other centres.
const ASPECT_RANGE: (f64, f64) = (0.15, 0.9);
/// Every one of the 17 vertebrae must have at least this heatmap peak.
pub const MIN_VERTEBRA_CONFIDENCE: f64 = 0.15;
/// The mean of the 17 peaks must reach this: the statistic that best separates held-out AASCE images
/// from out-of-distribution images (README "Refusal calibration").
pub const MIN_MEAN_CONFIDENCE: f64 = 0.45;

fn image_checks(img: &Image2D) -> Vec<String> {
    let mut r = Vec::new();
    if img.width < 128 || img.height < 256 {
        r.push(format!(
            "image is {}x{} pixels, too small for a full-spine radiograph",
            img.width, img.height
        ));
    }
    let aspect = img.width as f64 / img.height as f64;
    if !(ASPECT_RANGE.0..=ASPECT_RANGE.1).contains(&aspect) {
        r.push(format!(
            "width/height {aspect:.2} is outside {:.2}-{:.2} of AP full-spine radiographs",
            ASPECT_RANGE.0, ASPECT_RANGE.1
        ));
    }
    if let Some((lo, hi)) = img.range() {
        if hi - lo <= 0.0 {
            r.push("image is uniform".into());
        }
    }
    r
}

fn centre(d: &Detection, v: usize) -> [f64; 2] {
    let mut c = [0.0; 2];
    for k in 0..4 {
        c[0] += d.landmarks_px[4 * v + k][0] / 4.0;
        c[1] += d.landmarks_px[4 * v + k][1] / 4.0;
    }
    c
}

/// Shape statistics of a detection that a real spine keeps whatever its scoliosis.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Plausibility {
    /// Mean per-vertebra confidence (= [`Detection::confidence`]).
    pub mean_confidence: f64,
    /// Lowest per-vertebra confidence.
    pub weakest_confidence: f64,
    /// T1–L5 centre distance along the image height / image height.
    pub span_fraction_of_height: f64,
    /// Smallest and largest centre-to-centre distance between neighbours / their median.
    pub min_gap_ratio: f64,
    pub max_gap_ratio: f64,
    /// Largest sideways step between neighbouring centres / median centre distance.
    pub max_sideways_ratio: f64,
    /// Vertebrae whose width/height (mean of their sides) is outside 0.7–5 or not positive.
    pub implausible_vertebrae: usize,
}

/// Computes [`Plausibility`] of a detection.
pub fn plausibility(d: &Detection) -> Plausibility {
    let weakest_confidence = d
        .per_vertebra_confidence
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let c: Vec<[f64; 2]> = (0..N_VERTEBRAE).map(|v| centre(d, v)).collect();
    // Centre-to-centre distances: vertical gaps alone shrink where a scoliotic curve runs sideways.
    let gaps: Vec<f64> = c
        .windows(2)
        .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
        .collect();
    let mut sorted = gaps.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2].max(1e-9);
    let sideways = c
        .windows(2)
        .map(|w| (w[1][0] - w[0][0]).abs())
        .fold(0.0, f64::max);
    let implausible_vertebrae = (0..N_VERTEBRAE)
        .filter(|&v| {
            let p = |k: usize| d.landmarks_px[4 * v + k];
            let w = ((p(1)[0] - p(0)[0]) + (p(3)[0] - p(2)[0])) / 2.0;
            let h = ((p(2)[1] - p(0)[1]) + (p(3)[1] - p(1)[1])) / 2.0;
            !(h > 0.0 && w > 0.0 && (0.7..=5.0).contains(&(w / h)))
        })
        .count();
    Plausibility {
        mean_confidence: d.confidence,
        weakest_confidence,
        span_fraction_of_height: (c[N_VERTEBRAE - 1][1] - c[0][1]) / d.image_height_px as f64,
        min_gap_ratio: sorted[0] / median,
        max_gap_ratio: sorted[sorted.len() - 1] / median,
        max_sideways_ratio: sideways / median,
        implausible_vertebrae,
    }
}

/// Limits of [`Plausibility`] for acceptance (calibrated in README "Refusal calibration").
pub const MIN_SPAN_FRACTION: f64 = 0.35;
pub const MIN_GAP_RATIO: f64 = 0.35;
pub const MAX_GAP_RATIO: f64 = 3.0;
pub const MAX_SIDEWAYS_RATIO: f64 = 1.5;
pub const MAX_IMPLAUSIBLE_VERTEBRAE: usize = 2;

/// Anatomical consistency of a detection: what a spine must look like whatever the scoliosis.
pub fn geometry_checks(d: &Detection) -> Vec<String> {
    let p = plausibility(d);
    let mut r = Vec::new();
    if p.mean_confidence < MIN_MEAN_CONFIDENCE {
        r.push(format!(
            "the vertebrae are found with a mean confidence of {:.2} (accepted from {MIN_MEAN_CONFIDENCE})",
            p.mean_confidence
        ));
    }
    if p.weakest_confidence < MIN_VERTEBRA_CONFIDENCE {
        r.push(format!(
            "weakest vertebra confidence {:.2} is below {MIN_VERTEBRA_CONFIDENCE}",
            p.weakest_confidence
        ));
    }
    if p.span_fraction_of_height < MIN_SPAN_FRACTION {
        r.push(format!(
            "T1-L5 span is {:.0}% of the image height (a full-spine AP shows at least {:.0}%)",
            100.0 * p.span_fraction_of_height,
            100.0 * MIN_SPAN_FRACTION
        ));
    }
    if p.min_gap_ratio < MIN_GAP_RATIO || p.max_gap_ratio > MAX_GAP_RATIO {
        r.push(format!(
            "vertebra spacing is irregular (neighbour distances {:.2}-{:.2} x their median)",
            p.min_gap_ratio, p.max_gap_ratio
        ));
    }
    if p.max_sideways_ratio > MAX_SIDEWAYS_RATIO {
        r.push(format!(
            "neighbouring vertebrae are displaced sideways by {:.1} x the vertebra spacing",
            p.max_sideways_ratio
        ));
    }
    if p.implausible_vertebrae > MAX_IMPLAUSIBLE_VERTEBRAE {
        r.push(format!(
            "{} vertebrae have implausible corner geometry",
            p.implausible_vertebrae
        ));
    }
    r
}
