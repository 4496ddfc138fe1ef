//! Diagnostics of the lumbosacral measurements: `cargo run --release -p spinekit-measure --example sacrum_diag --
//! (demo | phantom VARIANT | ts)` segments the CT, measures it, measures the reference maps (phantom truth or
//! TotalSegmentator's labels) with the same code and prints the L5 inferior and S1 superior endplates, the L5–S1
//! slip, the lordosis and the sacrum Dice side by side.

use spinekit_anatomy::{Enumeration, Level};
use spinekit_image::Volume;
use spinekit_io::{open_volume, OpenOptions};
use spinekit_measure::*;
use spinekit_morph::dice_labels;
use spinekit_phantom::{generate, PhantomConfig, Visibility};

fn load_u8(p: &str) -> Volume<u8> {
    open_volume(std::path::Path::new(p), &OpenOptions::default())
        .unwrap()
        .volume
        .to_type::<u8>()
}

fn ts_to_verse(v: u8) -> u8 {
    match v {
        26 => 26,
        27..=31 => 24 - (v - 27),
        32 => 19,
        33 => 18,
        _ => 0,
    }
}

fn show(name: &str, m: &SpineMeasurements) {
    for v in &m.vertebrae {
        if !matches!(v.level, Level::L5 | Level::Sacrum | Level::L4 | Level::L6) {
            continue;
        }
        if let Some(f) = v.frame.value() {
            println!(
                "{name} {} frame c {:?} s {:?} depth {:.1} width {:.1}",
                v.level,
                f.centre_mm.map(|x| (x * 10.0).round() / 10.0),
                f.axis_superior.map(|x| (x * 100.0).round() / 100.0),
                f.depth_mm,
                f.width_mm
            );
        }
        for (w, e) in [("sup", &v.superior_endplate), ("inf", &v.inferior_endplate)] {
            match e.value() {
                Some(e) => println!(
                    "{name} {} {w}: sag {:.1} cor {:.1} centre {:?} post {:?} ant {:?} ap {:.1} rms {:.2}",
                    v.level,
                    e.sagittal_tilt_deg,
                    e.coronal_tilt_deg,
                    e.centre_mm.map(|x| (x * 10.0).round() / 10.0),
                    e.posterior_corner_mm.map(|x| (x * 10.0).round() / 10.0),
                    e.anterior_corner_mm.map(|x| (x * 10.0).round() / 10.0),
                    e.ap_length_mm,
                    e.rms_residual_mm
                ),
                None => println!("{name} {} {w}: {:?}", v.level, e.reason()),
            }
        }
    }
    for s in &m.spondylolisthesis {
        if let Some(x) = s.slip.value() {
            println!(
                "{name} slip {}-{} {:.2} mm {:.1} %",
                s.upper, s.lower, x.slip_mm, x.slip_percent
            );
        } else {
            println!("{name} slip {}-{} {:?}", s.upper, s.lower, s.slip.reason());
        }
    }
    println!(
        "{name} LL {:?} {:?}",
        m.alignment.lumbar_lordosis.value().map(|l| l.angle_deg),
        m.alignment.lumbar_lordosis.reason()
    );
}

/// CT, reference labels, reference bodies, reference canal, reference levels.
type Inputs = (
    Volume<i16>,
    Volume<u8>,
    Volume<u8>,
    Option<Volume<u8>>,
    Vec<LevelInput>,
);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("demo");
    let (ct, ref_labels, ref_bodies, ref_canal, ref_levels): Inputs = if what == "ts" {
        let base = spinekit_testdata::shared_data("ct-totalseg-example")
            .expect("../shared/data/ct-totalseg-example is missing");
        let base = format!("{}/", base.display());
        let ct = open_volume(
            std::path::Path::new(&format!("{base}ct.nii.gz")),
            &OpenOptions::default(),
        )
        .unwrap()
        .into_ct_hu()
        .unwrap();
        let lab = load_u8(&format!("{base}labels/vertebrae.nii.gz")).map(ts_to_verse);
        let bd = load_u8(&format!("{base}labels/vertebral_bodies_and_discs.nii.gz"));
        let bodies = Volume::from_vec(
            lab.dims(),
            *lab.geometry(),
            lab.data()
                .iter()
                .zip(bd.data())
                .map(|(&l, &b)| if b == 1 { l } else { 0 })
                .collect(),
        )
        .unwrap();
        let levels = [
            Level::T12,
            Level::L1,
            Level::L2,
            Level::L3,
            Level::L4,
            Level::L5,
            Level::Sacrum,
        ]
        .iter()
        .map(|&l| LevelInput {
            level: l,
            label: l.verse_label(),
            partial: false,
        })
        .collect();
        (ct, lab, bodies, None, levels)
    } else {
        let mut c = if what == "demo" {
            PhantomConfig::default()
        } else {
            PhantomConfig::small(Level::T10, Level::Sacrum)
        };
        match args.get(1).map(String::as_str).unwrap_or("") {
            "l6" => c.enumeration = Enumeration::L6,
            "sacl5" => c.enumeration = Enumeration::SacralisedL5,
            "mm3" => c.voxel_size_mm = [3.0; 3],
            "mm2" => c.voxel_size_mm = [2.0; 3],
            v if v.starts_with("slope") => {
                c.sagittal.sacral_slope_deg = v[5..].parse().expect("slope<DEG>")
            }
            _ => {}
        }
        let p = generate(&c, None).unwrap();
        let levels = p
            .truth
            .levels
            .iter()
            .filter(|l| l.visibility != Visibility::Outside && l.level.has_body())
            .map(|l| LevelInput {
                level: l.level,
                label: l.verse_label,
                partial: l.visibility != Visibility::Full,
            })
            .collect();
        if let Some(t) = &p.truth.alignment.lumbar_lordosis {
            println!("truth LL {:.2} {}-{}", t.deg, t.upper, t.lower);
        }
        println!("truth sacral slope cfg {:.1}", c.sagittal.sacral_slope_deg);
        (p.ct, p.labels, p.bodies, Some(p.canal), levels)
    };
    let t = std::time::Instant::now();
    let seg = spinekit_ct::segment(&ct, &spinekit_ct::SegmentOptions::default(), None).unwrap();
    println!("segment {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    println!(
        "{}",
        serde_json::to_string_pretty(&seg.report.numbering).unwrap()
    );
    let m = measure_segmentation(&ct, &seg, None).unwrap();
    let r = measure(
        &ct,
        &SpineInput {
            labels: &ref_labels,
            bodies: &ref_bodies,
            canal: ref_canal.as_ref(),
            canal_kind: if ref_canal.is_some() {
                CanalMapKind::DuralSac
            } else {
                CanalMapKind::OsseousCanal
            },
            levels: &ref_levels,
        },
        None,
    )
    .unwrap();
    show("ours", &m);
    show("ref ", &r);
    for l in [Level::L4, Level::L5, Level::Sacrum] {
        let lab = l.verse_label();
        println!(
            "{l}: vertebra Dice {:.3} body Dice {:.3}",
            dice_labels(&seg.labels, lab, &ref_labels, lab).unwrap_or(0.0),
            dice_labels(&seg.bodies, lab, &ref_bodies, lab).unwrap_or(0.0)
        );
    }
    let count = |v: &Volume<u8>, l: u8| v.data().iter().filter(|&&x| x == l).count();
    println!(
        "sacrum voxels ours {} ref {}; bodies ours {} ref {}",
        count(&seg.labels, 26),
        count(&ref_labels, 26),
        count(&seg.bodies, 26),
        count(&ref_bodies, 26)
    );
}
