//! DICOM SEG reading on small Segmentation objects written here with dicom-rs (independent of the reader).

use spinekit_dicom::{describe_dicom_case, read_segmentation, DicomError, SegmentationKind};
use spinekit_testdata::seg::{write_seg, Frame};

/// The fixtures' SEG series and the series it references.
const UIDS: (&str, &str) = ("2.25.1001", "2.25.555");

/// 3 rows × 5 columns: 15 pixels per frame, so BINARY frames straddle byte boundaries.
fn frame(segment: u16, ipp: [f64; 3], on: &[(usize, usize)]) -> Frame {
    let mut pixels = vec![0u8; 15];
    for &(r, c) in on {
        pixels[r * 5 + c] = 1;
    }
    Frame {
        segment,
        ipp,
        pixels,
    }
}

#[test]
fn binary_seg_gives_labels_on_its_own_frame_geometry() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("seg.dcm");
    // Sagittal frames: rows run to -z (inferior), columns to +y (posterior); normal = row × col = (−1, 0, 0)·…
    let iop = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0];
    let x = |k: f64| [10.0 - 2.0 * k, -20.0, 50.0];
    write_seg(
        &p,
        UIDS,
        false,
        3,
        5,
        iop,
        [0.8, 0.6],
        &[(1, "L3"), (2, "L4 vertebra")],
        &[
            // Listed out of order; slice k = 1 is empty and left out (sparse SEG).
            frame(2, x(2.0), &[(2, 4)]),
            frame(1, x(0.0), &[(0, 0), (1, 2)]),
            frame(2, x(0.0), &[(1, 2), (2, 3)]), // (1,2) overlaps segment 1
            frame(1, x(3.0), &[(0, 4)]),
        ],
    );
    let seg = read_segmentation(&p).unwrap();
    assert_eq!(seg.kind, SegmentationKind::Binary);
    assert_eq!(
        seg.segments
            .iter()
            .map(|s| (s.number, s.label.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "L3"), (2, "L4 vertebra")]
    );
    let v = &seg.labels;
    assert_eq!(v.dims(), [5, 3, 4]);
    let g = v.geometry();
    assert_eq!(g.spacing_mm, [0.6, 0.8, 2.0]);
    assert_eq!(g.direction[0], [0.0, 1.0, 0.0]);
    assert_eq!(g.direction[1], [0.0, 0.0, -1.0]);
    // row × col = (0,1,0) × (0,0,−1) = (−1, 0, 0): frames at decreasing x are increasing k.
    assert_eq!(g.direction[2], [-1.0, 0.0, 0.0]);
    assert_eq!(g.origin_mm, [10.0, -20.0, 50.0]);
    // Voxel (i = column, j = row, k).
    assert_eq!(v.get(0, 0, 0), 1);
    assert_eq!(v.get(2, 1, 0), 1, "overlap keeps the lower segment number");
    assert_eq!(v.get(3, 2, 0), 2);
    assert_eq!(v.get(4, 2, 2), 2);
    assert_eq!(v.get(4, 0, 3), 1);
    assert_eq!(v.data().iter().filter(|x| **x != 0).count(), 5);
    assert_eq!(seg.overlapping_voxels, 1);
    assert_eq!(seg.referenced_series_uids, vec!["2.25.555".to_string()]);
    // World position of voxel (4, 0, 3): origin + 4·0.6·row + 3·2·normal.
    let w = g.index_to_world([4.0, 0.0, 3.0]);
    assert!((w[0] - 4.0).abs() < 1e-9 && (w[1] + 17.6).abs() < 1e-9 && (w[2] - 50.0).abs() < 1e-9);

    // The folder holding it reads the same, and describes itself as a SEG referencing its source series.
    let again = read_segmentation(t.path()).unwrap();
    assert_eq!(again.labels.data(), v.data());
    let info = describe_dicom_case(t.path()).unwrap();
    assert!(info.is_segmentation);
    assert_eq!(info.series_uid, "2.25.1001");
    assert_eq!(info.referenced_series_uids, vec!["2.25.555".to_string()]);
    assert_eq!(info.manufacturer, "test writer");
}

#[test]
fn fractional_seg_thresholds_at_half_the_maximum() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("frac.dcm");
    let mut pixels = vec![0u8; 15];
    pixels[0] = 99; // < 100 = 200/2: out
    pixels[1] = 100; // on
    pixels[14] = 200; // on
    write_seg(
        &p,
        UIDS,
        true,
        3,
        5,
        [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        [1.0, 1.0],
        &[(7, "T12")],
        &[Frame {
            segment: 7,
            ipp: [0.0, 0.0, 0.0],
            pixels,
        }],
    );
    let seg = read_segmentation(&p).unwrap();
    assert_eq!(seg.kind, SegmentationKind::Fractional { max_value: 200 });
    assert_eq!(seg.labels.dims(), [5, 3, 1]);
    let on: Vec<usize> = (0..15).filter(|&i| seg.labels.data()[i] == 7).collect();
    assert_eq!(on, vec![1, 14]);
}

#[test]
fn bad_segs_give_one_line_errors() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("bad.dcm");
    // A frame that refers to an undefined segment.
    write_seg(
        &p,
        UIDS,
        false,
        3,
        5,
        [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        [1.0, 1.0],
        &[(1, "L1")],
        &[frame(3, [0.0, 0.0, 0.0], &[(0, 0)])],
    );
    let e = read_segmentation(&p).unwrap_err().to_string();
    assert!(e.contains("segment 3") && !e.contains('\n'), "{e}");
    // Frames that do not stack (half a step apart).
    write_seg(
        &p,
        UIDS,
        false,
        3,
        5,
        [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        [1.0, 1.0],
        &[(1, "L1")],
        &[
            frame(1, [0.0, 0.0, 0.0], &[(0, 0)]),
            frame(1, [0.0, 0.0, 2.0], &[(0, 0)]),
            frame(1, [0.0, 0.0, 3.3], &[(0, 0)]),
        ],
    );
    let e = read_segmentation(&p).unwrap_err().to_string();
    assert!(e.contains("between slices"), "{e}");
    // A folder without any SEG.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("x.txt"), "hello").unwrap();
    assert!(matches!(
        read_segmentation(empty.path()),
        Err(DicomError::NoDicomInFolder { .. })
    ));
}
