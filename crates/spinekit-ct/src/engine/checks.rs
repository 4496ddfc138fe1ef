//! Checks on the final labels, after delineation: the numbering cues look at the disc planes, but a vertebra can
//! still lose most of its voxels to a neighbour (faint osteoporotic marrow at 3 mm, a bridged disc), and then the
//! names may be right while the maps are not. A merged or split vertebra must never be reported as confident.

use crate::report::{NumberingStatus, SpineReport};
use crate::stats::median;
use spinekit_anatomy::Level;

/// A whole vertebra holding less than this fraction of its neighbours' median volume has lost voxels to a
/// neighbour. Adjacent vertebrae differ by far less (about 10 % per level in the lumbar spine); a severe crush
/// fracture loses about half of its body, a quarter of the whole vertebra.
const VOLUME_RATIO_MIN: f64 = 0.5;

/// A whole vertebra holding more than this many times the median volume of up to two neighbours on each side has
/// taken voxels from a neighbour or from soft tissue (a contrast-filled vessel joined to it in a noisy series:
/// several vertebrae in a row can grow into it, so the nearest neighbours alone can be as wrong as it). Vertebrae
/// two levels apart differ by about 20 %. Not for C2, whose dens makes it half as large again as C3.
const VOLUME_RATIO_MAX: f64 = 1.6;

/// Consecutive centroids closer than this fraction of the median spacing (or farther than `SPACING_RATIO_MAX`
/// times it) mean one vertebra cut in two, or two counted as one.
const SPACING_RATIO_MIN: f64 = 0.5;
const SPACING_RATIO_MAX: f64 = 1.6;

/// A vertebra taller (disc plane to disc plane) than this many times its neighbours' median spans a disc that
/// was not found: two vertebrae under one name (a narrowed, 3–4 mm disc of an older spine at coarse slices).
/// Adjacent segments differ by about 10 %; a severe crush fracture shortens one, it never lengthens it.
const HEIGHT_RATIO_MAX: f64 = 1.45;

/// Confidence given to a vertebra whose map fails a check.
const FLAGGED_CONFIDENCE: f64 = 0.3;

fn dist(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f64>().sqrt()
}

/// Flags vertebrae whose volume, height or centroid spacing is implausible next to their neighbours: their confidence
/// drops, the numbering status becomes at most `uncertain` and the reason says which vertebra and why.
pub(super) fn check_delineation(report: &mut SpineReport) {
    // Free vertebrae wholly in view, in the report's order (cranial first).
    let idx: Vec<usize> = (0..report.vertebrae.len())
        .filter(|&i| {
            let v = &report.vertebrae[i];
            !v.partial && v.level != Level::Sacrum
        })
        .collect();
    if idx.len() < 3 {
        return;
    }
    let vs = &report.vertebrae;
    let mut doubts: Vec<(usize, String)> = Vec::new();
    // A vertebra's value over the median of its neighbours' (the one or two adjacent in `idx`).
    let ratio = |n: usize, value: &dyn Fn(usize) -> Option<f64>| -> Option<f64> {
        let own = value(idx[n])?;
        let neighbours: Vec<f64> = [n.checked_sub(1), Some(n + 1)]
            .into_iter()
            .flatten()
            .filter_map(|m| idx.get(m))
            .filter_map(|&j| value(j))
            .collect();
        Some(own / median(neighbours)?)
    };
    // The same over up to two neighbours on each side.
    let ratio2 = |n: usize| -> Option<f64> {
        let neighbours: Vec<f64> = [n.checked_sub(2), n.checked_sub(1), Some(n + 1), Some(n + 2)]
            .into_iter()
            .flatten()
            .filter_map(|m| idx.get(m))
            .map(|&j| vs[j].volume_ml)
            .collect();
        Some(vs[idx[n]].volume_ml / median(neighbours)?)
    };
    for (n, &i) in idx.iter().enumerate() {
        let Some(r) = ratio(n, &|j| Some(vs[j].volume_ml)) else {
            continue;
        };
        let r2 = ratio2(n).unwrap_or(r);
        let c2 = matches!(vs[i].level, Level::C1 | Level::C2);
        if r < VOLUME_RATIO_MIN || (!c2 && r2.max(r) > VOLUME_RATIO_MAX) {
            let r = if r < VOLUME_RATIO_MIN { r } else { r2.max(r) };
            doubts.push((
                i,
                format!(
                    "{} holds {:.0} ml, {r:.1} times its neighbours (a vertebra split, merged or partly given to a \
                     neighbour: check its outline)",
                    vs[i].level, vs[i].volume_ml
                ),
            ));
        }
    }
    for (n, &i) in idx.iter().enumerate() {
        let (Some(h), Some(r)) = (vs[i].height_mm, ratio(n, &|j| vs[j].height_mm)) else {
            continue;
        };
        if r > HEIGHT_RATIO_MAX {
            doubts.push((
                i,
                format!(
                    "{} is {h:.0} mm from disc to disc, {r:.1} times its neighbours (a disc not found: two \
                     vertebrae under one name?)",
                    vs[i].level
                ),
            ));
        }
    }
    let gaps: Vec<f64> = idx
        .windows(2)
        .map(|w| dist(vs[w[0]].centroid_mm, vs[w[1]].centroid_mm))
        .collect();
    if let Some(typical) = median(gaps.clone()) {
        for (w, g) in idx.windows(2).zip(&gaps) {
            let r = g / typical;
            if !(SPACING_RATIO_MIN..=SPACING_RATIO_MAX).contains(&r) {
                doubts.push((
                    w[1],
                    format!(
                        "the centroids of {} and {} are {g:.0} mm apart, {r:.1} times the usual spacing (one vertebra \
                         cut in two or two counted as one?)",
                        vs[w[0]].level, vs[w[1]].level
                    ),
                ));
            }
        }
    }
    if doubts.is_empty() {
        return;
    }
    for (i, why) in &doubts {
        let v = &mut report.vertebrae[*i];
        v.confidence = v.confidence.min(FLAGGED_CONFIDENCE);
        report.numbering.evidence.push(why.clone());
    }
    let n = &mut report.numbering;
    if n.status == NumberingStatus::Confident {
        n.status = NumberingStatus::Uncertain;
    }
    let list: Vec<&str> = doubts.iter().map(|(_, w)| w.as_str()).collect();
    n.reason = format!("{}; {}", n.reason, list.join("; "));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Findings, Numbering, VertebraReport};
    use spinekit_anatomy::{Enumeration, Level};

    fn report(volumes_and_z: &[(Level, f64, f64)]) -> SpineReport {
        SpineReport {
            vertebrae: volumes_and_z
                .iter()
                .map(|&(level, volume_ml, z)| VertebraReport {
                    level,
                    label: level.verse_label(),
                    centroid_mm: [0.0, 0.0, z],
                    body_centroid_mm: None,
                    bbox_mm: ([0.0; 3], [0.0; 3]),
                    volume_ml,
                    height_mm: None,
                    partial: false,
                    rib_bearing: None,
                    confidence: 0.9,
                })
                .collect(),
            discs: Vec::new(),
            numbering: Numbering {
                status: NumberingStatus::Confident,
                reason: "sacrum and last rib agree".into(),
                evidence: Vec::new(),
                enumeration: Enumeration::Normal,
                sacrum_found: true,
                rib_bearing_count: 0,
                lumbar_type_count: 5,
            },
            centreline_mm: Vec::new(),
            findings: Findings {
                metal: false,
                metal_volume_ml: 0.0,
                contrast_or_dense_soft_tissue: false,
                dense_non_bone_volume_ml: 0.0,
                clipped_high_values: false,
                noise_hu: 10.0,
                blood_pool_hu: None,
                cortex_hu: 400.0,
            },
        }
    }

    #[test]
    fn regular_column_stays_confident() {
        let mut r = report(&[
            (Level::L1, 50.0, 100.0),
            (Level::L2, 55.0, 68.0),
            (Level::L3, 58.0, 35.0),
            (Level::L4, 60.0, 2.0),
        ]);
        check_delineation(&mut r);
        assert_eq!(r.numbering.status, NumberingStatus::Confident);
        assert!(r.vertebrae.iter().all(|v| v.confidence == 0.9));
    }

    #[test]
    fn a_shrunken_vertebra_or_a_short_gap_makes_it_uncertain() {
        let mut r = report(&[
            (Level::L1, 50.0, 100.0),
            (Level::L2, 55.0, 68.0),
            (Level::L3, 17.0, 35.0),
            (Level::L4, 60.0, 2.0),
            (Level::L5, 62.0, -8.0),
        ]);
        check_delineation(&mut r);
        assert_eq!(r.numbering.status, NumberingStatus::Uncertain);
        assert!(
            r.numbering.reason.contains("L3 holds 17 ml"),
            "{}",
            r.numbering.reason
        );
        assert!(
            r.numbering.reason.contains("L4 and L5"),
            "{}",
            r.numbering.reason
        );
        assert_eq!(r.vertebrae[2].confidence, FLAGGED_CONFIDENCE);
        assert_eq!(r.vertebrae[4].confidence, FLAGGED_CONFIDENCE);
        assert_eq!(r.vertebrae[0].confidence, 0.9);
    }

    #[test]
    fn a_segment_twice_as_tall_as_its_neighbours_is_flagged() {
        let mut r = report(&[
            (Level::L1, 50.0, 100.0),
            (Level::L2, 55.0, 66.0),
            (Level::L3, 80.0, 20.0),
            (Level::L4, 60.0, -25.0),
        ]);
        for (v, h) in r.vertebrae.iter_mut().zip([34.0, 35.0, 62.0, 36.0]) {
            v.height_mm = Some(h);
        }
        check_delineation(&mut r);
        assert_eq!(r.numbering.status, NumberingStatus::Uncertain);
        assert!(
            r.numbering.reason.contains("L3 is 62 mm"),
            "{}",
            r.numbering.reason
        );
        assert_eq!(r.vertebrae[2].confidence, FLAGGED_CONFIDENCE);
        // Heights within 10 % of each other pass.
        let mut ok = report(&[
            (Level::L1, 50.0, 100.0),
            (Level::L2, 55.0, 66.0),
            (Level::L3, 58.0, 31.0),
        ]);
        for (v, h) in ok.vertebrae.iter_mut().zip([34.0, 35.0, 37.0]) {
            v.height_mm = Some(h);
        }
        check_delineation(&mut ok);
        assert_eq!(ok.numbering.status, NumberingStatus::Confident);
    }
}
