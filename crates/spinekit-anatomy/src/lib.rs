//! Spine domain types shared by every spinekit engine.
//!
//! - [`Level`]: vertebral levels C1–C7, T1–T13, L1–L6 and the sacrum, with VerSe'20 label numbers.
//! - [`Enumeration`]: the normal 7C-12T-5L pattern and the common variants (L6, T13, 11 rib pairs,
//!   sacralised L5), which decide which levels exist and what lies next to what.
//! - [`GenantGrade`] and [`FractureShape`]: semiquantitative fracture grading (Genant 1993).
//! - [`Disc`]: an intervertebral disc named by its two levels ("L4-L5").
//! - [`ContrastPhase`]: the CT contrast phase, which shifts bone HU.
//! - [`Tissue`] and [`CanalLabel`]: codes of the tissue and spinal-canal label maps.
//! - [`Measured`]: a value or the reason it could not be measured, with one JSON shape everywhere.

mod contrast;
mod curve;
mod disc;
mod enumeration;
mod genant;
mod level;
mod measured;
mod tissue;

pub use contrast::ContrastPhase;
pub use curve::{CobbCurve, Side};
pub use disc::{Disc, ParseDiscError};
pub use enumeration::{Enumeration, ParseEnumerationError};
pub use genant::{FractureShape, GenantGrade, ParseNameError};
pub use level::{Level, ParseLevelError, Region};
pub use measured::Measured;
pub use tissue::{CanalLabel, Tissue};
