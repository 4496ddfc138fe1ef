use crate::MetaImageError;
use spinekit_image::Geometry;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

/// Longest header we accept before `ElementDataFile`: real headers are < 2 KiB; this stops a binary file that is
/// not a MetaImage from being read into memory line by line.
const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Largest DimSize product accepted: 4 Gi voxels, the same limit `spinekit_image::Volume` enforces.
const MAX_VOXELS: u128 = 1 << 32;

/// Voxel type as stored in the file (MetaIO `ElementType`). Sizes follow MetaIO's `MET_ValueTypeSize` table:
/// `MET_LONG`/`MET_ULONG` are 4 bytes, `MET_LONG_LONG`/`MET_ULONG_LONG` 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementType {
    Char,
    UChar,
    Short,
    UShort,
    Int,
    UInt,
    Long,
    ULong,
    LongLong,
    ULongLong,
    Float,
    Double,
}

impl ElementType {
    const ALL: [ElementType; 12] = [
        Self::Char,
        Self::UChar,
        Self::Short,
        Self::UShort,
        Self::Int,
        Self::UInt,
        Self::Long,
        Self::ULong,
        Self::LongLong,
        Self::ULongLong,
        Self::Float,
        Self::Double,
    ];

    /// The header spelling, e.g. `MET_SHORT`.
    pub fn met_name(self) -> &'static str {
        match self {
            Self::Char => "MET_CHAR",
            Self::UChar => "MET_UCHAR",
            Self::Short => "MET_SHORT",
            Self::UShort => "MET_USHORT",
            Self::Int => "MET_INT",
            Self::UInt => "MET_UINT",
            Self::Long => "MET_LONG",
            Self::ULong => "MET_ULONG",
            Self::LongLong => "MET_LONG_LONG",
            Self::ULongLong => "MET_ULONG_LONG",
            Self::Float => "MET_FLOAT",
            Self::Double => "MET_DOUBLE",
        }
    }

    /// Bytes per voxel.
    pub fn size_bytes(self) -> usize {
        match self {
            Self::Char | Self::UChar => 1,
            Self::Short | Self::UShort => 2,
            Self::Int | Self::UInt | Self::Long | Self::ULong | Self::Float => 4,
            Self::LongLong | Self::ULongLong | Self::Double => 8,
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.met_name().eq_ignore_ascii_case(s))
    }
}

/// Where the voxel bytes are.
#[derive(Debug, Clone, PartialEq)]
pub enum DataLocation {
    /// In the header file itself (`ElementDataFile = LOCAL`), starting `offset` bytes into it.
    Local { offset: u64 },
    /// In a separate file (path already resolved relative to the header's folder).
    File(PathBuf),
}

/// A parsed MetaImage header, with geometry already converted to [`Geometry`] (ITK's world frame is LPS, so
/// no axis flip is applied).
#[derive(Debug, Clone, PartialEq)]
pub struct MetaHeader {
    /// `NDims` as written (2 or 3); 2D images are read as one-slice volumes.
    pub ndims: usize,
    /// `DimSize`, padded with 1 for 2D images.
    pub dims: [usize; 3],
    pub geometry: Geometry,
    pub element_type: ElementType,
    /// `ElementByteOrderMSB` / `BinaryDataByteOrderMSB` = True.
    pub big_endian: bool,
    /// `CompressedData` = True (zlib, or gzip when the stream starts with the gzip magic).
    pub compressed: bool,
    /// `CompressedDataSize`, when given.
    pub compressed_size: Option<u64>,
    /// `HeaderSize` of a separate data file: bytes to skip; -1 means "the data is at the end of the file".
    pub header_size: Option<i64>,
    pub data: DataLocation,
    /// `AnatomicalOrientation` as written (ITK writes "from" letters, e.g. `RAI` for an LPS grid). Informational
    /// only: the geometry comes from `TransformMatrix`, as in ITK.
    pub anatomical_orientation: Option<String>,
}

impl MetaHeader {
    /// Number of voxels.
    pub fn voxel_count(&self) -> u64 {
        self.dims.iter().map(|&d| d as u64).product()
    }

    /// Uncompressed size of the voxel data in bytes.
    pub fn data_bytes(&self) -> u64 {
        self.voxel_count() * self.element_type.size_bytes() as u64
    }
}

/// Reads `Key = Value` lines up to and including `ElementDataFile` and interprets them.
/// `header_dir` resolves a relative `ElementDataFile`.
pub(crate) fn parse_header(
    mut r: impl BufRead,
    header_dir: &Path,
) -> Result<MetaHeader, MetaImageError> {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut consumed: u64 = 0;
    let mut line = Vec::new();
    let mut line_no = 0usize;
    let mut found_data_file = false;
    while !found_data_file {
        line.clear();
        let n = r
            .by_ref()
            .take(MAX_HEADER_BYTES - consumed)
            .read_until(b'\n', &mut line)
            .map_err(|e| MetaImageError::NotMetaImage(format!("header unreadable ({e})")))?;
        if n == 0 {
            if consumed >= MAX_HEADER_BYTES {
                return Err(MetaImageError::NotMetaImage(
                    "no ElementDataFile line within the first 1 MiB".into(),
                ));
            }
            break;
        }
        consumed += n as u64;
        line_no += 1;
        let text = std::str::from_utf8(&line).map_err(|_| {
            MetaImageError::NotMetaImage(format!("binary data in header line {line_no}"))
        })?;
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let Some((k, v)) = text.split_once('=') else {
            return Err(MetaImageError::NotMetaImage(format!(
                "header line {line_no} is not \"Key = Value\""
            )));
        };
        let (k, v) = (k.trim(), v.trim());
        found_data_file = k.eq_ignore_ascii_case("ElementDataFile");
        fields.push((k.to_string(), v.to_string()));
    }
    if !found_data_file {
        return Err(MetaImageError::MissingKey("ElementDataFile"));
    }
    interpret(&fields, consumed, header_dir)
}

/// Last value of the first key among `keys` present (MetaIO synonyms, e.g. Offset/Position/Origin).
fn get<'a>(fields: &'a [(String, String)], keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|key| {
        fields
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    })
}

fn parse_bool(key: &'static str, v: &str) -> Result<bool, MetaImageError> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(MetaImageError::bad(key, v)),
    }
}

fn parse_floats(key: &'static str, v: &str, n: usize) -> Result<Vec<f64>, MetaImageError> {
    let vals: Vec<f64> = v
        .split_whitespace()
        .map(|t| t.parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| MetaImageError::bad(key, v))?;
    if vals.len() != n || vals.iter().any(|x| !x.is_finite()) {
        return Err(MetaImageError::bad(key, v));
    }
    Ok(vals)
}

fn interpret(
    fields: &[(String, String)],
    consumed: u64,
    header_dir: &Path,
) -> Result<MetaHeader, MetaImageError> {
    if let Some(t) = get(fields, &["ObjectType"]) {
        if !t.eq_ignore_ascii_case("Image") {
            return Err(MetaImageError::Unsupported(format!(
                "ObjectType {t} (only Image is read)"
            )));
        }
    }
    let nd_text = get(fields, &["NDims"]).ok_or(MetaImageError::MissingKey("NDims"))?;
    let ndims: usize = nd_text
        .parse()
        .map_err(|_| MetaImageError::bad("NDims", nd_text))?;
    if !(2..=3).contains(&ndims) {
        return Err(MetaImageError::Unsupported(format!(
            "{ndims}-dimensional image (only 2D and 3D are read)"
        )));
    }
    let ds_text = get(fields, &["DimSize"]).ok_or(MetaImageError::MissingKey("DimSize"))?;
    let ds: Vec<u64> = ds_text
        .split_whitespace()
        .map(|t| t.parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|_| MetaImageError::bad("DimSize", ds_text))?;
    if ds.len() != ndims || ds.contains(&0) {
        return Err(MetaImageError::bad("DimSize", ds_text));
    }
    let n: u128 = ds.iter().map(|&d| d as u128).product();
    if n > MAX_VOXELS {
        return Err(MetaImageError::TooLarge {
            dims: ds,
            limit: MAX_VOXELS,
        });
    }
    let mut dims = [1usize; 3];
    for (d, &s) in dims.iter_mut().zip(&ds) {
        *d = s as usize;
    }

    if let Some(c) = get(fields, &["ElementNumberOfChannels"]) {
        if c.trim() != "1" {
            return Err(MetaImageError::Unsupported(format!(
                "{c} channels per voxel (only scalar images are read)"
            )));
        }
    }
    if let Some(b) = get(fields, &["BinaryData"]) {
        if !parse_bool("BinaryData", b)? {
            return Err(MetaImageError::Unsupported(
                "ASCII voxel data (BinaryData = False)".into(),
            ));
        }
    }
    let et_text = get(fields, &["ElementType"]).ok_or(MetaImageError::MissingKey("ElementType"))?;
    let element_type = ElementType::parse(et_text)
        .ok_or_else(|| MetaImageError::Unsupported(format!("ElementType {et_text}")))?;

    let big_endian = match get(fields, &["ElementByteOrderMSB", "BinaryDataByteOrderMSB"]) {
        Some(v) => parse_bool("BinaryDataByteOrderMSB", v)?,
        None => false,
    };
    let compressed = match get(fields, &["CompressedData"]) {
        Some(v) => parse_bool("CompressedData", v)?,
        None => false,
    };
    let compressed_size = match get(fields, &["CompressedDataSize"]) {
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| MetaImageError::bad("CompressedDataSize", v))?,
        ),
        None => None,
    };
    let header_size = match get(fields, &["HeaderSize"]) {
        Some(v) => {
            let h = v
                .parse::<i64>()
                .map_err(|_| MetaImageError::bad("HeaderSize", v))?;
            if h < -1 {
                return Err(MetaImageError::bad("HeaderSize", v));
            }
            Some(h)
        }
        None => None,
    };

    // Geometry. ElementSpacing is the grid step; ElementSize (physical voxel extent) is a fallback, as in ITK.
    let spacing = match get(fields, &["ElementSpacing", "ElementSize"]) {
        Some(v) => parse_floats("ElementSpacing", v, ndims)?,
        None => vec![1.0; ndims],
    };
    if spacing.iter().any(|&s| s <= 0.0) {
        return Err(MetaImageError::bad(
            "ElementSpacing",
            get(fields, &["ElementSpacing", "ElementSize"]).unwrap_or_default(),
        ));
    }
    let origin = match get(fields, &["Offset", "Position", "Origin"]) {
        Some(v) => parse_floats("Offset", v, ndims)?,
        None => vec![0.0; ndims],
    };
    let matrix = match get(fields, &["TransformMatrix", "Rotation", "Orientation"]) {
        Some(v) => Some(parse_floats("TransformMatrix", v, ndims * ndims)?),
        None => None,
    };
    let mut geometry = Geometry::identity([1.0; 3]);
    for a in 0..ndims {
        geometry.spacing_mm[a] = spacing[a];
        geometry.origin_mm[a] = origin[a];
        if let Some(m) = &matrix {
            // ITK writes the direction matrix column by column: values ndims·a .. ndims·a+ndims are the world
            // direction of voxel axis a (see the crate documentation for the SimpleITK check).
            let mut d = [0.0; 3];
            d[..ndims].copy_from_slice(&m[ndims * a..ndims * (a + 1)]);
            geometry.direction[a] = d;
        }
    }
    geometry.validate()?;

    let df =
        get(fields, &["ElementDataFile"]).ok_or(MetaImageError::MissingKey("ElementDataFile"))?;
    let data = if df.eq_ignore_ascii_case("LOCAL") {
        DataLocation::Local { offset: consumed }
    } else if df.eq_ignore_ascii_case("LIST") || df.contains('%') {
        // MetaIO: LIST = one file per slice named below; a printf pattern ("slice%03d.raw 1 40 1") = numbered
        // files. Any other value, spaces included, is one file name.
        return Err(MetaImageError::Unsupported(
            "voxel data split over several files (ElementDataFile LIST or pattern)".into(),
        ));
    } else if df.is_empty() {
        return Err(MetaImageError::bad("ElementDataFile", df));
    } else {
        DataLocation::File(header_dir.join(df))
    };

    Ok(MetaHeader {
        ndims,
        dims,
        geometry,
        element_type,
        big_endian,
        compressed,
        compressed_size,
        header_size,
        data,
        anatomical_orientation: get(fields, &["AnatomicalOrientation"]).map(str::to_string),
    })
}
