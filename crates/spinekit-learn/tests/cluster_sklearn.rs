//! Clustering against scikit-learn 1.9 on a synthetic fixture (compare/cluster_fixture.py wrote both files):
//! preprocessing, Ward labels (up to renumbering) and silhouettes, deterministic Lloyd k-means from fixed
//! centers (labels, inertia, centers), to 1e-9.

use spinekit_learn::cluster::{
    cluster_inputs, cluster_table, kmeans, kmeans_from, silhouette, ward, ClusterMethod,
    ClusterOptions,
};
use spinekit_learn::{ReadOptions, Table};
use std::path::Path;

fn fixture() -> (Table, serde_json::Value) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let t = Table::read(&dir.join("cluster_data.csv"), &ReadOptions::default()).unwrap();
    let e: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("cluster_expected.json")).unwrap()).unwrap();
    (t, e)
}

fn cols() -> Vec<String> {
    ["x1", "x2", "x3", "group"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn as_usize(v: &serde_json::Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

/// Labels equal up to a renaming of clusters.
fn same_partition(a: &[usize], b: &[usize]) -> bool {
    let mut map = std::collections::HashMap::new();
    let mut back = std::collections::HashMap::new();
    a.iter()
        .zip(b)
        .all(|(x, y)| *map.entry(*x).or_insert(*y) == *y && *back.entry(*y).or_insert(*x) == *x)
}

#[test]
fn inputs_match_sklearn_column_transformer() {
    let (t, e) = fixture();
    let (x, names) = cluster_inputs(&t, &cols()).unwrap();
    assert_eq!(
        names,
        vec!["x1", "x2", "x3", "group=a", "group=b", "group=c"]
    );
    let want: Vec<f64> = e["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()))
        .collect();
    assert_eq!(x.data.len(), want.len());
    for (a, b) in x.data.iter().zip(&want) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

#[test]
fn ward_and_silhouette_match_sklearn() {
    let (t, e) = fixture();
    let (x, _) = cluster_inputs(&t, &cols()).unwrap();
    let tree = ward(&x).unwrap();
    for k in 2..=5 {
        let want = &e["ward"][k.to_string()];
        let labels = tree.cut(k);
        assert!(
            same_partition(&labels, &as_usize(&want["labels"])),
            "k = {k}"
        );
        let s = silhouette(&x, &labels);
        assert!(
            (s - want["silhouette"].as_f64().unwrap()).abs() < 1e-9,
            "k = {k}: {s}"
        );
    }
}

#[test]
fn lloyd_from_fixed_centers_matches_sklearn() {
    let (t, e) = fixture();
    let (x, _) = cluster_inputs(&t, &cols()).unwrap();
    for k in 2..=5 {
        let want = &e["kmeans"][k.to_string()];
        let init: Vec<Vec<f64>> = (0..k).map(|i| x.row(i).to_vec()).collect();
        let r = kmeans_from(&x, &init, 300);
        assert_eq!(r.labels, as_usize(&want["labels"]), "k = {k}");
        assert!(
            (r.inertia - want["inertia"].as_f64().unwrap()).abs() < 1e-9,
            "k = {k}"
        );
        for (c, row) in want["centers"].as_array().unwrap().iter().enumerate() {
            for (j, v) in row.as_array().unwrap().iter().enumerate() {
                assert!((r.centers[c][j] - v.as_f64().unwrap()).abs() < 1e-9);
            }
        }
        let s = silhouette(&x, &r.labels);
        assert!((s - want["silhouette"].as_f64().unwrap()).abs() < 1e-9);
    }
    // k-means++ with restarts does at least as well as sklearn's single fixed start.
    let best = kmeans(&x, 3, 10, 42, 300).unwrap();
    assert!(best.inertia <= e["kmeans"]["3"]["inertia"].as_f64().unwrap() + 1e-9);
}

#[test]
fn cluster_table_picks_k_by_silhouette_and_profiles() {
    let (t, e) = fixture();
    for method in [ClusterMethod::Agglomerative, ClusterMethod::KMeans] {
        let opts = ClusterOptions {
            method,
            k_min: 2,
            k_max: 5,
            ..Default::default()
        };
        let all = t.column_names();
        let r = cluster_table(&t, &cols()[..3], &all, &opts).unwrap();
        assert_eq!(r.silhouette_by_k.len(), 4);
        let best = r
            .silhouette_by_k
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap()
            .0;
        assert_eq!(r.chosen_k, best);
        assert_eq!(r.profiles.len(), r.chosen_k);
        assert_eq!(r.profiles.iter().map(|p| p.n).sum::<usize>(), 34);
        // clusters numbered by decreasing size
        assert!(r.profiles.windows(2).all(|w| w[0].n >= w[1].n));
        // the one missing x2 is counted
        let missing: usize = r.profiles.iter().map(|p| p.numeric[1].n_missing).sum();
        assert_eq!(missing, 1);
        assert_eq!(r.profiles[0].categorical[0].column, "group");
        let csv = r.profile_csv();
        assert!(csv.starts_with("cluster,n,column,kind"));
        assert_eq!(
            csv.lines().filter(|l| l.contains(",numeric,")).count(),
            3 * r.chosen_k
        );
        if method == ClusterMethod::Agglomerative {
            // same silhouettes as sklearn's Ward on numeric columns only is not in the fixture; check k = 3 exists
            assert!(r.silhouette_by_k.iter().any(|(k, _)| *k == 3));
        }
    }
    let _ = e;
    let bad = ClusterOptions {
        k_min: 1,
        ..Default::default()
    };
    assert!(cluster_table(&t, &cols(), &[], &bad).is_err());
    let err =
        cluster_table(&t, &["nope".to_string()], &[], &ClusterOptions::default()).unwrap_err();
    assert!(err.to_string().contains("'nope' is not in the table"));
}
