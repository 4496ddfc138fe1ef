use spinekit_image::ImageError;
use std::path::PathBuf;
use thiserror::Error;

/// Why a picture could not be read, rendered or written. Every message is one line and names no patient data.
#[derive(Debug, Error)]
pub enum PictureError {
    #[error("cannot access {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("not a PNG or JPEG image")]
    NotAnImage,
    #[error("picture cannot be decoded (corrupt or truncated): {0}")]
    Decode(String),
    #[error("picture has no pixels ({width}×{height})")]
    Empty { width: u32, height: u32 },
    #[error("picture of {width}×{height} pixels exceeds the limit of {limit} pixels per side")]
    TooLarge { width: u32, height: u32, limit: u32 },
    #[error("PNG encoding failed: {0}")]
    Encode(String),
    #[error("invalid display window: centre {center}, width {width} (width must be positive)")]
    BadWindow { center: f64, width: f64 },
    #[error("requested slice {requested} lies outside the volume ({available})")]
    SliceOutside {
        requested: String,
        available: String,
    },
    #[error("invalid picture option: {0}")]
    BadOption(String),
    #[error(transparent)]
    Image(#[from] ImageError),
}

impl PictureError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
