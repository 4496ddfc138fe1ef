//! End-to-end `validate` runs on small files in a temporary folder.

use spinekit_image::{Geometry, Volume};
use spinekit_nifti::{write_nifti, WriteOptions};
use spinekit_validate::workflow::{
    run_validation, write_report, Task, TaskResults, ValidateOptions,
};
use spinekit_validate::*;
use std::path::Path;

fn cube(dims: [usize; 3], lo: [usize; 3], hi: [usize; 3], label: u8, g: Geometry) -> Volume<u8> {
    let mut v = Volume::<u8>::zeros(dims, g).unwrap();
    for k in lo[2]..hi[2] {
        for j in lo[1]..hi[1] {
            for i in lo[0]..hi[0] {
                v.set(i, j, k, label);
            }
        }
    }
    v
}

fn opts(pred: &Path, reference: &Path, task: Option<Task>) -> ValidateOptions {
    let mut o = ValidateOptions::new(pred, reference);
    o.task = task;
    o.bootstrap.resamples = 200;
    o
}

#[test]
fn segmentation_run_writes_json_and_html() {
    let t = tempfile::tempdir().unwrap();
    let (pd, rd, out) = (
        t.path().join("pred"),
        t.path().join("ref"),
        t.path().join("out"),
    );
    std::fs::create_dir_all(&pd).unwrap();
    std::fs::create_dir_all(&rd).unwrap();
    let g = Geometry::identity([0.8, 0.8, 2.5]);
    let dims = [20, 18, 10];
    let mut direct = Vec::new();
    for c in 0..3usize {
        let r = cube(dims, [4, 4, 2], [14, 12, 7], 5, g);
        let p = cube(dims, [4 + c, 4, 2], [14, 12 + c, 7], 5, g);
        write_nifti(
            rd.join(format!("case{c}.nii.gz")),
            &r,
            None,
            &WriteOptions::default(),
        )
        .unwrap();
        write_nifti(
            pd.join(format!("case{c}.nii.gz")),
            &p,
            None,
            &WriteOptions::default(),
        )
        .unwrap();
        direct.push(segmentation_metrics(&p, &r).unwrap()[0].dice);
    }
    // An unpaired prediction is reported, not fatal.
    let lone = cube(dims, [1, 1, 1], [3, 3, 3], 5, g);
    write_nifti(pd.join("extra.nii"), &lone, None, &WriteOptions::default()).unwrap();
    let report = run_validation(&opts(&pd, &rd, None)).unwrap();
    assert_eq!(report.task, Task::Segmentation);
    assert_eq!(report.paired_cases, 3);
    assert_eq!(report.pred_only, vec!["extra".to_string()]);
    let TaskResults::Segmentation(s) = &report.results else {
        panic!("task")
    };
    let mean = direct.iter().sum::<f64>() / 3.0;
    assert!((s.mean_dice.value - mean).abs() < 1e-12);
    assert!(s.mean_dice.ci_lower <= mean && mean <= s.mean_dice.ci_upper);
    assert_eq!(s.worst_cases[0], "case2");
    let (j, h) = write_report(&report, &out).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(j).unwrap()).unwrap();
    assert_eq!(json["schema"], "spinekit-validation/1");
    assert!(json["definitions"]["hd95_mm"]
        .as_str()
        .unwrap()
        .contains("95th percentile"));
    let html = std::fs::read_to_string(h).unwrap();
    assert!(html.contains("<table>") && html.contains("case2") && !html.contains("<script"));
}

#[test]
fn measurements_run_with_headerless_and_header_csv() {
    let t = tempfile::tempdir().unwrap();
    let (pd, rd) = (t.path().join("pred"), t.path().join("ref"));
    std::fs::create_dir_all(&pd).unwrap();
    std::fs::create_dir_all(&rd).unwrap();
    let reference = [
        [10.0, 25.0, 5.0],
        [30.0, 12.5, 0.0],
        [18.0, 40.0, 22.0],
        [7.5, 9.0, 3.0],
    ];
    let rtxt: String = reference
        .iter()
        .map(|r| format!("{},{},{}\n", r[0], r[1], r[2]))
        .collect();
    let ptxt: String = reference
        .iter()
        .map(|r| format!("{},{},{}\n", r[0] + 2.0, r[1] + 2.0, r[2] + 2.0))
        .collect();
    std::fs::write(rd.join("angles.csv"), rtxt).unwrap();
    std::fs::write(pd.join("angles.csv"), ptxt).unwrap();
    let report = run_validation(&opts(&pd, &rd, Some(Task::Measurements))).unwrap();
    let TaskResults::Measurements(m) = &report.results else {
        panic!("task")
    };
    assert_eq!(m.measurements.len(), 3);
    for x in &m.measurements {
        assert!((x.mae.value - 2.0).abs() < 1e-12);
    }
    let want: f64 = reference
        .iter()
        .map(|r| 600.0 / (2.0 * r.iter().sum::<f64>() + 6.0))
        .sum::<f64>()
        / 4.0;
    assert!((m.smape_percent.unwrap().value - want).abs() < 1e-12);

    // With a header and case ids; a case missing on one side is reported.
    std::fs::write(rd.join("angles.csv"), "case,cobb\na,10\nb,20\nc,31\nd,44\n").unwrap();
    std::fs::write(pd.join("angles.csv"), "case,cobb\na,11\nb,19\nc,33\ne,1\n").unwrap();
    let report = run_validation(&opts(&pd, &rd, Some(Task::Measurements))).unwrap();
    assert_eq!(
        (report.pred_only.clone(), report.reference_only.clone()),
        (vec!["e".into()], vec!["d".into()])
    );
    let TaskResults::Measurements(m) = &report.results else {
        panic!("task")
    };
    assert!((m.measurements[0].mae.value - 4.0 / 3.0).abs() < 1e-12);
    assert_eq!(m.worst_cases[0], "c");
}

#[test]
fn classification_and_labelling_runs() {
    let t = tempfile::tempdir().unwrap();
    let (pd, rd) = (t.path().join("pred"), t.path().join("ref"));
    std::fs::create_dir_all(&pd).unwrap();
    std::fs::create_dir_all(&rd).unwrap();
    let truth = [1, 1, 1, 0, 0, 0, 1, 0];
    let score = [0.9, 0.7, 0.4, 0.2, 0.6, 0.1, 0.8, 0.3];
    let r: String = truth
        .iter()
        .enumerate()
        .map(|(i, t)| format!("c{i},{t}\n"))
        .collect();
    let p: String = score
        .iter()
        .enumerate()
        .map(|(i, s)| format!("c{i},{s}\n"))
        .collect();
    std::fs::write(rd.join("fracture.csv"), format!("case,label\n{r}")).unwrap();
    std::fs::write(pd.join("fracture.csv"), format!("case,score\n{p}")).unwrap();
    let report = run_validation(&opts(&pd, &rd, Some(Task::Classification))).unwrap();
    let TaskResults::Classification(c) = &report.results else {
        panic!("task")
    };
    let tb: Vec<bool> = truth.iter().map(|t| *t == 1).collect();
    assert_eq!(
        c.auc.unwrap().auc.value,
        roc_auc_delong(&tb, &score).unwrap().auc.value
    );
    let b = c.binary.unwrap();
    assert_eq!((b.tp, b.fp, b.tn, b.fn_), (3, 1, 3, 1));
    assert_eq!(c.roc_points.last(), Some(&(1.0, 1.0)));
    write_report(&report, &t.path().join("out")).unwrap();

    // Labelling from centroid JSON files.
    std::fs::write(
        rd.join("spine.json"),
        r#"{"20": [0, 0, 0], "21": [0, 0, 30], "22": [0, 0, 60]}"#,
    )
    .unwrap();
    std::fs::write(
        pd.join("spine.json"),
        r#"{"20": [1, 0, 0], "21": [0, 0, 55], "22": [0, 0, 58]}"#,
    )
    .unwrap();
    let report = run_validation(&opts(&pd, &rd, Some(Task::Labelling))).unwrap();
    let TaskResults::Labelling(l) = &report.results else {
        panic!("task")
    };
    // 20 identified (1 mm); 21 is 25 mm away; 22 is 2 mm away but 21's prediction is not closer (5 mm) → identified.
    assert_eq!(l.cases[0].identification.identified_levels, 2);
    assert!((l.pooled_identification_rate.value - 2.0 / 3.0).abs() < 1e-12);
}

#[test]
fn bad_inputs_give_one_line_errors() {
    let t = tempfile::tempdir().unwrap();
    let e = run_validation(&opts(t.path(), t.path(), Some(Task::Segmentation)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no case") && !e.contains('\n'), "{e}");
    let e = run_validation(&opts(&t.path().join("nope"), t.path(), None))
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot list folder"), "{e}");
    assert!(mae(&[1.0], &[1.0, 2.0])
        .unwrap_err()
        .to_string()
        .contains("different lengths"));
    assert!(bland_altman(&[1.0, f64::NAN], &[1.0, 2.0]).is_err());
    assert!(cohen_kappa(&[1, 1], &[1, 1], KappaWeights::Unweighted).is_err());
    assert!(roc_auc_delong(&[true, false], &[0.1, 0.2]).is_err());
    assert!(wilson(3, 2).is_err());
}

#[test]
fn bootstrap_is_deterministic_and_sane() {
    let x: Vec<f64> = (0..40).map(|i| ((i * 37) % 11) as f64).collect();
    let o = BootstrapOptions {
        resamples: 500,
        confidence: 0.95,
        seed: 9,
    };
    let a = bootstrap_mean(&x, &o).unwrap();
    let b = bootstrap_mean(&x, &o).unwrap();
    assert_eq!(a, b);
    let mean = x.iter().sum::<f64>() / 40.0;
    assert_eq!(a.value, mean);
    assert!(a.ci_lower < mean && mean < a.ci_upper);
    // Width close to the normal approximation 2·1.96·sd/√n (within 25 %).
    let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 39.0).sqrt();
    let w = 2.0 * 1.96 * sd / 40f64.sqrt();
    assert!(((a.ci_upper - a.ci_lower) / w - 1.0).abs() < 0.25);
    let c = bootstrap_mean(&x, &BootstrapOptions { seed: 10, ..o }).unwrap();
    assert_ne!(a.ci_lower, c.ci_lower);
    // A constant statistic has a zero-width interval; NaN resamples are dropped.
    let k = bootstrap_ci(10, |idx| if idx[0] == 0 { f64::NAN } else { 1.0 }, &o).unwrap();
    assert_eq!((k.ci_lower, k.ci_upper), (1.0, 1.0));
    assert!(k.resamples_used < 500);
}
