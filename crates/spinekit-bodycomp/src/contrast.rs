//! Contrast phase from the aortic blood pool (and DICOM text hints).
//!
//! The abdominal aorta is a round blood-filled tube 15–35 mm wide just anterior and to the left of the
//! vertebral bodies. On each T12–L3 slice we test circles (radius 7–17 mm) in a window anterior-left of the
//! body: a circle fits when its core (inner 80 % of the radius) is homogeneous and clearly brighter than a
//! 3 mm ring around it (bone excluded). The best-fitting circle per slice gives a mean HU; the median over the
//! slices decides the phase.

use crate::compartments::SpineFrame;
use crate::img2d::box_mean;
use crate::slice::Slice;
use serde::{Deserialize, Serialize};
use spinekit_anatomy::ContrastPhase;

/// Aortic HU below which blood is unenhanced. Engineering choice, not from clinical-reference: unenhanced
/// blood measures about 30–60 HU; clinical-reference §2.3 only says that the phase shifts bone HU, so it must
/// be known. Phantom phases: 40 (non-contrast), 160 (portal-venous), 300 (arterial) HU.
pub const AORTA_NONCONTRAST_MAX_HU: f64 = 90.0;
/// Aortic HU above which the scan is taken as arterial (engineering choice as above: portal-venous aortas
/// typically measure 120–220 HU, arterial-phase aortas 250 HU and more).
pub const AORTA_ARTERIAL_MIN_HU: f64 = 230.0;

/// The aorta found on one slice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AortaSample {
    pub level: spinekit_anatomy::Level,
    /// Centre in LPS mm.
    pub centre_mm: [f64; 3],
    pub diameter_mm: f64,
    pub mean_hu: f64,
    pub sd_hu: f64,
    /// Core mean minus the mean of the surrounding ring.
    pub contrast_to_surroundings_hu: f64,
}

/// DICOM text that may name the phase (pass what the header holds; all optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContrastHints {
    /// (0018,0010) ContrastBolusAgent.
    pub contrast_bolus_agent: Option<String>,
    /// (0008,103E) SeriesDescription.
    pub series_description: Option<String>,
    /// (0008,1030) StudyDescription or any other free text (protocol name…).
    pub other_text: Option<String>,
}

/// The phase estimate with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContrastEstimate {
    /// None when unknown.
    pub phase: Option<ContrastPhase>,
    /// 0 (a guess) … 1 (image and header agree).
    pub confidence: f64,
    /// Median aortic HU over the slices where the aorta was found.
    pub aorta_mean_hu: Option<f64>,
    pub aorta: Vec<AortaSample>,
    /// Phase named by the DICOM text, if any.
    pub phase_from_header: Option<ContrastPhase>,
    /// One line per piece of evidence, readable by a clinician.
    pub evidence: Vec<String>,
    pub method: String,
}

/// Finds the best aortic circle on one slice.
pub fn find_aorta(
    s: &Slice,
    spine: &SpineFrame,
    level: spinekit_anatomy::Level,
) -> Option<AortaSample> {
    let g = s.grid;
    let sm = box_mean(&s.hu, g, 1, 1);
    let step = 1.0f64;
    let pmin = g.spacing_mm[0].min(g.spacing_mm[1]);
    let mut best: Option<(f64, AortaSample)> = None;
    let x0 = spine.x - 10.0;
    let x1 = spine.x + 40.0;
    let y0 = spine.front_y - 40.0;
    let y1 = spine.front_y + 5.0;
    // Offsets (in mm) of the core and ring samples for each radius, sampled on a pmin lattice.
    for r in [7.0f64, 9.0, 11.0, 13.0, 15.0, 17.0] {
        let core_r = 0.8 * r;
        let (ring_lo, ring_hi) = (r + 1.5, r + 4.5);
        let lim = ring_hi.ceil();
        let mut core_off = Vec::new();
        let mut ring_off = Vec::new();
        let mut u = -lim;
        while u <= lim {
            let mut v = -lim;
            while v <= lim {
                let d = u.hypot(v);
                if d <= core_r {
                    core_off.push((u, v));
                } else if (ring_lo..=ring_hi).contains(&d) {
                    ring_off.push((u, v));
                }
                v += pmin;
            }
            u += pmin;
        }
        let mut y = y0;
        while y <= y1 {
            let mut x = x0;
            while x <= x1 {
                // Blood is never fat: skip centres that are.
                if s.index_of(x, y).is_none_or(|i| sm[i] < 0.0) {
                    x += step;
                    continue;
                }
                let mut sum = 0.0;
                let mut sq = 0.0;
                let mut cnt = 0.0;
                let mut bad = 0usize;
                for &(u, v) in &core_off {
                    match s.index_of(x + u, y + v) {
                        Some(i) if !s.vertebra[i] && s.valid[i] => {
                            let h = sm[i] as f64;
                            sum += h;
                            sq += h * h;
                            cnt += 1.0;
                        }
                        _ => bad += 1,
                    }
                }
                if cnt < 10.0 || bad as f64 > 0.05 * core_off.len() as f64 {
                    x += step;
                    continue;
                }
                let mean = sum / cnt;
                let sd = (sq / cnt - mean * mean).max(0.0).sqrt();
                if mean < 0.0 || sd > 35.0 + 0.1 * mean {
                    x += step;
                    continue;
                }
                let mut ring = Vec::with_capacity(ring_off.len());
                for &(u, v) in &ring_off {
                    if let Some(i) = s.index_of(x + u, y + v) {
                        if !s.vertebra[i] && s.valid[i] {
                            ring.push(sm[i] as f64);
                        }
                    }
                }
                if (ring.len() as f64) < 0.5 * ring_off.len() as f64 {
                    x += step;
                    continue;
                }
                // The aorta lies in fat and soft tissue, never against bowel gas.
                let gas = ring.iter().filter(|&&v| v < -300.0).count();
                if gas as f64 > 0.1 * ring.len() as f64 {
                    x += step;
                    continue;
                }
                ring.sort_by(f64::total_cmp);
                let contrast = mean - ring[ring.len() / 2];
                // Expected position: on the anterior-left surface of the vertebral body.
                let dist = (x - (spine.x + 10.0)).hypot(y - (spine.front_y - r));
                if contrast >= 50.0 {
                    let score = contrast - 0.5 * sd + 0.5 * r - 2.0 * (dist - 10.0).max(0.0);
                    if best.as_ref().is_none_or(|b| score > b.0) {
                        let p = s.pixel_of(x, y);
                        let w = s.world(p.0, p.1);
                        best = Some((
                            score,
                            AortaSample {
                                level,
                                centre_mm: w,
                                diameter_mm: 2.0 * r,
                                mean_hu: mean,
                                sd_hu: sd,
                                contrast_to_surroundings_hu: contrast,
                            },
                        ));
                    }
                }
                x += step;
            }
            y += step;
        }
    }
    best.map(|b| b.1)
}

fn phase_from_text(text: &str) -> Option<ContrastPhase> {
    let t = format!(
        " {} ",
        text.to_lowercase()
            .replace(['_', '-', '/', '(', ')', ',', '.'], " ")
    );
    let has = |w: &str| t.contains(w);
    if has(" nativ")
        || has("non contrast")
        || has("noncontrast")
        || has(" unenhanced")
        || has(" without contrast")
        || has(" w o ")
        || has(" plain ")
        || has(" nc ")
    {
        return Some(ContrastPhase::NonContrast);
    }
    if has("arteri") || has(" art ") || has(" ap ") {
        return Some(ContrastPhase::Arterial);
    }
    if has("portal") || has(" pv ") || has(" venous") || has(" venös") || has(" venoes") {
        return Some(ContrastPhase::PortalVenous);
    }
    None
}

fn phase_from_hu(hu: f64) -> ContrastPhase {
    if hu < AORTA_NONCONTRAST_MAX_HU {
        ContrastPhase::NonContrast
    } else if hu < AORTA_ARTERIAL_MIN_HU {
        ContrastPhase::PortalVenous
    } else {
        ContrastPhase::Arterial
    }
}

fn phase_name(p: ContrastPhase) -> &'static str {
    match p {
        ContrastPhase::NonContrast => "non-contrast",
        ContrastPhase::Arterial => "arterial",
        ContrastPhase::PortalVenous => "portal-venous",
    }
}

/// Combines the aortic samples and the header text into a phase estimate.
pub fn estimate(
    samples: Vec<AortaSample>,
    hints: &ContrastHints,
    slices_searched: usize,
) -> ContrastEstimate {
    let mut evidence = Vec::new();
    let mut hu: Vec<f64> = samples.iter().map(|s| s.mean_hu).collect();
    hu.sort_by(f64::total_cmp);
    let aorta_hu = (!hu.is_empty()).then(|| hu[hu.len() / 2]);
    let image_phase = aorta_hu.map(phase_from_hu);
    match aorta_hu {
        Some(h) => evidence.push(format!(
            "aorta found on {} of {} slices (T12–L3), median blood-pool {:.0} HU → {}",
            samples.len(),
            slices_searched,
            h,
            phase_name(phase_from_hu(h))
        )),
        None if slices_searched == 0 => {
            evidence.push("no T12–L3 slice available to look for the aorta".into())
        }
        None => evidence.push(format!(
            "no aorta found on the {slices_searched} T12–L3 slices searched"
        )),
    }
    // Margin of the aortic HU to the nearest decision threshold (HU), for the image confidence.
    let image_conf = aorta_hu.map(|h| {
        let m = (h - AORTA_NONCONTRAST_MAX_HU)
            .abs()
            .min((h - AORTA_ARTERIAL_MIN_HU).abs());
        let spread = if hu.len() >= 2 {
            hu[hu.len() - 1] - hu[0]
        } else {
            60.0
        };
        (0.5 + (m / 60.0).min(0.35) - (spread / 400.0).min(0.2)).clamp(0.3, 0.85)
    });
    let mut header_phase = None;
    for (name, text) in [
        ("SeriesDescription", &hints.series_description),
        ("other description", &hints.other_text),
    ] {
        if let Some(t) = text {
            if let Some(p) = phase_from_text(t) {
                evidence.push(format!("{name} names the {} phase", phase_name(p)));
                header_phase.get_or_insert(p);
            }
        }
    }
    let agent = hints
        .contrast_bolus_agent
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    let agent_given = agent.map(|a| {
        let l = a.to_lowercase();
        !(l == "none" || l == "no" || l == "nein" || l.starts_with("no "))
    });
    match agent_given {
        Some(true) => evidence.push("ContrastBolusAgent is filled in: contrast was given".into()),
        Some(false) => evidence.push("ContrastBolusAgent says no contrast".into()),
        None => {}
    }
    let (phase, confidence) = match (image_phase, header_phase) {
        (Some(i), Some(h)) if i == h => (Some(i), 0.95),
        (Some(i), Some(h)) => {
            evidence.push(format!(
                "image ({}) and header ({}) disagree: the image estimate is reported",
                phase_name(i),
                phase_name(h)
            ));
            (Some(i), 0.4)
        }
        (Some(i), None) => {
            let mut c = image_conf.unwrap_or(0.5);
            if agent_given == Some(i == ContrastPhase::NonContrast) {
                evidence.push("ContrastBolusAgent contradicts the aortic HU".into());
                c = c.min(0.4);
            } else if agent_given.is_some() {
                c = (c + 0.05).min(0.9);
            }
            (Some(i), c)
        }
        (None, Some(h)) => (Some(h), 0.6),
        (None, None) => match agent_given {
            Some(false) => (Some(ContrastPhase::NonContrast), 0.5),
            _ => (None, 0.0),
        },
    };
    ContrastEstimate {
        phase,
        confidence,
        aorta_mean_hu: aorta_hu,
        aorta: samples,
        phase_from_header: header_phase,
        evidence,
        method: format!(
            "aorta: best homogeneous bright circle (diameter 14–34 mm, core = inner 80 %, ring 1.5–4.5 mm outside, \
             vertebrae excluded (an enhanced aorta with calcified plaques may be in the engine's bone mask), core − ring median ≥ 50 HU, no gas in the ring; nearer the anterior-left surface of the body \
             scores higher) in a window 10 mm right to 40 mm left of the vertebral-body centre \
             and 40 mm anterior to 5 mm posterior of its anterior edge, on the mid-body slices of T12–L3; phase from \
             the median aortic HU: < {AORTA_NONCONTRAST_MAX_HU} non-contrast, < {AORTA_ARTERIAL_MIN_HU} \
             portal-venous, otherwise arterial (engineering thresholds, not from a cited study; clinical-reference \
             §2.3 explains why the phase matters for bone HU); DICOM SeriesDescription keywords and \
             ContrastBolusAgent raise or lower the confidence"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_keywords() {
        assert_eq!(
            phase_from_text("Abdomen NATIV 5mm"),
            Some(ContrastPhase::NonContrast)
        );
        assert_eq!(
            phase_from_text("CT ABD art. phase"),
            Some(ContrastPhase::Arterial)
        );
        assert_eq!(
            phase_from_text("Portal venous 3.0 B30f"),
            Some(ContrastPhase::PortalVenous)
        );
        assert_eq!(
            phase_from_text("non-contrast abdomen"),
            Some(ContrastPhase::NonContrast)
        );
        // "intravenous" alone names no phase.
        assert_eq!(phase_from_text("abdomen with intravenous contrast"), None);
        assert_eq!(phase_from_text("Abdomen 5mm"), None);
    }

    #[test]
    fn phase_from_header_only_and_conflict() {
        let h = ContrastHints {
            series_description: Some("PV phase portal".into()),
            ..Default::default()
        };
        let e = estimate(Vec::new(), &h, 3);
        assert_eq!(e.phase, Some(ContrastPhase::PortalVenous));
        assert!(e.evidence.iter().any(|l| l.contains("no aorta found")));
        let none = estimate(Vec::new(), &ContrastHints::default(), 0);
        assert_eq!(none.phase, None);
        assert_eq!(none.confidence, 0.0);
        let s = AortaSample {
            level: spinekit_anatomy::Level::L1,
            centre_mm: [0.0; 3],
            diameter_mm: 22.0,
            mean_hu: 310.0,
            sd_hu: 15.0,
            contrast_to_surroundings_hu: 400.0,
        };
        let c = estimate(vec![s], &h, 3);
        assert_eq!(c.phase, Some(ContrastPhase::Arterial));
        assert!(c.confidence < 0.5 && c.evidence.iter().any(|l| l.contains("disagree")));
    }
}
