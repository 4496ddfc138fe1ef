use crate::ImageError;
use serde::Serialize;

/// Where a radiograph's pixel spacing came from; the distinction matters clinically because ImagerPixelSpacing is
/// at the detector and magnifies the patient by the source–image/source–object ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PixelSpacingSource {
    /// DICOM PixelSpacing (0028,0030): calibrated at the patient.
    PixelSpacing,
    /// DICOM ImagerPixelSpacing (0018,1164): at the detector plane, uncorrected for magnification.
    ImagerPixelSpacing,
    /// Declared by the caller.
    User,
}

/// A 2D greyscale image (radiograph, secondary capture, photo) with optional pixel spacing.
/// Row-major: `data[row * width + col]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Image2D {
    pub width: usize,
    pub height: usize,
    /// (row spacing, column spacing) in mm, when the source provides it.
    pub spacing_mm: Option<([f64; 2], PixelSpacingSource)>,
    /// True when higher values are darker (DICOM MONOCHROME1); values are left as stored.
    pub inverted: bool,
    pub data: Vec<f32>,
}

impl Image2D {
    pub fn new(width: usize, height: usize, data: Vec<f32>) -> Result<Self, ImageError> {
        if width == 0 || height == 0 {
            return Err(ImageError::EmptyVolume(width, height, 1));
        }
        if data.len() != width * height {
            return Err(ImageError::BufferSize {
                expected: width * height,
                got: data.len(),
            });
        }
        Ok(Self {
            width,
            height,
            spacing_mm: None,
            inverted: false,
            data,
        })
    }

    #[inline]
    pub fn get(&self, col: usize, row: usize) -> f32 {
        self.data[row * self.width + col]
    }

    /// Minimum and maximum finite pixel value.
    pub fn range(&self) -> Option<(f32, f32)> {
        let (lo, hi) = self
            .data
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        (lo <= hi).then_some((lo, hi))
    }
}
