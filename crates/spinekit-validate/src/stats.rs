//! Small numerical helpers shared by the metrics: percentiles and distribution quantiles.

use statrs::distribution::{ContinuousCDF, FisherSnedecor, Normal, StudentsT};

/// q-th percentile (0–100) of `sorted` (ascending, non-empty) with linear interpolation between closest ranks:
/// numpy's default (`method="linear"`, Hyndman & Fan type 7). NaN for an empty slice.
pub fn percentile_linear(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = (q / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let t = pos - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    // numpy's _lerp: exact at both ends.
    if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    }
}

/// Standard normal quantile Φ⁻¹(p).
pub fn normal_quantile(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// Student t quantile with `df` degrees of freedom.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    match StudentsT::new(0.0, 1.0, df) {
        Ok(t) => t.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

/// F quantile with (`d1`, `d2`) degrees of freedom (non-integer allowed, as Satterthwaite gives).
pub fn f_quantile(p: f64, d1: f64, d2: f64) -> f64 {
    match FisherSnedecor::new(d1, d2) {
        Ok(f) => f.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

pub(crate) fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Sample standard deviation (n − 1 denominator).
pub(crate) fn sd(x: &[f64]) -> f64 {
    let m = mean(x);
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0)).sqrt()
}

/// Sample variance (n − 1 denominator).
pub(crate) fn var(x: &[f64]) -> f64 {
    sd(x).powi(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_matches_numpy_examples() {
        // numpy.percentile([1, 2, 3, 4], [0, 25, 50, 95, 100]) = [1, 1.75, 2.5, 3.85, 4]
        let x = [1.0, 2.0, 3.0, 4.0];
        for (q, want) in [
            (0.0, 1.0),
            (25.0, 1.75),
            (50.0, 2.5),
            (95.0, 3.85),
            (100.0, 4.0),
        ] {
            assert!((percentile_linear(&x, q) - want).abs() < 1e-12);
        }
    }

    #[test]
    fn quantiles_match_scipy() {
        // scipy.stats: norm.ppf(0.975), t.ppf(0.975, 9), f.ppf(0.975, 9, 9.5)
        assert!((normal_quantile(0.975) - 1.959963984540054).abs() < 1e-9);
        assert!((t_quantile(0.975, 9.0) - 2.262157162798205).abs() < 1e-9);
        assert!((f_quantile(0.975, 9.0, 9.5) - 3.8940690199178913).abs() < 1e-8);
    }
}
