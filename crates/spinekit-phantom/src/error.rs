use thiserror::Error;

/// Why a phantom could not be generated. Messages are one line and name the setting to change.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum PhantomError {
    /// A configuration value is out of range or inconsistent.
    #[error("invalid phantom setting: {0}")]
    Config(String),
    /// The requested levels do not fit in the field of view.
    #[error("field of view too small: {0}")]
    FieldOfView(String),
    /// The image layer refused the grid (should not happen after validation).
    #[error("image error: {0}")]
    Image(#[from] spinekit_image::ImageError),
}

pub(crate) fn cfg_err<T>(msg: impl Into<String>) -> Result<T, PhantomError> {
    Err(PhantomError::Config(msg.into()))
}
