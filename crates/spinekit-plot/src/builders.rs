//! Ready-made report figures. Each returns a plain [`Chart`] whose fields (titles, axis labels, colours) the
//! caller may still change before rendering.

use crate::ticks::format_number;
use crate::{
    Anchor, Annotation, Axis, Band, Chart, Colour, Position, RangeBar, RefLine, Series, SeriesKind,
    Tick,
};

/// Waterfalls show at most this many rows; smaller contributions are summed into one "other features" row
/// (as the `shap` package does) so the picture stays legible.
pub const WATERFALL_MAX_ROWS: usize = 12;

/// One reliability-diagram bin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrationBin {
    /// Mean predicted probability of the cases in the bin.
    pub mean_predicted: f64,
    /// Observed fraction of positives in the bin.
    pub observed: f64,
    /// Number of cases in the bin (empty bins are skipped).
    pub n: usize,
    /// Optional confidence interval of `observed` (e.g. Wilson 95 %).
    pub ci: Option<(f64, f64)>,
}

/// Three significant digits, true minus sign.
fn fmt3(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let mag = if v == 0.0 {
        0.0
    } else {
        v.abs().log10().floor()
    };
    let decimals = (2.0 - mag).clamp(0.0, 6.0) as usize;
    format_number(v, decimals)
}

fn fmt_signed(v: f64) -> String {
    let s = fmt3(v);
    if v > 0.0 {
        format!("+{s}")
    } else {
        s
    }
}

/// ROC curve from `(false-positive rate, true-positive rate)` points (sorted here; non-finite dropped), with
/// the chance diagonal and `auc_text` (e.g. "AUC 0.93 (95 % CI 0.90–0.96)") in the lower-right corner.
pub fn roc_curve(points: &[(f64, f64)], auc_text: &str) -> Chart {
    let mut pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let empty = pts.is_empty();
    let mut chart = Chart::new(
        "ROC curve",
        Axis::new("1 − specificity (false-positive rate)").range(0.0, 1.0),
        Axis::new("sensitivity (true-positive rate)").range(0.0, 1.0),
    )
    .series(Series::line("ROC", pts).colour(Colour::PALETTE[0]));
    // Without data the diagonal is left out so the chart says "no data".
    if !empty {
        chart = chart.series(
            Series::line("chance", vec![(0.0, 0.0), (1.0, 1.0)])
                .colour(Colour::GREY)
                .dashed(),
        );
    }
    if !auc_text.is_empty() && !empty {
        chart = chart
            .annotation(Annotation::new(Position::Plot(0.96, 0.08), auc_text).anchor(Anchor::End));
    }
    chart
}

/// Reliability diagram: observed fraction against mean predicted probability per bin, with optional CIs,
/// `n` beside each point, and the identity line.
pub fn calibration_plot(bins: &[CalibrationBin]) -> Chart {
    let used: Vec<&CalibrationBin> = bins
        .iter()
        .filter(|b| b.n > 0 && b.mean_predicted.is_finite() && b.observed.is_finite())
        .collect();
    let points: Vec<(f64, f64)> = used
        .iter()
        .map(|b| (b.mean_predicted, b.observed))
        .collect();
    let mut observed =
        Series::new("observed", SeriesKind::Scatter, points.clone()).colour(Colour::PALETTE[0]);
    if used.iter().any(|b| b.ci.is_some()) {
        observed = observed.y_intervals(
            used.iter()
                .map(|b| b.ci.unwrap_or((f64::NAN, f64::NAN)))
                .collect(),
        );
        observed.name = "observed (95 % CI)".into();
    }
    observed = observed.point_labels(used.iter().map(|b| format!("n={}", b.n)).collect());
    let mut chart = Chart::new(
        "Calibration",
        Axis::new("mean predicted probability").range(0.0, 1.0),
        Axis::new("observed fraction").range(0.0, 1.0),
    );
    // Without data the diagonal is left out so the chart says "no data".
    if !points.is_empty() {
        chart = chart.series(
            Series::line("perfect calibration", vec![(0.0, 0.0), (1.0, 1.0)])
                .colour(Colour::GREY)
                .dashed(),
        );
    }
    chart
        .series(Series::line("", points).colour(Colour::PALETTE[0]))
        .series(observed)
}

/// Bland–Altman plot: difference against mean per pair, bias line and limits of agreement `loa = (low, high)`.
/// Pairs beyond the shorter slice are ignored; non-finite pairs are skipped.
pub fn bland_altman(diffs: &[f64], means: &[f64], bias: f64, loa: (f64, f64)) -> Chart {
    let points: Vec<(f64, f64)> = means.iter().zip(diffs).map(|(&m, &d)| (m, d)).collect();
    Chart::new(
        "Bland–Altman",
        Axis::new("mean of the two measurements"),
        Axis::new("difference (A − B)"),
    )
    .series(Series::scatter("pairs", points).colour(Colour::PALETTE[0]))
    .hline(
        RefLine::new(bias, format!("bias {}", fmt3(bias)))
            .colour(Colour::BLACK)
            .solid(),
    )
    .hline(RefLine::new(loa.1, format!("upper LoA {}", fmt3(loa.1))).colour(Colour::RED))
    .hline(RefLine::new(loa.0, format!("lower LoA {}", fmt3(loa.0))).colour(Colour::RED))
}

/// SHAP waterfall (horizontal bars): starts at `base_value` (the expected model output), each feature's
/// contribution moves the running total (red up, blue down), ending at `output` (this patient's model output).
/// Largest |contribution| on top; beyond [`WATERFALL_MAX_ROWS`] rows the rest is summed into one row.
/// Names usually carry the patient's value, e.g. "degree_spondylolisthesis = 52.3".
pub fn waterfall<S: AsRef<str>>(base_value: f64, contributions: &[(S, f64)], output: f64) -> Chart {
    let mut items: Vec<(String, f64)> = contributions
        .iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(n, v)| (n.as_ref().to_string(), *v))
        .collect();
    items.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    if items.len() > WATERFALL_MAX_ROWS {
        let rest = items.split_off(WATERFALL_MAX_ROWS - 1);
        let sum: f64 = rest.iter().map(|r| r.1).sum();
        items.push((format!("{} other features", rest.len()), sum));
    }
    // Bottom row (y = 0) is the smallest contribution, applied first from the base value.
    items.reverse();
    let mut ranges = Vec::with_capacity(items.len());
    let mut ticks = Vec::with_capacity(items.len());
    let start = if base_value.is_finite() {
        base_value
    } else {
        0.0
    };
    let mut cum = start;
    let (mut lo, mut hi) = (start, start);
    for (row, (name, v)) in items.iter().enumerate() {
        let next = cum + v;
        ranges.push(RangeBar {
            y: row as f64,
            x0: cum,
            x1: next,
            colour: if *v >= 0.0 { Colour::RED } else { Colour::BLUE },
            label: fmt_signed(*v),
        });
        ticks.push(Tick::new(row as f64, name.clone()));
        lo = lo.min(next);
        hi = hi.max(next);
        cum = next;
    }
    if output.is_finite() {
        lo = lo.min(output);
        hi = hi.max(output);
    }
    let span = if hi > lo { hi - lo } else { 1.0 };
    let n_rows = items.len().max(1) as f64;
    let mut chart = Chart::new(
        "Contributions to this prediction (SHAP)",
        Axis::new("model output").range(lo - 0.2 * span, hi + 0.2 * span),
        Axis::new("").range(-0.7, n_rows - 0.3).ticks(ticks),
    );
    chart.ranges = ranges;
    chart.legend = false;
    if base_value.is_finite() {
        chart = chart.vline(RefLine::new(
            base_value,
            format!("E[f(x)] = {}", fmt3(base_value)),
        ));
    }
    if output.is_finite() {
        chart = chart
            .vline(RefLine::new(output, format!("f(x) = {}", fmt3(output))).colour(Colour::BLACK));
    }
    chart
}

/// Vertical bars, one per category (in the given order), value written above each bar, with optional
/// horizontal threshold bands (e.g. trabecular HU by vertebral level with osteoporosis/osteopenia bands).
/// A non-finite value leaves its category empty, labelled "n/a".
pub fn bars_by_category<S: AsRef<str>>(
    title: &str,
    value_label: &str,
    categories: &[(S, f64)],
    bands: Vec<Band>,
) -> Chart {
    let points: Vec<(f64, f64)> = categories
        .iter()
        .enumerate()
        .map(|(i, (_, v))| (i as f64, *v))
        .collect();
    let labels: Vec<String> = categories.iter().map(|(_, v)| fmt3(*v)).collect();
    let ticks: Vec<Tick> = categories
        .iter()
        .enumerate()
        .map(|(i, (n, _))| Tick::new(i as f64, n.as_ref()))
        .collect();
    let n = categories.len().max(1) as f64;
    let mut chart = Chart::new(
        title,
        Axis::new("").range(-0.5, n - 0.5).ticks(ticks),
        Axis::new(value_label),
    )
    .series(
        Series::bars("", points)
            .colour(Colour::PALETTE[0])
            .point_labels(labels),
    );
    chart.bands = bands;
    chart.legend = false;
    chart
}

/// Horizontal bars from zero, first item on top (e.g. global feature importance, mean |SHAP|), value written
/// beside each bar.
pub fn horizontal_bars<S: AsRef<str>>(title: &str, value_label: &str, items: &[(S, f64)]) -> Chart {
    let n = items.len();
    let points: Vec<(f64, f64)> = items
        .iter()
        .enumerate()
        .map(|(i, (_, v))| (*v, (n - 1 - i) as f64))
        .collect();
    let labels: Vec<String> = items.iter().map(|(_, v)| fmt3(*v)).collect();
    let ticks: Vec<Tick> = items
        .iter()
        .enumerate()
        .map(|(i, (name, _))| Tick::new((n - 1 - i) as f64, name.as_ref()))
        .collect();
    let finite: Vec<f64> = items
        .iter()
        .map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .collect();
    let lo = finite.iter().copied().fold(0.0_f64, f64::min);
    let hi = finite.iter().copied().fold(0.0_f64, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let x_lo = if lo < 0.0 { lo - 0.2 * span } else { 0.0 };
    let mut chart = Chart::new(
        title,
        Axis::new(value_label).range(x_lo, hi + 0.2 * span),
        Axis::new("")
            .range(-0.6, n.max(1) as f64 - 0.4)
            .ticks(ticks),
    )
    .series(
        Series::new("", SeriesKind::HBars, points)
            .colour(Colour::PALETTE[0])
            .point_labels(labels),
    );
    chart.legend = false;
    chart
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waterfall_ends_at_sum_and_caps_rows() {
        let contributions: Vec<(String, f64)> = (0..20)
            .map(|i| (format!("f{i}"), (i as f64 - 9.5) * 0.1))
            .collect();
        let sum: f64 = contributions.iter().map(|c| c.1).sum();
        let chart = waterfall(0.5, &contributions, 0.5 + sum);
        assert_eq!(chart.ranges.len(), WATERFALL_MAX_ROWS);
        let top = chart.ranges.last().unwrap();
        assert!((top.x1 - (0.5 + sum)).abs() < 1e-12);
        // Top row is the largest |contribution| (f0 or f19, both 0.95 in magnitude).
        let top_name = &chart.y_axis.ticks.last().unwrap().label;
        assert!(top_name == "f0" || top_name == "f19", "{top_name}");
        assert!(chart.y_axis.ticks[0].label.ends_with("other features"));
        assert_eq!(chart.ranges[0].x0, 0.5);
    }

    #[test]
    fn formatting_keeps_three_significant_digits() {
        assert_eq!(fmt3(0.12345), "0.123");
        assert_eq!(fmt3(123.45), "123");
        assert_eq!(fmt_signed(-1.5), "\u{2212}1.50");
        assert_eq!(fmt_signed(0.05), "+0.0500");
        assert_eq!(fmt3(f64::NAN), "n/a");
    }
}
