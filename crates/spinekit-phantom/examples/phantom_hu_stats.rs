//! Realism check: HU statistics of bone, muscle and fat in a phantom, to set beside the same numbers from a
//! real CT (e.g. ../shared/data/ct-totalseg-example, 3 mm, read with any NIfTI reader).
//!
//! Usage: `cargo run --release -p spinekit-phantom --example phantom_hu_stats -- [VOXEL_MM] [NOISE_HU] [TRABECULAR_HU]`
//! (defaults 0.8, 15 and 170, i.e. the default phantom; use `3 8 120` to mimic the 3 mm example CT).

use spinekit_anatomy::{Level, Tissue};
use spinekit_phantom::{generate, GridSize, PhantomConfig};

fn stats(name: &str, mut v: Vec<f64>) {
    if v.is_empty() {
        println!("{name:<28} (none)");
        return;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    let q = |p: f64| v[((p * (n - 1.0)).round() as usize).min(v.len() - 1)];
    println!(
        "{name:<28} n {:>8}  mean {mean:>7.1}  sd {sd:>6.1}  p5 {:>6.0}  p25 {:>6.0}  p50 {:>6.0}  p75 {:>6.0}  p95 {:>6.0}",
        v.len(),
        q(0.05),
        q(0.25),
        q(0.5),
        q(0.75),
        q(0.95)
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let voxel: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(0.8);
    let noise: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(15.0);
    let trabecular: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(170.0);
    let cfg = PhantomConfig {
        voxel_size_mm: [voxel, voxel, voxel.max(1.0)],
        noise_sigma_hu: noise,
        trabecular_hu: trabecular,
        grid: if voxel == 0.8 {
            PhantomConfig::default().grid
        } else {
            GridSize::FitLevels {
                inplane_fov_mm: 410.0,
                margin_mm: 20.0,
            }
        },
        ..PhantomConfig::default()
    };
    let ph = generate(&cfg, None).expect("phantom");
    println!(
        "phantom {:?} at {:?} mm, noise {noise} HU",
        ph.ct.dims(),
        cfg.voxel_size_mm
    );
    let ct = ph.ct.data();
    let pick = |f: &dyn Fn(usize) -> bool| -> Vec<f64> {
        (0..ct.len())
            .filter(|&i| f(i))
            .map(|i| ct[i] as f64)
            .collect()
    };
    let bodies = ph.bodies.data();
    let labels = ph.labels.data();
    let tis = ph.tissues.data();
    let lumbar: Vec<u8> = [Level::L1, Level::L2, Level::L3, Level::L4, Level::L5]
        .iter()
        .map(|l| l.verse_label())
        .collect();
    stats(
        "lumbar bodies (L1-L5)",
        pick(&|i| lumbar.contains(&bodies[i])),
    );
    stats("whole vertebrae (all)", pick(&|i| labels[i] != 0));
    stats(
        "skeletal muscle (all groups)",
        pick(&|i| Tissue::from_code(tis[i]).is_some_and(|t| t.is_skeletal_muscle())),
    );
    stats("psoas", pick(&|i| tis[i] == Tissue::Psoas.code()));
    stats(
        "subcutaneous fat",
        pick(&|i| tis[i] == Tissue::SubcutaneousFat.code()),
    );
    stats(
        "visceral fat",
        pick(&|i| tis[i] == Tissue::VisceralFat.code()),
    );
    // Window-based numbers on the L3 slice (the same rule applied to the real CT).
    if let Some(b) = &ph.truth.body_composition_l3 {
        let [ni, nj, _] = ph.ct.dims();
        let n = ni * nj;
        let sl: Vec<f64> = ct[b.slice_index * n..(b.slice_index + 1) * n]
            .iter()
            .map(|&v| v as f64)
            .collect();
        let px = b.pixel_area_mm2 / 100.0;
        let mus: Vec<f64> = sl
            .iter()
            .copied()
            .filter(|v| (-29.0..=150.0).contains(v))
            .collect();
        let fat: Vec<f64> = sl
            .iter()
            .copied()
            .filter(|v| (-190.0..=-30.0).contains(v))
            .collect();
        println!(
            "L3 slice: muscle window −29…150 HU {:.1} cm², fat window −190…−30 HU {:.1} cm²",
            mus.len() as f64 * px,
            fat.len() as f64 * px
        );
        stats("L3 muscle-window voxels", mus);
        stats("L3 fat-window voxels", fat);
        println!(
            "L3 truth: SMA {:.1} cm², VAT {:.1} cm², SAT {:.1} cm², psoas {:.1} cm²",
            b.skeletal_muscle_area_cm2,
            b.visceral_fat_area_cm2,
            b.subcutaneous_fat_area_cm2,
            b.psoas_area_cm2
        );
    }
}
