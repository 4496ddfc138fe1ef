//! Writing a volume as NIfTI-1 (default) or NIfTI-2, gzip-compressed when the file name ends in `.gz`.
//! The file appears atomically: it is written to `<name>.tmp-<unique>` in the same folder, synced, then renamed.

use crate::error::{NiftiError, Result};
use crate::exact::{self, EXACT_GEOMETRY_ECODE};
use crate::header::{self, dt, Header};
use crate::labels::LabelTable;
use crate::xform;
use crate::NiftiVersion;
use flate2::write::GzEncoder;
use flate2::Compression;
use spinekit_image::{AnyVolume, Volume};
use std::io::{self, Write};
use std::path::Path;

/// Gzip level used unless told otherwise. On the 122×101×112 int32 CT (5.5 MB raw), level 1 writes in ~40–50 ms
/// to 2.23 MB; level 6 takes ~900 ms for 2.06 MB (2-core machine; `tests/bench_compression.rs`, `--ignored`).
pub const DEFAULT_COMPRESSION_LEVEL: u32 = 1;

/// NIFTI_INTENT_LABEL: the voxel values are label indices (set when a label table is written).
const INTENT_LABEL: i32 = 1002;

/// How [`write_nifti`] lays out the file.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteOptions {
    /// NIfTI-1 (float32 affine, read everywhere) or NIfTI-2 (float64 affine, 64-bit dims).
    pub version: NiftiVersion,
    /// sform_code: 1 = scanner anatomical (default), 2 = aligned, 3 = Talairach, 4 = MNI, 5 = other template.
    pub sform_code: i32,
    /// qform_code (same codes); 0 writes no qform.
    pub qform_code: i32,
    /// Gzip level 0–9 for `.gz` paths.
    pub compression_level: u32,
    /// Adds the exact float64 geometry record (see the crate docs) to NIfTI-1 files.
    pub exact_geometry_record: bool,
    /// Header `descrip` (at most 79 bytes are kept). Never put patient identifiers here.
    pub description: String,
    /// Extension code of the label table: 0 as TotalSegmentator writes it (default), 30 as Connectome Workbench.
    pub label_ecode: i32,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            version: NiftiVersion::One,
            sform_code: 1,
            qform_code: 1,
            compression_level: DEFAULT_COMPRESSION_LEVEL,
            exact_geometry_record: true,
            description: "spinekit".into(),
            label_ecode: 0,
        }
    }
}

/// A borrowed volume of any voxel type; lets [`write_nifti`] take `&AnyVolume` or `&Volume<T>` alike.
#[derive(Debug, Clone, Copy)]
pub enum VolumeRef<'a> {
    U8(&'a Volume<u8>),
    I16(&'a Volume<i16>),
    U16(&'a Volume<u16>),
    I32(&'a Volume<i32>),
    F32(&'a Volume<f32>),
}

impl<'a> From<&'a AnyVolume> for VolumeRef<'a> {
    fn from(v: &'a AnyVolume) -> Self {
        match v {
            AnyVolume::U8(v) => Self::U8(v),
            AnyVolume::I16(v) => Self::I16(v),
            AnyVolume::U16(v) => Self::U16(v),
            AnyVolume::I32(v) => Self::I32(v),
            AnyVolume::F32(v) => Self::F32(v),
        }
    }
}

macro_rules! volume_ref_from {
    ($t:ty, $v:ident) => {
        impl<'a> From<&'a Volume<$t>> for VolumeRef<'a> {
            fn from(v: &'a Volume<$t>) -> Self {
                Self::$v(v)
            }
        }
    };
}
volume_ref_from!(u8, U8);
volume_ref_from!(i16, I16);
volume_ref_from!(u16, U16);
volume_ref_from!(i32, I32);
volume_ref_from!(f32, F32);

impl VolumeRef<'_> {
    fn dims(&self) -> [usize; 3] {
        match self {
            Self::U8(v) => v.dims(),
            Self::I16(v) => v.dims(),
            Self::U16(v) => v.dims(),
            Self::I32(v) => v.dims(),
            Self::F32(v) => v.dims(),
        }
    }
    fn geometry(&self) -> &spinekit_image::Geometry {
        match self {
            Self::U8(v) => v.geometry(),
            Self::I16(v) => v.geometry(),
            Self::U16(v) => v.geometry(),
            Self::I32(v) => v.geometry(),
            Self::F32(v) => v.geometry(),
        }
    }
    /// (datatype code, bits per voxel).
    fn datatype(&self) -> (i16, i16) {
        match self {
            Self::U8(_) => (dt::UINT8, 8),
            Self::I16(_) => (dt::INT16, 16),
            Self::U16(_) => (dt::UINT16, 16),
            Self::I32(_) => (dt::INT32, 32),
            Self::F32(_) => (dt::FLOAT32, 32),
        }
    }
    fn write_voxels(&self, w: &mut dyn Write) -> io::Result<()> {
        match self {
            Self::U8(v) => w.write_all(v.data()),
            Self::I16(v) => put_le(w, v.data(), i16::to_le_bytes),
            Self::U16(v) => put_le(w, v.data(), u16::to_le_bytes),
            Self::I32(v) => put_le(w, v.data(), i32::to_le_bytes),
            Self::F32(v) => put_le(w, v.data(), f32::to_le_bytes),
        }
    }
}

fn put_le<T: Copy, const N: usize>(
    w: &mut dyn Write,
    data: &[T],
    to: fn(T) -> [u8; N],
) -> io::Result<()> {
    const CHUNK: usize = 1 << 16;
    let mut buf = Vec::with_capacity(CHUNK * N);
    for chunk in data.chunks(CHUNK) {
        buf.clear();
        for &v in chunk {
            buf.extend_from_slice(&to(v));
        }
        w.write_all(&buf)?;
    }
    Ok(())
}

/// Header, extension flag and extensions: everything before the voxels.
fn preamble(
    vol: &VolumeRef<'_>,
    labels: Option<&LabelTable>,
    opts: &WriteOptions,
) -> Result<Vec<u8>> {
    let g = vol.geometry();
    g.validate()?;
    let dims = vol.dims();
    if opts.version == NiftiVersion::One {
        if let Some(d) = dims.iter().find(|&&d| d > i16::MAX as usize) {
            return Err(NiftiError::Write(format!(
                "dimension {d} exceeds the NIfTI-1 limit of 32767; write NIfTI-2 instead"
            )));
        }
    }
    for (name, code) in [
        ("sform_code", opts.sform_code),
        ("qform_code", opts.qform_code),
    ] {
        if !(0..=5).contains(&code) {
            return Err(NiftiError::Write(format!(
                "{name} {code} is not a NIfTI transform code (0–5)"
            )));
        }
    }
    if opts.sform_code == 0 && opts.qform_code == 0 {
        return Err(NiftiError::Write(
            "sform_code and qform_code are both 0, which would drop the patient orientation".into(),
        ));
    }
    if opts.compression_level > 9 {
        return Err(NiftiError::Write(format!(
            "compression level {} is outside 0–9",
            opts.compression_level
        )));
    }

    let mut extensions: Vec<(i32, Vec<u8>)> = Vec::new();
    // The label table goes first: TotalSegmentator reads `extensions[0]`.
    if let Some(t) = labels {
        extensions.push((opts.label_ecode, t.to_caret_xml().into_bytes()));
    }
    if opts.version == NiftiVersion::One && opts.exact_geometry_record {
        extensions.push((EXACT_GEOMETRY_ECODE, exact::encode(g, dims)));
    }
    let mut ext_bytes = Vec::new();
    for (code, data) in &extensions {
        let esize = (8 + data.len()).div_ceil(16) * 16;
        let esize_i32 = i32::try_from(esize)
            .map_err(|_| NiftiError::Write("a header extension is larger than 2 GiB".into()))?;
        ext_bytes.extend_from_slice(&esize_i32.to_le_bytes());
        ext_bytes.extend_from_slice(&code.to_le_bytes());
        ext_bytes.extend_from_slice(data);
        ext_bytes.resize(ext_bytes.len() + esize - 8 - data.len(), 0);
    }

    let header_size = match opts.version {
        NiftiVersion::One => header::NIFTI1_HEADER_SIZE,
        NiftiVersion::Two => header::NIFTI2_HEADER_SIZE,
    };
    let (datatype, bitpix) = vol.datatype();
    let mut h = Header {
        version: opts.version,
        dim: [
            3,
            dims[0] as i64,
            dims[1] as i64,
            dims[2] as i64,
            1,
            1,
            1,
            1,
        ],
        datatype,
        bitpix,
        intent_code: if labels.is_some() { INTENT_LABEL } else { 0 },
        pixdim: [1.0; 8],
        vox_offset: (header_size + 4 + ext_bytes.len()) as f64,
        scl_slope: 1.0,
        scl_inter: 0.0,
        xyzt_units: 2, // NIFTI_UNITS_MM
        qform_code: opts.qform_code,
        sform_code: opts.sform_code,
        ..Header::default()
    };
    let mut end = opts.description.len().min(79);
    while !opts.description.is_char_boundary(end) {
        end -= 1;
    }
    h.descrip[..end].copy_from_slice(&opts.description.as_bytes()[..end]);
    xform::fill_header(&mut h, g);
    let mut out = header::serialize(&h, !extensions.is_empty());
    out.extend_from_slice(&ext_bytes);
    Ok(out)
}

fn write_all_to(w: &mut dyn Write, preamble: &[u8], vol: &VolumeRef<'_>) -> io::Result<()> {
    w.write_all(preamble)?;
    vol.write_voxels(w)
}

/// Encodes a volume as NIfTI bytes in memory (gzip-compressed when `gzip`).
pub fn nifti_bytes<'a>(
    volume: impl Into<VolumeRef<'a>>,
    labels: Option<&LabelTable>,
    opts: &WriteOptions,
    gzip: bool,
) -> Result<Vec<u8>> {
    let vol = volume.into();
    let pre = preamble(&vol, labels, opts)?;
    let werr = |e: io::Error| NiftiError::Write(e.to_string());
    if gzip {
        let mut enc = GzEncoder::new(Vec::new(), Compression::new(opts.compression_level));
        write_all_to(&mut enc, &pre, &vol).map_err(werr)?;
        enc.finish().map_err(werr)
    } else {
        let mut out = Vec::new();
        write_all_to(&mut out, &pre, &vol).map_err(werr)?;
        Ok(out)
    }
}

/// Writes `volume` to `path` (NIfTI-1 by default; gzip when the name ends in `.gz`, any case), with the label
/// table as a CaretExtension when given. Nothing appears at `path` unless the whole file was written.
pub fn write_nifti<'a>(
    path: impl AsRef<Path>,
    volume: impl Into<VolumeRef<'a>>,
    labels: Option<&LabelTable>,
    opts: &WriteOptions,
) -> Result<()> {
    let path = path.as_ref();
    let vol = volume.into();
    let pre = preamble(&vol, labels, opts)?;
    let gzip = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let werr = |e: io::Error| NiftiError::io("write", path, e);
    spinekit_atomic::write_atomic(path, |w| {
        if gzip {
            let mut enc = GzEncoder::new(w, Compression::new(opts.compression_level));
            write_all_to(&mut enc, &pre, &vol)?;
            enc.finish().map(|_| ())
        } else {
            write_all_to(w, &pre, &vol)
        }
    })
    .map_err(werr)?;
    Ok(())
}
