//! `spinekit`: the command line. Parses arguments, calls the library crates, prints results; one-line errors and
//! a non-zero exit status on any failure.

mod analyze;
mod commands;
mod demo_truth;
mod learn;
mod phantom;
mod segment;
mod validate;
mod xr;
mod xr_detect;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Offline spine imaging analysis for CT, MR and radiographs.
///
/// RESEARCH SOFTWARE — NOT A MEDICAL DEVICE. Outputs must not be used on their own for diagnosis or treatment.
///
/// Inputs may be a DICOM folder (any file names), a zip of DICOM files, one DICOM file, NIfTI (.nii/.nii.gz),
/// MetaImage (.mha/.mhd) or a PNG/JPEG radiograph. Coordinates are patient LPS millimetres.
#[derive(Parser, Debug)]
#[command(
    name = "spinekit",
    version,
    about,
    long_about,
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Describe a scan: series found, size, voxel spacing, orientation, position in the patient, intensities,
    /// compression, and any warning (gantry tilt, uneven slice gaps, missing geometry).
    Info(commands::InfoArgs),
    /// Convert any 3D scan (DICOM series, NIfTI, MetaImage) to NIfTI with exact geometry, optionally reoriented
    /// or resampled.
    Convert(commands::ConvertArgs),
    /// Save a PNG picture of one slice (axial, coronal or sagittal) with true proportions, optionally with a label
    /// map drawn over it.
    Picture(commands::PictureArgs),
    /// Find and name every vertebra in a CT: bone, vertebrae (VerSe numbers), bodies, discs and canal as NIfTI
    /// label maps on the input grid, and spine.json with centroids, confidence and the evidence for the numbering.
    /// Exit status 3: not a CT; 4: no spine in view; 5: a single slice, scout or empty volume.
    Segment(segment::SegmentArgs),
    /// The clinical report from a CT: per-level heights, Genant grades, bone density (two conventions), body
    /// composition at L3, alignment, canal, in report.html / report.json / labels.nii.gz (and DICOM SEG + SR when
    /// the input is DICOM). Same exit statuses as `segment`.
    Analyze(analyze::AnalyzeArgs),
    /// Generate a synthetic spine CT with exact ground truth (levels, heights, fractures, angles, HU, muscle and
    /// fat areas) and, on request, a radiograph of it. No patient data is involved.
    Phantom(phantom::PhantomArgs),
    /// Compare results with a site's own reference cases (segmentation, level labelling, measurements or
    /// classification): Dice, surface distances, identification rate, Bland–Altman, ICC, kappa, AUC with CIs.
    /// Writes validation.json and validation.html; with --history DB appends the run to the site's history and
    /// checks it for drift. Exit status 10: drift alert (control limits or a claim).
    Validate(validate::ValidateArgs),
    /// Clinical prediction from a table of patients: train, evaluate (nested cross-validation with 95 % CIs),
    /// predict, and explain with exact SHAP values.
    Learn(learn::LearnArgs),
    /// Run the built-in demonstration on a synthetic spine CT: needs no data and no network.
    Demo(phantom::DemoArgs),
    /// Radiographs: alignment from landmarks (`xr measure`: AP Cobb angles in the AASCE convention, lateral
    /// spinopelvic parameters).
    Xr(xr::XrArgs),
}

/// A closed pipe (`spinekit … | head`) ends the program quietly, as it does for other command-line tools,
/// instead of a panic inside `println!`.
#[cfg(unix)]
fn quiet_on_closed_pipe() {
    // SAFETY: restoring the default disposition of SIGPIPE at start-up, before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn quiet_on_closed_pipe() {}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(a) => commands::info(a),
        Command::Convert(a) => commands::convert(a),
        Command::Picture(a) => commands::picture(a),
        Command::Segment(a) => segment::segment(a),
        Command::Analyze(a) => analyze::analyze(a),
        Command::Phantom(a) => phantom::phantom(a),
        Command::Demo(a) => phantom::demo(a),
        Command::Xr(a) => xr::xr(a),
        Command::Validate(a) => validate::validate(a),
        Command::Learn(a) => learn::learn(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, no patient identifiers: the library errors are written that way.
            let msg = e.to_string().replace('\n', " ");
            eprintln!("spinekit: error: {msg}");
            match e.downcast_ref::<commands::ExitError>() {
                Some(x) => ExitCode::from(x.code),
                None => ExitCode::FAILURE,
            }
        }
    }
}
