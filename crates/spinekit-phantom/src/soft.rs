//! Soft tissues, painted slice by slice as 2D regions (superellipse spans per row, anti-aliased at the
//! span ends): body outline, skin, fat, muscles, organs, bowel with gas, vessels, lungs, table.
//!
//! Everything is placed relative to the spine at the slice's height, so the body follows the spinal curves;
//! random elements (bowel loops, plaques) are drawn once from the seed before rasterisation.

use crate::config::{ContrastPhase, PhantomConfig};
use crate::math::{lerp, smoothstep, v3, V3};
use crate::scene::Scene;
use crate::spine::SpineModel;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spinekit_anatomy::{Level, Tissue};

/// Spine cross-section at a given height (interpolated between vertebral centres).
#[derive(Debug, Clone, Copy, Default)]
pub struct SpineAt {
    pub x: f64,
    pub y: f64,
    pub half_w: f64,
    pub half_d: f64,
    /// Local y (from the body centre) of the spinous tips.
    pub post_reach: f64,
    /// Local y of the laminae.
    pub lamina_y: f64,
    /// Continuous level index (C1 = 0).
    pub ordinal: f64,
}

/// Outline of the patient at one slice: asymmetric superellipse centred on the spine's y.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outline {
    pub cy: f64,
    pub a: f64,
    pub b_ant: f64,
    pub b_post: f64,
}

/// A random bowel loop (ellipsoid) with optional gas in its anterior (non-dependent) part.
#[derive(Debug, Clone, Copy)]
pub struct Loop {
    pub c: V3,
    pub r: V3,
    /// Fraction of the AP diameter filled with gas (0 = none).
    pub gas: f64,
    /// Colon (mottled stool) rather than small bowel (fluid).
    pub colon: bool,
}

/// Per-phase HU of enhancing tissues.
#[derive(Debug, Clone, Copy)]
pub struct Enhancement {
    pub aorta: f64,
    pub vein: f64,
    pub liver: f64,
    pub spleen: f64,
    pub kidney: f64,
    pub bowel_wall: f64,
    pub heart: f64,
}

impl Enhancement {
    pub fn new(phase: ContrastPhase, aorta_override: Option<f64>) -> Self {
        let mut e = match phase {
            ContrastPhase::NonContrast => Enhancement {
                aorta: 40.0,
                vein: 40.0,
                liver: 58.0,
                spleen: 48.0,
                kidney: 32.0,
                bowel_wall: 38.0,
                heart: 40.0,
            },
            ContrastPhase::Arterial => Enhancement {
                aorta: 300.0,
                vein: 90.0,
                liver: 75.0,
                spleen: 120.0,
                kidney: 170.0,
                bowel_wall: 70.0,
                heart: 280.0,
            },
            ContrastPhase::PortalVenous => Enhancement {
                aorta: 160.0,
                vein: 150.0,
                liver: 110.0,
                spleen: 115.0,
                kidney: 165.0,
                bowel_wall: 85.0,
                heart: 150.0,
            },
        };
        e.aorta = aorta_override.unwrap_or(phase.default_aorta_hu());
        e
    }
}

/// Precomputed soft-tissue model for the whole grid.
#[derive(Debug, Clone)]
pub struct SoftModel {
    pub spine: Vec<SpineAt>,
    pub outline: Vec<Outline>,
    pub z: Vec<f64>,
    pub loops: Vec<Loop>,
    /// Vascular calcifications: (z, angle, arc half-width rad, thickness mm).
    pub plaques: Vec<(f64, f64, f64, f64)>,
    /// Degenerative aortic plaques (empty without degeneration).
    pub degen_plaques: Vec<crate::degen::Plaque>,
    /// How far (mm) the aorta is moved forward so that osteophytes do not grow into it (0 without them).
    pub aorta_shift_mm: f64,
    pub table_y: f64,
    pub enh: Enhancement,
    /// Small-bowel fluid HU (positive oral contrast; water without it).
    pub bowel_fluid_hu: f64,
    pub sc_fat: f64,
    pub muscle: f64,
    /// Key heights (world z).
    pub z_dome: f64,
    pub z_t11: f64,
    pub z_t12: f64,
    pub z_t12_inf: f64,
    pub z_l1: f64,
    pub z_l2: f64,
    pub z_l4: f64,
    pub z_l5: f64,
    pub z_t1_top: f64,
    pub z_crest: f64,
    pub hips: [V3; 2],
    /// Centre of the true S1 superior endplate (origin of the pelvic bones' frame).
    pub pelvis_origin: V3,
    /// Ordinal of L1 (for muscle profiles).
    pub ord_l1: f64,
}

/// Fat and tissue HU (non-enhancing).
pub const HU_AIR: f32 = -1000.0;
pub const HU_SKIN: f32 = 40.0;
pub const HU_SC_FAT: f32 = -105.0;
pub const HU_VISC_FAT: f32 = -95.0;
pub const HU_OTHER_FAT: f32 = -90.0;
pub const HU_MUSCLE: f32 = 48.0;
pub const HU_PARASPINAL: f32 = 42.0;
pub const HU_LUNG: f32 = -860.0;
pub const HU_GAS: f32 = -990.0;
pub const HU_FLUID: f32 = 12.0;
pub const HU_URINE: f32 = 6.0;
pub const HU_CALC: f32 = 650.0;

/// Interpolates the spine at height z from segment centres sorted by z.
pub(crate) fn spine_at(model: &SpineModel, z: f64) -> SpineAt {
    let mut pts: Vec<(f64, SpineAt)> = model
        .segments
        .iter()
        .enumerate()
        .filter(|(_, s)| s.body.is_some())
        .map(|(i, s)| {
            let b = s.body.expect("body");
            let d = s.dims;
            let beta = d.spinous_angle_deg.to_radians();
            let post = if s.free {
                b.b + d.canal_depth_mm + 2.0 + (d.spinous_length_mm + 4.0) * beta.cos()
            } else {
                b.b + 24.0
            };
            (
                s.frame.o.z,
                SpineAt {
                    x: s.frame.o.x,
                    y: s.frame.o.y,
                    half_w: b.a,
                    half_d: b.b,
                    post_reach: post,
                    lamina_y: b.b + d.canal_depth_mm + 3.0,
                    ordinal: i as f64,
                },
            )
        })
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    if z <= pts[0].0 {
        return pts[0].1;
    }
    if z >= pts[pts.len() - 1].0 {
        return pts[pts.len() - 1].1;
    }
    let k = pts.partition_point(|p| p.0 <= z);
    let (z0, a) = pts[k - 1];
    let (z1, b) = pts[k];
    let t = (z - z0) / (z1 - z0);
    SpineAt {
        x: lerp(a.x, b.x, t),
        y: lerp(a.y, b.y, t),
        half_w: lerp(a.half_w, b.half_w, t),
        half_d: lerp(a.half_d, b.half_d, t),
        post_reach: lerp(a.post_reach, b.post_reach, t),
        lamina_y: lerp(a.lamina_y, b.lamina_y, t),
        ordinal: lerp(a.ordinal, b.ordinal, t),
    }
}

fn level_z(model: &SpineModel, l: Level) -> Option<f64> {
    model.segment(l).map(|s| s.frame.o.z)
}

/// Least gap (mm) between a small-bowel loop holding oral contrast and any bone: the iliacus and psoas, 10–20 mm
/// thick, line the iliac fossae and the lumbar spine.
const ORAL_LOOP_BONE_GAP_MM: f64 = 10.0;

/// Whether loop `l` (bounded by the sphere of its largest radius) comes within `gap_mm` of a bone of `scene`.
fn near_bone(scene: &Scene, l: &Loop, gap_mm: f64) -> bool {
    let reach = l.r.x.max(l.r.y).max(l.r.z) + gap_mm;
    scene.bone.iter().any(|b| {
        let outside = |c: f64, lo: f64, hi: f64| (lo - c).max(c - hi).max(0.0);
        let d = (outside(l.c.x, b.lo.x, b.hi.x).powi(2)
            + outside(l.c.y, b.lo.y, b.hi.y).powi(2)
            + outside(l.c.z, b.lo.z, b.hi.z).powi(2))
        .sqrt();
        d < reach && b.sdf(l.c) < reach
    })
}

impl SoftModel {
    /// Builds the model for slices at heights `z`.
    pub fn new(cfg: &PhantomConfig, model: &SpineModel, scene: &Scene, z: Vec<f64>) -> SoftModel {
        let e = model.enumeration;
        let spine: Vec<SpineAt> = z.iter().map(|&zz| spine_at(model, zz)).collect();
        let lz = |l: Level| level_z(model, l);
        let last_t = e.last_thoracic();
        let last_l = e.last_lumbar();
        let z_t12 = lz(last_t).unwrap_or(0.0);
        let z_l1 = lz(Level::L1).unwrap_or(z_t12 - 35.0);
        let z_l2 = lz(Level::L2).unwrap_or(z_l1 - 36.0);
        let z_l3 = lz(Level::L3).unwrap_or(z_l2 - 37.0);
        let z_l4 = lz(Level::L4).unwrap_or(z_l3 - 37.0);
        let z_l5 = lz(last_l).unwrap_or(z_l4 - 37.0);
        let z_t11 = z_t12 + 30.0;
        let z_dome = lz(Level::T9).unwrap_or(z_t12 + 85.0) - 10.0;
        let z_t12_inf = z_t12 - 14.0;
        let z_t1_top = lz(Level::T1).unwrap_or(z_t12 + 300.0) + 10.0;
        let ord_of = |l: Level| {
            model
                .segments
                .iter()
                .position(|s| s.free && s.level == l)
                .unwrap_or(0) as f64
        };

        let b = &cfg.body;
        let sc_fat = b.subcutaneous_fat_mm;
        // Outline: base abdomen from the habitus, widened where ribs or pelvic bones reach further out.
        let n = z.len();
        // Envelope of ribs and pelvic bones along z: a parabolic dilation (each point reaches ±40 mm in z,
        // receding quadratically), so the outline is smooth where bones come and go.
        let mut bone_hw = vec![0.0f64; n];
        let mut bone_front = vec![f64::INFINITY; n];
        let mut pts = scene.rib_points.clone();
        pts.extend(pelvic_outline_points(scene));
        const REACH_MM: f64 = 40.0;
        const CURV: f64 = 0.02;
        for p in &pts {
            let lo = z.partition_point(|&zz| zz < p.z - REACH_MM);
            let hi = z.partition_point(|&zz| zz <= p.z + REACH_MM);
            for k in lo..hi.min(n) {
                let fall = CURV * (z[k] - p.z).powi(2);
                bone_hw[k] = bone_hw[k].max(p.x.abs() - fall);
                bone_front[k] = bone_front[k].min(p.y + fall);
            }
        }
        let base: Vec<Outline> = (0..n)
            .map(|k| {
                let s = spine[k];
                let zz = z[k];
                let b_post = s.post_reach + 8.0 + 0.8 * sc_fat + 2.0;
                let neck = smoothstep(z_t1_top - 20.0, z_t1_top + 30.0, zz);
                let a_base =
                    0.5 * b.abdomen_lr_mm * (1.0 - 0.1 * smoothstep(z_l1, z_t12 + 60.0, zz));
                let mut a = a_base.max(bone_hw[k] + 16.0 + 1.2 * sc_fat);
                let mut b_ant = (b.abdomen_ap_mm - b_post).max(60.0);
                if bone_front[k].is_finite() {
                    b_ant = b_ant.max(s.y - bone_front[k] + 14.0 + sc_fat);
                }
                // Neck above the thorax.
                a = lerp(a, 65.0 + 0.3 * sc_fat, neck);
                b_ant = lerp(b_ant, 70.0, neck);
                let b_post = lerp(b_post, s.post_reach + 30.0, neck);
                Outline {
                    cy: s.y,
                    a,
                    b_ant,
                    b_post,
                }
            })
            .collect();
        // Supine on a flat table: the back rests on it, so the soft tissue behind a lordotic segment fills
        // down to within a few millimetres of the table top.
        let table_y = base
            .iter()
            .map(|o| o.cy + o.b_post)
            .fold(f64::NEG_INFINITY, f64::max)
            + 1.0;
        let outline: Vec<Outline> = base
            .into_iter()
            .map(|o| Outline {
                b_post: o.b_post.max(table_y - 1.0 - 6.0 - o.cy),
                ..o
            })
            .collect();

        // Bowel loops and colon from the seed.
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5EED_B0E1_u64);
        let mut loops = Vec::new();
        let z_top_bowel = z_l1 + 10.0;
        let z_bot_bowel = model.femoral_heads[0].z - 20.0;
        let outline_at = |zz: f64| -> (Outline, SpineAt) {
            let sp = spine_at(model, zz);
            let k = z.partition_point(|&q| q < zz).min(n - 1);
            (outline[k], sp)
        };
        let n_loops = (((z_top_bowel - z_bot_bowel) / 200.0) * 220.0).clamp(20.0, 400.0) as usize;
        for _ in 0..n_loops {
            let zz = rng.random_range(z_bot_bowel..z_top_bowel);
            let (o, sp) = outline_at(zz);
            let inner_a = o.a - sc_fat * 1.2 - 20.0;
            let front = o.cy - o.b_ant + sc_fat + 16.0;
            let back = sp.y - sp.half_d - 8.0;
            if inner_a < 30.0 || back - front < 30.0 {
                continue;
            }
            let r = rng.random_range(10.0..19.0);
            let x = rng.random_range(-(inner_a - r)..(inner_a - r)) + 0.0;
            let y = rng.random_range((front + r)..(back - 0.5 * r).max(front + r + 1.0));
            // Keep the midline just in front of the spine for the vessels.
            if (x - sp.x).abs() < 30.0 && y > back - 25.0 {
                continue;
            }
            let gas = if rng.random_bool(0.3) {
                rng.random_range(0.2..0.7)
            } else {
                0.0
            };
            let l = Loop {
                c: v3(x, y, zz),
                r: v3(
                    r * rng.random_range(0.8..1.3),
                    r,
                    r * rng.random_range(0.9..1.6),
                ),
                gas,
                colon: false,
            };
            // Muscle (iliacus, psoas) lies between the bowel and the bones; with dense oral contrast in the loop a
            // contact would make contrast abut bone. (Decided after every draw, and only with oral contrast, so
            // that the phantoms without it stay the same.)
            if cfg.oral_contrast_hu.is_some() && near_bone(scene, &l, ORAL_LOOP_BONE_GAP_MM) {
                continue;
            }
            loops.push(l);
        }
        // Ascending and descending colon in the flanks, transverse colon anteriorly below the liver.
        let mut zc = z_bot_bowel + 40.0;
        while zc < z_l1 + 20.0 {
            let (o, sp) = outline_at(zc);
            let inner_a = o.a - sc_fat * 1.2 - 16.0;
            for side in [-1.0, 1.0] {
                let r = rng.random_range(18.0..25.0);
                loops.push(Loop {
                    c: v3(
                        side * (inner_a - r - 4.0),
                        sp.y - sp.half_d - 5.0 - rng.random_range(0.0..25.0),
                        zc,
                    ),
                    r: v3(r, r, r * 1.3),
                    gas: if rng.random_bool(0.6) {
                        rng.random_range(0.3..0.8)
                    } else {
                        0.0
                    },
                    colon: true,
                });
            }
            zc += 30.0;
        }
        {
            let (o, _) = outline_at(z_l2);
            let inner_a = o.a - sc_fat * 1.2 - 30.0;
            let mut x = -inner_a + 25.0;
            while x < inner_a - 25.0 {
                let r = rng.random_range(17.0..24.0);
                loops.push(Loop {
                    c: v3(
                        x,
                        o.cy - o.b_ant + sc_fat + 12.0 + r + 8.0,
                        z_l2 + rng.random_range(-10.0..10.0),
                    ),
                    r: v3(r * 1.3, r, r),
                    gas: if rng.random_bool(0.6) {
                        rng.random_range(0.3..0.8)
                    } else {
                        0.0
                    },
                    colon: true,
                });
                x += 32.0;
            }
        }
        // Aortic wall calcifications (common in older adults).
        let mut plaques = Vec::new();
        let np = rng.random_range(4..12);
        for _ in 0..np {
            plaques.push((
                rng.random_range((z_l5 - 20.0)..(z_t12 + 40.0)),
                rng.random_range(0.0..std::f64::consts::TAU),
                rng.random_range(0.2..0.7),
                rng.random_range(3.0..9.0),
            ));
        }
        // Degeneration: seeded plaques from the aortic bifurcation to above T12, and the aorta drapes over the
        // osteophytes in front of the bodies.
        let (degen_plaques, aorta_shift_mm) = match &cfg.degeneration {
            Some(d) => (
                crate::degen::plaques(d, cfg.seed, z_l4, z_t12 + 20.0),
                d.max_osteophyte_mm(),
            ),
            None => (Vec::new(), 0.0),
        };
        SoftModel {
            spine,
            outline,
            z,
            loops,
            plaques,
            degen_plaques,
            aorta_shift_mm,
            table_y,
            enh: Enhancement::new(cfg.contrast_phase, cfg.aorta_hu),
            bowel_fluid_hu: cfg.oral_contrast_hu.unwrap_or(HU_FLUID as f64),
            sc_fat,
            muscle: b.muscle_scale,
            z_dome,
            z_t11,
            z_t12,
            z_t12_inf,
            z_l1,
            z_l2,
            z_l4,
            z_l5,
            z_t1_top,
            z_crest: scene.iliac_crest_z,
            hips: model.femoral_heads,
            pelvis_origin: model.segments[model.s1_index].top_plane().0,
            ord_l1: ord_of(Level::L1),
        }
    }
}

/// Points inside the non-vertebral bones other than ribs (pelvis, femora) on an 8 mm lattice, which the
/// body outline must contain.
fn pelvic_outline_points(scene: &Scene) -> Vec<V3> {
    let mut pts = Vec::new();
    for p in scene.bone.iter().filter(|p| p.segment.is_none()) {
        if let crate::shapes::Shape::Capsule { ra, .. } = p.shape {
            if ra < 5.0 {
                continue; // rib segment: its centreline points are already in `rib_points`
            }
        }
        let step = 8.0;
        let n = |a: f64, b: f64| ((b - a) / step).ceil().max(1.0) as usize;
        let (nx, ny, nz) = (n(p.lo.x, p.hi.x), n(p.lo.y, p.hi.y), n(p.lo.z, p.hi.z));
        for k in 0..=nz {
            for j in 0..=ny {
                for i in 0..=nx {
                    let q = v3(
                        p.lo.x + (p.hi.x - p.lo.x) * i as f64 / nx as f64,
                        p.lo.y + (p.hi.y - p.lo.y) * j as f64 / ny as f64,
                        p.lo.z + (p.hi.z - p.lo.z) * k as f64 / nz as f64,
                    );
                    if p.sdf(q) < 0.0 {
                        pts.push(q);
                    }
                }
            }
        }
    }
    pts
}

/// A 2D paint operation for one slice.
#[derive(Debug, Clone, Copy)]
pub struct Op {
    pub cx: f64,
    pub cy: f64,
    pub a: f64,
    pub b_ant: f64,
    pub b_post: f64,
    pub p_ant: f64,
    pub p_post: f64,
    /// Paint only where y_min < y < y_max (e.g. gas in the non-dependent part of a loop).
    pub y_max: f64,
    pub y_min: f64,
    /// Paint only where x_min < x < x_max.
    pub x_min: f64,
    pub x_max: f64,
    pub hu: f32,
    pub tissue: Tissue,
    pub kind: OpKind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OpKind {
    Plain,
    /// Only the part outside an inner region with the same centre and exponents (a, b_ant, b_post).
    Ring(f64, f64, f64),
    /// Lung: only above the diaphragm surface.
    Lung,
    /// Mottled colon content.
    Stool,
}

impl Op {
    fn ellipse(cx: f64, cy: f64, a: f64, b: f64, hu: f32, tissue: Tissue) -> Op {
        Op {
            cx,
            cy,
            a,
            b_ant: b,
            b_post: b,
            p_ant: 2.0,
            p_post: 2.0,
            y_max: f64::INFINITY,
            y_min: f64::NEG_INFINITY,
            x_min: f64::NEG_INFINITY,
            x_max: f64::INFINITY,
            hu,
            tissue,
            kind: OpKind::Plain,
        }
    }

    #[inline]
    fn half(&self, y: f64, a: f64, b_ant: f64, b_post: f64) -> Option<f64> {
        let dy = y - self.cy;
        let (b, p) = if dy < 0.0 {
            (b_ant, self.p_ant)
        } else {
            (b_post, self.p_post)
        };
        if b <= 0.0 || a <= 0.0 {
            return None;
        }
        let t = dy.abs() / b;
        if t >= 1.0 {
            return None;
        }
        Some(a * superellipse(t, p))
    }

    /// The x intervals covered at row y (up to two for a ring).
    #[inline]
    pub fn intervals(&self, y: f64) -> ([(f64, f64); 2], usize) {
        let none = ([(0.0, 0.0); 2], 0);
        if y >= self.y_max || y <= self.y_min {
            return none;
        }
        let Some(h) = self.half(y, self.a, self.b_ant, self.b_post) else {
            return none;
        };
        let mut iv = [(self.cx - h, self.cx + h), (0.0, 0.0)];
        let mut n = 1;
        if let OpKind::Ring(ai, bai, bpi) = self.kind {
            if let Some(hi) = self.half(y, ai, bai, bpi) {
                if hi >= h {
                    return none;
                }
                iv = [(self.cx - h, self.cx - hi), (self.cx + hi, self.cx + h)];
                n = 2;
            }
        }
        // Clip to the x limits, dropping empty intervals.
        let mut out = [(0.0, 0.0); 2];
        let mut m = 0;
        for &(a, b) in &iv[..n] {
            let (a, b) = (a.max(self.x_min), b.min(self.x_max));
            if b > a {
                out[m] = (a, b);
                m += 1;
            }
        }
        (out, m)
    }

    pub fn y_range(&self) -> (f64, f64) {
        (
            (self.cy - self.b_ant).max(self.y_min),
            (self.cy + self.b_post).min(self.y_max),
        )
    }

    fn shrink(self, lat: f64, ant: f64, post: f64) -> Op {
        Op {
            a: self.a - lat,
            b_ant: self.b_ant - ant,
            b_post: self.b_post - post,
            ..self
        }
    }

    /// This region minus `inner` (same centre and exponents).
    fn ring(self, inner: &Op) -> Op {
        Op {
            kind: OpKind::Ring(inner.a, inner.b_ant, inner.b_post),
            ..self
        }
    }
}

/// (1 − tᵖ)^(1/p) with fast paths for the exponents used here.
#[inline]
fn superellipse(t: f64, p: f64) -> f64 {
    if p == 2.0 {
        (1.0 - t * t).sqrt()
    } else if p == 3.0 {
        (1.0 - t * t * t).cbrt()
    } else if p == 4.0 {
        let t2 = t * t;
        (1.0 - t2 * t2).sqrt().sqrt()
    } else if p == 8.0 {
        let t2 = t * t;
        let t4 = t2 * t2;
        (1.0 - t4 * t4).sqrt().sqrt().sqrt()
    } else {
        (1.0 - t.powf(p)).powf(1.0 / p)
    }
}

/// Cross-section of an ellipsoid (centre c, radii r) at height z, as (a, b) half axes.
fn ellipsoid_section(c: V3, r: V3, z: f64) -> Option<(f64, f64)> {
    let t = (z - c.z) / r.z;
    if t.abs() >= 1.0 {
        return None;
    }
    let s = (1.0 - t * t).sqrt();
    Some((r.x * s, r.y * s))
}

impl SoftModel {
    /// Diaphragm surface height at (x, y) for slice k: a dome that drops posteriorly into the recesses.
    #[inline]
    pub fn diaphragm_z(&self, k: usize, x: f64, y: f64) -> f64 {
        let s = self.spine[k];
        let yd = s.y - 60.0;
        let dy = ((y - yd) / 100.0).max(0.0);
        let dx = ((x - s.x).abs() - 70.0) / 90.0;
        self.z_dome + 10.0 - 60.0 * dy * dy - 15.0 * dx * dx
    }

    /// Paint operations for slice k, in painting order: the cavity, its contents, then the wall, the
    /// subcutaneous fat and the skin as rings, so that nothing pokes through the body wall and every voxel
    /// of the nested layers is painted once.
    pub fn ops(&self, k: usize) -> Vec<Op> {
        let z = self.z[k];
        let s = self.spine[k];
        let o = self.outline[k];
        let e = self.enh;
        let ms = self.muscle;
        let mut ops = Vec::with_capacity(96);
        // Table: carbon-fibre shell with a foam core, under the patient.
        let ty = self.table_y;
        let mut tab = Op::ellipse(0.0, ty + 2000.0, 230.0, 2000.0, 250.0, Tissue::Table);
        tab.p_ant = 8.0;
        tab.y_max = ty + 45.0;
        ops.push(tab);
        let mut foam = tab;
        foam.cy += 3.0;
        foam.a -= 3.0;
        foam.y_max = ty + 42.0;
        foam.hu = -900.0;
        ops.push(foam);

        let body = Op {
            cx: 0.0,
            cy: o.cy,
            a: o.a,
            b_ant: o.b_ant,
            b_post: o.b_post,
            p_ant: 2.0,
            p_post: 3.0,
            y_max: f64::INFINITY,
            y_min: f64::NEG_INFINITY,
            x_min: f64::NEG_INFINITY,
            x_max: f64::INFINITY,
            hu: HU_SKIN,
            tissue: Tissue::Skin,
            kind: OpKind::Plain,
        };
        let f = self.sc_fat;
        let neck = smoothstep(self.z_t1_top - 20.0, self.z_t1_top + 30.0, z);
        let fs = 1.0 - 0.6 * neck;
        let mut sc = body.shrink(2.0, 2.0, 2.0);
        sc.hu = HU_SC_FAT;
        sc.tissue = Tissue::SubcutaneousFat;
        let mut wall = sc.shrink(1.2 * f * fs, f * fs, 0.8 * f * fs);
        let thorax = z > self.z_t12;
        wall.hu = HU_MUSCLE;
        wall.tissue = if thorax {
            Tissue::OtherMuscle
        } else {
            Tissue::AbdominalWallMuscle
        };
        let (wl, wa) = if thorax {
            (11.0, 9.0)
        } else {
            (14.0 * ms, 10.0 * ms)
        };
        let mut cav = wall.shrink(wl, wa, 6.0);
        cav.hu = HU_VISC_FAT;
        cav.tissue = Tissue::VisceralFat;
        ops.push(cav);
        // Behind the vertebral bodies, between the back muscles: intermuscular fat.
        let y_back = s.y + s.half_d;
        let back_b = cav.cy + cav.b_post - y_back;
        if back_b > 2.0 && neck < 0.5 {
            let mut back = Op::ellipse(
                s.x,
                y_back,
                s.half_w + 38.0 * ms,
                1.0,
                HU_OTHER_FAT,
                Tissue::OtherFat,
            );
            back.b_post = back_b;
            back.p_post = 4.0;
            back.y_min = y_back;
            ops.push(back);
        }

        // Neck: oesophagus and trachea in front of the spine.
        if neck > 0.3 {
            ops.push(Op::ellipse(
                s.x,
                s.y - s.half_d - 12.0,
                8.0,
                6.0,
                HU_MUSCLE,
                Tissue::OtherMuscle,
            ));
            ops.push(Op::ellipse(
                s.x,
                s.y - s.half_d - 30.0,
                10.0,
                9.0,
                -950.0,
                Tissue::Background,
            ));
        }

        // Abdominal organs (the lungs paint over whatever lies above the diaphragm).
        let liver_r = v3(85.0, 80.0, 95.0);
        if let Some((a, b)) = ellipsoid_section(v3(0.0, 0.0, self.z_t11 + 5.0), liver_r, z) {
            let cx = -(cav.a - 3.0) + a;
            ops.push(Op::ellipse(
                cx,
                s.y - 50.0,
                a,
                b,
                e.liver as f32,
                Tissue::Liver,
            ));
        }
        if let Some((a, b)) = ellipsoid_section(v3(0.0, 0.0, self.z_t11), v3(32.0, 50.0, 55.0), z) {
            ops.push(Op::ellipse(
                cav.a - 6.0 - a,
                s.y + 5.0,
                a,
                b,
                e.spleen as f32,
                Tissue::Spleen,
            ));
        }
        let stomach_c = v3(s.x + 55.0, s.y - 85.0, self.z_t12 - 5.0);
        if let Some((a, b)) = ellipsoid_section(stomach_c, v3(55.0, 45.0, 60.0), z) {
            ops.push(Op::ellipse(
                stomach_c.x,
                stomach_c.y,
                a,
                b,
                e.bowel_wall as f32,
                Tissue::Bowel,
            ));
            let mut fl = Op::ellipse(
                stomach_c.x,
                stomach_c.y,
                a - 4.0,
                b - 4.0,
                HU_FLUID,
                Tissue::Bowel,
            );
            if fl.a > 1.0 && fl.b_ant > 1.0 {
                ops.push(fl);
                fl.hu = HU_GAS;
                fl.tissue = Tissue::BowelGas;
                fl.y_max = stomach_c.y - 0.2 * b;
                ops.push(fl);
            }
        }
        for l in &self.loops {
            if let Some((a, b)) = ellipsoid_section(l.c, l.r, z) {
                ops.push(Op::ellipse(
                    l.c.x,
                    l.c.y,
                    a,
                    b,
                    e.bowel_wall as f32,
                    Tissue::Bowel,
                ));
                let w = if l.colon { 2.0 } else { 2.5 };
                if a > w + 1.0 && b > w + 1.0 {
                    let mut inner = Op::ellipse(
                        l.c.x,
                        l.c.y,
                        a - w,
                        b - w,
                        if l.colon {
                            -40.0
                        } else {
                            self.bowel_fluid_hu as f32
                        },
                        Tissue::Bowel,
                    );
                    if l.colon {
                        inner.kind = OpKind::Stool;
                    }
                    ops.push(inner);
                    if l.gas > 0.0 {
                        let mut g = inner;
                        g.kind = OpKind::Plain;
                        g.hu = HU_GAS;
                        g.tissue = Tissue::BowelGas;
                        g.y_max = l.c.y - l.r.y + 2.0 * l.r.y * l.gas;
                        ops.push(g);
                    }
                }
            }
        }
        let heart_c = v3(s.x + 25.0, s.y - 95.0, self.z_dome + 55.0);
        if let Some((a, b)) = ellipsoid_section(heart_c, v3(70.0, 55.0, 65.0), z) {
            ops.push(Op::ellipse(
                heart_c.x,
                heart_c.y,
                a,
                b,
                e.heart as f32,
                Tissue::Heart,
            ));
        }
        for (side, dz) in [(1.0, 12.0), (-1.0, -12.0)] {
            let c = v3(s.x + side * (s.half_w + 48.0), s.y + 14.0, self.z_l1 + dz);
            if let Some((a, b)) = ellipsoid_section(c, v3(30.0, 24.0, 55.0), z) {
                ops.push(Op::ellipse(c.x, c.y, a, b, e.kidney as f32, Tissue::Kidney));
                if let Some((a2, b2)) =
                    ellipsoid_section(c - v3(side * 8.0, 0.0, 0.0), v3(12.0, 9.0, 30.0), z)
                {
                    ops.push(Op::ellipse(
                        c.x - side * 8.0,
                        c.y,
                        a2,
                        b2,
                        HU_VISC_FAT,
                        Tissue::VisceralFat,
                    ));
                }
            }
        }
        let bl_c = v3(0.0, s.y - 95.0, self.hips[0].z - 10.0);
        if let Some((a, b)) = ellipsoid_section(bl_c, v3(45.0, 35.0, 40.0), z) {
            ops.push(Op::ellipse(bl_c.x, bl_c.y, a, b, HU_URINE, Tissue::Bladder));
        }

        // Muscles around the spine.
        let lumbar_w = smoothstep(self.ord_l1 - 4.0, self.ord_l1, s.ordinal);
        let (pax, pay) = (
            lerp(20.0, 30.0, lumbar_w) * ms,
            lerp(18.0, 24.0, lumbar_w) * ms,
        );
        let nsc = 1.0 - 0.5 * neck;
        for side in [-1.0, 1.0] {
            // Erector spinae and multifidus beside the spinous processes, out to the posterior wall.
            let px = s.x + side * (4.0 + pax * nsc);
            let py = s.y + s.lamina_y + pay * nsc - 2.0;
            let mut op = Op::ellipse(
                px,
                py,
                pax * nsc,
                pay * nsc,
                HU_PARASPINAL,
                Tissue::Paraspinal,
            );
            op.b_post = (cav.cy + cav.b_post - py).max(4.0);
            op.p_post = 3.0;
            ops.push(op);
            if z < self.z_t12_inf {
                // Psoas from T12 down, becoming the iliopsoas in the pelvis.
                let grow = smoothstep(self.z_t12_inf, self.z_l4, z);
                let pel = ((self.z_l5 - z) / 100.0).clamp(0.0, 1.0);
                let (rx, ry) = (lerp(7.0, 24.0, grow) * ms, lerp(6.0, 20.0, grow) * ms);
                let cx = s.x + side * (s.half_w + 0.8 * rx + 2.0 + 45.0 * pel);
                let cy = s.y - 2.0 - 50.0 * pel;
                ops.push(Op::ellipse(cx, cy, rx, ry, HU_MUSCLE, Tissue::Psoas));
                // Quadratus lumborum lateral to the transverse processes, L1 to the iliac crest.
                let q = smoothstep(self.z_t12_inf, self.z_l2, z)
                    * smoothstep(self.z_crest - 10.0, self.z_crest + 20.0, z);
                if q > 0.05 {
                    let qx = s.x + side * (s.half_w + 2.0 * rx + 16.0);
                    ops.push(Op::ellipse(
                        qx,
                        s.y + 24.0,
                        16.0 * ms * q,
                        9.0 * ms * q.sqrt(),
                        HU_MUSCLE,
                        Tissue::QuadratusLumborum,
                    ));
                }
            }
            let g = smoothstep(self.z_crest, self.z_crest - 50.0, z);
            if g > 0.05 {
                let gx = side * (o.a * 0.55);
                let gy = o.cy + o.b_post - 0.8 * f - 32.0;
                ops.push(Op::ellipse(
                    gx,
                    gy,
                    48.0 * ms * g,
                    26.0 * ms * g,
                    HU_MUSCLE,
                    Tissue::OtherMuscle,
                ));
            }
        }
        // Iliacus on the inner surface of each iliac wing and gluteus medius on its outer surface: rings
        // around the wing's section (the wing geometry of `scene::add_pelvis`, pelvic rotation ignored).
        let pm = self.pelvis_origin;
        let zl = z - pm.z;
        if (-65.0..=45.0).contains(&zl) {
            let sc_w = (1.0 - ((zl - 120.0) / 200.0).powi(2)).max(0.0).sqrt();
            let (rx, ry) = (85.0 * sc_w, 68.0 * sc_w);
            for side in [-1.0, 1.0] {
                let ring = |outer: f64, inner: f64, y0: f64, y1: f64| {
                    let mut op = Op::ellipse(
                        pm.x + side * 48.0,
                        pm.y - 25.0,
                        rx + outer,
                        ry + outer,
                        HU_MUSCLE,
                        Tissue::OtherMuscle,
                    );
                    op.kind = OpKind::Ring(rx + inner, ry + inner, ry + inner);
                    op.y_min = pm.y + y0;
                    op.y_max = pm.y + y1;
                    if side > 0.0 {
                        op.x_min = pm.x + 58.0;
                    } else {
                        op.x_max = pm.x - 58.0;
                    }
                    op
                };
                ops.push(ring(-4.5, -4.5 - 16.0 * ms, -72.0, 28.0));
                ops.push(ring(4.5 + 28.0 * ms, 4.5, -45.0, 40.0));
            }
        }
        // Aorta (bifurcating at L4) with wall calcifications, IVC and iliac vessels.
        let yv = s.y - s.half_d;
        let thoracic = z > self.z_dome;
        let sh = self.aorta_shift_mm;
        let (ax, ay, ar) = if thoracic {
            (s.x + 20.0 + 0.5 * sh, yv - 6.0 - sh, 13.0)
        } else {
            (s.x + 12.0, yv - 14.0 - sh, 11.0)
        };
        if z > self.z_l4 {
            ops.push(Op::ellipse(ax, ay, ar, ar, e.aorta as f32, Tissue::Aorta));
            if !thoracic {
                ops.push(Op::ellipse(
                    s.x - 24.0,
                    yv - 16.0,
                    13.0,
                    10.0,
                    e.vein as f32,
                    Tissue::Vein,
                ));
            }
            for &(pz, ang, half, thick) in &self.plaques {
                if (z - pz).abs() < 0.5 * thick {
                    let (sn, cs) = ang.sin_cos();
                    let w = (ar * half).clamp(1.5, 4.0);
                    ops.push(Op::ellipse(
                        ax + (ar - 1.0) * cs,
                        ay + (ar - 1.0) * sn,
                        w,
                        1.3,
                        HU_CALC,
                        Tissue::Calcification,
                    ));
                }
            }
            for p in self
                .degen_plaques
                .iter()
                .filter(|p| (p.z0..=p.z1).contains(&z))
            {
                // An arc of the wall: the outer `thick` mm of the lumen's edge in one quadrant.
                let inner = ar - p.thick;
                let mut op = Op::ellipse(
                    ax,
                    ay,
                    ar,
                    ar,
                    crate::degen::PLAQUE_HU,
                    Tissue::Calcification,
                );
                op.kind = OpKind::Ring(inner, inner, inner);
                let q = 0.45 * ar;
                match p.sector {
                    0 => op.y_min = ay + q,
                    1 => op.x_min = ax + q,
                    2 => op.x_max = ax - q,
                    _ => op.y_max = ay - q,
                }
                ops.push(op);
            }
        } else if z > self.hips[0].z - 40.0 {
            let t = ((self.z_l4 - z) / 120.0).clamp(0.0, 1.0);
            for side in [-1.0, 1.0] {
                let cx = s.x + 6.0 + side * (8.0 + 55.0 * t);
                ops.push(Op::ellipse(
                    cx,
                    yv - 10.0 - 30.0 * t,
                    6.5,
                    6.5,
                    e.aorta as f32,
                    Tissue::Aorta,
                ));
                let vx = s.x - 4.0 + side * (10.0 + 50.0 * t);
                ops.push(Op::ellipse(
                    vx,
                    yv - 2.0 - 28.0 * t,
                    8.0,
                    7.0,
                    e.vein as f32,
                    Tissue::Vein,
                ));
            }
        }
        // Lungs above the diaphragm, inside the rib cage.
        if z > self.z_dome - 110.0 && neck < 0.9 {
            for side in [-1.0, 1.0] {
                let la = 0.5 * (cav.a - 9.0 - 22.0);
                if la > 10.0 {
                    let mut op = Op::ellipse(
                        s.x + side * (22.0 + la),
                        cav.cy,
                        la,
                        1.0,
                        HU_LUNG,
                        Tissue::Lung,
                    );
                    op.b_ant = cav.b_ant - 12.0;
                    op.b_post = cav.b_post - 14.0;
                    op.p_post = 3.0;
                    op.kind = OpKind::Lung;
                    if op.b_ant > 5.0 && op.b_post > 5.0 {
                        ops.push(op);
                    }
                }
            }
        }
        // The wall, the subcutaneous fat and the skin as rings around the cavity.
        ops.push(wall.ring(&cav));
        ops.push(sc.ring(&wall));
        ops.push(body.ring(&sc));
        ops
    }
}
