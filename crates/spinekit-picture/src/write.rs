use crate::resample2d::{bilinear, square_grid};
use crate::{PictureError, Window};
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, GrayImage, ImageEncoder};
use spinekit_image::Image2D;
use std::path::Path;

/// Encodes a PNG in memory, then writes it to a temporary file in the destination folder and renames it, so a
/// failure never leaves a half-written picture behind.
pub(crate) fn save_png(
    path: &Path,
    raw: &[u8],
    w: u32,
    h: u32,
    colour: ExtendedColorType,
) -> Result<(), PictureError> {
    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(raw, w, h, colour)
        .map_err(|e| PictureError::Encode(e.to_string()))?;
    spinekit_atomic::write_bytes_atomic(path, &png).map_err(|e| PictureError::io(path, e))?;
    Ok(())
}

/// Renders a 2D image as 8-bit grey: through `window`, or from its min–max range when `None`. Pixels with
/// anisotropic spacing are resampled (bilinear) to squares of the smaller spacing; MONOCHROME1 images
/// (`inverted`) are flipped so that bone is white.
pub fn render_image2d(img: &Image2D, window: Option<Window>) -> Result<GrayImage, PictureError> {
    let window = match window {
        Some(w) => w,
        None => img
            .range()
            .map(|(lo, hi)| Window::from_range(lo as f64, hi as f64))
            .unwrap_or(Window::from_range(0.0, 1.0)),
    };
    window.validate()?;
    let data: Vec<f64> = img.data.iter().map(|&v| v as f64).collect();
    let (row_mm, col_mm) = match img.spacing_mm {
        Some(([r, c], _)) if r.is_finite() && c.is_finite() && r > 0.0 && c > 0.0 => (r, c),
        _ => (1.0, 1.0),
    };
    let (w, h, vals) = if (row_mm - col_mm).abs() <= 1e-3 * row_mm.min(col_mm) {
        (img.width, img.height, data)
    } else {
        let grid = square_grid(img.width, img.height, col_mm, row_mm, None)?;
        let v = bilinear(&data, img.width, img.height, col_mm, row_mm, &grid);
        (grid.w, grid.h, v)
    };
    let grey: Vec<u8> = vals
        .iter()
        .map(|&v| {
            let g = window.apply(v);
            if img.inverted {
                255 - g
            } else {
                g
            }
        })
        .collect();
    GrayImage::from_raw(w as u32, h as u32, grey)
        .ok_or_else(|| PictureError::Encode("picture buffer size mismatch".into()))
}

/// Writes a 2D image as an 8-bit greyscale PNG (see [`render_image2d`]), atomically.
pub fn write_image2d_png(
    path: impl AsRef<Path>,
    img: &Image2D,
    window: Option<Window>,
) -> Result<(), PictureError> {
    let g = render_image2d(img, window)?;
    save_png(
        path.as_ref(),
        g.as_raw(),
        g.width(),
        g.height(),
        ExtendedColorType::L8,
    )
}
