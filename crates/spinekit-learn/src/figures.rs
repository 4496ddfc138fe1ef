//! Report figures of a model (built with `spinekit-plot`): ROC curves and reliability diagrams of out-of-fold
//! probabilities, SHAP waterfalls per patient and global importance.

use crate::metrics::{calibration_bins, roc_points, AucReport};
use crate::model::Explanation;
use spinekit_plot::{
    calibration_plot, horizontal_bars, roc_curve, waterfall, CalibrationBin, Chart, Colour, Series,
};

/// Equal-width probability bins of the reliability diagrams.
pub const CALIBRATION_BINS: usize = 10;

/// ROC curve(s) of out-of-fold probabilities: the positive class for two classes, one-vs-rest per class otherwise,
/// with the AUC and its CI written on the plot.
pub fn roc_chart(
    y: &[usize],
    proba: &[Vec<f64>],
    classes: &[String],
    positive: usize,
    auc: &AucReport,
) -> Chart {
    let text = format!(
        "AUC {:.3} (95 % CI {:.3}–{:.3}, {})",
        auc.value, auc.ci_lower, auc.ci_upper, auc.ci_method
    );
    let curve = |c: usize| {
        let truth: Vec<bool> = y.iter().map(|&v| v == c).collect();
        let s: Vec<f64> = proba
            .iter()
            .map(|p| p.get(c).copied().unwrap_or(f64::NAN))
            .collect();
        roc_points(&truth, &s)
    };
    if classes.len() == 2 {
        let mut chart = roc_curve(&curve(positive), &text);
        chart.title = format!("ROC curve: {} (out-of-fold)", classes[positive]);
        return chart;
    }
    let mut chart = roc_curve(&curve(0), &format!("macro one-vs-rest {text}"));
    chart.title = "ROC curves, one class vs the rest (out-of-fold)".into();
    chart.series[0].name = classes[0].clone();
    for (c, name) in classes.iter().enumerate().skip(1) {
        let colour = Colour::PALETTE[c % Colour::PALETTE.len()];
        chart
            .series
            .push(Series::line(name.clone(), curve(c)).colour(colour));
    }
    chart
}

/// Reliability diagrams: one for the positive class (two classes) or one per class (more), named by class.
pub fn calibration_charts(
    y: &[usize],
    proba: &[Vec<f64>],
    classes: &[String],
    positive: usize,
) -> Vec<(String, Chart)> {
    let which: Vec<usize> = if classes.len() == 2 {
        vec![positive]
    } else {
        (0..classes.len()).collect()
    };
    which
        .into_iter()
        .map(|c| {
            let truth: Vec<bool> = y.iter().map(|&v| v == c).collect();
            let p: Vec<f64> = proba
                .iter()
                .map(|r| r.get(c).copied().unwrap_or(f64::NAN))
                .collect();
            let bins: Vec<CalibrationBin> = calibration_bins(&truth, &p, CALIBRATION_BINS)
                .into_iter()
                .map(|b| CalibrationBin {
                    mean_predicted: b.mean_predicted,
                    observed: b.observed,
                    n: b.n,
                    ci: Some((b.ci_lower, b.ci_upper)),
                })
                .collect();
            let mut chart = calibration_plot(&bins);
            chart.title = format!("Calibration: P({}) (out-of-fold)", classes[c]);
            chart.x_axis.label = format!("mean predicted P({})", classes[c]);
            chart.y_axis.label = format!("observed fraction {}", classes[c]);
            (classes[c].clone(), chart)
        })
        .collect()
}

/// SHAP waterfall of one explained row on one margin. `labels[c]` names column `c` for this row, usually
/// "column = value".
pub fn waterfall_chart(
    e: &Explanation,
    row: usize,
    margin: usize,
    labels: &[String],
    title: &str,
) -> Chart {
    let r = &e.rows[row];
    let contributions: Vec<(String, f64)> = e
        .columns
        .iter()
        .enumerate()
        .map(|(c, name)| {
            (
                labels.get(c).cloned().unwrap_or_else(|| name.clone()),
                r.columns[margin][c],
            )
        })
        .collect();
    let mut chart = waterfall(e.base[margin], &contributions, r.margin[margin]);
    chart.title = title.to_string();
    chart.x_axis.label = e.margins[margin].clone();
    chart
}

/// Mean |SHAP| per column on one margin, largest on top.
pub fn importance_chart(e: &Explanation, margin: usize) -> Chart {
    let mut items: Vec<(String, f64)> = e
        .columns
        .iter()
        .cloned()
        .zip(e.importance[margin].iter().copied())
        .collect();
    items.sort_by(|a, b| b.1.total_cmp(&a.1));
    horizontal_bars(
        &format!("Global importance ({})", e.margins[margin]),
        &format!("mean |SHAP| on the {} scale", e.margins[margin]),
        &items,
    )
}
