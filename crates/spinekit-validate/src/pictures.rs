//! Pictures of where a prediction disagrees most with its reference: the axial slice with the most differing
//! voxels, drawn three times (reference labels, predicted labels, the disagreement) as in-memory PNGs for
//! `validation.html`. Radiological orientation and square pixels come from spinekit-picture.

use crate::error::{Result, ValidateError};
use base64::Engine;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};
use rayon::prelude::*;
use serde::Serialize;
use spinekit_image::Volume;
use spinekit_picture::{render_overlay, Plane, SliceAt, SliceOptions, Window};

/// The slice of largest disagreement between two label maps on one grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Disagreement {
    /// Always "axial": the voxel axis closest to the patient's head–foot axis.
    pub plane: &'static str,
    /// That voxel axis (0, 1, 2) and the slice's index along it (0-based, as stored).
    pub voxel_axis: usize,
    pub slice_index: usize,
    /// Voxels of that slice whose labels differ.
    pub differing_voxels: u64,
    /// Voxels whose labels differ in the whole volume.
    pub differing_voxels_total: u64,
}

/// The three pictures of one case, PNG bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasePictures {
    pub reference_png: Vec<u8>,
    pub prediction_png: Vec<u8>,
    /// Red: reference label missed or changed by the prediction; green: predicted label where the reference has
    /// none (colours 1 and 2 of spinekit-picture's label palette).
    pub difference_png: Vec<u8>,
}

impl CasePictures {
    /// `data:` URI of a PNG, for an `<img src>` in a self-contained page.
    pub fn data_uri(png: &[u8]) -> String {
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(png)
        )
    }
}

/// The voxel axis closest to the patient's superior–inferior axis.
fn axial_axis(v: &Volume<u16>) -> usize {
    let d = v.geometry().direction;
    (0..3)
        .max_by(|&a, &b| d[a][2].abs().total_cmp(&d[b][2].abs()))
        .unwrap_or(2)
}

/// Finds the axial slice with the most differing voxels; `None` when the maps agree everywhere.
/// Both maps must be on the same grid.
pub fn largest_disagreement(pred: &Volume<u16>, reference: &Volume<u16>) -> Option<Disagreement> {
    let dims = reference.dims();
    if pred.dims() != dims {
        return None;
    }
    let axis = axial_axis(reference);
    let plane = dims[0] * dims[1];
    let per_plane = pred
        .data()
        .par_chunks(plane)
        .zip(reference.data().par_chunks(plane))
        .map(|(p, r)| {
            let mut c = vec![0u64; if axis == 2 { 1 } else { dims[axis] }];
            for (n, (a, b)) in p.iter().zip(r).enumerate() {
                if a != b {
                    c[match axis {
                        0 => n % dims[0],
                        1 => n / dims[0],
                        _ => 0,
                    }] += 1;
                }
            }
            c
        })
        .collect::<Vec<Vec<u64>>>();
    let counts: Vec<u64> = if axis == 2 {
        per_plane.iter().map(|c| c[0]).collect()
    } else {
        per_plane.iter().fold(vec![0u64; dims[axis]], |mut acc, c| {
            for (x, y) in acc.iter_mut().zip(c) {
                *x += y;
            }
            acc
        })
    };
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let (slice_index, &differing_voxels) = counts
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))?;
    Some(Disagreement {
        plane: "axial",
        voxel_axis: axis,
        slice_index,
        differing_voxels,
        differing_voxels_total: total,
    })
}

fn png(img: &image::RgbImage) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            ExtendedColorType::Rgb8,
        )
        .map_err(|e| ValidateError::Other(format!("cannot encode a picture: {e}")))?;
    Ok(out)
}

/// Margin around the labelled area of the slice, voxels.
const MARGIN_VOXELS: usize = 8;

/// Draws the slice `d` of both maps (cropped to their labels plus a margin) and their disagreement.
pub fn disagreement_pictures(
    pred: &Volume<u16>,
    reference: &Volume<u16>,
    d: &Disagreement,
) -> Result<CasePictures> {
    let dims = reference.dims();
    let a = d.voxel_axis;
    let (u, w) = match a {
        0 => (1, 2),
        1 => (0, 2),
        _ => (0, 1),
    };
    // In-plane bounding box of anything labelled in either map on this slice.
    let (mut lo, mut hi) = ([usize::MAX; 3], [0usize; 3]);
    for y in 0..dims[w] {
        for x in 0..dims[u] {
            let mut idx = [0usize; 3];
            idx[a] = d.slice_index;
            idx[u] = x;
            idx[w] = y;
            if pred.get(idx[0], idx[1], idx[2]) != 0 || reference.get(idx[0], idx[1], idx[2]) != 0 {
                lo[u] = lo[u].min(x);
                hi[u] = hi[u].max(x);
                lo[w] = lo[w].min(y);
                hi[w] = hi[w].max(y);
            }
        }
    }
    for ax in [u, w] {
        lo[ax] = lo[ax].saturating_sub(MARGIN_VOXELS);
        hi[ax] = (hi[ax] + MARGIN_VOXELS + 1).min(dims[ax]);
    }
    lo[a] = d.slice_index;
    hi[a] = d.slice_index + 1;
    let p = pred.crop(lo, hi)?;
    let r = reference.crop(lo, hi)?;
    let diff = Volume::<u16>::from_vec(
        p.dims(),
        *p.geometry(),
        p.data()
            .iter()
            .zip(r.data())
            .map(|(&pv, &rv)| match (pv == rv, rv != 0) {
                (true, _) => 0,
                (false, true) => 1,  // reference label missed or relabelled
                (false, false) => 2, // extra predicted label
            })
            .collect(),
    )?;
    let background = Volume::<u8>::zeros(p.dims(), *p.geometry())?;
    let opts = SliceOptions {
        pixel_mm: None,
        label_alpha: 1.0,
    };
    let draw = |labels: &Volume<u16>| -> Result<Vec<u8>> {
        let (img, _) = render_overlay(
            &background,
            labels,
            Plane::Axial,
            SliceAt::Index(0),
            Window::from_range(0.0, 1.0),
            &opts,
        )
        .map_err(|e| ValidateError::Other(format!("cannot draw a picture: {e}")))?;
        png(&img)
    };
    Ok(CasePictures {
        reference_png: draw(&r)?,
        prediction_png: draw(&p)?,
        difference_png: draw(&diff)?,
    })
}
