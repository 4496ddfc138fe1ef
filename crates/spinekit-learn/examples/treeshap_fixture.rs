//! Writes the TreeSHAP fixture: a boosted ensemble trained on deterministic synthetic data
//! (`tests/fixtures/treeshap_model.json`, our serde format) and the rows to explain
//! (`tests/fixtures/treeshap_rows.json`). `compare/shap_fixture.py` then computes the `shap` package's values
//! into `tests/fixtures/treeshap_expected.json`, which `tests/treeshap_fixture.rs` compares with ours.

use rand::{Rng, SeedableRng};
use spinekit_learn::{BoostParams, Boosted, Matrix};

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let (n, p) = (200, 5);
    let mut data = Vec::with_capacity(n * p);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        // feature 3 is an integer code (ties), feature 4 pure noise
        let row = [
            rng.random_range(-2.0..2.0f64),
            rng.random_range(0.0..10.0f64),
            rng.random_range(-1.0..1.0f64),
            rng.random_range(0..4) as f64,
            rng.random_range(0.0..1.0f64),
        ];
        let z = 1.2 * row[0] - 0.3 * row[1]
            + 2.0 * row[0] * row[2]
            + 0.8 * (row[3] == 2.0) as u8 as f64
            + 1.0;
        y.push((rng.random::<f64>() < 1.0 / (1.0 + (-z).exp())) as usize);
        data.extend(row);
    }
    let x = Matrix {
        n_rows: n,
        n_cols: p,
        data,
    };
    let params = BoostParams {
        n_rounds: 12,
        max_depth: 4,
        learning_rate: 0.3,
        min_child_weight: 0.5,
        ..Default::default()
    };
    let model = Boosted::fit(&x, &y, 2, &vec![1.0; n], &params);
    let rows: Vec<Vec<f64>> = (0..40).map(|i| x.row(i).to_vec()).collect();
    std::fs::write(
        dir.join("treeshap_model.json"),
        serde_json::to_vec(&model).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("treeshap_rows.json"),
        serde_json::to_vec(&rows).unwrap(),
    )
    .unwrap();
}
