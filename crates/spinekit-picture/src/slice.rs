use crate::resample2d::{bilinear, nearest, square_grid, SquareGrid};
use crate::write::save_png;
use crate::{label_colour, PictureError, Window};
use image::{ExtendedColorType, GrayImage, RgbImage};
use spinekit_image::{resample_to_grid, Geometry, ImageError, Interpolation, Volume, Voxel};
use std::path::Path;

/// Anatomical plane of a slice picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    /// Patient's right on the picture's left, anterior at the top (as if looking up from the feet).
    Axial,
    /// Patient's right on the picture's left, superior at the top (as if facing the patient).
    Coronal,
    /// Anterior on the picture's left, superior at the top (as if looking from the patient's left).
    Sagittal,
}

impl Plane {
    /// Patient axis normal to the plane (0 = R→L, 1 = A→P, 2 = I→S).
    fn normal(self) -> usize {
        match self {
            Plane::Axial => 2,
            Plane::Coronal => 1,
            Plane::Sagittal => 0,
        }
    }

    /// Patient axis along picture columns (left → right) and whether it runs toward +L/+P/+S.
    fn columns(self) -> (usize, bool) {
        match self {
            Plane::Axial | Plane::Coronal => (0, true), // right → left
            Plane::Sagittal => (1, true),               // anterior → posterior
        }
    }

    /// Patient axis along picture rows (top → bottom) and whether it runs toward +L/+P/+S.
    fn rows(self) -> (usize, bool) {
        match self {
            Plane::Axial => (1, true),                      // anterior → posterior
            Plane::Coronal | Plane::Sagittal => (2, false), // superior → inferior
        }
    }
}

/// Which slice to draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SliceAt {
    /// The middle slice (index n / 2).
    Middle,
    /// Voxel index along the volume's own axis that is normal to the plane, as stored (before any reorientation).
    Index(usize),
    /// Patient coordinate in mm along the plane normal (LPS: x for sagittal, y for coronal, z for axial),
    /// taken through the volume's centre; the nearest voxel slice is drawn.
    WorldMm(f64),
}

/// Rendering options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SliceOptions {
    /// Side of a (square) output pixel in mm; `None` = the smaller in-plane voxel spacing, so no detail is lost.
    pub pixel_mm: Option<f64>,
    /// Opacity of label colours in overlays, 0 (invisible) … 1 (opaque).
    pub label_alpha: f32,
}

impl Default for SliceOptions {
    fn default() -> Self {
        Self {
            pixel_mm: None,
            label_alpha: 0.5,
        }
    }
}

/// What was drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SliceInfo {
    /// The voxel axis (0, 1, 2) of the volume normal to the plane.
    pub voxel_axis: usize,
    /// The slice's index along that axis, as stored.
    pub slice_index: usize,
    /// Patient coordinate (LPS mm along the plane normal) of the slice at the volume's centre.
    pub position_mm: f64,
    /// Side of one square output pixel in mm.
    pub pixel_mm: f64,
}

/// Voxel types accepted as label maps in overlays.
pub trait LabelVoxel: Voxel {
    fn label(self) -> u32;
}
impl LabelVoxel for u8 {
    fn label(self) -> u32 {
        self as u32
    }
}
impl LabelVoxel for u16 {
    fn label(self) -> u32 {
        self as u32
    }
}

/// For each patient axis p (0 = L/R, 1 = P/A, 2 = S/I): the voxel axis closest to it and whether that axis
/// increases toward +p. Oblique volumes use the nearest voxel axes (no oblique reslicing).
fn voxel_axes(g: &Geometry) -> Result<[(usize, bool); 3], PictureError> {
    let mut out: [Option<(usize, bool)>; 3] = [None; 3];
    for (s, d) in g.direction.iter().enumerate() {
        let p = (0..3)
            .max_by(|&a, &b| d[a].abs().total_cmp(&d[b].abs()))
            .unwrap_or(0);
        if out[p].is_some() {
            return Err(ImageError::Reorient(
                "two voxel axes point along the same patient axis (45° obliquity)".into(),
            )
            .into());
        }
        out[p] = Some((s, d[p] > 0.0));
    }
    match out {
        [Some(a), Some(b), Some(c)] => Ok([a, b, c]),
        _ => {
            Err(ImageError::Reorient("voxel axes do not span the three patient axes".into()).into())
        }
    }
}

/// A 2D plane of voxel values in picture order (row 0 at the top), before resampling.
struct PlaneSamples {
    w: usize,
    h: usize,
    col_mm: f64,
    row_mm: f64,
    data: Vec<f64>,
}

/// Chooses the slice and reports where it is.
fn locate<T: Voxel>(
    vol: &Volume<T>,
    plane: Plane,
    at: SliceAt,
) -> Result<(SliceInfo, [(usize, bool); 3]), PictureError> {
    let g = vol.geometry();
    let dims = vol.dims();
    let axes = voxel_axes(g)?;
    let pn = plane.normal();
    let (sn, _) = axes[pn];
    let n = dims[sn];
    let mut centre = [
        (dims[0] - 1) as f64 / 2.0,
        (dims[1] - 1) as f64 / 2.0,
        (dims[2] - 1) as f64 / 2.0,
    ];
    let k = match at {
        SliceAt::Middle => n / 2,
        SliceAt::Index(i) if i < n => i,
        SliceAt::Index(i) => {
            return Err(PictureError::SliceOutside {
                requested: format!("index {i}"),
                available: format!("indices 0..{}", n - 1),
            })
        }
        SliceAt::WorldMm(x) => {
            let mut w = g.index_to_world(centre);
            w[pn] = x;
            let idx = g.world_to_index(w)[sn];
            if !(x.is_finite() && idx >= -0.5 && idx <= n as f64 - 0.5) {
                let mut a = centre;
                a[sn] = 0.0;
                let mut b = centre;
                b[sn] = (n - 1) as f64;
                let (wa, wb) = (g.index_to_world(a)[pn], g.index_to_world(b)[pn]);
                return Err(PictureError::SliceOutside {
                    requested: format!("at {x} mm"),
                    available: format!("{:.1} to {:.1} mm", wa.min(wb), wa.max(wb)),
                });
            }
            (idx.round().max(0.0) as usize).min(n - 1)
        }
    };
    centre[sn] = k as f64;
    let info = SliceInfo {
        voxel_axis: sn,
        slice_index: k,
        position_mm: g.index_to_world(centre)[pn],
        pixel_mm: 0.0,
    };
    Ok((info, axes))
}

/// Copies slice `k` into picture order: columns and rows run along the plane's patient axes.
fn extract<T: Voxel>(
    vol: &Volume<T>,
    plane: Plane,
    axes: &[(usize, bool); 3],
    k: usize,
) -> PlaneSamples {
    let dims = vol.dims();
    let sp = vol.geometry().spacing_mm;
    let (pc, want_c) = plane.columns();
    let (pr, want_r) = plane.rows();
    let (sc, pos_c) = axes[pc];
    let (sr, pos_r) = axes[pr];
    let sn = axes[plane.normal()].0;
    let (w, h) = (dims[sc], dims[sr]);
    let mut data = Vec::with_capacity(w * h);
    let mut idx = [0usize; 3];
    idx[sn] = k;
    for r in 0..h {
        idx[sr] = if pos_r == want_r { r } else { h - 1 - r };
        for c in 0..w {
            idx[sc] = if pos_c == want_c { c } else { w - 1 - c };
            data.push(vol.get(idx[0], idx[1], idx[2]).to_f64());
        }
    }
    PlaneSamples {
        w,
        h,
        col_mm: sp[sc],
        row_mm: sp[sr],
        data,
    }
}

/// Renders one slice as an 8-bit greyscale picture in radiological orientation with square pixels.
///
/// The slice is the voxel plane whose normal is closest to the requested plane's normal (volumes are not
/// resliced obliquely); columns and rows follow the patient axes as documented on [`Plane`], whatever order the
/// voxels are stored in. Pixels are resampled bilinearly to squares of [`SliceOptions::pixel_mm`], so anatomy
/// keeps its true proportions even with thick slices.
pub fn render_slice<T: Voxel>(
    vol: &Volume<T>,
    plane: Plane,
    at: SliceAt,
    window: Window,
    opts: &SliceOptions,
) -> Result<(GrayImage, SliceInfo), PictureError> {
    window.validate()?;
    let (mut info, axes) = locate(vol, plane, at)?;
    let s = extract(vol, plane, &axes, info.slice_index);
    let grid = square_grid(s.w, s.h, s.col_mm, s.row_mm, opts.pixel_mm)?;
    info.pixel_mm = grid.pixel_mm;
    let vals = bilinear(&s.data, s.w, s.h, s.col_mm, s.row_mm, &grid);
    let grey: Vec<u8> = vals.iter().map(|&v| window.apply(v)).collect();
    let img = GrayImage::from_raw(grid.w as u32, grid.h as u32, grey)
        .ok_or_else(|| PictureError::Encode("picture buffer size mismatch".into()))?;
    Ok((img, info))
}

fn same_grid(a: &Geometry, ad: [usize; 3], b: &Geometry, bd: [usize; 3]) -> bool {
    ad == bd
        && (0..3).all(|i| {
            (a.origin_mm[i] - b.origin_mm[i]).abs() < 1e-4
                && (a.spacing_mm[i] - b.spacing_mm[i]).abs() <= 1e-6 * a.spacing_mm[i]
                && (0..3).all(|j| (a.direction[i][j] - b.direction[i][j]).abs() < 1e-6)
        })
}

/// Renders a slice (as [`render_slice`]) with a label map blended on top in the fixed colours of
/// [`label_colour`](crate::label_colour) at [`SliceOptions::label_alpha`]. Label 0 is transparent. A label map on
/// a different grid is first resampled (nearest neighbour, by world position) onto the image's grid.
pub fn render_overlay<T: Voxel, L: LabelVoxel>(
    vol: &Volume<T>,
    labels: &Volume<L>,
    plane: Plane,
    at: SliceAt,
    window: Window,
    opts: &SliceOptions,
) -> Result<(RgbImage, SliceInfo), PictureError> {
    let a = opts.label_alpha;
    if !(0.0..=1.0).contains(&a) {
        return Err(PictureError::BadOption(format!(
            "label opacity {a} must be between 0 and 1"
        )));
    }
    let (grey, info) = render_slice(vol, plane, at, window, opts)?;
    let resampled;
    let lab = if same_grid(vol.geometry(), vol.dims(), labels.geometry(), labels.dims()) {
        labels
    } else {
        resampled = resample_to_grid(
            labels,
            vol.dims(),
            *vol.geometry(),
            Interpolation::Nearest,
            L::default(),
        )?;
        &resampled
    };
    let (_, axes) = locate(vol, plane, SliceAt::Index(info.slice_index))?;
    let s = extract(lab, plane, &axes, info.slice_index);
    let grid = SquareGrid {
        w: grey.width() as usize,
        h: grey.height() as usize,
        pixel_mm: info.pixel_mm,
    };
    let lv = nearest(&s.data, s.w, s.h, s.col_mm, s.row_mm, &grid);
    let a = a as f64;
    let mut rgb = Vec::with_capacity(grid.w * grid.h * 3);
    for (&g, &l) in grey.as_raw().iter().zip(&lv) {
        let label = L::from_f64(l).label();
        if label == 0 {
            rgb.extend_from_slice(&[g, g, g]);
        } else {
            let col = label_colour(label);
            for c in col {
                rgb.push((g as f64 * (1.0 - a) + c as f64 * a).round() as u8);
            }
        }
    }
    let img = RgbImage::from_raw(grid.w as u32, grid.h as u32, rgb)
        .ok_or_else(|| PictureError::Encode("picture buffer size mismatch".into()))?;
    Ok((img, info))
}

/// Writes [`render_slice`]'s picture as an 8-bit greyscale PNG (atomically: temporary file, then rename).
pub fn write_slice_png<T: Voxel>(
    path: impl AsRef<Path>,
    vol: &Volume<T>,
    plane: Plane,
    at: SliceAt,
    window: Window,
    opts: &SliceOptions,
) -> Result<SliceInfo, PictureError> {
    let (img, info) = render_slice(vol, plane, at, window, opts)?;
    save_png(
        path.as_ref(),
        img.as_raw(),
        img.width(),
        img.height(),
        ExtendedColorType::L8,
    )?;
    Ok(info)
}

/// Writes [`render_overlay`]'s picture as an RGB PNG (atomically: temporary file, then rename).
pub fn write_overlay_png<T: Voxel, L: LabelVoxel>(
    path: impl AsRef<Path>,
    vol: &Volume<T>,
    labels: &Volume<L>,
    plane: Plane,
    at: SliceAt,
    window: Window,
    opts: &SliceOptions,
) -> Result<SliceInfo, PictureError> {
    let (img, info) = render_overlay(vol, labels, plane, at, window, opts)?;
    save_png(
        path.as_ref(),
        img.as_raw(),
        img.width(),
        img.height(),
        ExtendedColorType::Rgb8,
    )?;
    Ok(info)
}
