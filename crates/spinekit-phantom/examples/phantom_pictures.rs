//! Realism check: writes mid-sagittal, coronal and L3 axial PNGs (soft-tissue and bone windows) of a default
//! phantom and of a fractured, scoliotic one, plus an AP and a lateral projection.
//!
//! Usage: `cargo run --release -p spinekit-phantom --example phantom_pictures -- [OUT_DIR]`
//! (default `/tmp/spinekit-phantom-pictures`).

use spinekit_anatomy::{FractureShape, GenantGrade, Level};
use spinekit_phantom::{
    generate, project, FractureSpec, GridSize, Phantom, PhantomConfig, ProjectionView, Scoliosis,
    Side,
};
use std::path::Path;
use std::time::Instant;

/// Samples a plane of the CT into a greyscale image with square pixels of `px_mm`.
fn save_plane(ph: &Phantom, plane: &str, pos: usize, window: (f64, f64), px_mm: f64, path: &Path) {
    let ct = &ph.ct;
    let [ni, nj, nk] = ct.dims();
    let s = ct.geometry().spacing_mm;
    // (width axis, height axis) lengths in mm and a sampler.
    let (wmm, hmm) = match plane {
        "sagittal" => (nj as f64 * s[1], nk as f64 * s[2]),
        "coronal" => (ni as f64 * s[0], nk as f64 * s[2]),
        _ => (ni as f64 * s[0], nj as f64 * s[1]),
    };
    let (w, h) = ((wmm / px_mm) as u32, (hmm / px_mm) as u32);
    let (lo, hi) = (window.1 - 0.5 * window.0, window.1 + 0.5 * window.0);
    let img = image::GrayImage::from_fn(w, h, |x, y| {
        let u = (x as f64 + 0.5) * px_mm;
        let v = (y as f64 + 0.5) * px_mm;
        let hu = match plane {
            "sagittal" => {
                let j = ((u / s[1]) as usize).min(nj - 1);
                let k = nk - 1 - ((v / s[2]) as usize).min(nk - 1);
                ct.get(pos, j, k)
            }
            "coronal" => {
                let i = ((u / s[0]) as usize).min(ni - 1);
                let k = nk - 1 - ((v / s[2]) as usize).min(nk - 1);
                ct.get(i, pos, k)
            }
            _ => {
                let i = ((u / s[0]) as usize).min(ni - 1);
                let j = ((v / s[1]) as usize).min(nj - 1);
                ct.get(i, j, pos)
            }
        } as f64;
        image::Luma([(((hu - lo) / (hi - lo)).clamp(0.0, 1.0) * 255.0) as u8])
    });
    img.save(path).expect("write png");
}

fn save_projection(ph: &Phantom, view: ProjectionView, path: &Path) {
    let p = project(ph, view);
    let (lo, hi) = p.image.range().unwrap_or((0.0, 1.0));
    let img = image::GrayImage::from_fn(p.image.width as u32, p.image.height as u32, |x, y| {
        let v = p.image.get(x as usize, y as usize);
        image::Luma([(((v - lo) / (hi - lo)).clamp(0.0, 1.0).powf(0.7) * 255.0) as u8])
    });
    let mut img = image::DynamicImage::ImageLuma8(img).to_rgb8();
    for vt in &p.truth.vertebrae {
        for c in vt.corners_px {
            let (x, y) = (c[0].round() as i64, c[1].round() as i64);
            for dx in -1..=1 {
                for dy in -1..=1 {
                    let (xx, yy) = (x + dx, y + dy);
                    if xx >= 0 && yy >= 0 && (xx as u32) < img.width() && (yy as u32) < img.height()
                    {
                        img.put_pixel(xx as u32, yy as u32, image::Rgb([255, 40, 40]));
                    }
                }
            }
        }
    }
    img.save(path).expect("write png");
}

fn pictures(name: &str, ph: &Phantom, out: &Path) {
    let g = ph.ct.geometry();
    let [ni, nj, _] = ph.ct.dims();
    // Mid-sagittal through the L3 (or nearest) body centre; coronal through the vertebral bodies.
    let c = ph
        .truth
        .levels
        .iter()
        .find(|l| l.level == Level::L3)
        .or_else(|| ph.truth.levels.iter().find(|l| l.voxel_count > 0))
        .map(|l| l.body_center_mm)
        .unwrap_or([0.0; 3]);
    let idx = g.world_to_index(c);
    let i = (idx[0].round() as usize).min(ni - 1);
    let j = (idx[1].round() as usize).min(nj - 1);
    let k = ph
        .truth
        .body_composition_l3
        .as_ref()
        .map_or(ph.ct.dims()[2] / 2, |b| b.slice_index);
    for (plane, pos) in [("sagittal", i), ("coronal", j), ("axial", k)] {
        save_plane(
            ph,
            plane,
            pos,
            (400.0, 40.0),
            0.8,
            &out.join(format!("{name}-{plane}-soft.png")),
        );
        save_plane(
            ph,
            plane,
            pos,
            (1800.0, 400.0),
            0.8,
            &out.join(format!("{name}-{plane}-bone.png")),
        );
    }
    // Through the hips when they are in view.
    if ph.truth.pelvis.femoral_heads_in_fov {
        let h = g.world_to_index(ph.truth.pelvis.hip_axis_center_mm);
        let (jh, kh) = (h[1].round() as usize, h[2].round() as usize);
        save_plane(
            ph,
            "coronal",
            jh,
            (1800.0, 400.0),
            0.8,
            &out.join(format!("{name}-coronal-hips-bone.png")),
        );
        save_plane(
            ph,
            "axial",
            kh,
            (1800.0, 400.0),
            0.8,
            &out.join(format!("{name}-axial-hips-bone.png")),
        );
        save_plane(
            ph,
            "axial",
            kh,
            (400.0, 40.0),
            0.8,
            &out.join(format!("{name}-axial-hips-soft.png")),
        );
    }
    // Axial slices through the centres of a few bodies.
    for l in [Level::T12, Level::L1, Level::L5, Level::Sacrum] {
        let Some(t) = ph
            .truth
            .levels
            .iter()
            .find(|t| t.level == l && t.voxel_count > 0)
        else {
            continue;
        };
        let kk = g.world_to_index(t.body_center_mm)[2].round() as usize;
        if kk < ph.ct.dims()[2] {
            save_plane(
                ph,
                "axial",
                kk,
                (400.0, 40.0),
                0.8,
                &out.join(format!("{name}-axial-{l}-soft.png")),
            );
            save_plane(
                ph,
                "axial",
                kk,
                (1800.0, 400.0),
                0.8,
                &out.join(format!("{name}-axial-{l}-bone.png")),
            );
        }
    }
    save_projection(
        ph,
        ProjectionView::Ap,
        &out.join(format!("{name}-drr-ap.png")),
    );
    save_projection(
        ph,
        ProjectionView::Lateral,
        &out.join(format!("{name}-drr-lateral.png")),
    );
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/spinekit-phantom-pictures".into());
    let out = Path::new(&out);
    std::fs::create_dir_all(out).expect("create output folder");

    let t = Instant::now();
    let ph = generate(&PhantomConfig::default(), None).expect("default phantom");
    println!(
        "default phantom {:?} in {:.2} s",
        ph.ct.dims(),
        t.elapsed().as_secs_f64()
    );
    pictures("default", &ph, out);

    let cfg = PhantomConfig {
        first_level: Level::T4,
        last_level: Level::Sacrum,
        grid: GridSize::FitLevels {
            inplane_fov_mm: 420.0,
            margin_mm: 60.0,
        },
        voxel_size_mm: [0.8, 0.8, 1.0],
        scoliosis: Some(Scoliosis {
            cobb_deg: 35.0,
            apex: Level::T10,
            half_span_levels: 4,
            convex: Side::Right,
        }),
        fractures: vec![
            FractureSpec {
                level: Level::L1,
                grade: GenantGrade::Moderate,
                shape: FractureShape::Wedge,
                height_loss: None,
            },
            FractureSpec {
                level: Level::T12,
                grade: GenantGrade::Severe,
                shape: FractureShape::Biconcave,
                height_loss: None,
            },
            FractureSpec {
                level: Level::L3,
                grade: GenantGrade::Mild,
                shape: FractureShape::Crush,
                height_loss: None,
            },
        ],
        trabecular_hu: 95.0,
        screws: vec![Level::L4, Level::L5],
        ..PhantomConfig::default()
    };
    let t = Instant::now();
    let ph = generate(&cfg, None).expect("fractured phantom");
    println!(
        "fractured/scoliotic phantom {:?} in {:.2} s",
        ph.ct.dims(),
        t.elapsed().as_secs_f64()
    );
    pictures("fractured", &ph, out);
    let cfg = PhantomConfig {
        first_level: Level::L3,
        last_level: Level::Sacrum,
        grid: GridSize::FitLevels {
            inplane_fov_mm: 440.0,
            margin_mm: 150.0,
        },
        voxel_size_mm: [1.0, 1.0, 1.0],
        ..PhantomConfig::default()
    };
    let t = Instant::now();
    let ph = generate(&cfg, None).expect("pelvis phantom");
    println!(
        "pelvis phantom {:?} in {:.2} s",
        ph.ct.dims(),
        t.elapsed().as_secs_f64()
    );
    pictures("pelvis", &ph, out);
    println!("wrote PNGs to {}", out.display());
}
