//! Tracing the column: body centres per slice, the centreline, and the first split into vertebrae at the disc gaps.

use super::*;

pub(super) fn smooth1d(v: &[f64], sigma: f64) -> Vec<f64> {
    if sigma <= 0.0 {
        return v.to_vec();
    }
    let r = (3.0 * sigma).ceil() as isize;
    let n = v.len() as isize;
    (0..n)
        .map(|i| {
            let (mut s, mut w) = (0.0, 0.0);
            for d in -r..=r {
                let j = (i + d).clamp(0, n - 1) as usize;
                let g = (-(d * d) as f64 / (2.0 * sigma * sigma)).exp();
                s += g * v[j];
                w += g;
            }
            s / w
        })
        .collect()
}

/// Fills `None` entries by linear interpolation (constant beyond the ends).
pub(super) fn interpolate(v: &[Option<f64>]) -> Option<Vec<f64>> {
    let known: Vec<usize> = (0..v.len()).filter(|&i| v[i].is_some()).collect();
    let (&first, &last) = (known.first()?, known.last()?);
    let mut out = vec![0.0; v.len()];
    for (i, o) in out.iter_mut().enumerate() {
        *o = if i <= first {
            v[first].unwrap_or_default()
        } else if i >= last {
            v[last].unwrap_or_default()
        } else {
            let b = known.partition_point(|&x| x <= i);
            let (a, c) = (known[b - 1], known[b.min(known.len() - 1)]);
            if a == c {
                v[a].unwrap_or_default()
            } else {
                let f = (i - a) as f64 / (c - a) as f64;
                v[a].unwrap_or_default() * (1.0 - f) + v[c].unwrap_or_default() * f
            }
        };
    }
    Some(out)
}

/// Running median over ±`r` samples, ignoring `None`.
pub(super) fn running_median(v: &[Option<f64>], r: usize) -> Vec<Option<f64>> {
    (0..v.len())
        .map(|i| {
            let lo = i.saturating_sub(r);
            let hi = (i + r + 1).min(v.len());
            median(v[lo..hi].iter().flatten().copied().collect())
        })
        .collect()
}

pub(super) fn trace_spine(
    filled: &Volume<u8>,
    body: &Volume<u8>,
    sp: [f64; 3],
) -> Result<Spine, CtError> {
    let [ni, nj, nk] = filled.dims();
    let plane = ni * nj;
    // 1. Where bone is present in most slices: the column. Count per (i, j), smoothed by 8 mm.
    let mut count = vec![0f32; plane];
    for k in 0..nk {
        for (c, &v) in count.iter_mut().zip(filled.slice_k(k)) {
            *c += f32::from(v);
        }
    }
    let mut g2 = Geometry::identity([sp[0], sp[1], 1.0]);
    g2.origin_mm = [0.0; 3];
    let cv = Volume::from_vec([ni, nj, 1], g2, count).expect("dims");
    let cs = morph::gaussian_mm(&cv, [8.0, 8.0, 0.0]);
    // Body's left-right centre: the column is within 60 mm of it.
    let xc_body = body_mid_i(body);
    let lim = 60.0 / sp[0];
    let (mut best, mut bi, mut bj) = (0f32, 0usize, 0usize);
    for j in 0..nj {
        for i in 0..ni {
            if (i as f64 - xc_body).abs() > lim {
                continue;
            }
            let v = cs.data()[i + j * ni];
            if v > best {
                best = v;
                bi = i;
                bj = j;
            }
        }
    }
    if best < 3.0 {
        return Err(CtError::NoSpine(
            "no bone column runs through the slices".into(),
        ));
    }
    // 2. Per-slice column centroid in a 30 mm window, twice, smoothing in between.
    let mut prior: Vec<[f64; 2]> = vec![[bi as f64, bj as f64]; nk];
    let mut present = vec![false; nk];
    for pass in 0..3 {
        let r_mm = if pass == 0 { 40.0 } else { 30.0 };
        let mut xs: Vec<Option<f64>> = vec![None; nk];
        let mut ys: Vec<Option<f64>> = vec![None; nk];
        for k in 0..nk {
            let (x, y, area) = window_centroid(filled.slice_k(k), [ni, nj], prior[k], r_mm, sp);
            present[k] = area >= 150.0;
            if present[k] {
                xs[k] = Some(x);
                ys[k] = Some(y);
            }
        }
        if pass == 2 {
            // Track outward from the middle of the column, each slice within 20 mm of its neighbour, so that
            // the pelvis or ribs cannot pull the centre away at the ends.
            let valid: Vec<usize> = (0..nk).filter(|&k| xs[k].is_some()).collect();
            if let Some(&mid) = valid.get(valid.len() / 2) {
                let max_jump = 20.0;
                for dir in [1isize, -1] {
                    let mut last = [xs[mid].unwrap_or(0.0), ys[mid].unwrap_or(0.0)];
                    let mut last_k = mid as isize;
                    let mut k = mid as isize + dir;
                    while k >= 0 && (k as usize) < nk {
                        let ku = k as usize;
                        if let (Some(x), Some(y)) = (xs[ku], ys[ku]) {
                            let d = (((x - last[0]) * sp[0]).powi(2)
                                + ((y - last[1]) * sp[1]).powi(2))
                            .sqrt();
                            // The allowance grows with the distance to the last accepted slice: a slice through a
                            // disc (posterior elements only) shifts the centroid back by up to ~20 mm and must not
                            // make every following slice look like a jump.
                            let dz = (k - last_k).unsigned_abs() as f64 * sp[2];
                            if d > max_jump + 2.0 * dz {
                                xs[ku] = None;
                                ys[ku] = None;
                                present[ku] = false;
                            } else {
                                last = [x, y];
                                last_k = k;
                            }
                        }
                        k += dir;
                    }
                }
            }
            extend_upward(filled, &mut xs, &mut ys, &mut present, sp);
        }
        let r = (15.0 / sp[2]).round() as usize;
        let xm = interpolate(&running_median(&xs, r));
        let ym = interpolate(&running_median(&ys, r));
        let (Some(xm), Some(ym)) = (xm, ym) else {
            return Err(CtError::NoSpine("no bone column found".into()));
        };
        let xm = smooth1d(&xm, 8.0 / sp[2]);
        let ym = smooth1d(&ym, 8.0 / sp[2]);
        for k in 0..nk {
            prior[k] = [xm[k], ym[k]];
        }
    }
    // Longest run of slices with column bone (short gaps bridged).
    let gap = (12.0 / sp[2]).ceil() as usize;
    let (mut best_run, mut cur_start, mut last_present) = ((0usize, 0usize), None::<usize>, None);
    #[allow(clippy::needless_range_loop)] // k indexes three parallel arrays
    for k in 0..nk {
        if present[k] {
            match (cur_start, last_present) {
                (Some(_), Some(lp)) if k - lp <= gap => {}
                _ => cur_start = Some(k),
            }
            last_present = Some(k);
            let s = cur_start.unwrap_or(k);
            if k - s >= best_run.1 - best_run.0 {
                best_run = (s, k);
            }
        }
    }
    let (k_lo, k_hi) = best_run;
    if (k_hi - k_lo) as f64 * sp[2] < 25.0 {
        return Err(CtError::NoSpine(format!(
            "bone column only {:.0} mm long",
            (k_hi - k_lo) as f64 * sp[2]
        )));
    }
    // 3. Body per slice: along the AP line through the column centre (±3 mm strip), the most anterior run of
    //    bone ≥ 12 mm long; runs that jump away from the running median (laminae seen through a disc) are dropped.
    let strip = (3.0 / sp[0]).round().max(1.0) as isize;
    let mut front: Vec<Option<f64>> = vec![None; nk];
    let mut backs: Vec<Option<f64>> = vec![None; nk];
    for k in k_lo..=k_hi {
        let sl = filled.slice_k(k);
        let [px, py] = prior[k];
        let j0 = ((py - 70.0 / sp[1]).max(0.0)) as usize;
        let j1 = ((py + 70.0 / sp[1]) as usize).min(nj - 1);
        let mut run_start = None;
        for j in j0..=j1 + 1 {
            let on = j <= j1 && {
                let mut c = 0;
                let mut t = 0;
                for di in -strip..=strip {
                    let i = px.round() as isize + di;
                    if i >= 0 && (i as usize) < ni {
                        t += 1;
                        c += usize::from(sl[i as usize + j * ni] != 0);
                    }
                }
                t > 0 && 2 * c >= t
            };
            match (on, run_start) {
                (true, None) => run_start = Some(j),
                (false, Some(s)) => {
                    let len = (j - s) as f64 * sp[1];
                    run_start = None;
                    if len >= 12.0 {
                        front[k] = Some(s as f64);
                        backs[k] = Some((j - 1) as f64);
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    let r = (15.0 / sp[2]).round() as usize;
    let fm = running_median(&front, r);
    for k in 0..nk {
        if let (Some(f), Some(m)) = (front[k], fm[k]) {
            if (f - m).abs() * sp[1] > 8.0 {
                front[k] = None;
                backs[k] = None;
            }
        }
    }
    let depths: Vec<f64> = (0..nk)
        .filter_map(|k| Some((backs[k]? - front[k]? + 1.0) * sp[1]))
        .collect();
    let depth_mm =
        median(depths).ok_or_else(|| CtError::NoSpine("no vertebral body found".into()))?;
    let f =
        interpolate(&front).ok_or_else(|| CtError::NoSpine("no vertebral body found".into()))?;
    let b =
        interpolate(&backs).ok_or_else(|| CtError::NoSpine("no vertebral body found".into()))?;
    let f = smooth1d(&f, 4.0 / sp[2]);
    let b = smooth1d(&b, 4.0 / sp[2]);
    // Body centre x: centroid of filled bone in the body's AP band within 25 mm of the column; half-width from
    // the run along x through the body centre.
    let mut cx: Vec<Option<f64>> = vec![None; nk];
    let mut widths = Vec::new();
    for k in k_lo..=k_hi {
        let sl = filled.slice_k(k);
        let px = prior[k][0];
        let (ja, jb) = (f[k].round() as usize, (b[k].round() as usize).min(nj - 1));
        let (mut s, mut c) = (0.0, 0.0);
        for j in ja..=jb {
            for i in 0..ni {
                if ((i as f64 - px) * sp[0]).abs() <= 25.0 && sl[i + j * ni] != 0 {
                    s += i as f64;
                    c += 1.0;
                }
            }
        }
        if c > 0.0 {
            cx[k] = Some(s / c);
        }
        if front[k].is_some() {
            let jm = ((f[k] + b[k]) / 2.0).round() as usize;
            let i0 = px.round() as usize;
            if sl[i0.min(ni - 1) + jm * ni] != 0 {
                let (mut lo, mut hi) = (i0, i0);
                while lo > 0 && sl[lo - 1 + jm * ni] != 0 {
                    lo -= 1;
                }
                while hi + 1 < ni && sl[hi + 1 + jm * ni] != 0 {
                    hi += 1;
                }
                widths.push((hi - lo + 1) as f64 * sp[0]);
            }
        }
    }
    let width = median(widths).unwrap_or(depth_mm);
    let cxs = interpolate(&cx).ok_or_else(|| CtError::NoSpine("no vertebral body found".into()))?;
    let cxs = smooth1d(&cxs, 6.0 / sp[2]);
    let cys: Vec<f64> = smooth1d(
        &(0..nk).map(|k| (f[k] + b[k]) / 2.0).collect::<Vec<_>>(),
        4.0 / sp[2],
    );
    let centre: Vec<[f64; 2]> = (0..nk).map(|k| [cxs[k], cys[k]]).collect();
    let p_mm: Vec<[f64; 3]> = (0..nk)
        .map(|k| [cxs[k] * sp[0], cys[k] * sp[1], k as f64 * sp[2]])
        .collect();
    let t: Vec<[f64; 3]> = (0..nk)
        .map(|k| {
            let (a, c) = (k.saturating_sub(2), (k + 2).min(nk - 1));
            let d = [
                p_mm[c][0] - p_mm[a][0],
                p_mm[c][1] - p_mm[a][1],
                p_mm[c][2] - p_mm[a][2],
            ];
            let n = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt().max(1e-9);
            [d[0] / n, d[1] / n, d[2] / n]
        })
        .collect();
    Ok(Spine {
        k_lo,
        k_hi,
        centre,
        back: b,
        depth_mm,
        half_width_mm: width / 2.0,
        p_mm,
        t,
    })
}

/// Radius (mm) of the window in which the column is followed above the traced part.
const EXTEND_WINDOW_MM: f64 = 25.0;
/// Bone (mm²) in that window above which the slice is no longer the cervical column but the skull base or the
/// mandible: the extension stops there. Engineering margin, not a clinical-reference value: the phantom's neck and
/// upper thorax hold 550–950 mm² in the window (body, arch, articular pillars, rib heads).
const EXTEND_MAX_AREA_MM2: f64 = 1500.0;

/// Follows the column upward, slice by slice, beyond the highest slice the windowed centroids found: the cervical
/// spine runs forward (lordosis, and in a flexed neck up to about 45° from the scan axis), so a window centred on
/// the thoracic column loses it. Each slice's window starts at the position extrapolated from the last 30 mm
/// followed and moves to the centroid of its bone (three mean-shift steps); a slice whose centroid strays more
/// than 15 mm from the prediction is skipped, and 12 mm without an accepted slice ends the trace.
fn extend_upward(
    filled: &Volume<u8>,
    xs: &mut [Option<f64>],
    ys: &mut [Option<f64>],
    present: &mut [bool],
    sp: [f64; 3],
) {
    let [ni, nj, nk] = filled.dims();
    let Some(top) = (0..nk).rev().find(|&k| xs[k].is_some() && ys[k].is_some()) else {
        return;
    };
    let fit_span = (30.0 / sp[2]).round().max(2.0) as usize;
    let max_gap = (12.0 / sp[2]).ceil() as usize;
    // The windows near the top were centred on a prior that lags a forward-running column: start 30 mm lower.
    let mut last_k = (0..=top.saturating_sub(fit_span))
        .rev()
        .find(|&k| xs[k].is_some() && ys[k].is_some())
        .unwrap_or(top);
    let mut k = last_k + 1;
    while k < nk && k - last_k <= max_gap {
        // Straight-line fit (x and y against k) of the followed centres in the last 30 mm; slopes are limited to
        // 1.2 mm per mm (50°).
        let pts: Vec<(f64, f64, f64)> = (last_k.saturating_sub(fit_span)..=last_k)
            .filter_map(|q| Some((q as f64, xs[q]?, ys[q]?)))
            .collect();
        let m = pts.len() as f64;
        let kbar = pts.iter().map(|p| p.0).sum::<f64>() / m;
        let xbar = pts.iter().map(|p| p.1).sum::<f64>() / m;
        let ybar = pts.iter().map(|p| p.2).sum::<f64>() / m;
        let skk: f64 = pts.iter().map(|p| (p.0 - kbar).powi(2)).sum();
        let slope = |f: &dyn Fn(&(f64, f64, f64)) -> f64, bar: f64, a: usize| {
            if skk <= 0.0 {
                return 0.0;
            }
            let b = pts.iter().map(|p| (p.0 - kbar) * (f(p) - bar)).sum::<f64>() / skk;
            let lim = 1.2 * sp[2] / sp[a];
            b.clamp(-lim, lim)
        };
        let bx = slope(&|p| p.1, xbar, 0);
        let by = slope(&|p| p.2, ybar, 1);
        let px = xbar + bx * (k as f64 - kbar);
        let py = ybar + by * (k as f64 - kbar);
        // Mean shift from the prediction: the window moves to the centroid of the bone in it, three times.
        let (mut cx, mut cy, mut area) = (px, py, 0.0);
        for _ in 0..3 {
            let (x, y, a) =
                window_centroid(filled.slice_k(k), [ni, nj], [cx, cy], EXTEND_WINDOW_MM, sp);
            area = a;
            if a <= 0.0 {
                break;
            }
            (cx, cy) = (x, y);
        }
        if area > EXTEND_MAX_AREA_MM2 {
            break;
        }
        xs[k] = None;
        ys[k] = None;
        present[k] = false;
        if area >= 150.0 {
            let d = (((cx - px) * sp[0]).powi(2) + ((cy - py) * sp[1]).powi(2)).sqrt();
            if d <= 15.0 + 2.0 * (k - last_k) as f64 * sp[2] {
                xs[k] = Some(cx);
                ys[k] = Some(cy);
                present[k] = true;
                last_k = k;
            }
        }
        k += 1;
    }
}

/// Centroid (voxel indices) and area (mm²) of the bone of slice `sl` within `r_mm` of `c`.
fn window_centroid(
    sl: &[u8],
    [ni, nj]: [usize; 2],
    c: [f64; 2],
    r_mm: f64,
    sp: [f64; 3],
) -> (f64, f64, f64) {
    let [px, py] = c;
    let (i0, i1) = (
        ((px - r_mm / sp[0]).floor().max(0.0)) as usize,
        ((px + r_mm / sp[0]).ceil().max(0.0) as usize).min(ni - 1),
    );
    let (j0, j1) = (
        ((py - r_mm / sp[1]).floor().max(0.0)) as usize,
        ((py + r_mm / sp[1]).ceil().max(0.0) as usize).min(nj - 1),
    );
    let (mut a, mut b, mut n) = (0.0, 0.0, 0.0);
    for j in j0..=j1 {
        for i in i0..=i1 {
            let dx = (i as f64 - px) * sp[0];
            let dy = (j as f64 - py) * sp[1];
            if dx * dx + dy * dy <= r_mm * r_mm && sl[i + j * ni] != 0 {
                a += i as f64;
                b += j as f64;
                n += 1.0;
            }
        }
    }
    if n == 0.0 {
        return (px, py, 0.0);
    }
    (a / n, b / n, n * sp[0] * sp[1])
}

pub(super) fn unit_perp(t: [f64; 3]) -> ([f64; 3], [f64; 3]) {
    let x = [1.0, 0.0, 0.0];
    let d = t[0];
    let mut e1 = [x[0] - d * t[0], x[1] - d * t[1], x[2] - d * t[2]];
    let n = (e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2])
        .sqrt()
        .max(1e-9);
    e1 = [e1[0] / n, e1[1] / n, e1[2] / n];
    let e2 = [
        t[1] * e1[2] - t[2] * e1[1],
        t[2] * e1[0] - t[0] * e1[2],
        t[0] * e1[1] - t[1] * e1[0],
    ];
    (e1, e2)
}

/// The lowest bone fill over planes through the centreline point at slice k, tilted from the perpendicular by up
/// to ±35° sagittally and ±20° coronally (a lordotic L5–S1 or a scoliotic disc is not perpendicular to the
/// smoothed centreline), with the normal of that plane. A slight preference for small tilts breaks ties.
pub(super) fn best_plane_fill(
    filled: &Volume<u8>,
    s: &Spine,
    k: usize,
    r_mm: f64,
    sp: [f64; 3],
) -> (f64, [f64; 3]) {
    let t = s.t[k];
    let (e1, e2) = unit_perp(t);
    let mut best = (f64::INFINITY, t);
    for a in (-35i32..=35).step_by(5) {
        for b in (-20i32..=20).step_by(10) {
            let (ta, tb) = ((a as f64).to_radians().tan(), (b as f64).to_radians().tan());
            let n: [f64; 3] = std::array::from_fn(|c| t[c] + ta * e2[c] + tb * e1[c]);
            let l = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
            let n = n.map(|x| x / l);
            let f = plane_fill_n(filled, s, k, n, r_mm, sp) + 0.0005 * (a.abs() + b.abs()) as f64;
            if f < best.0 {
                best = (f, n);
            }
        }
    }
    best
}

/// Fraction of filled bone in a disc of radius `r_mm` through the centreline point at slice k, with the given
/// normal.
pub(super) fn plane_fill_n(
    filled: &Volume<u8>,
    s: &Spine,
    k: usize,
    normal: [f64; 3],
    r_mm: f64,
    sp: [f64; 3],
) -> f64 {
    let (e1, e2) = unit_perp(normal);
    let p = s.p_mm[k];
    let d = filled.dims();
    let step = 1.0;
    let n = (r_mm / step).floor() as i32;
    let (mut hit, mut tot) = (0usize, 0usize);
    for a in -n..=n {
        for b in -n..=n {
            let (u, v) = (a as f64 * step, b as f64 * step);
            if u * u + v * v > r_mm * r_mm {
                continue;
            }
            let q: [f64; 3] = std::array::from_fn(|c| p[c] + u * e1[c] + v * e2[c]);
            let idx: [isize; 3] = std::array::from_fn(|c| (q[c] / sp[c]).round() as isize);
            if (0..3).any(|c| idx[c] < 0 || idx[c] as usize >= d[c]) {
                continue;
            }
            tot += 1;
            hit += usize::from(filled.get(idx[0] as usize, idx[1] as usize, idx[2] as usize) != 0);
        }
    }
    if tot == 0 {
        0.0
    } else {
        hit as f64 / tot as f64
    }
}

/// Contrast of a disc in the CT values that no mid-body reaches (phantoms and the real series read 0.8–0.95 at
/// discs, 0.3–0.55 at a faint mid-body).
const CLEAR_CT_DISC: f64 = 0.7;

/// Segments between the discs, caudal first, and the profiles along the column they were cut from (with the
/// normal of the best, least-bone plane per slice, used to start each disc's surface fit). Discs are gaps in the
/// filled bone mask, thin gaps in the mask before closing, and discs seen only in the CT values; each is checked
/// against the CT values, which tell a disc (endplates close together) from a faint mid-body.
pub(super) fn find_vertebrae(
    filled: &Volume<u8>,
    unclosed: &Volume<u8>,
    cti: &Volume<i16>,
    s: &Spine,
    sp: [f64; 3],
) -> Result<(Vec<Seg>, ColumnProfile), CtError> {
    let r_mm = (0.35 * s.depth_mm)
        .min(0.6 * s.half_width_mm)
        .clamp(4.0, 14.0);
    let ks: Vec<usize> = (s.k_lo..=s.k_hi).collect();
    let (prof, normals): (Vec<f64>, Vec<[f64; 3]>) = ks
        .par_iter()
        .map(|&k| best_plane_fill(filled, s, k, r_mm, sp))
        .unzip();
    let prof = smooth1d(&prof, 1.5 / sp[2]);
    let n = prof.len();
    // Centreline arc length (mm) from the first slice, so that gaps are measured along a tilted column.
    let mut arc = vec![0.0; n];
    for i in 1..n {
        let (a, b) = (s.p_mm[s.k_lo + i - 1], s.p_mm[s.k_lo + i]);
        arc[i] = arc[i - 1] + (0..3).map(|c| (b[c] - a[c]).powi(2)).sum::<f64>().sqrt();
    }
    let min_gap_mm = 12.0;
    let reach = (20.0 / sp[2]).round().max(2.0) as usize;
    // Candidate discs: local minima below 0.5 with bone ≥ 0.3 higher within 20 mm on both sides.
    let mut cands: Vec<(usize, f64)> = Vec::new();
    for i in 0..n {
        let v = prof[i];
        if v >= 0.5 {
            continue;
        }
        let l = (i.saturating_sub(1)..i).all(|j| prof[j] >= v);
        let r = (i + 1..(i + 2).min(n)).all(|j| prof[j] > v);
        if !(l && r) {
            continue;
        }
        let lmax = prof[i.saturating_sub(reach)..i]
            .iter()
            .copied()
            .fold(0.0, f64::max);
        let rmax = prof[i + 1..(i + reach + 1).min(n)]
            .iter()
            .copied()
            .fold(0.0, f64::max);
        if lmax >= v + 0.3 && rmax >= v + 0.3 {
            cands.push((i, v));
        }
    }
    // Thin discs (cervical 5 mm, upper and mid thoracic 4.5–5.5 mm; phantom morphometry) are bridged by the
    // in-slice closing of the filled mask, the more so where the column is steep (an axial slice cuts a disc
    // tilted by θ as a band only h / sin θ wide: the neck and the upper thoracic spine run 20–45° from the scan
    // axis) and at coarse voxels. The mask before closing shows them as narrow gaps between two endplates; a
    // marrow-poor mid-body is a wide low, not a narrow one.
    let pa: Vec<f64> = ks
        .par_iter()
        .map(|&k| best_plane_fill(unclosed, s, k, r_mm, sp).0)
        .collect();
    let pa = smooth1d(&pa, 1.5 / sp[2]);
    let ct = ct_disc_profile(cti, s, sp);
    // The usual spacing of the discs (mm), from the gaps in the filled mask.
    // Gaps (mm) between consecutive candidates, sorted by position, at least `min_gap_mm` apart.
    let gaps_of = |c: &[(usize, f64)]| -> Vec<f64> {
        c.windows(2)
            .map(|w| arc[w[1].0] - arc[w[0].0])
            .filter(|&d| d >= min_gap_mm)
            .collect()
    };
    let spacing_mm = median(gaps_of(&cands));
    // A gap in the filled mask where the CT values show the faint middle of a body (endplates clearly above and
    // below, at least half the usual spacing apart) and no disc next to it is the marrow of an osteoporotic body
    // at coarse slices, not a disc.
    if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
        eprintln!("mask candidates before the CT check {cands:?}");
    }
    // The faint mid-bodies of fatty marrow at 3 mm leave such gaps between every pair of discs, and they halve the
    // spacing measured on the gaps (21 mm for 36); against that spacing a mid-body passes for a disc and a disc for
    // a body. So the spacing used here is at least `SPACING_MIN_DEPTHS` body depths, and it is measured again on
    // the candidates that are left.
    if let Some(hm) = spacing_mm.map(|h| h.max(SPACING_MIN_DEPTHS * s.depth_mm)) {
        let body_reach = ((BODY_EVIDENCE_REACH_MM / sp[2]).round() as usize).max(1);
        cands.retain(|&(i, _)| {
            let body = ct[i.saturating_sub(body_reach)..=(i + body_reach).min(n - 1)]
                .iter()
                .any(|e| e.contrast >= 0.5 && e.width_mm >= 0.5 * hm);
            !body || ct[around(i, n)].iter().any(|e| is_ct_disc(e, hm))
        });
    }
    let spacing_mm = median(gaps_of(&cands)).or(spacing_mm);
    let mut extra = thin_discs(&arc, &pa, &cands);
    // Where noise or faint marrow fill every gap of the filled mask (a low-dose chest CT, a noisy thin-slice or
    // bone-kernel series), the thin gaps of the mask before closing give the spacing. Those miss discs too, and a
    // missed disc doubles a gap: the lower quartile of the gaps, not their median.
    let spacing_mm = spacing_mm.or_else(|| {
        let mut all: Vec<(usize, f64)> = cands.iter().chain(&extra).copied().collect();
        all.sort_by_key(|c| c.0);
        let mut gaps = gaps_of(&all);
        gaps.sort_by(f64::total_cmp);
        (!gaps.is_empty()).then(|| gaps[(gaps.len() - 1) / 4])
    });
    // Where noise fills even the thin gaps (50–60 HU of noise in 1 mm slices of faint bone), the clear thin discs
    // of the CT values give it: their peaks, strongest first, at least `min_gap_mm` apart; the median gap.
    let spacing_mm = spacing_mm.or_else(|| {
        let mut peaks: Vec<usize> = (1..n.saturating_sub(1))
            .filter(|&i| {
                let e = &ct[i];
                e.contrast >= CLEAR_CT_DISC
                    && e.width_mm <= CT_ONLY_DISC_MAX_MM
                    && e.contrast >= ct[i - 1].contrast
                    && e.contrast >= ct[i + 1].contrast
            })
            .collect();
        peaks.sort_by(|&a, &b| ct[b].contrast.total_cmp(&ct[a].contrast));
        let mut kept: Vec<(usize, f64)> = Vec::new();
        for i in peaks {
            if kept
                .iter()
                .all(|&(j, _)| (arc[j] - arc[i]).abs() >= min_gap_mm)
            {
                kept.push((i, 0.0));
            }
        }
        kept.sort_by_key(|c| c.0);
        median(gaps_of(&kept))
    });
    if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
        let c: Vec<String> = ct
            .iter()
            .map(|e| format!("{:.2}/{:.0}", e.contrast, e.width_mm))
            .collect();
        eprintln!("disc spacing {spacing_mm:?} mm; CT disc evidence (contrast/width mm): {c:?}");
    }
    // A thin gap in the unclosed mask is a disc only where the CT values show one: two endplates closer together
    // than half the disc spacing. The faint marrow of an osteoporotic mid-body (at 3 mm slices, 4 slices from its
    // endplates) leaves the same gap in the mask, but its endplates lie a body's height apart.
    let mut ct_only = Vec::new();
    // The spacing there: between the filled mask's discs on either side, else the usual one.
    if let Some(hm) = spacing_mm {
        // Spacing around position i: between the nearest of `around` below and above it, at most the usual one.
        let local_spacing = |i: usize, around: &[(usize, f64)]| {
            let below = around.iter().filter(|c| c.0 < i).map(|c| c.0).max();
            let above = around.iter().filter(|c| c.0 > i).map(|c| c.0).min();
            match (below, above) {
                (Some(b), Some(a)) => (arc[a] - arc[b]).min(hm),
                _ => hm,
            }
        };
        extra.retain(|&(i, _)| {
            let local = local_spacing(i, &cands);
            around(i, n).any(|j| is_ct_disc(&ct[j], local) && ct[j].width_mm <= CT_ONLY_DISC_MAX_MM)
        });
        // Discs seen only in the CT values: clear (contrast ≥ 0.5) and thin against the spacing around them,
        // at least 12 mm from every other candidate. A merged pair of vertebrae doubles the spacing around
        // their lost disc, so the usual spacing caps it.
        // Local maxima among thin gaps only: the faint mid-body next to a disc reads as high a contrast.
        let thin = |j: usize| {
            if ct[j].width_mm <= CT_ONLY_DISC_MAX_MM {
                ct[j].contrast
            } else {
                0.0
            }
        };
        for i in 1..n - 1 {
            let e = &ct[i];
            if thin(i) < 0.5 || thin(i) < thin(i - 1) || thin(i) <= thin(i + 1) {
                continue;
            }
            let all: Vec<(usize, f64)> = cands.iter().chain(&extra).copied().collect();
            let local = local_spacing(i, &all);
            let near = |c: &(usize, f64)| (arc[c.0] - arc[i]).abs() < min_gap_mm;
            // (`thin` also keeps out gaps wider than a narrowed disc: where noise and faint marrow hide most
            // discs from the mask, its spacing overestimates the local one, and a thoracic mid-body, 15–20 mm
            // high and read 12 mm wide, would pass.)
            // A faint one (contrast under 0.7) only where it is the clearest thin disc within `min_gap_mm`: in a
            // noisy series a mid-body's faint marrow between the denser bone under its endplates can read as a
            // disc of contrast 0.5 beside the real one. (A clear disc stays: in the upper thoracic spine two
            // discs lie 13–15 mm apart.)
            let rival = e.contrast < CLEAR_CT_DISC
                && (0..n)
                    .any(|j| j != i && (arc[j] - arc[i]).abs() < min_gap_mm && thin(j) > thin(i));
            if is_ct_disc(e, local) && !rival && !all.iter().any(near) {
                extra.push((i, prof[i]));
                ct_only.push(i);
            }
        }
    }
    if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
        let p: Vec<String> = prof.iter().map(|v| format!("{v:.2}")).collect();
        eprintln!(
            "r_mm {r_mm:.1} depth {:.1} hw {:.1} prof from k {}: {p:?}\nextra discs {extra:?}",
            s.depth_mm, s.half_width_mm, s.k_lo
        );
    }
    if !extra.is_empty() {
        cands.extend(extra);
        cands.sort_by_key(|c| c.0);
    }
    // Keep the deepest of candidates closer than min_gap.
    let mut discs: Vec<(usize, f64)> = Vec::new();
    for c in cands {
        match discs.last_mut() {
            Some(last) if arc[c.0] - arc[last.0] < min_gap_mm => {
                if c.1 < last.1 {
                    *last = c;
                }
            }
            _ => discs.push(c),
        }
    }
    // Centre of each gap: middle of the run within 0.1 of the minimum (a disc seen only in the CT values is where
    // it was seen).
    let centres: Vec<f64> = discs
        .iter()
        .map(|&(i, v)| {
            if ct_only.contains(&i) {
                return (s.k_lo + i) as f64;
            }
            let (mut a, mut b) = (i, i);
            while a > 0 && prof[a - 1] <= v + 0.1 {
                a -= 1;
            }
            while b + 1 < n && prof[b + 1] <= v + 0.1 {
                b += 1;
            }
            (s.k_lo + a) as f64 + (b - a) as f64 / 2.0
        })
        .collect();
    // Segments between consecutive discs, plus the partial ones at the ends when they hold body bone.
    let mut bounds: Vec<(f64, bool)> = vec![(s.k_lo as f64 - 0.5, false)];
    bounds.extend(centres.iter().map(|&c| (c, true)));
    bounds.push((s.k_hi as f64 + 0.5, false));
    let mut segs = Vec::new();
    for w in bounds.windows(2) {
        let (lo, hi) = (w[0], w[1]);
        let len = (hi.0 - lo.0) * sp[2];
        let a = (lo.0.ceil().max(s.k_lo as f64) as usize).saturating_sub(s.k_lo);
        let b = ((hi.0.floor() as usize).min(s.k_hi)).saturating_sub(s.k_lo);
        let mean = if b > a {
            prof[a..=b.min(n - 1)].iter().sum::<f64>() / (b.min(n - 1) - a + 1) as f64
        } else {
            0.0
        };
        let edge = !(lo.1 && hi.1);
        if edge && (len < 8.0 || mean < 0.4) {
            continue;
        }
        segs.push(Seg {
            lo: lo.0,
            hi: hi.0,
            lo_is_disc: lo.1,
            hi_is_disc: hi.1,
            sacrum: false,
            lo_max_shift_mm: None,
        });
    }
    if segs.is_empty() {
        return Err(CtError::NoSpine(
            "no vertebral body found along the column".into(),
        ));
    }
    let profile = ColumnProfile {
        normals,
        prof,
        pa,
        arc,
        ct,
        spacing_mm,
    };
    check_segment_heights(&mut segs, &profile, s);
    Ok((segs, profile))
}

/// The bone profiles along the column that the segments were cut from, kept for checking the segments again after
/// the sacrum cut.
pub(super) struct ColumnProfile {
    /// Normal of the least-bone plane per slice from `k_lo`, to start each disc's surface fit.
    pub(super) normals: Vec<[f64; 3]>,
    /// Least plane fill of the filled bone mask per slice from `k_lo`, smoothed.
    prof: Vec<f64>,
    /// The same in the mask before the in-slice closing (thin discs stay open there).
    pa: Vec<f64>,
    /// Centreline arc length (mm) from `k_lo`.
    arc: Vec<f64>,
    /// Disc evidence in the CT values.
    ct: Vec<DiscEvidence>,
    /// The usual disc spacing along the centreline (mm), where the filled mask shows enough discs.
    pub(super) spacing_mm: Option<f64>,
}

impl ColumnProfile {
    /// Arc length (mm) at slice position `x`, interpolated and clamped to the traced column.
    fn arc_at(&self, x: f64, s: &Spine) -> f64 {
        let n = self.arc.len();
        let i = (x - s.k_lo as f64).clamp(0.0, (n - 1) as f64);
        let (a, f) = (i.floor() as usize, i.fract());
        self.arc[a] + f * (self.arc[(a + 1).min(n - 1)] - self.arc[a])
    }

    /// A segment's height along the centreline (mm), so that a steep neck is not taken for short vertebrae.
    fn height_mm(&self, g: &Seg, s: &Spine) -> f64 {
        self.arc_at(g.hi, s) - self.arc_at(g.lo, s)
    }
}

/// Widest gap (mm, between the endplates at half height) taken for a thin disc, seen only in the CT values or in
/// the mask before closing: narrowed lumbar discs are 3–6 mm, cervical and upper thoracic 4.5–6 mm; a disc of
/// normal lumbar height (8.8 ± 1.4 mm, clinical-reference §6.2) leaves a gap in the filled bone mask.
const CT_ONLY_DISC_MAX_MM: f64 = 10.0;

/// Least disc spacing (body height plus disc), in body depths (AP), against which a gap in the filled mask is read
/// as a disc or as a faint mid-body. Normal adults: 0.87 (T6) to 1.14 (T2) depths, lumbar 1.04–1.05 (Panjabi
/// 1991–1992, as in the phantom's morphometry); the measured depth can read 10 % high.
const SPACING_MIN_DEPTHS: f64 = 0.7;

/// Most usual vertebra height (body and disc), in body depths, that the height check of the segments trusts
/// (normal adults 0.87–1.14, see `SPACING_MIN_DEPTHS`). On 5 mm slices of a chest the thin thoracic discs are
/// averaged away and the filled mask showed three gaps in 12 levels; their median (95 mm) had a whole vertebra (T12,
/// 30 mm) merged into the partial L1 below it as too short, and no rib-free vertebra was left to name from.
const SPACING_MAX_DEPTHS: f64 = 1.5;

/// Reach (mm) from a gap in the filled mask within which the CT values' reading of a faint mid-body counts against
/// it: at 3 mm slices the gap a fatty mid-body leaves lies up to two slices from the middle of its faint marrow.
const BODY_EVIDENCE_REACH_MM: f64 = 6.0;

/// Profile positions within one sample of `i` (of `n`): where a disc found in one profile is looked for in another.
fn around(i: usize, n: usize) -> std::ops::RangeInclusive<usize> {
    i.saturating_sub(1)..=(i + 1).min(n - 1)
}

/// A thin disc in the CT values, given the disc spacing `spacing_mm` around it: clear endplates on both sides of
/// the plane (contrast ≥ 0.3), at most 0.4 times the spacing apart. A normal lumbar disc is about 0.3 of the
/// spacing (8.8 mm against bodies ≈ 2.5 times as high, clinical-reference §6.2); the faint mid-plane of a body is
/// 0.5–0.7.
fn is_ct_disc(e: &DiscEvidence, spacing_mm: f64) -> bool {
    e.contrast >= 0.3 && e.width_mm <= 0.4 * spacing_mm
}

/// Plausibility of the segment heights, checked when the segments are found and again once the sacrum has been
/// cut off (a merged L4–L5 above a narrowed lumbosacral disc is only a complete segment then).
pub(super) fn check_segment_heights(segs: &mut Vec<Seg>, p: &ColumnProfile, s: &Spine) {
    // Plausibility: a complete segment far shorter than its neighbours is a false gap (merge it into the
    // shorter neighbour); very long ones may hide a missed disc (split at the weakest bone inside, in the filled
    // mask or, for a thin disc bridged by its closing, in the mask before closing; the pieces are checked again).
    // Heights are measured along the centreline, so that a steep neck is not taken for short vertebrae.
    let (prof, pa) = (&p.prof, &p.pa);
    let n = prof.len();
    let seg_h = |g: &Seg| p.height_mm(g, s);
    let heights: Vec<f64> = segs
        .iter()
        .filter(|g| g.lo_is_disc && g.hi_is_disc)
        .map(seg_h)
        .collect();
    // The usual height, or the disc spacing where that is lower: where most discs were missed (noise filling the
    // mask), the complete segments are mostly pairs and their median is a pair's height.
    let hm = match (median(heights), p.spacing_mm) {
        (Some(h), Some(d)) => Some(h.min(d)),
        (h, _) => h,
    };
    // At most `SPACING_MAX_DEPTHS` body depths: where the filled mask shows almost no disc, the gaps it shows lie
    // levels apart.
    let hm = hm.map(|h| h.min(SPACING_MAX_DEPTHS * s.depth_mm));
    if let Some(hm) = hm {
        // Two short complete neighbours that together make one vertebra, parted by a weak gap in the mask
        // (profile ≥ 0.2) where the CT values show no disc: noise left a gap in a mid-body. (Two crushed
        // vertebrae side by side keep their disc: it shows in the CT values.)
        let mut i = 0;
        while i + 1 < segs.len() {
            let (g, u) = (&segs[i], &segs[i + 1]);
            let complete = |g: &Seg| g.lo_is_disc && g.hi_is_disc && !g.sacrum;
            let (hg, hu) = (seg_h(g), seg_h(u));
            let x = (g.hi.round().max(0.0) as usize)
                .saturating_sub(s.k_lo)
                .min(n - 1);
            let near = around(x, n);
            let weak_gap = near.clone().all(|y| prof[y] >= 0.2);
            let no_ct_disc = !near.clone().any(|y| is_ct_disc(&p.ct[y], hm));
            if complete(g)
                && complete(u)
                && (g.hi - u.lo).abs() < 1e-6
                && hg < 0.65 * hm
                && hu < 0.65 * hm
                && hg + hu <= 1.3 * hm
                && weak_gap
                && no_ct_disc
            {
                if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
                    eprintln!("pair {hg:.0} + {hu:.0} mm merged at slice {:.1}", g.hi);
                }
                segs[i + 1].lo = segs[i].lo;
                segs.remove(i);
                continue;
            }
            i += 1;
        }
        let mut i = 0;
        while i < segs.len() {
            let g = &segs[i];
            let h = seg_h(g);
            if g.lo_is_disc && g.hi_is_disc && h < 0.45 * hm && segs.len() > 1 {
                // Merge with the shorter neighbour.
                let up = (i + 1 < segs.len()).then(|| seg_h(&segs[i + 1]));
                // Never into the sacrum: a short piece above it is part of L5.
                let down = (i > 0 && !segs[i - 1].sacrum).then(|| seg_h(&segs[i - 1]));
                let into_up = match (up, down) {
                    (Some(u), Some(d)) => u <= d,
                    (Some(_), None) => true,
                    _ => false,
                };
                if into_up {
                    segs[i + 1].lo = segs[i].lo;
                    segs[i + 1].lo_is_disc = segs[i].lo_is_disc;
                } else {
                    segs[i - 1].hi = segs[i].hi;
                    segs[i - 1].hi_is_disc = segs[i].hi_is_disc;
                }
                segs.remove(i);
                continue;
            }
            if g.lo_is_disc && g.hi_is_disc && h > 1.7 * hm {
                let a = (g.lo + 0.3 * (g.hi - g.lo)).round() as usize - s.k_lo;
                let b = (g.lo + 0.7 * (g.hi - g.lo)).round() as usize - s.k_lo;
                let weakest = |p: &[f64]| {
                    (a..=b.min(n - 1))
                        .map(|x| (x, p[x]))
                        .min_by(|x, y| x.1.total_cmp(&y.1))
                };
                // First choice: the clearest disc in the CT values.
                let ct_disc = (a..=b.min(n - 1))
                    .filter(|&x| is_ct_disc(&p.ct[x], hm))
                    .max_by(|&x, &y| p.ct[x].contrast.total_cmp(&p.ct[y].contrast));
                let cut = match (ct_disc, weakest(prof), weakest(pa)) {
                    (Some(m), _, _) => Some(m),
                    (_, Some((m, v)), _) if v < 0.7 => Some(m),
                    (_, _, Some((m, v))) if v < 0.5 => Some(m),
                    _ => None,
                };
                if let Some(m) = cut {
                    let cut = (s.k_lo + m) as f64;
                    let mut upper = segs[i].clone();
                    upper.lo = cut;
                    upper.lo_is_disc = true;
                    segs[i].hi = cut;
                    segs[i].hi_is_disc = true;
                    segs.insert(i + 1, upper);
                    continue; // check the lower piece again
                }
            }
            i += 1;
        }
        split_long_ends(segs, p, s, hm);
    }
}

/// The vertebra cut by either end of the view can hold a disc the profiles missed (thick slices average a disc
/// with its endplates; an edge segment is not checked by the split above): an end segment more than 1.3 times as
/// tall as its complete neighbour is cut at the clearest disc in the CT values (contrast ≥ 0.2, narrower than half
/// that height) 0.7–1.3 neighbour heights from its disc, as long as one is found. Not where the neighbour is under
/// 22 mm: in the neck the top of the column is C2, whose dens makes it twice as tall as C3.
fn split_long_ends(segs: &mut Vec<Seg>, p: &ColumnProfile, s: &Spine, hm: f64) {
    let n = p.arc.len();
    let arc_at = |x: f64| p.arc_at(x, s);
    let height = |g: &Seg| p.height_mm(g, s);
    let complete = |g: &Seg| g.lo_is_disc && g.hi_is_disc && !g.sacrum;
    // The clearest disc with arc position in [from + 0.7 h, from + 1.3 h] (or below `from` when `down`).
    let find = |from: f64, h: f64, down: bool| -> Option<usize> {
        let a0 = arc_at(from);
        (0..n)
            .filter(|&x| {
                let d = if down { a0 - p.arc[x] } else { p.arc[x] - a0 };
                (0.7 * h..=1.3 * h).contains(&d)
            })
            .filter(|&x| p.ct[x].contrast >= 0.2 && p.ct[x].width_mm <= 0.5 * h)
            .max_by(|&x, &y| p.ct[x].contrast.total_cmp(&p.ct[y].contrast))
    };
    for _ in 0..4 {
        let last = segs.len() - 1;
        let g = segs[last].clone();
        if last == 0 || !g.lo_is_disc || g.hi_is_disc {
            break;
        }
        let h = if complete(&segs[last - 1]) {
            height(&segs[last - 1])
        } else {
            hm
        };
        if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
            eprintln!(
                "top end segment {:.1}-{:.1}: {:.0} mm, neighbour {h:.0} mm, disc {:?}",
                g.lo,
                g.hi,
                height(&g),
                find(g.lo, h, false)
            );
        }
        if h < 22.0 || height(&g) <= 1.3 * h {
            break;
        }
        let Some(x) = find(g.lo, h, false) else { break };
        let cut = (s.k_lo + x) as f64;
        segs[last].hi = cut;
        segs[last].hi_is_disc = true;
        segs.push(Seg {
            lo: cut,
            lo_is_disc: true,
            ..g
        });
    }
    for _ in 0..4 {
        let g = segs[0].clone();
        if segs.len() < 2 || g.lo_is_disc || !g.hi_is_disc || g.sacrum {
            break;
        }
        let h = if complete(&segs[1]) {
            height(&segs[1])
        } else {
            hm
        };
        if h < 22.0 || height(&g) <= 1.3 * h {
            break;
        }
        let Some(x) = find(g.hi, h, true) else { break };
        let cut = (s.k_lo + x) as f64;
        segs[0].lo = cut;
        segs[0].lo_is_disc = true;
        segs.insert(
            0,
            Seg {
                hi: cut,
                hi_is_disc: true,
                ..g
            },
        );
    }
}

/// Two rib exits on one side closer than this along the column (mm) belong to one level (a rib neck and its
/// transverse process, or one neck cut in two), never to two vertebrae: the shortest thoracic vertebra with its
/// disc is about 19 mm (T1, Panjabi 1991).
const RIB_PAIR_MIN_MM: f64 = 12.0;

/// Ribs leave the column once per thoracic level, so two rib pairs leaving one segment mean two vertebrae merged
/// across a disc that neither bone profile showed (a 4–5 mm thoracic disc inside a 5 mm slice, tilted by the
/// kyphosis). `ribs` are (side, level along the column in slices) of every rib exit. A rib pair is a left and a
/// right exit within 30 % of a level of each other; consecutive pairs at least [`RIB_PAIR_MIN_MM`] and 0.7 times
/// the usual gap apart are two levels. A segment holding two levels is cut between them, at the clearest disc in
/// the CT values within a quarter of the gap of their middle, else at the middle. Where a cut was needed, the disc
/// profiles failed in the rib cage, and the boundaries they placed there are unreliable too (at 5 mm slices they
/// fall a third of a level off, from a spacing measured in the lumbar spine): every boundary alone between two
/// consecutive levels moves to their middle. The exits lie at mid-body (the phantom's ribs; IRCADb's 12th rib at
/// 0.46 of its vertebra), so their middle is the disc; an upper rib's neck may leave a little higher (its head
/// sits at the disc above), so the disc-plane check in the CT values may still move each of these boundaries by
/// 15 % of the level: that allowance (mm) is set on the segment above as its `lo_max_shift_mm`.
pub(super) fn split_at_rib_pairs(
    segs: &mut Vec<Seg>,
    p: &ColumnProfile,
    s: &Spine,
    ribs: &[(usize, f64)],
) {
    let n = p.arc.len();
    let arc_at = |x: f64| p.arc_at(x, s);
    // Exit levels per side: (slice position, arc mm), sorted.
    let side = |d: usize| {
        let mut v: Vec<(f64, f64)> = ribs
            .iter()
            .filter(|r| r.0 == d)
            .map(|r| (r.1, arc_at(r.1)))
            .collect();
        v.sort_by(|a, b| a.1.total_cmp(&b.1));
        v
    };
    let (right, left) = (side(0), side(1));
    // The usual gap between consecutive exits of one side: one level.
    let usual = median(
        [&right, &left]
            .iter()
            .flat_map(|v| v.windows(2).map(|w| w[1].1 - w[0].1))
            .filter(|&d| d >= RIB_PAIR_MIN_MM)
            .collect(),
    );
    let Some(usual) = usual else {
        return;
    };
    let min_gap = RIB_PAIR_MIN_MM.max(0.7 * usual);
    // Rib pairs (slice position, arc mm), one per level: nearest exits on the two sides.
    let mut levels: Vec<(f64, f64)> = Vec::new();
    for &(k, a) in &left {
        let m = right
            .iter()
            .filter(|r| (r.1 - a).abs() <= 0.3 * usual)
            .min_by(|x, y| (x.1 - a).abs().total_cmp(&(y.1 - a).abs()));
        if let Some(&(kr, ar)) = m {
            let lv = (0.5 * (k + kr), 0.5 * (a + ar));
            if levels.last().is_none_or(|l| lv.1 - l.1 >= RIB_PAIR_MIN_MM) {
                levels.push(lv);
            }
        }
    }
    // Where the boundary between two levels goes: the clearest CT disc near their middle, else the middle.
    let boundary = |a: (f64, f64), b: (f64, f64)| -> f64 {
        let (mid, gap) = (0.5 * (a.0 + b.0), b.1 - a.1);
        let mid_mm = arc_at(mid);
        (0..n)
            .filter(|&x| (p.arc[x] - mid_mm).abs() <= 0.25 * gap)
            .filter(|&x| p.ct[x].contrast >= 0.2 && p.ct[x].width_mm <= 0.5 * gap)
            .max_by(|&x, &y| p.ct[x].contrast.total_cmp(&p.ct[y].contrast))
            .map_or(mid, |x| (s.k_lo + x) as f64)
    };
    let debug = std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some();
    if debug {
        eprintln!("rib pair levels (slice, arc mm): {levels:.1?}; usual {usual:.1} mm; right {right:.1?}; left {left:.1?}");
    }
    let two_levels = |w: &[(f64, f64)]| w[1].1 - w[0].1 >= min_gap;
    let mut cuts = 0;
    let mut i = 0;
    while i < segs.len() {
        let g = segs[i].clone();
        let pair = levels
            .windows(2)
            .find(|w| !g.sacrum && w[0].0 > g.lo && w[1].0 < g.hi && two_levels(w));
        let Some(w) = pair else {
            i += 1;
            continue;
        };
        let cut = boundary(w[0], w[1]);
        if debug {
            eprintln!(
                "two rib pairs ({:.1}, {:.1}) in segment {:.1}-{:.1}: cut at {cut:.1}",
                w[0].0, w[1].0, g.lo, g.hi
            );
        }
        let mut upper = g.clone();
        upper.lo = cut;
        upper.lo_is_disc = true;
        upper.lo_max_shift_mm = None;
        segs[i].hi = cut;
        segs[i].hi_is_disc = true;
        segs.insert(i + 1, upper);
        cuts += 1;
    }
    if cuts == 0 {
        return;
    }
    for w in levels.windows(2) {
        let gap = w[1].1 - w[0].1;
        if !two_levels(w) || gap > 1.4 * usual {
            continue;
        }
        // Boundaries (segment indices below them) between the two rib pairs.
        let inner = |segs: &[Seg]| -> Vec<usize> {
            (0..segs.len().saturating_sub(1))
                .filter(|&m| segs[m].hi_is_disc && segs[m].hi > w[0].0 && segs[m].hi < w[1].0)
                .collect()
        };
        // Two rib pairs one level apart hold one disc between them: extra boundaries (a faint mid-body cut by the
        // height check) go, and the one nearest the middle stays.
        let found = inner(segs);
        let mid = 0.5 * (w[0].0 + w[1].0);
        let nearest_mid = found.iter().copied().min_by(|&a, &b| {
            (segs[a].hi - mid)
                .abs()
                .total_cmp(&(segs[b].hi - mid).abs())
        });
        if let Some(keep) = nearest_mid.filter(|_| found.len() > 1) {
            if debug {
                let b: Vec<f64> = found.iter().map(|&m| segs[m].hi).collect();
                eprintln!(
                    "boundaries {b:.1?} between rib pairs ({:.1}, {:.1}): one kept",
                    w[0].0, w[1].0
                );
            }
            // From the top down, so that the indices below stay valid: segment m takes in m + 1.
            for &m in found.iter().rev().filter(|&&m| m != keep) {
                segs[m].hi = segs[m + 1].hi;
                segs[m].hi_is_disc = segs[m + 1].hi_is_disc;
                segs.remove(m + 1);
            }
        }
        let inner = inner(segs);
        let [m] = inner[..] else { continue };
        if debug {
            eprintln!(
                "boundary {:.1} between rib pairs moved to {mid:.1}",
                segs[m].hi
            );
        }
        segs[m].hi = mid;
        segs[m + 1].lo = mid;
        segs[m + 1].lo_max_shift_mm = Some(0.15 * gap);
    }
}

/// Extra disc candidates (profile index, depth): local minima of the plane fill of the mask before closing below
/// 0.5 that rise by at least 0.3 within 6 mm along the centreline on both sides (a thin disc between two
/// endplates), at least 12 mm from every candidate of the filled mask.
fn thin_discs(arc: &[f64], pa: &[f64], cands: &[(usize, f64)]) -> Vec<(usize, f64)> {
    if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
        let p: Vec<String> = pa.iter().map(|v| format!("{v:.2}")).collect();
        eprintln!("unclosed prof {p:?}");
    }
    let n = pa.len();
    let mut out = Vec::new();
    for i in 1..n.saturating_sub(1) {
        let v = pa[i];
        if v >= 0.5 || pa[i - 1] < v || pa[i + 1] <= v {
            continue;
        }
        // Within 6 mm, or 4 slices along a steep column or at coarse spacing, where the endplates lie only a
        // slice or two from the disc.
        let step = arc[i + 1] - arc[i - 1];
        let window = (2.0 * step).max(6.0);
        let rises = |range: &mut dyn Iterator<Item = usize>| {
            range
                .take_while(|&j| (arc[j] - arc[i]).abs() <= window)
                .any(|j| pa[j] >= v + 0.3)
        };
        if !(rises(&mut (0..i).rev()) && rises(&mut (i + 1..n))) {
            continue;
        }
        if cands.iter().any(|c| (arc[c.0] - arc[i]).abs() < 12.0) {
            continue;
        }
        out.push((i, v));
    }
    out
}

/// Lateral extent (mm) of the in-slice bone region connected to the body centre, in front of the posterior wall
/// of the body plus `behind_mm`: the sacral alae (and the ilia across the sacroiliac joints) make it wide, a
/// lumbar body with its transverse processes (which start behind the wall) does not.
pub(super) fn slice_extent_mm(
    filled: &Volume<u8>,
    s: &Spine,
    k: usize,
    behind_mm: f64,
    sp: [f64; 3],
) -> f64 {
    let [ni, nj, _] = filled.dims();
    let sl = filled.slice_k(k);
    let [x, y] = s.centre[k];
    let jmax = ((s.back[k] + behind_mm / sp[1]).round() as usize).min(nj - 1);
    let (ci, cj) = (
        (x.round() as usize).min(ni - 1),
        (y.round() as usize).min(jmax),
    );
    // Seed: the nearest bone voxel to the centre within 6 mm.
    let r = (6.0 / sp[0]).ceil() as isize;
    let mut seed = None;
    let mut best = f64::INFINITY;
    for dj in -r..=r {
        for di in -r..=r {
            let (i, j) = (ci as isize + di, cj as isize + dj);
            if i < 0 || j < 0 || i as usize >= ni || j as usize > jmax {
                continue;
            }
            let d = (di * di + dj * dj) as f64;
            if sl[i as usize + j as usize * ni] != 0 && d < best {
                best = d;
                seed = Some((i as usize, j as usize));
            }
        }
    }
    let Some(seed) = seed else { return 0.0 };
    let mut seen = vec![false; ni * (jmax + 1)];
    let mut stack = vec![seed];
    seen[seed.0 + seed.1 * ni] = true;
    let (mut lo, mut hi) = (seed.0, seed.0);
    while let Some((i, j)) = stack.pop() {
        lo = lo.min(i);
        hi = hi.max(i);
        for (a, b) in [
            (i.wrapping_sub(1), j),
            (i + 1, j),
            (i, j.wrapping_sub(1)),
            (i, j + 1),
        ] {
            if a < ni && b <= jmax && !seen[a + b * ni] && sl[a + b * ni] != 0 {
                seen[a + b * ni] = true;
                stack.push((a, b));
            }
        }
    }
    (hi - lo + 1) as f64 * sp[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A straight column of `n` slices of 5 mm, without any disc in the bone or CT profiles.
    fn column(n: usize) -> (Spine, ColumnProfile) {
        let s = Spine {
            k_lo: 0,
            k_hi: n - 1,
            centre: vec![[50.0, 50.0]; n],
            back: vec![60.0; n],
            depth_mm: 30.0,
            half_width_mm: 20.0,
            p_mm: (0..n).map(|k| [50.0, 50.0, 5.0 * k as f64]).collect(),
            t: vec![[0.0, 0.0, 1.0]; n],
        };
        let p = ColumnProfile {
            normals: vec![[0.0, 0.0, 1.0]; n],
            prof: vec![1.0; n],
            pa: vec![1.0; n],
            arc: (0..n).map(|k| 5.0 * k as f64).collect(),
            ct: (0..n)
                .map(|_| DiscEvidence {
                    contrast: 0.0,
                    width_mm: 0.0,
                })
                .collect(),
            spacing_mm: Some(40.0),
        };
        (s, p)
    }

    fn seg(lo: f64, hi: f64) -> Seg {
        Seg {
            lo,
            hi,
            lo_is_disc: true,
            hi_is_disc: true,
            sacrum: false,
            lo_max_shift_mm: None,
        }
    }

    fn bounds(segs: &[Seg]) -> Vec<f64> {
        segs.iter().map(|g| g.hi).collect()
    }

    #[test]
    fn two_rib_pairs_in_one_segment_split_it() {
        let (s, p) = column(40);
        // A rib pair every 5 slices (25 mm, one thoracic level) from slice 2.5: the discs lie at 5, 10, 15, …
        let exits: Vec<(usize, f64)> = (0..7)
            .flat_map(|m| {
                let k = 2.5 + 5.0 * m as f64;
                [(0, k), (1, k + 0.2)]
            })
            .collect();
        // Slices 10–20 hold two levels; the boundary at 24 lies a fifth of a level off the disc at 25.
        let mut segs = vec![
            seg(0.0, 5.0),
            seg(5.0, 10.0),
            seg(10.0, 20.0),
            seg(20.0, 24.0),
            seg(24.0, 30.0),
            seg(30.0, 35.0),
        ];
        split_at_rib_pairs(&mut segs, &p, &s, &exits);
        let b = bounds(&segs);
        assert_eq!(segs.len(), 7, "{b:?}");
        for (got, want) in b.iter().zip([5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0]) {
            assert!((got - want).abs() < 0.2, "{b:?}");
        }
        // Every boundary alone between two rib pairs is placed at their middle, with 15 % of a level (25 mm) of
        // freedom; the bottom of the column is not between two pairs.
        let placed = segs
            .iter()
            .find(|g| (g.lo - 25.1).abs() < 1e-9)
            .expect("placed");
        assert!(placed
            .lo_max_shift_mm
            .is_some_and(|m| (m - 3.75).abs() < 1e-9));
        assert!(segs[0].lo_max_shift_mm.is_none());
    }

    #[test]
    fn one_sided_or_close_exits_split_nothing() {
        let (s, p) = column(40);
        let levels = |side: usize| (0..7).map(move |m| (side, 2.5 + 5.0 * m as f64));
        let merged = || {
            vec![
                seg(0.0, 5.0),
                seg(5.0, 10.0),
                seg(10.0, 20.0),
                seg(20.0, 25.0),
            ]
        };
        // The left ribs only (the right side of the cage cut away, or too faint to count).
        let mut segs = merged();
        let one_side: Vec<(usize, f64)> =
            levels(1).chain([(0, 2.5), (0, 7.5), (0, 22.5)]).collect();
        split_at_rib_pairs(&mut segs, &p, &s, &one_side);
        assert_eq!(segs.len(), 4);
        assert!(segs.iter().all(|g| g.lo_max_shift_mm.is_none()));
        // Two exits 8 mm apart on each side are one level (a neck and its transverse process).
        let mut segs = merged();
        let mut close: Vec<(usize, f64)> = levels(0).chain(levels(1)).collect();
        close.retain(|e| e.1 != 17.5);
        close.extend([(0, 14.1), (1, 14.1)]);
        split_at_rib_pairs(&mut segs, &p, &s, &close);
        assert_eq!(bounds(&segs), vec![5.0, 10.0, 20.0, 25.0]);
        assert!(segs.iter().all(|g| g.lo_max_shift_mm.is_none()));
    }
}
