//! Surface distances with closed-form answers on an anisotropic (0.5 × 0.5 × 3 mm), obliquely oriented grid.
//!
//! A slab two voxels thick has every voxel on its surface (each has a background neighbour across the slab), and
//! a copy shifted by s whole voxels across the slab has its layers at exactly s·spacing and (s−1)·spacing from the
//! nearest layer of the original, whatever the in-plane extent (the voxel straight across is always the closest).
//! So for a shift across the slab with spacing h, t = 2 layers:
//!   directed distances: half the voxels (s−1)·h, half s·h (both directions) ⇒ HD = HD95 = s·h, ASSD = (s−½)·h.

use spinekit_image::{Geometry, Volume};
use spinekit_validate::segmentation_metrics;

fn oblique_geometry() -> Geometry {
    // Rotation by 30° about z then 20° about x: columns are the voxel axis directions in LPS.
    let (a, b) = (30f64.to_radians(), 20f64.to_radians());
    let rz = [
        [a.cos(), -a.sin(), 0.0],
        [a.sin(), a.cos(), 0.0],
        [0.0, 0.0, 1.0],
    ];
    let rx = [
        [1.0, 0.0, 0.0],
        [0.0, b.cos(), -b.sin()],
        [0.0, b.sin(), b.cos()],
    ];
    let mut m = [[0.0; 3]; 3];
    for (r, row) in m.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| rx[r][k] * rz[k][c]).sum();
        }
    }
    Geometry {
        origin_mm: [-40.5, 12.25, 301.0],
        spacing_mm: [0.5, 0.5, 3.0],
        direction: std::array::from_fn(|axis| [m[0][axis], m[1][axis], m[2][axis]]),
    }
}

/// A 2-voxel-thick slab across `axis` at layers `at`, `at+1`, covering [3, n−3) on the other axes.
fn slab(dims: [usize; 3], axis: usize, at: usize, label: u16) -> Volume<u16> {
    let mut v = Volume::<u16>::zeros(dims, oblique_geometry()).unwrap();
    for k in 0..dims[2] {
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                let p = [i, j, k];
                let inside = (0..3).all(|a| {
                    if a == axis {
                        p[a] == at || p[a] == at + 1
                    } else {
                        p[a] >= 3 && p[a] + 3 < dims[a]
                    }
                });
                if inside {
                    v.set(i, j, k, label);
                }
            }
        }
    }
    v
}

#[test]
fn slab_shifted_across_the_thick_axis() {
    let dims = [24, 20, 14];
    let reference = slab(dims, 2, 3, 7);
    for s in 1..=5usize {
        let pred = slab(dims, 2, 3 + s, 7);
        let m = segmentation_metrics(&pred, &reference).unwrap();
        assert_eq!(m.len(), 1);
        let sd = m[0].surface.as_ref().unwrap();
        let h = 3.0;
        assert!(
            (sd.hd_mm - s as f64 * h).abs() < 1e-9,
            "s={s}: HD {}",
            sd.hd_mm
        );
        assert!(
            (sd.hd95_mm - s as f64 * h).abs() < 1e-9,
            "s={s}: HD95 {}",
            sd.hd95_mm
        );
        assert!(
            (sd.assd_mm - (s as f64 - 0.5) * h).abs() < 1e-9,
            "s={s}: ASSD {}",
            sd.assd_mm
        );
        // Dice: two layers overlap only when s = 1 (one shared layer).
        let want_dice = if s == 1 { 0.5 } else { 0.0 };
        assert!((m[0].dice - want_dice).abs() < 1e-12);
    }
}

#[test]
fn slab_shifted_across_a_thin_axis() {
    let dims = [20, 22, 12];
    let reference = slab(dims, 1, 5, 3);
    for s in [1usize, 2, 7] {
        let pred = slab(dims, 1, 5 + s, 3);
        let sd = segmentation_metrics(&pred, &reference).unwrap()[0]
            .surface
            .clone()
            .unwrap();
        let h = 0.5;
        assert!(
            (sd.hd95_mm - s as f64 * h).abs() < 1e-9,
            "s={s}: HD95 {}",
            sd.hd95_mm
        );
        assert!(
            (sd.assd_mm - (s as f64 - 0.5) * h).abs() < 1e-9,
            "s={s}: ASSD {}",
            sd.assd_mm
        );
    }
}

#[test]
fn identical_maps_have_zero_distance_and_unit_dice() {
    let dims = [16, 16, 8];
    let a = slab(dims, 0, 4, 2);
    let m = segmentation_metrics(&a, &a).unwrap();
    assert_eq!(m[0].dice, 1.0);
    assert_eq!(m[0].jaccard, 1.0);
    let sd = m[0].surface.as_ref().unwrap();
    assert_eq!((sd.hd95_mm, sd.hd_mm, sd.assd_mm), (0.0, 0.0, 0.0));
}

#[test]
fn different_grids_are_refused_or_resampled() {
    let dims = [16, 16, 8];
    let reference = slab(dims, 2, 3, 1);
    let mut g = oblique_geometry();
    g.origin_mm[0] += 0.01;
    let mut pred = reference.clone();
    pred.set_geometry(g).unwrap();
    let e = segmentation_metrics(&pred, &reference)
        .unwrap_err()
        .to_string();
    assert!(e.contains("different voxel grids"), "{e}");
    // Within tolerance: accepted.
    let mut g = oblique_geometry();
    g.origin_mm[0] += 5e-5;
    pred.set_geometry(g).unwrap();
    assert!(segmentation_metrics(&pred, &reference).is_ok());
    // Nearest-neighbour resampling of a 0.01 mm offset keeps every label voxel.
    let mut g = oblique_geometry();
    g.origin_mm[0] += 0.01;
    pred.set_geometry(g).unwrap();
    let aligned = spinekit_validate::align_to_reference(&pred, &reference, true).unwrap();
    assert_eq!(
        segmentation_metrics(&aligned, &reference).unwrap()[0].dice,
        1.0
    );
}
