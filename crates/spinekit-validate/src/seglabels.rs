//! Label maps from any case: NIfTI/MetaImage/DICOM image label maps as stored, DICOM SEG objects with their
//! segments renamed to VerSe vertebra numbers when their labels name a level ("L3", "L3 vertebra",
//! "vertebrae_L3"), so a SEG compares with a NIfTI label map in VerSe numbering.

use crate::cases::is_dicom_path;
use crate::error::{Result, ValidateError};
use crate::workflow::read_label_map;
use spinekit_anatomy::Level;
use spinekit_dicom::{read_segmentation, DicomSegmentation, SegmentInfo};
use spinekit_image::Volume;
use std::path::Path;

/// A case's label map and how it was obtained.
#[derive(Debug, Clone)]
pub struct CaseLabels {
    pub labels: Volume<u16>,
    /// True when read from a DICOM SEG (its grid is the SEG's frame stack, often only the labelled slices).
    pub from_seg: bool,
    /// Notes for the report (segment renaming, overlaps).
    pub notes: Vec<String>,
}

/// The vertebral level a segment names, from its label, description or property type (first that names one).
pub fn segment_level(s: &SegmentInfo) -> Option<Level> {
    [&s.label, &s.description, &s.property_type]
        .into_iter()
        .find_map(|t| level_in_text(t))
}

/// A level named by one word of `t` ("L3", "vertebra_L3", "L3 vertebra", "Sacrum"); words are split on anything
/// but letters and digits. Text naming two different levels (e.g. "L3-L4 disc") names none.
pub fn level_in_text(t: &str) -> Option<Level> {
    let lower = t.to_ascii_lowercase();
    if lower.contains("disc") || lower.contains("disk") {
        return None;
    }
    let mut found: Option<Level> = None;
    for w in t.split(|c: char| !c.is_ascii_alphanumeric()) {
        if w.is_empty() {
            continue;
        }
        if let Ok(l) = w.parse::<Level>() {
            match found {
                Some(f) if f != l => return None,
                _ => found = Some(l),
            }
        }
    }
    found
}

/// Segment number → label value: the VerSe number of the level it names, else the segment number itself.
pub fn segment_mapping(seg: &DicomSegmentation) -> (Vec<(u16, u16)>, Vec<String>) {
    let mut notes = Vec::new();
    let map: Vec<(u16, u16)> = seg
        .segments
        .iter()
        .map(|s| {
            (
                s.number,
                segment_level(s)
                    .map(|l| l.verse_label() as u16)
                    .unwrap_or(s.number),
            )
        })
        .collect();
    let renamed = map.iter().filter(|(a, b)| a != b).count();
    if renamed > 0 {
        notes.push(format!(
            "{renamed} of {} SEG segments renamed to VerSe vertebra numbers from their labels",
            map.len()
        ));
    }
    let mut targets: Vec<u16> = map.iter().map(|m| m.1).collect();
    targets.sort_unstable();
    if targets.windows(2).any(|w| w[0] == w[1]) {
        notes.push(
            "two SEG segments map to the same label value (same level named twice, or a segment number equal to a VerSe number); they are merged".into(),
        );
    }
    (map, notes)
}

/// Reads a case's label map: a DICOM SEG (segments renamed, see [`segment_mapping`]) or any label image.
pub fn read_case_labels(path: &Path) -> Result<CaseLabels> {
    if is_dicom_path(path) {
        match read_segmentation(path) {
            Ok(seg) => {
                let (map, mut notes) = segment_mapping(&seg);
                let mut lut = vec![0u16; u16::MAX as usize + 1];
                for (from, to) in &map {
                    lut[*from as usize] = *to;
                }
                if seg.overlapping_voxels > 0 {
                    notes.push(format!(
                        "{} voxels belong to two SEG segments; the lower segment number was kept",
                        seg.overlapping_voxels
                    ));
                }
                let labels = seg.labels.map(|v| lut[v as usize]);
                return Ok(CaseLabels {
                    labels,
                    from_seg: true,
                    notes,
                });
            }
            // Not a SEG: an image series holding labels (read below); any other failure is the answer.
            Err(spinekit_dicom::DicomError::UnsupportedImage { detail, .. })
                if detail.starts_with("no DICOM Segmentation") => {}
            Err(e) => {
                return Err(ValidateError::File {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })
            }
        }
    }
    Ok(CaseLabels {
        labels: read_label_map(path)?,
        from_seg: false,
        notes: Vec::new(),
    })
}

/// Largest grid [`grow_to_cover`] builds: 2^28 voxels (512 MiB of u16), above a 512 × 512 × 1000 CT.
pub const MAX_GROWN_VOXELS: usize = 1 << 28;

/// `reference` grown (background 0) to cover the labelled voxels of `other`, so a sparse SEG reference (only the
/// slices it labels) does not hide a prediction's labels outside them. Same spacing and direction; the origin
/// moves by whole voxels. The grown grid is capped at [`MAX_GROWN_VOXELS`] (beyond it `reference` is returned
/// unchanged).
pub fn grow_to_cover(reference: &Volume<u16>, other: &Volume<u16>) -> Volume<u16> {
    let od = other.dims();
    let (mut lo, mut hi) = ([usize::MAX; 3], [0usize; 3]);
    for k in 0..od[2] {
        for j in 0..od[1] {
            let row = &other.data()[(k * od[1] + j) * od[0]..(k * od[1] + j + 1) * od[0]];
            if let (Some(a), Some(b)) = (
                row.iter().position(|v| *v != 0),
                row.iter().rposition(|v| *v != 0),
            ) {
                for (ax, v) in [(0, a), (1, j), (2, k)] {
                    lo[ax] = lo[ax].min(v);
                }
                for (ax, v) in [(0, b), (1, j), (2, k)] {
                    hi[ax] = hi[ax].max(v);
                }
            }
        }
    }
    if lo[0] == usize::MAX {
        return reference.clone();
    }
    let rd = reference.dims();
    let g = reference.geometry();
    let (mut nlo, mut nhi) = (
        [0i64; 3],
        [rd[0] as i64 - 1, rd[1] as i64 - 1, rd[2] as i64 - 1],
    );
    for c in 0..8 {
        let idx = [
            if c & 1 == 0 { lo[0] } else { hi[0] } as f64,
            if c & 2 == 0 { lo[1] } else { hi[1] } as f64,
            if c & 4 == 0 { lo[2] } else { hi[2] } as f64,
        ];
        let r = g.world_to_index(other.geometry().index_to_world(idx));
        for a in 0..3 {
            nlo[a] = nlo[a].min(r[a].floor() as i64 - 1);
            nhi[a] = nhi[a].max(r[a].ceil() as i64 + 1);
        }
    }
    let nd: [usize; 3] = std::array::from_fn(|a| (nhi[a] - nlo[a] + 1) as usize);
    if nd == rd || nd.iter().product::<usize>() > MAX_GROWN_VOXELS {
        return reference.clone();
    }
    let mut geo = *g;
    geo.origin_mm = g.index_to_world([nlo[0] as f64, nlo[1] as f64, nlo[2] as f64]);
    let Ok(mut out) = Volume::<u16>::zeros(nd, geo) else {
        return reference.clone();
    };
    let off: [usize; 3] = std::array::from_fn(|a| (-nlo[a]) as usize);
    for k in 0..rd[2] {
        for j in 0..rd[1] {
            let src = &reference.data()[(k * rd[1] + j) * rd[0]..(k * rd[1] + j + 1) * rd[0]];
            let start = ((k + off[2]) * nd[1] + j + off[1]) * nd[0] + off[0];
            out.data_mut()[start..start + rd[0]].copy_from_slice(src);
        }
    }
    out
}
