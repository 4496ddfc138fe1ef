//! Benchmark: `validate` (segmentation task) on 50 synthetic cases of 512×512×300 label maps, 24 labels each.
//! Writes the cases as .nii.gz into a temporary folder (not timed), then times reading + all metrics + reports.
//!
//! cargo run --release -p spinekit-validate --example bench_validate [-- CASES]

use rayon::prelude::*;
use spinekit_image::{Geometry, Volume};
use spinekit_nifti::{write_nifti, WriteOptions};
use spinekit_validate::workflow::{run_validation, write_report, TaskResults, ValidateOptions};
use std::time::Instant;

const DIMS: [usize; 3] = [512, 512, 300];
const LEVELS: usize = 24;

/// A stack of 24 elliptic "vertebral bodies" along k, centred at (cx, cy), with per-level radius `r` mm and
/// a per-case jitter so that predictions differ from references by a few voxels.
fn spine(case: usize, jitter: f64) -> Volume<u8> {
    let g = Geometry::identity([0.7, 0.7, 1.0]);
    let mut v = Volume::<u8>::zeros(DIMS, g).unwrap();
    let plane = DIMS[0] * DIMS[1];
    v.data_mut()
        .par_chunks_mut(plane)
        .enumerate()
        .for_each(|(k, sl)| {
            let level = k * LEVELS / DIMS[2];
            let within = (k * LEVELS) % DIMS[2];
            if within < DIMS[2] / 8 {
                return; // disc gap
            }
            let s = ((case * 7 + level * 13) % 5) as f64 - 2.0;
            let (cx, cy) = (256.0 + jitter * s, 240.0 + 0.5 * jitter * s);
            let (rx, ry) = (30.0 + 0.3 * jitter * s, 22.0);
            for j in 0..DIMS[1] {
                let dy = (j as f64 - cy) * 0.7 / ry;
                for i in 0..DIMS[0] {
                    let dx = (i as f64 - cx) * 0.7 / rx;
                    if dx * dx + dy * dy <= 1.0 {
                        sl[i + DIMS[0] * j] = (level + 1) as u8;
                    }
                }
            }
        });
    v
}

fn main() {
    let cases: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let t = tempfile::tempdir().expect("temp folder");
    let (pd, rd) = (t.path().join("pred"), t.path().join("ref"));
    std::fs::create_dir_all(&pd).unwrap();
    std::fs::create_dir_all(&rd).unwrap();
    let t0 = Instant::now();
    for c in 0..cases {
        let o = WriteOptions::default();
        write_nifti(
            rd.join(format!("case{c:03}.nii.gz")),
            &spine(c, 0.0),
            None,
            &o,
        )
        .unwrap();
        write_nifti(
            pd.join(format!("case{c:03}.nii.gz")),
            &spine(c, 3.0),
            None,
            &o,
        )
        .unwrap();
    }
    println!(
        "generated {cases} case pairs of {DIMS:?} in {:.1} s (not timed)",
        t0.elapsed().as_secs_f64()
    );
    let t1 = Instant::now();
    let report = run_validation(&ValidateOptions::new(&pd, &rd)).expect("validation");
    write_report(&report, &t.path().join("out")).expect("report");
    let secs = t1.elapsed().as_secs_f64();
    let TaskResults::Segmentation(s) = &report.results else {
        unreachable!()
    };
    println!(
        "validate: {} cases × {} labels in {secs:.1} s on {} threads ({:.2} s/case); mean Dice {:.4}",
        report.paired_cases,
        s.per_label.len(),
        rayon::current_num_threads(),
        secs / report.paired_cases as f64,
        s.mean_dice.value
    );
}
