//! Per-stage timing of `segment` on a CT: `cargo run --release -p spinekit-ct --example segment_bench [PATH]`
//! (default: the IRCADb series in ../shared/data; `phantom`: the default 512×512×300 phantom, T12 to sacrum).

use spinekit_ct::{segment, SegmentOptions};
use spinekit_io::{open_volume, OpenOptions};

fn main() {
    if std::env::args().nth(1).as_deref() == Some("phantom") {
        let t = std::time::Instant::now();
        let p = match spinekit_phantom::generate(&spinekit_phantom::PhantomConfig::default(), None)
        {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        };
        println!(
            "phantom {:?} generated in {:.0} ms",
            p.ct.dims(),
            t.elapsed().as_secs_f64() * 1e3
        );
        run(&p.ct);
        return;
    }
    let path = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .or_else(|| spinekit_testdata::shared_data("ct-ircadb-01/PATIENT_DICOM"));
    let Some(path) = path else {
        eprintln!("no input: pass a CT path");
        std::process::exit(2);
    };
    let t = std::time::Instant::now();
    let ct = match open_volume(&path, &OpenOptions::default()).and_then(|o| o.into_ct_hu()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    println!(
        "read {:?} in {:.0} ms",
        ct.dims(),
        t.elapsed().as_secs_f64() * 1e3
    );
    run(&ct);
}

fn run(ct: &spinekit_image::Volume<i16>) {
    let t = std::time::Instant::now();
    match segment(ct, &SegmentOptions::default(), None) {
        Ok(s) => {
            let total = t.elapsed().as_secs_f64() * 1e3;
            for st in &s.timings {
                println!("{:>24} {:8.1} ms", st.stage, st.ms);
            }
            println!(
                "{:>24} {:8.1} ms ({} threads)",
                "total",
                total,
                rayon::current_num_threads()
            );
            let names: Vec<_> = s.report.vertebrae.iter().map(|v| v.level.name()).collect();
            println!(
                "vertebrae {names:?}; numbering {:?}: {}",
                s.report.numbering.status, s.report.numbering.reason
            );
            let f = &s.report.findings;
            println!(
                "noise {:.1} HU; dense non-bone {:.1} ml; blood pool {:?} HU; cortex {:.0} HU",
                f.noise_hu, f.dense_non_bone_volume_ml, f.blood_pool_hu, f.cortex_hu
            );
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(3);
        }
    }
}
