//! Self-contained `validation.html`: tables with confidence intervals and inline SVG plots (no scripts, no
//! external files), so the report opens anywhere and can be archived as one file.

use crate::agreement::Estimate;
use crate::bootstrap::BootstrapCi;
use crate::cases::PairedOn;
use crate::pictures::CasePictures;
use crate::workflow::{MeasurementSummary, Report, SegmentationCase, TaskResults};
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

/// Bland–Altman chart (spinekit-plot), inline SVG.
fn bland_altman_svg(m: &MeasurementSummary) -> String {
    let Some(ba) = &m.bland_altman else {
        return String::new();
    };
    let means: Vec<f64> = m.pairs.iter().map(|&(r, p)| (r + p) / 2.0).collect();
    let diffs: Vec<f64> = m.pairs.iter().map(|&(r, p)| p - r).collect();
    let mut chart = spinekit_plot::bland_altman(
        &diffs,
        &means,
        ba.bias.value,
        (ba.loa_lower.value, ba.loa_upper.value),
    );
    chart.title = format!("Bland–Altman: {}", m.name);
    chart.x_axis.label = "mean of prediction and reference".into();
    chart.y_axis.label = "prediction − reference".into();
    chart.to_svg(460, 320)
}

/// Reference, prediction and disagreement pictures of one case's worst slice.
fn case_pictures(c: &SegmentationCase) -> String {
    let (Some(d), Some(p)) = (&c.largest_disagreement, &c.pictures) else {
        return String::new();
    };
    let img = |png: &[u8], alt: &str| {
        format!(
            "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
            CasePictures::data_uri(png),
            esc(alt),
            esc(alt)
        )
    };
    format!(
        "<div class=\"case\"><h3>{}</h3><p class=\"note\">Mean Dice {}. Axial slice {} (voxel axis {}) has the most differing voxels: {} of {} in the whole volume.</p><div class=\"pics\">{}{}{}</div></div>",
        esc(&c.case),
        num(c.mean_dice),
        d.slice_index,
        d.voxel_axis,
        d.differing_voxels,
        d.differing_voxels_total,
        img(&p.reference_png, "reference"),
        img(&p.prediction_png, "prediction"),
        img(&p.difference_png, "disagreement: red = reference label missed or changed, green = extra predicted label"),
    )
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
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
.pics{{display:flex;gap:1em;flex-wrap:wrap}}figure{{margin:0}}figure img{{width:240px;image-rendering:pixelated;background:#000}}\
figcaption{{font-size:85%;color:#555;max-width:240px}}\
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
            let pics: String = s
                .worst_cases
                .iter()
                .filter_map(|w| s.cases.iter().find(|c| &c.case == w))
                .map(case_pictures)
                .collect();
            if !pics.is_empty() {
                b.push_str("<h2>Worst offenders: slice of largest disagreement</h2>");
                b.push_str(&pics);
            }
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
                let auc = c
                    .auc
                    .as_ref()
                    .map(|a| {
                        format!(
                            "AUC {} (95 % CI {} – {})",
                            num(a.auc.value),
                            num(a.auc.ci_lower),
                            num(a.auc.ci_upper)
                        )
                    })
                    .unwrap_or_default();
                b.push_str(&spinekit_plot::roc_curve(&c.roc_points, &auc).to_svg(420, 400));
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
    b.push_str("<h2>Cases</h2>");
    let by_uid = r
        .pairs
        .iter()
        .filter(|p| p.paired_on == PairedOn::Uid)
        .count();
    let _ = write!(
        b,
        "<p>{} paired ({} on a shared DICOM UID, {} by name). Unpaired prediction cases: {}. Unpaired reference cases: {}.</p>",
        r.pairs.len(),
        by_uid,
        r.pairs.len() - by_uid,
        esc(&list_or_none(&r.pred_only)),
        esc(&list_or_none(&r.reference_only))
    );
    if !r.acquisition.scanners.is_empty() || !r.acquisition.kernels.is_empty() {
        let _ = write!(
            b,
            "<p>Scanners: {}. Kernels: {}. kVp: {}.</p>",
            esc(&r.acquisition.scanner_text()),
            esc(&r.acquisition.kernel_text()),
            esc(&r.acquisition.kvp_text())
        );
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
