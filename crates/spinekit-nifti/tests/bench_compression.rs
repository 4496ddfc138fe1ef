//! Timing of reading and of gzip levels on the real CT (run: `cargo test --release -p spinekit-nifti --test
//! bench_compression -- --ignored --nocapture`). Ignored by default: timings are not assertions.

use spinekit_nifti::{nifti_bytes, read_nifti, read_nifti_bytes, WriteOptions};
use spinekit_testdata::shared_data;
use std::time::Instant;

#[test]
#[ignore]
fn gzip_level_speed_and_size_on_the_ct() {
    let Some(p) = shared_data("ct-totalseg-example/ct.nii.gz") else {
        return;
    };
    let t = Instant::now();
    let img = read_nifti(&p).unwrap();
    eprintln!(
        "read ct.nii.gz (122×101×112 int32): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    for level in [0, 1, 3, 6, 9] {
        let opts = WriteOptions {
            compression_level: level,
            ..WriteOptions::default()
        };
        let t = Instant::now();
        let b = nifti_bytes(&img.volume, None, &opts, true).unwrap();
        let w = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let back = read_nifti_bytes(&b).unwrap();
        let r = t.elapsed().as_secs_f64() * 1e3;
        assert_eq!(back.volume, img.volume);
        eprintln!(
            "level {level}: write {w:.1} ms, {:.2} MB, read back {r:.1} ms",
            b.len() as f64 / 1e6
        );
    }
}
