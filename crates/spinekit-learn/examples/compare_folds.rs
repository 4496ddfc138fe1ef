//! Runs the acceptance evaluations (vertebral-column-uci 3-class and 2-class with 10-fold stratified nested CV;
//! kyphosis-rpart leave-one-out) for both model families, prints the metrics and writes
//! `<out>/folds.json` (fold assignment, our results and timings) for `compare/sklearn_compare.py`.
//!
//! `cargo run --release -p spinekit-learn --example compare_folds -- OUT_DIR [TASKS [MODELS]]`
//! TASKS: comma-separated subset of vertebral_3C,vertebral_2C,kyphosis_loo (default all);
//! MODELS: subset of logistic,boosted,ensemble,logistic_balanced (default all).
//! Every choice (hyper-parameters, heavy-tail transform, ensemble weight) is made by the inner CV of each outer
//! training set; the outer folds are only predicted.

use serde_json::json;
use spinekit_learn::*;
use spinekit_validate::BootstrapOptions;
use std::path::{Path, PathBuf};
use std::time::Instant;

const VERTEBRAL: [&str; 7] = [
    "pelvic_incidence",
    "pelvic_tilt",
    "lumbar_lordosis_angle",
    "sacral_slope",
    "pelvic_radius",
    "degree_spondylolisthesis",
    "class",
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let out = PathBuf::from(args.get(1).cloned().unwrap_or_else(|| ".".into()));
    let wanted = |i: usize, name: &str| {
        args.get(i)
            .is_none_or(|l| l == "all" || l.split(',').any(|x| x == name))
    };
    let root = spinekit_testdata::shared_root().join("tables");
    let vopts = ReadOptions {
        column_names: Some(VERTEBRAL.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    };
    let mut tasks = Vec::new();
    for (name, file, target, positive, validation) in [
        (
            "vertebral_3C",
            "vertebral-column-uci/column_3C.dat",
            "class",
            None,
            Validation::KFold { k: 10, seed: 2024 },
        ),
        (
            "vertebral_2C",
            "vertebral-column-uci/column_2C.dat",
            "class",
            Some("AB"),
            Validation::KFold { k: 10, seed: 2024 },
        ),
        (
            "kyphosis_loo",
            "kyphosis-rpart/kyphosis.csv",
            "Kyphosis",
            Some("present"),
            Validation::LeaveOneOut,
        ),
    ] {
        if !wanted(2, name) {
            continue;
        }
        let path = root.join(file);
        let opts = if file.ends_with(".dat") {
            vopts.clone()
        } else {
            ReadOptions::default()
        };
        let t = Table::read(&path, &opts)?;
        let ds = Dataset::from_table(&t, target, None)?;
        let folds = validation.folds(&ds)?;
        let pos = positive
            .and_then(|p| ds.classes.iter().position(|c| c == p))
            .unwrap_or(1);
        let mut results = serde_json::Map::new();
        for (label, kind, cw) in [
            ("logistic", ModelKind::Logistic, ClassWeight::None),
            ("boosted", ModelKind::BoostedTrees, ClassWeight::None),
            ("ensemble", ModelKind::Ensemble, ClassWeight::None),
            (
                "logistic_balanced",
                ModelKind::Logistic,
                ClassWeight::Balanced,
            ),
        ] {
            if !wanted(3, label) {
                continue;
            }
            let topts = TrainOptions {
                kind,
                class_weight: cw,
                ..Default::default()
            };
            let cv = cross_validate(&ds, &topts, &folds)?;
            let m = evaluate(
                &ds.y,
                &cv.proba,
                &ds.classes,
                pos,
                0.5,
                &BootstrapOptions::default(),
            )?;
            // `SavedModel::train`'s work (inner-CV tuning on all rows + the final fit), as
            // GridSearchCV(refit=True).fit on all rows on the scikit-learn side
            let rows: Vec<usize> = (0..ds.n_rows()).collect();
            let t0 = Instant::now();
            let fit = fit_tuned(&ds, &rows, &topts)?;
            let train_seconds = t0.elapsed().as_secs_f64();
            let n_chosen = |s: &ModelSpec| cv.chosen.iter().filter(|c| *c == s).count();
            let weights: Vec<f64> = cv
                .chosen
                .iter()
                .filter_map(|s| match s {
                    ModelSpec::Ensemble(e) => Some(e.weight_logistic),
                    _ => None,
                })
                .collect();
            println!(
                "{name:14} {label:18} acc {:.4} [{:.4}, {:.4}]  bal.acc {:.4} [{:.4}, {:.4}]  AUC {:.4} [{:.4}, {:.4}] ({})  Brier {:.4}  nested CV {:.3} s  train {:.3} s{}",
                m.accuracy.value, m.accuracy.ci_lower, m.accuracy.ci_upper,
                m.balanced_accuracy.value, m.balanced_accuracy.ci_lower, m.balanced_accuracy.ci_upper,
                m.auc.value, m.auc.ci_lower, m.auc.ci_upper, m.auc.ci_method, m.brier, cv.seconds, train_seconds,
                if weights.is_empty() { String::new() } else { format!("  logistic weight per fold {weights:?}") }
            );
            results.insert(
                label.to_string(),
                json!({"metrics": m, "nested_cv_seconds": cv.seconds, "train_seconds": train_seconds,
                       "train_spec": fit.spec, "train_spec_chosen_in_folds": n_chosen(&fit.spec),
                       "chosen": cv.chosen, "proba": cv.proba}),
            );
        }
        tasks.push(json!({
            "name": name, "file": path, "target": target, "classes": ds.classes, "positive": ds.classes[pos],
            "columns": if file.ends_with(".dat") { json!(VERTEBRAL) } else { json!(t.column_names()) },
            "folds": folds, "results": results,
        }));
    }
    let doc = json!({"threads": rayon::current_num_threads(), "tasks": tasks});
    write(
        &out.join("folds.json"),
        &serde_json::to_vec_pretty(&doc).unwrap(),
    );
    Ok(())
}

fn write(p: &Path, b: &[u8]) {
    spinekit_atomic::write_bytes_atomic(p, b).expect("write folds.json");
}
