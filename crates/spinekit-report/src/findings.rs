//! Plain-language findings with their evidence, derived only from the report's own numbers.

use crate::model::Finding;
use spinekit_anatomy::GenantGrade;
use spinekit_bodycomp::BodyCompositionReport;
use spinekit_ct::{NumberingStatus, SpineReport};
use spinekit_measure::{Measured, SpineMeasurements, StenosisFlag};

fn f(topic: &str, flag: bool, text: String, evidence: String) -> Finding {
    Finding {
        topic: topic.into(),
        flag,
        text,
        evidence,
    }
}

/// Findings in reading order: flagged ones first, each topic in anatomical order.
pub fn findings(
    spine: &SpineReport,
    m: &SpineMeasurements,
    bc: &Measured<BodyCompositionReport>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let n = &spine.numbering;
    let names: Vec<&str> = spine.vertebrae.iter().map(|v| v.level.name()).collect();
    let range = match (names.first(), names.last()) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => "none".into(),
    };
    out.push(f(
        "numbering",
        n.status != NumberingStatus::Confident,
        match n.status {
            NumberingStatus::Confident => format!("{} vertebrae in view, {range}; level names confident.", names.len()),
            NumberingStatus::Uncertain => format!(
                "{} vertebrae in view, {range}; level names UNCERTAIN — check the count before using any level-specific result.",
                names.len()
            ),
            NumberingStatus::Failed => format!(
                "{} vertebrae in view; level names could not be established (placeholders) — do not use level-specific results.",
                names.len()
            ),
        },
        format!("{} Evidence: {}", n.reason, n.evidence.join("; ")),
    ));

    for v in &m.vertebrae {
        let Measured::Value(fr) = &v.fracture else {
            continue;
        };
        if fr.genant_grade == GenantGrade::Normal {
            continue;
        }
        let shape = fr
            .shape
            .map(|s| format!("{s:?}").to_lowercase())
            .unwrap_or_else(|| "deformity".into());
        out.push(f(
            "fracture",
            fr.genant_grade_value >= 1,
            format!(
                "{}: {shape} deformity, Genant grade {} ({:.0} % height loss).",
                v.level.name(),
                fr.genant_grade_value,
                fr.max_loss_percent
            ),
            format!(
                "wedge loss {:.0} %, biconcave loss {:.0} %, crush loss {}; {}",
                fr.wedge_loss_percent,
                fr.biconcave_loss_percent,
                fr.crush_loss_percent
                    .map(|c| format!("{c:.0} %"))
                    .unwrap_or_else(|| "not assessable".into()),
                fr.method
            ),
        ));
    }

    match &m.bone_density {
        Measured::Value(d) => {
            let low = !matches!(
                d.category,
                spinekit_measure::BoneDensityCategory::OsteoporosisUnlikely
            );
            let words = match d.category {
                spinekit_measure::BoneDensityCategory::OsteoporosisLikely => "osteoporosis likely",
                spinekit_measure::BoneDensityCategory::LowBoneDensityPossible => {
                    "low bone density possible (between the sensitive and the specific threshold)"
                }
                spinekit_measure::BoneDensityCategory::OsteoporosisUnlikely => {
                    "osteoporosis unlikely"
                }
            };
            let th: Vec<String> = d
                .thresholds
                .iter()
                .map(|t| format!("{} {:.1} HU ({})", t.name, t.applied_hu, t.source))
                .collect();
            out.push(f(
                "bone density",
                low,
                format!(
                    "{} trabecular attenuation {:.0} HU: {words}.",
                    d.level.name(),
                    d.trabecular_roi_mean_hu
                ),
                format!(
                    "{}; phase {:?}, thresholds corrected by {:+.1} HU: {}",
                    d.level_choice,
                    d.phase_used,
                    d.threshold_correction_hu,
                    th.join("; ")
                ),
            ));
        }
        Measured::NotMeasurable { reason } => out.push(f(
            "bone density",
            false,
            "Bone density not assessed.".into(),
            reason.clone(),
        )),
    }

    if let Measured::Value(c) = &m.alignment.coronal {
        let curves: Vec<String> = c
            .curves
            .iter()
            .map(|k| {
                format!(
                    "{:.0}° {}–{} (apex {}, convex {})",
                    k.cobb_deg,
                    k.upper_end.name(),
                    k.lower_end.name(),
                    k.apex.name(),
                    k.convex
                )
            })
            .collect();
        out.push(f(
            "alignment",
            c.scoliosis,
            if c.scoliosis {
                format!(
                    "Scoliosis: largest coronal Cobb angle {:.0}°.",
                    c.max_cobb_deg
                )
            } else {
                format!(
                    "No scoliosis (largest coronal Cobb angle {:.0}°, below 10°).",
                    c.max_cobb_deg
                )
            },
            format!(
                "curves: {}; {}",
                if curves.is_empty() {
                    "none ≥ 5°".into()
                } else {
                    curves.join(", ")
                },
                c.method
            ),
        ));
    }
    for (name, a) in [
        ("Lumbar lordosis", &m.alignment.lumbar_lordosis),
        ("Thoracic kyphosis", &m.alignment.thoracic_kyphosis),
    ] {
        if let Measured::Value(s) = a {
            out.push(f(
                "alignment",
                false,
                format!(
                    "{name} {:.0}° ({}–{}{}), supine CT.",
                    s.angle_deg,
                    s.upper.name(),
                    s.lower.name(),
                    if s.standard_levels {
                        ""
                    } else {
                        ", not the standard levels"
                    }
                ),
                s.method.clone(),
            ));
        }
    }
    for p in &m.spondylolisthesis {
        if let Measured::Value(s) = &p.slip {
            if s.below_measurement_precision || s.meyerding_grade == 0 {
                continue;
            }
            out.push(f(
                "listhesis",
                true,
                format!(
                    "{} {} on {}: {:.1} mm ({:.0} %), Meyerding grade {}.{}",
                    p.upper.name(),
                    s.direction,
                    p.lower.name(),
                    s.slip_mm.abs(),
                    s.slip_percent.abs(),
                    s.meyerding_grade,
                    // Measured: 3.7 mm of false L5–S1 slip on the listhesis-free demo phantom, 9–10 mm on
                    // ct-totalseg-example: the sacrum map's S1 corner is not yet reliable.
                    if p.lower == spinekit_anatomy::Level::Sacrum {
                        " The S1 corner comes from the engine's sacrum map, which can shift it by several \
                         millimetres: verify on the images."
                    } else {
                        ""
                    }
                ),
                s.method.clone(),
            ));
        }
    }
    for c in &m.canal {
        if let Measured::Value(s) = &c.section {
            let worst = [s.ap_flag, s.area_flag];
            let word = if worst.contains(&StenosisFlag::Absolute) {
                "absolute"
            } else if worst.contains(&StenosisFlag::Relative) {
                "relative"
            } else {
                continue;
            };
            out.push(f(
                "stenosis",
                true,
                format!(
                    "{}: canal narrowed ({word} stenosis range), AP {:.1} mm, area {:.0} mm² — measured on the engine's \
                     osseous-canal map, verify on the images.",
                    c.name, s.ap_diameter_mm, s.area_mm2
                ),
                format!("{}; {}", s.thresholds, s.method),
            ));
        }
    }

    match bc {
        Measured::Value(b) => {
            for flag in b.l3.flags.iter().filter_map(|x| x.value()) {
                out.push(f(
                    "body composition",
                    flag.below_threshold,
                    format!(
                        "{}: {} ({:.1} {} vs cut-off {:.1}).",
                        flag.condition,
                        if flag.below_threshold {
                            "below the cut-off"
                        } else {
                            "not met"
                        },
                        flag.measured,
                        flag.unit,
                        flag.threshold
                    ),
                    format!("{}; {}", flag.source, flag.note),
                ));
            }
            let c = &b.contrast;
            out.push(f(
                "contrast",
                false,
                match c.phase {
                    Some(p) => format!(
                        "Contrast phase estimated as {p:?} (confidence {:.2}).",
                        c.confidence
                    ),
                    None => "Contrast phase unknown: native thresholds used.".into(),
                },
                c.evidence.join("; "),
            ));
        }
        Measured::NotMeasurable { reason } => out.push(f(
            "body composition",
            false,
            "Body composition not measured.".into(),
            reason.clone(),
        )),
    }

    let fi = &spine.findings;
    if fi.metal {
        out.push(f(
            "implants",
            true,
            format!("Metal in the field of view ({:.1} ml): streak artefacts may bias HU and heights nearby.", fi.metal_volume_ml),
            "voxels ≥ 2500 HU".into(),
        ));
    }
    out.sort_by_key(|x| !x.flag);
    out
}
