//! Geometry survives every read, reorientation, resampling and write, on the real series.

use spinekit_image::{
    reorient_to, resample_to_spacing, AnyVolume, Interpolation, OrientationCode, Volume,
};
use spinekit_io::{open_volume, OpenOptions, SeriesSelector};
use spinekit_testdata::shared_data;

fn assert_world_close(a: [f64; 3], b: [f64; 3], tol: f64, what: &str) {
    for i in 0..3 {
        assert!(
            (a[i] - b[i]).abs() <= tol,
            "{what}: {a:?} vs {b:?} (tol {tol} mm)"
        );
    }
}

/// DICOM → NIfTI → read back: identical voxels, every corner voxel at the same world position within 1e-4 mm.
fn dicom_nifti_round_trip(rel: &str) {
    let Some(p) = shared_data(rel) else { return };
    let src = open_volume(&p, &OpenOptions::default()).unwrap();
    let AnyVolume::I16(v) = &src.volume else {
        panic!("CT should load as i16 HU")
    };
    let dir = tempfile::tempdir().unwrap();
    for name in ["ct.nii.gz", "ct.nii"] {
        let out = dir.path().join(name);
        spinekit_nifti::write_nifti(&out, &src.volume, None, &Default::default()).unwrap();
        let back = open_volume(&out, &OpenOptions::default()).unwrap();
        let AnyVolume::I16(b) = &back.volume else {
            panic!("i16 written, {:?} read", back.volume.voxel_type())
        };
        assert_eq!(b.dims(), v.dims());
        assert!(
            b.data() == v.data(),
            "voxels differ after the NIfTI round trip"
        );
        for c in v.corner_indices() {
            assert_world_close(b.voxel_to_world(c), v.voxel_to_world(c), 1e-4, name);
        }
        // Without spinekit's exact-geometry record, plain float32 sform must still be within 1e-4 mm.
        let opts = spinekit_nifti::WriteOptions {
            exact_geometry_record: false,
            ..Default::default()
        };
        spinekit_nifti::write_nifti(&out, &src.volume, None, &opts).unwrap();
        let plain = open_volume(&out, &OpenOptions::default()).unwrap();
        for c in v.corner_indices() {
            let w = plain.volume.geometry().index_to_world(c.map(|x| x as f64));
            assert_world_close(w, v.voxel_to_world(c), 1e-4, "float32 sform");
        }
    }
}

#[test]
fn ircadb_dicom_to_nifti_round_trip() {
    dicom_nifti_round_trip("ct-ircadb-01/PATIENT_DICOM");
}

#[test]
fn jpeg2000_dicom_to_nifti_round_trip() {
    dicom_nifti_round_trip("ct-totalseg-example/dicom");
}

#[test]
fn reorient_and_resample_keep_world_positions_on_real_ct() {
    let Some(p) = shared_data("ct-totalseg-example/ct.nii.gz") else {
        return;
    };
    let o = open_volume(&p, &OpenOptions::default()).unwrap();
    let v: Volume<i16> = o.volume.to_hu_i16().unwrap();
    assert_eq!(v.geometry().orientation_code().to_string(), "RAS");
    let lps = reorient_to(&v, OrientationCode::parse("LPS").unwrap()).unwrap();
    // The voxel nearest a world point holds the same value in both.
    let probe = v.voxel_to_world([40, 70, 55]);
    let idx = lps
        .geometry()
        .world_to_index(probe)
        .map(|x| x.round() as usize);
    assert_world_close(
        lps.voxel_to_world(idx),
        probe,
        1e-9,
        "reoriented voxel centre",
    );
    assert_eq!(lps.get(idx[0], idx[1], idx[2]), v.get(40, 70, 55));
    let back = reorient_to(&lps, OrientationCode::parse("RAS").unwrap()).unwrap();
    assert!(back.data() == v.data());
    // World extent is unchanged by reorientation.
    let (a, b) = (v.world_extent_mm(), lps.world_extent_mm());
    assert_world_close(a.0, b.0, 1e-9, "extent min");
    assert_world_close(a.1, b.1, 1e-9, "extent max");
    // Resampling to 1.5 mm puts every second voxel on the original grid with the original value.
    let fine = resample_to_spacing(&v, [1.5; 3], Interpolation::Linear).unwrap();
    for (i, j, k) in [(0, 0, 0), (10, 20, 30), (121, 100, 111)] {
        assert_world_close(
            fine.voxel_to_world([2 * i, 2 * j, 2 * k]),
            v.voxel_to_world([i, j, k]),
            1e-9,
            "fine grid",
        );
        assert_eq!(fine.get(2 * i, 2 * j, 2 * k), v.get(i, j, k));
    }
}

#[test]
fn ircadb_bone_mask_lands_on_the_ct_grid() {
    let Some(ct) = shared_data("ct-ircadb-01/PATIENT_DICOM") else {
        return;
    };
    let Some(masks) = shared_data("ct-ircadb-01/MASKS_DICOM.zip") else {
        return;
    };
    let ct = open_volume(&ct, &OpenOptions::default()).unwrap();
    let bone = open_volume(
        &masks,
        &OpenOptions {
            series: SeriesSelector::Folder("bone".into()),
        },
    )
    .unwrap();
    assert_eq!(bone.volume.dims(), [512, 512, 129]);
    assert_eq!(ct.volume.dims(), bone.volume.dims());
    let (c, b) = (ct.volume.geometry(), bone.volume.geometry());
    for corner in [[0, 0, 0], [511, 511, 128], [0, 511, 128]] {
        let f = corner.map(|x| x as f64);
        assert_world_close(b.index_to_world(f), c.index_to_world(f), 1e-4, "mask grid");
    }
    // Bone voxels are dense on the CT: mean HU inside the mask well above soft tissue.
    let ct_hu = ct.volume.to_hu_i16().unwrap();
    let mask: Volume<u8> = bone.volume.to_type();
    let (mut n, mut sum) = (0u64, 0i64);
    for (m, h) in mask.data().iter().zip(ct_hu.data()) {
        if *m > 0 {
            n += 1;
            sum += *h as i64;
        }
    }
    assert!(n > 100_000, "bone mask has {n} voxels");
    assert!(sum as f64 / n as f64 > 150.0);
}
