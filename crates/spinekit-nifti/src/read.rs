//! Reading `.nii` / `.nii.gz` (NIfTI-1 and NIfTI-2, either byte order) into an [`AnyVolume`] with LPS geometry.

use crate::error::{NiftiError, Result};
use crate::exact::{self, EXACT_GEOMETRY_ECODE};
use crate::header::{self, datatype_name, datatype_size, dt, Header};
use crate::labels::LabelTable;
use crate::xform;
use crate::{GeometrySource, NiftiVersion};
use spinekit_image::{AnyVolume, Geometry, Volume};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Most voxels a header may promise (4 Gi, as `spinekit_image` allows): guards against absurd dimensions.
const MAX_VOXELS: u128 = 1 << 32;
/// Deflate cannot expand data by more than about 1032:1, which bounds what a compressed file can hold.
const MAX_DEFLATE_RATIO: u64 = 1032;
/// Decoding works through this many bytes at a time, so memory follows the data actually present.
const CHUNK_BYTES: usize = 1 << 20;

/// A decoded NIfTI file.
#[derive(Debug, Clone)]
pub struct NiftiImage {
    pub volume: AnyVolume,
    /// Label names from a CaretExtension XML label table, when the file has one.
    pub labels: Option<LabelTable>,
    /// Every header extension, in file order (content as stored, including padding).
    pub extensions: Vec<NiftiExtension>,
    /// Things the reader assumed or repaired, one line each (e.g. a missing orientation).
    pub warnings: Vec<String>,
    pub info: NiftiInfo,
}

/// One NIfTI header extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NiftiExtension {
    pub code: i32,
    pub data: Vec<u8>,
}

/// Header facts worth reporting; geometry itself lives in the volume.
#[derive(Debug, Clone, PartialEq)]
pub struct NiftiInfo {
    pub version: NiftiVersion,
    pub little_endian: bool,
    pub compressed: bool,
    pub datatype_code: i16,
    /// NIfTI name of the stored type ("int32", "float64", ...); the volume may hold a wider or scaled type.
    pub datatype: &'static str,
    /// All dimensions `dim[1..=dim[0]]` (only the first 3D volume is read).
    pub dims: Vec<usize>,
    pub sform_code: i32,
    pub qform_code: i32,
    pub geometry_source: GeometrySource,
    pub intent_code: i32,
    pub scl_slope: f64,
    pub scl_inter: f64,
    /// Whether `scl_slope`/`scl_inter` were applied to the voxels.
    pub scaling_applied: bool,
    /// The header's free-text `descrip` (may hold acquisition details: do not log it).
    pub description: String,
}

/// What is known about where the bytes come from, to reject impossible headers before allocating.
struct Source {
    compressed: bool,
    stored_len: Option<u64>,
    gzip_isize: Option<u32>,
}

impl Source {
    /// Most decompressed bytes this source can deliver.
    fn max_bytes(&self) -> Option<u64> {
        let n = self.stored_len?;
        Some(if self.compressed {
            n.saturating_mul(MAX_DEFLATE_RATIO)
        } else {
            n
        })
    }
}

/// Reads a `.nii` or `.nii.gz` file (compression is detected from the gzip magic bytes, not the suffix).
pub fn read_nifti(path: impl AsRef<Path>) -> Result<NiftiImage> {
    let path = path.as_ref();
    let mut file = File::open(path).map_err(|e| NiftiError::io("open", path, e))?;
    let len = file
        .metadata()
        .map_err(|e| NiftiError::io("inspect", path, e))?
        .len();
    let mut magic = [0u8; 2];
    let got = read_full(&mut file, &mut magic).map_err(|e| NiftiError::io("read", path, e))?;
    let compressed = got == 2 && magic == [0x1f, 0x8b];
    let mut gzip_isize = None;
    if compressed && len >= 18 {
        let mut t = [0u8; 4];
        file.seek(SeekFrom::End(-4))
            .and_then(|_| file.read_exact(&mut t))
            .map_err(|e| NiftiError::io("read", path, e))?;
        gzip_isize = Some(u32::from_le_bytes(t));
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|e| NiftiError::io("read", path, e))?;
    let source = Source {
        compressed,
        stored_len: Some(len),
        gzip_isize,
    };
    let buffered = BufReader::with_capacity(1 << 16, file);
    if compressed {
        read_stream(&mut flate2::bufread::MultiGzDecoder::new(buffered), &source)
    } else {
        read_stream(&mut { buffered }, &source)
    }
}

/// Reads a NIfTI file held in memory (gzip-compressed or not).
pub fn read_nifti_bytes(bytes: &[u8]) -> Result<NiftiImage> {
    let compressed = bytes.starts_with(&[0x1f, 0x8b]);
    let gzip_isize = (compressed && bytes.len() >= 18).then(|| {
        let t = &bytes[bytes.len() - 4..];
        u32::from_le_bytes([t[0], t[1], t[2], t[3]])
    });
    let source = Source {
        compressed,
        stored_len: Some(bytes.len() as u64),
        gzip_isize,
    };
    if compressed {
        read_stream(&mut flate2::bufread::MultiGzDecoder::new(bytes), &source)
    } else {
        read_stream(&mut { bytes }, &source)
    }
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_full<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn read_error(e: io::Error, source: &Source, place: &str) -> NiftiError {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => {
            NiftiError::Truncated(format!("the file ends inside the {place}"))
        }
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData if source.compressed => {
            NiftiError::CorruptGzip(format!("{e} (in the {place})"))
        }
        _ => NiftiError::Read(e),
    }
}

/// Reads exactly `buf.len()` bytes, naming `place` when the file ends early.
fn read_exact_at(r: &mut dyn Read, buf: &mut [u8], source: &Source, place: &str) -> Result<()> {
    let n = read_full(r, buf).map_err(|e| read_error(e, source, place))?;
    if n < buf.len() {
        return Err(NiftiError::Truncated(format!(
            "the file ends inside the {place}"
        )));
    }
    Ok(())
}

/// Image dimensions from the header: (first 3D volume, all dims, total voxels). Rejects zero and absurd sizes.
fn check_dims(h: &Header) -> Result<([usize; 3], Vec<usize>, u128)> {
    let nd = h.dim[0];
    if !(1..=7).contains(&nd) {
        return Err(NiftiError::BadHeader(format!(
            "dim[0] = {nd}, but the number of dimensions must be between 1 and 7"
        )));
    }
    let mut all = Vec::with_capacity(nd as usize);
    for i in 1..=nd as usize {
        let d = h.dim[i];
        if d <= 0 {
            return Err(NiftiError::BadHeader(format!(
                "dimension {i} has size {d}; every image dimension must be at least 1"
            )));
        }
        all.push(d as u128);
    }
    let total: u128 = all.iter().product();
    if total > MAX_VOXELS {
        return Err(NiftiError::BadHeader(format!(
            "the header claims {total} voxels, more than the limit of {MAX_VOXELS}"
        )));
    }
    let all: Vec<usize> = all.into_iter().map(|d| d as usize).collect();
    let d3 = [0, 1, 2].map(|i| all.get(i).copied().unwrap_or(1));
    Ok((d3, all, total))
}

/// Byte offset of the voxel data.
fn data_offset(h: &Header, header_size: u64, warnings: &mut Vec<String>) -> Result<u64> {
    let v = h.vox_offset;
    if !v.is_finite() || v < 0.0 || v.fract() != 0.0 || v > 1e15 {
        return Err(NiftiError::BadHeader(format!(
            "image data offset vox_offset = {v} is not a valid byte position"
        )));
    }
    let v = v as u64;
    if v == 0 {
        warnings.push(format!(
            "image data offset (vox_offset) is 0; assuming the data follows the header at byte {}",
            header_size + 4
        ));
        return Ok(header_size + 4);
    }
    if v < header_size {
        return Err(NiftiError::BadHeader(format!(
            "image data offset {v} lies inside the {header_size}-byte header"
        )));
    }
    Ok(v)
}

fn read_extensions(
    r: &mut dyn Read,
    pos: &mut u64,
    data_start: u64,
    h: &Header,
    source: &Source,
    out: &mut Vec<NiftiExtension>,
    warnings: &mut Vec<String>,
) -> Result<()> {
    while *pos + 8 <= data_start {
        let mut eh = [0u8; 8];
        read_exact_at(r, &mut eh, source, "header extensions")?;
        *pos += 8;
        let word = |b: [u8; 4]| {
            if h.little_endian {
                i32::from_le_bytes(b)
            } else {
                i32::from_be_bytes(b)
            }
        };
        let esize = word([eh[0], eh[1], eh[2], eh[3]]);
        let code = word([eh[4], eh[5], eh[6], eh[7]]);
        if esize < 8 || *pos - 8 + esize as u64 > data_start {
            warnings.push(format!(
                "malformed header extension (size {esize}) ignored, together with any after it"
            ));
            break;
        }
        let len = esize as u64 - 8;
        let mut data = Vec::new();
        r.take(len)
            .read_to_end(&mut data)
            .map_err(|e| read_error(e, source, "header extensions"))?;
        if (data.len() as u64) < len {
            return Err(NiftiError::Truncated(
                "the file ends inside the header extensions".into(),
            ));
        }
        *pos += len;
        out.push(NiftiExtension { code, data });
    }
    Ok(())
}

fn skip_to(r: &mut dyn Read, pos: &mut u64, target: u64, source: &Source) -> Result<()> {
    let n = target - *pos;
    let copied =
        io::copy(&mut r.take(n), &mut io::sink()).map_err(|e| read_error(e, source, "header"))?;
    if copied < n {
        return Err(NiftiError::Truncated(format!(
            "the file ends before the image data, which should start at byte {target}"
        )));
    }
    *pos = target;
    Ok(())
}

/// Voxels as stored, before scaling and type mapping.
enum Raw {
    U8(Vec<u8>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    U16(Vec<u16>),
    I32(Vec<i32>),
    U32(Vec<u32>),
    I64(Vec<i64>),
    U64(Vec<u64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// Why voxel reading stopped early.
enum ShortRead {
    Bytes(u64),
    Err(NiftiError),
}

/// Decodes `n` values of `N` bytes each, chunk by chunk, so a header that promises more than the file holds
/// costs only the memory of what is really there.
fn read_values<T, const N: usize>(
    r: &mut dyn Read,
    n: usize,
    little_endian: bool,
    reserve: usize,
    source: &Source,
    conv: impl Fn([u8; N]) -> T,
) -> std::result::Result<Vec<T>, ShortRead> {
    let mut out = Vec::with_capacity(reserve.min(n));
    let total = n * N;
    let mut buf = vec![0u8; CHUNK_BYTES.min(total).max(N)];
    let mut done = 0usize;
    while done < total {
        let want = (total - done).min(buf.len());
        let got = read_full(r, &mut buf[..want])
            .map_err(|e| ShortRead::Err(read_error(e, source, "image data")))?;
        let whole = got / N * N;
        let decode = |c: &[u8]| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            if !little_endian {
                a.reverse();
            }
            conv(a)
        };
        out.extend(buf[..whole].chunks_exact(N).map(decode));
        done += got;
        if got < want {
            return Err(ShortRead::Bytes(done as u64));
        }
    }
    Ok(out)
}

fn read_raw(
    r: &mut dyn Read,
    datatype: i16,
    n: usize,
    le: bool,
    reserve: usize,
    source: &Source,
) -> std::result::Result<Raw, ShortRead> {
    Ok(match datatype {
        dt::UINT8 => Raw::U8(read_values(r, n, le, reserve, source, |b: [u8; 1]| b[0])?),
        dt::INT8 => Raw::I8(read_values(r, n, le, reserve, source, i8::from_le_bytes)?),
        dt::INT16 => Raw::I16(read_values(r, n, le, reserve, source, i16::from_le_bytes)?),
        dt::UINT16 => Raw::U16(read_values(r, n, le, reserve, source, u16::from_le_bytes)?),
        dt::INT32 => Raw::I32(read_values(r, n, le, reserve, source, i32::from_le_bytes)?),
        dt::UINT32 => Raw::U32(read_values(r, n, le, reserve, source, u32::from_le_bytes)?),
        dt::INT64 => Raw::I64(read_values(r, n, le, reserve, source, i64::from_le_bytes)?),
        dt::UINT64 => Raw::U64(read_values(r, n, le, reserve, source, u64::from_le_bytes)?),
        dt::FLOAT32 => Raw::F32(read_values(r, n, le, reserve, source, f32::from_le_bytes)?),
        dt::FLOAT64 => Raw::F64(read_values(r, n, le, reserve, source, f64::from_le_bytes)?),
        other => {
            return Err(ShortRead::Err(NiftiError::UnsupportedDatatype {
                code: other,
                name: datatype_name(other),
            }))
        }
    })
}

/// Integer voxel types as stored; widened to i128 for exact range checks and integral scaling.
trait RawInt: Copy + Into<i128> {}
impl RawInt for u8 {}
impl RawInt for i8 {}
impl RawInt for i16 {}
impl RawInt for u16 {}
impl RawInt for i32 {}
impl RawInt for u32 {}
impl RawInt for i64 {}
impl RawInt for u64 {}

fn int_range<T: RawInt>(v: &[T]) -> (i128, i128) {
    v.iter().fold((i128::MAX, i128::MIN), |(lo, hi), &x| {
        (lo.min(x.into()), hi.max(x.into()))
    })
}

fn fits<T: TryFrom<i128>>(lo: i128, hi: i128) -> bool {
    T::try_from(lo).is_ok() && T::try_from(hi).is_ok()
}

/// Integers with an integral slope/intercept stay integers (I16, else I32) when every result fits; anything else
/// becomes F32. Without scaling, int32-range values become I32 and wider ones F32 with a warning.
fn int_volume<T: RawInt>(
    v: Vec<T>,
    scale: Option<(f64, f64)>,
    dims: [usize; 3],
    g: Geometry,
    type_name: &str,
    warnings: &mut Vec<String>,
) -> Result<AnyVolume> {
    let (lo, hi) = int_range(&v);
    let (s, b) = scale.unwrap_or((1.0, 0.0));
    let integral = s.fract() == 0.0
        && b.fract() == 0.0
        && s.abs() <= 2f64.powi(62)
        && b.abs() <= 2f64.powi(62);
    if integral && !v.is_empty() {
        let (si, bi) = (s as i128, b as i128);
        let ends = [
            lo.saturating_mul(si).saturating_add(bi),
            hi.saturating_mul(si).saturating_add(bi),
        ];
        let (olo, ohi) = (ends[0].min(ends[1]), ends[0].max(ends[1]));
        let map = |x: T| x.into() * si + bi;
        if scale.is_some() && fits::<i16>(olo, ohi) {
            let data = v.into_iter().map(|x| map(x) as i16).collect();
            return Ok(AnyVolume::I16(Volume::from_vec(dims, g, data)?));
        }
        if fits::<i32>(olo, ohi) {
            let data = v.into_iter().map(|x| map(x) as i32).collect();
            return Ok(AnyVolume::I32(Volume::from_vec(dims, g, data)?));
        }
        if scale.is_none() {
            warnings.push(format!(
                "{type_name} values {lo}..{hi} exceed the int32 range; stored as float32 (exact only up to 16777216)"
            ));
        }
    }
    let data = v
        .into_iter()
        .map(|x| (x.into() as f64 * s + b) as f32)
        .collect();
    Ok(AnyVolume::F32(Volume::from_vec(dims, g, data)?))
}

fn f32_volume(data: Vec<f32>, dims: [usize; 3], g: Geometry) -> Result<AnyVolume> {
    Ok(AnyVolume::F32(Volume::from_vec(dims, g, data)?))
}

/// Checks finite values fit float32 before narrowing (NaN and ±inf pass through unchanged).
fn narrow_f64(v: &[f64], what: &str) -> Result<Vec<f32>> {
    if let Some(bad) = v
        .iter()
        .find(|x| x.is_finite() && x.abs() > f32::MAX as f64)
    {
        return Err(NiftiError::ValueRange(format!(
            "{what} value {bad:e} is outside the float32 range spinekit stores"
        )));
    }
    Ok(v.iter().map(|&x| x as f32).collect())
}

fn to_volume(
    raw: Raw,
    h: &Header,
    dims: [usize; 3],
    g: Geometry,
    warnings: &mut Vec<String>,
) -> Result<(AnyVolume, bool)> {
    let slope = h.scl_slope;
    let inter = if h.scl_inter.is_finite() {
        h.scl_inter
    } else {
        0.0
    };
    let scaled = slope.is_finite() && slope != 0.0 && !(slope == 1.0 && inter == 0.0);
    let scale = scaled.then_some((slope, inter));
    let name = datatype_name(h.datatype);
    let vol = match (raw, scale) {
        (Raw::U8(v), None) => AnyVolume::U8(Volume::from_vec(dims, g, v)?),
        (Raw::I16(v), None) => AnyVolume::I16(Volume::from_vec(dims, g, v)?),
        (Raw::U16(v), None) => AnyVolume::U16(Volume::from_vec(dims, g, v)?),
        (Raw::I32(v), None) => AnyVolume::I32(Volume::from_vec(dims, g, v)?),
        (Raw::I8(v), None) => AnyVolume::I16(Volume::from_vec(
            dims,
            g,
            v.into_iter().map(i16::from).collect(),
        )?),
        (Raw::U8(v), s) => int_volume(v, s, dims, g, name, warnings)?,
        (Raw::I8(v), s) => int_volume(v, s, dims, g, name, warnings)?,
        (Raw::I16(v), s) => int_volume(v, s, dims, g, name, warnings)?,
        (Raw::U16(v), s) => int_volume(v, s, dims, g, name, warnings)?,
        (Raw::I32(v), s) => int_volume(v, s, dims, g, name, warnings)?,
        (Raw::U32(v), s) => int_volume(v, s, dims, g, name, warnings)?,
        (Raw::I64(v), s) => int_volume(v, s, dims, g, name, warnings)?,
        (Raw::U64(v), s) => int_volume(v, s, dims, g, name, warnings)?,
        (Raw::F32(v), None) => f32_volume(v, dims, g)?,
        (Raw::F32(v), Some((s, b))) => {
            let wide: Vec<f64> = v.iter().map(|&x| x as f64 * s + b).collect();
            f32_volume(narrow_f64(&wide, "scaled")?, dims, g)?
        }
        (Raw::F64(v), None) => f32_volume(narrow_f64(&v, "float64")?, dims, g)?,
        (Raw::F64(v), Some((s, b))) => {
            let wide: Vec<f64> = v.iter().map(|&x| x * s + b).collect();
            f32_volume(narrow_f64(&wide, "scaled float64")?, dims, g)?
        }
    };
    Ok((vol, scaled))
}

fn read_stream(r: &mut dyn Read, source: &Source) -> Result<NiftiImage> {
    let mut warnings = Vec::new();
    let mut first = [0u8; 4];
    let n = read_full(r, &mut first).map_err(|e| read_error(e, source, "header"))?;
    if n == 0 {
        return Err(if source.compressed {
            NiftiError::Truncated("the compressed file ends before the NIfTI header".into())
        } else {
            NiftiError::NotNifti("the file is empty".into())
        });
    }
    if n < 4 {
        return Err(NiftiError::Truncated(
            "the file ends inside the header".into(),
        ));
    }
    let (version, little_endian) = header::detect(first)?;
    let header_size = match version {
        NiftiVersion::One => header::NIFTI1_HEADER_SIZE,
        NiftiVersion::Two => header::NIFTI2_HEADER_SIZE,
    };
    let mut hb = vec![0u8; header_size];
    hb[..4].copy_from_slice(&first);
    read_exact_at(
        r,
        &mut hb[4..],
        source,
        &format!("{header_size}-byte header"),
    )?;
    let h = header::parse(&hb, version, little_endian)?;

    let (dims, all_dims, total_voxels) = check_dims(&h)?;
    let type_size = datatype_size(h.datatype).ok_or(NiftiError::UnsupportedDatatype {
        code: h.datatype,
        name: datatype_name(h.datatype),
    })?;
    if h.bitpix as usize != type_size * 8 {
        warnings.push(format!(
            "bitpix {} does not match data type {}; used the data type",
            h.bitpix,
            datatype_name(h.datatype)
        ));
    }
    let volume_voxels = dims.iter().product::<usize>();
    if all_dims.len() > 3 && total_voxels > volume_voxels as u128 {
        warnings.push(format!(
            "image has {} 3D volumes (dims {:?}); only the first was read",
            total_voxels / volume_voxels as u128,
            all_dims
        ));
    }

    let header_size = header_size as u64;
    let data_start = data_offset(&h, header_size, &mut warnings)?;
    let volume_bytes = volume_voxels as u64 * type_size as u64;
    let all_bytes = total_voxels as u64 * type_size as u64;
    let promise = |have: u64| {
        NiftiError::Truncated(format!(
            "the header promises {volume_voxels} voxels ({volume_bytes} bytes of image data) but the file holds only \
             {have} bytes of image data"
        ))
    };
    let checked_bytes = if source.compressed {
        volume_bytes
    } else {
        all_bytes
    };
    if let Some(max) = source.max_bytes() {
        if data_start.saturating_add(checked_bytes) > max {
            if !source.compressed {
                return Err(
                    if all_bytes > volume_bytes && data_start + volume_bytes <= max {
                        NiftiError::Truncated(format!(
                        "the header promises {total_voxels} voxels in {} volumes but the file holds only {} bytes of \
                         image data",
                        total_voxels / volume_voxels as u128,
                        max.saturating_sub(data_start)
                    ))
                    } else {
                        promise(max.saturating_sub(data_start))
                    },
                );
            }
            return Err(NiftiError::Truncated(format!(
                "the header promises {volume_voxels} voxels ({volume_bytes} bytes of image data), more than a \
                 {}-byte compressed file can hold",
                source.stored_len.unwrap_or(0)
            )));
        }
    }

    let mut pos = header_size;
    let mut extensions = Vec::new();
    if data_start >= header_size + 4 {
        let mut flag = [0u8; 4];
        read_exact_at(r, &mut flag, source, "header")?;
        pos += 4;
        if flag[0] != 0 {
            read_extensions(
                r,
                &mut pos,
                data_start,
                &h,
                source,
                &mut extensions,
                &mut warnings,
            )?;
        }
    }
    skip_to(r, &mut pos, data_start, source)?;

    let (mut geometry, mut geometry_source) = xform::header_geometry(&h, dims, &mut warnings)?;
    let mut labels = None;
    for ext in &extensions {
        if ext.code == EXACT_GEOMETRY_ECODE {
            match exact::decode(&ext.data) {
                None => {}
                Some(Err(e)) => warnings.push(format!("exact geometry record is damaged ({e}); used the header")),
                Some(Ok((_, d))) if d != dims => warnings.push(format!(
                    "exact geometry record is for a {d:?} grid, not {dims:?}; used the header"
                )),
                Some(Ok((g, _))) if !exact::agrees_with_header(&g, &geometry) => warnings.push(
                    "exact geometry record disagrees with the header affine (edited by another tool?); used the header"
                        .into(),
                ),
                Some(Ok((g, _))) => {
                    geometry = g;
                    geometry_source = GeometrySource::ExactRecord;
                }
            }
        }
        if labels.is_none() && contains(&ext.data, b"<LabelTable") {
            labels = LabelTable::from_caret_xml(&String::from_utf8_lossy(&ext.data), &mut warnings);
        }
    }

    // Reserve the whole volume only when the source size vouches for it (plain file checked above, or a gzip
    // trailer that matches); otherwise grow with the data so a lying header cannot force a huge allocation.
    let trusted = !source.compressed
        || source
            .gzip_isize
            .is_some_and(|s| s as u64 == (data_start + all_bytes) & 0xffff_ffff);
    let reserve = if trusted {
        volume_voxels
    } else {
        volume_voxels.min(CHUNK_BYTES * 16)
    };
    let raw = match read_raw(r, h.datatype, volume_voxels, little_endian, reserve, source) {
        Ok(raw) => raw,
        Err(ShortRead::Bytes(have)) => return Err(promise(have)),
        Err(ShortRead::Err(e)) => return Err(e),
    };
    if source.compressed && total_voxels == volume_voxels as u128 {
        // Decode to the end so the gzip CRC and length checks run: damage after the voxels is still damage.
        io::copy(r, &mut io::sink()).map_err(|e| read_error(e, source, "gzip trailer"))?;
    }
    let (volume, scaling_applied) = to_volume(raw, &h, dims, geometry, &mut warnings)?;
    let end = h
        .descrip
        .iter()
        .position(|&c| c == 0)
        .unwrap_or(h.descrip.len());
    let info = NiftiInfo {
        version,
        little_endian,
        compressed: source.compressed,
        datatype_code: h.datatype,
        datatype: datatype_name(h.datatype),
        dims: all_dims,
        sform_code: h.sform_code,
        qform_code: h.qform_code,
        geometry_source,
        intent_code: h.intent_code,
        scl_slope: h.scl_slope,
        scl_inter: h.scl_inter,
        scaling_applied,
        description: String::from_utf8_lossy(&h.descrip[..end])
            .trim()
            .to_string(),
    };
    Ok(NiftiImage {
        volume,
        labels,
        extensions,
        warnings,
        info,
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
