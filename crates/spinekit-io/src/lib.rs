//! One entry point for every format: detect what a path holds, open it as a 3D volume or a 2D image, and summarise
//! it for `spinekit info`. The format crates do the work; this crate only dispatches and unifies their errors.

mod detect;
mod info;
mod open;

pub use detect::{detect, Format};
pub use info::{inspect, Info, LabelInfo, PlanarInfo, SeriesInfo, VolumeInfo};
pub use open::{open_image2d, open_volume, OpenOptions, Opened, Opened2D};
pub use spinekit_dicom::SeriesSelector;
pub use spinekit_nifti::LabelTable;

use thiserror::Error;

/// Any failure to read an input, as one line a clinician can act on.
#[derive(Debug, Error)]
pub enum IoError {
    #[error("{0}")]
    Dicom(#[from] spinekit_dicom::DicomError),
    #[error("{0}")]
    Nifti(#[from] spinekit_nifti::NiftiError),
    #[error("{0}")]
    MetaImage(#[from] spinekit_metaimage::MetaImageError),
    #[error("{0}")]
    Picture(#[from] spinekit_picture::PictureError),
    #[error("{0}")]
    Image(#[from] spinekit_image::ImageError),
    #[error("{path}: no such file or folder")]
    NotFound { path: String },
    #[error("{path}: cannot read: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{path}: not a recognised medical image (expected DICOM, a zip of DICOM, NIfTI .nii/.nii.gz, MetaImage .mha/.mhd, PNG or JPEG)")]
    UnknownFormat { path: String },
    #[error(
        "{path}: is a 2D {what}; this needs a 3D volume (CT or MR series, NIfTI or MetaImage)"
    )]
    NotAVolume { path: String, what: String },
    #[error("the series is {modality}, not CT: this needs Hounsfield units")]
    NotCt { modality: String },
    #[error("{path}: is a 3D volume; this needs a single 2D image (radiograph)")]
    NotAnImage2D { path: String },
}
