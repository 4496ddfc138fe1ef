//! Unsupervised grouping of patients: k-means (k-means++ seeding, several restarts, fixed seed) and
//! agglomerative clustering with Ward's linkage, on standardised features (numeric: median-imputed then
//! z-scored; categorical: most-frequent-imputed then one-hot, as in training but without missing indicators),
//! the number of clusters chosen by the mean silhouette, and a per-cluster profile of the original columns.
//!
//! Definitions follow scikit-learn (Lloyd's k-means, `AgglomerativeClustering(linkage="ward")`,
//! `silhouette_score` with Euclidean distance; a point alone in its cluster has silhouette 0) and are checked
//! against it in the tests.

use crate::error::{LearnError, Result};
use crate::prep::{FeatureTransform, Matrix, Preprocessor};
use crate::table::{Column, ColumnValues, Table};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Ward's agglomeration keeps an n×n distance matrix: above this many rows use k-means.
pub const WARD_MAX_ROWS: usize = 6000;

/// Clustering algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClusterMethod {
    KMeans,
    Agglomerative,
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterOptions {
    pub method: ClusterMethod,
    /// Candidate numbers of clusters, inclusive.
    pub k_min: usize,
    pub k_max: usize,
    /// k-means restarts from different k-means++ seeds (the lowest inertia wins).
    pub restarts: usize,
    pub max_iter: usize,
    pub seed: u64,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            method: ClusterMethod::KMeans,
            k_min: 2,
            k_max: 8,
            restarts: 10,
            max_iter: 300,
            seed: 42,
        }
    }
}

/// Result of one k-means run.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansResult {
    pub labels: Vec<usize>,
    /// centers[cluster][input]
    pub centers: Vec<Vec<f64>>,
    /// Sum of squared distances of rows to their center.
    pub inertia: f64,
    pub n_iter: usize,
}

fn sq_dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn nearest(x: &[f64], centers: &[Vec<f64>]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, ctr) in centers.iter().enumerate() {
        let d = sq_dist(x, ctr);
        if d < best.1 {
            best = (c, d);
        }
    }
    best
}

/// Lloyd's algorithm from the given centers until no label changes (or `max_iter`); an emptied cluster is
/// moved to the row farthest from its current center. Deterministic.
pub fn kmeans_from(x: &Matrix, init: &[Vec<f64>], max_iter: usize) -> KMeansResult {
    let k = init.len();
    let d = x.n_cols;
    let mut centers = init.to_vec();
    let mut labels = vec![usize::MAX; x.n_rows];
    let mut n_iter = 0;
    for it in 0..max_iter.max(1) {
        n_iter = it + 1;
        let assigned: Vec<(usize, f64)> = (0..x.n_rows)
            .into_par_iter()
            .map(|i| nearest(x.row(i), &centers))
            .collect();
        let changed = assigned.iter().zip(&labels).any(|(a, &l)| a.0 != l);
        for (l, a) in labels.iter_mut().zip(&assigned) {
            *l = a.0;
        }
        if !changed {
            break;
        }
        let mut sums = vec![vec![0.0; d]; k];
        let mut counts = vec![0usize; k];
        for i in 0..x.n_rows {
            counts[labels[i]] += 1;
            for (s, v) in sums[labels[i]].iter_mut().zip(x.row(i)) {
                *s += v;
            }
        }
        for c in 0..k {
            if counts[c] > 0 {
                centers[c] = sums[c].iter().map(|s| s / counts[c] as f64).collect();
            } else {
                // Relocate an empty cluster to the worst-fitted row.
                let far = (0..x.n_rows)
                    .max_by(|&a, &b| assigned[a].1.total_cmp(&assigned[b].1))
                    .unwrap_or(0);
                centers[c] = x.row(far).to_vec();
            }
        }
    }
    let inertia = (0..x.n_rows)
        .map(|i| sq_dist(x.row(i), &centers[labels[i]]))
        .sum();
    KMeansResult {
        labels,
        centers,
        inertia,
        n_iter,
    }
}

/// k-means++ seeding (Arthur & Vassilvitskii 2007): first center uniform, then each next row with probability
/// proportional to its squared distance to the nearest chosen center.
pub fn kmeans_plus_plus(x: &Matrix, k: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<f64>> {
    let mut centers = vec![x.row(rng.random_range(0..x.n_rows)).to_vec()];
    let mut d2: Vec<f64> = (0..x.n_rows)
        .map(|i| sq_dist(x.row(i), &centers[0]))
        .collect();
    while centers.len() < k {
        let total: f64 = d2.iter().sum();
        let pick = if total > 0.0 {
            let mut r = rng.random::<f64>() * total;
            let mut idx = x.n_rows - 1;
            for (i, v) in d2.iter().enumerate() {
                if r < *v {
                    idx = i;
                    break;
                }
                r -= v;
            }
            idx
        } else {
            rng.random_range(0..x.n_rows)
        };
        let c = x.row(pick).to_vec();
        for (i, v) in d2.iter_mut().enumerate() {
            *v = v.min(sq_dist(x.row(i), &c));
        }
        centers.push(c);
    }
    centers
}

/// Best (lowest inertia) of `restarts` k-means runs from k-means++ seeds drawn from `seed`.
pub fn kmeans(
    x: &Matrix,
    k: usize,
    restarts: usize,
    seed: u64,
    max_iter: usize,
) -> Result<KMeansResult> {
    check_k(x.n_rows, k)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut best: Option<KMeansResult> = None;
    for _ in 0..restarts.max(1) {
        let init = kmeans_plus_plus(x, k, &mut rng);
        let r = kmeans_from(x, &init, max_iter);
        if best.as_ref().is_none_or(|b| r.inertia < b.inertia) {
            best = Some(r);
        }
    }
    Ok(best.expect("at least one restart"))
}

fn check_k(n: usize, k: usize) -> Result<()> {
    if k < 2 || k >= n {
        return Err(LearnError::Invalid(format!(
            "{k} clusters cannot be formed from {n} rows: use 2 ≤ k ≤ {}",
            n.saturating_sub(1)
        )));
    }
    Ok(())
}

/// A full Ward hierarchy: `merges[m] = (a, b, height)` in increasing height, `a`/`b` being rows that represent
/// the two merged clusters; height = √(2·increase of the within-cluster sum of squares), as in SciPy.
#[derive(Debug, Clone, PartialEq)]
pub struct Dendrogram {
    pub n_rows: usize,
    pub merges: Vec<(usize, usize, f64)>,
}

/// Ward's minimum-variance agglomeration by the nearest-neighbour-chain algorithm with the Lance–Williams update
/// on squared Euclidean distances. O(n²) memory, at most [`WARD_MAX_ROWS`] rows.
pub fn ward(x: &Matrix) -> Result<Dendrogram> {
    let n = x.n_rows;
    if n < 2 {
        return Err(LearnError::Invalid(
            "clustering needs at least 2 rows".into(),
        ));
    }
    if n > WARD_MAX_ROWS {
        return Err(LearnError::Invalid(format!(
            "agglomerative clustering keeps all pairwise distances and is limited to {WARD_MAX_ROWS} rows ({n} given); use k-means"
        )));
    }
    let mut dist = vec![0.0f64; n * n];
    dist.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        for (j, v) in row.iter_mut().enumerate() {
            *v = sq_dist(x.row(i), x.row(j));
        }
    });
    let mut size = vec![1usize; n];
    let mut active = vec![true; n];
    let mut chain: Vec<usize> = Vec::with_capacity(n);
    let mut merges = Vec::with_capacity(n - 1);
    while merges.len() < n - 1 {
        if chain.is_empty() {
            chain.push(
                active
                    .iter()
                    .position(|&a| a)
                    .expect("an active cluster remains"),
            );
        }
        let (a, b) = loop {
            let a = *chain.last().expect("chain not empty");
            let prev = if chain.len() >= 2 {
                Some(chain[chain.len() - 2])
            } else {
                None
            };
            // Nearest active neighbour; on ties prefer the previous chain element (guarantees termination).
            let mut best = prev.unwrap_or(usize::MAX);
            let mut best_d = prev.map_or(f64::INFINITY, |p| dist[a * n + p]);
            for c in 0..n {
                if c != a && active[c] && dist[a * n + c] < best_d {
                    best = c;
                    best_d = dist[a * n + c];
                }
            }
            if Some(best) == prev {
                chain.pop();
                chain.pop();
                break (a, best);
            }
            chain.push(best);
        };
        let dab = dist[a * n + b];
        let (na, nb) = (size[a] as f64, size[b] as f64);
        // Merged cluster lives at index a; b is retired.
        for k in 0..n {
            if !active[k] || k == a || k == b {
                continue;
            }
            let nk = size[k] as f64;
            let v = ((na + nk) * dist[a * n + k] + (nb + nk) * dist[b * n + k] - nk * dab)
                / (na + nb + nk);
            dist[a * n + k] = v;
            dist[k * n + a] = v;
        }
        active[b] = false;
        size[a] += size[b];
        merges.push((a.min(b), a.max(b), dab.max(0.0).sqrt()));
    }
    merges.sort_by(|p, q| p.2.total_cmp(&q.2));
    Ok(Dendrogram { n_rows: n, merges })
}

impl Dendrogram {
    /// Labels of the `k`-cluster cut (the first n − k merges), numbered 0.. in order of first appearance.
    pub fn cut(&self, k: usize) -> Vec<usize> {
        let n = self.n_rows;
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(p: &mut [usize], mut i: usize) -> usize {
            while p[i] != i {
                p[i] = p[p[i]];
                i = p[i];
            }
            i
        }
        for &(a, b, _) in self.merges.iter().take(n.saturating_sub(k.max(1))) {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            parent[ra.max(rb)] = ra.min(rb);
        }
        renumber(&(0..n).map(|i| find(&mut parent, i)).collect::<Vec<_>>())
    }
}

/// Renumbers labels 0.. in order of first appearance.
fn renumber(labels: &[usize]) -> Vec<usize> {
    let mut map: Vec<(usize, usize)> = Vec::new();
    labels
        .iter()
        .map(|&l| match map.iter().find(|(from, _)| *from == l) {
            Some(&(_, to)) => to,
            None => {
                map.push((l, map.len()));
                map.len() - 1
            }
        })
        .collect()
}

/// Silhouette of every row, Euclidean distance (Rousseeuw 1987): s = (b − a) / max(a, b), 0 for a row alone in
/// its cluster.
pub fn silhouette_samples(x: &Matrix, labels: &[usize]) -> Vec<f64> {
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let mut counts = vec![0usize; k];
    for &l in labels {
        counts[l] += 1;
    }
    (0..x.n_rows)
        .into_par_iter()
        .map(|i| {
            let mut sums = vec![0.0; k];
            for j in 0..x.n_rows {
                if j != i {
                    sums[labels[j]] += sq_dist(x.row(i), x.row(j)).sqrt();
                }
            }
            let own = labels[i];
            if counts[own] <= 1 {
                return 0.0;
            }
            let a = sums[own] / (counts[own] - 1) as f64;
            let b = (0..k)
                .filter(|&c| c != own && counts[c] > 0)
                .map(|c| sums[c] / counts[c] as f64)
                .fold(f64::INFINITY, f64::min);
            if !b.is_finite() {
                return 0.0;
            }
            let m = a.max(b);
            if m > 0.0 {
                (b - a) / m
            } else {
                0.0
            }
        })
        .collect()
}

/// Mean silhouette (scikit-learn's `silhouette_score`).
pub fn silhouette(x: &Matrix, labels: &[usize]) -> f64 {
    let s = silhouette_samples(x, labels);
    s.iter().sum::<f64>() / s.len().max(1) as f64
}

/// Summary of one numeric column within a cluster (missing values left out).
#[derive(Debug, Clone, Serialize)]
pub struct NumericSummary {
    pub column: String,
    pub n_present: usize,
    pub n_missing: usize,
    pub mean: f64,
    /// Sample standard deviation (n − 1).
    pub sd: f64,
    pub median: f64,
    /// Quartiles by linear interpolation (NumPy's default).
    pub q1: f64,
    pub q3: f64,
}

/// Level counts of one categorical column within a cluster.
#[derive(Debug, Clone, Serialize)]
pub struct CategoricalSummary {
    pub column: String,
    /// (level, count, fraction of the cluster's non-missing values), most frequent first.
    pub levels: Vec<(String, usize, f64)>,
    pub n_missing: usize,
}

/// One cluster's profile.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterProfile {
    /// 1-based; clusters are numbered by decreasing size.
    pub cluster: usize,
    pub n: usize,
    pub numeric: Vec<NumericSummary>,
    pub categorical: Vec<CategoricalSummary>,
}

/// Everything one clustering run produced.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterReport {
    pub method: ClusterMethod,
    pub options: ClusterOptions,
    /// Columns used for the distances.
    pub features: Vec<String>,
    /// Model inputs after standardisation / one-hot.
    pub inputs: Vec<String>,
    pub n_rows: usize,
    /// (k, mean silhouette) for every candidate k.
    pub silhouette_by_k: Vec<(usize, f64)>,
    pub chosen_k: usize,
    /// 1-based cluster of every row.
    pub labels: Vec<usize>,
    pub profiles: Vec<ClusterProfile>,
    pub preprocessing: String,
}

/// Standardised clustering inputs of `features` of `t` (imputation and scaling fitted on all rows, no missing
/// indicators: a missing value is placed at the median / most frequent level).
pub fn cluster_inputs(t: &Table, features: &[String]) -> Result<(Matrix, Vec<String>)> {
    let cols: Vec<Column> = features
        .iter()
        .map(|f| t.column(f).cloned())
        .collect::<Result<_>>()?;
    let rows: Vec<usize> = (0..t.n_rows).collect();
    let mut pre = Preprocessor::fit(&cols, &rows);
    for f in &mut pre.features {
        match f {
            FeatureTransform::Numeric { indicator, .. }
            | FeatureTransform::Categorical { indicator, .. } => *indicator = false,
        }
    }
    Ok((pre.transform(&cols, &rows), pre.output_names()))
}

/// Clusters `t` on `features` for every k in the range, keeps the k with the highest mean silhouette (ties: the
/// smaller k), and profiles every column in `describe` per cluster.
pub fn cluster_table(
    t: &Table,
    features: &[String],
    describe: &[String],
    opts: &ClusterOptions,
) -> Result<ClusterReport> {
    if features.is_empty() {
        return Err(LearnError::Invalid(
            "no feature columns to cluster on".into(),
        ));
    }
    if t.n_rows < 3 {
        return Err(LearnError::Invalid(format!(
            "clustering needs at least 3 rows, the table has {}",
            t.n_rows
        )));
    }
    let k_max = opts.k_max.min(t.n_rows - 1);
    if opts.k_min < 2 || opts.k_min > k_max {
        return Err(LearnError::Invalid(format!(
            "the number of clusters must run over 2 ≤ k ≤ {} for {} rows (asked {}..{})",
            t.n_rows - 1,
            t.n_rows,
            opts.k_min,
            opts.k_max
        )));
    }
    let (x, inputs) = cluster_inputs(t, features)?;
    let tree = match opts.method {
        ClusterMethod::Agglomerative => Some(ward(&x)?),
        ClusterMethod::KMeans => None,
    };
    let mut runs = Vec::new();
    for k in opts.k_min..=k_max {
        let labels = match &tree {
            Some(d) => d.cut(k),
            None => kmeans(&x, k, opts.restarts, opts.seed, opts.max_iter)?.labels,
        };
        let s = silhouette(&x, &labels);
        runs.push((k, s, labels));
    }
    let best = runs
        .iter()
        .enumerate()
        .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1).then(b.0.cmp(&a.0)))
        .map(|(i, _)| i)
        .expect("at least one k");
    let silhouette_by_k = runs.iter().map(|r| (r.0, r.1)).collect();
    let (chosen_k, _, labels) = runs.swap_remove(best);
    // Number clusters 1.. by decreasing size (ties: first appearance).
    let first = renumber(&labels);
    let mut sizes: Vec<(usize, usize)> = (0..chosen_k)
        .map(|c| (c, first.iter().filter(|&&l| l == c).count()))
        .collect();
    sizes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let rank: Vec<usize> = (0..chosen_k)
        .map(|c| {
            sizes
                .iter()
                .position(|s| s.0 == c)
                .expect("every cluster ranked")
        })
        .collect();
    let labels: Vec<usize> = first.iter().map(|&l| rank[l] + 1).collect();
    let describe_cols: Vec<Column> = describe
        .iter()
        .map(|f| t.column(f).cloned())
        .collect::<Result<_>>()?;
    let profiles = (1..=chosen_k)
        .map(|c| {
            let rows: Vec<usize> = (0..t.n_rows).filter(|&i| labels[i] == c).collect();
            profile(c, &rows, &describe_cols)
        })
        .collect();
    Ok(ClusterReport {
        method: opts.method,
        options: opts.clone(),
        features: features.to_vec(),
        inputs,
        n_rows: t.n_rows,
        silhouette_by_k,
        chosen_k,
        labels,
        profiles,
        preprocessing: "numeric: median imputation then z-score (population SD) over all rows; categorical: most frequent level imputation then one-hot (0/1, unscaled); Euclidean distance".into(),
    })
}

fn profile(cluster: usize, rows: &[usize], cols: &[Column]) -> ClusterProfile {
    let mut numeric = Vec::new();
    let mut categorical = Vec::new();
    for c in cols {
        match &c.values {
            ColumnValues::Numeric(v) => {
                let mut vals: Vec<f64> = rows.iter().filter_map(|&r| v[r]).collect();
                vals.sort_by(f64::total_cmp);
                let n = vals.len();
                let mean = if n > 0 {
                    vals.iter().sum::<f64>() / n as f64
                } else {
                    f64::NAN
                };
                let sd = if n > 1 {
                    (vals.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64)
                        .sqrt()
                } else {
                    f64::NAN
                };
                numeric.push(NumericSummary {
                    column: c.name.clone(),
                    n_present: n,
                    n_missing: rows.len() - n,
                    mean,
                    sd,
                    median: quantile(&vals, 0.5),
                    q1: quantile(&vals, 0.25),
                    q3: quantile(&vals, 0.75),
                });
            }
            ColumnValues::Categorical(v) => {
                let present: Vec<&String> = rows.iter().filter_map(|&r| v[r].as_ref()).collect();
                let mut levels: Vec<(String, usize, f64)> = Vec::new();
                for l in &present {
                    match levels.iter_mut().find(|e| &e.0 == *l) {
                        Some(e) => e.1 += 1,
                        None => levels.push(((*l).clone(), 1, 0.0)),
                    }
                }
                for e in &mut levels {
                    e.2 = e.1 as f64 / present.len() as f64;
                }
                levels.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                categorical.push(CategoricalSummary {
                    column: c.name.clone(),
                    levels,
                    n_missing: rows.len() - present.len(),
                });
            }
        }
    }
    ClusterProfile {
        cluster,
        n: rows.len(),
        numeric,
        categorical,
    }
}

/// Quantile of sorted values by linear interpolation (NumPy "linear"); NaN when empty.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n => {
            let h = q * (n - 1) as f64;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

impl ClusterReport {
    /// Long-format profile table: one line per cluster × column (× level for categories).
    pub fn profile_csv(&self) -> String {
        let mut s = String::from(
            "cluster,n,column,kind,level,count,fraction,n_missing,mean,sd,median,q1,q3\n",
        );
        let q = |t: &str| {
            if t.contains([',', '"', '\n']) {
                format!("\"{}\"", t.replace('"', "\"\""))
            } else {
                t.to_string()
            }
        };
        let f = |v: f64| {
            if v.is_finite() {
                format!("{v:.6}")
            } else {
                String::new()
            }
        };
        for p in &self.profiles {
            for c in &p.numeric {
                s.push_str(&format!(
                    "{},{},{},numeric,,{},,{},{},{},{},{},{}\n",
                    p.cluster,
                    p.n,
                    q(&c.column),
                    c.n_present,
                    c.n_missing,
                    f(c.mean),
                    f(c.sd),
                    f(c.median),
                    f(c.q1),
                    f(c.q3)
                ));
            }
            for c in &p.categorical {
                for (level, count, frac) in &c.levels {
                    s.push_str(&format!(
                        "{},{},{},categorical,{},{},{},{},,,,,\n",
                        p.cluster,
                        p.n,
                        q(&c.column),
                        q(level),
                        count,
                        f(*frac),
                        c.n_missing
                    ));
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(rows: &[&[f64]]) -> Matrix {
        Matrix {
            n_rows: rows.len(),
            n_cols: rows[0].len(),
            data: rows.iter().flat_map(|r| r.iter().copied()).collect(),
        }
    }

    #[test]
    fn silhouette_of_a_hand_example() {
        // 1-D points 0, 1 | 10: a(0) = 1, b(0) = 10 → 0.9; a(1) = 1, b(1) = 9 → 8/9; singleton → 0.
        let x = m(&[&[0.0], &[1.0], &[10.0]]);
        let s = silhouette_samples(&x, &[0, 0, 1]);
        assert!((s[0] - 0.9).abs() < 1e-15 && (s[1] - 8.0 / 9.0).abs() < 1e-15 && s[2] == 0.0);
    }

    #[test]
    fn ward_heights_follow_scipy_convention() {
        // Two points at distance 2 merge at height 2; adding a third at distance 4 from their centroid:
        // Δ SSE = (2·1/3)·16 = 32/3, height = √(2·Δ) = √(64/3).
        let x = m(&[&[0.0], &[2.0], &[5.0]]);
        let d = ward(&x).unwrap();
        assert_eq!((d.merges[0].0, d.merges[0].1), (0, 1));
        assert!((d.merges[0].2 - 2.0).abs() < 1e-12);
        assert!((d.merges[1].2 - (64.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(d.cut(2), vec![0, 0, 1]);
        assert_eq!(d.cut(3), vec![0, 1, 2]);
    }

    #[test]
    fn kmeans_finds_separated_groups_and_rejects_bad_k() {
        let x = m(&[
            &[0.0, 0.0],
            &[0.1, 0.0],
            &[0.0, 0.2],
            &[5.0, 5.0],
            &[5.1, 5.0],
            &[5.0, 5.3],
        ]);
        let r = kmeans(&x, 2, 5, 1, 100).unwrap();
        assert_eq!(renumber(&r.labels), vec![0, 0, 0, 1, 1, 1]);
        assert!(kmeans(&x, 6, 5, 1, 100).is_err());
        assert!(kmeans(&x, 1, 5, 1, 100).is_err());
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.25), 1.75);
    }
}
