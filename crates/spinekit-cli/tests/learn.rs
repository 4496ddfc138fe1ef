//! `spinekit learn` as a user meets it: train → predict → explain → evaluate on a small table, and the
//! one-line refusals of bad input.

/// Runs `spinekit learn ARGS`; Err holds stderr when the exit status is not 0.
fn run(args: &[&str]) -> Result<(), String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spinekit"))
        .arg("learn")
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        return Ok(());
    }
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "one error line expected: {err}");
    let msg = err.strip_prefix("spinekit: error: ");
    Err(msg
        .expect("errors start with 'spinekit: error: '")
        .to_string())
}

#[test]
fn train_predict_explain_evaluate_and_refuse_bad_input() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n).to_string_lossy().into_owned();
    let mut csv = String::from("age,level,grade,outcome\n");
    for i in 0..60 {
        let age = 30 + (i * 7) % 50;
        let level = ["L3", "L4", "L5"][i % 3];
        let grade = if i % 11 == 0 {
            String::new()
        } else {
            ((i * 5) % 4).to_string()
        };
        let bad = age > 55 || (level == "L5" && i % 2 == 0);
        csv.push_str(&format!(
            "{age},{level},{grade},{}\n",
            if bad { "reop" } else { "ok" }
        ));
    }
    std::fs::write(p("train.csv"), &csv).unwrap();
    run(&[
        "train",
        &p("train.csv"),
        "--target",
        "outcome",
        "--categorical",
        "grade",
        "-o",
        &p("m.json"),
    ])
    .unwrap();
    run(&[
        "predict",
        &p("train.csv"),
        "--model-file",
        &p("m.json"),
        "-o",
        &p("pred.csv"),
    ])
    .unwrap();
    let pred = std::fs::read_to_string(p("pred.csv")).unwrap();
    assert_eq!(pred.lines().count(), 61);
    assert!(pred.starts_with("row,predicted,P(ok),P(reop)\n"));
    run(&[
        "explain",
        &p("train.csv"),
        "--model-file",
        &p("m.json"),
        "-o",
        &p("shap.json"),
    ])
    .unwrap();
    let e: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p("shap.json")).unwrap()).unwrap();
    assert_eq!(e["rows"].as_array().unwrap().len(), 60);
    assert_eq!(e["columns"], serde_json::json!(["age", "level", "grade"]));
    run(&[
        "evaluate",
        &p("train.csv"),
        "--target",
        "outcome",
        "--model",
        "boosted-trees",
        "--folds",
        "5",
        "--bootstrap",
        "200",
        "--positive",
        "reop",
        "-o",
        &p("metrics.json"),
    ])
    .unwrap();
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p("metrics.json")).unwrap()).unwrap();
    assert!(m["metrics"]["auc"]["value"].as_f64().unwrap() > 0.7);

    // bad input: one line each
    std::fs::write(p("empty.csv"), "").unwrap();
    let e = run(&[
        "train",
        &p("empty.csv"),
        "--target",
        "outcome",
        "-o",
        &p("x.json"),
    ])
    .unwrap_err();
    assert_eq!(
        e,
        "the table is empty: it needs a header line and at least one row of data"
    );
    let e = run(&[
        "train",
        &p("train.csv"),
        "--target",
        "reoperation",
        "-o",
        &p("x.json"),
    ])
    .unwrap_err();
    assert_eq!(
        e,
        "column 'reoperation' is not in the table (columns: age, level, grade, outcome)"
    );
    std::fs::write(p("one.csv"), "age,outcome\n1,ok\n2,ok\n").unwrap();
    let e = run(&[
        "train",
        &p("one.csv"),
        "--target",
        "outcome",
        "-o",
        &p("x.json"),
    ])
    .unwrap_err();
    assert!(
        e.starts_with("target column 'outcome' has only one class ('ok')"),
        "{e}"
    );
    std::fs::write(p("text.csv"), csv.replacen("\n44,", "\nforty-four,", 1)).unwrap();
    let e = run(&[
        "train",
        &p("text.csv"),
        "--target",
        "outcome",
        "-o",
        &p("x.json"),
    ])
    .unwrap_err();
    assert!(e.starts_with("column 'age' is numeric but row "), "{e}");
    assert!(!std::path::Path::new(&p("x.json")).exists());
    // the saved model refuses a table without one of its columns
    std::fs::write(p("new.csv"), "age,level\n40,L4\n").unwrap();
    let e = run(&["predict", &p("new.csv"), "--model-file", &p("m.json")]).unwrap_err();
    assert_eq!(
        e,
        "column 'grade' is not in the table (columns: age, level)"
    );
    std::fs::write(p("new.csv"), "age,level,grade\n40,S1,2\n").unwrap();
    let e = run(&["predict", &p("new.csv"), "--model-file", &p("m.json")]).unwrap_err();
    assert!(
        e.contains("the category 'S1', which the model never saw in training (known: L3, L4, L5)"),
        "{e}"
    );
}
