//! DICOM Segmentation IOD (PS3.3 A.51), BINARY, on the source grid.

use crate::codes::{category_anatomical_structure, level_code, Code};
use crate::common::{check_source, put_equipment, put_patient_study, write_file};
use crate::ds::{
    code_item, ds, ds_multi, new_uid, now_utc, obj, put_code, put_seq, put_str, put_text, put_us,
    Obj,
};
use crate::{ReportError, SourceSeries, WriterInfo};
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use spinekit_anatomy::Level;
use spinekit_image::Volume;
use std::path::Path;

/// Segmentation Storage SOP Class UID (PS3.4 B.5).
pub const SEGMENTATION_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.66.4";

/// One segment to write: the voxels of `labels == label_value` in its [`LabelLayer`].
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentSpec {
    pub label_value: u8,
    /// Segment Label (0062,0005), e.g. "L3".
    pub label: String,
    /// Segmented Property Category (CID 7150) and Type (CID 7151 or an anatomic code).
    pub category: Code,
    pub property_type: Code,
    /// Anatomic Region Sequence (0008,2218), when the type alone does not place it.
    pub anatomic_region: Option<Code>,
    /// Tracking ID (0062,0020); a Tracking UID is generated with it.
    pub tracking_id: Option<String>,
    /// Segment Description (0062,0006): e.g. why a level name is uncertain.
    pub description: Option<String>,
}

impl SegmentSpec {
    /// A whole vertebra (or the sacrum) labelled with its VerSe value.
    pub fn vertebra(level: Level) -> Self {
        Self {
            label_value: level.verse_label(),
            label: level.name().to_string(),
            category: category_anatomical_structure(),
            property_type: level_code(level),
            anatomic_region: None,
            tracking_id: Some(format!("{} vertebra", level.name())),
            description: None,
        }
    }

    /// A vertebra whose level could not be identified (no anchor in view): a generic "Vertebra" type and a
    /// label that says so, so no reader mistakes a placeholder for a level. `ordinal` counts from the top (1).
    pub fn unnamed_vertebra(label_value: u8, ordinal: usize) -> Self {
        Self {
            label_value,
            label: unnamed_label(ordinal),
            category: category_anatomical_structure(),
            property_type: crate::codes::vertebra(),
            anatomic_region: None,
            tracking_id: Some(format!("vertebra {ordinal} from the top (level not identified)")),
            description: Some(
                "level not identified: no sacrum, rib or first-rib anchor in the field of view; vertebrae are \
                 counted from the top of the view"
                    .into(),
            ),
        }
    }
}

/// Segment label of an unnamed vertebra (`ordinal` from the top, 1-based).
pub fn unnamed_label(ordinal: usize) -> String {
    format!("vertebra {ordinal} (level unknown)")
}

/// A label volume on the source grid and the segments to take from it. Several layers may overlap (each
/// segment is its own set of binary frames).
#[derive(Debug, Clone)]
pub struct LabelLayer<'a> {
    pub labels: &'a Volume<u8>,
    pub segments: Vec<SegmentSpec>,
}

/// What [`write_seg`] wrote; the SR references it.
#[derive(Debug, Clone, PartialEq)]
pub struct SegOutput {
    pub sop_instance_uid: String,
    pub series_instance_uid: String,
    /// (Segment Number, label) of each segment written, in order. Segments with no voxel are left out.
    pub segments: Vec<(u16, String)>,
    pub frames: usize,
    /// Frames whose slice matched no source instance (resampled series): they carry no Source Image reference.
    pub frames_without_source: usize,
}

/// Slice k of the label volume → index of the source instance at that position (None when none matches).
fn match_slices(src: &SourceSeries, vol: &Volume<u8>) -> Result<Vec<Option<usize>>, ReportError> {
    let g = vol.geometry();
    let nz = vol.dims()[2];
    let first = &src.instances[0];
    let iop = first.orientation.ok_or_else(|| {
        ReportError::NotOnSourceGrid("the source series has no ImageOrientationPatient".into())
    })?;
    let dev = (0..3)
        .map(|a| {
            (g.direction[0][a] - iop[a])
                .abs()
                .max((g.direction[1][a] - iop[3 + a]).abs())
        })
        .fold(0.0, f64::max);
    if dev > 1e-3 {
        return Err(ReportError::NotOnSourceGrid(format!(
            "its row/column directions differ from ImageOrientationPatient (max cosine difference {dev:.4})"
        )));
    }
    let tol = (0.05 * g.spacing_mm[2]).max(1e-3);
    let mut out = Vec::with_capacity(nz);
    for k in 0..nz {
        let p = vol.voxel_to_world([0, 0, k]);
        let hit = src.instances.iter().position(|i| {
            i.position_mm
                .map(|q| (0..3).all(|a| (q[a] - p[a]).abs() <= tol))
                .unwrap_or(false)
        });
        out.push(hit);
    }
    Ok(out)
}

/// Writes a BINARY DICOM Segmentation to `path` (atomically).
///
/// Every layer must be on the source grid (as loaded by `spinekit_dicom::load_volume`): in-plane axes equal to
/// ImageOrientationPatient; slices are matched to source instances by ImagePositionPatient. Segment numbers run
/// 1, 2, … over the segments that have at least one voxel; frames are ordered by segment then slice, and only
/// slices that contain the segment are stored. Dimension Index: (Referenced Segment Number, ImagePositionPatient).
pub fn write_seg(
    path: &Path,
    source: &SourceSeries,
    layers: &[LabelLayer<'_>],
    info: &WriterInfo,
) -> Result<SegOutput, ReportError> {
    check_source(source)?;
    if source.frame_of_reference_uid.is_empty() {
        return Err(ReportError::Invalid(
            "the source series has no FrameOfReferenceUID (see complete_source)".into(),
        ));
    }
    let Some(l0) = layers.first() else {
        return Err(ReportError::Empty("no label volume given".into()));
    };
    let dims = l0.labels.dims();
    let g0 = *l0.labels.geometry();
    for l in layers {
        if l.labels.dims() != dims || *l.labels.geometry() != g0 {
            return Err(ReportError::Invalid(
                "the label volumes do not share one grid".into(),
            ));
        }
    }
    let [nx, ny, nz] = dims;
    if nx > u16::MAX as usize || ny > u16::MAX as usize {
        return Err(ReportError::Invalid(
            "slice larger than 65535 pixels".into(),
        ));
    }
    let slice_src = match_slices(source, l0.labels)?;
    let plane = nx * ny;

    // Frames: (segment index, slice k); and the packed 1-bit pixel data (first pixel in the least significant bit,
    // frames contiguous without padding, PS3.5 8.1.1 / 8.2).
    let mut seg_items = Vec::new();
    let mut written: Vec<(u16, String)> = Vec::new();
    let mut frames: Vec<(u16, usize)> = Vec::new();
    let mut bits: Vec<u8> = Vec::new();
    let mut nbits: usize = 0;
    let mut push_frame = |mask: &mut dyn Iterator<Item = bool>, bits: &mut Vec<u8>| {
        for b in mask {
            if nbits.is_multiple_of(8) {
                bits.push(0);
            }
            if b {
                let last = bits.len() - 1;
                bits[last] |= 1 << (nbits % 8);
            }
            nbits += 1;
        }
    };
    for layer in layers {
        let data = layer.labels.data();
        for spec in &layer.segments {
            if spec.label_value == 0 {
                return Err(ReportError::Invalid(format!(
                    "segment '{}' uses label 0 (background)",
                    spec.label
                )));
            }
            let v = spec.label_value;
            let present: Vec<usize> = (0..nz)
                .filter(|&k| data[k * plane..(k + 1) * plane].contains(&v))
                .collect();
            if present.is_empty() {
                continue;
            }
            let number = u16::try_from(written.len() + 1)
                .map_err(|_| ReportError::Invalid("more than 65535 segments".into()))?;
            for &k in &present {
                let s = &data[k * plane..(k + 1) * plane];
                push_frame(&mut s.iter().map(|&x| x == v), &mut bits);
                frames.push((number, k));
            }
            seg_items.push(segment_item(number, spec));
            written.push((number, spec.label.clone()));
        }
    }
    if frames.is_empty() {
        return Err(ReportError::Empty(
            "no segment has any voxel in the label volume".into(),
        ));
    }
    if bits.len() % 2 == 1 {
        bits.push(0);
    }

    let sop_uid = new_uid();
    let series_uid = new_uid();
    let (date, time) = now_utc();
    let mut o = obj();
    put_patient_study(&mut o, source);
    put_str(&mut o, tags::SOP_CLASS_UID, VR::UI, SEGMENTATION_STORAGE);
    put_str(&mut o, tags::SOP_INSTANCE_UID, VR::UI, &sop_uid);
    put_str(&mut o, tags::INSTANCE_CREATION_DATE, VR::DA, &date);
    put_str(&mut o, tags::INSTANCE_CREATION_TIME, VR::TM, &time);
    put_text(&mut o, tags::TIMEZONE_OFFSET_FROM_UTC, VR::SH, "+0000");
    put_str(&mut o, tags::IMAGE_TYPE, VR::CS, "DERIVED\\PRIMARY");
    put_str(&mut o, tags::CONTENT_DATE, VR::DA, &date);
    put_str(&mut o, tags::CONTENT_TIME, VR::TM, &time);
    put_str(&mut o, tags::SERIES_DATE, VR::DA, &date);
    put_str(&mut o, tags::SERIES_TIME, VR::TM, &time);
    put_str(&mut o, tags::MODALITY, VR::CS, "SEG");
    put_text(
        &mut o,
        tags::SERIES_DESCRIPTION,
        VR::LO,
        &info.seg_series_description,
    );
    put_equipment(&mut o, info);
    put_str(&mut o, tags::SERIES_INSTANCE_UID, VR::UI, &series_uid);
    put_str(
        &mut o,
        tags::SERIES_NUMBER,
        VR::IS,
        &info.seg_series_number.to_string(),
    );
    put_str(&mut o, tags::INSTANCE_NUMBER, VR::IS, "1");
    // Frame of Reference module (C.7.4.1): the source's, so the SEG overlays it.
    put_str(
        &mut o,
        tags::FRAME_OF_REFERENCE_UID,
        VR::UI,
        &source.frame_of_reference_uid,
    );
    put_text(&mut o, tags::POSITION_REFERENCE_INDICATOR, VR::LO, "");

    // Common Instance Reference module (C.12.2): every source instance.
    let mut ref_inst = Vec::with_capacity(source.instances.len());
    for i in &source.instances {
        let mut it = obj();
        put_str(
            &mut it,
            tags::REFERENCED_SOP_CLASS_UID,
            VR::UI,
            &i.sop_class_uid,
        );
        put_str(
            &mut it,
            tags::REFERENCED_SOP_INSTANCE_UID,
            VR::UI,
            &i.sop_instance_uid,
        );
        ref_inst.push(it);
    }
    let mut rs = obj();
    put_seq(&mut rs, tags::REFERENCED_INSTANCE_SEQUENCE, ref_inst);
    put_str(
        &mut rs,
        tags::SERIES_INSTANCE_UID,
        VR::UI,
        &source.series_instance_uid,
    );
    put_seq(&mut o, tags::REFERENCED_SERIES_SEQUENCE, vec![rs]);

    // Segmentation Image module (C.8.20.2) and Image Pixel.
    put_us(&mut o, tags::SAMPLES_PER_PIXEL, 1);
    put_str(
        &mut o,
        tags::PHOTOMETRIC_INTERPRETATION,
        VR::CS,
        "MONOCHROME2",
    );
    put_us(&mut o, tags::ROWS, ny as u16);
    put_us(&mut o, tags::COLUMNS, nx as u16);
    put_us(&mut o, tags::BITS_ALLOCATED, 1);
    put_us(&mut o, tags::BITS_STORED, 1);
    put_us(&mut o, tags::HIGH_BIT, 0);
    put_us(&mut o, tags::PIXEL_REPRESENTATION, 0);
    put_str(&mut o, tags::LOSSY_IMAGE_COMPRESSION, VR::CS, "00");
    put_str(&mut o, tags::SEGMENTATION_TYPE, VR::CS, "BINARY");
    put_str(&mut o, tags::CONTENT_LABEL, VR::CS, "SPINE");
    put_text(
        &mut o,
        tags::CONTENT_DESCRIPTION,
        VR::LO,
        "spinekit vertebrae",
    );
    put_str(&mut o, tags::CONTENT_CREATOR_NAME, VR::PN, "");
    put_seq(&mut o, tags::SEGMENT_SEQUENCE, seg_items);

    // Multi-frame Dimension module (C.7.6.17).
    let dim_org = new_uid();
    let mut org = obj();
    put_str(&mut org, tags::DIMENSION_ORGANIZATION_UID, VR::UI, &dim_org);
    put_seq(&mut o, tags::DIMENSION_ORGANIZATION_SEQUENCE, vec![org]);
    put_str(&mut o, tags::DIMENSION_ORGANIZATION_TYPE, VR::CS, "3D");
    let dim = |ptr: dicom_core::Tag, fg: dicom_core::Tag, label: &str| {
        let mut d = obj();
        put_str(&mut d, tags::DIMENSION_ORGANIZATION_UID, VR::UI, &dim_org);
        d.put(DataElement::new(
            tags::DIMENSION_INDEX_POINTER,
            VR::AT,
            PrimitiveValue::Tags(vec![ptr].into()),
        ));
        d.put(DataElement::new(
            tags::FUNCTIONAL_GROUP_POINTER,
            VR::AT,
            PrimitiveValue::Tags(vec![fg].into()),
        ));
        put_text(&mut d, tags::DIMENSION_DESCRIPTION_LABEL, VR::LO, label);
        d
    };
    put_seq(
        &mut o,
        tags::DIMENSION_INDEX_SEQUENCE,
        vec![
            dim(
                tags::REFERENCED_SEGMENT_NUMBER,
                tags::SEGMENT_IDENTIFICATION_SEQUENCE,
                "ReferencedSegmentNumber",
            ),
            dim(
                tags::IMAGE_POSITION_PATIENT,
                tags::PLANE_POSITION_SEQUENCE,
                "ImagePositionPatient",
            ),
        ],
    );

    // Shared functional groups: pixel measures and orientation (C.7.6.16).
    let g = g0;
    let mut pm = obj();
    put_str(
        &mut pm,
        tags::PIXEL_SPACING,
        VR::DS,
        &ds_multi(&[g.spacing_mm[1], g.spacing_mm[0]]),
    );
    put_str(&mut pm, tags::SLICE_THICKNESS, VR::DS, &ds(g.spacing_mm[2]));
    put_str(
        &mut pm,
        tags::SPACING_BETWEEN_SLICES,
        VR::DS,
        &ds(g.spacing_mm[2]),
    );
    let mut po = obj();
    put_str(
        &mut po,
        tags::IMAGE_ORIENTATION_PATIENT,
        VR::DS,
        &ds_multi(&[
            g.direction[0][0],
            g.direction[0][1],
            g.direction[0][2],
            g.direction[1][0],
            g.direction[1][1],
            g.direction[1][2],
        ]),
    );
    let mut shared = obj();
    put_seq(&mut shared, tags::PIXEL_MEASURES_SEQUENCE, vec![pm]);
    put_seq(&mut shared, tags::PLANE_ORIENTATION_SEQUENCE, vec![po]);
    put_seq(
        &mut o,
        tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE,
        vec![shared],
    );

    // Per-frame functional groups.
    let mut per_frame = Vec::with_capacity(frames.len());
    let mut without_source = 0;
    for &(number, k) in &frames {
        let mut f = obj();
        if let Some(si) = slice_src[k] {
            let inst = &source.instances[si];
            let mut src_img = obj();
            put_str(
                &mut src_img,
                tags::REFERENCED_SOP_CLASS_UID,
                VR::UI,
                &inst.sop_class_uid,
            );
            put_str(
                &mut src_img,
                tags::REFERENCED_SOP_INSTANCE_UID,
                VR::UI,
                &inst.sop_instance_uid,
            );
            put_code(
                &mut src_img,
                tags::PURPOSE_OF_REFERENCE_CODE_SEQUENCE,
                &Code::dcm("121322", "Source image for image processing operation"),
            );
            let mut der = obj();
            put_code(
                &mut der,
                tags::DERIVATION_CODE_SEQUENCE,
                &Code::dcm("113076", "Segmentation"),
            );
            put_seq(&mut der, tags::SOURCE_IMAGE_SEQUENCE, vec![src_img]);
            put_seq(&mut f, tags::DERIVATION_IMAGE_SEQUENCE, vec![der]);
        } else {
            without_source += 1;
        }
        let mut fc = obj();
        fc.put(DataElement::new(
            tags::DIMENSION_INDEX_VALUES,
            VR::UL,
            PrimitiveValue::U32(vec![u32::from(number), (k + 1) as u32].into()),
        ));
        put_seq(&mut f, tags::FRAME_CONTENT_SEQUENCE, vec![fc]);
        let mut pp = obj();
        let p = l0.labels.voxel_to_world([0, 0, k]);
        put_str(&mut pp, tags::IMAGE_POSITION_PATIENT, VR::DS, &ds_multi(&p));
        put_seq(&mut f, tags::PLANE_POSITION_SEQUENCE, vec![pp]);
        let mut si = obj();
        put_us(&mut si, tags::REFERENCED_SEGMENT_NUMBER, number);
        put_seq(&mut f, tags::SEGMENT_IDENTIFICATION_SEQUENCE, vec![si]);
        per_frame.push(f);
    }
    put_seq(
        &mut o,
        tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE,
        per_frame,
    );
    put_str(
        &mut o,
        tags::NUMBER_OF_FRAMES,
        VR::IS,
        &frames.len().to_string(),
    );
    o.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PrimitiveValue::U8(bits.into()),
    ));

    write_file(path, o, SEGMENTATION_STORAGE)?;
    Ok(SegOutput {
        sop_instance_uid: sop_uid,
        series_instance_uid: series_uid,
        segments: written,
        frames: frames.len(),
        frames_without_source: without_source,
    })
}

fn segment_item(number: u16, s: &SegmentSpec) -> Obj {
    let mut it = obj();
    put_us(&mut it, tags::SEGMENT_NUMBER, number);
    put_text(&mut it, tags::SEGMENT_LABEL, VR::LO, &s.label);
    put_str(&mut it, tags::SEGMENT_ALGORITHM_TYPE, VR::CS, "AUTOMATIC");
    put_text(&mut it, tags::SEGMENT_ALGORITHM_NAME, VR::LO, "spinekit");
    put_code(
        &mut it,
        tags::SEGMENTED_PROPERTY_CATEGORY_CODE_SEQUENCE,
        &s.category,
    );
    put_code(
        &mut it,
        tags::SEGMENTED_PROPERTY_TYPE_CODE_SEQUENCE,
        &s.property_type,
    );
    if let Some(d) = &s.description {
        put_text(&mut it, tags::SEGMENT_DESCRIPTION, VR::ST, d);
    }
    if let Some(r) = &s.anatomic_region {
        put_seq(&mut it, tags::ANATOMIC_REGION_SEQUENCE, vec![code_item(r)]);
    }
    if let Some(t) = &s.tracking_id {
        put_text(&mut it, tags::TRACKING_ID, VR::UT, t);
        put_str(&mut it, tags::TRACKING_UID, VR::UI, &new_uid());
    }
    it
}
