//! Site history: SQLite schema, append, trends, Shewhart/Western Electric alerts, claims, bad databases.

use spinekit_validate::history::*;
use std::collections::BTreeMap;

fn rec(task: &str, metrics: &[(&str, f64)], t: u64) -> RunRecord {
    RunRecord {
        time_utc: utc_text(1_800_000_000 + t * 86_400),
        software: "spinekit-validate test".into(),
        task: task.into(),
        cases: 20,
        scanner: "ACME Scan 64".into(),
        kernel: "B30f".into(),
        kvp_kv: "120".into(),
        metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    }
}

fn db_with(values: &[f64]) -> (tempfile::TempDir, History) {
    let t = tempfile::tempdir().unwrap();
    let mut h = History::open(t.path().join("site.db")).unwrap();
    for (i, v) in values.iter().enumerate() {
        h.append(&rec("segmentation", &[("mean_dice", *v)], i as u64))
            .unwrap();
    }
    (t, h)
}

const BASELINE: [f64; 5] = [0.90, 0.91, 0.89, 0.90, 0.91];

#[test]
fn schema_is_created_and_runs_read_back() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("site.db");
    let mut h = History::open(&p).unwrap();
    assert!(p.exists());
    let a = rec(
        "segmentation",
        &[("mean_dice", 0.9), ("mean_hd95_mm", 3.5)],
        0,
    );
    let b = rec("measurements", &[("mae:cobb", 2.5)], 1);
    let ia = h.append(&a).unwrap();
    let ib = h.append(&b).unwrap();
    assert!(ib > ia);
    drop(h);
    // Reopening finds the layout and the runs, in order, with every field.
    let h = History::open(&p).unwrap();
    let runs = h.runs().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!((runs[0].id, &runs[0].record), (ia, &a));
    assert_eq!((runs[1].id, &runs[1].record), (ib, &b));
    let conn = rusqlite::Connection::open(&p).unwrap();
    let schema: String = conn
        .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(schema, HISTORY_SCHEMA);
    assert_eq!(utc_text(0), "1970-01-01T00:00:00Z");
    // date -u -d @1700000000 → Tue Nov 14 22:13:20 UTC 2023
    assert_eq!(utc_text(1_700_000_000), "2023-11-14T22:13:20Z");
    assert_eq!(utc_text(951_782_400), "2000-02-29T00:00:00Z");
}

#[test]
fn control_limits_follow_the_moving_range() {
    let l = control_limits(&BASELINE).unwrap();
    let mean = 4.51 / 5.0;
    let mr = (0.01 + 0.02 + 0.01 + 0.01) / 4.0;
    let sigma = mr / 1.128;
    assert!((l.centre - mean).abs() < 1e-12);
    assert!((l.sigma - sigma).abs() < 1e-12);
    assert!((l.lower - (mean - 3.0 * sigma)).abs() < 1e-12);
    assert!((l.upper - (mean + 3.0 * sigma)).abs() < 1e-12);
    assert!(control_limits(&BASELINE[..4]).is_none());
}

#[test]
fn stable_runs_raise_no_alert() {
    let mut v = BASELINE.to_vec();
    v.extend([0.90, 0.895, 0.905, 0.91, 0.89]);
    let (_t, h) = db_with(&v);
    let (charts, alerts) = trends(&h.runs().unwrap(), &ControlOptions::default()).unwrap();
    assert!(alerts.is_empty(), "{alerts:?}");
    assert_eq!(charts.len(), 1);
    let c = &charts[0];
    assert_eq!(c.points.len(), 10);
    assert!(c.points[..5].iter().all(|p| p.baseline));
    assert!(c.points.iter().all(|p| p.flags.is_empty()));
    assert!(trend_text(&charts).contains("control limits"));
}

#[test]
fn a_degraded_run_raises_an_alert() {
    let mut v = BASELINE.to_vec();
    v.extend([0.90, 0.80]);
    let (_t, h) = db_with(&v);
    let (charts, alerts) = trends(&h.runs().unwrap(), &ControlOptions::default()).unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].rule, Rule::BeyondThreeSigma);
    assert_eq!(alerts[0].value, 0.80);
    assert!(alerts[0]
        .message
        .contains("outside the site's control limits"));
    assert_eq!(charts[0].points[6].flags, vec![Rule::BeyondThreeSigma]);
    // A later good run clears the alert (alerts concern the latest run), but the chart keeps the flag.
    let (_t, h) = db_with(&[&v[..], &[0.905]].concat());
    let (charts, alerts) = trends(&h.runs().unwrap(), &ControlOptions::default()).unwrap();
    assert!(alerts.is_empty());
    assert_eq!(charts[0].points[6].flags, vec![Rule::BeyondThreeSigma]);
}

#[test]
fn two_of_three_beyond_two_sigma() {
    // Centre 0.902, σ̂ 0.01108: 2σ̂ below = 0.8798, 3σ̂ below = 0.8688.
    let mut v = BASELINE.to_vec();
    v.extend([0.878, 0.90, 0.877]);
    let (_t, h) = db_with(&v);
    let (charts, alerts) = trends(&h.runs().unwrap(), &ControlOptions::default()).unwrap();
    assert_eq!(
        charts[0].points[5].flags,
        vec![],
        "one point beyond 2σ alone"
    );
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].rule, Rule::TwoOfThreeBeyondTwoSigma);
}

#[test]
fn claims_are_checked_in_the_metric_direction() {
    let t = tempfile::tempdir().unwrap();
    let mut h = History::open(t.path().join("site.db")).unwrap();
    h.append(&rec(
        "measurements",
        &[("mae:cobb", 3.2), ("smape_percent", 9.0)],
        0,
    ))
    .unwrap();
    h.append(&rec("segmentation", &[("mean_dice", 0.89)], 1))
        .unwrap();
    let claims = BTreeMap::from([
        ("mean_dice".to_string(), 0.92),
        ("mae:cobb".to_string(), 3.0),
        ("smape_percent".to_string(), 10.0),
    ]);
    let (charts, alerts) = trends(
        &h.runs().unwrap(),
        &ControlOptions {
            baseline_runs: 5,
            claims,
        },
    )
    .unwrap();
    // No limits yet (one run each), but the claims apply: Dice below 0.92, MAE above 3.0; SMAPE 9 < 10 is fine.
    assert!(charts.iter().all(|c| c.limits.is_none()));
    let mut got: Vec<(&str, Rule)> = alerts.iter().map(|a| (a.metric.as_str(), a.rule)).collect();
    got.sort_by_key(|x| x.0);
    assert_eq!(
        got,
        vec![
            ("mae:cobb", Rule::BelowClaim),
            ("mean_dice", Rule::BelowClaim)
        ]
    );
    assert!(!higher_is_better("mae:cobb") && higher_is_better("auc"));

    // Claims from a model card, and from the command line syntax.
    let card = t.path().join("card.json");
    std::fs::write(
        &card,
        r#"{"name": "x", "claims": {"mean_dice": 0.9, "auc": 0.8}}"#,
    )
    .unwrap();
    assert_eq!(read_claims(&card).unwrap().len(), 2);
    assert_eq!(
        parse_claim("mean_dice=0.85").unwrap(),
        ("mean_dice".into(), 0.85)
    );
    assert!(parse_claim("mean_dice").is_err() && parse_claim("a=b").is_err());
    assert!(trends(
        &[],
        &ControlOptions {
            baseline_runs: 3,
            claims: BTreeMap::new()
        }
    )
    .is_err());
}

#[test]
fn a_file_that_is_not_a_history_gives_a_clear_error_and_is_left_alone() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("corrupt.db");
    let junk = b"this is not a database, just some text that happens to be long enough".repeat(20);
    std::fs::write(&p, &junk).unwrap();
    let e = History::open(&p).err().expect("must fail").to_string();
    assert!(e.contains("not a spinekit validation history"), "{e}");
    assert!(!e.contains('\n'));
    assert_eq!(std::fs::read(&p).unwrap(), junk);

    // Another application's SQLite database.
    let other = t.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE patients (id INTEGER);")
        .unwrap();
    let e = History::open(&other).err().expect("must fail").to_string();
    assert!(e.contains("not a spinekit validation history"), "{e}");
}
