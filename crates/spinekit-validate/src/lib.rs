//! Local validation for spinekit and any other tool: exact, referenced metric definitions and the
//! `spinekit validate` workflow (pair cases, compute, write `validation.json` and `validation.html`).
//!
//! Every metric's doc comment gives its formula and source; `reference/reference.py` recomputes each one with
//! scikit-learn, scipy, medpy and pingouin on `reference/fixtures.json`, and the tests compare with
//! `reference/expected.json` to 1e-6.

pub mod agreement;
pub mod bootstrap;
pub mod cases;
mod error;
pub mod history;
mod html;
pub mod kappa;
pub mod landmarks;
pub mod pictures;
pub mod roc;
pub mod seglabels;
pub mod segmentation;
pub mod stats;
pub mod workflow;

pub use agreement::{bland_altman, icc, icc_pairs, mae, smape_aasce, BlandAltman, Estimate, Icc};
pub use bootstrap::{bootstrap_ci, bootstrap_mean, BootstrapCi, BootstrapOptions};
pub use error::{Result, ValidateError};
pub use kappa::{cohen_kappa, KappaWeights};
pub use landmarks::{
    identification_rate, label_centroids_mm, Identification, IDENTIFICATION_RADIUS_MM,
};
pub use roc::{roc_auc_delong, sensitivity_specificity, wilson, Auc, BinaryAgreement};
pub use segmentation::{
    align_to_reference, check_same_grid, overlap_per_label, segmentation_metrics, LabelCounts,
    LabelMetrics, LabelVoxel, SurfaceDistances,
};
