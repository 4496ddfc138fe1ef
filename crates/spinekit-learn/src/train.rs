//! Model choice, class weights, hyper-parameter tuning by inner cross-validation, and outer cross-validation
//! (stratified k-fold or leave-one-out) giving out-of-fold probabilities.

use crate::boost::{BoostParams, Boosted};
use crate::error::{LearnError, Result};
use crate::logistic::{n_margins, proba_from_margins, Logistic, LogisticParams};
use crate::prep::{Dataset, Matrix, Preprocessor};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Model family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    Logistic,
    BoostedTrees,
    /// Logistic regression and boosted trees with their margins averaged (see [`Ensemble`]); the weight, including
    /// 0 (trees only) and 1 (logistic only), is chosen by the inner cross-validation.
    Ensemble,
}

/// Penalty of the logistic model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Penalty {
    L2,
    L1,
}

/// Row weights by class: `Balanced` gives class k the weight n / (K·nₖ) so rare outcomes count as much as common ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClassWeight {
    None,
    Balanced,
}

/// One hyper-parameter setting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case")]
pub enum ModelSpec {
    Logistic(LogisticParams),
    BoostedTrees(BoostParams),
    Ensemble(EnsembleParams),
}

/// One setting of the logistic + boosted-trees ensemble.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnsembleParams {
    pub logistic: LogisticParams,
    pub boosted: BoostParams,
    /// Weight of the logistic margins; the trees get 1 − weight.
    pub weight_logistic: f64,
}

/// Soft voting on the margin scale: margin = w·(logistic margin) + (1 − w)·(trees margin), i.e. a weighted
/// average of log-odds (two classes) or softmax logits (more). Averaging margins rather than probabilities keeps
/// the ensemble linear in its members' outputs, so the same-weighted sum of the members' exact SHAP values is
/// the ensemble's exact SHAP value (additivity holds exactly).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ensemble {
    pub logistic: Logistic,
    pub boosted: Boosted,
    pub weight_logistic: f64,
}

impl Ensemble {
    pub fn margins(&self, x: &[f64]) -> Vec<f64> {
        let w = self.weight_logistic;
        self.logistic
            .margins(x)
            .into_iter()
            .zip(self.boosted.margins(x))
            .map(|(a, b)| w * a + (1.0 - w) * b)
            .collect()
    }
}

/// A fitted model on preprocessed inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case")]
pub enum Model {
    Logistic(Logistic),
    BoostedTrees(Boosted),
    Ensemble(Ensemble),
}

impl Model {
    /// Fits `spec`; an ensemble whose weight is 0 or 1 is fitted (and saved) as its single used member.
    pub fn fit(spec: &ModelSpec, x: &Matrix, y: &[usize], k: usize, w: &[f64]) -> Model {
        match spec {
            ModelSpec::Logistic(p) => Model::Logistic(Logistic::fit(x, y, k, w, p)),
            ModelSpec::BoostedTrees(p) => Model::BoostedTrees(Boosted::fit(x, y, k, w, p)),
            ModelSpec::Ensemble(e) if e.weight_logistic >= 1.0 => {
                Model::Logistic(Logistic::fit(x, y, k, w, &e.logistic))
            }
            ModelSpec::Ensemble(e) if e.weight_logistic <= 0.0 => {
                Model::BoostedTrees(Boosted::fit(x, y, k, w, &e.boosted))
            }
            ModelSpec::Ensemble(e) => Model::Ensemble(Ensemble {
                logistic: Logistic::fit(x, y, k, w, &e.logistic),
                boosted: Boosted::fit(x, y, k, w, &e.boosted),
                weight_logistic: e.weight_logistic,
            }),
        }
    }

    /// Margins: one log-odds for two classes, K softmax logits otherwise.
    pub fn margins(&self, x: &[f64]) -> Vec<f64> {
        match self {
            Model::Logistic(m) => m.margins(x),
            Model::BoostedTrees(m) => m.margins(x),
            Model::Ensemble(m) => m.margins(x),
        }
    }

    pub fn proba(&self, x: &[f64]) -> Vec<f64> {
        proba_from_margins(&self.margins(x))
    }
}

/// Whether heavy-tailed numeric columns are asinh-squashed before standardisation (see
/// [`crate::prep::Preprocessor::fit_with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HeavyTail {
    Off,
    On,
    /// Chosen by the inner cross-validation together with the hyper-parameters (never on test rows).
    #[default]
    Auto,
}

/// How to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub kind: ModelKind,
    pub penalty: Penalty,
    pub class_weight: ClassWeight,
    /// Folds of the inner cross-validation that chooses hyper-parameters (reduced to the smallest class size).
    pub inner_folds: usize,
    pub seed: u64,
    /// Settings to choose from; `None` = [`default_grid`].
    pub grid: Option<Vec<ModelSpec>>,
    /// Heavy-tail squashing of numeric columns (models saved before this option read as `auto`).
    #[serde(default)]
    pub heavy_tail: HeavyTail,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            kind: ModelKind::Logistic,
            penalty: Penalty::L2,
            class_weight: ClassWeight::None,
            inner_folds: 5,
            seed: 42,
            grid: None,
            heavy_tail: HeavyTail::Auto,
        }
    }
}

/// The hyper-parameter grid searched by default.
pub fn default_grid(kind: ModelKind, penalty: Penalty) -> Vec<ModelSpec> {
    match (kind, penalty) {
        (ModelKind::Logistic, Penalty::L2) => [1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]
            .into_iter()
            .map(|l2| {
                ModelSpec::Logistic(LogisticParams {
                    l2,
                    ..Default::default()
                })
            })
            .collect(),
        (ModelKind::Logistic, Penalty::L1) => [1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
            .into_iter()
            .map(|l1| {
                ModelSpec::Logistic(LogisticParams {
                    l2: 1e-6,
                    l1,
                    ..Default::default()
                })
            })
            .collect(),
        (ModelKind::BoostedTrees, _) => {
            let mut g = Vec::new();
            for min_child_weight in [0.5, 3.0] {
                for max_depth in [1, 2, 3] {
                    for n_rounds in [25, 50, 100, 200, 300] {
                        g.push(ModelSpec::BoostedTrees(BoostParams {
                            n_rounds,
                            max_depth,
                            learning_rate: 0.1,
                            min_child_weight,
                            ..Default::default()
                        }));
                    }
                }
            }
            g
        }
        (ModelKind::Ensemble, penalty) => {
            let logistic = default_grid(ModelKind::Logistic, penalty);
            let boosted = default_grid(ModelKind::BoostedTrees, penalty);
            let mut g = Vec::new();
            for weight_logistic in ENSEMBLE_WEIGHTS {
                for l in &logistic {
                    for b in &boosted {
                        if let (ModelSpec::Logistic(l), ModelSpec::BoostedTrees(b)) = (l, b) {
                            g.push(ModelSpec::Ensemble(EnsembleParams {
                                logistic: *l,
                                boosted: *b,
                                weight_logistic,
                            }));
                        }
                    }
                }
            }
            g
        }
    }
}

/// Logistic weights the ensemble's inner CV chooses from: 0 and 1 let it fall back to a single family.
pub const ENSEMBLE_WEIGHTS: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

/// Per-row weights.
pub fn row_weights(y: &[usize], k: usize, cw: ClassWeight) -> Vec<f64> {
    match cw {
        ClassWeight::None => vec![1.0; y.len()],
        ClassWeight::Balanced => {
            let mut c = vec![0usize; k];
            for &v in y {
                c[v] += 1;
            }
            y.iter()
                .map(|&v| y.len() as f64 / (k as f64 * c[v].max(1) as f64))
                .collect()
        }
    }
}

/// Inner-CV score of one setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridScore {
    pub spec: ModelSpec,
    /// Heavy-tailed columns asinh-squashed in this candidate.
    #[serde(default)]
    pub heavy_tail: bool,
    /// Weighted mean log-loss over the inner validation folds (lower is better).
    pub inner_log_loss: f64,
}

/// Preprocessing + model fitted on some rows, with the setting that inner CV chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fitted {
    pub preprocessor: Preprocessor,
    pub model: Model,
    pub spec: ModelSpec,
    /// Mean of every model input over the training rows (the background of linear SHAP).
    pub input_mean: Vec<f64>,
    pub tuning: Vec<GridScore>,
}

/// Fold number of every row: stratified (each class shuffled with the seed, then dealt round-robin, continuing
/// across classes so fold sizes differ by at most one).
pub fn stratified_folds(y: &[usize], n_classes: usize, k: usize, seed: u64) -> Result<Vec<usize>> {
    if k < 2 || k > y.len() {
        return Err(LearnError::Invalid(format!(
            "{k}-fold cross-validation needs 2 ≤ k ≤ {} (the number of rows)",
            y.len()
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut folds = vec![0; y.len()];
    let mut next = 0;
    for c in 0..n_classes {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| y[i] == c).collect();
        idx.shuffle(&mut rng);
        for i in idx {
            folds[i] = next % k;
            next += 1;
        }
    }
    Ok(folds)
}

/// Outer validation scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scheme", rename_all = "kebab-case")]
pub enum Validation {
    KFold { k: usize, seed: u64 },
    LeaveOneOut,
}

impl Validation {
    pub fn folds(&self, ds: &Dataset) -> Result<Vec<usize>> {
        match *self {
            Validation::KFold { k, seed } => stratified_folds(&ds.y, ds.n_classes(), k, seed),
            Validation::LeaveOneOut => Ok((0..ds.n_rows()).collect()),
        }
    }
}

/// Fits preprocessing and a model on `rows` of `ds`, choosing hyper-parameters by inner stratified CV on
/// those rows only.
pub fn fit_tuned(ds: &Dataset, rows: &[usize], opts: &TrainOptions) -> Result<Fitted> {
    let k = ds.n_classes();
    let grid = opts
        .grid
        .clone()
        .unwrap_or_else(|| default_grid(opts.kind, opts.penalty));
    if grid.is_empty() {
        return Err(LearnError::Invalid(
            "the hyper-parameter grid is empty".into(),
        ));
    }
    let y: Vec<usize> = rows.iter().map(|&r| ds.y[r]).collect();
    let mut counts = vec![0usize; k];
    for &c in &y {
        counts[c] += 1;
    }
    let smallest = counts.iter().copied().filter(|&c| c > 0).min().unwrap_or(0);
    let inner = opts.inner_folds.min(smallest);
    let variants: &[bool] = match opts.heavy_tail {
        HeavyTail::Off => &[false],
        HeavyTail::On => &[true],
        // Trees split on order only and asinh is monotone: both variants split the training rows identically
        // (thresholds differ only between neighbouring training values), so the plain one suffices.
        HeavyTail::Auto if opts.kind == ModelKind::BoostedTrees => &[false],
        HeavyTail::Auto => &[false, true],
    };
    let tuning = if grid.len() * variants.len() > 1 && inner >= 2 {
        let folds = stratified_folds(&y, k, inner, opts.seed)?;
        let mut loss = vec![0.0; grid.len() * variants.len()];
        let mut wtot = 0.0;
        for f in 0..inner {
            let tr: Vec<usize> = (0..rows.len()).filter(|&i| folds[i] != f).collect();
            let va: Vec<usize> = (0..rows.len()).filter(|&i| folds[i] == f).collect();
            let tr_rows: Vec<usize> = tr.iter().map(|&i| rows[i]).collect();
            let va_rows: Vec<usize> = va.iter().map(|&i| rows[i]).collect();
            let yt: Vec<usize> = tr.iter().map(|&i| y[i]).collect();
            let yv: Vec<usize> = va.iter().map(|&i| y[i]).collect();
            let wt = row_weights(&yt, k, opts.class_weight);
            let wv = row_weights(&yv, k, opts.class_weight);
            wtot += wv.iter().sum::<f64>();
            for (vi, &heavy) in variants.iter().enumerate() {
                let pre = Preprocessor::fit_with(&ds.features, &tr_rows, heavy);
                let xt = pre.transform(&ds.features, &tr_rows);
                let xv = pre.transform(&ds.features, &va_rows);
                let scores = grid_losses(&grid, &xt, &yt, &wt, &xv, &yv, &wv, k);
                for (l, s) in loss[vi * grid.len()..].iter_mut().zip(scores) {
                    *l += s;
                }
            }
        }
        variants
            .iter()
            .flat_map(|&h| grid.iter().map(move |s| (h, *s)))
            .zip(loss)
            .map(|((heavy_tail, spec), l)| GridScore {
                spec,
                heavy_tail,
                inner_log_loss: l / wtot,
            })
            .collect()
    } else {
        Vec::new()
    };
    let (spec, heavy) = tuning
        .iter()
        .min_by(|a, b| a.inner_log_loss.total_cmp(&b.inner_log_loss))
        .map(|g| (g.spec, g.heavy_tail))
        .unwrap_or((grid[grid.len() / 2], variants[0]));
    let preprocessor = Preprocessor::fit_with(&ds.features, rows, heavy);
    let x = preprocessor.transform(&ds.features, rows);
    let w = row_weights(&y, k, opts.class_weight);
    let model = Model::fit(&spec, &x, &y, k, &w);
    let mut input_mean = vec![0.0; x.n_cols];
    for i in 0..x.n_rows {
        for (m, v) in input_mean.iter_mut().zip(x.row(i)) {
            *m += v / x.n_rows as f64;
        }
    }
    Ok(Fitted {
        preprocessor,
        model,
        spec,
        input_mean,
        tuning,
    })
}

/// Summed weighted log-loss on the validation rows for every grid setting. Every distinct member model is fitted
/// once; boosted settings that differ only in the number of rounds share one fit, read at each round count; an
/// ensemble setting combines its members' validation margins.
#[allow(clippy::too_many_arguments)]
fn grid_losses(
    grid: &[ModelSpec],
    xt: &Matrix,
    yt: &[usize],
    wt: &[f64],
    xv: &Matrix,
    yv: &[usize],
    wv: &[f64],
    k: usize,
) -> Vec<f64> {
    let mut logistic: Vec<LogisticParams> = Vec::new();
    let mut boosted: Vec<BoostParams> = Vec::new();
    for spec in grid {
        let (l, b) = match spec {
            ModelSpec::Logistic(p) => (Some(*p), None),
            ModelSpec::BoostedTrees(p) => (None, Some(*p)),
            ModelSpec::Ensemble(e) => (
                (e.weight_logistic > 0.0).then_some(e.logistic),
                (e.weight_logistic < 1.0).then_some(e.boosted),
            ),
        };
        if let Some(l) = l.filter(|l| !logistic.contains(l)) {
            logistic.push(l);
        }
        if let Some(b) = b.filter(|b| !boosted.contains(b)) {
            boosted.push(b);
        }
    }
    // validation margins [model][row][margin]
    let margins_of = |f: &dyn Fn(&[f64]) -> Vec<f64>| -> Vec<Vec<f64>> {
        (0..xv.n_rows).map(|i| f(xv.row(i))).collect()
    };
    let logistic_margins: Vec<Vec<Vec<f64>>> = logistic
        .iter()
        .map(|p| {
            let m = Logistic::fit(xt, yt, k, wt, p);
            margins_of(&|x| m.margins(x))
        })
        .collect();
    let mut boosted_margins: Vec<Vec<Vec<f64>>> = vec![Vec::new(); boosted.len()];
    for bi in 0..boosted.len() {
        if !boosted_margins[bi].is_empty() {
            continue;
        }
        let base = BoostParams {
            n_rounds: 0,
            ..boosted[bi]
        };
        let members: Vec<usize> = (0..boosted.len())
            .filter(|&j| {
                BoostParams {
                    n_rounds: 0,
                    ..boosted[j]
                } == base
            })
            .collect();
        let rounds = members
            .iter()
            .map(|&j| boosted[j].n_rounds)
            .max()
            .unwrap_or(0);
        let m = Boosted::fit(
            xt,
            yt,
            k,
            wt,
            &BoostParams {
                n_rounds: rounds,
                ..base
            },
        );
        for j in members {
            boosted_margins[j] = margins_of(&|x| m.margins_upto(x, boosted[j].n_rounds));
        }
    }
    let loss_of = |margin: &dyn Fn(usize) -> Vec<f64>| -> f64 {
        (0..xv.n_rows)
            .map(|i| -wv[i] * proba_from_margins(&margin(i))[yv[i]].max(1e-15).ln())
            .sum()
    };
    let li = |p: &LogisticParams| logistic.iter().position(|q| q == p).unwrap_or(0);
    let bi = |p: &BoostParams| boosted.iter().position(|q| q == p).unwrap_or(0);
    grid.iter()
        .map(|spec| match spec {
            ModelSpec::Logistic(p) => loss_of(&|i| logistic_margins[li(p)][i].clone()),
            ModelSpec::BoostedTrees(p) => loss_of(&|i| boosted_margins[bi(p)][i].clone()),
            ModelSpec::Ensemble(e) => {
                let w = e.weight_logistic;
                loss_of(&|i| {
                    let a = (w > 0.0).then(|| &logistic_margins[li(&e.logistic)][i]);
                    let b = (w < 1.0).then(|| &boosted_margins[bi(&e.boosted)][i]);
                    match (a, b) {
                        (Some(a), Some(b)) => a
                            .iter()
                            .zip(b)
                            .map(|(a, b)| w * a + (1.0 - w) * b)
                            .collect(),
                        (Some(a), None) => a.clone(),
                        (None, Some(b)) => b.clone(),
                        (None, None) => vec![0.0; n_margins(k)],
                    }
                })
            }
        })
        .collect()
}

/// Out-of-fold predictions of a cross-validation.
#[derive(Debug, Clone, Serialize)]
pub struct CvResult {
    pub folds: Vec<usize>,
    /// proba[row][class], each row predicted by the model that did not see it.
    pub proba: Vec<Vec<f64>>,
    /// Setting chosen by the inner CV in each outer fold.
    pub chosen: Vec<ModelSpec>,
    /// Wall time of the whole nested cross-validation.
    pub seconds: f64,
}

/// Nested cross-validation: for every outer fold, [`fit_tuned`] on the other folds, predict the fold.
pub fn cross_validate(ds: &Dataset, opts: &TrainOptions, folds: &[usize]) -> Result<CvResult> {
    if folds.len() != ds.n_rows() {
        return Err(LearnError::Invalid(format!(
            "fold assignment has {} rows but the table has {}",
            folds.len(),
            ds.n_rows()
        )));
    }
    let start = Instant::now();
    let n_folds = folds.iter().max().map_or(0, |m| m + 1);
    let results: Vec<(Vec<usize>, Vec<Vec<f64>>, ModelSpec)> = (0..n_folds)
        .into_par_iter()
        .filter_map(|f| {
            let test: Vec<usize> = (0..folds.len()).filter(|&i| folds[i] == f).collect();
            if test.is_empty() {
                return None;
            }
            let train: Vec<usize> = (0..folds.len()).filter(|&i| folds[i] != f).collect();
            Some(fit_tuned(ds, &train, opts).map(|fit| {
                let x = fit.preprocessor.transform(&ds.features, &test);
                let p = (0..x.n_rows).map(|i| fit.model.proba(x.row(i))).collect();
                (test, p, fit.spec)
            }))
        })
        .collect::<Result<_>>()?;
    let mut proba = vec![Vec::new(); ds.n_rows()];
    let mut chosen = Vec::new();
    for (test, p, spec) in results {
        for (i, pi) in test.into_iter().zip(p) {
            proba[i] = pi;
        }
        chosen.push(spec);
    }
    Ok(CvResult {
        folds: folds.to_vec(),
        proba,
        chosen,
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stratified_balanced_and_seeded() {
        let y: Vec<usize> = (0..103).map(|i| if i % 5 == 0 { 1 } else { 0 }).collect();
        let f = stratified_folds(&y, 2, 10, 3).unwrap();
        for fold in 0..10 {
            let size = f.iter().filter(|&&v| v == fold).count();
            assert!((10..=11).contains(&size));
            let pos = (0..103).filter(|&i| f[i] == fold && y[i] == 1).count();
            assert!((2..=3).contains(&pos), "fold {fold}: {pos}");
        }
        assert_eq!(f, stratified_folds(&y, 2, 10, 3).unwrap());
        assert_ne!(f, stratified_folds(&y, 2, 10, 4).unwrap());
        assert!(stratified_folds(&y, 2, 1, 3).is_err());
    }

    #[test]
    fn balanced_weights_equalise_classes() {
        let w = row_weights(&[0, 0, 0, 1], 2, ClassWeight::Balanced);
        assert_eq!(w, vec![4.0 / 6.0, 4.0 / 6.0, 4.0 / 6.0, 2.0]);
    }
}
