//! Noise added to an existing CT, to test how a series reads when it is noisier than the one at hand
//! (low-dose protocols, thin-slice bone kernels).

use crate::noise::NoiseFilter;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use spinekit_image::Volume;

/// Texture of the added noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoiseTexture {
    /// Independent from voxel to voxel: harsher than any scanner at fine pixels (all its power is at the
    /// highest frequencies, which a reconstruction kernel damps).
    Uncorrelated,
    /// The phantom's filtered-backprojection texture: about 0.6 mm grain, little power at low frequencies.
    Scanner,
}

/// `ct` plus zero-mean noise of SD `sigma_hu` (in-plane texture per `texture`, independent between slices),
/// rounded and clamped to −1024…3071 HU. Reproducible from `seed`, whatever the thread count.
pub fn added_noise(
    ct: &Volume<i16>,
    sigma_hu: f64,
    texture: NoiseTexture,
    seed: u64,
) -> Volume<i16> {
    let [ni, nj, nk] = ct.dims();
    let plane = ni * nj;
    let filt = NoiseFilter::new(ct.geometry().spacing_mm);
    let mut data = ct.data().to_vec();
    data.par_chunks_mut(plane)
        .enumerate()
        .take(nk)
        .for_each(|(k, sl)| {
            let mut z = vec![0.0f32; plane];
            match texture {
                NoiseTexture::Scanner => {
                    let (mut t1, mut t2) = (vec![0.0f32; plane], vec![0.0f32; plane]);
                    filt.slice(seed, k, [ni, nj], &mut z, &mut t1, &mut t2);
                }
                NoiseTexture::Uncorrelated => {
                    let mut rng = ChaCha8Rng::seed_from_u64(seed);
                    rng.set_stream(k as u64);
                    let u = |r: u64| ((r >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
                    for v in z.iter_mut() {
                        // Box–Muller.
                        let (a, b) = (u(rng.next_u64()), u(rng.next_u64()));
                        *v = ((-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()) as f32;
                    }
                }
            }
            for (v, n) in sl.iter_mut().zip(&z) {
                *v = (f64::from(*v) + sigma_hu * f64::from(*n))
                    .round()
                    .clamp(-1024.0, 3071.0) as i16;
            }
        });
    Volume::from_vec(ct.dims(), *ct.geometry(), data).expect("same dims")
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinekit_image::Geometry;

    fn sd_and_lag1(v: &Volume<i16>, base: i16) -> (f64, f64) {
        let [ni, ..] = v.dims();
        let d: Vec<f64> = v.data().iter().map(|&x| f64::from(x - base)).collect();
        let n = d.len() as f64;
        let var = d.iter().map(|x| x * x).sum::<f64>() / n;
        let lag: f64 = d
            .chunks(ni)
            .flat_map(|r| r.windows(2).map(|w| w[0] * w[1]))
            .sum::<f64>()
            / (n - n / ni as f64);
        (var.sqrt(), lag / var)
    }

    #[test]
    fn has_the_asked_sd_and_texture_and_is_reproducible() {
        let g = Geometry::identity([0.6, 0.6, 1.0]);
        let v = Volume::from_vec([128, 128, 4], g, vec![40i16; 128 * 128 * 4]).unwrap();
        let iid = added_noise(&v, 30.0, NoiseTexture::Uncorrelated, 7);
        let scan = added_noise(&v, 30.0, NoiseTexture::Scanner, 7);
        let (s1, r1) = sd_and_lag1(&iid, 40);
        let (s2, r2) = sd_and_lag1(&scan, 40);
        assert!((s1 - 30.0).abs() < 1.0, "uncorrelated SD {s1}");
        assert!((s2 - 30.0).abs() < 2.0, "scanner SD {s2}");
        assert!(r1.abs() < 0.03, "uncorrelated lag-1 correlation {r1}");
        assert!(r2 > 0.3, "scanner lag-1 correlation {r2}");
        assert_eq!(
            iid.data(),
            added_noise(&v, 30.0, NoiseTexture::Uncorrelated, 7).data()
        );
        assert_ne!(
            iid.data(),
            added_noise(&v, 30.0, NoiseTexture::Uncorrelated, 8).data()
        );
    }
}
