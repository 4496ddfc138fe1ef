//! Helpers shared by the CT engine's tests (not every test file uses every helper).
#![allow(dead_code)]

use spinekit_anatomy::Level;
use spinekit_image::Volume;
use spinekit_io::{open_volume, OpenOptions};
use spinekit_morph::RegionProps;

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

/// Distance (mm) within which a reported vertebra's centroid must lie from the truth centroid of the same label to
/// count as identified (the VerSe identification rule).
pub const IDENTIFICATION_MM: f64 = 20.0;

pub fn dist_mm(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f64>().sqrt()
}

/// Whether a vertebra reported with VerSe `label` at `centroid_mm` is identified against the truth regions.
pub fn identified(label: u8, centroid_mm: [f64; 3], truth: &[RegionProps]) -> bool {
    truth.iter().any(|t| {
        t.label == label as u32 && dist_mm(t.centroid_mm, centroid_mm) <= IDENTIFICATION_MM
    })
}
