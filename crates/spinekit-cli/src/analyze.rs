//! `spinekit analyze`: one pass from a CT to the clinical report — levels, per-level measurements, bone density,
//! body composition, alignment, canal — written as report.json, report.html and labels.nii.gz (plus DICOM SEG and
//! SR when the input is DICOM).

use crate::commands::{CmdResult, ExitError, SeriesArg};
use crate::phantom::{level_table, present_values, write_json};
use crate::segment::{ct_error, EXIT_NOT_CT};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use spinekit_anatomy::ContrastPhase;
use spinekit_bodycomp::{ContrastHints, PatientInfo, Sex};
use spinekit_ct::{SegmentOptions, Segmentation};
use spinekit_image::Volume;
use spinekit_measure::Measured;
use spinekit_report::{
    findings, render_html, AnalysisReport, InputSummary, PatientContext, Provenance, RenderInputs,
    Stage,
};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SexArg {
    #[value(name = "F", alias = "f", alias = "female")]
    F,
    #[value(name = "M", alias = "m", alias = "male")]
    M,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PhaseArg {
    #[value(name = "native", alias = "non-contrast")]
    Native,
    Arterial,
    #[value(name = "portal-venous", alias = "venous")]
    PortalVenous,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// CT scan: DICOM folder/zip/file, NIfTI or MetaImage, in Hounsfield units.
    pub input: PathBuf,
    /// Output folder (created if needed).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Patient height in cm (for the skeletal muscle index); default: DICOM PatientSize when present.
    #[arg(long, value_name = "CM")]
    pub height_cm: Option<f64>,
    /// Patient weight in kg (for BMI); default: DICOM PatientWeight when present.
    #[arg(long, value_name = "KG")]
    pub weight_kg: Option<f64>,
    /// Patient sex, for sex-specific cut-offs; default: DICOM PatientSex when present.
    #[arg(long, value_enum)]
    pub sex: Option<SexArg>,
    /// Age in years; default: DICOM PatientAge when present.
    #[arg(long, value_name = "YEARS")]
    pub age: Option<f64>,
    /// Contrast phase, overriding the estimate from the aorta and the DICOM header.
    #[arg(long, value_enum)]
    pub phase: Option<PhaseArg>,
    #[command(flatten)]
    pub series: SeriesArg,
}

fn check_range(name: &str, v: Option<f64>, lo: f64, hi: f64, unit: &str) -> Result<(), ExitError> {
    match v {
        Some(x) if !(x.is_finite() && (lo..=hi).contains(&x)) => Err(ExitError {
            code: 2,
            message: format!("{name} {x} {unit} is not plausible (expected {lo}–{hi} {unit})"),
        }),
        _ => Ok(()),
    }
}

/// Everything computed, before anything is written.
pub struct Analysis {
    pub ct: Volume<i16>,
    pub segmentation: Segmentation,
    pub report: AnalysisReport,
    pub tissue_maps: Vec<spinekit_bodycomp::TissueMap>,
}

/// Inputs besides the CT that shape the analysis.
#[derive(Debug, Clone, Default)]
pub struct AnalysisContext {
    pub patient: PatientInfo,
    pub patient_sources: Vec<String>,
    pub phase_override: Option<ContrastPhase>,
    pub hints: ContrastHints,
    pub input: Option<InputSummary>,
    pub warnings: Vec<String>,
}

fn stage_bar() -> ProgressBar {
    let pb = ProgressBar::new(5);
    pb.set_style(
        ProgressStyle::with_template("{spinner} analyze [{bar:20}] {pos}/{len} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

/// Runs the engines on a CT already in memory (used by `analyze` and by `demo`).
pub fn analyze_ct(
    ct: Volume<i16>,
    ctx: AnalysisContext,
    show_progress: bool,
) -> Result<Analysis, ExitError> {
    let t_all = Instant::now();
    let pb = if show_progress {
        stage_bar()
    } else {
        ProgressBar::hidden()
    };
    let mut stages = Vec::new();
    let mut timed = |name: &str, t: Instant| {
        stages.push(Stage {
            stage: name.into(),
            ms: t.elapsed().as_secs_f64() * 1e3,
        })
    };

    pb.set_message("segmenting vertebrae");
    let t = Instant::now();
    let seg = spinekit_ct::segment(&ct, &SegmentOptions::default(), None).map_err(ct_error)?;
    timed("segmentation and level naming", t);
    pb.inc(1);

    pb.set_message("body composition and contrast phase");
    let t = Instant::now();
    let (body, maps) = match spinekit_bodycomp::analyze(&ct, &seg, &ctx.patient, &ctx.hints) {
        Ok(o) => (Measured::Value(o.report), o.maps),
        Err(e) => (Measured::not(e.to_string()), Vec::new()),
    };
    timed("body composition and contrast phase", t);
    pb.inc(1);

    // The phase decides the bone-density thresholds: the user's word, else a confident estimate, else unknown.
    let estimated = match &body {
        Measured::Value(b) if b.contrast.confidence >= 0.5 => b.contrast.phase,
        _ => None,
    };
    let phase = ctx.phase_override.or(estimated);
    pb.set_message("measuring vertebrae");
    let t = Instant::now();
    let measurements =
        spinekit_measure::measure_segmentation(&ct, &seg, phase).map_err(|e| ExitError {
            code: 1,
            message: e.to_string(),
        })?;
    timed("vertebral measurements", t);
    pb.inc(1);

    let g = ct.geometry();
    let input = ctx.input.clone().unwrap_or_else(|| InputSummary {
        format: "volume".into(),
        dims: ct.dims(),
        spacing_mm: g.spacing_mm,
        orientation: g.orientation_code().to_string(),
        series_description: None,
        study_instance_uid: None,
        series_instance_uid: None,
    });
    let fnd = findings(&seg.report, &measurements, &body);
    let mut warnings = ctx.warnings.clone();
    if let Some(p) = ctx.phase_override {
        warnings.push(format!("contrast phase set by the user: {p:?}"));
    }
    for (name, ms) in seg.timings.iter().map(|s| (s.stage, s.ms)) {
        stages.push(Stage {
            stage: format!("  segmentation: {name}"),
            ms,
        });
    }
    let report = AnalysisReport {
        schema: spinekit_report::SCHEMA.into(),
        software: format!("spinekit {}", env!("CARGO_PKG_VERSION")),
        disclaimer: spinekit_report::html::DISCLAIMER.into(),
        created_utc: utc_now(),
        coordinate_system: "DICOM patient coordinates LPS (x → patient left, y → posterior, z → superior), millimetres".into(),
        input,
        patient: PatientContext {
            height_cm: ctx.patient.height_cm,
            weight_kg: ctx.patient.weight_kg,
            sex: ctx.patient.sex.map(|s| match s {
                Sex::Female => "female".into(),
                Sex::Male => "male".into(),
            }),
            age_years: ctx.patient.age_years,
            sources: ctx.patient_sources.clone(),
        },
        spine: seg.report.clone(),
        measurements,
        body_composition: body,
        findings: fnd,
        provenance: Provenance {
            stages,
            total_ms: t_all.elapsed().as_secs_f64() * 1e3,
            methods: vec![
                format!("spinekit-ct {}: classical segmentation (bone threshold, marrow enclosed by cortex, column tracing, disc gaps, rib shafts cut from rib-bearing vertebrae) and level naming from C2, first and last rib, rib count, sacrum and sacroiliac joints, lumbar count, checked against each other and against the final maps", env!("CARGO_PKG_VERSION")),
                format!("spinekit-measure {}: {}", env!("CARGO_PKG_VERSION"), spinekit_measure::SCHEMA),
                format!("spinekit-bodycomp {}: single-slice body composition, HU windows of clinical-reference §3.1", env!("CARGO_PKG_VERSION")),
                "Thresholds and definitions: docs/clinical-reference.md (sections cited in each method line)".into(),
            ],
            warnings,
        },
    };
    pb.finish_and_clear();
    Ok(Analysis {
        ct,
        segmentation: seg,
        report,
        tissue_maps: maps,
    })
}

/// Current UTC time as ISO 8601.
fn utc_now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Writes report.json, report.html and labels.nii.gz into `dir`; each file atomically.
pub fn write_analysis(dir: &Path, a: &Analysis) -> CmdResult {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("{}: cannot create the folder: {e}", dir.display()))?;
    let html = render_html(
        &a.report,
        &RenderInputs {
            ct: &a.ct,
            segmentation: &a.segmentation,
            tissue_maps: &a.tissue_maps,
        },
    )
    .map_err(|e| format!("the report pictures could not be encoded: {e}"))?;
    let opts = spinekit_nifti::WriteOptions {
        description: "spinekit analyze".into(),
        ..Default::default()
    };
    spinekit_nifti::write_nifti(
        dir.join("labels.nii.gz"),
        &a.segmentation.labels,
        Some(&level_table(&present_values(&a.segmentation.labels), "")),
        &opts,
    )?;
    write_json(&dir.join("report.json"), &serde_json::to_value(&a.report)?)?;
    spinekit_atomic::write_bytes_atomic(&dir.join("report.html"), html.as_bytes())?;
    Ok(())
}

/// Parses DICOM PatientAge ("045Y", "006M", "012W", "003D") into years.
fn dicom_age_years(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.len() != 4 {
        return None;
    }
    let n: f64 = s[..3].parse().ok()?;
    let per_year = match &s[3..] {
        "Y" => 1.0,
        "M" => 12.0,
        "W" => 52.1775,
        "D" => 365.25,
        _ => return None,
    };
    Some(n / per_year)
}

/// The source series' header facts, when the input is DICOM.
fn dicom_source(input: &Path, series: &SeriesArg) -> Option<spinekit_dicom::SourceSeries> {
    let scan = spinekit_dicom::scan(input).ok()?;
    spinekit_dicom::source_series(&scan, &series.options().series).ok()
}

pub fn analyze(a: AnalyzeArgs) -> CmdResult {
    check_range("height", a.height_cm, 50.0, 250.0, "cm")?;
    check_range("weight", a.weight_kg, 2.0, 400.0, "kg")?;
    check_range("age", a.age, 0.0, 120.0, "years")?;
    let opened = spinekit_io::open_volume(&a.input, &a.series.options())?;
    for w in &opened.warnings {
        eprintln!("spinekit: warning: {w}");
    }
    let format = format!("{:?}", opened.format);
    let is_dicom = matches!(
        opened.format,
        spinekit_io::Format::DicomFolder
            | spinekit_io::Format::DicomZip
            | spinekit_io::Format::DicomFile
    );
    let warnings = opened.warnings.clone();
    let ct = opened.into_ct_hu().map_err(|e| match e {
        spinekit_io::IoError::NotCt { .. } => Box::new(ExitError {
            code: EXIT_NOT_CT,
            message: e.to_string(),
        }) as Box<dyn std::error::Error>,
        e => e.into(),
    })?;
    let g = *ct.geometry();
    let mut patient = PatientInfo {
        height_cm: a.height_cm,
        weight_kg: a.weight_kg,
        sex: a.sex.map(|s| match s {
            SexArg::F => Sex::Female,
            SexArg::M => Sex::Male,
        }),
        age_years: a.age,
    };
    let mut sources = Vec::new();
    for (name, given) in [
        ("height", a.height_cm.is_some()),
        ("weight", a.weight_kg.is_some()),
        ("sex", a.sex.is_some()),
        ("age", a.age.is_some()),
    ] {
        if given {
            sources.push(format!("{name} from the command line"));
        }
    }
    let source = if is_dicom {
        dicom_source(&a.input, &a.series)
    } else {
        None
    };
    let mut hints = ContrastHints::default();
    if let Some(s) = &source {
        if patient.height_cm.is_none() {
            if let Some(m) = s.patient_size_m.filter(|m| (0.5..=2.5).contains(m)) {
                patient.height_cm = Some(m * 100.0);
                sources.push("height from DICOM PatientSize".into());
            }
        }
        if patient.weight_kg.is_none() {
            if let Some(w) = s.patient_weight_kg.filter(|w| (2.0..=400.0).contains(w)) {
                patient.weight_kg = Some(w);
                sources.push("weight from DICOM PatientWeight".into());
            }
        }
        if patient.sex.is_none() {
            patient.sex = match s.patient_sex.as_str() {
                "F" => Some(Sex::Female),
                "M" => Some(Sex::Male),
                _ => None,
            };
            if patient.sex.is_some() {
                sources.push("sex from DICOM PatientSex".into());
            }
        }
        if patient.age_years.is_none() {
            if let Some(y) = dicom_age_years(&s.patient_age) {
                patient.age_years = Some(y);
                sources.push("age from DICOM PatientAge".into());
            }
        }
        let opt = |t: &str| (!t.is_empty()).then(|| t.to_string());
        hints = ContrastHints {
            contrast_bolus_agent: opt(&s.contrast_bolus_agent),
            series_description: opt(&s.series_description),
            other_text: opt(format!("{} {}", s.study_description, s.protocol_name).trim()),
        };
    }
    if patient.height_cm.is_none() {
        sources.push("height not given: skeletal muscle index not computed".into());
    }
    let ctx = AnalysisContext {
        patient,
        patient_sources: sources,
        phase_override: a.phase.map(|p| match p {
            PhaseArg::Native => ContrastPhase::NonContrast,
            PhaseArg::Arterial => ContrastPhase::Arterial,
            PhaseArg::PortalVenous => ContrastPhase::PortalVenous,
        }),
        hints,
        input: Some(InputSummary {
            format,
            dims: ct.dims(),
            spacing_mm: g.spacing_mm,
            orientation: g.orientation_code().to_string(),
            series_description: source
                .as_ref()
                .map(|s| s.series_description.clone())
                .filter(|d| !d.is_empty()),
            study_instance_uid: source
                .as_ref()
                .map(|s| s.study_instance_uid.clone())
                .filter(|d| !d.is_empty()),
            series_instance_uid: source
                .as_ref()
                .map(|s| s.series_instance_uid.clone())
                .filter(|d| !d.is_empty()),
        }),
        warnings,
    };
    let t0 = Instant::now();
    let analysis = analyze_ct(ct, ctx, true)?;
    write_analysis(&a.output, &analysis)?;
    let mut written = "report.html, report.json, labels.nii.gz".to_string();
    if let Some(mut src) = source {
        // SEG and SR link back to the source study; blank UIDs in the source get new ones (with a warning).
        for w in spinekit_dicom_report::complete_source(&mut src) {
            eprintln!("spinekit: warning: {w}");
        }
        match spinekit_report::write_dicom(
            &a.output,
            &src,
            &analysis.report,
            &analysis.segmentation.labels,
        ) {
            Ok(d) => {
                written.push_str(&format!(
                    ", seg.dcm ({} segments), sr.dcm, dicom.json",
                    d.seg.segments.len()
                ));
            }
            Err(e) => eprintln!("spinekit: warning: DICOM SEG/SR not written: {e}"),
        }
    }
    let r = &analysis.report;
    println!(
        "analyzed in {:.2} s: {} vertebrae, numbering {:?}",
        t0.elapsed().as_secs_f64(),
        r.spine.vertebrae.len(),
        r.spine.numbering.status
    );
    for f in r.findings.iter().filter(|f| f.flag) {
        println!("  ! {}", f.text);
    }
    println!("wrote {}: {written}", a.output.display());
    println!("Research software, not a medical device: check every finding on the images.");
    Ok(())
}
