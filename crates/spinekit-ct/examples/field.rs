//! Phantom field diagnostics: `cargo run --release -p spinekit-ct --example field -- VARIANT FIRST LAST VOXEL_MM[,Y,Z] [CERVICAL_LORDOSIS_DEG]`
//! (VARIANT: normal, l6, t13, eleven, sacl5; env NOISE, HU, CONTRAST, AORTA, ORAL, SLAB) prints the numbering, per-level names against the truth and the stage
//! timings; with `DIAG_OUT=DIR` it writes the CT, truth and labels as raw maps (i fastest) plus `dims.txt`.

use spinekit_anatomy::{Enumeration, Level};
use spinekit_ct::{segment, SegmentOptions};
use spinekit_phantom::{generate, PhantomConfig};

fn level(s: &str) -> Level {
    (1..=28u8)
        .filter_map(Level::from_verse_label)
        .find(|l| l.name().eq_ignore_ascii_case(s))
        .unwrap_or_else(|| {
            eprintln!("unknown level {s}");
            std::process::exit(2)
        })
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 4 {
        eprintln!("usage: field VARIANT FIRST LAST VOXEL_MM");
        std::process::exit(2);
    }
    let e = match a[0].as_str() {
        "l6" => Enumeration::L6,
        "t13" => Enumeration::T13,
        "eleven" => Enumeration::ElevenRibs,
        "sacl5" => Enumeration::SacralisedL5,
        _ => Enumeration::Normal,
    };
    let mut c = PhantomConfig::small(level(&a[1]), level(&a[2]));
    c.enumeration = e;
    // One size for all axes, or `X,Y,Z` (a clinical grid such as 0.8,0.8,3).
    let v: Vec<f64> = a[3].split(',').filter_map(|x| x.parse().ok()).collect();
    c.voxel_size_mm = match v[..] {
        [x, y, z] => [x, y, z],
        [s] => [s; 3],
        _ => [2.0; 3],
    };
    if let Some(cl) = a.get(4).and_then(|x| x.parse().ok()) {
        c.sagittal.cervical_lordosis_deg = cl;
    }
    // `NOISE=HU` (noise in water; low-dose CT 30–60) and `HU=…` (trabecular bone) override the defaults.
    if let Some(n) = std::env::var("NOISE").ok().and_then(|v| v.parse().ok()) {
        c.noise_sigma_hu = n;
    }
    if let Some(h) = std::env::var("HU").ok().and_then(|v| v.parse().ok()) {
        c.trabecular_hu = h;
    }
    // `CONTRAST=venous|arterial`: a contrast-enhanced study.
    match std::env::var("CONTRAST").as_deref() {
        Ok("venous") => c.contrast_phase = spinekit_phantom::ContrastPhase::PortalVenous,
        Ok("arterial") => c.contrast_phase = spinekit_phantom::ContrastPhase::Arterial,
        _ => {}
    }
    // `ORAL=HU`: positive oral contrast in the small bowel.
    if let Some(o) = std::env::var("ORAL").ok().and_then(|v| v.parse().ok()) {
        c.oral_contrast_hu = Some(o);
    }
    // `AORTA=HU`: the enhanced aorta's density (a CT angiogram at peak enhancement reads 400–500 HU).
    if let Some(a) = std::env::var("AORTA").ok().and_then(|v| v.parse().ok()) {
        c.aorta_hu = Some(a);
    }
    let t = std::time::Instant::now();
    let p = generate(&c, None).unwrap();
    println!(
        "phantom {:?} in {:.0} ms",
        p.ct.dims(),
        t.elapsed().as_secs_f64() * 1e3
    );
    // `SLAB=N`: thick-slice reconstruction, each slice the mean of N generated slices (5 mm slices of older
    // archives from a 1 mm phantom with SLAB=5); the truth stays on the fine grid (centroids are compared in mm).
    let ct = match std::env::var("SLAB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        Some(n) if n > 1 => {
            println!(
                "thick slices: {n} × {:.1} mm",
                p.ct.geometry().spacing_mm[2]
            );
            spinekit_phantom::thick_slices(&p.ct, n)
        }
        _ => p.ct.clone(),
    };
    let t = std::time::Instant::now();
    let s = segment(&ct, &SegmentOptions::default(), None).unwrap();
    println!("segment {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    for st in &s.timings {
        println!("{:>24} {:8.1} ms", st.stage, st.ms);
    }
    let n = &s.report.numbering;
    println!("{:?} {:?}: {}", n.status, n.enumeration, n.reason);
    for ev in &n.evidence {
        println!("  - {ev}");
    }
    let props = spinekit_morph::region_props(&p.labels);
    for v in &s.report.vertebrae {
        let near = props
            .iter()
            .map(|t| {
                let d = (0..3)
                    .map(|i| (t.centroid_mm[i] - v.centroid_mm[i]).powi(2))
                    .sum::<f64>()
                    .sqrt();
                (t.label, d)
            })
            .min_by(|x, y| x.1.total_cmp(&y.1));
        let truth = near.and_then(|(l, d)| (d <= 20.0).then(|| Level::from_verse_label(l as u8)));
        println!(
            "{:>6} truth {:>6} {} h {:?} ribs {:?} partial {} c {:.0?}",
            v.level.name(),
            truth.flatten().map_or("-".into(), |l| l.name().to_string()),
            if truth.flatten() == Some(v.level) {
                "ok"
            } else {
                "WRONG"
            },
            v.height_mm.map(|h| h.round()),
            v.rib_bearing,
            v.partial,
            v.centroid_mm
        );
    }
    if let Ok(dir) = std::env::var("DIAG_OUT") {
        let d = std::path::Path::new(&dir);
        std::fs::write(d.join("labels.u8"), s.labels.data()).unwrap();
        std::fs::write(d.join("bone.u8"), s.bone.data()).unwrap();
        std::fs::write(d.join("truth.u8"), p.labels.data()).unwrap();
        let raw: Vec<u8> = p.ct.data().iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(d.join("ct.i16"), raw).unwrap();
        std::fs::write(d.join("dims.txt"), format!("{:?}", p.ct.dims())).unwrap();
    }
}
