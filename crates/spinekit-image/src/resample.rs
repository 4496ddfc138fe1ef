use crate::{Geometry, ImageError, Volume, Voxel};
use nalgebra::Vector3;
use rayon::prelude::*;

/// How to compute a value between voxel centres.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    /// Nearest voxel: for label maps, where averaging labels would invent new ones.
    Nearest,
    /// Trilinear: for intensity images.
    Linear,
}

/// Index tolerance at the grid border, so that a target voxel centre lying on the source's last voxel centre
/// (up to float noise) is inside.
const EDGE_TOL: f64 = 1e-6;

/// Resamples `vol` onto another grid (`dims` × `geometry`), e.g. a label map onto its CT. Target voxels whose
/// centre falls outside the source grid get `fill`.
pub fn resample_to_grid<T: Voxel>(
    vol: &Volume<T>,
    dims: [usize; 3],
    geometry: Geometry,
    interp: Interpolation,
    fill: T,
) -> Result<Volume<T>, ImageError> {
    let mut out = Volume::<T>::zeros(dims, geometry)?;
    let src_g = vol.geometry();
    let inv = src_g
        .index_to_world_matrix()
        .try_inverse()
        .ok_or_else(|| ImageError::BadGeometry("source grid is singular".into()))?;
    // src_index = a · out_index + b
    let a = inv * geometry.index_to_world_matrix();
    let b = inv * (Vector3::from(geometry.origin_mm) - Vector3::from(src_g.origin_mm));
    let sd = vol.dims();
    let src = vol.data();
    let max = [sd[0] as f64 - 1.0, sd[1] as f64 - 1.0, sd[2] as f64 - 1.0];
    let plane = dims[0] * dims[1];
    let col0 = a.column(0).into_owned();
    out.data_mut()
        .par_chunks_mut(plane)
        .enumerate()
        .for_each(|(k, sl)| {
            for j in 0..dims[1] {
                let mut p = a * Vector3::new(0.0, j as f64, k as f64) + b;
                for v in sl[j * dims[0]..(j + 1) * dims[0]].iter_mut() {
                    *v = sample(src, sd, max, [p[0], p[1], p[2]], interp).unwrap_or(fill);
                    p += col0;
                }
            }
        });
    Ok(out)
}

/// Which points near the edge of the grid may be sampled (they take the edge voxel's value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Border {
    /// Only the box spanned by the voxel centres (plus float noise): resampling onto another grid.
    Centres,
    /// The box the voxels cover, half a voxel beyond the outer centres: pictures and reformats, where the
    /// outermost voxels should show at full width.
    HalfVoxel,
}

impl Border {
    fn tolerance(self) -> f64 {
        match self {
            Border::Centres => EDGE_TOL,
            Border::HalfVoxel => 0.5 - EDGE_TOL,
        }
    }
}

impl<T: Voxel> Volume<T> {
    /// The value at a world point (LPS mm), or `None` outside the grid (see [`Border`]). Linear interpolation
    /// returns the unrounded mean (a fractional HU); nearest returns the voxel's own value.
    pub fn value_at_mm(
        &self,
        p_mm: [f64; 3],
        interp: Interpolation,
        border: Border,
    ) -> Option<f64> {
        let q = self.geometry().world_to_index(p_mm);
        let sd = self.dims();
        let max = [sd[0] as f64 - 1.0, sd[1] as f64 - 1.0, sd[2] as f64 - 1.0];
        let q = locate(q, max, border.tolerance())?;
        Some(match interp {
            Interpolation::Nearest => nearest_at(self.data(), sd, q).to_f64(),
            Interpolation::Linear => linear_at(self.data(), sd, q),
        })
    }
}

/// Checks a continuous index against the grid (with `tol` voxels of slack) and clamps it onto the centres' box.
#[inline]
fn locate(p: [f64; 3], max: [f64; 3], tol: f64) -> Option<[f64; 3]> {
    let mut q = p;
    for a in 0..3 {
        if !(q[a] >= -tol && q[a] <= max[a] + tol) {
            return None;
        }
        q[a] = q[a].clamp(0.0, max[a]);
    }
    Some(q)
}

#[inline]
fn nearest_at<T: Voxel>(src: &[T], sd: [usize; 3], q: [f64; 3]) -> T {
    let r = |x: f64, n: usize| ((x + 0.5).floor() as usize).min(n - 1);
    src[r(q[0], sd[0]) + sd[0] * (r(q[1], sd[1]) + sd[1] * r(q[2], sd[2]))]
}

#[inline]
fn linear_at<T: Voxel>(src: &[T], sd: [usize; 3], q: [f64; 3]) -> f64 {
    let idx = |i: usize, j: usize, k: usize| i + sd[0] * (j + sd[1] * k);
    let i0 = [
        q[0].floor() as usize,
        q[1].floor() as usize,
        q[2].floor() as usize,
    ];
    let f = [
        q[0] - i0[0] as f64,
        q[1] - i0[1] as f64,
        q[2] - i0[2] as f64,
    ];
    let i1 = [
        (i0[0] + 1).min(sd[0] - 1),
        (i0[1] + 1).min(sd[1] - 1),
        (i0[2] + 1).min(sd[2] - 1),
    ];
    let v = |i: usize, j: usize, k: usize| src[idx(i, j, k)].to_f64();
    let c00 = v(i0[0], i0[1], i0[2]) * (1.0 - f[0]) + v(i1[0], i0[1], i0[2]) * f[0];
    let c10 = v(i0[0], i1[1], i0[2]) * (1.0 - f[0]) + v(i1[0], i1[1], i0[2]) * f[0];
    let c01 = v(i0[0], i0[1], i1[2]) * (1.0 - f[0]) + v(i1[0], i0[1], i1[2]) * f[0];
    let c11 = v(i0[0], i1[1], i1[2]) * (1.0 - f[0]) + v(i1[0], i1[1], i1[2]) * f[0];
    let c0 = c00 * (1.0 - f[1]) + c10 * f[1];
    let c1 = c01 * (1.0 - f[1]) + c11 * f[1];
    c0 * (1.0 - f[2]) + c1 * f[2]
}

#[inline]
fn sample<T: Voxel>(
    src: &[T],
    sd: [usize; 3],
    max: [f64; 3],
    p: [f64; 3],
    interp: Interpolation,
) -> Option<T> {
    let q = locate(p, max, EDGE_TOL)?;
    Some(match interp {
        Interpolation::Nearest => nearest_at(src, sd, q),
        Interpolation::Linear => T::from_f64(linear_at(src, sd, q)),
    })
}

/// Resamples to a new voxel spacing on the same axes and the same first-voxel centre, covering the same extent.
pub fn resample_to_spacing<T: Voxel>(
    vol: &Volume<T>,
    spacing_mm: [f64; 3],
    interp: Interpolation,
) -> Result<Volume<T>, ImageError> {
    let g = vol.geometry();
    let d = vol.dims();
    let mut dims = [0usize; 3];
    for a in 0..3 {
        if !(spacing_mm[a].is_finite() && spacing_mm[a] > 0.0) {
            return Err(ImageError::BadGeometry(format!(
                "target spacing {spacing_mm:?} mm"
            )));
        }
        let extent = (d[a] - 1) as f64 * g.spacing_mm[a];
        dims[a] = (extent / spacing_mm[a] + 1e-6).floor() as usize + 1;
    }
    let mut ng = *g;
    ng.spacing_mm = spacing_mm;
    resample_to_grid(vol, dims, ng, interp, T::default())
}
