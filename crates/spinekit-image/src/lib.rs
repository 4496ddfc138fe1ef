//! The image layer every spinekit engine shares.
//!
//! A [`Volume`] owns its voxels *and* its [`Geometry`]: origin, spacing and direction cosines in DICOM patient
//! coordinates (LPS, millimetres). Every operation that makes a new volume derives the new geometry from the old
//! one, so world positions survive reorientation, resampling and cropping exactly.

mod error;
mod geometry;
mod image2d;
mod orient;
mod resample;
mod volume;

pub use error::ImageError;
pub use geometry::{Geometry, OrientationCode};
pub use image2d::{Image2D, PixelSpacingSource};
pub use orient::reorient_to;
pub use resample::{resample_to_grid, resample_to_spacing, Border, Interpolation};
pub use volume::{AnyVolume, IntensityRange, Volume, Voxel, VoxelType};
