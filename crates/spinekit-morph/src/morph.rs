//! Binary morphology with ball structuring elements whose radius is in millimetres, via the exact EDT.
//! A voxel belongs to the ball of radius r around another when their centres are ≤ r mm apart.

use crate::edt::edt_squared_mm;
use rayon::prelude::*;
use spinekit_image::Volume;

/// Relative slack so that voxel centres lying exactly on the ball's surface count as inside despite rounding.
const EPS: f64 = 1e-6;

fn from_dist(mask: &Volume<u8>, d2: Vec<f32>, keep: impl Fn(f32) -> bool + Sync) -> Volume<u8> {
    let data: Vec<u8> = d2.par_iter().map(|&d| u8::from(keep(d))).collect();
    Volume::from_vec(mask.dims(), *mask.geometry(), data).expect("same dims as the mask")
}

/// Dilation: voxels within `radius_mm` of the mask.
pub fn dilate_mm(mask: &Volume<u8>, radius_mm: f64) -> Volume<u8> {
    let r2 = (radius_mm * radius_mm * (1.0 + EPS)) as f32;
    from_dist(mask, edt_squared_mm(mask, true), |d| d <= r2)
}

/// Erosion: voxels whose whole ball of `radius_mm` lies in the mask. Outside the grid does not erode (a mask
/// touching the border is not eaten from there), which suits structures cut by the field of view.
pub fn erode_mm(mask: &Volume<u8>, radius_mm: f64) -> Volume<u8> {
    let r2 = (radius_mm * radius_mm * (1.0 + EPS)) as f32;
    from_dist(mask, edt_squared_mm(mask, false), |d| d > r2)
}

/// Opening (erode then dilate): removes parts thinner than the ball.
pub fn open_mm(mask: &Volume<u8>, radius_mm: f64) -> Volume<u8> {
    dilate_mm(&erode_mm(mask, radius_mm), radius_mm)
}

/// Closing (dilate then erode): bridges gaps narrower than the ball.
pub fn close_mm(mask: &Volume<u8>, radius_mm: f64) -> Volume<u8> {
    erode_mm(&dilate_mm(mask, radius_mm), radius_mm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use spinekit_image::Geometry;

    /// Brute-force dilation/erosion with an explicit ball.
    fn brute(mask: &Volume<u8>, r: f64, dilate: bool) -> Vec<u8> {
        let [ni, nj, nk] = mask.dims();
        let sp = mask.geometry().spacing_mm;
        let mut out = vec![0u8; mask.len()];
        for k in 0..nk {
            for j in 0..nj {
                for i in 0..ni {
                    let mut any = false;
                    let mut all = true;
                    for kk in 0..nk {
                        for jj in 0..nj {
                            for ii in 0..ni {
                                let d2 = ((i as f64 - ii as f64) * sp[0]).powi(2)
                                    + ((j as f64 - jj as f64) * sp[1]).powi(2)
                                    + ((k as f64 - kk as f64) * sp[2]).powi(2);
                                if d2 <= r * r * (1.0 + EPS) {
                                    let v = mask.get(ii, jj, kk) != 0;
                                    any |= v;
                                    all &= v;
                                }
                            }
                        }
                    }
                    out[mask.index(i, j, k)] = u8::from(if dilate { any } else { all });
                }
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn dilation_and_erosion_match_brute_force(
            ni in 1usize..8, nj in 1usize..8, nk in 1usize..7,
            sx in 0.5f64..2.5, sz in 0.5f64..3.0, r in 0.0f64..4.0,
            seed in any::<u64>(), density in 0.05f64..0.9)
        {
            let n = ni * nj * nk;
            let mut x = seed | 1;
            let data: Vec<u8> = (0..n).map(|_| {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                u8::from(((x >> 11) as f64 / (1u64 << 53) as f64) < density)
            }).collect();
            let m = Volume::from_vec([ni, nj, nk], Geometry::identity([sx, sx, sz]), data).unwrap();
            let (d, e) = (dilate_mm(&m, r), erode_mm(&m, r));
            prop_assert_eq!(d.data(), &brute(&m, r, true)[..]);
            prop_assert_eq!(e.data(), &brute(&m, r, false)[..]);
        }
    }

    #[test]
    fn closing_bridges_a_gap_and_opening_removes_a_speck() {
        let mut m = Volume::<u8>::zeros([20, 9, 9], Geometry::identity([1.0; 3])).unwrap();
        for k in 2..7 {
            for j in 2..7 {
                for i in 2..18 {
                    if i != 10 {
                        m.set(i, j, k, 1);
                    }
                }
            }
        }
        let c = close_mm(&m, 1.0);
        assert_eq!(c.get(10, 4, 4), 1, "1-voxel gap bridged");
        // The gap's rim (5×5 minus the 3×3 core) lies where the ball cannot reach from both sides at once.
        assert_eq!(c.data().iter().filter(|&&v| v != 0).count(), 15 * 25 + 9);
        let mut s = m.clone();
        s.set(0, 0, 0, 1);
        let o = open_mm(&s, 1.0);
        assert_eq!(o.get(0, 0, 0), 0, "isolated voxel removed");
        assert_eq!(o.get(5, 4, 4), 1);
    }
}
