//! `spinekit analyze` end to end on a phantom (no shared data needed) and on the real CTs when present.

mod common;

use common::{lumbar_phantom, spinekit};
use spinekit_testdata::shared_data;
use std::path::Path;

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The report of a lumbar phantom carries every section, names the levels and embeds its pictures.
#[test]
fn analyze_phantom_writes_a_complete_report() {
    let dir = tempfile::tempdir().unwrap();
    let ph = lumbar_phantom(dir.path());
    let out = dir.path().join("report");
    let (code, stdout, err) = spinekit(&[
        "analyze",
        ph.join("ct.nii.gz").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--height-cm",
        "175",
        "--sex",
        "M",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("not a medical device"), "{stdout}");
    for f in ["report.json", "report.html", "labels.nii.gz"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let r = read_json(&out.join("report.json"));
    assert_eq!(r["schema"], "spinekit-report/2");
    let names: Vec<&str> = r["spine"]["vertebrae"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["level"].as_str().unwrap())
        .collect();
    for l in ["L1", "L3", "L5"] {
        assert!(names.contains(&l), "{l} not in {names:?}");
    }
    // Every vertebra's measurements and the L3 body composition are there (values or reasons).
    let m = r["measurements"]["vertebrae"].as_array().unwrap();
    assert_eq!(m.len(), names.len());
    let l3 = m.iter().find(|v| v["level"] == "L3").unwrap();
    let ant = l3["heights"]["value"]["anterior_mm"].as_f64().unwrap();
    assert!((15.0..40.0).contains(&ant), "L3 anterior height {ant}");
    assert!(
        r["body_composition"]["value"]["l3"].is_object(),
        "{}",
        r["body_composition"]
    );
    assert_eq!(r["patient"]["height_cm"], 175.0);
    assert!(!r["findings"].as_array().unwrap().is_empty());
    assert!(r["provenance"]["total_ms"].as_f64().unwrap() > 0.0);

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.matches("not a medical device").count() >= 2);
    assert!(
        html.matches("data:image/png;base64,").count() >= 3,
        "pictures missing"
    );
    assert!(html.contains(">L3</text>"), "level names not drawn");
    assert!(html.contains("<svg"), "HU plot missing");
}

/// Bad input: implausible patient data and non-CT input stop with one line and a distinct status.
#[test]
fn analyze_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let (code, _, err) = spinekit(&[
        "analyze",
        "nowhere.nii.gz",
        "-o",
        out.to_str().unwrap(),
        "--height-cm",
        "400",
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("height"), "{err}");
    assert!(!out.exists());
    if let Some(mr) = shared_data("mr-totalseg-example/mr.nii.gz") {
        let (code, _, err) =
            spinekit(&["analyze", mr.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert_eq!(code, 3, "{err}");
        assert!(!out.join("report.json").exists());
    }
}

/// The real abdominal CT: the report runs end to end and its numbers are plausible.
#[test]
fn analyze_ircadb_end_to_end() {
    let Some(p) = shared_data("ct-ircadb-01/PATIENT_DICOM") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let (code, _, err) = spinekit(&["analyze", p.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let r = read_json(&out.join("report.json"));
    let m = r["measurements"]["vertebrae"].as_array().unwrap();
    assert!(m.len() >= 4);
    for v in m {
        if let Some(h) = v["trabecular_roi"]["value"]["mean_hu"].as_f64() {
            assert!(
                (30.0..400.0).contains(&h),
                "{} trabecular {h} HU",
                v["level"]
            );
        }
    }
    // No height given: the muscle index must say why instead of a number.
    let smi = &r["body_composition"]["value"]["l3"]["skeletal_muscle_index_cm2_per_m2"];
    assert!(smi.to_string().contains("height"), "{smi}");
}
