//! Growing each vertebra through connected bone, filling marrow and peeling partial-volume voxels.

use super::*;

/// Segment index (1-based, caudal first) for every internal voxel of the column, by competitive growth from the
/// body cores through filled bone (geodesic, 26-neighbourhood, mm weights). In the body zone each disc's surface
/// is a barrier, widened to the disc's measured core (`DiscPlane::half_gap_mm`) for voxels fainter than
/// `bone_hu`: a dense voxel on a vertebra's side of the plane is its endplate even inside that core, which a
/// wedge-shaped disc (L5–S1: thick in front, thin behind) needs, because the core is measured as an average over
/// the disc and is too wide at its thin posterior edge.
pub(super) fn grow_vertebrae(
    filled: &Volume<u8>,
    cti: &Volume<i16>,
    bone_hu: f64,
    s: &Spine,
    segs: &[Seg],
    bounds: &[(Option<DiscPlane>, Option<DiscPlane>)],
    sp: [f64; 3],
) -> Volume<u8> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let [ni, nj, nk] = filled.dims();
    let mut lab = vec![0u8; filled.len()];
    let mut dist = vec![f32::INFINITY; filled.len()];
    // Column region: ±55 mm laterally, from 15 mm in front of the body to 95 mm behind its centre.
    let in_column = |i: usize, j: usize, k: usize| -> bool {
        if k < s.k_lo || k > s.k_hi {
            return false;
        }
        let [x, y] = s.centre[k];
        let dx = (i as f64 - x) * sp[0];
        let dy = (j as f64 - y) * sp[1];
        dx.abs() <= 55.0 && dy >= -(s.depth_mm / 2.0 + 15.0) && dy <= 95.0
    };
    // Between segment n's disc surfaces, with a margin (mm) on each side.
    let between = |p: [f64; 3], n: usize, margin: f64| -> bool {
        let (lo, hi) = &bounds[n];
        lo.is_none_or(|pl| pl.dist(p) > margin) && hi.is_none_or(|pl| pl.dist(p) < -margin)
    };
    // Barrier test: only the surfaces shared with a neighbouring segment (an end of the column is not a barrier:
    // the bone beyond it belongs to no other segment).
    let between_neighbours = |p: [f64; 3], n: usize, hu: f64| -> bool {
        let (lo, hi) = &bounds[n];
        let core = |pl: DiscPlane| if hu >= bone_hu { 0.0 } else { pl.half_gap_mm };
        (n == 0 || lo.is_none_or(|pl| pl.dist(p) > core(pl)))
            && (n + 1 == segs.len() || hi.is_none_or(|pl| pl.dist(p) < -core(pl)))
    };
    // The body zone, where the disc surfaces are barriers: near the centre line, in front of the posterior wall.
    let zone_r = 1.2 * s.half_width_mm.max(s.depth_mm / 2.0);
    let in_body_zone = |i: usize, j: usize, k: usize| -> bool {
        let [x, y] = s.centre[k];
        let (dx, dy) = ((i as f64 - x) * sp[0], (j as f64 - y) * sp[1]);
        dx * dx + dy * dy <= zone_r * zone_r && (j as f64) <= s.back[k] + 1.0
    };
    let seed_r = 0.8 * (s.depth_mm / 2.0).min(s.half_width_mm);
    let mut heap = BinaryHeap::new();
    for k in s.k_lo..=s.k_hi {
        for j in 0..nj {
            for i in 0..ni {
                let idx = i + ni * (j + nj * k);
                if filled.data()[idx] == 0 {
                    continue;
                }
                let p = [i as f64 * sp[0], j as f64 * sp[1], k as f64 * sp[2]];
                let c = s.p_mm[k];
                let (dx, dy) = (p[0] - c[0], p[1] - c[1]);
                if dx * dx + dy * dy > seed_r * seed_r {
                    continue;
                }
                for (n, g) in segs.iter().enumerate() {
                    let in_range = k as f64 >= g.lo && k as f64 <= g.hi;
                    if between(p, n, 1.5) && (in_range || g.lo_is_disc && g.hi_is_disc) {
                        lab[idx] = (n + 1) as u8;
                        dist[idx] = 0.0;
                        heap.push((Reverse(0u32), idx as u32));
                        break;
                    }
                }
            }
        }
    }
    let mut offs = Vec::new();
    for dk in -1i32..=1 {
        for dj in -1i32..=1 {
            for di in -1i32..=1 {
                if (di, dj, dk) != (0, 0, 0) {
                    let w = ((di as f64 * sp[0]).powi(2)
                        + (dj as f64 * sp[1]).powi(2)
                        + (dk as f64 * sp[2]).powi(2))
                    .sqrt() as f32;
                    offs.push((di, dj, dk, w));
                }
            }
        }
    }
    const MAX_PATH_MM: f32 = 120.0;
    while let Some((Reverse(dq), idx)) = heap.pop() {
        let idx = idx as usize;
        let d = f32::from_bits(dq);
        if d > dist[idx] {
            continue;
        }
        let (i, j, k) = (idx % ni, (idx / ni) % nj, idx / (ni * nj));
        for &(di, dj, dk, w) in &offs {
            let (a, b, c) = (i as i32 + di, j as i32 + dj, k as i32 + dk);
            if a < 0 || b < 0 || c < 0 || a >= ni as i32 || b >= nj as i32 || c >= nk as i32 {
                continue;
            }
            let (a, b, c) = (a as usize, b as usize, c as usize);
            let q = a + ni * (b + nj * c);
            if filled.data()[q] == 0 || !in_column(a, b, c) {
                continue;
            }
            let nd = d + w;
            if nd < dist[q] && nd <= MAX_PATH_MM {
                let l = lab[idx] as usize - 1;
                if in_body_zone(a, b, c)
                    && !between_neighbours(
                        [a as f64 * sp[0], b as f64 * sp[1], c as f64 * sp[2]],
                        l,
                        f64::from(cti.data()[q]),
                    )
                {
                    continue;
                }
                dist[q] = nd;
                lab[q] = lab[idx];
                heap.push((Reverse(nd.to_bits()), q as u32));
            }
        }
    }
    Volume::from_vec(filled.dims(), *filled.geometry(), lab).expect("dims")
}

/// How far (mm) a horizontal boundary between two vertebrae behind the body is moved down, into the lower one.
/// Facet joints are steep (thoracic about 60° to the horizontal, lumbar near vertical, sagittal to oblique), and
/// the upper vertebra's inferior articular and spinous processes hang down behind the lower one's superior
/// articular process; the lower vertebra's growth, which reaches the joint first through its own pedicle, cuts
/// the upper one's process there with a horizontal front. One 3 mm voxel: on the TotalSegmentator example every
/// lumbar level gained (vertebra Dice L1–L5 +0.009, +0.007, +0.004, +0.008, +0.004), and on the phantom (exact
/// truth) T9–L3 gained 0.002–0.013 at 1 and 3 mm with L4/L5 within ±0.006; three voxels took more of the
/// sacrum's and L5's own process tips (sacrum −0.010).
pub(super) const FACET_LIFT_MM: f64 = 3.0;

/// Moves the boundary between consecutive vertebrae behind the posterior body wall down by `FACET_LIFT_MM`
/// where it is horizontal: a voxel of vertebra n directly below one of vertebra n + 1 (the next one up) is given
/// to n + 1, one slice at a time.
pub(super) fn lift_posterior_boundaries(lab: &mut Volume<u8>, s: &Spine, sp: [f64; 3]) {
    let [ni, nj, _] = lab.dims();
    let plane = ni * nj;
    let steps = (FACET_LIFT_MM / sp[2]).round().max(1.0) as usize;
    for _ in 0..steps {
        let src = lab.data();
        let moved: Vec<(usize, u8)> = (s.k_lo..s.k_hi)
            .into_par_iter()
            .flat_map_iter(|k| {
                let back = s.back[k];
                (0..plane).filter_map(move |p| {
                    let (q, up) = (p + plane * k, p + plane * (k + 1));
                    let (n, m) = (src[q], src[up]);
                    (n != 0 && m == n + 1 && (p / ni) as f64 > back + 1.0).then_some((q, m))
                })
            })
            .collect();
        if moved.is_empty() {
            break;
        }
        for (q, m) in moved {
            lab.data_mut()[q] = m;
        }
    }
}

/// Surface voxels of a vertebra fainter than this are mostly soft tissue (partial volume): halfway between the
/// 130 HU accepted for the column analysis and the 180 HU bone threshold (140–160 HU gave the same Dice on the
/// TotalSegmentator example and the phantom; 190 HU starts eroding real cortex at 3 mm).
pub(super) const SURFACE_MIN_HU: f64 = 150.0;

/// Peels the one-voxel surface layer of each vertebra that is fainter than `min_hu`: the column analysis
/// accepts partial-volumed cortex down to 130 HU, which at 3 mm puts a shell of half-bone voxels around every
/// vertebra. Only voxels with an unlabelled 6-neighbour are removed, so marrow inside stays.
pub(super) fn peel_faint_surface(lab: &mut Volume<u8>, cti: &Volume<i16>, min_hu: f64) {
    let surface = outer_surface(lab);
    lab.data_mut()
        .par_iter_mut()
        .zip(surface.par_iter())
        .zip(cti.data().par_iter())
        .for_each(|((v, &open), &hu)| {
            if open && f64::from(hu) < min_hu {
                *v = 0;
            }
        });
}

/// Outside the body, an enclosed hole of a vertebra is filled when at least this dense (HU): pedicle and
/// process marrow at 3 mm is 80–150 HU, the canal's fluid and fat (excluded anyway) and the fat between
/// processes are lower.
pub(super) const ARCH_HOLE_MIN_HU: f64 = 80.0;

/// How far (mm) from another vertebra a voxel below the bone threshold counts as lying in the gap between the two:
/// 1.5 voxels at 3 mm (a thin disc or a facet joint blurred into the bone mask).
pub(super) const INTERFACE_REACH_MM: f64 = 4.5;

/// Removes the faint voxels (below `min_hu`, the bone threshold) where two vertebrae meet: at coarse voxels the bone mask bridges a
/// thin disc or a facet joint, and the growth then carries each vertebra into the gap up to the other. A voxel is
/// removed when, within `reach` voxels along one of the six axis directions, the first labelled voxel belongs to
/// another vertebra.
pub(super) fn peel_interfaces(lab: &mut Volume<u8>, cti: &Volume<i16>, min_hu: f64, reach: usize) {
    let [ni, nj, nk] = lab.dims();
    let src = lab.data().to_vec();
    let strides = [1isize, ni as isize, (ni * nj) as isize];
    let dims = [ni, nj, nk];
    let drop: Vec<usize> = (0..src.len())
        .into_par_iter()
        .filter(|&q| {
            let l = src[q];
            if l == 0 || f64::from(cti.data()[q]) >= min_hu {
                return false;
            }
            let pos = [q % ni, (q / ni) % nj, q / (ni * nj)];
            (0..3).any(|a| {
                [1isize, -1].iter().any(|&dir| {
                    (1..=reach as isize)
                        .take_while(|&d| {
                            let p = pos[a] as isize + dir * d;
                            p >= 0 && (p as usize) < dims[a]
                        })
                        .map(|d| src[(q as isize + dir * d * strides[a]) as usize])
                        .find(|&x| x != 0)
                        .is_some_and(|x| x != l)
                })
            })
        })
        .collect();
    for q in drop {
        lab.data_mut()[q] = 0;
    }
}

/// Fills the holes of each vertebra in its body (in front of the posterior wall): faint osteoporotic marrow and the
/// basivertebral vein's channel stay below the bone threshold and leave unlabelled slabs inside the body. A hole is
/// unlabelled background enclosed by the vertebra in an axial, coronal or sagittal section (two passes, so a slab
/// open in one orientation is closed by another); the canal, behind the wall, is never filled. With `arch`
/// (CT values, canal mask), enclosed holes outside the body are filled too where marrow-dense
/// (≥ `ARCH_HOLE_MIN_HU`) and not canal; with `body_any_hu` false only those dense holes are filled, in one pass.
pub(super) fn fill_body_holes(
    lab: &mut Volume<u8>,
    s: &Spine,
    nseg: usize,
    sp: [f64; 3],
    arch: Option<(&Volume<i16>, &Volume<u8>)>,
    body_any_hu: bool,
) {
    let dims = lab.dims();
    let [ni, nj, _] = dims;
    let hw = s.half_width_mm + 4.0;
    // (in the body zone, fillable)
    let in_zone = |i: usize, j: usize, k: usize| -> (bool, bool) {
        let body = k >= s.k_lo
            && k <= s.k_hi
            && (j as f64) <= s.back[k] + 1.0
            && ((i as f64 - s.centre[k][0]) * sp[0]).abs() <= hw;
        let dense = arch.is_some_and(|(cti, canal)| {
            canal.get(i, j, k) == 0 && f64::from(cti.get(i, j, k)) >= ARCH_HOLE_MIN_HU
        });
        (body, (body && body_any_hu) || dense)
    };
    let reach = (ENDPLATE_ENCLOSURE_MM / sp[2]).ceil() as usize;
    for n in 1..=nseg as u8 {
        // Bounding box of the label, one voxel wider so that its border is outside.
        let (mut lo, mut hi) = ([usize::MAX; 3], [0usize; 3]);
        for (idx, &v) in lab.data().iter().enumerate() {
            if v == n {
                let p = [idx % ni, (idx / ni) % nj, idx / (ni * nj)];
                for a in 0..3 {
                    lo[a] = lo[a].min(p[a]);
                    hi[a] = hi[a].max(p[a]);
                }
            }
        }
        if lo[0] == usize::MAX {
            continue;
        }
        for a in 0..3 {
            lo[a] = lo[a].saturating_sub(1);
            hi[a] = (hi[a] + 1).min(dims[a] - 1);
        }
        for _pass in 0..if body_any_hu { 2 } else { 1 } {
            for axis in [2usize, 1, 0] {
                // The two in-plane axes.
                let (u, v) = match axis {
                    0 => (1, 2),
                    1 => (0, 2),
                    _ => (0, 1),
                };
                let (nu, nv) = (hi[u] - lo[u] + 1, hi[v] - lo[v] + 1);
                for w in lo[axis]..=hi[axis] {
                    let at = |a: usize, b: usize| -> usize {
                        let mut p = [0usize; 3];
                        p[axis] = w;
                        p[u] = lo[u] + a;
                        p[v] = lo[v] + b;
                        p[0] + ni * (p[1] + nj * p[2])
                    };
                    let mut reached = vec![false; nu * nv];
                    let mut stack = Vec::new();
                    for b in 0..nv {
                        for a in 0..nu {
                            let border = a == 0 || b == 0 || a + 1 == nu || b + 1 == nv;
                            if border && lab.data()[at(a, b)] != n {
                                reached[a + b * nu] = true;
                                stack.push((a, b));
                            }
                        }
                    }
                    while let Some((a, b)) = stack.pop() {
                        for (c, d) in [
                            (a.wrapping_sub(1), b),
                            (a + 1, b),
                            (a, b.wrapping_sub(1)),
                            (a, b + 1),
                        ] {
                            if c < nu && d < nv && !reached[c + d * nu] && lab.data()[at(c, d)] != n
                            {
                                reached[c + d * nu] = true;
                                stack.push((c, d));
                            }
                        }
                    }
                    for b in 0..nv {
                        for a in 0..nu {
                            let q = at(a, b);
                            if !reached[a + b * nu] && lab.data()[q] == 0 {
                                let (i, j, k) = (q % ni, (q / ni) % nj, q / (ni * nj));
                                let (body, fill) = in_zone(i, j, k);
                                // An axial hole in the body is marrow only when the body also closes it above
                                // and below: an endplate's central concavity (normal, or a biconcave
                                // fracture's cup) is ringed by the rim in the axial plane but open to the disc.
                                if fill
                                    && (axis != 2
                                        || !body
                                        || arch.is_none_or(|(cti, _)| {
                                            enclosed_vertically(lab, cti, (i, j, k), n, reach)
                                        }))
                                {
                                    lab.data_mut()[q] = n;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// How far (mm) above and below a voxel the body must close it for the voxel to count as enclosed marrow: more
/// than a lumbar body's height (adult lumbar bodies are 25–30 mm tall), so that the far endplate is reached from
/// anywhere inside the body; a neighbouring vertebra or nothing within reach means the voxel lies in an endplate's
/// concavity, open to the disc.
pub(super) const ENDPLATE_ENCLOSURE_MM: f64 = 40.0;

/// Whether vertebra `n` closes a voxel both above and below along the slice axis (within `reach` slices): going
/// each way, the first labelled voxel belongs to `n`, or a bone-dense voxel (≥ `ENDPLATE_MIN_HU`, an endplate
/// the bone mask lost, e.g. under an elderly body's faint marrow) comes before any other label. Marrow inside a
/// body is closed by both endplates; the disc in an endplate's central concavity (normal, or the cup of a
/// biconcave fracture) meets the next vertebra or nothing.
pub(super) fn enclosed_vertically(
    lab: &Volume<u8>,
    cti: &Volume<i16>,
    (i, j, k): (usize, usize, usize),
    n: u8,
    reach: usize,
) -> bool {
    let nk = lab.dims()[2];
    let closed = |z: usize| -> Option<bool> {
        let v = lab.get(i, j, z);
        if v != 0 {
            Some(v == n)
        } else if cti.get(i, j, z) >= ENDPLATE_MIN_HU {
            Some(true)
        } else {
            None
        }
    };
    let up = (k + 1..(k + 1 + reach).min(nk)).find_map(closed);
    let down = (k.saturating_sub(reach)..k).rev().find_map(closed);
    up == Some(true) && down == Some(true)
}

/// An unlabelled voxel at least this dense (HU) closes a body vertically: the bone threshold (§ bone mask, 180 HU),
/// above any disc or marrow that is not bone.
pub(super) const ENDPLATE_MIN_HU: i16 = 150;

/// Marrow (HU) that a large body section's convex hull may take: above fat and fluid (cortex is labelled already).
pub(super) const SECTION_FILL_MIN_HU: i16 = 60;

/// In smaller sections (near an endplate, where the hull may reach into a disc's margin) only denser voxels are
/// taken: above disc tissue at 3 mm (70–90 HU), below faint marrow.
pub(super) const SECTION_FILL_PARTIAL_MIN_HU: i16 = 90;

/// Sections at least this fraction of the body's largest are "large".
pub(super) const SECTION_FILL_FULL_FRACTION: f64 = 0.6;

/// Sections under this fraction of the body's largest (a corner of a tilted body) are left alone.
pub(super) const SECTION_FILL_MIN_FRACTION: f64 = 0.15;

/// Fills each vertebral body's axial, then sagittal, sections to their convex hull, in the body zone (in front
/// of the posterior wall, within the body's half-width): where the anterior cortex is thin (elderly,
/// osteoporotic bone, 3 mm partial volume) the bone mask leaves the ring open and the faint marrow behind it
/// unlabelled, which the enclosed-hole filling cannot reach. A body section is convex apart from its posterior
/// wall, which lies outside the zone, and (sagittally) its endplates' central concavities, which the vertical
/// enclosure test keeps open. The sagittal pass closes a faint corner that is missing from several consecutive
/// axial sections (the axial hull of a section cannot reach a wall that section lacks), spanning it between the
/// endplate above and the anterior wall below. Voxels must be marrow-dense (fat, fluid and, in smaller
/// sections, disc tissue stay out).
pub(super) fn fill_body_sections(
    lab: &mut Volume<u8>,
    cti: &Volume<i16>,
    s: &Spine,
    nseg: usize,
    sp: [f64; 3],
) {
    fill_sections_along(lab, cti, s, nseg, sp, 2);
}

/// The sagittal pass of `fill_body_sections`, run after the faint surface has been peeled: its hull then spans
/// only voxels that stay, so it adds no partial-volume shell, and the faint anterior wall it restores is not
/// peeled again.
pub(super) fn fill_body_sagittal_sections(
    lab: &mut Volume<u8>,
    cti: &Volume<i16>,
    s: &Spine,
    nseg: usize,
    sp: [f64; 3],
) {
    fill_sections_along(lab, cti, s, nseg, sp, 0);
}

/// One pass of `fill_body_sections` over the sections perpendicular to `axis` (2: axial, 0: sagittal).
fn fill_sections_along(
    lab: &mut Volume<u8>,
    cti: &Volume<i16>,
    s: &Spine,
    nseg: usize,
    sp: [f64; 3],
    axis: usize,
) {
    let [ni, nj, nk] = lab.dims();
    let hw = s.half_width_mm + 4.0;
    let reach = (ENDPLATE_ENCLOSURE_MM / sp[2]).ceil() as usize;
    let in_zone = |i: usize, j: usize, k: usize| -> bool {
        k >= s.k_lo
            && k <= s.k_hi
            && (j as f64) <= s.back[k] + 1.0
            && ((i as f64 - s.centre[k][0]) * sp[0]).abs() <= hw
    };
    // Section index and in-section point (u, v) of a voxel, and back.
    let split = |i: usize, j: usize, k: usize| -> (usize, (i64, i64)) {
        if axis == 2 {
            (k, (i as i64, j as i64))
        } else {
            (i, (j as i64, k as i64))
        }
    };
    let join = |w: usize, (u, v): (i64, i64)| -> (usize, usize, usize) {
        if axis == 2 {
            (u as usize, v as usize, w)
        } else {
            (w, u as usize, v as usize)
        }
    };
    let nw = if axis == 2 { nk } else { ni };
    // Zone voxels per section per label.
    let mut pts: Vec<Vec<Vec<(i64, i64)>>> = vec![vec![Vec::new(); nseg + 1]; nw];
    for k in s.k_lo..=s.k_hi {
        for j in 0..nj {
            for i in 0..ni {
                let v = lab.get(i, j, k) as usize;
                if v != 0 && v <= nseg && in_zone(i, j, k) {
                    let (w, q) = split(i, j, k);
                    pts[w][v].push(q);
                }
            }
        }
    }
    let mut largest = vec![0usize; nseg + 1];
    for per in &pts {
        for (n, p) in per.iter().enumerate() {
            largest[n] = largest[n].max(p.len());
        }
    }
    for (w, per) in pts.iter().enumerate() {
        for (n, p) in per.iter().enumerate().skip(1) {
            let frac = p.len() as f64 / largest[n].max(1) as f64;
            if p.len() < 8 || frac < SECTION_FILL_MIN_FRACTION {
                continue;
            }
            let min_hu = if frac >= SECTION_FILL_FULL_FRACTION {
                SECTION_FILL_MIN_HU
            } else {
                SECTION_FILL_PARTIAL_MIN_HU
            };
            let hull = convex_hull(p);
            if hull.len() < 3 {
                continue;
            }
            let (u0, u1) = (
                p.iter().map(|q| q.0).min().unwrap_or(0),
                p.iter().map(|q| q.0).max().unwrap_or(0),
            );
            let (v0, v1) = (
                p.iter().map(|q| q.1).min().unwrap_or(0),
                p.iter().map(|q| q.1).max().unwrap_or(0),
            );
            let (nu, nv) = ((u1 - u0 + 1) as usize, (v1 - v0 + 1) as usize);
            let mut cand = vec![false; nu * nv];
            for v in v0..=v1 {
                for u in u0..=u1 {
                    let (i, j, k) = join(w, (u, v));
                    let idx = lab.index(i, j, k);
                    cand[(u - u0) as usize + nu * (v - v0) as usize] = lab.data()[idx] == 0
                        && cti.data()[idx] >= min_hu
                        && in_zone(i, j, k)
                        && inside_convex(&hull, (u, v))
                        && enclosed_vertically(lab, cti, (i, j, k), n as u8, reach);
                }
            }
            if axis == 0 {
                keep_deep_pockets(&mut cand, nu, nv, SAGITTAL_POCKET_MIN_MM / sp[1]);
            }
            for v in v0..=v1 {
                for u in u0..=u1 {
                    if cand[(u - u0) as usize + nu * (v - v0) as usize] {
                        let (i, j, k) = join(w, (u, v));
                        let idx = lab.index(i, j, k);
                        lab.data_mut()[idx] = n as u8;
                    }
                }
            }
        }
    }
}

/// In a sagittal section, a gap between the body's convex hull and its labelled voxels is filled only where it is
/// deeper (along the AP rows) than this: the anterior and lateral walls of a lumbar body are concave at the waist
/// by a few millimetres (2–4 mm, one voxel at 3 mm), and that concavity holds soft tissue, not marrow; a faint corner of the body
/// missing from several consecutive axial sections is deeper.
pub(super) const SAGITTAL_POCKET_MIN_MM: f64 = 5.0;

/// Keeps the 4-connected components of `cand` (an `nu` × `nv` grid, u fastest) whose longest run along u is at
/// least `min_run` cells; clears the others.
fn keep_deep_pockets(cand: &mut [bool], nu: usize, nv: usize, min_run: f64) {
    let mut comp = vec![usize::MAX; cand.len()];
    let mut keep = Vec::new();
    for start in 0..cand.len() {
        if !cand[start] || comp[start] != usize::MAX {
            continue;
        }
        let id = keep.len();
        let mut stack = vec![start];
        let mut members = Vec::new();
        comp[start] = id;
        while let Some(q) = stack.pop() {
            members.push(q);
            let (u, v) = (q % nu, q / nu);
            for (a, b) in [
                (u.wrapping_sub(1), v),
                (u + 1, v),
                (u, v.wrapping_sub(1)),
                (u, v + 1),
            ] {
                if a < nu && b < nv {
                    let r = a + nu * b;
                    if cand[r] && comp[r] == usize::MAX {
                        comp[r] = id;
                        stack.push(r);
                    }
                }
            }
        }
        // Longest run along u within the component.
        let mut best = 0usize;
        for &q in &members {
            let (u, v) = (q % nu, q / nu);
            if u > 0 && comp[u - 1 + nu * v] == id {
                continue;
            }
            let run = (u..nu).take_while(|&x| comp[x + nu * v] == id).count();
            best = best.max(run);
        }
        keep.push(best as f64 >= min_run);
    }
    for (c, &id) in cand.iter_mut().zip(&comp) {
        if id != usize::MAX && !keep[id] {
            *c = false;
        }
    }
}

/// Convex hull (Andrew's monotone chain), counter-clockwise, without collinear points.
pub(super) fn convex_hull(p: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut pts = p.to_vec();
    pts.sort_unstable();
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: (i64, i64), a: (i64, i64), b: (i64, i64)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let mut h: Vec<(i64, i64)> = Vec::with_capacity(2 * pts.len());
    for &q in &pts {
        while h.len() >= 2 && cross(h[h.len() - 2], h[h.len() - 1], q) <= 0 {
            h.pop();
        }
        h.push(q);
    }
    let lower = h.len() + 1;
    for &q in pts.iter().rev().skip(1) {
        while h.len() >= lower && cross(h[h.len() - 2], h[h.len() - 1], q) <= 0 {
            h.pop();
        }
        h.push(q);
    }
    h.pop();
    h
}

/// Whether a point lies inside or on a counter-clockwise convex polygon.
pub(super) fn inside_convex(h: &[(i64, i64)], q: (i64, i64)) -> bool {
    (0..h.len()).all(|a| {
        let (o, b) = (h[a], h[(a + 1) % h.len()]);
        (b.0 - o.0) * (q.1 - o.1) - (b.1 - o.1) * (q.0 - o.0) >= 0
    })
}

/// Labelled voxels with an unlabelled 6-neighbour: a vertebra's outer surface (not the planes where two vertebrae
/// meet, nor the volume's edge).
pub(super) fn outer_surface(lab: &Volume<u8>) -> Vec<bool> {
    let [ni, nj, nk] = lab.dims();
    let d = lab.data();
    (0..d.len())
        .into_par_iter()
        .map(|q| {
            if d[q] == 0 {
                return false;
            }
            let (i, j, k) = (q % ni, (q / ni) % nj, q / (ni * nj));
            (i > 0 && d[q - 1] == 0)
                || (i + 1 < ni && d[q + 1] == 0)
                || (j > 0 && d[q - ni] == 0)
                || (j + 1 < nj && d[q + ni] == 0)
                || (k > 0 && d[q - ni * nj] == 0)
                || (k + 1 < nk && d[q + ni * nj] == 0)
        })
        .collect()
}

/// Lateral distance from the centreline (mm) beyond which a rib-bearing vertebra holds only rib: the tips of the
/// thoracic transverse processes, where the rib tubercles articulate, lie about 28–40 mm from the midline (T12 to
/// T1: canal half-width, articular pillar and a 14–18 mm process, Panjabi's tables as used by the phantom's
/// morphometry). The growth follows bone up to 55 mm out (lumbar transverse processes are that long), which on a
/// thoracic vertebra carries the proximal ribs with it; vertebra labels (VerSe, TotalSegmentator) hold no rib.
pub(super) const RIB_CUT_LATERAL_MM: f64 = 38.0;

/// Unlabels the bone of rib-bearing segments beyond [`RIB_CUT_LATERAL_MM`] from the centreline: the ribs' shafts.
/// The rib heads and necks, which lie against the body and in front of the transverse process, stay (a known
/// over-inclusion of a few millilitres per thoracic level).
pub(super) fn cut_ribs(lab: &mut Volume<u8>, s: &Spine, segs: &[Seg], ribs: &Ribs, sp: [f64; 3]) {
    let rib_bearing: Vec<bool> = (0..segs.len())
        .map(|n| !segs[n].sacrum && (ribs[n].0 || ribs[n].1))
        .collect();
    if !rib_bearing.iter().any(|&b| b) {
        return;
    }
    let [ni, nj, _] = lab.dims();
    let plane = ni * nj;
    lab.data_mut()
        .par_chunks_mut(plane)
        .enumerate()
        .for_each(|(k, sl)| {
            let x = s.centre[k.clamp(s.k_lo, s.k_hi)][0];
            for (q, v) in sl.iter_mut().enumerate() {
                if *v == 0 || !rib_bearing.get(*v as usize - 1).copied().unwrap_or(false) {
                    continue;
                }
                if ((q % ni) as f64 - x).abs() * sp[0] > RIB_CUT_LATERAL_MM {
                    *v = 0;
                }
            }
        });
}
