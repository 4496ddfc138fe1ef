//! Tissue compartments on one axial slice (classical image analysis, no learned model).
//!
//! 1. Body outline: pixels above −500 HU, opened by a 4 mm disc (the couch's thin carbon-fibre shells and
//!    pads below −500 HU fall away), the connected part holding the spine, holes filled.
//! 2. Organ mask ([`organ_mask`]): pixels whose local mean HU lies well above this patient's own paraspinal
//!    muscle (enhancing liver, kidney, spleen, vessels) are never muscle, whatever the −29…+150 HU window says.
//! 3. Abdominal wall: 360 rays from the body centre; along each, from the skin inward, skip the skin, cross
//!    the subcutaneous fat and stop at the first run of ≥ 3 mm non-fat tissue (3×3-mean HU > −30): the outer
//!    wall contour. Continuing through muscle-HU tissue (not organ) gives the wall thickness; a ray that finds
//!    no end within 25 mm has an organ of muscle HU against the wall (liver, spleen, bowel) and takes its
//!    thickness from its neighbours. Both are smoothed over angle (outer contour: closing ±6°, then median
//!    ±3°; thickness: median ±15°) so that thin spots of the wall and organs touching it do not move the
//!    contours.
//! 4. Classification with the HU windows of clinical-reference §3.1: fat outside the outer contour is
//!    subcutaneous; muscle between the contours is abdominal-wall muscle and fat there intermuscular (IMAT);
//!    inside the wall only muscle-HU regions attached to the vertebra (psoas, paraspinal, quadratus
//!    lumborum) or to the posterior wall and lying behind the body's centre count as muscle; bowel, organs
//!    and vessels do not. Psoas is the muscle beside the body down to the transverse processes, paraspinal
//!    the muscle behind them. Fat well inside the paraspinal compartment is IMAT; fat-HU islands that are
//!    bowel content (mottled stool: textured, or with a mean near the top of the fat window) are bowel; all
//!    other fat inside the wall is visceral.

use crate::img2d::{box_mean, components, dilate, fill_holes, open};
use crate::slice::Slice;
use spinekit_anatomy::Tissue;

/// Skeletal muscle HU window, clinical-reference §3.1 (Mourtzakis 2008, S22; S23).
pub const MUSCLE_HU: (f32, f32) = (-29.0, 150.0);
/// Adipose tissue HU window for SAT, VAT and IMAT, clinical-reference §3.1 (S23). VAT uses the same window
/// (the −150…−50 alternative of the Mourtzakis/Prado era is not used).
pub const FAT_HU: (f32, f32) = (-190.0, -30.0);
/// Body outline threshold (HU): air and couch foam lie below.
pub const BODY_HU: f32 = -500.0;
/// Opening radius that detaches the couch (mm).
const TABLE_OPEN_MM: f64 = 4.0;
/// Minimum thickness of non-fat tissue that ends the subcutaneous fat along a ray (mm).
const WALL_RUN_MM: f64 = 3.0;
/// Largest abdominal-wall thickness accepted (mm).
const WALL_MAX_MM: f64 = 25.0;
/// Wall thickness used when it cannot be measured on enough rays (mm).
const WALL_FALLBACK_MM: f64 = 10.0;
const N_RAYS: usize = 360;
/// Opening radius (mm) that separates the psoas and back muscles from bowel loops touching them.
const DEEP_OPEN_MM: f64 = 3.5;
/// Bone within this distance (mm) of the vertebral-body centre anchors deep muscle (besides the vertebra's own
/// label): the transverse processes reach about 40–50 mm out, the ribs that touch the organs lie further.
const ANCHOR_BONE_MM: f64 = 55.0;
/// A posterior muscle (quadratus lumborum, posterior wall) not attached to the vertebra may reach at most this
/// far (mm) in front of the vertebral-body centre.
const QL_FRONT_MM: f64 = 10.0;
/// Muscle-HU pixels this close outside the outer wall contour are wall (partial-volume edge of the wall).
const WALL_OUTER_EDGE_MM: f64 = 1.5;
/// Largest fat island (cm²) judged as bowel content (stool) by its mean local HU spread (edges dominate the
/// spread of smaller islands, so clean fat islands this small are told apart by texture over all pixels).
const BOWEL_ISLAND_MAX_CM2: f64 = 1.5;
/// Larger fat islands (up to this area, cm²) are bowel content when their mean HU sits near the top of the fat
/// window: the fat-HU part of mottled colonic stool (a mixture of fat, fluid and soft tissue) percolates into
/// islands of several cm² whose mean is well above that of adipose tissue, while a clean visceral-fat island
/// of that size has the patient's fat HU in its interior.
const BOWEL_LUMEN_MAX_CM2: f64 = 40.0;
/// How far (HU) above this patient's subcutaneous-fat median such an island's mean must lie to be stool.
/// On the phantoms stool islands average 20–45 HU above the fat median, visceral-fat islands at most 15.
const STOOL_ABOVE_FAT_HU: f64 = 20.0;
/// Least median local spread (HU) of such an island: stool is textured.
const STOOL_MIN_SPREAD_HU: f64 = 25.0;
/// Local means (bone excluded) this far above the patient's own paraspinal muscle HU are organ or vessel, not
/// muscle: liver (~50–70 HU non-contrast, ~100–150 HU portal venous), kidney cortex and spleen enhance far more
/// than muscle; the −29…+150 HU muscle window (§3.1) alone cannot separate them.
const ORGAN_ABOVE_MUSCLE_HU: f32 = 30.0;
/// Lower bound of that organ ceiling (HU): unenhanced liver (40–70 HU) and normal muscle (≈ 30–60 HU, a little
/// more with contrast) stay below it, portal-venous liver (≈ 100–150 HU) lies above it. It keeps well-perfused
/// wall muscle from being cut when the paraspinal reference is low (fatty back muscles of older patients).
const ORGAN_MIN_HU: f32 = 80.0;
/// Muscle-HU pixels this far inside the inner wall contour still count as wall muscle (the contour is a
/// median over ±15° and can cut a little into the wall); fat there is visceral.
const WALL_TOLERANCE_MM: f64 = 1.5;

/// What the classifier found on one slice.
#[derive(Debug, Clone)]
pub struct SliceResult {
    /// One [`Tissue`] code per pixel.
    pub labels: Vec<u8>,
    pub pixel_area_mm2: f64,
    /// Pixels per tissue code.
    pub counts: [usize; 32],
    /// Mean HU over all skeletal-muscle pixels.
    pub muscle_mean_hu: Option<f64>,
    /// The body outline touches the edge of the image or of the reconstruction circle.
    pub outline_cut: bool,
    /// Muscle pixels touch that cut: muscle areas are lower bounds.
    pub muscle_cut: bool,
    /// Length of the cut part of the outline (mm).
    pub cut_length_mm: f64,
    /// Couch pixels removed from the outline.
    pub table_removed_px: usize,
}

impl SliceResult {
    pub fn area_cm2(&self, ts: &[Tissue]) -> f64 {
        ts.iter()
            .map(|t| self.counts[t.code() as usize])
            .sum::<usize>() as f64
            * self.pixel_area_mm2
            / 100.0
    }
}

/// The spine at this slice: centre and extent of the vertebral body in LPS mm.
#[derive(Debug, Clone, Copy)]
pub struct SpineFrame {
    pub x: f64,
    pub y: f64,
    pub half_width_mm: f64,
    /// Anterior (smallest y) and posterior (largest y) edge of the body.
    pub front_y: f64,
    pub back_y: f64,
}

/// Finds the vertebral body of `label` on the slice (or, failing that, bone near `centre`).
pub fn spine_frame(s: &Slice, xy: &[[f64; 2]], label: u8, centre: [f64; 3]) -> Option<SpineFrame> {
    let mut pts: Vec<[f64; 2]> = (0..s.grid.len())
        .filter(|&i| s.bodies[i] == label)
        .map(|i| xy[i])
        .collect();
    if pts.len() < 20 {
        pts = (0..s.grid.len())
            .filter(|&i| {
                s.bone[i] && {
                    let d = [xy[i][0] - centre[0], xy[i][1] - centre[1]];
                    d[0] * d[0] + d[1] * d[1] < 20.0 * 20.0
                }
            })
            .map(|i| xy[i])
            .collect();
    }
    if pts.len() < 20 {
        return None;
    }
    let n = pts.len() as f64;
    let x = pts.iter().map(|p| p[0]).sum::<f64>() / n;
    let y = pts.iter().map(|p| p[1]).sum::<f64>() / n;
    let mut dx: Vec<f64> = pts.iter().map(|p| (p[0] - x).abs()).collect();
    let mut ys: Vec<f64> = pts.iter().map(|p| p[1]).collect();
    dx.sort_by(f64::total_cmp);
    ys.sort_by(f64::total_cmp);
    let q = |v: &[f64], f: f64| v[((v.len() - 1) as f64 * f).round() as usize];
    Some(SpineFrame {
        x,
        y,
        half_width_mm: q(&dx, 0.98),
        front_y: q(&ys, 0.01),
        back_y: q(&ys, 0.99),
    })
}

fn is_fat(h: f32) -> bool {
    (FAT_HU.0..=FAT_HU.1).contains(&h)
}

fn is_muscle(h: f32) -> bool {
    (MUSCLE_HU.0..=MUSCLE_HU.1).contains(&h)
}

/// Circular running filter over angle samples.
fn circ_filter(v: &[f64], half: usize, f: impl Fn(&mut Vec<f64>) -> f64) -> Vec<f64> {
    let n = v.len();
    let mut buf = Vec::with_capacity(2 * half + 1);
    (0..n)
        .map(|i| {
            buf.clear();
            for d in 0..=2 * half {
                buf.push(v[(i + n + d - half) % n]);
            }
            f(&mut buf)
        })
        .collect()
}

fn cmax(v: &[f64], h: usize) -> Vec<f64> {
    circ_filter(v, h, |b| {
        b.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
    })
}
fn cmin(v: &[f64], h: usize) -> Vec<f64> {
    circ_filter(v, h, |b| b.iter().cloned().fold(f64::INFINITY, f64::min))
}
fn cmed(v: &[f64], h: usize) -> Vec<f64> {
    circ_filter(v, h, |b| {
        b.sort_by(f64::total_cmp);
        b[b.len() / 2]
    })
}

/// Fills NaN gaps by linear interpolation around the circle; None if fewer than a quarter are known.
fn fill_circular(v: &mut [f64]) -> Option<()> {
    let n = v.len();
    let known: Vec<usize> = (0..n).filter(|&i| v[i].is_finite()).collect();
    if known.len() < n / 4 {
        return None;
    }
    for w in 0..known.len() {
        let a = known[w];
        let b = known[(w + 1) % known.len()];
        let gap = (b + n - a) % n;
        let gap = if gap == 0 { n } else { gap };
        for s in 1..gap {
            let t = s as f64 / gap as f64;
            v[(a + s) % n] = v[a] * (1.0 - t) + v[b] * t;
        }
    }
    Some(())
}

/// Pixels whose local mean HU (about 5 mm window, bone left out so that muscle next to the vertebra keeps its
/// own mean) lies more than [`ORGAN_ABOVE_MUSCLE_HU`] above this patient's paraspinal muscle, and above
/// [`ORGAN_MIN_HU`]: enhancing organs
/// and vessels. The reference is the median HU of the muscle-window pixels behind the vertebral body (erector
/// spinae), so contrast enhancement of muscle itself and scanner offsets cancel out. All false when fewer than
/// 5 cm² of such muscle are found.
pub fn organ_mask(s: &Slice, xy: &[[f64; 2]], body: &[bool], spine: &SpineFrame) -> Vec<bool> {
    let g = s.grid;
    let n = g.len();
    let hu = &s.hu;
    let mut back: Vec<f32> = (0..n)
        .filter(|&i| {
            let (dx, dy) = ((xy[i][0] - spine.x).abs(), xy[i][1] - spine.back_y);
            body[i]
                && !s.bone[i]
                && !s.canal[i]
                && dx < 70.0
                && (5.0..90.0).contains(&dy)
                && is_muscle(hu[i])
        })
        .map(|i| hu[i])
        .collect();
    let px_mm2 = g.spacing_mm[0] * g.spacing_mm[1];
    if (back.len() as f64) * px_mm2 < 500.0 {
        return vec![false; n];
    }
    let mid = back.len() / 2;
    let ref_hu = *back.select_nth_unstable_by(mid, f32::total_cmp).1;
    let ceiling = (ref_hu + ORGAN_ABOVE_MUSCLE_HU).max(ORGAN_MIN_HU);
    let soft: Vec<f32> = (0..n).map(|i| f32::from(!s.bone[i])).collect();
    let soft_hu: Vec<f32> = (0..n).map(|i| soft[i] * hu[i]).collect();
    let r = |sp: f64| (2.5 / sp).round().max(1.0) as usize;
    let (rx, ry) = (r(g.spacing_mm[0]), r(g.spacing_mm[1]));
    let num = box_mean(&soft_hu, g, rx, ry);
    let den = box_mean(&soft, g, rx, ry);
    (0..n)
        .map(|i| body[i] && !s.bone[i] && den[i] > 0.0 && num[i] / den[i] > ceiling)
        .collect()
}

/// Classifies one slice. `Err` carries a clinician-readable reason why nothing can be measured.
pub fn classify(s: &Slice, spine: &SpineFrame) -> Result<SliceResult, String> {
    let g = s.grid;
    let n = g.len();
    let px = g.spacing_mm[0] * g.spacing_mm[1];
    let xy = s.xy();
    let hu = &s.hu;

    // 1. Body outline without the couch.
    let dense: Vec<bool> = (0..n).map(|i| s.valid[i] && hu[i] > BODY_HU).collect();
    let opened = open(&dense, g, TABLE_OPEN_MM);
    let (lab, sizes) = components(&opened, g, false);
    let spine_px = s.index_of(spine.x, spine.y);
    let pick = spine_px
        .map(|i| lab[i])
        .filter(|&l| l != 0)
        .or_else(|| (1..sizes.len()).max_by_key(|&l| sizes[l]).map(|l| l as u32))
        .ok_or_else(|| "no body outline on the slice (slice outside the body?)".to_string())?;
    let body_open: Vec<bool> = lab.iter().map(|&l| l == pick).collect();
    let body = fill_holes(&body_open, g);
    let body_px = body.iter().filter(|&&b| b).count();
    if (body_px as f64) * px < 50.0 * 100.0 {
        return Err("no body outline on the slice (less than 50 cm² of tissue)".into());
    }
    if spine_px.is_none_or(|i| !body[i]) {
        return Err("the vertebra is not inside the body outline on this slice".into());
    }
    let table_removed_px = (0..n).filter(|&i| dense[i] && !body[i]).count();

    // Outline cut by the field of view: body pixels next to the image edge or to padding.
    let (w, h) = (g.w, g.h);
    let mut cut_px = 0usize;
    let mut cut_mask = vec![false; n];
    for i in 0..n {
        if !body[i] {
            continue;
        }
        let (c, r) = (i % w, i / w);
        let edge = c == 0 || r == 0 || c + 1 == w || r + 1 == h;
        let pad =
            !edge && (!s.valid[i - 1] || !s.valid[i + 1] || !s.valid[i - w] || !s.valid[i + w]);
        if edge || pad {
            cut_px += 1;
            cut_mask[i] = true;
        }
    }
    let cut_length_mm = cut_px as f64 * g.spacing_mm[0].min(g.spacing_mm[1]);
    let outline_cut = cut_length_mm > 10.0;

    // 2. Rays from the body centre.
    let (mut cx, mut cy, mut cnt) = (0.0, 0.0, 0.0);
    for i in 0..n {
        if body[i] {
            cx += xy[i][0];
            cy += xy[i][1];
            cnt += 1.0;
        }
    }
    let (mut cx, mut cy) = (cx / cnt, cy / cnt);
    if s.index_of(cx, cy).is_none_or(|i| !body[i]) {
        cx = spine.x;
        cy = spine.front_y - 40.0;
    }
    // Denoising for the rays: a 3 × 3 mean on thin-slice pixels; none on coarse (> 1.5 mm) pixels, where a 3 × 3
    // window (9 mm at 3 mm) blurs a thin rectus or oblique muscle into the fat around it. The non-fat run that
    // marks the wall is then at least 2.5 pixels long, so one noisy pixel in the fat cannot end the fat.
    let coarse = g.spacing_mm[0].max(g.spacing_mm[1]) > 1.5;
    let sm = if coarse {
        hu.clone()
    } else {
        box_mean(hu, g, 1, 1)
    };
    let wall_run_mm = if coarse {
        WALL_RUN_MM.max(2.5 * g.spacing_mm[0].max(g.spacing_mm[1]))
    } else {
        WALL_RUN_MM
    };
    let organ_like = organ_mask(s, &xy, &body, spine);
    let step = 0.5 * g.spacing_mm[0].min(g.spacing_mm[1]);
    let inside = |x: f64, y: f64| s.index_of(x, y).filter(|&i| body[i]);
    let mut r_out = vec![f64::NAN; N_RAYS];
    let mut thick = vec![f64::NAN; N_RAYS];
    let max_r = (g.w as f64 * g.spacing_mm[0]).hypot(g.h as f64 * g.spacing_mm[1]);
    for (a, (ro, th)) in r_out.iter_mut().zip(thick.iter_mut()).enumerate() {
        let ang = a as f64 * std::f64::consts::TAU / N_RAYS as f64;
        let (dx, dy) = (ang.cos(), ang.sin());
        // Skin: first exit from the body.
        let mut r = 0.0;
        while r < max_r && inside(cx + r * dx, cy + r * dy).is_some() {
            r += step;
        }
        let r_skin = r - step;
        if r_skin <= 10.0 {
            continue;
        }
        let sample = |rr: f64| inside(cx + rr * dx, cy + rr * dy).map(|i| sm[i]);
        // Skip the skin (≤ 5 mm of non-fat), then cross the fat.
        let mut t = 0.0;
        while t < 5.0 && sample(r_skin - t).is_some_and(|v| v > FAT_HU.1) {
            t += step;
        }
        let mut wall_at = None;
        if t >= 5.0 {
            // No fat under the skin: the wall starts at the skin.
            wall_at = Some(r_skin - 2.0);
        } else {
            let mut run = 0.0;
            let mut run_start = 0.0;
            while r_skin - t > 0.25 * r_skin {
                let v = sample(r_skin - t).unwrap_or(FAT_HU.0 - 1.0);
                if v > FAT_HU.1 {
                    if run == 0.0 {
                        run_start = r_skin - t;
                    }
                    run += step;
                    if run >= wall_run_mm {
                        wall_at = Some(run_start);
                        break;
                    }
                } else {
                    run = 0.0;
                }
                t += step;
            }
        }
        let Some(rw) = wall_at else { continue };
        *ro = rw;
        // Wall thickness: muscle-HU tissue, gaps ≤ 1.5 mm allowed.
        let mut rr = rw;
        let mut gap = 0.0;
        let mut last_muscle = rw;
        let mut ended = false;
        while rw - rr < WALL_MAX_MM && rr > 0.0 {
            let i = inside(cx + rr * dx, cy + rr * dy);
            let v = i.map_or(-1000.0, |i| sm[i]);
            if is_muscle(v) && !i.is_some_and(|i| organ_like[i]) {
                last_muscle = rr;
                gap = 0.0;
            } else {
                gap += step;
                if gap > 1.5 {
                    ended = true;
                    break;
                }
            }
            rr -= step;
        }
        // No end within the largest wall thickness: an organ (liver, spleen, bowel) of muscle HU abuts the
        // wall here, so the thickness is unknown and comes from the neighbouring rays.
        if ended {
            *th = (rw - last_muscle).clamp(0.0, WALL_MAX_MM);
        }
    }
    if fill_circular(&mut r_out).is_none() {
        return Err("the abdominal wall could not be traced on this slice".into());
    }
    if fill_circular(&mut thick).is_none() {
        // Organs abut the wall nearly all round: fall back to a typical lateral wall thickness.
        thick.iter_mut().for_each(|t| *t = WALL_FALLBACK_MM);
    }
    let deg = N_RAYS / 360;
    let r_out_s = cmed(&cmin(&cmax(&r_out, 6 * deg), 6 * deg), 3 * deg);
    let thick_s = cmed(&thick, 15 * deg);
    let interp = |v: &[f64], ang: f64| {
        let f = ang.rem_euclid(std::f64::consts::TAU) / std::f64::consts::TAU * N_RAYS as f64;
        let i0 = f.floor() as usize % N_RAYS;
        let t = f - f.floor();
        v[i0] * (1.0 - t) + v[(i0 + 1) % N_RAYS] * t
    };

    // 3. Zones: 0 outside the body, 1 subcutaneous (outside the wall), 2 wall band, 3 inside the wall.
    let mut zone = vec![0u8; n];
    for i in 0..n {
        if !body[i] {
            continue;
        }
        let (dx, dy) = (xy[i][0] - cx, xy[i][1] - cy);
        let rho = dx.hypot(dy);
        let ang = dy.atan2(dx);
        let ro = interp(&r_out_s, ang);
        let ri = ro - interp(&thick_s, ang);
        zone[i] = if rho > ro + WALL_OUTER_EDGE_MM || (rho > ro && !is_muscle(hu[i])) {
            1
        } else if rho > ri {
            2
        } else if rho > ri - WALL_TOLERANCE_MM {
            4
        } else {
            3
        };
    }

    // 4. Muscle inside the wall: regions attached to the vertebra or to the posterior wall.
    let bone = &s.bone;
    let cand: Vec<bool> = (0..n)
        .map(|i| zone[i] >= 2 && !bone[i] && !s.canal[i] && is_muscle(hu[i]) && !organ_like[i])
        .collect();
    // Anchor bone: the vertebra itself (the engine's label map, transverse processes included) and any bone
    // close to the body; not the ribs further out, which the liver, spleen and kidneys touch.
    let near_spine = |i: usize| {
        let (dx, dy) = (xy[i][0] - spine.x, xy[i][1] - spine.y);
        dx * dx + dy * dy < ANCHOR_BONE_MM * ANCHOR_BONE_MM
    };
    let spine_bone: Vec<bool> = (0..n)
        .map(|i| bone[i] && (s.vertebra[i] || near_spine(i)))
        .collect();
    let anchor = dilate(&spine_bone, g, 3.0);
    let c_open = open(&cand, g, DEEP_OPEN_MM);
    let (cl, cs) = components(&c_open, g, false);
    let nc = cs.len();
    let mut touch_bone = vec![false; nc];
    let mut touch_back_wall = vec![false; nc];
    let mut sum = vec![[0.0f64; 3]; nc];
    let mut front = vec![f64::INFINITY; nc];
    for i in 0..n {
        let l = cl[i] as usize;
        if l == 0 {
            continue;
        }
        front[l] = front[l].min(xy[i][1]);
        touch_bone[l] |= anchor[i];
        touch_back_wall[l] |= zone[i] == 2 && xy[i][1] > spine.y;
        sum[l][0] += 1.0;
        sum[l][1] += xy[i][0];
        sum[l][2] += xy[i][1];
    }
    let max_ql_px = 40.0 * 100.0 / px;
    let accept: Vec<bool> = (0..nc)
        .map(|l| {
            if l == 0 || sum[l][0] == 0.0 {
                return false;
            }
            let (mx, my) = (sum[l][1] / sum[l][0], sum[l][2] / sum[l][0]);
            let dx = (mx - spine.x).abs();
            let prevertebral = my < spine.front_y + 5.0 && dx < spine.half_width_mm + 5.0;
            // Posterior muscles (quadratus lumborum, posterior wall) lie behind the body's centre; kidneys and
            // the liver's tip, of muscle HU without contrast, reach further forward.
            let posterior = front[l] > spine.y - QL_FRONT_MM;
            // Quadratus lumborum: a free-standing muscle behind the middle of the body, beside the column.
            let ql_like = my > 0.5 * (spine.y + spine.back_y)
                && dx < spine.half_width_mm + 100.0
                && sum[l][0] < max_ql_px;
            (touch_bone[l] && !prevertebral)
                || (touch_back_wall[l] && my > spine.y && posterior)
                || (ql_like && posterior)
        })
        .collect();
    let acc_open: Vec<bool> = (0..n).map(|i| accept[cl[i] as usize]).collect();
    let acc_grown = dilate(
        &acc_open,
        g,
        DEEP_OPEN_MM + g.spacing_mm[0].max(g.spacing_mm[1]),
    );
    let deep_muscle: Vec<bool> = (0..n)
        .map(|i| cand[i] && (zone[i] == 3 || zone[i] == 4) && acc_grown[i])
        .collect();

    // Paraspinal compartment: behind the vertebral body, as far out as the bone-attached deep muscle reaches
    // (at most 45 mm beyond the body's half-width).
    let mut para_reach: f64 = 0.0;
    for i in 0..n {
        let l = cl[i] as usize;
        if l != 0 && accept[l] && touch_bone[l] && zone[i] >= 3 && xy[i][1] > spine.back_y {
            let dx = (xy[i][0] - spine.x).abs();
            para_reach = para_reach.max(dx.min(spine.half_width_mm + 45.0));
        }
    }
    let in_para = |i: usize| {
        zone[i] >= 2 && xy[i][1] > spine.back_y && (xy[i][0] - spine.x).abs() <= para_reach
    };
    // Fat counts as intermuscular (IMAT) only well inside that compartment: its bounds come from the
    // outermost muscle-window pixels, which are partial-volume pixels up to about 1.5 pixels beyond the
    // muscle's edge, so the fat there is the visceral (retroperitoneal) fat next to the muscle.
    let pv_margin_mm = 1.5 * g.spacing_mm[0].max(g.spacing_mm[1]);
    let in_para_fat = |i: usize| {
        zone[i] >= 2
            && xy[i][1] > spine.back_y + pv_margin_mm
            && (xy[i][0] - spine.x).abs() <= para_reach - pv_margin_mm
    };
    // Psoas beside the vertebra reaches back to the transverse processes (its origin); only behind them does
    // the paraspinal compartment begin. Transverse-process line: median y of the vertebra's bone lateral to
    // the body, behind its centre (the body's back edge when the processes are not on this slice).
    let mut tp_y: Vec<f64> = (0..n)
        .filter(|&i| {
            let dx = (xy[i][0] - spine.x).abs();
            s.vertebra[i]
                && xy[i][1] > spine.y
                && dx > spine.half_width_mm + 5.0
                && dx < spine.half_width_mm + 45.0
        })
        .map(|i| xy[i][1])
        .collect();
    let tp_line_y = if (tp_y.len() as f64) * px >= 20.0 {
        let mid = tp_y.len() / 2;
        spine
            .back_y
            .max(*tp_y.select_nth_unstable_by(mid, f64::total_cmp).1)
    } else {
        spine.back_y
    };
    let psoas_beside = |i: usize| {
        let dx = (xy[i][0] - spine.x).abs();
        zone[i] >= 3
            && xy[i][1] >= spine.back_y
            && xy[i][1] < tp_line_y
            && dx > 0.8 * spine.half_width_mm
            && dx < spine.half_width_mm + 40.0
    };
    // Deep (inside the wall) muscle compartments by position around the vertebral body: psoas beside the
    // body, quadratus lumborum behind its centre and lateral to the paraspinal muscles; muscle-HU tissue
    // anywhere else inside the wall is viscera (bowel, organs, vessels).
    let deep_class = |i: usize| -> Option<Tissue> {
        let (x, y) = (xy[i][0], xy[i][1]);
        let dx = (x - spine.x).abs();
        if psoas_beside(i) {
            Some(Tissue::Psoas)
        } else if in_para(i) {
            Some(Tissue::Paraspinal)
        } else if y >= spine.front_y - 10.0 && y < spine.back_y && dx < spine.half_width_mm + 40.0 {
            Some(Tissue::Psoas)
        } else if y >= spine.y && dx < spine.half_width_mm + 110.0 {
            Some(Tissue::QuadratusLumborum)
        } else {
            None
        }
    };

    // Tolerance strip: muscle connected to the band's muscle.
    let strip_or_band: Vec<bool> = (0..n)
        .map(|i| (zone[i] == 2 || zone[i] == 4) && cand[i])
        .collect();
    let (sl, ss) = components(&strip_or_band, g, false);
    let mut has_band = vec![false; ss.len()];
    for i in 0..n {
        if zone[i] == 2 && sl[i] != 0 {
            has_band[sl[i] as usize] = true;
        }
    }
    let wall_cand: Vec<bool> = (0..n)
        .map(|i| sl[i] != 0 && has_band[sl[i] as usize])
        .collect();

    // Bowel content: fat-HU islands inside the wall (not the main visceral fat) with a mottled texture
    // (stool), judged by their local HU standard deviation against the noise of the subcutaneous fat.
    let hu2: Vec<f32> = hu.iter().map(|&v| v * v).collect();
    let m1 = box_mean(hu, g, 2, 2);
    let m2 = box_mean(&hu2, g, 2, 2);
    let lsd: Vec<f32> = (0..n)
        .map(|i| (m2[i] - m1[i] * m1[i]).max(0.0).sqrt())
        .collect();
    let mut sat_sd: Vec<f32> = (0..n)
        .filter(|&i| zone[i] == 1 && is_fat(hu[i]) && is_fat(m1[i]))
        .map(|i| lsd[i])
        .collect();
    sat_sd.sort_by(f32::total_cmp);
    let noise_sd = sat_sd.get(sat_sd.len() / 2).copied().unwrap_or(20.0) as f64;
    let vis_fat: Vec<bool> = (0..n)
        .map(|i| {
            (zone[i] == 3 || (zone[i] == 4 && !wall_cand[i]))
                && !bone[i]
                && !s.canal[i]
                && is_fat(hu[i])
                && !in_para_fat(i)
        })
        .collect();
    let (fl, fs) = components(&vis_fat, g, false);
    let main = (1..fs.len()).max_by_key(|&l| fs[l]).unwrap_or(0);
    let mut sd_sum = vec![0.0f64; fs.len()];
    for i in 0..n {
        if fl[i] != 0 {
            sd_sum[fl[i] as usize] += lsd[i] as f64;
        }
    }
    let content_thr = (2.0 * noise_sd).max(35.0);
    let mut sat_hu: Vec<f32> = (0..n)
        .filter(|&i| zone[i] == 1 && is_fat(hu[i]))
        .map(|i| hu[i])
        .collect();
    let fat_ref_hu = if sat_hu.is_empty() {
        -100.0
    } else {
        let mid = sat_hu.len() / 2;
        f64::from(*sat_hu.select_nth_unstable_by(mid, f32::total_cmp).1)
    };
    let max_island_px = (BOWEL_ISLAND_MAX_CM2 * 100.0 / px) as usize;
    let max_lumen_px = (BOWEL_LUMEN_MAX_CM2 * 100.0 / px) as usize;
    // HU sums and local spreads of the larger islands.
    let mut big_sd: Vec<Vec<f32>> = vec![Vec::new(); fs.len()];
    let mut hu_sum = vec![0.0f64; fs.len()];
    for i in 0..n {
        let l = fl[i] as usize;
        if l != 0 && l != main && fs[l] > max_island_px && fs[l] <= max_lumen_px {
            big_sd[l].push(lsd[i]);
            hu_sum[l] += f64::from(hu[i]);
        }
    }
    let bowel_content: Vec<bool> = (0..fs.len())
        .map(|l| {
            if l == 0 || l == main {
                false
            } else if fs[l] <= max_island_px {
                sd_sum[l] / fs[l] as f64 > content_thr
            } else if fs[l] <= max_lumen_px {
                let v = &mut big_sd[l];
                let mid = v.len() / 2;
                let spread = f64::from(*v.select_nth_unstable_by(mid, f32::total_cmp).1);
                hu_sum[l] / fs[l] as f64 > fat_ref_hu + STOOL_ABOVE_FAT_HU
                    && spread > STOOL_MIN_SPREAD_HU
            } else {
                false
            }
        })
        .collect();

    // 5. Labels.
    let mut labels = vec![Tissue::Background.code(); n];
    let mut counts = [0usize; 32];
    let (mut mu_sum, mut mu_n) = (0.0f64, 0usize);
    let mut muscle_cut = false;
    for i in 0..n {
        let v = hu[i];
        let t = if !body[i] {
            if dense[i] && xy[i][1] > spine.y {
                Tissue::Table
            } else {
                Tissue::Background
            }
        } else if bone[i] {
            Tissue::Bone
        } else if s.canal[i] {
            Tissue::Csf
        } else {
            match zone[i] {
                1 => {
                    if is_fat(v) {
                        Tissue::SubcutaneousFat
                    } else {
                        Tissue::Skin
                    }
                }
                _ => {
                    let para = in_para(i);
                    let deep = if zone[i] >= 3 && (deep_muscle[i] || (para && cand[i])) {
                        deep_class(i)
                    } else {
                        None
                    };
                    if is_muscle(v)
                        && ((zone[i] == 2 && cand[i])
                            || (zone[i] == 4 && wall_cand[i])
                            || deep.is_some())
                    {
                        if para && deep != Some(Tissue::Psoas) {
                            Tissue::Paraspinal
                        } else if zone[i] == 2 || zone[i] == 4 {
                            Tissue::AbdominalWallMuscle
                        } else {
                            deep.unwrap_or(Tissue::OtherMuscle)
                        }
                    } else if is_fat(v) {
                        if zone[i] == 2 || in_para_fat(i) {
                            Tissue::OtherFat
                        } else if bowel_content[fl[i] as usize] {
                            Tissue::Bowel
                        } else {
                            Tissue::VisceralFat
                        }
                    } else if v < FAT_HU.0 {
                        Tissue::BowelGas
                    } else {
                        Tissue::Bowel
                    }
                }
            }
        };
        if t.is_skeletal_muscle() {
            mu_sum += v as f64;
            mu_n += 1;
            muscle_cut |= cut_mask[i];
        }
        labels[i] = t.code();
        counts[t.code() as usize] += 1;
    }
    Ok(SliceResult {
        labels,
        pixel_area_mm2: px,
        counts,
        muscle_mean_hu: (mu_n > 0).then(|| mu_sum / mu_n as f64),
        outline_cut,
        muscle_cut,
        cut_length_mm,
        table_removed_px,
    })
}
