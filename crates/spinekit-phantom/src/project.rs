//! Digitally reconstructed radiographs (parallel-beam line integrals of attenuation) with 2D landmarks.

use crate::truth::Truth;
use crate::Phantom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use spinekit_anatomy::Level;
use spinekit_image::{Image2D, PixelSpacingSource};

/// Projection direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectionView {
    /// Anteroposterior: rays along y; the patient's right is on the image's left (radiographic convention).
    Ap,
    /// Lateral: rays along x; anterior is on the image's left.
    Lateral,
}

/// A radiograph and its landmarks.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub view: ProjectionView,
    /// Line integral of linear attenuation (dimensionless; bone bright), rows top = superior.
    pub image: Image2D,
    pub truth: ProjectionTruth,
}

/// A point in pixel coordinates: (column, row), (0, 0) = centre of the top-left pixel.
pub type Px = [f64; 2];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectionTruth {
    pub view: ProjectionView,
    pub convention: String,
    pub width: usize,
    pub height: usize,
    /// (row, column) spacing in mm at the patient (parallel beam: no magnification).
    pub pixel_spacing_mm: [f64; 2],
    pub vertebrae: Vec<VertebraLandmarks>,
    /// Right then left femoral head.
    pub femoral_heads: Vec<CircleLandmark>,
    pub s1_endplate: S1Landmarks,
    pub c7_center_px: Px,
    pub c7_in_image: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VertebraLandmarks {
    pub level: Level,
    /// Body corners in AASCE order: top-left, top-right, bottom-left, bottom-right (as displayed).
    pub corners_px: [Px; 4],
    pub center_px: Px,
    /// All four corners lie inside the image.
    pub in_image: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CircleLandmark {
    pub center_px: Px,
    pub radius_px: f64,
    pub in_image: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S1Landmarks {
    /// End points of the S1 superior endplate as displayed (left, right on the image) and its midpoint.
    pub left_px: Px,
    pub right_px: Px,
    pub midpoint_px: Px,
    pub in_image: bool,
}

/// Linear attenuation of water (1/mm) at a typical effective radiograph energy.
const MU_WATER_PER_MM: f64 = 0.02;
/// Extra attenuation per HU above 100 HU: at radiographic energies (≈ 50 keV) bone attenuates relatively
/// more than at the CT effective energy that defines HU, so bone contrast is raised over a linear HU map.
const BONE_BOOST: f64 = 1.5;

/// Projects the phantom's CT into a radiograph with landmarks.
pub fn project(ph: &Phantom, view: ProjectionView) -> Projection {
    let ct = &ph.ct;
    let [ni, nj, nk] = ct.dims();
    let g = ct.geometry();
    let s = g.spacing_mm;
    let data = ct.data();
    let mu = |hu: i16| {
        let h = hu as f64;
        (MU_WATER_PER_MM * (1.0 + h / 1000.0 + BONE_BOOST * (h - 100.0).max(0.0) / 1000.0)).max(0.0)
    };
    let (w, step) = match view {
        ProjectionView::Ap => (ni, s[1]),
        ProjectionView::Lateral => (nj, s[0]),
    };
    let rows: Vec<Vec<f32>> = (0..nk)
        .into_par_iter()
        .map(|k| {
            let mut acc = vec![0.0f64; w];
            let sl = &data[k * ni * nj..(k + 1) * ni * nj];
            match view {
                ProjectionView::Ap => {
                    for j in 0..nj {
                        for (a, &v) in acc.iter_mut().zip(&sl[j * ni..(j + 1) * ni]) {
                            *a += mu(v);
                        }
                    }
                }
                ProjectionView::Lateral => {
                    for (j, a) in acc.iter_mut().enumerate() {
                        *a = sl[j * ni..(j + 1) * ni].iter().map(|&v| mu(v)).sum();
                    }
                }
            }
            acc.into_iter().map(|a| (a * step) as f32).collect()
        })
        .collect();
    // Superior at the top: image row r = nk − 1 − k.
    let mut img = Vec::with_capacity(w * nk);
    for r in rows.iter().rev() {
        img.extend_from_slice(r);
    }
    let col_spacing = match view {
        ProjectionView::Ap => s[0],
        ProjectionView::Lateral => s[1],
    };
    let mut image = Image2D::new(w, nk, img).expect("non-empty grid");
    image.spacing_mm = Some(([s[2], col_spacing], PixelSpacingSource::User));
    let truth = landmarks(&ph.truth, view, [w, nk], [s[2], col_spacing]);
    Projection { view, image, truth }
}

fn landmarks(
    t: &Truth,
    view: ProjectionView,
    size: [usize; 2],
    spacing: [f64; 2],
) -> ProjectionTruth {
    let g = &t.grid;
    let to_px = |p: [f64; 3]| -> Px {
        let k = (p[2] - g.origin_mm[2]) / g.spacing_mm[2];
        let row = (g.dims[2] as f64 - 1.0) - k;
        let col = match view {
            ProjectionView::Ap => (p[0] - g.origin_mm[0]) / g.spacing_mm[0],
            ProjectionView::Lateral => (p[1] - g.origin_mm[1]) / g.spacing_mm[1],
        };
        [col, row]
    };
    let inside = |p: Px| {
        p[0] >= -0.5 && p[1] >= -0.5 && p[0] <= size[0] as f64 - 0.5 && p[1] <= size[1] as f64 - 0.5
    };
    let mut vertebrae = Vec::new();
    for l in &t.levels {
        let (Some(sup), Some(inf)) = (&l.superior_endplate, &l.inferior_endplate) else {
            continue;
        };
        // Displayed left/right: AP shows the patient's right on the left; lateral shows anterior on the left.
        let (tl, tr, bl, br) = match view {
            ProjectionView::Ap => (sup.right_mm, sup.left_mm, inf.right_mm, inf.left_mm),
            ProjectionView::Lateral => (
                sup.anterior_mm,
                sup.posterior_mm,
                inf.anterior_mm,
                inf.posterior_mm,
            ),
        };
        let corners = [to_px(tl), to_px(tr), to_px(bl), to_px(br)];
        vertebrae.push(VertebraLandmarks {
            level: l.level,
            corners_px: corners,
            center_px: to_px(l.body_center_mm),
            in_image: corners.iter().all(|&c| inside(c)),
        });
    }
    let r_px = t.pelvis.femoral_head_radius_mm
        / g.spacing_mm[if view == ProjectionView::Ap { 0 } else { 1 }];
    let femoral_heads = t
        .pelvis
        .femoral_head_centers_mm
        .iter()
        .map(|&c| {
            let p = to_px(c);
            CircleLandmark {
                center_px: p,
                radius_px: r_px,
                in_image: inside(p),
            }
        })
        .collect();
    let e = &t.pelvis.s1_endplate;
    let (l, r) = match view {
        ProjectionView::Ap => (e.right_mm, e.left_mm),
        ProjectionView::Lateral => (e.anterior_mm, e.posterior_mm),
    };
    let (lp, rp) = (to_px(l), to_px(r));
    let c7 = to_px(t.pelvis.c7_center_mm);
    ProjectionTruth {
        view,
        convention: match view {
            ProjectionView::Ap => {
                "parallel-beam AP: column = x index (patient right on the image left), row = \
                superior at the top; value = ∫μ ds with μ = 0.02/mm·(1 + HU/1000 + 1.5·max(0, HU − 100)/1000)"
                    .into()
            }
            ProjectionView::Lateral => {
                "parallel-beam lateral: column = y index (anterior on the image left), row = \
                superior at the top; value = ∫μ ds with μ = 0.02/mm·(1 + HU/1000 + 1.5·max(0, HU − 100)/1000)"
                    .into()
            }
        },
        width: size[0],
        height: size[1],
        pixel_spacing_mm: spacing,
        vertebrae,
        femoral_heads,
        s1_endplate: S1Landmarks {
            left_px: lp,
            right_px: rp,
            midpoint_px: [0.5 * (lp[0] + rp[0]), 0.5 * (lp[1] + rp[1])],
            in_image: inside(lp) && inside(rp),
        },
        c7_center_px: c7,
        c7_in_image: inside(c7),
    }
}
