use crate::MetaImageError;
use flate2::write::ZlibEncoder;
use spinekit_image::{AnyVolume, Volume, Voxel, VoxelType};
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

/// Whether the voxel data of a written `.mha` is zlib-compressed (ITK's `useCompression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Raw little-endian voxels: fastest, largest.
    #[default]
    None,
    /// zlib (deflate level 6), read by ITK, SimpleITK, 3D Slicer and this crate.
    Zlib,
}

/// Writes any stored voxel type as `.mha` (see [`write_mha`]).
pub fn write_mha_any(
    path: impl AsRef<Path>,
    vol: &AnyVolume,
    compression: Compression,
) -> Result<(), MetaImageError> {
    match vol {
        AnyVolume::U8(v) => write_mha(path, v, compression),
        AnyVolume::I16(v) => write_mha(path, v, compression),
        AnyVolume::U16(v) => write_mha(path, v, compression),
        AnyVolume::I32(v) => write_mha(path, v, compression),
        AnyVolume::F32(v) => write_mha(path, v, compression),
    }
}

/// Writes a single-file MetaImage (`ElementDataFile = LOCAL`) with the header ITK writes: `TransformMatrix`
/// holds the direction of voxel axis 0, then axis 1, then axis 2 (LPS, no flip), `Offset` the centre of voxel
/// (0,0,0), little-endian data. The file appears atomically: it is written to a temporary file in the same
/// folder and renamed, so a failure never leaves a half-written image.
pub fn write_mha<T: Voxel>(
    path: impl AsRef<Path>,
    vol: &Volume<T>,
    compression: Compression,
) -> Result<(), MetaImageError> {
    let path = path.as_ref();
    let raw = voxel_bytes(vol);
    let (payload, compressed) = match compression {
        Compression::None => (raw, false),
        Compression::Zlib => {
            let mut enc = ZlibEncoder::new(
                Vec::with_capacity(raw.len() / 2),
                flate2::Compression::default(),
            );
            enc.write_all(&raw)
                .map_err(|e| MetaImageError::io(path, e))?;
            (enc.finish().map_err(|e| MetaImageError::io(path, e))?, true)
        }
    };
    let header = header_text(vol, compressed.then_some(payload.len()));

    spinekit_atomic::write_atomic(path, |w| {
        w.write_all(header.as_bytes())?;
        w.write_all(&payload)
    })
    .map_err(|e| MetaImageError::io(path, e))?;
    Ok(())
}

fn met_type(t: VoxelType) -> &'static str {
    match t {
        VoxelType::U8 => "MET_UCHAR",
        VoxelType::I16 => "MET_SHORT",
        VoxelType::U16 => "MET_USHORT",
        VoxelType::I32 => "MET_INT",
        VoxelType::F32 => "MET_FLOAT",
    }
}

/// Little-endian bytes of every voxel (the f64 round trip is exact for all `Voxel` types).
fn voxel_bytes<T: Voxel>(vol: &Volume<T>) -> Vec<u8> {
    let d = vol.data();
    match T::TYPE {
        VoxelType::U8 => d.iter().map(|v| v.to_f64() as u8).collect(),
        VoxelType::I16 => d
            .iter()
            .flat_map(|v| (v.to_f64() as i16).to_le_bytes())
            .collect(),
        VoxelType::U16 => d
            .iter()
            .flat_map(|v| (v.to_f64() as u16).to_le_bytes())
            .collect(),
        VoxelType::I32 => d
            .iter()
            .flat_map(|v| (v.to_f64() as i32).to_le_bytes())
            .collect(),
        VoxelType::F32 => d
            .iter()
            .flat_map(|v| (v.to_f64() as f32).to_le_bytes())
            .collect(),
    }
}

/// Space-separated shortest round-trip decimal representation (`{}` on f64 reparses to the same bits).
fn join(v: impl IntoIterator<Item = f64>) -> String {
    v.into_iter()
        .map(|x| format!("{x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn header_text<T: Voxel>(vol: &Volume<T>, compressed_size: Option<usize>) -> String {
    let g = vol.geometry();
    let d = vol.dims();
    // ITK's AnatomicalOrientation names where each axis comes FROM (RAI = LPS grid): the opposite letters of the
    // "points toward" code.
    let from: String = g
        .orientation_code()
        .0
        .iter()
        .map(|c| match c {
            'L' => 'R',
            'R' => 'L',
            'P' => 'A',
            'A' => 'P',
            'S' => 'I',
            'I' => 'S',
            other => *other,
        })
        .collect();
    let mut h = String::new();
    let _ = writeln!(h, "ObjectType = Image");
    let _ = writeln!(h, "NDims = 3");
    let _ = writeln!(h, "BinaryData = True");
    let _ = writeln!(h, "BinaryDataByteOrderMSB = False");
    let _ = writeln!(
        h,
        "CompressedData = {}",
        if compressed_size.is_some() {
            "True"
        } else {
            "False"
        }
    );
    if let Some(n) = compressed_size {
        let _ = writeln!(h, "CompressedDataSize = {n}");
    }
    let _ = writeln!(
        h,
        "TransformMatrix = {}",
        join(g.direction.iter().flatten().copied())
    );
    let _ = writeln!(h, "Offset = {}", join(g.origin_mm));
    let _ = writeln!(h, "CenterOfRotation = 0 0 0");
    let _ = writeln!(h, "AnatomicalOrientation = {from}");
    let _ = writeln!(h, "ElementSpacing = {}", join(g.spacing_mm));
    let _ = writeln!(h, "DimSize = {} {} {}", d[0], d[1], d[2]);
    let _ = writeln!(h, "ElementType = {}", met_type(T::TYPE));
    let _ = writeln!(h, "ElementDataFile = LOCAL");
    h
}
