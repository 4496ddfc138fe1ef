//! Acceptance check of issue #6: from the ground-truth landmarks of the AASCE 2019 training split, the angles
//! reproduce labels/angles.csv with SMAPE ≤ 1 %.

use spinekit_testdata::shared_data;
use spinekit_xr::aasce::AasceDataset;
use spinekit_xr::ap::aasce_angles;
use spinekit_xr::{smape, smape_one};

#[test]
fn aasce_training_split_reproduces_reference_angles() {
    let Some(root) = shared_data("xr-aasce-training") else {
        return;
    };
    let ds = AasceDataset::open(&root).unwrap();
    assert_eq!(ds.len(), 481);
    let truth = ds.angles_deg.clone().unwrap();
    let mut pred = Vec::new();
    let mut s_count = 0;
    for i in 0..ds.len() {
        let (l, size) = ds.landmarks_px(i).unwrap();
        let a = aasce_angles(&l, size[1] as f64);
        s_count += a.s_curve as usize;
        pred.push(a.triple());
    }
    let s = smape(&pred, &truth);
    let mut worst: Vec<(f64, usize)> = (0..pred.len())
        .map(|i| (smape_one(&pred[i], &truth[i]), i))
        .collect();
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    for &(e, i) in &worst[..5] {
        eprintln!(
            "{:6.2} % {} pred {:?} truth {:?}",
            e, ds.filenames[i], pred[i], truth[i]
        );
    }
    eprintln!(
        "SMAPE {s:.4} % over {} images, {s_count} S curves",
        pred.len()
    );
    assert!(s <= 1.0, "SMAPE {s} %");
    // An independent Python implementation of the same convention (numpy, PIL image sizes, the same geometric
    // side-of-line S test) gave 0.3824 % (0.3944 % with the reference port's S test, which divides by the
    // first-to-last x offset and so misses two S curves whose first and last points share a column).
    assert!(
        (s - 0.3824).abs() < 0.005,
        "SMAPE {s} % differs from the independent 0.3824 %"
    );
    // Column order: any other order of (main, upper, lower) is far worse (≥ 18 % in the independent check).
    let swapped: Vec<[f64; 3]> = pred.iter().map(|p| [p[0], p[2], p[1]]).collect();
    assert!(smape(&swapped, &truth) > 10.0);
}
