//! Real files from ../shared/data, checked against values read independently with nibabel 5 (Python):
//! `nib.load(f)`, world = diag(-1,-1,1,1) @ img.affine @ [i,j,k,1] (RAS → LPS), values from `img.dataobj`.

mod common;

use common::{corner_error_mm, max_abs_diff};
use spinekit_image::AnyVolume;
use spinekit_nifti::{read_nifti, write_nifti, GeometrySource, NiftiVersion, WriteOptions};
use spinekit_testdata::shared_data;

/// (voxel index, expected LPS world position in mm) from nibabel.
type Corner = ([usize; 3], [f64; 3]);

fn check_corners(vol: &AnyVolume, corners: &[Corner]) {
    let g = vol.geometry();
    for (idx, want) in corners {
        let got = g.index_to_world(idx.map(|v| v as f64));
        assert!(
            max_abs_diff(got, *want) < 1e-6,
            "voxel {idx:?}: spinekit {got:?} vs nibabel {want:?}"
        );
    }
}

#[test]
fn totalsegmentator_ct_geometry_values_and_type_match_nibabel() {
    let Some(p) = shared_data("ct-totalseg-example/ct.nii.gz") else {
        return;
    };
    let img = read_nifti(&p).unwrap();
    assert_eq!(img.volume.dims(), [122, 101, 112]);
    assert_eq!(img.info.version, NiftiVersion::One);
    assert!(img.info.compressed);
    assert_eq!(img.info.datatype, "int32");
    assert_eq!(img.info.sform_code, 2);
    assert_eq!(img.info.geometry_source, GeometrySource::Sform);
    assert!(img.warnings.is_empty(), "{:?}", img.warnings);
    assert!(img.labels.is_none());
    let g = img.volume.geometry();
    assert_eq!(g.spacing_mm, [3.0, 3.0, 3.0]);
    // nibabel: aff2axcodes = ('R', 'A', 'S').
    assert_eq!(g.orientation_code().to_string(), "RAS");
    check_corners(
        &img.volume,
        &[
            (
                [0, 0, 0],
                [177.95632934570312, -11.319000244140625, 94.3017578125],
            ),
            (
                [121, 0, 0],
                [-185.04367065429688, -11.319000244140625, 94.3017578125],
            ),
            (
                [0, 100, 0],
                [177.95632934570312, -311.3190002441406, 94.3017578125],
            ),
            (
                [121, 100, 111],
                [-185.04367065429688, -311.3190002441406, 427.3017578125],
            ),
        ],
    );
    let AnyVolume::I32(v) = &img.volume else {
        panic!("int32 CT must stay I32, got {:?}", img.volume.voxel_type())
    };
    for ((i, j, k), want) in [
        ((0, 0, 0), -1023),
        ((61, 50, 56), 164),
        ((60, 70, 30), -80),
        ((121, 100, 111), -997),
        ((10, 20, 30), -132),
    ] {
        assert_eq!(v.get(i, j, k), want, "voxel ({i},{j},{k})");
    }
    let r = img.volume.intensity_range().unwrap();
    assert_eq!((r.min, r.max), (-1207.0, 3382.0));
    assert_eq!(v.data().iter().map(|&x| x as i64).sum::<i64>(), -496851173);
}

#[test]
fn vertebra_label_tables_parse_with_the_names_in_the_files() {
    let Some(p) = shared_data("ct-totalseg-example/labels/vertebrae.nii.gz") else {
        return;
    };
    let img = read_nifti(&p).unwrap();
    let t = img.labels.expect("CaretExtension label table");
    // The file lists TotalSegmentator's whole vertebra range 26 (S1) … 50 (C1); only 26..=33 occur in the voxels.
    assert_eq!(t.entries.len(), 25);
    let expect = [
        (26, "vertebrae_S1"),
        (27, "vertebrae_L5"),
        (28, "vertebrae_L4"),
        (29, "vertebrae_L3"),
        (30, "vertebrae_L2"),
        (31, "vertebrae_L1"),
        (32, "vertebrae_T12"),
        (33, "vertebrae_T11"),
        (50, "vertebrae_C1"),
    ];
    for (v, name) in expect {
        assert_eq!(t.name_of(v), Some(name), "label {v}");
    }
    // Red="1.0" Green="0.5019607843137255" Blue="0.0" Alpha="1" for L2.
    assert_eq!(
        t.entries.iter().find(|e| e.value == 30).unwrap().rgba,
        [255, 128, 0, 255]
    );
    assert_eq!(img.extensions.len(), 1);
    assert_eq!(img.extensions[0].code, 0);
    let AnyVolume::U8(v) = &img.volume else {
        panic!("labels are uint8")
    };
    // nibabel voxel counts: 26→1723, 33→76, 0→1364935.
    let count = |x: u8| v.data().iter().filter(|&&y| y == x).count();
    assert_eq!((count(26), count(33), count(0)), (1723, 76, 1364935));
    assert_eq!(v.data().iter().max(), Some(&33));

    let Some(p) = shared_data("ct-totalseg-example/labels/vertebral_bodies_per_level.nii.gz")
    else {
        return;
    };
    let t = read_nifti(&p).unwrap().labels.expect("label table");
    assert_eq!(t.name_of(1), Some("vertebrae_C1"));
    assert_eq!(t.name_of(19), Some("vertebrae_T12"));
    assert_eq!(t.name_of(24), Some("vertebrae_L5"));

    let Some(p) = shared_data("ct-totalseg-example/labels/vertebral_bodies_and_discs.nii.gz")
    else {
        return;
    };
    let t = read_nifti(&p).unwrap().labels.expect("label table");
    assert_eq!(t.name_of(1), Some("vertebrae_body"));
    assert_eq!(t.entries.len(), 2);
}

#[test]
fn dcm2niix_segmentation_has_flipped_rows_and_a_label_table() {
    let Some(p) = shared_data("ct-totalseg-example/labels/dicom_series_seg_dcm2niix.nii.gz") else {
        return;
    };
    let img = read_nifti(&p).unwrap();
    assert_eq!(img.volume.dims(), [512, 512, 20]);
    assert_eq!(img.volume.geometry().orientation_code().to_string(), "LAS");
    assert_eq!(
        img.volume.geometry().spacing_mm,
        [0.9765625, 0.9765625, 2.0]
    );
    // nibabel affine: [[-0.9765625,0,0,249.51171875],[0,0.9765625,0,-61.51171875],[0,0,2,-804.5]].
    check_corners(
        &img.volume,
        &[
            ([0, 0, 0], [-249.51171875, 61.51171875, -804.5]),
            ([511, 511, 19], [249.51171875, -437.51171875, -766.5]),
        ],
    );
    let t = img.labels.expect("label table");
    assert_eq!(t.name_of(1), Some("spleen"));
}

#[test]
fn tptbox_crops_are_pir_and_match_nibabel() {
    let Some(p) = shared_data("crops-tptbox/sample_ct/sub-ct_label-22_ct.nii.gz") else {
        return;
    };
    let img = read_nifti(&p).unwrap();
    assert_eq!(img.volume.dims(), [73, 47, 73]);
    assert_eq!(img.volume.geometry().orientation_code().to_string(), "PIR");
    check_corners(
        &img.volume,
        &[
            ([0, 0, 0], [78.0, 135.0, -34.199981689453125]),
            ([72, 0, 0], [78.0, 243.0, -34.199981689453125]),
            ([0, 46, 0], [78.0, 135.0, -103.19998168945312]),
            ([72, 46, 72], [-30.0, 243.0, -103.19998168945312]),
        ],
    );
    let AnyVolume::I16(v) = &img.volume else {
        panic!("int16 CT")
    };
    assert_eq!(
        (v.get(0, 0, 0), v.get(36, 23, 36), v.get(72, 46, 72)),
        (-23, -15, -105)
    );

    let Some(p) = shared_data("crops-tptbox/sample_mri/sub-mri_label-6_T2w.nii.gz") else {
        return;
    };
    let img = read_nifti(&p).unwrap();
    assert_eq!(img.volume.dims(), [68, 52, 67]);
    assert_eq!(img.volume.geometry().orientation_code().to_string(), "PIR");
    check_corners(
        &img.volume,
        &[
            (
                [0, 0, 0],
                [55.72917556762695, -116.73123168945312, 152.13558959960938],
            ),
            (
                [67, 0, 0],
                [55.72917556762695, -16.231231689453125, 152.13558960010153],
            ),
            (
                [0, 51, 0],
                [55.72917556762695, -116.7312316890785, 75.63558959960938],
            ),
            (
                [67, 51, 66],
                [-43.27082443237305, -16.2312316890785, 75.63558960010153],
            ),
        ],
    );
    let AnyVolume::U16(v) = &img.volume else {
        panic!("uint16 MR")
    };
    assert_eq!(
        (v.get(0, 0, 0), v.get(34, 26, 33), v.get(67, 51, 66)),
        (46, 283, 202)
    );

    let Some(p) = shared_data("crops-tptbox/sample_ct/sub-ct_seg-vert_label-22_msk.nii.gz") else {
        return;
    };
    let seg = read_nifti(&p).unwrap();
    assert_eq!(
        seg.volume.geometry(),
        read_nifti(shared_data("crops-tptbox/sample_ct/sub-ct_label-22_ct.nii.gz").unwrap())
            .unwrap()
            .volume
            .geometry()
    );
}

#[test]
fn sct_cervical_mr_uses_sform_and_matches_nibabel() {
    let Some(p) = shared_data("mr-cervical-sct/t2/t2.nii.gz") else {
        return;
    };
    let img = read_nifti(&p).unwrap();
    assert_eq!(img.volume.dims(), [60, 55, 52]);
    // sform_code 1 and qform_code 2, which agree: the sform is used and no warning is raised.
    assert_eq!(img.info.geometry_source, GeometrySource::Sform);
    assert!(img.warnings.is_empty(), "{:?}", img.warnings);
    assert_eq!(img.volume.geometry().orientation_code().to_string(), "PSR");
    check_corners(
        &img.volume,
        &[
            (
                [0, 0, 0],
                [32.21928405761719, -31.786605834960938, -19.321670532226562],
            ),
            (
                [59, 0, 0],
                [32.21928405761719, 27.213394165039062, -19.321670532226562],
            ),
            (
                [0, 54, 0],
                [32.21928405761719, -31.786605834960938, 34.67832946777344],
            ),
            (
                [59, 54, 51],
                [-18.780715942382812, 27.213394165039062, 34.67832946777344],
            ),
        ],
    );
    let AnyVolume::I16(v) = &img.volume else {
        panic!("int16 MR")
    };
    assert_eq!(
        (v.get(0, 0, 0), v.get(30, 27, 26), v.get(59, 54, 51)),
        (51, 382, 9)
    );

    let Some(p) = shared_data("mr-cervical-sct/t1/t1w.nii.gz") else {
        return;
    };
    let img = read_nifti(&p).unwrap();
    assert_eq!(img.volume.geometry().orientation_code().to_string(), "RAS");
    check_corners(
        &img.volume,
        &[
            (
                [0, 0, 0],
                [31.219284057617188, 36.21339416503906, -21.321670532226562],
            ),
            (
                [41, 75, 76],
                [-9.780715942382812, -38.78660583496094, 54.67832946777344],
            ),
        ],
    );
    assert_eq!(img.volume.get_f64(21, 38, 38), 581.0);

    // float64 labels become F32 exactly (values 0, 2..5).
    let Some(p) = shared_data("mr-cervical-sct/t2/t2_seg-manual_labeled.nii.gz") else {
        return;
    };
    let img = read_nifti(&p).unwrap();
    assert_eq!(img.info.datatype, "float64");
    let AnyVolume::F32(v) = &img.volume else {
        panic!("float64 → F32")
    };
    assert_eq!(v.get(30, 27, 26), 3.0);
    assert_eq!(v.data().iter().filter(|&&x| x == 5.0).count(), 209);
}

#[test]
fn totalsegmentator_mr_is_lps_and_matches_nibabel() {
    let Some(p) = shared_data("mr-totalseg-example/mr.nii.gz") else {
        return;
    };
    let img = read_nifti(&p).unwrap();
    assert_eq!(img.volume.dims(), [117, 91, 20]);
    assert_eq!(img.volume.geometry().orientation_code().to_string(), "LPS");
    check_corners(
        &img.volume,
        &[
            (
                [0, 0, 0],
                [-168.59963989257812, -166.35943603515625, 28.989641189575195],
            ),
            (
                [116, 0, 0],
                [179.40036010742188, -166.35943603515625, 28.989641189575195],
            ),
            (
                [0, 90, 0],
                [-168.59963989257812, 103.64056396484375, 28.989641189575195],
            ),
            (
                [116, 90, 19],
                [179.40036010742188, 103.64056396484375, 85.9896411895752],
            ),
        ],
    );
    assert_eq!(img.volume.get_f64(58, 45, 10), 303.0);
}

/// Every real file survives read → write (NIfTI-1 and NIfTI-2, with its label table) → read unchanged.
#[test]
fn real_files_round_trip_exactly() {
    let files = [
        "ct-totalseg-example/ct.nii.gz",
        "ct-totalseg-example/labels/vertebrae.nii.gz",
        "crops-tptbox/sample_mri/sub-mri_label-6_T2w.nii.gz",
        "mr-cervical-sct/t2/t2.nii.gz",
        "mr-totalseg-example/mr.nii.gz",
    ];
    let dir = tempfile::tempdir().unwrap();
    for rel in files {
        let Some(p) = shared_data(rel) else { return };
        let img = read_nifti(&p).unwrap();
        for version in [NiftiVersion::One, NiftiVersion::Two] {
            let out = dir.path().join("out.nii.gz");
            let opts = WriteOptions {
                version,
                ..WriteOptions::default()
            };
            write_nifti(&out, &img.volume, img.labels.as_ref(), &opts).unwrap();
            let back = read_nifti(&out).unwrap();
            assert_eq!(
                back.volume, img.volume,
                "{rel} {version:?}: voxels or geometry changed"
            );
            assert_eq!(back.labels, img.labels, "{rel}");
            assert!(back.warnings.is_empty(), "{rel}: {:?}", back.warnings);
            let d = corner_error_mm(
                back.volume.geometry(),
                img.volume.geometry(),
                img.volume.dims(),
            );
            assert_eq!(d, 0.0, "{rel}");
        }
    }
}
