//! Writes small DICOM Segmentation objects with dicom-rs, independently of spinekit's SEG reader and writer, in
//! layouts spinekit's own writer never produces (sparse, unordered, FRACTIONAL, free segment names): the
//! fixtures of the SEG reader's tests in spinekit-dicom and spinekit-validate.

use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use std::path::Path;

pub const SEGMENTATION_SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.1.66.4";

fn ds(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x}"))
        .collect::<Vec<_>>()
        .join("\\")
}

fn seq(tag: dicom_core::Tag, items: Vec<InMemDicomObject>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::SQ, DataSetSequence::from(items))
}

fn item(elems: Vec<DataElement<InMemDicomObject>>) -> InMemDicomObject {
    InMemDicomObject::from_element_iter(elems)
}

fn s(tag: dicom_core::Tag, vr: VR, v: &str) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, PrimitiveValue::from(v))
}

/// A SEG frame: segment number, ImagePositionPatient, row-major pixel values (0/1 for BINARY, 0…255 else).
pub struct Frame {
    pub segment: u16,
    pub ipp: [f64; 3],
    pub pixels: Vec<u8>,
}

/// Writes a Segmentation object (Explicit VR LE). BINARY frames are bit-packed back to back, first pixel in the
/// least significant bit, as PS3.5 8.1.1 prescribes; FRACTIONAL frames are one byte per pixel.
#[allow(clippy::too_many_arguments)]
pub fn write_seg(
    path: &Path,
    uids: (&str, &str),
    fractional: bool,
    rows: u16,
    cols: u16,
    iop: [f64; 6],
    spacing: [f64; 2],
    segments: &[(u16, &str)],
    frames: &[Frame],
) {
    let mut o = InMemDicomObject::new_empty();
    o.put(s(tags::SOP_CLASS_UID, VR::UI, SEGMENTATION_SOP_CLASS));
    o.put(s(tags::SOP_INSTANCE_UID, VR::UI, &format!("{}.1", uids.0)));
    o.put(s(tags::STUDY_INSTANCE_UID, VR::UI, "2.25.1000"));
    o.put(s(tags::SERIES_INSTANCE_UID, VR::UI, uids.0));
    o.put(s(tags::MODALITY, VR::CS, "SEG"));
    o.put(s(tags::MANUFACTURER, VR::LO, "test writer"));
    o.put(seq(
        tags::REFERENCED_SERIES_SEQUENCE,
        vec![item(vec![s(tags::SERIES_INSTANCE_UID, VR::UI, uids.1)])],
    ));
    o.put(s(
        tags::SEGMENTATION_TYPE,
        VR::CS,
        if fractional { "FRACTIONAL" } else { "BINARY" },
    ));
    if fractional {
        o.put(DataElement::new(
            tags::MAXIMUM_FRACTIONAL_VALUE,
            VR::US,
            PrimitiveValue::from(200u16),
        ));
    }
    o.put(DataElement::new(
        tags::ROWS,
        VR::US,
        PrimitiveValue::from(rows),
    ));
    o.put(DataElement::new(
        tags::COLUMNS,
        VR::US,
        PrimitiveValue::from(cols),
    ));
    o.put(s(tags::NUMBER_OF_FRAMES, VR::IS, &frames.len().to_string()));
    let bits: u16 = if fractional { 8 } else { 1 };
    for t in [tags::BITS_ALLOCATED, tags::BITS_STORED] {
        o.put(DataElement::new(t, VR::US, PrimitiveValue::from(bits)));
    }
    o.put(DataElement::new(
        tags::HIGH_BIT,
        VR::US,
        PrimitiveValue::from(bits - 1),
    ));
    o.put(seq(
        tags::SEGMENT_SEQUENCE,
        segments
            .iter()
            .map(|(n, l)| {
                item(vec![
                    DataElement::new(tags::SEGMENT_NUMBER, VR::US, PrimitiveValue::from(*n)),
                    s(tags::SEGMENT_LABEL, VR::LO, l),
                ])
            })
            .collect(),
    ));
    o.put(seq(
        tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE,
        vec![item(vec![
            seq(
                tags::PLANE_ORIENTATION_SEQUENCE,
                vec![item(vec![s(
                    tags::IMAGE_ORIENTATION_PATIENT,
                    VR::DS,
                    &ds(&iop),
                )])],
            ),
            seq(
                tags::PIXEL_MEASURES_SEQUENCE,
                vec![item(vec![s(tags::PIXEL_SPACING, VR::DS, &ds(&spacing))])],
            ),
        ])],
    ));
    o.put(seq(
        tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE,
        frames
            .iter()
            .map(|f| {
                item(vec![
                    seq(
                        tags::PLANE_POSITION_SEQUENCE,
                        vec![item(vec![s(
                            tags::IMAGE_POSITION_PATIENT,
                            VR::DS,
                            &ds(&f.ipp),
                        )])],
                    ),
                    seq(
                        tags::SEGMENT_IDENTIFICATION_SEQUENCE,
                        vec![item(vec![DataElement::new(
                            tags::REFERENCED_SEGMENT_NUMBER,
                            VR::US,
                            PrimitiveValue::from(f.segment),
                        )])],
                    ),
                ])
            })
            .collect(),
    ));
    let plane = rows as usize * cols as usize;
    let mut pix = if fractional {
        frames.iter().flat_map(|f| f.pixels.clone()).collect()
    } else {
        let mut b = vec![0u8; (plane * frames.len()).div_ceil(8)];
        for (fi, f) in frames.iter().enumerate() {
            for (p, v) in f.pixels.iter().enumerate() {
                if *v != 0 {
                    let bit = fi * plane + p;
                    b[bit / 8] |= 1 << (bit % 8);
                }
            }
        }
        b
    };
    if pix.len() % 2 == 1 {
        pix.push(0);
    }
    o.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PrimitiveValue::from(pix),
    ));
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax("1.2.840.10008.1.2.1")
        .media_storage_sop_class_uid(SEGMENTATION_SOP_CLASS)
        .media_storage_sop_instance_uid(format!("{}.1", uids.0));
    o.with_meta(meta).unwrap().write_to_file(path).unwrap();
}
