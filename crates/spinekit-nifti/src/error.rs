use spinekit_image::ImageError;
use thiserror::Error;

/// Why a NIfTI file could not be read or written. Messages are one line and never contain patient data
/// (the header's free-text `descrip` is never quoted).
#[derive(Debug, Error)]
pub enum NiftiError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read NIfTI data: {0}")]
    Read(#[source] std::io::Error),
    #[error("not a NIfTI file: {0}")]
    NotNifti(String),
    #[error("NIfTI file is truncated: {0}")]
    Truncated(String),
    #[error("compressed NIfTI file is corrupt: {0}")]
    CorruptGzip(String),
    #[error("invalid NIfTI header: {0}")]
    BadHeader(String),
    #[error("unsupported NIfTI data type {code} ({name}); spinekit reads integer and real scalar voxels")]
    UnsupportedDatatype { code: i16, name: &'static str },
    #[error("unsupported NIfTI file: {0}")]
    Unsupported(String),
    #[error("NIfTI orientation cannot be used: {0}")]
    BadOrientation(String),
    #[error("voxel values do not fit: {0}")]
    ValueRange(String),
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("cannot write NIfTI: {0}")]
    Write(String),
}

impl NiftiError {
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.display().to_string(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, NiftiError>;
