//! Clinical prediction from tabular data for spinekit: typed tables from CSV, preprocessing fitted on training
//! folds only, L2/L1 multinomial logistic regression, gradient-boosted trees and their margin-averaging ensemble
//! (weight chosen by inner CV), nested cross-validation,
//! metrics with 95 % CIs (via `spinekit-validate`), and exact SHAP explanations (linear SHAP, TreeSHAP).
//!
//! Research software, not a medical device: a model's output is a probability for a research question, not a
//! diagnosis.

pub mod boost;
pub mod card;
pub mod cluster;
mod error;
pub mod figures;
pub mod logistic;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod prep;
pub mod shap;
pub mod table;
pub mod train;

pub use boost::{BoostParams, Boosted, Node, Tree};
pub use error::{LearnError, Result};
pub use logistic::{Logistic, LogisticParams};
pub use metrics::{evaluate, Metrics};
pub use model::{explain_matrix, Explanation, RowExplanation, SavedModel};
pub use prep::{Dataset, Matrix, Preprocessor};
pub use table::{Column, ColumnKind, ColumnValues, ReadOptions, Table};
pub use train::{
    cross_validate, default_grid, fit_tuned, stratified_folds, ClassWeight, CvResult, Ensemble,
    EnsembleParams, Fitted, HeavyTail, Model, ModelKind, ModelSpec, Penalty, TrainOptions,
    Validation, ENSEMBLE_WEIGHTS,
};
