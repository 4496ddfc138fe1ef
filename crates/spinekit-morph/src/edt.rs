//! Exact Euclidean distance transform on anisotropic grids (Felzenszwalb & Huttenlocher 2012): three passes of
//! the 1D lower-envelope-of-parabolas transform, one per axis, each in parallel over lanes.

use rayon::prelude::*;
use spinekit_image::Volume;

/// Storage type of squared distances: `f32` halves the memory of large engine volumes; `f64` keeps metrics exact
/// to 1e-6 mm (the envelope itself is always computed in f64).
pub trait Dist: Copy + Send + Sync + 'static {
    const INFINITY: Self;
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
}

impl Dist for f32 {
    const INFINITY: Self = f32::INFINITY;
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Dist for f64 {
    const INFINITY: Self = f64::INFINITY;
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// Squared distance (mm²) from every voxel to the nearest voxel whose mask value is foreground
/// (`to_foreground = true`, nonzero) or background (`false`, zero). Voxels of the target class get 0.
/// When the volume holds no voxel of the target class every distance is `f32::INFINITY`.
/// Outside the grid counts as neither class: distances are measured within the volume only.
pub fn edt_squared_mm(mask: &Volume<u8>, to_foreground: bool) -> Vec<f32> {
    let init = mask
        .data()
        .par_iter()
        .map(|&v| {
            if (v != 0) == to_foreground {
                0.0
            } else {
                f32::INFINITY
            }
        })
        .collect();
    transform(init, mask.dims(), mask.geometry().spacing_mm)
}

/// Squared distance (mm², f64) from every voxel of a `dims` grid (i fastest) to the nearest voxel where `sites` is
/// true; `f64::INFINITY` everywhere when there is none.
pub fn edt_squared_sites_mm(sites: &[bool], dims: [usize; 3], spacing_mm: [f64; 3]) -> Vec<f64> {
    assert_eq!(
        sites.len(),
        dims.iter().product::<usize>(),
        "site mask does not match dims"
    );
    let init = sites
        .par_iter()
        .map(|&s| if s { 0.0 } else { f64::INFINITY })
        .collect();
    transform(init, dims, spacing_mm)
}

fn transform<D: Dist>(mut d: Vec<D>, dims: [usize; 3], sp: [f64; 3]) -> Vec<D> {
    if d.is_empty() {
        return d;
    }
    pass_axis0(&mut d, dims, sp[0]);
    pass_axis1(&mut d, dims, sp[1]);
    pass_axis2(&d, dims, sp[2])
}

/// Distance (mm) from each voxel to the nearest foreground voxel (0 inside the mask).
pub fn distance_to_foreground_mm(mask: &Volume<u8>) -> Vec<f32> {
    let mut d = edt_squared_mm(mask, true);
    d.par_iter_mut().for_each(|v| *v = v.sqrt());
    d
}

/// Distance (mm) from each voxel to the nearest background voxel (0 outside the mask).
pub fn distance_to_background_mm(mask: &Volume<u8>) -> Vec<f32> {
    let mut d = edt_squared_mm(mask, false);
    d.par_iter_mut().for_each(|v| *v = v.sqrt());
    d
}

/// Scratch buffers for one lane.
struct Lane {
    f: Vec<f64>,
    v: Vec<usize>,
    z: Vec<f64>,
}

impl Lane {
    fn new(n: usize) -> Self {
        Self {
            f: vec![0.0; n],
            v: vec![0; n],
            z: vec![0.0; n + 1],
        }
    }

    /// 1D transform of `self.f` (squared distances, infinite = no site) with sample step `s` mm, into `out`.
    fn run<D: Dist>(&mut self, s: f64, out: &mut dyn FnMut(usize, D)) {
        let n = self.f.len();
        let f = &self.f;
        let (v, z) = (&mut self.v, &mut self.z);
        let mut k: isize = -1;
        for q in 0..n {
            if !f[q].is_finite() {
                continue;
            }
            let xq = q as f64 * s;
            loop {
                if k < 0 {
                    k = 0;
                    v[0] = q;
                    z[0] = f64::NEG_INFINITY;
                    z[1] = f64::INFINITY;
                    break;
                }
                let p = v[k as usize];
                let xp = p as f64 * s;
                let inter = ((f[q] + xq * xq) - (f[p] + xp * xp)) / (2.0 * (xq - xp));
                if inter <= z[k as usize] {
                    k -= 1;
                } else {
                    k += 1;
                    v[k as usize] = q;
                    z[k as usize] = inter;
                    z[k as usize + 1] = f64::INFINITY;
                    break;
                }
            }
        }
        if k < 0 {
            for q in 0..n {
                out(q, D::INFINITY);
            }
            return;
        }
        let mut k = 0usize;
        for q in 0..n {
            let x = q as f64 * s;
            while z[k + 1] < x {
                k += 1;
            }
            let dx = x - v[k] as f64 * s;
            out(q, D::from_f64(dx * dx + f[v[k]]));
        }
    }
}

fn pass_axis0<D: Dist>(d: &mut [D], dims: [usize; 3], s: f64) {
    let n = dims[0];
    d.par_chunks_mut(n).for_each_init(
        || Lane::new(n),
        |lane, row| {
            for (a, b) in lane.f.iter_mut().zip(row.iter()) {
                *a = b.to_f64();
            }
            lane.run(s, &mut |q, val| row[q] = val);
        },
    );
}

fn pass_axis1<D: Dist>(d: &mut [D], dims: [usize; 3], s: f64) {
    let [ni, nj, _] = dims;
    d.par_chunks_mut(ni * nj).for_each_init(
        || Lane::new(nj),
        |lane, plane| {
            for i in 0..ni {
                for j in 0..nj {
                    lane.f[j] = plane[i + j * ni].to_f64();
                }
                lane.run(s, &mut |q, val| plane[i + q * ni] = val);
            }
        },
    );
}

/// The slowest axis: lanes are strided by a whole plane, so each row j is transformed into a k-fastest buffer
/// and scattered back in a second parallel pass over slices.
fn pass_axis2<D: Dist>(d: &[D], dims: [usize; 3], s: f64) -> Vec<D> {
    let [ni, nj, nk] = dims;
    let plane = ni * nj;
    let rows: Vec<Vec<D>> = (0..nj)
        .into_par_iter()
        .map_init(
            || Lane::new(nk),
            |lane, j| {
                let mut buf = vec![D::INFINITY; ni * nk];
                for i in 0..ni {
                    for k in 0..nk {
                        lane.f[k] = d[i + j * ni + k * plane].to_f64();
                    }
                    let dst = &mut buf[i * nk..(i + 1) * nk];
                    lane.run(s, &mut |q, val| dst[q] = val);
                }
                buf
            },
        )
        .collect();
    let mut out = vec![D::INFINITY; d.len()];
    out.par_chunks_mut(plane).enumerate().for_each(|(k, sl)| {
        for (j, row) in rows.iter().enumerate() {
            for i in 0..ni {
                sl[i + j * ni] = row[i * nk + k];
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use spinekit_image::Geometry;

    fn brute(mask: &Volume<u8>, to_fg: bool) -> Vec<f32> {
        let [ni, nj, nk] = mask.dims();
        let sp = mask.geometry().spacing_mm;
        let sites: Vec<[usize; 3]> = (0..nk)
            .flat_map(|k| (0..nj).flat_map(move |j| (0..ni).map(move |i| [i, j, k])))
            .filter(|&[i, j, k]| (mask.get(i, j, k) != 0) == to_fg)
            .collect();
        let mut out = Vec::new();
        for k in 0..nk {
            for j in 0..nj {
                for i in 0..ni {
                    let p = [i, j, k];
                    let best = sites
                        .iter()
                        .map(|s| {
                            (0..3)
                                .map(|a| ((p[a] as f64 - s[a] as f64) * sp[a]).powi(2))
                                .sum::<f64>()
                        })
                        .fold(f64::INFINITY, f64::min);
                    out.push(best as f32);
                }
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn matches_brute_force(
            ni in 1usize..9, nj in 1usize..9, nk in 1usize..9,
            sx in 0.3f64..3.0, sy in 0.3f64..3.0, sz in 0.3f64..3.0,
            seed in any::<u64>(), density in 0.0f64..0.5, to_fg in any::<bool>())
        {
            let n = ni * nj * nk;
            let mut x = seed | 1;
            let data: Vec<u8> = (0..n).map(|_| {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                u8::from(((x >> 11) as f64 / (1u64 << 53) as f64) < density)
            }).collect();
            let m = Volume::from_vec([ni, nj, nk], Geometry::identity([sx, sy, sz]), data).unwrap();
            let got = edt_squared_mm(&m, to_fg);
            let want = brute(&m, to_fg);
            for (g, w) in got.iter().zip(&want) {
                if w.is_infinite() {
                    prop_assert!(g.is_infinite());
                } else {
                    prop_assert!((g - w).abs() <= 1e-3 * w.max(1.0), "{g} vs {w}");
                }
            }
        }
    }

    #[test]
    fn single_site_gives_anisotropic_distances() {
        let mut m = Volume::<u8>::zeros([5, 4, 3], Geometry::identity([0.5, 2.0, 3.0])).unwrap();
        m.set(1, 1, 1, 1);
        let d = distance_to_foreground_mm(&m);
        let at = |i, j, k| d[m.index(i, j, k)];
        assert_eq!(at(1, 1, 1), 0.0);
        assert!((at(4, 1, 1) - 1.5).abs() < 1e-6);
        assert!((at(1, 3, 1) - 4.0).abs() < 1e-6);
        assert!((at(1, 1, 0) - 3.0).abs() < 1e-6);
        assert!((at(4, 3, 2) - (1.5f32 * 1.5 + 16.0 + 9.0).sqrt()).abs() < 1e-5);
    }
}

#[cfg(test)]
mod sites_f64_tests {
    //! The f64 site API against brute force (this is what the validation metrics use).
    use super::*;

    /// Brute force over all feature voxels: the definition itself.
    fn brute(feature: &[bool], dims: [usize; 3], s: [f64; 3]) -> Vec<f64> {
        let idx = |n: usize| {
            [
                n % dims[0],
                (n / dims[0]) % dims[1],
                n / (dims[0] * dims[1]),
            ]
        };
        let feats: Vec<[usize; 3]> = (0..feature.len())
            .filter(|&n| feature[n])
            .map(idx)
            .collect();
        (0..feature.len())
            .map(|n| {
                let p = idx(n);
                feats
                    .iter()
                    .map(|q| {
                        (0..3)
                            .map(|a| ((p[a] as f64 - q[a] as f64) * s[a]).powi(2))
                            .sum::<f64>()
                    })
                    .fold(f64::INFINITY, f64::min)
            })
            .collect()
    }

    #[test]
    fn matches_brute_force_on_random_anisotropic_masks() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for &(dims, s) in &[
            ([7usize, 5, 4], [0.5, 0.7, 3.0]),
            ([1, 9, 3], [1.0, 0.3, 2.0]),
            ([6, 1, 1], [0.8, 1.0, 1.0]),
            ([5, 6, 7], [2.5, 0.4, 1.1]),
        ] {
            for density in [0.02, 0.2, 0.7] {
                let n = dims[0] * dims[1] * dims[2];
                let feature: Vec<bool> = (0..n).map(|_| rng.random::<f64>() < density).collect();
                let got = edt_squared_sites_mm(&feature, dims, s);
                let want = brute(&feature, dims, s);
                for (g, w) in got.iter().zip(&want) {
                    if w.is_infinite() {
                        assert!(g.is_infinite());
                    } else {
                        assert!((g - w).abs() < 1e-9, "{g} vs {w}");
                    }
                }
            }
        }
    }

    #[test]
    fn no_feature_is_infinite() {
        let d = edt_squared_sites_mm(&[false; 8], [2, 2, 2], [1.0; 3]);
        assert!(d.iter().all(|v| v.is_infinite()));
    }
}
