//! Resampling a 2D plane onto square pixels, so that pictures keep the anatomy's true proportions.

use crate::PictureError;

/// Largest side of a rendered picture: protects against a tiny pixel size asking for gigapixel output.
const MAX_OUTPUT_SIDE: usize = 16_384;

/// Output grid of `w`×`h` square pixels of `pixel_mm`.
pub(crate) struct SquareGrid {
    pub w: usize,
    pub h: usize,
    pub pixel_mm: f64,
}

/// Square-pixel grid covering the same extent (pixel edge to pixel edge) as a `w`×`h` plane with the given
/// column and row spacing; the pixel size defaults to the smaller spacing so no detail is lost.
pub(crate) fn square_grid(
    w: usize,
    h: usize,
    col_mm: f64,
    row_mm: f64,
    pixel_mm: Option<f64>,
) -> Result<SquareGrid, PictureError> {
    let p = pixel_mm.unwrap_or(col_mm.min(row_mm));
    if !(p.is_finite() && p > 0.0) {
        return Err(PictureError::BadOption(format!(
            "pixel size {p} mm must be positive"
        )));
    }
    let ow = ((w as f64 * col_mm / p).round() as usize).max(1);
    let oh = ((h as f64 * row_mm / p).round() as usize).max(1);
    if ow > MAX_OUTPUT_SIDE || oh > MAX_OUTPUT_SIDE {
        return Err(PictureError::BadOption(format!(
            "picture would be {ow}×{oh} pixels (limit {MAX_OUTPUT_SIDE}); choose a larger pixel size"
        )));
    }
    Ok(SquareGrid {
        w: ow,
        h: oh,
        pixel_mm: p,
    })
}

/// Source coordinate (source pixel centres at integers) of output pixel centre `o`, clamped to the source.
#[inline]
fn src_coord(o: usize, out_px: f64, src_px: f64, n: usize) -> f64 {
    ((o as f64 + 0.5) * out_px / src_px - 0.5).clamp(0.0, (n - 1) as f64)
}

/// Bilinear resampling (for intensities). `data` is row-major `w`×`h`.
pub(crate) fn bilinear(
    data: &[f64],
    w: usize,
    h: usize,
    col_mm: f64,
    row_mm: f64,
    grid: &SquareGrid,
) -> Vec<f64> {
    let xs: Vec<(usize, usize, f64)> = (0..grid.w)
        .map(|c| {
            let x = src_coord(c, grid.pixel_mm, col_mm, w);
            let x0 = x.floor() as usize;
            (x0, (x0 + 1).min(w - 1), x - x0 as f64)
        })
        .collect();
    let mut out = Vec::with_capacity(grid.w * grid.h);
    for r in 0..grid.h {
        let y = src_coord(r, grid.pixel_mm, row_mm, h);
        let y0 = y.floor() as usize;
        let (y1, fy) = ((y0 + 1).min(h - 1), y - y0 as f64);
        let (top, bottom) = (&data[y0 * w..(y0 + 1) * w], &data[y1 * w..(y1 + 1) * w]);
        for &(x0, x1, fx) in &xs {
            let t = top[x0] * (1.0 - fx) + top[x1] * fx;
            let b = bottom[x0] * (1.0 - fx) + bottom[x1] * fx;
            out.push(t * (1.0 - fy) + b * fy);
        }
    }
    out
}

/// Nearest-neighbour resampling (for labels, which must not be averaged into new values).
pub(crate) fn nearest(
    data: &[f64],
    w: usize,
    h: usize,
    col_mm: f64,
    row_mm: f64,
    grid: &SquareGrid,
) -> Vec<f64> {
    let xs: Vec<usize> = (0..grid.w)
        .map(|c| src_coord(c, grid.pixel_mm, col_mm, w).round() as usize)
        .collect();
    let mut out = Vec::with_capacity(grid.w * grid.h);
    for r in 0..grid.h {
        let y = src_coord(r, grid.pixel_mm, row_mm, h).round() as usize;
        out.extend(xs.iter().map(|&x| data[y * w + x]));
    }
    out
}
