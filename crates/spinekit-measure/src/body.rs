//! One vertebral body: local frame, mid-sagittal heights, endplate planes and corners, HU regions of interest.

use crate::geom::*;
use crate::types::{EndplateMeasure, HuStats};
use spinekit_image::{Geometry, Volume};

/// Fractions of the AP depth (from the anterior edge) where Ha, Hm, Hp are measured: 15 %, 50 %, 85 %, the
/// TotalSegmentator spine-report positions (clinical-reference §1.3, S6), also used by the phantom truth.
pub const HEIGHT_POSITIONS: [f64; 3] = [0.15, 0.50, 0.85];

/// Offsets (mm) of the lines averaged per height, laterally and along the AP axis (symmetric, so a linear change
/// of height cancels), to average voxel steps of endplates tilted against the grid.
const HEIGHT_OFFSETS_MM: [f64; 3] = [-1.5, 0.0, 1.5];

/// Longest ray (mm) followed inside a body.
const MAX_RAY_MM: f64 = 80.0;

/// Trabecular ROI: distance kept from the body surface (clinical-reference §2.1: exclude the cortical rim;
/// 5 mm, with 3 mm as the fallback for small bodies), the mid-body slab (middle half of Hm) and the anterior
/// 60 % of the depth (the basivertebral venous plexus enters the posterior wall centrally; §2.1, Pickhardt).
pub const TRABECULAR_EROSION_MM: [f64; 2] = [5.0, 3.0];
pub const TRABECULAR_SLAB_FRACTION_OF_HM: f64 = 0.5;
pub const TRABECULAR_ANTERIOR_FRACTION: f64 = 0.6;
/// TotalSegmentator convention: median HU inside the body mask after 4 mm erosion (clinical-reference §2.1, S6).
pub const TOTALSEG_EROSION_MM: f64 = 4.0;
/// Fewest voxels for an HU statistic.
const MIN_ROI_VOXELS: usize = 20;

/// Geometry of one body, in LPS mm.
#[derive(Debug, Clone)]
pub struct BodyGeom {
    pub c: V3,
    pub l: V3,
    pub p: V3,
    pub s: V3,
    /// Distances from `c` to the anterior / posterior / left / right surface.
    pub ant_mm: f64,
    pub post_mm: f64,
    pub left_mm: f64,
    pub right_mm: f64,
    /// Ha, Hm, Hp.
    pub heights_mm: [f64; 3],
    /// (superior, inferior) end points of each height.
    pub points: [[V3; 2]; 3],
    /// Height lines measured, and how many of them were refined with the CT's cortical endplate.
    pub height_lines: usize,
    pub height_lines_refined: usize,
    /// Superior / inferior planes `h = a + b·u + c·v` in the local frame (u along p, v along l, h along s).
    pub sup: Option<EndplateMeasure>,
    pub inf: Option<EndplateMeasure>,
}

impl BodyGeom {
    pub fn depth_mm(&self) -> f64 {
        self.ant_mm + self.post_mm
    }
    pub fn width_mm(&self) -> f64 {
        self.left_mm + self.right_mm
    }
}

/// A point inside the mask on the line `p + t·s`, |t| ≤ 12 mm, nearest to `p` (steps of 0.5 mm).
fn inside_near(m: &MaskView, p: V3, s: V3) -> Option<V3> {
    (0..=24).find_map(|n| {
        let t = 0.5 * ((n + 1) / 2) as f64 * if n % 2 == 1 { 1.0 } else { -1.0 };
        let q = add(p, scale(s, t));
        m.inside(q).then_some(q)
    })
}

/// Half the thickness of the cortical endplate (mm): the outer surface lies this far beyond the centre of the
/// bright endplate line (real endplates ≈ 0.4–1 mm; the phantom's shells 0.8–1.3 mm).
pub const CORTEX_HALF_MM: f64 = 0.5;
/// Endplate refinement: the cortical peak must exceed the HU just outside it by this much.
const PEAK_CONTRAST_HU: f64 = 120.0;

/// Refines a mask surface at distance `t0` from `q` along `dir` with the CT: the centre of the bright cortical
/// endplate line (sub-sample parabolic peak within 6 mm inside … 1.5 mm outside the mask surface; deep enough
/// for the depressed endplate of a biconcave fracture whose dent the mask filled) plus
/// [`CORTEX_HALF_MM`]. Label maps on coarse grids (and the engine's masks) put the surface up to a voxel off;
/// the partial-volumed cortex in the CT locates it to a fraction of a voxel. `None` without a clear peak.
fn refine(ct: &CtView, q: V3, dir: V3, t0: f64) -> Option<f64> {
    const STEP: f64 = 0.25;
    let f = |t: f64| ct.value(add(q, scale(dir, t)));
    let lo = (t0 - 6.0).max(0.0);
    let n = ((t0 + 1.5 - lo) / STEP).floor() as usize;
    let vals: Vec<f64> = (0..=n)
        .map(|i| f(lo + i as f64 * STEP))
        .collect::<Option<_>>()?;
    let (ipk, &vpk) = vals.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    if ipk == 0 || ipk == n {
        return None;
    }
    let tpk = lo + ipk as f64 * STEP;
    // Outside level: the lowest value within 3 mm beyond the peak.
    let out = (1..=12)
        .map(|i| f(tpk + i as f64 * STEP))
        .collect::<Option<Vec<f64>>>()?;
    let vout = out.iter().copied().fold(f64::INFINITY, f64::min);
    if vpk - vout < PEAK_CONTRAST_HU {
        return None;
    }
    let (a, b, c) = (vals[ipk - 1], vpk, vals[ipk + 1]);
    let den = a - 2.0 * b + c;
    let off = if den < -1e-9 {
        (0.5 * (a - c) / den).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    Some(tpk + off * STEP + CORTEX_HALF_MM)
}

/// Superior and inferior surface points along `s` through `p`, as h coordinates from `c`; refined with the CT
/// when it shows the cortical endplate (the flag says whether both ends were).
fn extent_along(
    m: &MaskView,
    ct: Option<&CtView>,
    c: V3,
    s: V3,
    p: V3,
) -> Option<(f64, f64, bool)> {
    let q = inside_near(m, p, s)?;
    let mut up = m.exit_mm(q, s, MAX_RAY_MM)?;
    let mut dn = m.exit_mm(q, scale(s, -1.0), MAX_RAY_MM)?;
    let mut refined = false;
    if let Some(ct) = ct {
        let ru = refine(ct, q, s, up);
        let rd = refine(ct, q, scale(s, -1.0), dn);
        if let (Some(a), Some(b)) = (ru, rd) {
            up = a;
            dn = b;
            refined = true;
        }
    }
    let h0 = dot(sub(q, c), s);
    Some((h0 + up, h0 - dn, refined))
}

/// Analyses one body given its centroid `c`, a superior axis `s_hint` and a direction `p_hint` pointing from
/// the body towards the canal. Errors are reasons for "not measurable".
pub fn analyse(
    mask: &MaskView,
    ct: Option<&CtView>,
    c: V3,
    s_hint: V3,
    p_hint: V3,
) -> Result<BodyGeom, String> {
    let s = unit(s_hint).ok_or("no superior axis")?;
    let p = unit(reject(p_hint, s))
        .ok_or("no anterior–posterior axis (canal straight above the body)")?;
    let l = cross(p, s);
    let c0 = if mask.inside(c) {
        c
    } else {
        inside_near(mask, c, s).ok_or("the body centre lies outside its mask (irregular body)")?
    };
    let ex = |d: V3| mask.exit_mm(c0, d, MAX_RAY_MM);
    let (Some(post), Some(ant), Some(left), Some(right)) =
        (ex(p), ex(scale(p, -1.0)), ex(l), ex(scale(l, -1.0)))
    else {
        return Err("the body outline is open (it reaches beyond 80 mm)".into());
    };
    let depth = ant + post;
    if depth < 8.0 || left + right < 8.0 {
        return Err(format!(
            "the body is too small to measure ({depth:.0} mm deep, {:.0} mm wide)",
            left + right
        ));
    }
    let u_of = |f: f64| -ant + f * depth;
    let mut heights = [0.0; 3];
    let (mut refined, mut lines) = (0usize, 0usize);
    let mut points = [[[0.0; 3]; 2]; 3];
    for (n, &f) in HEIGHT_POSITIONS.iter().enumerate() {
        let u = u_of(f);
        let mut sum = 0.0;
        let mut cnt = 0;
        for &du in &HEIGHT_OFFSETS_MM {
            for &v in &HEIGHT_OFFSETS_MM {
                let uu = u + du;
                if let Some((top, bot, r)) =
                    extent_along(mask, ct, c, s, at(c, p, uu, l, v, s, 0.0))
                {
                    sum += top - bot;
                    cnt += 1;
                    refined += usize::from(r);
                    lines += 1;
                    if v == 0.0 && du == 0.0 {
                        points[n] = [at(c, p, u, l, 0.0, s, top), at(c, p, u, l, 0.0, s, bot)];
                    }
                }
            }
        }
        if cnt == 0 || points[n] == [[0.0; 3]; 2] {
            return Err(format!(
                "no body surface found along the superior axis at {:.0} % of the depth",
                f * 100.0
            ));
        }
        heights[n] = sum / cnt as f64;
    }
    let mut g = BodyGeom {
        c,
        l,
        p,
        s,
        ant_mm: ant,
        post_mm: post,
        left_mm: left,
        right_mm: right,
        heights_mm: heights,
        points,
        height_lines: lines,
        height_lines_refined: refined,
        sup: None,
        inf: None,
    };
    g.sup = endplate(mask, ct, &g, true);
    g.inf = endplate(mask, ct, &g, false);
    Ok(g)
}

/// Fits the superior or inferior endplate plane on a 5 × 5 grid over the central 60 % of the depth and width
/// (symmetric about the body's centre, so the endplate concavity does not tilt the fit), drops outliers
/// (> 2.5 × the median residual, at least 1 mm) once, and finds the rim corners 2 mm inside the plane.
fn endplate(
    mask: &MaskView,
    ct: Option<&CtView>,
    g: &BodyGeom,
    superior: bool,
) -> Option<EndplateMeasure> {
    let u0 = 0.5 * (g.post_mm - g.ant_mm);
    let v0 = 0.5 * (g.left_mm - g.right_mm);
    let hu = 0.3 * g.depth_mm();
    let hv = 0.3 * g.width_mm();
    let mut pts = Vec::new();
    for a in [-1.0, -0.5, 0.0, 0.5, 1.0] {
        for b in [-1.0, -0.5, 0.0, 0.5, 1.0] {
            let (u, v) = (u0 + a * hu, v0 + b * hv);
            if let Some((top, bot, _)) =
                extent_along(mask, ct, g.c, g.s, at(g.c, g.p, u, g.l, v, g.s, 0.0))
            {
                pts.push((u, v, if superior { top } else { bot }));
            }
        }
    }
    let mut fit = fit_plane(&pts)?;
    let resid =
        |f: (f64, f64, f64), q: &(f64, f64, f64)| (q.2 - (f.0 + f.1 * q.0 + f.2 * q.1)).abs();
    let mut r: Vec<f64> = pts.iter().map(|q| resid(fit, q)).collect();
    let med = median(&mut r).unwrap_or(0.0);
    let lim = (2.5 * med).max(1.0);
    let kept: Vec<_> = pts
        .iter()
        .copied()
        .filter(|q| resid(fit, q) <= lim)
        .collect();
    if kept.len() >= 6 && kept.len() < pts.len() {
        fit = fit_plane(&kept)?;
    }
    let rms =
        (kept.iter().map(|q| resid(fit, q).powi(2)).sum::<f64>() / kept.len().max(1) as f64).sqrt();
    let (a, b, cc) = fit;
    let plane_h = |u: f64, v: f64| a + b * u + cc * v;
    let normal = unit(sub(sub(g.s, scale(g.p, b)), scale(g.l, cc)))?;
    let centre = at(g.c, g.p, u0, g.l, 0.0, g.s, plane_h(u0, 0.0));
    // Corners: walls found 2 mm inside the plane, in the mid-sagittal plane, walking parallel to the plane. An
    // endplate tilted against the body's frame (L5's inferior and S1's superior endplates in lordosis, up to
    // 15° from the frame) would otherwise be left through the endplate itself before the wall is reached:
    // 2 mm / tan 13° ≈ 9 mm short of the posterior corner.
    let inward = if superior { -2.0 } else { 2.0 };
    let along = unit(add(g.p, scale(g.s, b)))?;
    let corner = |dir: f64| -> Option<V3> {
        let start = at(g.c, g.p, u0, g.l, 0.0, g.s, plane_h(u0, 0.0) + inward);
        let q = inside_near(mask, start, g.s)?;
        let t = mask.exit_mm(q, scale(along, dir), MAX_RAY_MM)?;
        let u = dot(sub(add(q, scale(along, dir * t)), g.c), g.p);
        Some(at(g.c, g.p, u, g.l, 0.0, g.s, plane_h(u, 0.0)))
    };
    let post = corner(1.0)?;
    let ant = corner(-1.0)?;
    Some(EndplateMeasure {
        centre_mm: centre,
        normal,
        coronal_tilt_deg: coronal_tilt_deg(normal),
        sagittal_tilt_deg: sagittal_tilt_deg(normal),
        posterior_corner_mm: post,
        anterior_corner_mm: ant,
        ap_length_mm: norm(sub(post, ant)),
        rms_residual_mm: rms,
        samples: kept.len(),
        method: format!(
            "least-squares plane through the {} body surface along the superior axis on a 5 × 5 grid over the \
             central 60 % of the depth and width (symmetric, so the endplate concavity does not tilt it), one \
             outlier rejection; corners: anterior and posterior walls of the whole-vertebra outline (the canal's \
             front at the midline; the body outline where that is not found), 2 mm inside the plane, followed \
             parallel to it in the mid-sagittal plane, placed on the CT's cortex where it shows one, projected \
             onto the plane",
            if superior { "superior" } else { "inferior" }
        ),
    })
}

/// Re-finds the rim corners of both endplates on `outline`, the whole vertebra's label, where it holds the body:
/// in the mid-sagittal plane the body's posterior wall is the front of the canal, which the whole-vertebra label
/// leaves empty, while a body map's posterior cut is an approximation (a straight cut that misses a tilted L5's or
/// S1's posterior corner moves the L5–S1 slip by millimetres). Same walk as [`endplate`]: 2 mm inside the plane,
/// parallel to it, projected back onto it. Each wall is then placed on the CT's cortex where it shows one (as
/// the endplates are: [`refine`]), so that the label's voxel steps (3 mm on a coarse grid) do not move the corner.
/// Corners that cannot be found are kept.
pub fn corners_on_outline(outline: &MaskView, ct: Option<&CtView>, g: &mut BodyGeom) {
    let (c, p, s) = (g.c, g.p, g.s);
    for (e, superior) in [(g.sup.as_mut(), true), (g.inf.as_mut(), false)] {
        let Some(e) = e else { continue };
        let n = e.normal;
        let ns = dot(n, s);
        if ns.abs() < 0.2 {
            continue;
        }
        let Some(along) = unit(sub(scale(p, ns), scale(s, dot(n, p)))) else {
            continue;
        };
        let start = add(e.centre_mm, scale(s, if superior { -2.0 } else { 2.0 }));
        let Some(q) = inside_near(outline, start, s) else {
            continue;
        };
        let on_plane = |dir: f64| -> Option<V3> {
            let mut t = outline.exit_mm(q, scale(along, dir), MAX_RAY_MM)?;
            if let Some(r) = ct.and_then(|ct| refine(ct, q, scale(along, dir), t)) {
                t = r;
            }
            let u = dot(sub(add(q, scale(along, dir * t)), c), p);
            let x = add(c, scale(p, u));
            Some(add(x, scale(s, dot(n, sub(e.centre_mm, x)) / ns)))
        };
        if let (Some(post), Some(ant)) = (on_plane(1.0), on_plane(-1.0)) {
            e.posterior_corner_mm = post;
            e.anterior_corner_mm = ant;
            e.ap_length_mm = norm(sub(post, ant));
        }
    }
}

/// Statistics of a list of HU values.
fn stats(mut v: Vec<f64>, vox_ml: f64, erosion_mm: f64, method: String) -> Option<HuStats> {
    if v.len() < MIN_ROI_VOXELS {
        return None;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let median = median(&mut v)?;
    Some(HuStats {
        mean_hu: mean,
        median_hu: median,
        sd_hu: sd,
        voxel_count: v.len(),
        volume_ml: n * vox_ml,
        erosion_mm,
        method,
    })
}

/// The trabecular ROI (convention a) and the eroded-body median (convention b) of one body.
pub fn density(
    ct: &Volume<i16>,
    bodies: &Volume<u8>,
    label: u8,
    bbox: ([usize; 3], [usize; 3]),
    g: &BodyGeom,
) -> (Result<HuStats, String>, Result<HuStats, String>) {
    const PAD: usize = 2;
    let geom = *bodies.geometry();
    let dims = bodies.dims();
    let (lo, hi) = bbox;
    let cd: [usize; 3] = std::array::from_fn(|a| hi[a] - lo[a] + 1 + 2 * PAD);
    let mut buf = vec![0u8; cd[0] * cd[1] * cd[2]];
    let gidx = |n: [usize; 3]| -> Option<[usize; 3]> {
        let q: [isize; 3] = std::array::from_fn(|a| lo[a] as isize + n[a] as isize - PAD as isize);
        (0..3)
            .all(|a| q[a] >= 0 && (q[a] as usize) < dims[a])
            .then(|| std::array::from_fn(|a| q[a] as usize))
    };
    for k in 0..cd[2] {
        for j in 0..cd[1] {
            for i in 0..cd[0] {
                if let Some(q) = gidx([i, j, k]) {
                    if bodies.get(q[0], q[1], q[2]) == label {
                        buf[i + cd[0] * (j + cd[1] * k)] = 1;
                    }
                }
            }
        }
    }
    let local = Geometry::identity(geom.spacing_mm);
    let Ok(crop) = Volume::from_vec(cd, local, buf) else {
        let e = "internal: crop size".to_string();
        return (Err(e.clone()), Err(e));
    };
    let dist = spinekit_morph::distance_to_background_mm(&crop);
    let half_vox = 0.5
        * geom
            .spacing_mm
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
    let vox_ml = geom.spacing_mm.iter().product::<f64>() / 1000.0;
    // Mid-body slab and anterior part from the mid-sagittal heights.
    let hm = g.heights_mm[1];
    let h_top = dot(sub(g.points[1][0], g.c), g.s);
    let h_bot = dot(sub(g.points[1][1], g.c), g.s);
    let h_mid = 0.5 * (h_top + h_bot);
    let slab = 0.5 * TRABECULAR_SLAB_FRACTION_OF_HM * hm;
    let u_max = -g.ant_mm + TRABECULAR_ANTERIOR_FRACTION * g.depth_mm();
    // (surface distance, HU, in slab and anterior)
    let mut vox: Vec<(f64, f64, bool)> = Vec::new();
    for k in 0..cd[2] {
        for j in 0..cd[1] {
            for i in 0..cd[0] {
                let n = i + cd[0] * (j + cd[1] * k);
                if crop.data()[n] == 0 {
                    continue;
                }
                let Some(q) = gidx([i, j, k]) else { continue };
                let w = geom.index_to_world([q[0] as f64, q[1] as f64, q[2] as f64]);
                let d = sub(w, g.c);
                let h = dot(d, g.s);
                let u = dot(d, g.p);
                let roi = (h - h_mid).abs() <= slab && u <= u_max;
                vox.push((
                    dist[n] as f64 - half_vox,
                    ct.get(q[0], q[1], q[2]) as f64,
                    roi,
                ));
            }
        }
    }
    let mut trab = Err(format!(
        "no trabecular ROI of at least {MIN_ROI_VOXELS} voxels remains 3 mm inside the body"
    ));
    for &e in &TRABECULAR_EROSION_MM {
        let v: Vec<f64> = vox
            .iter()
            .filter(|x| x.2 && x.0 >= e)
            .map(|x| x.1)
            .collect();
        let method = format!(
            "mean HU of body voxels ≥ {e} mm from the body surface (cortex excluded), within the mid-body slab \
             (middle {:.0} % of Hm around its mid-height) and the anterior {:.0} % of the depth (excludes the \
             basivertebral venous plexus); opportunistic-CT ROI, clinical-reference §2.1 (Pickhardt 2013, S7){}",
            TRABECULAR_SLAB_FRACTION_OF_HM * 100.0,
            TRABECULAR_ANTERIOR_FRACTION * 100.0,
            if e < TRABECULAR_EROSION_MM[0] {
                "; 3 mm fallback because the 5 mm ROI was too small"
            } else {
                ""
            }
        );
        if let Some(st) = stats(v, vox_ml, e, method) {
            trab = Ok(st);
            break;
        }
    }
    let v: Vec<f64> = vox
        .iter()
        .filter(|x| x.0 >= TOTALSEG_EROSION_MM)
        .map(|x| x.1)
        .collect();
    let ts = stats(
        v,
        vox_ml,
        TOTALSEG_EROSION_MM,
        "median HU of the whole body mask eroded by 4 mm (TotalSegmentator spine report convention, \
         clinical-reference §2.1, S6); mean and SD given for reference"
            .into(),
    )
    .ok_or_else(|| "nothing of the body remains after a 4 mm erosion".to_string());
    (trab, ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body on a grid: voxels whose centre satisfies `inside(x, y, z)` (LPS mm) get `label`.
    fn raster(
        dims: [usize; 3],
        geom: Geometry,
        label: u8,
        inside: impl Fn(V3) -> bool,
    ) -> Volume<u8> {
        let mut v = Volume::<u8>::zeros(dims, geom).unwrap();
        for k in 0..dims[2] {
            for j in 0..dims[1] {
                for i in 0..dims[0] {
                    if inside(geom.index_to_world([i as f64, j as f64, k as f64])) {
                        v.set(i, j, k, label);
                    }
                }
            }
        }
        v
    }

    #[test]
    fn box_heights_and_flat_endplates() {
        // 40 (LR) × 30 (AP) × 24 (SI) mm box at 0.7 × 0.9 × 1.3 mm voxels.
        let geom = Geometry {
            origin_mm: [-30.0, -30.0, -30.0],
            spacing_mm: [0.7, 0.9, 1.3],
            ..Geometry::identity([1.0; 3])
        };
        let m = raster([90, 70, 50], geom, 20, |x| {
            x[0].abs() <= 20.0 && x[1].abs() <= 15.0 && x[2].abs() <= 12.0
        });
        let view = MaskView::new(&m, Some(20));
        let g = analyse(&view, None, [0.0; 3], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]).unwrap();
        for h in g.heights_mm {
            // Voxel centres inside |z| ≤ 12 on a 1.3 mm grid: the 0.5 level is within half a voxel.
            assert!((h - 24.0).abs() < 0.7, "{h}");
        }
        assert!((g.depth_mm() - 30.0).abs() < 1.0, "{}", g.depth_mm());
        assert!((g.width_mm() - 40.0).abs() < 0.8, "{}", g.width_mm());
        let sup = g.sup.as_ref().unwrap();
        assert!(sup.coronal_tilt_deg.abs() < 0.5 && sup.sagittal_tilt_deg.abs() < 0.5);
        assert!((sup.ap_length_mm - 30.0).abs() < 1.0);
        // Posterior corner at +y, superior.
        assert!(sup.posterior_corner_mm[1] > 14.0 && sup.posterior_corner_mm[2] > 11.0);
    }

    #[test]
    fn wedge_heights_on_an_oblique_grid() {
        // Wedge: anterior (y = −15) height 14 mm, posterior (y = +15) height 26 mm, in a frame rotated 20°
        // about the left axis, sampled on a grid rotated 25° about z.
        let (ca, sa) = (20f64.to_radians().cos(), 20f64.to_radians().sin());
        let s_ax = [0.0, -sa, ca];
        let p_ax = [0.0, ca, sa];
        let l_ax = [1.0, 0.0, 0.0];
        let (cg, sg) = (25f64.to_radians().cos(), 25f64.to_radians().sin());
        let geom = Geometry {
            origin_mm: [-40.0 * cg + 40.0 * sg, -40.0 * sg - 40.0 * cg, -40.0],
            spacing_mm: [0.8, 0.8, 1.0],
            direction: [[cg, sg, 0.0], [-sg, cg, 0.0], [0.0, 0.0, 1.0]],
        };
        let half_h = |y: f64| 0.5 * (20.0 + 12.0 * y / 30.0); // 14 at y = −15, 26 at y = +15
        let m = raster([100, 100, 80], geom, 7, |x| {
            let (u, v, h) = (dot(x, p_ax), dot(x, l_ax), dot(x, s_ax));
            v.abs() <= 20.0 && u.abs() <= 15.0 && h.abs() <= half_h(u)
        });
        let view = MaskView::new(&m, Some(7));
        // Slightly wrong hints: the frame comes from them, so use the true axes here.
        let g = analyse(&view, None, [0.0, 0.0, 0.0], s_ax, p_ax).unwrap();
        let want = [
            2.0 * half_h(-15.0 + 4.5),
            2.0 * half_h(0.0),
            2.0 * half_h(15.0 - 4.5),
        ];
        for (h, w) in g.heights_mm.iter().zip(want) {
            assert!((h - w).abs() < 0.8, "{h} vs {w}");
        }
        // Superior plane tilts anteriorly-down by atan(6/30) relative to the body axis.
        let sup = g.sup.as_ref().unwrap();
        let rel = dot(sup.normal, p_ax)
            .atan2(dot(sup.normal, s_ax))
            .to_degrees();
        assert!(
            (rel + (6.0f64 / 30.0).atan().to_degrees()).abs() < 1.5,
            "{rel}"
        );
    }

    #[test]
    fn ct_refinement_corrects_a_too_tall_mask() {
        // True body: |z| ≤ 12 with a 1 mm cortical endplate (1000 HU) over marrow (170 HU), disc (85 HU) outside;
        // the mask claims |z| ≤ 13.5 (as a coarse segmentation would). CT on a 1 mm grid, partial volume
        // modelled by 4×4×4 supersampling. A 1 mm plate on a 1 mm grid is located to a fraction of a voxel only.
        let geom = Geometry {
            origin_mm: [-30.0, -30.0, -30.0],
            ..Geometry::identity([1.0; 3])
        };
        let dims = [61, 61, 61];
        let m = raster(dims, geom, 22, |x| {
            x[0].abs() <= 20.0 && x[1].abs() <= 15.0 && x[2].abs() <= 13.5
        });
        let hu = |x: V3| -> f64 {
            if x[0].abs() > 20.0 || x[1].abs() > 15.0 || x[2].abs() > 12.0 {
                85.0
            } else if x[2].abs() > 11.0 {
                1000.0
            } else {
                170.0
            }
        };
        let mut ct = Volume::<i16>::zeros(dims, geom).unwrap();
        for k in 0..dims[2] {
            for j in 0..dims[1] {
                for i in 0..dims[0] {
                    let c = geom.index_to_world([i as f64, j as f64, k as f64]);
                    let mut acc = 0.0;
                    for a in 0..64 {
                        let o = [(a % 4) as f64, ((a / 4) % 4) as f64, (a / 16) as f64];
                        acc += hu(std::array::from_fn(|d| c[d] + (o[d] - 1.5) * 0.25));
                    }
                    ct.set(i, j, k, (acc / 64.0).round() as i16);
                }
            }
        }
        let view = MaskView::new(&m, Some(22));
        let raw = analyse(&view, None, [0.0; 3], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]).unwrap();
        assert!(raw.heights_mm[1] > 26.5, "{:?}", raw.heights_mm);
        let ctv = CtView::new(&ct);
        let g = analyse(
            &view,
            Some(&ctv),
            [0.0; 3],
            [0.0, 0.0, 1.0],
            [0.0, 1.0, 0.0],
        )
        .unwrap();
        assert_eq!(g.height_lines_refined, g.height_lines);
        for h in g.heights_mm {
            // Half a voxel per end at most (the plate's position within a voxel is ambiguous).
            assert!((h - 24.0).abs() <= 1.0, "{:?}", g.heights_mm);
        }
    }

    #[test]
    fn density_roi_avoids_cortex_and_posterior_centre() {
        // Cylinder body: cortex 800 HU in the outer 1.5 mm, marrow 150 HU, a 400 HU "vein" in the posterior
        // centre; the trabecular ROI must read 150.
        let geom = Geometry::identity([1.0, 1.0, 1.0]);
        let dims = [60, 60, 40];
        let origin = [-30.0, -30.0, -20.0];
        let geom = Geometry {
            origin_mm: origin,
            ..geom
        };
        let inside =
            |x: V3| (x[0] / 20.0).powi(2) + (x[1] / 15.0).powi(2) <= 1.0 && x[2].abs() <= 12.0;
        let m = raster(dims, geom, 21, inside);
        let mut ct = Volume::<i16>::zeros(dims, geom).unwrap();
        for k in 0..dims[2] {
            for j in 0..dims[1] {
                for i in 0..dims[0] {
                    let x = geom.index_to_world([i as f64, j as f64, k as f64]);
                    let shrunk = |x: V3| {
                        (x[0] / 18.5).powi(2) + (x[1] / 13.5).powi(2) <= 1.0 && x[2].abs() <= 10.5
                    };
                    let v = if !inside(x) {
                        0
                    } else if !shrunk(x) {
                        800
                    } else if x[1] > 3.0 && x[0].abs() < 4.0 {
                        400
                    } else {
                        150
                    };
                    ct.set(i, j, k, v);
                }
            }
        }
        let view = MaskView::new(&m, Some(21));
        let g = analyse(&view, None, [0.0; 3], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]).unwrap();
        let (trab, ts) = density(&ct, &m, 21, ([10, 15, 8], [50, 45, 32]), &g);
        let trab = trab.unwrap();
        assert_eq!(trab.mean_hu, 150.0);
        assert!(trab.voxel_count > 500, "{}", trab.voxel_count);
        assert!((trab.volume_ml - trab.voxel_count as f64 / 1000.0).abs() < 1e-12);
        // The eroded median includes the vein but is dominated by marrow.
        let ts = ts.unwrap();
        assert_eq!(ts.median_hu, 150.0);
        assert!(ts.mean_hu > 150.0);
    }
}
