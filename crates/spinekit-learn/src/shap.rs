//! Exact SHAP values. TreeSHAP is Algorithm 2 of Lundberg, Erion & Lee (2018), "Consistent individualized
//! feature attribution for tree ensembles" (arXiv:1802.03888), with background weights = node covers, as in the
//! `shap` package's `tree_shap_recursive`. Linear SHAP (independent features) is wⱼ·(xⱼ − E[xⱼ]).

use crate::boost::Tree;

#[derive(Clone, Copy, Debug)]
struct PathElem {
    feature: Option<usize>,
    zero: f64,
    one: f64,
    weight: f64,
}

/// Adds the SHAP values of `tree` at `x` to `phi` (one entry per feature). Together with
/// [`Tree::expected_value`] they sum to `tree.predict(x)`.
pub fn tree_shap(tree: &Tree, x: &[f64], phi: &mut [f64]) {
    recurse(tree, x, phi, 0, &[], 1.0, 1.0, None);
}

#[allow(clippy::too_many_arguments)]
fn recurse(
    tree: &Tree,
    x: &[f64],
    phi: &mut [f64],
    j: usize,
    parent: &[PathElem],
    zero: f64,
    one: f64,
    feature: Option<usize>,
) {
    let mut m = parent.to_vec();
    extend(&mut m, zero, one, feature);
    let node = &tree.nodes[j];
    match node.feature {
        None => {
            for i in 1..m.len() {
                let w = unwound_sum(&m, i);
                let e = m[i];
                if let Some(f) = e.feature {
                    phi[f] += w * (e.one - e.zero) * node.value;
                }
            }
        }
        Some(d) => {
            let (hot, cold) = if x[d] <= node.threshold {
                (node.left, node.right)
            } else {
                (node.right, node.left)
            };
            let cover = node.cover.max(1e-300);
            let (mut iz, mut io) = (1.0, 1.0);
            if let Some(k) = m.iter().position(|e| e.feature == Some(d)) {
                iz = m[k].zero;
                io = m[k].one;
                unwind(&mut m, k);
            }
            let hz = tree.nodes[hot].cover / cover;
            let cz = tree.nodes[cold].cover / cover;
            recurse(tree, x, phi, hot, &m, iz * hz, io, Some(d));
            recurse(tree, x, phi, cold, &m, iz * cz, 0.0, Some(d));
        }
    }
}

fn extend(m: &mut Vec<PathElem>, zero: f64, one: f64, feature: Option<usize>) {
    let l = m.len();
    m.push(PathElem {
        feature,
        zero,
        one,
        weight: if l == 0 { 1.0 } else { 0.0 },
    });
    let lf = l as f64;
    for i in (0..l).rev() {
        m[i + 1].weight += one * m[i].weight * (i as f64 + 1.0) / (lf + 1.0);
        m[i].weight = zero * m[i].weight * (lf - i as f64) / (lf + 1.0);
    }
}

/// Removes element `k` from the path, undoing its effect on the weights.
fn unwind(m: &mut Vec<PathElem>, k: usize) {
    let l = m.len() - 1; // unique depth
    let lf = l as f64;
    let (one, zero) = (m[k].one, m[k].zero);
    let mut next = m[l].weight;
    for i in (0..l).rev() {
        if one != 0.0 {
            let tmp = m[i].weight;
            m[i].weight = next * (lf + 1.0) / ((i as f64 + 1.0) * one);
            next = tmp - m[i].weight * zero * (lf - i as f64) / (lf + 1.0);
        } else {
            m[i].weight = m[i].weight * (lf + 1.0) / (zero * (lf - i as f64));
        }
    }
    for i in k..l {
        m[i].feature = m[i + 1].feature;
        m[i].zero = m[i + 1].zero;
        m[i].one = m[i + 1].one;
    }
    m.pop();
}

/// Sum of the weights the path would have with element `k` unwound.
fn unwound_sum(m: &[PathElem], k: usize) -> f64 {
    let l = m.len() - 1;
    let lf = l as f64;
    let (one, zero) = (m[k].one, m[k].zero);
    let mut next = m[l].weight;
    let mut total = 0.0;
    for i in (0..l).rev() {
        if one != 0.0 {
            let tmp = next * (lf + 1.0) / ((i as f64 + 1.0) * one);
            total += tmp;
            next = m[i].weight - tmp * zero * (lf - i as f64) / (lf + 1.0);
        } else {
            total += m[i].weight / zero / ((lf - i as f64) / (lf + 1.0));
        }
    }
    total
}

/// Linear SHAP: `coef[j]·(x[j] − mean[j])`; with base value `intercept + coef·mean` they sum to the margin.
pub fn linear_shap(coef: &[f64], mean: &[f64], x: &[f64]) -> Vec<f64> {
    coef.iter()
        .zip(mean)
        .zip(x)
        .map(|((c, m), v)| c * (v - m))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::boost::Node;

    /// E[f(x) | x_S] by Algorithm 1 of the paper (cover-weighted descent where the feature is unknown).
    fn cond_exp(t: &Tree, x: &[f64], s: u32, j: usize) -> f64 {
        let n = &t.nodes[j];
        match n.feature {
            None => n.value,
            Some(f) if s & (1 << f) != 0 => {
                cond_exp(t, x, s, if x[f] <= n.threshold { n.left } else { n.right })
            }
            Some(_) => {
                (t.nodes[n.left].cover * cond_exp(t, x, s, n.left)
                    + t.nodes[n.right].cover * cond_exp(t, x, s, n.right))
                    / n.cover
            }
        }
    }

    /// Shapley values by enumerating every subset (exponential; the independent check).
    fn brute_force(t: &Tree, x: &[f64], p: usize) -> Vec<f64> {
        let fact = |k: usize| (1..=k).map(|v| v as f64).product::<f64>();
        let mut phi = vec![0.0; p];
        for (i, ph) in phi.iter_mut().enumerate() {
            for s in 0u32..(1 << p) {
                if s & (1 << i) != 0 {
                    continue;
                }
                let k = s.count_ones() as usize;
                let w = fact(k) * fact(p - k - 1) / fact(p);
                *ph += w * (cond_exp(t, x, s | (1 << i), 0) - cond_exp(t, x, s, 0));
            }
        }
        phi
    }

    fn split(f: usize, thr: f64, l: usize, r: usize, cover: f64) -> Node {
        Node {
            feature: Some(f),
            threshold: thr,
            left: l,
            right: r,
            value: 0.0,
            cover,
        }
    }
    fn leaf(v: f64, cover: f64) -> Node {
        Node {
            feature: None,
            threshold: 0.0,
            left: 0,
            right: 0,
            value: v,
            cover,
        }
    }

    #[test]
    fn matches_brute_force_shapley_with_repeated_features() {
        // feature 0 splits twice on one path; feature 2 never used
        let t = Tree {
            nodes: vec![
                split(0, 0.5, 1, 2, 100.0),
                split(1, 1.0, 3, 4, 60.0),
                split(3, -1.0, 5, 6, 40.0),
                split(0, 0.2, 7, 8, 25.0),
                leaf(0.7, 35.0),
                leaf(-0.4, 10.0),
                split(1, 0.0, 9, 10, 30.0),
                leaf(1.3, 5.0),
                leaf(-2.0, 20.0),
                leaf(0.25, 12.0),
                leaf(-0.9, 18.0),
            ],
        };
        let xs = [
            [0.1, 0.5, 7.0, 0.0],
            [0.3, 2.0, 0.0, -3.0],
            [0.9, -1.0, 1.0, 0.5],
            [0.9, 1.0, 1.0, -2.0],
        ];
        for x in xs {
            let mut phi = vec![0.0; 4];
            tree_shap(&t, &x, &mut phi);
            let bf = brute_force(&t, &x, 4);
            for (a, b) in phi.iter().zip(&bf) {
                assert!((a - b).abs() < 1e-12, "{phi:?} vs {bf:?}");
            }
            assert_eq!(phi[2], 0.0);
            let total: f64 = phi.iter().sum::<f64>() + t.expected_value();
            assert!((total - t.predict(&x)).abs() < 1e-12);
        }
    }
}
