//! Cohen's kappa for two raters on a categorical (optionally ordinal) scale.

use crate::error::{at_least, same_len, Result, ValidateError};
use serde::{Deserialize, Serialize};

/// Disagreement weights: w(i,j) on category positions i, j in the sorted list of categories seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KappaWeights {
    /// w = 0 on the diagonal, 1 elsewhere (Cohen 1960).
    Unweighted,
    /// w = |i − j| (Cicchetti & Allison 1971).
    Linear,
    /// w = (i − j)² (Cohen 1968; Fleiss & Cohen 1973).
    Quadratic,
}

/// Cohen's kappa κ = 1 − Σ wᵢⱼ Oᵢⱼ / Σ wᵢⱼ Eᵢⱼ, O the observed confusion proportions, E = outer product of the
/// marginals. Categories are the sorted union of both raters' values and weights use their positions in that
/// list (as sklearn.metrics.cohen_kappa_score), so with ordinal grades every grade should occur at least once
/// or the spacing shrinks. Errors when both raters use one single category (κ undefined).
pub fn cohen_kappa(a: &[i64], b: &[i64], weights: KappaWeights) -> Result<f64> {
    same_len("kappa", a.len(), b.len())?;
    at_least("kappa", a.len(), 1)?;
    let mut cats: Vec<i64> = a.iter().chain(b).copied().collect();
    cats.sort_unstable();
    cats.dedup();
    let m = cats.len();
    let pos = |v: i64| cats.binary_search(&v).unwrap_or(0);
    let mut o = vec![0.0f64; m * m];
    for (&x, &y) in a.iter().zip(b) {
        o[pos(x) * m + pos(y)] += 1.0;
    }
    let n = a.len() as f64;
    let row: Vec<f64> = (0..m).map(|i| (0..m).map(|j| o[i * m + j]).sum()).collect();
    let col: Vec<f64> = (0..m).map(|j| (0..m).map(|i| o[i * m + j]).sum()).collect();
    let (mut num, mut den) = (0.0, 0.0);
    for i in 0..m {
        for j in 0..m {
            let d = (i as f64 - j as f64).abs();
            let w = match weights {
                KappaWeights::Unweighted => f64::from(u8::from(i != j)),
                KappaWeights::Linear => d,
                KappaWeights::Quadratic => d * d,
            };
            num += w * o[i * m + j] / n;
            den += w * row[i] * col[j] / (n * n);
        }
    }
    if den == 0.0 {
        return Err(ValidateError::Invalid {
            what: "kappa",
            reason: "both raters used a single category, so chance agreement is 100 % and kappa is undefined"
                .into(),
        });
    }
    Ok(1.0 - num / den)
}
