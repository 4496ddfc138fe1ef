//! Partial anatomy and bad input give explicit not-measurable entries, never a panic.

use spinekit_anatomy::Level;
use spinekit_bodycomp::{analyze, BodyCompError, ContrastHints, Measured, PatientInfo, Sex};
use spinekit_phantom::{generate, PhantomConfig};

fn reason<T: std::fmt::Debug>(m: &Measured<T>) -> String {
    match m {
        Measured::NotMeasurable { reason } => reason.clone(),
        m => panic!("expected not measurable, got {m:?}"),
    }
}

#[test]
fn no_l3_in_view() {
    let ph = generate(&PhantomConfig::small(Level::T8, Level::L2), None).unwrap();
    let seg = spinekit_ct::segment(&ph.ct, &Default::default(), None).unwrap();
    let patient = PatientInfo {
        height_cm: Some(170.0),
        sex: Some(Sex::Female),
        ..Default::default()
    };
    let out = analyze(&ph.ct, &seg, &patient, &ContrastHints::default()).unwrap();
    let r = &out.report;
    let l3 = r.levels.iter().find(|e| e.level == Level::L3).unwrap();
    assert!(reason(&l3.result).contains("not in view"), "{l3:?}");
    assert!(reason(&r.l3.skeletal_muscle_index_cm2_per_m2).contains("L3"));
    assert!(r.l3.flags.iter().all(|f| f.value().is_none()));
    // Levels above L3 are still measured.
    let l1 = r.levels.iter().find(|e| e.level == Level::L1).unwrap();
    assert!(l1.result.value().is_some(), "{l1:?}");
    // Serialises with units in the field names and the schema.
    let j = serde_json::to_string(r).unwrap();
    assert!(
        j.contains("\"schema\":\"spinekit-bodycomp/2\"") && j.contains("skeletal_muscle_area_cm2")
    );
}

#[test]
fn cut_outline_empty_slice_and_wrong_grid() {
    let mut cfg = PhantomConfig::small(Level::T11, Level::Sacrum);
    cfg.voxel_size_mm = [1.5, 1.5, 2.0];
    let ph = generate(&cfg, None).unwrap();
    let seg = spinekit_ct::segment(&ph.ct, &Default::default(), None).unwrap();
    let hints = ContrastHints::default();
    let p = PatientInfo::default();

    // A small field of view (the central 200 mm) cuts the body outline.
    let d = ph.ct.dims();
    let keep = (200.0 / 1.5) as usize;
    let lo = [(d[0] - keep) / 2, 0, 0];
    let hi = [lo[0] + keep, d[1], d[2]];
    let ct_small = ph.ct.crop(lo, hi).unwrap();
    let seg_small = spinekit_ct::segment(&ct_small, &Default::default(), None).unwrap();
    let out = analyze(&ct_small, &seg_small, &p, &hints).unwrap();
    let l3 = out
        .report
        .levels
        .iter()
        .find(|e| e.level == Level::L3)
        .and_then(|e| e.result.value())
        .expect("L3 measured");
    assert!(l3.body_outline_cut_by_fov);
    assert_eq!(
        reason(&l3.subcutaneous_fat_area_cm2),
        "body outline cut by the field of view: subcutaneous fat not measurable"
    );

    // The L3 slice replaced by air: no body outline.
    let mut ct_air = ph.ct.clone();
    let l3c = seg
        .report
        .vertebrae
        .iter()
        .find(|v| v.level == Level::L3)
        .unwrap()
        .body_centroid_mm
        .unwrap();
    let k = ct_air.geometry().world_to_index(l3c)[2].round() as usize;
    for j in 0..d[1] {
        for i in 0..d[0] {
            ct_air.set(i, j, k, -1000);
        }
    }
    let out = analyze(&ct_air, &seg, &p, &hints).unwrap();
    let e = out
        .report
        .levels
        .iter()
        .find(|e| e.level == Level::L3)
        .unwrap();
    assert!(reason(&e.result).contains("body"), "{e:?}");

    // L3 reported outside the scanned range.
    let mut seg_out = seg.clone();
    for v in &mut seg_out.report.vertebrae {
        if v.level == Level::L3 {
            v.body_centroid_mm = Some([l3c[0], l3c[1], l3c[2] + 5000.0]);
        }
    }
    let out = analyze(&ph.ct, &seg_out, &p, &hints).unwrap();
    let e = out
        .report
        .levels
        .iter()
        .find(|e| e.level == Level::L3)
        .unwrap();
    assert!(
        reason(&e.result).contains("outside the scanned slices"),
        "{e:?}"
    );

    // A segmentation of another grid is refused.
    assert!(matches!(
        analyze(&ct_small, &seg, &p, &hints),
        Err(BodyCompError::GridMismatch)
    ));
}
