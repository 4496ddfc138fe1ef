//! Performance of out-of-fold class probabilities, each with a 95 % CI: accuracy (Wilson), balanced accuracy
//! (bootstrap), AUC (DeLong for two classes; one-vs-rest macro average with bootstrap CI for more), sensitivity and
//! specificity at a threshold (Wilson), Brier score, and logistic recalibration slope/intercept (Cox 1958).

use crate::error::Result;
use serde::Serialize;
use spinekit_validate::{
    bootstrap_ci, roc_auc_delong, sensitivity_specificity, wilson, BinaryAgreement,
    BootstrapOptions,
};

pub use spinekit_validate::Estimate;

/// AUC with its interval and how the interval was computed.
#[derive(Debug, Clone, Serialize)]
pub struct AucReport {
    pub value: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
    /// "DeLong" (two classes) or "bootstrap" (one-vs-rest macro average).
    pub ci_method: &'static str,
    /// One-vs-rest AUC of every class (for two classes: of the positive class only).
    pub per_class: Vec<(String, f64)>,
}

/// Sensitivity/specificity of "P(positive) ≥ threshold".
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdReport {
    pub positive_class: String,
    pub threshold: f64,
    /// Confusion counts and sensitivity/specificity with Wilson CIs.
    #[serde(flatten)]
    pub agreement: BinaryAgreement,
}

/// Logistic recalibration logit(P(y = class)) = intercept + slope·logit(p̂): perfect calibration is (0, 1).
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub class: String,
    pub intercept: f64,
    pub slope: f64,
}

/// All metrics of one evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    pub n: usize,
    pub classes: Vec<String>,
    pub accuracy: Estimate,
    pub balanced_accuracy: Estimate,
    pub auc: AucReport,
    pub threshold: Option<ThresholdReport>,
    /// Mean over rows of Σₖ (pₖ − yₖ)² for K > 2 classes; mean (p − y)² of the positive class for two.
    pub brier: f64,
    /// For two classes: the positive class; otherwise one-vs-rest for every class.
    pub calibration: Vec<Calibration>,
    /// confusion[true][predicted] with the most probable class predicted.
    pub confusion: Vec<Vec<usize>>,
}

/// Evaluates probabilities `proba[i][k]` against classes `y`. `positive` (two classes) is the class whose
/// probability is thresholded at `threshold` for sensitivity/specificity.
pub fn evaluate(
    y: &[usize],
    proba: &[Vec<f64>],
    classes: &[String],
    positive: usize,
    threshold: f64,
    boot: &BootstrapOptions,
) -> Result<Metrics> {
    let n = y.len();
    let k = classes.len();
    let pred: Vec<usize> = proba.iter().map(|p| argmax(p)).collect();
    let mut confusion = vec![vec![0usize; k]; k];
    for (t, p) in y.iter().zip(&pred) {
        confusion[*t][*p] += 1;
    }
    let correct = y.iter().zip(&pred).filter(|(a, b)| a == b).count();
    let accuracy = wilson(correct as u64, n as u64)?;
    let bal = |idx: &[usize]| balanced_accuracy(y, &pred, k, idx);
    let b = bootstrap_ci(n, bal, boot)?;
    let balanced_accuracy = Estimate {
        value: b.value,
        ci_lower: b.ci_lower,
        ci_upper: b.ci_upper,
    };
    let auc = if k == 2 {
        let truth: Vec<bool> = y.iter().map(|&c| c == positive).collect();
        let s: Vec<f64> = proba.iter().map(|p| p[positive]).collect();
        let a = roc_auc_delong(&truth, &s)?;
        AucReport {
            value: a.auc.value,
            ci_lower: a.auc.ci_lower,
            ci_upper: a.auc.ci_upper,
            ci_method: "DeLong",
            per_class: vec![(classes[positive].clone(), a.auc.value)],
        }
    } else {
        let per_class: Vec<(String, f64)> = (0..k)
            .map(|c| {
                let idx: Vec<usize> = (0..n).collect();
                (classes[c].clone(), ovr_auc(y, proba, c, &idx))
            })
            .collect();
        let b = bootstrap_ci(
            n,
            |idx| (0..k).map(|c| ovr_auc(y, proba, c, idx)).sum::<f64>() / k as f64,
            boot,
        )?;
        AucReport {
            value: b.value,
            ci_lower: b.ci_lower,
            ci_upper: b.ci_upper,
            ci_method: "bootstrap",
            per_class,
        }
    };
    let threshold = if k == 2 {
        let truth: Vec<bool> = y.iter().map(|&c| c == positive).collect();
        let called: Vec<bool> = proba.iter().map(|p| p[positive] >= threshold).collect();
        let s = sensitivity_specificity(&truth, &called)?;
        Some(ThresholdReport {
            positive_class: classes[positive].clone(),
            threshold,
            agreement: s,
        })
    } else {
        None
    };
    let brier = if k == 2 {
        proba
            .iter()
            .zip(y)
            .map(|(p, &t)| (p[positive] - (t == positive) as u8 as f64).powi(2))
            .sum::<f64>()
            / n as f64
    } else {
        proba
            .iter()
            .zip(y)
            .map(|(p, &t)| {
                p.iter()
                    .enumerate()
                    .map(|(c, v)| (v - (c == t) as u8 as f64).powi(2))
                    .sum::<f64>()
            })
            .sum::<f64>()
            / n as f64
    };
    let cal_classes: Vec<usize> = if k == 2 {
        vec![positive]
    } else {
        (0..k).collect()
    };
    let calibration = cal_classes
        .into_iter()
        .map(|c| {
            let t: Vec<bool> = y.iter().map(|&v| v == c).collect();
            let s: Vec<f64> = proba.iter().map(|p| p[c]).collect();
            let (intercept, slope) = calibration_fit(&t, &s);
            Calibration {
                class: classes[c].clone(),
                intercept,
                slope,
            }
        })
        .collect();
    Ok(Metrics {
        n,
        classes: classes.to_vec(),
        accuracy,
        balanced_accuracy,
        auc,
        threshold,
        brier,
        calibration,
        confusion,
    })
}

/// Empirical ROC curve of `scores` for `truth` as (false-positive rate, true-positive rate) points, one per
/// distinct score (ties move diagonally, matching the Mann–Whitney AUC), from (0, 0) to (1, 1). Empty when
/// either group is empty or a score is not finite.
pub fn roc_points(truth: &[bool], scores: &[f64]) -> Vec<(f64, f64)> {
    if truth.len() != scores.len() || scores.iter().any(|s| !s.is_finite()) {
        return Vec::new();
    }
    let npos = truth.iter().filter(|&&t| t).count() as f64;
    let nneg = truth.len() as f64 - npos;
    if npos == 0.0 || nneg == 0.0 {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut pts = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            if truth[order[j]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            j += 1;
        }
        pts.push((fp / nneg, tp / npos));
        i = j;
    }
    pts
}

/// One bin of a reliability diagram.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationBinStat {
    /// Bin edges on the predicted-probability scale, `[lower, upper)` (the last bin includes 1).
    pub lower: f64,
    pub upper: f64,
    pub n: usize,
    pub mean_predicted: f64,
    pub observed: f64,
    /// Wilson 95 % interval of `observed`.
    pub ci_lower: f64,
    pub ci_upper: f64,
}

/// Reliability diagram data: `n_bins` equal-width bins of the predicted probability `p`; empty bins are left out.
pub fn calibration_bins(truth: &[bool], p: &[f64], n_bins: usize) -> Vec<CalibrationBinStat> {
    let n_bins = n_bins.max(1);
    let mut sum_p = vec![0.0; n_bins];
    let mut pos = vec![0u64; n_bins];
    let mut cnt = vec![0u64; n_bins];
    for (&t, &v) in truth.iter().zip(p) {
        if !v.is_finite() {
            continue;
        }
        let b = ((v.clamp(0.0, 1.0) * n_bins as f64) as usize).min(n_bins - 1);
        sum_p[b] += v;
        pos[b] += t as u64;
        cnt[b] += 1;
    }
    (0..n_bins)
        .filter(|&b| cnt[b] > 0)
        .map(|b| {
            let w = wilson(pos[b], cnt[b]).expect("0 ≤ k ≤ n and n > 0");
            CalibrationBinStat {
                lower: b as f64 / n_bins as f64,
                upper: (b + 1) as f64 / n_bins as f64,
                n: cnt[b] as usize,
                mean_predicted: sum_p[b] / cnt[b] as f64,
                observed: pos[b] as f64 / cnt[b] as f64,
                ci_lower: w.ci_lower,
                ci_upper: w.ci_upper,
            }
        })
        .collect()
}

pub fn argmax(p: &[f64]) -> usize {
    (0..p.len())
        .max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)))
        .unwrap_or(0)
}

/// Mean per-class recall over the classes present in `idx` (NaN when none).
fn balanced_accuracy(y: &[usize], pred: &[usize], k: usize, idx: &[usize]) -> f64 {
    let mut hit = vec![0usize; k];
    let mut tot = vec![0usize; k];
    for &i in idx {
        tot[y[i]] += 1;
        hit[y[i]] += (pred[i] == y[i]) as usize;
    }
    let present: Vec<f64> = (0..k)
        .filter(|&c| tot[c] > 0)
        .map(|c| hit[c] as f64 / tot[c] as f64)
        .collect();
    if present.is_empty() {
        f64::NAN
    } else {
        present.iter().sum::<f64>() / present.len() as f64
    }
}

/// Mann–Whitney AUC of class `c` vs rest over rows `idx` (ties count ½; NaN without both groups).
pub fn ovr_auc(y: &[usize], proba: &[Vec<f64>], c: usize, idx: &[usize]) -> f64 {
    let mut s: Vec<(f64, bool)> = idx.iter().map(|&i| (proba[i][c], y[i] == c)).collect();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    let npos = s.iter().filter(|v| v.1).count() as f64;
    let nneg = s.len() as f64 - npos;
    if npos == 0.0 || nneg == 0.0 {
        return f64::NAN;
    }
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < s.len() {
        let mut j = i;
        while j + 1 < s.len() && s[j + 1].0 == s[i].0 {
            j += 1;
        }
        let r = 0.5 * (i + j) as f64 + 1.0;
        rank_sum += r * s[i..=j].iter().filter(|v| v.1).count() as f64;
        i = j + 1;
    }
    (rank_sum - npos * (npos + 1.0) / 2.0) / (npos * nneg)
}

/// Maximum-likelihood fit of logit P(t) = a + b·logit(p) by Newton's method (probabilities clipped to
/// [1e-12, 1 − 1e-12]); NaN when the fit does not converge (e.g. perfectly separated predictions).
pub fn calibration_fit(truth: &[bool], p: &[f64]) -> (f64, f64) {
    let z: Vec<f64> = p
        .iter()
        .map(|v| {
            let v = v.clamp(1e-12, 1.0 - 1e-12);
            (v / (1.0 - v)).ln()
        })
        .collect();
    let (mut a, mut b) = (0.0, 1.0);
    for _ in 0..100 {
        let (mut g0, mut g1, mut h00, mut h01, mut h11) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (zi, &t) in z.iter().zip(truth) {
            let q = 1.0 / (1.0 + (-(a + b * zi)).exp());
            let r = q - t as u8 as f64;
            let w = (q * (1.0 - q)).max(1e-300);
            g0 += r;
            g1 += r * zi;
            h00 += w;
            h01 += w * zi;
            h11 += w * zi * zi;
        }
        let det = h00 * h11 - h01 * h01;
        if det.abs() < 1e-300 {
            return (f64::NAN, f64::NAN);
        }
        let da = (h11 * g0 - h01 * g1) / det;
        let db = (h00 * g1 - h01 * g0) / det;
        a -= da;
        b -= db;
        if da.abs() < 1e-12 && db.abs() < 1e-12 {
            return (a, b);
        }
        if !a.is_finite() || !b.is_finite() || a.abs() > 1e6 || b.abs() > 1e6 {
            return (f64::NAN, f64::NAN);
        }
    }
    (f64::NAN, f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recalibration_recovers_a_known_distortion() {
        // Outcomes drawn as P(y) = σ(0.5 + 2·logit p): the fit must find about (0.5, 2).
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut t = Vec::new();
        let mut p = Vec::new();
        for _ in 0..20000 {
            let pi: f64 = rng.random_range(0.02..0.98);
            let l = (pi / (1.0 - pi)).ln();
            let q = 1.0 / (1.0 + (-(0.5 + 2.0 * l)).exp());
            p.push(pi);
            t.push(rng.random::<f64>() < q);
        }
        let (a, b) = calibration_fit(&t, &p);
        assert!((a - 0.5).abs() < 0.08 && (b - 2.0).abs() < 0.12, "{a} {b}");
    }

    #[test]
    fn roc_points_trace_the_mann_whitney_auc() {
        let truth = [true, false, true, false, true, false];
        let s = [0.9, 0.8, 0.7, 0.7, 0.2, 0.1];
        let pts = roc_points(&truth, &s);
        assert_eq!(pts.first(), Some(&(0.0, 0.0)));
        assert_eq!(pts.last(), Some(&(1.0, 1.0)));
        // trapezoidal area under the points equals the rank AUC (ties count ½)
        let area: f64 = pts
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
            .sum();
        let y: Vec<usize> = truth.iter().map(|&t| t as usize).collect();
        let p: Vec<Vec<f64>> = s.iter().map(|&v| vec![1.0 - v, v]).collect();
        let idx: Vec<usize> = (0..6).collect();
        assert!((area - ovr_auc(&y, &p, 1, &idx)).abs() < 1e-12);
        assert!(roc_points(&[true, true], &[0.1, 0.2]).is_empty());
        assert!(roc_points(&[true, false], &[f64::NAN, 0.2]).is_empty());
    }

    #[test]
    fn calibration_bins_count_and_wilson() {
        let truth = [true, false, true, true, false];
        let p = [0.05, 0.05, 0.95, 0.9, 1.0];
        let b = calibration_bins(&truth, &p, 10);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].n, b[0].observed), (2, 0.5));
        assert!((b[0].mean_predicted - 0.05).abs() < 1e-12);
        assert_eq!((b[1].n, b[1].lower, b[1].upper), (3, 0.9, 1.0));
        assert!((b[1].observed - 2.0 / 3.0).abs() < 1e-12);
        assert!(b[1].ci_lower < b[1].observed && b[1].observed < b[1].ci_upper);
    }

    #[test]
    fn ovr_auc_with_ties() {
        let y = vec![0, 1, 1, 0, 2];
        let p = vec![
            vec![0.5, 0.5, 0.0],
            vec![0.2, 0.5, 0.3],
            vec![0.1, 0.9, 0.0],
            vec![0.6, 0.1, 0.3],
            vec![0.1, 0.1, 0.8],
        ];
        // class 1: positives {0.5, 0.9}, negatives {0.5, 0.1, 0.1}: (2.5 + 3)/6
        let all: Vec<usize> = (0..5).collect();
        assert!((ovr_auc(&y, &p, 1, &all) - 5.5 / 6.0).abs() < 1e-12);
        let classes: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let m = evaluate(
            &y,
            &p,
            &classes,
            1,
            0.5,
            &BootstrapOptions {
                resamples: 200,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            m.confusion,
            vec![vec![2, 0, 0], vec![0, 2, 0], vec![0, 0, 1]]
        );
        assert_eq!(m.accuracy.value, 1.0);
        assert_eq!(m.auc.ci_method, "bootstrap");
    }
}
