//! Benchmark (not a test): time to generate the default 512×512×300 phantom at 0.8×0.8×1 mm.
//!
//! Run with `cargo bench -p spinekit-phantom` (optionally `RAYON_NUM_THREADS=2`). Acceptance: ≤ 5 s on 2 cores.

use spinekit_phantom::{generate, project, PhantomConfig, ProjectionView};
use std::time::Instant;

fn main() {
    let cfg = PhantomConfig::default();
    let runs: usize = std::env::var("PHANTOM_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut best = f64::INFINITY;
    let mut dims = [0; 3];
    for r in 0..runs {
        let t = Instant::now();
        let ph = generate(&cfg, None).expect("default phantom generates");
        let s = t.elapsed().as_secs_f64();
        dims = ph.ct.dims();
        println!("run {r}: {s:.3} s");
        best = best.min(s);
        if r == 0 {
            let t = Instant::now();
            let _ = project(&ph, ProjectionView::Ap);
            println!("AP projection: {:.3} s", t.elapsed().as_secs_f64());
        }
    }
    let n = (dims[0] * dims[1] * dims[2]) as f64;
    println!(
        "phantom {}×{}×{} at {:?} mm on {} threads: best {best:.3} s, {:.1} Mvoxel/s",
        dims[0],
        dims[1],
        dims[2],
        cfg.voxel_size_mm,
        rayon::current_num_threads(),
        n / best / 1e6
    );
}
