//! A site's validation history: every `spinekit validate` run appended to a SQLite database, trends per metric,
//! and drift alerts against the site's own control limits and against a model card's claims.
//!
//! Control limits (Shewhart individuals chart, Montgomery, *Introduction to Statistical Quality Control*, 7th ed.,
//! §6.4): centre = mean of the first N baseline runs (N ≥ 5) of a task's metric, σ̂ = MR̄ / d₂ with MR̄ the
//! mean moving range |xᵢ − xᵢ₋₁| of those runs and d₂ = 1.128 (n = 2); limits centre ± 3σ̂. Runs after the
//! baseline are checked with Western Electric rule 1 (one point beyond 3σ̂) and rule 2 (two of three consecutive
//! points beyond 2σ̂ on the same side) (Western Electric *Statistical Quality Control Handbook*, 1956). A claim
//! (e.g. from a model card) is breached when a run is worse than the claimed value. An alert is raised when the
//! *latest* run of a metric breaks a rule or a claim: that is what a scheduled job should act on.

use crate::error::{Result, ValidateError};
use crate::workflow::{Report, TaskResults};
use rusqlite::{params, Connection, OpenFlags};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Layout version stored in the database (`meta` table).
pub const HISTORY_SCHEMA: &str = "spinekit-validation-history/1";
/// Smallest baseline for control limits (an individuals chart on fewer runs has no useful σ̂).
pub const MIN_BASELINE_RUNS: usize = 5;
/// d₂ for moving ranges of two consecutive points (Montgomery Appendix VI).
const D2_N2: f64 = 1.128;

/// One run as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// UTC, ISO 8601 (`2026-11-27T14:05:00Z`).
    pub time_utc: String,
    pub software: String,
    pub task: String,
    pub cases: usize,
    /// "Manufacturer Model" of the DICOM image cases, `; `-separated, or "unknown".
    pub scanner: String,
    /// ConvolutionKernel values, or "unknown".
    pub kernel: String,
    /// KVP values (kV), or "unknown".
    pub kvp_kv: String,
    /// Metric key → value (keys as in [`metric_direction`]).
    pub metrics: BTreeMap<String, f64>,
}

/// A stored run with its row id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRun {
    pub id: i64,
    #[serde(flatten)]
    pub record: RunRecord,
}

/// Whether larger values of a metric are better (Dice, AUC, rates) or worse (errors and distances).
pub fn higher_is_better(metric: &str) -> bool {
    let m = metric.to_ascii_lowercase();
    !(m.starts_with("mae")
        || m.starts_with("smape")
        || m.contains("hd95")
        || m.contains("assd")
        || m.contains("localisation")
        || m.ends_with("_mm"))
}

/// Formats seconds since 1970 as ISO 8601 UTC.
pub fn utc_text(unix_s: u64) -> String {
    i64::try_from(unix_s)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(
            || "(time out of range)".to_string(),
            |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
}

/// The metrics of a report that are tracked over time.
///
/// segmentation: `mean_dice`, `mean_hd95_mm` and `mean_assd_mm` (means over labels of the per-label means),
/// `dice:<label>`; labelling: `identification_rate` (pooled), `mean_localisation_mm`; measurements:
/// `mae:<name>`, `smape_percent`; classification: `auc`, `sensitivity`, `specificity`, `accuracy`,
/// `kappa_quadratic`.
pub fn report_metrics(r: &Report) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    let mean = |v: Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    match &r.results {
        TaskResults::Segmentation(s) => {
            m.insert("mean_dice".into(), s.mean_dice.value);
            if let Some(v) = mean(
                s.per_label
                    .iter()
                    .filter_map(|l| l.hd95_mm.as_ref().map(|x| x.value))
                    .collect(),
            ) {
                m.insert("mean_hd95_mm".into(), v);
            }
            if let Some(v) = mean(
                s.per_label
                    .iter()
                    .filter_map(|l| l.assd_mm.as_ref().map(|x| x.value))
                    .collect(),
            ) {
                m.insert("mean_assd_mm".into(), v);
            }
            for l in &s.per_label {
                m.insert(format!("dice:{}", l.label), l.dice.value);
            }
        }
        TaskResults::Labelling(l) => {
            m.insert(
                "identification_rate".into(),
                l.pooled_identification_rate.value,
            );
            if let Some(x) = &l.mean_localisation_mm {
                m.insert("mean_localisation_mm".into(), x.value);
            }
        }
        TaskResults::Measurements(x) => {
            for s in &x.measurements {
                m.insert(format!("mae:{}", s.name), s.mae.value);
            }
            if let Some(s) = &x.smape_percent {
                m.insert("smape_percent".into(), s.value);
            }
        }
        TaskResults::Classification(c) => {
            if let Some(a) = &c.auc {
                m.insert("auc".into(), a.auc.value);
            }
            if let Some(b) = &c.binary {
                if let Some(s) = &b.sensitivity {
                    m.insert("sensitivity".into(), s.value);
                }
                if let Some(s) = &b.specificity {
                    m.insert("specificity".into(), s.value);
                }
            }
            if let Some(a) = &c.accuracy {
                m.insert("accuracy".into(), a.value);
            }
            if let Some(k) = &c.kappa_quadratic {
                m.insert("kappa_quadratic".into(), k.value);
            }
        }
    }
    m.retain(|_, v| v.is_finite());
    m
}

impl RunRecord {
    /// The record of a finished validation run.
    pub fn from_report(r: &Report) -> Self {
        Self {
            time_utc: utc_text(r.created_unix_s),
            software: r.software.clone(),
            task: format!("{:?}", r.task).to_lowercase(),
            cases: r.paired_cases,
            scanner: r.acquisition.scanner_text(),
            kernel: r.acquisition.kernel_text(),
            kvp_kv: r.acquisition.kvp_text(),
            metrics: report_metrics(r),
        }
    }
}

/// An open history database.
pub struct History {
    conn: Connection,
    path: PathBuf,
}

impl History {
    fn err(path: &Path, reason: impl std::fmt::Display) -> ValidateError {
        ValidateError::File {
            path: path.display().to_string(),
            reason: format!("validation history: {reason}"),
        }
    }

    /// Opens (and on first use creates) a history database. A file that is not one gives a clear error and is
    /// left untouched.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let exists = path.exists();
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| Self::err(path, format!("cannot open: {e}")))?;
        let not_ours = |e: &dyn std::fmt::Display| {
            Self::err(
                path,
                format!("not a spinekit validation history database ({e})"),
            )
        };
        // Any read of the schema fails on a file that is not SQLite ("file is not a database").
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .and_then(|mut s| {
                s.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| not_ours(&e))?;
        if tables.is_empty() {
            if exists && std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) > 0 {
                return Err(not_ours(&"it holds no tables"));
            }
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE runs (
                     id INTEGER PRIMARY KEY AUTOINCREMENT,
                     time_utc TEXT NOT NULL,
                     software TEXT NOT NULL,
                     task TEXT NOT NULL,
                     cases INTEGER NOT NULL,
                     scanner TEXT NOT NULL,
                     kernel TEXT NOT NULL,
                     kvp_kv TEXT NOT NULL
                 );
                 CREATE TABLE metrics (
                     run_id INTEGER NOT NULL REFERENCES runs(id),
                     name TEXT NOT NULL,
                     value REAL NOT NULL,
                     PRIMARY KEY (run_id, name)
                 );
                 COMMIT;",
            )
            .map_err(|e| Self::err(path, format!("cannot create: {e}")))?;
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema', ?1)",
                params![HISTORY_SCHEMA],
            )
            .map_err(|e| Self::err(path, format!("cannot create: {e}")))?;
        } else {
            let schema: String = conn
                .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                    r.get(0)
                })
                .map_err(|e| not_ours(&e))?;
            if schema != HISTORY_SCHEMA {
                return Err(Self::err(
                    path,
                    format!("layout '{schema}' is not '{HISTORY_SCHEMA}' (written by another spinekit version)"),
                ));
            }
        }
        Ok(Self {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Appends one run (all or nothing) and returns its id.
    pub fn append(&mut self, rec: &RunRecord) -> Result<i64> {
        let path = self.path.clone();
        let fail = |e: rusqlite::Error| Self::err(&path, format!("cannot append: {e}"));
        let tx = self.conn.transaction().map_err(fail)?;
        tx.execute(
            "INSERT INTO runs (time_utc, software, task, cases, scanner, kernel, kvp_kv)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                rec.time_utc,
                rec.software,
                rec.task,
                rec.cases as i64,
                rec.scanner,
                rec.kernel,
                rec.kvp_kv
            ],
        )
        .map_err(fail)?;
        let id = tx.last_insert_rowid();
        for (k, v) in &rec.metrics {
            tx.execute(
                "INSERT INTO metrics (run_id, name, value) VALUES (?1, ?2, ?3)",
                params![id, k, v],
            )
            .map_err(fail)?;
        }
        tx.commit().map_err(fail)?;
        Ok(id)
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<StoredRun>> {
        let fail = |e: rusqlite::Error| Self::err(&self.path, format!("cannot read: {e}"));
        let mut runs: Vec<StoredRun> = self
            .conn
            .prepare(
                "SELECT id, time_utc, software, task, cases, scanner, kernel, kvp_kv FROM runs ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(StoredRun {
                        id: r.get(0)?,
                        record: RunRecord {
                            time_utc: r.get(1)?,
                            software: r.get(2)?,
                            task: r.get(3)?,
                            cases: r.get::<_, i64>(4)?.max(0) as usize,
                            scanner: r.get(5)?,
                            kernel: r.get(6)?,
                            kvp_kv: r.get(7)?,
                            metrics: BTreeMap::new(),
                        },
                    })
                })?
                .collect()
            })
            .map_err(fail)?;
        let index: BTreeMap<i64, usize> = runs.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        let mut stmt = self
            .conn
            .prepare("SELECT run_id, name, value FROM metrics")
            .map_err(fail)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, f64>(2)?,
                ))
            })
            .map_err(fail)?;
        for row in rows {
            let (id, name, value) = row.map_err(fail)?;
            if let Some(&i) = index.get(&id) {
                runs[i].record.metrics.insert(name, value);
            }
        }
        Ok(runs)
    }
}

/// Why a point is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Western Electric rule 1: beyond centre ± 3σ̂.
    BeyondThreeSigma,
    /// Western Electric rule 2: two of three consecutive points beyond 2σ̂ on the same side.
    TwoOfThreeBeyondTwoSigma,
    /// Worse than the claimed value.
    BelowClaim,
}

/// Control limits from the baseline runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ControlLimits {
    pub baseline_runs: usize,
    pub centre: f64,
    /// σ̂ = MR̄ / 1.128.
    pub sigma: f64,
    pub lower: f64,
    pub upper: f64,
}

/// One run on a metric's chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    pub run_id: i64,
    pub time_utc: String,
    pub value: f64,
    /// True for a run used to set the limits.
    pub baseline: bool,
    pub flags: Vec<Rule>,
}

/// The chart of one task's metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricTrend {
    pub task: String,
    pub metric: String,
    pub higher_is_better: bool,
    pub limits: Option<ControlLimits>,
    pub claim: Option<f64>,
    /// Baseline runs needed before limits exist.
    pub baseline_needed: usize,
    pub points: Vec<TrendPoint>,
}

/// A flag on the latest run of a metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub task: String,
    pub metric: String,
    pub run_id: i64,
    pub time_utc: String,
    pub value: f64,
    pub rule: Rule,
    /// One line for a person: what happened and against which limit.
    pub message: String,
}

/// How to judge a history.
#[derive(Debug, Clone)]
pub struct ControlOptions {
    /// Runs (per task and metric, oldest first) that set the limits; at least [`MIN_BASELINE_RUNS`].
    pub baseline_runs: usize,
    /// Metric key → claimed value (e.g. from a model card).
    pub claims: BTreeMap<String, f64>,
}

impl Default for ControlOptions {
    fn default() -> Self {
        Self {
            baseline_runs: MIN_BASELINE_RUNS,
            claims: BTreeMap::new(),
        }
    }
}

/// Individuals-chart limits of `baseline` (see the module documentation); `None` below [`MIN_BASELINE_RUNS`].
pub fn control_limits(baseline: &[f64]) -> Option<ControlLimits> {
    if baseline.len() < MIN_BASELINE_RUNS {
        return None;
    }
    let n = baseline.len() as f64;
    let centre = baseline.iter().sum::<f64>() / n;
    let mr = baseline
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .sum::<f64>()
        / (n - 1.0);
    let sigma = mr / D2_N2;
    Some(ControlLimits {
        baseline_runs: baseline.len(),
        centre,
        sigma,
        lower: centre - 3.0 * sigma,
        upper: centre + 3.0 * sigma,
    })
}

/// Charts of every (task, metric) in `runs`, and the alerts on their latest runs.
pub fn trends(runs: &[StoredRun], opts: &ControlOptions) -> Result<(Vec<MetricTrend>, Vec<Alert>)> {
    if opts.baseline_runs < MIN_BASELINE_RUNS {
        return Err(ValidateError::Invalid {
            what: "control limits",
            reason: format!(
                "the baseline needs at least {MIN_BASELINE_RUNS} runs (asked for {})",
                opts.baseline_runs
            ),
        });
    }
    let mut series: BTreeMap<(String, String), Vec<(&StoredRun, f64)>> = BTreeMap::new();
    for r in runs {
        for (k, v) in &r.record.metrics {
            series
                .entry((r.record.task.clone(), k.clone()))
                .or_default()
                .push((r, *v));
        }
    }
    let mut charts = Vec::new();
    let mut alerts = Vec::new();
    for ((task, metric), pts) in series {
        let hib = higher_is_better(&metric);
        let values: Vec<f64> = pts.iter().map(|p| p.1).collect();
        let nb = opts.baseline_runs;
        let limits = if values.len() >= nb {
            control_limits(&values[..nb])
        } else {
            None
        };
        let claim = opts.claims.get(&metric).copied();
        let mut points: Vec<TrendPoint> = pts
            .iter()
            .enumerate()
            .map(|(i, (r, v))| TrendPoint {
                run_id: r.id,
                time_utc: r.record.time_utc.clone(),
                value: *v,
                baseline: limits.is_some() && i < nb,
                flags: Vec::new(),
            })
            .collect();
        for i in 0..points.len() {
            let v = points[i].value;
            if let Some(l) = limits.filter(|_| i >= nb) {
                if v < l.lower || v > l.upper {
                    points[i].flags.push(Rule::BeyondThreeSigma);
                }
                // Two of the last three (this one among them) beyond 2σ̂ on this point's side.
                let side = |x: f64| {
                    if x > l.centre + 2.0 * l.sigma {
                        1
                    } else if x < l.centre - 2.0 * l.sigma {
                        -1
                    } else {
                        0
                    }
                };
                let s = side(v);
                if s != 0 && i >= 2 {
                    let n = (i - 2..=i).filter(|&j| side(points[j].value) == s).count();
                    if n >= 2 {
                        points[i].flags.push(Rule::TwoOfThreeBeyondTwoSigma);
                    }
                }
            }
            if let Some(c) = claim {
                if (hib && v < c) || (!hib && v > c) {
                    points[i].flags.push(Rule::BelowClaim);
                }
            }
        }
        if let Some(last) = points.last() {
            for rule in &last.flags {
                let message = match (rule, limits) {
                    (Rule::BelowClaim, _) => format!(
                        "{task} {metric} = {:.4} is {} than the claimed {:.4}",
                        last.value,
                        if hib { "lower" } else { "higher" },
                        claim.unwrap_or(f64::NAN)
                    ),
                    (Rule::BeyondThreeSigma, Some(l)) => format!(
                        "{task} {metric} = {:.4} is outside the site's control limits {:.4} – {:.4} (centre {:.4} ± 3σ, baseline of {} runs)",
                        last.value, l.lower, l.upper, l.centre, l.baseline_runs
                    ),
                    (_, l) => format!(
                        "{task} {metric} = {:.4}: two of the last three runs are beyond 2σ on the same side of the centre {:.4}",
                        last.value,
                        l.map(|l| l.centre).unwrap_or(f64::NAN)
                    ),
                };
                alerts.push(Alert {
                    task: task.clone(),
                    metric: metric.clone(),
                    run_id: last.run_id,
                    time_utc: last.time_utc.clone(),
                    value: last.value,
                    rule: *rule,
                    message,
                });
            }
        }
        charts.push(MetricTrend {
            task,
            metric,
            higher_is_better: hib,
            limits,
            claim,
            baseline_needed: nb,
            points,
        });
    }
    Ok((charts, alerts))
}

/// Claims from a model-card JSON: `{"claims": {metric: value}}`, `{"performance": {metric: value}}`, or a flat
/// object of metric → number. Metric keys as in [`report_metrics`].
pub fn read_claims(path: &Path) -> Result<BTreeMap<String, f64>> {
    let bad = |reason: String| ValidateError::File {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("is not valid JSON: {e}")))?;
    let obj = v
        .get("claims")
        .or_else(|| v.get("performance"))
        .unwrap_or(&v)
        .as_object()
        .ok_or_else(|| bad("expected an object of metric → claimed value".into()))?;
    let out: BTreeMap<String, f64> = obj
        .iter()
        .filter_map(|(k, x)| Some((k.clone(), x.as_f64()?)))
        .collect();
    if out.is_empty() {
        return Err(bad(
            "holds no numeric claim (e.g. {\"claims\": {\"mean_dice\": 0.85}})".into(),
        ));
    }
    Ok(out)
}

/// Parses `metric=value`.
pub fn parse_claim(s: &str) -> std::result::Result<(String, f64), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("claim '{s}' is not metric=value (e.g. mean_dice=0.85)"))?;
    let x: f64 = v
        .trim()
        .parse()
        .map_err(|_| format!("claim '{s}': '{v}' is not a number"))?;
    if !x.is_finite() {
        return Err(format!("claim '{s}': value must be finite"));
    }
    Ok((k.trim().to_string(), x))
}

/// The trend table as text: one block per metric with date, value, limits and flags.
pub fn trend_text(charts: &[MetricTrend]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for c in charts {
        let _ = writeln!(
            s,
            "{} {} ({} is better){}",
            c.task,
            c.metric,
            if c.higher_is_better {
                "higher"
            } else {
                "lower"
            },
            c.claim
                .map(|x| format!(", claim {x:.4}"))
                .unwrap_or_default()
        );
        match &c.limits {
            Some(l) => {
                let _ = writeln!(
                    s,
                    "  control limits {:.4} – {:.4} (centre {:.4}, σ {:.4}, baseline {} runs)",
                    l.lower, l.upper, l.centre, l.sigma, l.baseline_runs
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "  no control limits yet: {} of {} baseline runs",
                    c.points.len(),
                    c.baseline_needed
                );
            }
        }
        let _ = writeln!(
            s,
            "  {:<20} {:>10} {:>10} {:>10}  flags",
            "date (UTC)", "value", "lower", "upper"
        );
        for p in &c.points {
            let (lo, hi) = c
                .limits
                .map(|l| (format!("{:.4}", l.lower), format!("{:.4}", l.upper)))
                .unwrap_or(("–".into(), "–".into()));
            let flags: Vec<&str> = p
                .flags
                .iter()
                .map(|f| match f {
                    Rule::BeyondThreeSigma => "beyond 3σ",
                    Rule::TwoOfThreeBeyondTwoSigma => "2 of 3 beyond 2σ",
                    Rule::BelowClaim => "worse than claim",
                })
                .collect();
            let _ = writeln!(
                s,
                "  {:<20} {:>10.4} {:>10} {:>10}  {}{}",
                p.time_utc,
                p.value,
                lo,
                hi,
                if p.baseline { "baseline " } else { "" },
                flags.join(", ")
            );
        }
    }
    s
}
