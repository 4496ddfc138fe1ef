//! Percentile bootstrap confidence intervals (Efron & Tibshirani 1993, ch. 13) for any statistic of cases.

use crate::error::{at_least, Result, ValidateError};
use crate::stats::percentile_linear;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

/// How to bootstrap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapOptions {
    pub resamples: usize,
    /// Two-sided confidence level, e.g. 0.95.
    pub confidence: f64,
    /// The same seed gives the same interval on every machine and thread count.
    pub seed: u64,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self {
            resamples: 2000,
            confidence: 0.95,
            seed: 20_240_601,
        }
    }
}

/// Point estimate and percentile interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapCi {
    pub value: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
    /// Resamples whose statistic was finite (NaN/∞ resamples, e.g. an AUC drawn without positives, are dropped).
    pub resamples_used: usize,
}

/// Percentile bootstrap: draws `resamples` sets of n case indices with replacement (resample b from
/// ChaCha8(seed) on stream b, so the result is deterministic and independent of threading), evaluates `stat`
/// on each, and takes the (1−c)/2 and (1+c)/2 percentiles (numpy linear interpolation) of the finite values.
/// `value` is `stat` on all cases (indices 0..n in order).
pub fn bootstrap_ci<F>(n: usize, stat: F, opts: &BootstrapOptions) -> Result<BootstrapCi>
where
    F: Fn(&[usize]) -> f64 + Sync,
{
    at_least("bootstrap cases", n, 1)?;
    at_least("bootstrap resamples", opts.resamples, 1)?;
    if !(opts.confidence > 0.0 && opts.confidence < 1.0) {
        return Err(ValidateError::Invalid {
            what: "bootstrap",
            reason: format!("confidence must be in (0, 1), got {}", opts.confidence),
        });
    }
    let all: Vec<usize> = (0..n).collect();
    let value = stat(&all);
    let mut stats: Vec<f64> = (0..opts.resamples)
        .into_par_iter()
        .map_init(
            || vec![0usize; n],
            |idx, b| {
                let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
                rng.set_stream(b as u64);
                for v in idx.iter_mut() {
                    *v = rng.random_range(0..n);
                }
                stat(idx)
            },
        )
        .filter(|v| v.is_finite())
        .collect();
    stats.sort_by(f64::total_cmp);
    let a = 100.0 * (1.0 - opts.confidence) / 2.0;
    Ok(BootstrapCi {
        value,
        ci_lower: percentile_linear(&stats, a),
        ci_upper: percentile_linear(&stats, 100.0 - a),
        resamples_used: stats.len(),
    })
}

/// Bootstrap CI of the mean of `values` (the commonest use: mean Dice over cases).
pub fn bootstrap_mean(values: &[f64], opts: &BootstrapOptions) -> Result<BootstrapCi> {
    bootstrap_ci(
        values.len(),
        |idx| idx.iter().map(|&i| values[i]).sum::<f64>() / idx.len() as f64,
        opts,
    )
}
