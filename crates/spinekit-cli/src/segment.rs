//! `spinekit segment`: bone, vertebrae with level names, bodies, discs and canal from a CT, plus `spine.json`.

use crate::commands::{CmdResult, ExitError, SeriesArg};
use crate::phantom::{level_table, present_values, progress_bar, table, write_json};
use clap::Args;
use spinekit_anatomy::Level;
use spinekit_ct::{CtError, SegmentOptions, Segmentation};
use spinekit_image::Volume;
use spinekit_nifti::WriteOptions;
use std::path::{Path, PathBuf};

/// Exit statuses a script can act on (1 stays "any other error").
pub const EXIT_NOT_CT: u8 = 3;
pub const EXIT_NO_SPINE: u8 = 4;
pub const EXIT_TOO_THIN: u8 = 5;

#[derive(Args, Debug)]
pub struct SegmentArgs {
    /// CT scan: DICOM folder/zip/file, NIfTI or MetaImage, in Hounsfield units.
    input: PathBuf,
    /// Output folder (created if needed).
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    series: SeriesArg,
}

/// Maps engine refusals to their exit statuses.
pub fn ct_error(e: CtError) -> ExitError {
    let code = match &e {
        CtError::NotCt(_) => EXIT_NOT_CT,
        CtError::NoSpine(_) => EXIT_NO_SPINE,
        CtError::TooThin { .. } | CtError::Empty => EXIT_TOO_THIN,
        CtError::Geometry(_) => 1,
    };
    ExitError {
        code,
        message: e.to_string(),
    }
}

/// Opens a CT, refusing other modalities (exit status 3) when the file says what it is.
pub fn open_ct(
    input: &Path,
    series: &SeriesArg,
) -> Result<Volume<i16>, Box<dyn std::error::Error>> {
    let opened = spinekit_io::open_volume(input, &series.options())?;
    for w in &opened.warnings {
        eprintln!("spinekit: warning: {w}");
    }
    opened.into_ct_hu().map_err(|e| match e {
        spinekit_io::IoError::NotCt { .. } => Box::new(ExitError {
            code: EXIT_NOT_CT,
            message: e.to_string(),
        }) as Box<dyn std::error::Error>,
        e => e.into(),
    })
}

/// Runs the engine with a progress bar.
pub fn run_engine(ct: &Volume<i16>) -> Result<Segmentation, ExitError> {
    let pb = progress_bar("segment");
    let cb = |stage: &str, f: f32| {
        pb.set_message(stage.to_string());
        pb.set_position((f.clamp(0.0, 1.0) * 1000.0) as u64);
    };
    let r = spinekit_ct::segment(ct, &SegmentOptions::default(), Some(&cb));
    pb.finish_and_clear();
    r.map_err(ct_error)
}

/// Writes the maps and `spine.json` into `dir`.
pub fn write_segmentation(dir: &Path, seg: &Segmentation) -> CmdResult {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("{}: cannot create the folder: {e}", dir.display()))?;
    let opts = WriteOptions {
        description: "spinekit segment".into(),
        ..Default::default()
    };
    let write = |name: &str, v: &Volume<u8>, t: &spinekit_nifti::LabelTable| {
        spinekit_nifti::write_nifti(dir.join(name), v, Some(t), &opts)
    };
    write("bone.nii.gz", &seg.bone, &table([(1, "bone".to_string())]))?;
    write(
        "labels.nii.gz",
        &seg.labels,
        &level_table(&present_values(&seg.labels), ""),
    )?;
    write(
        "bodies.nii.gz",
        &seg.bodies,
        &level_table(&present_values(&seg.bodies), "body "),
    )?;
    let discs = table(present_values(&seg.discs).into_iter().filter_map(|v| {
        let upper = Level::from_verse_label(v.checked_sub(100)?)?;
        Some((v as u32, format!("disc below {}", upper.name())))
    }));
    write("discs.nii.gz", &seg.discs, &discs)?;
    write(
        "canal.nii.gz",
        &seg.canal,
        &table([(1, "spinal canal".to_string())]),
    )?;
    let stages: Vec<serde_json::Value> = seg
        .timings
        .iter()
        .map(|t| serde_json::json!({ "stage": t.stage, "ms": t.ms }))
        .collect();
    let json = serde_json::json!({
        "format": "spinekit-spine/1",
        "software": format!("spinekit {}", env!("CARGO_PKG_VERSION")),
        "disclaimer": "Research software, not a medical device. Not for diagnosis or treatment decisions.",
        "method": "classical image analysis (spinekit-ct): bone ≥ 180 HU with cortex, marrow enclosed by cortex whatever its \
                   density (the scan's first and last slices count as closed); column traced through body centres \
                   (into the neck up to C2); discs = gaps in bone along the centreline, or two endplates closer than 0.4 of \
                   the disc spacing in the CT values (narrowed or thick-slice discs the bone mask bridges); disc labels = \
                   non-bone voxels with the bodies above and below along the disc's normal; vertebrae grown through bone \
                   from the body cores (loose calcifications in front of the column left out), rib shafts beyond \
                   38 mm cut from rib-bearing vertebrae, outer surface refined on the input grid (< 150 HU left out); \
                   height = distance between the disc planes on the centreline; names from C2's dens, first and last \
                   rib, rib count, sacrum and sacroiliac joints and lumbar count, checked against each other and \
                   against the final maps (volume, height, spacing)",
        "coordinates": "DICOM patient LPS, millimetres",
        "label_numbering": "VerSe: 1–7 C1–C7, 8–19 T1–T12, 20–24 L1–L5, 25 L6, 26 sacrum, 28 T13; discs 100 + label of the level above",
        "report": seg.report,
        "timings": stages,
    });
    write_json(&dir.join("spine.json"), &json)?;
    Ok(())
}

pub fn segment(a: SegmentArgs) -> CmdResult {
    let ct = open_ct(&a.input, &a.series)?;
    let t0 = std::time::Instant::now();
    let seg = run_engine(&ct)?;
    let secs = t0.elapsed().as_secs_f64();
    write_segmentation(&a.output, &seg)?;
    let r = &seg.report;
    let names: Vec<&str> = r.vertebrae.iter().map(|v| v.level.name()).collect();
    println!(
        "segmented in {secs:.2} s: {} vertebrae ({})",
        names.len(),
        names.join(" ")
    );
    println!(
        "numbering: {:?} — {}",
        r.numbering.status, r.numbering.reason
    );
    println!(
        "wrote {}: bone, labels, bodies, discs, canal (.nii.gz), spine.json",
        a.output.display()
    );
    Ok(())
}
