//! Turns the spine model into rasterisable primitives: vertebral bodies and posterior elements, discs,
//! canal contents, ribs, sacrum, pelvis, femora and metal.

use crate::math::{v3, Frame, Rot, V3};
use crate::morphometry::LevelDims;
use crate::shapes::{world_bounds, Shape};
use crate::spine::{Segment, SpineModel};
use spinekit_anatomy::{Level, Region};

/// What a soft-tissue primitive is, for the label maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoftClass {
    /// Disc, with its label (upper vertebra's VerSe number).
    Disc(u8),
    EpiduralFat,
    Csf,
    Cord,
}

/// Material of a primitive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mat {
    /// Bone with a cortex of `Prim::cortex_mm`: `label` is the VerSe label (0 for non-vertebral bone),
    /// `body_label` the per-level body label (0 unless this is a vertebral body).
    Bone {
        label: u8,
        body_label: u8,
        cortex_hu: f32,
        core_hu: f32,
        texture_hu: f32,
    },
    Soft {
        hu: f32,
        class: SoftClass,
    },
    Metal,
}

/// One primitive with its world bounding box.
#[derive(Debug, Clone)]
pub struct Prim {
    pub frame: Frame,
    pub shape: Shape,
    pub cortex_mm: f64,
    pub mat: Mat,
    pub lo: V3,
    pub hi: V3,
    /// Index of the segment this primitive belongs to (for entry-point searches), if any.
    pub segment: Option<usize>,
}

impl Prim {
    pub fn new(
        frame: Frame,
        shape: Shape,
        cortex_mm: f64,
        mat: Mat,
        segment: Option<usize>,
    ) -> Prim {
        let (lo, hi) = shape.local_bounds();
        let (lo, hi) = world_bounds(&frame, lo, hi);
        Prim {
            frame,
            shape,
            cortex_mm,
            mat,
            lo,
            hi,
            segment,
        }
    }
    /// Signed distance at a world point.
    pub fn sdf(&self, p: V3) -> f64 {
        self.shape.eval(self.frame.to_local(p), self.cortex_mm).d
    }
}

/// Pedicle geometry of one side, in world coordinates.
#[derive(Debug, Clone, Copy)]
pub struct PedicleGeom {
    pub isthmus_center: V3,
    /// Unit axis pointing from the entry point into the body (anterior-medial).
    pub direction: V3,
    pub width_mm: f64,
    pub height_mm: f64,
    /// Where the axis leaves the bone posteriorly (screw entry point).
    pub entry: V3,
    /// Distance along the axis from the entry to the anterior cortex of the body.
    pub chord_mm: f64,
}

/// Everything to rasterise.
#[derive(Debug, Clone, Default)]
pub struct Scene {
    pub soft: Vec<Prim>,
    pub bone: Vec<Prim>,
    pub metal: Vec<Prim>,
    /// Sample points on the ribs (world), to size the chest wall.
    pub rib_points: Vec<V3>,
    /// Pedicles per segment index: (right, left).
    pub pedicles: Vec<Option<[PedicleGeom; 2]>>,
    /// Rib heads (costovertebral joints) per segment index: (right, left).
    pub rib_heads: Vec<Option<[V3; 2]>>,
    /// Screws: (level, side 0 = right 1 = left, entry, tip, diameter).
    pub screws: Vec<(Level, usize, V3, V3, f64)>,
    /// Iliac crest top z (world) for the soft-tissue model.
    pub iliac_crest_z: f64,
    /// What the degenerative model generated per disc (empty without degeneration).
    pub degeneration: Vec<crate::degen::DegeneratedDiscTruth>,
}

/// Cortical HU of vertebral bodies and of posterior elements. The real vertebral shell is thin (≈ 0.4 mm) and
/// reads a few hundred HU at clinical resolution; these values with the 0.8–1.3 mm shells below give rim
/// intensities comparable to a real 3 mm abdominal CT (see the crate's realism notes).
const CORTEX_HU: f32 = 1000.0;
const POSTERIOR_CORTEX_HU: f32 = 1150.0;
const POSTERIOR_CORE_EXTRA_HU: f32 = 90.0;
const DISC_HU: f32 = 85.0;
const CSF_HU: f32 = 8.0;
const CORD_HU: f32 = 35.0;
const EPIDURAL_FAT_HU: f32 = -80.0;

fn bone(label: u8, core: f64, cortex: f32, texture: f32) -> Mat {
    Mat::Bone {
        label,
        body_label: 0,
        cortex_hu: cortex,
        core_hu: core as f32,
        texture_hu: texture,
    }
}

fn seg_label(s: &Segment) -> u8 {
    s.level.verse_label()
}

/// Local positions of a vertebra's posterior elements (left side; mirror x for the right).
struct Post {
    /// Isthmus centre, pillar point (posterior end of the pedicle) and the pedicle axis (into the body).
    isthmus: V3,
    pillar: V3,
    dir: V3,
    t_post: f64,
    t_ant: f64,
}

fn post_geom(d: &LevelDims, body_h: f64) -> Post {
    let b = 0.5 * d.body_depth_mm;
    let (cw, cd) = (d.canal_width_mm, d.canal_depth_mm);
    let w = d.pedicle_width_mm;
    let hp = d.pedicle_height_mm;
    let al = d.pedicle_angle_deg.to_radians();
    let zp = (0.5 * body_h - 0.5 * hp - 1.0).max(-0.5 * body_h + 0.5 * hp);
    let isthmus = v3(0.5 * cw + 0.5 * w, b + 0.35 * cd, zp);
    let dir = v3(-al.sin(), -al.cos(), 0.0);
    let t_post = 0.5 * cd / al.cos();
    let t_ant = (0.35 * cd + 8.0) / al.cos();
    let pillar = isthmus - dir * t_post;
    Post {
        isthmus,
        pillar,
        dir,
        t_post,
        t_ant,
    }
}

#[inline]
fn mirror(v: V3, side: f64) -> V3 {
    v3(v.x * side, v.y, v.z)
}

/// Builds the scene for a placed spine model.
pub fn build(
    model: &SpineModel,
    screws: &[Level],
    degeneration: Option<&crate::degen::Degeneration>,
    seed: u64,
) -> Scene {
    let mut sc = Scene {
        pedicles: vec![None; model.segments.len()],
        rib_heads: vec![None; model.segments.len()],
        ..Default::default()
    };
    let n = model.segments.len();
    for i in 0..n {
        let s = &model.segments[i];
        if s.free || s.name == "fused L5" {
            add_vertebra(&mut sc, model, i);
        } else {
            add_sacral_segment(&mut sc, model, i);
        }
    }
    add_discs(&mut sc, model);
    add_canal(&mut sc, model);
    add_pelvis(&mut sc, model);
    // Entry points and chords of every pedicle.
    for i in 0..n {
        if let Some(p) = sc.pedicles[i] {
            let mut p2 = p;
            for side in 0..2 {
                let (entry, chord) = pedicle_entry_and_chord(&sc, i, &p[side]);
                p2[side].entry = entry;
                p2[side].chord_mm = chord;
            }
            sc.pedicles[i] = Some(p2);
        }
    }
    if let Some(d) = degeneration {
        sc.degeneration = crate::degen::add_to_scene(&mut sc, model, d, seed);
    }
    add_screws(&mut sc, model, screws);
    sc
}

fn add_vertebra(sc: &mut Scene, model: &SpineModel, i: usize) {
    let s = &model.segments[i];
    let label = seg_label(s);
    let f = s.frame;
    let d = s.dims;
    let core = s.trabecular_hu;
    let post_core = core + POSTERIOR_CORE_EXTRA_HU as f64;
    let region = if s.free {
        s.level.region()
    } else {
        Region::Lumbar
    };
    if s.level == Level::C1 {
        add_atlas(sc, model, i);
        return;
    }
    let body = s.body.expect("body");
    sc.bone.push(Prim::new(
        f,
        Shape::Body(body),
        body.wall_mm,
        Mat::Bone {
            label,
            body_label: if s.in_body_map { label } else { 0 },
            cortex_hu: CORTEX_HU,
            core_hu: core as f32,
            texture_hu: 22.0,
        },
        Some(i),
    ));
    let h = body.rim_height(0.0);
    let b = body.b;
    let cd = d.canal_depth_mm;
    let disc_above = if i > 0 {
        model.segments[i - 1].dims.disc_below_mm
    } else {
        5.0
    };
    let disc_below = d.disc_below_mm.max(4.0);
    let pg = post_geom(&d, h);
    let rf = match region {
        Region::Lumbar => 4.2,
        Region::Thoracic => 3.4,
        _ => 3.0,
    };
    let pmat = bone(label, post_core, POSTERIOR_CORTEX_HU, 18.0);
    let mut peds = [None, None];
    for (k, side) in [-1.0f64, 1.0].into_iter().enumerate() {
        // Pedicle: elliptic tube along its axis, constant width = isthmus width.
        let dir = mirror(pg.dir, side);
        let r = Rot::from_z_and_x_hint(dir, V3::X);
        let centre = mirror(pg.isthmus, side) + dir * (0.5 * (pg.t_ant - pg.t_post));
        let pf = f.compose(&Frame::new(centre, r));
        sc.bone.push(Prim::new(
            pf,
            Shape::EllCyl {
                ax: 0.5 * d.pedicle_width_mm,
                ay: 0.5 * d.pedicle_height_mm,
                hz: 0.5 * (pg.t_ant + pg.t_post),
            },
            1.0,
            pmat,
            Some(i),
        ));
        peds[k] = Some(PedicleGeom {
            isthmus_center: f.to_world(mirror(pg.isthmus, side)),
            direction: f.dir_to_world(dir),
            width_mm: d.pedicle_width_mm,
            height_mm: d.pedicle_height_mm,
            entry: V3::ZERO,
            chord_mm: 0.0,
        });
        let pil = mirror(pg.pillar, side);
        // Articular pillar.
        sc.bone.push(Prim::new(
            f.compose(&Frame::new(pil + v3(0.0, 1.5, 0.0), Rot::IDENTITY)),
            Shape::Ellipsoid {
                radii: v3(rf + 1.5, rf + 2.0, 0.5 * d.pedicle_height_mm + 2.0),
            },
            1.2,
            pmat,
            Some(i),
        ));
        // Superior articular process (lateral) and inferior articular process (medial, posterior).
        let sap_top = 0.5 * h - pil.z + 0.5 * disc_above + 3.0;
        sc.bone.push(Prim::new(
            f,
            Shape::Capsule {
                a: pil + v3(side * 1.5, -1.0, 0.0),
                b: pil + v3(side * 4.0, -0.5, sap_top),
                ra: rf,
                rb: rf * 0.8,
            },
            1.2,
            pmat,
            Some(i),
        ));
        let iap_bot = -(pil.z + 0.5 * h) - 0.5 * disc_below - 2.0;
        sc.bone.push(Prim::new(
            f,
            Shape::Capsule {
                a: pil + v3(-side * 1.0, 4.0, -2.0),
                b: pil + v3(-side * 4.0, 5.5, iap_bot),
                ra: rf,
                rb: rf * 0.8,
            },
            1.2,
            pmat,
            Some(i),
        ));
        // Lamina from the pillar to the midline.
        let z_lam = pil.z - 0.15 * h;
        let a_pt = pil + v3(-side * 2.0, 3.0, -0.15 * h);
        let b_pt = v3(0.0, b + cd + 3.0, z_lam);
        let ax = (b_pt - a_pt).normalized();
        let lr = Rot::from_z_and_x_hint(V3::Z, ax);
        let lam_h = match region {
            Region::Lumbar => 0.8 * h,
            Region::Thoracic => 0.95 * h,
            _ => 0.8 * h,
        };
        sc.bone.push(Prim::new(
            f.compose(&Frame::new((a_pt + b_pt) * 0.5, lr)),
            Shape::RoundBox {
                half: v3(0.5 * (b_pt - a_pt).norm() + 2.5, 2.8, 0.5 * lam_h),
                round: 1.5,
            },
            1.3,
            pmat,
            Some(i),
        ));
        // Transverse process.
        let (tdir, r0, r1) = match region {
            Region::Lumbar => (v3(side * 0.985, 0.17, 0.0), 4.0, 3.2),
            Region::Thoracic => (v3(side * 0.80, 0.55, 0.15).normalized(), 4.6, 5.4),
            _ => (v3(side * 0.9, -0.4, 0.0).normalized(), 3.2, 2.8),
        };
        let t0 = pil + v3(side * 2.0, -2.0, 0.0);
        let t1 = t0 + tdir * d.transverse_length_mm.max(6.0);
        sc.bone.push(Prim::new(
            f,
            Shape::Capsule {
                a: t0,
                b: t1,
                ra: r0,
                rb: r1,
            },
            1.2,
            pmat,
            Some(i),
        ));
        // Fused L5: transverse processes grow into the sacral alae (Castellvi III).
        if !s.free {
            let ala = model.segments[model.s1_index]
                .frame
                .to_world(v3(side * 38.0, 4.0, 0.0));
            sc.bone.push(Prim::new(
                Frame::new(V3::ZERO, Rot::IDENTITY),
                Shape::Capsule {
                    a: f.to_world(t1),
                    b: ala,
                    ra: 9.0,
                    rb: 14.0,
                },
                1.5,
                pmat,
                Some(i),
            ));
        }
        // Ribs on rib-bearing levels.
        if s.free && model.enumeration.is_rib_bearing(s.level) {
            let head = add_rib(sc, s, t1, side);
            let h = sc.rib_heads[i].get_or_insert([V3::ZERO; 2]);
            h[k] = head;
        }
    }
    sc.pedicles[i] = Some([peds[0].expect("right"), peds[1].expect("left")]);
    // Spinous process.
    let beta = d.spinous_angle_deg.to_radians();
    let u = v3(0.0, beta.cos(), -beta.sin());
    let b0 = v3(0.0, b + cd + 2.0, pg.pillar.z - 0.15 * h);
    let len = d.spinous_length_mm + 4.0;
    let sp_h = match region {
        Region::Lumbar => 0.75 * h,
        Region::Thoracic => 9.0,
        _ => 7.5,
    };
    let rot = Rot {
        c: [V3::X, u, V3::X.cross(u)],
    };
    sc.bone.push(Prim::new(
        f.compose(&Frame::new(b0 + u * (0.5 * len), rot)),
        Shape::RoundBox {
            half: v3(3.3, 0.5 * len, 0.5 * sp_h),
            round: 2.0,
        },
        1.3,
        pmat,
        Some(i),
    ));
    if s.level == Level::C2 {
        // Dens.
        sc.bone.push(Prim::new(
            f,
            Shape::Capsule {
                a: v3(0.0, -1.0, 0.5 * h - 2.0),
                b: v3(0.0, 0.0, 0.5 * h + 14.0),
                ra: 5.0,
                rb: 4.0,
            },
            1.2,
            bone(label, core + 60.0, POSTERIOR_CORTEX_HU, 15.0),
            Some(i),
        ));
    }
}

/// C1: anterior arch, lateral masses, posterior arch, transverse processes.
fn add_atlas(sc: &mut Scene, model: &SpineModel, i: usize) {
    let s = &model.segments[i];
    let f = s.frame;
    let label = seg_label(s);
    let m = bone(label, s.trabecular_hu + 80.0, POSTERIOR_CORTEX_HU, 15.0);
    let b2 = 0.5 * model.segments[1].dims.body_depth_mm;
    let lm_x = 0.5 * s.dims.canal_width_mm * 0.5 + 8.0;
    let mut caps = vec![
        (v3(-9.0, -(b2 + 5.0), 0.0), v3(9.0, -(b2 + 5.0), 0.0), 4.0),
        (v3(-9.0, -(b2 + 5.0), 0.0), v3(-lm_x, -2.0, 0.0), 4.0),
        (v3(9.0, -(b2 + 5.0), 0.0), v3(lm_x, -2.0, 0.0), 4.0),
    ];
    for side in [-1.0, 1.0] {
        caps.push((v3(side * lm_x, 6.0, 0.0), v3(side * 14.0, 24.0, 0.0), 3.5));
        caps.push((v3(side * 14.0, 24.0, 0.0), v3(0.0, 30.0, 0.0), 3.5));
        caps.push((
            v3(side * lm_x, 2.0, 0.0),
            v3(side * (lm_x + 16.0), 2.0, 0.0),
            4.0,
        ));
        sc.bone.push(Prim::new(
            f.compose(&Frame::new(v3(side * lm_x, 2.0, -1.0), Rot::IDENTITY)),
            Shape::Ellipsoid {
                radii: v3(7.0, 9.0, 8.0),
            },
            1.2,
            m,
            Some(i),
        ));
    }
    for (a, b, r) in caps {
        sc.bone.push(Prim::new(
            f,
            Shape::Capsule { a, b, ra: r, rb: r },
            1.2,
            m,
            Some(i),
        ));
    }
}

/// Rib dimensions (thorax half-width, half-depth, end angle in degrees, descent mm/rad) by rib number.
fn rib_params(n: u8) -> (f64, f64, f64, f64) {
    const T: [(f64, f64, f64, f64); 13] = [
        (55.0, 45.0, 150.0, 25.0),
        (78.0, 60.0, 155.0, 25.0),
        (95.0, 72.0, 155.0, 25.0),
        (108.0, 82.0, 155.0, 25.0),
        (118.0, 90.0, 155.0, 25.0),
        (126.0, 96.0, 155.0, 25.0),
        (132.0, 100.0, 155.0, 25.0),
        (136.0, 104.0, 140.0, 22.0),
        (138.0, 105.0, 130.0, 22.0),
        (138.0, 104.0, 120.0, 22.0),
        (135.0, 100.0, 95.0, 18.0),
        (130.0, 96.0, 62.0, 18.0),
        (125.0, 92.0, 45.0, 18.0),
    ];
    T[(n.clamp(1, 13) - 1) as usize]
}

/// Adds one rib and returns its head (costovertebral joint) in world coordinates.
fn add_rib(sc: &mut Scene, s: &Segment, tp_tip_local: V3, side: f64) -> V3 {
    let n = s.level.number();
    let (rx, ry, end_deg, drop) = rib_params(n);
    let f = s.frame;
    // The rib is laid out in an upright frame (coronal tilt only) so that it descends anteriorly the
    // same way whatever the sagittal tilt of its vertebra.
    let rf = Frame::new(f.o, Rot::about_y(s.phi));
    let body = s.body.expect("thoracic body");
    let head = rf.to_local(f.to_world(v3(
        side * body.a * 0.85,
        body.b * 0.55,
        0.5 * body.rim_height(0.0),
    )));
    let tp = rf.to_local(f.to_world(tp_tip_local));
    let r1 = tp + v3(side * 1.0, -4.0, -1.0);
    let r2 = r1 + v3(side * 12.0, 8.0, -3.0);
    let sin_a = (r2.x.abs() / rx).min(0.95);
    let th_a = sin_a.asin();
    let y_c = r2.y - ry * th_a.cos();
    let th_e = end_deg.to_radians().max(th_a + 0.2);
    let mut pts = vec![head, r1, r2];
    let steps = (((th_e - th_a) / 0.1).ceil() as usize).max(2);
    for k in 1..=steps {
        let th = th_a + (th_e - th_a) * k as f64 / steps as f64;
        pts.push(v3(
            side * rx * th.sin(),
            y_c + ry * th.cos(),
            r2.z - drop * (th - th_a),
        ));
    }
    let m = bone(0, 230.0, 1000.0, 12.0);
    let radius = if n <= 2 { 4.6 } else { 4.2 };
    for w in pts.windows(2) {
        sc.bone.push(Prim::new(
            rf,
            Shape::Capsule {
                a: w[0],
                b: w[1],
                ra: radius,
                rb: radius,
            },
            1.0,
            m,
            None,
        ));
    }
    for p in &pts[2..] {
        sc.rib_points.push(rf.to_world(*p));
    }
    rf.to_world(head)
}

/// Sacral segment: body, lateral masses, canal walls, dorsal crest, and S1 facets on the top segment.
fn add_sacral_segment(sc: &mut Scene, model: &SpineModel, i: usize) {
    let s = &model.segments[i];
    let f = s.frame;
    let body = s.body.expect("sacral body");
    let core = s.trabecular_hu;
    let k = s.name.trim_start_matches('S').parse::<usize>().unwrap_or(1);
    sc.bone.push(Prim::new(
        f,
        Shape::Body(body),
        body.wall_mm,
        Mat::Bone {
            label: 26,
            body_label: if s.in_body_map { 26 } else { 0 },
            cortex_hu: CORTEX_HU,
            core_hu: core as f32,
            texture_hu: 22.0,
        },
        Some(i),
    ));
    let m = bone(26, core * 0.95 + 20.0, POSTERIOR_CORTEX_HU, 20.0);
    let (a, b, h) = (body.a, body.b, body.rim_height(0.0));
    let (cw, cd) = [
        (26.0, 14.0),
        (20.0, 11.0),
        (14.0, 8.0),
        (10.0, 6.0),
        (8.0, 5.0),
    ][(k - 1).min(4)];
    let (ala_off, ala_r) = [
        (12.0, v3(23.0, 19.0, 20.0)),
        (8.0, v3(16.0, 14.0, 14.0)),
        (5.0, v3(11.0, 10.0, 11.0)),
        (3.0, v3(7.0, 7.0, 9.0)),
        (1.0, v3(5.0, 5.0, 7.0)),
    ][(k - 1).min(4)];
    for side in [-1.0, 1.0] {
        // Lateral mass (ala at S1).
        sc.bone.push(Prim::new(
            f.compose(&Frame::new(
                v3(side * (a + ala_off), 4.0, if k == 1 { -4.0 } else { 0.0 }),
                Rot::IDENTITY,
            )),
            Shape::Ellipsoid { radii: ala_r },
            1.3,
            m,
            Some(i),
        ));
        // Bridge from the body to the dorsal wall beside the canal.
        sc.bone.push(Prim::new(
            f.compose(&Frame::new(
                v3(side * (0.5 * cw + 4.5), b + 0.5 * cd, 0.0),
                Rot::IDENTITY,
            )),
            Shape::RoundBox {
                half: v3(5.0, 0.5 * cd + 3.0, 0.5 * h),
                round: 1.5,
            },
            1.3,
            m,
            Some(i),
        ));
    }
    // Dorsal wall and median crest.
    sc.bone.push(Prim::new(
        f.compose(&Frame::new(v3(0.0, b + cd + 3.5, 0.0), Rot::IDENTITY)),
        Shape::RoundBox {
            half: v3(0.5 * cw + 9.0, 3.5, 0.5 * h + 1.0),
            round: 1.5,
        },
        1.3,
        m,
        Some(i),
    ));
    sc.bone.push(Prim::new(
        f,
        Shape::Capsule {
            a: v3(0.0, b + cd + 7.0, 0.4 * h),
            b: v3(0.0, b + cd + 7.0, -0.4 * h),
            ra: 3.0,
            rb: 3.0,
        },
        1.2,
        m,
        Some(i),
    ));
    if i == model.sacrum_top() && s.name != "fused L5" {
        let disc_above = model.segments[i - 1].dims.disc_below_mm;
        for side in [-1.0, 1.0] {
            sc.bone.push(Prim::new(
                f,
                Shape::Capsule {
                    a: v3(side * (0.5 * cw + 8.0), b + 0.85 * cd, 0.5 * h - 6.0),
                    b: v3(
                        side * (0.5 * cw + 10.0),
                        b + 0.85 * cd - 1.0,
                        0.5 * h + 0.5 * disc_above + 6.0,
                    ),
                    ra: 4.5,
                    rb: 3.6,
                },
                1.2,
                m,
                Some(i),
            ));
        }
    }
}

fn add_discs(sc: &mut Scene, model: &SpineModel) {
    for dm in &model.discs {
        let up = &model.segments[dm.upper];
        let lo = &model.segments[dm.lower];
        let (pu, nu) = up.bottom_plane();
        let (pl, nl) = lo.top_plane();
        let bu = up.body.expect("body");
        let bl = lo.body.expect("body");
        let origin = (pu + pl) * 0.5;
        let e3 = (pu - pl).normalized();
        let hint = up.frame.r.c[0] + lo.frame.r.c[0];
        let r = Rot::from_z_and_x_hint(e3, hint);
        let fr = Frame::new(origin, r);
        // Fill the endplate concavities; bone overrides wherever the two overlap.
        let lo_ext = bl.conc_top + bl.cup_top + 0.6;
        let hi_ext = bu.conc_bot + bu.cup_bot + 0.6;
        let lo_n = r.apply_t(nl);
        let hi_n = r.apply_t(nu);
        let shape = Shape::Disc {
            a: v3(0.5 * (bu.a + bl.a) + 1.0, 0.5 * (bu.b + bl.b) + 1.0, 0.0),
            lo_p: fr.to_local(pl) - lo_n * lo_ext,
            lo_n,
            hi_p: fr.to_local(pu) + hi_n * hi_ext,
            hi_n,
        };
        sc.soft.push(Prim::new(
            fr,
            shape,
            0.0,
            Mat::Soft {
                hu: DISC_HU,
                class: SoftClass::Disc(dm.disc.label()),
            },
            None,
        ));
    }
}

/// Epidural fat, dural sac (CSF) and cord, segment by segment.
fn add_canal(sc: &mut Scene, model: &SpineModel) {
    let top = model.sacrum_top();
    for (i, s) in model.segments.iter().enumerate() {
        let d = s.dims;
        let (b, h, cw, cd) = match (&s.body, s.level) {
            (Some(bd), _) if s.free || s.name == "fused L5" => {
                (bd.b, bd.rim_height(0.0), d.canal_width_mm, d.canal_depth_mm)
            }
            (Some(bd), _) => {
                let k = s.name.trim_start_matches('S').parse::<usize>().unwrap_or(1);
                let (cw, cd) = [
                    (26.0, 14.0),
                    (20.0, 11.0),
                    (14.0, 8.0),
                    (10.0, 6.0),
                    (8.0, 5.0),
                ][(k - 1).min(4)];
                (bd.b, bd.rim_height(0.0), cw, cd)
            }
            (None, _) => (
                0.5 * model.segments[1].dims.body_depth_mm + 2.0,
                12.0,
                d.canal_width_mm,
                d.canal_depth_mm,
            ),
        };
        let above = if i > 0 {
            model.segments[i - 1].dims.disc_below_mm
        } else {
            4.0
        };
        let hz = 0.5 * h + 0.5 * above.max(d.disc_below_mm) + 2.5;
        let c = v3(0.0, b + 0.5 * cd, 0.0);
        let fr = s.frame.compose(&Frame::new(c, Rot::IDENTITY));
        sc.soft.push(Prim::new(
            fr,
            Shape::EllCyl {
                ax: 0.5 * cw,
                ay: 0.5 * cd,
                hz,
            },
            0.0,
            Mat::Soft {
                hu: EPIDURAL_FAT_HU,
                class: SoftClass::EpiduralFat,
            },
            None,
        ));
        // The dural sac ends at S2.
        let sacral_k = if s.free || s.name == "fused L5" {
            0
        } else {
            i - top + 1
        };
        if sacral_k <= 2 {
            let shrink = if sacral_k == 2 { 0.6 } else { 1.0 };
            let fr_csf = s
                .frame
                .compose(&Frame::new(c + v3(0.0, 0.5, 0.0), Rot::IDENTITY));
            sc.soft.push(Prim::new(
                fr_csf,
                Shape::EllCyl {
                    ax: 0.40 * cw * shrink,
                    ay: 0.38 * cd * shrink,
                    hz: if sacral_k == 2 { 0.3 * h } else { hz },
                },
                0.0,
                Mat::Soft {
                    hu: CSF_HU,
                    class: SoftClass::Csf,
                },
                None,
            ));
        }
        // Cord down to the conus medullaris, which tapers inside L1.
        if s.free && s.level < Level::L1 {
            let (ax, ay) = if s.level.region() == Region::Cervical {
                (6.5, 4.2)
            } else {
                (4.5, 4.0)
            };
            sc.soft.push(Prim::new(
                fr,
                Shape::EllCyl { ax, ay, hz },
                0.0,
                Mat::Soft {
                    hu: CORD_HU,
                    class: SoftClass::Cord,
                },
                None,
            ));
        } else if s.free && s.level == Level::L1 {
            sc.soft.push(Prim::new(
                fr,
                Shape::Capsule {
                    a: v3(0.0, 0.0, hz),
                    b: v3(0.0, 0.0, -0.3 * h),
                    ra: 4.2,
                    rb: 1.2,
                },
                0.0,
                Mat::Soft {
                    hu: CORD_HU,
                    class: SoftClass::Cord,
                },
                None,
            ));
        }
    }
}

/// Ilia (wing shell, tuberosity, body), acetabula, ischia, pubic rami, femoral heads, necks and shafts.
fn add_pelvis(sc: &mut Scene, model: &SpineModel) {
    let s1 = &model.segments[model.s1_index];
    let (m, _) = s1.top_plane();
    // The pelvis turns with the sacrum relative to a reference sacral slope of 40°.
    let pr = Rot::about_y(s1.phi).mul(&Rot::about_x(s1.psi - 40f64.to_radians()));
    let pf = Frame::new(m, pr);
    let world = Frame::new(V3::ZERO, Rot::IDENTITY);
    let ilium = bone(0, 200.0, 1250.0, 20.0);
    let femur_head = bone(0, 280.0, 1400.0, 20.0);
    let shaft = bone(0, -10.0, 1500.0, 8.0);
    let r_head = model.femoral_head_radius_mm;
    let mut crest: f64 = f64::NEG_INFINITY;
    for (k, side) in [-1.0f64, 1.0].into_iter().enumerate() {
        let hip = model.femoral_heads[k];
        // Wing: a curved plate, part of an ellipsoid shell whose centre lies medial and anterior to it (the
        // iliac fossa faces anteromedially) and high above it (the wing flares toward the crest); clipped to
        // x ∈ side·[63, 140], y ∈ [−72, 35], z ∈ [−65, 45] in the pelvic frame.
        let centre = v3(side * 48.0, -25.0, 120.0);
        let wing = Prim::new(
            pf.compose(&Frame::new(centre, Rot::IDENTITY)),
            Shape::EllShell {
                radii: v3(85.0, 68.0, 200.0),
                half_t: 4.0,
                clip_center: v3(side * 101.5, -18.5, -10.0) - centre,
                clip_half: v3(38.5, 53.5, 55.0),
            },
            1.3,
            ilium,
            None,
        );
        crest = crest.max(wing.hi.z);
        sc.bone.push(wing);
        // Posterior ilium (tuberosity) behind the sacroiliac joint, 3 mm lateral to the ala.
        sc.bone.push(Prim::new(
            pf.compose(&Frame::new(v3(side * 74.0, 30.0, -12.0), Rot::IDENTITY)),
            Shape::Ellipsoid {
                radii: v3(11.0, 15.0, 30.0),
            },
            1.5,
            ilium,
            None,
        ));
        let col_a = pf.to_world(v3(side * 70.0, -10.0, -55.0));
        let roof = hip + v3(-side * 6.0, 0.0, r_head + 4.0);
        let caps = [
            (col_a, roof, 14.0, 12.0),
            // Posterior column from the tuberosity to the ischium (behind the acetabulum).
            (
                pf.to_world(v3(side * 72.0, 20.0, -35.0)),
                hip + v3(-side * 10.0, 16.0, -14.0),
                9.0,
                11.0,
            ),
            // Ischium and tuberosity.
            (
                hip + v3(-side * 8.0, 18.0, -22.0),
                hip + v3(-side * 16.0, 24.0, -68.0),
                11.0,
                9.0,
            ),
            // Superior pubic ramus to the symphysis, inferior ramus back to the ischium.
            (
                hip + v3(-side * 20.0, -10.0, -6.0),
                v3(side * 9.0, hip.y - 58.0, hip.z - 28.0),
                9.0,
                8.0,
            ),
            (
                v3(side * 10.0, hip.y - 55.0, hip.z - 45.0),
                hip + v3(-side * 16.0, 24.0, -68.0),
                6.5,
                6.5,
            ),
        ];
        for (a, b, ra, rb) in caps {
            sc.bone.push(Prim::new(
                world,
                Shape::Capsule { a, b, ra, rb },
                1.5,
                ilium,
                None,
            ));
        }
        // Acetabular cup: spherical shell around the head, open laterally and inferiorly.
        sc.bone.push(Prim::new(
            Frame::new(hip, Rot::IDENTITY),
            Shape::EllShell {
                radii: v3(r_head + 4.5, r_head + 4.5, r_head + 4.5),
                half_t: 3.5,
                clip_center: v3(-side * 12.0, 0.0, 8.0),
                clip_half: v3(22.0, 34.0, 28.0),
            },
            1.3,
            ilium,
            None,
        ));
        sc.bone.push(Prim::new(
            Frame::new(hip, Rot::IDENTITY),
            Shape::Ellipsoid {
                radii: v3(r_head, r_head, r_head),
            },
            1.6,
            femur_head,
            None,
        ));
        let neck_end = hip + v3(side * 50.0, 2.0, -32.0);
        let fcaps = [
            (hip, neck_end, 15.0, 17.0, 2.0, femur_head),
            (
                hip + v3(side * 55.0, 6.0, -26.0),
                hip + v3(side * 66.0, 10.0, -44.0),
                16.0,
                14.0,
                2.0,
                femur_head,
            ),
            (
                neck_end,
                hip + v3(side * 72.0, -4.0, -420.0),
                15.0,
                13.5,
                5.0,
                shaft,
            ),
        ];
        for (a, b, ra, rb, cx, mat) in fcaps {
            sc.bone.push(Prim::new(
                world,
                Shape::Capsule { a, b, ra, rb },
                cx,
                mat,
                None,
            ));
        }
    }
    sc.iliac_crest_z = crest;
}

/// March from the isthmus backward along the axis until the point leaves every bone of the segment;
/// then forward until it leaves the vertebral body anteriorly.
fn pedicle_entry_and_chord(sc: &Scene, seg: usize, p: &PedicleGeom) -> (V3, f64) {
    let prims: Vec<&Prim> = sc.bone.iter().filter(|q| q.segment == Some(seg)).collect();
    let inside = |x: V3| prims.iter().any(|q| q.sdf(x) < 0.0);
    let step = 0.1;
    let mut t = 0.0;
    while t < 80.0 && inside(p.isthmus_center - p.direction * t) {
        t += step;
    }
    let entry = p.isthmus_center - p.direction * t;
    let body: Vec<&&Prim> = prims
        .iter()
        .filter(|q| matches!(q.shape, Shape::Body(_)))
        .collect();
    let mut u = t;
    // Walk into the body first, then to its anterior surface.
    let in_body = |x: V3| body.iter().any(|q| q.sdf(x) < 0.0);
    while u > -120.0 && !in_body(p.isthmus_center - p.direction * u) {
        u -= step;
    }
    while u > -160.0 && in_body(p.isthmus_center - p.direction * u) {
        u -= step;
    }
    (entry, t - u)
}

fn add_screws(sc: &mut Scene, model: &SpineModel, screws: &[Level]) {
    let mut heads: Vec<(usize, [V3; 2])> = Vec::new();
    for (i, s) in model.segments.iter().enumerate() {
        if !s.free || !screws.contains(&s.level) {
            continue;
        }
        let Some(peds) = sc.pedicles[i] else { continue };
        let mut hs = [V3::ZERO; 2];
        for (k, p) in peds.iter().enumerate() {
            let dia = (0.8 * p.width_mm).clamp(3.5, 7.5);
            let len = 0.8 * p.chord_mm;
            let tip = p.entry + p.direction * len;
            sc.metal.push(Prim::new(
                Frame::new(V3::ZERO, Rot::IDENTITY),
                Shape::Capsule {
                    a: p.entry - p.direction * 2.0,
                    b: tip,
                    ra: 0.5 * dia,
                    rb: 0.5 * dia * 0.8,
                },
                0.0,
                Mat::Metal,
                Some(i),
            ));
            let head = p.entry - p.direction * 9.0;
            sc.metal.push(Prim::new(
                Frame::new(V3::ZERO, Rot::IDENTITY),
                Shape::Capsule {
                    a: p.entry - p.direction * 3.0,
                    b: p.entry - p.direction * 14.0,
                    ra: 6.0,
                    rb: 6.0,
                },
                0.0,
                Mat::Metal,
                Some(i),
            ));
            hs[k] = head;
            sc.screws.push((s.level, k, p.entry, tip, dia));
        }
        heads.push((i, hs));
    }
    // Rods between adjacent instrumented levels.
    for w in heads.windows(2) {
        if w[1].0 == w[0].0 + 1 {
            for k in 0..2 {
                sc.metal.push(Prim::new(
                    Frame::new(V3::ZERO, Rot::IDENTITY),
                    Shape::Capsule {
                        a: w[0].1[k],
                        b: w[1].1[k],
                        ra: 2.75,
                        rb: 2.75,
                    },
                    0.0,
                    Mat::Metal,
                    None,
                ));
            }
        }
    }
}
