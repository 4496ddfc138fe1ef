use crate::header::{parse_header, DataLocation, ElementType, MetaHeader};
use crate::MetaImageError;
use flate2::bufread::{GzDecoder, ZlibDecoder};
use spinekit_image::{AnyVolume, Geometry, Volume};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Deflate cannot expand data by more than about 1032:1; a stream smaller than this bound cannot hold the
/// promised voxels, so we refuse before decompressing (and before allocating).
const MAX_DEFLATE_RATIO: u64 = 1100;

/// Reads only the header of a `.mha` or `.mhd` file (cheap: no voxel data is touched).
pub fn read_metaimage_header(path: impl AsRef<Path>) -> Result<MetaHeader, MetaImageError> {
    let path = path.as_ref();
    let f = File::open(path).map_err(|e| MetaImageError::io(path, e))?;
    parse_header(BufReader::new(f), header_dir(path))
}

/// Reads a MetaImage (`.mha` with LOCAL data, or `.mhd` with a separate raw/zraw file) into a volume.
///
/// Voxel types map to [`AnyVolume`] without loss where possible: `MET_UCHAR`→U8, `MET_CHAR`→I16 (widened),
/// `MET_SHORT`→I16, `MET_USHORT`→U16, `MET_INT`/`MET_LONG`→I32, `MET_UINT`/`MET_ULONG`/`MET_LONG_LONG`/
/// `MET_ULONG_LONG`→I32 (refused with [`MetaImageError::ValueRange`] when a value does not fit),
/// `MET_FLOAT`→F32, `MET_DOUBLE`→F32 (narrowed to single precision, ~7 significant digits).
/// A 2D image (`NDims = 2`) becomes a one-slice volume whose third axis is +z (LPS superior), spacing 1 mm,
/// origin z = 0.
pub fn read_metaimage(path: impl AsRef<Path>) -> Result<AnyVolume, MetaImageError> {
    let path = path.as_ref();
    let f = File::open(path).map_err(|e| MetaImageError::io(path, e))?;
    let header = parse_header(BufReader::new(f), header_dir(path))?;
    let bytes = read_voxel_bytes(&header, path)?;
    decode(&bytes, &header)
}

fn header_dir(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

/// Loads exactly `header.data_bytes()` bytes of (decompressed) voxel data, checking sizes before allocating.
fn read_voxel_bytes(h: &MetaHeader, header_path: &Path) -> Result<Vec<u8>, MetaImageError> {
    let needed = h.data_bytes();
    let (data_path, mut file, mut offset) = match &h.data {
        DataLocation::Local { offset } => {
            let f = File::open(header_path).map_err(|e| MetaImageError::io(header_path, e))?;
            (header_path.to_path_buf(), f, *offset)
        }
        DataLocation::File(p) => {
            if !p.is_file() {
                return Err(MetaImageError::DataFileMissing(p.clone()));
            }
            let f = File::open(p).map_err(|e| MetaImageError::io(p, e))?;
            (p.clone(), f, 0)
        }
    };
    let io = |e| MetaImageError::io(&data_path, e);
    let file_len = file.metadata().map_err(io)?.len();
    let stored = if h.compressed {
        h.compressed_size
    } else {
        Some(needed)
    };
    if let (DataLocation::File(_), Some(hs)) = (&h.data, h.header_size) {
        offset = if hs >= 0 {
            hs as u64
        } else {
            // HeaderSize = -1: the data is the last bytes of the file.
            let Some(s) = stored else {
                return Err(MetaImageError::Unsupported(
                    "HeaderSize = -1 with compressed data of unknown size".into(),
                ));
            };
            file_len.saturating_sub(s)
        };
    }
    let available = file_len.saturating_sub(offset);
    file.seek(SeekFrom::Start(offset)).map_err(io)?;

    if !h.compressed {
        if available < needed {
            return Err(MetaImageError::Truncated {
                expected: needed,
                got: available,
            });
        }
        let mut buf = vec![0u8; needed as usize];
        file.read_exact(&mut buf).map_err(io)?;
        return Ok(buf);
    }

    let csize = h.compressed_size.unwrap_or(available);
    if csize > available {
        return Err(MetaImageError::Truncated {
            expected: csize,
            got: available,
        });
    }
    if needed > csize.saturating_mul(MAX_DEFLATE_RATIO) + 1024 {
        return Err(MetaImageError::Truncated {
            expected: needed,
            got: csize,
        });
    }
    let mut src = BufReader::new(file.take(csize));
    let is_gzip = src.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    let mut dec: Box<dyn Read> = if is_gzip {
        Box::new(GzDecoder::new(src))
    } else {
        Box::new(ZlibDecoder::new(src))
    };
    // Grow with the data rather than trusting the header's size for the allocation.
    let mut out = Vec::with_capacity(needed.min(csize.saturating_mul(8)) as usize);
    (&mut dec)
        .take(needed)
        .read_to_end(&mut out)
        .map_err(|e| MetaImageError::Corrupt(e.to_string()))?;
    if (out.len() as u64) < needed {
        return Err(MetaImageError::Truncated {
            expected: needed,
            got: out.len() as u64,
        });
    }
    Ok(out)
}

/// Fixed-width values from bytes in the file's byte order.
fn values<const N: usize, T>(
    b: &[u8],
    be: bool,
    from_le: fn([u8; N]) -> T,
    from_be: fn([u8; N]) -> T,
) -> Vec<T> {
    b.chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            if be {
                from_be(a)
            } else {
                from_le(a)
            }
        })
        .collect()
}

/// Narrows wide integers to i32, refusing (not clipping) values that do not fit.
fn to_i32<T: Copy + Into<i128>>(v: Vec<T>, name: &'static str) -> Result<Vec<i32>, MetaImageError> {
    let (lo, hi) = v.iter().fold((i128::MAX, i128::MIN), |(lo, hi), &x| {
        let x: i128 = x.into();
        (lo.min(x), hi.max(x))
    });
    if !v.is_empty() && (lo < i32::MIN as i128 || hi > i32::MAX as i128) {
        return Err(MetaImageError::ValueRange {
            min: lo as f64,
            max: hi as f64,
            target: name,
        });
    }
    Ok(v.into_iter()
        .map(|x| Into::<i128>::into(x) as i32)
        .collect())
}

fn decode(b: &[u8], h: &MetaHeader) -> Result<AnyVolume, MetaImageError> {
    let be = h.big_endian;
    let (dims, g): ([usize; 3], Geometry) = (h.dims, h.geometry);
    const I32: &str = "32-bit signed integers";
    Ok(match h.element_type {
        ElementType::UChar => AnyVolume::U8(Volume::from_vec(dims, g, b.to_vec())?),
        ElementType::Char => AnyVolume::I16(Volume::from_vec(
            dims,
            g,
            b.iter().map(|&x| x as i8 as i16).collect(),
        )?),
        ElementType::Short => AnyVolume::I16(Volume::from_vec(
            dims,
            g,
            values(b, be, i16::from_le_bytes, i16::from_be_bytes),
        )?),
        ElementType::UShort => AnyVolume::U16(Volume::from_vec(
            dims,
            g,
            values(b, be, u16::from_le_bytes, u16::from_be_bytes),
        )?),
        ElementType::Int | ElementType::Long => AnyVolume::I32(Volume::from_vec(
            dims,
            g,
            values(b, be, i32::from_le_bytes, i32::from_be_bytes),
        )?),
        ElementType::UInt | ElementType::ULong => AnyVolume::I32(Volume::from_vec(
            dims,
            g,
            to_i32(values(b, be, u32::from_le_bytes, u32::from_be_bytes), I32)?,
        )?),
        ElementType::LongLong => AnyVolume::I32(Volume::from_vec(
            dims,
            g,
            to_i32(values(b, be, i64::from_le_bytes, i64::from_be_bytes), I32)?,
        )?),
        ElementType::ULongLong => AnyVolume::I32(Volume::from_vec(
            dims,
            g,
            to_i32(values(b, be, u64::from_le_bytes, u64::from_be_bytes), I32)?,
        )?),
        ElementType::Float => AnyVolume::F32(Volume::from_vec(
            dims,
            g,
            values(b, be, f32::from_le_bytes, f32::from_be_bytes),
        )?),
        ElementType::Double => AnyVolume::F32(Volume::from_vec(
            dims,
            g,
            values(b, be, f64::from_le_bytes, f64::from_be_bytes)
                .into_iter()
                .map(|x| x as f32)
                .collect(),
        )?),
    })
}
