//! NIfTI-1 / NIfTI-2 reading and writing with exact patient geometry.
//!
//! * Reads `.nii` and `.nii.gz` (gzip detected from the magic bytes), NIfTI-1 or NIfTI-2 (from `sizeof_hdr`),
//!   little- or big-endian, into a [`spinekit_image::AnyVolume`] whose [`Geometry`](spinekit_image::Geometry) is
//!   in DICOM LPS millimetres (NIfTI world is RAS: x and y are negated). Orientation comes from the sform
//!   (sform_code above 0, finite, orthogonal axes), else the qform (qform_code above 0), else pixdim alone (with
//!   a warning). Sheared
//!   affines are refused. Spatial units (m, mm, µm; unknown = mm) become mm.
//! * Voxel types: uint8 → U8, int8/int16 → I16, uint16 → U16, int32 → I32 (CT HU stays I32; convert with
//!   `to_hu_i16`), float32 → F32, float64 → F32 (values beyond the float32 range are an error), uint32 / int64
//!   / uint64 → I32 when every value fits, else F32 with a warning.
//! * `scl_slope`/`scl_inter` (when the slope is finite, non-zero and not the identity 1/0) are applied. Integer
//!   data with an integral slope and intercept stays integer: I16 when every scaled value fits int16, else I32
//!   when it fits int32; everything else becomes F32.
//! * 4D/5D images: the first 3D volume is read and a warning says how many there were.
//! * Header extensions are all returned; a CaretExtension XML `LabelTable` (any code; TotalSegmentator uses 0,
//!   Workbench 30) becomes a [`LabelTable`].
//! * Bad input gives a one-line [`NiftiError`], never a panic; sizes promised by the header are checked
//!   against the file before allocating, and compressed data is decoded in chunks so a lying header cannot
//!   force a large allocation. Single-volume `.nii.gz` files are decoded to the end so the gzip CRC is checked.
//! * Writing ([`write_nifti`], [`nifti_bytes`]): NIfTI-1 by default (NIfTI-2 on request), sform and qform from
//!   the geometry (qfac = −1 for left-handed grids), xyzt_units = mm, the label table as the first extension
//!   (TotalSegmentator reads `extensions[0]`), gzip level [`DEFAULT_COMPRESSION_LEVEL`] for `.gz` names. Files
//!   are written to `<name>.tmp-…` in the same folder, synced and renamed, so no half-written file appears.
//!
//! # Exact geometry record
//! NIfTI-1 stores the affine as float32. Measured over 200 random oblique 512×512×400 grids within ±2000 mm
//! (`tests/round_trip.rs`), the float32 sform alone moves corner voxels by up to ~1.0e-4 mm — right at the
//! 1e-4 mm that spinekit promises for DICOM → NIfTI → back. So NIfTI-1 files also get a small plain-text
//! extension with code [`EXACT_GEOMETRY_ECODE`] (6, `NIFTI_ECODE_COMMENT`, which other tools show or ignore):
//! ```text
//! spinekit-exact-geometry 1
//! dims 122 101 112
//! origin_mm 177.95632934570313 -11.319000244140625 94.3017578125
//! spacing_mm 3.0 3.0 3.0
//! direction -1.0 0.0 0.0 0.0 -1.0 0.0 0.0 0.0 1.0
//! ```
//! (LPS mm, voxel centres; `direction` lists the unit vectors of voxel axes i, j, k; numbers in shortest
//! round-trip decimal form). The reader uses it only when its grid size matches and every affine entry agrees
//! with the header affine to 1e-6 of its scale (float32 keeps ~6e-8), so a file that another tool resampled,
//! cropped or re-oriented while copying extensions falls back to the header, with a warning. NIfTI-2 files
//! carry a float64 affine and need no record.

mod error;
mod exact;
mod header;
mod labels;
mod read;
mod write;
mod xform;

pub use error::NiftiError;
pub use exact::EXACT_GEOMETRY_ECODE;
pub use labels::{LabelEntry, LabelTable};
pub use read::{read_nifti, read_nifti_bytes, NiftiExtension, NiftiImage, NiftiInfo};
pub use write::{nifti_bytes, write_nifti, VolumeRef, WriteOptions, DEFAULT_COMPRESSION_LEVEL};

use serde::Serialize;

/// NIfTI format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum NiftiVersion {
    /// 348-byte header, float32 affine, dims up to 32767.
    One,
    /// 540-byte header, float64 affine, 64-bit dims.
    Two,
}

/// Where a read volume's geometry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum GeometrySource {
    /// spinekit's exact float64 record, confirmed against the header affine.
    ExactRecord,
    /// The sform (preferred when its code is > 0 and it is usable).
    Sform,
    /// The quaternion qform.
    Qform,
    /// Neither transform was set: pixdim spacing, RAS axes, origin 0 (a warning says so).
    PixdimOnly,
}
