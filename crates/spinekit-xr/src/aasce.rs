//! Loaders for the AASCE 2019 / SpineWeb Dataset 16 folder layout: `images/*.jpg` and `labels/landmarks.csv`
//! (136 values per row: 68 x then 68 y, normalised by image width and height), `labels/angles.csv` (three angles
//! per row) and `labels/filenames.csv` (one image name per row, same order).
//!
//! Column order of `angles.csv`: the dataset's notes call the columns proximal-thoracic, main-thoracic and
//! thoraco-lumbar, but testing against the landmarks shows they are **(main, upper, lower)** as computed by
//! [`crate::ap::aasce_angles`] (SMAPE 0.39 % in that order versus ≥ 18 % for any other order over the 481
//! training images): column 1 is always the largest angle of the radiograph, wherever it lies.

use crate::ap::ApLandmarks;
use crate::XrError;
use std::path::{Path, PathBuf};

/// One AASCE-layout dataset: image names, landmark rows and (if present) reference angles.
#[derive(Debug, Clone)]
pub struct AasceDataset {
    pub root: PathBuf,
    pub filenames: Vec<String>,
    /// Normalised landmark rows (136 values each).
    pub landmarks: Vec<Vec<f64>>,
    /// (main, upper, lower) reference angles in degrees, when `labels/angles.csv` exists.
    pub angles_deg: Option<Vec<[f64; 3]>>,
}

impl AasceDataset {
    /// Reads `root/labels/{filenames,landmarks,angles}.csv`; images are read later, one at a time.
    pub fn open(root: &Path) -> Result<Self, XrError> {
        let labels = root.join("labels");
        let filenames: Vec<String> = read_text(&labels.join("filenames.csv"))?
            .lines()
            .map(|l| l.trim().trim_matches('"').to_string())
            .filter(|l| !l.is_empty())
            .collect();
        let landmarks = read_csv_numbers(&labels.join("landmarks.csv"))?;
        if landmarks.len() != filenames.len() {
            return Err(XrError::BadLandmarks(format!(
                "{} has {} rows but filenames.csv names {} images",
                labels.join("landmarks.csv").display(),
                landmarks.len(),
                filenames.len()
            )));
        }
        let angles_path = labels.join("angles.csv");
        let angles_deg = if angles_path.exists() {
            let rows = read_csv_numbers(&angles_path)?;
            if rows.len() != filenames.len() {
                return Err(XrError::BadLandmarks(format!(
                    "angles.csv has {} rows but filenames.csv names {} images",
                    rows.len(),
                    filenames.len()
                )));
            }
            let mut out = Vec::with_capacity(rows.len());
            for (r, row) in rows.iter().enumerate() {
                let [a, b, c] = row[..] else {
                    return Err(XrError::BadLandmarks(format!(
                        "angles.csv row {} has {} values, expected 3",
                        r + 1,
                        row.len()
                    )));
                };
                out.push([a, b, c]);
            }
            Some(out)
        } else {
            None
        };
        Ok(Self {
            root: root.to_path_buf(),
            filenames,
            landmarks,
            angles_deg,
        })
    }

    pub fn len(&self) -> usize {
        self.filenames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.filenames.is_empty()
    }

    pub fn image_path(&self, i: usize) -> PathBuf {
        self.root.join("images").join(&self.filenames[i])
    }

    /// Landmarks of image `i` in pixels (reads only the image header for its size) and the image (width, height).
    pub fn landmarks_px(&self, i: usize) -> Result<(ApLandmarks, [u32; 2]), XrError> {
        let size = image_size(&self.image_path(i))?;
        let l = ApLandmarks::from_aasce_row(&self.landmarks[i], size[0] as f64, size[1] as f64)
            .map_err(|e| XrError::BadLandmarks(format!("{}: {e}", self.filenames[i])))?;
        Ok((l, size))
    }
}

/// Width and height of a PNG/JPEG from its header.
pub fn image_size(path: &Path) -> Result<[u32; 2], XrError> {
    let r = image::ImageReader::open(path)
        .map_err(|e| XrError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| XrError::io(path, e))?;
    let (w, h) = r
        .into_dimensions()
        .map_err(|e| XrError::Image(format!("{}: {e}", path.display())))?;
    Ok([w, h])
}

fn read_text(path: &Path) -> Result<String, XrError> {
    std::fs::read_to_string(path).map_err(|e| XrError::io(path, e))
}

/// Rows of comma-separated numbers; a non-numeric or non-finite value is an error naming its row.
pub fn read_csv_numbers(path: &Path) -> Result<Vec<Vec<f64>>, XrError> {
    parse_csv_numbers(&read_text(path)?)
        .map_err(|m| XrError::BadLandmarks(format!("{}: {m}", path.display())))
}

pub(crate) fn parse_csv_numbers(text: &str) -> Result<Vec<Vec<f64>>, String> {
    let mut rows = Vec::new();
    for (r, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut row = Vec::new();
        for cell in line.split(',') {
            let v: f64 = cell
                .trim()
                .parse()
                .map_err(|_| format!("row {} has a value that is not a number", r + 1))?;
            if !v.is_finite() {
                return Err(format!("row {} has a value that is not finite", r + 1));
            }
            row.push(v);
        }
        rows.push(row);
    }
    Ok(rows)
}
