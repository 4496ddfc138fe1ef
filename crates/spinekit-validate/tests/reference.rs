//! Every metric against independent reference implementations (reference/reference.py: scikit-learn, scipy,
//! medpy, pingouin), to 1e-6. Regenerate with reference/check.sh.

use serde_json::Value;
use spinekit_image::{Geometry, Volume};
use spinekit_validate::*;
use std::collections::BTreeMap;

const TOL: f64 = 1e-6;

fn load(name: &str) -> Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("reference")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).expect("reference file")).expect("json")
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}
fn fv(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(f).collect()
}
fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= TOL,
        "{what}: got {got}, reference {want}"
    );
}
fn close_est(got: &Estimate, want: &Value, what: &str) {
    let w = fv(want);
    close(got.value, w[0], what);
    close(got.ci_lower, w[1], &format!("{what} CI lower"));
    close(got.ci_upper, w[2], &format!("{what} CI upper"));
}

fn volume(c: &Value, key: &str) -> Volume<u16> {
    let dims: Vec<usize> = c["dims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let s = fv(&c["spacing_mm"]);
    let o = fv(&c["origin_mm"]);
    let d: Vec<Vec<f64>> = c["direction"].as_array().unwrap().iter().map(fv).collect();
    let g = Geometry {
        origin_mm: [o[0], o[1], o[2]],
        spacing_mm: [s[0], s[1], s[2]],
        direction: [
            [d[0][0], d[0][1], d[0][2]],
            [d[1][0], d[1][1], d[1][2]],
            [d[2][0], d[2][1], d[2][2]],
        ],
    };
    let data: Vec<u16> = c[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u16)
        .collect();
    Volume::from_vec([dims[0], dims[1], dims[2]], g, data).unwrap()
}

#[test]
fn segmentation_matches_medpy() {
    let (fx, ex) = (load("fixtures.json"), load("expected.json"));
    let mut checked_surface = 0;
    for c in fx["segmentation"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let (pred, reference) = (volume(c, "pred"), volume(c, "ref"));
        let got = segmentation_metrics(&pred, &reference).unwrap();
        let want = ex["segmentation"][name].as_object().unwrap();
        assert_eq!(got.len(), want.len(), "{name}: labels");
        let centroids = label_centroids_mm(&reference);
        for m in &got {
            let w = &want[&m.counts.label.to_string()];
            let what = format!("{name} label {}", m.counts.label);
            close(m.dice, f(&w["dice"]), &format!("{what} Dice"));
            close(m.jaccard, f(&w["jaccard"]), &format!("{what} Jaccard"));
            match &m.surface {
                Some(s) => {
                    close(s.hd95_mm, f(&w["hd95_mm"]), &format!("{what} HD95"));
                    close(s.hd_mm, f(&w["hd_mm"]), &format!("{what} HD"));
                    close(s.assd_mm, f(&w["assd_mm"]), &format!("{what} ASSD"));
                    checked_surface += 1;
                }
                None => assert!(
                    w.get("hd95_mm").is_none(),
                    "{what}: surface distance expected"
                ),
            }
            if let Some(c) = w.get("ref_centroid_mm") {
                let c = fv(c);
                let g = centroids[&m.counts.label];
                for a in 0..3 {
                    close(g[a], c[a], &format!("{what} centroid"));
                }
            }
        }
    }
    assert!(checked_surface >= 7);
}

#[test]
fn agreement_matches_sklearn_and_formulas() {
    let (fx, ex) = (load("fixtures.json"), load("expected.json"));
    for c in fx["agreement"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let (p, r) = (fv(&c["pred"]), fv(&c["ref"]));
        let w = &ex["agreement"][name];
        close(mae(&p, &r).unwrap(), f(&w["mae"]), "MAE");
        let ba = bland_altman(&p, &r).unwrap();
        close_est(&ba.bias, &w["bland_altman"]["bias"], "bias");
        close(ba.sd_diff, f(&w["bland_altman"]["sd"]), "sd");
        close_est(&ba.loa_lower, &w["bland_altman"]["loa_lower"], "lower LoA");
        close_est(&ba.loa_upper, &w["bland_altman"]["loa_upper"], "upper LoA");
    }
}

#[test]
fn icc_matches_pingouin() {
    let (fx, ex) = (load("fixtures.json"), load("expected.json"));
    for c in fx["icc"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let ratings: Vec<Vec<f64>> = c["ratings"].as_array().unwrap().iter().map(fv).collect();
        let got = icc(&ratings).unwrap();
        close_est(
            &got.icc2_1,
            &ex["icc"][name]["icc2_1"],
            &format!("{name} ICC(2,1)"),
        );
        close_est(
            &got.icc3_1,
            &ex["icc"][name]["icc3_1"],
            &format!("{name} ICC(3,1)"),
        );
    }
}

#[test]
fn kappa_matches_sklearn() {
    let (fx, ex) = (load("fixtures.json"), load("expected.json"));
    for c in fx["kappa"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let a: Vec<i64> = c["a"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let b: Vec<i64> = c["b"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        for (w, key) in [
            (KappaWeights::Unweighted, "unweighted"),
            (KappaWeights::Linear, "linear"),
            (KappaWeights::Quadratic, "quadratic"),
        ] {
            close(
                cohen_kappa(&a, &b, w).unwrap(),
                f(&ex["kappa"][name][key]),
                &format!("{name} {key}"),
            );
        }
    }
}

#[test]
fn roc_matches_sklearn_and_delong() {
    let (fx, ex) = (load("fixtures.json"), load("expected.json"));
    for c in fx["roc"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let t: Vec<bool> = c["truth"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_bool().unwrap())
            .collect();
        let s = fv(&c["scores"]);
        let got = roc_auc_delong(&t, &s).unwrap();
        let w = &ex["roc"][name];
        close(got.auc.value, f(&w["sklearn_auc"]), "AUC vs sklearn");
        close(got.variance, f(&w["variance"]), "DeLong variance");
        close(got.auc.ci_lower, f(&w["ci_lower"]), "AUC CI lower");
        close(got.auc.ci_upper, f(&w["ci_upper"]), "AUC CI upper");
    }
}

#[test]
fn wilson_and_binary_match_scipy() {
    let (fx, ex) = (load("fixtures.json"), load("expected.json"));
    for (kn, w) in fx["wilson"]
        .as_array()
        .unwrap()
        .iter()
        .zip(ex["wilson"].as_array().unwrap())
    {
        let (k, n) = (kn[0].as_u64().unwrap(), kn[1].as_u64().unwrap());
        let got = wilson(k, n).unwrap();
        let w = fv(w);
        close(got.ci_lower, w[0], "Wilson lower");
        close(got.ci_upper, w[1], "Wilson upper");
    }
    for c in fx["binary"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let b = |k: &str| -> Vec<bool> {
            c[k].as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_bool().unwrap())
                .collect()
        };
        let got = sensitivity_specificity(&b("truth"), &b("pred")).unwrap();
        close_est(
            &got.sensitivity.unwrap(),
            &ex["binary"][name]["sensitivity"],
            "sensitivity",
        );
        close_est(
            &got.specificity.unwrap(),
            &ex["binary"][name]["specificity"],
            "specificity",
        );
    }
}

#[test]
fn smape_identification_percentile_match() {
    let (fx, ex) = (load("fixtures.json"), load("expected.json"));
    for c in fx["smape"].as_array().unwrap() {
        let rows = |k: &str| -> Vec<Vec<f64>> { c[k].as_array().unwrap().iter().map(fv).collect() };
        let (s, _) = smape_aasce(&rows("pred"), &rows("ref")).unwrap();
        close(s, f(&ex["smape"][c["name"].as_str().unwrap()]), "SMAPE");
    }
    for c in fx["identification"].as_array().unwrap() {
        let pts = |k: &str| -> BTreeMap<u16, [f64; 3]> {
            c[k].as_object()
                .unwrap()
                .iter()
                .map(|(l, v)| {
                    let v = fv(v);
                    (l.parse().unwrap(), [v[0], v[1], v[2]])
                })
                .collect()
        };
        let got = identification_rate(&pts("pred"), &pts("ref"), IDENTIFICATION_RADIUS_MM);
        let w = &ex["identification"][c["name"].as_str().unwrap()];
        close(got.rate, f(&w["rate"]), "identification rate");
        close(
            got.mean_localisation_mm.unwrap(),
            f(&w["mean_localisation_mm"]),
            "localisation",
        );
        assert_eq!(got.extra_predicted_levels, vec![42]);
    }
    let x = {
        let mut x = fv(&fx["percentile"]["x"]);
        x.sort_by(f64::total_cmp);
        x
    };
    for (q, w) in fv(&fx["percentile"]["q"]).iter().zip(fv(&ex["percentile"])) {
        close(
            spinekit_validate::stats::percentile_linear(&x, *q),
            w,
            "percentile",
        );
    }
}
