use thiserror::Error;

/// Why a validation could not be computed, as one line a clinician or site physicist can act on.
#[derive(Debug, Error)]
pub enum ValidateError {
    #[error("{0}")]
    Io(#[from] spinekit_io::IoError),
    #[error("{0}")]
    Image(#[from] spinekit_image::ImageError),
    #[error("{0}")]
    Dicom(#[from] spinekit_dicom::DicomError),
    #[error("prediction and reference are on different voxel grids ({0}); resample the prediction onto the reference grid first or allow nearest-neighbour resampling")]
    GridMismatch(String),
    #[error("{what}: the two series have different lengths ({a} vs {b})")]
    LengthMismatch {
        what: &'static str,
        a: usize,
        b: usize,
    },
    #[error("{what}: needs at least {need} values, got {got}")]
    TooFew {
        what: &'static str,
        need: usize,
        got: usize,
    },
    #[error("{what}: value {value} is not a finite number")]
    NotFinite { what: &'static str, value: f64 },
    #[error("{what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("{0}")]
    Other(String),
}

pub type Result<T> = std::result::Result<T, ValidateError>;

/// Fails unless both slices have the same length.
pub(crate) fn same_len(what: &'static str, a: usize, b: usize) -> Result<()> {
    if a != b {
        return Err(ValidateError::LengthMismatch { what, a, b });
    }
    Ok(())
}

/// Fails on NaN or infinite inputs (a statistic of them would silently be NaN).
pub(crate) fn finite(what: &'static str, xs: &[f64]) -> Result<()> {
    match xs.iter().find(|v| !v.is_finite()) {
        Some(&value) => Err(ValidateError::NotFinite { what, value }),
        None => Ok(()),
    }
}

pub(crate) fn at_least(what: &'static str, got: usize, need: usize) -> Result<()> {
    if got < need {
        return Err(ValidateError::TooFew { what, need, got });
    }
    Ok(())
}
