//! The report as DICOM: `seg.dcm` (one segment per level) and `sr.dcm` (TID 1500, one measurement group per
//! vertebra and one for L3 body composition), rendered from the same [`AnalysisReport`] as the JSON and HTML.
//! `dicom.json` lists what the two files hold (UIDs, segments, groups, values) for scripts and for the CI check.

use crate::model::AnalysisReport;
use spinekit_anatomy::Level;
use spinekit_ct::NumberingStatus;
use spinekit_dicom_report::{
    attenuation_coefficient, level_code, mean, unnamed_label, volume, write_seg, write_sr, Code,
    LabelLayer, Measurement, MeasurementGroup, ReportError, SegOutput, SegmentSpec, SourceSeries,
    SrOutput, UcumUnit, WriterInfo,
};
use spinekit_image::Volume;
use spinekit_measure::Measured;
use std::path::Path;

/// SNOMED CT "Median" (DICOM CID 7464, as listed in pydicom's copy of PS3.16).
fn median() -> Code {
    Code::sct("373099004", "Median")
}

fn private(value: &str, meaning: &str) -> Code {
    Code::private(value, meaning)
}

fn m(
    concept: Code,
    value: f64,
    unit: UcumUnit,
    method: Option<Code>,
    derivation: Option<Code>,
) -> Option<Measurement> {
    value.is_finite().then_some(Measurement {
        concept,
        value,
        unit,
        method,
        derivation,
    })
}

/// True when the engine could not anchor the numbering: level names are placeholders and must not be written
/// as anatomy into DICOM.
fn numbering_failed(r: &AnalysisReport) -> bool {
    r.spine.numbering.status == NumberingStatus::Failed
}

/// The SEG segment for each vertebra of the report, in the report's order (cranial first). With a failed
/// numbering the segments are "vertebra N (level unknown)" with the generic Vertebra type; with an uncertain one
/// they keep the most likely level and say why in the Segment Description.
pub fn segment_specs(r: &AnalysisReport) -> Vec<SegmentSpec> {
    let n = &r.spine.numbering;
    r.spine
        .vertebrae
        .iter()
        .enumerate()
        .map(|(i, v)| match n.status {
            NumberingStatus::Failed => SegmentSpec::unnamed_vertebra(v.label, i + 1),
            NumberingStatus::Uncertain => SegmentSpec {
                description: Some(format!(
                    "most likely level; numbering uncertain: {}",
                    n.reason
                )),
                ..SegmentSpec::vertebra(v.level)
            },
            NumberingStatus::Confident => SegmentSpec::vertebra(v.level),
        })
        .collect()
}

/// The segment label of a level in this report (see [`segment_specs`]).
fn segment_label(r: &AnalysisReport, level: Level) -> Option<String> {
    if numbering_failed(r) {
        let i = r.spine.vertebrae.iter().position(|v| v.level == level)?;
        Some(unnamed_label(i + 1))
    } else {
        Some(level.name().to_string())
    }
}

/// Measurement groups for the SR: every measured vertebra (with its segment number) and L3 body composition
/// (the latter only when the levels are anchored).
pub fn measurement_groups(r: &AnalysisReport, seg: &SegOutput) -> Vec<MeasurementGroup> {
    let mut groups = Vec::new();
    let failed = numbering_failed(r);
    for v in &r.measurements.vertebrae {
        let Some(label) = segment_label(r, v.level) else {
            continue;
        };
        let Some(&(number, _)) = seg.segments.iter().find(|(_, l)| *l == label) else {
            continue;
        };
        let mut ms: Vec<Option<Measurement>> = Vec::new();
        // The whole-vertebra volume exists for every segment, so each segment has a group even when the body
        // could not be measured (a partial vertebra at the edge of the view).
        if let Some(sv) = r.spine.vertebrae.iter().find(|s| s.level == v.level) {
            ms.push(m(
                volume(),
                sv.volume_ml,
                UcumUnit::ml(),
                Some(private(
                    "SPK-VERTEBRA-MASK",
                    "Whole vertebra mask voxel count times voxel volume",
                )),
                None,
            ));
        }
        if let Measured::Value(b) = &v.body {
            ms.push(m(
                volume(),
                b.volume_ml,
                UcumUnit::ml(),
                Some(private(
                    "SPK-BODY-MASK",
                    "Vertebral body mask voxel count times voxel volume",
                )),
                None,
            ));
        }
        if let Measured::Value(h) = &v.heights {
            let method = Some(private(
                "SPK-HEIGHTS",
                "Body heights in the mid-sagittal plane at 15/50/85 % of depth (clinical-reference 1.1)",
            ));
            for (code, meaning, val) in [
                ("SPK-HA", "Anterior vertebral body height", h.anterior_mm),
                ("SPK-HM", "Middle vertebral body height", h.middle_mm),
                ("SPK-HP", "Posterior vertebral body height", h.posterior_mm),
            ] {
                ms.push(m(
                    private(code, meaning),
                    val,
                    UcumUnit::mm(),
                    method.clone(),
                    None,
                ));
            }
        }
        if let Measured::Value(f) = &v.fracture {
            ms.push(m(
                private("SPK-GENANT", "Genant semiquantitative fracture grade"),
                f.genant_grade_value as f64,
                UcumUnit {
                    code: "{grade}".into(),
                    meaning: "grade".into(),
                },
                Some(private(
                    "SPK-GENANT-QM",
                    "Genant grade from the largest height loss (clinical-reference 1.2)",
                )),
                None,
            ));
        }
        if let Measured::Value(h) = &v.trabecular_roi {
            ms.push(m(
                attenuation_coefficient(),
                h.mean_hu,
                UcumUnit::hu(),
                Some(private(
                    "SPK-TRAB-ROI",
                    "Anterior trabecular ROI away from cortex and basivertebral vein (clinical-reference 2.1)",
                )),
                Some(mean()),
            ));
        }
        if let Measured::Value(h) = &v.eroded_body {
            ms.push(m(
                attenuation_coefficient(),
                h.median_hu,
                UcumUnit::hu(),
                Some(private(
                    "SPK-ERODED-BODY",
                    "Vertebral body eroded by 4 mm (TotalSegmentator convention)",
                )),
                Some(median()),
            ));
        }
        let ms: Vec<Measurement> = ms.into_iter().flatten().collect();
        if ms.is_empty() {
            continue;
        }
        groups.push(MeasurementGroup {
            tracking_id: if failed {
                label.clone()
            } else {
                format!("{} vertebra", v.level.name())
            },
            finding: spinekit_dicom_report::vertebra(),
            finding_site: Some(if failed {
                spinekit_dicom_report::vertebra()
            } else {
                level_code(v.level)
            }),
            referenced_segment: Some(number),
            method: Some(private(
                "SPK-CT-ENGINE",
                "spinekit classical CT spine engine and measurements",
            )),
            measurements: ms,
        });
    }
    // "L3" is a placeholder when the numbering failed: no body-composition group is claimed for it.
    if let (false, Measured::Value(b)) = (failed, &r.body_composition) {
        let l3 = b
            .levels
            .iter()
            .find(|e| e.level == Level::L3)
            .and_then(|e| e.result.value());
        if let Some(c) = l3 {
            let area = |code: &str, meaning: &str, v: &spinekit_bodycomp::Measured<f64>| {
                v.value()
                    .and_then(|&x| m(private(code, meaning), x, UcumUnit::cm2(), None, None))
            };
            let mut ms = vec![
                area(
                    "SPK-SMA",
                    "Skeletal muscle area (-29..150 HU)",
                    &c.skeletal_muscle_area_cm2,
                ),
                area(
                    "SPK-VAT",
                    "Visceral fat area (-190..-30 HU)",
                    &c.visceral_fat_area_cm2,
                ),
                area(
                    "SPK-SAT",
                    "Subcutaneous fat area (-190..-30 HU)",
                    &c.subcutaneous_fat_area_cm2,
                ),
                area(
                    "SPK-IMAT",
                    "Intermuscular fat area (-190..-30 HU)",
                    &c.imat_area_cm2,
                ),
                c.muscle_mean_hu.value().and_then(|&x| {
                    m(
                        attenuation_coefficient(),
                        x,
                        UcumUnit::hu(),
                        Some(private(
                            "SPK-MUSCLE-HU",
                            "Over skeletal muscle pixels of the L3 slice",
                        )),
                        Some(mean()),
                    )
                }),
            ];
            if let Some(&smi) = b.l3.skeletal_muscle_index_cm2_per_m2.value() {
                ms.push(m(
                    private("SPK-SMI", "Skeletal muscle index"),
                    smi,
                    UcumUnit::cm2_per_m2(),
                    None,
                    None,
                ));
            }
            let ms: Vec<Measurement> = ms.into_iter().flatten().collect();
            if !ms.is_empty() {
                groups.push(MeasurementGroup {
                    tracking_id: "L3 body composition".into(),
                    finding: private("SPK-BODYCOMP", "Body composition at L3"),
                    finding_site: Some(level_code(Level::L3)),
                    referenced_segment: None,
                    method: Some(private(
                        "SPK-BODYCOMP-SLICE",
                        "Single axial slice through the L3 body centre (clinical-reference 3.1)",
                    )),
                    measurements: ms,
                });
            }
        }
    }
    groups
}

/// What was written.
pub struct DicomOutputs {
    pub seg: SegOutput,
    pub sr: SrOutput,
    /// The `dicom.json` content.
    pub index: serde_json::Value,
}

/// Writes `seg.dcm`, `sr.dcm` and `dicom.json` into `dir`. `labels` must be on the source series' grid.
pub fn write_dicom(
    dir: &Path,
    source: &SourceSeries,
    report: &AnalysisReport,
    labels: &Volume<u8>,
) -> Result<DicomOutputs, ReportError> {
    let info = WriterInfo::default();
    let specs = segment_specs(report);
    let values: Vec<(String, u8)> = specs
        .iter()
        .map(|s| (s.label.clone(), s.label_value))
        .collect();
    let seg = write_seg(
        &dir.join("seg.dcm"),
        source,
        &[LabelLayer {
            labels,
            segments: specs,
        }],
        &info,
    )?;
    let groups = measurement_groups(report, &seg);
    // SEG and SR are one result: without the SR, the SEG is removed rather than left alone.
    let sr = match write_sr(&dir.join("sr.dcm"), source, Some(&seg), &groups, &info) {
        Ok(sr) => sr,
        Err(e) => {
            let _ = std::fs::remove_file(dir.join("seg.dcm"));
            return Err(e);
        }
    };
    let g = labels.geometry();
    let index = serde_json::json!({
        "seg_sop_instance_uid": seg.sop_instance_uid,
        "sr_sop_instance_uid": sr.sop_instance_uid,
        "segments": seg.segments.iter().map(|(n, l)| {
            let lab = values.iter().find(|(name, _)| name == l).map(|(_, v)| *v).unwrap_or(0);
            let voxels = labels.data().iter().filter(|&&x| x == lab).count();
            serde_json::json!({"number": n, "label": l, "voxels": voxels})
        }).collect::<Vec<_>>(),
        "frames": seg.frames,
        "source_study_instance_uid": source.study_instance_uid,
        "source_series_instance_uid": source.series_instance_uid,
        "frame_of_reference_uid": source.frame_of_reference_uid,
        "frames_without_source": seg.frames_without_source,
        "geometry": {"origin_mm": g.origin_mm, "spacing_mm": g.spacing_mm, "direction": g.direction, "dims": labels.dims()},
        "groups": groups.iter().map(|gr| serde_json::json!({
            "tracking_id": gr.tracking_id,
            "finding_site": gr.finding_site.as_ref().map(|c| c.value.clone()),
            "referenced_segment": gr.referenced_segment,
            "measurements": gr.measurements.iter().map(|x| serde_json::json!({
                "concept": [x.concept.value, x.concept.scheme, x.concept.meaning],
                "value": x.value,
                "unit": x.unit.code,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    spinekit_atomic::write_bytes_atomic(
        &dir.join("dicom.json"),
        serde_json::to_string_pretty(&index)
            .map_err(|e| ReportError::Encode(e.to_string()))?
            .as_bytes(),
    )?;
    Ok(DicomOutputs { seg, sr, index })
}
