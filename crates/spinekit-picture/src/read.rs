use crate::PictureError;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use spinekit_image::Image2D;
use std::io::Cursor;
use std::path::Path;

/// Largest accepted width or height. Full-spine radiographs are < 5000 px; anything above this is refused
/// from the header, before any pixel memory is allocated.
pub const MAX_PICTURE_SIDE: u32 = 20_000;

/// Reads a PNG or JPEG file as a greyscale [`Image2D`] (see [`decode_picture`] for the conversion).
pub fn read_picture(path: impl AsRef<Path>) -> Result<Image2D, PictureError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| PictureError::io(path, e))?;
    decode_picture(&bytes)
}

/// Decodes PNG or JPEG bytes as a greyscale [`Image2D`] without spacing.
///
/// Grey images keep their stored values (16-bit PNG stays 0…65535 in f32). Colour images become luma with the
/// ITU-R BT.601 weights 0.299 R + 0.587 G + 0.114 B (what PIL's `convert("L")` and JPEG's own Y use), not
/// rounded; alpha is ignored.
///
/// A JPEG must end its entropy-coded data with the EOI marker: the JPEG decoder used here fills a truncated file
/// with grey instead of failing (libjpeg only warns "Premature end of JPEG file"), so truncation is checked first.
pub fn decode_picture(bytes: &[u8]) -> Result<Image2D, PictureError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PictureError::Decode(e.to_string()))?;
    match reader.format() {
        Some(ImageFormat::Png) => {}
        Some(ImageFormat::Jpeg) => check_jpeg_complete(bytes)?,
        _ => return Err(PictureError::NotAnImage),
    }
    // Building the decoder parses only the header, so the size is known before pixels are allocated.
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| PictureError::Decode(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(PictureError::Empty { width, height });
    }
    if width > MAX_PICTURE_SIDE || height > MAX_PICTURE_SIDE {
        return Err(PictureError::TooLarge {
            width,
            height,
            limit: MAX_PICTURE_SIDE,
        });
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_PICTURE_SIDE);
    limits.max_image_height = Some(MAX_PICTURE_SIDE);
    // Enough for the largest accepted RGBA16 picture; the default 512 MiB would refuse big 16-bit radiographs.
    limits.max_alloc = Some(MAX_PICTURE_SIDE as u64 * MAX_PICTURE_SIDE as u64 * 8);
    decoder
        .set_limits(limits)
        .map_err(|e| PictureError::Decode(e.to_string()))?;
    let img =
        DynamicImage::from_decoder(decoder).map_err(|e| PictureError::Decode(e.to_string()))?;
    let data = to_grey(&img);
    Ok(Image2D::new(width as usize, height as usize, data)?)
}

/// BT.601 luma, computed in f64 so that a grey pixel stored as RGB (R = G = B) keeps its exact value.
#[inline]
fn luma(r: f64, g: f64, b: f64) -> f32 {
    (0.299 * r + 0.587 * g + 0.114 * b) as f32
}

fn to_grey(img: &DynamicImage) -> Vec<f32> {
    match img {
        DynamicImage::ImageLuma8(b) => b.as_raw().iter().map(|&v| v as f32).collect(),
        DynamicImage::ImageLumaA8(b) => b.as_raw().chunks_exact(2).map(|p| p[0] as f32).collect(),
        DynamicImage::ImageLuma16(b) => b.as_raw().iter().map(|&v| v as f32).collect(),
        DynamicImage::ImageLumaA16(b) => b.as_raw().chunks_exact(2).map(|p| p[0] as f32).collect(),
        DynamicImage::ImageRgb8(b) => rgb(b.as_raw(), 3),
        DynamicImage::ImageRgba8(b) => rgb(b.as_raw(), 4),
        DynamicImage::ImageRgb16(b) => rgb(b.as_raw(), 3),
        DynamicImage::ImageRgba16(b) => rgb(b.as_raw(), 4),
        DynamicImage::ImageRgb32F(b) => rgb(b.as_raw(), 3),
        DynamicImage::ImageRgba32F(b) => rgb(b.as_raw(), 4),
        // Future colour types: fall back to the library's 16-bit luma.
        other => other
            .to_luma16()
            .as_raw()
            .iter()
            .map(|&v| v as f32)
            .collect(),
    }
}

fn rgb<T: Copy + Into<f64>>(raw: &[T], channels: usize) -> Vec<f32> {
    raw.chunks_exact(channels)
        .map(|p| {
            let f = |i: usize| Into::<f64>::into(p[i]);
            luma(f(0), f(1), f(2))
        })
        .collect()
}

/// Walks the JPEG marker segments to the first start-of-scan and requires an end-of-image marker after it.
/// Inside entropy-coded data a 0xFF byte is always stuffed (FF 00) or a restart marker, so FF D9 there can only
/// be the real EOI.
fn check_jpeg_complete(b: &[u8]) -> Result<(), PictureError> {
    let truncated = |what: &str| {
        Err(PictureError::Decode(format!(
            "JPEG file is truncated ({what})"
        )))
    };
    if !b.starts_with(&[0xFF, 0xD8]) {
        return Err(PictureError::NotAnImage);
    }
    let mut i = 2;
    let sos = loop {
        while i < b.len() && b[i] == 0xFF && b.get(i + 1) == Some(&0xFF) {
            i += 1; // fill bytes
        }
        if i + 1 >= b.len() {
            return truncated("no image data");
        }
        if b[i] != 0xFF {
            return Err(PictureError::Decode("JPEG header is corrupt".into()));
        }
        match b[i + 1] {
            0xDA => break i,
            0x01 | 0xD0..=0xD7 => i += 2,
            _ => {
                if i + 3 >= b.len() {
                    return truncated("header cut short");
                }
                i += 2 + u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
            }
        }
    };
    if b[sos..].windows(2).any(|w| w == [0xFF, 0xD9]) {
        Ok(())
    } else {
        truncated("no end-of-image marker")
    }
}
