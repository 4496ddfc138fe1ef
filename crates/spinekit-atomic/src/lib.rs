//! Every spinekit output goes through [`write_atomic`], so a crash, a full disk or an encoding error never leaves a
//! half-written image or report where a clinician's tools would pick it up.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writes `path` atomically: `fill` writes into a buffered temporary file in the same folder (named
/// `.spinekit-*.tmp`), which is synced and renamed over `path` only if `fill` succeeded. On any error the
/// temporary file is removed and `path` is untouched. The file is created readable like any other output (0644).
pub fn write_atomic<E: From<io::Error>>(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), E> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".spinekit-").suffix(".tmp");
    // tempfile creates 0600 files; an output should be as readable as any other file the user writes.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let tmp = builder.tempfile_in(dir)?;
    let (file, tmp_path) = tmp.into_parts();
    let mut w = BufWriter::with_capacity(1 << 20, file);
    fill(&mut w)?;
    let file: File = w.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    tmp_path.persist(path).map_err(|e| e.error)?;
    // Persist the rename itself (best effort: not every platform lets a directory be opened and synced).
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// [`write_atomic`] for bytes already in memory.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, |w| w.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_file_and_leaves_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("out.bin");
        write_bytes_atomic(&p, b"hello").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn failure_keeps_the_old_file_and_removes_the_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("out.bin");
        std::fs::write(&p, b"old").unwrap();
        let r: io::Result<()> = write_atomic(&p, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("encoder failed"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn missing_folder_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        assert!(write_bytes_atomic(&d.path().join("no/such/dir/x"), b"x").is_err());
    }
}
