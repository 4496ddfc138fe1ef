//! ROC AUC with the DeLong confidence interval, and binary sensitivity/specificity with Wilson intervals.

use crate::agreement::Estimate;
use crate::error::{at_least, finite, same_len, Result, ValidateError};
use crate::stats::{normal_quantile, var};
use serde::Serialize;

/// Area under the ROC curve with DeLong's variance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Auc {
    /// AUC = P(score of a positive > score of a negative) + ½ P(tie) (Mann–Whitney), as sklearn.roc_auc_score.
    /// CI: AUC ± Φ⁻¹(0.975)·√var, var from DeLong, DeLong & Clarke-Pearson (1988), computed with the fast
    /// midrank algorithm of Sun & Xu (2014, IEEE Signal Process Lett 21:1389); clipped to [0, 1].
    pub auc: Estimate,
    pub variance: f64,
    pub positives: usize,
    pub negatives: usize,
}

/// Midranks (1-based, ties share their mean rank) of `x`.
fn midranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let rank = 0.5 * (i + j) as f64 + 1.0;
        for &n in &idx[i..=j] {
            r[n] = rank;
        }
        i = j + 1;
    }
    r
}

/// ROC AUC of `scores` against binary `truth` (true = positive) with DeLong 95 % CI. Needs ≥ 2 positives and
/// ≥ 2 negatives (the variance uses n − 1 denominators).
pub fn roc_auc_delong(truth: &[bool], scores: &[f64]) -> Result<Auc> {
    same_len("ROC AUC", truth.len(), scores.len())?;
    finite("ROC AUC", scores)?;
    let pos: Vec<f64> = truth
        .iter()
        .zip(scores)
        .filter(|(t, _)| **t)
        .map(|(_, s)| *s)
        .collect();
    let neg: Vec<f64> = truth
        .iter()
        .zip(scores)
        .filter(|(t, _)| !**t)
        .map(|(_, s)| *s)
        .collect();
    at_least("ROC AUC positives", pos.len(), 2)?;
    at_least("ROC AUC negatives", neg.len(), 2)?;
    let (m, n) = (pos.len() as f64, neg.len() as f64);
    let tx = midranks(&pos);
    let ty = midranks(&neg);
    let all: Vec<f64> = pos.iter().chain(&neg).copied().collect();
    let tz = midranks(&all);
    let auc = (tz[..pos.len()].iter().sum::<f64>() - m * (m + 1.0) / 2.0) / (m * n);
    let v10: Vec<f64> = (0..pos.len()).map(|i| (tz[i] - tx[i]) / n).collect();
    let v01: Vec<f64> = (0..neg.len())
        .map(|j| 1.0 - (tz[pos.len() + j] - ty[j]) / m)
        .collect();
    let variance = var(&v10) / m + var(&v01) / n;
    let half = normal_quantile(0.975) * variance.sqrt();
    Ok(Auc {
        auc: Estimate {
            value: auc,
            ci_lower: (auc - half).max(0.0),
            ci_upper: (auc + half).min(1.0),
        },
        variance,
        positives: pos.len(),
        negatives: neg.len(),
    })
}

/// Wilson (1927) score interval for a binomial proportion k/n at 95 %:
/// (p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n), z = Φ⁻¹(0.975); no continuity correction
/// (scipy.stats.binomtest(k, n).proportion_ci(method="wilson")).
pub fn wilson(k: u64, n: u64) -> Result<Estimate> {
    if n == 0 || k > n {
        return Err(ValidateError::Invalid {
            what: "Wilson interval",
            reason: format!("needs 0 ≤ k ≤ n and n > 0, got k = {k}, n = {n}"),
        });
    }
    let (kf, nf) = (k as f64, n as f64);
    let p = kf / nf;
    let z = normal_quantile(0.975);
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * nf)) / (1.0 + z2 / nf);
    let half = z / (1.0 + z2 / nf) * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    Ok(Estimate {
        value: p,
        ci_lower: (centre - half).max(0.0),
        ci_upper: (centre + half).min(1.0),
    })
}

/// Confusion counts of a binary test and its sensitivity/specificity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BinaryAgreement {
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    pub fn_: u64,
    /// TP / (TP + FN), Wilson 95 % CI; `None` without reference positives.
    pub sensitivity: Option<Estimate>,
    /// TN / (TN + FP), Wilson 95 % CI; `None` without reference negatives.
    pub specificity: Option<Estimate>,
}

/// Sensitivity and specificity of `pred` against `truth`.
pub fn sensitivity_specificity(truth: &[bool], pred: &[bool]) -> Result<BinaryAgreement> {
    same_len("sensitivity/specificity", truth.len(), pred.len())?;
    let (mut tp, mut fp, mut tn, mut fn_) = (0, 0, 0, 0);
    for (&t, &p) in truth.iter().zip(pred) {
        match (t, p) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (false, false) => tn += 1,
            (true, false) => fn_ += 1,
        }
    }
    Ok(BinaryAgreement {
        tp,
        fp,
        tn,
        fn_,
        sensitivity: if tp + fn_ > 0 {
            Some(wilson(tp, tp + fn_)?)
        } else {
            None
        },
        specificity: if tn + fp > 0 {
            Some(wilson(tn, tn + fp)?)
        } else {
            None
        },
    })
}

/// ROC curve points (false positive rate, true positive rate) at every distinct threshold, for plotting.
pub fn roc_curve(truth: &[bool], scores: &[f64]) -> Vec<(f64, f64)> {
    let mut idx: Vec<usize> = (0..truth.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let p = truth.iter().filter(|t| **t).count().max(1) as f64;
    let n = truth.iter().filter(|t| !**t).count().max(1) as f64;
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut out = vec![(0.0, 0.0)];
    for (pos, &i) in idx.iter().enumerate() {
        if truth[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_tie = idx.get(pos + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_tie {
            out.push((fp / n, tp / p));
        }
    }
    out
}
