//! Accuracy on the real CTs in ../shared/data (skipped with a message when the data are absent, failing under CI).

use spinekit_anatomy::Level;
use spinekit_ct::{segment, NumberingStatus, SegmentOptions};
use spinekit_image::Volume;
use spinekit_io::{open_volume, OpenOptions, SeriesSelector};
use spinekit_morph::{dice, dice_labels};
use spinekit_testdata::shared_data;

mod common;
use common::{load_ct_hu, load_u8, midbody_canal_ap, totalseg_to_verse};
use spinekit_phantom::thick_slices;

#[test]
fn totalseg_example_levels_bodies_and_discs() {
    let Some(ct_path) = shared_data("ct-totalseg-example/ct.nii.gz") else {
        return;
    };
    let Some(lab_path) = shared_data("ct-totalseg-example/labels/vertebrae.nii.gz") else {
        return;
    };
    let Some(body_path) =
        shared_data("ct-totalseg-example/labels/vertebral_bodies_per_level.nii.gz")
    else {
        return;
    };
    let Some(body_disc_path) =
        shared_data("ct-totalseg-example/labels/vertebral_bodies_and_discs.nii.gz")
    else {
        return;
    };
    let ct = load_ct_hu(&ct_path);
    let seg = segment(&ct, &SegmentOptions::default(), None).unwrap();
    let rep = &seg.report;
    eprintln!("{}", serde_json::to_string_pretty(&rep.numbering).unwrap());
    for v in &rep.vertebrae {
        eprintln!(
            "{} label {} height {:?} ribs {:?} partial {} conf {:.2} body {:?}",
            v.level,
            v.label,
            v.height_mm,
            v.rib_bearing,
            v.partial,
            v.confidence,
            v.body_centroid_mm.is_some()
        );
    }
    let truth = load_u8(&lab_path).map(totalseg_to_verse);
    let bodies = load_u8(&body_path);
    let body_or_disc = load_u8(&body_disc_path);
    let mut level_dice = Vec::new();
    for l in [Level::L1, Level::L2, Level::L3, Level::L4, Level::L5] {
        let lab = l.verse_label();
        let d = dice_labels(&seg.labels, lab, &truth, lab).unwrap_or(0.0);
        let b = dice_labels(&seg.bodies, lab, &bodies, lab).unwrap_or(0.0);
        // TotalSegmentator's body class (bodies-and-discs model, label 1) within its own vertebra label.
        let own = Volume::from_vec(
            truth.dims(),
            *truth.geometry(),
            truth
                .data()
                .iter()
                .zip(body_or_disc.data())
                .map(|(&v, &bd)| u8::from(v == lab && bd == 1))
                .collect(),
        )
        .unwrap();
        let bo = dice_labels(&seg.bodies, lab, &own, 1).unwrap_or(0.0);
        eprintln!(
            "{l}: vertebra Dice {d:.3}, body Dice {b:.3} (per-level file), {bo:.3} (body class ∩ vertebra)"
        );
        level_dice.push((l, d, b, bo));
    }
    let discs: Vec<String> = rep
        .discs
        .iter()
        .map(|d| format!("{}-{}", d.upper, d.lower))
        .collect();
    eprintln!("discs {discs:?}; timings {:?}", seg.timings);
    // Figures reached (3 mm, vs TotalSegmentator): vertebra L1 0.918, L2 0.914, L3 0.941, L4 0.946, L5 0.901; body
    // vs the per-level file 0.900, 0.891, 0.908, 0.913, 0.850; body vs TotalSegmentator's own body class within its
    // vertebra label 0.947, 0.921, 0.952, 0.932, 0.916 (with the axis-frame cut from 10° of tilt instead of 20°:
    // 0.902, 0.887, 0.908, 0.922, 0.850 and 0.943, 0.933, 0.952, 0.961, 0.916, but the demo phantom's L3 lost 2.6 mm
    // of posterior height); sacrum (vs S1) 0.683 (before: vertebrae 0.910/0.896/0.937/
    // 0.939/0.890, bodies 0.901/0.873/0.914/0.915/0.856 and 0.948/0.905/0.946/0.934/0.904; earlier: vertebrae
    // 0.894/0.877/0.931/0.936/0.873, bodies 0.891/0.849/0.911/0.912/0.819). What moved them: the posterior body cut
    // follows the axis (mean normal of its disc planes) of each vertebra tilted more than 20°, a sagittal hull pass restores L2's faint
    // anterior-superior corner (absent from five consecutive axial sections), dense endplate voxels inside a
    // wedge-shaped disc's averaged core stay with their vertebra (L5–S1), and a horizontal boundary between two
    // vertebrae behind the bodies is moved one voxel down (the lower vertebra had cut the upper one's inferior
    // articular processes at every facet joint). Before that: body sections filled to their convex hull where a
    // thin anterior cortex leaves the ring open, enclosed pedicle/process marrow filled, faint voxels between two
    // vertebrae (bridged L5–S1 disc, facet joints) removed, and the L5–S1 disc's core kept free of both neighbours.
    // The per-level body file (`totalseg_vertebrae_pp_refined`) is not TotalSegmentator's body as its own models
    // draw it: it is 12–20 % smaller than its body class within its vertebra label (Dice between the two 0.915,
    // 0.919, 0.924, 0.934, 0.877 for L1–L5), and the voxels it drops are that body's surface shell (endplate faces
    // first, then the posterior wall and the sides), median 240–290 HU, i.e. the cortex. Our bodies include the
    // cortex and the endplates (the anatomical body), so they are held to ≥ 0.90 against the body class within the
    // vertebra label, and to the figures above against the per-level file.
    // What is left (vertebrae): at the facet joints the lower vertebra still holds part of the upper one's inferior
    // articular processes (the joint gap is not resolved at 3 mm); L5's transverse-process tips that the reference
    // labels are below 150 HU (many below 0 HU: soft tissue inside the reference's smooth outline).
    // The names must be right and anchored on the sacrum.
    assert!(rep.numbering.sacrum_found, "sacrum not found");
    // Floors: the figures reached less about 0.005 (vertebra, per-level body) and 0.01 (body class); L5's
    // vertebra floor (0.895) is below the 0.90 it reaches by that margin.
    let floor = [
        (0.91, 0.895, 0.93),
        (0.905, 0.88, 0.915),
        (0.935, 0.90, 0.945),
        (0.94, 0.905, 0.925),
        (0.895, 0.845, 0.90),
    ];
    for ((l, d, b, bo), (fd, fb, fbo)) in level_dice.iter().zip(floor) {
        assert!(*d >= fd, "{l}: vertebra Dice {d}");
        assert!(*b >= fb, "{l}: body Dice (per-level file) {b}");
        assert!(*bo >= fbo, "{l}: body Dice (body class ∩ vertebra) {bo}");
    }
    let mean = level_dice.iter().map(|x| x.1).sum::<f64>() / 5.0;
    assert!(mean >= 0.92, "mean L1–L5 Dice {mean}");
    let sacrum = Level::Sacrum.verse_label();
    let ds = dice_labels(&seg.labels, sacrum, &truth, sacrum).unwrap_or(0.0);
    // 0.673: TotalSegmentator's S1 stops short of the sacroiliac joints (its lateral extent is 9 mm less on each
    // side) and leaves out part of the posterior elements that the engine's sacrum holds.
    assert!(ds >= 0.63, "sacrum (vs S1) Dice {ds}");
    // The sacrum's body map is the S1 body: against TotalSegmentator's body class within its S1 label, 0.830
    // (0.781 when it held the sacrum in front of one straight wall line).
    let Some(class_path) =
        shared_data("ct-totalseg-example/labels/vertebral_bodies_and_discs.nii.gz")
    else {
        return;
    };
    let class = load_u8(&class_path);
    let s1_body = Volume::from_vec(
        truth.dims(),
        *truth.geometry(),
        truth
            .data()
            .iter()
            .zip(class.data())
            .map(|(&l, &c)| u8::from(l == sacrum && c == 1))
            .collect(),
    )
    .unwrap();
    let db = dice(&seg.bodies.map(|x| u8::from(x == sacrum)), &s1_body).unwrap();
    eprintln!("sacrum Dice {ds:.3}, S1 body Dice {db:.3}");
    assert!(db >= 0.80, "S1 body Dice {db}");
    // Every disc from T12–L1 down to L5–S1.
    assert!(rep.discs.len() >= 6, "discs found: {discs:?}");
    assert!(
        rep.discs
            .iter()
            .any(|d| d.upper == Level::L5 && d.lower == Level::Sacrum),
        "L5–S1 disc missing: {discs:?}"
    );
    // Disc voxels against TotalSegmentator's disc class (label 2 of the bodies-and-discs model), all discs
    // together: 0.841 (0.682 when discs were the soft tissue in a 16 mm cylinder around the centreline, with L5–S1
    // at 0.23 on its own). Each lumbar disc's voxels lie in that class for 0.81–0.87 of them, L5–S1 0.62 (ours
    // reaches into the wedge's anterior corners), T12–L1 0.65.
    let ours = seg.discs.map(|x| u8::from(x != 0));
    let theirs = class.map(|x| u8::from(x == 2));
    let dd = dice(&ours, &theirs).unwrap();
    eprintln!("all-disc Dice {dd:.3}");
    assert!(dd >= 0.82, "all-disc Dice {dd}");
    for d in &rep.discs {
        let v = 100 + d.upper.verse_label();
        let (n, inside) = seg
            .discs
            .data()
            .iter()
            .zip(theirs.data())
            .filter(|(&x, _)| x == v)
            .fold((0usize, 0usize), |(n, i), (_, &t)| {
                (n + 1, i + usize::from(t != 0))
            });
        let precision = inside as f64 / n.max(1) as f64;
        eprintln!("{}: {n} voxels, {precision:.3} in the disc class", d.upper);
        if d.upper >= Level::L1 {
            assert!(
                precision >= 0.6,
                "{}–{} disc: {precision:.3} in the disc class",
                d.upper,
                d.lower
            );
        }
    }
    let union = dice(
        &seg.labels.map(|x| u8::from(x != 0)),
        &truth.map(|x| u8::from(x != 0)),
    )
    .unwrap();
    assert!(union >= 0.70, "all-vertebrae Dice {union}");
}

#[test]
fn ircadb_bone_and_vertebrae() {
    let Some(ct_path) = shared_data("ct-ircadb-01/PATIENT_DICOM") else {
        return;
    };
    let Some(mask_path) = shared_data("ct-ircadb-01/MASKS_DICOM.zip") else {
        return;
    };
    let ct = load_ct_hu(&ct_path);
    let t = std::time::Instant::now();
    let seg = segment(&ct, &SegmentOptions::default(), None).unwrap();
    eprintln!("segment {:?}: {:?}", t.elapsed(), seg.timings);
    let opts = OpenOptions {
        series: SeriesSelector::Folder("bone".into()),
    };
    let manual = open_volume(&mask_path, &opts)
        .unwrap()
        .volume
        .to_type::<u8>();
    assert_eq!(manual.dims(), seg.bone.dims());
    let d = dice(&seg.bone, &manual.map(|x| u8::from(x != 0))).unwrap();
    eprintln!("bone Dice {d:.4}");
    let rep = &seg.report;
    eprintln!("{}", serde_json::to_string_pretty(&rep.numbering).unwrap());
    for v in &rep.vertebrae {
        eprintln!(
            "{} height {:?} ribs {:?} partial {} vol {:.1}",
            v.level, v.height_mm, v.rib_bearing, v.partial, v.volume_ml
        );
    }
    eprintln!("findings {:?}", rep.findings);
    assert!(d >= 0.99, "bone Dice {d}");
    let full = rep.vertebrae.iter().filter(|v| !v.partial).count();
    assert!(full >= 4, "complete vertebrae found: {full}");
    // Names must be unique (no vertebra found twice).
    let mut names: Vec<_> = rep.vertebrae.iter().map(|v| v.label).collect();
    names.dedup();
    assert_eq!(names.len(), rep.vertebrae.len());
    assert!(!rep.numbering.sacrum_found);
    assert_ne!(rep.numbering.status, NumberingStatus::Confident);
    // Canal: this adult's lumbar canal is not stenotic on the images, so its mid-body AP diameter at L1–L3 must
    // be at least 11 mm (normal adult lumbar osseous canal AP is about 15–25 mm; relative stenosis is < 12 mm and
    // absolute < 10 mm, clinical-reference §5.1): the former threshold-flood canal gave 8–9 mm at L2/L3 (fat and
    // enhancing veins left out) and false stenosis flags.
    let mut measured = 0;
    for l in [Level::L1, Level::L2, Level::L3] {
        let Some(v) = rep.vertebrae.iter().find(|v| v.level == l && !v.partial) else {
            continue;
        };
        let ap = midbody_canal_ap(&seg.bodies, v.label, &seg.canal)
            .map(|(ap_mm, ..)| ap_mm)
            .unwrap_or_else(|| panic!("{l}: no canal at mid-body"));
        eprintln!("{l}: mid-body canal AP {ap:.1} mm");
        assert!(ap >= 11.0, "{l}: mid-body canal AP {ap} mm");
        measured += 1;
    }
    assert!(measured >= 2, "L1–L3 canal measured at {measured} levels");
}

/// The IRCADb series (0.57 × 0.57 × 1.6 mm) reconstructed as 4.8 mm slices, as older archives and many routine
/// abdominal studies store them: the same vertebrae must be found with the same names (centroids within 20 mm of
/// the thin series' ones), and the numbering stays honest (no sacrum). Before: T12 and L1 merged at the top of the
/// view (a disc averaged away with its endplates), naming L2–L5 one level too high; the end segment is now cut at
/// the clearest disc in the CT values one vertebra-height from its disc.
#[test]
fn ircadb_as_thick_slices_keeps_its_names() {
    let Some(ct_path) = shared_data("ct-ircadb-01/PATIENT_DICOM") else {
        return;
    };
    let ct = load_ct_hu(&ct_path);
    let thin = common::report_of(&ct);
    let thick = common::report_of(&thick_slices(&ct, 3));
    let show = common::names_z;
    eprintln!("1.6 mm: {}\n4.8 mm: {}", show(&thin), show(&thick));
    assert_ne!(thick.numbering.status, NumberingStatus::Confident);
    let (moved, matched) = common::moved_from(&thick, &thin, 20.0);
    assert!(
        moved.is_empty(),
        "at 4.8 mm, away from the 1.6 mm same level: {moved:?}: {}",
        show(&thick)
    );
    assert!(matched >= 4, "{}", show(&thick));
}

/// The IRCADb series with noise added, as a low-dose or thin-slice bone-kernel series reads: uncorrelated 30 HU,
/// and the scanner-like texture (0.6 mm grain) at 30 and 45 HU. The noise is measured and reported, and every
/// whole vertebra keeps its name (centroid within 10 mm of the clean series' same level); the numbering stays
/// honest (no sacrum). Before: 4–7 vertebrae, names shifted, one label of 322 ml. The portal-venous aorta
/// (about 200 HU, at the bone threshold) was joined to the vertebrae by its speckle and accepted as bone with them;
/// in each slice it lies apart from them, without cortex, and is now taken out there. The faint mid-body of a
/// noisy vertebra could also read as a disc beside a clearer one.
#[test]
fn ircadb_with_added_noise_keeps_its_names() {
    use spinekit_phantom::{added_noise, NoiseTexture};
    let Some(ct_path) = shared_data("ct-ircadb-01/PATIENT_DICOM") else {
        return;
    };
    let ct = load_ct_hu(&ct_path);
    let clean = common::report_of(&ct);
    let show = common::names_z;
    eprintln!(
        "clean ({:.1} HU): {}",
        clean.findings.noise_hu,
        show(&clean)
    );
    assert!(
        (8.0..15.0).contains(&clean.findings.noise_hu),
        "clean noise {}",
        clean.findings.noise_hu
    );
    // A portal-venous study: no blood pool reaches 300 HU, and bone is told from contrast at the usual cortex.
    assert_eq!(
        (clean.findings.blood_pool_hu, clean.findings.cortex_hu),
        (None, 400.0)
    );
    // (texture, added SD, seed, range of the measured noise: the neighbour-difference SD reads the scanner
    // texture's correlated noise lower than its SD).
    let cases = [
        (NoiseTexture::Uncorrelated, 30.0, 1, 25.0..40.0),
        (NoiseTexture::Scanner, 30.0, 2, 15.0..30.0),
        (NoiseTexture::Scanner, 45.0, 2, 25.0..40.0),
    ];
    for (texture, sd, seed, range) in cases {
        let noisy = added_noise(&ct, sd, texture, seed);
        let rep = common::report_of(&noisy);
        let case = format!("{texture:?} {sd} HU (seed {seed})");
        eprintln!("{case} ({:.1} HU): {}", rep.findings.noise_hu, show(&rep));
        assert!(
            range.contains(&rep.findings.noise_hu),
            "{case}: noise read {}",
            rep.findings.noise_hu
        );
        assert_ne!(rep.numbering.status, NumberingStatus::Confident, "{case}");
        let whole =
            |r: &spinekit_ct::SpineReport| r.vertebrae.iter().filter(|v| !v.partial).count();
        assert_eq!(whole(&rep), whole(&clean), "{case}: {}", show(&rep));
        let (moved, _) = common::moved_from(&rep, &clean, 10.0);
        assert!(
            moved.is_empty(),
            "{case}: away from the clean same level: {moved:?}: {}",
            show(&rep)
        );
    }
}

/// The TotalSegmentator example (3 mm voxels) with 30 HU of uncorrelated noise added, three realisations: noise
/// leaves false gaps in mid-bodies and fills real discs, and the names are not always right (two of the three
/// realisations end `uncertain` with a vertebra merged or split), but they are never `confident` and wrong. A
/// confident result keeps every whole vertebra within 10 mm of the clean series' same level. (Two short
/// neighbours that together make one vertebra, parted by a weak mask gap where the CT values show no disc, are
/// one vertebra: realisation 1 was `uncertain` with L2 split in two, and is now confident and right.)
#[test]
fn totalseg_example_with_added_noise_is_honest() {
    use spinekit_phantom::{added_noise, NoiseTexture};
    let Some(ct_path) = shared_data("ct-totalseg-example/ct.nii.gz") else {
        return;
    };
    let ct = load_ct_hu(&ct_path);
    let clean = common::report_of(&ct);
    let mut confident = 0;
    for seed in 1..=3 {
        let rep = common::report_of(&added_noise(&ct, 30.0, NoiseTexture::Uncorrelated, seed));
        eprintln!(
            "seed {seed}: {:?} {}",
            rep.numbering.status,
            common::names_z(&rep)
        );
        if rep.numbering.status != NumberingStatus::Confident {
            continue;
        }
        confident += 1;
        let (moved, _) = common::moved_from(&rep, &clean, 10.0);
        assert!(
            moved.is_empty(),
            "seed {seed}: confident, but away from the clean same level: {moved:?}: {}",
            common::names_z(&rep)
        );
    }
    assert!(confident >= 1, "no realisation confident");
}
