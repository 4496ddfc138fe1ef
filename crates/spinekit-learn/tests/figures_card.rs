//! Figures (ROC, calibration, waterfall, importance), the model card, and the saved model's input contract on a
//! small synthetic table (runs without shared data).

use spinekit_learn::card::{model_card, ValidationCard, INTENDED_USE};
use spinekit_learn::figures::{calibration_charts, importance_chart, roc_chart, waterfall_chart};
use spinekit_learn::*;
use spinekit_validate::BootstrapOptions;

/// 120 rows: outcome "yes" more likely with high `score`, `site` a category, a few missing values.
fn table() -> Table {
    let mut csv = String::from("score,skewed,site,outcome\n");
    for i in 0..120u64 {
        // deterministic pseudo-random numbers
        let h = (i.wrapping_mul(2654435761) % 1000) as f64 / 1000.0;
        let score = (i % 40) as f64 / 4.0 + h * 3.0;
        let skewed = if i % 17 == 0 { 400.0 + h } else { h * 10.0 };
        let site = ["north", "south", "east"][(i % 3) as usize];
        let y = if score + 2.0 * h > 7.0 { "yes" } else { "no" };
        let score_txt = if i % 23 == 5 {
            String::new()
        } else {
            format!("{score:.3}")
        };
        csv.push_str(&format!("{score_txt},{skewed:.3},{site},{y}\n"));
    }
    Table::parse(&csv, &ReadOptions::default()).unwrap()
}

fn png_ok(bytes: &[u8]) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(bytes.len() > 2000);
}

#[test]
fn evaluation_figures_and_model_card() {
    let t = table();
    let ds = Dataset::from_table(&t, "outcome", None).unwrap();
    let opts = TrainOptions::default();
    let folds = Validation::KFold { k: 5, seed: 1 }.folds(&ds).unwrap();
    let cv = cross_validate(&ds, &opts, &folds).unwrap();
    let boot = BootstrapOptions {
        resamples: 200,
        ..Default::default()
    };
    let m = evaluate(&ds.y, &cv.proba, &ds.classes, 1, 0.5, &boot).unwrap();
    assert!(m.auc.value > 0.8, "{:?}", m.auc);

    let roc = roc_chart(&ds.y, &cv.proba, &ds.classes, 1, &m.auc);
    assert!(roc.series[0].points.len() > 10);
    assert!(roc.annotations[0]
        .text
        .starts_with(&format!("AUC {:.3}", m.auc.value)));
    png_ok(&roc.to_png(600, 400).unwrap());
    let cal = calibration_charts(&ds.y, &cv.proba, &ds.classes, 1);
    assert_eq!(cal.len(), 1);
    assert_eq!(cal[0].0, "yes");
    let n: usize = cal[0].1.series[2]
        .point_labels
        .iter()
        .map(|l| l.trim_start_matches("n=").parse::<usize>().unwrap())
        .sum();
    assert_eq!(n, 120, "every row falls in one calibration bin");
    png_ok(&cal[0].1.to_png(600, 400).unwrap());

    let model = SavedModel::train(&ds, &opts).unwrap();
    let card = model_card(
        &model,
        &ds,
        &t,
        "synthetic.csv",
        Some(ValidationCard {
            design: "5-fold nested CV".into(),
            metrics: m.clone(),
        }),
    );
    assert_eq!(card.intended_use, INTENDED_USE);
    assert_eq!(card.data.n_rows, 120);
    assert_eq!(
        card.data.class_counts.iter().map(|c| c.1).sum::<usize>(),
        120
    );
    let score = card.predictors.iter().find(|p| p.name == "score").unwrap();
    assert_eq!(score.n_missing, (0..120).filter(|i| i % 23 == 5).count());
    assert!(score.missing_handling.contains("indicator"));
    assert_eq!(
        card.predictors
            .iter()
            .find(|p| p.name == "site")
            .unwrap()
            .levels
            .as_ref()
            .unwrap()
            .len(),
        3
    );
    assert!(card
        .limitations
        .iter()
        .any(|l| l.contains("Small sample (n = 120)")));
    assert!(card
        .limitations
        .iter()
        .any(|l| l.contains("rows had at least one missing predictor")));
    let json = serde_json::to_value(&card).unwrap();
    assert!(json["chosen_hyperparameters"]["model"].is_string());
    assert!(
        (json["validation"]["metrics"]["auc"]["value"]
            .as_f64()
            .unwrap()
            - m.auc.value)
            .abs()
            < 1e-12
    );
    let md = card.to_markdown();
    for needle in [
        "# Model card: predicting `outcome`",
        "Not a medical device",
        "## Predictors",
        "| site | categorical |",
        "AUC (DeLong CI)",
        "## Limitations",
    ] {
        assert!(md.contains(needle), "card lacks {needle}:\n{md}");
    }
    let no_validation = model_card(&model, &ds, &t, "synthetic.csv", None).to_markdown();
    assert!(no_validation.contains("Not estimated"));
}

#[test]
fn explanation_figures() {
    let t = table();
    let ds = Dataset::from_table(&t, "outcome", None).unwrap();
    for kind in [ModelKind::Logistic, ModelKind::BoostedTrees] {
        let model = SavedModel::train(
            &ds,
            &TrainOptions {
                kind,
                ..Default::default()
            },
        )
        .unwrap();
        let e = model.explain(&t).unwrap();
        let labels: Vec<String> = e.columns.iter().map(|c| format!("{c} = x")).collect();
        let w = waterfall_chart(&e, 3, 0, &labels, "row 4");
        // the waterfall ends at the row's margin
        let last = w.ranges.last().unwrap();
        assert!((last.x1 - e.rows[3].margin[0]).abs() < 1e-9);
        png_ok(&w.to_png(700, 400).unwrap());
        let imp = importance_chart(&e, 0);
        assert_eq!(imp.series[0].points.len(), 3);
        png_ok(&imp.to_png(700, 400).unwrap());
    }
}

#[test]
fn saved_model_refuses_missing_or_mistyped_columns() {
    let t = table();
    let ds = Dataset::from_table(&t, "outcome", None).unwrap();
    let model = SavedModel::train(&ds, &TrainOptions::default()).unwrap();
    let o = ReadOptions::default();
    let missing = Table::parse("score,site\n1,north\n", &o).unwrap();
    assert_eq!(
        model.predict_proba(&missing).unwrap_err().to_string(),
        "column 'skewed' is not in the table (columns: score, site)"
    );
    let mistyped = Table::parse("score,skewed,site\nhigh,1,north\n", &o).unwrap();
    assert_eq!(
        model.predict_proba(&mistyped).unwrap_err().to_string(),
        "the model expects column 'score' to be numeric, but the input's column is categorical"
    );
    let unknown = Table::parse("score,skewed,site\n1,1,west\n", &o).unwrap();
    assert!(model
        .predict_proba(&unknown)
        .unwrap_err()
        .to_string()
        .contains("category 'west'"));
    let fine = Table::parse("score,skewed,site\n1,1,north\n,2,south\n", &o).unwrap();
    assert_eq!(model.predict_proba(&fine).unwrap().len(), 2);
}
