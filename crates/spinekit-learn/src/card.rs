//! Model card (JSON + Markdown) in the spirit of TRIPOD+AI (Collins et al., BMJ 2024): data, predictors,
//! model and tuning, validation design, performance with 95 % CIs, intended use and limitations.

use crate::metrics::Metrics;
use crate::model::SavedModel;
use crate::prep::{Dataset, FeatureTransform};
use crate::table::{ColumnValues, Table};
use serde::Serialize;

/// Stated on every card: this software is not a medical device.
pub const INTENDED_USE: &str = "Research use only. Not a medical device: outputs are probabilities for a research question and must not be used for diagnosis or treatment decisions.";

/// One predictor as the model sees it.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureCard {
    pub name: String,
    /// "numeric" or "categorical".
    pub kind: &'static str,
    pub n_missing: usize,
    /// Training levels of a categorical predictor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub levels: Option<Vec<String>>,
    /// How missing values are handled.
    pub missing_handling: String,
}

/// The data the model was trained on.
#[derive(Debug, Clone, Serialize)]
pub struct DataCard {
    /// File name only (no folders: paths can identify people or sites).
    pub file: String,
    pub n_rows: usize,
    pub target: String,
    /// (class, count)
    pub class_counts: Vec<(String, usize)>,
    pub rows_with_missing_predictor: usize,
}

/// Internal validation result.
#[derive(Debug, Clone, Serialize)]
pub struct ValidationCard {
    pub design: String,
    pub metrics: Metrics,
}

/// The whole card.
#[derive(Debug, Clone, Serialize)]
pub struct ModelCard {
    pub format: &'static str,
    pub software: String,
    pub intended_use: &'static str,
    pub data: DataCard,
    pub predictors: Vec<FeatureCard>,
    pub model_family: String,
    pub class_weight: String,
    /// Hyper-parameters chosen by inner cross-validation on all rows (the saved model).
    pub chosen_hyperparameters: serde_json::Value,
    pub tuning: String,
    pub validation: Option<ValidationCard>,
    pub limitations: Vec<String>,
}

/// Builds the card of `model` trained on `ds` (read from `t`, file `file_name`), with the nested
/// cross-validation result when one was run.
pub fn model_card(
    model: &SavedModel,
    ds: &Dataset,
    t: &Table,
    file_name: &str,
    validation: Option<ValidationCard>,
) -> ModelCard {
    let missing_of = |name: &str| -> usize {
        t.column(name)
            .map(|c| match &c.values {
                ColumnValues::Numeric(v) => v.iter().filter(|x| x.is_none()).count(),
                ColumnValues::Categorical(v) => v.iter().filter(|x| x.is_none()).count(),
            })
            .unwrap_or(0)
    };
    let predictors: Vec<FeatureCard> = model
        .fitted
        .preprocessor
        .features
        .iter()
        .map(|f| match f {
            FeatureTransform::Numeric { name, median, indicator, .. } => FeatureCard {
                name: name.clone(),
                kind: "numeric",
                n_missing: missing_of(name),
                levels: None,
                missing_handling: if *indicator {
                    format!("imputed with the training median ({median}) plus a 'missing' indicator input")
                } else {
                    format!("none missing in training; a missing value would be imputed with the median ({median})")
                },
            },
            FeatureTransform::Categorical { name, levels, mode, indicator } => FeatureCard {
                name: name.clone(),
                kind: "categorical",
                n_missing: missing_of(name),
                levels: Some(levels.clone()),
                missing_handling: if *indicator {
                    format!("imputed with the most frequent level ('{mode}') plus a 'missing' indicator input")
                } else {
                    format!("none missing in training; a missing value would be imputed with '{mode}'")
                },
            },
        })
        .collect();
    let rows_with_missing = (0..t.n_rows)
        .filter(|&r| {
            ds.features.iter().any(|c| match &c.values {
                ColumnValues::Numeric(v) => v[r].is_none(),
                ColumnValues::Categorical(v) => v[r].is_none(),
            })
        })
        .count();
    let counts = ds.class_counts();
    let opts = &model.training.options;
    let mut limitations = vec![
        "Internal validation only (cross-validation within one data set); no external, temporal or multi-site validation.".to_string(),
        "Performance may not transfer to other populations, scanners, measurement protocols or outcome definitions.".to_string(),
        "Associations, not causal effects: SHAP contributions explain the model, not the patient's disease.".to_string(),
    ];
    if ds.n_rows() < 500 {
        limitations.push(format!(
            "Small sample (n = {}): performance estimates have wide confidence intervals.",
            ds.n_rows()
        ));
    }
    let smallest = counts.iter().copied().min().unwrap_or(0);
    if (smallest as f64) < 0.2 * ds.n_rows() as f64 {
        limitations.push(format!(
            "Class imbalance: the smallest class has {smallest} of {} rows; its sensitivity is estimated less precisely.",
            ds.n_rows()
        ));
    }
    if rows_with_missing > 0 {
        limitations.push(format!(
            "{rows_with_missing} rows had at least one missing predictor (imputed); missingness is assumed unrelated to the outcome."
        ));
    }
    ModelCard {
        format: "spinekit-model-card/1",
        software: format!("spinekit-learn {}", env!("CARGO_PKG_VERSION")),
        intended_use: INTENDED_USE,
        data: DataCard {
            file: file_name.to_string(),
            n_rows: ds.n_rows(),
            target: ds.target.clone(),
            class_counts: ds.classes.iter().cloned().zip(counts).collect(),
            rows_with_missing_predictor: rows_with_missing,
        },
        predictors,
        model_family: serde_json::to_value(opts.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        class_weight: serde_json::to_value(opts.class_weight).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        chosen_hyperparameters: serde_json::to_value(model.fitted.spec).unwrap_or(serde_json::Value::Null),
        tuning: format!(
            "{} settings compared by weighted log-loss in {}-fold stratified inner cross-validation (seed {}); the best refitted on all rows",
            model.fitted.tuning.len().max(1),
            opts.inner_folds,
            opts.seed
        ),
        validation,
        limitations,
    }
}

impl ModelCard {
    /// Human-readable card.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "# Model card: predicting `{}`\n\n",
            self.data.target
        ));
        s.push_str(&format!("**Intended use.** {}\n\n", self.intended_use));
        s.push_str(&format!("Software: {}\n\n", self.software));
        s.push_str("## Data\n\n");
        s.push_str(&format!(
            "- file: `{}`\n- rows: {}\n",
            self.data.file, self.data.n_rows
        ));
        let counts: Vec<String> = self
            .data
            .class_counts
            .iter()
            .map(|(c, n)| format!("{c}: {n}"))
            .collect();
        s.push_str(&format!("- outcome classes: {}\n", counts.join(", ")));
        s.push_str(&format!(
            "- rows with a missing predictor: {}\n\n",
            self.data.rows_with_missing_predictor
        ));
        s.push_str("## Predictors\n\n| name | type | missing | levels | missing values |\n|---|---|---|---|---|\n");
        for p in &self.predictors {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                md(&p.name),
                p.kind,
                p.n_missing,
                p.levels
                    .as_ref()
                    .map(|l| md(&l.join(", ")))
                    .unwrap_or_default(),
                md(&p.missing_handling)
            ));
        }
        s.push_str("\n## Model\n\n");
        s.push_str(&format!(
            "- family: {}\n- class weights: {}\n",
            self.model_family, self.class_weight
        ));
        s.push_str(&format!(
            "- chosen hyper-parameters: `{}`\n- tuning: {}\n\n",
            self.chosen_hyperparameters, self.tuning
        ));
        s.push_str("## Validation\n\n");
        match &self.validation {
            None => s.push_str(
                "Not estimated when this card was written (run `spinekit learn evaluate`).\n\n",
            ),
            Some(v) => {
                let m = &v.metrics;
                let ci = |e: f64, l: f64, u: f64| format!("{e:.3} (95 % CI {l:.3}–{u:.3})");
                s.push_str(&format!(
                    "Design: {}\n\n| metric | value |\n|---|---|\n",
                    v.design
                ));
                s.push_str(&format!(
                    "| accuracy (Wilson CI) | {} |\n",
                    ci(m.accuracy.value, m.accuracy.ci_lower, m.accuracy.ci_upper)
                ));
                s.push_str(&format!(
                    "| balanced accuracy (bootstrap CI) | {} |\n",
                    ci(
                        m.balanced_accuracy.value,
                        m.balanced_accuracy.ci_lower,
                        m.balanced_accuracy.ci_upper
                    )
                ));
                s.push_str(&format!(
                    "| AUC ({} CI) | {} |\n",
                    m.auc.ci_method,
                    ci(m.auc.value, m.auc.ci_lower, m.auc.ci_upper)
                ));
                if let Some(t) = &m.threshold {
                    if let Some(e) = &t.agreement.sensitivity {
                        s.push_str(&format!(
                            "| sensitivity at P({}) ≥ {} | {} |\n",
                            md(&t.positive_class),
                            t.threshold,
                            ci(e.value, e.ci_lower, e.ci_upper)
                        ));
                    }
                    if let Some(e) = &t.agreement.specificity {
                        s.push_str(&format!(
                            "| specificity at P({}) ≥ {} | {} |\n",
                            md(&t.positive_class),
                            t.threshold,
                            ci(e.value, e.ci_lower, e.ci_upper)
                        ));
                    }
                }
                s.push_str(&format!("| Brier score | {:.4} |\n", m.brier));
                for c in &m.calibration {
                    s.push_str(&format!(
                        "| calibration {} (intercept, slope) | {:.3}, {:.3} |\n",
                        md(&c.class),
                        c.intercept,
                        c.slope
                    ));
                }
                s.push('\n');
            }
        }
        s.push_str("## Limitations\n\n");
        for l in &self.limitations {
            s.push_str(&format!("- {l}\n"));
        }
        s
    }
}

/// Escapes Markdown table cells.
fn md(t: &str) -> String {
    t.replace('|', "\\|").replace('\n', " ")
}
