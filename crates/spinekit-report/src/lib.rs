//! The analysis report: one serde model, rendered as `report.json` and as a self-contained `report.html`.
//!
//! Pictures are curved reformats that follow the spine's centreline, so a scoliotic or rotated spine still shows
//! every vertebra in one sagittal and one coronal picture; level names are drawn as SVG text over the embedded
//! PNG so they stay sharp and need no font rasteriser.

pub mod dicom;
pub mod findings;
pub mod html;
pub mod model;
pub mod overview;
pub mod reformat;
pub mod render;

pub use dicom::{write_dicom, DicomOutputs};
pub use findings::findings;
pub use model::*;
pub use reformat::{curved_reformat, Reformat, ReformatPlane};
pub use render::{render_html, RenderInputs};
