//! The spinal column as a chain of rigid vertebrae joined by wedge-shaped discs.
//!
//! The chain is built from the sacrum upward. Each vertebra gets an orientation from two angle profiles,
//! `R = about_y(φ) · about_x(ψ)`: φ is the coronal tilt (the endplate's left–right line rises to the left by
//! exactly φ, whatever ψ is) and ψ the sagittal tilt (ψ > 0: the endplate faces anteriorly). All the
//! curvature sits in the discs (and in wedged bodies), so coronal Cobb angles equal differences of φ exactly
//! and, without scoliosis, lordosis and kyphosis equal differences of the endplates' ψ exactly.

use crate::config::{FractureSpec, PhantomConfig, Side};
use crate::math::{v3, Frame, Rot, V3};
use crate::morphometry::{dims, endplate_concavity_mm, LevelDims};
use crate::shapes::BodyShape;
use spinekit_anatomy::{Disc, Enumeration, FractureShape, Level, Region};

/// Cortical wall and endplate thickness of vertebral bodies (mm).
pub const BODY_WALL_MM: f64 = 0.8;
pub const BODY_ENDPLATE_MM: f64 = 1.0;
/// HU added in the 5 mm impaction band under a fractured superior endplate.
pub const FRACTURE_BAND_HU: f64 = 150.0;

/// One bony segment: a free vertebra or a sacral segment.
#[derive(Debug, Clone)]
pub struct Segment {
    pub level: Level,
    /// "L3", "S2", "fused L5".
    pub name: String,
    /// Free (presacral) vertebra, as opposed to a sacral segment.
    pub free: bool,
    /// Carries the level's label in the per-level body map (free vertebrae with a body and the top sacral segment).
    pub in_body_map: bool,
    pub dims: LevelDims,
    /// Body centre and axes (x left, y posterior, z superior).
    pub frame: Frame,
    /// Body as generated (None for C1).
    pub body: Option<BodyShape>,
    /// Body before any fracture.
    pub normal_body: Option<BodyShape>,
    pub fracture: Option<FractureSpec>,
    /// Height-loss reference for a crush fracture: mean posterior height of the normal neighbours.
    pub crush_reference_mm: Option<f64>,
    pub trabecular_hu: f64,
    /// Coronal tilt φ and sagittal frame tilt ψ (radians).
    pub phi: f64,
    pub psi: f64,
}

impl Segment {
    /// World centre and upward normal of the superior rim plane (at local x = y = 0).
    pub fn top_plane(&self) -> (V3, V3) {
        let b = self.body.as_ref().expect("segment with a body");
        let s = b.rim_slope();
        (
            self.frame.to_world(v3(0.0, 0.0, 0.5 * b.rim_height(0.0))),
            self.frame.dir_to_world(v3(0.0, -s, 1.0).normalized()),
        )
    }
    /// World centre and upward normal of the inferior rim plane.
    pub fn bottom_plane(&self) -> (V3, V3) {
        let b = self.body.as_ref().expect("segment with a body");
        let s = b.rim_slope();
        (
            self.frame.to_world(v3(0.0, 0.0, -0.5 * b.rim_height(0.0))),
            self.frame.dir_to_world(v3(0.0, s, 1.0).normalized()),
        )
    }
}

/// A disc between two segments.
#[derive(Debug, Clone)]
pub struct DiscModel {
    pub disc: Disc,
    /// Index of the upper and lower segment in [`SpineModel::segments`].
    pub upper: usize,
    pub lower: usize,
    /// Mid-disc height used (after widening for strong wedging and any degenerative narrowing).
    pub height_mm: f64,
    /// The height without degenerative narrowing.
    pub normal_height_mm: f64,
}

/// The whole column plus pelvic landmarks, in a provisional world frame (top sacral endplate centre at 0).
#[derive(Debug, Clone)]
pub struct SpineModel {
    pub enumeration: Enumeration,
    /// Cranial to caudal: C1 … last lumbar, then the sacral segments (top first).
    pub segments: Vec<Segment>,
    pub discs: Vec<DiscModel>,
    /// Femoral head centres (right, left) and radius.
    pub femoral_heads: [V3; 2],
    pub femoral_head_radius_mm: f64,
    /// Index of the true S1 segment (the pelvis hangs on it).
    pub s1_index: usize,
}

/// Dimensions of sacral segments S1…S5 (width, depth, height), shrinking caudally.
const SACRAL: [(f64, f64, f64); 5] = [
    (50.0, 36.0, 28.0),
    (40.0, 28.0, 24.0),
    (30.0, 20.0, 20.0),
    (22.0, 15.0, 16.0),
    (15.0, 11.0, 13.0),
];
/// Sacral kyphosis per segment (each lower segment faces more anteriorly-inferiorly).
const SACRAL_CURVE_DEG: f64 = 14.0;
/// Distance from the S1 endplate midpoint to the bicoxofemoral axis, and half the inter-femoral distance.
const HIP_DISTANCE_MM: f64 = 115.0;
const HIP_HALF_WIDTH_MM: f64 = 88.0;

fn body_from_dims(level: Level, d: &LevelDims) -> BodyShape {
    let c = endplate_concavity_mm(level);
    BodyShape {
        a: 0.5 * d.body_width_mm,
        b: 0.5 * d.body_depth_mm,
        rim_ant: d.height_ant_mm,
        rim_post: d.height_post_mm,
        conc_top: c,
        conc_bot: c,
        cup_top: 0.0,
        cup_bot: 0.0,
        wall_mm: BODY_WALL_MM,
        endplate_mm: BODY_ENDPLATE_MM,
        band_hu: 0.0,
    }
}

/// Deforms a normal body to the requested fracture so that the Genant ratio gives exactly `1 − loss`.
fn fracture_body(normal: &BodyShape, f: &FractureSpec, crush_ref: Option<f64>) -> BodyShape {
    let loss = f.target_loss();
    let [ya, _, _] = normal.measure_y();
    // Fraction of the central concavity present at the 15 %/85 % positions in the mid-sagittal plane.
    let k = 1.0 - (ya / normal.b).powi(2);
    let s0 = normal.conc_top + normal.conc_bot;
    let mut b = *normal;
    b.band_hu = FRACTURE_BAND_HU;
    match f.shape {
        FractureShape::Wedge => {
            let hp = normal.rim_post - k * s0;
            b.rim_ant = (1.0 - loss) * hp + k * s0;
        }
        FractureShape::Biconcave => {
            // Central cups of depth f in both endplates: Hm = rim0 − s0 − 2f, Hp = rim_post − k·s0 − 2f·cp.
            let rim0 = normal.rim_height(0.0);
            let cp = crate::shapes::cup((ya / normal.b).powi(2));
            let rhs = rim0 - s0 - (1.0 - loss) * (normal.rim_post - k * s0);
            let f = rhs / (2.0 * (1.0 - (1.0 - loss) * cp));
            b.cup_top = f;
            b.cup_bot = f;
        }
        FractureShape::Crush => {
            let hp = normal.rim_post - k * s0;
            let reference = crush_ref.unwrap_or(hp);
            let fct = (1.0 - loss) * reference / hp;
            b.rim_ant *= fct;
            b.rim_post *= fct;
            b.conc_top *= fct;
            b.conc_bot *= fct;
            b.cup_top *= fct;
            b.cup_bot *= fct;
        }
    }
    b
}

/// Coronal tilt profile (radians) for every entry of `levels` (free vertebrae then the sacrum).
fn coronal_profile(cfg: &PhantomConfig, levels: &[Level]) -> Vec<f64> {
    let n = levels.len();
    let mut phi = vec![0.0; n];
    let Some(sc) = cfg.scoliosis else {
        return phi;
    };
    let Some(a) = levels.iter().position(|&l| l == sc.apex) else {
        return phi;
    };
    let h = sc.half_span_levels as usize;
    let (u, l) = (a - h, a + h);
    let half = 0.5 * sc.cobb_deg.to_radians();
    // Convex right: going up from the lower end vertebra the spine moves right (−x), which needs φ > 0.
    let s = match sc.convex {
        Side::Right => 1.0,
        Side::Left => -1.0,
    };
    let sac = n - 1;
    let n_up = h.min(u - 1).max(1);
    let n_dn = h.min(sac - l).max(1);
    for (i, p) in phi.iter_mut().enumerate() {
        let fi = i as f64;
        *p = if i < u {
            if u - i <= n_up {
                -s * half
                    * 0.5
                    * (1.0 + (std::f64::consts::PI * (u - i) as f64 / n_up as f64).cos())
            } else {
                0.0
            }
        } else if i <= a {
            -s * half * (std::f64::consts::FRAC_PI_2 * (fi - u as f64) / (a - u) as f64).cos()
        } else if i <= l {
            s * half * (std::f64::consts::FRAC_PI_2 * (fi - a as f64) / (l - a) as f64).sin()
        } else if i - l <= n_dn {
            s * half * 0.5 * (1.0 + (std::f64::consts::PI * (i - l) as f64 / n_dn as f64).cos())
        } else {
            0.0
        };
    }
    // C1 rides on C2.
    if n > 1 {
        phi[0] = phi[1];
    }
    phi
}

/// Kyphotic wedge angle of a body (ψ_superior − ψ_inferior), radians.
fn body_kyphosis(b: &BodyShape) -> f64 {
    2.0 * b.rim_slope().atan()
}

/// Builds the column for `cfg` (validated).
pub fn build(cfg: &PhantomConfig) -> SpineModel {
    let e = cfg.enumeration;
    let levels = e.levels(); // C1 … last lumbar, sacrum
    let n_free = levels.len() - 1;
    let phi = coronal_profile(cfg, &levels);
    let phi_sacrum = phi[n_free];

    // Free vertebrae: shapes (with fractures).
    let normal: Vec<Option<BodyShape>> = levels[..n_free]
        .iter()
        .map(|&l| l.has_body().then(|| body_from_dims(l, &dims(l))))
        .collect();
    let sacral_top_dims = if e == Enumeration::SacralisedL5 {
        dims(Level::L5)
    } else {
        dims(Level::Sacrum)
    };
    let sacral_top_body = body_from_dims(Level::Sacrum, &sacral_top_dims);
    let mut segs: Vec<Segment> = Vec::new();
    for (i, &l) in levels[..n_free].iter().enumerate() {
        let fracture = cfg.fractures.iter().find(|f| f.level == l).copied();
        let k = 1.0 - 0.49;
        let hp = |b: &BodyShape| b.rim_post - k * (b.conc_top + b.conc_bot);
        let mut neigh = Vec::new();
        if i > 0 {
            if let Some(b) = &normal[i - 1] {
                neigh.push(hp(b));
            }
        }
        if i + 1 < n_free {
            if let Some(b) = &normal[i + 1] {
                neigh.push(hp(b));
            }
        } else {
            neigh.push(hp(&sacral_top_body));
        }
        let crush_ref = (!neigh.is_empty()).then(|| neigh.iter().sum::<f64>() / neigh.len() as f64);
        let body = match (&normal[i], &fracture) {
            (Some(nb), Some(f)) => Some(fracture_body(nb, f, crush_ref)),
            (nb, _) => *nb,
        };
        segs.push(Segment {
            level: l,
            name: l.name().to_string(),
            free: true,
            in_body_map: l.has_body(),
            dims: dims(l),
            frame: Frame::new(V3::ZERO, Rot::IDENTITY),
            body,
            normal_body: normal[i],
            fracture,
            crush_reference_mm: fracture
                .filter(|f| f.shape == FractureShape::Crush)
                .and(crush_ref),
            trabecular_hu: cfg.trabecular_hu_for(l),
            phi: phi[i],
            psi: 0.0,
        });
    }

    // Sacral segments, top first.
    let mut sacral: Vec<(String, LevelDims)> = Vec::new();
    if e == Enumeration::SacralisedL5 {
        sacral.push(("fused L5".into(), dims(Level::L5)));
    }
    for (k, &(w, dp, h)) in SACRAL.iter().enumerate() {
        let mut d = dims(Level::Sacrum);
        d.body_width_mm = w;
        d.body_depth_mm = dp;
        d.height_ant_mm = h + if k == 0 { 1.0 } else { 0.0 };
        d.height_post_mm = h;
        sacral.push((format!("S{}", k + 1), d));
    }
    let s1_index = n_free + usize::from(e == Enumeration::SacralisedL5);
    let ss = cfg.sagittal.sacral_slope_deg.to_radians();
    let sac_hu = cfg.trabecular_hu_for(Level::Sacrum);
    let mut prev: Option<(V3, V3, f64, f64)> = None; // centre, e3, rim/2, psi
    for (k, (name, d)) in sacral.iter().enumerate() {
        let mut body = body_from_dims(Level::Sacrum, d);
        if k > 0 {
            body.conc_top = 0.0;
            body.conc_bot = 0.0;
        }
        let (centre, psi) = match prev {
            None => {
                // The top sacral endplate has sagittal tilt = sacral slope exactly.
                let psi = ss - body.rim_slope().atan();
                let r = Rot::about_y(phi_sacrum).mul(&Rot::about_x(psi));
                (r.apply(v3(0.0, 0.0, -0.5 * body.rim_height(0.0))), psi)
            }
            Some((c, e3, half, psi_prev)) => {
                let psi = psi_prev - SACRAL_CURVE_DEG.to_radians();
                let r = Rot::about_y(phi_sacrum).mul(&Rot::about_x(psi));
                let dir = (e3 + r.apply(V3::Z)).normalized();
                // Segments overlap by 1 mm (fused, no disc).
                (c - dir * (half + 0.5 * body.rim_height(0.0) - 1.0), psi)
            }
        };
        let r = Rot::about_y(phi_sacrum).mul(&Rot::about_x(psi));
        segs.push(Segment {
            level: Level::Sacrum,
            name: name.clone(),
            free: false,
            in_body_map: k == 0,
            dims: *d,
            frame: Frame::new(centre, r),
            body: Some(body),
            normal_body: Some(body),
            fracture: None,
            crush_reference_mm: None,
            trabecular_hu: sac_hu,
            phi: phi_sacrum,
            psi,
        });
        prev = Some((centre, r.apply(V3::Z), 0.5 * body.rim_height(0.0), psi));
    }

    // Sagittal disc angles (lordotic positive: ψ decreases going up across the disc).
    let disc_list: Vec<Disc> = levels[1..n_free]
        .iter()
        .filter_map(|&l| Disc::below(l, e))
        .collect();
    let mut lordosis_of = std::collections::HashMap::new();
    let body_of = |l: Level| -> Option<BodyShape> {
        segs.iter()
            .find(|s| s.free && s.level == l)
            .and_then(|s| s.body)
    };
    // Lumbar: L1-L2 … last-S. Bodies L1..last contribute their own wedge.
    let lumbar: Vec<Level> = levels
        .iter()
        .copied()
        .filter(|l| l.region() == Region::Lumbar)
        .collect();
    let lumbar_discs: Vec<Disc> = disc_list
        .iter()
        .copied()
        .filter(|d| d.upper.region() == Region::Lumbar)
        .collect();
    let body_lordosis: f64 = lumbar
        .iter()
        .filter_map(|&l| body_of(l))
        .map(|b| -body_kyphosis(&b))
        .sum();
    let ll_disc = cfg.sagittal.lumbar_lordosis_deg.to_radians() - body_lordosis;
    let nl = lumbar_discs.len();
    let wsum: f64 = (1..=nl).map(|k| k as f64).sum();
    for (k, d) in lumbar_discs.iter().enumerate() {
        // Caudal discs carry more (L4–S1 about two thirds; Bernhardt & Bridwell, Spine 1989;14:717).
        lordosis_of.insert(*d, ll_disc * (k + 1) as f64 / wsum);
    }
    // Thoracic: T4-T5 … (last−1)-last. Bodies T4..last contribute their wedge.
    let last_t = e.last_thoracic();
    let tk_bodies: f64 = levels
        .iter()
        .copied()
        .filter(|&l| l.region() == Region::Thoracic && l >= Level::T4)
        .filter_map(body_of)
        .map(|b| body_kyphosis(&b))
        .sum();
    let th_discs: Vec<Disc> = disc_list
        .iter()
        .copied()
        .filter(|d| {
            d.upper >= Level::T4 && d.lower <= last_t && d.lower.region() == Region::Thoracic
        })
        .collect();
    let tk_disc = cfg.sagittal.thoracic_kyphosis_deg.to_radians() - tk_bodies;
    let nt = th_discs.len();
    let wts: Vec<f64> = (0..nt)
        .map(|k| (std::f64::consts::PI * (k as f64 + 0.5) / nt as f64).sin())
        .collect();
    let wts_sum: f64 = wts.iter().sum();
    for (d, w) in th_discs.iter().zip(&wts) {
        lordosis_of.insert(*d, -tk_disc * w / wts_sum);
    }
    for d in &disc_list {
        if lordosis_of.contains_key(d) {
            continue;
        }
        let v = match (d.upper.region(), d.lower.region()) {
            (Region::Cervical, Region::Cervical) => {
                cfg.sagittal.cervical_lordosis_deg.to_radians() / 5.0
            }
            (Region::Thoracic, Region::Thoracic) if d.lower <= Level::T4 => -(2.0f64).to_radians(),
            _ => 0.0,
        };
        lordosis_of.insert(*d, v);
    }

    // Chain upward from the top sacral segment.
    let mut discs = Vec::new();
    let mut lower_idx = n_free; // top sacral segment
    for i in (1..n_free).rev() {
        let (p_l, n_l) = segs[lower_idx].top_plane();
        let lower_psi_sup = segs[lower_idx].psi
            + segs[lower_idx]
                .body
                .as_ref()
                .map_or(0.0, |b| b.rim_slope().atan());
        let disc = Disc {
            upper: segs[i].level,
            lower: segs[lower_idx].level,
        };
        let mut dpsi = lordosis_of.get(&disc).copied().unwrap_or(0.0);
        let body = segs[i].body.expect("free vertebrae below C1 have bodies");
        let s_t = body.rim_slope();
        let lower_body = segs[lower_idx].body.expect("body");
        let half_w = 0.5 * (body.a + lower_body.a);
        let half_d = 0.5 * (body.b + lower_body.b);
        let dphi = (segs[i].phi - segs[lower_idx].phi).abs();
        let nominal = dims(segs[i].level).disc_below_mm;
        let wedge = |dpsi: f64| 1.5 + half_d * dpsi.abs().tan() + half_w * dphi.tan();
        let m_normal = nominal.max(wedge(dpsi));
        // Degenerative narrowing scales the nominal height. A narrowed disc cannot keep a wedge taller than
        // itself: its sagittal angle shrinks until the posterior edge is 1.5 mm (the lordosis lost with it is
        // what degenerated spines lose; the truth measures it on the geometry).
        let factor = cfg
            .degeneration
            .as_ref()
            .and_then(|d| d.disc(segs[i].level))
            .map_or(1.0, |d| d.height_factor);
        let m = if factor < 1.0 {
            let target = factor * nominal;
            segs[i].dims.disc_below_mm = target;
            let room = ((target - 1.5 - half_w * dphi.tan()) / half_d).max(0.0);
            if dpsi.abs().tan() > room {
                dpsi = dpsi.signum() * room.atan();
            }
            target.max(wedge(dpsi))
        } else {
            m_normal
        };
        let psi_inf = lower_psi_sup - dpsi;
        let psi = psi_inf + s_t.atan();
        let r = Rot::about_y(segs[i].phi).mul(&Rot::about_x(psi));
        let n_b = r.apply(v3(0.0, s_t, 1.0).normalized());
        let n_d = (n_l + n_b).normalized();
        let p_u = p_l + n_d * m;
        let centre = p_u + r.apply(v3(0.0, 0.0, 0.5 * body.rim_height(0.0)));
        segs[i].frame = Frame::new(centre, r);
        segs[i].psi = psi;
        discs.push(DiscModel {
            disc,
            upper: i,
            lower: lower_idx,
            height_mm: m,
            normal_height_mm: m_normal,
        });
        lower_idx = i;
    }
    discs.reverse();
    // C1 sits on C2's dens, 10 mm above the C2 body, same orientation.
    {
        let (p, _) = segs[1].top_plane();
        let r = segs[1].frame.r;
        segs[0].frame = Frame::new(p + r.apply(v3(0.0, 0.0, 10.0)), r);
        segs[0].psi = segs[1].psi;
    }

    // Femoral heads from the pelvic tilt: the hip axis lies HIP_DISTANCE below the top sacral endplate
    // midpoint, PT anterior of the vertical (PI = PT + SS).
    let (m, _) = segs[n_free].top_plane();
    let pt = cfg.sagittal.pelvic_tilt_deg.to_radians();
    let hip = m + v3(0.0, -pt.sin(), -pt.cos()) * HIP_DISTANCE_MM;
    let femoral_heads = [
        hip - v3(HIP_HALF_WIDTH_MM, 0.0, 0.0),
        hip + v3(HIP_HALF_WIDTH_MM, 0.0, 0.0),
    ];
    SpineModel {
        enumeration: e,
        segments: segs,
        discs,
        femoral_heads,
        femoral_head_radius_mm: 24.0,
        s1_index,
    }
}

impl SpineModel {
    /// Moves everything by `t`.
    pub fn translate(&mut self, t: V3) {
        for s in &mut self.segments {
            s.frame.o += t;
        }
        for h in &mut self.femoral_heads {
            *h += t;
        }
    }

    /// The free vertebra (or top sacral segment for `Level::Sacrum`) of `level`.
    pub fn segment(&self, level: Level) -> Option<&Segment> {
        self.segments
            .iter()
            .find(|s| s.level == level && (s.free || s.in_body_map))
    }

    /// Index of the top sacral segment.
    pub fn sacrum_top(&self) -> usize {
        self.segments
            .iter()
            .position(|s| !s.free)
            .expect("sacrum exists")
    }

    /// z extent (min, max) of the solid body of segment `i` plus its posterior elements' rough reach.
    pub fn segment_z_range(&self, i: usize) -> (f64, f64) {
        let s = &self.segments[i];
        let (lo, hi) = match &s.body {
            Some(b) => {
                let h = 0.5 * b.max_rim();
                (v3(-b.a, -b.b, -h), v3(b.a, b.b, h))
            }
            None => (v3(-20.0, -10.0, -6.0), v3(20.0, 30.0, 6.0)),
        };
        let (wlo, whi) = crate::shapes::world_bounds(&s.frame, lo, hi);
        (wlo.z, whi.z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Scoliosis;

    fn sag_tilt(n: V3) -> f64 {
        // Sagittal tilt of a plane with upward normal n: the endplate's AP line is perpendicular to n.
        (-n.y).atan2(n.z)
    }

    #[test]
    fn lordosis_and_kyphosis_are_exact_without_scoliosis() {
        let cfg = PhantomConfig::default();
        let m = build(&cfg);
        let (_, n_s1) = m.segments[m.sacrum_top()].top_plane();
        let (_, n_l1) = m.segment(Level::L1).unwrap().top_plane();
        let ll = (sag_tilt(n_s1) - sag_tilt(n_l1)).to_degrees();
        assert!((ll - 55.0).abs() < 1e-9, "{ll}");
        assert!((sag_tilt(n_s1).to_degrees() - 40.0).abs() < 1e-9);
        let (_, n_t4) = m.segment(Level::T4).unwrap().top_plane();
        let (_, n_t12) = m.segment(Level::T12).unwrap().bottom_plane();
        let tk = (sag_tilt(n_t4) - sag_tilt(n_t12)).to_degrees();
        assert!((tk - 40.0).abs() < 1e-9, "{tk}");
        // Vertebrae stack upward without overlapping.
        for d in &m.discs {
            let (pu, _) = m.segments[d.upper].bottom_plane();
            let (pl, _) = m.segments[d.lower].top_plane();
            assert!(pu.z > pl.z, "{}", d.disc);
        }
    }

    #[test]
    fn coronal_tilts_give_the_requested_cobb() {
        let cfg = PhantomConfig {
            scoliosis: Some(Scoliosis {
                cobb_deg: 35.0,
                apex: Level::T9,
                half_span_levels: 4,
                convex: Side::Right,
            }),
            ..PhantomConfig::default()
        };
        let m = build(&cfg);
        let tilt = |l: Level| {
            let e1 = m.segment(l).unwrap().frame.r.c[0];
            e1.z.atan2(e1.x).to_degrees()
        };
        let cobb = tilt(Level::T5) - tilt(Level::L1);
        assert!((cobb.abs() - 35.0).abs() < 1e-9, "{cobb}");
        // Convex right: the apex lies to the patient's right (−x) of the end vertebrae's line.
        let c = |l: Level| m.segment(l).unwrap().frame.o;
        let (u, a, l) = (c(Level::T5), c(Level::T9), c(Level::L1));
        let t = (a.z - l.z) / (u.z - l.z);
        assert!(a.x < l.x + t * (u.x - l.x) - 5.0);
    }
}
