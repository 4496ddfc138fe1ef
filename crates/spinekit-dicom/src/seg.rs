//! DICOM Segmentation objects (PS3.3 A.51 Segmentation IOD, C.8.20 Segmentation modules) read into a label
//! volume on the SEG's own frame geometry, and the identity of any DICOM case (UIDs, scanner, kernel) for pairing
//! and for a site's validation history.
//!
//! Geometry: every frame's ImagePositionPatient comes from its Plane Position (Patient) functional group, the
//! ImageOrientationPatient and PixelSpacing from the Plane Orientation (Patient) and Pixel Measures groups (shared,
//! or per frame when they are not shared). Frames are stacked along row × column cosine; the slice step is
//! SpacingBetweenSlices when given, else the smallest gap between distinct frame positions. Empty frames may be
//! left out of a SEG (PS3.3 C.8.20.2), so positions may skip whole steps; they must land on the step grid.

use crate::error::{one_line, DicomError};
use crate::header::{cross, dot, normalize, sub};
use crate::scan::scan;
use crate::source::{open_zip, read_member, Container};
use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, InMemDicomObject};
use spinekit_image::{Geometry, Volume};
use std::path::Path;

/// SOP Class UID of Segmentation Storage (PS3.4 B.5).
pub const SEGMENTATION_SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.1.66.4";

/// BINARY (one bit per pixel) or FRACTIONAL (probability/occupancy in 8 bits) segmentation (C.8.20.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentationKind {
    Binary,
    /// A pixel belongs to the segment when its value ≥ half of MaximumFractionalValue (0062,000E).
    Fractional {
        max_value: u16,
    },
}

/// One entry of the Segment Sequence (0062,0002).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// SegmentNumber (0062,0004): the value this segment takes in [`DicomSegmentation::labels`].
    pub number: u16,
    /// SegmentLabel (0062,0005), e.g. "L3".
    pub label: String,
    /// SegmentDescription (0062,0006), may be empty.
    pub description: String,
    /// CodeMeaning of the Segmented Property Type Code Sequence (0062,000F), e.g. "Lumbar vertebra", may be empty.
    pub property_type: String,
}

/// A DICOM SEG as a label volume.
#[derive(Debug, Clone)]
pub struct DicomSegmentation {
    /// Segment number per voxel (0 = no segment), on the SEG's own frame grid (LPS mm).
    pub labels: Volume<u16>,
    pub segments: Vec<SegmentInfo>,
    pub kind: SegmentationKind,
    /// SeriesInstanceUID (0020,000E) of the SEG itself.
    pub series_uid: String,
    /// SOPInstanceUID (0008,0018) of the SEG.
    pub sop_instance_uid: String,
    /// StudyInstanceUID (0020,000D).
    pub study_uid: String,
    /// SeriesInstanceUIDs of the images that were segmented (Referenced Series Sequence (0008,1115)).
    pub referenced_series_uids: Vec<String>,
    /// Voxels claimed by more than one segment (the lowest segment number is kept).
    pub overlapping_voxels: u64,
}

/// Identity of a DICOM case, from headers only: what it can be paired on and what made it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DicomCaseInfo {
    pub sop_class_uid: String,
    /// True for a Segmentation object (SEG).
    pub is_segmentation: bool,
    pub study_uid: String,
    pub series_uid: String,
    /// SOPInstanceUID of the first instance.
    pub sop_instance_uid: String,
    /// For a SEG: the SeriesInstanceUIDs of the segmented images (Referenced Series Sequence (0008,1115)).
    pub referenced_series_uids: Vec<String>,
    /// Manufacturer (0008,0070), ManufacturerModelName (0008,1090), ConvolutionKernel (0018,1210), KVP (0018,0060).
    pub manufacturer: String,
    pub model: String,
    pub convolution_kernel: String,
    pub kvp: Option<f64>,
}

fn text(obj: &InMemDicomObject, t: Tag) -> String {
    obj.get(t)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_end_matches('\0').trim().to_string())
        .unwrap_or_default()
}

fn floats(obj: &InMemDicomObject, t: Tag) -> Option<Vec<f64>> {
    obj.get(t).and_then(|e| e.to_multi_float64().ok())
}

fn int(obj: &InMemDicomObject, t: Tag) -> Option<i64> {
    obj.get(t).and_then(|e| e.to_int::<i64>().ok())
}

fn items(obj: &InMemDicomObject, t: Tag) -> &[InMemDicomObject] {
    obj.get(t).and_then(|e| e.items()).unwrap_or(&[])
}

/// First item of sequence `inner` inside a functional group item.
fn group_item(fg: Option<&InMemDicomObject>, inner: Tag) -> Option<&InMemDicomObject> {
    fg.and_then(|g| items(g, inner).first())
}

fn referenced_series(obj: &InMemDicomObject) -> Vec<String> {
    let mut out: Vec<String> = items(obj, tags::REFERENCED_SERIES_SEQUENCE)
        .iter()
        .map(|i| text(i, tags::SERIES_INSTANCE_UID))
        .filter(|s| !s.is_empty())
        .collect();
    out.dedup();
    out
}

fn case_info(obj: &InMemDicomObject) -> DicomCaseInfo {
    let sop_class = text(obj, tags::SOP_CLASS_UID);
    DicomCaseInfo {
        is_segmentation: sop_class == SEGMENTATION_SOP_CLASS,
        sop_class_uid: sop_class,
        study_uid: text(obj, tags::STUDY_INSTANCE_UID),
        series_uid: text(obj, tags::SERIES_INSTANCE_UID),
        sop_instance_uid: text(obj, tags::SOP_INSTANCE_UID),
        referenced_series_uids: referenced_series(obj),
        manufacturer: text(obj, tags::MANUFACTURER),
        model: text(obj, tags::MANUFACTURER_MODEL_NAME),
        convolution_kernel: text(obj, tags::CONVOLUTION_KERNEL).replace('\\', " "),
        kvp: floats(obj, tags::KVP).and_then(|v| v.first().copied()),
    }
}

/// Reads the header of one instance of every series under `path` (folder, zip or file) and describes the case:
/// the SEG when there is one, else the series with the most instances (the image series of a case).
pub fn describe_dicom_case(path: impl AsRef<Path>) -> Result<DicomCaseInfo, DicomError> {
    let s = scan(path.as_ref())?;
    let pick = s
        .series
        .iter()
        .position(|x| x.sop_class_uid == SEGMENTATION_SOP_CLASS)
        .or_else(|| {
            (0..s.series.len()).max_by_key(|&i| (s.series[i].instance_count, usize::MAX - i))
        })
        .ok_or_else(|| DicomError::NoDicomInFolder {
            path: path.as_ref().display().to_string(),
            other_files: s.non_dicom_files,
        })?;
    let (member, _) = &s.instances[pick][0];
    let mut zip = match &s.container {
        Container::Zip(p) => Some(open_zip(p)?),
        Container::Files => None,
    };
    let obj = read_member(&s.container, zip.as_mut(), member, true)
        .map_err(|e| e.into_error(&member.rel))?;
    Ok(case_info(&obj))
}

/// Reads the one Segmentation object found under `path` (a `.dcm` file, a folder or a zip holding exactly one
/// SEG instance) into a label volume.
pub fn read_segmentation(path: impl AsRef<Path>) -> Result<DicomSegmentation, DicomError> {
    let path = path.as_ref();
    let disp = path.display().to_string();
    let s = scan(path)?;
    let segs: Vec<usize> = (0..s.series.len())
        .filter(|&i| s.series[i].sop_class_uid == SEGMENTATION_SOP_CLASS)
        .collect();
    let unsupported = |detail: String| DicomError::UnsupportedImage {
        path: disp.clone(),
        detail,
    };
    let instances: Vec<_> = segs.iter().flat_map(|&i| &s.instances[i]).collect();
    let (member, _) = match instances.as_slice() {
        [one] => *one,
        [] => {
            return Err(unsupported(
                "no DICOM Segmentation (SEG) object found".into(),
            ))
        }
        many => {
            return Err(unsupported(format!(
                "{} Segmentation objects found; give one SEG file",
                many.len()
            )))
        }
    };
    let mut zip = match &s.container {
        Container::Zip(p) => Some(open_zip(p)?),
        Container::Files => None,
    };
    let obj = read_member(&s.container, zip.as_mut(), member, false)
        .map_err(|e| e.into_error(&member.rel))?;
    segmentation_from_object(&obj, &member.rel)
}

/// Builds the label volume of a parsed SEG object; `name` is used in error messages only.
pub fn segmentation_from_object(
    obj: &DefaultDicomObject,
    name: &str,
) -> Result<DicomSegmentation, DicomError> {
    let bad = |detail: String| DicomError::UnsupportedImage {
        path: name.to_string(),
        detail,
    };
    let info = case_info(obj);
    if !info.is_segmentation {
        return Err(bad(format!(
            "not a DICOM Segmentation (SOP class {})",
            info.sop_class_uid
        )));
    }
    let ts = obj.meta().transfer_syntax().trim_end_matches('\0');
    // Native encodings only: encapsulated (compressed) SEG pixel data is rare and not decoded here.
    if !matches!(
        ts,
        "1.2.840.10008.1.2" | "1.2.840.10008.1.2.1" | "1.2.840.10008.1.2.1.99"
    ) {
        return Err(DicomError::UnsupportedTransferSyntax {
            uid: ts.to_string(),
            name: crate::header::transfer_syntax_name(ts),
        });
    }
    let kind = match text(obj, tags::SEGMENTATION_TYPE)
        .to_ascii_uppercase()
        .as_str()
    {
        "BINARY" => SegmentationKind::Binary,
        "FRACTIONAL" => SegmentationKind::Fractional {
            max_value: int(obj, tags::MAXIMUM_FRACTIONAL_VALUE)
                .filter(|v| (1..=255).contains(v))
                .ok_or_else(
                    || bad("FRACTIONAL SEG without a valid MaximumFractionalValue".into()),
                )? as u16,
        },
        other => {
            return Err(bad(format!(
                "SegmentationType '{other}' is not BINARY or FRACTIONAL"
            )))
        }
    };
    let rows = int(obj, tags::ROWS).unwrap_or(0);
    let cols = int(obj, tags::COLUMNS).unwrap_or(0);
    let frames = int(obj, tags::NUMBER_OF_FRAMES).unwrap_or(1);
    if rows <= 0 || cols <= 0 || frames <= 0 {
        return Err(bad(format!("invalid size {cols}×{rows}, {frames} frames")));
    }
    let (rows, cols, frames) = (rows as usize, cols as usize, frames as usize);
    let bits = int(obj, tags::BITS_ALLOCATED).unwrap_or(0);
    let want_bits = if kind == SegmentationKind::Binary {
        1
    } else {
        8
    };
    if bits != want_bits {
        return Err(bad(format!(
            "BitsAllocated {bits} (expected {want_bits} for this SegmentationType)"
        )));
    }

    let mut segments: Vec<SegmentInfo> = items(obj, tags::SEGMENT_SEQUENCE)
        .iter()
        .map(|it| SegmentInfo {
            number: int(it, tags::SEGMENT_NUMBER)
                .filter(|n| (1..=u16::MAX as i64).contains(n))
                .unwrap_or(0) as u16,
            label: text(it, tags::SEGMENT_LABEL),
            description: text(it, tags::SEGMENT_DESCRIPTION),
            property_type: items(it, tags::SEGMENTED_PROPERTY_TYPE_CODE_SEQUENCE)
                .first()
                .map(|c| text(c, tags::CODE_MEANING))
                .unwrap_or_default(),
        })
        .collect();
    if segments.is_empty() || segments.iter().any(|s| s.number == 0) {
        return Err(bad(
            "Segment Sequence missing or a segment without a SegmentNumber 1…65535".into(),
        ));
    }
    segments.sort_by_key(|s| s.number);

    // Per-frame geometry and segment number.
    let shared = items(obj, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE).first();
    let per_frame = items(obj, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE);
    if per_frame.len() != frames {
        return Err(bad(format!(
            "{} per-frame functional groups for {frames} frames",
            per_frame.len()
        )));
    }
    let lookup = |f: &InMemDicomObject, seq: Tag, attr: Tag| -> Option<Vec<f64>> {
        group_item(Some(f), seq)
            .and_then(|i| floats(i, attr))
            .or_else(|| group_item(shared, seq).and_then(|i| floats(i, attr)))
    };
    let mut iop: Option<Vec<f64>> = None;
    let mut spacing: Option<Vec<f64>> = None;
    let mut between: Option<f64> = None;
    let mut frame_pos = Vec::with_capacity(frames);
    let mut frame_seg = Vec::with_capacity(frames);
    for (n, f) in per_frame.iter().enumerate() {
        let o = lookup(
            f,
            tags::PLANE_ORIENTATION_SEQUENCE,
            tags::IMAGE_ORIENTATION_PATIENT,
        )
        .filter(|v| v.len() == 6)
        .ok_or_else(|| bad(format!("frame {}: no ImageOrientationPatient", n + 1)))?;
        let ps = lookup(f, tags::PIXEL_MEASURES_SEQUENCE, tags::PIXEL_SPACING)
            .filter(|v| v.len() == 2 && v.iter().all(|x| *x > 0.0 && x.is_finite()))
            .ok_or_else(|| bad(format!("frame {}: no valid PixelSpacing", n + 1)))?;
        if between.is_none() {
            between = lookup(
                f,
                tags::PIXEL_MEASURES_SEQUENCE,
                tags::SPACING_BETWEEN_SLICES,
            )
            .and_then(|v| v.first().copied())
            .filter(|v| *v > 0.0 && v.is_finite());
        }
        match (&iop, &spacing) {
            (Some(a), Some(b)) => {
                if a.iter().zip(&o).any(|(x, y)| (x - y).abs() > 1e-4)
                    || b.iter()
                        .zip(&ps)
                        .any(|(x, y)| (x - y).abs() > 1e-6 * x.max(1.0))
                {
                    return Err(bad(
                        "frames differ in orientation or pixel spacing (not one stack)".into(),
                    ));
                }
            }
            _ => {
                iop = Some(o);
                spacing = Some(ps);
            }
        }
        let p = group_item(Some(f), tags::PLANE_POSITION_SEQUENCE)
            .and_then(|i| floats(i, tags::IMAGE_POSITION_PATIENT))
            .filter(|v| v.len() == 3)
            .ok_or_else(|| bad(format!("frame {}: no ImagePositionPatient", n + 1)))?;
        frame_pos.push([p[0], p[1], p[2]]);
        let seg = group_item(Some(f), tags::SEGMENT_IDENTIFICATION_SEQUENCE)
            .or_else(|| group_item(shared, tags::SEGMENT_IDENTIFICATION_SEQUENCE))
            .and_then(|i| int(i, tags::REFERENCED_SEGMENT_NUMBER))
            .ok_or_else(|| bad(format!("frame {}: no ReferencedSegmentNumber", n + 1)))?;
        if !segments.iter().any(|s| s.number as i64 == seg) {
            return Err(bad(format!(
                "frame {} refers to segment {seg}, which the Segment Sequence does not define",
                n + 1
            )));
        }
        frame_seg.push(seg as u16);
    }
    let (iop, ps) = (iop.expect("frames > 0"), spacing.expect("frames > 0"));
    let row = normalize([iop[0], iop[1], iop[2]]);
    let col = normalize([iop[3], iop[4], iop[5]]);
    let (Some(row), Some(col)) = (row, col) else {
        return Err(bad("ImageOrientationPatient has a zero vector".into()));
    };
    let normal = normalize(cross(row, col))
        .ok_or_else(|| bad("ImageOrientationPatient row and column are parallel".into()))?;

    // Slice positions along the normal and their step.
    let along: Vec<f64> = frame_pos.iter().map(|p| dot(*p, normal)).collect();
    let mut distinct = along.clone();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup_by(|a, b| (*a - *b).abs() < 1e-3);
    let step = match between {
        Some(b) => b,
        None if distinct.len() > 1 => distinct
            .windows(2)
            .map(|w| w[1] - w[0])
            .fold(f64::INFINITY, f64::min),
        // One plane: the slice thickness (or 1 mm) as a nominal step.
        None => lookup(
            &per_frame[0],
            tags::PIXEL_MEASURES_SEQUENCE,
            tags::SLICE_THICKNESS,
        )
        .and_then(|v| v.first().copied())
        .filter(|v| *v > 0.0 && v.is_finite())
        .unwrap_or(1.0),
    };
    let lo = distinct[0];
    let first = frame_pos[along
        .iter()
        .position(|a| (*a - lo).abs() < 1e-3)
        .expect("lo is one of them")];
    let mut ks = Vec::with_capacity(frames);
    for (n, p) in frame_pos.iter().enumerate() {
        let d = sub(*p, first);
        // In-plane offset between frames of one stack must be zero (within a tenth of a pixel).
        if dot(d, row).abs() > 0.1 * ps[1] || dot(d, col).abs() > 0.1 * ps[0] {
            return Err(bad(format!(
                "frame {} is shifted in its own plane relative to the others (not one stack)",
                n + 1
            )));
        }
        let k = (along[n] - lo) / step;
        if (k - k.round()).abs() > 0.1 {
            return Err(bad(format!(
                "frame {} lies between slices ({:.3} mm step)",
                n + 1,
                step
            )));
        }
        ks.push(k.round() as usize);
    }
    let depth = ks.iter().max().copied().unwrap_or(0) + 1;
    if depth > 100_000 {
        return Err(bad(format!("{depth} slices: positions are not one stack")));
    }
    let geometry = Geometry {
        origin_mm: first,
        // PixelSpacing is (between rows, between columns): columns advance along the row cosine.
        spacing_mm: [ps[1], ps[0], step],
        direction: [row, col, normal],
    };
    let mut labels = Volume::<u16>::zeros([cols, rows, depth], geometry)?;

    let pix = obj
        .element(tags::PIXEL_DATA)
        .map_err(|_| bad("no PixelData".into()))?;
    let bytes = pix
        .to_bytes()
        .map_err(|e| bad(format!("PixelData is not native: {}", one_line(&e))))?;
    let plane = rows * cols;
    let need = match kind {
        SegmentationKind::Binary => (plane * frames).div_ceil(8),
        SegmentationKind::Fractional { .. } => plane * frames,
    };
    if bytes.len() < need {
        return Err(DicomError::Damaged {
            path: name.to_string(),
            detail: format!(
                "PixelData has {} bytes, {need} needed for {frames} frames",
                bytes.len()
            ),
        });
    }
    let mut overlapping = 0u64;
    let data = labels.data_mut();
    for (f, (&k, &seg)) in ks.iter().zip(&frame_seg).enumerate() {
        let out = &mut data[k * plane..(k + 1) * plane];
        for (p, v) in out.iter_mut().enumerate() {
            let on = match kind {
                // Frames are packed back to back, first pixel in the least significant bit (PS3.5 8.1.1).
                SegmentationKind::Binary => {
                    let bit = f * plane + p;
                    (bytes[bit / 8] >> (bit % 8)) & 1 == 1
                }
                SegmentationKind::Fractional { max_value } => {
                    2 * bytes[f * plane + p] as u16 >= max_value
                }
            };
            if on {
                if *v == 0 {
                    *v = seg;
                } else if *v != seg {
                    overlapping += 1;
                    *v = (*v).min(seg);
                }
            }
        }
    }
    Ok(DicomSegmentation {
        labels,
        segments,
        kind,
        series_uid: info.series_uid,
        sop_instance_uid: info.sop_instance_uid,
        study_uid: info.study_uid,
        referenced_series_uids: info.referenced_series_uids,
        overlapping_voxels: overlapping,
    })
}
