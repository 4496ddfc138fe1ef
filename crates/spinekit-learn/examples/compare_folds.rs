//! Runs the acceptance evaluations (vertebral-column-uci 3-class and 2-class with 10-fold stratified nested CV;
//! kyphosis-rpart leave-one-out) for both model families, prints the metrics and writes
//! `<out>/folds.json` (fold assignment, our results and timings) for `compare/sklearn_compare.py`.
//!
//! `cargo run --release -p spinekit-learn --example compare_folds -- OUT_DIR`

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
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
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
            (
                "logistic_balanced",
                ModelKind::Logistic,
                ClassWeight::Balanced,
            ),
            (
                "boosted_balanced",
                ModelKind::BoostedTrees,
                ClassWeight::Balanced,
            ),
        ] {
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
            // time of one plain fit (fixed hyper-parameters = the most chosen) on all rows, for the speed ratio
            let spec = cv.chosen[0];
            let rows: Vec<usize> = (0..ds.n_rows()).collect();
            let pre = Preprocessor::fit(&ds.features, &rows);
            let x = pre.transform(&ds.features, &rows);
            let w = vec![1.0; rows.len()];
            let t0 = Instant::now();
            let reps = 20;
            for _ in 0..reps {
                std::hint::black_box(Model::fit(&spec, &x, &ds.y, ds.n_classes(), &w));
            }
            let single = t0.elapsed().as_secs_f64() / reps as f64;
            println!(
                "{name:14} {label:18} acc {:.4} [{:.4}, {:.4}]  bal.acc {:.4}  AUC {:.4} [{:.4}, {:.4}] ({})  Brier {:.4}  nested CV {:.3} s  single fit {:.2} ms",
                m.accuracy.value, m.accuracy.ci_lower, m.accuracy.ci_upper, m.balanced_accuracy.value,
                m.auc.value, m.auc.ci_lower, m.auc.ci_upper, m.auc.ci_method, m.brier, cv.seconds, single * 1e3
            );
            results.insert(
                label.to_string(),
                json!({"metrics": m, "nested_cv_seconds": cv.seconds, "single_fit_seconds": single,
                       "single_fit_spec": spec, "chosen": cv.chosen, "proba": cv.proba}),
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
