//! Raw stored pixel values of one single-frame instance, decoded (if compressed) and converted through the
//! modality LUT (RescaleSlope (0028,1053) × stored + RescaleIntercept (0028,1052)).

use crate::error::{one_line, DicomError};
use crate::header::InstanceHeader;
use dicom_core::value::{PrimitiveValue, Value};
use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;
use dicom_pixeldata::PixelDecoder;
use dicom_transfer_syntax_registry::{TransferSyntaxIndex, TransferSyntaxRegistry};
use spinekit_image::Voxel;
use std::borrow::Cow;

/// JPEG-LS lossless / near-lossless (PS3.5 A.4.3).
const JPEG_LS: [&str; 2] = ["1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"];
/// Explicit VR Big Endian (retired, PS3.5 A.3).
const EXPLICIT_BE: &str = "1.2.840.10008.1.2.2";

/// Fails early, before any pixel is read, when this build cannot decode the transfer syntax.
pub(crate) fn check_transfer_syntax(uid: &str) -> Result<(), DicomError> {
    let uid = uid.trim_end_matches('\0').trim();
    let Some(ts) = TransferSyntaxRegistry.get(uid) else {
        return Err(DicomError::UnsupportedTransferSyntax {
            uid: uid.to_string(),
            name: "unknown".into(),
        });
    };
    if ts.can_decode_all() {
        return Ok(());
    }
    if JPEG_LS.contains(&uid) {
        return Err(DicomError::JpegLsNotBuilt);
    }
    Err(DicomError::UnsupportedTransferSyntax {
        uid: uid.to_string(),
        name: ts.name().to_string(),
    })
}

/// Stored samples of frame 0, normalised to little-endian bytes with their layout.
pub(crate) struct Samples<'a> {
    pub bytes: Cow<'a, [u8]>,
    pub big_endian: bool,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub signed: bool,
    pub samples_per_pixel: u16,
    /// PlanarConfiguration (0028,0006) = 1: colour planes stored one after the other.
    pub planar: bool,
    pub rows: usize,
    pub cols: usize,
}

fn int_attr(obj: &DefaultDicomObject, tag: dicom_core::Tag) -> Option<i64> {
    obj.get(tag).and_then(|e| e.to_int::<i64>().ok())
}

/// Extracts (decoding when encapsulated) the stored samples of the first frame.
pub(crate) fn samples<'a>(
    obj: &'a DefaultDicomObject,
    path: &str,
) -> Result<Samples<'a>, DicomError> {
    let unsupported = |detail: String| DicomError::UnsupportedImage {
        path: path.to_string(),
        detail,
    };
    let rows = int_attr(obj, tags::ROWS).filter(|v| *v > 0 && *v <= 65535);
    let cols = int_attr(obj, tags::COLUMNS).filter(|v| *v > 0 && *v <= 65535);
    let (Some(rows), Some(cols)) = (rows, cols) else {
        return Err(unsupported("Rows/Columns missing or invalid".into()));
    };
    let (rows, cols) = (rows as usize, cols as usize);
    let ts = obj
        .meta()
        .transfer_syntax()
        .trim_end_matches('\0')
        .trim()
        .to_string();
    let Some(pd) = obj.get(tags::PIXEL_DATA) else {
        return Err(unsupported("no PixelData (7FE0,0010)".into()));
    };
    let ba = int_attr(obj, tags::BITS_ALLOCATED).unwrap_or(0);
    let bs = int_attr(obj, tags::BITS_STORED).unwrap_or(ba);
    let spp = int_attr(obj, tags::SAMPLES_PER_PIXEL).unwrap_or(1);
    let signed = int_attr(obj, tags::PIXEL_REPRESENTATION) == Some(1);
    let planar = int_attr(obj, tags::PLANAR_CONFIGURATION) == Some(1);
    if !matches!(ba, 8 | 16 | 32) {
        return Err(unsupported(format!(
            "BitsAllocated {ba} (only 8, 16 and 32 are read)"
        )));
    }
    if !(spp == 1 || spp == 3) {
        return Err(unsupported(format!("SamplesPerPixel {spp}")));
    }
    let bs = if bs <= 0 || bs > ba { ba } else { bs };
    let mut s = match pd.value() {
        Value::Primitive(p) => {
            let big_endian = ts == EXPLICIT_BE;
            let (bytes, be) = match p {
                // Byte values keep the file's byte order; wider values were already decoded to native order.
                PrimitiveValue::U8(_) => (p.to_bytes(), big_endian),
                _ => (p.to_bytes(), cfg!(target_endian = "big")),
            };
            Samples {
                bytes,
                big_endian: be,
                bits_allocated: ba as u16,
                bits_stored: bs as u16,
                signed,
                samples_per_pixel: spp as u16,
                planar,
                rows,
                cols,
            }
        }
        Value::PixelSequence(_) => {
            check_transfer_syntax(&ts)?;
            let d = obj
                .decode_pixel_data_frame(0)
                .map_err(|e| DicomError::Decode {
                    path: path.to_string(),
                    detail: one_line(&e),
                })?;
            let dba = d.bits_allocated();
            let dspp = d.samples_per_pixel();
            Samples {
                big_endian: false,
                bits_allocated: dba,
                bits_stored: if d.bits_stored() == 0 || d.bits_stored() > dba {
                    dba
                } else {
                    d.bits_stored()
                },
                signed: matches!(
                    d.pixel_representation(),
                    dicom_pixeldata::PixelRepresentation::Signed
                ),
                samples_per_pixel: dspp,
                // Codecs hand back interleaved samples.
                planar: false,
                rows: d.rows() as usize,
                cols: d.columns() as usize,
                bytes: Cow::Owned(d.into_data()),
            }
        }
        Value::Sequence(_) => return Err(unsupported("PixelData is a sequence".into())),
    };
    if s.rows != rows || s.cols != cols {
        return Err(DicomError::Decode {
            path: path.to_string(),
            detail: format!(
                "decoded {}x{} but the header says {cols}x{rows}",
                s.cols, s.rows
            ),
        });
    }
    if !matches!(s.bits_allocated, 8 | 16 | 32) {
        return Err(unsupported(format!(
            "decoded BitsAllocated {}",
            s.bits_allocated
        )));
    }
    let need = rows * cols * s.samples_per_pixel as usize * (s.bits_allocated as usize / 8);
    if s.bytes.len() < need {
        return Err(DicomError::Damaged {
            path: path.to_string(),
            detail: format!(
                "pixel data holds {} bytes, the header needs {need}",
                s.bytes.len()
            ),
        });
    }
    if let Cow::Owned(v) = &mut s.bytes {
        v.truncate(need);
    }
    Ok(s)
}

/// Fast path for uncompressed little-endian files (the commonest CT export): finds the PixelData (7FE0,0010)
/// value directly in the file bytes, so the pixels are converted once instead of being parsed into a DICOM
/// value, copied back to bytes and converted again. Returns `None` (caller takes the general path) unless the
/// element is found with exactly the length the header attributes require.
pub(crate) fn native_le_samples<'a>(file: &'a [u8], h: &InstanceHeader) -> Option<Samples<'a>> {
    let (rows, cols) = (h.rows as usize, h.cols as usize);
    let (samples_per_pixel, bits_allocated, bits_stored, signed) = (
        h.samples_per_pixel,
        h.bits_allocated,
        h.bits_stored,
        h.signed,
    );
    let ts = h.transfer_syntax.as_str();
    const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
    const IMPLICIT_LE: &str = "1.2.840.10008.1.2";
    let ts = ts.trim_end_matches('\0').trim();
    let explicit = match ts {
        EXPLICIT_LE => true,
        IMPLICIT_LE => false,
        _ => return None,
    };
    if !matches!(bits_allocated, 8 | 16 | 32) || samples_per_pixel != 1 {
        return None;
    }
    let need = rows * cols * (bits_allocated as usize / 8);
    const TAG: [u8; 4] = [0xE0, 0x7F, 0x10, 0x00];
    // PixelData is the last top-level element in practice; search backwards from where it must start.
    let header_len = if explicit { 12 } else { 8 };
    let last_start = file.len().checked_sub(need + header_len)?;
    let mut pos = last_start + 1;
    while pos > 0 {
        pos -= 1;
        if file[pos..pos + 4] != TAG {
            continue;
        }
        let (len_at, value_at) = if explicit {
            if !matches!(&file[pos + 4..pos + 6], b"OW" | b"OB") || file[pos + 6..pos + 8] != [0, 0]
            {
                continue;
            }
            (pos + 8, pos + 12)
        } else {
            (pos + 4, pos + 8)
        };
        let len = u32::from_le_bytes(file[len_at..len_at + 4].try_into().ok()?) as usize;
        if (len == need || len == need + 1) && value_at + need <= file.len() {
            return Some(Samples {
                bytes: Cow::Borrowed(&file[value_at..value_at + need]),
                big_endian: false,
                bits_allocated,
                bits_stored: if bits_stored == 0 || bits_stored > bits_allocated {
                    bits_allocated
                } else {
                    bits_stored
                },
                signed,
                samples_per_pixel,
                planar: false,
                rows,
                cols,
            });
        }
        // Searching further back than one element header would only find tags inside other values.
        if last_start - pos > 16 {
            return None;
        }
    }
    None
}

impl Samples<'_> {
    /// Stored value of sample `n` (masked to BitsStored, sign-extended when signed).
    #[inline]
    fn raw(&self, n: usize) -> i64 {
        let b = &self.bytes;
        let v: u32 = match self.bits_allocated {
            8 => b[n] as u32,
            16 => {
                let x = [b[2 * n], b[2 * n + 1]];
                (if self.big_endian {
                    u16::from_be_bytes(x)
                } else {
                    u16::from_le_bytes(x)
                }) as u32
            }
            _ => {
                let x = [b[4 * n], b[4 * n + 1], b[4 * n + 2], b[4 * n + 3]];
                if self.big_endian {
                    u32::from_be_bytes(x)
                } else {
                    u32::from_le_bytes(x)
                }
            }
        };
        let bs = self.bits_stored as u32;
        let mask = if bs >= 32 { u32::MAX } else { (1u32 << bs) - 1 };
        let v = v & mask;
        if self.signed && (v >> (bs - 1)) & 1 == 1 {
            v as i64 - (1i64 << bs)
        } else {
            v as i64
        }
    }

    /// Writes `slope × stored + intercept` of the single-sample frame into `out` (rows × cols, row-major).
    pub fn write_rescaled<T: Voxel>(&self, slope: f64, intercept: f64, out: &mut [T]) {
        let n = self.rows * self.cols;
        debug_assert_eq!(out.len(), n);
        let integral = slope == 1.0 && intercept.fract() == 0.0;
        if integral && self.bits_allocated == 16 && !self.big_endian && self.samples_per_pixel == 1
        {
            // The common CT case, kept branch-free per pixel so it vectorises.
            let bs = self.bits_stored as u32;
            let mask = if bs >= 16 { u16::MAX } else { (1u16 << bs) - 1 };
            let shift = 32 - bs;
            let icpt = intercept.clamp(i32::MIN as f64 / 2.0, i32::MAX as f64 / 2.0) as i32;
            let signed = self.signed;
            for (o, b) in out.iter_mut().zip(self.bytes.chunks_exact(2)) {
                let v = u16::from_le_bytes([b[0], b[1]]) & mask;
                // Sign-extend from BitsStored; 16-bit values plus a halved-i32 intercept cannot overflow i32.
                let raw = if signed {
                    ((v as u32) << shift) as i32 >> shift
                } else {
                    v as i32
                };
                *o = T::from_i32(raw + icpt);
            }
        } else if integral {
            for (p, o) in out.iter_mut().enumerate().take(n) {
                *o = T::from_f64((self.raw(p) + intercept as i64) as f64);
            }
        } else {
            for (p, o) in out.iter_mut().enumerate().take(n) {
                *o = T::from_f64(self.raw(p) as f64 * slope + intercept);
            }
        }
    }

    /// Greyscale of a 3-sample (RGB) frame as Rec. 601 luma.
    pub fn write_luma(&self, out: &mut [f32]) {
        let n = self.rows * self.cols;
        for (p, o) in out.iter_mut().enumerate().take(n) {
            let (r, g, b) = if self.planar {
                (self.raw(p), self.raw(n + p), self.raw(2 * n + p))
            } else {
                (self.raw(3 * p), self.raw(3 * p + 1), self.raw(3 * p + 2))
            };
            *o = (0.299 * r as f64 + 0.587 * g as f64 + 0.114 * b as f64) as f32;
        }
    }
}

/// Range of `slope × stored + intercept` over all storable values.
pub(crate) fn output_range(
    bits_stored: u16,
    signed: bool,
    slope: f64,
    intercept: f64,
) -> (f64, f64) {
    let bs = bits_stored.clamp(1, 32) as i32;
    let (lo, hi) = if signed {
        (-(2f64.powi(bs - 1)), 2f64.powi(bs - 1) - 1.0)
    } else {
        (0.0, 2f64.powi(bs) - 1.0)
    };
    let (a, b) = (lo * slope + intercept, hi * slope + intercept);
    (a.min(b), a.max(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s16(words: &[u16], bits_stored: u16, signed: bool) -> Samples<'static> {
        Samples {
            bytes: Cow::Owned(words.iter().flat_map(|w| w.to_le_bytes()).collect()),
            big_endian: false,
            bits_allocated: 16,
            bits_stored,
            signed,
            samples_per_pixel: 1,
            planar: false,
            rows: 1,
            cols: words.len(),
        }
    }

    #[test]
    fn bits_stored_masking_and_sign_extension() {
        // 12-bit signed: 0x0FFF is −1, 0xFC00 (already sign-extended by the writer) is −1024, 0x07FF is 2047.
        let s = s16(&[0x0FFF, 0xFC00, 0x07FF, 0x0800], 12, true);
        assert_eq!(
            (0..4).map(|n| s.raw(n)).collect::<Vec<_>>(),
            [-1, -1024, 2047, -2048]
        );
        // 12-bit unsigned: bits above BitsStored (overlay bits) are ignored.
        let s = s16(&[0xF123, 0x0FFF], 12, false);
        assert_eq!((s.raw(0), s.raw(1)), (0x123, 4095));
        let mut out = [0i16; 2];
        s.write_rescaled(1.0, -1024.0, &mut out);
        assert_eq!(out, [0x123 - 1024, 4095 - 1024]);
        let mut f = [0f32; 2];
        s.write_rescaled(0.5, 1.25, &mut f);
        assert_eq!(f, [0x123 as f32 * 0.5 + 1.25, 4095.0 * 0.5 + 1.25]);
    }

    #[test]
    fn big_endian_bytes() {
        let s = Samples {
            bytes: Cow::Owned(vec![0x01, 0x02]),
            big_endian: true,
            bits_allocated: 16,
            bits_stored: 16,
            signed: false,
            samples_per_pixel: 1,
            planar: false,
            rows: 1,
            cols: 1,
        };
        assert_eq!(s.raw(0), 0x0102);
    }

    #[test]
    fn rescaled_ranges() {
        assert_eq!(output_range(12, false, 1.0, -1024.0), (-1024.0, 3071.0));
        assert_eq!(output_range(16, true, 1.0, 0.0), (-32768.0, 32767.0));
        assert_eq!(output_range(8, false, -2.0, 10.0), (-500.0, 10.0));
    }
}
