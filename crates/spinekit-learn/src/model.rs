//! A trained model saved as JSON: the column contract (names, kinds, levels), preprocessing, model and training
//! summary. Predicting or explaining refuses input whose columns are missing or of another kind.

use crate::boost::Boosted;
use crate::error::{LearnError, Result};
use crate::logistic::{proba_from_margins, Logistic};
use crate::prep::{Dataset, FeatureTransform, Matrix};
use crate::shap::{linear_shap, tree_shap};
use crate::table::{Column, ColumnKind, ColumnValues, ReadOptions, Table};
use crate::train::{fit_tuned, Fitted, Model, TrainOptions};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Identifies the file format.
pub const FORMAT: &str = "spinekit-learn-model/1";

/// What the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    pub n_rows: usize,
    pub class_counts: Vec<usize>,
    pub options: TrainOptions,
}

/// A model ready to save, load, predict and explain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedModel {
    pub format: String,
    pub target: String,
    pub classes: Vec<String>,
    pub fitted: Fitted,
    pub training: TrainingSummary,
}

/// SHAP values of some rows.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// Model inputs after preprocessing (e.g. `age`, `sex=F`, `age (missing)`).
    pub inputs: Vec<String>,
    /// Source columns (SHAP values of their inputs are summed per column).
    pub columns: Vec<String>,
    /// What each margin is: "log-odds of <class>" (two classes) or "softmax logit of <class>".
    pub margins: Vec<String>,
    /// Base value of each margin (expected margin over the training rows).
    pub base: Vec<f64>,
    pub rows: Vec<RowExplanation>,
    /// Mean |SHAP| per margin and column over the explained rows.
    pub importance: Vec<Vec<f64>>,
}

/// One row: margin m = base[m] + Σ inputs[m][j] = base[m] + Σ columns[m][c].
#[derive(Debug, Clone, Serialize)]
pub struct RowExplanation {
    pub margin: Vec<f64>,
    pub proba: Vec<f64>,
    pub inputs: Vec<Vec<f64>>,
    pub columns: Vec<Vec<f64>>,
}

impl SavedModel {
    /// Trains on every row of `ds` (hyper-parameters by inner CV).
    pub fn train(ds: &Dataset, opts: &TrainOptions) -> Result<SavedModel> {
        let rows: Vec<usize> = (0..ds.n_rows()).collect();
        Ok(SavedModel {
            format: FORMAT.to_string(),
            target: ds.target.clone(),
            classes: ds.classes.clone(),
            fitted: fit_tuned(ds, &rows, opts)?,
            training: TrainingSummary {
                n_rows: ds.n_rows(),
                class_counts: ds.class_counts(),
                options: opts.clone(),
            },
        })
    }

    /// Writes the model as JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let json =
            serde_json::to_vec_pretty(self).map_err(|e| LearnError::Invalid(e.to_string()))?;
        spinekit_atomic::write_bytes_atomic(path, &json).map_err(|e| LearnError::File {
            path: path.display().to_string(),
            reason: format!("cannot write the model ({e})"),
        })
    }

    pub fn load(path: &Path) -> Result<SavedModel> {
        let file_err = |reason: String| LearnError::File {
            path: path.display().to_string(),
            reason,
        };
        let bytes =
            std::fs::read(path).map_err(|e| file_err(format!("cannot read the model ({e})")))?;
        let m: SavedModel = serde_json::from_slice(&bytes)
            .map_err(|e| file_err(format!("not a spinekit-learn model ({e})")))?;
        if m.format != FORMAT {
            return Err(file_err(format!(
                "model format '{}' is not '{FORMAT}'",
                m.format
            )));
        }
        Ok(m)
    }

    /// Names of the feature columns the model needs, in order.
    pub fn feature_columns(&self) -> Vec<String> {
        self.fitted
            .preprocessor
            .features
            .iter()
            .map(|f| f.name().to_string())
            .collect()
    }

    /// Read options that keep the model's categorical columns categorical (e.g. numeric codes).
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            categorical: self
                .fitted
                .preprocessor
                .features
                .iter()
                .filter(|f| matches!(f, FeatureTransform::Categorical { .. }))
                .map(|f| f.name().to_string())
                .collect(),
            ..Default::default()
        }
    }

    /// The model inputs for every row of `t`, after checking that each feature column is there, has the right
    /// kind, and holds only categories seen in training.
    pub fn prepare(&self, t: &Table) -> Result<Matrix> {
        let mut cols: Vec<Column> = Vec::new();
        for f in &self.fitted.preprocessor.features {
            let c = t.column(f.name())?;
            match (f, &c.values) {
                (FeatureTransform::Numeric { .. }, ColumnValues::Categorical(v)) => {
                    // all-missing text columns are acceptable as numeric-missing
                    if v.iter().any(Option::is_some) {
                        return Err(LearnError::MistypedColumn {
                            column: f.name().to_string(),
                            expected: ColumnKind::Numeric.describe(),
                            found: ColumnKind::Categorical.describe(),
                        });
                    }
                    cols.push(Column {
                        name: c.name.clone(),
                        values: ColumnValues::Numeric(vec![None; t.n_rows]),
                    });
                }
                (FeatureTransform::Categorical { levels, .. }, _) => {
                    for row in 0..t.n_rows {
                        if let Some(v) = c.text(row) {
                            if !levels.contains(&v) {
                                return Err(LearnError::UnknownCategory {
                                    column: f.name().to_string(),
                                    row: row + 1,
                                    value: v,
                                    known: levels.join(", "),
                                });
                            }
                        }
                    }
                    cols.push(c.clone());
                }
                _ => cols.push(c.clone()),
            }
        }
        let rows: Vec<usize> = (0..t.n_rows).collect();
        Ok(self.fitted.preprocessor.transform(&cols, &rows))
    }

    /// Class probabilities of every row of `t` (columns in `self.classes` order).
    pub fn predict_proba(&self, t: &Table) -> Result<Vec<Vec<f64>>> {
        let x = self.prepare(t)?;
        Ok((0..x.n_rows)
            .map(|i| self.fitted.model.proba(x.row(i)))
            .collect())
    }

    /// Exact SHAP values of every row of `t`.
    pub fn explain(&self, t: &Table) -> Result<Explanation> {
        let x = self.prepare(t)?;
        Ok(explain_matrix(&self.fitted, &self.classes, &x))
    }
}

/// Exact SHAP values of every row of `x` for a fitted model: linear SHAP for logistic, TreeSHAP for trees, and
/// for the margin-averaging ensemble the same weighted sum of its members' values (exact, since its margin is
/// that weighted sum of the members' margins).
pub fn explain_matrix(fit: &Fitted, classes: &[String], x: &Matrix) -> Explanation {
    let pre = &fit.preprocessor;
    let source = pre.output_source();
    let n_cols = pre.features.len();
    let margins: Vec<String> = if classes.len() == 2 {
        vec![format!("log-odds of {}", classes[1])]
    } else {
        classes
            .iter()
            .map(|c| format!("softmax logit of {c}"))
            .collect()
    };
    let base: Vec<f64> = match &fit.model {
        Model::Logistic(m) => linear_base(m, &fit.input_mean),
        Model::BoostedTrees(m) => tree_base(m),
        Model::Ensemble(e) => blend(
            e.weight_logistic,
            &linear_base(&e.logistic, &fit.input_mean),
            &tree_base(&e.boosted),
        ),
    };
    let rows: Vec<RowExplanation> = (0..x.n_rows)
        .map(|i| {
            let xi = x.row(i);
            let inputs: Vec<Vec<f64>> = match &fit.model {
                Model::Logistic(m) => linear_phi(m, &fit.input_mean, xi),
                Model::BoostedTrees(m) => tree_phi(m, xi),
                // margin = w·logistic + (1 − w)·trees, so φ = w·φ_logistic + (1 − w)·φ_trees exactly
                Model::Ensemble(e) => linear_phi(&e.logistic, &fit.input_mean, xi)
                    .iter()
                    .zip(tree_phi(&e.boosted, xi))
                    .map(|(a, b)| blend(e.weight_logistic, a, &b))
                    .collect(),
            };
            let columns = inputs
                .iter()
                .map(|phi| {
                    let mut c = vec![0.0; n_cols];
                    for (j, v) in phi.iter().enumerate() {
                        c[source[j]] += v;
                    }
                    c
                })
                .collect();
            let margin = fit.model.margins(xi);
            RowExplanation {
                proba: proba_from_margins(&margin),
                margin,
                inputs,
                columns,
            }
        })
        .collect();
    let mut importance = vec![vec![0.0; n_cols]; margins.len()];
    for r in &rows {
        for (imp, c) in importance.iter_mut().zip(&r.columns) {
            for (a, v) in imp.iter_mut().zip(c) {
                *a += v.abs() / rows.len().max(1) as f64;
            }
        }
    }
    Explanation {
        inputs: pre.output_names(),
        columns: pre.features.iter().map(|f| f.name().to_string()).collect(),
        margins,
        base,
        rows,
        importance,
    }
}

/// w·a + (1 − w)·b element-wise.
fn blend(w: f64, a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter()
        .zip(b)
        .map(|(a, b)| w * a + (1.0 - w) * b)
        .collect()
}

/// Base value of each margin of a linear model: intercept + coef·E[x].
fn linear_base(m: &Logistic, mean: &[f64]) -> Vec<f64> {
    m.coef
        .iter()
        .zip(&m.intercept)
        .map(|(c, b)| b + c.iter().zip(mean).map(|(a, v)| a * v).sum::<f64>())
        .collect()
}

fn linear_phi(m: &Logistic, mean: &[f64], x: &[f64]) -> Vec<Vec<f64>> {
    m.coef.iter().map(|c| linear_shap(c, mean, x)).collect()
}

fn tree_phi(m: &Boosted, x: &[f64]) -> Vec<Vec<f64>> {
    m.trees
        .iter()
        .map(|ts| {
            let mut phi = vec![0.0; x.len()];
            for t in ts {
                tree_shap(t, x, &mut phi);
            }
            phi
        })
        .collect()
}

fn tree_base(m: &Boosted) -> Vec<f64> {
    m.base_margin
        .iter()
        .zip(&m.trees)
        .map(|(b, ts)| b + ts.iter().map(|t| t.expected_value()).sum::<f64>())
        .collect()
}
