//! Where DICOM instances come from (a folder tree, a zip archive, one file) and how one is parsed.

use crate::error::{one_line, DicomError};
use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, FileMetaTableBuilder, InMemDicomObject, OpenFileOptions};
use dicom_transfer_syntax_registry::entries::IMPLICIT_VR_LITTLE_ENDIAN;
use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

/// The container the scanned files live in.
#[derive(Debug, Clone)]
pub(crate) enum Container {
    /// Plain files on disk (a folder tree or a single file).
    Files,
    /// Members of this zip archive, read in memory.
    Zip(PathBuf),
}

/// One candidate file: where to read it and its display path (relative to the scanned root, `/`-separated).
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub loc: Loc,
    pub rel: String,
}

#[derive(Debug, Clone)]
pub(crate) enum Loc {
    File(PathBuf),
    Zip(usize),
}

/// Lists the candidate files under `path`: a folder (recursive), a zip archive, a single file, or a folder inside
/// a zip written as `archive.zip/sub/folder`.
pub(crate) fn discover(path: &Path) -> Result<(Container, Vec<Member>), DicomError> {
    let disp = path.display().to_string();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) => return discover_zip_subpath(path),
    };
    if meta.is_dir() {
        let mut files = Vec::new();
        walk(path, path, &mut files).map_err(|e| DicomError::Io {
            path: disp.clone(),
            detail: e.to_string(),
        })?;
        files.sort_by(|a: &Member, b| a.rel.cmp(&b.rel));
        return Ok((Container::Files, files));
    }
    if is_zip(path) {
        return list_zip(path, "");
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| disp.clone());
    Ok((
        Container::Files,
        vec![Member {
            loc: Loc::File(path.to_path_buf()),
            rel: name,
        }],
    ))
}

/// `archive.zip/inner/folder`: the longest existing ancestor must be a zip file; the rest is a member prefix.
fn discover_zip_subpath(path: &Path) -> Result<(Container, Vec<Member>), DicomError> {
    let not_found = || DicomError::NotFound {
        path: path.display().to_string(),
    };
    let mut anc = path.parent();
    while let Some(a) = anc {
        if a.is_file() {
            if !is_zip(a) {
                return Err(not_found());
            }
            let rest = path.strip_prefix(a).map_err(|_| not_found())?;
            let prefix = rest
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let (c, members) = list_zip(a, &prefix)?;
            if members.is_empty() {
                return Err(not_found());
            }
            return Ok((c, members));
        }
        if a.exists() {
            break;
        }
        anc = a.parent();
    }
    Err(not_found())
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<Member>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let ft = entry.file_type()?;
        let p = entry.path();
        // Symlinked folders are not followed (no cycles); symlinked files are read.
        if ft.is_dir() {
            walk(root, &p, out)?;
        } else if ft.is_file() || (ft.is_symlink() && p.is_file()) {
            let rel = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push(Member {
                loc: Loc::File(p),
                rel,
            });
        }
    }
    Ok(())
}

/// Zip local-file-header magic `PK\x03\x04` (or an empty archive's `PK\x05\x06`).
fn is_zip(path: &Path) -> bool {
    let mut b = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut b))
        .map(|_| &b == b"PK\x03\x04" || &b == b"PK\x05\x06")
        .unwrap_or(false)
}

pub(crate) fn open_zip(path: &Path) -> Result<zip::ZipArchive<BufReader<File>>, DicomError> {
    let disp = path.display().to_string();
    let f = File::open(path).map_err(|e| DicomError::Io {
        path: disp.clone(),
        detail: e.to_string(),
    })?;
    zip::ZipArchive::new(BufReader::new(f)).map_err(|e| DicomError::BadZip {
        path: disp,
        detail: one_line(&e),
    })
}

fn list_zip(path: &Path, prefix: &str) -> Result<(Container, Vec<Member>), DicomError> {
    let zip = open_zip(path)?;
    let prefix = prefix.trim_matches('/');
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let Some(Ok(name)) = zip.name_for_index(i) else {
            continue;
        };
        if name.ends_with('/') {
            continue;
        }
        let name = name.trim_start_matches('/').to_string();
        let inside = name == prefix || name.starts_with(&format!("{prefix}/"));
        if !prefix.is_empty() && !inside {
            continue;
        }
        out.push(Member {
            loc: Loc::Zip(i),
            rel: name,
        });
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok((Container::Zip(path.to_path_buf()), out))
}

/// Why a candidate could not be parsed.
#[derive(Debug)]
pub(crate) enum ParseFail {
    /// Not DICOM at all (no magic, not a raw data set): skipped silently by folder/zip scans.
    NotDicom,
    /// DICOM magic present but the content is unreadable.
    Damaged(String),
    /// The file itself could not be opened or read.
    Io(String),
}

impl ParseFail {
    /// The error to report when a member that must be read (not merely scanned) fails.
    pub(crate) fn into_error(self, rel: &str) -> DicomError {
        match self {
            ParseFail::NotDicom => DicomError::NotDicom {
                path: rel.to_string(),
            },
            ParseFail::Damaged(d) | ParseFail::Io(d) => DicomError::Damaged {
                path: rel.to_string(),
                detail: d,
            },
        }
    }
}

/// Reads a member; `header_only` stops before PixelData (7FE0,0010) so scanning never touches pixels.
pub(crate) fn read_member(
    container: &Container,
    zip: Option<&mut zip::ZipArchive<BufReader<File>>>,
    m: &Member,
    header_only: bool,
) -> Result<DefaultDicomObject, ParseFail> {
    match (&m.loc, container) {
        (Loc::File(p), _) => {
            let f = File::open(p).map_err(|e| ParseFail::Io(e.to_string()))?;
            parse_stream(BufReader::new(f), header_only)
        }
        (Loc::Zip(i), Container::Zip(_)) => {
            let zip = zip.ok_or_else(|| ParseFail::Io("zip archive not open".into()))?;
            let f = zip.by_index(*i).map_err(|e| ParseFail::Io(one_line(&e)))?;
            if header_only {
                parse_stream(BufReader::new(f), true)
            } else {
                // Whole member in memory (the archive stream cannot seek); freed after decoding.
                let mut buf = Vec::with_capacity(f.size().min(1 << 28) as usize);
                let mut f = f;
                f.read_to_end(&mut buf)
                    .map_err(|e| ParseFail::Damaged(e.to_string()))?;
                parse_stream(Cursor::new(buf), false)
            }
        }
        (Loc::Zip(_), Container::Files) => Err(ParseFail::Io("zip member outside a zip".into())),
    }
}

/// Parses a DICOM Part 10 stream (128-byte preamble + `DICM`), or a raw Implicit VR Little Endian data set
/// without preamble or file meta group (old ACR-NEMA-style exports).
pub(crate) fn parse_stream<R: Read>(
    mut r: R,
    header_only: bool,
) -> Result<DefaultDicomObject, ParseFail> {
    let mut head = [0u8; 132];
    let n = read_up_to(&mut r, &mut head).map_err(|e| ParseFail::Io(e.to_string()))?;
    if n == 132 && &head[128..132] == b"DICM" {
        let mut opts = OpenFileOptions::new().read_preamble(ReadPreamble::Never);
        if header_only {
            opts = opts.read_until(tags::PIXEL_DATA);
        }
        return opts
            .from_reader(Cursor::new(&head[128..132]).chain(r))
            .map_err(|e| ParseFail::Damaged(describe_read_error(&e)));
    }
    if looks_like_raw_implicit(&head[..n]) {
        return parse_raw_implicit(Cursor::new(head[..n].to_vec()).chain(r))
            .ok_or(ParseFail::NotDicom);
    }
    Err(ParseFail::NotDicom)
}

fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A raw Implicit VR LE data set starts with a group 0008 element with a short length.
fn looks_like_raw_implicit(h: &[u8]) -> bool {
    if h.len() < 8 {
        return false;
    }
    let group = u16::from_le_bytes([h[0], h[1]]);
    let elem = u16::from_le_bytes([h[2], h[3]]);
    let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
    group == 0x0008 && elem <= 0x0020 && len < 256
}

fn parse_raw_implicit<R: Read>(r: R) -> Option<DefaultDicomObject> {
    let obj =
        InMemDicomObject::read_dataset_with_ts(r, &IMPLICIT_VR_LITTLE_ENDIAN.erased()).ok()?;
    let text = |t| {
        obj.get(t)
            .and_then(|e| e.to_str().ok())
            .map(|s| s.trim_end_matches('\0').trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let sop_class = text(tags::SOP_CLASS_UID)?;
    let sop_inst = text(tags::SOP_INSTANCE_UID).unwrap_or_else(|| "2.25.0".into());
    obj.get(tags::PIXEL_DATA)?;
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(IMPLICIT_VR_LITTLE_ENDIAN.uid())
        .media_storage_sop_class_uid(sop_class)
        .media_storage_sop_instance_uid(sop_inst)
        .build()
        .ok()?;
    Some(obj.with_exact_meta(meta))
}

/// dicom-rs read errors, with "file ends early" recognised so a truncated file is named as such.
fn describe_read_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = cur {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::UnexpectedEof {
                return "file ends early: truncated".into();
            }
        }
        cur = s.source();
    }
    one_line(e)
}
