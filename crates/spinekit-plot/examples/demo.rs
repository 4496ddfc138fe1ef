//! Writes demo charts to a folder (for eyeballing layout): `cargo run -p spinekit-plot --example demo -- DIR`.
use spinekit_plot::*;

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    let pts = vec![
        (0.0, 1.0),
        (1.0, 2.0),
        (2.0, f64::NAN),
        (3.0, 3.0),
        (4.0, 2.0),
        (f64::INFINITY, 2.0),
        (5.0, f64::NEG_INFINITY),
        (6.0, 1.0),
        (7.0, 2.0),
    ];
    let nan = Chart::new("nan", Axis::new("x"), Axis::new("y"))
        .series(Series::line("line", pts.clone()))
        .series(Series::scatter("dots", pts.clone()))
        .series(Series::step("step", pts.clone()))
        .series(Series::bars("bars", pts.clone()));
    let roc = roc_curve(
        &[(0.0, 0.0), (0.05, 0.5), (0.1, 0.7), (0.3, 0.9), (1.0, 1.0)],
        "AUC 0.93 (95 % CI 0.90–0.96)",
    );
    let bins: Vec<CalibrationBin> = (0..10)
        .map(|i| {
            let p = (i as f64 + 0.5) / 10.0;
            CalibrationBin {
                mean_predicted: p,
                observed: (p * 0.9 + 0.03).min(1.0),
                n: 20 + i,
                ci: Some(((p - 0.1).max(0.0), (p + 0.1).min(1.0))),
            }
        })
        .collect();
    let cal = calibration_plot(&bins);
    let means: Vec<f64> = (0..50).map(|i| 100.0 + i as f64).collect();
    let diffs: Vec<f64> = (0..50).map(|i| ((i * 37) % 11) as f64 - 5.0).collect();
    let ba = bland_altman(&diffs, &means, 0.1, (-6.0, 6.2));
    let wf = waterfall(
        -0.5,
        &[
            ("degree_spondylolisthesis = 52.3", 1.8),
            ("pelvic_radius = 110", -0.4),
            ("sacral_slope = 40", 0.2),
        ],
        1.1,
    );
    let bands = vec![
        Band::new(f64::NEG_INFINITY, 80.0, "osteoporosis", Colour::RED),
        Band::new(80.0, 120.0, "osteopenia", Colour::ORANGE),
        Band::new(120.0, f64::INFINITY, "normal", Colour::GREEN),
    ];
    let hu = bars_by_category(
        "Trabecular HU by level",
        "HU",
        &[
            ("T12", 140.0),
            ("L1", 118.0),
            ("L2", f64::NAN),
            ("L3", 75.0),
        ],
        bands,
    );
    let imp = horizontal_bars(
        "Global importance",
        "mean |SHAP|",
        &[
            ("degree_spondylolisthesis", 2.1),
            ("pelvic_radius", 0.7),
            ("sacral_slope", 0.1),
        ],
    );
    for (name, c) in [
        ("nan", nan),
        ("roc", roc),
        ("cal", cal),
        ("ba", ba),
        ("wf", wf),
        ("hu", hu),
        ("imp", imp),
    ] {
        c.write_png(&dir.join(format!("{name}.png")), 640, 420)
            .unwrap();
        c.write_svg(&dir.join(format!("{name}.svg")), 640, 420)
            .unwrap();
    }
}
