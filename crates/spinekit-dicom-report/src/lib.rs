//! DICOM outputs of spinekit (issue #5), for a CT read from DICOM:
//! - [`write_seg`]: a DICOM Segmentation (BINARY, one segment per label present, only frames that contain the
//!   segment) on the source grid, referencing every source instance;
//! - [`write_sr`]: a Comprehensive SR following TID 1500 "Measurement Report", one Measurement Group per
//!   vertebra (TID 1411, referencing its SEG segment) or per region without a segment (TID 1501).
//!
//! Patient and General Study attributes are copied from the source ([`SourceSeries`], read by
//! [`spinekit_dicom::source_series`]); series and instance UIDs are new, under the UUID root `2.25` ([`new_uid`]).
//! Files are written atomically. Errors never contain patient-identifying values.
//!
//! Validated with dciodvfy (dicom3tools) and read back with highdicom: see `check/check.sh`.

mod codes;
mod common;
mod ds;
mod seg;
mod sr;

pub use codes::*;
pub use common::complete_source;
pub use ds::{ds, new_uid};
pub use seg::{unnamed_label, write_seg, LabelLayer, SegOutput, SegmentSpec, SEGMENTATION_STORAGE};
pub use spinekit_dicom::{source_series, SourceInstance, SourceSeries};
pub use sr::{write_sr, Measurement, MeasurementGroup, SrOutput, COMPREHENSIVE_SR_STORAGE};

/// Why a DICOM output could not be written (one line, no patient data).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write the DICOM output: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot encode the DICOM output: {0}")]
    Encode(String),
    #[error("the label volume is not on the grid of the source series: {0}")]
    NotOnSourceGrid(String),
    #[error("nothing to write: {0}")]
    Empty(String),
    #[error("invalid input for the DICOM output: {0}")]
    Invalid(String),
}

/// Who and what wrote the outputs (Equipment modules, device observer) and series numbering.
#[derive(Debug, Clone, PartialEq)]
pub struct WriterInfo {
    /// Software Versions (0018,1020), e.g. the spinekit version.
    pub software_version: String,
    /// Device Serial Number (0018,1000) (type 1 in the Enhanced General Equipment module); the installation or
    /// "0" when there is none.
    pub device_serial_number: String,
    /// Series Number (0020,0011) of the new SEG and SR series.
    pub seg_series_number: i32,
    pub sr_series_number: i32,
    /// Series Description (0008,103E) of each new series.
    pub seg_series_description: String,
    pub sr_series_description: String,
}

impl Default for WriterInfo {
    fn default() -> Self {
        Self {
            software_version: env!("CARGO_PKG_VERSION").to_string(),
            device_serial_number: "0".into(),
            seg_series_number: 901,
            sr_series_number: 902,
            seg_series_description: "spinekit segmentation".into(),
            sr_series_description: "spinekit measurements".into(),
        }
    }
}

/// Manufacturer (0008,0070) and Manufacturer's Model Name (0008,1090) of every output.
pub const MANUFACTURER: &str = "spinekit";
