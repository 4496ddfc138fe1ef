//! Small vector helpers and sub-voxel sampling of label maps and CT values in LPS millimetres.

use spinekit_image::{Geometry, Volume};

pub type V3 = [f64; 3];

pub fn add(a: V3, b: V3) -> V3 {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
pub fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
pub fn scale(a: V3, s: f64) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}
pub fn dot(a: V3, b: V3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
pub fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
pub fn norm(a: V3) -> f64 {
    dot(a, a).sqrt()
}
/// Unit vector, `None` for a (near) zero or non-finite vector.
pub fn unit(a: V3) -> Option<V3> {
    let n = norm(a);
    (n.is_finite() && n > 1e-9).then(|| scale(a, 1.0 / n))
}
/// `p + u·a + v·b + w·c`.
pub fn at(p: V3, a: V3, u: f64, b: V3, v: f64, c: V3, w: f64) -> V3 {
    std::array::from_fn(|i| p[i] + u * a[i] + v * b[i] + w * c[i])
}
/// Component of `a` orthogonal to the unit vector `n`.
pub fn reject(a: V3, n: V3) -> V3 {
    sub(a, scale(n, dot(a, n)))
}

/// Coronal tilt (degrees) of a plane with upward normal `n`: its trace in a coronal plane against the
/// scanner's axial plane, positive when the patient's left end is higher (same convention as the phantom truth).
pub fn coronal_tilt_deg(n: V3) -> f64 {
    (-n[0]).atan2(n[2]).to_degrees()
}

/// Sagittal tilt (degrees) of a plane with upward normal `n`: positive when it faces anteriorly (posterior
/// edge higher).
pub fn sagittal_tilt_deg(n: V3) -> f64 {
    (-n[1]).atan2(n[2]).to_degrees()
}

/// Trilinear view of one label (or any non-zero value) of a `u8` map: 1 inside, 0 outside, fractional across
/// the boundary, so the 0.5 level approximates the surface between voxel centres on any grid.
pub struct MaskView<'a> {
    data: &'a [u8],
    dims: [usize; 3],
    geom: Geometry,
    /// `None`: any non-zero value counts.
    label: Option<u8>,
}

impl<'a> MaskView<'a> {
    pub fn new(vol: &'a Volume<u8>, label: Option<u8>) -> Self {
        Self {
            data: vol.data(),
            dims: vol.dims(),
            geom: *vol.geometry(),
            label,
        }
    }

    fn hit(&self, i: usize, j: usize, k: usize) -> f64 {
        let v = self.data[i + self.dims[0] * (j + self.dims[1] * k)];
        let inside = match self.label {
            Some(l) => v == l,
            None => v != 0,
        };
        f64::from(u8::from(inside))
    }

    /// Interpolated membership at a world point (0 outside the grid).
    pub fn value(&self, w: V3) -> f64 {
        let q = self.geom.world_to_index(w);
        let mut base = [0isize; 3];
        let mut f = [0.0; 3];
        for a in 0..3 {
            if !q[a].is_finite() {
                return 0.0;
            }
            let fl = q[a].floor();
            base[a] = fl as isize;
            f[a] = q[a] - fl;
        }
        let mut acc = 0.0;
        for c in 0..8 {
            let mut wgt = 1.0;
            let mut idx = [0usize; 3];
            let mut ok = true;
            for a in 0..3 {
                let o = (c >> a) & 1;
                let ii = base[a] + o as isize;
                wgt *= if o == 1 { f[a] } else { 1.0 - f[a] };
                if ii < 0 || ii as usize >= self.dims[a] {
                    ok = false;
                } else {
                    idx[a] = ii as usize;
                }
            }
            if ok && wgt > 0.0 {
                acc += wgt * self.hit(idx[0], idx[1], idx[2]);
            }
        }
        acc
    }

    pub fn inside(&self, w: V3) -> bool {
        self.value(w) >= 0.5
    }

    /// Distance (mm) from `start` (inside) along the unit direction `dir` to where the mask falls below 0.5,
    /// linearly interpolated between 0.25 mm samples; `None` when `start` is outside or no exit within `max_mm`.
    pub fn exit_mm(&self, start: V3, dir: V3, max_mm: f64) -> Option<f64> {
        const STEP: f64 = 0.25;
        let mut prev = self.value(start);
        if prev < 0.5 {
            return None;
        }
        let mut t = 0.0;
        while t < max_mm {
            let tn = t + STEP;
            let v = self.value(add(start, scale(dir, tn)));
            if v < 0.5 {
                let frac = if prev - v > 1e-12 {
                    (prev - 0.5) / (prev - v)
                } else {
                    0.0
                };
                return Some(t + frac * STEP);
            }
            prev = v;
            t = tn;
        }
        None
    }
}

/// Trilinear view of CT values (HU); `None` outside the grid.
pub struct CtView<'a> {
    data: &'a [i16],
    dims: [usize; 3],
    geom: Geometry,
}

impl<'a> CtView<'a> {
    pub fn new(vol: &'a Volume<i16>) -> Self {
        Self {
            data: vol.data(),
            dims: vol.dims(),
            geom: *vol.geometry(),
        }
    }

    pub fn value(&self, w: V3) -> Option<f64> {
        let q = self.geom.world_to_index(w);
        let mut base = [0usize; 3];
        let mut f = [0.0; 3];
        for a in 0..3 {
            if !(q[a] >= 0.0 && q[a] <= (self.dims[a] - 1) as f64) {
                return None;
            }
            let fl = q[a].floor().min((self.dims[a].max(2) - 2) as f64);
            base[a] = fl as usize;
            f[a] = q[a] - fl;
        }
        let mut acc = 0.0;
        for c in 0..8 {
            let mut wgt = 1.0;
            let mut idx = [0usize; 3];
            for a in 0..3 {
                let o = (c >> a) & 1;
                wgt *= if o == 1 { f[a] } else { 1.0 - f[a] };
                idx[a] = (base[a] + o).min(self.dims[a] - 1);
            }
            acc += wgt * self.data[idx[0] + self.dims[0] * (idx[1] + self.dims[1] * idx[2])] as f64;
        }
        Some(acc)
    }
}

/// Voxel-index box `lo..=hi` covering the world points given, clamped to the grid.
pub fn index_box(geom: &Geometry, dims: [usize; 3], pts: &[V3]) -> ([usize; 3], [usize; 3]) {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for &p in pts {
        let q = geom.world_to_index(p);
        for a in 0..3 {
            lo[a] = lo[a].min(q[a]);
            hi[a] = hi[a].max(q[a]);
        }
    }
    let l = std::array::from_fn(|a| lo[a].floor().clamp(0.0, (dims[a] - 1) as f64) as usize);
    let h = std::array::from_fn(|a| hi[a].ceil().clamp(0.0, (dims[a] - 1) as f64) as usize);
    (l, h)
}

/// The 8 corners of an axis-aligned world box.
pub fn box_corners(c: V3, r: f64) -> Vec<V3> {
    (0..8)
        .map(|n| std::array::from_fn(|a| c[a] + if (n >> a) & 1 == 1 { r } else { -r }))
        .collect()
}

/// Median of a slice (sorts it); `None` when empty.
pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// Least-squares plane `h = a + b·u + c·v` through (u, v, h) samples; `None` when degenerate.
pub fn fit_plane(pts: &[(f64, f64, f64)]) -> Option<(f64, f64, f64)> {
    if pts.len() < 3 {
        return None;
    }
    let n = pts.len() as f64;
    let (mu, mv, mh) = pts.iter().fold((0.0, 0.0, 0.0), |a, p| {
        (a.0 + p.0 / n, a.1 + p.1 / n, a.2 + p.2 / n)
    });
    let (mut suu, mut suv, mut svv, mut suh, mut svh) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(u, v, h) in pts {
        let (du, dv, dh) = (u - mu, v - mv, h - mh);
        suu += du * du;
        suv += du * dv;
        svv += dv * dv;
        suh += du * dh;
        svh += dv * dh;
    }
    let det = suu * svv - suv * suv;
    if det.abs() < 1e-9 {
        return None;
    }
    let b = (suh * svv - svh * suv) / det;
    let c = (svh * suu - suh * suv) / det;
    Some((mh - b * mu - c * mv, b, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plane_fit_recovers_a_tilted_plane() {
        let mut pts = Vec::new();
        for i in -3..=3 {
            for j in -3..=3 {
                let (u, v) = (i as f64, j as f64 * 2.0);
                pts.push((u, v, 5.0 + 0.2 * u - 0.1 * v));
            }
        }
        let (a, b, c) = fit_plane(&pts).unwrap();
        assert!((a - 5.0).abs() < 1e-9 && (b - 0.2).abs() < 1e-9 && (c + 0.1).abs() < 1e-9);
        assert!(fit_plane(&pts[..2]).is_none());
    }

    #[test]
    fn tilts_follow_the_truth_convention() {
        // Normal tilted towards the patient's right (−x): the left end is higher → positive coronal tilt.
        let n = unit([-0.1, 0.0, 1.0]).unwrap();
        assert!((coronal_tilt_deg(n) - 0.1f64.atan().to_degrees()).abs() < 1e-12);
        let n = unit([0.0, -0.2, 1.0]).unwrap();
        assert!(sagittal_tilt_deg(n) > 11.0);
    }

    #[test]
    fn exit_distance_is_sub_voxel_on_an_oblique_grid() {
        // A box of 10 × 10 × 10 voxels of 1.5 mm in a grid rotated 30° about z: the 0.5 level lies half-way
        // between the last inside and first outside voxel centres, i.e. on the voxel faces.
        let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
        let g = Geometry {
            origin_mm: [10.0, -5.0, 3.0],
            spacing_mm: [1.5, 1.5, 1.5],
            direction: [[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]],
        };
        let mut v = Volume::<u8>::zeros([20, 20, 20], g).unwrap();
        for k in 5..15 {
            for j in 5..15 {
                for i in 5..15 {
                    v.set(i, j, k, 3);
                }
            }
        }
        let m = MaskView::new(&v, Some(3));
        let centre = g.index_to_world([9.5, 9.5, 9.5]);
        let dir_i = g.direction[0];
        let d = m.exit_mm(centre, dir_i, 40.0).unwrap();
        assert!((d - 7.5).abs() < 0.05, "{d}");
        let up = m.exit_mm(centre, [0.0, 0.0, 1.0], 40.0).unwrap();
        assert!((up - 7.5).abs() < 0.05, "{up}");
        assert!(MaskView::new(&v, Some(4))
            .exit_mm(centre, dir_i, 40.0)
            .is_none());
    }
}
