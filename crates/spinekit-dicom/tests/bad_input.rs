//! Bad and awkward inputs built in a temp dir with dicom-rs: every case must give a clear one-line error (or, for
//! tilt and irregular gaps, a corrected volume with a warning) and never panic.

use spinekit_dicom::{load_2d, load_volume, scan, DicomError, SeriesSelector};
use spinekit_image::{AnyVolume, PixelSpacingSource};
use spinekit_testdata::ct_series::{slice_from_world, Synth, DX_IMAGE};
use std::io::Write;
use std::path::Path;

fn one_line(e: &DicomError) -> String {
    let m = e.to_string();
    println!("error: {m}");
    assert!(!m.contains('\n'), "multi-line message: {m}");
    m
}

/// Axial stack of `n` 8×8 slices at z = positions[k] in series `uid`.
fn write_stack(dir: &Path, uid: &str, positions: &[f64]) {
    for (k, z) in positions.iter().enumerate() {
        let mut s = Synth::ct(uid, k as i32 + 1, 8, 8);
        s.ipp = Some([0.0, 0.0, *z]);
        s.pixels = vec![(10 * k) as i16; 64];
        s.write(&dir.join(format!("{uid}_{k}.dcm")));
    }
}

#[test]
fn wrong_magic_and_empty_inputs() {
    let d = tempfile::tempdir().unwrap();
    let txt = d.path().join("notes.dcm");
    std::fs::write(
        &txt,
        "this is not an image, although it ends in .dcm\n".repeat(10),
    )
    .unwrap();
    let e = scan(&txt).unwrap_err();
    assert!(matches!(e, DicomError::NotDicom { .. }));
    assert!(one_line(&e).contains("not a DICOM file"));

    // Folder with only non-DICOM files: skipped but counted.
    let e = scan(d.path()).unwrap_err();
    assert!(
        matches!(e, DicomError::NoDicomInFolder { other_files: 1, .. }),
        "{e:?}"
    );
    assert!(one_line(&e).contains("no DICOM files"));

    // Zip with text files only.
    let zp = d.path().join("texts.zip");
    {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&zp).unwrap());
        for name in ["a.txt", "sub/b.txt"] {
            z.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(b"hello").unwrap();
        }
        z.finish().unwrap();
    }
    let e = scan(&zp).unwrap_err();
    assert!(
        matches!(e, DicomError::NoDicomInZip { other_files: 2, .. }),
        "{e:?}"
    );
    assert!(one_line(&e).contains("zip archive contains no DICOM"));

    let e = scan(d.path().join("does-not-exist")).unwrap_err();
    assert!(one_line(&e).contains("no such file"));
}

#[test]
fn non_dicom_files_next_to_a_series_are_skipped_and_counted() {
    let d = tempfile::tempdir().unwrap();
    write_stack(d.path(), "1.2.3.4", &[0.0, 1.0, 2.0]);
    std::fs::write(d.path().join("README"), "x").unwrap();
    std::fs::create_dir(d.path().join("deeper")).unwrap();
    std::fs::write(d.path().join("deeper/thumbs.db"), [0u8; 300]).unwrap();
    let s = scan(d.path()).unwrap();
    assert_eq!(s.non_dicom_files, 2);
    assert_eq!(s.series[0].instance_count, 3);
}

#[test]
fn two_series_and_a_wrong_uid() {
    let d = tempfile::tempdir().unwrap();
    write_stack(d.path(), "1.2.3.1", &[0.0, 1.0, 2.0, 3.0]);
    write_stack(d.path(), "1.2.3.2", &[0.0, 2.0, 4.0]);
    let s = scan(d.path()).unwrap();
    assert_eq!(s.series.len(), 2);
    let e = load_volume(&s, &SeriesSelector::Uid("1.2.3.999".into())).unwrap_err();
    assert!(matches!(e, DicomError::SeriesNotFound { .. }));
    let m = one_line(&e);
    assert!(
        m.contains("no series matches series UID 1.2.3.999")
            && m.contains("#1")
            && m.contains("#2"),
        "{m}"
    );
    let e = load_volume(&s, &SeriesSelector::Number(7)).unwrap_err();
    assert!(one_line(&e).contains("no series matches series number 7"));
    // Auto takes the series with more slices; explicit UID works.
    let a = load_volume(&s, &SeriesSelector::Auto).unwrap();
    assert_eq!(a.summary.uid, "1.2.3.1");
    let b = load_volume(&s, &SeriesSelector::Uid("1.2.3.2".into())).unwrap();
    assert_eq!(b.volume.dims(), [8, 8, 3]);
    assert_eq!(b.volume.geometry().spacing_mm[2], 2.0);
    // Both are called "synthetic": ambiguous by description.
    let e = load_volume(&s, &SeriesSelector::Description("Synthetic".into())).unwrap_err();
    assert!(
        matches!(e, DicomError::AmbiguousSeries { count: 2, .. }),
        "{e:?}"
    );
    one_line(&e);
}

#[test]
fn single_slice_is_not_a_volume() {
    let d = tempfile::tempdir().unwrap();
    write_stack(d.path(), "1.2.3.5", &[0.0]);
    let s = scan(d.path().join("1.2.3.5_0.dcm")).unwrap();
    let e = load_volume(&s, &SeriesSelector::Number(1)).unwrap_err();
    assert!(one_line(&e).contains("a single image cannot form a 3D volume"));
    // Auto refuses too (fewer than 3 slices), listing the series.
    let e = load_volume(&s, &SeriesSelector::Auto).unwrap_err();
    assert!(matches!(e, DicomError::NoVolumeSeries { .. }));
    assert!(one_line(&e).contains("1 image"));
}

#[test]
fn duplicate_positions() {
    let d = tempfile::tempdir().unwrap();
    write_stack(d.path(), "1.2.3.6", &[0.0, 1.0, 1.0, 2.0]);
    let e = load_volume(&scan(d.path()).unwrap(), &SeriesSelector::Auto).unwrap_err();
    assert!(
        matches!(e, DicomError::DuplicatePositions { count: 2, .. }),
        "{e:?}"
    );
    assert!(one_line(&e).contains("share the position 1.000 mm"));
}

#[test]
fn mixed_orientation_size_and_multiframe() {
    let d = tempfile::tempdir().unwrap();
    write_stack(d.path(), "1.2.3.7", &[0.0, 1.0, 2.0]);
    let mut odd = Synth::ct("1.2.3.7", 9, 8, 8);
    odd.iop = Some([1.0, 0.0, 0.0, 0.0, 0.0, -1.0]);
    odd.write(&d.path().join("coronal.dcm"));
    let e = load_volume(&scan(d.path()).unwrap(), &SeriesSelector::Number(1)).unwrap_err();
    assert!(one_line(&e).contains("ImageOrientationPatient differs"));

    let d = tempfile::tempdir().unwrap();
    write_stack(d.path(), "1.2.3.8", &[0.0, 1.0, 2.0]);
    let mut big = Synth::ct("1.2.3.8", 9, 10, 8);
    big.ipp = Some([0.0, 0.0, 3.0]);
    big.write(&d.path().join("big.dcm"));
    let e = load_volume(&scan(d.path()).unwrap(), &SeriesSelector::Number(1)).unwrap_err();
    assert!(one_line(&e).contains("image sizes differ"));

    let d = tempfile::tempdir().unwrap();
    let mut mf = Synth::ct("1.2.3.9", 1, 8, 8);
    mf.frames = Some(2);
    mf.pixels = vec![0; 128];
    mf.write(&d.path().join("mf.dcm"));
    let e = load_volume(&scan(d.path()).unwrap(), &SeriesSelector::Number(1)).unwrap_err();
    assert!(matches!(e, DicomError::MultiFrame { frames: 2, .. }));
    assert!(one_line(&e).contains("multi-frame"));
}

/// A smooth blob (Gaussian, σ = 4 mm, peak 1000) centred at `c`.
fn blob(c: [f64; 3]) -> impl Fn([f64; 3]) -> f64 {
    move |w| {
        let r2 = (0..3).map(|a| (w[a] - c[a]).powi(2)).sum::<f64>();
        1000.0 * (-r2 / (2.0 * 16.0)).exp()
    }
}

#[test]
fn gantry_tilt_is_corrected() {
    // Tilt 20° about the patient x axis: the slice planes are tilted, the table moves along z by 2 mm per slice.
    let tilt = 20f64.to_radians();
    let iop = [1.0, 0.0, 0.0, 0.0, tilt.cos(), tilt.sin()];
    let (rows, cols, n) = (48u16, 40u16, 30usize);
    let feature = [20.0, 5.0, 45.0];
    let f = blob(feature);
    let d = tempfile::tempdir().unwrap();
    for k in 0..n {
        let ipp = [0.0, -20.0, 2.0 * k as f64];
        let mut s = Synth::ct("1.2.3.10", k as i32 + 1, rows, cols);
        s.iop = Some(iop);
        s.ipp = Some(ipp);
        s.pixels = slice_from_world(rows, cols, ipp, iop, [1.0, 1.0], &f);
        s.write(&d.path().join(format!("s{k:02}")));
    }
    let l = load_volume(&scan(d.path()).unwrap(), &SeriesSelector::Auto).unwrap();
    println!("tilt warnings {:?}", l.warnings);
    assert!((l.tilt_deg - 20.0).abs() < 0.01, "{}", l.tilt_deg);
    assert!(l.resampled);
    assert!(l
        .warnings
        .iter()
        .any(|w| w.contains("gantry tilt 20.00° corrected")));
    let AnyVolume::I16(v) = &l.volume else {
        panic!()
    };
    let g = v.geometry();
    // Third axis is the slice normal (row × column cosine), spacing 2·cos 20° along it.
    let nrm = [0.0, -tilt.sin(), tilt.cos()];
    // IOP is written with 6 decimals, so compare at 1e-5.
    assert!(
        (0..3).all(|a| (g.direction[2][a] - nrm[a]).abs() < 1e-5),
        "{:?}",
        g.direction
    );
    assert!((g.spacing_mm[2] - 2.0 * tilt.cos()).abs() < 1e-6);
    g.validate().unwrap();
    // The blob's intensity-weighted centroid in world coordinates lands on the true centre.
    let (mut sw, mut c) = (0.0, [0.0; 3]);
    let dims = v.dims();
    for k in 0..dims[2] {
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                let x = v.get(i, j, k) as f64;
                if x > 100.0 {
                    let w = v.voxel_to_world([i, j, k]);
                    sw += x;
                    (0..3).for_each(|a| c[a] += x * w[a]);
                }
            }
        }
    }
    let c = c.map(|x| x / sw);
    println!("tilt: blob centroid {c:?}, true {feature:?}");
    assert!(
        (0..3).all(|a| (c[a] - feature[a]).abs() < 0.1),
        "centroid {c:?} vs {feature:?}"
    );
    // Every voxel holds the value of the world function at its centre (bilinear error only), wherever the shifted
    // source slice covers it: slice k moves by 2·k·sin 20° rows along the column cosine.
    let mut worst: f64 = 0.0;
    let mut checked = 0usize;
    for k in 0..dims[2] {
        let shift_rows = 2.0 * k as f64 * tilt.sin();
        for j in 0..dims[1] {
            if (j as f64) < shift_rows.ceil() {
                continue;
            }
            for i in 0..dims[0] {
                let w = v.voxel_to_world([i, j, k]);
                worst = worst.max((v.get(i, j, k) as f64 - f(w)).abs());
                checked += 1;
            }
        }
    }
    assert!(checked > 20_000, "{checked}");
    println!("tilt: worst voxel error {worst}");
    assert!(worst < 15.0, "worst voxel error {worst}");
}

#[test]
fn irregular_gaps_are_resampled() {
    // Missing slice at z = 6 and values linear in z: linear resampling must reproduce them exactly.
    let d = tempfile::tempdir().unwrap();
    let zs = [0.0, 2.0, 4.0, 8.0, 10.0, 12.0, 14.0];
    for (k, z) in zs.iter().enumerate() {
        let mut s = Synth::ct("1.2.3.11", k as i32 + 1, 4, 4);
        s.ipp = Some([0.0, 0.0, *z]);
        s.pixels = vec![(100.0 + 10.0 * z) as i16; 16];
        s.write(&d.path().join(format!("s{k}")));
    }
    let l = load_volume(&scan(d.path()).unwrap(), &SeriesSelector::Auto).unwrap();
    println!("gap warnings {:?}", l.warnings);
    assert!(l.resampled);
    assert!(l
        .warnings
        .iter()
        .any(|w| w.contains("irregular slice gaps")));
    assert_eq!(l.volume.dims(), [4, 4, 8]);
    assert_eq!(l.volume.geometry().spacing_mm[2], 2.0);
    for k in 0..8 {
        let z = l.volume.geometry().index_to_world([0.0, 0.0, k as f64])[2];
        assert_eq!(z, 2.0 * k as f64);
        assert_eq!(l.volume.get_f64(1, 2, k), 100.0 + 10.0 * z, "slice {k}");
    }
    // Slightly uneven but within 1%: no resampling, spacing = mean gap.
    let d = tempfile::tempdir().unwrap();
    write_stack(d.path(), "1.2.3.12", &[0.0, 1.0, 2.005, 3.0]);
    let l = load_volume(&scan(d.path()).unwrap(), &SeriesSelector::Auto).unwrap();
    assert!(!l.resampled && l.warnings.is_empty());
    assert_eq!(l.volume.dims()[2], 4);
}

#[test]
fn slices_are_ordered_by_position_not_name_or_instance_number() {
    // Instance numbers and file names run opposite to position, and the normal points to −z (feet first view).
    let d = tempfile::tempdir().unwrap();
    let iop = [-1.0, 0.0, 0.0, 0.0, 1.0, 0.0]; // row × col = (0, 0, −1)
    for (k, z) in [30.0, 10.0, 20.0, 0.0].iter().enumerate() {
        let mut s = Synth::ct("1.2.3.13", 10 - k as i32, 4, 4);
        s.iop = Some(iop);
        s.ipp = Some([5.0, 6.0, *z]);
        s.pixels = vec![*z as i16; 16];
        s.write(&d.path().join(format!("a{k}")));
    }
    let l = load_volume(&scan(d.path()).unwrap(), &SeriesSelector::Auto).unwrap();
    let g = *l.volume.geometry();
    assert_eq!(g.direction[2], [0.0, 0.0, -1.0]);
    assert_eq!(g.origin_mm, [5.0, 6.0, 30.0]);
    assert_eq!(
        (0..4)
            .map(|k| l.volume.get_f64(0, 0, k))
            .collect::<Vec<_>>(),
        [30.0, 20.0, 10.0, 0.0]
    );
}

#[test]
fn radiograph_2d_spacing_source_and_monochrome1() {
    let d = tempfile::tempdir().unwrap();
    let mut s = Synth::ct("1.2.3.14", 1, 6, 5);
    s.modality = "DX";
    s.sop_class = DX_IMAGE;
    s.iop = None;
    s.ipp = None;
    s.pixel_spacing = None;
    s.imager_pixel_spacing = Some([0.15, 0.14]);
    s.photometric = "MONOCHROME1";
    s.slope = 2.0;
    s.intercept = -5.0;
    s.pixels = (0..30).collect();
    let p = d.path().join("dx.dcm");
    s.write(&p);
    let l = load_2d(&scan(&p).unwrap(), &SeriesSelector::Auto).unwrap();
    assert_eq!((l.image.width, l.image.height), (5, 6));
    assert!(l.image.inverted);
    assert_eq!(
        l.image.spacing_mm,
        Some(([0.15, 0.14], PixelSpacingSource::ImagerPixelSpacing))
    );
    assert_eq!(l.image.get(3, 2), (2 * 13 - 5) as f32);
    assert!(l.warnings.iter().any(|w| w.contains("ImagerPixelSpacing")));
    // As 3D it is refused clearly.
    let e = load_volume(&scan(&p).unwrap(), &SeriesSelector::Number(1)).unwrap_err();
    assert!(one_line(&e).contains("single image"));
}

#[test]
fn secondary_capture_volume_needs_instance_numbers() {
    let d = tempfile::tempdir().unwrap();
    for k in 0..3 {
        let mut s = Synth::ct("1.2.3.15", 1, 4, 4);
        s.sop_uid = format!("1.2.3.15.{k}");
        s.iop = None;
        s.ipp = None;
        s.write(&d.path().join(format!("sc{k}")));
    }
    let e = load_volume(&scan(d.path()).unwrap(), &SeriesSelector::Number(1)).unwrap_err();
    assert!(one_line(&e).contains("share InstanceNumber 1"));
}
