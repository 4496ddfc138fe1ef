//! Reference values come from SimpleITK 2.5.7 / ITK 5.4 (`tests/fixtures/generate.py`, run once; the fixtures
//! are the files SimpleITK wrote, and the literals below are what SimpleITK's GetPixel and
//! TransformIndexToPhysicalPoint printed for them).

use spinekit_image::{AnyVolume, Geometry, Volume};
use spinekit_metaimage::{
    read_metaimage, read_metaimage_header, write_mha, write_mha_any, Compression, DataLocation,
    ElementType, MetaImageError,
};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn close(a: [f64; 3], b: [f64; 3], tol: f64) -> bool {
    (0..3).all(|i| (a[i] - b[i]).abs() <= tol)
}

/// SimpleITK's TransformIndexToPhysicalPoint for the oblique fixture's corner voxels.
const OBLIQUE_WORLD: [([usize; 3], [f64; 3]); 5] = [
    ([0, 0, 0], [-12.5, 30.25, 100.0]),
    (
        [4, 0, 0],
        [-10.01828533908503, 31.375274639999745, 99.35591201969518],
    ),
    (
        [0, 3, 0],
        [-13.930938817534633, 33.80897999383747, 100.7043262766199],
    ),
    (
        [0, 0, 2],
        [-11.087519810649333, 29.871663757404026, 104.7813974319471],
    ),
    (
        [4, 3, 2],
        [-10.036743967268997, 34.55591839124124, 104.84163572826218],
    ),
];

/// SimpleITK GetPixel for the same voxels.
const OBLIQUE_VALUES: [i16; 5] = [-500, -352, 55, 980, 1683];

fn check_oblique(v: &AnyVolume) {
    let AnyVolume::I16(v) = v else {
        panic!("MET_SHORT must read as i16, got {:?}", v.voxel_type())
    };
    assert_eq!(v.dims(), [5, 4, 3]);
    let g = v.geometry();
    assert_eq!(g.spacing_mm, [0.7, 1.3, 2.5]);
    assert_eq!(g.origin_mm, [-12.5, 30.25, 100.0]);
    // Axis 0 direction = first column of SimpleITK's GetDirection() (row-major list).
    assert!(close(
        g.direction[0],
        [0.886326664612489, 0.40188379999990925, -0.23003142153743583],
        1e-15
    ));
    assert!(close(
        g.direction[1],
        [-0.3669073891114443, 0.9125589727788377, 0.18059648118458965],
        1e-15
    ));
    for ((idx, w), val) in OBLIQUE_WORLD.iter().zip(OBLIQUE_VALUES) {
        let got = v.voxel_to_world(*idx);
        assert!(
            close(got, *w, 1e-9),
            "voxel {idx:?}: {got:?} vs SimpleITK {w:?}"
        );
        assert_eq!(v.get(idx[0], idx[1], idx[2]), val, "voxel {idx:?}");
    }
    // Every voxel follows the generator's formula (numpy arange in z, y, x order).
    for k in 0..3 {
        for j in 0..4 {
            for i in 0..5 {
                assert_eq!(
                    v.get(i, j, k) as i32,
                    ((k * 4 + j) * 5 + i) as i32 * 37 - 500
                );
            }
        }
    }
}

#[test]
fn reads_simpleitk_oblique_mha() {
    let v = read_metaimage(fixture("oblique_short.mha")).unwrap();
    check_oblique(&v);
    let h = read_metaimage_header(fixture("oblique_short.mha")).unwrap();
    assert_eq!(h.element_type, ElementType::Short);
    assert_eq!(h.anatomical_orientation.as_deref(), Some("RAI"));
    assert!(matches!(h.data, DataLocation::Local { offset } if offset == 610 - 120));
}

#[test]
fn reads_simpleitk_zlib_mha() {
    let h = read_metaimage_header(fixture("oblique_short_zlib.mha")).unwrap();
    assert!(h.compressed);
    assert_eq!(h.compressed_size, Some(131));
    let v = read_metaimage(fixture("oblique_short_zlib.mha")).unwrap();
    check_oblique(&v);
}

#[test]
fn reads_simpleitk_mhd_with_raw() {
    let h = read_metaimage_header(fixture("oblique_short.mhd")).unwrap();
    assert_eq!(h.data, DataLocation::File(fixture("oblique_short.raw")));
    check_oblique(&read_metaimage(fixture("oblique_short.mhd")).unwrap());
}

#[test]
fn reads_permuted_flipped_double_as_f32() {
    let v = read_metaimage(fixture("permuted_double_zlib.mha")).unwrap();
    let AnyVolume::F32(v) = v else {
        panic!("MET_DOUBLE must read as f32")
    };
    assert_eq!(v.dims(), [4, 3, 2]);
    assert_eq!(v.geometry().orientation_code().to_string(), "ILP");
    assert_eq!(v.get(0, 0, 0), -1.0);
    assert_eq!(v.get(3, 2, 1), 1.875);
    assert!(close(v.voxel_to_world([0, 0, 0]), [1.0, -2.0, 3.0], 1e-12));
    assert!(close(v.voxel_to_world([3, 2, 1]), [2.0, 2.0, -1.5], 1e-12));
    for k in 0..2 {
        for j in 0..3 {
            for i in 0..4 {
                assert_eq!(v.get(i, j, k), ((k * 3 + j) * 4 + i) as f32 * 0.125 - 1.0);
            }
        }
    }
}

#[test]
fn reads_uint_beyond_u16_as_i32() {
    let AnyVolume::I32(v) = read_metaimage(fixture("uint.mha")).unwrap() else {
        panic!("MET_UINT → i32")
    };
    assert_eq!(v.dims(), [3, 2, 2]);
    let expect: Vec<i32> = (0..12).map(|n| n * 10000).collect();
    assert_eq!(v.data(), &expect[..]);
}

#[test]
fn reads_2d_as_one_slice_volume() {
    let AnyVolume::I16(v) = read_metaimage(fixture("two_d.mha")).unwrap() else {
        panic!("i16")
    };
    assert_eq!(v.dims(), [4, 3, 1]);
    assert_eq!(v.get(3, 2, 0), 11);
    // SimpleITK: TransformIndexToPhysicalPoint((3, 2)) = (4.6, 2.5).
    assert!(close(v.voxel_to_world([3, 2, 0]), [4.6, 2.5, 0.0], 1e-12));
    assert_eq!(v.geometry().direction[2], [0.0, 0.0, 1.0]);
}

/// Writes a header from literal text followed by `data` (for hand-made cases SimpleITK cannot write).
fn handmade(dir: &Path, name: &str, header: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    let mut bytes = header.as_bytes().to_vec();
    bytes.extend_from_slice(data);
    std::fs::write(&p, bytes).unwrap();
    p
}

const SMALL_HEADER: &str =
    "ObjectType = Image\nNDims = 3\nDimSize = 2 2 1\nElementSpacing = 1 2 3\n";

#[test]
fn reads_big_endian_and_crlf_and_synonyms() {
    let dir = tempfile::tempdir().unwrap();
    let vals: [u16; 4] = [1, 258, 65535, 4096];
    let be: Vec<u8> = vals.iter().flat_map(|v| v.to_be_bytes()).collect();
    let hdr = "ObjectType = Image\r\nNDims = 3\r\nDimSize = 2 2 1\r\nElementSize = 0.5 0.5 2\r\n\
               Position = 1 2 3\r\nOrientation = -1 0 0 0 -1 0 0 0 1\r\nElementByteOrderMSB = True\r\n\
               ElementType = MET_USHORT\r\nElementDataFile = LOCAL\r\n";
    let p = handmade(dir.path(), "be.mha", hdr, &be);
    let AnyVolume::U16(v) = read_metaimage(&p).unwrap() else {
        panic!("u16")
    };
    assert_eq!(v.data(), &vals);
    assert_eq!(v.geometry().spacing_mm, [0.5, 0.5, 2.0]);
    assert_eq!(v.geometry().origin_mm, [1.0, 2.0, 3.0]);
    assert_eq!(v.geometry().orientation_code().to_string(), "RAS");
}

#[test]
fn reads_mhd_header_size_and_gzip_zraw() {
    let dir = tempfile::tempdir().unwrap();
    let vals: [i16; 4] = [-1024, 0, 7, 3000];
    let le: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
    // Explicit HeaderSize: 16 junk bytes before the data.
    let mut raw = vec![0xAAu8; 16];
    raw.extend_from_slice(&le);
    std::fs::write(dir.path().join("a.raw"), &raw).unwrap();
    let h = format!(
        "{SMALL_HEADER}HeaderSize = 16\nElementType = MET_SHORT\nElementDataFile = a.raw\n"
    );
    let p = handmade(dir.path(), "a.mhd", &h, &[]);
    let AnyVolume::I16(v) = read_metaimage(&p).unwrap() else {
        panic!("i16")
    };
    assert_eq!(v.data(), &vals);
    // HeaderSize = -1: data are the last bytes of the file.
    let h = format!(
        "{SMALL_HEADER}HeaderSize = -1\nElementType = MET_SHORT\nElementDataFile = a.raw\n"
    );
    let p = handmade(dir.path(), "b.mhd", &h, &[]);
    let AnyVolume::I16(v) = read_metaimage(&p).unwrap() else {
        panic!("i16")
    };
    assert_eq!(v.data(), &vals);
    // gzip-compressed separate file.
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&le).unwrap();
    std::fs::write(dir.path().join("c.zraw"), enc.finish().unwrap()).unwrap();
    let h = format!(
        "{SMALL_HEADER}CompressedData = True\nElementType = MET_SHORT\nElementDataFile = c.zraw\n"
    );
    let p = handmade(dir.path(), "c.mhd", &h, &[]);
    let AnyVolume::I16(v) = read_metaimage(&p).unwrap() else {
        panic!("i16")
    };
    assert_eq!(v.data(), &vals);
}

#[test]
fn round_trips_every_voxel_type_with_and_without_compression() {
    let dir = tempfile::tempdir().unwrap();
    let src = read_metaimage(fixture("oblique_short.mha")).unwrap();
    let AnyVolume::I16(ref s) = src else { panic!() };
    let g = *s.geometry();
    let vols = [
        src.clone(),
        AnyVolume::U8(s.map(|x| (x as i32 + 500).rem_euclid(256) as u8)),
        AnyVolume::U16(s.map(|x| (x as i32 + 40000) as u16)),
        AnyVolume::I32(s.map(|x| x as i32 * 100_000)),
        AnyVolume::F32(s.map(|x| x as f32 / 3.0)),
    ];
    for c in [Compression::None, Compression::Zlib] {
        for v in &vols {
            let p = dir.path().join("rt.mha");
            write_mha_any(&p, v, c).unwrap();
            let back = read_metaimage(&p).unwrap();
            assert_eq!(&back, v, "{:?} {c:?}", v.voxel_type());
            assert_eq!(back.geometry(), &g, "geometry must survive bit-exactly");
        }
    }
    // Only the final file remains: no temporary left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("rt.mha")]);
}

#[test]
fn written_header_matches_itk_layout() {
    let dir = tempfile::tempdir().unwrap();
    let src = read_metaimage(fixture("permuted_double_zlib.mha")).unwrap();
    let p = dir.path().join("w.mha");
    write_mha_any(&p, &src, Compression::Zlib).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    let text =
        String::from_utf8_lossy(&bytes[..bytes.windows(5).position(|w| w == b"LOCAL").unwrap()])
            .to_string();
    // Same TransformMatrix / AnatomicalOrientation text as SimpleITK wrote for this geometry.
    assert!(
        text.contains("TransformMatrix = 0 0 -1 1 0 0 0 1 0\n"),
        "{text}"
    );
    assert!(text.contains("AnatomicalOrientation = SRA\n"), "{text}");
    assert!(text.contains("Offset = 1 -2 3\n"), "{text}");
    assert!(text.contains("ElementType = MET_FLOAT\n"), "{text}");
    assert!(
        text.contains("CompressedData = True\nCompressedDataSize = "),
        "{text}"
    );
}

#[test]
fn write_into_missing_folder_is_an_error() {
    let v: Volume<u8> = Volume::zeros([2, 2, 2], Geometry::default()).unwrap();
    let e = write_mha("/nonexistent-spinekit-dir/x.mha", &v, Compression::None).unwrap_err();
    assert!(matches!(e, MetaImageError::Io { .. }), "{e}");
}

/// Asserts an error of the expected kind with a one-line message.
fn expect_err(r: Result<AnyVolume, MetaImageError>, ok: fn(&MetaImageError) -> bool) {
    let e = r.expect_err("bad input must be refused");
    let msg = e.to_string();
    assert!(ok(&e), "unexpected error kind: {msg}");
    assert!(
        !msg.contains('\n') && !msg.is_empty(),
        "message must be one line: {msg:?}"
    );
}

#[test]
fn bad_input_corpus_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = std::fs::read(fixture("oblique_short.mha")).unwrap();
    let goodz = std::fs::read(fixture("oblique_short_zlib.mha")).unwrap();
    let data4 = [0u8; 8];
    let tail = "ElementType = MET_SHORT\nElementDataFile = LOCAL\n";

    // Truncated uncompressed data: one byte short.
    let p = handmade(d, "t1.mha", "", &good[..good.len() - 1]);
    expect_err(read_metaimage(&p), |e| {
        matches!(
            e,
            MetaImageError::Truncated {
                expected: 120,
                got: 119
            }
        )
    });
    // Truncated compressed stream.
    let p = handmade(d, "t2.mha", "", &goodz[..goodz.len() - 40]);
    expect_err(read_metaimage(&p), |e| {
        matches!(
            e,
            MetaImageError::Truncated { .. } | MetaImageError::Corrupt(_)
        )
    });
    // Header cut before ElementDataFile.
    let p = handmade(d, "t3.mha", "", &good[..100]);
    expect_err(read_metaimage(&p), |e| {
        matches!(
            e,
            MetaImageError::MissingKey("ElementDataFile") | MetaImageError::NotMetaImage(_)
        )
    });
    // Corrupt zlib payload.
    let mut bad = goodz.clone();
    let n = bad.len();
    for b in &mut bad[n - 100..n - 10] {
        *b ^= 0x5A;
    }
    let p = handmade(d, "t4.mha", "", &bad);
    expect_err(read_metaimage(&p), |e| {
        matches!(
            e,
            MetaImageError::Corrupt(_) | MetaImageError::Truncated { .. }
        )
    });
    // Missing keys.
    for (name, hdr, key) in [
        (
            "k1.mha",
            format!("NDims = 3\nElementSpacing = 1 1 1\n{tail}"),
            "DimSize",
        ),
        ("k2.mha", format!("DimSize = 2 2 1\n{tail}"), "NDims"),
        (
            "k3.mha",
            "NDims = 3\nDimSize = 2 2 1\nElementDataFile = LOCAL\n".to_string(),
            "ElementType",
        ),
    ] {
        let p = handmade(d, name, &hdr, &data4);
        let e = read_metaimage(&p).unwrap_err();
        assert!(
            matches!(e, MetaImageError::MissingKey(k) if k == key),
            "{name}: {e}"
        );
    }
    // Missing raw file.
    let p = handmade(
        d,
        "m.mhd",
        &format!("{SMALL_HEADER}ElementType = MET_SHORT\nElementDataFile = gone.raw\n"),
        &[],
    );
    expect_err(read_metaimage(&p), |e| {
        matches!(e, MetaImageError::DataFileMissing(_))
    });
    // Zero and absurd dimensions (refused before any allocation).
    let p = handmade(
        d,
        "z.mha",
        &format!("NDims = 3\nDimSize = 2 0 1\n{tail}"),
        &data4,
    );
    expect_err(read_metaimage(&p), |e| {
        matches!(e, MetaImageError::BadValue { key: "DimSize", .. })
    });
    let p = handmade(
        d,
        "huge.mha",
        &format!("NDims = 3\nDimSize = 100000 100000 100000\n{tail}"),
        &data4,
    );
    expect_err(read_metaimage(&p), |e| {
        matches!(e, MetaImageError::TooLarge { .. })
    });
    let p = handmade(
        d,
        "big.mha",
        &format!("NDims = 3\nDimSize = 1000 1000 1000\n{tail}"),
        &data4,
    );
    expect_err(read_metaimage(&p), |e| {
        matches!(
            e,
            MetaImageError::Truncated {
                expected: 2_000_000_000,
                got: 8
            }
        )
    });
    let p = handmade(
        d,
        "bigz.mha",
        "NDims = 3\nDimSize = 1000 1000 1000\nCompressedData = True\nElementType = MET_SHORT\nElementDataFile = LOCAL\n",
        &goodz[goodz.len() - 131..],
    );
    expect_err(read_metaimage(&p), |e| {
        matches!(e, MetaImageError::Truncated { .. })
    });
    // Unsupported things.
    for (name, hdr) in [
        (
            "u1.mha",
            "NDims = 3\nDimSize = 2 2 1\nElementType = MET_FLOAT_ARRAY\nElementDataFile = LOCAL\n"
                .to_string(),
        ),
        (
            "u2.mha",
            "NDims = 4\nDimSize = 2 2 1 1\nElementType = MET_SHORT\nElementDataFile = LOCAL\n"
                .to_string(),
        ),
        (
            "u3.mha",
            format!("NDims = 3\nDimSize = 2 2 1\nBinaryData = False\n{tail}"),
        ),
        (
            "u4.mha",
            format!("NDims = 3\nDimSize = 2 2 1\nElementNumberOfChannels = 3\n{tail}"),
        ),
        (
            "u5.mha",
            "NDims = 3\nDimSize = 2 2 1\nElementType = MET_SHORT\nElementDataFile = LIST\n"
                .to_string(),
        ),
        (
            "u6.mha",
            format!("ObjectType = Mesh\nNDims = 3\nDimSize = 2 2 1\n{tail}"),
        ),
    ] {
        let p = handmade(d, name, &hdr, &data4);
        expect_err(read_metaimage(&p), |e| {
            matches!(e, MetaImageError::Unsupported(_))
        });
    }
    // Bad geometry and values.
    let p = handmade(
        d,
        "g1.mha",
        &format!("NDims = 3\nDimSize = 2 2 1\nTransformMatrix = 1 0 0 1 0 0 0 0 1\n{tail}"),
        &data4,
    );
    expect_err(read_metaimage(&p), |e| {
        matches!(e, MetaImageError::Geometry(_))
    });
    let p = handmade(
        d,
        "g2.mha",
        &format!("NDims = 3\nDimSize = 2 2 1\nElementSpacing = 1 0 1\n{tail}"),
        &data4,
    );
    expect_err(read_metaimage(&p), |e| {
        matches!(e, MetaImageError::BadValue { .. })
    });
    let p = handmade(
        d,
        "g3.mha",
        &format!("NDims = 3\nDimSize = 2 2 1\nElementSpacing = 1 1\n{tail}"),
        &data4,
    );
    expect_err(read_metaimage(&p), |e| {
        matches!(e, MetaImageError::BadValue { .. })
    });
    let p = handmade(
        d,
        "g4.mha",
        &format!("NDims = 3\nDimSize = 2 2 1\nOffset = 1 nan 1\n{tail}"),
        &data4,
    );
    expect_err(read_metaimage(&p), |e| {
        matches!(e, MetaImageError::BadValue { .. })
    });
    // MET_UINT value that does not fit i32 is refused, not clipped.
    let big: Vec<u8> = [1u32, 2, 3, 3_000_000_000]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let p = handmade(
        d,
        "r.mha",
        "NDims = 3\nDimSize = 2 2 1\nElementType = MET_UINT\nElementDataFile = LOCAL\n",
        &big,
    );
    expect_err(read_metaimage(&p), |e| {
        matches!(e, MetaImageError::ValueRange { .. })
    });
    // Not a MetaImage at all: a PNG signature, and an empty file.
    let p = handmade(d, "png.mha", "", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe");
    expect_err(read_metaimage(&p), |e| {
        matches!(e, MetaImageError::NotMetaImage(_))
    });
    let p = handmade(d, "empty.mha", "", &[]);
    expect_err(read_metaimage(&p), |e| {
        matches!(e, MetaImageError::MissingKey("ElementDataFile"))
    });
    // No such file.
    expect_err(read_metaimage(d.join("absent.mha")), |e| {
        matches!(e, MetaImageError::Io { .. })
    });
}
