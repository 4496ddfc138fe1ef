//! Peak memory of `load_volume` on the 129-slice CT (own test binary, so no other test allocates meanwhile).

use spinekit_dicom::{load_volume, scan, SeriesSelector};
use spinekit_testdata::shared_data;

/// (current RSS, peak RSS) in bytes from /proc/self/status (Linux only).
fn rss() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let l = s.lines().find(|l| l.starts_with(name))?;
        Some(l.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

#[test]
fn load_volume_peak_memory_is_near_the_volume_size() {
    let Some(p) = shared_data("ct-ircadb-01/PATIENT_DICOM") else {
        return;
    };
    let s = scan(&p).unwrap();
    // Warm the thread pool and allocator on a small series first.
    if let Some(small) = shared_data("ct-totalseg-example/dicom") {
        drop(load_volume(&scan(&small).unwrap(), &SeriesSelector::Auto).unwrap());
    }
    // Reset the peak-RSS counter (Linux ≥ 4.0) so VmHWM measures this load only.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let Some((before, _)) = rss() else { return };
    let t = std::time::Instant::now();
    let l = load_volume(&s, &SeriesSelector::Auto).unwrap();
    let elapsed = t.elapsed();
    let (_, hwm) = rss().unwrap();
    let volume_bytes = (l.volume.dims().iter().product::<usize>() * 2) as u64;
    let grown = hwm.saturating_sub(before);
    println!(
        "volume {:.1} MB, peak growth {:.1} MB ({:.2}x), load {elapsed:?}",
        volume_bytes as f64 / 1e6,
        grown as f64 / 1e6,
        grown as f64 / volume_bytes as f64
    );
    assert!(
        grown as f64 <= 1.5 * volume_bytes as f64,
        "peak grew by {grown} bytes for a {volume_bytes}-byte volume"
    );
}
