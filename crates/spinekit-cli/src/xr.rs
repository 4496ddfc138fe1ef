//! `spinekit xr …`: radiograph alignment. `xr measure` computes Cobb angles (AP, AASCE 2019 convention) or
//! spinopelvic parameters (lateral) from landmarks, one radiograph or a whole AASCE-layout folder.
//! Further radiograph subcommands (e.g. landmark detection) add a variant to [`XrCommand`] in their own module.

use crate::commands::CmdResult;
use clap::{Args, Subcommand};
use spinekit_xr::aasce::{image_size, AasceDataset};
use spinekit_xr::ap::aasce_angles;
use spinekit_xr::draw::{annotate_ap, annotate_lateral, load_gray, write_png};
use spinekit_xr::report::{read_landmarks, write_json, ApReport, Landmarks, LateralReport};
use spinekit_xr::{smape, smape_one, RESEARCH_NOTICE};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct XrArgs {
    #[command(subcommand)]
    pub command: XrCommand,
}

#[derive(Subcommand, Debug)]
pub enum XrCommand {
    /// Measure alignment from landmarks: AP Cobb angles (main/upper/lower, end vertebrae, apex, curve names) or
    /// lateral PI/PT/SS/LL/TK/SVA/TPA with SRS–Schwab modifiers. Writes measurements.json and annotated.png.
    /// With --aasce DIR: all images of an AASCE-layout folder, SMAPE against labels/angles.csv.
    Measure(MeasureArgs),
    /// Find the T1–L5 vertebral body corners automatically on an AP full-spine radiograph (small CNN trained on
    /// AASCE 2019), then measure the Cobb angles. Writes landmarks.json, detection.json, ap.json and ap.png.
    /// Exit status 6: model weights missing or damaged; 7: not an AP spine radiograph.
    Detect(crate::xr_detect::XrDetectArgs),
}

pub fn xr(a: XrArgs) -> CmdResult {
    match a.command {
        XrCommand::Measure(m) => measure(m),
        XrCommand::Detect(d) => crate::xr_detect::detect(d),
    }
}

#[derive(Args, Debug)]
pub struct MeasureArgs {
    /// The radiograph (PNG or JPEG).
    #[arg(required_unless_present = "aasce", conflicts_with = "aasce")]
    image: Option<PathBuf>,
    /// Landmarks: JSON (`"view": "ap"` or `"lateral"`, schemas in the spinekit-xr docs) or an AASCE
    /// landmarks.csv (one row, or the dataset file with filenames.csv beside it).
    #[arg(long, value_name = "FILE")]
    landmarks: Option<PathBuf>,
    /// An AASCE-layout folder (images/, labels/landmarks.csv, labels/filenames.csv, labels/angles.csv):
    /// measure every image and report SMAPE against angles.csv.
    #[arg(long, value_name = "DIR")]
    aasce: Option<PathBuf>,
    /// Output folder (created if missing).
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// With --aasce: also write an annotated PNG per image (slower: decodes every radiograph).
    #[arg(long)]
    png: bool,
    /// With --aasce: how many of the worst-agreeing images to list.
    #[arg(long, default_value_t = 10)]
    worst: usize,
}

fn measure(a: MeasureArgs) -> CmdResult {
    std::fs::create_dir_all(&a.output).map_err(|e| {
        format!(
            "cannot create the output folder {}: {e}",
            a.output.display()
        )
    })?;
    if let Some(root) = &a.aasce {
        return measure_aasce(root, &a);
    }
    let image = a
        .image
        .as_deref()
        .ok_or("give a radiograph or --aasce DIR")?;
    let lm_path = a
        .landmarks
        .as_deref()
        .ok_or("give the landmarks with --landmarks FILE (.json or AASCE .csv)")?;
    let size = image_size(image)?;
    let source = lm_path.display().to_string();
    let json_path = a.output.join("measurements.json");
    let png_path = a.output.join("annotated.png");
    match read_landmarks(lm_path, image, size)? {
        Landmarks::Ap(l) => {
            let r = ApReport::new(&l, size, &source);
            let gray = load_gray(image)?;
            write_png(&png_path, &annotate_ap(&gray, &l, &r.cobb))?;
            write_json(&json_path, &r)?;
            let c = &r.cobb;
            println!(
                "AP Cobb (AASCE 2019): main {:.1}°, upper {:.1}°, lower {:.1}°{}",
                c.main_deg,
                c.upper_deg,
                c.lower_deg,
                if c.s_curve { " (S curve)" } else { "" }
            );
            for cv in &c.curves {
                println!(
                    "  {:<17} {:5.1}°  {}–{}  apex {}",
                    cv.region.name(),
                    cv.angle_deg,
                    cv.upper_end,
                    cv.lower_end,
                    cv.apex
                );
            }
        }
        Landmarks::Lateral(l) => {
            let r = LateralReport::new(&l, size, &source)?;
            let gray = load_gray(image)?;
            write_png(&png_path, &annotate_lateral(&gray, &l, &r.measurements))?;
            write_json(&json_path, &r)?;
            let m = &r.measurements;
            println!(
                "Lateral: PI {:.1}°, PT {:.1}°, SS {:.1}°, LL(L1–S1) {:.1}°, TK(T4–T12) {:.1}°, PI–LL {:.1}°, TPA {:.1}°, SVA {}",
                m.pelvic_incidence_deg,
                m.pelvic_tilt_deg,
                m.sacral_slope_deg,
                m.lumbar_lordosis_l1_s1_deg,
                m.thoracic_kyphosis_t4_t12_deg,
                m.pi_minus_ll_deg,
                m.t1_pelvic_angle_deg,
                match m.sagittal_vertical_axis_mm {
                    Some(v) => format!("{v:.1} mm"),
                    None => format!("{:.0} px (uncalibrated)", m.sagittal_vertical_axis_px),
                }
            );
        }
    }
    println!(
        "wrote {} and {} ({RESEARCH_NOTICE})",
        json_path.display(),
        png_path.display()
    );
    Ok(())
}

#[derive(serde::Serialize)]
struct Outlier {
    image: String,
    smape_pct: f64,
    measured_main_upper_lower_deg: [f64; 3],
    reference_main_upper_lower_deg: [f64; 3],
}

#[derive(serde::Serialize)]
struct AasceSummary {
    notice: &'static str,
    images: usize,
    s_curves: usize,
    smape_pct: Option<f64>,
    mean_abs_error_main_upper_lower_deg: Option<[f64; 3]>,
    column_order: &'static str,
    method: String,
    worst: Vec<Outlier>,
}

fn measure_aasce(root: &Path, a: &MeasureArgs) -> CmdResult {
    let ds = AasceDataset::open(root)?;
    if ds.is_empty() {
        return Err(format!(
            "{} lists no images",
            root.join("labels/filenames.csv").display()
        )
        .into());
    }
    let png_dir = a.output.join("annotated");
    if a.png {
        std::fs::create_dir_all(&png_dir)
            .map_err(|e| format!("cannot create {}: {e}", png_dir.display()))?;
    }
    let mut pred = Vec::with_capacity(ds.len());
    let mut s_curves = 0;
    let mut method = String::new();
    let mut csv = String::from("image,main_deg,upper_deg,lower_deg,s_curve,reference_main_deg,reference_upper_deg,reference_lower_deg,smape_pct\n");
    for i in 0..ds.len() {
        let (l, size) = ds.landmarks_px(i)?;
        let c = aasce_angles(&l, size[1] as f64);
        s_curves += c.s_curve as usize;
        let t = c.triple();
        let _ = write!(
            csv,
            "\"{}\",{:.4},{:.4},{:.4},{}",
            ds.filenames[i], t[0], t[1], t[2], c.s_curve
        );
        match &ds.angles_deg {
            Some(r) => {
                let r = r[i];
                let _ = writeln!(csv, ",{},{},{},{:.4}", r[0], r[1], r[2], smape_one(&t, &r));
            }
            None => csv.push_str(",,,,\n"),
        }
        if a.png {
            let gray = load_gray(&ds.image_path(i))?;
            let name = format!("{}.png", ds.filenames[i]);
            write_png(&png_dir.join(name), &annotate_ap(&gray, &l, &c))?;
        }
        if method.is_empty() {
            method = c.method.clone();
        }
        pred.push(t);
    }
    spinekit_atomic::write_bytes_atomic(&a.output.join("aasce_angles.csv"), csv.as_bytes())
        .map_err(|e| format!("cannot write aasce_angles.csv: {e}"))?;
    let mut summary = AasceSummary {
        notice: RESEARCH_NOTICE,
        images: ds.len(),
        s_curves,
        smape_pct: None,
        mean_abs_error_main_upper_lower_deg: None,
        column_order: "angles.csv columns are (main, upper, lower) of the AASCE convention, whatever the dataset's \
notes call them",
        method,
        worst: Vec::new(),
    };
    println!("{} radiographs, {} S curves", ds.len(), s_curves);
    if let Some(truth) = &ds.angles_deg {
        let s = smape(&pred, truth);
        let mut mae = [0.0; 3];
        for (p, t) in pred.iter().zip(truth) {
            for k in 0..3 {
                mae[k] += (p[k] - t[k]).abs() / pred.len() as f64;
            }
        }
        let mut order: Vec<usize> = (0..pred.len()).collect();
        order.sort_by(|&x, &y| {
            smape_one(&pred[y], &truth[y]).total_cmp(&smape_one(&pred[x], &truth[x]))
        });
        println!(
            "SMAPE {s:.3} % against labels/angles.csv; mean absolute error main {:.2}°, upper {:.2}°, lower {:.2}°",
            mae[0], mae[1], mae[2]
        );
        println!("worst agreement (measured vs reference main/upper/lower, degrees):");
        for &i in order.iter().take(a.worst) {
            let (p, t) = (pred[i], truth[i]);
            println!(
                "  {:6.2} %  {}  measured {:.1}/{:.1}/{:.1}  reference {:.1}/{:.1}/{:.1}",
                smape_one(&p, &t),
                ds.filenames[i],
                p[0],
                p[1],
                p[2],
                t[0],
                t[1],
                t[2]
            );
            summary.worst.push(Outlier {
                image: ds.filenames[i].clone(),
                smape_pct: smape_one(&p, &t),
                measured_main_upper_lower_deg: p,
                reference_main_upper_lower_deg: t,
            });
        }
        summary.smape_pct = Some(s);
        summary.mean_abs_error_main_upper_lower_deg = Some(mae);
    }
    write_json(&a.output.join("aasce_summary.json"), &summary)?;
    println!(
        "wrote {} and {} ({RESEARCH_NOTICE})",
        a.output.join("aasce_angles.csv").display(),
        a.output.join("aasce_summary.json").display()
    );
    Ok(())
}
