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

/// The L5–S1 slip on the TotalSegmentator example (3 mm) from the engine's maps against the same measurement on
/// TotalSegmentator's own labels (vertebrae, and bodies = its body class within each vertebra). Figures: the old
/// corner walk (perpendicular to the body's axis, which left a tilted endplate through the endplate itself) gave
/// 10.3 mm (engine) and 14.1 mm (TotalSegmentator's labels); now engine +0.5 mm, TotalSegmentator's labels
/// −4.7 mm. What is left is about one voxel: the engine's L5 ends lower, in the L5–S1 disc (its inferior
/// endplate plane lies 2.4 mm below TotalSegmentator's; the CT's endplate cortex peaks about 1.5 mm above
/// TotalSegmentator's), TotalSegmentator's L5 reaches a voxel further back at the posterior-inferior corner, and
/// along the 41° endplate a voxel moves the corner by 2–4 mm.
#[test]
fn totalseg_example_l5_s1_slip_agrees_with_totalsegmentator_labels() {
    let (Some(ct_path), Some(lab_path), Some(body_path)) = (
        shared_data("ct-totalseg-example/ct.nii.gz"),
        shared_data("ct-totalseg-example/labels/vertebrae.nii.gz"),
        shared_data("ct-totalseg-example/labels/vertebral_bodies_and_discs.nii.gz"),
    ) else {
        return;
    };
    let open = |p: &std::path::Path| {
        spinekit_io::open_volume(p, &spinekit_io::OpenOptions::default()).unwrap()
    };
    let ct = open(&ct_path).into_ct_hu().unwrap();
    // TotalSegmentator: 26 S1, 27 L5 … 31 L1, 32 T12, 33 T11.
    let ts_level = |v: u8| -> Option<Level> {
        match v {
            26 => Some(Level::Sacrum),
            27 => Some(Level::L5),
            28 => Some(Level::L4),
            29 => Some(Level::L3),
            30 => Some(Level::L2),
            31 => Some(Level::L1),
            32 => Some(Level::T12),
            _ => None,
        }
    };
    let ts = open(&lab_path).volume.to_type::<u8>();
    let labels = ts.map(|v| ts_level(v).map_or(0, |l| l.verse_label()));
    let body_class = open(&body_path).volume.to_type::<u8>();
    let bodies = spinekit_image::Volume::from_vec(
        labels.dims(),
        *labels.geometry(),
        labels
            .data()
            .iter()
            .zip(body_class.data())
            .map(|(&l, &b)| if b == 1 { l } else { 0 })
            .collect(),
    )
    .unwrap();
    let levels: Vec<LevelInput> = [
        Level::T12,
        Level::L1,
        Level::L2,
        Level::L3,
        Level::L4,
        Level::L5,
    ]
    .into_iter()
    .chain([Level::Sacrum])
    .map(|level| LevelInput {
        level,
        label: level.verse_label(),
        partial: false,
    })
    .collect();
    let reference = measure(
        &ct,
        &SpineInput {
            labels: &labels,
            bodies: &bodies,
            canal: None,
            canal_kind: CanalMapKind::OsseousCanal,
            levels: &levels,
        },
        None,
    )
    .unwrap();
    let seg = spinekit_ct::segment(&ct, &spinekit_ct::SegmentOptions::default(), None).unwrap();
    let ours = measure_segmentation(&ct, &seg, None).unwrap();
    let slip = |m: &SpineMeasurements| {
        m.spondylolisthesis
            .iter()
            .find(|s| s.upper == Level::L5 && s.lower == Level::Sacrum)
            .and_then(|s| s.slip.value())
            .map(|s| s.slip_mm)
    };
    let (a, b) = (
        slip(&ours).expect("engine slip"),
        slip(&reference).expect("reference slip"),
    );
    eprintln!("L5–S1 slip: engine {a:.2} mm, on TotalSegmentator's labels {b:.2} mm");
    // Two voxels along the tilted walls (see above); the old walk was 3.8 mm apart but both 10–14 mm off zero.
    assert!((a - b).abs() <= 6.0, "engine {a}, TotalSegmentator {b}");
    // Neither is near a Meyerding grade II (> 25 % of a ~35 mm endplate): on the images (3 mm) the L5 and S1
    // posterior walls lie within about a voxel of each other.
    for x in [a, b] {
        assert!(x.abs() < 8.0, "slip {x}");
    }
}
