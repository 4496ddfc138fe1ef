//! `spinekit validate`: compare a tool's outputs with a site's own reference cases and write
//! `validation.json` + `validation.html` (metrics with 95 % confidence intervals and their definitions);
//! optionally append the run to the site's history database and check it for drift.

use crate::commands::ExitError;
use clap::Args;
use spinekit_validate::history::{
    parse_claim, read_claims, trend_text, trends, ControlOptions, History, RunRecord,
    MIN_BASELINE_RUNS,
};
use spinekit_validate::workflow::{
    run_validation, write_report, Task, TaskResults, ValidateOptions,
};
use spinekit_validate::BootstrapOptions;
use std::path::PathBuf;

/// Exit status when a drift alert is raised (a metric outside the site's control limits or worse than a claim).
pub const DRIFT_EXIT_CODE: u8 = 10;

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Folder (or single file) of predictions: label maps (.nii/.nii.gz/.mha/.mhd), DICOM SEG objects or DICOM
    /// folders (one case per file or sub-folder), centroid JSON, or measurement/classification CSV/JSON. Cases are
    /// paired with the reference on a shared DICOM UID (SEG: the segmented series; JSON: a SeriesInstanceUID or
    /// SOPInstanceUID field), else by file name.
    #[arg(long, required_unless_present = "show", requires = "reference")]
    pred: Option<PathBuf>,
    /// Folder (or single file) of reference cases.
    #[arg(long = "ref", required_unless_present = "show", requires = "pred")]
    reference: Option<PathBuf>,
    /// segmentation | labelling | measurements | classification (default: segmentation when the reference holds
    /// label maps or DICOM, else measurements).
    #[arg(long)]
    task: Option<Task>,
    /// Output folder for validation.json and validation.html.
    #[arg(short = 'o', long = "out", default_value = ".")]
    out: PathBuf,
    /// Resample predictions on another voxel grid onto the reference grid (nearest neighbour) instead of failing
    /// (always done when one side is a DICOM SEG).
    #[arg(long)]
    resample: bool,
    /// Bootstrap resamples for confidence intervals over cases.
    #[arg(long, default_value_t = 2000)]
    bootstrap: usize,
    /// Bootstrap seed (the same seed gives the same intervals).
    #[arg(long, default_value_t = 20_240_601)]
    seed: u64,
    /// Classification: score at or above which a case counts as positive when no predicted label is given.
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// Site history (SQLite file, created on first use): append this run (time UTC, software version, task,
    /// metrics, case count, scanner and kernel) and check it against the site's control limits and any claim.
    /// Exit status 10 when an alert is raised.
    #[arg(long, value_name = "DB")]
    history: Option<PathBuf>,
    /// Print every metric's trend (date, value, control limits, flags) from --history; with no --pred/--ref
    /// only the history is read.
    #[arg(long, requires = "history")]
    show: bool,
    /// Claimed performance, e.g. `--claim mean_dice=0.85` (repeatable): a run worse than it raises an alert.
    #[arg(long, value_name = "METRIC=VALUE", value_parser = parse_claim)]
    claim: Vec<(String, f64)>,
    /// Model card JSON with claims: {"claims": {"mean_dice": 0.85, "auc": 0.9}} (or "performance", or flat).
    #[arg(long, value_name = "JSON")]
    model_card: Option<PathBuf>,
    /// Runs per metric that set the control limits (individuals chart; at least 5).
    #[arg(long, default_value_t = MIN_BASELINE_RUNS)]
    baseline: usize,
}

pub fn validate(a: ValidateArgs) -> Result<(), Box<dyn std::error::Error>> {
    let mut appended = None;
    if let (Some(pred), Some(reference)) = (a.pred.clone(), a.reference.clone()) {
        let opts = ValidateOptions {
            pred,
            reference,
            task: a.task,
            bootstrap: BootstrapOptions {
                resamples: a.bootstrap,
                seed: a.seed,
                ..BootstrapOptions::default()
            },
            allow_resample: a.resample,
            threshold: a.threshold,
        };
        let report = run_validation(&opts)?;
        let (json, html) = write_report(&report, &a.out)?;
        print_summary(&report);
        println!("wrote {} and {}", json.display(), html.display());
        if let Some(db) = &a.history {
            let mut h = History::open(db)?;
            let id = h.append(&RunRecord::from_report(&report))?;
            println!("appended run {id} to {}", db.display());
            appended = Some(h);
        }
    }
    let Some(db) = &a.history else {
        return Ok(());
    };
    let h = match appended {
        Some(h) => h,
        None => History::open(db)?,
    };
    let mut claims = match &a.model_card {
        Some(p) => read_claims(p)?,
        None => Default::default(),
    };
    claims.extend(a.claim.iter().cloned());
    let runs = h.runs()?;
    let (charts, alerts) = trends(
        &runs,
        &ControlOptions {
            baseline_runs: a.baseline,
            claims,
        },
    )?;
    if a.show {
        println!("{} runs in {}", runs.len(), db.display());
        print!("{}", trend_text(&charts));
    }
    if alerts.is_empty() {
        println!("no drift alert on the latest run of any metric");
        return Ok(());
    }
    for al in &alerts {
        eprintln!("ALERT: {}", al.message);
    }
    Err(Box::new(ExitError {
        code: DRIFT_EXIT_CODE,
        message: format!(
            "{} drift alert(s) on the latest run (see above)",
            alerts.len()
        ),
    }))
}

fn print_summary(report: &spinekit_validate::workflow::Report) {
    println!("{} paired cases ({:?})", report.paired_cases, report.task);
    let f = |v: f64| format!("{v:.4}");
    match &report.results {
        TaskResults::Segmentation(s) => println!(
            "mean Dice {} (95% CI {} – {})",
            f(s.mean_dice.value),
            f(s.mean_dice.ci_lower),
            f(s.mean_dice.ci_upper)
        ),
        TaskResults::Labelling(l) => println!(
            "identification rate {} (95% CI {} – {})",
            f(l.pooled_identification_rate.value),
            f(l.pooled_identification_rate.ci_lower),
            f(l.pooled_identification_rate.ci_upper)
        ),
        TaskResults::Measurements(m) => {
            for x in &m.measurements {
                println!("{}: MAE {} (n = {})", x.name, f(x.mae.value), x.n);
            }
            if let Some(s) = &m.smape_percent {
                println!(
                    "SMAPE {} % (95% CI {} – {})",
                    f(s.value),
                    f(s.ci_lower),
                    f(s.ci_upper)
                );
            }
        }
        TaskResults::Classification(c) => {
            if let Some(a) = &c.auc {
                println!(
                    "AUC {} (95% CI {} – {})",
                    f(a.auc.value),
                    f(a.auc.ci_lower),
                    f(a.auc.ci_upper)
                );
            }
        }
    }
    if !report.pred_only.is_empty() || !report.reference_only.is_empty() {
        println!(
            "unpaired: prediction {:?}, reference {:?}",
            report.pred_only, report.reference_only
        );
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
}
