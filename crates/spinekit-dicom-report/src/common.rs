//! Modules shared by the SEG and the SR: Patient, General Study, General Series/Equipment, SOP Common.

use crate::ds::{put_str, truncate, Obj};
use crate::{ReportError, SourceSeries};
use crate::{WriterInfo, MANUFACTURER};
use dicom_core::VR;
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use std::path::Path;

/// Explicit VR Little Endian (PS3.5 A.2).
pub(crate) const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";

/// Patient module (C.7.1.1) and General Study module (C.7.2.1), copied from the source; type 2 attributes are
/// present (empty) when the source lacks them.
pub(crate) fn put_patient_study(o: &mut Obj, s: &SourceSeries) {
    if !s.specific_character_set.is_empty() {
        put_str(
            o,
            tags::SPECIFIC_CHARACTER_SET,
            VR::CS,
            &s.specific_character_set,
        );
    }
    put_str(o, tags::PATIENT_NAME, VR::PN, &s.patient_name);
    put_str(o, tags::PATIENT_ID, VR::LO, &s.patient_id);
    put_str(o, tags::PATIENT_BIRTH_DATE, VR::DA, &s.patient_birth_date);
    put_str(o, tags::PATIENT_SEX, VR::CS, &s.patient_sex);
    put_str(o, tags::STUDY_INSTANCE_UID, VR::UI, &s.study_instance_uid);
    put_str(o, tags::STUDY_DATE, VR::DA, &s.study_date);
    put_str(o, tags::STUDY_TIME, VR::TM, &s.study_time);
    put_str(o, tags::ACCESSION_NUMBER, VR::SH, &s.accession_number);
    put_str(
        o,
        tags::REFERRING_PHYSICIAN_NAME,
        VR::PN,
        &s.referring_physician_name,
    );
    put_str(o, tags::STUDY_ID, VR::SH, &s.study_id);
    if !s.study_description.is_empty() {
        put_str(o, tags::STUDY_DESCRIPTION, VR::LO, &s.study_description);
    }
}

/// Equipment (C.7.5.1 / C.7.5.2 Enhanced General Equipment): manufacturer, model, serial, software version.
pub(crate) fn put_equipment(o: &mut Obj, w: &WriterInfo) {
    put_str(o, tags::MANUFACTURER, VR::LO, MANUFACTURER);
    put_str(o, tags::MANUFACTURER_MODEL_NAME, VR::LO, MANUFACTURER);
    put_str(
        o,
        tags::DEVICE_SERIAL_NUMBER,
        VR::LO,
        &truncate(&w.device_serial_number, 64),
    );
    put_str(
        o,
        tags::SOFTWARE_VERSIONS,
        VR::LO,
        &truncate(&w.software_version, 64),
    );
}

/// Checks the source carries what every derived object must reference.
pub(crate) fn check_source(s: &SourceSeries) -> Result<(), ReportError> {
    let missing = [
        (
            s.study_instance_uid.is_empty(),
            "StudyInstanceUID (see complete_source)",
        ),
        (
            s.series_instance_uid.is_empty(),
            "SeriesInstanceUID (see complete_source)",
        ),
        (s.instances.is_empty(), "source instances"),
        (
            s.instances
                .iter()
                .any(|i| i.sop_instance_uid.is_empty() || i.sop_class_uid.is_empty()),
            "SOP Class/Instance UIDs of some source images",
        ),
    ];
    match missing.iter().find(|(m, _)| *m) {
        Some((_, what)) => Err(ReportError::Invalid(format!(
            "the source series lacks {what}"
        ))),
        None => Ok(()),
    }
}

/// Writes `o` as a DICOM Part 10 file (Explicit VR Little Endian) atomically.
pub(crate) fn write_file(
    path: &Path,
    o: InMemDicomObject,
    sop_class: &str,
) -> Result<(), ReportError> {
    let file = o
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax(EXPLICIT_VR_LE)
                .media_storage_sop_class_uid(sop_class)
                .implementation_class_uid(IMPLEMENTATION_CLASS_UID)
                .implementation_version_name("SPINEKIT"),
        )
        .map_err(|e| ReportError::Encode(e.to_string()))?;
    spinekit_atomic::write_atomic(path, |w| {
        file.write_all(w)
            .map_err(|e| ReportError::Encode(e.to_string()))
    })
}

/// Implementation Class UID (0002,0012) of spinekit: a fixed UUID-derived UID (2.25 root, PS3.5 B.2).
pub(crate) const IMPLEMENTATION_CLASS_UID: &str = "2.25.187204510950322418917446305413851427517";

/// Fills the UIDs an anonymiser may have blanked (StudyInstanceUID, SeriesInstanceUID, FrameOfReferenceUID) with
/// new ones so that the SEG and SR can still be written; call it once and pass the same source to both writers so
/// that they agree. Returns one warning per substitute (no patient data).
pub fn complete_source(source: &mut SourceSeries) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut fill = |uid: &mut String, what: &str, consequence: &str| {
        if uid.is_empty() {
            *uid = crate::ds::new_uid();
            warnings.push(format!(
                "the source series has no {what}: a new one was generated for the outputs ({consequence})"
            ));
        }
    };
    fill(
        &mut source.study_instance_uid,
        "StudyInstanceUID",
        "they will not be filed with the source study",
    );
    fill(
        &mut source.series_instance_uid,
        "SeriesInstanceUID",
        "the reference to the source series cannot resolve",
    );
    fill(
        &mut source.frame_of_reference_uid,
        "FrameOfReferenceUID",
        "viewers may not overlay the segmentation on the CT automatically",
    );
    warnings
}
