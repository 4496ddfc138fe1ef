//! Agreement of continuous measurements (Cobb angles, heights, densities): MAE, Bland–Altman, ICC, SMAPE.

use crate::error::{at_least, finite, same_len, Result, ValidateError};
use crate::stats::{f_quantile, mean, sd, t_quantile};
use serde::Serialize;

/// Mean absolute error: (1/n) Σ |pᵢ − rᵢ|, in the unit of the measurement.
pub fn mae(pred: &[f64], reference: &[f64]) -> Result<f64> {
    same_len("MAE", pred.len(), reference.len())?;
    at_least("MAE", pred.len(), 1)?;
    finite("MAE", pred)?;
    finite("MAE", reference)?;
    Ok(pred
        .iter()
        .zip(reference)
        .map(|(p, r)| (p - r).abs())
        .sum::<f64>()
        / pred.len() as f64)
}

/// A value with its two-sided 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub value: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
}

/// Bland–Altman agreement of `pred − reference`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BlandAltman {
    pub n: usize,
    /// Mean difference d̄ (pred − reference), with t-based CI d̄ ± t₀.₉₇₅,ₙ₋₁ · s/√n.
    pub bias: Estimate,
    /// Sample SD s of the differences (n − 1 denominator).
    pub sd_diff: f64,
    /// Lower limit of agreement d̄ − 1.96 s, with CI ± t₀.₉₇₅,ₙ₋₁ · s·√(1/n + 1.96²/(2(n−1))).
    pub loa_lower: Estimate,
    /// Upper limit of agreement d̄ + 1.96 s, CI as for the lower limit.
    pub loa_upper: Estimate,
}

/// Bland & Altman (1999, Stat Methods Med Res 8:135–160, §2.3 and §4.1; 1986 Lancet i:307–310): bias and 95 %
/// limits of agreement of `pred − reference`, with the approximate standard errors
/// SE(d̄) = s/√n and SE(d̄ ± 1.96 s) ≈ s·√(1/n + 1.96²/(2(n−1))) and t quantiles with n − 1 df. The multiplier is the
/// papers' 1.96 (not Φ⁻¹(0.975) = 1.95996…).
pub fn bland_altman(pred: &[f64], reference: &[f64]) -> Result<BlandAltman> {
    same_len("Bland–Altman", pred.len(), reference.len())?;
    at_least("Bland–Altman", pred.len(), 2)?;
    finite("Bland–Altman", pred)?;
    finite("Bland–Altman", reference)?;
    let d: Vec<f64> = pred.iter().zip(reference).map(|(p, r)| p - r).collect();
    let n = d.len() as f64;
    let (bias, s) = (mean(&d), sd(&d));
    let t = t_quantile(0.975, n - 1.0);
    let se_bias = s / n.sqrt();
    let se_loa = s * (1.0 / n + 1.96f64.powi(2) / (2.0 * (n - 1.0))).sqrt();
    let est = |v: f64, se: f64| Estimate {
        value: v,
        ci_lower: v - t * se,
        ci_upper: v + t * se,
    };
    Ok(BlandAltman {
        n: d.len(),
        bias: est(bias, se_bias),
        sd_diff: s,
        loa_lower: est(bias - 1.96 * s, se_loa),
        loa_upper: est(bias + 1.96 * s, se_loa),
    })
}

/// Intraclass correlation coefficients from a two-way ANOVA of n subjects × k raters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Icc {
    pub n_subjects: usize,
    pub k_raters: usize,
    /// ICC(2,1) (Shrout & Fleiss 1979) = ICC(A,1) (McGraw & Wong 1996): two-way random effects, absolute
    /// agreement, single rater: (MSR − MSE) / (MSR + (k−1)MSE + k(MSC − MSE)/n). CI: McGraw & Wong (1996) with
    /// Satterthwaite df, as pingouin.intraclass_corr.
    pub icc2_1: Estimate,
    /// ICC(3,1) = ICC(C,1): two-way mixed, consistency, single rater: (MSR − MSE) / (MSR + (k−1)MSE).
    /// CI from F = MSR/MSE with (n−1, (n−1)(k−1)) df.
    pub icc3_1: Estimate,
    /// Mean squares: rows (subjects), columns (raters), residual.
    pub ms_rows: f64,
    pub ms_cols: f64,
    pub ms_error: f64,
}

/// ICC(2,1) and ICC(3,1) with 95 % CIs; `ratings[i][j]` is rater j's value for subject i (complete data).
pub fn icc(ratings: &[Vec<f64>]) -> Result<Icc> {
    let n = ratings.len();
    at_least("ICC subjects", n, 2)?;
    let k = ratings[0].len();
    at_least("ICC raters", k, 2)?;
    for r in ratings {
        same_len("ICC ratings per subject", r.len(), k)?;
        finite("ICC", r)?;
    }
    let (nf, kf) = (n as f64, k as f64);
    let grand = ratings.iter().flatten().sum::<f64>() / (nf * kf);
    let ss_rows = kf
        * ratings
            .iter()
            .map(|r| (mean(r) - grand).powi(2))
            .sum::<f64>();
    let ss_cols = nf
        * (0..k)
            .map(|j| (ratings.iter().map(|r| r[j]).sum::<f64>() / nf - grand).powi(2))
            .sum::<f64>();
    let ss_total = ratings
        .iter()
        .flatten()
        .map(|v| (v - grand).powi(2))
        .sum::<f64>();
    let ss_err = ss_total - ss_rows - ss_cols;
    let (df_r, df_c, df_e) = (nf - 1.0, kf - 1.0, (nf - 1.0) * (kf - 1.0));
    let (msr, msc, mse) = (ss_rows / df_r, ss_cols / df_c, ss_err / df_e);
    if msr + (kf - 1.0) * mse <= 0.0 {
        return Err(ValidateError::Invalid {
            what: "ICC",
            reason: "all ratings are identical, so the ICC is undefined".into(),
        });
    }
    let icc3 = (msr - mse) / (msr + (kf - 1.0) * mse);
    let f3 = msr / mse;
    let f3l = f3 / f_quantile(0.975, df_r, df_e);
    let f3u = f3 * f_quantile(0.975, df_e, df_r);
    let icc2 = (msr - mse) / (msr + (kf - 1.0) * mse + kf * (msc - mse) / nf);
    let fj = msc / mse;
    let a = nf * (1.0 + (kf - 1.0) * icc2) - kf * icc2;
    let vn = df_e * (kf * icc2 * fj + a).powi(2);
    let vd = df_r * kf * kf * icc2 * icc2 * fj * fj + a * a;
    let v = vn / vd;
    let f2u = f_quantile(0.975, df_r, v);
    let f2l = f_quantile(0.975, v, df_r);
    let c = kf * msc + (kf * nf - kf - nf) * mse;
    Ok(Icc {
        n_subjects: n,
        k_raters: k,
        icc2_1: Estimate {
            value: icc2,
            ci_lower: nf * (msr - f2u * mse) / (f2u * c + nf * msr),
            ci_upper: nf * (f2l * msr - mse) / (c + nf * f2l * msr),
        },
        icc3_1: Estimate {
            value: icc3,
            ci_lower: (f3l - 1.0) / (f3l + kf - 1.0),
            ci_upper: (f3u - 1.0) / (f3u + kf - 1.0),
        },
        ms_rows: msr,
        ms_cols: msc,
        ms_error: mse,
    })
}

/// ICC of two raters given as paired series (prediction, reference).
pub fn icc_pairs(pred: &[f64], reference: &[f64]) -> Result<Icc> {
    same_len("ICC", pred.len(), reference.len())?;
    let rows: Vec<Vec<f64>> = pred
        .iter()
        .zip(reference)
        .map(|(p, r)| vec![*p, *r])
        .collect();
    icc(&rows)
}

/// Symmetric mean absolute percentage error as defined by the AASCE 2019 challenge (Wang et al., MICCAI
/// AASCE; Wu et al. 2017): SMAPE = (1/N) Σᵢ [Σⱼ |pᵢⱼ − rᵢⱼ| / Σⱼ (pᵢⱼ + rᵢⱼ)] × 100 %, i over images, j over the
/// (three) Cobb angles of an image. An image whose angles are all 0 in both contributes 0 (perfect agreement).
/// Returns (SMAPE %, per-image terms in %).
pub fn smape_aasce(pred: &[Vec<f64>], reference: &[Vec<f64>]) -> Result<(f64, Vec<f64>)> {
    same_len("SMAPE images", pred.len(), reference.len())?;
    at_least("SMAPE images", pred.len(), 1)?;
    let mut per = Vec::with_capacity(pred.len());
    for (p, r) in pred.iter().zip(reference) {
        same_len("SMAPE angles per image", p.len(), r.len())?;
        finite("SMAPE", p)?;
        finite("SMAPE", r)?;
        if let Some(&value) = p.iter().chain(r).find(|v| **v < 0.0) {
            return Err(ValidateError::Invalid {
                what: "SMAPE",
                reason: format!("needs non-negative angles (magnitudes), got {value}"),
            });
        }
        let num: f64 = p.iter().zip(r).map(|(a, b)| (a - b).abs()).sum();
        let den: f64 = p.iter().zip(r).map(|(a, b)| a + b).sum();
        per.push(if den == 0.0 { 0.0 } else { 100.0 * num / den });
    }
    Ok((mean(&per), per))
}
