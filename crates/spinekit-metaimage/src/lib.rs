//! MetaImage (`.mha`, `.mhd` + `.raw`/`.zraw`) reading and writing with exact ITK geometry.
//!
//! MetaImage world coordinates are ITK's, i.e. LPS millimetres, the same frame as [`spinekit_image::Geometry`]:
//! no axis is flipped on reading or writing. `Offset` (synonyms `Position`, `Origin`) is the centre of voxel
//! (0,0,0); `ElementSpacing` (fallback `ElementSize`) the grid step.
//!
//! **How ITK serialises the direction matrix.** `TransformMatrix` (synonyms `Rotation`, `Orientation`) is
//! written *column by column* of ITK's direction matrix: the first three numbers are the world direction of
//! voxel axis 0, the next three of axis 1, the last three of axis 2 — i.e. the transpose of the row-major list
//! `GetDirection()` returns. Checked with SimpleITK 2.5.7 (ITK 5.4): an image with
//! `SetDirection((0.886, -0.367, 0.282, 0.402, 0.913, -0.076, -0.230, 0.181, 0.956))` (row-major, not symmetric)
//! is written as `TransformMatrix = 0.886 0.402 -0.230 -0.367 0.913 0.181 0.282 -0.076 0.956`; and
//! `SetDirection((0,0,1, 1,0,0, 0,1,0))` as `TransformMatrix = 0 1 0 0 0 1 1 0 0`. So triplet *a* maps directly
//! to `Geometry::direction[a]`. The fixture `tests/fixtures/oblique_short.mha` and its test pin this down.
//!
//! `AnatomicalOrientation` is informational (ITK ignores it when reading, and so do we); ITK writes the letters
//! each axis comes *from* (`RAI` for an LPS grid), and so does [`write_mha`].
//!
//! Not supported (clear error): ASCII data, multi-channel voxels, data split over several files, `NDims` other
//! than 2 or 3. A 2D image is read as a one-slice volume (third axis +z, spacing 1 mm).

mod error;
mod header;
mod read;
mod write;

pub use error::MetaImageError;
pub use header::{DataLocation, ElementType, MetaHeader};
pub use read::{read_metaimage, read_metaimage_header};
pub use write::{write_mha, write_mha_any, Compression};
