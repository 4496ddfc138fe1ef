//! Exact Euclidean distance transform on anisotropic grids (Felzenszwalb & Huttenlocher 2012, "Distance
//! Transforms of Sampled Functions", Theory of Computing 8:415–428): three separable 1D lower-envelope passes,
//! rayon over lanes. Distances are between voxel centres in mm, so with orthonormal direction cosines they are
//! world (LPS) distances whatever the orientation.

use rayon::prelude::*;

/// Squared distance in mm² from every voxel to the nearest voxel where `feature` is true, on a grid of
/// `dims` (i fastest) and `spacing_mm`. Voxels with no feature in the whole grid get `f64::INFINITY`.
pub fn edt_squared_mm(feature: &[bool], dims: [usize; 3], spacing_mm: [f64; 3]) -> Vec<f64> {
    let [n0, n1, n2] = dims;
    assert_eq!(
        feature.len(),
        n0 * n1 * n2,
        "feature mask does not match dims"
    );
    let plane = n0 * n1;
    if plane == 0 || n2 == 0 {
        return Vec::new();
    }
    // Pass along k into a k-fastest (transposed) buffer so each lane is a contiguous chunk.
    let mut t = vec![0.0f64; plane * n2];
    t.par_chunks_mut(n2).enumerate().for_each_init(
        || Lane::new(n2),
        |lane, (p, out)| {
            for (k, f) in lane.f[..n2].iter_mut().enumerate() {
                *f = if feature[p + plane * k] {
                    0.0
                } else {
                    f64::INFINITY
                };
            }
            lane.run(spacing_mm[2], n2);
            out.copy_from_slice(&lane.d[..n2]);
        },
    );
    let mut g = vec![0.0f64; plane * n2];
    g.par_chunks_mut(plane).enumerate().for_each_init(
        || Lane::new(n0.max(n1)),
        |lane, (k, slice)| {
            for (p, v) in slice.iter_mut().enumerate() {
                *v = t[p * n2 + k];
            }
            // Along j (stride n0) within the slice.
            for i in 0..n0 {
                for j in 0..n1 {
                    lane.f[j] = slice[i + n0 * j];
                }
                lane.run(spacing_mm[1], n1);
                for j in 0..n1 {
                    slice[i + n0 * j] = lane.d[j];
                }
            }
            // Along i (contiguous).
            for row in slice.chunks_mut(n0) {
                lane.f[..n0].copy_from_slice(row);
                lane.run(spacing_mm[0], n0);
                row.copy_from_slice(&lane.d[..n0]);
            }
        },
    );
    g
}

/// Scratch for one 1D lower-envelope pass.
struct Lane {
    f: Vec<f64>,
    d: Vec<f64>,
    v: Vec<usize>,
    z: Vec<f64>,
}

impl Lane {
    fn new(n: usize) -> Self {
        Self {
            f: vec![0.0; n],
            d: vec![0.0; n],
            v: vec![0; n],
            z: vec![0.0; n + 1],
        }
    }

    /// d[p] = min_q (s·(p−q))² + f[q] over finite f[q]; all-infinite lanes stay infinite. Only finite samples
    /// enter the envelope, so no ∞−∞ arithmetic ever happens.
    fn run(&mut self, s: f64, n: usize) {
        let (f, d, v, z) = (&self.f, &mut self.d, &mut self.v, &mut self.z);
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
                let vk = v[k as usize];
                let xv = vk as f64 * s;
                let inter = ((f[q] + xq * xq) - (f[vk] + xv * xv)) / (2.0 * (xq - xv));
                if inter <= z[k as usize] {
                    k -= 1;
                    continue;
                }
                k += 1;
                v[k as usize] = q;
                z[k as usize] = inter;
                z[k as usize + 1] = f64::INFINITY;
                break;
            }
        }
        if k < 0 {
            d[..n].fill(f64::INFINITY);
            return;
        }
        let mut j = 0usize;
        for (p, dp) in d.iter_mut().enumerate().take(n) {
            let xp = p as f64 * s;
            while z[j + 1] < xp {
                j += 1;
            }
            let dx = xp - v[j] as f64 * s;
            *dp = dx * dx + f[v[j]];
        }
    }
}

#[cfg(test)]
mod tests {
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
                let got = edt_squared_mm(&feature, dims, s);
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
        let d = edt_squared_mm(&[false; 8], [2, 2, 2], [1.0; 3]);
        assert!(d.iter().all(|v| v.is_infinite()));
    }
}
