//! 2D pictures: radiographs and photos in (PNG, JPEG → [`spinekit_image::Image2D`]), and pictures of volumes out
//! (windowed slice PNGs and label overlays) with true anatomical proportions and radiological orientation.
//!
//! Orientation of slice pictures (whatever order the voxels are stored in, see [`Plane`]):
//! axial — patient's right on the left, anterior at the top; coronal — right on the left, superior at the top;
//! sagittal — anterior on the left, superior at the top. Pixels are square: a slice with 0.5 × 3 mm voxels is
//! resampled to 0.5 mm pixels, so a sphere looks round.
//!
//! All writes are atomic (temporary file in the destination folder, then rename).

mod error;
mod palette;
mod read;
mod resample2d;
mod slice;
mod window;
mod write;

pub use error::PictureError;
pub use palette::label_colour;
pub use read::{decode_picture, read_picture, MAX_PICTURE_SIDE};
pub use slice::{
    render_overlay, render_slice, write_overlay_png, write_slice_png, LabelVoxel, Plane, SliceAt,
    SliceInfo, SliceOptions,
};
pub use window::Window;
pub use write::{render_image2d, write_image2d_png};
