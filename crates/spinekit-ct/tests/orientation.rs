//! The same CT stored with other axis orders and directions (a NIfTI in RAS, a feet-first series, a sagittal
//! reformat) must give the same segmentation, voxel for voxel once mapped back, and the same report: the engine
//! works on world coordinates, never on the storage order.

mod common;
use spinekit_anatomy::Level;
use spinekit_ct::{segment, SegmentOptions, Segmentation};
use spinekit_image::{reorient_to, OrientationCode, Volume};
use spinekit_phantom::{generate, PhantomConfig};

fn code(s: &str) -> OrientationCode {
    OrientationCode::parse(s).unwrap()
}

/// Voxels where `a` and `b` (same grid) differ.
fn differing(a: &Volume<u8>, b: &Volume<u8>) -> usize {
    assert_eq!(a.dims(), b.dims());
    a.data()
        .iter()
        .zip(b.data())
        .filter(|(x, y)| x != y)
        .count()
}

fn segmented(ct: &Volume<i16>) -> Segmentation {
    segment(ct, &SegmentOptions::default(), None).unwrap()
}

#[test]
fn storage_order_does_not_change_the_segmentation() {
    let mut cfg = PhantomConfig::small(Level::T10, Level::Sacrum);
    cfg.voxel_size_mm = [2.0, 2.0, 2.0];
    let p = generate(&cfg, None).unwrap();
    let native = p.ct.geometry().orientation_code();
    let reference = segmented(&p.ct);
    assert!(reference.report.vertebrae.len() >= 9);
    // RAS (NIfTI's convention), feet first, and a sagittal stack (rows anterior → posterior, columns head → feet,
    // slices right → left).
    for target in ["RAS", "LPI", "PIL"] {
        let moved = reorient_to(&p.ct, code(target)).unwrap();
        assert_eq!(moved.geometry().orientation_code(), code(target));
        let s = segmented(&moved);
        for (name, got, want) in [
            ("labels", &s.labels, &reference.labels),
            ("bodies", &s.bodies, &reference.bodies),
            ("discs", &s.discs, &reference.discs),
            ("canal", &s.canal, &reference.canal),
            ("bone", &s.bone, &reference.bone),
        ] {
            // Outputs come on the input's grid: mapped back to the native order to compare.
            assert_eq!(got.geometry().orientation_code(), code(target));
            let back = reorient_to(got, native).unwrap();
            let n = differing(&back, want);
            assert_eq!(n, 0, "{target}: {name} differs in {n} voxels");
        }
        let (a, b) = (&s.report, &reference.report);
        assert_eq!(a.numbering.status, b.numbering.status, "{target}");
        assert_eq!(a.vertebrae.len(), b.vertebrae.len(), "{target}");
        for (u, v) in a.vertebrae.iter().zip(&b.vertebrae) {
            assert_eq!(u.level, v.level, "{target}");
            for c in 0..3 {
                assert!(
                    (u.centroid_mm[c] - v.centroid_mm[c]).abs() < 1e-6,
                    "{target}: {} centroid {:?} vs {:?}",
                    u.level,
                    u.centroid_mm,
                    v.centroid_mm
                );
            }
        }
    }
}

/// `ct` resampled (linear, air outside) onto a grid of the same size and spacing rotated by `deg` about the world
/// axis `axis` (0 = left–right, 1 = anterior–posterior) through the grid's centre: the direction cosines of a series
/// acquired with the gantry tilted, or re-aligned by the reader, or of a patient lying obliquely.
fn rotated(ct: &Volume<i16>, axis: usize, deg: f64) -> Volume<i16> {
    let g = *ct.geometry();
    let d = ct.dims();
    let (s, c) = deg.to_radians().sin_cos();
    let rot = |v: [f64; 3]| -> [f64; 3] {
        match axis {
            0 => [v[0], c * v[1] - s * v[2], s * v[1] + c * v[2]],
            _ => [c * v[0] + s * v[2], v[1], -s * v[0] + c * v[2]],
        }
    };
    let half: [f64; 3] = std::array::from_fn(|a| (d[a] - 1) as f64 / 2.0);
    let centre = g.index_to_world(half);
    let mut r = g;
    r.direction = std::array::from_fn(|a| rot(g.direction[a]));
    r.origin_mm = std::array::from_fn(|w| {
        centre[w]
            - (0..3)
                .map(|a| r.direction[a][w] * g.spacing_mm[a] * half[a])
                .sum::<f64>()
    });
    spinekit_image::resample_to_grid(ct, d, r, spinekit_image::Interpolation::Linear, -1024)
        .unwrap()
}

/// Oblique grids: tilted 12° and −20° about the left–right axis (a gantry tilt) and 8° about the anterior–posterior
/// axis (a patient lying obliquely).
/// The truth stays on its own grid: names are checked by world centroid. Every name right.
#[test]
fn oblique_grids_keep_their_names() {
    let mut cfg = PhantomConfig::small(Level::T10, Level::Sacrum);
    cfg.voxel_size_mm = [1.5, 1.5, 1.5];
    let p = generate(&cfg, None).unwrap();
    for (axis, deg) in [(0, 12.0), (0, -20.0), (1, 8.0)] {
        let ct = rotated(&p.ct, axis, deg);
        let c = common::check(&ct, &p.labels);
        eprintln!("axis {axis}, {deg}°: {}", common::show(&c));
        common::honest(&c);
        assert!(
            common::all_correct(&c),
            "axis {axis}, {deg}°: {}",
            common::show(&c)
        );
        assert!(
            c.names.len() >= 8,
            "axis {axis}, {deg}°: {}",
            common::show(&c)
        );
    }
}
