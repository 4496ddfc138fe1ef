//! The spinal canal: rays from its centre to the bony wall, slice by slice.

use super::*;

/// Probe for the posterior body wall: per slice, the non-bone region (−100…120 HU, outside filled bone) reached
/// from 7 mm behind the traced wall, within 12 mm. Its front is the first soft-tissue row behind the body's
/// cortex, which `body_labels` cuts at and the marrow filling must not cross; it is not the canal (fat and
/// enhancing veins are left out, and it stops 12 mm from its seed).
pub(super) fn wall_probe(
    cti: &Volume<i16>,
    filled: &Volume<u8>,
    s: &Spine,
    sp: [f64; 3],
) -> Volume<u8> {
    let [ni, nj, _] = filled.dims();
    let plane = ni * nj;
    let mut out = Volume::<u8>::zeros(filled.dims(), *filled.geometry()).expect("dims");
    let k_lo = s.k_lo;
    out.data_mut()
        .par_chunks_mut(plane)
        .enumerate()
        .filter(|(k, _)| *k >= k_lo && *k <= s.k_hi)
        .for_each(|(k, o)| {
            let sl = filled.slice_k(k);
            let hu = cti.slice_k(k);
            let seed = [s.centre[k][0], s.back[k] + 7.0 / sp[1]];
            let (si, sj) = (seed[0].round() as usize, seed[1].round() as usize);
            if si >= ni || sj >= nj {
                return;
            }
            let ok = |i: usize, j: usize| {
                let dx = (i as f64 - seed[0]) * sp[0];
                let dy = (j as f64 - seed[1]) * sp[1];
                let p = i + j * ni;
                dx * dx + dy * dy <= 144.0 && sl[p] == 0 && hu[p] < 120 && hu[p] > -100
            };
            if !ok(si, sj) {
                return;
            }
            let mut stack = vec![(si, sj)];
            o[si + sj * ni] = 1;
            while let Some((i, j)) = stack.pop() {
                for (a, b) in [
                    (i.wrapping_sub(1), j),
                    (i + 1, j),
                    (i, j.wrapping_sub(1)),
                    (i, j + 1),
                ] {
                    if a < ni && b < nj && o[a + b * ni] == 0 && ok(a, b) {
                        o[a + b * ni] = 1;
                        stack.push((a, b));
                    }
                }
            }
        });
    out
}

/// Number of rays cast from the canal's centre in each slice (7.5° apart).
pub(super) const CANAL_RAYS: usize = 48;

/// Farthest (mm) a ray looks for the canal's bony wall: beyond any adult canal's half-diameter (lumbar canal
/// AP 15–25 mm, transverse 20–30 mm; clinical-reference §5.1), short of the paraspinal muscles' far side.
pub(super) const CANAL_MAX_RADIUS_MM: f64 = 20.0;

/// How far (mm) behind the body's posterior wall the first ray centre is put: inside even a stenotic canal
/// (absolute stenosis is AP < 10 mm, §5.1).
pub(super) const CANAL_SEED_MM: f64 = 5.0;

/// Where a ray finds no wall (an intervertebral foramen, the interlaminar gap at a disc), its radius is taken
/// from the same direction in the slices within this distance (mm) above and below: about half a vertebra.
pub(super) const CANAL_BRIDGE_MM: f64 = 12.0;

/// Largest ratio of a canal ray's radius to the median of its direction along the column: the canal widens at
/// the lateral recesses and discs by well under a third, a ray through a gap in the arch to the spinous process
/// or the next lamina is about twice as long.
pub(super) const CANAL_RADIUS_CAP: f64 = 1.3;

/// Canal: per slice along the column, the soft-tissue space that the vertebral foramen encloses (dural sac,
/// epidural fat and veins, ligaments), bounded in front by the body's posterior wall (or, at a disc, the traced
/// wall line) and around by the pedicles, laminae and facets. Rays are cast from the canal's centre to the first
/// bone (filled bone or ≥ the 180 HU bone threshold); directions without bone within reach (foramina, the
/// interlaminar gap) take the radius from the same direction in the nearest slices that have it, else from the
/// neighbouring directions. The centre is re-estimated once from the first outline (smoothed along the column).
/// Unlike a threshold flood, this keeps fat (≤ −100 HU) and enhancing veins inside the canal and does not leak
/// through the foramina.
pub(super) fn canal_mask(cti: &Volume<i16>, s: &Spine, sp: [f64; 3]) -> Volume<u8> {
    let [ni, nj, nk] = cti.dims();
    let bone_hu = 180i16;
    let wall = |i: isize, j: isize, k: usize| -> bool {
        if i < 0 || j < 0 || i as usize >= ni || j as usize >= nj {
            return true;
        }
        let (i, j) = (i as usize, j as usize);
        cti.get(i, j, k) >= bone_hu || (j as f64) < s.back[k] - 0.5
    };
    let dirs: Vec<(f64, f64)> = (0..CANAL_RAYS)
        .map(|a| {
            let t = a as f64 * std::f64::consts::TAU / CANAL_RAYS as f64;
            (t.cos(), t.sin())
        })
        .collect();
    let step = 0.5 * sp[0].min(sp[1]);
    // Radius (mm) to the wall along each ray from (x, y) in slice k; None where no wall within reach. None for the
    // whole slice when the centre itself is bone.
    let cast = |k: usize, x: f64, y: f64| -> Option<Vec<Option<f64>>> {
        if wall(x.round() as isize, y.round() as isize, k) {
            return None;
        }
        Some(
            dirs.iter()
                .map(|&(dx, dy)| {
                    let mut r = step;
                    while r <= CANAL_MAX_RADIUS_MM {
                        let (i, j) = (x + r * dx / sp[0], y + r * dy / sp[1]);
                        if wall(i.round() as isize, j.round() as isize, k) {
                            return Some(r - 0.5 * step);
                        }
                        r += step;
                    }
                    None
                })
                .collect(),
        )
    };
    // Open rays from the neighbouring directions (circularly), when at least a third of the rays are closed.
    let close_in_slice = |r: &[Option<f64>]| -> Option<Vec<f64>> {
        let known: Vec<usize> = (0..r.len()).filter(|&a| r[a].is_some()).collect();
        if known.len() * 3 < r.len() {
            return None;
        }
        let n = r.len();
        Some(
            (0..n)
                .map(|a| {
                    if let Some(v) = r[a] {
                        return v;
                    }
                    let prev = (1..n).map(|d| (a + n - d) % n).find(|&b| r[b].is_some());
                    let next = (1..n).map(|d| (a + d) % n).find(|&b| r[b].is_some());
                    match (prev, next) {
                        (Some(p), Some(q)) => {
                            let (dp, dq) = ((a + n - p) % n, (q + n - a) % n);
                            let (vp, vq) = (r[p].unwrap_or(0.0), r[q].unwrap_or(0.0));
                            (vp * dq as f64 + vq * dp as f64) / (dp + dq) as f64
                        }
                        _ => 0.0,
                    }
                })
                .collect(),
        )
    };
    let ks: Vec<usize> = (s.k_lo..=s.k_hi).collect();
    // Pass 1: from a point behind the wall; the outline's centroid is the canal centre.
    let centres: Vec<(Option<f64>, Option<f64>)> = ks
        .par_iter()
        .map(|&k| {
            let (x, y) = (s.centre[k][0], s.back[k] + CANAL_SEED_MM / sp[1]);
            let Some(r) = cast(k, x, y).as_deref().and_then(close_in_slice) else {
                return (None, None);
            };
            let (mut sx, mut sy) = (0.0, 0.0);
            for (&(dx, dy), &v) in dirs.iter().zip(&r) {
                // Centroid of the star polygon: each sector's centroid at 2/3 of its radius, weighted by r².
                sx += v * v * (x + 2.0 / 3.0 * v * dx / sp[0]);
                sy += v * v * (y + 2.0 / 3.0 * v * dy / sp[1]);
            }
            let w: f64 = r.iter().map(|v| v * v).sum();
            if w <= 0.0 {
                return (None, None);
            }
            (Some(sx / w), Some(sy / w))
        })
        .collect();
    let rz = (6.0 / sp[2]).round() as usize;
    let (cxs, cys): (Vec<Option<f64>>, Vec<Option<f64>>) = centres.into_iter().unzip();
    let (Some(cx), Some(cy)) = (
        interpolate(&running_median(&cxs, rz)),
        interpolate(&running_median(&cys, rz)),
    ) else {
        return Volume::<u8>::zeros(cti.dims(), *cti.geometry()).expect("dims");
    };
    let cx = smooth1d(&cx, 3.0 / sp[2]);
    let cy = smooth1d(&cy, 3.0 / sp[2]);
    // Pass 2: rays from the smoothed centres.
    let rays: Vec<Option<Vec<Option<f64>>>> = (0..ks.len())
        .into_par_iter()
        .map(|n| cast(ks[n], cx[n], cy[n]))
        .collect();
    // Open rays: the same direction in the nearest slices (linear between the two sides), else in-slice.
    let bridge = (CANAL_BRIDGE_MM / sp[2]).round() as usize;
    let radii: Vec<Option<Vec<f64>>> = (0..ks.len())
        .into_par_iter()
        .map(|n| {
            let r = rays[n].as_ref()?;
            let filled_r: Vec<Option<f64>> = (0..CANAL_RAYS)
                .map(|a| {
                    r[a].or_else(|| {
                        let find = |dir: isize| {
                            (1..=bridge as isize).find_map(|d| {
                                let m = n as isize + dir * d;
                                if m < 0 || m as usize >= ks.len() {
                                    return None;
                                }
                                rays[m as usize].as_ref()?[a].map(|v| (d as f64, v))
                            })
                        };
                        match (find(-1), find(1)) {
                            (Some((d0, v0)), Some((d1, v1))) => {
                                Some((v0 * d1 + v1 * d0) / (d0 + d1))
                            }
                            (Some((_, v)), None) | (None, Some((_, v))) => Some(v),
                            (None, None) => None,
                        }
                    })
                })
                .collect();
            close_in_slice(&filled_r)
        })
        .collect();
    // A ray through a gap in the arch (the interlaminar space or a facet joint at a disc) may reach bone far
    // behind the canal (the spinous process, the next lamina): no direction is longer than `CANAL_RADIUS_CAP`
    // times the median of the same direction over the slices within the bridging distance, mostly closed by the
    // arch.
    let radii: Vec<Option<Vec<f64>>> = (0..ks.len())
        .map(|n| {
            let r = radii[n].as_ref()?;
            let (lo, hi) = (n.saturating_sub(bridge), (n + bridge).min(ks.len() - 1));
            Some(
                (0..CANAL_RAYS)
                    .map(|a| {
                        let m = median(
                            (lo..=hi)
                                .filter_map(|m| radii[m].as_ref().map(|v| v[a]))
                                .collect(),
                        );
                        m.map_or(r[a], |m| r[a].min(CANAL_RADIUS_CAP * m))
                    })
                    .collect(),
            )
        })
        .collect();
    let mut out = Volume::<u8>::zeros(cti.dims(), *cti.geometry()).expect("dims");
    let plane = ni * nj;
    let k_lo = s.k_lo;
    out.data_mut()
        .par_chunks_mut(plane)
        .enumerate()
        .filter(|(k, _)| *k >= k_lo && *k <= s.k_hi && *k < nk)
        .for_each(|(k, o)| {
            let n = k - k_lo;
            let Some(r) = &radii[n] else { return };
            let (x, y) = (cx[n], cy[n]);
            let reach_i = (CANAL_MAX_RADIUS_MM / sp[0]).ceil() as isize;
            let reach_j = (CANAL_MAX_RADIUS_MM / sp[1]).ceil() as isize;
            let (xi, yj) = (x.round() as isize, y.round() as isize);
            for j in (yj - reach_j).max(0)..=(yj + reach_j).min(nj as isize - 1) {
                for i in (xi - reach_i).max(0)..=(xi + reach_i).min(ni as isize - 1) {
                    let (dx, dy) = ((i as f64 - x) * sp[0], (j as f64 - y) * sp[1]);
                    let d = (dx * dx + dy * dy).sqrt();
                    // Radius of the outline in this direction, linear between the two nearest rays.
                    let t = dy.atan2(dx).rem_euclid(std::f64::consts::TAU) / std::f64::consts::TAU
                        * CANAL_RAYS as f64;
                    let a0 = t.floor() as usize % CANAL_RAYS;
                    let a1 = (a0 + 1) % CANAL_RAYS;
                    let f = t - t.floor();
                    let rr = r[a0] * (1.0 - f) + r[a1] * f;
                    if d <= rr && !wall(i, j, k) {
                        o[i as usize + j as usize * ni] = 1;
                    }
                }
            }
        });
    out
}
