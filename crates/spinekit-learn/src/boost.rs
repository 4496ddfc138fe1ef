//! Gradient-boosted decision trees with Newton leaf values (Friedman 2001; Chen & Guestrin 2016): logistic loss
//! for two classes, softmax for more, shrinkage, depth limit, minimum child hessian ("min child weight"), L2 on
//! leaf values, sample weights. Splits are searched on per-feature histograms whose cut points are the midpoints
//! between consecutive distinct training values (exact splits while a feature has ≤ `max_bins` distinct values).

use crate::logistic::{n_margins, proba_from_margins};
use crate::prep::Matrix;
use serde::{Deserialize, Serialize};

/// Boosting hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoostParams {
    pub n_rounds: usize,
    pub learning_rate: f64,
    pub max_depth: usize,
    pub min_child_weight: f64,
    /// L2 penalty on leaf values (XGBoost's λ).
    pub lambda: f64,
    /// Minimum loss reduction to split (XGBoost's γ).
    pub gamma: f64,
    pub max_bins: usize,
}

impl Default for BoostParams {
    fn default() -> Self {
        Self {
            n_rounds: 100,
            learning_rate: 0.1,
            max_depth: 3,
            min_child_weight: 1.0,
            lambda: 1.0,
            gamma: 0.0,
            max_bins: 256,
        }
    }
}

/// One node; a leaf has `feature == None`. Internal nodes send `x[feature] <= threshold` to `left`.
/// `cover` = number of training rows reaching the node (TreeSHAP's background weights).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub feature: Option<usize>,
    pub threshold: f64,
    pub left: usize,
    pub right: usize,
    /// Leaf output (already multiplied by the learning rate); 0 for internal nodes.
    pub value: f64,
    pub cover: f64,
}

/// A regression tree on the margin scale; node 0 is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

impl Tree {
    pub fn predict(&self, x: &[f64]) -> f64 {
        let mut j = 0;
        loop {
            let n = &self.nodes[j];
            match n.feature {
                None => return n.value,
                Some(f) => j = if x[f] <= n.threshold { n.left } else { n.right },
            }
        }
    }

    /// Cover-weighted mean leaf value: the tree's expected output over the training rows.
    pub fn expected_value(&self) -> f64 {
        let root = self.nodes[0].cover.max(1e-300);
        self.nodes
            .iter()
            .filter(|n| n.feature.is_none())
            .map(|n| n.value * n.cover / root)
            .sum()
    }

    pub fn max_depth(&self) -> usize {
        fn d(t: &Tree, j: usize) -> usize {
            match t.nodes[j].feature {
                None => 0,
                Some(_) => 1 + d(t, t.nodes[j].left).max(d(t, t.nodes[j].right)),
            }
        }
        d(self, 0)
    }
}

/// A boosted ensemble: margin r = `base_margin[r]` + Σ `trees[r][t]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Boosted {
    pub n_classes: usize,
    pub n_features: usize,
    pub base_margin: Vec<f64>,
    pub trees: Vec<Vec<Tree>>,
}

impl Boosted {
    /// Fits `params.n_rounds` rounds on `x`, classes `y`, row weights `w`.
    pub fn fit(
        x: &Matrix,
        y: &[usize],
        n_classes: usize,
        w: &[f64],
        params: &BoostParams,
    ) -> Boosted {
        let r = n_margins(n_classes);
        let n = x.n_rows;
        let wsum: f64 = w.iter().sum::<f64>().max(1e-300);
        let mut prior = vec![1e-12; n_classes];
        for i in 0..n {
            prior[y[i]] += w[i] / wsum;
        }
        let base_margin: Vec<f64> = if r == 1 {
            vec![(prior[1] / prior[0]).ln()]
        } else {
            prior.iter().map(|p| p.ln()).collect()
        };
        let bins = Binned::new(x, params.max_bins.max(2));
        let mut margins: Vec<Vec<f64>> = vec![base_margin.clone(); n];
        let mut trees: Vec<Vec<Tree>> = vec![Vec::with_capacity(params.n_rounds); r];
        let mut g = vec![0.0; n];
        let mut h = vec![0.0; n];
        let all: Vec<usize> = (0..n).collect();
        for _ in 0..params.n_rounds {
            let probs: Vec<Vec<f64>> = margins.iter().map(|m| proba_from_margins(m)).collect();
            for k in 0..r {
                let class = if r == 1 { 1 } else { k };
                for i in 0..n {
                    let p = probs[i][class];
                    let t = (y[i] == class) as u8 as f64;
                    g[i] = w[i] * (p - t);
                    h[i] = w[i] * (p * (1.0 - p)).max(1e-16);
                }
                let mut b = Builder {
                    bins: &bins,
                    g: &g,
                    h: &h,
                    p: params,
                    nodes: Vec::new(),
                };
                b.grow(all.clone(), 0);
                let tree = Tree { nodes: b.nodes };
                for (i, m) in margins.iter_mut().enumerate() {
                    m[k] += tree.predict(x.row(i));
                }
                trees[k].push(tree);
            }
        }
        Boosted {
            n_classes,
            n_features: x.n_cols,
            base_margin,
            trees,
        }
    }

    /// Margins of one row using the first `rounds` rounds (all with `usize::MAX`).
    pub fn margins_upto(&self, x: &[f64], rounds: usize) -> Vec<f64> {
        self.base_margin
            .iter()
            .zip(&self.trees)
            .map(|(b, ts)| b + ts.iter().take(rounds).map(|t| t.predict(x)).sum::<f64>())
            .collect()
    }

    pub fn margins(&self, x: &[f64]) -> Vec<f64> {
        self.margins_upto(x, usize::MAX)
    }

    /// Keeps only the first `rounds` rounds.
    pub fn truncate(&mut self, rounds: usize) {
        for ts in &mut self.trees {
            ts.truncate(rounds);
        }
    }
}

/// Per-feature bin index of every training row and the cut points between bins.
struct Binned {
    n_rows: usize,
    /// cuts[f][j]: bin ≤ j ⇔ x ≤ cuts[f][j]
    cuts: Vec<Vec<f64>>,
    /// column-major bin codes
    codes: Vec<Vec<u16>>,
}

impl Binned {
    fn new(x: &Matrix, max_bins: usize) -> Binned {
        let max_bins = max_bins.min(u16::MAX as usize);
        let mut cuts = Vec::with_capacity(x.n_cols);
        let mut codes = Vec::with_capacity(x.n_cols);
        for f in 0..x.n_cols {
            let mut v: Vec<f64> = (0..x.n_rows).map(|i| x.row(i)[f]).collect();
            v.sort_by(f64::total_cmp);
            let mut distinct = v.clone();
            distinct.dedup();
            let c: Vec<f64> = if distinct.len() <= max_bins {
                distinct.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect()
            } else {
                // quantile cut points, each placed midway between two distinct values
                let mut c: Vec<f64> = (1..max_bins)
                    .filter_map(|q| {
                        let a = v[q * v.len() / max_bins];
                        let k = distinct.partition_point(|&d| d <= a);
                        distinct.get(k).map(|&b| 0.5 * (a + b))
                    })
                    .collect();
                c.dedup();
                c
            };
            codes.push(
                (0..x.n_rows)
                    .map(|i| c.partition_point(|&t| t < x.row(i)[f]) as u16)
                    .collect(),
            );
            cuts.push(c);
        }
        Binned {
            n_rows: x.n_rows,
            cuts,
            codes,
        }
    }
}

struct Builder<'a> {
    bins: &'a Binned,
    g: &'a [f64],
    h: &'a [f64],
    p: &'a BoostParams,
    nodes: Vec<Node>,
}

impl Builder<'_> {
    /// Grows the subtree of `rows` at `depth`; returns its node index.
    fn grow(&mut self, rows: Vec<usize>, depth: usize) -> usize {
        debug_assert!(rows.len() <= self.bins.n_rows);
        let (gs, hs): (f64, f64) = rows
            .iter()
            .fold((0.0, 0.0), |(a, b), &i| (a + self.g[i], b + self.h[i]));
        let lam = self.p.lambda;
        let id = self.nodes.len();
        self.nodes.push(Node {
            feature: None,
            threshold: 0.0,
            left: 0,
            right: 0,
            value: -gs / (hs + lam) * self.p.learning_rate,
            cover: rows.len() as f64,
        });
        if depth >= self.p.max_depth || rows.len() < 2 {
            return id;
        }
        let parent = gs * gs / (hs + lam);
        let mut best: Option<(f64, usize, usize)> = None; // gain, feature, cut
        for (f, cuts) in self.bins.cuts.iter().enumerate() {
            if cuts.is_empty() {
                continue;
            }
            let nb = cuts.len() + 1;
            let mut hg = vec![0.0; nb];
            let mut hh = vec![0.0; nb];
            let mut hc = vec![0usize; nb];
            let codes = &self.bins.codes[f];
            for &i in &rows {
                let b = codes[i] as usize;
                hg[b] += self.g[i];
                hh[b] += self.h[i];
                hc[b] += 1;
            }
            let (mut gl, mut hl, mut cl) = (0.0, 0.0, 0usize);
            for j in 0..nb - 1 {
                gl += hg[j];
                hl += hh[j];
                cl += hc[j];
                let (gr, hr, cr) = (gs - gl, hs - hl, rows.len() - cl);
                if cl == 0
                    || cr == 0
                    || hl < self.p.min_child_weight
                    || hr < self.p.min_child_weight
                {
                    continue;
                }
                let gain =
                    0.5 * (gl * gl / (hl + lam) + gr * gr / (hr + lam) - parent) - self.p.gamma;
                if gain > 1e-12 && best.is_none_or(|(bg, _, _)| gain > bg) {
                    best = Some((gain, f, j));
                }
            }
        }
        let Some((_, f, j)) = best else { return id };
        let codes = &self.bins.codes[f];
        let (l, r): (Vec<usize>, Vec<usize>) =
            rows.into_iter().partition(|&i| (codes[i] as usize) <= j);
        let left = self.grow(l, depth + 1);
        let right = self.grow(r, depth + 1);
        let n = &mut self.nodes[id];
        n.feature = Some(f);
        n.threshold = self.bins.cuts[f][j];
        n.left = left;
        n.right = right;
        n.value = 0.0;
        id
    }
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)]
mod tests {
    use super::*;

    #[test]
    fn learns_an_interaction_with_depth_two() {
        let mut data = Vec::new();
        let mut y = Vec::new();
        for i in 0..40 {
            let a = (i % 2) as f64;
            let b = ((i / 2) % 2) as f64;
            data.extend([a, b, (i % 7) as f64]);
            // AND of two features plus a noise column: needs the depth-2 interaction
            y.push((a as usize) & (b as usize));
        }
        let x = Matrix {
            n_rows: 40,
            n_cols: 3,
            data,
        };
        let p = BoostParams {
            n_rounds: 30,
            max_depth: 2,
            learning_rate: 0.3,
            ..Default::default()
        };
        let m = Boosted::fit(&x, &y, 2, &[1.0; 40], &p);
        for i in 0..40 {
            let prob = proba_from_margins(&m.margins(x.row(i)))[1];
            assert_eq!(prob > 0.5, y[i] == 1, "row {i}: {prob}");
        }
        assert!(m.trees[0].iter().all(|t| t.max_depth() <= 2));
        // covers add up at every split
        for t in &m.trees[0] {
            for n in &t.nodes {
                if n.feature.is_some() {
                    assert_eq!(n.cover, t.nodes[n.left].cover + t.nodes[n.right].cover);
                }
            }
        }
    }

    #[test]
    fn min_child_weight_blocks_small_leaves() {
        let x = Matrix {
            n_rows: 6,
            n_cols: 1,
            data: vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
        };
        let y = vec![0, 0, 0, 1, 1, 1];
        let p = BoostParams {
            n_rounds: 1,
            min_child_weight: 10.0,
            ..Default::default()
        };
        let m = Boosted::fit(&x, &y, 2, &[1.0; 6], &p);
        assert_eq!(m.trees[0][0].nodes.len(), 1);
        let p = BoostParams {
            n_rounds: 1,
            min_child_weight: 0.1,
            ..Default::default()
        };
        let m = Boosted::fit(&x, &y, 2, &[1.0; 6], &p);
        assert_eq!(m.trees[0][0].nodes[0].threshold, 2.5);
    }
}
