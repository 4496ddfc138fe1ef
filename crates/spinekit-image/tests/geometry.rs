//! Geometry invariants: voxel↔world transforms, reorientation, resampling and cropping keep world positions.

use proptest::prelude::*;
use spinekit_image::*;

fn rot(ax: f64, ay: f64, az: f64) -> [[f64; 3]; 3] {
    let (sx, cx) = ax.sin_cos();
    let (sy, cy) = ay.sin_cos();
    let (sz, cz) = az.sin_cos();
    let rx = nalgebra::Matrix3::new(1.0, 0.0, 0.0, 0.0, cx, -sx, 0.0, sx, cx);
    let ry = nalgebra::Matrix3::new(cy, 0.0, sy, 0.0, 1.0, 0.0, -sy, 0.0, cy);
    let rz = nalgebra::Matrix3::new(cz, -sz, 0.0, sz, cz, 0.0, 0.0, 0.0, 1.0);
    let m = rz * ry * rx;
    [
        [m[(0, 0)], m[(1, 0)], m[(2, 0)]],
        [m[(0, 1)], m[(1, 1)], m[(2, 1)]],
        [m[(0, 2)], m[(1, 2)], m[(2, 2)]],
    ]
}

fn ramp(dims: [usize; 3], g: Geometry) -> Volume<f32> {
    let mut v = Volume::<f32>::zeros(dims, g).unwrap();
    for k in 0..dims[2] {
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                v.set(i, j, k, (i + 100 * j + 10_000 * k) as f32);
            }
        }
    }
    v
}

fn close(a: [f64; 3], b: [f64; 3], tol: f64) -> bool {
    (0..3).all(|i| (a[i] - b[i]).abs() <= tol)
}

/// A geometry with axes permuted/flipped from LPS (signed permutation), as real scanners and NIfTI files produce.
fn signed_perm(perm: usize, flips: u8) -> [[f64; 3]; 3] {
    const PERMS: [[usize; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let p = PERMS[perm % 6];
    let mut d = [[0.0; 3]; 3];
    for a in 0..3 {
        d[a][p[a]] = if flips & (1 << a) != 0 { -1.0 } else { 1.0 };
    }
    d
}

proptest! {
    #[test]
    fn world_index_round_trip(
        o in prop::array::uniform3(-2000.0f64..2000.0),
        s in prop::array::uniform3(0.2f64..5.0),
        a in prop::array::uniform3(-3.1f64..3.1),
        idx in prop::array::uniform3(-50.0f64..600.0),
    ) {
        let g = Geometry { origin_mm: o, spacing_mm: s, direction: rot(a[0], a[1], a[2]) };
        prop_assert!(g.validate().is_ok());
        let w = g.index_to_world(idx);
        let back = g.world_to_index(w);
        prop_assert!(close(idx, back, 1e-9));
        // The affine agrees with index_to_world.
        let m = g.affine();
        let wa = [0, 1, 2].map(|r| m[r][0] * idx[0] + m[r][1] * idx[1] + m[r][2] * idx[2] + m[r][3]);
        prop_assert!(close(w, wa, 1e-9));
        // Rebuilding from the index→world matrix is exact.
        let g2 = Geometry::from_index_to_world(g.index_to_world_matrix(), o).unwrap();
        prop_assert!(close(g2.index_to_world(idx), w, 1e-9));
    }

    #[test]
    fn reorient_keeps_world_positions(
        perm in 0usize..6, flips in 0u8..8,
        o in prop::array::uniform3(-500.0f64..500.0),
        s in prop::array::uniform3(0.3f64..4.0),
        dims in prop::array::uniform3(1usize..7),
        target in 0usize..4,
    ) {
        let g = Geometry { origin_mm: o, spacing_mm: s, direction: signed_perm(perm, flips) };
        let v = ramp(dims, g);
        let code = OrientationCode::parse(["LPS", "RAS", "SAL", "IRP"][target]).unwrap();
        let r = reorient_to(&v, code).unwrap();
        prop_assert_eq!(r.geometry().orientation_code(), code);
        prop_assert_eq!(r.len(), v.len());
        // Every voxel keeps its value at the same world position.
        for k in 0..r.dims()[2] { for j in 0..r.dims()[1] { for i in 0..r.dims()[0] {
            let w = r.voxel_to_world([i, j, k]);
            let src = v.geometry().world_to_index(w);
            let si = src.map(|x| x.round() as usize);
            prop_assert!(close(src, si.map(|x| x as f64), 1e-9));
            prop_assert_eq!(r.get(i, j, k), v.get(si[0], si[1], si[2]));
        }}}
        // And back again is the identity.
        let back = reorient_to(&r, g.orientation_code()).unwrap();
        prop_assert_eq!(back.data(), v.data());
        prop_assert_eq!(back.geometry().direction, v.geometry().direction);
        prop_assert!(close(back.geometry().origin_mm, v.geometry().origin_mm, 1e-9));
    }

    #[test]
    fn crop_keeps_world_positions(
        o in prop::array::uniform3(-500.0f64..500.0),
        a in prop::array::uniform3(-1.0f64..1.0),
        lo in prop::array::uniform3(0usize..4),
        ext in prop::array::uniform3(1usize..4),
    ) {
        let g = Geometry { origin_mm: o, spacing_mm: [0.7, 0.9, 2.5], direction: rot(a[0], a[1], a[2]) };
        let v = ramp([8, 8, 8], g);
        let hi = [lo[0] + ext[0], lo[1] + ext[1], lo[2] + ext[2]];
        let c = v.crop(lo, hi).unwrap();
        for n in c.corner_indices() {
            let src = [n[0] + lo[0], n[1] + lo[1], n[2] + lo[2]];
            prop_assert!(close(c.voxel_to_world(n), v.voxel_to_world(src), 1e-9));
            prop_assert_eq!(c.get(n[0], n[1], n[2]), v.get(src[0], src[1], src[2]));
        }
    }

    #[test]
    fn linear_resampling_reproduces_linear_fields(
        o in prop::array::uniform3(-300.0f64..300.0),
        a in prop::array::uniform3(-0.5f64..0.5),
        shift in prop::array::uniform3(-1.0f64..1.0),
    ) {
        // A field linear in world coordinates is reproduced exactly by trilinear interpolation anywhere inside.
        let g = Geometry { origin_mm: o, spacing_mm: [1.0, 1.5, 2.0], direction: rot(a[0], a[1], a[2]) };
        let f = |w: [f64; 3]| 0.5 * w[0] - 0.25 * w[1] + 0.125 * w[2];
        let dims = [10, 9, 8];
        let mut v = Volume::<f32>::zeros(dims, g).unwrap();
        for k in 0..8 { for j in 0..9 { for i in 0..10 {
            v.set(i, j, k, f(v.voxel_to_world([i, j, k])) as f32);
        }}}
        // Target: finer grid, rotated differently, inside the source box.
        let mut tg = Geometry { origin_mm: g.index_to_world([3.0 + shift[0], 3.0 + shift[1], 3.0 + shift[2]]),
            spacing_mm: [0.6, 0.6, 0.6], direction: rot(a[0] + 0.2, a[1], a[2] - 0.1) };
        tg.validate().unwrap();
        let r = resample_to_grid(&v, [5, 5, 5], tg, Interpolation::Linear, f32::NAN).unwrap();
        tg = *r.geometry();
        for k in 0..5 { for j in 0..5 { for i in 0..5 {
            let w = tg.index_to_world([i as f64, j as f64, k as f64]);
            let val = r.get(i, j, k) as f64;
            prop_assert!((val - f(w)).abs() < 1e-3, "at {:?}: {} vs {}", w, val, f(w));
        }}}
    }
}

#[test]
fn nearest_resampling_onto_own_grid_is_identity_and_keeps_labels() {
    let g = Geometry {
        origin_mm: [-100.0, 20.0, -800.0],
        spacing_mm: [0.57, 0.57, 1.6],
        direction: rot(0.1, -0.05, 0.3),
    };
    let v = ramp([6, 5, 4], g).map(|x| (x as i32 % 7) as u8);
    let r = resample_to_grid(&v, v.dims(), *v.geometry(), Interpolation::Nearest, 0).unwrap();
    assert_eq!(r, v);
}

#[test]
fn resample_to_spacing_keeps_first_voxel_and_extent() {
    let g = Geometry {
        origin_mm: [10.0, -20.0, 30.0],
        spacing_mm: [0.8, 0.8, 3.0],
        direction: signed_perm(0, 0b001),
    };
    let v = ramp([11, 11, 5], g);
    let r = resample_to_spacing(&v, [0.4, 0.4, 1.0], Interpolation::Linear).unwrap();
    assert_eq!(r.dims(), [21, 21, 13]);
    assert!(close(
        r.voxel_to_world([0, 0, 0]),
        v.voxel_to_world([0, 0, 0]),
        1e-12
    ));
    assert!(close(
        r.voxel_to_world([20, 20, 12]),
        v.voxel_to_world([10, 10, 4]),
        1e-9
    ));
    // Values at coincident grid points are unchanged.
    assert_eq!(r.get(20, 20, 12), v.get(10, 10, 4));
    assert_eq!(r.get(2, 4, 3), v.get(1, 2, 1));
}

#[test]
fn orientation_codes_follow_nibabel_convention() {
    let g = Geometry::identity([1.0; 3]);
    assert_eq!(g.orientation_code().to_string(), "LPS");
    let ras = Geometry {
        direction: signed_perm(0, 0b011),
        ..g
    };
    assert_eq!(ras.orientation_code().to_string(), "RAS");
    let sag = Geometry {
        direction: signed_perm(4, 0b010),
        ..g
    };
    // axis0 → S, axis1 → -L = R, axis2 → P
    assert_eq!(sag.orientation_code().to_string(), "SRP");
    assert!(OrientationCode::parse("LLS").is_none());
    assert!(OrientationCode::parse("LP").is_none());
}

#[test]
fn obliquity_is_measured() {
    let g = Geometry {
        direction: rot(0.0, 0.0, 10f64.to_radians()),
        ..Geometry::identity([1.0; 3])
    };
    assert!((g.obliquity_deg() - 10.0).abs() < 1e-9);
    assert!(!g.is_axis_aligned(5.0));
    assert!(g.is_axis_aligned(11.0));
}

#[test]
fn bad_volumes_are_refused() {
    let g = Geometry::identity([1.0; 3]);
    assert!(matches!(
        Volume::<u8>::zeros([0, 4, 4], g),
        Err(ImageError::EmptyVolume(..))
    ));
    assert!(matches!(
        Volume::<u8>::from_vec([2, 2, 2], g, vec![0; 7]),
        Err(ImageError::BufferSize { .. })
    ));
    assert!(matches!(
        Volume::<u8>::zeros([1 << 20, 1 << 20, 16], g),
        Err(ImageError::TooLarge(..))
    ));
    let bad = Geometry {
        spacing_mm: [1.0, 0.0, 1.0],
        ..g
    };
    assert!(bad.validate().is_err());
    let skew = Geometry {
        direction: [[1.0, 0.0, 0.0], [0.7, 0.7, 0.0], [0.0, 0.0, 1.0]],
        ..g
    };
    assert!(skew.validate().is_err());
    let v = Volume::<u8>::zeros([3, 3, 3], g).unwrap();
    assert!(v.crop([0, 0, 0], [4, 1, 1]).is_err());
    assert!(v.crop([1, 1, 1], [1, 2, 2]).is_err());
    let nan = Volume::<f32>::from_vec([1, 1, 2], g, vec![f32::NAN, f32::NAN]).unwrap();
    assert!(nan.intensity_range().is_none());
}

#[test]
fn hu_conversion_refuses_values_that_do_not_fit() {
    let g = Geometry::identity([1.0; 3]);
    let ok = AnyVolume::I32(Volume::from_vec([2, 1, 1], g, vec![-1024, 3071]).unwrap());
    assert_eq!(ok.to_hu_i16().unwrap().data(), &[-1024, 3071]);
    let big = AnyVolume::I32(Volume::from_vec([2, 1, 1], g, vec![-1024, 40_000]).unwrap());
    assert!(big.to_hu_i16().is_err());
}

#[test]
fn offset_stays_inside_the_grid() {
    let v = Volume::<u8>::zeros([3, 4, 5], Geometry::identity([1.0; 3])).unwrap();
    assert_eq!(v.offset([1, 1, 1], [1, -1, 3]), Some([2, 0, 4]));
    assert_eq!(v.offset([0, 1, 1], [-1, 0, 0]), None);
    assert_eq!(v.offset([2, 3, 4], [1, 0, 0]), None);
    assert_eq!(v.offset([2, 3, 4], [0, 1, 0]), None);
    assert_eq!(v.offset([2, 3, 4], [0, 0, 1]), None);
}

/// The world-point sampler: exact at voxel centres, linear in between (fractional values kept), and its two
/// border rules (voxel centres vs the half-voxel the edge voxels cover).
#[test]
fn world_point_sampler_values_and_borders() {
    let g = Geometry {
        origin_mm: [12.0, -40.0, 300.0],
        spacing_mm: [0.8, 1.2, 2.5],
        direction: rot(0.2, -0.1, 0.4),
    };
    let v = ramp([4, 3, 5], g);
    for (i, j, k) in [(0, 0, 0), (3, 2, 4), (1, 2, 3)] {
        let w = v.voxel_to_world([i, j, k]);
        for interp in [Interpolation::Linear, Interpolation::Nearest] {
            let x = v.value_at_mm(w, interp, Border::Centres).unwrap();
            // Nearest is exact; linear up to the float noise of world → index.
            assert!(
                (x - v.get(i, j, k) as f64).abs() < 1e-6,
                "{x} at {i},{j},{k}"
            );
        }
    }
    // Halfway between (1,1,1) and (2,1,1): the mean, not rounded.
    let w = g.index_to_world([1.5, 1.0, 1.0]);
    let mean = 0.5 * (v.get(1, 1, 1) as f64 + v.get(2, 1, 1) as f64);
    let x = v
        .value_at_mm(w, Interpolation::Linear, Border::Centres)
        .unwrap();
    assert!((x - mean).abs() < 1e-9, "{x} vs {mean}");
    // A quarter voxel outside the first centre: only the half-voxel rule samples it (edge value).
    let out = g.index_to_world([-0.25, 1.0, 1.0]);
    assert_eq!(
        v.value_at_mm(out, Interpolation::Linear, Border::Centres),
        None
    );
    let edge = v
        .value_at_mm(out, Interpolation::Nearest, Border::HalfVoxel)
        .unwrap();
    assert_eq!(edge, v.get(0, 1, 1) as f64);
    // Beyond the half voxel: outside for both.
    let far = g.index_to_world([3.6, 1.0, 1.0]);
    assert_eq!(
        v.value_at_mm(far, Interpolation::Linear, Border::HalfVoxel),
        None
    );
    // Agrees with resampling onto a grid whose single voxel sits at the point.
    let p = g.index_to_world([2.3, 0.7, 3.1]);
    let one = Geometry { origin_mm: p, ..g };
    let r = resample_to_grid(&v, [1, 1, 1], one, Interpolation::Linear, f32::NAN).unwrap();
    let x = v
        .value_at_mm(p, Interpolation::Linear, Border::Centres)
        .unwrap();
    assert!((x - r.get(0, 0, 0) as f64).abs() < 1e-3);
}
