//! `spinekit validate`: compare a tool's outputs with a site's own reference cases and write
//! `validation.json` + `validation.html` (metrics with 95 % confidence intervals and their definitions).

use clap::Args;
use spinekit_validate::workflow::{
    run_validation, write_report, Task, TaskResults, ValidateOptions,
};
use spinekit_validate::BootstrapOptions;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Folder (or single file) of predictions: label maps (.nii/.nii.gz/.mha/.mhd), centroid JSON, or
    /// measurement/classification CSV/JSON. Cases are paired with the reference by file name.
    #[arg(long)]
    pred: PathBuf,
    /// Folder (or single file) of reference cases, named like the predictions.
    #[arg(long = "ref")]
    reference: PathBuf,
    /// segmentation | labelling | measurements | classification (default: segmentation when the reference holds
    /// label maps, else measurements).
    #[arg(long)]
    task: Option<Task>,
    /// Output folder for validation.json and validation.html.
    #[arg(short = 'o', long = "out", default_value = ".")]
    out: PathBuf,
    /// Resample predictions on another voxel grid onto the reference grid (nearest neighbour) instead of failing.
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
}

pub fn validate(a: ValidateArgs) -> Result<(), Box<dyn std::error::Error>> {
    let opts = ValidateOptions {
        pred: a.pred,
        reference: a.reference,
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
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    println!("wrote {} and {}", json.display(), html.display());
    Ok(())
}
