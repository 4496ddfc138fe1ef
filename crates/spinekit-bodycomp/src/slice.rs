//! The axial slice through a point: the volume's own slice when one voxel axis is (nearly) along S, otherwise
//! a resampled plane normal to S.

use crate::img2d::{fill_small_holes, Grid2};
use spinekit_ct::Segmentation;
use spinekit_image::{Geometry, Volume};

/// Largest angle (degrees) between a voxel axis and S for which the volume's own slices count as axial;
/// steeper (gantry-tilted or non-axial) scans get a resampled plane.
pub const AXIAL_TOLERANCE_DEG: f64 = 3.0;

/// One axial slice: HU, the engine's bone mask and vertebral-body labels on the same pixels, and where each
/// pixel lies (pixel (c, r) centre = origin_mm + c·spacing_mm[0]·col_dir + r·spacing_mm[1]·row_dir).
#[derive(Debug, Clone)]
pub struct Slice {
    pub grid: Grid2,
    pub hu: Vec<f32>,
    /// False where the pixel lies outside the scanned volume or the reconstruction circle (padding values).
    pub valid: Vec<bool>,
    /// Bone or vertebra (marrow included), holes filled (marrow of ribs and pelvis).
    pub bone: Vec<bool>,
    /// Vertebral-body labels (VerSe numbers).
    pub bodies: Vec<u8>,
    /// Spinal canal.
    pub canal: Vec<bool>,
    /// Vertebrae of the engine's label map (marrow included), without other bone.
    pub vertebra: Vec<bool>,
    pub origin_mm: [f64; 3],
    pub col_dir: [f64; 3],
    pub row_dir: [f64; 3],
    /// Index of the volume slice (None when resampled).
    pub slice_index: Option<usize>,
    /// Voxel axis normal to the slice (None when resampled).
    pub normal_axis: Option<usize>,
    /// Angle between the slice normal and S (0 for a resampled plane).
    pub tilt_deg: f64,
}

/// HU at or below which a voxel is treated as padding outside the reconstruction circle, not air.
pub const PADDING_HU: f32 = -1100.0;

impl Slice {
    /// LPS position (mm) of a (fractional) pixel.
    pub fn world(&self, c: f64, r: f64) -> [f64; 3] {
        let (sc, sr) = (self.grid.spacing_mm[0], self.grid.spacing_mm[1]);
        std::array::from_fn(|a| {
            self.origin_mm[a] + c * sc * self.col_dir[a] + r * sr * self.row_dir[a]
        })
    }

    /// In-plane LPS (x, y) of every pixel, row-major.
    pub fn xy(&self) -> Vec<[f64; 2]> {
        let mut out = Vec::with_capacity(self.grid.len());
        for r in 0..self.grid.h {
            for c in 0..self.grid.w {
                let p = self.world(c as f64, r as f64);
                out.push([p[0], p[1]]);
            }
        }
        out
    }

    /// Fractional pixel (c, r) of an in-plane LPS position (x, y), from the 2×2 in-plane mapping.
    pub fn pixel_of(&self, x: f64, y: f64) -> (f64, f64) {
        let (sc, sr) = (self.grid.spacing_mm[0], self.grid.spacing_mm[1]);
        let (a, b) = (self.col_dir[0] * sc, self.row_dir[0] * sr);
        let (c, d) = (self.col_dir[1] * sc, self.row_dir[1] * sr);
        let det = a * d - b * c;
        let (dx, dy) = (x - self.origin_mm[0], y - self.origin_mm[1]);
        if det.abs() < 1e-12 {
            return (f64::NAN, f64::NAN);
        }
        ((d * dx - b * dy) / det, (-c * dx + a * dy) / det)
    }

    /// Pixel index nearest to an in-plane LPS position, if inside the grid.
    pub fn index_of(&self, x: f64, y: f64) -> Option<usize> {
        let (c, r) = self.pixel_of(x, y);
        let (c, r) = (c.round(), r.round());
        if c.is_finite() && r.is_finite() && c >= 0.0 && r >= 0.0 {
            let (c, r) = (c as usize, r as usize);
            if c < self.grid.w && r < self.grid.h {
                return Some(r * self.grid.w + c);
            }
        }
        None
    }
}

/// Voxel axis whose direction is closest to S, and the angle (degrees) between them.
pub fn axial_axis(g: &Geometry) -> (usize, f64) {
    let (a, z) = (0..3)
        .map(|a| (a, g.direction[a][2].abs()))
        .max_by(|x, y| x.1.total_cmp(&y.1))
        .unwrap_or((2, 1.0));
    (a, z.clamp(-1.0, 1.0).acos().to_degrees())
}

/// The axial slice through `point_mm`; None when the point lies outside the scanned range along S.
pub fn axial_slice(ct: &Volume<i16>, seg: &Segmentation, point_mm: [f64; 3]) -> Option<Slice> {
    let mut s = raw_axial_slice(ct, seg, point_mm)?;
    // Marrow below the bone threshold inside ribs and the pelvis: enclosed holes up to 20 cm².
    let max_px = (2000.0 / (s.grid.spacing_mm[0] * s.grid.spacing_mm[1])) as usize;
    s.bone = fill_small_holes(&s.bone, s.grid, max_px);
    Some(s)
}

fn raw_axial_slice(ct: &Volume<i16>, seg: &Segmentation, point_mm: [f64; 3]) -> Option<Slice> {
    let g = *ct.geometry();
    let d = ct.dims();
    let (ax, tilt) = axial_axis(&g);
    if tilt <= AXIAL_TOLERANCE_DEG {
        let idx = g.world_to_index(point_mm);
        let k = idx[ax].round();
        if !(0.0..d[ax] as f64).contains(&k) {
            return None;
        }
        let k = k as usize;
        let (a0, a1) = match ax {
            0 => (1, 2),
            1 => (0, 2),
            _ => (0, 1),
        };
        let (w, h) = (d[a0], d[a1]);
        let grid = Grid2 {
            w,
            h,
            spacing_mm: [g.spacing_mm[a0], g.spacing_mm[a1]],
        };
        let mut hu = Vec::with_capacity(w * h);
        let mut bo = Vec::with_capacity(w * h);
        let mut bd = Vec::with_capacity(w * h);
        let mut cn = Vec::with_capacity(w * h);
        let mut vt = Vec::with_capacity(w * h);
        for r in 0..h {
            for c in 0..w {
                let mut ijk = [0usize; 3];
                ijk[ax] = k;
                ijk[a0] = c;
                ijk[a1] = r;
                hu.push(ct.get(ijk[0], ijk[1], ijk[2]) as f32);
                let (i, j, kk) = (ijk[0], ijk[1], ijk[2]);
                bo.push(seg.bone.get(i, j, kk) != 0 || seg.labels.get(i, j, kk) != 0);
                bd.push(seg.bodies.get(i, j, kk));
                cn.push(seg.canal.get(i, j, kk) != 0);
                vt.push(seg.labels.get(i, j, kk) != 0);
            }
        }
        let mut ijk0 = [0usize; 3];
        ijk0[ax] = k;
        let origin_mm = ct.voxel_to_world(ijk0);
        let valid = hu.iter().map(|&v| v > PADDING_HU).collect();
        return Some(Slice {
            grid,
            hu,
            valid,
            bone: bo,
            bodies: bd,
            canal: cn,
            vertebra: vt,
            origin_mm,
            col_dir: g.direction[a0],
            row_dir: g.direction[a1],
            slice_index: Some(k),
            normal_axis: Some(ax),
            tilt_deg: tilt,
        });
    }
    resampled_axial(ct, seg, point_mm)
}

/// A plane normal to S through `point_mm`, columns along L and rows along P, covering the volume's
/// in-plane extent at the smallest voxel spacing; HU trilinear, masks nearest-neighbour.
fn resampled_axial(ct: &Volume<i16>, seg: &Segmentation, point_mm: [f64; 3]) -> Option<Slice> {
    let g = *ct.geometry();
    let d = ct.dims();
    let (lo, hi) = ct.world_extent_mm();
    if point_mm[2] < lo[2] || point_mm[2] > hi[2] {
        return None;
    }
    let s = g
        .spacing_mm
        .iter()
        .cloned()
        .fold(f64::INFINITY, f64::min)
        .max(0.3);
    let w = (((hi[0] - lo[0]) / s).ceil() as usize + 1).min(1024);
    let h = (((hi[1] - lo[1]) / s).ceil() as usize + 1).min(1024);
    let origin_mm = [lo[0], lo[1], point_mm[2]];
    let grid = Grid2 {
        w,
        h,
        spacing_mm: [s, s],
    };
    let mut hu = vec![-1024.0f32; w * h];
    let mut valid = vec![false; w * h];
    let mut bo = vec![false; w * h];
    let mut bd = vec![0u8; w * h];
    let mut cn = vec![false; w * h];
    let mut vt = vec![false; w * h];
    for r in 0..h {
        for c in 0..w {
            let p = [
                origin_mm[0] + c as f64 * s,
                origin_mm[1] + r as f64 * s,
                point_mm[2],
            ];
            let f = g.world_to_index(p);
            if (0..3).any(|a| f[a] < -0.5 || f[a] > d[a] as f64 - 0.5) {
                continue;
            }
            let i = r * w + c;
            let n: [usize; 3] =
                std::array::from_fn(|a| (f[a].round().max(0.0) as usize).min(d[a] - 1));
            bo[i] = seg.bone.get(n[0], n[1], n[2]) != 0 || seg.labels.get(n[0], n[1], n[2]) != 0;
            bd[i] = seg.bodies.get(n[0], n[1], n[2]);
            cn[i] = seg.canal.get(n[0], n[1], n[2]) != 0;
            vt[i] = seg.labels.get(n[0], n[1], n[2]) != 0;
            // Trilinear HU.
            let b: [usize; 3] = std::array::from_fn(|a| {
                (f[a].floor().max(0.0) as usize).min(d[a].saturating_sub(2))
            });
            let t: [f64; 3] = std::array::from_fn(|a| {
                if d[a] < 2 {
                    0.0
                } else {
                    (f[a] - b[a] as f64).clamp(0.0, 1.0)
                }
            });
            let mut v = 0.0;
            for corner in 0..8 {
                let o = [corner & 1, (corner >> 1) & 1, (corner >> 2) & 1];
                let mut wgt = 1.0;
                let mut q = [0usize; 3];
                for a in 0..3 {
                    q[a] = (b[a] + o[a]).min(d[a] - 1);
                    wgt *= if o[a] == 1 { t[a] } else { 1.0 - t[a] };
                }
                if wgt > 0.0 {
                    v += wgt * ct.get(q[0], q[1], q[2]) as f64;
                }
            }
            hu[i] = v as f32;
            valid[i] = hu[i] > PADDING_HU;
        }
    }
    Some(Slice {
        grid,
        hu,
        valid,
        bone: bo,
        bodies: bd,
        canal: cn,
        vertebra: vt,
        origin_mm,
        col_dir: [1.0, 0.0, 0.0],
        row_dir: [0.0, 1.0, 0.0],
        slice_index: None,
        normal_axis: None,
        tilt_deg: 0.0,
    })
}
