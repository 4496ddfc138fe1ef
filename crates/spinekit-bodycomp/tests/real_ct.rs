//! Real CTs: IRCADb-01 patient 1 (portal-venous abdominal CT, per SOURCE.md) and TotalSegmentator's example CT.
//! There are no manual muscle/fat masks for these scans, so the area checks are plausibility ranges for an
//! adult and, for IRCADb, the documented phase; IRCADb's manual organ masks check that no organ is painted as
//! muscle. Set SPINEKIT_BODYCOMP_PNG=dir to write the overlays.

use spinekit_anatomy::{ContrastPhase, Level, Tissue};
use spinekit_bodycomp::{analyze, BodyCompositionOutput, ContrastHints, Measured, PatientInfo};
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
            Measured::Value(c) => eprintln!(
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
            Measured::NotMeasurable { reason } => eprintln!("{name} {}: not measurable: {reason}", e.level),
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
    organs_not_muscle(&out, &p);
}

/// IRCADb's manual organ masks (MASKS_DICOM.zip, one DICOM mask series per structure on the CT grid) against
/// our L3 tissue map: organs whose HU overlaps the muscle window (−29…+150 HU; liver 40–70 HU unenhanced,
/// about 100–150 HU portal venous) must not be painted as skeletal muscle.
fn organs_not_muscle(out: &BodyCompositionOutput, ct_path: &std::path::Path) {
    let Some(zip) = shared_data("ct-ircadb-01/MASKS_DICOM.zip") else {
        return;
    };
    let c = level(out, Level::L3).expect("L3 measured (the engine names L3 on this series)");
    let k = c
        .slice
        .slice_index
        .expect("axial series: the volume's own slice");
    assert_eq!(c.slice.slice_axis, Some(2));
    let m = out
        .maps
        .iter()
        .find(|m| m.level == Level::L3)
        .expect("L3 map");
    let ct = open_volume(ct_path, &OpenOptions::default()).expect("open CT");
    let muscle = |code: u8| Tissue::from_code(code).is_some_and(|t| t.is_skeletal_muscle());
    let mut organ_px = 0usize;
    let mut organ_muscle_px = 0usize;
    for organ in [
        "liver",
        "rightkidney",
        "leftkidney",
        "spleen",
        "artery",
        "venoussystem",
        "portalvein",
    ] {
        let mask = open_volume(
            zip.join(format!("MASKS_DICOM/{organ}")),
            &OpenOptions::default(),
        )
        .expect("open mask")
        .volume;
        assert_eq!(mask.dims(), ct.volume.dims(), "{organ}: mask grid");
        let (go, gc) = (mask.geometry(), ct.volume.geometry());
        for a in 0..3 {
            assert!(
                (go.origin_mm[a] - gc.origin_mm[a]).abs() < 0.01,
                "{organ}: origin"
            );
            assert!(
                (go.spacing_mm[a] - gc.spacing_mm[a]).abs() < 0.01,
                "{organ}: spacing"
            );
        }
        assert_eq!(mask.dims()[0], m.width);
        let (mut n, mut as_muscle) = (0usize, 0usize);
        for j in 0..m.height {
            for i in 0..m.width {
                if mask.get_f64(i, j, k) > 0.0 {
                    n += 1;
                    as_muscle += usize::from(muscle(m.codes[j * m.width + i]));
                }
            }
        }
        let px_cm2 = c.pixel_area_mm2 / 100.0;
        eprintln!(
            "ircadb L3 slice {k}: {organ} {:.1} cm², labelled skeletal muscle {:.2} cm² ({:.1} %)",
            n as f64 * px_cm2,
            as_muscle as f64 * px_cm2,
            100.0 * as_muscle as f64 / n.max(1) as f64
        );
        if organ == "liver" {
            // The liver reaches below this slice (its mask spans z 43–198 mm, L3 at z ≈ 67 mm).
            assert!(n as f64 * px_cm2 > 10.0, "liver on the L3 slice");
            assert!(
                as_muscle as f64 <= 0.02 * n as f64,
                "liver labelled muscle: {as_muscle} of {n} pixels"
            );
        }
        organ_px += n;
        organ_muscle_px += as_muscle;
    }
    assert!(
        organ_muscle_px as f64 <= 0.02 * organ_px as f64,
        "organs and vessels labelled muscle: {organ_muscle_px} of {organ_px} pixels"
    );
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
    // The measured slice is the mid-body slice of the level TotalSegmentator names the same way: centroid z of
    // its per-level vertebral-body label (labels/vertebral_bodies_per_level.nii.gz, 21 L2, 22 L3, 23 L4),
    // computed with nibabel from the label voxels and the affine; the slices are 3 mm apart, so one slice of
    // slack.
    for (l, ts_body_z_mm) in [(Level::L2, 351.9), (Level::L3, 315.46), (Level::L4, 278.03)] {
        let z = level(&out, l).expect("level measured").slice.z_mm;
        assert!(
            (z - ts_body_z_mm).abs() <= 3.0,
            "{l}: slice z {z:.1} mm, TotalSegmentator body centre z {ts_body_z_mm} mm"
        );
    }
}
