use crate::PictureError;

/// Display window (window/level): values from `center - width/2` to `center + width/2` map linearly onto
/// black…white; values outside are clipped. Units are those of the volume (Hounsfield units for CT).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub center: f64,
    pub width: f64,
}

impl Window {
    /// CT bone: cortical and trabecular bone, screws, fractures (C 400, W 1800).
    pub const BONE: Window = Window {
        center: 400.0,
        width: 1800.0,
    };
    /// CT soft tissue: muscle, discs, fat, paraspinal soft tissue (C 40, W 400).
    pub const SOFT_TISSUE: Window = Window {
        center: 40.0,
        width: 400.0,
    };
    /// CT spinal canal / myelogram-like soft tissue with more contrast (C 50, W 250).
    pub const SPINE_SOFT: Window = Window {
        center: 50.0,
        width: 250.0,
    };
    /// CT lung parenchyma (C −600, W 1500).
    pub const LUNG: Window = Window {
        center: -600.0,
        width: 1500.0,
    };
    /// CT brain (C 40, W 80).
    pub const BRAIN: Window = Window {
        center: 40.0,
        width: 80.0,
    };

    /// Window covering `min..=max` (e.g. the volume's intensity range, for MR which has no standard units).
    /// A constant image (min == max) gets width 1.
    pub fn from_range(min: f64, max: f64) -> Self {
        let width = (max - min).abs();
        Self {
            center: (min + max) / 2.0,
            width: if width > 0.0 { width } else { 1.0 },
        }
    }

    pub(crate) fn validate(&self) -> Result<(), PictureError> {
        if !(self.center.is_finite() && self.width.is_finite() && self.width > 0.0) {
            return Err(PictureError::BadWindow {
                center: self.center,
                width: self.width,
            });
        }
        Ok(())
    }

    /// Grey level 0…255 of a value (NaN maps to black).
    #[inline]
    pub fn apply(&self, v: f64) -> u8 {
        let g = (v - (self.center - self.width / 2.0)) / self.width * 255.0;
        if g.is_nan() {
            0
        } else {
            g.round().clamp(0.0, 255.0) as u8
        }
    }
}
