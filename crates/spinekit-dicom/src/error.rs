use spinekit_image::ImageError;
use thiserror::Error;

/// Everything that can go wrong reading DICOM. Each message is one line a clinician can act on; no message
/// contains patient-identifying header values (names, IDs, dates), only file names, UIDs and series numbers.
#[derive(Debug, Error)]
pub enum DicomError {
    #[error("{path}: no such file or folder")]
    NotFound { path: String },
    #[error("{path}: cannot read ({detail})")]
    Io { path: String, detail: String },
    #[error("{path}: not a DICOM file (no 'DICM' marker at byte 128)")]
    NotDicom { path: String },
    #[error("{path}: this is a DICOMDIR index, not an image (scan its folder instead)")]
    DicomDirOnly { path: String },
    #[error("{path}: DICOM file is truncated or damaged ({detail})")]
    Damaged { path: String, detail: String },
    #[error("{path}: not a readable zip archive ({detail})")]
    BadZip { path: String, detail: String },
    #[error("{path}: the zip archive contains no DICOM files ({other_files} other files)")]
    NoDicomInZip { path: String, other_files: usize },
    #[error("{path}: the folder contains no DICOM files ({other_files} other files)")]
    NoDicomInFolder { path: String, other_files: usize },
    #[error("no series forms a 3D volume (rule: {rule}); series found: {listing}")]
    NoVolumeSeries { rule: &'static str, listing: String },
    #[error("no series matches {wanted}; series found: {listing}")]
    SeriesNotFound { wanted: String, listing: String },
    #[error("{wanted} matches {count} series; pick one by number: {listing}")]
    AmbiguousSeries {
        wanted: String,
        count: usize,
        listing: String,
    },
    #[error("transfer syntax {uid} ({name}) is not supported")]
    UnsupportedTransferSyntax { uid: String, name: String },
    #[error("JPEG-LS not supported in this build (rebuild spinekit-dicom with the `jpeg-ls` feature; it needs cmake)")]
    JpegLsNotBuilt,
    #[error("series {series}: a single image cannot form a 3D volume")]
    SingleImage { series: usize },
    #[error("series {series}: {count} slices share the position {position_mm:.3} mm along the slice normal (several acquisitions, echoes or phases mixed in one series?)")]
    DuplicatePositions {
        series: usize,
        count: usize,
        position_mm: f64,
    },
    #[error("series {series} mixes images that cannot form one volume: {detail}")]
    Inconsistent { series: usize, detail: String },
    #[error("series {series}: multi-frame images (NumberOfFrames {frames}, e.g. enhanced CT/MR) are not supported yet")]
    MultiFrame { series: usize, frames: u32 },
    #[error(
        "series {series} has {count} images; a single 2D image was expected (use load_2d_stack)"
    )]
    NotSingleImage { series: usize, count: usize },
    #[error("{path}: unsupported image: {detail}")]
    UnsupportedImage { path: String, detail: String },
    #[error("{path}: pixel data cannot be decoded ({detail})")]
    Decode { path: String, detail: String },
    #[error("invalid volume geometry: {0}")]
    Geometry(#[from] ImageError),
}

/// Flattens a (possibly multi-line, nested) error into one line, following `source()` links.
pub(crate) fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts
        .join(": ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
