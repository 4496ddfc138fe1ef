//! Real CTs: IRCADb-01 patient 1 (portal-venous abdominal CT, per SOURCE.md) and TotalSegmentator's example CT.
//! There are no manual muscle/fat masks for these scans, so the checks are plausibility ranges for an adult
//! and, for IRCADb, the documented phase. Set SPINEKIT_BODYCOMP_PNG=dir to write the overlays.

use spinekit_anatomy::{ContrastPhase, Level};
use spinekit_bodycomp::{analyze, BodyCompositionOutput, ContrastHints, Measure, PatientInfo};
use spinekit_io::{open_volume, OpenOptions};
use spinekit_testdata::shared_data;

fn run(path: &std::path::Path, name: &str) -> BodyCompositionOutput {
    let ct = open_volume(path, &OpenOptions::default())
        .expect("open")
        .into_ct_hu()
        .expect("CT");
    let seg = spinekit_ct::segment(&ct, &Default::default(), None).expect("segment");
    let t0 = std::time::Instant::now();
    let out = analyze(
        &ct,
        &seg,
        &PatientInfo::default(),
        &ContrastHints::default(),
    )
    .expect("analyze");
    eprintln!("{name}: analyze {:.0} ms", t0.elapsed().as_secs_f64() * 1e3);
    for e in &out.report.levels {
        match &e.result {
            Measure::Measured { value: c } => eprintln!(
                "{name} {}: z {:.1} slice {:?}: SMA {:?} psoas {:?} para {:?} QL {:?} wall {:?} IMAT {:?} VAT {:?} \
                 SAT {:?} muscle HU {:?} cut {} table {:.1} cm² body {:.1} cm²",
                e.level,
                c.slice.z_mm,
                c.slice.slice_index,
                c.skeletal_muscle_area_cm2.value().map(|v| (v * 10.0).round() / 10.0),
                c.psoas_area_cm2.value().map(|v| (v * 10.0).round() / 10.0),
                c.paraspinal_area_cm2.value().map(|v| (v * 10.0).round() / 10.0),
                c.quadratus_lumborum_area_cm2.value().map(|v| (v * 10.0).round() / 10.0),
                c.abdominal_wall_muscle_area_cm2.value().map(|v| (v * 10.0).round() / 10.0),
                c.imat_area_cm2.value().map(|v| (v * 10.0).round() / 10.0),
                c.visceral_fat_area_cm2.value().map(|v| (v * 10.0).round() / 10.0),
                c.subcutaneous_fat_area_cm2.value().map(|v| (v * 10.0).round() / 10.0),
                c.muscle_mean_hu.value().map(|v| v.round()),
                c.body_outline_cut_by_fov,
                c.table_removed_cm2,
                c.body_area_cm2,
            ),
            Measure::NotMeasurable { reason } => eprintln!("{name} {}: not measurable: {reason}", e.level),
        }
    }
    let c = &out.report.contrast;
    eprintln!(
        "{name}: phase {:?} ({:.2}), aorta {:?}, evidence {:?}, samples {:?}",
        c.phase, c.confidence, c.aorta_mean_hu, c.evidence, c.aorta
    );
    if let Ok(dir) = std::env::var("SPINEKIT_BODYCOMP_PNG") {
        use spinekit_picture::{write_overlay_png, Plane, SliceAt, SliceOptions, Window};
        for m in &out.maps {
            let (ct, lab) = m.to_volumes().unwrap();
            write_overlay_png(
                format!("{dir}/{name}_{}.png", m.level),
                &ct,
                &lab,
                Plane::Axial,
                SliceAt::Index(0),
                Window::SOFT_TISSUE,
                &SliceOptions::default(),
            )
            .unwrap();
        }
    }
    out
}

fn level(out: &BodyCompositionOutput, l: Level) -> Option<&spinekit_bodycomp::LevelComposition> {
    out.report
        .levels
        .iter()
        .find(|e| e.level == l)
        .and_then(|e| e.result.value())
}

#[test]
fn ircadb_portal_venous_abdomen() {
    let Some(p) = shared_data("ct-ircadb-01/PATIENT_DICOM") else {
        return;
    };
    let out = run(&p, "ircadb");
    // SOURCE.md: contrast-enhanced, portal venous.
    assert_eq!(out.report.contrast.phase, Some(ContrastPhase::PortalVenous));
    // The lowest lumbar level in view must give adult-plausible areas.
    let c = [Level::L3, Level::L2, Level::L1]
        .into_iter()
        .find_map(|l| level(&out, l))
        .expect("a lumbar level measured");
    let sma = *c.skeletal_muscle_area_cm2.value().expect("SMA");
    assert!((60.0..300.0).contains(&sma), "SMA {sma}");
    let vat = *c.visceral_fat_area_cm2.value().expect("VAT");
    assert!((5.0..400.0).contains(&vat), "VAT {vat}");
    let hu = *c.muscle_mean_hu.value().expect("muscle HU");
    assert!((15.0..80.0).contains(&hu), "muscle HU {hu}");
}

#[test]
fn totalseg_example_abdomen() {
    let Some(p) = shared_data("ct-totalseg-example/ct.nii.gz") else {
        return;
    };
    let out = run(&p, "totalseg");
    let c = level(&out, Level::L3).expect("L3 measured");
    let sma = *c.skeletal_muscle_area_cm2.value().expect("SMA");
    assert!((60.0..300.0).contains(&sma), "SMA {sma}");
}
