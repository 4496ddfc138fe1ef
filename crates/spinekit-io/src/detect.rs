use crate::IoError;
use serde::Serialize;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// What a path holds, decided from content (magic bytes), not from the file name, except for MetaImage headers
/// (plain text) which are recognised by their keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A folder of DICOM files (any names, no DICOMDIR needed), searched recursively.
    DicomFolder,
    /// A zip archive of DICOM files, or a folder inside one (`archive.zip/inner/folder`).
    DicomZip,
    /// One DICOM Part 10 file.
    DicomFile,
    /// NIfTI-1 or NIfTI-2, plain or gzip-compressed.
    Nifti,
    /// MetaImage `.mha` or `.mhd` header.
    MetaImage,
    /// PNG or JPEG picture (a radiograph or a slice).
    Picture,
}

impl Format {
    pub fn describe(self) -> &'static str {
        match self {
            Format::DicomFolder => "DICOM folder",
            Format::DicomZip => "DICOM zip archive",
            Format::DicomFile => "DICOM file",
            Format::Nifti => "NIfTI",
            Format::MetaImage => "MetaImage",
            Format::Picture => "PNG/JPEG picture",
        }
    }
    pub fn is_dicom(self) -> bool {
        matches!(
            self,
            Format::DicomFolder | Format::DicomZip | Format::DicomFile
        )
    }
}

/// Detects the format of `path`.
pub fn detect(path: &Path) -> Result<Format, IoError> {
    let disp = || path.display().to_string();
    if path.is_dir() {
        return Ok(Format::DicomFolder);
    }
    if !path.exists() {
        // `archive.zip/inner/folder`: a folder inside a zip.
        if path
            .ancestors()
            .skip(1)
            .any(|a| a.is_file() && has_zip_magic(a))
        {
            return Ok(Format::DicomZip);
        }
        return Err(IoError::NotFound { path: disp() });
    }
    let mut head = [0u8; 540];
    let n = File::open(path)
        .and_then(|mut f| read_up_to(&mut f, &mut head))
        .map_err(|e| IoError::Unreadable {
            path: disp(),
            reason: e.to_string(),
        })?;
    let h = &head[..n];
    if h.len() >= 132 && &h[128..132] == b"DICM" {
        return Ok(Format::DicomFile);
    }
    if h.starts_with(b"PK\x03\x04") || h.starts_with(b"PK\x05\x06") {
        return Ok(Format::DicomZip);
    }
    if h.starts_with(&[0x1f, 0x8b]) || is_nifti_header(h) {
        return Ok(Format::Nifti);
    }
    if h.starts_with(b"\x89PNG\r\n\x1a\n") || h.starts_with(&[0xff, 0xd8, 0xff]) {
        return Ok(Format::Picture);
    }
    if is_metaimage_header(h) {
        return Ok(Format::MetaImage);
    }
    Err(IoError::UnknownFormat { path: disp() })
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            m => n += m,
        }
    }
    Ok(n)
}

fn has_zip_magic(p: &Path) -> bool {
    let mut b = [0u8; 4];
    File::open(p).and_then(|mut f| f.read_exact(&mut b)).is_ok() && &b == b"PK\x03\x04"
}

/// NIfTI-1: sizeof_hdr 348 and magic `n+1`/`ni1` at 344; NIfTI-2: sizeof_hdr 540 and magic `n+2`/`ni2` at 4.
fn is_nifti_header(h: &[u8]) -> bool {
    if h.len() < 8 {
        return false;
    }
    let le = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    let be = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    if (le == 348 || be == 348) && h.len() >= 348 {
        return &h[344..346] == b"n+" || &h[344..346] == b"ni";
    }
    if le == 540 || be == 540 {
        return &h[4..6] == b"n+" || &h[4..6] == b"ni";
    }
    false
}

/// A MetaImage header is text whose first key is one of the usual ones.
fn is_metaimage_header(h: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&h[..h.len().min(256)]);
    let first = text.trim_start().split(['=', ' ']).next().unwrap_or("");
    matches!(
        first,
        "ObjectType" | "NDims" | "DimSize" | "Comment" | "ObjectSubType" | "TransformType"
    )
}
