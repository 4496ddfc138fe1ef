//! Plausibility on the real TotalSegmentator example CT (skipped when the data are absent, failing under CI).

use spinekit_anatomy::{Level, Region};
use spinekit_measure::*;
use spinekit_testdata::shared_data;

#[test]
fn totalseg_example_values_are_plausible() {
    let Some(path) = shared_data("ct-totalseg-example/ct.nii.gz") else {
        return;
    };
    let ct = spinekit_io::open_volume(&path, &spinekit_io::OpenOptions::default())
        .unwrap()
        .into_ct_hu()
        .unwrap();
    let seg = spinekit_ct::segment(&ct, &spinekit_ct::SegmentOptions::default(), None).unwrap();
    let t = std::time::Instant::now();
    let m = measure_segmentation(&ct, &seg, None).unwrap();
    eprintln!(
        "measure: {:.0} ms {:?}",
        t.elapsed().as_secs_f64() * 1e3,
        m.timings
    );
    let mut lumbar_heights = 0;
    for v in &m.vertebrae {
        let h = v.heights.value();
        let f = v.fracture.value();
        let r = v.trabecular_roi.value();
        eprintln!(
            "{:>6} H {} genant {} HU roi {} ts {} vol {} {}",
            v.level.name(),
            h.map_or("--".into(), |h| format!(
                "{:.1}/{:.1}/{:.1}",
                h.anterior_mm, h.middle_mm, h.posterior_mm
            )),
            f.map_or("--".into(), |f| format!(
                "{} {:?} {:.0}%",
                f.genant_grade_value, f.shape, f.max_loss_percent
            )),
            r.map_or("--".into(), |r| format!(
                "{:.0} (n {})",
                r.mean_hu, r.voxel_count
            )),
            v.eroded_body
                .value()
                .map_or("--".into(), |r| format!("{:.0}", r.median_hu)),
            v.body
                .value()
                .map_or("--".into(), |b| format!("{:.1} ml", b.volume_ml)),
            v.heights.reason().unwrap_or("")
        );
        if let Some(h) = h {
            if v.level.region() == Region::Lumbar {
                lumbar_heights += 1;
                for x in [h.anterior_mm, h.middle_mm, h.posterior_mm] {
                    assert!((18.0..=38.0).contains(&x), "{} height {x}", v.level);
                }
            }
        }
        if let Some(r) = r {
            if v.level.region() == Region::Lumbar {
                assert!(
                    (50.0..=300.0).contains(&r.mean_hu),
                    "{} HU {}",
                    v.level,
                    r.mean_hu
                );
            }
        }
    }
    assert!(
        lumbar_heights >= 3,
        "only {lumbar_heights} lumbar levels measured"
    );
    eprintln!(
        "bone density: {}",
        serde_json::to_string_pretty(&m.bone_density).unwrap()
    );
    eprintln!(
        "coronal: {:?}",
        m.alignment
            .coronal
            .value()
            .map(|c| (c.max_cobb_deg, c.curves.clone()))
    );
    eprintln!("coronal reason: {:?}", m.alignment.coronal.reason());
    eprintln!(
        "LL: {:?} {:?}",
        m.alignment.lumbar_lordosis.value().map(|l| l.angle_deg),
        m.alignment.lumbar_lordosis.reason()
    );
    eprintln!(
        "TK: {:?} {:?}",
        m.alignment
            .thoracic_kyphosis
            .value()
            .map(|l| (l.angle_deg, l.upper, l.lower)),
        m.alignment.thoracic_kyphosis.reason()
    );
    for s in &m.spondylolisthesis {
        eprintln!(
            "slip {}-{}: {:?} {:?}",
            s.upper,
            s.lower,
            s.slip
                .value()
                .map(|x| (x.slip_mm, x.slip_percent, x.meyerding_grade)),
            s.slip.reason()
        );
    }
    for c in &m.canal {
        eprintln!(
            "{}: {:?} {:?}",
            c.name,
            c.section.value().map(|s| (
                s.ap_diameter_mm,
                s.transverse_diameter_mm,
                s.area_mm2,
                s.ap_flag
            )),
            c.section.reason()
        );
    }
    if let Some(l) = m.alignment.lumbar_lordosis.value() {
        assert!((0.0..=90.0).contains(&l.angle_deg), "LL {}", l.angle_deg);
    }
    if let Some(b) = m.bone_density.value() {
        assert!((50.0..=300.0).contains(&b.trabecular_roi_mean_hu));
        assert!(matches!(
            b.level,
            Level::L1 | Level::L2 | Level::T12 | Level::L3 | Level::L4 | Level::L5 | Level::T11
        ));
    }
}
