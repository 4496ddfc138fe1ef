//! Files written by an independent implementation (nibabel 5, Python) and embedded as bytes, plus cross-checks
//! of byte order, NIfTI-2, units and scaling against the values nibabel reports for them.

mod common;

use common::{hex, max_abs_diff};
use spinekit_image::AnyVolume;
use spinekit_nifti::{nifti_bytes, read_nifti_bytes, GeometrySource, NiftiVersion, WriteOptions};

/// `nib.Nifti2Image(np.arange(24, dtype=int16).reshape((4,3,2), order="F") - 5, A)` with
/// A = [Rz(0.3) · diag(0.7, 0.8, 2.5) | (-800.25, 1200.5, -1500.125)], sform and qform code 1,
/// `set_slope_inter(2.0, -10.0)`, units mm; little-endian, uncompressed (592 bytes).
const NIFTI2_INT16_SCALED: &[&str] = &[
    "1c0200006e2b32000d0a1a0a040010000300000000000000040000000000000003000000000000000200000000000000",
    "010000000000000001000000000000000100000000000000010000000000000000000000000000000000000000000000",
    "0000000000000000000000000000f03f656666666666e63f9a9999999999e93f0000000000000440000000000000f03f",
    "000000000000f03f000000000000f03f000000000000f03f2002000000000000000000000000004000000000000024c0",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000001000000010000000000000000000000000000000000000022eddfe9c920c33f00000000000289c0",
    "0000000000c2924000000000807097c09b5387144866e53f85c32a89e242cebf000000000000000000000000000289c0",
    "146b0538867aca3ffc3abfa9e474e83f00000000000000000000000000c2924000000000000000000000000000000000",
    "000000000000044000000000807097c00000000002000000000000000000000000000000000000000000000000000000",
    "00000000000000000000000000000000fbfffcfffdfffeffffff00000100020003000400050006000700080009000a00",
    "0b000c000d000e000f00100011001200",
];

/// `nib.Nifti1Header(endianness=">")`, float64 data `np.arange(24).reshape((4,3,2), order="F") * 0.5`,
/// qform only (code 1, sform code 0) from diag(-0.001, 0.002, 0.003) + (0.1, -0.2, 0.3), units metre (544 bytes).
const NIFTI1_BIG_ENDIAN_F64_QFORM_METRES: &[&str] = &[
    "0000015c0000000000000000000000000000000000000000000000000000000000000000000000000003000400030002",
    "00010001000100010000000000000000000000000000004000400000bf8000003a83126f3b03126f3b449ba63f800000",
    "3f8000003f8000003f80000043b000003f80000000000000000000010000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "00000000000000000000000000010000000000003f800000000000003dcccccdbe4ccccd3e99999a0000000000000000",
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "00000000000000006e2b31000000000000000000000000003fe00000000000003ff00000000000003ff8000000000000",
    "400000000000000040040000000000004008000000000000400c00000000000040100000000000004012000000000000",
    "401400000000000040160000000000004018000000000000401a000000000000401c000000000000401e000000000000",
    "402000000000000040210000000000004022000000000000402300000000000040240000000000004025000000000000",
    "40260000000000004027000000000000",
];

fn bytes(lines: &[&str]) -> Vec<u8> {
    hex(&lines.concat())
}

#[test]
fn nibabel_nifti2_with_scaling_reads_like_nibabel() {
    let img = read_nifti_bytes(&bytes(NIFTI2_INT16_SCALED)).unwrap();
    assert_eq!(img.info.version, NiftiVersion::Two);
    assert!(img.info.little_endian);
    assert_eq!(img.info.datatype, "int16");
    assert!(img.info.scaling_applied);
    assert_eq!(img.info.geometry_source, GeometrySource::Sform);
    assert!(img.warnings.is_empty(), "{:?}", img.warnings);
    // Integral slope 2 / intercept -10 on int16 stays integer (I16): nibabel get_fdata() gives -20, -18, ...
    let AnyVolume::I16(v) = &img.volume else {
        panic!("expected I16, got {:?}", img.volume.voxel_type())
    };
    assert_eq!(&v.data()[..6], &[-20, -18, -16, -14, -12, -10]);
    assert_eq!(v.get(3, 2, 1), 2 * 18 - 10);
    let g = v.geometry();
    // nibabel: diag(-1,-1,1,1) @ affine @ [i,j,k,1].
    for (idx, want) in [
        ([0.0, 0.0, 0.0], [800.25, -1200.5, -1500.125]),
        (
            [3.0, 2.0, 1.0],
            [798.7166257034943, -1202.6491308165898, -1497.625],
        ),
    ] {
        let got = g.index_to_world(idx);
        assert!(
            max_abs_diff(got, want) < 1e-9,
            "{idx:?}: {got:?} vs {want:?}"
        );
    }
    assert!((g.spacing_mm[0] - 0.7).abs() < 1e-12 && (g.spacing_mm[2] - 2.5).abs() < 1e-12);
}

#[test]
fn nibabel_big_endian_float64_qform_in_metres_reads_like_nibabel() {
    let raw = bytes(NIFTI1_BIG_ENDIAN_F64_QFORM_METRES);
    let img = read_nifti_bytes(&raw).unwrap();
    assert_eq!(img.info.version, NiftiVersion::One);
    assert!(!img.info.little_endian);
    assert_eq!(img.info.datatype, "float64");
    assert_eq!(img.info.geometry_source, GeometrySource::Qform);
    assert!(img.warnings.is_empty(), "{:?}", img.warnings);
    let AnyVolume::F32(v) = &img.volume else {
        panic!("float64 → F32")
    };
    assert_eq!(&v.data()[..5], &[0.0, 0.5, 1.0, 1.5, 2.0]);
    assert_eq!(v.get(3, 2, 1), 11.5);
    // nibabel affine (metres) × 1000, RAS → LPS.
    let g = v.geometry();
    for (idx, want) in [
        (
            [0.0, 0.0, 0.0],
            [-100.00000149011612, 200.00000298023224, 300.00001192092896],
        ),
        (
            [3.0, 2.0, 1.0],
            [-97.00000134762377, 196.00000279024243, 303.000011947006],
        ),
    ] {
        let got = g.index_to_world(idx);
        assert!(
            max_abs_diff(got, want) < 1e-9,
            "{idx:?}: {got:?} vs {want:?}"
        );
    }
    assert_eq!(g.orientation_code().to_string(), "LAS");

    // The same bytes gzip-compressed (by spinekit's writer path: compress the raw file) read the same.
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&raw).unwrap();
    let gz = read_nifti_bytes(&enc.finish().unwrap()).unwrap();
    assert!(gz.info.compressed);
    assert_eq!(gz.volume, img.volume);
}

#[test]
fn spinekit_nifti2_output_reads_back_like_the_nibabel_fixture() {
    let img = read_nifti_bytes(&bytes(NIFTI2_INT16_SCALED)).unwrap();
    let opts = WriteOptions {
        version: NiftiVersion::Two,
        ..WriteOptions::default()
    };
    let again = read_nifti_bytes(&nifti_bytes(&img.volume, None, &opts, false).unwrap()).unwrap();
    assert_eq!(again.info.version, NiftiVersion::Two);
    assert_eq!(again.volume, img.volume);
}
