//! Shared by the CLI integration tests: run the built binary, and make the lumbar phantom several tests analyse.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `spinekit` with `args`: (exit status, stdout, stderr).
pub fn spinekit(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_spinekit"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes a T11–sacrum phantom at 1.5 mm into `dir/ph` and returns its folder (`ct.nii.gz` inside).
pub fn lumbar_phantom(dir: &Path) -> PathBuf {
    let ph = dir.join("ph");
    let (code, _, err) = spinekit(&[
        "phantom",
        "-o",
        ph.to_str().unwrap(),
        "--levels",
        "T11-sacrum",
        "--voxel-mm",
        "1.5",
        "--fit-fov-mm",
        "360",
    ]);
    assert_eq!(code, 0, "{err}");
    ph
}
