//! Finding cases and pairing prediction with reference: by DICOM UID when both sides carry one, else by name.
//!
//! A case's UIDs: for a DICOM SEG, the SeriesInstanceUIDs of the images it segments (Referenced Series
//! Sequence) — a predicted SEG and a reference SEG of the same CT share them, while their own series UIDs differ;
//! for another DICOM case (folder, `.dcm`, zip), its SeriesInstanceUID and SOPInstanceUID; for a JSON file, the
//! top-level `SeriesInstanceUID` / `SOPInstanceUID` (also `series_instance_uid`, `series_uid`,
//! `sop_instance_uid`) strings. Two cases pair when they share any UID; the rest pair by name.

use crate::error::{Result, ValidateError};
use serde::Serialize;
use spinekit_dicom::{describe_dicom_case, DicomCaseInfo};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

/// How one pair was formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PairedOn {
    /// A shared DICOM UID (series or instance).
    Uid,
    /// The same file name (without extension).
    Name,
}

/// One paired case, as listed in `validation.json`.
#[derive(Debug, Clone, Serialize)]
pub struct CasePair {
    /// The reference case's name (used everywhere in the report).
    pub case: String,
    pub pred_file: String,
    pub reference_file: String,
    pub paired_on: PairedOn,
}

/// What is known about a case before reading it in full.
#[derive(Debug, Clone, Default)]
pub struct CaseIdentity {
    pub uids: BTreeSet<String>,
    /// Header of a DICOM case (absent for NIfTI, MetaImage, CSV, JSON).
    pub dicom: Option<DicomCaseInfo>,
}

/// Extensions that are never DICOM (so their bytes are not sniffed).
const NOT_DICOM_EXTS: [&str; 7] = [".nii", ".nii.gz", ".mha", ".mhd", ".csv", ".json", ".raw"];

/// True when `p` is a DICOM case: a folder holding DICOM files (see [`folder_has_dicom`]), a `.dcm`/`.zip`
/// file, or a file with `DICM` at byte 128.
pub fn is_dicom_path(p: &Path) -> bool {
    if p.is_dir() {
        return folder_has_dicom(p, 2);
    }
    let lower = p.to_string_lossy().to_ascii_lowercase();
    if lower.ends_with(".dcm") || lower.ends_with(".zip") {
        return true;
    }
    if NOT_DICOM_EXTS.iter().any(|e| lower.ends_with(e)) {
        return false;
    }
    let mut head = [0u8; 132];
    std::fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut head))
        .map(|_| &head[128..132] == b"DICM")
        .unwrap_or(false)
}

/// True when one of the first 50 files of `dir` (looking `depth` folders down) is DICOM.
pub fn folder_has_dicom(dir: &Path, depth: usize) -> bool {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    let mut dirs = Vec::new();
    for e in rd.flatten().take(50) {
        let p = e.path();
        if p.is_dir() {
            dirs.push(p);
        } else if !e.file_name().to_string_lossy().starts_with('.') && is_dicom_path(&p) {
            return true;
        }
    }
    depth > 0 && dirs.iter().any(|d| folder_has_dicom(d, depth - 1))
}

/// DICOM cases in `dir` (or `dir` itself when it is a DICOM file): sub-folders, `.dcm`/`.zip` files and files
/// with the DICOM marker, keyed by name without extension. Files with a known non-DICOM extension are skipped.
pub fn list_dicom_cases(dir: &Path, other_exts: &[&str]) -> Result<BTreeMap<String, PathBuf>> {
    let key = |name: &str| -> String {
        let lower = name.to_ascii_lowercase();
        for e in [".dcm", ".zip"] {
            if lower.ends_with(e) && lower.len() > e.len() {
                return name[..name.len() - e.len()].to_string();
            }
        }
        name.to_string()
    };
    let known = |name: &str| {
        let lower = name.to_ascii_lowercase();
        other_exts.iter().any(|e| lower.ends_with(e))
    };
    if dir.is_file() {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(if !known(&name) && is_dicom_path(dir) {
            BTreeMap::from([(key(&name), dir.to_path_buf())])
        } else {
            BTreeMap::new()
        });
    }
    let rd = std::fs::read_dir(dir).map_err(|e| ValidateError::File {
        path: dir.display().to_string(),
        reason: format!("cannot list folder: {e}"),
    })?;
    let mut out = BTreeMap::new();
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || known(&name) {
            continue;
        }
        let p = entry.path();
        if is_dicom_path(&p) {
            out.insert(key(&name), p);
        }
    }
    Ok(out)
}

/// UID fields a JSON case may carry at its top level.
const JSON_UID_KEYS: [&str; 5] = [
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "series_instance_uid",
    "series_uid",
    "sop_instance_uid",
];

/// True for a JSON key that names a UID rather than a value.
pub fn is_uid_key(k: &str) -> bool {
    JSON_UID_KEYS.contains(&k)
}

/// The identity of one case file or folder (headers only for DICOM).
pub fn identify(p: &Path) -> Result<CaseIdentity> {
    let lower = p.to_string_lossy().to_ascii_lowercase();
    if lower.ends_with(".json") {
        let text = std::fs::read_to_string(p).map_err(|e| ValidateError::File {
            path: p.display().to_string(),
            reason: format!("cannot read: {e}"),
        })?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| ValidateError::File {
                path: p.display().to_string(),
                reason: format!("is not valid JSON: {e}"),
            })?;
        let uids = JSON_UID_KEYS
            .iter()
            .filter_map(|k| v.get(k).and_then(|x| x.as_str()))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        return Ok(CaseIdentity { uids, dicom: None });
    }
    if !is_dicom_path(p) {
        return Ok(CaseIdentity::default());
    }
    let info = describe_dicom_case(p)?;
    let mut uids = BTreeSet::new();
    if info.is_segmentation {
        uids.extend(info.referenced_series_uids.iter().cloned());
    } else {
        uids.extend(
            [&info.series_uid, &info.sop_instance_uid]
                .into_iter()
                .filter(|s| !s.is_empty())
                .cloned(),
        );
    }
    Ok(CaseIdentity {
        uids,
        dicom: Some(info),
    })
}

/// The result of [`pair_cases`].
#[derive(Debug, Clone, Default)]
pub struct Pairing {
    pub pairs: Vec<CasePair>,
    /// (case, prediction path, reference path), in the order of `pairs`.
    pub paths: Vec<(String, PathBuf, PathBuf)>,
    pub pred_only: Vec<String>,
    pub reference_only: Vec<String>,
    /// Every case's identity by path.
    pub identities: BTreeMap<PathBuf, CaseIdentity>,
}

/// Pairs cases: first on a shared UID, then the remaining ones by name. Unpaired cases are listed, not fatal.
pub fn pair_cases(
    pred: &BTreeMap<String, PathBuf>,
    reference: &BTreeMap<String, PathBuf>,
) -> Result<Pairing> {
    let mut identities = BTreeMap::new();
    for p in pred.values().chain(reference.values()) {
        if !identities.contains_key(p) {
            identities.insert(p.clone(), identify(p)?);
        }
    }
    let uids = |p: &PathBuf| &identities[p].uids;
    let mut used_pred: BTreeSet<&String> = BTreeSet::new();
    let mut matched: BTreeMap<&String, (&String, PairedOn)> = BTreeMap::new();
    for (rk, rp) in reference {
        if uids(rp).is_empty() {
            continue;
        }
        if let Some((pk, _)) = pred
            .iter()
            .find(|(pk, pp)| !used_pred.contains(pk) && !uids(pp).is_disjoint(uids(rp)))
        {
            used_pred.insert(pk);
            matched.insert(rk, (pk, PairedOn::Uid));
        }
    }
    for rk in reference.keys() {
        if matched.contains_key(rk) {
            continue;
        }
        if let Some((pk, _)) = pred.get_key_value(rk) {
            if !used_pred.contains(pk) {
                used_pred.insert(pk);
                matched.insert(rk, (pk, PairedOn::Name));
            }
        }
    }
    let mut out = Pairing::default();
    for (rk, (pk, on)) in &matched {
        let (pp, rp) = (&pred[*pk], &reference[*rk]);
        let file = |p: &PathBuf| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        out.pairs.push(CasePair {
            case: (*rk).clone(),
            pred_file: file(pp),
            reference_file: file(rp),
            paired_on: *on,
        });
        out.paths.push(((*rk).clone(), pp.clone(), rp.clone()));
    }
    out.pred_only = pred
        .keys()
        .filter(|k| !used_pred.contains(k))
        .cloned()
        .collect();
    out.reference_only = reference
        .keys()
        .filter(|k| !matched.contains_key(k))
        .cloned()
        .collect();
    out.identities = identities;
    Ok(out)
}

/// Scanner and reconstruction of the DICOM image cases of a run, for the site history.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Acquisition {
    /// Distinct "Manufacturer ManufacturerModelName" values; empty when no case is a DICOM image series.
    pub scanners: Vec<String>,
    /// Distinct ConvolutionKernel values.
    pub kernels: Vec<String>,
    /// Distinct KVP values, kV.
    pub kvp_kv: Vec<f64>,
}

impl Acquisition {
    /// From DICOM image cases only: a SEG's Manufacturer is the software that wrote it, not the scanner.
    pub fn from_identities<'a>(ids: impl IntoIterator<Item = &'a CaseIdentity>) -> Self {
        let mut scanners = BTreeSet::new();
        let mut kernels = BTreeSet::new();
        let mut kvp: Vec<f64> = Vec::new();
        for info in ids
            .into_iter()
            .filter_map(|i| i.dicom.as_ref())
            .filter(|d| !d.is_segmentation)
        {
            let s = format!("{} {}", info.manufacturer, info.model)
                .trim()
                .to_string();
            if !s.is_empty() {
                scanners.insert(s);
            }
            if !info.convolution_kernel.is_empty() {
                kernels.insert(info.convolution_kernel.clone());
            }
            if let Some(k) = info.kvp {
                if !kvp.contains(&k) {
                    kvp.push(k);
                }
            }
        }
        kvp.sort_by(f64::total_cmp);
        Self {
            scanners: scanners.into_iter().collect(),
            kernels: kernels.into_iter().collect(),
            kvp_kv: kvp,
        }
    }

    /// "a; b", or "unknown" when nothing is known.
    pub fn scanner_text(&self) -> String {
        join_or_unknown(&self.scanners)
    }
    pub fn kernel_text(&self) -> String {
        join_or_unknown(&self.kernels)
    }
    pub fn kvp_text(&self) -> String {
        let v: Vec<String> = self.kvp_kv.iter().map(|k| format!("{k}")).collect();
        join_or_unknown(&v)
    }
}

fn join_or_unknown(v: &[String]) -> String {
    if v.is_empty() {
        "unknown".into()
    } else {
        v.join("; ")
    }
}
