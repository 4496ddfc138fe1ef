//! The AASCE 2019 training folder (`images/*.jpg`, `labels/{filenames,landmarks,angles}.csv`) and
//! its fixed train / validation split.

use crate::preprocess::{prepare, Prepared};
use crate::{DetectError, N_POINTS};
use std::path::{Path, PathBuf};

/// Every 5th image by sorted filename (positions 4, 9, 14, … counting from 0) is held out for
/// validation: 96 of 481. Patients contribute several images (A/B/C), and neighbouring names are
/// often the same patient, so the split is not patient-disjoint; see the crate README.
pub fn is_validation(sorted_index: usize) -> bool {
    sorted_index % 5 == 4
}

/// One labelled radiograph.
#[derive(Debug, Clone)]
pub struct Sample {
    pub file_name: String,
    pub path: PathBuf,
    /// Position in the sorted filename list.
    pub sorted_index: usize,
    /// 68 landmarks in original image pixels (x, y).
    pub landmarks_px: [[f64; 2]; N_POINTS],
    /// Proximal-thoracic, main-thoracic, thoraco-lumbar Cobb angles (degrees) from angles.csv.
    pub angles_deg: [f64; 3],
}

fn read_rows(path: &Path) -> Result<Vec<Vec<f64>>, DetectError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| DetectError::Dataset(format!("{}: {e}", path.display())))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split(',')
                .map(|v| {
                    v.trim().parse::<f64>().map_err(|_| {
                        DetectError::Dataset(format!("{}: not a number: {v}", path.display()))
                    })
                })
                .collect()
        })
        .collect()
}

/// Reads the label tables. Landmarks are stored normalised; the image sizes are needed to turn them
/// into pixels, so every image header is read here (decoding happens later).
pub fn load_samples(root: &Path) -> Result<Vec<Sample>, DetectError> {
    let labels = root.join("labels");
    let names: Vec<String> = std::fs::read_to_string(labels.join("filenames.csv"))
        .map_err(|e| DetectError::Dataset(format!("filenames.csv: {e}")))?
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let lm = read_rows(&labels.join("landmarks.csv"))?;
    let ang = read_rows(&labels.join("angles.csv"))?;
    if lm.len() != names.len() || ang.len() != names.len() {
        return Err(DetectError::Dataset(format!(
            "{} file names but {} landmark rows and {} angle rows",
            names.len(),
            lm.len(),
            ang.len()
        )));
    }
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| names[a].cmp(&names[b]));
    let mut out = Vec::with_capacity(names.len());
    for (sorted_index, &i) in order.iter().enumerate() {
        if lm[i].len() != 2 * N_POINTS || ang[i].len() != 3 {
            return Err(DetectError::Dataset(format!(
                "row {} of the label tables is malformed",
                i + 1
            )));
        }
        let path = root.join("images").join(&names[i]);
        let (w, h) = image_size(&path)?;
        let mut landmarks_px = [[0f64; 2]; N_POINTS];
        for (k, p) in landmarks_px.iter_mut().enumerate() {
            *p = [lm[i][k] * w as f64, lm[i][N_POINTS + k] * h as f64];
        }
        out.push(Sample {
            file_name: names[i].clone(),
            path,
            sorted_index,
            landmarks_px,
            angles_deg: [ang[i][0], ang[i][1], ang[i][2]],
        });
    }
    Ok(out)
}

fn image_size(path: &Path) -> Result<(usize, usize), DetectError> {
    let (w, h) = image::image_dimensions(path)
        .map_err(|e| DetectError::Dataset(format!("{}: {e}", path.display())))?;
    Ok((w as usize, h as usize))
}

/// Decodes a radiograph file to greyscale f32 (0–255 for 8-bit) with its width and height.
pub fn read_grey(path: &Path) -> Result<(Vec<f32>, usize, usize), DetectError> {
    let img =
        image::open(path).map_err(|e| DetectError::Dataset(format!("{}: {e}", path.display())))?;
    let g = img.into_luma8();
    let (w, h) = (g.width() as usize, g.height() as usize);
    Ok((g.into_raw().into_iter().map(f32::from).collect(), w, h))
}

/// A sample decoded and put on the network grid, landmarks on the grid too.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub sample: Sample,
    pub prepared: Prepared,
    pub landmarks_in: [[f32; 2]; N_POINTS],
}

/// Whether the annotation is usable for training: vertebra centres strictly top-to-bottom and each
/// vertebra's top corners above its bottom corners. A few AASCE annotations are known to be wrong.
pub fn annotation_is_consistent(pts: &[[f64; 2]; N_POINTS]) -> bool {
    let cy: Vec<f64> = (0..N_POINTS / 4)
        .map(|v| (0..4).map(|k| pts[4 * v + k][1]).sum::<f64>() / 4.0)
        .collect();
    let monotone = cy.windows(2).all(|w| w[1] > w[0]);
    let upright = (0..N_POINTS / 4).all(|v| {
        pts[4 * v + 2][1] > pts[4 * v][1]
            && pts[4 * v + 3][1] > pts[4 * v + 1][1]
            && pts[4 * v + 1][0] > pts[4 * v][0]
            && pts[4 * v + 3][0] > pts[4 * v + 2][0]
    });
    monotone && upright
}

/// Decodes and prepares a sample.
pub fn load(sample: &Sample) -> Result<Loaded, DetectError> {
    let (px, w, h) = read_grey(&sample.path)?;
    let prepared = prepare(&px, w, h, false);
    let mut landmarks_in = [[0f32; 2]; N_POINTS];
    for (d, s) in landmarks_in.iter_mut().zip(sample.landmarks_px.iter()) {
        let q = prepared.to_input(*s);
        *d = [q[0] as f32, q[1] as f32];
    }
    Ok(Loaded {
        sample: sample.clone(),
        prepared,
        landmarks_in,
    })
}
