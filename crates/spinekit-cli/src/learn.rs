//! `spinekit learn`: train, evaluate (nested cross-validation with CIs), predict and explain (exact SHAP) clinical
//! prediction models on a table of patients. Research software: outputs are estimates, not diagnoses.

use clap::{Args, Subcommand, ValueEnum};
use spinekit_learn::card::{model_card, ValidationCard};
use spinekit_learn::cluster::{cluster_table, ClusterMethod, ClusterOptions};
use spinekit_learn::figures::{calibration_charts, importance_chart, roc_chart, waterfall_chart};
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
    Explain(ExplainArgs),
    /// Group patients without an outcome: k-means or Ward clustering on standardised columns, the number of
    /// clusters chosen by silhouette, and a profile of every cluster.
    Cluster(ClusterArgs),
}

/// Size of the PNG figures.
const FIGURE_W_PX: u32 = 900;
const FIGURE_H_PX: u32 = 600;

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
    /// Logistic + boosted trees, margins averaged with a weight chosen by inner cross-validation.
    Ensemble,
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
                ModelArg::Ensemble => ModelKind::Ensemble,
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
            heavy_tail: spinekit_learn::HeavyTail::Auto,
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
    /// Where to write the model (JSON). The model card is written next to it as `<name>.card.json` and
    /// `<name>.card.md`.
    #[arg(short = 'o', long = "out")]
    out: PathBuf,
    /// Outer folds of the nested cross-validation reported on the model card (0 = skip the estimate).
    #[arg(long, default_value_t = 10)]
    card_folds: usize,
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
    /// Folder for the ROC and calibration figures (PNG).
    #[arg(long)]
    pictures: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ExplainArgs {
    #[command(flatten)]
    apply: ApplyArgs,
    /// Folder for figures (PNG): a SHAP waterfall per row and the global importance.
    #[arg(long)]
    pictures: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ClusterMethodArg {
    Kmeans,
    Agglomerative,
}

#[derive(Args, Debug)]
struct ClusterArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Columns to cluster on, comma-separated (default: every column not in --exclude).
    #[arg(long, value_delimiter = ',')]
    features: Option<Vec<String>>,
    /// Columns left out of the distances but still profiled (e.g. a diagnosis), comma-separated.
    #[arg(long, value_delimiter = ',')]
    exclude: Vec<String>,
    /// Candidate numbers of clusters, "2..8" (inclusive) or one number.
    #[arg(long, default_value = "2..8")]
    k: String,
    #[arg(long, value_enum, default_value = "kmeans")]
    method: ClusterMethodArg,
    /// k-means restarts (k-means++ seeds).
    #[arg(long, default_value_t = 10)]
    restarts: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Output folder: clusters.csv, silhouette.csv, profile.csv, profile.json, silhouette.png.
    #[arg(short = 'o', long = "out")]
    out: PathBuf,
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
        LearnCommand::Cluster(a) => cluster(a),
    }
}

fn train(a: TrainArgs) -> Result<(), Box<dyn std::error::Error>> {
    let t = a.data.read(&[])?;
    let ds = a.model.dataset(&t)?;
    let model = SavedModel::train(&ds, &a.model.options())?;
    let validation = if a.card_folds >= 2 {
        let v = Validation::KFold {
            k: a.card_folds,
            seed: a.model.seed,
        };
        let cv = cross_validate(&ds, &a.model.options(), &v.folds(&ds)?)?;
        let boot = BootstrapOptions {
            seed: a.model.seed,
            ..BootstrapOptions::default()
        };
        let metrics = evaluate(&ds.y, &cv.proba, &ds.classes, 1, 0.5, &boot)?;
        Some(ValidationCard {
            design: format!(
                "nested cross-validation: {}-fold stratified outer folds (seed {}), hyper-parameters re-tuned by {}-fold inner CV inside every outer training set; preprocessing fitted on training rows only; for two classes the positive class is '{}'",
                a.card_folds, a.model.seed, a.model.inner_folds, ds.classes[1]
            ),
            metrics,
        })
    } else {
        None
    };
    model.save(&a.out)?;
    let file_name = a
        .data
        .data
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let card = model_card(&model, &ds, &t, &file_name, validation);
    let stem = a.out.with_extension("");
    let card_json = stem.with_extension("card.json");
    let card_md = stem.with_extension("card.md");
    spinekit_atomic::write_bytes_atomic(&card_json, &serde_json::to_vec_pretty(&card)?)?;
    spinekit_atomic::write_bytes_atomic(&card_md, card.to_markdown().as_bytes())?;
    println!(
        "model card written to {} and {}",
        card_json.display(),
        card_md.display()
    );
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
    if let Some(dir) = &a.pictures {
        std::fs::create_dir_all(dir)?;
        let roc = roc_chart(&ds.y, &cv.proba, &ds.classes, positive, &m.auc);
        roc.write_png(&dir.join("roc.png"), FIGURE_W_PX, FIGURE_H_PX)?;
        for (class, chart) in calibration_charts(&ds.y, &cv.proba, &ds.classes, positive) {
            let name = if ds.n_classes() == 2 {
                "calibration.png".to_string()
            } else {
                format!("calibration_{}.png", file_safe(&class))
            };
            chart.write_png(&dir.join(name), FIGURE_W_PX, FIGURE_H_PX)?;
        }
        println!("figures written to {}", dir.display());
    }
    Ok(())
}

/// Letters, digits, '-' and '_' only (class names become file names).
fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
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

fn explain(args: ExplainArgs) -> Result<(), Box<dyn std::error::Error>> {
    let a = args.apply;
    let (model, t) = load(&a)?;
    let e = model.explain(&t)?;
    if let Some(dir) = &args.pictures {
        std::fs::create_dir_all(dir)?;
        for (m, name) in e.margins.iter().enumerate() {
            let file = if e.margins.len() == 1 {
                "importance.png".to_string()
            } else {
                format!("importance_{}.png", file_safe(&model.classes[m]))
            };
            let mut chart = importance_chart(&e, m);
            chart.title = format!("Global importance ({name}, {} rows)", e.rows.len());
            chart.write_png(&dir.join(file), FIGURE_W_PX, FIGURE_H_PX)?;
        }
        let width = e.rows.len().to_string().len();
        for (i, r) in e.rows.iter().enumerate() {
            // Two classes: the single log-odds; more: the margin of the predicted class.
            let m = if e.margins.len() == 1 {
                0
            } else {
                spinekit_learn::metrics::argmax(&r.proba)
            };
            let labels: Vec<String> = e
                .columns
                .iter()
                .map(|c| match t.column(c).ok().and_then(|col| col.text(i)) {
                    Some(v) => format!("{c} = {v}"),
                    None => format!("{c} = missing"),
                })
                .collect();
            let shown = if e.margins.len() == 1 { 1 } else { m };
            let title = format!(
                "Row {}: P({}) = {:.3}",
                i + 1,
                model.classes[shown],
                r.proba[shown]
            );
            waterfall_chart(&e, i, m, &labels, &title).write_png(
                &dir.join(format!("waterfall_row{:0width$}.png", i + 1)),
                FIGURE_W_PX,
                FIGURE_H_PX,
            )?;
        }
        println!(
            "{} waterfall figures and global importance written to {}",
            e.rows.len(),
            dir.display()
        );
    }
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

/// Parses "2..8" (inclusive) or "4".
fn parse_k_range(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--k must be a number or a range like 2..8, got '{s}'");
    match s.split_once("..") {
        Some((a, b)) => {
            let a = a.trim().parse().map_err(|_| bad())?;
            let b = b
                .trim()
                .trim_start_matches('=')
                .parse()
                .map_err(|_| bad())?;
            Ok((a, b))
        }
        None => {
            let k = s.trim().parse().map_err(|_| bad())?;
            Ok((k, k))
        }
    }
}

fn cluster(a: ClusterArgs) -> Result<(), Box<dyn std::error::Error>> {
    let t = a.data.read(&[])?;
    let (k_min, k_max) = parse_k_range(&a.k)?;
    let features: Vec<String> = match &a.features {
        Some(f) => f.clone(),
        None => t
            .column_names()
            .into_iter()
            .filter(|c| !a.exclude.contains(c))
            .collect(),
    };
    for c in &a.exclude {
        t.column(c)?;
    }
    let opts = ClusterOptions {
        method: match a.method {
            ClusterMethodArg::Kmeans => ClusterMethod::KMeans,
            ClusterMethodArg::Agglomerative => ClusterMethod::Agglomerative,
        },
        k_min,
        k_max,
        restarts: a.restarts,
        seed: a.seed,
        ..ClusterOptions::default()
    };
    let r = cluster_table(&t, &features, &t.column_names(), &opts)?;
    std::fs::create_dir_all(&a.out)?;
    let mut labels = String::from("row,cluster\n");
    for (i, l) in r.labels.iter().enumerate() {
        labels.push_str(&format!("{},{l}\n", i + 1));
    }
    let mut sil = String::from("k,mean_silhouette\n");
    for (k, s) in &r.silhouette_by_k {
        sil.push_str(&format!("{k},{s:.6}\n"));
    }
    spinekit_atomic::write_bytes_atomic(&a.out.join("clusters.csv"), labels.as_bytes())?;
    spinekit_atomic::write_bytes_atomic(&a.out.join("silhouette.csv"), sil.as_bytes())?;
    spinekit_atomic::write_bytes_atomic(&a.out.join("profile.csv"), r.profile_csv().as_bytes())?;
    spinekit_atomic::write_bytes_atomic(
        &a.out.join("profile.json"),
        &serde_json::to_vec_pretty(&r)?,
    )?;
    let points: Vec<(f64, f64)> = r
        .silhouette_by_k
        .iter()
        .map(|&(k, s)| (k as f64, s))
        .collect();
    let chart = spinekit_plot::Chart::new(
        "Mean silhouette by number of clusters",
        spinekit_plot::Axis::new("number of clusters k"),
        spinekit_plot::Axis::new("mean silhouette"),
    )
    .series(spinekit_plot::Series::line("", points.clone()))
    .series(spinekit_plot::Series::scatter("", points))
    .vline(spinekit_plot::RefLine::new(
        r.chosen_k as f64,
        format!("chosen k = {}", r.chosen_k),
    ));
    chart.write_png(&a.out.join("silhouette.png"), FIGURE_W_PX, FIGURE_H_PX)?;
    for (k, s) in &r.silhouette_by_k {
        println!("k = {k}: mean silhouette {s:.4}");
    }
    let sizes: Vec<String> = r
        .profiles
        .iter()
        .map(|p| format!("{}: {}", p.cluster, p.n))
        .collect();
    println!(
        "chosen k = {} (highest silhouette); cluster sizes {}; written to {}",
        r.chosen_k,
        sizes.join(", "),
        a.out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{parse_k_range, LearnCommand};
    use clap::Parser;
    use spinekit_learn::ModelKind;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: LearnCommand,
    }

    #[test]
    fn model_choices_reach_the_training_options() {
        for (arg, kind) in [
            ("logistic", ModelKind::Logistic),
            ("boosted-trees", ModelKind::BoostedTrees),
            ("ensemble", ModelKind::Ensemble),
        ] {
            let cli = Cli::try_parse_from([
                "learn", "train", "d.csv", "--target", "y", "--model", arg, "-o", "m.json",
            ])
            .unwrap();
            let LearnCommand::Train(t) = cli.command else {
                panic!("not train")
            };
            assert_eq!(t.model.options().kind, kind);
        }
        assert!(Cli::try_parse_from([
            "learn", "train", "d.csv", "--target", "y", "--model", "svm", "-o", "m"
        ])
        .is_err());
    }

    #[test]
    fn k_ranges() {
        assert_eq!(parse_k_range("2..8"), Ok((2, 8)));
        assert_eq!(parse_k_range("2..=5"), Ok((2, 5)));
        assert_eq!(parse_k_range("3"), Ok((3, 3)));
        assert!(parse_k_range("two").is_err());
    }
}
