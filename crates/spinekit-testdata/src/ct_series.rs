//! Small synthetic single-frame DICOM images written with dicom-rs, independent of the readers under test: one
//! builder shared by the reader tests (spinekit-dicom) and the SEG/SR round trips (spinekit-dicom-report).

use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use std::path::Path;

/// One synthetic single-frame image, 16-bit signed stored values.
#[derive(Debug, Clone)]
pub struct Synth {
    pub series_uid: String,
    pub sop_uid: String,
    pub modality: &'static str,
    pub sop_class: &'static str,
    pub rows: u16,
    pub cols: u16,
    pub pixel_spacing: Option<[f64; 2]>,
    pub imager_pixel_spacing: Option<[f64; 2]>,
    pub iop: Option<[f64; 6]>,
    pub ipp: Option<[f64; 3]>,
    pub instance: i32,
    pub frames: Option<u32>,
    pub photometric: &'static str,
    pub slope: f64,
    pub intercept: f64,
    /// Stored values, row-major (rows × cols × frames).
    pub pixels: Vec<i16>,
    /// Further attributes (study, frame of reference, patient), written as given.
    pub extra: Vec<(Tag, VR, String)>,
}

pub const CT_IMAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
pub const DX_IMAGE: &str = "1.2.840.10008.5.1.4.1.1.1.1";
pub const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";

impl Synth {
    pub fn ct(series_uid: &str, instance: i32, rows: u16, cols: u16) -> Self {
        Self {
            series_uid: series_uid.into(),
            sop_uid: format!("{series_uid}.{instance}"),
            modality: "CT",
            sop_class: CT_IMAGE,
            rows,
            cols,
            pixel_spacing: Some([1.0, 1.0]),
            imager_pixel_spacing: None,
            iop: Some([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]),
            ipp: Some([0.0, 0.0, instance as f64]),
            instance,
            frames: None,
            photometric: "MONOCHROME2",
            slope: 1.0,
            intercept: 0.0,
            pixels: vec![0; rows as usize * cols as usize],
            extra: Vec::new(),
        }
    }

    /// Adds (or, written last, overrides) a text attribute.
    pub fn with(mut self, tag: Tag, vr: VR, value: &str) -> Self {
        self.extra.push((tag, vr, value.to_string()));
        self
    }

    pub fn write(&self, path: &Path) {
        self.write_ts(path, EXPLICIT_LE)
    }

    pub fn write_ts(&self, path: &Path, ts: &str) {
        let ds = |v: &[f64]| {
            v.iter()
                .map(|x| format!("{x:.6}"))
                .collect::<Vec<_>>()
                .join("\\")
        };
        let mut o = InMemDicomObject::new_empty();
        o.put(DataElement::new(
            tags::SOP_CLASS_UID,
            VR::UI,
            PrimitiveValue::from(self.sop_class),
        ));
        o.put(DataElement::new(
            tags::SOP_INSTANCE_UID,
            VR::UI,
            PrimitiveValue::from(self.sop_uid.as_str()),
        ));
        o.put(DataElement::new(
            tags::MODALITY,
            VR::CS,
            PrimitiveValue::from(self.modality),
        ));
        o.put(DataElement::new(
            tags::SERIES_INSTANCE_UID,
            VR::UI,
            PrimitiveValue::from(self.series_uid.as_str()),
        ));
        o.put(DataElement::new(
            tags::SERIES_DESCRIPTION,
            VR::LO,
            PrimitiveValue::from("synthetic"),
        ));
        o.put(DataElement::new(
            tags::INSTANCE_NUMBER,
            VR::IS,
            PrimitiveValue::from(self.instance.to_string()),
        ));
        if let Some(p) = self.ipp {
            o.put(DataElement::new(
                tags::IMAGE_POSITION_PATIENT,
                VR::DS,
                PrimitiveValue::from(ds(&p)),
            ));
        }
        if let Some(p) = self.iop {
            o.put(DataElement::new(
                tags::IMAGE_ORIENTATION_PATIENT,
                VR::DS,
                PrimitiveValue::from(ds(&p)),
            ));
        }
        if let Some(p) = self.pixel_spacing {
            o.put(DataElement::new(
                tags::PIXEL_SPACING,
                VR::DS,
                PrimitiveValue::from(ds(&p)),
            ));
        }
        if let Some(p) = self.imager_pixel_spacing {
            o.put(DataElement::new(
                tags::IMAGER_PIXEL_SPACING,
                VR::DS,
                PrimitiveValue::from(ds(&p)),
            ));
        }
        if let Some(f) = self.frames {
            o.put(DataElement::new(
                tags::NUMBER_OF_FRAMES,
                VR::IS,
                PrimitiveValue::from(f.to_string()),
            ));
        }
        o.put(DataElement::new(
            tags::SAMPLES_PER_PIXEL,
            VR::US,
            PrimitiveValue::from(1u16),
        ));
        o.put(DataElement::new(
            tags::PHOTOMETRIC_INTERPRETATION,
            VR::CS,
            PrimitiveValue::from(self.photometric),
        ));
        o.put(DataElement::new(
            tags::ROWS,
            VR::US,
            PrimitiveValue::from(self.rows),
        ));
        o.put(DataElement::new(
            tags::COLUMNS,
            VR::US,
            PrimitiveValue::from(self.cols),
        ));
        o.put(DataElement::new(
            tags::BITS_ALLOCATED,
            VR::US,
            PrimitiveValue::from(16u16),
        ));
        o.put(DataElement::new(
            tags::BITS_STORED,
            VR::US,
            PrimitiveValue::from(16u16),
        ));
        o.put(DataElement::new(
            tags::HIGH_BIT,
            VR::US,
            PrimitiveValue::from(15u16),
        ));
        o.put(DataElement::new(
            tags::PIXEL_REPRESENTATION,
            VR::US,
            PrimitiveValue::from(1u16),
        ));
        o.put(DataElement::new(
            tags::RESCALE_SLOPE,
            VR::DS,
            PrimitiveValue::from(ds(&[self.slope])),
        ));
        o.put(DataElement::new(
            tags::RESCALE_INTERCEPT,
            VR::DS,
            PrimitiveValue::from(ds(&[self.intercept])),
        ));
        for (tag, vr, v) in &self.extra {
            o.put(DataElement::new(
                *tag,
                *vr,
                PrimitiveValue::from(v.as_str()),
            ));
        }
        // As 16-bit words, so the writer applies the transfer syntax's byte order.
        let words: Vec<u16> = self.pixels.iter().map(|&v| v as u16).collect();
        o.put(DataElement::new(
            tags::PIXEL_DATA,
            VR::OW,
            PrimitiveValue::U16(words.into_iter().collect()),
        ));
        let f = o
            .with_meta(FileMetaTableBuilder::new().transfer_syntax(ts))
            .expect("meta table");
        f.write_to_file(path).expect("write synthetic DICOM");
    }
}

/// Row-major pixels of a slice whose value at world point `w` (LPS mm) is `f(w)`.
pub fn slice_from_world(
    rows: u16,
    cols: u16,
    ipp: [f64; 3],
    iop: [f64; 6],
    spacing: [f64; 2],
    f: impl Fn([f64; 3]) -> f64,
) -> Vec<i16> {
    let mut out = Vec::with_capacity(rows as usize * cols as usize);
    for j in 0..rows as usize {
        for i in 0..cols as usize {
            let w = [
                ipp[0] + iop[0] * spacing[1] * i as f64 + iop[3] * spacing[0] * j as f64,
                ipp[1] + iop[1] * spacing[1] * i as f64 + iop[4] * spacing[0] * j as f64,
                ipp[2] + iop[2] * spacing[1] * i as f64 + iop[5] * spacing[0] * j as f64,
            ];
            out.push(f(w).round().clamp(i16::MIN as f64, i16::MAX as f64) as i16);
        }
    }
    out
}
