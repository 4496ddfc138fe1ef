//! The `spinekit validate` workflow: pair prediction and reference cases by file name, compute the task's
//! metrics per case and over cases (with confidence intervals), and write `validation.json` and
//! `validation.html` atomically.

use crate::agreement::{bland_altman, icc_pairs, mae, smape_aasce, BlandAltman, Estimate, Icc};
use crate::bootstrap::{bootstrap_ci, bootstrap_mean, BootstrapCi, BootstrapOptions};
use crate::cases::{is_uid_key, list_dicom_cases, pair_cases, Acquisition, CasePair, Pairing};
use crate::error::{Result, ValidateError};
use crate::kappa::{cohen_kappa, KappaWeights};
use crate::landmarks::{
    identification_rate, label_centroids_mm, Identification, IDENTIFICATION_RADIUS_MM,
};
use crate::pictures::{disagreement_pictures, largest_disagreement, CasePictures, Disagreement};
use crate::roc::{
    roc_auc_delong, roc_curve, sensitivity_specificity, wilson, Auc, BinaryAgreement,
};
use crate::seglabels::{grow_to_cover, read_case_labels};
use crate::segmentation::{align_to_reference, segmentation_metrics, LabelMetrics};
use serde::Serialize;
use spinekit_image::{AnyVolume, Volume};
use spinekit_io::{open_volume, OpenOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Version of the `validation.json` layout; bump on any incompatible change.
pub const SCHEMA: &str = "spinekit-validation/1";

/// What is being validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// Label maps: Dice, Jaccard, HD95, ASSD per label.
    Segmentation,
    /// Vertebra labels (label maps or centroid JSON): VerSe identification rate and localisation error.
    Labelling,
    /// Continuous measurements (CSV/JSON): MAE, Bland–Altman, ICC, SMAPE.
    Measurements,
    /// Class labels and scores (CSV/JSON): AUC with DeLong CI, sensitivity/specificity, kappa.
    Classification,
}

impl std::str::FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "segmentation" => Ok(Self::Segmentation),
            "labelling" | "labeling" => Ok(Self::Labelling),
            "measurements" => Ok(Self::Measurements),
            "classification" => Ok(Self::Classification),
            _ => Err(format!(
                "unknown task '{s}' (expected segmentation, labelling, measurements or classification)"
            )),
        }
    }
}

/// Inputs and choices of one validation run.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    pub pred: PathBuf,
    pub reference: PathBuf,
    /// `None`: segmentation when the reference holds label maps, else measurements.
    pub task: Option<Task>,
    pub bootstrap: BootstrapOptions,
    /// Resample a prediction on another grid onto the reference grid (nearest neighbour) instead of failing.
    pub allow_resample: bool,
    /// Score at or above which a case counts as positive when no predicted label is given.
    pub threshold: f64,
}

impl ValidateOptions {
    pub fn new(pred: impl Into<PathBuf>, reference: impl Into<PathBuf>) -> Self {
        Self {
            pred: pred.into(),
            reference: reference.into(),
            task: None,
            bootstrap: BootstrapOptions::default(),
            allow_resample: false,
            threshold: 0.5,
        }
    }
}

/// The whole result, as written to `validation.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub software: String,
    pub created_unix_s: u64,
    pub task: Task,
    pub pred: String,
    pub reference: String,
    pub bootstrap: BootstrapOptions,
    /// Every metric key used below → its exact definition.
    pub definitions: BTreeMap<&'static str, &'static str>,
    pub paired_cases: usize,
    /// How each case was paired (shared DICOM UID or name).
    pub pairs: Vec<CasePair>,
    pub pred_only: Vec<String>,
    pub reference_only: Vec<String>,
    /// Scanners and kernels of the DICOM image cases (empty when no case is DICOM).
    pub acquisition: Acquisition,
    pub warnings: Vec<String>,
    pub results: TaskResults,
}

/// Task-specific results.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TaskResults {
    Segmentation(SegmentationResults),
    Labelling(LabellingResults),
    Measurements(MeasurementResults),
    Classification(Box<ClassificationResults>),
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentationCase {
    pub case: String,
    pub labels: Vec<LabelMetrics>,
    /// Mean Dice over the labels of this case.
    pub mean_dice: f64,
    /// True when the prediction was resampled onto the reference grid.
    pub resampled: bool,
    /// The axial slice where the two maps differ most (`None`: identical).
    pub largest_disagreement: Option<Disagreement>,
    /// Pictures of that slice (kept for the worst cases only; in the HTML, not the JSON).
    #[serde(skip)]
    pub pictures: Option<CasePictures>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LabelSummary {
    pub label: u16,
    pub cases: usize,
    pub dice: BootstrapCi,
    pub jaccard: BootstrapCi,
    /// Over cases where the label is in both maps.
    pub hd95_mm: Option<BootstrapCi>,
    pub assd_mm: Option<BootstrapCi>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentationResults {
    pub cases: Vec<SegmentationCase>,
    pub per_label: Vec<LabelSummary>,
    /// Mean over cases of the per-case mean Dice.
    pub mean_dice: BootstrapCi,
    /// Cases with the lowest mean Dice first (at most 10).
    pub worst_cases: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LabellingCase {
    pub case: String,
    #[serde(flatten)]
    pub identification: Identification,
}

#[derive(Debug, Clone, Serialize)]
pub struct LabellingResults {
    pub cases: Vec<LabellingCase>,
    /// Σ identified / Σ reference levels over all cases, Wilson 95 % CI (levels treated as independent).
    pub pooled_identification_rate: Estimate,
    /// Mean over cases of the per-case rate, bootstrap CI over cases.
    pub mean_identification_rate: BootstrapCi,
    pub mean_localisation_mm: Option<BootstrapCi>,
    pub worst_cases: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeasurementSummary {
    pub name: String,
    pub n: usize,
    pub mae: BootstrapCi,
    pub bland_altman: Option<BlandAltman>,
    pub icc: Option<Icc>,
    /// (reference, prediction) pairs for the plots.
    pub pairs: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeasurementResults {
    pub cases: Vec<String>,
    pub measurements: Vec<MeasurementSummary>,
    /// AASCE SMAPE over all measurements of a case (only when every value is ≥ 0 and every case has them all).
    pub smape_percent: Option<BootstrapCi>,
    /// Cases with the largest summed absolute error first (at most 10).
    pub worst_cases: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassificationResults {
    pub cases: usize,
    pub classes: Vec<i64>,
    pub auc: Option<Auc>,
    pub roc_points: Vec<(f64, f64)>,
    pub binary: Option<BinaryAgreement>,
    pub accuracy: Option<Estimate>,
    pub kappa_unweighted: Option<BootstrapCi>,
    pub kappa_linear: Option<BootstrapCi>,
    pub kappa_quadratic: Option<BootstrapCi>,
    /// Misclassified cases (at most 20).
    pub worst_cases: Vec<String>,
}

/// Metric key → definition, written into every report so each number carries its meaning.
pub fn definitions() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("dice", "Dice = 2|P∩R| / (|P|+|R|) per label over voxels (P prediction, R reference)"),
        ("jaccard", "Jaccard = |P∩R| / |P∪R| per label"),
        ("hd95_mm", "95th percentile (numpy linear) of the pooled directed surface distances P→R and R→P, mm; surface = label voxels with a 6-neighbour outside the label or the image; distances voxel centre to nearest surface voxel centre, exact anisotropic EDT (medpy.metric.binary.hd95 convention)"),
        ("hd_mm", "maximum of the pooled directed surface distances, mm (Hausdorff distance, medpy hd)"),
        ("assd_mm", "average symmetric surface distance: mean of the pooled directed surface distances, mm (medpy ≥ 0.5 assd)"),
        ("mean_dice", "mean over cases of the mean Dice over the labels of each case"),
        ("identification_rate", "VerSe id.rate: a reference level counts when its predicted centroid is < 20 mm from the reference centroid and is the closest predicted centroid to it; rate = identified / reference levels (centroids in LPS mm)"),
        ("localisation_mm", "distance between predicted and reference centroid of the same level, mm, averaged over levels present in both"),
        ("mae", "mean absolute error (1/n) Σ|p−r|, unit of the measurement"),
        ("bland_altman", "differences p−r: bias = mean, limits = bias ± 1.96·SD (SD with n−1); 95 % CIs with t(n−1): bias ± t·SD/√n, limits ± t·SD·√(1/n + 1.96²/(2(n−1))) (Bland & Altman 1999)"),
        ("icc2_1", "ICC(2,1) = ICC(A,1): two-way random, absolute agreement, single rater (Shrout & Fleiss 1979; McGraw & Wong 1996 CI)"),
        ("icc3_1", "ICC(3,1) = ICC(C,1): two-way mixed, consistency, single rater (Shrout & Fleiss 1979; F-based CI)"),
        ("smape_percent", "AASCE SMAPE = mean over cases of Σ|p−r| / Σ(p+r) × 100 % over the case's measurements (0/0 counts as 0)"),
        ("auc", "ROC AUC (Mann–Whitney, ties ½); 95 % CI = AUC ± 1.96·√var, DeLong variance by the fast algorithm of Sun & Xu 2014, clipped to [0, 1]"),
        ("sensitivity", "TP/(TP+FN), Wilson score 95 % CI"),
        ("specificity", "TN/(TN+FP), Wilson score 95 % CI"),
        ("accuracy", "correct/total, Wilson score 95 % CI"),
        ("kappa", "Cohen's kappa 1 − Σw·O/Σw·E over the sorted categories seen; weights unweighted (0/1), linear |i−j|, quadratic (i−j)² on category positions (sklearn convention)"),
        ("bootstrap_ci", "percentile bootstrap over cases: resample cases with replacement (ChaCha8, seeded), 2.5th and 97.5th percentiles (numpy linear) of the statistic"),
    ])
}

const LABEL_EXTS: [&str; 4] = [".nii.gz", ".nii", ".mha", ".mhd"];
const TABLE_EXTS: [&str; 2] = [".csv", ".json"];

fn case_key(name: &str, exts: &[&str]) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    exts.iter()
        .find(|e| lower.ends_with(*e) && lower.len() > e.len())
        .map(|e| name[..name.len() - e.len()].to_string())
}

/// Files of `dir` (or `dir` itself when it is a file) whose names end in one of `exts`, keyed by name without it.
fn list_cases(dir: &Path, exts: &[&str]) -> Result<BTreeMap<String, PathBuf>> {
    let err = |reason: String| ValidateError::File {
        path: dir.display().to_string(),
        reason,
    };
    if dir.is_file() {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(case_key(&name, exts)
            .map(|k| BTreeMap::from([(k, dir.to_path_buf())]))
            .unwrap_or_default());
    }
    let rd = std::fs::read_dir(dir).map_err(|e| err(format!("cannot list folder: {e}")))?;
    let mut out = BTreeMap::new();
    for entry in rd {
        let entry = entry.map_err(|e| err(format!("cannot list folder: {e}")))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if let Some(k) = case_key(&name, exts) {
            out.insert(k, entry.path());
        }
    }
    Ok(out)
}

/// Reads a label map as u16, refusing negative, fractional or too-large labels.
pub fn read_label_map(path: &Path) -> Result<Volume<u16>> {
    let opened = open_volume(path, &OpenOptions::default())?;
    let bad = |reason: String| ValidateError::File {
        path: path.display().to_string(),
        reason,
    };
    match opened.volume {
        AnyVolume::U16(v) => Ok(v),
        AnyVolume::U8(v) => Ok(v.map(|x| x as u16)),
        other => {
            if let Some(r) = other.intensity_range() {
                if r.min < 0.0 || r.max > u16::MAX as f64 {
                    return Err(bad(format!(
                        "is not a label map (values {}…{}, labels must be 0…65535)",
                        r.min, r.max
                    )));
                }
            }
            if let AnyVolume::F32(f) = &other {
                if f.data().iter().any(|v| v.fract() != 0.0) {
                    return Err(bad("is not a label map (fractional voxel values)".into()));
                }
            }
            Ok(other.to_type::<u16>())
        }
    }
}

/// Runs a validation; nothing is written (see [`write_report`]).
///
/// Cases pair on a shared DICOM UID first (see [`crate::cases`]), then by name; unpaired cases are listed in
/// the report and named in a warning.
pub fn run_validation(opts: &ValidateOptions) -> Result<Report> {
    let ref_labels = list_cases(&opts.reference, &LABEL_EXTS)?;
    let ref_tables = list_cases(&opts.reference, &TABLE_EXTS)?;
    let known_exts: Vec<&str> = LABEL_EXTS.iter().chain(&TABLE_EXTS).copied().collect();
    let ref_dicom = list_dicom_cases(&opts.reference, &known_exts)?;
    let task = match opts.task {
        Some(t) => t,
        None if !ref_labels.is_empty() || !ref_dicom.is_empty() => Task::Segmentation,
        None => Task::Measurements,
    };
    let mut warnings = Vec::new();
    let (pairing, results) = match task {
        Task::Segmentation | Task::Labelling => {
            let mut pred = list_cases(&opts.pred, &LABEL_EXTS)?;
            let mut reference = ref_labels;
            // DICOM cases (SEG objects, label series) next to label files; a file name wins over a folder.
            for (k, p) in list_dicom_cases(&opts.pred, &known_exts)? {
                pred.entry(k).or_insert(p);
            }
            for (k, p) in ref_dicom {
                reference.entry(k).or_insert(p);
            }
            if task == Task::Labelling {
                // Centroid files (JSON) may stand in for label maps on either side.
                for (k, p) in list_cases(&opts.pred, &[".json"])? {
                    pred.entry(k).or_insert(p);
                }
                for (k, p) in ref_tables.into_iter().filter(|(_, p)| has_ext(p, ".json")) {
                    reference.entry(k).or_insert(p);
                }
            }
            let pairing = pair_cases(&pred, &reference)?;
            if pairing.pairs.is_empty() {
                return Err(no_pairs(opts, &pairing));
            }
            let r = if task == Task::Segmentation {
                TaskResults::Segmentation(run_segmentation(&pairing.paths, opts, &mut warnings)?)
            } else {
                TaskResults::Labelling(run_labelling(&pairing.paths, opts)?)
            };
            (pairing, r)
        }
        Task::Measurements | Task::Classification => {
            let pred_files = list_cases(&opts.pred, &TABLE_EXTS)?;
            // Per-case JSON files pair on a shared UID first: the prediction takes the reference's case name.
            let pairing = pair_cases(&pred_files, &ref_tables)?;
            let mut renamed = pred_files.clone();
            for cp in pairing
                .pairs
                .iter()
                .filter(|c| c.paired_on == crate::cases::PairedOn::Uid)
            {
                if let Some((k, p)) = pred_files.iter().find(|(_, p)| {
                    p.file_name()
                        .map(|n| n.to_string_lossy() == cp.pred_file)
                        .unwrap_or(false)
                }) {
                    renamed.remove(k);
                    renamed.insert(cp.case.clone(), p.clone());
                }
            }
            let pred = read_tables(&renamed)?;
            let reference = read_tables(&ref_tables)?;
            let mut table_pairing = Pairing {
                identities: pairing.identities,
                ..Pairing::default()
            };
            table_pairing.pred_only = pred
                .keys()
                .filter(|k| !reference.contains_key(*k))
                .cloned()
                .collect();
            table_pairing.reference_only = reference
                .keys()
                .filter(|k| !pred.contains_key(*k))
                .cloned()
                .collect();
            let cases: Vec<String> = reference
                .keys()
                .filter(|k| pred.contains_key(*k))
                .cloned()
                .collect();
            table_pairing.pairs = cases
                .iter()
                .map(|c| {
                    let on_uid = pairing
                        .pairs
                        .iter()
                        .any(|p| &p.case == c && p.paired_on == crate::cases::PairedOn::Uid);
                    CasePair {
                        case: c.clone(),
                        pred_file: String::new(),
                        reference_file: String::new(),
                        paired_on: if on_uid {
                            crate::cases::PairedOn::Uid
                        } else {
                            crate::cases::PairedOn::Name
                        },
                    }
                })
                .collect();
            if cases.is_empty() {
                return Err(no_pairs(opts, &table_pairing));
            }
            let r = if task == Task::Measurements {
                TaskResults::Measurements(run_measurements(
                    &cases,
                    &pred,
                    &reference,
                    opts,
                    &mut warnings,
                )?)
            } else {
                TaskResults::Classification(Box::new(run_classification(
                    &cases, &pred, &reference, opts,
                )?))
            };
            (table_pairing, r)
        }
    };
    let Pairing {
        pairs,
        pred_only,
        reference_only,
        identities,
        ..
    } = pairing;
    if !pred_only.is_empty() || !reference_only.is_empty() {
        warnings.push(format!(
            "unpaired cases left out: {} prediction ({}) and {} reference ({})",
            pred_only.len(),
            name_list(&pred_only),
            reference_only.len(),
            name_list(&reference_only)
        ));
    }
    Ok(Report {
        schema: SCHEMA,
        software: format!("spinekit-validate {}", env!("CARGO_PKG_VERSION")),
        created_unix_s: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        task,
        pred: opts.pred.display().to_string(),
        reference: opts.reference.display().to_string(),
        bootstrap: opts.bootstrap,
        definitions: definitions(),
        paired_cases: pairs.len(),
        pairs,
        pred_only,
        reference_only,
        acquisition: Acquisition::from_identities(identities.values()),
        warnings,
        results,
    })
}

/// At most 10 names, then "… and N more".
fn name_list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    let mut s = names
        .iter()
        .take(10)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 10 {
        s.push_str(&format!(" … and {} more", names.len() - 10));
    }
    s
}

fn has_ext(p: &Path, ext: &str) -> bool {
    p.to_string_lossy().to_ascii_lowercase().ends_with(ext)
}

fn no_pairs(opts: &ValidateOptions, p: &Pairing) -> ValidateError {
    ValidateError::Other(format!(
        "no case of {} has a partner (same DICOM UID or same name) in {} (prediction cases: {}; reference cases: {})",
        opts.pred.display(),
        opts.reference.display(),
        name_list(&p.pred_only),
        name_list(&p.reference_only)
    ))
}

type Pairs = Vec<(String, PathBuf, PathBuf)>;

fn ci_of(values: &[f64], opts: &ValidateOptions) -> Result<BootstrapCi> {
    bootstrap_mean(values, &opts.bootstrap)
}

fn worst(mut scored: Vec<(String, f64)>, n: usize, ascending: bool) -> Vec<String> {
    scored.sort_by(|a, b| {
        if ascending {
            a.1.total_cmp(&b.1)
        } else {
            b.1.total_cmp(&a.1)
        }
    });
    scored.into_iter().take(n).map(|(c, _)| c).collect()
}

fn run_segmentation(
    pairs: &Pairs,
    opts: &ValidateOptions,
    warnings: &mut Vec<String>,
) -> Result<SegmentationResults> {
    let mut cases: Vec<SegmentationCase> = Vec::with_capacity(pairs.len());
    for (case, p, r) in pairs {
        // Both files decode at once: gzip inflation dominates the run time on large label maps.
        let (pred, reference) = rayon::join(|| read_case_labels(p), || read_case_labels(r));
        let (pred, reference) = (pred?, reference?);
        for (side, c) in [("prediction", &pred), ("reference", &reference)] {
            for n in &c.notes {
                warnings.push(format!("case {case} ({side}): {n}"));
            }
        }
        let any_seg = pred.from_seg || reference.from_seg;
        // A SEG holds only the slices it labels: grow a SEG reference to cover the prediction's labels so that
        // predicted labels outside its slab count as errors, and always resample onto the reference grid.
        let reference_labels = if reference.from_seg && !pred.from_seg {
            grow_to_cover(&reference.labels, &pred.labels)
        } else {
            reference.labels
        };
        let aligned = align_to_reference(
            &pred.labels,
            &reference_labels,
            opts.allow_resample || any_seg,
        )
        .map_err(|e| ValidateError::Other(format!("case {case}: {e}")))?;
        let resampled = matches!(aligned, std::borrow::Cow::Owned(_));
        if resampled {
            warnings.push(format!(
                "case {case}: prediction resampled onto the reference grid (nearest neighbour)"
            ));
        }
        let labels = segmentation_metrics(&aligned, &reference_labels)?;
        let mean_dice = if labels.is_empty() {
            f64::NAN
        } else {
            labels.iter().map(|l| l.dice).sum::<f64>() / labels.len() as f64
        };
        if labels.is_empty() {
            warnings.push(format!(
                "case {case}: no label in either map; left out of the means"
            ));
        }
        let largest = largest_disagreement(&aligned, &reference_labels);
        let pictures = match &largest {
            Some(d) => match disagreement_pictures(&aligned, &reference_labels, d) {
                Ok(p) => Some(p),
                Err(e) => {
                    warnings.push(format!("case {case}: no picture ({e})"));
                    None
                }
            },
            None => None,
        };
        cases.push(SegmentationCase {
            case: case.clone(),
            labels,
            mean_dice,
            resampled,
            largest_disagreement: largest,
            pictures,
        });
    }
    let all_labels: BTreeSet<u16> = cases
        .iter()
        .flat_map(|c| c.labels.iter().map(|l| l.counts.label))
        .collect();
    let mut per_label = Vec::new();
    for l in all_labels {
        let ms: Vec<&LabelMetrics> = cases
            .iter()
            .filter_map(|c| c.labels.iter().find(|m| m.counts.label == l))
            .collect();
        let col = |f: &dyn Fn(&LabelMetrics) -> Option<f64>| -> Vec<f64> {
            ms.iter().filter_map(|m| f(m)).collect()
        };
        let hd = col(&|m| m.surface.as_ref().map(|s| s.hd95_mm));
        let assd = col(&|m| m.surface.as_ref().map(|s| s.assd_mm));
        per_label.push(LabelSummary {
            label: l,
            cases: ms.len(),
            dice: ci_of(&col(&|m| Some(m.dice)), opts)?,
            jaccard: ci_of(&col(&|m| Some(m.jaccard)), opts)?,
            hd95_mm: if hd.is_empty() {
                None
            } else {
                Some(ci_of(&hd, opts)?)
            },
            assd_mm: if assd.is_empty() {
                None
            } else {
                Some(ci_of(&assd, opts)?)
            },
        });
    }
    let means: Vec<f64> = cases
        .iter()
        .map(|c| c.mean_dice)
        .filter(|v| v.is_finite())
        .collect();
    let mean_dice = if means.is_empty() {
        return Err(ValidateError::Other(
            "no case had any label to compare".into(),
        ));
    } else {
        ci_of(&means, opts)?
    };
    let worst_cases = worst(
        cases
            .iter()
            .filter(|c| c.mean_dice.is_finite())
            .map(|c| (c.case.clone(), c.mean_dice))
            .collect(),
        10,
        true,
    );
    for c in cases.iter_mut().filter(|c| !worst_cases.contains(&c.case)) {
        c.pictures = None;
    }
    Ok(SegmentationResults {
        cases,
        per_label,
        mean_dice,
        worst_cases,
    })
}

/// Centroids from a label map or a JSON object `{"<label>": [x, y, z], …}` (LPS mm).
fn read_centroids(path: &Path) -> Result<BTreeMap<u16, [f64; 3]>> {
    if !has_ext(path, ".json") {
        return Ok(label_centroids_mm(&read_case_labels(path)?.labels));
    }
    let bad = |reason: String| ValidateError::File {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("is not valid JSON: {e}")))?;
    let obj = v
        .get("centroids_mm")
        .unwrap_or(&v)
        .as_object()
        .ok_or_else(|| bad("expected an object of label → [x, y, z] (LPS mm)".into()))?;
    let mut out = BTreeMap::new();
    for (k, p) in obj.iter().filter(|(k, _)| !is_uid_key(k)) {
        let label: u16 = k
            .parse()
            .map_err(|_| bad(format!("label '{k}' is not a number 1…65535")))?;
        let xyz: Vec<f64> = p
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
            .unwrap_or_default();
        if xyz.len() != 3 {
            return Err(bad(format!("label {k}: expected [x, y, z] in mm")));
        }
        out.insert(label, [xyz[0], xyz[1], xyz[2]]);
    }
    Ok(out)
}

fn run_labelling(pairs: &Pairs, opts: &ValidateOptions) -> Result<LabellingResults> {
    let mut cases = Vec::new();
    for (case, p, r) in pairs {
        let id = identification_rate(
            &read_centroids(p)?,
            &read_centroids(r)?,
            IDENTIFICATION_RADIUS_MM,
        );
        cases.push(LabellingCase {
            case: case.clone(),
            identification: id,
        });
    }
    let scored: Vec<&LabellingCase> = cases
        .iter()
        .filter(|c| c.identification.reference_levels > 0)
        .collect();
    let (hit, tot) = scored.iter().fold((0u64, 0u64), |(h, t), c| {
        (
            h + c.identification.identified_levels as u64,
            t + c.identification.reference_levels as u64,
        )
    });
    let rates: Vec<f64> = scored.iter().map(|c| c.identification.rate).collect();
    let loc: Vec<f64> = cases
        .iter()
        .filter_map(|c| c.identification.mean_localisation_mm)
        .collect();
    Ok(LabellingResults {
        pooled_identification_rate: wilson(hit, tot)?,
        mean_identification_rate: ci_of(&rates, opts)?,
        mean_localisation_mm: if loc.is_empty() {
            None
        } else {
            Some(ci_of(&loc, opts)?)
        },
        worst_cases: worst(
            scored
                .iter()
                .map(|c| (c.case.clone(), c.identification.rate))
                .collect(),
            10,
            true,
        ),
        cases,
    })
}

/// case → measurement name → value.
pub type Table = BTreeMap<String, BTreeMap<String, f64>>;

/// Reads CSV and JSON measurement files into one table. CSV: a header row `case,<name>,…` (first column = case
/// id); a file without a header (all fields numeric, e.g. AASCE angles.csv) gets case ids `row1, row2, …` and
/// names `m1, m2, …`. JSON: one object per case file `{"<name>": number, …}` (case = file name), or an object
/// of such objects keyed by case. With several CSV files, case ids are prefixed by the file name.
pub fn read_tables(files: &BTreeMap<String, PathBuf>) -> Result<Table> {
    let mut out = Table::new();
    let n_csv = files.values().filter(|p| has_ext(p, ".csv")).count();
    for (stem, path) in files {
        let bad = |reason: String| ValidateError::File {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read: {e}")))?;
        if has_ext(path, ".csv") {
            let rows: Vec<Vec<&str>> = text
                .lines()
                .map(|l| l.trim_end_matches('\r'))
                .filter(|l| !l.trim().is_empty())
                .map(|l| l.split(',').map(str::trim).collect())
                .collect();
            let Some(first) = rows.first() else { continue };
            let headerless = first.iter().all(|f| f.parse::<f64>().is_ok());
            let (names, body, id_col): (Vec<String>, &[Vec<&str>], bool) = if headerless {
                (
                    (1..=first.len()).map(|i| format!("m{i}")).collect(),
                    &rows[..],
                    false,
                )
            } else {
                (
                    first[1..].iter().map(|s| s.to_string()).collect(),
                    &rows[1..],
                    true,
                )
            };
            for (r, row) in body.iter().enumerate() {
                let (id, vals) = if id_col {
                    (row[0].to_string(), &row[1..])
                } else {
                    (format!("row{}", r + 1), &row[..])
                };
                let id = if n_csv > 1 {
                    format!("{stem}/{id}")
                } else {
                    id
                };
                if vals.len() != names.len() {
                    return Err(bad(format!(
                        "row {} has {} values, expected {}",
                        r + 1,
                        vals.len(),
                        names.len()
                    )));
                }
                let e = out.entry(id).or_default();
                for (name, v) in names.iter().zip(vals) {
                    if v.is_empty() {
                        continue; // missing value
                    }
                    let x: f64 = v
                        .parse()
                        .map_err(|_| bad(format!("row {}: '{v}' is not a number", r + 1)))?;
                    e.insert(name.clone(), x);
                }
            }
        } else {
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| bad(format!("is not valid JSON: {e}")))?;
            let obj = v
                .as_object()
                .ok_or_else(|| bad("expected a JSON object".into()))?;
            let nested = !obj.is_empty() && obj.values().all(|x| x.is_object());
            let mut put = |case: &str, o: &serde_json::Map<String, serde_json::Value>| {
                let e = out.entry(case.to_string()).or_default();
                for (k, x) in o {
                    if let Some(x) = x.as_f64() {
                        e.insert(k.clone(), x);
                    } else if let Some(b) = x.as_bool() {
                        e.insert(k.clone(), f64::from(u8::from(b)));
                    }
                }
            };
            if nested {
                for (case, o) in obj {
                    put(case, o.as_object().expect("checked"));
                }
            } else {
                put(stem, obj);
            }
        }
    }
    Ok(out)
}

fn run_measurements(
    cases: &[String],
    pred: &Table,
    reference: &Table,
    opts: &ValidateOptions,
    warnings: &mut Vec<String>,
) -> Result<MeasurementResults> {
    let names: BTreeSet<&String> = cases.iter().flat_map(|c| reference[c].keys()).collect();
    let mut measurements = Vec::new();
    for name in &names {
        let pairs: Vec<(f64, f64)> = cases
            .iter()
            .filter_map(|c| Some((*reference[c].get(*name)?, *pred[c].get(*name)?)))
            .collect();
        if pairs.is_empty() {
            warnings.push(format!("measurement '{name}': no case has both values"));
            continue;
        }
        let r: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let p: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        let abs: Vec<f64> = p.iter().zip(&r).map(|(a, b)| (a - b).abs()).collect();
        let mut m = ci_of(&abs, opts)?;
        m.value = mae(&p, &r)?;
        measurements.push(MeasurementSummary {
            name: (*name).clone(),
            n: pairs.len(),
            mae: m,
            bland_altman: bland_altman(&p, &r).ok(),
            icc: icc_pairs(&p, &r).ok(),
            pairs,
        });
    }
    // SMAPE needs every case to carry every measurement, all non-negative.
    let all: Vec<(Vec<f64>, Vec<f64>)> = cases
        .iter()
        .filter_map(|c| {
            let p: Option<Vec<f64>> = names.iter().map(|n| pred[c].get(*n).copied()).collect();
            let r: Option<Vec<f64>> = names
                .iter()
                .map(|n| reference[c].get(*n).copied())
                .collect();
            Some((p?, r?))
        })
        .collect();
    let smape_percent = if all.len() == cases.len()
        && all
            .iter()
            .all(|(p, r)| p.iter().chain(r).all(|v| *v >= 0.0))
    {
        let (p, r): (Vec<Vec<f64>>, Vec<Vec<f64>>) = all.into_iter().unzip();
        let (_, per) = smape_aasce(&p, &r)?;
        Some(bootstrap_ci(
            per.len(),
            |idx| idx.iter().map(|&i| per[i]).sum::<f64>() / idx.len() as f64,
            &opts.bootstrap,
        )?)
    } else {
        None
    };
    let worst_cases = worst(
        cases
            .iter()
            .map(|c| {
                let e: f64 = reference[c]
                    .iter()
                    .filter_map(|(n, r)| pred[c].get(n).map(|p| (p - r).abs()))
                    .sum();
                (c.clone(), e)
            })
            .collect(),
        10,
        false,
    );
    Ok(MeasurementResults {
        cases: cases.to_vec(),
        measurements,
        smape_percent,
        worst_cases,
    })
}

fn run_classification(
    cases: &[String],
    pred: &Table,
    reference: &Table,
    opts: &ValidateOptions,
) -> Result<ClassificationResults> {
    let truth_of = |c: &String| -> Result<i64> {
        let v = reference[c]
            .get("label")
            .or_else(|| reference[c].values().next())
            .copied()
            .ok_or_else(|| {
                ValidateError::Other(format!("case {c}: reference has no 'label' value"))
            })?;
        if v.fract() != 0.0 {
            return Err(ValidateError::Other(format!(
                "case {c}: reference label {v} is not a whole number"
            )));
        }
        Ok(v as i64)
    };
    let truth: Vec<i64> = cases.iter().map(truth_of).collect::<Result<_>>()?;
    let scores: Option<Vec<f64>> = cases
        .iter()
        .map(|c| pred[c].get("score").copied())
        .collect();
    let labels: Option<Vec<i64>> = cases
        .iter()
        .map(|c| pred[c].get("label").map(|v| v.round() as i64))
        .collect::<Option<Vec<_>>>()
        .or_else(|| {
            scores
                .as_ref()
                .map(|s| s.iter().map(|v| i64::from(*v >= opts.threshold)).collect())
        });
    let mut classes: Vec<i64> = truth
        .iter()
        .chain(labels.iter().flatten())
        .copied()
        .collect();
    classes.sort_unstable();
    classes.dedup();
    let binary_truth = truth.iter().all(|t| *t == 0 || *t == 1);
    let tb: Vec<bool> = truth.iter().map(|t| *t == 1).collect();
    let auc = match (&scores, binary_truth) {
        (Some(s), true) => roc_auc_delong(&tb, s).ok(),
        _ => None,
    };
    let roc_points = match (&scores, binary_truth) {
        (Some(s), true) => roc_curve(&tb, s),
        _ => Vec::new(),
    };
    let mut out = ClassificationResults {
        cases: cases.len(),
        classes,
        auc,
        roc_points,
        binary: None,
        accuracy: None,
        kappa_unweighted: None,
        kappa_linear: None,
        kappa_quadratic: None,
        worst_cases: Vec::new(),
    };
    if let Some(l) = &labels {
        if binary_truth && l.iter().all(|v| *v == 0 || *v == 1) {
            let pb: Vec<bool> = l.iter().map(|v| *v == 1).collect();
            out.binary = Some(sensitivity_specificity(&tb, &pb)?);
        }
        let correct = truth.iter().zip(l).filter(|(a, b)| a == b).count() as u64;
        out.accuracy = Some(wilson(correct, truth.len() as u64)?);
        let kci = |w: KappaWeights| -> Option<BootstrapCi> {
            cohen_kappa(l, &truth, w).ok()?;
            bootstrap_ci(
                truth.len(),
                |idx| {
                    let a: Vec<i64> = idx.iter().map(|&i| l[i]).collect();
                    let b: Vec<i64> = idx.iter().map(|&i| truth[i]).collect();
                    cohen_kappa(&a, &b, w).unwrap_or(f64::NAN)
                },
                &opts.bootstrap,
            )
            .ok()
        };
        out.kappa_unweighted = kci(KappaWeights::Unweighted);
        out.kappa_linear = kci(KappaWeights::Linear);
        out.kappa_quadratic = kci(KappaWeights::Quadratic);
        out.worst_cases = cases
            .iter()
            .zip(truth.iter().zip(l))
            .filter(|(_, (a, b))| a != b)
            .map(|(c, _)| c.clone())
            .take(20)
            .collect();
    }
    Ok(out)
}

/// Writes `validation.json` and `validation.html` into `out_dir` (created if needed), each atomically.
pub fn write_report(report: &Report, out_dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let io = |path: &Path, e: std::io::Error| ValidateError::File {
        path: path.display().to_string(),
        reason: format!("cannot write: {e}"),
    };
    std::fs::create_dir_all(out_dir).map_err(|e| io(out_dir, e))?;
    let json_path = out_dir.join("validation.json");
    let html_path = out_dir.join("validation.html");
    let json = serde_json::to_vec_pretty(report)
        .map_err(|e| ValidateError::Other(format!("cannot encode the report: {e}")))?;
    spinekit_atomic::write_bytes_atomic(&json_path, &json).map_err(|e| io(&json_path, e))?;
    let html = crate::html::render(report);
    spinekit_atomic::write_bytes_atomic(&html_path, html.as_bytes())
        .map_err(|e| io(&html_path, e))?;
    Ok((json_path, html_path))
}
