use spinekit_image::ImageError;
use std::path::PathBuf;
use thiserror::Error;

/// Why a MetaImage could not be read or written. Every message is one line and names no patient data.
#[derive(Debug, Error)]
pub enum MetaImageError {
    #[error("cannot access {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("not a MetaImage file: {0}")]
    NotMetaImage(String),
    #[error("MetaImage header lacks the required key {0}")]
    MissingKey(&'static str),
    #[error("MetaImage key {key} has an invalid value \"{value}\"")]
    BadValue { key: &'static str, value: String },
    #[error("unsupported MetaImage: {0}")]
    Unsupported(String),
    #[error("the voxel data file {0} named by ElementDataFile does not exist")]
    DataFileMissing(PathBuf),
    #[error("voxel data is truncated: {got} bytes present but {expected} needed")]
    Truncated { expected: u64, got: u64 },
    #[error("compressed voxel data is corrupt: {0}")]
    Corrupt(String),
    #[error("MetaImage too large: {dims:?} voxels exceed the limit of {limit}")]
    TooLarge { dims: Vec<u64>, limit: u128 },
    #[error("voxel values {min}..{max} do not fit {target}")]
    ValueRange {
        min: f64,
        max: f64,
        target: &'static str,
    },
    #[error("invalid MetaImage geometry: {0}")]
    Geometry(#[from] ImageError),
}

impl MetaImageError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// A bad value, shortened so that a binary blob never floods a log line.
    pub(crate) fn bad(key: &'static str, value: &str) -> Self {
        let mut v: String = value.chars().take(60).collect();
        if value.chars().count() > 60 {
            v.push('…');
        }
        Self::BadValue { key, value: v }
    }
}
