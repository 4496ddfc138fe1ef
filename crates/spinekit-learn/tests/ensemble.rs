//! The logistic + boosted-trees ensemble (margin averaging) on synthetic tables (no shared data): its margins are
//! the weighted sum of its separately fitted members, its SHAP values are additive on every row, it survives the
//! JSON round trip, and the inner CV scores an ensemble at weight 1 exactly as the plain logistic model.

use spinekit_learn::*;

/// 150 rows, three classes; class depends on `a` and on an `a·b` interaction, `site` is categorical, some
/// values missing.
fn table(n_classes: usize) -> Table {
    let mut csv = String::from("a,b,site,y\n");
    for i in 0..150u64 {
        let h = (i.wrapping_mul(2654435761) % 1000) as f64 / 1000.0;
        let g = (i.wrapping_mul(40503) % 997) as f64 / 997.0;
        let a = 4.0 * h - 2.0;
        let b = 4.0 * g - 2.0;
        let z = a + 1.5 * (a * b).tanh() + 0.7 * ((i % 5) as f64 / 5.0 - 0.4);
        let y = if n_classes == 2 {
            (z > 0.0) as usize
        } else if z < -0.8 {
            0
        } else if z < 0.8 {
            1
        } else {
            2
        };
        let a_txt = if i % 31 == 3 {
            String::new()
        } else {
            format!("{a:.4}")
        };
        let site = ["A", "B"][(i % 2) as usize];
        csv.push_str(&format!("{a_txt},{b:.4},{site},c{y}\n"));
    }
    Table::parse(&csv, &ReadOptions::default()).unwrap()
}

fn half_half() -> ModelSpec {
    ModelSpec::Ensemble(EnsembleParams {
        logistic: LogisticParams {
            l2: 1e-2,
            ..Default::default()
        },
        boosted: BoostParams {
            n_rounds: 40,
            max_depth: 2,
            ..Default::default()
        },
        weight_logistic: 0.5,
    })
}

#[test]
fn ensemble_is_the_weighted_sum_of_its_members_and_shap_is_additive() {
    for n_classes in [2, 3] {
        let t = table(n_classes);
        let ds = Dataset::from_table(&t, "y", None).unwrap();
        assert_eq!(ds.n_classes(), n_classes);
        let opts = TrainOptions {
            kind: ModelKind::Ensemble,
            grid: Some(vec![half_half()]),
            heavy_tail: HeavyTail::Off,
            ..Default::default()
        };
        let model = SavedModel::train(&ds, &opts).unwrap();
        let Model::Ensemble(e) = &model.fitted.model else {
            panic!("weight 0.5 must give a two-member ensemble")
        };
        // members fitted alone on the same inputs give the same margins
        let rows: Vec<usize> = (0..ds.n_rows()).collect();
        let x = model.fitted.preprocessor.transform(&ds.features, &rows);
        let w = vec![1.0; rows.len()];
        let ModelSpec::Ensemble(p) = half_half() else {
            unreachable!()
        };
        let lo = Logistic::fit(&x, &ds.y, n_classes, &w, &p.logistic);
        let bo = Boosted::fit(&x, &ds.y, n_classes, &w, &p.boosted);
        assert!(e.logistic == lo && e.boosted == bo);
        let mut differs = 0.0f64;
        for i in 0..x.n_rows {
            let (ml, mb, me) = (
                lo.margins(x.row(i)),
                bo.margins(x.row(i)),
                e.margins(x.row(i)),
            );
            for r in 0..me.len() {
                assert!((me[r] - 0.5 * (ml[r] + mb[r])).abs() < 1e-12);
                differs = differs.max((ml[r] - mb[r]).abs());
            }
        }
        assert!(differs > 0.1, "members should disagree somewhere");
        // SHAP: additive on every row, and equal to the blend of the members' SHAP values
        let ex = model.explain(&t).unwrap();
        assert_eq!(ex.rows.len(), 150);
        for r in &ex.rows {
            for m in 0..ex.base.len() {
                let s_in: f64 = r.inputs[m].iter().sum();
                let s_col: f64 = r.columns[m].iter().sum();
                assert!((ex.base[m] + s_in - r.margin[m]).abs() < 1e-6);
                assert!((ex.base[m] + s_col - r.margin[m]).abs() < 1e-6);
            }
        }
        let row = 7;
        let xi = x.row(row);
        let mut phi_trees = vec![0.0; x.n_cols];
        for tr in &bo.trees[0] {
            shap::tree_shap(tr, xi, &mut phi_trees);
        }
        let phi_lin = shap::linear_shap(&lo.coef[0], &model.fitted.input_mean, xi);
        for j in 0..x.n_cols {
            let want = 0.5 * phi_lin[j] + 0.5 * phi_trees[j];
            assert!((ex.rows[row].inputs[0][j] - want).abs() < 1e-12);
        }
        // JSON round trip is exact and predictions agree
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ensemble.json");
        model.save(&path).unwrap();
        let back = SavedModel::load(&path).unwrap();
        assert!(back == model);
        assert!(back.predict_proba(&t).unwrap() == model.predict_proba(&t).unwrap());
    }
}

#[test]
fn inner_cv_scores_weight_one_as_plain_logistic_and_weight_zero_as_trees() {
    let t = table(3);
    let ds = Dataset::from_table(&t, "y", None).unwrap();
    let ModelSpec::Ensemble(p) = half_half() else {
        unreachable!()
    };
    let at = |w: f64| {
        ModelSpec::Ensemble(EnsembleParams {
            weight_logistic: w,
            ..p
        })
    };
    let grid = vec![
        ModelSpec::Logistic(p.logistic),
        ModelSpec::BoostedTrees(p.boosted),
        at(1.0),
        at(0.0),
        at(0.5),
    ];
    let opts = TrainOptions {
        kind: ModelKind::Ensemble,
        grid: Some(grid),
        heavy_tail: HeavyTail::Off,
        ..Default::default()
    };
    let rows: Vec<usize> = (0..ds.n_rows()).collect();
    let fit = fit_tuned(&ds, &rows, &opts).unwrap();
    let loss: Vec<f64> = fit.tuning.iter().map(|g| g.inner_log_loss).collect();
    assert_eq!(loss.len(), 5);
    assert_eq!(loss[0], loss[2]);
    assert_eq!(loss[1], loss[3]);
    assert!(loss.iter().all(|l| l.is_finite() && *l > 0.0));
    // log-loss is convex in the margins, so the 50/50 blend is no worse than the worse member
    assert!(loss[4] <= loss[0].max(loss[1]));
    // the chosen setting is the lowest inner loss, and weights 0 / 1 are saved as the single member
    let best = loss.iter().cloned().fold(f64::INFINITY, f64::min);
    let chosen = fit.tuning.iter().find(|g| g.spec == fit.spec).unwrap();
    assert_eq!(chosen.inner_log_loss, best);
    let x = fit.preprocessor.transform(&ds.features, &rows);
    let w = vec![1.0; rows.len()];
    assert!(matches!(
        Model::fit(&at(1.0), &x, &ds.y, 3, &w),
        Model::Logistic(_)
    ));
    assert!(matches!(
        Model::fit(&at(0.0), &x, &ds.y, 3, &w),
        Model::BoostedTrees(_)
    ));
}

#[test]
fn default_ensemble_grid_spans_both_families_and_all_weights() {
    let g = default_grid(ModelKind::Ensemble, Penalty::L2);
    let nl = default_grid(ModelKind::Logistic, Penalty::L2).len();
    let nb = default_grid(ModelKind::BoostedTrees, Penalty::L2).len();
    assert_eq!(g.len(), nl * nb * ENSEMBLE_WEIGHTS.len());
    for w in ENSEMBLE_WEIGHTS {
        assert!(g
            .iter()
            .any(|s| matches!(s, ModelSpec::Ensemble(e) if e.weight_logistic == w)));
    }
}

#[test]
fn outer_test_rows_never_reach_the_choices() {
    // Relabel the rows of outer fold 0: every choice made for fold 0 (preprocessing, hyper-parameters, heavy-tail
    // transform, ensemble weight) uses the other folds only, so fold 0's predictions must not move at all.
    let t = table(3);
    let ds = Dataset::from_table(&t, "y", None).unwrap();
    let folds = stratified_folds(&ds.y, 3, 5, 7).unwrap();
    let ModelSpec::Ensemble(p) = half_half() else {
        unreachable!()
    };
    let grid: Vec<ModelSpec> = [0.0, 0.5, 1.0]
        .into_iter()
        .map(|w| {
            ModelSpec::Ensemble(EnsembleParams {
                weight_logistic: w,
                ..p
            })
        })
        .collect();
    let opts = TrainOptions {
        kind: ModelKind::Ensemble,
        grid: Some(grid),
        ..Default::default()
    };
    let a = cross_validate(&ds, &opts, &folds).unwrap();
    let mut relabelled = ds.clone();
    for (i, y) in relabelled.y.iter_mut().enumerate() {
        if folds[i] == 0 {
            *y = (*y + 1) % 3;
        }
    }
    let b = cross_validate(&relabelled, &opts, &folds).unwrap();
    for (i, &f) in folds.iter().enumerate() {
        if f == 0 {
            assert!(a.proba[i] == b.proba[i], "row {i} moved");
        }
    }
    assert_eq!(a.chosen[0], b.chosen[0]);
    // ...while the other folds, trained on the relabelled rows, do change
    assert!((0..ds.n_rows()).any(|i| folds[i] != 0 && a.proba[i] != b.proba[i]));
}
