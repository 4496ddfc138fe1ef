//! Thresholding and separable Gaussian smoothing in millimetres.

use rayon::prelude::*;
use spinekit_image::{Volume, Voxel};

/// Mask of voxels with `lo ≤ value ≤ hi`.
pub fn threshold<T: Voxel>(vol: &Volume<T>, lo: f64, hi: f64) -> Volume<u8> {
    vol.map(|v| {
        let x = v.to_f64();
        u8::from(x >= lo && x <= hi)
    })
}

fn kernel(sigma_vox: f64) -> Vec<f64> {
    let r = (3.0 * sigma_vox).ceil().max(1.0) as isize;
    let mut k: Vec<f64> = (-r..=r)
        .map(|x| (-(x as f64).powi(2) / (2.0 * sigma_vox * sigma_vox)).exp())
        .collect();
    let s: f64 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= s);
    k
}

/// Separable Gaussian smoothing with standard deviation `sigma_mm` per voxel axis (0 leaves an axis alone).
/// Edges repeat the border value, so a uniform image stays uniform.
pub fn gaussian_mm(vol: &Volume<f32>, sigma_mm: [f64; 3]) -> Volume<f32> {
    let dims = vol.dims();
    let sp = vol.geometry().spacing_mm;
    let mut cur = vol.data().to_vec();
    for axis in 0..3 {
        if sigma_mm[axis] <= 0.0 || dims[axis] == 1 {
            continue;
        }
        let k = kernel(sigma_mm[axis] / sp[axis]);
        let r = (k.len() / 2) as isize;
        let n = dims[axis] as isize;
        let stride = [1usize, dims[0], dims[0] * dims[1]][axis];
        let src = cur.clone();
        let plane = dims[0] * dims[1];
        cur.par_chunks_mut(plane).enumerate().for_each(|(kz, sl)| {
            for (p, out) in sl.iter_mut().enumerate() {
                let idx = kz * plane + p;
                let pos = [p % dims[0], p / dims[0], kz][axis] as isize;
                let base = idx - pos as usize * stride;
                let mut acc = 0.0f64;
                for (t, w) in k.iter().enumerate() {
                    let q = (pos + t as isize - r).clamp(0, n - 1) as usize;
                    acc += w * src[base + q * stride] as f64;
                }
                *out = acc as f32;
            }
        });
    }
    Volume::from_vec(dims, *vol.geometry(), cur).expect("same dims")
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinekit_image::Geometry;

    #[test]
    fn threshold_is_inclusive() {
        let v =
            Volume::from_vec([4, 1, 1], Geometry::default(), vec![-5i16, 150, 200, 201]).unwrap();
        assert_eq!(threshold(&v, 150.0, 200.0).data(), &[0, 1, 1, 0]);
    }

    #[test]
    fn gaussian_preserves_mass_and_spreads_by_sigma() {
        let mut v = Volume::<f32>::zeros([41, 3, 41], Geometry::identity([0.5, 1.0, 2.0])).unwrap();
        v.set(20, 1, 20, 1000.0);
        let g = gaussian_mm(&v, [2.0, 0.0, 4.0]);
        let sum: f64 = g.data().iter().map(|&x| x as f64).sum();
        assert!((sum - 1000.0).abs() < 0.5, "{sum}");
        // Variance along i in mm² ≈ σ² = 4.
        let mut m2 = 0.0;
        for i in 0..41 {
            let w: f64 = (0..41).map(|k| g.get(i, 1, k) as f64).sum();
            m2 += w * ((i as f64 - 20.0) * 0.5).powi(2);
        }
        assert!((m2 / 1000.0 - 4.0).abs() < 0.2, "{}", m2 / 1000.0);
        assert_eq!(g.get(20, 0, 20), 0.0, "axis with sigma 0 untouched");
        let u = Volume::from_vec([5, 5, 5], Geometry::default(), vec![7.0f32; 125]).unwrap();
        assert!(gaussian_mm(&u, [3.0; 3])
            .data()
            .iter()
            .all(|&x| (x - 7.0).abs() < 1e-4));
    }
}
