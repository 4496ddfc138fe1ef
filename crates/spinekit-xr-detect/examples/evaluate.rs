//! Held-out evaluation of the shipped weights on the AASCE validation split (every 5th image by
//! sorted filename):
//! `cargo run --release -p spinekit-xr-detect --example evaluate -- --data /work/shared/data/xr-aasce-training`
//! Prints mean landmark error (px and % of image height), SMAPE of the three Cobb angles against
//! angles.csv, the worst images, refusals and the median inference time per image on this machine.

use spinekit_xr_detect::data::{is_validation, load_samples};
use spinekit_xr_detect::{Detector, N_POINTS};
use std::path::PathBuf;
use std::time::Instant;

/// One held-out image: name, error px, error % of height, predicted and true angles.
type Row = (String, f64, f64, [f64; 3], [f64; 3]);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut data = None;
    let mut weights = None;
    let mut i = 1;
    while i + 1 < args.len() {
        match args[i].as_str() {
            "--data" => data = Some(PathBuf::from(&args[i + 1])),
            "--weights" => weights = Some(PathBuf::from(&args[i + 1])),
            a => {
                eprintln!("unknown argument {a}");
                std::process::exit(2)
            }
        }
        i += 2;
    }
    let Some(data) = data else {
        eprintln!("usage: evaluate --data DIR [--weights FILE]");
        std::process::exit(2)
    };
    let det = match weights {
        Some(w) => Detector::load(&w),
        None => Detector::load_default(),
    }
    .unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1)
    });
    let samples = load_samples(&data).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1)
    });
    let val: Vec<_> = samples
        .iter()
        .filter(|s| is_validation(s.sorted_index))
        .collect();
    println!("held-out images: {} of {}", val.len(), samples.len());

    let mut rows = Vec::new(); // (name, err_px, err_pct, pred angles, truth angles)
    let mut times = Vec::new();
    let mut refused = Vec::new();
    let (mut pred_all, mut truth_all, mut gt_angles) = (Vec::new(), Vec::new(), Vec::new());
    for s in &val {
        let img = spinekit_io::open_image2d(&s.path, &Default::default())
            .expect("readable image")
            .image;
        let t = Instant::now();
        let a = det.analyse(&img);
        times.push(t.elapsed().as_secs_f64());
        if !a.refusals.is_empty() {
            refused.push(format!("{}: {}", s.file_name, a.refusals.join("; ")));
        }
        let truth = s.angles_deg;
        let gt_l = spinekit_xr::ap::ApLandmarks::from_points(&s.landmarks_px).ok();
        if let Some(l) = gt_l {
            gt_angles.push((
                spinekit_xr::ap::aasce_angles(&l, img.height as f64).triple(),
                truth,
            ));
        }
        let Some(d) = a.detection else {
            rows.push((
                s.file_name.clone(),
                f64::NAN,
                f64::NAN,
                [f64::NAN; 3],
                truth,
            ));
            pred_all.push([0.0; 3]);
            truth_all.push(truth);
            continue;
        };
        let err = (0..N_POINTS)
            .map(|k| {
                let (p, g) = (d.landmarks_px[k], s.landmarks_px[k]);
                (p[0] - g[0]).hypot(p[1] - g[1])
            })
            .sum::<f64>()
            / N_POINTS as f64;
        let ang = d.angles().map(|a| a.triple()).unwrap_or([0.0; 3]);
        pred_all.push(ang);
        truth_all.push(truth);
        rows.push((
            s.file_name.clone(),
            err,
            100.0 * err / img.height as f64,
            ang,
            truth,
        ));
    }
    let found: Vec<&Row> = rows.iter().filter(|r| r.1.is_finite()).collect();
    let mean =
        |f: &dyn Fn(&&Row) -> f64| found.iter().map(f).sum::<f64>() / found.len().max(1) as f64;
    let mut errs: Vec<f64> = found.iter().map(|r| r.1).collect();
    errs.sort_by(f64::total_cmp);
    println!(
        "landmark error: mean {:.1} px ({:.2} % of image height), median {:.1} px, on {} of {} images with 17 vertebrae",
        mean(&|r| r.1),
        mean(&|r| r.2),
        errs.get(errs.len() / 2).copied().unwrap_or(f64::NAN),
        found.len(),
        rows.len()
    );
    println!(
        "SMAPE (main, upper, lower vs angles.csv, all held-out images, a missing detection counts as 0 deg): {:.2} %",
        spinekit_xr::smape(&pred_all, &truth_all)
    );
    let (gp, gt): (Vec<[f64; 3]>, Vec<[f64; 3]>) = gt_angles.into_iter().unzip();
    println!(
        "  reference: SMAPE of angles from the manual landmarks vs angles.csv: {:.2} %",
        spinekit_xr::smape(&gp, &gt)
    );
    let mut mae = [0.0; 3];
    for r in &found {
        for (k, m) in mae.iter_mut().enumerate() {
            *m += (r.3[k] - r.4[k]).abs() / found.len() as f64;
        }
    }
    println!(
        "mean absolute angle error: main {:.1} deg, upper {:.1} deg, lower {:.1} deg",
        mae[0], mae[1], mae[2]
    );
    println!(
        "refused (would be refused by detect): {} of {}",
        refused.len(),
        rows.len()
    );
    for r in &refused {
        println!("  {r}");
    }
    let mut worst: Vec<_> = rows.iter().collect();
    worst.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("worst images by landmark error:");
    for r in worst.iter().take(6) {
        println!(
            "  {}: {:.1} px ({:.2} %), angles {:.1}/{:.1}/{:.1} vs {:.1}/{:.1}/{:.1}",
            r.0, r.1, r.2, r.3[0], r.3[1], r.3[2], r.4[0], r.4[1], r.4[2]
        );
    }
    times.sort_by(f64::total_cmp);
    println!(
        "inference (preprocess + network + decode + checks, JPEG decoding excluded): median {:.0} ms, max {:.0} ms per image",
        1e3 * times[times.len() / 2],
        1e3 * times[times.len() - 1]
    );
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    println!(
        "machine: {cpu}, {} threads available",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let log = spinekit_xr_detect::weights_dir().join("training-log.txt");
    if let Ok(text) = std::fs::read_to_string(&log) {
        for l in text.lines().filter(|l| {
            l.starts_with("config")
                || l.starts_with("training")
                || l.starts_with("machine")
                || l.starts_with("stopped")
        }) {
            println!("training: {l}");
        }
    }
}
