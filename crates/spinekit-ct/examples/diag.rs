//! Diagnostics: `cargo run --release -p spinekit-ct --example diag -- (PATH | phantom VARIANT)` prints the
//! numbering, per-level Dice against the reference and the stage timings. `VOX=X,Y,Z` sets a phantom's grid;
//! `NOISE=HU [NOISE_SEED=N] [NOISE_TEXTURE=iid|scanner]` adds noise to the input.

use spinekit_anatomy::{Enumeration, Level};
use spinekit_ct::{segment, SegmentOptions};
use spinekit_image::Volume;
use spinekit_io::{open_volume, OpenOptions};
use spinekit_morph::dice_labels;
use spinekit_phantom::{generate, PhantomConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut truth_bodies: Option<Volume<u8>> = None;
    let (ct, truth): (Volume<i16>, Option<Volume<u8>>) =
        if args.first().map(String::as_str) == Some("phantom") {
            let v = args.get(1).map(String::as_str).unwrap_or("normal");
            let mut c = PhantomConfig::small(Level::T10, Level::Sacrum);
            match v {
                "l6" => c.enumeration = Enumeration::L6,
                "t13" => c.enumeration = Enumeration::T13,
                "eleven" => c.enumeration = Enumeration::ElevenRibs,
                "sacl5" => c.enumeration = Enumeration::SacralisedL5,
                "chest" => {
                    c.first_level = Level::T1;
                    c.last_level = Level::T12;
                }
                "cervicothoracic" => {
                    c.first_level = Level::C5;
                    c.last_level = Level::T8;
                }
                "lumbar" => {
                    c.first_level = Level::L1;
                    c.last_level = Level::L5;
                }
                "mm3" => c.voxel_size_mm = [3.0; 3],
                "screws" => c.screws = vec![Level::L3, Level::L4],
                "arterial" => c.contrast_phase = spinekit_phantom::ContrastPhase::Arterial,
                _ => {}
            }
            // `VOX=X,Y,Z` (mm): the phantom's grid.
            if let Ok(v) = std::env::var("VOX") {
                let v: Vec<f64> = v.split(',').filter_map(|x| x.parse().ok()).collect();
                if let [x, y, z] = v[..] {
                    c.voxel_size_mm = [x, y, z];
                }
            }
            let p = generate(&c, None).unwrap();
            println!("truth rib-bearing {:?}", p.truth.enumeration.rib_bearing);
            truth_bodies = Some(p.bodies);
            (p.ct, Some(p.labels))
        } else {
            let path = std::path::PathBuf::from(&args[0]);
            let ct = open_volume(&path, &OpenOptions::default())
                .and_then(|o| o.into_ct_hu())
                .unwrap();
            let truth = args.get(1).map(|t| {
                let v = open_volume(std::path::Path::new(t), &OpenOptions::default())
                    .unwrap()
                    .volume
                    .to_type::<u8>();
                v.map(|x| match x {
                    26 => 26,
                    27..=31 => 24 - (x - 27),
                    32 => 19,
                    33 => 18,
                    _ => 0,
                })
            });
            (ct, truth)
        };
    // `NOISE=HU [NOISE_SEED=N] [NOISE_TEXTURE=iid|scanner]`: noise added to the input (a noisier series).
    let ct = match std::env::var("NOISE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
    {
        Some(sd) => {
            let seed = std::env::var("NOISE_SEED")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            let texture = match std::env::var("NOISE_TEXTURE").as_deref() {
                Ok("scanner") => spinekit_phantom::NoiseTexture::Scanner,
                _ => spinekit_phantom::NoiseTexture::Uncorrelated,
            };
            println!("added noise {sd} HU, {texture:?}, seed {seed}");
            spinekit_phantom::added_noise(&ct, sd, texture, seed)
        }
        None => ct,
    };
    let t = std::time::Instant::now();
    let s = segment(&ct, &SegmentOptions::default(), None).unwrap();
    println!("segment {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    for st in &s.timings {
        println!("{:>24} {:8.1} ms", st.stage, st.ms);
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&s.report.numbering).unwrap()
    );
    println!("findings {:?}", s.report.findings);
    for v in &s.report.vertebrae {
        let d = truth
            .as_ref()
            .and_then(|t| dice_labels(&s.labels, v.label, t, v.label));
        let db = truth_bodies
            .as_ref()
            .and_then(|t| dice_labels(&s.bodies, v.label, t, v.label));
        println!(
            "{:>6} h {:?} ribs {:?} partial {} dice {:?} body {:?} c {:.0?}",
            v.level.name(),
            v.height_mm.map(|h| h.round()),
            v.rib_bearing,
            v.partial,
            d.map(|x| (x * 1000.0).round() / 1000.0),
            db.map(|x| (x * 1000.0).round() / 1000.0),
            v.centroid_mm
        );
    }
    // DIAG_OUT=DIR: raw u8 maps (i fastest, input grid) for offline comparison.
    if let Ok(dir) = std::env::var("DIAG_OUT") {
        let d = std::path::Path::new(&dir);
        std::fs::write(d.join("labels.u8"), s.labels.data()).unwrap();
        std::fs::write(d.join("bodies.u8"), s.bodies.data()).unwrap();
        std::fs::write(d.join("discs.u8"), s.discs.data()).unwrap();
        std::fs::write(d.join("bone.u8"), s.bone.data()).unwrap();
        let raw: Vec<u8> = ct.data().iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(d.join("ct.i16"), raw).unwrap();
        if let Some(t) = &truth {
            std::fs::write(d.join("truth.u8"), t.data()).unwrap();
        }
        println!("dims {:?}", s.labels.dims());
    }
    if let Some(t) = &truth {
        let props = spinekit_morph::region_props(t);
        for p in props {
            println!("truth {} centroid {:.0?}", p.label, p.centroid_mm);
        }
    }
}
