//! TID 1500 "Measurement Report" in a Comprehensive SR (PS3.3 A.35.3; PS3.16 TID 1500, 1411, 1501, 1419).

use crate::codes::{Code, UcumUnit, PRIVATE_SCHEME, PRIVATE_SCHEME_NAME};
use crate::common::{
    check_source, put_equipment, put_patient_study, write_file, IMPLEMENTATION_CLASS_UID,
};
use crate::ds::{ds, new_uid, now_utc, obj, put_code, put_seq, put_str, put_text, put_us, Obj};
use crate::seg::{SegOutput, SEGMENTATION_STORAGE};
use crate::{ReportError, SourceSeries, WriterInfo, MANUFACTURER};
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use std::path::Path;

/// Comprehensive SR Storage SOP Class UID (PS3.4 B.5); TID 1500 is allowed in it and its IOD needs no
/// spatial coordinates.
pub const COMPREHENSIVE_SR_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.88.33";

/// One numeric measurement (TID 1419 row: NUM with unit, optional method and derivation).
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub concept: Code,
    pub value: f64,
    pub unit: UcumUnit,
    /// Measurement Method (SCT 370129005), e.g. a private code naming spinekit's method.
    pub method: Option<Code>,
    /// Derivation (DCM 121401), e.g. SCT 373098007 "Mean".
    pub derivation: Option<Code>,
}

/// One Measurement Group: TID 1411 (volumetric ROI, referencing a SEG segment) when `referenced_segment` is
/// set, else TID 1501 (measurements without an ROI, e.g. body composition at L3).
#[derive(Debug, Clone, PartialEq)]
pub struct MeasurementGroup {
    /// Tracking Identifier (DCM 112039), e.g. "L3 vertebra"; a Tracking Unique Identifier is generated.
    pub tracking_id: String,
    /// Finding (DCM 121071).
    pub finding: Code,
    /// Finding Site (SCT 363698007), e.g. the vertebra code.
    pub finding_site: Option<Code>,
    /// Segment Number in the SEG written by `write_seg`.
    pub referenced_segment: Option<u16>,
    /// Measurement Method (SCT 370129005) of the whole group.
    pub method: Option<Code>,
    pub measurements: Vec<Measurement>,
}

/// What [`write_sr`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct SrOutput {
    pub sop_instance_uid: String,
    pub series_instance_uid: String,
    /// Tracking Unique Identifier of each group, in order.
    pub tracking_uids: Vec<String>,
}

fn item(rel: &str, vt: &str, concept: Option<&Code>) -> Obj {
    let mut o = obj();
    put_str(&mut o, tags::RELATIONSHIP_TYPE, VR::CS, rel);
    put_str(&mut o, tags::VALUE_TYPE, VR::CS, vt);
    if let Some(c) = concept {
        put_code(&mut o, tags::CONCEPT_NAME_CODE_SEQUENCE, c);
    }
    o
}

fn code_value(rel: &str, concept: Code, value: &Code) -> Obj {
    let mut o = item(rel, "CODE", Some(&concept));
    put_code(&mut o, tags::CONCEPT_CODE_SEQUENCE, value);
    o
}

fn text_value(rel: &str, concept: Code, value: &str) -> Obj {
    let mut o = item(rel, "TEXT", Some(&concept));
    put_text(&mut o, tags::TEXT_VALUE, VR::UT, value);
    o
}

fn uid_value(rel: &str, concept: Code, value: &str) -> Obj {
    let mut o = item(rel, "UIDREF", Some(&concept));
    put_str(&mut o, tags::UID, VR::UI, value);
    o
}

fn container(rel: Option<&str>, concept: Code, template: Option<&str>, children: Vec<Obj>) -> Obj {
    let mut o = obj();
    if let Some(r) = rel {
        put_str(&mut o, tags::RELATIONSHIP_TYPE, VR::CS, r);
    }
    put_str(&mut o, tags::VALUE_TYPE, VR::CS, "CONTAINER");
    put_code(&mut o, tags::CONCEPT_NAME_CODE_SEQUENCE, &concept);
    put_str(&mut o, tags::CONTINUITY_OF_CONTENT, VR::CS, "SEPARATE");
    if let Some(t) = template {
        let mut ts = obj();
        put_str(&mut ts, tags::MAPPING_RESOURCE, VR::CS, "DCMR");
        put_str(&mut ts, tags::TEMPLATE_IDENTIFIER, VR::CS, t);
        put_seq(&mut o, tags::CONTENT_TEMPLATE_SEQUENCE, vec![ts]);
    }
    put_seq(&mut o, tags::CONTENT_SEQUENCE, children);
    o
}

fn sop_ref(class: &str, inst: &str) -> Obj {
    let mut r = obj();
    put_str(&mut r, tags::REFERENCED_SOP_CLASS_UID, VR::UI, class);
    put_str(&mut r, tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, inst);
    r
}

fn num(m: &Measurement) -> Result<Obj, ReportError> {
    if !m.value.is_finite() {
        return Err(ReportError::Invalid(format!(
            "measurement '{}' is not a finite number",
            m.concept.meaning
        )));
    }
    let mut o = item("CONTAINS", "NUM", Some(&m.concept));
    let mut mv = obj();
    put_code(
        &mut mv,
        tags::MEASUREMENT_UNITS_CODE_SEQUENCE,
        &Code::new(&m.unit.code, "UCUM", &m.unit.meaning),
    );
    put_str(&mut mv, tags::NUMERIC_VALUE, VR::DS, &ds(m.value));
    mv.put(DataElement::new(
        tags::FLOATING_POINT_VALUE,
        VR::FD,
        PrimitiveValue::from(m.value),
    ));
    put_seq(&mut o, tags::MEASURED_VALUE_SEQUENCE, vec![mv]);
    let mut mods = Vec::new();
    if let Some(meth) = &m.method {
        mods.push(code_value(
            "HAS CONCEPT MOD",
            Code::sct("370129005", "Measurement Method"),
            meth,
        ));
    }
    if let Some(d) = &m.derivation {
        mods.push(code_value(
            "HAS CONCEPT MOD",
            Code::dcm("121401", "Derivation"),
            d,
        ));
    }
    if !mods.is_empty() {
        put_seq(&mut o, tags::CONTENT_SEQUENCE, mods);
    }
    Ok(o)
}

/// Writes a TID 1500 Measurement Report (Comprehensive SR) to `path` (atomically).
///
/// The Image Library lists every source instance; groups with a `referenced_segment` reference that segment of
/// `seg` (required then) and the source series; the SEG and the source images are listed as evidence
/// (Current Requested Procedure Evidence Sequence).
pub fn write_sr(
    path: &Path,
    source: &SourceSeries,
    seg: Option<&SegOutput>,
    groups: &[MeasurementGroup],
    info: &WriterInfo,
) -> Result<SrOutput, ReportError> {
    check_source(source)?;
    if groups.is_empty() {
        return Err(ReportError::Empty("no measurement group".into()));
    }
    let mut uses_private = false;
    let mut tracking_uids = Vec::new();
    let mut group_items = Vec::new();
    for g in groups {
        if g.measurements.is_empty() {
            return Err(ReportError::Empty(format!(
                "measurement group '{}' has no measurement",
                g.tracking_id
            )));
        }
        let tuid = new_uid();
        let mut ch = vec![
            text_value(
                "CONTAINS",
                Code::dcm("112039", "Tracking Identifier"),
                &g.tracking_id,
            ),
            uid_value(
                "CONTAINS",
                Code::dcm("112040", "Tracking Unique Identifier"),
                &tuid,
            ),
            code_value("CONTAINS", Code::dcm("121071", "Finding"), &g.finding),
        ];
        let template = match g.referenced_segment {
            Some(n) => {
                let seg = seg.ok_or_else(|| {
                    ReportError::Invalid(format!(
                        "group '{}' references a segment but no SEG was written",
                        g.tracking_id
                    ))
                })?;
                if !seg.segments.iter().any(|(s, _)| *s == n) {
                    return Err(ReportError::Invalid(format!(
                        "group '{}' references segment {n}, which the SEG does not contain",
                        g.tracking_id
                    )));
                }
                let mut im = item(
                    "CONTAINS",
                    "IMAGE",
                    Some(&Code::dcm("121191", "Referenced Segment")),
                );
                let mut r = sop_ref(SEGMENTATION_STORAGE, &seg.sop_instance_uid);
                put_us(&mut r, tags::REFERENCED_SEGMENT_NUMBER, n);
                put_seq(&mut im, tags::REFERENCED_SOP_SEQUENCE, vec![r]);
                ch.push(im);
                ch.push(uid_value(
                    "CONTAINS",
                    Code::dcm("121232", "Source series for segmentation"),
                    &source.series_instance_uid,
                ));
                "1411"
            }
            None => "1501",
        };
        if let Some(m) = &g.method {
            ch.push(code_value(
                "HAS CONCEPT MOD",
                Code::sct("370129005", "Measurement Method"),
                m,
            ));
        }
        if let Some(site) = &g.finding_site {
            ch.push(code_value(
                "HAS CONCEPT MOD",
                Code::sct("363698007", "Finding Site"),
                site,
            ));
        }
        for m in &g.measurements {
            ch.push(num(m)?);
        }
        let codes = [Some(&g.finding), g.finding_site.as_ref(), g.method.as_ref()]
            .into_iter()
            .flatten()
            .chain(g.measurements.iter().flat_map(|m| {
                [Some(&m.concept), m.method.as_ref(), m.derivation.as_ref()]
                    .into_iter()
                    .flatten()
            }))
            .any(|c| c.scheme == PRIVATE_SCHEME);
        uses_private |= codes;
        group_items.push(container(
            Some("CONTAINS"),
            Code::dcm("125007", "Measurement Group"),
            Some(template),
            ch,
        ));
        tracking_uids.push(tuid);
    }

    // Root content (TID 1500).
    let library_entries: Vec<Obj> = source
        .instances
        .iter()
        .map(|i| {
            let mut im = item("CONTAINS", "IMAGE", None);
            put_seq(
                &mut im,
                tags::REFERENCED_SOP_SEQUENCE,
                vec![sop_ref(&i.sop_class_uid, &i.sop_instance_uid)],
            );
            im
        })
        .collect();
    let library_group = container(
        Some("CONTAINS"),
        Code::dcm("126200", "Image Library Group"),
        None,
        library_entries,
    );
    let mut root_children = vec![
        code_value(
            "HAS CONCEPT MOD",
            Code::dcm("121049", "Language of Content Item and Descendants"),
            &Code::new("en-US", "RFC5646", "English (United States)"),
        ),
        code_value(
            "HAS OBS CONTEXT",
            Code::dcm("121005", "Observer Type"),
            &Code::dcm("121007", "Device"),
        ),
        uid_value(
            "HAS OBS CONTEXT",
            Code::dcm("121012", "Device Observer UID"),
            IMPLEMENTATION_CLASS_UID,
        ),
        text_value(
            "HAS OBS CONTEXT",
            Code::dcm("121013", "Device Observer Name"),
            MANUFACTURER,
        ),
        text_value(
            "HAS OBS CONTEXT",
            Code::dcm("121014", "Device Observer Manufacturer"),
            MANUFACTURER,
        ),
        text_value(
            "HAS OBS CONTEXT",
            Code::dcm("121015", "Device Observer Model Name"),
            &format!("{MANUFACTURER} {}", info.software_version),
        ),
        code_value(
            "HAS CONCEPT MOD",
            Code::dcm("121058", "Procedure reported"),
            &Code::new("25045-6", "LN", "CT unspecified body region"),
        ),
    ];
    root_children.push(container(
        Some("CONTAINS"),
        Code::dcm("111028", "Image Library"),
        None,
        vec![library_group],
    ));
    root_children.push(container(
        Some("CONTAINS"),
        Code::dcm("126010", "Imaging Measurements"),
        None,
        group_items,
    ));

    let sop_uid = new_uid();
    let series_uid = new_uid();
    let (date, time) = now_utc();
    let mut o = container(
        None,
        Code::dcm("126000", "Imaging Measurement Report"),
        Some("1500"),
        root_children,
    );
    put_patient_study(&mut o, source);
    put_str(
        &mut o,
        tags::SOP_CLASS_UID,
        VR::UI,
        COMPREHENSIVE_SR_STORAGE,
    );
    put_str(&mut o, tags::SOP_INSTANCE_UID, VR::UI, &sop_uid);
    put_str(&mut o, tags::INSTANCE_CREATION_DATE, VR::DA, &date);
    put_str(&mut o, tags::INSTANCE_CREATION_TIME, VR::TM, &time);
    put_text(&mut o, tags::TIMEZONE_OFFSET_FROM_UTC, VR::SH, "+0000");
    put_str(&mut o, tags::MODALITY, VR::CS, "SR");
    put_str(&mut o, tags::SERIES_INSTANCE_UID, VR::UI, &series_uid);
    put_str(
        &mut o,
        tags::SERIES_NUMBER,
        VR::IS,
        &info.sr_series_number.to_string(),
    );
    put_str(&mut o, tags::SERIES_DATE, VR::DA, &date);
    put_str(&mut o, tags::SERIES_TIME, VR::TM, &time);
    put_text(
        &mut o,
        tags::SERIES_DESCRIPTION,
        VR::LO,
        &info.sr_series_description,
    );
    put_seq(
        &mut o,
        tags::REFERENCED_PERFORMED_PROCEDURE_STEP_SEQUENCE,
        vec![],
    );
    put_equipment(&mut o, info);
    put_str(&mut o, tags::INSTANCE_NUMBER, VR::IS, "1");
    put_str(&mut o, tags::COMPLETION_FLAG, VR::CS, "COMPLETE");
    put_str(&mut o, tags::VERIFICATION_FLAG, VR::CS, "UNVERIFIED");
    put_str(&mut o, tags::CONTENT_DATE, VR::DA, &date);
    put_str(&mut o, tags::CONTENT_TIME, VR::TM, &time);
    put_seq(&mut o, tags::PERFORMED_PROCEDURE_CODE_SEQUENCE, vec![]);

    // Evidence: the source images and the SEG (Hierarchical SOP Instance Reference macro).
    let mut series = Vec::new();
    let mut src = obj();
    put_str(
        &mut src,
        tags::SERIES_INSTANCE_UID,
        VR::UI,
        &source.series_instance_uid,
    );
    put_seq(
        &mut src,
        tags::REFERENCED_SOP_SEQUENCE,
        source
            .instances
            .iter()
            .map(|i| sop_ref(&i.sop_class_uid, &i.sop_instance_uid))
            .collect(),
    );
    series.push(src);
    if let Some(seg) = seg {
        let mut s = obj();
        put_str(
            &mut s,
            tags::SERIES_INSTANCE_UID,
            VR::UI,
            &seg.series_instance_uid,
        );
        put_seq(
            &mut s,
            tags::REFERENCED_SOP_SEQUENCE,
            vec![sop_ref(SEGMENTATION_STORAGE, &seg.sop_instance_uid)],
        );
        series.push(s);
    }
    let mut ev = obj();
    put_seq(&mut ev, tags::REFERENCED_SERIES_SEQUENCE, series);
    put_str(
        &mut ev,
        tags::STUDY_INSTANCE_UID,
        VR::UI,
        &source.study_instance_uid,
    );
    put_seq(
        &mut o,
        tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE,
        vec![ev],
    );

    if uses_private {
        let mut cs = obj();
        put_text(
            &mut cs,
            tags::CODING_SCHEME_DESIGNATOR,
            VR::SH,
            PRIVATE_SCHEME,
        );
        put_text(
            &mut cs,
            tags::CODING_SCHEME_NAME,
            VR::ST,
            PRIVATE_SCHEME_NAME,
        );
        put_text(
            &mut cs,
            tags::CODING_SCHEME_RESPONSIBLE_ORGANIZATION,
            VR::ST,
            MANUFACTURER,
        );
        put_seq(
            &mut o,
            tags::CODING_SCHEME_IDENTIFICATION_SEQUENCE,
            vec![cs],
        );
    }
    write_file(path, o, COMPREHENSIVE_SR_STORAGE)?;
    Ok(SrOutput {
        sop_instance_uid: sop_uid,
        series_instance_uid: series_uid,
        tracking_uids,
    })
}
