//! Coronal Cobb angles, lumbar lordosis, thoracic kyphosis and spondylolisthesis from fitted endplates.

use crate::geom::*;
use crate::types::*;
use spinekit_anatomy::{Level, Region};

/// Curves are reported from 5° (as in the phantom truth); scoliosis is a Cobb angle ≥ 10° (clinical-reference
/// §4.1, S36a).
pub const CURVE_REPORT_DEG: f64 = 5.0;
pub const SCOLIOSIS_DEG: f64 = 10.0;
/// A turn of the tilt sequence must exceed this to end a curve (hysteresis against endplate noise).
const TURN_DEG: f64 = 5.0;

/// Per vertebra: level, superior and inferior endplate (cranial first).
pub struct Tilts<'a> {
    pub level: Level,
    pub sup: &'a EndplateMeasure,
    pub inf: &'a EndplateMeasure,
}

/// Coronal curves between the turning points of the vertebral tilt sequence.
pub fn coronal(seq: &[Tilts]) -> Measured<CoronalAlignment> {
    if seq.len() < 3 {
        return Measured::not(format!(
            "{} vertebrae with both endplates measured; a Cobb angle needs at least 3",
            seq.len()
        ));
    }
    let mid: Vec<f64> = seq
        .iter()
        .map(|t| 0.5 * (t.sup.coronal_tilt_deg + t.inf.coronal_tilt_deg))
        .collect();
    let ext = turning_points(&mid, TURN_DEG);
    let n = seq.len();
    let mut curves = Vec::new();
    for w in ext.windows(2) {
        // The end vertebrae are the most tilted: search ±1 around each turning point for the pair of
        // endplates (superior of the upper, inferior of the lower) that makes the largest angle.
        let mut best: Option<(usize, usize, f64)> = None;
        for a in w[0].saturating_sub(1)..=(w[0] + 1).min(n - 1) {
            for b in w[1].saturating_sub(1)..=(w[1] + 1).min(n - 1) {
                if b <= a + 1 {
                    continue;
                }
                let ang = seq[b].inf.coronal_tilt_deg - seq[a].sup.coronal_tilt_deg;
                if best.is_none_or(|x| ang.abs() > x.2.abs()) {
                    best = Some((a, b, ang));
                }
            }
        }
        let Some((a, b, ang)) = best else { continue };
        if ang.abs() < CURVE_REPORT_DEG {
            continue;
        }
        let target = 0.5 * (seq[a].sup.coronal_tilt_deg + seq[b].inf.coronal_tilt_deg);
        let apex = (a..=b)
            .min_by(|&i, &j| (mid[i] - target).abs().total_cmp(&(mid[j] - target).abs()))
            .unwrap_or(a);
        curves.push(CobbCurve {
            upper_end: seq[a].level,
            lower_end: seq[b].level,
            apex: seq[apex].level,
            cobb_deg: ang.abs(),
            convex: if ang > 0.0 { Side::Right } else { Side::Left },
        });
    }
    let max = curves.iter().map(|c| c.cobb_deg).fold(0.0, f64::max);
    Measured::Value(CoronalAlignment {
        max_cobb_deg: max,
        scoliosis: max >= SCOLIOSIS_DEG,
        curves,
        levels_used: seq.iter().map(|t| t.level).collect(),
        method: format!(
            "Cobb (clinical-reference §4.1, S36a): angle between the superior endplate of the upper end vertebra \
             and the inferior endplate of the lower end vertebra, from each endplate's coronal tilt (its normal \
             projected on the coronal plane, against the scanner's axial plane). Curves run between turning points \
             of the vertebral tilt sequence (mean of both endplates; a turn must exceed {TURN_DEG}°); end vertebrae \
             are the most tilted within ±1 level of each turning point; apex = the vertebra whose tilt is closest \
             to the mean of the end tilts; curves ≥ {CURVE_REPORT_DEG}° reported, scoliosis ≥ {SCOLIOSIS_DEG}°. \
             Supine CT: curves are smaller than on standing radiographs."
        ),
    })
}

/// Indices of the alternating extrema of `v` whose swings exceed `thr` (zig-zag with hysteresis). Empty when
/// nothing swings by `thr`.
pub fn turning_points(v: &[f64], thr: f64) -> Vec<usize> {
    let n = v.len();
    let mut ext = Vec::new();
    let (mut imin, mut imax) = (0usize, 0usize);
    let mut dir = 0i32;
    let mut cand = 0usize;
    for i in 1..n {
        match dir {
            0 => {
                if v[i] < v[imin] {
                    imin = i;
                }
                if v[i] > v[imax] {
                    imax = i;
                }
                if v[i] - v[imin] >= thr && imin < i {
                    ext.push(imin);
                    dir = 1;
                    cand = i;
                } else if v[imax] - v[i] >= thr && imax < i {
                    ext.push(imax);
                    dir = -1;
                    cand = i;
                }
            }
            1 => {
                if v[i] > v[cand] {
                    cand = i;
                } else if v[cand] - v[i] >= thr {
                    ext.push(cand);
                    dir = -1;
                    cand = i;
                }
            }
            _ => {
                if v[i] < v[cand] {
                    cand = i;
                } else if v[i] - v[cand] >= thr {
                    ext.push(cand);
                    dir = 1;
                    cand = i;
                }
            }
        }
    }
    if dir != 0 {
        ext.push(cand);
    }
    ext
}

/// Endplates available per level.
pub struct EndplateSet<'a> {
    pub level: Level,
    pub sup: Option<&'a EndplateMeasure>,
    pub inf: Option<&'a EndplateMeasure>,
}

/// Lumbar lordosis L1 superior → S1 superior endplate (clinical-reference §4.1, S29); positive = lordotic.
pub fn lumbar_lordosis(set: &[EndplateSet]) -> Measured<SagittalAngle> {
    let find = |l: Level| set.iter().find(|e| e.level == l);
    let l1 = find(Level::L1).and_then(|e| e.sup);
    let s1 = find(Level::Sacrum).and_then(|e| e.sup);
    match (l1, s1) {
        (Some(a), Some(b)) => Measured::Value(SagittalAngle {
            upper: Level::L1,
            upper_endplate: "superior".into(),
            lower: Level::Sacrum,
            lower_endplate: "superior".into(),
            angle_deg: b.sagittal_tilt_deg - a.sagittal_tilt_deg,
            standard_levels: true,
            method: "sagittal Cobb angle between the L1 superior and S1 superior endplates (clinical-reference §4.1, \
                     S29), from the fitted endplate normals projected on the sagittal plane; positive = lordotic; \
                     supine CT (smaller than standing). Normal standing 60.9 ± 12° (§4.3)"
                .into(),
        }),
        (None, _) => Measured::not(if find(Level::L1).is_none() {
            "L1 is not in the field of view or not measurable"
        } else {
            "the L1 superior endplate could not be fitted"
        }),
        (_, None) => Measured::not(if find(Level::Sacrum).is_none() {
            "the sacrum (S1) is not in the field of view or not measurable"
        } else {
            "the S1 superior endplate could not be fitted"
        }),
    }
}

/// Thoracic kyphosis: T4 superior → last thoracic inferior endplate (clinical-reference §4.1, S29); with the
/// levels present when T4 or the last thoracic vertebra is missing (at least 4 levels apart).
pub fn thoracic_kyphosis(set: &[EndplateSet]) -> Measured<SagittalAngle> {
    let thor: Vec<&EndplateSet> = set
        .iter()
        .filter(|e| e.level.region() == Region::Thoracic)
        .collect();
    let upper = thor
        .iter()
        .filter(|e| e.level >= Level::T4 && e.sup.is_some())
        .min_by_key(|e| e.level);
    let lower = thor
        .iter()
        .filter(|e| e.inf.is_some())
        .max_by_key(|e| e.level);
    let (Some(u), Some(l)) = (upper, lower) else {
        return Measured::not("no measurable thoracic vertebrae from T4 down");
    };
    if l.level.ordinal() < u.level.ordinal() + 3 {
        return Measured::not(format!(
            "only {}–{} measurable: too short a span for a kyphosis angle",
            u.level, l.level
        ));
    }
    // The last thoracic vertebra of this spine is in view when a lumbar vertebra is present below it.
    let last_thoracic_in_view = set.iter().any(|e| e.level.region() == Region::Lumbar);
    let standard = u.level == Level::T4 && last_thoracic_in_view;
    Measured::Value(SagittalAngle {
        upper: u.level,
        upper_endplate: "superior".into(),
        lower: l.level,
        lower_endplate: "inferior".into(),
        angle_deg: u.sup.expect("filtered").sagittal_tilt_deg - l.inf.expect("filtered").sagittal_tilt_deg,
        standard_levels: standard,
        method: format!(
            "sagittal Cobb angle between the {} superior and {} inferior endplates (standard T4–last thoracic, \
             clinical-reference §4.1, S29{}), positive = kyphotic; supine CT",
            u.level,
            l.level,
            if standard {
                ""
            } else {
                "; the standard levels are not all measurable, so the span differs: compare with care"
            }
        ),
    })
}

/// Meyerding grade of a slip percentage, half-open intervals (0, 25], (25, 50], … (clinical-reference §7, S55).
pub fn meyerding_grade(slip_percent: f64) -> u8 {
    let s = slip_percent.abs();
    if s <= 25.0 {
        1
    } else if s <= 50.0 {
        2
    } else if s <= 75.0 {
        3
    } else if s <= 100.0 {
        4
    } else {
        5
    }
}

/// Slips under this are within the tool's scatter (implementation value, from the phantom validation).
pub const LISTHESIS_PRECISION_MM: f64 = 2.0;

/// Slip of `upper` on `lower` (clinical-reference §7): translation of the upper body's posterior-inferior corner
/// relative to the lower body's posterior-superior corner, measured parallel to the lower superior endplate.
pub fn listhesis(upper_inf: &EndplateMeasure, lower_sup: &EndplateMeasure) -> Measured<Listhesis> {
    let along = sub(lower_sup.posterior_corner_mm, lower_sup.anterior_corner_mm);
    let Some(d) = unit(reject(along, lower_sup.normal)) else {
        return Measured::not("the lower endplate has no anterior–posterior extent");
    };
    let b = lower_sup.ap_length_mm;
    if b < 5.0 {
        return Measured::not(format!("the lower endplate is only {b:.1} mm long"));
    }
    let slip = dot(
        sub(lower_sup.posterior_corner_mm, upper_inf.posterior_corner_mm),
        d,
    );
    let pct = 100.0 * slip / b;
    Measured::Value(Listhesis {
        slip_mm: slip,
        slip_percent: pct,
        direction: if slip >= 0.0 {
            "anterolisthesis"
        } else {
            "retrolisthesis"
        }
        .into(),
        meyerding_grade: meyerding_grade(pct),
        below_measurement_precision: slip.abs() < LISTHESIS_PRECISION_MM,
        lower_endplate_ap_length_mm: b,
        method: format!(
            "Meyerding (clinical-reference §7, S55): slip % = 100 × A / B, A = translation of the upper body's \
             posterior-inferior corner relative to the lower body's posterior-superior corner, parallel to the lower \
             superior endplate in the mid-sagittal plane; B = that endplate's AP length. Grades on |slip %| with \
             half-open intervals (0,25] I … >100 V; retrolisthesis graded on the same scale. |slip| < \
             {LISTHESIS_PRECISION_MM} mm is within this tool's scatter"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(coronal_deg: f64, sagittal_deg: f64, post: V3, ant: V3) -> EndplateMeasure {
        let (c, s) = (coronal_deg.to_radians(), sagittal_deg.to_radians());
        let n = unit([-c.tan(), -s.tan(), 1.0]).unwrap();
        EndplateMeasure {
            centre_mm: scale(add(post, ant), 0.5),
            normal: n,
            coronal_tilt_deg: coronal_tilt_deg(n),
            sagittal_tilt_deg: sagittal_tilt_deg(n),
            posterior_corner_mm: post,
            anterior_corner_mm: ant,
            ap_length_mm: norm(sub(post, ant)),
            rms_residual_mm: 0.0,
            samples: 25,
            method: String::new(),
        }
    }

    #[test]
    fn turning_points_ignore_small_wiggles() {
        let v = [0.0, 1.0, 0.5, 8.0, 12.0, 11.0, 3.0, -6.0, -5.0, -4.5];
        assert_eq!(turning_points(&v, 5.0), vec![0, 4, 7]);
        assert!(turning_points(&[0.0, 1.0, 2.0, 1.0], 5.0).is_empty());
    }

    #[test]
    fn cobb_of_a_single_curve() {
        // Tilts −10 … +15 over 6 vertebrae: one curve of 25°, convex right.
        let tilts = [-10.0, -6.0, 0.0, 5.0, 11.0, 15.0, 14.0];
        let eps: Vec<EndplateMeasure> = tilts
            .iter()
            .map(|&t| ep(t, 0.0, [0.0; 3], [0.0, -30.0, 0.0]))
            .collect();
        let levels = [
            Level::T6,
            Level::T7,
            Level::T8,
            Level::T9,
            Level::T10,
            Level::T11,
            Level::T12,
        ];
        let seq: Vec<Tilts> = levels
            .iter()
            .zip(&eps)
            .map(|(&level, e)| Tilts {
                level,
                sup: e,
                inf: e,
            })
            .collect();
        let c = coronal(&seq);
        let c = c.value().unwrap();
        assert_eq!(c.curves.len(), 1);
        let cv = &c.curves[0];
        assert!((cv.cobb_deg - 25.0).abs() < 1e-9);
        assert_eq!((cv.upper_end, cv.lower_end), (Level::T6, Level::T11));
        assert_eq!(cv.apex, Level::T8);
        assert_eq!(cv.convex, Side::Right);
        assert!(c.scoliosis);
    }

    #[test]
    fn lordosis_kyphosis_and_listhesis() {
        let l1 = ep(0.0, -20.0, [0.0; 3], [0.0, -30.0, 0.0]);
        let s1 = ep(0.0, 35.0, [0.0; 3], [0.0, -30.0, 0.0]);
        let set = [
            EndplateSet {
                level: Level::L1,
                sup: Some(&l1),
                inf: None,
            },
            EndplateSet {
                level: Level::Sacrum,
                sup: Some(&s1),
                inf: None,
            },
        ];
        let ll = lumbar_lordosis(&set);
        assert!((ll.value().unwrap().angle_deg - 55.0).abs() < 1e-9);
        assert!(lumbar_lordosis(&set[..1])
            .reason()
            .unwrap()
            .contains("sacrum"));
        assert!(thoracic_kyphosis(&set).reason().is_some());

        // L4 inferior posterior corner 9 mm anterior (−y) of the L5 superior posterior corner, endplate 36 mm.
        let up = ep(0.0, 0.0, [0.0, 11.0, 10.0], [0.0, -25.0, 10.0]);
        let lo = ep(0.0, 0.0, [0.0, 20.0, 0.0], [0.0, -16.0, 0.0]);
        let m = listhesis(&up, &lo);
        let m = m.value().unwrap();
        assert!((m.slip_mm - 9.0).abs() < 1e-9 && (m.slip_percent - 25.0).abs() < 1e-9);
        assert_eq!(m.meyerding_grade, 1);
        assert_eq!(meyerding_grade(25.01), 2);
        assert_eq!(meyerding_grade(-60.0), 3);
        assert_eq!(meyerding_grade(101.0), 5);
    }
}
