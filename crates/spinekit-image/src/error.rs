use thiserror::Error;

/// Errors from volume construction and geometry operations. Messages are one line, for clinicians.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ImageError {
    #[error("volume has a zero dimension ({0}×{1}×{2})")]
    EmptyVolume(usize, usize, usize),
    #[error("voxel buffer holds {got} values but the dimensions need {expected}")]
    BufferSize { expected: usize, got: usize },
    #[error("invalid geometry: {0}")]
    BadGeometry(String),
    #[error("crop box {0:?}..{1:?} lies outside the volume {2:?}")]
    CropOutside([usize; 3], [usize; 3], [usize; 3]),
    #[error("values {0}..{1} do not fit the voxel type {2}")]
    ValueRange(f64, f64, &'static str),
    #[error("cannot reorient: {0}")]
    Reorient(String),
    #[error("volume too large: {0} voxels exceeds the limit of {1}")]
    TooLarge(u128, u128),
}
