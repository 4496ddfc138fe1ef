//! Real series from ../shared/data. Reference values were computed independently with pydicom 3 (+ pylibjpeg /
//! openjpeg for JPEG 2000) and nibabel, and are written here as literals.

use spinekit_dicom::{load_2d, load_2d_stack, load_volume, scan, DicomError, SeriesSelector};
use spinekit_image::{AnyVolume, PixelSpacingSource, VoxelType};
use spinekit_testdata::shared_data;

fn close(a: [f64; 3], b: [f64; 3], tol: f64) -> bool {
    (0..3).all(|i| (a[i] - b[i]).abs() <= tol)
}

#[test]
fn ircadb_ct_geometry_order_and_values() {
    let Some(p) = shared_data("ct-ircadb-01/PATIENT_DICOM") else {
        return;
    };
    let s = scan(&p).unwrap();
    assert_eq!(s.series.len(), 1);
    assert_eq!(s.non_dicom_files, 0);
    let sum = &s.series[0];
    assert_eq!((sum.instance_count, sum.rows, sum.cols), (129, 512, 512));
    assert_eq!(sum.transfer_syntax_uid, "1.2.840.10008.1.2.1");
    assert!(
        sum.transfer_syntax_name
            .contains("Explicit VR Little Endian"),
        "{}",
        sum.transfer_syntax_name
    );
    assert!(sum.has_geometry && !sum.is_secondary_capture);

    let l = load_volume(&s, &SeriesSelector::Auto).unwrap();
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    assert!(!l.resampled && l.tilt_deg == 0.0);
    let AnyVolume::I16(v) = &l.volume else {
        panic!("CT should load as i16 HU, got {:?}", l.volume.voxel_type())
    };
    let g = v.geometry();
    println!(
        "ircadb dims {:?} spacing_mm {:?} origin_mm {:?}",
        v.dims(),
        g.spacing_mm,
        g.origin_mm
    );
    assert_eq!(v.dims(), [512, 512, 129]);
    // PixelSpacing "0.569999992847443"; IPP z runs 0 … 204.800003051758 in 128 equal steps (pydicom).
    assert!((g.spacing_mm[0] - 0.569999992847443).abs() < 1e-12);
    assert!((g.spacing_mm[1] - 0.569999992847443).abs() < 1e-12);
    assert!((g.spacing_mm[2] - 204.800003051758 / 128.0).abs() < 1e-9);
    assert_eq!(
        g.direction,
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    );

    // Strictly monotone along direction[2].
    let d2 = g.direction[2];
    let along = |k: usize| {
        let w = v.voxel_to_world([0, 0, k]);
        w[0] * d2[0] + w[1] * d2[1] + w[2] * d2[2]
    };
    assert!((1..129).all(|k| along(k) > along(k - 1)));

    // First/last slice positions equal the IPP of the files holding the extreme positions, found here by reading
    // every header directly (pydicom: image_0 at z = 0, image_128 at z = 204.800003051758).
    let mut ext: Vec<(f64, String, [f64; 3])> = std::fs::read_dir(&p)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let o = dicom_object::OpenFileOptions::new()
                .read_until(dicom_dictionary_std::tags::PIXEL_DATA)
                .open_file(&path)
                .unwrap();
            let ipp = o
                .element(dicom_dictionary_std::tags::IMAGE_POSITION_PATIENT)
                .unwrap()
                .to_multi_float64()
                .unwrap();
            (
                ipp[2],
                path.file_name().unwrap().to_string_lossy().into_owned(),
                [ipp[0], ipp[1], ipp[2]],
            )
        })
        .collect();
    ext.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(ext[0].1, "image_0");
    assert_eq!(ext[128].1, "image_128");
    assert!(close(v.voxel_to_world([0, 0, 0]), ext[0].2, 1e-9));
    assert!(close(v.voxel_to_world([0, 0, 128]), ext[128].2, 1e-6));
    assert!(close(
        v.voxel_to_world([0, 0, 128]),
        [0.0, 0.0, 204.800003051758],
        1e-6
    ));

    // Voxel values (i, j, k) = (column, row, slice in position order), pydicom pixel_array × slope + intercept.
    for (i, j, k, hu) in [
        (0, 0, 0, -1024),
        (256, 256, 64, -59),
        (100, 300, 10, -99),
        (400, 200, 128, -890),
        (255, 380, 70, -65),
        (300, 150, 100, 103),
        (256, 360, 64, 91),
        (250, 370, 30, 108),
        (270, 350, 120, 235),
    ] {
        assert_eq!(v.get(i, j, k), hu, "voxel ({i},{j},{k})");
    }
    let total: i64 = v.data().iter().map(|&x| x as i64).sum();
    assert_eq!(total, -14_871_565_770);
    let slice_sum = |k: usize| v.slice_k(k).iter().map(|&x| x as i64).sum::<i64>();
    assert_eq!((slice_sum(0), slice_sum(128)), (-105_772_309, -164_864_462));
}

#[test]
fn ircadb_bone_mask_from_zip_on_ct_grid() {
    let (Some(ct), Some(z)) = (
        shared_data("ct-ircadb-01/PATIENT_DICOM"),
        shared_data("ct-ircadb-01/MASKS_DICOM.zip"),
    ) else {
        return;
    };
    let ct = load_volume(&scan(&ct).unwrap(), &SeriesSelector::Auto).unwrap();
    let s = scan(&z).unwrap();
    // One series per structure folder: artery, bone, … venoussystem.
    assert_eq!(s.series.len(), 19);
    assert!(s.series.iter().any(|x| x.folder == "MASKS_DICOM/bone"));
    let bone = load_volume(&s, &SeriesSelector::Folder("bone".into())).unwrap();
    assert_eq!(bone.summary.folder, "MASKS_DICOM/bone");
    // Same grid as the CT.
    assert_eq!(bone.volume.dims(), ct.volume.dims());
    let (gb, gc) = (bone.volume.geometry(), ct.volume.geometry());
    assert!(close(gb.origin_mm, gc.origin_mm, 1e-4));
    assert!(close(gb.spacing_mm, gc.spacing_mm, 1e-4));
    for a in 0..3 {
        assert!(close(gb.direction[a], gc.direction[a], 1e-4));
    }
    for c in ct
        .volume
        .geometry()
        .direction
        .iter()
        .zip(gb.direction.iter())
    {
        assert!(close(*c.0, *c.1, 1e-9));
    }
    // pydicom: values {0, 255}, 717 393 nonzero voxels.
    let (AnyVolume::I16(m), AnyVolume::I16(hu)) = (&bone.volume, &ct.volume) else {
        panic!()
    };
    let nonzero = m.data().iter().filter(|&&x| x != 0).count();
    assert_eq!(nonzero, 717_393);
    assert!(m.data().iter().all(|&x| x == 0 || x == 255));
    // Plausible: ~2% of the field is bone, and it is dense on the CT.
    let frac = nonzero as f64 / m.len() as f64;
    assert!((0.005..0.1).contains(&frac), "bone fraction {frac}");
    let mean_hu: f64 = m
        .data()
        .iter()
        .zip(hu.data())
        .filter(|(b, _)| **b != 0)
        .map(|(_, h)| *h as f64)
        .sum::<f64>()
        / nonzero as f64;
    assert!(mean_hu > 150.0, "mean HU inside the bone mask {mean_hu}");

    // The same series through a zip sub-path: `MASKS_DICOM.zip/MASKS_DICOM/bone`.
    let sub = scan(z.join("MASKS_DICOM/bone")).unwrap();
    assert_eq!(sub.series.len(), 1);
    let again = load_volume(&sub, &SeriesSelector::Auto).unwrap();
    assert_eq!(again.volume, bone.volume);

    // Unknown folder: the error lists what exists.
    let e = load_volume(&s, &SeriesSelector::Folder("femur".into())).unwrap_err();
    assert!(matches!(e, DicomError::SeriesNotFound { .. }));
    assert!(e.to_string().contains("MASKS_DICOM/bone"), "{e}");
}

#[test]
fn totalseg_jpeg2000_values_and_world_box() {
    let Some(p) = shared_data("ct-totalseg-example/dicom") else {
        return;
    };
    let s = scan(&p).unwrap();
    assert_eq!(s.series.len(), 1);
    let sum = &s.series[0];
    assert_eq!(sum.transfer_syntax_uid, "1.2.840.10008.1.2.4.90");
    assert_eq!(sum.instance_count, 20);
    // Positions 2 mm apart although SliceThickness is 3 mm.
    assert!((sum.slice_spacing_mm.unwrap() - 2.0).abs() < 1e-9);
    let l = load_volume(&s, &SeriesSelector::Auto).unwrap();
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let AnyVolume::I16(v) = &l.volume else {
        panic!("expected i16 HU")
    };
    assert_eq!(v.dims(), [512, 512, 20]);
    let g = v.geometry();
    println!(
        "totalseg spacing_mm {:?} origin_mm {:?}",
        g.spacing_mm, g.origin_mm
    );
    assert_eq!(g.spacing_mm, [0.9765625, 0.9765625, 2.0]);
    assert_eq!(g.origin_mm, [-249.51171875, -437.51171875, -804.5]);
    // HU from pydicom + pylibjpeg (openjpeg) pixel_array × 1 − 1024, slices sorted by IPP z.
    for (i, j, k, hu) in [
        (0, 0, 0, -1024),
        (256, 256, 0, 86),
        (256, 300, 10, 152),
        (100, 200, 19, -986),
        (300, 350, 5, -108),
        (400, 250, 15, -43),
        (256, 380, 12, -96),
    ] {
        assert_eq!(v.get(i, j, k), hu, "voxel ({i},{j},{k})");
    }
    assert_eq!(
        v.data().iter().map(|&x| x as i64).sum::<i64>(),
        -3_272_217_339
    );
    // World box of labels/dicom_series_seg_dcm2niix.nii.gz (nibabel affine, RAS → LPS by negating x and y).
    let (lo, hi) = l.volume.world_extent_mm();
    assert!(
        close(lo, [-249.51171875, -437.51171875, -804.5], 1e-4),
        "{lo:?}"
    );
    assert!(
        close(hi, [249.51171875, 61.51171875, -766.5], 1e-4),
        "{hi:?}"
    );
}

#[test]
fn mr_secondary_capture_without_geometry() {
    let Some(p) = shared_data("mr-lumbar-secondary-capture/LumbarDicomExample") else {
        return;
    };
    let s = scan(&p).unwrap();
    assert_eq!(s.series.len(), 1);
    let sum = &s.series[0];
    assert!(!sum.has_geometry);
    assert!(sum.is_secondary_capture);
    assert_eq!(sum.sop_class_name, "Secondary Capture Image Storage");
    assert_eq!(sum.instance_count, 12);
    assert!(sum.to_string().contains("no geometry"), "{sum}");

    // Auto never picks it as a volume.
    let e = load_volume(&s, &SeriesSelector::Auto).unwrap_err();
    assert!(matches!(e, DicomError::NoVolumeSeries { .. }));
    assert!(e.to_string().contains("no geometry"), "{e}");

    // Asked explicitly, it loads with the warning.
    let l = load_volume(&s, &SeriesSelector::Number(1)).unwrap();
    assert!(
        l.warnings.iter().any(|w| w.contains("no patient geometry: positions unknown, slices ordered by InstanceNumber, spacing assumed")),
        "{:?}",
        l.warnings
    );
    assert_eq!(l.volume.dims(), [512, 512, 12]);
    assert_eq!(l.volume.geometry().spacing_mm[..2], [0.5, 0.5]);
    // pydicom apply_modality_lut (RescaleIntercept −1024): (i, j, k) with k = InstanceNumber − 1.
    for (i, j, k, val) in [
        (256, 256, 5, -956.0),
        (200, 300, 0, -914.0),
        (300, 100, 11, -912.0),
        (128, 400, 6, -899.0),
    ] {
        assert_eq!(l.volume.get_f64(i, j, k), val);
    }

    // 2D: the stack in InstanceNumber order; a single 2D image is refused for a 12-image series.
    let st = load_2d_stack(&s, &SeriesSelector::Auto).unwrap();
    assert_eq!(st.len(), 12);
    assert_eq!(
        st.iter()
            .map(|x| x.instance_number.unwrap())
            .collect::<Vec<_>>(),
        (1..=12).collect::<Vec<_>>()
    );
    assert_eq!(st[5].image.get(256, 256), -956.0);
    assert_eq!(
        st[0].image.spacing_mm,
        Some(([0.5, 0.5], PixelSpacingSource::PixelSpacing))
    );
    let e = load_2d(&s, &SeriesSelector::Auto).unwrap_err();
    assert!(e.to_string().contains("12 images"), "{e}");
    let one = load_2d(&scan(p.join("06")).unwrap(), &SeriesSelector::Auto).unwrap();
    assert_eq!((one.image.width, one.image.height), (512, 512));
    assert!(!one.image.inverted);
    assert_eq!(one.image.get(256, 256), -956.0);
}

#[test]
fn truncated_real_file_is_reported() {
    let Some(p) = shared_data("ct-ircadb-01/PATIENT_DICOM/image_0") else {
        return;
    };
    let bytes = std::fs::read(&p).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Cut inside the pixel data: the header scans, decoding fails.
    let cut = dir.path().join("cut_pixels.dcm");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let e = load_2d(&scan(&cut).unwrap(), &SeriesSelector::Auto).unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
    // Cut inside the header: the scan itself reports it.
    let cut2 = dir.path().join("cut_header.dcm");
    std::fs::write(&cut2, &bytes[..300]).unwrap();
    let e = scan(&cut2).unwrap_err();
    assert!(matches!(e, DicomError::Damaged { .. }), "{e:?}");
    assert!(e.to_string().contains("truncated"), "{e}");

    // In a folder with a full series, one truncated slice fails the volume with that file named.
    let Some(series) = shared_data("ct-ircadb-01/PATIENT_DICOM") else {
        return;
    };
    let d2 = tempfile::tempdir().unwrap();
    for k in 0..5 {
        let b = std::fs::read(series.join(format!("image_{k}"))).unwrap();
        let b = if k == 3 { &b[..b.len() / 2] } else { &b[..] };
        std::fs::write(d2.path().join(format!("image_{k}")), b).unwrap();
    }
    let s = scan(d2.path()).unwrap();
    let e = load_volume(&s, &SeriesSelector::Auto).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("image_3") && msg.contains("truncated"),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
}

#[test]
fn voxel_types_follow_modality() {
    let Some(p) = shared_data("ct-totalseg-example/dicom") else {
        return;
    };
    let l = load_volume(&scan(&p).unwrap(), &SeriesSelector::Auto).unwrap();
    assert_eq!(l.volume.voxel_type(), VoxelType::I16);
    assert_eq!(l.modality, "CT");
    assert_eq!(l.transfer_syntax, "1.2.840.10008.1.2.4.90");
}
