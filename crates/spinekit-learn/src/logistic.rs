//! Regularised multinomial logistic regression (softmax; binary = one log-odds margin) with sample weights.
//!
//! Objective: (Σᵢ wᵢ·(−log pᵢ,yᵢ)) / Σᵢ wᵢ + ½·l2·‖W‖² + l1·‖W‖₁ (intercepts unpenalised). With l1 = 0 it is
//! minimised by L-BFGS; otherwise by FISTA. For scikit-learn's `C` with unit weights, l2 = 1/(C·n).

use crate::optim::{fista, lbfgs};
use crate::prep::Matrix;
use serde::{Deserialize, Serialize};

/// Regularisation strengths (see the module doc for the objective).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogisticParams {
    pub l2: f64,
    pub l1: f64,
    pub max_iter: usize,
}

impl Default for LogisticParams {
    fn default() -> Self {
        Self {
            l2: 1e-2,
            l1: 0.0,
            max_iter: 1000,
        }
    }
}

/// A fitted model: `coef[r]` and `intercept[r]` give margin r. Two classes have one margin (log-odds of class 1);
/// K > 2 classes have K margins (softmax).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logistic {
    pub n_classes: usize,
    pub coef: Vec<Vec<f64>>,
    pub intercept: Vec<f64>,
}

/// Number of model margins for `k` classes.
pub fn n_margins(k: usize) -> usize {
    if k == 2 {
        1
    } else {
        k
    }
}

/// Class probabilities from margins (sigmoid for one margin, softmax otherwise).
pub fn proba_from_margins(m: &[f64]) -> Vec<f64> {
    if m.len() == 1 {
        let p = 1.0 / (1.0 + (-m[0]).exp());
        vec![1.0 - p, p]
    } else {
        let mx = m.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = m.iter().map(|v| (v - mx).exp()).collect();
        let s: f64 = e.iter().sum();
        e.into_iter().map(|v| v / s).collect()
    }
}

impl Logistic {
    /// Fits on `x` with classes `y` (< `n_classes`) and per-row weights `w`.
    pub fn fit(
        x: &Matrix,
        y: &[usize],
        n_classes: usize,
        w: &[f64],
        p: &LogisticParams,
    ) -> Logistic {
        let r = n_margins(n_classes);
        let d = x.n_cols;
        let stride = d + 1;
        let wsum: f64 = w.iter().sum::<f64>().max(1e-300);
        let smooth = |theta: &[f64], grad: &mut [f64], l2: f64| -> f64 {
            grad.iter_mut().for_each(|g| *g = 0.0);
            let mut loss = 0.0;
            let mut z = vec![0.0; r];
            for i in 0..x.n_rows {
                let xi = x.row(i);
                for (k, zk) in z.iter_mut().enumerate() {
                    let t = &theta[k * stride..(k + 1) * stride];
                    *zk = t[d] + xi.iter().zip(&t[..d]).map(|(a, b)| a * b).sum::<f64>();
                }
                let (li, resid) = nll(&z, y[i]);
                loss += w[i] * li;
                for k in 0..r {
                    let c = w[i] * resid[k] / wsum;
                    let g = &mut grad[k * stride..(k + 1) * stride];
                    for (gj, xj) in g[..d].iter_mut().zip(xi) {
                        *gj += c * xj;
                    }
                    g[d] += c;
                }
            }
            let mut pen = 0.0;
            for k in 0..r {
                for j in 0..d {
                    let t = theta[k * stride + j];
                    pen += t * t;
                    grad[k * stride + j] += l2 * t;
                }
            }
            loss / wsum + 0.5 * l2 * pen
        };
        let theta0 = vec![0.0; r * stride];
        let theta = if p.l1 > 0.0 {
            let penalised: Vec<bool> = (0..r * stride).map(|j| j % stride != d).collect();
            fista(
                |t, g| smooth(t, g, p.l2),
                theta0,
                &penalised,
                p.l1,
                p.max_iter * 20,
                1e-9,
            )
        } else {
            lbfgs(|t, g| smooth(t, g, p.l2), theta0, p.max_iter, 1e-9)
        };
        Logistic {
            n_classes,
            coef: (0..r)
                .map(|k| theta[k * stride..k * stride + d].to_vec())
                .collect(),
            intercept: (0..r).map(|k| theta[k * stride + d]).collect(),
        }
    }

    /// Margins of one input row.
    pub fn margins(&self, x: &[f64]) -> Vec<f64> {
        self.coef
            .iter()
            .zip(&self.intercept)
            .map(|(c, b)| b + c.iter().zip(x).map(|(a, v)| a * v).sum::<f64>())
            .collect()
    }
}

/// Negative log-likelihood of class `y` and d(nll)/d(margin) for margins `z`.
fn nll(z: &[f64], y: usize) -> (f64, Vec<f64>) {
    if z.len() == 1 {
        let m = z[0];
        let t = (y == 1) as u8 as f64;
        // log(1 + e^m) − t·m, stably
        let sp = if m > 0.0 {
            m + (-m).exp().ln_1p()
        } else {
            m.exp().ln_1p()
        };
        let p = 1.0 / (1.0 + (-m).exp());
        (sp - t * m, vec![p - t])
    } else {
        let mx = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = z.iter().map(|v| (v - mx).exp()).sum();
        let lse = mx + s.ln();
        let resid = z
            .iter()
            .enumerate()
            .map(|(k, v)| (v - lse).exp() - (k == y) as u8 as f64)
            .collect();
        (lse - z[y], resid)
    }
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)]
mod tests {
    use super::*;

    fn toy() -> (Matrix, Vec<usize>) {
        // 1-D, overlapping classes so the MLE is finite.
        let xs = [-2.0, -1.0, -0.5, 0.0, 0.3, 0.5, 1.0, 2.0, -0.2, 0.8];
        let ys = [0, 0, 1, 0, 1, 0, 1, 1, 1, 0];
        (
            Matrix {
                n_rows: 10,
                n_cols: 1,
                data: xs.to_vec(),
            },
            ys.to_vec(),
        )
    }

    #[test]
    fn binary_gradient_is_zero_at_the_optimum() {
        let (x, y) = toy();
        let w = vec![1.0; 10];
        let l2 = 0.1;
        let m = Logistic::fit(
            &x,
            &y,
            2,
            &w,
            &LogisticParams {
                l2,
                ..Default::default()
            },
        );
        // stationarity: Σ(p−y)x/n + l2·β = 0 and Σ(p−y) = 0
        let (mut g0, mut g1) = (0.0, 0.0);
        for i in 0..10 {
            let p = proba_from_margins(&m.margins(x.row(i)))[1];
            g0 += (p - y[i] as f64) / 10.0;
            g1 += (p - y[i] as f64) * x.row(i)[0] / 10.0;
        }
        g1 += l2 * m.coef[0][0];
        assert!(g0.abs() < 1e-8 && g1.abs() < 1e-8, "{g0} {g1}");
        assert!(m.coef[0][0] > 0.0);
    }

    #[test]
    fn l1_zeroes_a_useless_feature() {
        let (mut x, y) = toy();
        // add a pure-noise column
        let noise = [0.1, -0.3, 0.2, 0.05, -0.1, 0.3, -0.2, 0.0, 0.15, -0.05];
        x.data = (0..10).flat_map(|i| [x.data[i], noise[i]]).collect();
        x.n_cols = 2;
        let w = vec![1.0; 10];
        let m = Logistic::fit(
            &x,
            &y,
            2,
            &w,
            &LogisticParams {
                l2: 0.0,
                l1: 0.05,
                max_iter: 1000,
            },
        );
        assert_eq!(m.coef[0][1], 0.0);
        assert!(m.coef[0][0] > 0.0);
    }

    #[test]
    fn softmax_probabilities_sum_to_one_and_fit_separates() {
        let x = Matrix {
            n_rows: 6,
            n_cols: 1,
            data: vec![-3.0, -2.5, 0.0, 0.2, 3.0, 2.6],
        };
        let y = vec![0, 0, 1, 1, 2, 2];
        let m = Logistic::fit(
            &x,
            &y,
            3,
            &[1.0; 6],
            &LogisticParams {
                l2: 0.01,
                ..Default::default()
            },
        );
        for i in 0..6 {
            let p = proba_from_margins(&m.margins(x.row(i)));
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            let best = (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
            assert_eq!(best, y[i]);
        }
    }
}
