//! Deterministic randomness: per-slice correlated CT noise (ChaCha8 stream per slice, so results do not
//! depend on threading) and position-hashed value noise for bone and stool texture.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 64-bit mixer (SplitMix64 finaliser).
#[inline]
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Uniform value in [−1, 1] for an integer lattice point.
#[inline]
fn lattice(seed: u64, i: i64, j: i64, k: i64) -> f64 {
    let h = mix(seed
        ^ mix((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ mix((j as u64) ^ mix(k as u64 ^ 0x1234_5678))));
    (h >> 11) as f64 * (2.0 / (1u64 << 53) as f64) - 1.0
}

/// Smooth value noise in [−1, 1] at world position `p` (mm) with lattice spacing `cell_mm`.
#[inline]
pub fn value_noise(seed: u64, p: [f64; 3], cell_mm: f64) -> f64 {
    let u = [p[0] / cell_mm, p[1] / cell_mm, p[2] / cell_mm];
    let f = [u[0].floor(), u[1].floor(), u[2].floor()];
    let t = [u[0] - f[0], u[1] - f[1], u[2] - f[2]];
    let s = t.map(|v| v * v * (3.0 - 2.0 * v));
    let (i, j, k) = (f[0] as i64, f[1] as i64, f[2] as i64);
    let mut acc = 0.0;
    for dk in 0..2 {
        let wk = if dk == 0 { 1.0 - s[2] } else { s[2] };
        for dj in 0..2 {
            let wj = if dj == 0 { 1.0 - s[1] } else { s[1] };
            for di in 0..2 {
                let wi = if di == 0 { 1.0 - s[0] } else { s[0] };
                acc += wi * wj * wk * lattice(seed, i + di, j + dj, k + dk);
            }
        }
    }
    acc
}

/// Correlated noise texture of a filtered-backprojection CT: low-pass (grain ≈ `grain_mm`) minus a
/// fraction of a wide blur (the NPS has little power at low frequencies). Unit variance.
#[derive(Debug, Clone)]
pub struct NoiseFilter {
    wx: f32,
    wy: f32,
    rx: usize,
    ry: usize,
    beta: f32,
    norm: f32,
}

impl NoiseFilter {
    pub fn new(spacing_mm: [f64; 3]) -> NoiseFilter {
        const GRAIN_MM: f64 = 0.6;
        const WIDE_MM: f64 = 3.0;
        const BETA: f64 = 0.45;
        // 3-tap kernel [w, 1−2w, w] has variance 2w (voxels²).
        let w_of = |s: f64| (0.5 * (GRAIN_MM / s).powi(2)).min(0.25);
        let (wx, wy) = (w_of(spacing_mm[0]), w_of(spacing_mm[1]));
        let rx = ((WIDE_MM / spacing_mm[0]).round() as usize).max(1);
        let ry = ((WIDE_MM / spacing_mm[1]).round() as usize).max(1);
        // Exact variance of the combined kernel a⊗a' − β·b⊗b' (a = 3-tap, b = box ∗ 3-tap).
        let kern = |w: f64, r: usize| -> (Vec<f64>, Vec<f64>) {
            let n = 2 * r + 3;
            let c = r + 1;
            let mut a = vec![0.0; n];
            a[c - 1] = w;
            a[c] = 1.0 - 2.0 * w;
            a[c + 1] = w;
            let mut b = vec![0.0; n];
            for (i, bi) in b.iter_mut().enumerate() {
                for o in -(r as i64)..=(r as i64) {
                    let j = i as i64 - o;
                    if j >= 0 && (j as usize) < n {
                        *bi += a[j as usize] / (2 * r + 1) as f64;
                    }
                }
            }
            (a, b)
        };
        let (ax, bx) = kern(wx, rx);
        let (ay, by) = kern(wy, ry);
        let mut var = 0.0;
        for (i, (axi, bxi)) in ax.iter().zip(&bx).enumerate() {
            let _ = i;
            for (ayj, byj) in ay.iter().zip(&by) {
                let v = axi * ayj - BETA * bxi * byj;
                var += v * v;
            }
        }
        NoiseFilter {
            wx: wx as f32,
            wy: wy as f32,
            rx,
            ry,
            beta: BETA as f32,
            norm: (1.0 / var.sqrt()) as f32,
        }
    }

    /// Fills `out` (ni × nj, row-major in i) with unit-variance correlated noise for slice `k`.
    /// `t1`, `t2` are scratch buffers of the same size.
    pub fn slice(
        &self,
        seed: u64,
        k: usize,
        [ni, nj]: [usize; 2],
        out: &mut [f32],
        t1: &mut [f32],
        t2: &mut [f32],
    ) {
        let n = ni * nj;
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xC7_0015E_u64);
        rng.set_stream(k as u64);
        // Sum of four 16-bit uniforms: mean 2, variance 1/3; the filters below make it Gaussian in practice.
        let scale = (3.0f32).sqrt() / 65536.0;
        for v in out[..n].iter_mut() {
            let r = rng.next_u64();
            let s = (r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48);
            *v = (s as f32 - 2.0 * 65535.0) * scale;
        }
        // Low-pass along x then y: out → t1 (x) → out (y).
        let (wx, cx) = (self.wx, 1.0 - 2.0 * self.wx);
        for (row, dst) in out[..n].chunks_exact(ni).zip(t1[..n].chunks_exact_mut(ni)) {
            dst[0] = cx * row[0] + wx * (row[0] + row[1.min(ni - 1)]);
            for i in 1..ni - 1 {
                dst[i] = cx * row[i] + wx * (row[i - 1] + row[i + 1]);
            }
            if ni > 1 {
                dst[ni - 1] = cx * row[ni - 1] + wx * (row[ni - 2] + row[ni - 1]);
            }
        }
        let (wy, cy) = (self.wy, 1.0 - 2.0 * self.wy);
        for j in 0..nj {
            let (jm, jp) = (j.saturating_sub(1), (j + 1).min(nj - 1));
            let (a, b, c) = (
                &t1[jm * ni..jm * ni + ni],
                &t1[j * ni..j * ni + ni],
                &t1[jp * ni..jp * ni + ni],
            );
            for (i, o) in out[j * ni..(j + 1) * ni].iter_mut().enumerate() {
                *o = cy * b[i] + wy * (a[i] + c[i]);
            }
        }
        // Wide box blur of the low-passed field: out → t1 (x) → t2 (y), running sums with clamped edges.
        let rx = self.rx as i64;
        let inv = 1.0 / (2 * rx + 1) as f32;
        for (row, dst) in out[..n].chunks_exact(ni).zip(t1[..n].chunks_exact_mut(ni)) {
            let at = |i: i64| row[i.clamp(0, ni as i64 - 1) as usize];
            let mut acc: f32 = (-rx..=rx).map(at).sum();
            let r = rx as usize;
            for (i, d) in dst.iter_mut().enumerate() {
                *d = acc * inv;
                // Interior: plain indices; edges: clamped.
                let (add, sub) = if i >= r && i + r + 1 < ni {
                    (row[i + r + 1], row[i - r])
                } else {
                    (at(i as i64 + rx + 1), at(i as i64 - rx))
                };
                acc += add - sub;
            }
        }
        let ry = self.ry as i64;
        let inv = 1.0 / (2 * ry + 1) as f32;
        let row = |j: i64| {
            let j = j.clamp(0, nj as i64 - 1) as usize;
            j * ni..(j + 1) * ni
        };
        let mut acc = vec![0.0f32; ni];
        for j in -ry..=ry {
            for (a, v) in acc.iter_mut().zip(&t1[row(j)]) {
                *a += v;
            }
        }
        for j in 0..nj as i64 {
            let dst = &mut t2[j as usize * ni..(j as usize + 1) * ni];
            for (d, a) in dst.iter_mut().zip(&acc) {
                *d = a * inv;
            }
            let (add, sub) = (row(j + ry + 1), row(j - ry));
            for ((a, p), m) in acc.iter_mut().zip(&t1[add]).zip(&t1[sub]) {
                *a += p - m;
            }
        }
        let (beta, norm) = (self.beta, self.norm);
        for (o, b) in out[..n].iter_mut().zip(&t2[..n]) {
            *o = (*o - beta * b) * norm;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlated_noise_has_unit_variance_and_is_deterministic() {
        let f = NoiseFilter::new([0.8, 0.8, 1.0]);
        let (ni, nj) = (256, 256);
        let mut a = vec![0.0; ni * nj];
        let mut t1 = a.clone();
        let mut t2 = a.clone();
        f.slice(7, 3, [ni, nj], &mut a, &mut t1, &mut t2);
        let mut b = vec![0.0; ni * nj];
        f.slice(7, 3, [ni, nj], &mut b, &mut t1, &mut t2);
        assert_eq!(a, b);
        f.slice(7, 4, [ni, nj], &mut b, &mut t1, &mut t2);
        assert_ne!(a, b);
        // Interior statistics (edges are clamped).
        let mut s = 0.0f64;
        let mut s2 = 0.0f64;
        let mut c = 0.0f64;
        let mut nn = 0.0f64;
        for j in 10..nj - 10 {
            for i in 10..ni - 10 {
                let v = a[j * ni + i] as f64;
                s += v;
                s2 += v * v;
                c += v * a[j * ni + i + 1] as f64;
                nn += 1.0;
            }
        }
        let var = s2 / nn - (s / nn).powi(2);
        assert!((var - 1.0).abs() < 0.08, "variance {var}");
        assert!(
            c / nn > 0.2,
            "neighbouring voxels are correlated: {}",
            c / nn
        );
        let v = value_noise(1, [1.3, 2.7, -5.1], 1.5);
        assert!((-1.0..=1.0).contains(&v));
        assert_eq!(v, value_noise(1, [1.3, 2.7, -5.1], 1.5));
    }
}
