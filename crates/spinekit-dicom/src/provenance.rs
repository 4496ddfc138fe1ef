//! What a derived object (DICOM SEG, SR) must copy from or reference in its source series: per-instance SOP
//! Class/Instance UIDs and positions, the Frame of Reference, and the Patient / General Study attributes
//! (PS3.3 C.7.1.1, C.7.2.1). Read from headers only; nothing here is ever logged.

use crate::error::DicomError;
use crate::header::{dot, InstanceHeader};
use crate::scan::{DicomScan, Purpose, SeriesSelector};
use crate::source::{open_zip, read_member, Container};
use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;

/// One source image, in slice order.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInstance {
    /// SOPClassUID (0008,0016).
    pub sop_class_uid: String,
    /// SOPInstanceUID (0008,0018).
    pub sop_instance_uid: String,
    /// ImagePositionPatient (0020,0032), LPS mm; None without patient geometry.
    pub position_mm: Option<[f64; 3]>,
    /// ImageOrientationPatient (0020,0037): row cosine then column cosine.
    pub orientation: Option<[f64; 6]>,
}

/// The header attributes of one series that derived objects copy or reference. The patient and study fields are
/// identifying: copy them into outputs, never into messages or logs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceSeries {
    /// SpecificCharacterSet (0008,0005) of the first instance (empty = default repertoire).
    pub specific_character_set: String,
    pub patient_name: String,
    pub patient_id: String,
    pub patient_birth_date: String,
    pub patient_sex: String,
    pub study_instance_uid: String,
    pub study_date: String,
    pub study_time: String,
    pub accession_number: String,
    pub referring_physician_name: String,
    pub study_id: String,
    pub study_description: String,
    /// SeriesInstanceUID (0020,000E) of the source series.
    pub series_instance_uid: String,
    /// Modality (0008,0060), e.g. `CT`.
    pub modality: String,
    /// FrameOfReferenceUID (0020,0052); empty when the series has none.
    pub frame_of_reference_uid: String,
    /// Patient facts some measurements need (never identifying on their own, still never logged):
    /// PatientAge (0010,1010) as written ("045Y"), PatientSize (0010,1020) in metres, PatientWeight (0010,1030) in kg.
    pub patient_age: String,
    pub patient_size_m: Option<f64>,
    pub patient_weight_kg: Option<f64>,
    /// Free text that hints at the contrast phase: SeriesDescription (0008,103E), ContrastBolusAgent (0018,0010),
    /// ProtocolName (0018,1030).
    pub series_description: String,
    pub contrast_bolus_agent: String,
    pub protocol_name: String,
    /// Instances ordered along the slice normal exactly as [`crate::load_volume`] orders them (first = slice 0),
    /// or by InstanceNumber when the series lacks patient geometry.
    pub instances: Vec<SourceInstance>,
}

/// Reads the patient/study attributes and per-instance UIDs of the series `selector` picks (the same choice as
/// [`crate::load_volume`] with the same selector). Headers only; pixels are not decoded.
pub fn source_series(
    scan: &DicomScan,
    selector: &SeriesSelector,
) -> Result<SourceSeries, DicomError> {
    let (idx, _) = scan.resolve(selector, Purpose::Volume)?;
    let inst = &scan.instances[idx];
    let mut zip = match &scan.container {
        Container::Zip(p) => Some(open_zip(p)?),
        Container::Files => None,
    };
    let mut objs: Vec<(DefaultDicomObject, &InstanceHeader)> = Vec::with_capacity(inst.len());
    for (m, h) in inst {
        let o = read_member(&scan.container, zip.as_mut(), m, true)
            .map_err(|e| e.into_error(&m.rel))?;
        objs.push((o, h));
    }
    // Slice order: position along the normal of the first instance (as load_volume), else InstanceNumber.
    let normal = inst.first().and_then(|(_, h)| h.frame_axes()).map(|a| a[2]);
    let all_geo = inst.iter().all(|(_, h)| h.has_geometry());
    let mut order: Vec<usize> = (0..objs.len()).collect();
    match normal {
        Some(n) if all_geo => {
            let d: Vec<f64> = inst
                .iter()
                .map(|(_, h)| dot(h.ipp.unwrap_or_default(), n))
                .collect();
            order.sort_by(|&a, &b| {
                d[a].total_cmp(&d[b])
                    .then(inst[a].1.instance_number.cmp(&inst[b].1.instance_number))
            });
        }
        _ => order.sort_by_key(|&i| inst[i].1.instance_number),
    }
    let first = &objs[0].0;
    let text = |o: &DefaultDicomObject, t: Tag| -> String {
        o.get(t)
            .and_then(|e| e.to_str().ok())
            .map(|s| s.trim_matches(|c: char| c == '\0' || c == ' ').to_string())
            .unwrap_or_default()
    };
    // A decimal string attribute as a positive finite number (0 or garbage = unknown).
    let number = |o: &DefaultDicomObject, t: Tag| -> Option<f64> {
        text(o, t)
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
    };
    let instances = order
        .iter()
        .map(|&i| {
            let (o, h) = &objs[i];
            SourceInstance {
                sop_class_uid: h.sop_class.clone(),
                sop_instance_uid: {
                    let s = text(o, tags::SOP_INSTANCE_UID);
                    if s.is_empty() {
                        o.meta()
                            .media_storage_sop_instance_uid()
                            .trim_end_matches('\0')
                            .to_string()
                    } else {
                        s
                    }
                },
                position_mm: h.ipp,
                orientation: h.iop,
            }
        })
        .collect();
    Ok(SourceSeries {
        specific_character_set: first
            .get(tags::SPECIFIC_CHARACTER_SET)
            .and_then(|e| e.to_multi_str().ok().map(|v| v.join("\\")))
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        patient_name: text(first, tags::PATIENT_NAME),
        patient_id: text(first, tags::PATIENT_ID),
        patient_birth_date: text(first, tags::PATIENT_BIRTH_DATE),
        patient_sex: text(first, tags::PATIENT_SEX),
        study_instance_uid: text(first, tags::STUDY_INSTANCE_UID),
        study_date: text(first, tags::STUDY_DATE),
        study_time: text(first, tags::STUDY_TIME),
        accession_number: text(first, tags::ACCESSION_NUMBER),
        referring_physician_name: text(first, tags::REFERRING_PHYSICIAN_NAME),
        study_id: text(first, tags::STUDY_ID),
        study_description: text(first, tags::STUDY_DESCRIPTION),
        series_instance_uid: text(first, tags::SERIES_INSTANCE_UID),
        modality: text(first, tags::MODALITY),
        frame_of_reference_uid: text(first, tags::FRAME_OF_REFERENCE_UID),
        patient_age: text(first, tags::PATIENT_AGE),
        patient_size_m: number(first, tags::PATIENT_SIZE),
        patient_weight_kg: number(first, tags::PATIENT_WEIGHT),
        series_description: text(first, tags::SERIES_DESCRIPTION),
        contrast_bolus_agent: text(first, tags::CONTRAST_BOLUS_AGENT),
        protocol_name: text(first, tags::PROTOCOL_NAME),
        instances,
    })
}
