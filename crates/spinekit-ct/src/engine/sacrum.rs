//! The sacrum: where it starts, the lumbosacral disc, and the cut at the sacroiliac joints.

use super::*;

/// Finds the sacrum at the caudal end of the column and makes it one segment. Returns `None` when there is no
/// sacrum, else the L5–S1 disc plane when it was found in the CT values (it then replaces the fitted plane).
///
/// Cue: the in-slice bone connected to the body and in front of its posterior wall is far wider than a vertebral
/// body over the lowest ≥ 10 mm of the column (sacral alae, usually joined to the ilia at the sacroiliac joints);
/// a lumbar body is not, because its transverse processes start behind the wall. The L5–S1 disc is then the
/// weakest bone plane (perpendicular to the centreline) in the 15 mm above the top of the wide run.
pub(super) fn detect_sacrum(
    filled: &Volume<u8>,
    cti: &Volume<i16>,
    s: &Spine,
    segs: &mut Vec<Seg>,
    spacing_mm: Option<f64>,
    sp: [f64; 3],
) -> Option<Option<DiscPlane>> {
    let body_w = 2.0 * s.half_width_mm;
    let wide_mm = 100.0f64.max(1.9 * body_w.min(60.0));
    let ext: Vec<f64> = (s.k_lo..=s.k_hi)
        .into_par_iter()
        .map(|k| slice_extent_mm(filled, s, k, 0.0, sp))
        .collect();
    // Wide run from the bottom, tolerating narrow slices (tip, foramina, partial volume) over ≤ 9 mm.
    let tol = (9.0 / sp[2]).ceil() as usize;
    let mut top = None;
    let mut narrow = 0;
    let mut wide_count = 0usize;
    // The lower sacrum and coccyx taper: the wide run may start up to 120 mm above the bottom of the column. With
    // the whole pelvis in view (an abdomen–pelvis CT) the column is traced down the sacrum to the coccyx, and the
    // alae begin 80–100 mm above its tip (sacrum about 100–110 mm long, coccyx about 30 mm).
    let first_wide_max = (120.0 / sp[2]).round() as usize;
    for (n, &e) in ext.iter().enumerate() {
        if top.is_none() && n > first_wide_max {
            break;
        }
        if e >= wide_mm {
            top = Some(n);
            wide_count += 1;
            narrow = 0;
        } else if top.is_some() {
            narrow += 1;
            if narrow > tol {
                break;
            }
        }
    }
    if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
        let e: Vec<String> = ext.iter().map(|v| format!("{v:.0}")).collect();
        eprintln!(
            "sacrum search: k_lo {}, wide {wide_mm:.0} mm, wide run top {top:?} ({wide_count} slices), extents {e:?}",
            s.k_lo
        );
    }
    let top = top?;
    if (wide_count as f64) * sp[2] < 10.0 {
        return None;
    }
    let k_top = s.k_lo + top;
    // The top of the alae lies at about the S1 endplate, but at coarse voxels the L5 transverse processes may merge
    // with them and lift the wide run into L5: a disc already found from 20 mm below to 15 mm above the top of the
    // wide run, with ≥ 10 mm of wide slices under it, is the L5–S1 disc (the nearest to the top).
    let wide_below = |c: f64| {
        ext[..((c - s.k_lo as f64).max(0.0) as usize).min(ext.len())]
            .iter()
            .filter(|&&e| e >= wide_mm)
            .count() as f64
            * sp[2]
    };
    // First choice: the disc itself, seen in the CT values as a thin band between two endplates, on a plane free
    // to tilt with the sacral slope and to sit in front of or behind the traced centre (where the tilted L5 and
    // S1 share axial slices the centreline runs through both, and the bone mask bridges the disc).
    let ls = lumbosacral_disc(cti, s, k_top, spacing_mm, sp);
    if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
        let e: Vec<String> = ext.iter().map(|v| format!("{v:.0}")).collect();
        eprintln!(
            "sacrum: wide {wide_mm:.0} mm, top of wide run k {k_top}, CT-value disc {:?}, extents {e:?}",
            ls.map(|x| x.1)
        );
    }
    if let Some((pl, c)) = ls {
        if (s.k_hi as f64 - c) * sp[2] >= 15.0 {
            apply_sacrum_cut(segs, s, c, sp);
            return Some(Some(pl));
        }
    }
    let near = segs
        .iter()
        .filter(|g| g.lo_is_disc)
        .map(|g| g.lo)
        .filter(|&c| {
            let d = (c - k_top as f64) * sp[2];
            (-20.0..=15.0).contains(&d) && wide_below(c) >= 10.0
        })
        .min_by(|a, b| {
            (a - k_top as f64)
                .abs()
                .total_cmp(&(b - k_top as f64).abs())
        });
    let cut = match near {
        Some(c) => c,
        None => {
            let r_mm = (0.35 * s.depth_mm)
                .min(0.6 * s.half_width_mm)
                .clamp(4.0, 14.0);
            let k_end = (k_top + (15.0 / sp[2]).round() as usize).min(s.k_hi);
            (k_top..=k_end)
                .map(|k| {
                    (
                        k,
                        best_plane_fill(filled, s, k, r_mm, sp).0 + 0.002 * (k - k_top) as f64,
                    )
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(k, _)| k as f64)?
        }
    };
    // Something must be left above the sacrum for it to be the sacrum and not a mis-seen vertebra.
    if (s.k_hi as f64 - cut) * sp[2] < 15.0 {
        return None;
    }
    apply_sacrum_cut(segs, s, cut, sp);
    Some(None)
}

/// Makes everything below slice position `cut` (along the centreline) the sacrum. A segment left above the cut that
/// is far shorter than a vertebra is the lower part of L5 behind a false gap (an osteoporotic body): it is merged
/// into the segment above.
pub(super) fn apply_sacrum_cut(segs: &mut Vec<Seg>, s: &Spine, cut: f64, sp: [f64; 3]) {
    let heights: Vec<f64> = segs
        .iter()
        .filter(|g| g.lo_is_disc && g.hi_is_disc)
        .map(|g| (g.hi - g.lo) * sp[2])
        .collect();
    let mut out = vec![Seg {
        lo: s.k_lo as f64 - 0.5,
        hi: cut,
        lo_is_disc: false,
        hi_is_disc: true,
        sacrum: true,
        lo_max_shift_mm: None,
    }];
    for g in segs.iter() {
        if g.hi <= cut + 1e-6 {
            continue; // inside the sacrum
        }
        let mut g = g.clone();
        if g.lo < cut {
            g.lo = cut;
            g.lo_is_disc = true;
        }
        if (g.hi - g.lo) * sp[2] >= 8.0 {
            out.push(g);
        }
    }
    if let (Some(hm), true) = (median(heights), out.len() > 2) {
        let h1 = (out[1].hi - out[1].lo) * sp[2];
        let merged = (out[2].hi - out[1].lo) * sp[2];
        if out[1].hi_is_disc && h1 < 0.6 * hm && merged <= 1.4 * hm {
            out[2].lo = out[1].lo;
            out[2].lo_is_disc = true;
            out.remove(1);
        }
    }
    *segs = out;
}

/// Trilinear CT value at a point in internal mm (index × spacing); −1024 outside.
pub(super) fn sample_hu(cti: &Volume<i16>, q: [f64; 3], sp: [f64; 3]) -> f64 {
    let d = cti.dims();
    let f: [f64; 3] = std::array::from_fn(|c| q[c] / sp[c]);
    if (0..3).any(|c| f[c] < 0.0 || f[c] > (d[c] - 1) as f64) {
        return -1024.0;
    }
    let i0: [usize; 3] =
        std::array::from_fn(|c| (f[c].floor() as usize).min(d[c].saturating_sub(2)));
    let w: [f64; 3] = std::array::from_fn(|c| (f[c] - i0[c] as f64).clamp(0.0, 1.0));
    let mut v = 0.0;
    for corner in 0..8 {
        let o: [usize; 3] = std::array::from_fn(|c| (corner >> c) & 1);
        let idx: [usize; 3] = std::array::from_fn(|c| (i0[c] + o[c]).min(d[c] - 1));
        let wt: f64 = (0..3)
            .map(|c| if o[c] == 1 { w[c] } else { 1.0 - w[c] })
            .product();
        v += wt * cti.get(idx[0], idx[1], idx[2]) as f64;
    }
    v
}

/// The L5–S1 disc near the top of the sacral alae (slice `k_top`), from the CT values: over planes through points
/// on the body's AP line (in front of or behind the traced centre), tilted anteriorly by up to 60° (sacral slope)
/// and ±10° coronally, the one whose disc patch is least bone-like while parallel patches 3–12 mm away on both
/// sides reach endplate density. An osteoporotic body is uniformly faint and scores low; a real disc has endplates
/// on both sides. Returns the plane and the slice position where it crosses the centreline.
pub(super) fn lumbosacral_disc(
    cti: &Volume<i16>,
    s: &Spine,
    k_top: usize,
    spacing_mm: Option<f64>,
    sp: [f64; 3],
) -> Option<(DiscPlane, f64)> {
    // No wider than a disc, nor than 0.4 of the disc spacing (a compressed column of older adults with narrowed
    // discs brings the faint mid-plane of L5 into the search window).
    let max_gap_mm = spacing_mm.map_or(MAX_DISC_GAP_MM, |h| MAX_DISC_GAP_MM.min(0.4 * h));
    let r = disc_patch_radius_mm(s);
    let k0 = (k_top as f64 - 25.0 / sp[2]).max(s.k_lo as f64).round() as usize;
    let k1 = (k_top as f64 + 15.0 / sp[2]).min(s.k_hi as f64).round() as usize;
    if k1 <= k0 {
        return None;
    }
    let reach = (s.depth_mm / 2.0 - 0.5 * r).max(0.0);
    let steps_j = (reach / sp[1]).floor() as i32;
    let offs = disc_offsets();
    let mut cands = Vec::new();
    for k in k0..=k1 {
        for dj in -steps_j..=steps_j {
            for a in (-10i32..=60).step_by(5) {
                for b in [-10i32, 0, 10] {
                    cands.push((k, dj, a, b));
                }
            }
        }
    }
    let scored: Vec<(f64, DiscPlane)> = cands
        .par_iter()
        .map(|&(k, dj, a, b)| {
            let (ta, tb) = ((a as f64).to_radians().tan(), (b as f64).to_radians().tan());
            let n = [tb, -ta, 1.0];
            let l = (n[0] * n[0] + n[1] * n[1] + 1.0).sqrt();
            let n = n.map(|x| x / l);
            let c = s.centre[k];
            let o = [c[0] * sp[0], (c[1] + dj as f64) * sp[1], k as f64 * sp[2]];
            let f = patch_profile(cti, o, n, r, &offs, sp);
            // The alae top out at about the S1 endplate: a disc well above them is more likely L4–L5 (a vacuum
            // L4–L5 disc reads as clearly as L5–S1).
            let above_alae = ((k as f64 - k_top as f64) * sp[2] - 5.0).max(0.0);
            let score = DiscEvidence::read(&f, &offs).score(max_gap_mm)
                - 0.01 * above_alae
                - 0.001 * (a.abs() + b.abs()) as f64;
            (
                score,
                DiscPlane {
                    o,
                    n,
                    half_gap_mm: 0.0,
                },
            )
        })
        .collect();
    if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
        let mut best_k: std::collections::BTreeMap<i64, f64> = Default::default();
        for (sc, pl) in &scored {
            let k = (pl.o[2] / sp[2]).round() as i64;
            let e = best_k.entry(k).or_insert(f64::NEG_INFINITY);
            *e = e.max(*sc);
        }
        eprintln!("lumbosacral CT-disc best score per k: {best_k:.2?}");
    }
    let (score, pl) = scored.into_iter().max_by(|x, y| x.0.total_cmp(&y.0))?;
    if score < 0.25 {
        return None;
    }
    let pl = recentre_on_gap(cti, pl, r, sp);
    Some((pl, centreline_crossing(s, &pl)?))
}

/// Removes the ilia from the sacrum (segment 1): the growth reaches them across the sacroiliac joints, which
/// the marrow filling bridges at coarse voxels. Per side, the joint is the lateral offset 25–60 mm from the
/// midline where the sacrum label holds the least cortical bone (summed over its slices), provided more bone lies
/// beyond it; sacrum voxels further out are cleared.
pub(super) fn trim_sacrum_at_si_joints(
    lab: &mut Volume<u8>,
    bone: &Volume<u8>,
    s: &Spine,
    sp: [f64; 3],
) {
    let [ni, nj, _] = lab.dims();
    let nb = (80.0 / sp[0]).ceil() as usize + 1;
    // Bone count per lateral offset bin (voxel units), per side (0: −i, 1: +i).
    let mut prof = [vec![0f64; nb], vec![0f64; nb]];
    let off = |i: usize, k: usize| -> (usize, usize) {
        let dx = i as f64 - s.centre[k][0];
        (usize::from(dx > 0.0), dx.abs().round() as usize)
    };
    for k in s.k_lo..=s.k_hi {
        for j in 0..nj {
            for i in 0..ni {
                let idx = lab.index(i, j, k);
                if lab.data()[idx] == 1 && bone.data()[idx] != 0 {
                    let (side, b) = off(i, k);
                    if b < nb {
                        prof[side][b] += 1.0;
                    }
                }
            }
        }
    }
    let lo = (25.0 / sp[0]).round() as usize;
    let hi = ((60.0 / sp[0]).round() as usize).min(nb - 1);
    let mut limit = [usize::MAX; 2];
    for side in 0..2 {
        let p = smooth1d(&prof[side], 0.7);
        // Only up to the last offset that holds sacrum bone (the growth stops at the column's lateral limit).
        let Some(last) = prof[side].iter().rposition(|&v| v > 0.0) else {
            continue;
        };
        let Some((bmin, vmin)) = (lo..=hi.min(last.saturating_sub(1)))
            .map(|b| (b, p[b]))
            .min_by(|x, y| x.1.total_cmp(&y.1))
        else {
            continue;
        };
        let beyond = p[bmin + 1..].iter().copied().fold(0.0, f64::max);
        if beyond >= 1.3 * vmin.max(1.0) {
            limit[side] = bmin;
        }
    }
    if limit == [usize::MAX; 2] {
        return;
    }
    for k in s.k_lo..=s.k_hi {
        for j in 0..nj {
            for i in 0..ni {
                let idx = lab.index(i, j, k);
                if lab.data()[idx] == 1 {
                    let (side, b) = off(i, k);
                    if b > limit[side] {
                        lab.data_mut()[idx] = 0;
                    }
                }
            }
        }
    }
}

/// The S1 body is analysed in rows parallel to its superior endplate, from this far above the top plane (mm)…
const S1_SLAB_TOP_MM: f64 = 5.0;
/// …down to this far below it: well beyond an adult S1 body's height (about that of L5, 25–35 mm).
const S1_SLAB_DEPTH_MM: f64 = 45.0;

/// The sacrum's superior plane when the L5–S1 disc was not found in the CT values: perpendicular to the centreline
/// at the top of the sacrum segment.
fn sacrum_top_plane(s: &Spine, sac: &Seg, sp: [f64; 3]) -> DiscPlane {
    let kc = (sac.hi.round() as usize).clamp(s.k_lo, s.k_hi);
    DiscPlane {
        o: [s.p_mm[kc][0], s.p_mm[kc][1], sac.hi * sp[2]],
        n: s.t[kc],
        half_gap_mm: 0.0,
    }
}

/// The sacrum's entry in the body map: the S1 body only, as the phantom and TotalSegmentator define it, and as
/// the measurements need it (the S1 superior endplate, the sacral slope and the L5–S1 slip are read from it).
///
/// `body_labels` cuts every vertebra at one straight posterior-wall line fitted over all its slices; over the
/// whole sacrum, which curves into kyphosis, that line cuts off S1's posterior-superior corner (the point the
/// L5–S1 slip is measured at), and the body keeps S2–S5, which pulls its centroid and frame down the sacrum.
/// Here the S1 body is built in the frame of its superior endplate (the L5–S1 disc plane `top`, else the plane
/// perpendicular to the centreline at the sacrum's top): the sacrum-label voxels in front of the S1 posterior
/// wall (the back of the first run of bone met from the front along the endplate's AP direction next to the
/// midline, fitted as a straight line over S1's upper 25 mm), within the lateral band of the bodies, from the top
/// plane down to the S1–S2 junction (the band of its endplates, see [`s1_junction_mm`], else the typical
/// vertebral body height).
pub(super) fn s1_body(
    bodies: &mut Volume<u8>,
    lab: &Volume<u8>,
    cti: &Volume<i16>,
    s: &Spine,
    segs: &[Seg],
    top: Option<DiscPlane>,
    sp: [f64; 3],
) {
    let Some(sac) = segs.first().filter(|g| g.sacrum) else {
        return;
    };
    let top = top.unwrap_or_else(|| sacrum_top_plane(s, sac, sp));
    let n = top.n;
    // Posterior direction within the endplate plane, and lateral direction.
    let Some(e) = unit3(sub3([0.0, 1.0, 0.0], scale3(n, n[1]))) else {
        return;
    };
    let l = cross3(n, e);
    let [ni, nj, nk] = lab.dims();
    // Bins (rows along the normal, columns along AP) one voxel wide.
    let bw = sp[0].max(sp[1]).max(sp[2]);
    let nw = ((S1_SLAB_TOP_MM + S1_SLAB_DEPTH_MM) / bw).ceil() as usize + 1;
    let na = (200.0 / bw).ceil() as usize;
    let a0 = (na / 2) as f64;
    let row_w = |r: usize| S1_SLAB_TOP_MM - (r as f64 + 0.5) * bw;
    let mid_mm = 6.0;
    let hw = s.half_width_mm + 4.0;
    // Per row: occupancy of the AP bins next to the midline.
    let mut occ = vec![vec![false; na]; nw];
    let coords = |i: usize, j: usize, k: usize| -> (f64, f64, f64) {
        let d = [
            i as f64 * sp[0] - top.o[0],
            j as f64 * sp[1] - top.o[1],
            k as f64 * sp[2] - top.o[2],
        ];
        (dot3(d, n), dot3(d, e), dot3(d, l))
    };
    // Slices the slab can reach (the plane is tilted by at most 60°: 2 × the slab's thickness in z).
    let kz = top.o[2] / sp[2];
    let reach = 2.0 * (S1_SLAB_TOP_MM + S1_SLAB_DEPTH_MM) / sp[2];
    let k0 = (kz - reach).floor().max(0.0) as usize;
    let k1 = ((kz + reach).ceil() as usize).min(nk - 1);
    let mut members: Vec<(usize, usize, f64, f64)> = Vec::new(); // (index, row, a, b)
    for k in k0..=k1 {
        for j in 0..nj {
            for i in 0..ni {
                let idx = lab.index(i, j, k);
                if lab.data()[idx] != 1 {
                    continue;
                }
                let (w, a, b) = coords(i, j, k);
                let r = ((S1_SLAB_TOP_MM - w) / bw).floor();
                if r < 0.0 || r as usize >= nw {
                    continue;
                }
                let r = r as usize;
                if b.abs() <= hw {
                    members.push((idx, r, a, b));
                }
                let c = (a / bw + a0).floor();
                if b.abs() <= mid_mm && c >= 0.0 && (c as usize) < na {
                    occ[r][c as usize] = true;
                }
            }
        }
    }
    // The body's AP extent per row: the first run met from the front, bridging gaps up to 2 mm (a faint
    // trabecular voxel); rejected when implausibly short or deep.
    let max_gap = (2.0 / bw).ceil() as usize;
    let max_depth = 1.6 * s.depth_mm.max(20.0);
    let runs: Vec<Option<(f64, f64)>> = occ
        .iter()
        .map(|o| {
            let first = o.iter().position(|&x| x)?;
            let mut last = first;
            let mut gap = 0;
            for (c, &x) in o.iter().enumerate().skip(first + 1) {
                if x {
                    last = c;
                    gap = 0;
                } else {
                    gap += 1;
                    if gap > max_gap {
                        break;
                    }
                }
            }
            let (front, back) = ((first as f64 - a0) * bw, (last as f64 + 1.0 - a0) * bw);
            (back - front >= 10.0 && back - front <= max_depth).then_some((front, back))
        })
        .collect();
    // Straight posterior wall over S1's upper 25 mm (least squares, one rejection of rows > 2 mm off).
    let top_row = (S1_SLAB_TOP_MM / bw).floor() as usize;
    let pts: Vec<(f64, f64)> = (top_row..nw)
        .filter(|&r| row_w(r) >= -25.0)
        .filter_map(|r| runs[r].map(|(_, b)| (row_w(r), b)))
        .collect();
    let Some(mut wall) = fit_line(&pts) else {
        return;
    };
    let kept: Vec<(f64, f64)> = pts
        .iter()
        .copied()
        .filter(|&(w, b)| (b - (wall.0 + wall.1 * w)).abs() <= 2.0)
        .collect();
    if kept.len() >= 3 && kept.len() < pts.len() {
        wall = fit_line(&kept).unwrap_or(wall);
    }
    let wall_at = |r: usize| wall.0 + wall.1 * row_w(r);
    // The S1–S2 junction: mean CT value of the body's core per row.
    let mut sum = vec![0.0f64; nw];
    let mut cnt = vec![0usize; nw];
    for &(idx, r, a, b) in &members {
        if let (true, Some((f, _))) = (b.abs() <= 0.6 * s.half_width_mm, runs[r]) {
            if a >= f + 2.0 && a <= wall_at(r) - 2.0 {
                sum[r] += cti.data()[idx] as f64;
                cnt[r] += 1;
            }
        }
    }
    let prof: Vec<Option<f64>> = (0..nw)
        .map(|r| (cnt[r] >= 3).then(|| sum[r] / cnt[r] as f64))
        .collect();
    let heights: Vec<f64> = segs
        .iter()
        .filter(|g| g.lo_is_disc && g.hi_is_disc && !g.sacrum)
        .map(|g| (g.hi - g.lo) * sp[2])
        .collect();
    // Without a visible junction: the typical disc-to-disc spacing less the disc (a lumbar disc is about a third
    // as high as its body, so the body is about three quarters of the spacing).
    let default_h = median(heights).map_or(28.0, |h| 0.75 * h).clamp(20.0, 35.0);
    let depth_mm = s1_junction_mm(&prof, |r| -row_w(r)).unwrap_or(default_h);
    let out = bodies.data_mut();
    for v in out.iter_mut() {
        if *v == 1 {
            *v = 0;
        }
    }
    for &(idx, r, a, _) in &members {
        if -row_w(r) > depth_mm {
            continue;
        }
        if a <= wall_at(r) + 0.5 * bw && runs[r].is_none_or(|(f, _)| a >= f - 2.0) {
            out[idx] = 1;
        }
    }
}

/// Depth (mm below the superior endplate) of the S1–S2 junction from the mean CT value of the body's core per row
/// (`depth(r)`: the row's depth, rows `bw` mm apart). The S1 and S2 bodies meet at two cortical endplates,
/// fused or with a remnant disc between them; both are far denser than the trabecular bone of the bodies, and at
/// CT voxel sizes they show as one bright band across the body. The junction is the centre of the first band
/// 15–45 mm down (beyond S1's own superior endplate cortex) whose rows exceed the median row of the body by a
/// third (a cortical band is several times the trabecular value above the threshold; a third keeps trabecular
/// variation out); `None` without such a band (not resolved, or out of view).
fn s1_junction_mm(prof: &[Option<f64>], depth: impl Fn(usize) -> f64) -> Option<f64> {
    let vals: Vec<f64> = prof.iter().flatten().copied().collect();
    if vals.len() < 6 {
        return None;
    }
    let core = median(vals)?;
    let bright = core + core.abs().max(100.0) / 3.0;
    let mut band: Option<(f64, f64)> = None;
    for (r, v) in prof.iter().enumerate() {
        let d = depth(r);
        if d < 15.0 {
            continue;
        }
        match (*v, band) {
            (Some(v), None) if v >= bright && d <= 45.0 => band = Some((d, d)),
            (Some(v), Some((a, _))) if v >= bright => band = Some((a, d)),
            (_, Some(_)) => break,
            _ => {}
        }
    }
    band.map(|(a, b)| 0.5 * (a + b))
}

/// Least-squares line `y = a + b x` through the points (at least 3, not all at one x).
fn fit_line(pts: &[(f64, f64)]) -> Option<(f64, f64)> {
    if pts.len() < 3 {
        return None;
    }
    let m = pts.len() as f64;
    let (mx, my) = (
        pts.iter().map(|p| p.0).sum::<f64>() / m,
        pts.iter().map(|p| p.1).sum::<f64>() / m,
    );
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx <= 1e-9 {
        return None;
    }
    let b = sxy / sxx;
    Some((my - b * mx, b))
}

fn dot3(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn sub3(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn scale3(a: [f64; 3], f: f64) -> [f64; 3] {
    [a[0] * f, a[1] * f, a[2] * f]
}
fn cross3(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}
fn unit3(a: [f64; 3]) -> Option<[f64; 3]> {
    let l = dot3(a, a).sqrt();
    (l > 1e-9).then(|| scale3(a, 1.0 / l))
}

/// Widest joint space (mm) between a segment and iliac bone that still counts as an articulation, to which one
/// voxel is added on each side (the label's and the ilium's partial-volumed surface voxels, which the bone
/// threshold and the label's faint-surface peeling may drop). From anatomy (not a clinical-reference value): the
/// adult sacroiliac joint space is a few millimetres wide on CT; the L5 transverse process normally stays a
/// centimetre or more from the ilium (the iliolumbar ligament lies between them).
const SI_GAP_MM: f64 = 5.0;

/// Bone this close to the centreline (mm) is never iliac: the canal, the laminae and the spinous processes lie
/// within it, the sacroiliac joints well outside it (the sacral body is about 50 mm wide).
const SI_MIN_LATERAL_MM: f64 = 20.0;

/// How the caudal segments meet the ilia: the numbering cue "the sacrum is the segment that articulates with both
/// ilia".
#[derive(Debug, Clone, Default)]
pub(crate) struct Sacroiliac {
    /// Per segment (caudal first, as the segments): [left, right] area (mm², in the sagittal projection) over
    /// which its label lies within [`SI_GAP_MM`] (plus a voxel each side) of unlabelled iliac bone laterally; `None` for segments not
    /// assessed (only the sacrum and the two vertebrae above it are).
    pub(crate) contact_mm2: Vec<Option<[f64; 2]>>,
    /// Per side: how far below the sacrum's top plane (mm, along its normal) its contact with the ilium begins
    /// (the depth above which 5 % of the contact lies, so a stray voxel does not set it).
    pub(crate) sacrum_top_below_mm: [Option<f64>; 2],
    /// Length of the sacrum in view below its top plane (mm): the joints lie 0–70 mm below the top.
    pub(crate) sacrum_in_view_mm: f64,
}

/// Measures [`Sacroiliac`] on the final internal labels (segment index + 1, sacrum = 1) and the bone mask:
/// a label voxel at least [`SI_MIN_LATERAL_MM`] from the centreline touches the ilium when bone that no segment
/// holds lies within [`SI_GAP_MM`] (plus a voxel on each side) further out along the same row, with nothing of
/// another segment between.
pub(crate) fn sacroiliac_contact(
    lab: &Volume<u8>,
    bone: &Volume<u8>,
    s: &Spine,
    segs: &[Seg],
    top: Option<DiscPlane>,
    sp: [f64; 3],
) -> Option<Sacroiliac> {
    let sac = segs.first().filter(|g| g.sacrum)?;
    let top = top.unwrap_or_else(|| sacrum_top_plane(s, sac, sp));
    let assessed = segs.len().min(3);
    let [ni, nj, nk] = lab.dims();
    let gap = (SI_GAP_MM / sp[0]).ceil() as usize + 2;
    let area = sp[1] * sp[2];
    let mut contact = vec![[0.0f64; 2]; assessed];
    // Sacrum contact depths below the top plane, per side.
    let mut depths: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut deepest = 0.0f64;
    let k_hi = (s.k_hi + 1).min(nk);
    for k in s.k_lo..k_hi {
        let x = s.centre[k][0];
        for j in 0..nj {
            for i in 0..ni {
                let v = lab.get(i, j, k) as usize;
                if v == 0 || v > assessed {
                    continue;
                }
                let p = [i as f64 * sp[0], j as f64 * sp[1], k as f64 * sp[2]];
                if v == 1 {
                    deepest = deepest.max(-top.dist(p));
                }
                let dx = (i as f64 - x) * sp[0];
                if dx.abs() < SI_MIN_LATERAL_MM {
                    continue;
                }
                // [left, right] in the patient's terms: +i is the patient's left.
                let lr = usize::from(dx < 0.0);
                let step: isize = if lr == 0 { 1 } else { -1 };
                let mut touches = false;
                for d in 1..=gap as isize {
                    let q = i as isize + step * d;
                    if q < 0 || q >= ni as isize {
                        break;
                    }
                    let w = lab.get(q as usize, j, k) as usize;
                    if w == v {
                        break; // not the segment's lateral surface on this row
                    }
                    if w != 0 {
                        break; // another segment in between
                    }
                    if bone.get(q as usize, j, k) != 0 {
                        touches = true;
                        break;
                    }
                }
                if touches {
                    contact[v - 1][lr] += area;
                    if v == 1 {
                        depths[lr].push(-top.dist(p));
                    }
                }
            }
        }
    }
    let mut sacrum_top_below_mm = [None, None];
    for (d, out) in depths.iter_mut().zip(sacrum_top_below_mm.iter_mut()) {
        if d.is_empty() {
            continue;
        }
        d.sort_by(f64::total_cmp);
        *out = Some(d[d.len() / 20]);
    }
    let mut contact_mm2 = vec![None; segs.len()];
    for (m, c) in contact.into_iter().enumerate() {
        contact_mm2[m] = Some(c);
    }
    Some(Sacroiliac {
        contact_mm2,
        sacrum_top_below_mm,
        sacrum_in_view_mm: deepest,
    })
}
