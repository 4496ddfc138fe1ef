//! Disc planes fitted to the actual gaps between endplates.

use super::*;

/// Mean bone-likeness (0 at 80 HU or less, 1 at 250 HU or more) over a disc patch of radius `r` mm on the plane
/// through `o` with normal `n`, shifted by each offset (mm) along the normal.
pub(super) fn patch_profile(
    cti: &Volume<i16>,
    o: [f64; 3],
    n: [f64; 3],
    r: f64,
    offsets: &[f64],
    sp: [f64; 3],
) -> Vec<f64> {
    let bone_like = |hu: f64| ((hu - 80.0) / 170.0).clamp(0.0, 1.0);
    let (e1, e2) = unit_perp(n);
    let m = (r / 2.0).floor() as i32;
    offsets
        .iter()
        .map(|&d| {
            let (mut sum, mut cnt) = (0.0, 0.0);
            for u in -m..=m {
                for v in -m..=m {
                    let (u, v) = (u as f64 * 2.0, v as f64 * 2.0);
                    if u * u + v * v > r * r {
                        continue;
                    }
                    let q: [f64; 3] =
                        std::array::from_fn(|x| o[x] + d * n[x] + u * e1[x] + v * e2[x]);
                    sum += bone_like(sample_hu(cti, q, sp));
                    cnt += 1.0;
                }
            }
            sum / f64::max(cnt, 1.0)
        })
        .collect()
}

/// Fraction of the measured half-gap kept free of either vertebra: the profile is averaged over a patch, and over
/// concave endplates that widens the apparent gap, so the outer quarter on each side is left to the vertebrae.
pub(super) const GAP_CORE_FRACTION: f64 = 0.75;

/// Moves a disc plane along its normal to the middle of the gap between the two endplates, at half-maximum: the
/// coarse search only places it within ±1.5 mm of the gap's floor, and at 3 mm a thin disc (L5–S1) is then shared
/// unevenly between the two vertebrae. The gap's edges are where the bone-likeness profile crosses halfway from
/// its floor to the nearer endplate peak, searched over ±9 mm in 0.5 mm steps.
pub(super) fn recentre_on_gap(cti: &Volume<i16>, pl: DiscPlane, r: f64, sp: [f64; 3]) -> DiscPlane {
    let offs: Vec<f64> = (-18..=18).map(|x| x as f64 * 0.5).collect();
    let f = patch_profile(cti, pl.o, pl.n, r, &offs, sp);
    let mid = offs.len() / 2;
    // Floor: the lowest value within ±1.5 mm.
    let Some(fl) = (mid - 3..=mid + 3).min_by(|&a, &b| f[a].total_cmp(&f[b])) else {
        return pl;
    };
    let peak_up = f[fl..].iter().copied().fold(0.0, f64::max);
    let peak_down = f[..=fl].iter().copied().fold(0.0, f64::max);
    let half = f[fl] + 0.5 * (peak_up.min(peak_down) - f[fl]);
    let up = (fl..f.len()).find(|&x| f[x] >= half);
    let down = (0..=fl).rev().find(|&x| f[x] >= half);
    let (Some(u), Some(d)) = (up, down) else {
        return pl;
    };
    let shift = 0.5 * (offs[u] + offs[d]);
    DiscPlane {
        o: std::array::from_fn(|x| pl.o[x] + shift * pl.n[x]),
        n: pl.n,
        half_gap_mm: GAP_CORE_FRACTION * 0.5 * (offs[u] - offs[d]),
    }
}

/// The plane through the centreline at slice position `c` with the given normal.
pub(super) fn centre_plane(s: &Spine, c: f64, n: [f64; 3], sp: [f64; 3]) -> DiscPlane {
    let kc = (c.round().max(0.0) as usize).clamp(s.k_lo, s.k_hi);
    let p = s.p_mm[kc];
    DiscPlane {
        o: [p[0], p[1], c * sp[2]],
        n,
        half_gap_mm: 0.0,
    }
}

/// The plane perpendicular to the centreline at slice position `c`.
pub(super) fn perpendicular_plane(s: &Spine, c: f64, sp: [f64; 3]) -> DiscPlane {
    let kc = (c.round().max(0.0) as usize).clamp(s.k_lo, s.k_hi);
    centre_plane(s, c, s.t[kc], sp)
}

/// Disc planes, one per segment boundary (`planes[n]` is the disc below segment n; `None` where that end is not a
/// disc). Each is fitted to the actual disc: for every column (i, j) through the body footprint, the middle of the
/// longest bone-free run between the two endplates near the centreline's gap; a robust least-squares plane
/// z = a + b·x + c·y through these points follows a tilted disc (L5–S1, lordosis, scoliosis), where a plane
/// perpendicular to the smoothed centreline would cut through a body. Falls back to the perpendicular plane when
/// too few columns show a gap or the fit is implausibly steep.
pub(super) fn fit_disc_planes(
    filled: &Volume<u8>,
    s: &Spine,
    segs: &[Seg],
    normals: &[[f64; 3]],
    sp: [f64; 3],
) -> Vec<Option<DiscPlane>> {
    let [ni, nj, nk] = filled.dims();
    let r = 0.9 * s.half_width_mm.min(s.depth_mm / 2.0);
    (0..segs.len())
        .map(|n| {
            if !segs[n].lo_is_disc {
                return None;
            }
            let c = segs[n].lo;
            let kc = (c.round().max(0.0) as usize).clamp(s.k_lo, s.k_hi);
            let fallback = centre_plane(s, c, normals[kc - s.k_lo], sp);
            // Search window around the starting plane: up to 10 mm, never past the middle of either neighbour.
            let w = 10.0 / sp[2];
            let below = if n == 0 {
                w
            } else {
                (c - segs[n - 1].lo) * 0.5
            };
            let above = (segs[n].hi - c) * 0.5;
            let (wb, wa) = (w.min(below), w.min(above));
            let fo = fallback.o;
            let fnn = fallback.n;
            let [cx, cy] = s.centre[kc];
            let back = s.back[kc];
            let (ri, rj) = ((r / sp[0]).ceil() as isize, (r / sp[1]).ceil() as isize);
            let mut pts: Vec<[f64; 3]> = Vec::new();
            for dj in -rj..=rj {
                for di in -ri..=ri {
                    let (fi, fj) = (cx + di as f64, cy + dj as f64);
                    let (dx, dy) = (di as f64 * sp[0], dj as f64 * sp[1]);
                    if dx * dx + dy * dy > r * r || fi < 0.0 || fj < 0.0 || fj > back {
                        continue;
                    }
                    let (i, j) = (fi.round() as usize, fj.round() as usize);
                    if i >= ni || j >= nj {
                        continue;
                    }
                    // The starting plane's height in this column (slice units).
                    let (x, y) = (i as f64 * sp[0], j as f64 * sp[1]);
                    let z0 = (fo[2]
                        - ((x - fo[0]) * fnn[0] + (y - fo[1]) * fnn[1]) / fnn[2].max(0.3))
                        / sp[2];
                    let k0 = (z0 - wb).round().max(0.0) as usize;
                    let k1 = ((z0 + wa).round().max(0.0) as usize).min(nk - 1);
                    if k1 < k0 + 2 {
                        continue;
                    }
                    // The bone-free run with bone at both ends that is longest, less its distance from the
                    // starting plane (both in slices): faint marrow under an endplate (an osteoporotic or
                    // 3 mm body) can leave a longer gap inside the body than the disc itself, but the disc is
                    // where the whole plane holds the least bone.
                    let score = |a: usize, e: usize| -> f64 {
                        (e - a) as f64 - ((a as f64 + e as f64 - 1.0) / 2.0 - z0).abs()
                    };
                    let (mut best, mut run): (Option<(usize, usize)>, Option<usize>) = (None, None);
                    let mut seen_bone = false;
                    for k in k0..=k1 {
                        let b = filled.get(i, j, k) != 0;
                        match (b, run) {
                            (false, None) if seen_bone => run = Some(k),
                            (true, Some(st)) => {
                                if best.is_none_or(|(a, e)| score(st, k) > score(a, e)) {
                                    best = Some((st, k));
                                }
                                run = None;
                            }
                            _ => {}
                        }
                        seen_bone |= b;
                    }
                    if let Some((a, e)) = best {
                        // Run a..e (exclusive); its middle in mm.
                        let z = (a as f64 + e as f64 - 1.0) / 2.0 * sp[2];
                        pts.push([x, y, z]);
                    }
                }
            }
            let min_pts = 12.max((0.25 * std::f64::consts::PI * r * r / (sp[0] * sp[1])) as usize);
            let (ox, oy) = (cx * sp[0], cy * sp[1]);
            let mut use_pt = vec![true; pts.len()];
            let mut fit = None;
            for _ in 0..3 {
                let sel: Vec<&[f64; 3]> = pts
                    .iter()
                    .zip(&use_pt)
                    .filter(|x| *x.1)
                    .map(|x| x.0)
                    .collect();
                if sel.len() < min_pts {
                    return Some(fallback);
                }
                // Normal equations for z = a + b·(x−ox) + c·(y−oy).
                let mut m = [[0.0f64; 3]; 3];
                let mut v = [0.0f64; 3];
                for p in &sel {
                    let row = [1.0, p[0] - ox, p[1] - oy];
                    for a in 0..3 {
                        for b in 0..3 {
                            m[a][b] += row[a] * row[b];
                        }
                        v[a] += row[a] * p[2];
                    }
                }
                let Some(x) = solve3(m, v) else {
                    return Some(fallback);
                };
                let tol = 4.0f64.max(1.2 * sp[2]);
                for (u, p) in use_pt.iter_mut().zip(&pts) {
                    let pred = x[0] + x[1] * (p[0] - ox) + x[2] * (p[1] - oy);
                    *u = (p[2] - pred).abs() <= tol;
                }
                fit = Some(x);
            }
            let x = fit?;
            // Steeper than 50° to the slice: not a disc surface.
            if (x[1] * x[1] + x[2] * x[2]).sqrt() > 50f64.to_radians().tan()
                || (x[0] - c * sp[2]).abs() > 12.0
            {
                return Some(fallback);
            }
            let nn = [-x[1], -x[2], 1.0];
            let l = (nn[0] * nn[0] + nn[1] * nn[1] + 1.0).sqrt();
            Some(DiscPlane {
                o: [ox, oy, x[0]],
                n: [nn[0] / l, nn[1] / l, nn[2] / l],
                half_gap_mm: 0.0,
            })
        })
        .collect()
}

/// Solves a 3×3 linear system (Cramer's rule); `None` when singular.
pub(super) fn solve3(m: [[f64; 3]; 3], v: [f64; 3]) -> Option<[f64; 3]> {
    let det = |a: [[f64; 3]; 3]| {
        a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
            - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
    };
    let d = det(m);
    if d.abs() < 1e-9 {
        return None;
    }
    Some(std::array::from_fn(|c| {
        let mut a = m;
        for r in 0..3 {
            a[r][c] = v[r];
        }
        det(a) / d
    }))
}

/// (lower, upper) disc surface of every segment; `None` at the ends of the column.
pub(super) fn segment_bounds(
    s: &Spine,
    segs: &[Seg],
    planes: &[Option<DiscPlane>],
    sp: [f64; 3],
) -> Vec<(Option<DiscPlane>, Option<DiscPlane>)> {
    (0..segs.len())
        .map(|n| {
            let g = &segs[n];
            let lo = g
                .lo_is_disc
                .then(|| planes[n].unwrap_or_else(|| perpendicular_plane(s, g.lo, sp)));
            let hi = g.hi_is_disc.then(|| {
                let next = (n + 1 < segs.len() && (segs[n + 1].lo - g.hi).abs() < 1e-6)
                    .then(|| planes[n + 1])
                    .flatten();
                next.unwrap_or_else(|| perpendicular_plane(s, g.hi, sp))
            });
            (lo, hi)
        })
        .collect()
}
