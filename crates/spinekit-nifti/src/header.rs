//! The fixed NIfTI-1 (348 bytes) and NIfTI-2 (540 bytes) headers, parsed into one version-independent struct.
//! The version and byte order come from `sizeof_hdr`, as the standard prescribes.

use crate::error::{NiftiError, Result};
use crate::NiftiVersion;

pub(crate) const NIFTI1_HEADER_SIZE: usize = 348;
pub(crate) const NIFTI2_HEADER_SIZE: usize = 540;
pub(crate) const NIFTI1_MAGIC: [u8; 4] = *b"n+1\0";
pub(crate) const NIFTI2_MAGIC: [u8; 8] = *b"n+2\0\r\n\x1a\n";

/// NIfTI datatype codes (nifti1.h).
pub(crate) mod dt {
    pub const UINT8: i16 = 2;
    pub const INT16: i16 = 4;
    pub const INT32: i16 = 8;
    pub const FLOAT32: i16 = 16;
    pub const FLOAT64: i16 = 64;
    pub const INT8: i16 = 256;
    pub const UINT16: i16 = 512;
    pub const UINT32: i16 = 768;
    pub const INT64: i16 = 1024;
    pub const UINT64: i16 = 1280;
}

/// Human name of a datatype code, for messages and [`crate::NiftiInfo`].
pub(crate) fn datatype_name(code: i16) -> &'static str {
    match code {
        0 => "unknown",
        1 => "binary",
        dt::UINT8 => "uint8",
        dt::INT16 => "int16",
        dt::INT32 => "int32",
        dt::FLOAT32 => "float32",
        32 => "complex64",
        dt::FLOAT64 => "float64",
        128 => "rgb24",
        255 => "all",
        dt::INT8 => "int8",
        dt::UINT16 => "uint16",
        dt::UINT32 => "uint32",
        dt::INT64 => "int64",
        dt::UINT64 => "uint64",
        1536 => "float128",
        1792 => "complex128",
        2048 => "complex256",
        2304 => "rgba32",
        _ => "not a NIfTI type",
    }
}

/// Bytes per voxel of the datatypes spinekit reads.
pub(crate) fn datatype_size(code: i16) -> Option<usize> {
    Some(match code {
        dt::UINT8 | dt::INT8 => 1,
        dt::INT16 | dt::UINT16 => 2,
        dt::INT32 | dt::UINT32 | dt::FLOAT32 => 4,
        dt::FLOAT64 | dt::INT64 | dt::UINT64 => 8,
        _ => return None,
    })
}

/// Header fields spinekit uses, widened to the NIfTI-2 types (i64 dims, f64 reals).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header {
    pub version: NiftiVersion,
    pub little_endian: bool,
    pub dim: [i64; 8],
    pub datatype: i16,
    pub bitpix: i16,
    pub intent_code: i32,
    pub pixdim: [f64; 8],
    pub vox_offset: f64,
    pub scl_slope: f64,
    pub scl_inter: f64,
    pub xyzt_units: u8,
    pub descrip: [u8; 80],
    pub qform_code: i32,
    pub sform_code: i32,
    pub quatern: [f64; 3],
    pub qoffset: [f64; 3],
    pub srow: [[f64; 4]; 3],
    pub magic: [u8; 8],
}

impl Default for Header {
    fn default() -> Self {
        Self {
            version: NiftiVersion::One,
            little_endian: true,
            dim: [0; 8],
            datatype: 0,
            bitpix: 0,
            intent_code: 0,
            pixdim: [0.0; 8],
            vox_offset: 0.0,
            scl_slope: 0.0,
            scl_inter: 0.0,
            xyzt_units: 0,
            descrip: [0; 80],
            qform_code: 0,
            sform_code: 0,
            quatern: [0.0; 3],
            qoffset: [0.0; 3],
            srow: [[0.0; 4]; 3],
            magic: [0; 8],
        }
    }
}

/// Decodes the first four bytes (`sizeof_hdr`): which version, and whether the file is little-endian.
pub(crate) fn detect(first4: [u8; 4]) -> Result<(NiftiVersion, bool)> {
    let le = i32::from_le_bytes(first4);
    let be = i32::from_be_bytes(first4);
    match (le, be) {
        (348, _) => Ok((NiftiVersion::One, true)),
        (540, _) => Ok((NiftiVersion::Two, true)),
        (_, 348) => Ok((NiftiVersion::One, false)),
        (_, 540) => Ok((NiftiVersion::Two, false)),
        _ => Err(NiftiError::NotNifti(format!(
            "header size field is {le}, neither 348 (NIfTI-1) nor 540 (NIfTI-2)"
        ))),
    }
}

/// Endian-aware little reader over the fixed header bytes.
struct Fields<'a> {
    b: &'a [u8],
    le: bool,
}

impl Fields<'_> {
    fn arr<const N: usize>(&self, off: usize) -> [u8; N] {
        let mut a = [0u8; N];
        a.copy_from_slice(&self.b[off..off + N]);
        if !self.le {
            a.reverse();
        }
        a
    }
    fn i16(&self, off: usize) -> i16 {
        i16::from_le_bytes(self.arr(off))
    }
    fn i32(&self, off: usize) -> i32 {
        i32::from_le_bytes(self.arr(off))
    }
    fn i64(&self, off: usize) -> i64 {
        i64::from_le_bytes(self.arr(off))
    }
    fn f32(&self, off: usize) -> f64 {
        f32::from_le_bytes(self.arr(off)) as f64
    }
    fn f64(&self, off: usize) -> f64 {
        f64::from_le_bytes(self.arr(off))
    }
}

/// Parses a full fixed header (`bytes.len()` is 348 or 540, as given by [`detect`]).
pub(crate) fn parse(bytes: &[u8], version: NiftiVersion, little_endian: bool) -> Result<Header> {
    let f = Fields {
        b: bytes,
        le: little_endian,
    };
    let mut h = Header {
        version,
        little_endian,
        ..Header::default()
    };
    match version {
        NiftiVersion::One => {
            debug_assert_eq!(bytes.len(), NIFTI1_HEADER_SIZE);
            h.magic[..4].copy_from_slice(&bytes[344..348]);
            for (i, d) in h.dim.iter_mut().enumerate() {
                *d = f.i16(40 + 2 * i) as i64;
            }
            h.intent_code = f.i16(68) as i32;
            h.datatype = f.i16(70);
            h.bitpix = f.i16(72);
            for (i, p) in h.pixdim.iter_mut().enumerate() {
                *p = f.f32(76 + 4 * i);
            }
            h.vox_offset = f.f32(108);
            h.scl_slope = f.f32(112);
            h.scl_inter = f.f32(116);
            h.xyzt_units = bytes[123];
            h.descrip.copy_from_slice(&bytes[148..228]);
            h.qform_code = f.i16(252) as i32;
            h.sform_code = f.i16(254) as i32;
            for i in 0..3 {
                h.quatern[i] = f.f32(256 + 4 * i);
                h.qoffset[i] = f.f32(268 + 4 * i);
            }
            for (r, row) in h.srow.iter_mut().enumerate() {
                for (c, v) in row.iter_mut().enumerate() {
                    *v = f.f32(280 + 16 * r + 4 * c);
                }
            }
            if h.magic[..4] != NIFTI1_MAGIC {
                return Err(if &h.magic[..4] == b"ni1\0" {
                    NiftiError::Unsupported(
                        "header/image pair (.hdr + .img, magic \"ni1\"); convert it to a single .nii file".into(),
                    )
                } else {
                    NiftiError::NotNifti(
                        "the NIfTI-1 magic \"n+1\" is missing (an Analyze 7.5 file or a corrupt header)".into(),
                    )
                });
            }
        }
        NiftiVersion::Two => {
            debug_assert_eq!(bytes.len(), NIFTI2_HEADER_SIZE);
            h.magic.copy_from_slice(&bytes[4..12]);
            h.datatype = f.i16(12);
            h.bitpix = f.i16(14);
            for (i, d) in h.dim.iter_mut().enumerate() {
                *d = f.i64(16 + 8 * i);
            }
            for (i, p) in h.pixdim.iter_mut().enumerate() {
                *p = f.f64(104 + 8 * i);
            }
            h.vox_offset = f.i64(168) as f64;
            h.scl_slope = f.f64(176);
            h.scl_inter = f.f64(184);
            h.descrip.copy_from_slice(&bytes[240..320]);
            h.qform_code = f.i32(344);
            h.sform_code = f.i32(348);
            for i in 0..3 {
                h.quatern[i] = f.f64(352 + 8 * i);
                h.qoffset[i] = f.f64(376 + 8 * i);
            }
            for (r, row) in h.srow.iter_mut().enumerate() {
                for (c, v) in row.iter_mut().enumerate() {
                    *v = f.f64(400 + 32 * r + 8 * c);
                }
            }
            h.xyzt_units = (f.i32(500) & 0xff) as u8;
            h.intent_code = f.i32(504);
            if h.magic[..4] != NIFTI2_MAGIC[..4] {
                return Err(if &h.magic[..4] == b"ni2\0" {
                    NiftiError::Unsupported(
                        "header/image pair (.hdr + .img, magic \"ni2\"); convert it to a single .nii file".into(),
                    )
                } else {
                    NiftiError::NotNifti(
                        "the NIfTI-2 magic \"n+2\" is missing (corrupt header)".into(),
                    )
                });
            }
        }
    }
    Ok(h)
}

/// Serialises a header (always little-endian), followed by the 4-byte extension flag.
pub(crate) fn serialize(h: &Header, has_extensions: bool) -> Vec<u8> {
    let mut b;
    match h.version {
        NiftiVersion::One => {
            b = vec![0u8; NIFTI1_HEADER_SIZE + 4];
            let put =
                |b: &mut Vec<u8>, off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
            put(&mut b, 0, &(NIFTI1_HEADER_SIZE as i32).to_le_bytes());
            b[38] = b'r'; // "regular", as nifti1_io writes for Analyze compatibility
            for (i, d) in h.dim.iter().enumerate() {
                put(&mut b, 40 + 2 * i, &(*d as i16).to_le_bytes());
            }
            put(&mut b, 68, &(h.intent_code as i16).to_le_bytes());
            put(&mut b, 70, &h.datatype.to_le_bytes());
            put(&mut b, 72, &h.bitpix.to_le_bytes());
            for (i, p) in h.pixdim.iter().enumerate() {
                put(&mut b, 76 + 4 * i, &(*p as f32).to_le_bytes());
            }
            put(&mut b, 108, &(h.vox_offset as f32).to_le_bytes());
            put(&mut b, 112, &(h.scl_slope as f32).to_le_bytes());
            put(&mut b, 116, &(h.scl_inter as f32).to_le_bytes());
            b[123] = h.xyzt_units;
            put(&mut b, 148, &h.descrip);
            put(&mut b, 252, &(h.qform_code as i16).to_le_bytes());
            put(&mut b, 254, &(h.sform_code as i16).to_le_bytes());
            for i in 0..3 {
                put(&mut b, 256 + 4 * i, &(h.quatern[i] as f32).to_le_bytes());
                put(&mut b, 268 + 4 * i, &(h.qoffset[i] as f32).to_le_bytes());
            }
            for (r, row) in h.srow.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    put(&mut b, 280 + 16 * r + 4 * c, &(*v as f32).to_le_bytes());
                }
            }
            put(&mut b, 344, &NIFTI1_MAGIC);
            b[348] = has_extensions as u8;
        }
        NiftiVersion::Two => {
            b = vec![0u8; NIFTI2_HEADER_SIZE + 4];
            let put =
                |b: &mut Vec<u8>, off: usize, v: &[u8]| b[off..off + v.len()].copy_from_slice(v);
            put(&mut b, 0, &(NIFTI2_HEADER_SIZE as i32).to_le_bytes());
            put(&mut b, 4, &NIFTI2_MAGIC);
            put(&mut b, 12, &h.datatype.to_le_bytes());
            put(&mut b, 14, &h.bitpix.to_le_bytes());
            for (i, d) in h.dim.iter().enumerate() {
                put(&mut b, 16 + 8 * i, &d.to_le_bytes());
            }
            for (i, p) in h.pixdim.iter().enumerate() {
                put(&mut b, 104 + 8 * i, &p.to_le_bytes());
            }
            put(&mut b, 168, &(h.vox_offset as i64).to_le_bytes());
            put(&mut b, 176, &h.scl_slope.to_le_bytes());
            put(&mut b, 184, &h.scl_inter.to_le_bytes());
            put(&mut b, 240, &h.descrip);
            put(&mut b, 344, &h.qform_code.to_le_bytes());
            put(&mut b, 348, &h.sform_code.to_le_bytes());
            for i in 0..3 {
                put(&mut b, 352 + 8 * i, &h.quatern[i].to_le_bytes());
                put(&mut b, 376 + 8 * i, &h.qoffset[i].to_le_bytes());
            }
            for (r, row) in h.srow.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    put(&mut b, 400 + 32 * r + 8 * c, &v.to_le_bytes());
                }
            }
            put(&mut b, 500, &(h.xyzt_units as i32).to_le_bytes());
            put(&mut b, 504, &h.intent_code.to_le_bytes());
            b[540] = has_extensions as u8;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(version: NiftiVersion) -> Header {
        let mut h = Header {
            version,
            dim: [3, 4, 5, 6, 1, 1, 1, 1],
            datatype: dt::INT16,
            bitpix: 16,
            intent_code: 1002,
            pixdim: [-1.0, 0.5, 0.75, 2.0, 1.0, 1.0, 1.0, 1.0],
            vox_offset: 352.0,
            scl_slope: 2.0,
            scl_inter: -1024.0,
            xyzt_units: 2,
            qform_code: 1,
            sform_code: 2,
            quatern: [0.0, 0.5, -0.25],
            qoffset: [-10.5, 20.25, 30.0],
            srow: [
                [0.5, 0.0, 0.0, -10.5],
                [0.0, 0.75, 0.0, 20.25],
                [0.0, 0.0, 2.0, 30.0],
            ],
            ..Header::default()
        };
        h.descrip[..4].copy_from_slice(b"test");
        h
    }

    #[test]
    fn serialize_then_parse_is_identity_for_both_versions() {
        for version in [NiftiVersion::One, NiftiVersion::Two] {
            let mut h = sample(version);
            if version == NiftiVersion::Two {
                h.vox_offset = 544.0;
            }
            let bytes = serialize(&h, false);
            let hdr_len = bytes.len() - 4;
            let (v, le) = detect(bytes[..4].try_into().unwrap()).unwrap();
            assert_eq!((v, le), (version, true));
            let mut back = parse(&bytes[..hdr_len], v, le).unwrap();
            back.magic = h.magic;
            assert_eq!(back, h);
        }
    }

    #[test]
    fn detect_rejects_other_sizes_and_reads_big_endian() {
        assert!(detect(0i32.to_le_bytes()).is_err());
        assert!(detect(1234i32.to_le_bytes()).is_err());
        assert_eq!(
            detect(348i32.to_be_bytes()).unwrap(),
            (NiftiVersion::One, false)
        );
        assert_eq!(
            detect(540i32.to_be_bytes()).unwrap(),
            (NiftiVersion::Two, false)
        );
    }
}
