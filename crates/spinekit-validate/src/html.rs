//! Self-contained `validation.html`: tables with confidence intervals and inline SVG plots (no scripts, no
//! external files), so the report opens anywhere and can be archived as one file.

use crate::agreement::Estimate;
use crate::bootstrap::BootstrapCi;
use crate::workflow::{MeasurementSummary, Report, TaskResults};
use std::fmt::Write;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4}")
    } else {
        "–".into()
    }
}

fn ci(v: &BootstrapCi) -> String {
    format!(
        "{} ({} – {})",
        num(v.value),
        num(v.ci_lower),
        num(v.ci_upper)
    )
}

fn est(v: &Estimate) -> String {
    format!(
        "{} ({} – {})",
        num(v.value),
        num(v.ci_lower),
        num(v.ci_upper)
    )
}

fn opt<T>(v: &Option<T>, f: impl Fn(&T) -> String) -> String {
    v.as_ref().map(f).unwrap_or_else(|| "–".into())
}

fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table><tr>");
    for h in head {
        let _ = write!(s, "<th>{}</th>", esc(h));
    }
    s.push_str("</tr>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{}</td>", esc(c));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}

/// A scatter plot with optional horizontal lines (value, colour, label) and polyline, as inline SVG.
struct Plot<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    points: &'a [(f64, f64)],
    hlines: Vec<(f64, &'a str, String)>,
    line: Option<&'a [(f64, f64)]>,
    fixed: Option<(f64, f64, f64, f64)>,
}

impl Plot<'_> {
    fn svg(&self) -> String {
        let (w, h, m) = (420.0, 300.0, 50.0);
        let (mut x0, mut x1, mut y0, mut y1) = self.fixed.unwrap_or((
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ));
        if self.fixed.is_none() {
            for &(x, y) in self.points {
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
            for (v, _, _) in &self.hlines {
                y0 = y0.min(*v);
                y1 = y1.max(*v);
            }
            let (px, py) = (0.05 * (x1 - x0).max(1e-9), 0.08 * (y1 - y0).max(1e-9));
            (x0, x1, y0, y1) = (x0 - px, x1 + px, y0 - py, y1 + py);
        }
        if !(x0.is_finite() && x1.is_finite() && y0.is_finite() && y1.is_finite()) {
            return String::new();
        }
        let sx = |x: f64| m + (x - x0) / (x1 - x0) * (w - 1.5 * m);
        let sy = |y: f64| h - m - (y - y0) / (y1 - y0) * (h - 1.6 * m);
        let mut s = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img"><title>{t}</title><rect x="{m}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/><text x="{cx}" y="16" text-anchor="middle" font-size="13">{t}</text><text x="{cx}" y="{bl}" text-anchor="middle" font-size="11">{xl}</text><text x="12" y="{cy}" font-size="11" transform="rotate(-90 12 {cy})" text-anchor="middle">{yl}</text>"##,
            t = esc(self.title),
            top = 0.6 * m,
            pw = w - 1.5 * m,
            ph = h - 1.6 * m,
            cx = w / 2.0,
            bl = h - 12.0,
            cy = h / 2.0,
            xl = esc(self.x_label),
            yl = esc(self.y_label),
        );
        for (v, a) in [(x0, "start"), (x1, "end")] {
            let _ = write!(
                s,
                r#"<text x="{}" y="{}" font-size="10" text-anchor="{a}">{}</text>"#,
                sx(v),
                h - m + 14.0,
                num(v)
            );
        }
        for v in [y0, y1] {
            let _ = write!(
                s,
                r#"<text x="{}" y="{}" font-size="10" text-anchor="end">{}</text>"#,
                m - 3.0,
                sy(v) + 3.0,
                num(v)
            );
        }
        for (v, colour, label) in &self.hlines {
            let _ = write!(
                s,
                r#"<line x1="{m}" x2="{}" y1="{y}" y2="{y}" stroke="{colour}" stroke-dasharray="4 3"/><text x="{}" y="{}" font-size="10" fill="{colour}" text-anchor="end">{}</text>"#,
                w - 0.5 * m,
                w - 0.5 * m - 2.0,
                sy(*v) - 3.0,
                esc(label),
                y = sy(*v)
            );
        }
        if let Some(line) = self.line {
            let pts: Vec<String> = line
                .iter()
                .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
                .collect();
            let _ = write!(
                s,
                r##"<polyline fill="none" stroke="#c0392b" stroke-width="2" points="{}"/>"##,
                pts.join(" ")
            );
        } else {
            for &(x, y) in self.points {
                let _ = write!(
                    s,
                    r##"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="#2c6fbb" fill-opacity="0.7"/>"##,
                    sx(x),
                    sy(y)
                );
            }
        }
        s.push_str("</svg>");
        s
    }
}

fn bland_altman_svg(m: &MeasurementSummary) -> String {
    let Some(ba) = &m.bland_altman else {
        return String::new();
    };
    let pts: Vec<(f64, f64)> = m
        .pairs
        .iter()
        .map(|&(r, p)| ((r + p) / 2.0, p - r))
        .collect();
    Plot {
        title: &format!("Bland–Altman: {}", m.name),
        x_label: "mean of prediction and reference",
        y_label: "prediction − reference",
        points: &pts,
        hlines: vec![
            (
                ba.bias.value,
                "#333",
                format!("bias {}", num(ba.bias.value)),
            ),
            (
                ba.loa_lower.value,
                "#c0392b",
                format!("−1.96 SD {}", num(ba.loa_lower.value)),
            ),
            (
                ba.loa_upper.value,
                "#c0392b",
                format!("+1.96 SD {}", num(ba.loa_upper.value)),
            ),
        ],
        line: None,
        fixed: None,
    }
    .svg()
}

/// The report as one HTML page.
pub fn render(r: &Report) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>spinekit validation</title><style>\
body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right;font-variant-numeric:tabular-nums}}th{{background:#f2f2f2}}\
td:first-child{{text-align:left}}.note{{color:#555;font-size:90%}}svg{{margin:0.5em 1em 0.5em 0}}\
</style></head><body><h1>spinekit validation: {}</h1><p class=\"note\">{} · schema {} · {} paired cases · prediction <code>{}</code> · reference <code>{}</code>. \
Research software, not a medical device. Intervals are 95 %; bootstrap: {} resamples, seed {}.</p>",
        esc(&format!("{:?}", r.task).to_lowercase()),
        esc(&r.software),
        esc(r.schema),
        r.paired_cases,
        esc(&r.pred),
        esc(&r.reference),
        r.bootstrap.resamples,
        r.bootstrap.seed
    );
    if !r.warnings.is_empty() {
        b.push_str("<h2>Warnings</h2><ul>");
        for w in &r.warnings {
            let _ = write!(b, "<li>{}</li>", esc(w));
        }
        b.push_str("</ul>");
    }
    match &r.results {
        TaskResults::Segmentation(s) => {
            let _ = write!(
                b,
                "<h2>Summary</h2><p>Mean Dice over cases: <b>{}</b></p>",
                esc(&ci(&s.mean_dice))
            );
            let rows: Vec<Vec<String>> = s
                .per_label
                .iter()
                .map(|l| {
                    vec![
                        l.label.to_string(),
                        l.cases.to_string(),
                        ci(&l.dice),
                        ci(&l.jaccard),
                        opt(&l.hd95_mm, ci),
                        opt(&l.assd_mm, ci),
                    ]
                })
                .collect();
            b.push_str("<h2>Per label (mean over cases, bootstrap 95 % CI)</h2>");
            b.push_str(&table(
                &["label", "cases", "Dice", "Jaccard", "HD95 mm", "ASSD mm"],
                &rows,
            ));
            b.push_str("<h2>Worst cases (lowest mean Dice)</h2>");
            let rows: Vec<Vec<String>> = s
                .worst_cases
                .iter()
                .filter_map(|w| s.cases.iter().find(|c| &c.case == w))
                .map(|c| {
                    let worst = c.labels.iter().min_by(|a, b| a.dice.total_cmp(&b.dice));
                    vec![
                        c.case.clone(),
                        num(c.mean_dice),
                        worst
                            .map(|l| format!("{} (Dice {})", l.counts.label, num(l.dice)))
                            .unwrap_or_default(),
                    ]
                })
                .collect();
            b.push_str(&table(&["case", "mean Dice", "worst label"], &rows));
        }
        TaskResults::Labelling(l) => {
            let _ = write!(
                b,
                "<h2>Summary</h2><p>Identification rate, pooled over levels (Wilson CI): <b>{}</b><br>Mean per-case rate (bootstrap CI): <b>{}</b><br>Mean localisation error mm: <b>{}</b></p>",
                esc(&est(&l.pooled_identification_rate)),
                esc(&ci(&l.mean_identification_rate)),
                esc(&opt(&l.mean_localisation_mm, ci))
            );
            let rows: Vec<Vec<String>> = l
                .cases
                .iter()
                .map(|c| {
                    let id = &c.identification;
                    vec![
                        c.case.clone(),
                        format!("{}/{}", id.identified_levels, id.reference_levels),
                        num(id.rate),
                        opt(&id.mean_localisation_mm, |v| num(*v)),
                    ]
                })
                .collect();
            b.push_str(&table(
                &["case", "identified", "rate", "localisation mm"],
                &rows,
            ));
        }
        TaskResults::Measurements(m) => {
            if let Some(s) = &m.smape_percent {
                let _ = write!(
                    b,
                    "<h2>Summary</h2><p>SMAPE (AASCE) %: <b>{}</b></p>",
                    esc(&ci(s))
                );
            }
            let rows: Vec<Vec<String>> = m
                .measurements
                .iter()
                .map(|x| {
                    vec![
                        x.name.clone(),
                        x.n.to_string(),
                        ci(&x.mae),
                        opt(&x.bland_altman, |b| est(&b.bias)),
                        opt(&x.bland_altman, |b| est(&b.loa_lower)),
                        opt(&x.bland_altman, |b| est(&b.loa_upper)),
                        opt(&x.icc, |i| est(&i.icc2_1)),
                        opt(&x.icc, |i| est(&i.icc3_1)),
                    ]
                })
                .collect();
            b.push_str("<h2>Measurements</h2>");
            b.push_str(&table(
                &[
                    "measurement",
                    "n",
                    "MAE",
                    "bias",
                    "lower LoA",
                    "upper LoA",
                    "ICC(2,1)",
                    "ICC(3,1)",
                ],
                &rows,
            ));
            for x in &m.measurements {
                b.push_str(&bland_altman_svg(x));
            }
            let _ = write!(
                b,
                "<h2>Worst cases (largest summed absolute error)</h2><p>{}</p>",
                esc(&m.worst_cases.join(", "))
            );
        }
        TaskResults::Classification(c) => {
            let mut rows = Vec::new();
            if let Some(a) = &c.auc {
                rows.push(vec!["ROC AUC (DeLong)".to_string(), est(&a.auc)]);
            }
            if let Some(bn) = &c.binary {
                rows.push(vec![
                    "sensitivity (Wilson)".into(),
                    opt(&bn.sensitivity, est),
                ]);
                rows.push(vec![
                    "specificity (Wilson)".into(),
                    opt(&bn.specificity, est),
                ]);
                rows.push(vec![
                    "TP / FP / TN / FN".into(),
                    format!("{} / {} / {} / {}", bn.tp, bn.fp, bn.tn, bn.fn_),
                ]);
            }
            if let Some(a) = &c.accuracy {
                rows.push(vec!["accuracy (Wilson)".into(), est(a)]);
            }
            for (k, v) in [
                ("kappa", &c.kappa_unweighted),
                ("kappa linear", &c.kappa_linear),
                ("kappa quadratic", &c.kappa_quadratic),
            ] {
                if let Some(v) = v {
                    rows.push(vec![format!("{k} (bootstrap)"), ci(v)]);
                }
            }
            b.push_str("<h2>Classification</h2>");
            b.push_str(&table(&["metric", "value (95 % CI)"], &rows));
            if !c.roc_points.is_empty() {
                b.push_str(
                    &Plot {
                        title: "ROC",
                        x_label: "1 − specificity",
                        y_label: "sensitivity",
                        points: &c.roc_points,
                        hlines: Vec::new(),
                        line: Some(&c.roc_points),
                        fixed: Some((0.0, 1.0, 0.0, 1.0)),
                    }
                    .svg(),
                );
            }
            if !c.worst_cases.is_empty() {
                let _ = write!(
                    b,
                    "<h2>Misclassified cases</h2><p>{}</p>",
                    esc(&c.worst_cases.join(", "))
                );
            }
        }
    }
    b.push_str("<h2>Definitions</h2><table>");
    for (k, v) in &r.definitions {
        let _ = write!(
            b,
            "<tr><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
            esc(k),
            esc(v)
        );
    }
    b.push_str("</table></body></html>\n");
    b
}
