use thiserror::Error;

/// Why the engine refused or failed, as one line a clinician can act on.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CtError {
    #[error("the volume is a single slice or too thin a slab ({extent_mm:.0} mm along its thinnest axis; need ≥ {min_mm:.0} mm): a scout or localizer cannot be segmented")]
    TooThin { extent_mm: f64, min_mm: f64 },
    #[error("the volume is empty or constant: no image content")]
    Empty,
    #[error("the values do not look like CT Hounsfield units ({0}); was an MR or a processed image passed as CT?")]
    NotCt(String),
    #[error("no spine found in the field of view ({0})")]
    NoSpine(String),
    #[error("invalid geometry: {0}")]
    Geometry(String),
}

impl From<spinekit_image::ImageError> for CtError {
    fn from(e: spinekit_image::ImageError) -> Self {
        CtError::Geometry(e.to_string())
    }
}
