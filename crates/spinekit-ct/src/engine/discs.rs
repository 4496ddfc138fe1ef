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

/// Offsets (mm) along a candidate disc plane's normal at which `disc_score` reads the bone-likeness profile.
pub(super) fn disc_offsets() -> Vec<f64> {
    (-8..=8).map(|x| x as f64 * 1.5).collect()
}

/// The widest gap between endplates taken for a disc without penalty (mm): lumbar discs are 8.8 ± 1.4 mm high
/// (clinical-reference §6.2, Spahn 2024), higher anteriorly at L5–S1 and measured wider by the patch average; a
/// body is about 2.5 times a normal disc (normal disc height index ≳ 0.40, §6.2).
pub(super) const MAX_DISC_GAP_MM: f64 = 18.0;

/// What a bone-likeness profile across a candidate plane (read at `disc_offsets`) says about a disc there.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct DiscEvidence {
    /// How far the floor at the plane (±1.5 mm) lies below the lower of the endplate peaks 3–12 mm away on either
    /// side (bone-likeness, 0–1).
    pub(super) contrast: f64,
    /// Width of that gap at half height (mm): a disc's height, or a body's where the plane lies in faint marrow.
    pub(super) width_mm: f64,
}

impl DiscEvidence {
    pub(super) fn read(f: &[f64], offs: &[f64]) -> Self {
        let mid = offs.len() / 2;
        let fl = (mid - 1..=mid + 1)
            .min_by(|&a, &b| f[a].total_cmp(&f[b]))
            .unwrap_or(mid);
        let f0 = f[fl];
        let up = f[mid + 2..].iter().copied().fold(0.0, f64::max);
        let down = f[..mid - 1].iter().copied().fold(0.0, f64::max);
        let half = f0 + 0.5 * (up.min(down) - f0);
        let above = (fl..f.len())
            .find(|&x| f[x] >= half)
            .map_or(offs[offs.len() - 1], |x| offs[x]);
        let below = (0..=fl)
            .rev()
            .find(|&x| f[x] >= half)
            .map_or(offs[0], |x| offs[x]);
        Self {
            contrast: up.min(down) - f0,
            width_mm: above - below,
        }
    }

    /// The contrast less 0.05 per mm by which the gap is wider than `max_gap_mm`. An osteoporotic body's marrow
    /// is as faint as a disc, and its mid-plane sees its own endplates too, but half a body's height away.
    pub(super) fn score(&self, max_gap_mm: f64) -> f64 {
        self.contrast - 0.05 * (self.width_mm - max_gap_mm).max(0.0)
    }
}

/// How disc-like a bone-likeness profile across a candidate plane is, with no gap wider than a disc's
/// (`MAX_DISC_GAP_MM`) taken without penalty.
pub(super) fn disc_score(f: &[f64], offs: &[f64]) -> f64 {
    DiscEvidence::read(f, offs).score(MAX_DISC_GAP_MM)
}

/// Disc evidence in the CT values along the column, per slice from `k_lo`: over planes through the centreline
/// point, tilted from the perpendicular by up to ±30° sagittally and ±10° coronally, the one with the best
/// `disc_score`. A narrowed disc (3–4 mm) is bridged in the bone mask by partial volume and the closing, but its
/// endplates still stand out from it in the CT values.
pub(super) fn ct_disc_profile(cti: &Volume<i16>, s: &Spine, sp: [f64; 3]) -> Vec<DiscEvidence> {
    let r = disc_patch_radius_mm(s);
    let offs = disc_offsets();
    (s.k_lo..=s.k_hi)
        .into_par_iter()
        .map(|k| {
            let t = s.t[k];
            let (e1, e2) = unit_perp(t);
            let mut best = (f64::NEG_INFINITY, DiscEvidence::default());
            for a in (-30i32..=30).step_by(10) {
                for b in [-10i32, 0, 10] {
                    let (ta, tb) = ((a as f64).to_radians().tan(), (b as f64).to_radians().tan());
                    let n: [f64; 3] = std::array::from_fn(|c| t[c] + ta * e2[c] + tb * e1[c]);
                    let l = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
                    let n = n.map(|x| x / l);
                    let ev =
                        DiscEvidence::read(&patch_profile(cti, s.p_mm[k], n, r, &offs, sp), &offs);
                    let sc = ev.score(MAX_DISC_GAP_MM);
                    if sc > best.0 {
                        best = (sc, ev);
                    }
                }
            }
            best.1
        })
        .collect()
}

/// Where a plane crosses the centreline (slice position), if it does within the traced column.
pub(super) fn centreline_crossing(s: &Spine, pl: &DiscPlane) -> Option<f64> {
    (s.k_lo..s.k_hi).find_map(|k| {
        let (d0, d1) = (pl.dist(s.p_mm[k]), pl.dist(s.p_mm[k + 1]));
        (d0 <= 0.0 && d1 > 0.0).then(|| k as f64 + (-d0) / (d1 - d0))
    })
}

/// Patch radius (mm) for reading a disc in the CT values: inside the body's outline.
pub(super) fn disc_patch_radius_mm(s: &Spine) -> f64 {
    (0.3 * s.depth_mm)
        .min(0.6 * s.half_width_mm)
        .clamp(5.0, 12.0)
}

/// A disc plane checked against the CT values. Thin discs (the narrowed discs of older spines, 3–4 mm) are bridged
/// by the closing of the bone mask, so the mask shows no gap to fit and the plane falls back to a guess that may
/// cut through a body. Planes through the centreline within 6 mm of the plane's crossing, tilted by up to ±20°
/// sagittally and ±10° coronally from it, are scored for disc-likeness (`disc_score`); the best replaces the plane
/// when it scores at least 0.3 and 0.15 more than the plane itself. Returns the plane (re-centred on the gap when
/// replaced) and its crossing of the centreline.
pub(super) fn check_disc_plane_ct(
    cti: &Volume<i16>,
    s: &Spine,
    pl: DiscPlane,
    c: f64,
    sp: [f64; 3],
) -> (DiscPlane, f64) {
    let r = disc_patch_radius_mm(s);
    let offs = disc_offsets();
    let now = disc_score(&patch_profile(cti, pl.o, pl.n, r, &offs, sp), &offs);
    // Tilt of the current plane: normal ∝ (tan b, −tan a, 1).
    let a0 = (-pl.n[1] / pl.n[2]).atan().to_degrees();
    let b0 = (pl.n[0] / pl.n[2]).atan().to_degrees();
    let w = 6.0 / sp[2];
    let (k0, k1) = (
        ((c - w).ceil().max(s.k_lo as f64)) as usize,
        ((c + w).floor().min(s.k_hi as f64)) as usize,
    );
    let mut cands = Vec::new();
    for k in k0..=k1 {
        for da in (-20i32..=20).step_by(5) {
            for db in [-10i32, 0, 10] {
                cands.push((k, da, db));
            }
        }
    }
    let best = cands
        .par_iter()
        .map(|&(k, da, db)| {
            let (a, b) = ((a0 + da as f64).clamp(-60.0, 60.0), b0 + db as f64);
            let n = [b.to_radians().tan(), -a.to_radians().tan(), 1.0];
            let l = (n[0] * n[0] + n[1] * n[1] + 1.0).sqrt();
            let n = n.map(|x| x / l);
            let o = s.p_mm[k];
            let f = patch_profile(cti, o, n, r, &offs, sp);
            // Slight preferences for the current tilt and position break ties.
            let score = disc_score(&f, &offs)
                - 0.001 * (da.abs() + db.abs()) as f64
                - 0.002 * (k as f64 - c).abs() * sp[2];
            (
                score,
                DiscPlane {
                    o,
                    n,
                    half_gap_mm: 0.0,
                },
            )
        })
        .max_by(|x, y| x.0.total_cmp(&y.0));
    if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
        eprintln!(
            "disc at {c:.1}: tilt {a0:.0}/{b0:.0}, score {now:.2}; best CT {:?}",
            best.map(|(sc, p)| (
                (sc * 100.0).round() / 100.0,
                (p.o[2] / sp[2]).round(),
                (-p.n[1] / p.n[2]).atan().to_degrees().round(),
                (p.n[0] / p.n[2]).atan().to_degrees().round()
            ))
        );
    }
    match best {
        Some((score, cand)) if score >= 0.3 && score >= now + 0.15 => {
            let cand = recentre_on_gap(cti, cand, r, sp);
            match centreline_crossing(s, &cand) {
                Some(c2) if (c2 - c).abs() * sp[2] <= 9.0 => (cand, c2),
                _ => (pl, c),
            }
        }
        _ => (pl, c),
    }
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
