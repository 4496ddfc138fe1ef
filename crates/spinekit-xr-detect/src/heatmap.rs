//! Training targets from landmarks, and landmarks from network outputs (both on the CPU).
//!
//! Coordinates: input pixel x maps to heatmap coordinate u = x / STRIDE − 0.5, so cell j's centre is
//! at u = j. A vertebra's centre is the mean of its four corners.

use crate::model::{OFFSET_UNIT_CELLS, OUT_H, OUT_W, STRIDE};
use crate::{N_POINTS, N_VERTEBRAE};

/// Gaussian radius of the centre heatmap in cells (vertebra spacing is about 5 cells at 384 rows).
pub const SIGMA_CELLS: f32 = 1.5;

/// Per-image training targets on the OUT_H × OUT_W grid.
#[derive(Debug, Clone)]
pub struct Targets {
    /// Gaussian centre heatmap in [0, 1], exactly 1 at each vertebra's peak cell.
    pub heat: Vec<f32>,
    /// 1 at peak cells.
    pub pos: Vec<f32>,
    /// 8 × OUT_H × OUT_W offset targets (channel-major).
    pub offsets: Vec<f32>,
    /// 1 where the offset target is defined (3×3 cells around each centre), per cell.
    pub offset_mask: Vec<f32>,
}

fn to_cells(p: [f32; 2]) -> [f32; 2] {
    [p[0] / STRIDE as f32 - 0.5, p[1] / STRIDE as f32 - 0.5]
}

fn from_cells(u: [f32; 2]) -> [f32; 2] {
    [(u[0] + 0.5) * STRIDE as f32, (u[1] + 0.5) * STRIDE as f32]
}

/// Builds the targets from 68 landmarks in input-grid pixels.
pub fn targets(pts: &[[f32; 2]; N_POINTS]) -> Targets {
    let n = OUT_H * OUT_W;
    let mut t = Targets {
        heat: vec![0.0; n],
        pos: vec![0.0; n],
        offsets: vec![0.0; 8 * n],
        offset_mask: vec![0.0; n],
    };
    for v in 0..N_VERTEBRAE {
        let corners: Vec<[f32; 2]> = (0..4).map(|k| to_cells(pts[4 * v + k])).collect();
        let cu = corners.iter().map(|c| c[0]).sum::<f32>() / 4.0;
        let cv = corners.iter().map(|c| c[1]).sum::<f32>() / 4.0;
        let (pj, pi) = (cu.round() as i64, cv.round() as i64);
        let r = (3.0 * SIGMA_CELLS).ceil() as i64;
        for i in pi - r..=pi + r {
            for j in pj - r..=pj + r {
                if i < 0 || j < 0 || i >= OUT_H as i64 || j >= OUT_W as i64 {
                    continue;
                }
                let d2 = ((i - pi).pow(2) + (j - pj).pow(2)) as f32;
                let g = (-d2 / (2.0 * SIGMA_CELLS * SIGMA_CELLS)).exp();
                let idx = i as usize * OUT_W + j as usize;
                t.heat[idx] = t.heat[idx].max(g);
                if i == pi && j == pj {
                    t.pos[idx] = 1.0;
                }
                if (i - pi).abs() <= 1 && (j - pj).abs() <= 1 {
                    t.offset_mask[idx] = 1.0;
                    for (k, c) in corners.iter().enumerate() {
                        t.offsets[(2 * k) * n + idx] = (c[0] - j as f32) / OFFSET_UNIT_CELLS;
                        t.offsets[(2 * k + 1) * n + idx] = (c[1] - i as f32) / OFFSET_UNIT_CELLS;
                    }
                }
            }
        }
    }
    t
}

/// One detected vertebra on the input grid.
#[derive(Debug, Clone, Copy)]
pub struct Peak {
    /// Heatmap probability at the peak (0–1).
    pub score: f32,
    /// Four corners (TL, TR, BL, BR) in input-grid pixels.
    pub corners: [[f32; 2]; 4],
}

/// Local maxima (3×3) of the sigmoid heatmap above `min_score`, strongest first; each peak's corners
/// are the score-weighted mean of the corner predictions of the 3×3 cells around it.
pub fn peaks(heat: &[f32], offsets: &[f32], min_score: f32) -> Vec<Peak> {
    let n = OUT_H * OUT_W;
    let mut out = Vec::new();
    for i in 0..OUT_H {
        for j in 0..OUT_W {
            let s = heat[i * OUT_W + j];
            if s < min_score {
                continue;
            }
            let mut is_max = true;
            for di in -1i64..=1 {
                for dj in -1i64..=1 {
                    let (a, b) = (i as i64 + di, j as i64 + dj);
                    if (di, dj) == (0, 0)
                        || a < 0
                        || b < 0
                        || a >= OUT_H as i64
                        || b >= OUT_W as i64
                    {
                        continue;
                    }
                    let o = heat[a as usize * OUT_W + b as usize];
                    // Ties broken towards the earlier cell so a plateau gives one peak.
                    if o > s || (o == s && (a, b) < (i as i64, j as i64)) {
                        is_max = false;
                    }
                }
            }
            if !is_max {
                continue;
            }
            let mut acc = [[0f32; 2]; 4];
            let mut wsum = 0f32;
            for di in -1i64..=1 {
                for dj in -1i64..=1 {
                    let (a, b) = (i as i64 + di, j as i64 + dj);
                    if a < 0 || b < 0 || a >= OUT_H as i64 || b >= OUT_W as i64 {
                        continue;
                    }
                    let idx = a as usize * OUT_W + b as usize;
                    let w = heat[idx];
                    if w < 0.5 * s {
                        continue;
                    }
                    for (k, c) in acc.iter_mut().enumerate() {
                        c[0] += w * (b as f32 + offsets[(2 * k) * n + idx] * OFFSET_UNIT_CELLS);
                        c[1] += w * (a as f32 + offsets[(2 * k + 1) * n + idx] * OFFSET_UNIT_CELLS);
                    }
                    wsum += w;
                }
            }
            let corners = acc.map(|c| from_cells([c[0] / wsum, c[1] / wsum]));
            out.push(Peak { score: s, corners });
        }
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

/// Two peaks whose decoded centres are closer than this (input pixels, about 60 % of the typical
/// vertebra spacing of 20 px at 384 rows) are one vertebra seen twice; the weaker is dropped.
pub const MIN_PEAK_DISTANCE_PX: f32 = 12.0;

fn centre(p: &Peak) -> [f32; 2] {
    [
        p.corners.iter().map(|c| c[0]).sum::<f32>() / 4.0,
        p.corners.iter().map(|c| c[1]).sum::<f32>() / 4.0,
    ]
}

/// The 17 strongest distinct peaks (strongest-first greedy suppression within
/// [`MIN_PEAK_DISTANCE_PX`]) ordered top to bottom (T1 first), or `None` when fewer than 17 exist.
pub fn seventeen(peaks: Vec<Peak>) -> Option<Vec<Peak>> {
    let mut kept: Vec<Peak> = Vec::with_capacity(N_VERTEBRAE);
    for p in peaks {
        let c = centre(&p);
        let distinct = kept.iter().all(|k| {
            let d = centre(k);
            (c[0] - d[0]).hypot(c[1] - d[1]) >= MIN_PEAK_DISTANCE_PX
        });
        if distinct {
            kept.push(p);
            if kept.len() == N_VERTEBRAE {
                break;
            }
        }
    }
    if kept.len() < N_VERTEBRAE {
        return None;
    }
    kept.sort_by(|a, b| centre(a)[1].total_cmp(&centre(b)[1]));
    Some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic spine: 17 tilted boxes down the middle of the input grid.
    pub(crate) fn synthetic() -> [[f32; 2]; N_POINTS] {
        let mut p = [[0f32; 2]; N_POINTS];
        for v in 0..N_VERTEBRAE {
            let cy = 30.0 + 20.0 * v as f32;
            let cx = 96.0 + 10.0 * (v as f32 * 0.4).sin();
            let t = (v as f32 - 8.0) * 0.02;
            let (hw, hh) = (17.0f32, 7.0f32);
            for (k, (sx, sy)) in [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)]
                .iter()
                .enumerate()
            {
                let (x, y) = (sx * hw, sy * hh);
                p[4 * v + k] = [
                    cx + x * t.cos() - y * t.sin(),
                    cy + x * t.sin() + y * t.cos(),
                ];
            }
        }
        p
    }

    #[test]
    fn perfect_outputs_decode_to_the_landmarks() {
        let pts = synthetic();
        let t = targets(&pts);
        assert_eq!(t.pos.iter().sum::<f32>(), 17.0);
        let found = seventeen(peaks(&t.heat, &t.offsets, 0.3)).expect("17 peaks");
        for (v, p) in found.iter().enumerate() {
            for k in 0..4 {
                let e = ((p.corners[k][0] - pts[4 * v + k][0]).powi(2)
                    + (p.corners[k][1] - pts[4 * v + k][1]).powi(2))
                .sqrt();
                assert!(e < 1e-3, "vertebra {v} corner {k} off by {e}");
            }
        }
    }

    #[test]
    fn a_vertebra_seen_twice_counts_once() {
        let t = targets(&synthetic());
        let mut p = peaks(&t.heat, &t.offsets, 0.3);
        assert_eq!(p.len(), 17);
        // A slightly weaker duplicate of T1, 2 px away, must not push L5 out.
        let mut dup = p[0];
        for c in dup.corners.iter_mut() {
            c[0] += 2.0;
        }
        dup.score = 0.999;
        p.insert(1, dup);
        let s = seventeen(p).expect("17 distinct peaks");
        let last = centre(&s[16]);
        assert!(last[1] > 300.0, "L5 lost: {last:?}");
    }

    #[test]
    fn fewer_than_seventeen_peaks_is_none() {
        let t = targets(&synthetic());
        let mut heat = t.heat.clone();
        // Erase the bottom half of the spine.
        heat[OUT_W * OUT_H / 2..].fill(0.0);
        assert!(seventeen(peaks(&heat, &t.offsets, 0.3)).is_none());
    }
}
