//! `spinekit learn`: train, evaluate (nested cross-validation with CIs), predict and explain (exact SHAP) clinical
//! prediction models on a table of patients. Research software: outputs are estimates, not diagnoses.

use clap::{Args, Subcommand, ValueEnum};
use spinekit_learn::{
    cross_validate, evaluate, ClassWeight, Dataset, ModelKind, Penalty, ReadOptions, SavedModel,
    Table, TrainOptions, Validation,
};
use spinekit_validate::BootstrapOptions;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct LearnArgs {
    #[command(subcommand)]
    command: LearnCommand,
}

#[derive(Subcommand, Debug)]
enum LearnCommand {
    /// Train a model on every row (hyper-parameters chosen by inner cross-validation) and save it as JSON.
    Train(TrainArgs),
    /// Estimate performance by nested cross-validation: accuracy, balanced accuracy, AUC, sensitivity and
    /// specificity, Brier score and calibration, each with a 95 % CI.
    Evaluate(EvaluateArgs),
    /// Class probabilities of every row with a saved model (refuses missing or mistyped columns).
    Predict(ApplyArgs),
    /// Exact SHAP values of every row (TreeSHAP for trees, linear SHAP for logistic) and global importance.
    Explain(ApplyArgs),
}

/// How to read the table.
#[derive(Args, Debug)]
struct DataArgs {
    /// Table of patients: CSV, TSV or whitespace-separated text, one row per patient.
    data: PathBuf,
    /// Column names for a file without a header line, comma-separated.
    #[arg(long, value_delimiter = ',')]
    columns: Option<Vec<String>>,
    /// Columns to treat as categories even when they hold numbers (e.g. a grade or site code), comma-separated.
    #[arg(long, value_delimiter = ',')]
    categorical: Vec<String>,
}

impl DataArgs {
    fn read(&self, extra_categorical: &[String]) -> Result<Table, spinekit_learn::LearnError> {
        let mut categorical = self.categorical.clone();
        categorical.extend(extra_categorical.iter().cloned());
        Table::read(
            &self.data,
            &ReadOptions {
                delimiter: None,
                column_names: self.columns.clone(),
                categorical,
            },
        )
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ModelArg {
    Logistic,
    BoostedTrees,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PenaltyArg {
    L2,
    L1,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum WeightArg {
    None,
    Balanced,
}

/// What to learn and how.
#[derive(Args, Debug)]
struct ModelArgs {
    /// Outcome column (class labels).
    #[arg(long)]
    target: String,
    /// Predictor columns, comma-separated (default: every other column).
    #[arg(long, value_delimiter = ',')]
    features: Option<Vec<String>>,
    #[arg(long, value_enum, default_value = "logistic")]
    model: ModelArg,
    /// Logistic penalty.
    #[arg(long, value_enum, default_value = "l2")]
    penalty: PenaltyArg,
    /// `balanced` weighs each outcome class equally (rare outcomes); `none` weighs each patient equally.
    #[arg(long, value_enum, default_value = "balanced")]
    class_weight: WeightArg,
    /// Folds of the inner cross-validation that chooses hyper-parameters.
    #[arg(long, default_value_t = 5)]
    inner_folds: usize,
    /// Seed of every fold assignment (the same seed gives the same result).
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

impl ModelArgs {
    fn options(&self) -> TrainOptions {
        TrainOptions {
            kind: match self.model {
                ModelArg::Logistic => ModelKind::Logistic,
                ModelArg::BoostedTrees => ModelKind::BoostedTrees,
            },
            penalty: match self.penalty {
                PenaltyArg::L2 => Penalty::L2,
                PenaltyArg::L1 => Penalty::L1,
            },
            class_weight: match self.class_weight {
                WeightArg::None => ClassWeight::None,
                WeightArg::Balanced => ClassWeight::Balanced,
            },
            inner_folds: self.inner_folds,
            seed: self.seed,
            grid: None,
        }
    }

    fn dataset(&self, t: &Table) -> Result<Dataset, spinekit_learn::LearnError> {
        Dataset::from_table(t, &self.target, self.features.as_deref())
    }
}

#[derive(Args, Debug)]
struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Where to write the model (JSON).
    #[arg(short = 'o', long = "out")]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct EvaluateArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Outer stratified folds.
    #[arg(long, default_value_t = 10)]
    folds: usize,
    /// Leave-one-out instead of k-fold (small data sets).
    #[arg(long)]
    loo: bool,
    /// Two classes: the class counted as positive (default: the second in sorted order).
    #[arg(long)]
    positive: Option<String>,
    /// Two classes: P(positive) at or above which a patient is called positive.
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// Bootstrap resamples for the CIs that need them.
    #[arg(long, default_value_t = 2000)]
    bootstrap: usize,
    /// Write metrics and out-of-fold probabilities as JSON here.
    #[arg(short = 'o', long = "out")]
    out: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ApplyArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Model written by `spinekit learn train`.
    #[arg(long = "model-file")]
    model_file: PathBuf,
    /// Output file: CSV for predict, JSON for explain (default: print to the terminal).
    #[arg(short = 'o', long = "out")]
    out: Option<PathBuf>,
}

pub fn learn(a: LearnArgs) -> Result<(), Box<dyn std::error::Error>> {
    match a.command {
        LearnCommand::Train(a) => train(a),
        LearnCommand::Evaluate(a) => evaluate_cmd(a),
        LearnCommand::Predict(a) => predict(a),
        LearnCommand::Explain(a) => explain(a),
    }
}

fn train(a: TrainArgs) -> Result<(), Box<dyn std::error::Error>> {
    let t = a.data.read(&[])?;
    let ds = a.model.dataset(&t)?;
    let model = SavedModel::train(&ds, &a.model.options())?;
    model.save(&a.out)?;
    let counts: Vec<String> = ds
        .classes
        .iter()
        .zip(ds.class_counts())
        .map(|(c, n)| format!("{c}: {n}"))
        .collect();
    println!(
        "trained on {} rows ({}); chosen setting {}; model written to {}",
        ds.n_rows(),
        counts.join(", "),
        serde_json::to_string(&model.fitted.spec)?,
        a.out.display()
    );
    Ok(())
}

fn evaluate_cmd(a: EvaluateArgs) -> Result<(), Box<dyn std::error::Error>> {
    let t = a.data.read(&[])?;
    let ds = a.model.dataset(&t)?;
    let validation = if a.loo {
        Validation::LeaveOneOut
    } else {
        Validation::KFold {
            k: a.folds,
            seed: a.model.seed,
        }
    };
    let positive = match &a.positive {
        None => 1,
        Some(p) => ds.classes.iter().position(|c| c == p).ok_or_else(|| {
            format!(
                "positive class '{p}' is not an outcome in '{}' (classes: {})",
                ds.target,
                ds.classes.join(", ")
            )
        })?,
    };
    let folds = validation.folds(&ds)?;
    let cv = cross_validate(&ds, &a.model.options(), &folds)?;
    let boot = BootstrapOptions {
        resamples: a.bootstrap,
        seed: a.model.seed,
        ..BootstrapOptions::default()
    };
    let m = evaluate(&ds.y, &cv.proba, &ds.classes, positive, a.threshold, &boot)?;
    let scheme = if a.loo {
        "leave-one-out".to_string()
    } else {
        format!("{}-fold stratified", a.folds)
    };
    println!(
        "{} rows, {scheme} nested cross-validation ({:.2} s)",
        m.n, cv.seconds
    );
    let ci = |v: f64, l: f64, u: f64| format!("{v:.3} (95% CI {l:.3}–{u:.3})");
    println!(
        "accuracy           {}",
        ci(m.accuracy.value, m.accuracy.ci_lower, m.accuracy.ci_upper)
    );
    println!(
        "balanced accuracy  {}",
        ci(
            m.balanced_accuracy.value,
            m.balanced_accuracy.ci_lower,
            m.balanced_accuracy.ci_upper
        )
    );
    println!(
        "AUC                {} [{}]",
        ci(m.auc.value, m.auc.ci_lower, m.auc.ci_upper),
        m.auc.ci_method
    );
    if let Some(th) = &m.threshold {
        for (name, e) in [
            ("sensitivity", &th.agreement.sensitivity),
            ("specificity", &th.agreement.specificity),
        ] {
            if let Some(e) = e {
                println!(
                    "{name:18} {} at P({}) ≥ {}",
                    ci(e.value, e.ci_lower, e.ci_upper),
                    th.positive_class,
                    th.threshold
                );
            }
        }
    }
    println!("Brier score        {:.4}", m.brier);
    for c in &m.calibration {
        println!(
            "calibration {:7} intercept {:.3}, slope {:.3}",
            c.class, c.intercept, c.slope
        );
    }
    if let Some(out) = &a.out {
        let doc = serde_json::json!({
            "validation": validation, "metrics": m, "folds": cv.folds, "chosen": cv.chosen,
            "out_of_fold_probabilities": cv.proba, "options": a.model.options(),
        });
        spinekit_atomic::write_bytes_atomic(out, &serde_json::to_vec_pretty(&doc)?)?;
        println!("metrics written to {}", out.display());
    }
    Ok(())
}

fn load(a: &ApplyArgs) -> Result<(SavedModel, Table), Box<dyn std::error::Error>> {
    let model = SavedModel::load(&a.model_file)?;
    let t = a.data.read(&model.read_options().categorical)?;
    Ok((model, t))
}

fn predict(a: ApplyArgs) -> Result<(), Box<dyn std::error::Error>> {
    let (model, t) = load(&a)?;
    let p = model.predict_proba(&t)?;
    let mut csv = String::from("row,predicted");
    for c in &model.classes {
        csv.push_str(&format!(",P({})", c.replace(',', ";")));
    }
    csv.push('\n');
    for (i, pi) in p.iter().enumerate() {
        let best = spinekit_learn::metrics::argmax(pi);
        csv.push_str(&format!(
            "{},{}",
            i + 1,
            model.classes[best].replace(',', ";")
        ));
        for v in pi {
            csv.push_str(&format!(",{v:.6}"));
        }
        csv.push('\n');
    }
    emit(a.out.as_deref(), csv.as_bytes())
}

fn explain(a: ApplyArgs) -> Result<(), Box<dyn std::error::Error>> {
    let (model, t) = load(&a)?;
    let e = model.explain(&t)?;
    if a.out.is_none() {
        for (m, name) in e.margins.iter().enumerate() {
            println!(
                "{name}: base value {:.4}; mean |SHAP| per column:",
                e.base[m]
            );
            let mut order: Vec<usize> = (0..e.columns.len()).collect();
            order.sort_by(|&x, &y| e.importance[m][y].total_cmp(&e.importance[m][x]));
            for c in order {
                println!("  {:30} {:.4}", e.columns[c], e.importance[m][c]);
            }
        }
        return Ok(());
    }
    emit(a.out.as_deref(), &serde_json::to_vec_pretty(&e)?)
}

fn emit(out: Option<&Path>, bytes: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    match out {
        Some(p) => {
            spinekit_atomic::write_bytes_atomic(p, bytes)?;
            println!("written to {}", p.display());
        }
        None => print!("{}", String::from_utf8_lossy(bytes)),
    }
    Ok(())
}
