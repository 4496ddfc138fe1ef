//! Locates the real scans in `../shared/data` for tests and benchmarks (never shipped, never copied).
//!
//! Rule: a test that needs the data must FAIL when it is missing and `CI` is set, and may skip (printing why)
//! otherwise. Use [`shared_data`] with `let Some(p) = shared_data("…") else { return };`.

use std::path::PathBuf;

pub mod ct_series;
pub mod seg;

/// Root of the shared data: `$SPINEKIT_SHARED_DATA`, else `<workspace>/../shared/data`.
pub fn shared_root() -> PathBuf {
    if let Some(p) = std::env::var_os("SPINEKIT_SHARED_DATA") {
        return PathBuf::from(p);
    }
    // Every crate lives at <workspace>/crates/<name>. Prefer the manifest folder cargo gives the running test:
    // the compile-time path below goes stale when a build from another checkout is reused via a shared
    // target folder (tests then skipped silently).
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        let p = PathBuf::from(dir).join("../../../shared/data");
        if p.exists() {
            return p;
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// Path to `rel` under the shared data, or `None` (after printing why) when absent outside CI.
///
/// # Panics
/// When the path is missing and the `CI` environment variable is set, so CI cannot pass without the data.
pub fn shared_data(rel: &str) -> Option<PathBuf> {
    let p = shared_root().join(rel);
    if p.exists() {
        return Some(p);
    }
    if std::env::var_os("CI").is_some() {
        panic!("shared test data missing under CI: {}", p.display());
    }
    eprintln!(
        "SKIP: shared test data not found: {} (set CI to make this a failure)",
        p.display()
    );
    None
}
