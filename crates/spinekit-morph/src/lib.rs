//! 3D image operations shared by the spinekit engines, exact on anisotropic grids and parallel (rayon).
//!
//! Masks are `Volume<u8>` with 0 = background and anything else = foreground. Distances are in millimetres
//! from the volume's voxel spacing, so a "ball of 3 mm" means the same tissue on a 0.6×0.6×1.6 mm grid as on
//! a 3 mm one. Direction cosines do not matter for these operations (they only rotate the grid).

mod components;
mod edt;
mod filter;
mod holes;
mod measure;
mod morph;

pub use components::{label_components, largest_component, Components, Connectivity};
pub use edt::{
    distance_to_background_mm, distance_to_foreground_mm, edt_squared_mm, edt_squared_sites_mm,
    Dist,
};
pub use filter::{gaussian_mm, threshold};
pub use holes::{fill_holes_2d, fill_holes_3d, fill_holes_3d_cut_ends};
pub use measure::{dice, dice_labels, region_props, RegionProps};
pub use morph::{close_mm, dilate_mm, erode_mm, open_mm};
