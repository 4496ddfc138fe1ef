//! CT spine engine: from a CT in Hounsfield units to bone, vertebrae with VerSe level names, vertebral bodies,
//! intervertebral discs, the spinal canal and a [`SpineReport`].
//!
//! The engine is pure (no file I/O, no printing); progress goes to an optional callback. It is classical image
//! analysis, CPU only, no learned weights:
//! 1. refuse input that is not a CT ([`validate_ct`]);
//! 2. bone = connected regions ≥ 180 HU that contain dense cortex and lie inside the body (contrast-filled
//!    vessels and organs have no cortex; the table lies outside the body), on the input grid; a large
//!    non-cortical part joined to bone by a thin contact (an enhancing aorta against the bodies) is split off;
//! 3. on an internal LPS grid of about 1.5 mm: locate the column, trace the vertebral bodies slice by slice,
//!    build the centreline through the body centres;
//! 4. sample the filled bone in planes perpendicular to the centreline: the intervertebral discs are the gaps;
//! 5. grow each vertebra from its body core through connected bone (posterior elements go to the body whose
//!    pedicles they reach first); then fill enclosed marrow (body, pedicles, processes) and each body section's
//!    convex hull where the body also closes it above and below (an endplate's concavity or a biconcave
//!    fracture's cup stays open to the disc), and peel the faint partial-volume voxels at the surface and between
//!    two vertebrae (bridged discs, facet joints); the canal is the soft-tissue space the vertebral foramen
//!    encloses, outlined per slice by rays from its centre to the bony wall (gaps in the arch bridged from the
//!    neighbouring slices);
//! 6. detect the sacrum, and the ribs of each vertebra from the bone mask alone (bone beyond the column cut at the
//!    rib necks; a long, thin piece leaving a vertebra is its rib, whatever the voxel size); then name levels from
//!    every anchor in view (sacrum, last and first rib, lumbar-type count, rib lengths, level spacing), check them
//!    against each other and say how sure the names are, naming the alternatives (`numbering` module).

mod engine;
mod error;
mod numbering;
mod report;
mod stats;
mod validate;

pub use engine::{segment, Progress, SegmentOptions, Segmentation, StageTime};
pub use error::CtError;
pub use report::{DiscReport, Findings, Numbering, NumberingStatus, SpineReport, VertebraReport};
pub use validate::{validate_ct, MIN_EXTENT_MM};
