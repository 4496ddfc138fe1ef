//! Loading: checksum verification and the shipped weights (which must be present: no skipping).

use spinekit_xr_detect::{sha256_hex, write_weights, DetectError, Detector, WEIGHTS_FILE};

#[test]
fn missing_weights_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = Detector::load(&dir.path().join(WEIGHTS_FILE))
        .err()
        .expect("must fail");
    assert!(matches!(err, DetectError::WeightsMissing(_)), "{err}");
    assert!(err.to_string().contains("not found"), "{err}");
}

#[test]
fn checksum_mismatch_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(WEIGHTS_FILE);
    let real = std::fs::read(spinekit_xr_detect::default_weights_path())
        .expect("shipped weights must exist");
    write_weights(&path, &real).unwrap();
    // The intact copy loads.
    Detector::load(&path).expect("intact copy loads");
    // Flip one byte in the middle: same length, different hash.
    let mut bad = real.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x5a;
    std::fs::write(&path, &bad).unwrap();
    let err = Detector::load(&path)
        .err()
        .expect("tampered weights must fail");
    match &err {
        DetectError::ChecksumMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, &sha256_hex(&real));
            assert_eq!(actual, &sha256_hex(&bad));
        }
        other => panic!("expected a checksum error, got {other}"),
    }
    assert!(err.to_string().contains("SHA-256"), "{err}");
}

#[test]
fn garbage_with_a_matching_checksum_is_a_weights_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(WEIGHTS_FILE);
    write_weights(&path, b"not a burnpack file").unwrap();
    let err = Detector::load(&path).err().expect("must fail");
    assert!(matches!(err, DetectError::Weights(_)), "{err}");
}

#[test]
fn shipped_checksum_file_matches_the_shipped_weights() {
    let w = spinekit_xr_detect::default_weights_path();
    let bytes = std::fs::read(&w).expect("shipped weights must exist");
    let mut sum = w.clone().into_os_string();
    sum.push(".sha256");
    let text = std::fs::read_to_string(sum).expect("shipped checksum must exist");
    assert_eq!(text.split_whitespace().next().unwrap(), sha256_hex(&bytes));
    // sha256 of the empty string, a known vector, guards the hex formatting.
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    Detector::load_default().expect("shipped weights load");
}
