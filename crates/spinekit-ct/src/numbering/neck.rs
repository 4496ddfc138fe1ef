//! The cranial anchor: C2, recognised by its dens (odontoid process) standing inside the ring of C1.
//!
//! clinical-reference §9, developer rule 1: "Count from C2 down whenever the field of view allows it, and
//! cross-check from the sacrum up." C2 is the one vertebra whose body carries a peg (the dens, about 10 mm wide)
//! that rises into the atlas: in a plane perpendicular to the column through the dens, a small bony peg sits in the
//! middle, the anterior arch of C1 lies a few millimetres in front of it (atlanto-dental interval ≤ 3 mm in
//! adults), the lateral masses of C1 a few millimetres to either side, and the posterior arch behind the canal. No
//! other level shows bone in front of the column axis all round a narrow peg: in front of a cervical body there is
//! only soft tissue and the airway.

use super::{names_from, ordinal, shift_note, RibState};
use crate::engine::{Seg, Spine};
use crate::report::NumberingStatus;
use crate::stats::median;
use spinekit_anatomy::{Enumeration, Level};
use spinekit_image::Volume;

/// The peg: bone (HU, interpolated) all the way from the column axis out to [`PEG_MIN_RADIUS_MM`]. Dens marrow is
/// dense (the phantom draws it at the trabecular value + 60 HU; in adults it is among the densest cancellous bone
/// of the spine) and its cortex brighter still; a marrow-poor body fails here rather than passing as a peg.
const PEG_MIN_HU: f64 = 150.0;
const PEG_MIN_RADIUS_MM: f64 = 2.5;
/// Soft tissue (HU) between the peg and the ring: the atlanto-dental interval in front, the lateral atlanto-dental
/// intervals at the sides, the transverse ligament and the canal behind (fat, ligament, CSF all below 100 HU; the
/// margin allows for partial volume).
const GAP_MAX_HU: f64 = 150.0;
/// Where the gap must begin, by direction (mm from the axis). Sideways the dens is about 10 mm wide (radius
/// ≈ 5 mm) while a cervical body is 15–21 mm wide (radius ≥ 7.5 mm; phantom morphometry after Panjabi), so the
/// lateral rays decide "peg, not body"; front to back a dens cut obliquely by a steep column reads longer.
const GAP_BY_LATERAL_MM: f64 = 7.0;
const GAP_BY_OTHER_MM: f64 = 11.0;
/// The ring: after the gap, cortical bone again within this distance (mm) of the axis. In front the anterior arch
/// of C1 (atlanto-dental interval ≤ 3 mm in adults); at the sides the lateral masses; behind, the posterior arch
/// of C1 lies 25–30 mm behind the dens centre (dens ≈ 10 mm plus a sagittal canal of ≈ 20 mm).
const RING_MIN_HU: f64 = 300.0;
const RING_FRONT_MM: f64 = 20.0;
const RING_SIDE_MM: f64 = 26.0;
const RING_MAX_MM: f64 = 38.0;
/// Rays per plane and how many must show peg, gap and ring; the three rays straddling the anterior direction must
/// all do (the anterior arch: what no cervical body has in front of it), and four of the six sideways ones.
const RAYS: usize = 16;
const RAYS_MIN: usize = 12;
/// The dens is looked for only when the body depth (front to back in the slices, median over the top two
/// segments) is at most this: cervical bodies are 15–17 mm deep (an axial slice through a neck tilted by 45° reads
/// up to about 23 mm), T1–T3 16–20 mm, while T10–L5 are 28–35 mm (phantom morphometry after Panjabi).
const TOP_MAX_DEPTH_MM: f64 = 25.0;
/// How far (mm) from the traced centre the dens is looked for, in the plane perpendicular to the column.
const SEARCH_MM: f64 = 12.0;
/// The pattern must hold over at least this length (mm) along the column: the dens rises 12–15 mm above the body.
const DENS_MIN_MM: f64 = 3.5;

/// C2 as found at the top of the column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct C2Cue {
    /// Segment index (caudal first, as the segments) of C2.
    pub(crate) segment: usize,
    /// Length (mm) along the column over which the dens was seen inside the C1 ring.
    pub(crate) dens_mm: f64,
    /// Whether C1 lies in a segment of its own above C2 (its ring split off by a gap the tracing took for a disc).
    pub(crate) c1_separate: bool,
}

fn sample(ct: &Volume<i16>, p_mm: [f64; 3], sp: [f64; 3]) -> Option<f64> {
    let d = ct.dims();
    let q: [f64; 3] = std::array::from_fn(|a| p_mm[a] / sp[a]);
    if (0..3).any(|a| q[a] < 0.0 || q[a] > (d[a] - 1) as f64) {
        return None;
    }
    let b: [usize; 3] =
        std::array::from_fn(|a| (q[a].floor() as usize).min(d[a].saturating_sub(2)));
    let f: [f64; 3] = std::array::from_fn(|a| (q[a] - b[a] as f64).clamp(0.0, 1.0));
    let mut v = 0.0;
    for c in 0..8 {
        let o: [usize; 3] = std::array::from_fn(|a| (c >> a) & 1);
        let w: f64 = (0..3)
            .map(|a| if o[a] == 1 { f[a] } else { 1.0 - f[a] })
            .product();
        if w > 0.0 {
            let idx: [usize; 3] = std::array::from_fn(|a| (b[a] + o[a]).min(d[a] - 1));
            v += w * f64::from(ct.get(idx[0], idx[1], idx[2]));
        }
    }
    Some(v)
}

/// Two unit vectors spanning the plane perpendicular to `t`: e1 towards the patient's left (+i), e2 = t × e1,
/// which points posteriorly (+j in LPS) for a column running up (+k).
fn plane_axes(t: [f64; 3]) -> ([f64; 3], [f64; 3]) {
    let d = t[0];
    let mut e1 = [1.0 - d * t[0], -d * t[1], -d * t[2]];
    let n = (e1.iter().map(|x| x * x).sum::<f64>()).sqrt().max(1e-9);
    e1 = e1.map(|x| x / n);
    let e2 = [
        t[1] * e1[2] - t[2] * e1[1],
        t[2] * e1[0] - t[0] * e1[2],
        t[0] * e1[1] - t[1] * e1[0],
    ];
    (e1, e2)
}

/// How many rays from the column axis at slice k show peg → gap → ring, and whether the anterior three do.
fn ring_rays(ct: &Volume<i16>, s: &Spine, k: usize, sp: [f64; 3], debug: bool) -> (usize, bool) {
    // The traced centre is the middle of the body's front and back, which the ring of C1 and a steep column can
    // move off the dens by up to about 10 mm: try centres on a 2 mm grid within 12 mm in the plane (where the peg
    // is bone at all) and keep the best.
    // Within 10 mm of the top of the traced column its centre and tangent lean on the smoothing's constant
    // continuation: follow the straight line from 10 mm below instead.
    let ke = s
        .k_hi
        .saturating_sub((10.0 / sp[2]).ceil() as usize)
        .max(s.k_lo);
    let (centre, t) = if k > ke {
        let t = s.t[ke];
        let along = (k - ke) as f64 * sp[2] / t[2].abs().max(0.3);
        (std::array::from_fn(|c| s.p_mm[ke][c] + along * t[c]), t)
    } else {
        (s.p_mm[k], s.t[k])
    };
    let (e1, e2) = plane_axes(t);
    let mut best = (0, false);
    for a in -6i32..=6 {
        for b in -6i32..=6 {
            let (a, b) = (2.0 * a as f64, 2.0 * b as f64);
            if a * a + b * b > SEARCH_MM * SEARCH_MM {
                continue;
            }
            let p: [f64; 3] = std::array::from_fn(|c| centre[c] + a * e1[c] + b * e2[c]);
            if sample(ct, p, sp).is_none_or(|v| v < PEG_MIN_HU) {
                continue;
            }
            let r = ring_rays_at(ct, p, e1, e2, sp, false);
            if (r.1, r.0) > (best.1, best.0) {
                best = r;
                if debug {
                    ring_rays_at(ct, p, e1, e2, sp, true);
                }
            }
        }
    }
    best
}

fn ring_rays_at(
    ct: &Volume<i16>,
    p: [f64; 3],
    e1: [f64; 3],
    e2: [f64; 3],
    sp: [f64; 3],
    debug: bool,
) -> (usize, bool) {
    let step = 0.5;
    let n_steps = (RING_MAX_MM / step) as usize;
    let mut ok = [false; RAYS];
    let mut oks = [(false, false); RAYS];
    for (r_i, ok_r) in ok.iter_mut().enumerate() {
        // Ray 0 points anteriorly (−e2), then round towards the left (e1).
        let a = r_i as f64 * std::f64::consts::TAU / RAYS as f64;
        let dir: [f64; 3] = std::array::from_fn(|c| -a.cos() * e2[c] + a.sin() * e1[c]);
        let prof: Vec<f64> = (0..=n_steps)
            .map(|m| {
                let r = m as f64 * step;
                sample(ct, std::array::from_fn(|c| p[c] + r * dir[c]), sp).unwrap_or(-1000.0)
            })
            .collect();
        let at = |r: f64| (r / step).round() as usize;
        // Ray classes: 0, 1, 15 front; 3–5 and 11–13 sideways; the rest oblique or behind.
        let lateral = matches!(r_i, 3..=5 | 11..=13);
        let front = matches!(r_i, 0 | 1 | 15);
        let (gap_by, ring_by) = match (front, lateral) {
            (true, _) => (GAP_BY_OTHER_MM, RING_FRONT_MM),
            (_, true) => (GAP_BY_LATERAL_MM, RING_SIDE_MM),
            _ => (GAP_BY_OTHER_MM, RING_MAX_MM),
        };
        let peg = prof[..=at(PEG_MIN_RADIUS_MM)]
            .iter()
            .all(|&v| v >= PEG_MIN_HU);
        let gap = (at(PEG_MIN_RADIUS_MM)..=at(gap_by)).find(|&m| prof[m] < GAP_MAX_HU);
        let ring = gap.and_then(|g| (g + 1..=at(ring_by)).find(|&m| prof[m] >= RING_MIN_HU));
        *ok_r = peg && ring.is_some();
        oks[r_i] = (front, lateral);
        if debug && r_i % 4 == 0 {
            let show: Vec<String> = prof.iter().step_by(2).map(|v| format!("{v:.0}")).collect();
            eprintln!(
                "  p {p:.0?} ray {r_i} ok {} gap {:?} ring {:?}: {}",
                *ok_r,
                gap.map(|g| g as f64 * step),
                ring.map(|g| g as f64 * step),
                show.join(" ")
            );
        }
    }
    let front = ok[0] && ok[1] && ok[RAYS - 1];
    let sides = (0..RAYS).filter(|&r| oks[r].1 && ok[r]).count();
    (ok.iter().filter(|&&b| b).count(), front && sides >= 4)
}

/// Looks for the dens inside the C1 ring in the top two segments of the column (C2 may be the top segment, or
/// the one below C1 when C1's ring was split off). `ct` is the CT (HU) on the internal grid.
pub(crate) fn detect_c2(ct: &Volume<i16>, s: &Spine, segs: &[Seg], sp: [f64; 3]) -> Option<C2Cue> {
    let n = segs.len();
    if n < 2 || segs[n - 1].sacrum {
        return None;
    }
    let debug = std::env::var_os("SPINEKIT_C2_DEBUG").is_some();
    let from = segs[n.saturating_sub(2)].lo.max(s.k_lo as f64).ceil() as usize;
    // Only where the top of the column has cervical-sized bodies: the search is not worth its time on a
    // thoracolumbar top.
    let depth_mm = median(
        (from..=s.k_hi)
            .map(|k| 2.0 * (s.back[k] - s.centre[k][1]) * sp[1])
            .collect(),
    );
    if depth_mm.is_none_or(|d| d > TOP_MAX_DEPTH_MM) {
        return None;
    }
    let hits: Vec<usize> = (from..=s.k_hi)
        .filter(|&k| {
            let (count, front) = ring_rays(ct, s, k, sp, debug);
            if debug {
                eprintln!("c2? k {k} rays {count} front {front}");
            }
            count >= RAYS_MIN && front
        })
        .collect();
    // The longest run of consecutive hit slices, as length along the column.
    let mut best: Option<(usize, usize)> = None;
    let mut start = None;
    for (i, &k) in hits.iter().enumerate() {
        let st = match start {
            Some(st) if k == hits[i - 1] + 1 => st,
            _ => k,
        };
        start = Some(st);
        if best.is_none_or(|(a, b)| k - st > b - a) {
            best = Some((st, k));
        }
    }
    let (a, b) = best?;
    let len_mm = |a: usize, b: usize| -> f64 {
        let (p, q) = (s.p_mm[a], s.p_mm[b]);
        (0..3).map(|c| (q[c] - p[c]).powi(2)).sum::<f64>().sqrt() + sp[2]
    };
    let dens_mm = len_mm(a, b);
    if dens_mm < DENS_MIN_MM {
        return None;
    }
    // C2 is the segment that holds the lower end of the dens (its base rises from the C2 body).
    let ka = a as f64;
    let m = segs.iter().position(|g| ka >= g.lo && ka < g.hi)?;
    if segs[m].sacrum || !segs[m].lo_is_disc {
        // No disc below: the body of C2 (and so the count downward) is not established.
        return None;
    }
    Some(C2Cue {
        segment: m,
        dens_mm,
        c1_separate: m + 1 < n,
    })
}

/// A numbering in the making, as the caudal cues left it.
pub(super) struct Draft {
    pub(super) status: NumberingStatus,
    pub(super) reason: String,
    pub(super) evidence: Vec<String>,
    pub(super) enumeration: Enumeration,
    pub(super) levels: Vec<Level>,
    /// Whether the thoracic names are counted (not assumed from 12 rib pairs).
    pub(super) thoracic_verified: bool,
}

/// The rest of the field the C2 cue is weighed against.
pub(super) struct Context<'a> {
    pub(super) states: &'a [RibState],
    pub(super) sacrum: bool,
    pub(super) last_rib: Option<usize>,
    pub(super) lumbar_type: usize,
    /// Soft doubts (spacing, isolated ribs) were raised: never confident then.
    pub(super) doubts: bool,
}

/// Counts down from C2 and weighs that count against the first rib, the last rib and the sacrum
/// (clinical-reference §9, developer rules 1 and 3: count from C2 down, cross-check from below, flag a mismatch
/// instead of silently renaming). C3–C7 carry no rib, so the first rib-bearing vertebra below C2 should be the
/// 6th below it (T1); a cervical rib on C7 makes it the 5th, a missed first rib or a vertebra split in two the
/// 7th. With the last rib in view the thoracic count follows from T1 so found.
pub(super) fn apply_c2(c2: C2Cue, cx: &Context<'_>, d: &mut Draft) {
    use NumberingStatus::*;
    let n = d.levels.len();
    let c = c2.segment;
    let first_free = usize::from(cx.sacrum);
    let below = if cx.sacrum {
        "sacrum"
    } else {
        "bottom of the view"
    };
    d.evidence.push(format!(
        "C2 (the dens rising from its body inside the ring of C1, seen over {:.0} mm) is the {} vertebra above the {below}",
        c2.dens_mm,
        ordinal(c + 1 - first_free)
    ));
    if !c2.c1_separate {
        d.evidence.push(
            "C1 (a ring without a body) is not delineated on its own: its bone is labelled with C2"
                .into(),
        );
    }
    // Rib-free vertebrae under C2 down to the first rib-bearing one.
    let mut cerv = 0;
    let mut first = None;
    for m in (0..c).rev() {
        match cx.states[m] {
            RibState::Absent => cerv += 1,
            RibState::Present => {
                first = Some(m);
                break;
            }
            RibState::Unknown => break,
        }
    }
    let top = names_from(Enumeration::Normal, c, Level::C2, n);
    let Some(f) = first else {
        // A neck field: only C2 anchors the names.
        let previous = std::mem::take(&mut d.reason);
        d.status = Uncertain;
        d.reason = if d.levels == top {
            format!("named from C2 down, as the other cues: {previous}")
        } else {
            format!(
                "named from C2 down (no rib-bearing vertebra below it in view to check the count); the other cues ({previous}) would give {}",
                shift_note(&top, &d.levels)
            )
        };
        d.levels = top;
        d.enumeration = Enumeration::Normal;
        return;
    };
    d.evidence.push(format!(
        "{cerv} vertebrae without ribs between C2 and the first rib-bearing vertebra (C3–C7 expected: 5)"
    ));
    // T1 as counted from C2 (the 6th below it), and the thoracic count from there to the last rib.
    let t1 = c.checked_sub(6);
    let count = match (t1, cx.last_rib) {
        (Some(t), Some(l)) if t >= l => Some(t - l + 1),
        _ => None,
    };
    if let Some(t) = count {
        d.evidence.push(format!(
            "{t} rib-bearing levels from T1 (counted from C2) to the last rib"
        ));
    }
    let quiet = !cx.doubts;
    match (cerv, count) {
        (5, Some(12)) | (5, None) => {
            // C2 and the first rib agree on T1 (and the last rib on T12, when in view).
            let lumbar_ok = !cx.sacrum || cx.lumbar_type == 5;
            d.thoracic_verified = true;
            if d.levels == top || !cx.sacrum {
                let agree = if count.is_some() {
                    "C2, the first rib and the last rib agree: 7 cervical vertebrae down to the first rib and 12 rib-bearing levels (7C-12T)"
                } else {
                    "C2 and the first rib agree: 7 cervical vertebrae down to the first rib (T1); the names below are counted from C2 (the last rib is not in view)"
                };
                d.reason = match (cx.sacrum, lumbar_ok) {
                    (true, true) => format!("{agree}, and the sacrum on 5 lumbar vertebrae"),
                    (true, false) => format!("{agree}; {}", d.reason),
                    (false, _) => format!(
                        "{agree}; without the sacrum the lumbar count does not change the names counted from C2"
                    ),
                };
                if !cx.sacrum {
                    d.levels = top;
                    d.enumeration = Enumeration::Normal;
                }
                if quiet && lumbar_ok {
                    d.status = Confident;
                }
            } else {
                // Same T1 and T12 but the sacrum names differ: an LSTV the caudal cues already flagged.
                d.status = Uncertain;
                d.reason = format!(
                    "{}; counted from C2 (7C-12T) {}",
                    d.reason,
                    shift_note(&d.levels, &top)
                );
            }
        }
        (5, Some(t @ (11 | 13))) => {
            // Both ends of the rib cage placed from C2: the count itself says 11 or 13 pairs.
            let v = if t == 11 {
                Enumeration::ElevenRibs
            } else {
                Enumeration::T13
            };
            let named = names_from(v, c, Level::C2, n);
            let twelve = match cx.last_rib {
                Some(l) => names_from(Enumeration::Normal, l, Level::T12, n),
                None => top.clone(),
            };
            d.status = Uncertain;
            d.reason = format!(
                "C2 and the first rib agree on T1, and {t} rib-bearing levels are counted from T1 to the last rib: named from C2 down with {t} rib pairs ({}); if a {} (12 rib pairs, last rib as T12) {}",
                v.pattern(),
                if t == 11 {
                    "short 12th rib was missed"
                } else {
                    "rib-like process on L1 was taken for a rib"
                },
                shift_note(&named, &twelve)
            );
            d.levels = named;
            d.enumeration = v;
            d.thoracic_verified = true;
        }
        (5, Some(t)) => {
            d.status = Uncertain;
            d.reason = format!(
                "{}; C2 and the first rib agree on T1 but {t} rib-bearing levels down to the last rib is implausible (a rib missed, or a vertebra merged or split)",
                d.reason
            );
        }
        (k, _) => {
            // The first rib is not where C2 puts T1.
            let what = if k < 5 {
                "a cervical rib on C7 (or a disc missed in the neck)"
            } else {
                "a first rib that was missed (or a cervical vertebra split in two)"
            };
            let caudal = cx.sacrum || cx.last_rib.is_some();
            let c2_t12 = count == Some(12);
            d.status = Uncertain;
            if caudal && !c2_t12 {
                // Keep the numbering of the caudal anchors; name the count from C2.
                d.reason = format!(
                    "{}; but {k} rib-free vertebrae lie between C2 and the first rib (5 expected: {what}); counted from C2 {}",
                    d.reason,
                    shift_note(&d.levels, &top)
                );
            } else {
                d.levels = top;
                d.reason = format!(
                    "named from C2 down{}; {k} rib-free vertebrae lie between C2 and the first rib (5 expected: {what}); named from the first rib as T1 instead, {}",
                    if c2_t12 {
                        ", which the last rib confirms (T1 to T12: 12 rib-bearing levels)"
                    } else {
                        ""
                    },
                    shift_note(&d.levels, &names_from(Enumeration::Normal, f, Level::T1, n))
                );
                d.enumeration = Enumeration::Normal;
                d.thoracic_verified = c2_t12;
            }
        }
    }
}
