//! Our TreeSHAP against the `shap` package (0.51, `TreeExplainer` on the same ensemble in its dict model format,
//! tree_path_dependent): fixture written by `examples/treeshap_fixture.rs`, expected values by
//! `compare/shap_fixture.py`.

use spinekit_learn::shap::tree_shap;
use spinekit_learn::Boosted;

fn fixture(name: &str) -> serde_json::Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn treeshap_equals_shap_package() {
    let model: Boosted = serde_json::from_value(fixture("treeshap_model.json")).unwrap();
    let rows: Vec<Vec<f64>> = serde_json::from_value(fixture("treeshap_rows.json")).unwrap();
    let exp = fixture("treeshap_expected.json");
    let sv: Vec<Vec<f64>> = serde_json::from_value(exp["shap_values"].clone()).unwrap();
    let ev = exp["expected_value"].as_f64().unwrap();
    let base: f64 = model.base_margin[0]
        + model.trees[0]
            .iter()
            .map(|t| t.expected_value())
            .sum::<f64>();
    assert!((base - ev).abs() < 1e-9, "{base} vs {ev}");
    assert_eq!(rows.len(), sv.len());
    let mut worst = 0.0f64;
    for (x, want) in rows.iter().zip(&sv) {
        let mut phi = vec![0.0; x.len()];
        for t in &model.trees[0] {
            tree_shap(t, x, &mut phi);
        }
        for (a, b) in phi.iter().zip(want) {
            worst = worst.max((a - b).abs());
        }
        let total = base + phi.iter().sum::<f64>();
        assert!((total - model.margins(x)[0]).abs() < 1e-9);
    }
    assert!(worst < 1e-9, "max |ours − shap| = {worst}");
    // the fixture exercises the noise feature and repeated splits, not a trivial model
    assert!(sv.iter().any(|r| r[4].abs() > 1e-6));
}
