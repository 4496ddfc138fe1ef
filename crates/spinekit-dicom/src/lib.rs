//! spinekit's DICOM reader (built on dicom-rs).
//!
//! 1. [`scan`] a folder (recursively, no DICOMDIR needed, any file names), a `.zip` (members read in memory; a
//!    folder inside it as `archive.zip/inner/folder`) or one file. Only headers are read (up to PixelData
//!    (7FE0,0010)); files without the `DICM` marker at byte 128 are skipped and counted. Instances are grouped by
//!    SeriesInstanceUID (0020,000E) into [`SeriesSummary`]s with a stable 1-based listing number.
//! 2. Choose a series with a [`SeriesSelector`] (`Auto` follows [`AUTO_RULE`]).
//! 3. [`load_volume`] builds a 3D [`spinekit_image::AnyVolume`] with exact LPS geometry (slices ordered by
//!    position along the normal, spacing from positions, gantry tilt and irregular gaps corrected with a warning),
//!    or [`load_2d`] / [`load_2d_stack`] give [`spinekit_image::Image2D`] radiographs and secondary captures.
//!
//! Decoding: native (implicit/explicit VR little endian, explicit big endian, deflated), JPEG baseline/extended/
//! lossless, RLE, JPEG 2000 (pure-Rust openjp2) and, with the default `jpeg-ls` feature, JPEG-LS (CharLS).
//! Errors are one-line [`DicomError`]s without patient-identifying values.
//!
//! ```no_run
//! let scan = spinekit_dicom::scan("study/")?;
//! for s in &scan.series { println!("{s}"); }
//! let ct = spinekit_dicom::load_volume(&scan, &spinekit_dicom::SeriesSelector::Auto)?;
//! for w in &ct.warnings { eprintln!("warning: {w}"); }
//! # Ok::<(), spinekit_dicom::DicomError>(())
//! ```

mod error;
mod header;
mod pixels;
mod planar;
mod provenance;
mod scan;
mod seg;
mod source;
mod volume;

pub use error::DicomError;
pub use planar::{load_2d, load_2d_stack, Loaded2D};
pub use provenance::{source_series, SourceInstance, SourceSeries};
pub use scan::{scan, DicomScan, SeriesSelector, SeriesSummary, AUTO_RULE};
pub use seg::{
    describe_dicom_case, read_segmentation, segmentation_from_object, DicomCaseInfo,
    DicomSegmentation, SegmentInfo, SegmentationKind, SEGMENTATION_SOP_CLASS,
};
pub use volume::{load_volume, LoadedSeries, GAP_TOLERANCE, TILT_TOLERANCE_DEG};

/// True when this build decodes JPEG-LS (the `jpeg-ls` feature, CharLS).
pub const JPEG_LS_SUPPORTED: bool = cfg!(feature = "jpeg-ls");
