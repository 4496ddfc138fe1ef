//! Helpers shared by the CT engine's real-data tests.

use spinekit_anatomy::Level;
use spinekit_image::Volume;
use spinekit_io::{open_volume, OpenOptions};

/// A label map read as u8.
pub fn load_u8(path: &std::path::Path) -> Volume<u8> {
    open_volume(path, &OpenOptions::default())
        .unwrap()
        .volume
        .to_type::<u8>()
}

/// TotalSegmentator's vertebra labels (26 S1, 27 L5 … 31 L1, 32 T12, 33 T11) as VerSe labels.
pub fn totalseg_to_verse(v: u8) -> u8 {
    match v {
        26 => Level::Sacrum.verse_label(),
        27..=31 => 24 - (v - 27),
        32 => Level::T12.verse_label(),
        33 => Level::T11.verse_label(),
        _ => 0,
    }
}
