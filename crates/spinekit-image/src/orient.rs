use crate::{ImageError, OrientationCode, Volume, Voxel};
use rayon::prelude::*;

/// Permutes and flips voxel axes (no interpolation) so that the axes point as close as possible to `target`
/// (e.g. `LPS`). The world position of every voxel is unchanged; only its index moves.
pub fn reorient_to<T: Voxel>(
    vol: &Volume<T>,
    target: OrientationCode,
) -> Result<Volume<T>, ImageError> {
    let g = vol.geometry();
    let dims = vol.dims();
    // Patient axis and sign each source axis points along (dominant direction component).
    let mut src_axis = [(0usize, 1.0f64); 3];
    for (s, sa) in src_axis.iter_mut().enumerate() {
        let d = g.direction[s];
        let c = (0..3)
            .max_by(|&a, &b| d[a].abs().total_cmp(&d[b].abs()))
            .unwrap_or(0);
        *sa = (c, d[c].signum());
    }
    if src_axis[0].0 == src_axis[1].0
        || src_axis[1].0 == src_axis[2].0
        || src_axis[0].0 == src_axis[2].0
    {
        return Err(ImageError::Reorient(
            "two voxel axes point along the same patient axis (45° obliquity)".into(),
        ));
    }
    let src_stride = [1isize, dims[0] as isize, (dims[0] * dims[1]) as isize];
    let mut new_dims = [0usize; 3];
    let mut stride = [0isize; 3];
    let mut base = 0isize;
    let mut new_geom = *g;
    let mut origin_idx = [0.0f64; 3];
    for t in 0..3 {
        let (pa, sign) = OrientationCode::patient_axis(target.0[t])
            .ok_or_else(|| ImageError::Reorient(format!("bad orientation code {target}")))?;
        let s = (0..3)
            .find(|&s| src_axis[s].0 == pa)
            .ok_or_else(|| ImageError::Reorient(format!("bad orientation code {target}")))?;
        let flip = src_axis[s].1 != sign;
        new_dims[t] = dims[s];
        new_geom.spacing_mm[t] = g.spacing_mm[s];
        let dir = g.direction[s];
        new_geom.direction[t] = if flip {
            [-dir[0], -dir[1], -dir[2]]
        } else {
            dir
        };
        if flip {
            stride[t] = -src_stride[s];
            base += (dims[s] as isize - 1) * src_stride[s];
            origin_idx[s] = (dims[s] - 1) as f64;
        } else {
            stride[t] = src_stride[s];
        }
    }
    new_geom.origin_mm = g.index_to_world(origin_idx);
    let src = vol.data();
    let plane = new_dims[0] * new_dims[1];
    let mut out = vec![T::default(); plane * new_dims[2]];
    out.par_chunks_mut(plane).enumerate().for_each(|(c, sl)| {
        let off_c = base + c as isize * stride[2];
        for b in 0..new_dims[1] {
            let off_b = off_c + b as isize * stride[1];
            let row = &mut sl[b * new_dims[0]..(b + 1) * new_dims[0]];
            for (a, v) in row.iter_mut().enumerate() {
                *v = src[(off_b + a as isize * stride[0]) as usize];
            }
        }
    });
    Volume::from_vec(new_dims, new_geom, out)
}
