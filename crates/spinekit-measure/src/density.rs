//! Opportunistic bone-density category from the trabecular HU of L1 (or its replacement).

use crate::types::*;
use spinekit_anatomy::{ContrastPhase, GenantGrade, Level};

/// Pickhardt 2013 (clinical-reference §2.2, S7), L1 manual oval ROI, 120 kVp, non-contrast or portal venous:
/// ≤ 110 HU > 90 % specific for osteoporosis; ≤ 135 HU the widely cited "at-risk" threshold (◐);
/// ≤ 160 HU 90 % sensitive; > 200 HU NPV 99 %.
pub const PICKHARDT_SPECIFIC_HU: f64 = 110.0;
pub const PICKHARDT_AT_RISK_HU: f64 = 135.0;
pub const PICKHARDT_SENSITIVE_HU: f64 = 160.0;
pub const PICKHARDT_NPV_HU: f64 = 200.0;
/// TotalSegmentator spine report (clinical-reference §2.2, S6): eroded-body median below 90.25 HU = osteoporosis.
pub const TOTALSEG_THRESHOLD_HU: f64 = 90.25;
/// TotalSegmentator phase add-ons raising every threshold (clinical-reference §2.3, S6): arterial +20 HU,
/// portal venous +14.75 HU.
pub const ARTERIAL_ADDON_HU: f64 = 20.0;
pub const PORTAL_VENOUS_ADDON_HU: f64 = 14.75;

/// Threshold add-on for a phase.
pub fn phase_addon_hu(phase: ContrastPhase) -> f64 {
    match phase {
        ContrastPhase::NonContrast => 0.0,
        ContrastPhase::Arterial => ARTERIAL_ADDON_HU,
        ContrastPhase::PortalVenous => PORTAL_VENOUS_ADDON_HU,
    }
}

/// Preference order for the density level: L1, then its neighbours (clinical-reference §2.1: T12 or L2 if L1 is
/// fractured or not visible), then the other lumbar levels.
const ORDER: [Level; 7] = [
    Level::L1,
    Level::L2,
    Level::T12,
    Level::L3,
    Level::L4,
    Level::L5,
    Level::T11,
];

/// Picks the level and grades it. `vert` holds the measured vertebrae.
pub fn assess(
    vert: &[VertebraMeasurements],
    phase: Option<ContrastPhase>,
) -> Measured<BoneDensityAssessment> {
    let mut skipped = Vec::new();
    let mut chosen = None;
    for l in ORDER {
        let Some(v) = vert.iter().find(|v| v.level == l) else {
            skipped.push(format!("{l} not in view"));
            continue;
        };
        if let Some(f) = v.fracture.value() {
            if f.genant_grade >= GenantGrade::Mild {
                skipped.push(format!("{l} deformed (Genant {})", f.genant_grade));
                continue;
            }
        }
        match &v.trabecular_roi {
            Measured::Value(t) => {
                chosen = Some((v, t));
                break;
            }
            Measured::NotMeasurable { reason } => skipped.push(format!("{l}: {reason}")),
        }
    }
    let Some((v, t)) = chosen else {
        return Measured::not(format!(
            "no lumbar or thoracolumbar level with a measurable trabecular ROI ({})",
            skipped.join("; ")
        ));
    };
    let phase_used = phase.unwrap_or(ContrastPhase::NonContrast);
    let add = phase_addon_hu(phase_used);
    let roi = t.mean_hu;
    let ts = v.eroded_body.value().map(|e| e.median_hu);
    let th = |name: &str, native: f64, meaning: &str, source: &str, value: f64, with: &str| {
        DensityThreshold {
            name: name.into(),
            compared_with: with.into(),
            native_hu: native,
            applied_hu: native + add,
            at_or_below: value <= native + add,
            meaning: meaning.into(),
            source: source.into(),
        }
    };
    let mut thresholds = vec![
        th(
            "pickhardt_specific",
            PICKHARDT_SPECIFIC_HU,
            "≤: > 90 % specific for osteoporosis (DXA T ≤ −2.5)",
            "Pickhardt 2013, clinical-reference §2.2 (S7)",
            roi,
            "trabecular_roi mean",
        ),
        th(
            "at_risk",
            PICKHARDT_AT_RISK_HU,
            "≤: widely cited at-risk threshold (sensitivity/specificity not confirmed)",
            "Pickhardt 2013; Anderson review, clinical-reference §2.2 (S17, ◐)",
            roi,
            "trabecular_roi mean",
        ),
        th(
            "pickhardt_sensitive",
            PICKHARDT_SENSITIVE_HU,
            "≤: 90 % sensitive for osteoporosis (rule-out screen: above it osteoporosis is unlikely)",
            "Pickhardt 2013, clinical-reference §2.2 (S7)",
            roi,
            "trabecular_roi mean",
        ),
        th(
            "pickhardt_npv",
            PICKHARDT_NPV_HU,
            "above it: NPV 99 % for osteoporosis",
            "Pickhardt 2013, clinical-reference §2.2 (S7)",
            roi,
            "trabecular_roi mean",
        ),
    ];
    if let Some(m) = ts {
        thresholds.push(th(
            "totalsegmentator",
            TOTALSEG_THRESHOLD_HU,
            "below: osteoporosis per the TotalSegmentator spine report (no literature source given in its code)",
            "TotalSegmentator totalseg_spine_report.py v0.1.0, clinical-reference §2.2 (S6)",
            m,
            "eroded_body median",
        ));
    }
    let category = if roi <= PICKHARDT_SPECIFIC_HU + add {
        BoneDensityCategory::OsteoporosisLikely
    } else if roi <= PICKHARDT_SENSITIVE_HU + add {
        BoneDensityCategory::LowBoneDensityPossible
    } else {
        BoneDensityCategory::OsteoporosisUnlikely
    };
    let level_choice = if v.level == Level::L1 {
        "L1 (primary level, clinical-reference §2.1)".to_string()
    } else {
        format!(
            "{} instead of L1 ({}); clinical-reference §2.1 names T12 or L2 as replacements",
            v.level,
            skipped.join("; ")
        )
    };
    let phase_note = match phase {
        None => "contrast phase unknown: native (non-contrast) thresholds assumed; if the scan is contrast \
                 enhanced, trabecular HU are raised (≈ +11 to +26 HU, clinical-reference §2.3) and the category \
                 may be too favourable"
            .to_string(),
        Some(p) => format!("phase {p:?} given: every threshold raised by {add} HU (TotalSegmentator add-on, §2.3)"),
    };
    Measured::Value(BoneDensityAssessment {
        level: v.level,
        level_choice,
        trabecular_roi_mean_hu: roi,
        eroded_body_median_hu: ts,
        phase_used,
        threshold_correction_hu: add,
        category,
        totalsegmentator_low_density: ts.map(|m| m < TOTALSEG_THRESHOLD_HU + add),
        thresholds,
        method: format!(
            "category from the trabecular ROI mean against Pickhardt 2013's thresholds (≤ {} HU osteoporosis \
             likely, ≤ {} HU low density possible, above: osteoporosis unlikely; thresholds + {add} HU for the \
             phase); {phase_note}. Thresholds assume 120 kVp (§2.1) and a manual ROI; automated ROIs read ≈ 21 HU \
             higher on average (Jang 2019, §2.1). Screening aid, not a DXA diagnosis",
            PICKHARDT_SPECIFIC_HU + add,
            PICKHARDT_SENSITIVE_HU + add
        ),
    })
}
