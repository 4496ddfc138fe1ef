//! A corpus of broken files, generated here: each must give a one-line error (or, where noted, a warning) and
//! never panic or allocate what the header merely promises.

use proptest::prelude::*;
use spinekit_image::{Geometry, Volume};
use spinekit_nifti::{
    nifti_bytes, read_nifti, read_nifti_bytes, GeometrySource, NiftiError, WriteOptions,
};
use std::io::Write;

/// A valid little NIfTI-1 file without extensions: header 0..348, flag 348..352, int16 voxels from 352.
fn valid_plain() -> Vec<u8> {
    let vol = Volume::<i16>::from_vec(
        [6, 5, 4],
        Geometry::identity([1.0, 1.0, 2.0]),
        (0..120).map(|i| i * 3 - 100).collect(),
    )
    .unwrap();
    let opts = WriteOptions {
        exact_geometry_record: false,
        ..WriteOptions::default()
    };
    nifti_bytes(&vol, None, &opts, false).unwrap()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn set_i16(b: &mut [u8], off: usize, v: i16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}

fn set_f32(b: &mut [u8], off: usize, v: f32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

/// Reads plain and gzip forms, expecting an error whose one-line message contains `needle`.
fn expect_err(bytes: &[u8], needle: &str) -> NiftiError {
    for b in [bytes.to_vec(), gzip(bytes)] {
        let e = read_nifti_bytes(&b).expect_err(needle);
        let msg = e.to_string();
        assert!(msg.contains(needle), "expected {needle:?} in {msg:?}");
        assert!(!msg.contains('\n'), "multi-line message {msg:?}");
    }
    read_nifti_bytes(bytes).unwrap_err()
}

#[test]
fn valid_corpus_base_reads() {
    let img = read_nifti_bytes(&valid_plain()).unwrap();
    assert_eq!(img.volume.dims(), [6, 5, 4]);
    assert_eq!(img.volume.get_f64(5, 4, 3), 119.0 * 3.0 - 100.0);
}

#[test]
fn not_nifti_at_all() {
    assert!(matches!(
        read_nifti_bytes(b"").unwrap_err(),
        NiftiError::NotNifti(_)
    ));
    assert!(read_nifti_bytes(&gzip(b""))
        .unwrap_err()
        .to_string()
        .contains("ends before the NIfTI header"));
    expect_err(
        b"hello, this is certainly not a medical image file at all",
        "neither 348",
    );
    expect_err(b"ab", "ends inside the header");
}

#[test]
fn wrong_magic_and_analyze_and_pair_files() {
    let mut b = valid_plain();
    b[344..348].copy_from_slice(b"xyz\0");
    assert!(matches!(expect_err(&b, "magic"), NiftiError::NotNifti(_)));
    b[344..348].copy_from_slice(&[0; 4]);
    expect_err(&b, "Analyze");
    b[344..348].copy_from_slice(b"ni1\0");
    assert!(matches!(expect_err(&b, ".hdr"), NiftiError::Unsupported(_)));
}

#[test]
fn zero_negative_and_bad_dims() {
    let mut b = valid_plain();
    set_i16(&mut b, 44, 0);
    expect_err(&b, "dimension 2 has size 0");
    set_i16(&mut b, 44, -5);
    expect_err(&b, "dimension 2 has size -5");
    let mut b = valid_plain();
    set_i16(&mut b, 40, 0);
    expect_err(&b, "dim[0] = 0");
    set_i16(&mut b, 40, 8);
    expect_err(&b, "dim[0] = 8");
}

#[test]
fn absurd_dims_are_refused_before_allocating() {
    let mut b = valid_plain();
    for (i, d) in [30000i16, 30000, 30000].iter().enumerate() {
        set_i16(&mut b, 42 + 2 * i, *d);
    }
    expect_err(&b, "more than the limit");
    // 4 Gi voxels minus a bit: allowed by the limit, impossible for this small file (plain and gzip).
    for (i, d) in [32000i16, 32000, 4].iter().enumerate() {
        set_i16(&mut b, 42 + 2 * i, *d);
    }
    expect_err(&b, "promises");
}

#[test]
fn header_promising_more_voxels_than_the_file_holds() {
    let b = valid_plain();
    let cut = &b[..b.len() - 11];
    let e = expect_err(cut, "promises 120 voxels");
    assert!(matches!(e, NiftiError::Truncated(_)));
    assert!(e.to_string().contains("holds only 229 bytes"), "{e}");
}

#[test]
fn truncated_gzip_at_every_length_errors_without_panicking() {
    let gz = gzip(&valid_plain());
    for n in 0..gz.len() - 1 {
        let e = read_nifti_bytes(&gz[..n]).expect_err("truncated gzip must fail");
        assert!(!e.to_string().contains('\n'));
    }
    let plain = valid_plain();
    for n in 0..plain.len() {
        assert!(
            read_nifti_bytes(&plain[..n]).is_err(),
            "plain cut at {n} accepted"
        );
    }
}

#[test]
fn corrupt_gzip_is_reported_as_such() {
    let mut gz = gzip(&valid_plain());
    // Damage the CRC-32 trailer: the data decodes but the checksum no longer matches.
    let n = gz.len();
    gz[n - 8] ^= 0xff;
    let e = read_nifti_bytes(&gz).unwrap_err();
    assert!(matches!(e, NiftiError::CorruptGzip(_)), "{e}");
    // A gzip header followed by garbage.
    let mut junk = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    junk.extend((0..400u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    let e = read_nifti_bytes(&junk).unwrap_err();
    assert!(
        matches!(e, NiftiError::CorruptGzip(_) | NiftiError::Truncated(_)),
        "{e}"
    );
    assert!(!e.to_string().contains('\n'));
}

#[test]
fn unsupported_datatypes() {
    for (code, name) in [
        (32i16, "complex64"),
        (128, "rgb24"),
        (1536, "float128"),
        (7, "not a NIfTI type"),
    ] {
        let mut b = valid_plain();
        set_i16(&mut b, 70, code);
        let e = expect_err(&b, name);
        assert!(matches!(e, NiftiError::UnsupportedDatatype { .. }), "{e}");
    }
}

#[test]
fn data_offset_inside_the_header_and_zero_offset() {
    let mut b = valid_plain();
    set_f32(&mut b, 108, 100.0);
    expect_err(&b, "inside the 348-byte header");
    set_f32(&mut b, 108, 352.5);
    expect_err(&b, "not a valid byte position");
    set_f32(&mut b, 108, 0.0);
    let img = read_nifti_bytes(&b).unwrap();
    assert!(
        img.warnings.iter().any(|w| w.contains("vox_offset")),
        "{:?}",
        img.warnings
    );
    assert_eq!(img.volume.get_f64(0, 0, 0), -100.0);
}

#[test]
fn sheared_affine_without_qform_is_refused() {
    let mut b = valid_plain();
    set_i16(&mut b, 252, 0); // qform_code
    set_f32(&mut b, 284, 0.5); // srow_x[1]: shear
    let e = expect_err(&b, "sheared");
    assert!(matches!(e, NiftiError::BadOrientation(_)));
    // An empty or non-finite sform is no orientation at all: pixdim fallback, with warnings saying so.
    for bad in [f32::NAN, 0.0] {
        for r in 0..3 {
            set_f32(&mut b, 280 + 20 * r, bad); // diagonal srow entries
        }
        let img = read_nifti_bytes(&b).unwrap();
        assert_eq!(img.info.geometry_source, GeometrySource::PixdimOnly);
        assert!(
            img.warnings.iter().any(|w| w.contains("sform is empty")),
            "{:?}",
            img.warnings
        );
        assert!(
            img.warnings.iter().any(|w| w.contains("no orientation")),
            "{:?}",
            img.warnings
        );
        assert_eq!(img.volume.geometry().spacing_mm, [1.0, 1.0, 2.0]);
    }
}

#[test]
fn float64_beyond_float32_range_is_an_error_not_infinity() {
    let mut b = valid_plain();
    b.truncate(352);
    set_i16(&mut b, 70, 64);
    set_i16(&mut b, 72, 64);
    let mut vals = vec![0.0f64; 120];
    vals[7] = 1e300;
    for v in vals {
        b.extend_from_slice(&v.to_le_bytes());
    }
    expect_err(&b, "outside the float32 range");
}

#[test]
fn malformed_extension_warns_and_the_image_still_reads() {
    let mut b = valid_plain();
    b[348] = 1; // extension flag set, but bytes 352.. are voxel data, not an extension…
    set_f32(&mut b, 108, 368.0); // …and the data "starts" 16 bytes later: esize is garbage.
    b.extend_from_slice(&[0; 16]);
    let img = read_nifti_bytes(&b).unwrap();
    assert!(
        img.warnings
            .iter()
            .any(|w| w.contains("malformed header extension")),
        "{:?}",
        img.warnings
    );
}

#[test]
fn four_d_reads_the_first_volume_and_checks_the_rest_exists() {
    let mut b = valid_plain();
    set_i16(&mut b, 40, 4);
    set_i16(&mut b, 48, 3); // dim[4] = 3 volumes
    let data = b[352..].to_vec();
    b.extend_from_slice(&data);
    b.extend_from_slice(&data);
    for bytes in [b.clone(), gzip(&b)] {
        let img = read_nifti_bytes(&bytes).unwrap();
        assert_eq!(img.info.dims, vec![6, 5, 4, 3]);
        assert!(
            img.warnings.iter().any(|w| w.contains("only the first")),
            "{:?}",
            img.warnings
        );
        assert_eq!(img.volume.get_f64(5, 4, 3), 119.0 * 3.0 - 100.0);
    }
    b.truncate(b.len() - 10);
    let e = read_nifti_bytes(&b).unwrap_err();
    assert!(e.to_string().contains("3 volumes"), "{e}");
}

#[test]
fn missing_file_is_an_io_error_naming_the_path() {
    let e = read_nifti("/nonexistent/dir/x.nii.gz").unwrap_err();
    assert!(matches!(e, NiftiError::Io { .. }));
    assert!(e.to_string().contains("/nonexistent/dir/x.nii.gz"), "{e}");
}

#[test]
fn file_and_bytes_readers_agree_on_a_truncated_gzip_file() {
    let dir = tempfile::tempdir().unwrap();
    let gz = gzip(&valid_plain());
    let p = dir.path().join("cut.nii.gz");
    std::fs::write(&p, &gz[..gz.len() / 2]).unwrap();
    let e = read_nifti(&p).unwrap_err();
    assert!(
        matches!(e, NiftiError::Truncated(_) | NiftiError::CorruptGzip(_)),
        "{e}"
    );
    // A plain file named .gz is still read (gzip is detected by content, not by name).
    let p = dir.path().join("plain.nii.gz");
    std::fs::write(&p, valid_plain()).unwrap();
    assert!(!read_nifti(&p).unwrap().info.compressed);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random byte damage anywhere (header, flag, voxels; plain or gzip) never panics.
    #[test]
    fn random_damage_never_panics(edits in prop::collection::vec((0usize..600, any::<u8>()), 1..6), compress in any::<bool>()) {
        let mut b = valid_plain();
        if compress {
            b = gzip(&b);
        }
        let n = b.len();
        for (pos, val) in edits {
            b[pos % n] = val;
        }
        if let Err(e) = read_nifti_bytes(&b) {
            prop_assert!(!e.to_string().contains('\n'));
        }
    }
}
