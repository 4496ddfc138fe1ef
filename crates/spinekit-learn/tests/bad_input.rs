//! Bad input gives one clear line, never a panic: an empty file, a header without rows, a missing target
//! column, a row without an outcome, text in a numeric column, a single outcome class, a ragged row.

use spinekit_learn::*;

fn dataset(csv: &str, target: &str) -> std::result::Result<Dataset, LearnError> {
    let t = Table::parse(csv, &ReadOptions::default())?;
    Dataset::from_table(&t, target, None)
}

fn one_line(e: LearnError) -> String {
    let s = e.to_string();
    assert!(!s.contains('\n') && !s.is_empty(), "not one line: {s:?}");
    s
}

#[test]
fn every_bad_table_gives_one_clear_line() {
    let cases: [(&str, &str, &str); 7] = [
        (
            "",
            "y",
            "the table is empty: it needs a header line and at least one row of data",
        ),
        (
            "age,y\n",
            "y",
            "the table is empty: it needs a header line and at least one row of data",
        ),
        (
            "age,y\n61,yes\n70,no\n",
            "outcome",
            "column 'outcome' is not in the table (columns: age, y)",
        ),
        (
            "age,y\n61,yes\n70,\n55,no\n",
            "y",
            "target column 'y' is missing on row 2; every patient needs an outcome to train or evaluate",
        ),
        (
            "age,y\n61,yes\nseventy,no\n55,no\n",
            "y",
            "column 'age' is numeric but row 2 holds the text 'seventy'; fix the value, leave it empty if it is missing, or declare the column categorical",
        ),
        (
            "age,y\n61,yes\n70,yes\n",
            "y",
            "target column 'y' has only one class ('yes'); a model needs at least two outcomes to learn from",
        ),
        (
            "age,sex,y\n61,F,yes\n70,no\n",
            "y",
            "line 3: 2 values but the header has 3 columns",
        ),
    ];
    for (csv, target, want) in cases {
        let e = dataset(csv, target).expect_err(csv);
        assert_eq!(one_line(e), want, "input {csv:?}");
    }
}

#[test]
fn bad_files_on_disk_are_refused_with_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.csv");
    let e = one_line(Table::read(&missing, &ReadOptions::default()).unwrap_err());
    assert!(
        e.starts_with(&format!("{}: cannot read the table", missing.display())),
        "{e}"
    );
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let e = Table::read(&empty, &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, LearnError::Empty), "{e}");
    // the same checks hold when training or evaluating through the library entry points
    let t = Table::parse("age,y\n61,yes\n70,yes\n55,yes\n", &ReadOptions::default()).unwrap();
    assert!(matches!(
        Dataset::from_table(&t, "y", None),
        Err(LearnError::OneClass { .. })
    ));
}
