//! `source_series` on real series. Reference UIDs and positions were read independently with pydicom 3
//! (instances sorted by ImagePositionPatient along the slice normal) and are written here as literals.

use spinekit_dicom::{load_volume, scan, source_series, SeriesSelector};
use spinekit_testdata::shared_data;

#[test]
fn ircadb_source_series_matches_volume_slices() {
    let Some(p) = shared_data("ct-ircadb-01/PATIENT_DICOM") else {
        return;
    };
    let s = scan(&p).unwrap();
    let src = source_series(&s, &SeriesSelector::Auto).unwrap();
    let vol = load_volume(&s, &SeriesSelector::Auto).unwrap();
    assert_eq!(src.instances.len(), 129);
    assert_eq!(src.instances.len(), vol.volume.dims()[2]);
    assert_eq!(
        src.study_instance_uid,
        "1.2.826.0.1.3680043.2.1125.6907248010745639067628287040727898539"
    );
    assert_eq!(
        src.series_instance_uid,
        "1.2.826.0.1.3680043.2.1125.9647753419956608505832502991212815128"
    );
    assert_eq!(src.frame_of_reference_uid, ""); // absent in this anonymised series
    assert_eq!(src.study_date, "20090527");
    assert_eq!(
        src.instances[0].sop_instance_uid,
        "1.2.826.0.1.3680043.2.1125.3117066890503337486729876097063713822"
    );
    assert_eq!(
        src.instances[128].sop_instance_uid,
        "1.2.826.0.1.3680043.2.1125.5056068985851841460466652605700936873"
    );
    let g = *vol.volume.geometry();
    for (k, inst) in src.instances.iter().enumerate() {
        assert_eq!(inst.sop_class_uid, "1.2.840.10008.5.1.4.1.1.2");
        let q = inst.position_mm.unwrap();
        let p: Vec<f64> = (0..3)
            .map(|a| g.origin_mm[a] + g.direction[2][a] * g.spacing_mm[2] * k as f64)
            .collect();
        assert!((0..3).all(|a| (p[a] - q[a]).abs() < 1e-3), "slice {k}");
    }
    let mut uids: Vec<&str> = src
        .instances
        .iter()
        .map(|i| i.sop_instance_uid.as_str())
        .collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), 129);
}

#[test]
fn totalseg_blank_uids_fall_back_to_file_meta() {
    // This anonymised series has empty SOPInstanceUID/SOPClassUID/Study/Series UIDs in the data set; the file
    // meta group keeps the SOP Instance UID, which is what any reference must use.
    let Some(p) = shared_data("ct-totalseg-example/dicom") else {
        return;
    };
    let s = scan(&p).unwrap();
    let src = source_series(&s, &SeriesSelector::Auto).unwrap();
    assert_eq!(src.instances.len(), 20);
    assert_eq!(src.study_instance_uid, "");
    assert_eq!(
        src.frame_of_reference_uid,
        "1.3.12.2.1107.5.1.4.60064.30000022120807274275100000041"
    );
    assert_eq!(
        src.instances[0].sop_instance_uid,
        "1.3.12.2.1107.5.1.4.60064.30000022120808113428000016592"
    );
    assert_eq!(
        src.instances[19].sop_instance_uid,
        "1.3.12.2.1107.5.1.4.60064.30000022120808113428000016573"
    );
    assert!(src
        .instances
        .iter()
        .all(|i| i.sop_class_uid == "1.2.840.10008.5.1.4.1.1.2"));
    assert_eq!(src.specific_character_set, "ISO_IR 100");
}
