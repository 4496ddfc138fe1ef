//! Level identification on synthetic phantoms with exact truth (2 mm unless stated; run in seconds).
//! Rule (VerSe identification): a vertebra is correctly identified when its centroid lies within 20 mm of the
//! truth centroid of the same label. Every vertebra must be correct, or the numbering must say it is not sure
//! (status uncertain/failed, or a per-vertebra confidence below 0.6 for names resting on an assumption).

mod common;
use common::{identified, midbody_canal_ap};
use spinekit_anatomy::{Enumeration, FractureShape, GenantGrade, Level};
use spinekit_ct::{segment, NumberingStatus, SegmentOptions, SpineReport};
use spinekit_phantom::{generate, ContrastPhase, FractureSpec, PhantomConfig, Scoliosis, Side};

struct Outcome {
    report: SpineReport,
    /// (label, correct) for each reported vertebra whose label exists in the truth or not.
    checks: Vec<(Level, bool, f64)>,
}

fn run(cfg: &PhantomConfig) -> Outcome {
    let p = generate(cfg, None).unwrap();
    let seg = segment(&p.ct, &SegmentOptions::default(), None).unwrap();
    let truth = spinekit_morph::region_props(&p.labels);
    let checks = seg
        .report
        .vertebrae
        .iter()
        .map(|v| {
            let ok = identified(v.label, v.centroid_mm, &truth);
            (v.level, ok, v.confidence)
        })
        .collect();
    Outcome {
        report: seg.report,
        checks,
    }
}

fn describe(o: &Outcome) -> String {
    format!(
        "{:?} ({}): {:?}",
        o.report.numbering.status, o.report.numbering.reason, o.checks
    )
}

/// Every vertebra correct, or flagged as unsure.
fn assert_correct_or_flagged(o: &Outcome) {
    if o.report.numbering.status != NumberingStatus::Confident {
        return;
    }
    for &(l, ok, conf) in &o.checks {
        assert!(
            ok || conf < 0.6,
            "{l} wrong while confident: {}",
            describe(o)
        );
    }
}

fn assert_all_correct(o: &Outcome) {
    for &(l, ok, _) in &o.checks {
        assert!(ok, "{l} wrong: {}", describe(o));
    }
}

fn base() -> PhantomConfig {
    PhantomConfig::small(Level::T10, Level::Sacrum)
}

#[test]
fn normal_t10_to_sacrum_is_confident_and_correct() {
    let o = run(&base());
    assert!(o.report.numbering.sacrum_found, "{}", describe(&o));
    assert_eq!(o.report.numbering.status, NumberingStatus::Confident);
    assert_eq!(o.report.numbering.lumbar_type_count, 5);
    assert!(o.checks.len() >= 8);
    assert_all_correct(&o);
}

#[test]
fn l6_is_named_and_flagged() {
    let mut c = base();
    c.enumeration = Enumeration::L6;
    let o = run(&c);
    assert_eq!(
        o.report.numbering.enumeration,
        Enumeration::L6,
        "{}",
        describe(&o)
    );
    assert_all_correct(&o);
    assert_eq!(o.report.numbering.status, NumberingStatus::Uncertain);
}

#[test]
fn sacralised_l5_is_named_and_flagged() {
    let mut c = base();
    c.enumeration = Enumeration::SacralisedL5;
    let o = run(&c);
    assert_eq!(
        o.report.numbering.enumeration,
        Enumeration::SacralisedL5,
        "{}",
        describe(&o)
    );
    assert_all_correct(&o);
    assert_eq!(o.report.numbering.status, NumberingStatus::Uncertain);
}

/// 13 or 11 rib pairs cannot be told from 12 without the first rib in view: the lumbar levels and the sacrum
/// must be right, the thoracic names must carry a lowered confidence.
#[test]
fn t13_and_eleven_ribs_keep_lumbar_names_and_flag_thoracic_ones() {
    for e in [Enumeration::T13, Enumeration::ElevenRibs] {
        let mut c = base();
        c.enumeration = e;
        let o = run(&c);
        assert!(o.report.numbering.sacrum_found, "{e:?}: {}", describe(&o));
        for &(l, ok, conf) in &o.checks {
            if l.region() == spinekit_anatomy::Region::Thoracic {
                assert!(conf < 0.6, "{e:?}: {l} not flagged: {}", describe(&o));
            } else {
                assert!(ok, "{e:?}: {l} wrong: {}", describe(&o));
            }
        }
        assert_correct_or_flagged(&o);
    }
}

#[test]
fn scoliosis_fractures_and_3mm_voxels() {
    let mut sc = base();
    sc.scoliosis = Some(Scoliosis {
        cobb_deg: 40.0,
        apex: Level::L1,
        half_span_levels: 3,
        convex: Side::Right,
    });
    let mut fr = base();
    fr.fractures = [
        (Level::T12, GenantGrade::Moderate, FractureShape::Wedge),
        (Level::L1, GenantGrade::Severe, FractureShape::Crush),
        (Level::L3, GenantGrade::Mild, FractureShape::Biconcave),
    ]
    .map(|(level, grade, shape)| FractureSpec {
        level,
        grade,
        shape,
        height_loss: None,
    })
    .to_vec();
    let mut mm3 = base();
    mm3.voxel_size_mm = [3.0; 3];
    for (name, c) in [("scoliosis", sc), ("fractures", fr), ("3 mm", mm3)] {
        let o = run(&c);
        eprintln!("{name}: {}", describe(&o));
        assert!(o.checks.len() >= 6, "{name}: {}", describe(&o));
        assert_correct_or_flagged(&o);
    }
}

#[test]
fn chest_only_and_lumbar_only_fields() {
    let chest = PhantomConfig::small(Level::T1, Level::T12);
    let lumbar = PhantomConfig::small(Level::L1, Level::L5);
    for (name, c) in [("chest", chest), ("lumbar", lumbar)] {
        let o = run(&c);
        eprintln!("{name}: {}", describe(&o));
        // The phantom's field has a 10 mm margin, so the lumbar one shows the top of the sacrum and the bottom of
        // T12: both are then used as cues. The chest one has no sacrum and must not claim certainty.
        if name == "chest" {
            assert!(!o.report.numbering.sacrum_found, "{name}: {}", describe(&o));
            assert_ne!(o.report.numbering.status, NumberingStatus::Confident);
        }
        assert!(o.checks.len() >= 4, "{name}: {}", describe(&o));
        assert_correct_or_flagged(&o);
    }
}

/// A true lumbar-only field (the phantom cropped to the span of the L1–L4 bodies: no sacrum, no ribs, no
/// thoracic vertebra) has no anchor: the numbering must say so (failed or uncertain, with a reason) and no
/// vertebra may carry a confident name.
#[test]
fn lumbar_only_crop_without_anchors_is_not_confident() {
    let p = generate(&base(), None).unwrap();
    let bodies = spinekit_morph::region_props(&p.bodies);
    let span = |l: Level| {
        bodies
            .iter()
            .find(|b| b.label == l.verse_label() as u32)
            .map(|b| (b.bbox_lo, b.bbox_hi))
            .unwrap()
    };
    let (l4, l1) = (span(Level::L4), span(Level::L1));
    // The cranio-caudal axis: the one along which L4 and L1 lie furthest apart.
    let axis = (0..3).max_by_key(|&a| l1.0[a].abs_diff(l4.0[a])).unwrap();
    let (lo_k, hi_k) = (l4.0[axis].min(l1.0[axis]), l4.1[axis].max(l1.1[axis]) + 1);
    let mut lo = [0; 3];
    let mut hi = p.ct.dims();
    lo[axis] = lo_k;
    hi[axis] = hi_k;
    let ct = p.ct.crop(lo, hi).unwrap();
    let seg = segment(&ct, &SegmentOptions::default(), None).unwrap();
    let n = &seg.report.numbering;
    eprintln!(
        "lumbar crop: {:?} ({}) {:?}",
        n.status, n.reason, n.evidence
    );
    assert!(!n.sacrum_found, "sacrum claimed in a field without it");
    assert_ne!(n.status, NumberingStatus::Confident, "{}", n.reason);
    assert!(!n.reason.is_empty());
    assert!(
        seg.report.vertebrae.len() >= 3,
        "{:?}",
        seg.report.vertebrae.len()
    );
    for v in &seg.report.vertebrae {
        assert!(
            v.confidence < 0.6,
            "{} named with confidence {}",
            v.level,
            v.confidence
        );
    }
}

/// Vertebral bodies against the phantom's exact body map. Figures reached: L1 0.896, L2 0.875, L3 0.912,
/// L4 0.928, L5 0.908 (posterior wall per column from the canal front, faint partial-volume surface peeled);
/// vertebrae L1–L5 0.904, 0.904, 0.911, 0.903, 0.903. Discs (non-bone voxels with the bodies above and below
/// along the disc's normal) below L1–L5: 0.842, 0.876, 0.866, 0.825 for L2–L5 (0.40–0.63 when they were the
/// soft tissue in a cylinder around the centreline).
#[test]
fn normal_phantom_bodies() {
    let p = generate(&base(), None).unwrap();
    let seg = segment(&p.ct, &SegmentOptions::default(), None).unwrap();
    let mut sum = 0.0;
    for l in [Level::L1, Level::L2, Level::L3, Level::L4, Level::L5] {
        let lab = l.verse_label();
        let d = spinekit_morph::dice_labels(&seg.bodies, lab, &p.bodies, lab).unwrap_or(0.0);
        assert!(d >= 0.865, "{l}: body Dice {d}");
        let dv = spinekit_morph::dice_labels(&seg.labels, lab, &p.labels, lab).unwrap_or(0.0);
        assert!(dv >= 0.895, "{l}: vertebra Dice {dv}");
        sum += d;
    }
    assert!(sum / 5.0 >= 0.90, "mean L1–L5 body Dice {}", sum / 5.0);
    // Ours carry 100 + the label above the disc, the phantom's the label above.
    for l in [Level::L1, Level::L2, Level::L3, Level::L4, Level::L5] {
        let lab = l.verse_label();
        let d = spinekit_morph::dice_labels(&seg.discs, 100 + lab, &p.discs, lab).unwrap_or(0.0);
        eprintln!("disc below {l}: Dice {d:.3}");
        assert!(d >= 0.79, "disc below {l}: Dice {d}");
    }
}

/// Pedicle screws (metal) and an arterial contrast phase (an aorta at about 300 HU lying against the vertebral
/// bodies) must not change the levels or pull the vessel into the vertebrae, and must be reported. Figures
/// reached (2 mm): every level correct and confident in both; L1–L5 vertebra Dice with contrast 0.90, 0.90, 0.91,
/// 0.90, 0.89 (before the aorta was split off at its contact with the bodies: T12 misplaced, L1 0.55).
#[test]
fn metal_and_contrast_keep_levels_and_are_reported() {
    let mut screws = base();
    screws.screws = vec![Level::L3, Level::L4];
    let mut arterial = base();
    arterial.contrast_phase = ContrastPhase::Arterial;
    for (name, c) in [("screws", screws), ("arterial", arterial)] {
        let p = generate(&c, None).unwrap();
        let seg = segment(&p.ct, &SegmentOptions::default(), None).unwrap();
        let truth = spinekit_morph::region_props(&p.labels);
        let rep = &seg.report;
        let f = &rep.findings;
        eprintln!("{name}: {:?}; {:?}", f, rep.numbering.status);
        if name == "screws" {
            assert!(
                f.metal && f.metal_volume_ml > 1.0,
                "{name}: metal not reported: {f:?}"
            );
        } else {
            assert!(!f.metal, "{name}: metal reported without metal: {f:?}");
            assert!(
                f.contrast_or_dense_soft_tissue,
                "{name}: contrast not reported: {f:?}"
            );
        }
        assert!(rep.numbering.sacrum_found, "{name}");
        assert_eq!(rep.numbering.status, NumberingStatus::Confident, "{name}");
        assert!(
            rep.vertebrae.len() >= 8,
            "{name}: {} vertebrae",
            rep.vertebrae.len()
        );
        for v in &rep.vertebrae {
            let ok = identified(v.label, v.centroid_mm, &truth);
            assert!(ok, "{name}: {} misplaced at {:?}", v.level, v.centroid_mm);
        }
        for l in [Level::L1, Level::L2, Level::L3, Level::L4, Level::L5] {
            let lab = l.verse_label();
            let d = spinekit_morph::dice_labels(&seg.labels, lab, &p.labels, lab).unwrap_or(0.0);
            // Screws replace bone inside the pedicles and body of L3–L4 (the truth keeps the vertebra's shape).
            assert!(d >= 0.84, "{name}: {l} vertebra Dice {d}");
        }
    }
}

/// The canal map is the space the vertebral foramen encloses, so its mid-body AP diameter matches the phantom's
/// bony canal (between the body's posterior wall and the laminae in the truth labels) and contains the phantom's
/// dural sac. Figures reached (2 mm, L1–L5): canal 16/16/14/14/14 mm, bony canal 18/18/16/16/18 mm, dural sac
/// 14/12/12/12/12 mm; the engine's 180 HU wall takes the laminae's partial-volume voxel that the truth labels leave
/// to the canal, hence up to two voxels short.
#[test]
fn canal_ap_matches_the_bony_canal() {
    let p = generate(&base(), None).unwrap();
    let seg = segment(&p.ct, &SegmentOptions::default(), None).unwrap();
    let sp = p.ct.geometry().spacing_mm;
    for l in [Level::L1, Level::L2, Level::L3, Level::L4, Level::L5] {
        let lab = l.verse_label();
        let (ap, k, i, dir) = midbody_canal_ap(&p.bodies, lab, &seg.canal)
            .unwrap_or_else(|| panic!("{l}: no canal at mid-body"));
        // Truth: the bony canal, from the body's posterior wall to the laminae in the truth labels, along the same
        // column; the median over the vertebra's slices where the arch closes it (within 40 mm).
        let nj = p.labels.dims()[1] as isize;
        let nk = p.labels.dims()[2];
        let mut gaps: Vec<usize> = (0..nk)
            .filter_map(|kk| {
                let mut j = (0..nj)
                    .filter(|&j| p.bodies.get(i, j as usize, kk) == lab)
                    .reduce(|a, b| if dir > 0 { a.max(b) } else { a.min(b) })?;
                j += dir;
                let mut gap = 0usize;
                while j >= 0 && j < nj && p.labels.get(i, j as usize, kk) == 0 {
                    gap += 1;
                    j += dir;
                }
                (j >= 0
                    && j < nj
                    && p.labels.get(i, j as usize, kk) == lab
                    && gap as f64 * sp[1] <= 40.0)
                    .then_some(gap)
            })
            .collect();
        assert!(
            !gaps.is_empty(),
            "{l}: no closed bony canal in the truth (slice {k})"
        );
        gaps.sort_unstable();
        let bony = gaps[gaps.len() / 2];
        let bony_mm = bony as f64 * sp[1];
        let (dural_mm, ..) = midbody_canal_ap(&p.bodies, lab, &p.canal).unwrap();
        eprintln!(
            "{l}: canal AP {ap:.1} mm, bony canal {bony_mm:.1} mm, dural sac {dural_mm:.1} mm"
        );
        assert!(
            (ap - bony_mm).abs() <= 2.0 * sp[1],
            "{l}: canal AP {ap} vs bony canal {bony_mm}"
        );
        assert!(ap >= dural_mm, "{l}: canal AP {ap} < dural sac {dural_mm}");
    }
}

/// The per-vertebra height in spine.json is the distance between its two disc planes' crossings of the centreline:
/// it must match the distance between the truth's disc centres. Reached (2 mm): T10–L5 within 1.0 mm (mean
/// 0.5 mm); the slice span used before was short by up to 1.7 mm (L2) on this phantom, cos(tilt) of the height.
#[test]
fn heights_follow_the_centreline() {
    let p = generate(&base(), None).unwrap();
    let seg = segment(&p.ct, &SegmentOptions::default(), None).unwrap();
    let disc_centre = |upper: Level, lower: Level| {
        p.truth
            .discs
            .iter()
            .find(|d| d.disc.upper == upper && d.disc.lower == lower)
            .map(|d| d.center_mm)
    };
    let mut checked = 0;
    for w in seg.report.vertebrae.windows(3) {
        let (above, v, below) = (&w[0], &w[1], &w[2]);
        let Some(h) = v.height_mm else { continue };
        let (Some(a), Some(b)) = (
            disc_centre(above.level, v.level),
            disc_centre(v.level, below.level),
        ) else {
            continue;
        };
        let d = (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f64>().sqrt();
        eprintln!(
            "{}: height {h:.1} mm, truth disc centres {d:.1} mm apart",
            v.level
        );
        assert!(
            (h - d).abs() <= 1.5,
            "{}: height {h:.1} mm vs {d:.1} mm",
            v.level
        );
        checked += 1;
    }
    assert!(
        checked >= 5,
        "only {checked} vertebrae between two discs in view"
    );
}

/// Thoracic vertebrae hold no rib: the growth follows bone 55 mm out (for the lumbar transverse processes), which
/// on a rib-bearing vertebra carried the proximal ribs with it: T1–T12 at 2 mm gave vertebra Dice 0.67–0.82 (mean
/// 0.756) against the phantom's labels, which like VerSe and TotalSegmentator hold no rib. With the rib shafts cut
/// 38 mm from the centreline: 0.74–0.85, mean 0.785 (1 mm C7–L2 phantom: T1–T12 0.77–0.89; 0.65–0.87 with the
/// input-grid surface refinement alone, 0.61–0.83 before either). The
/// rib heads and necks inside 38 mm remain (the open part of issue #4's thoracic delineation).
#[test]
fn thoracic_vertebrae_hold_no_rib_shafts() {
    let p = generate(&PhantomConfig::small(Level::T1, Level::T12), None).unwrap();
    let seg = segment(&p.ct, &SegmentOptions::default(), None).unwrap();
    let mut dice = Vec::new();
    for v in seg.report.vertebrae.iter().filter(|v| !v.partial) {
        let d =
            spinekit_morph::dice_labels(&seg.labels, v.label, &p.labels, v.label).unwrap_or(0.0);
        dice.push((v.level, d));
    }
    eprintln!("{dice:.3?}");
    assert!(dice.len() >= 8, "{dice:?}");
    let mean = dice.iter().map(|d| d.1).sum::<f64>() / dice.len() as f64;
    assert!(
        mean >= 0.775,
        "mean thoracic vertebra Dice {mean:.3}: {dice:.3?}"
    );
    for &(l, d) in &dice {
        assert!(d >= 0.73, "{l}: vertebra Dice {d:.3}");
    }
}

/// An abdomen–pelvis field: the whole sacrum and the coccyx in view (130 mm margins around L1–S1). The column is
/// then traced down to the coccyx and the sacral alae begin 80–100 mm above its bottom; the sacrum must still be
/// found (it was looked for only in the lowest 60 mm, and a whole-spine phantom lost its sacrum anchor).
#[test]
fn whole_pelvis_in_view_still_finds_the_sacrum() {
    let mut cfg = PhantomConfig::small(Level::L1, Level::Sacrum);
    cfg.grid = spinekit_phantom::GridSize::FitLevels {
        inplane_fov_mm: 400.0,
        margin_mm: 130.0,
    };
    let o = run(&cfg);
    assert!(o.report.numbering.sacrum_found, "{}", describe(&o));
    assert_eq!(
        o.report.numbering.status,
        NumberingStatus::Confident,
        "{}",
        describe(&o)
    );
    assert_all_correct(&o);
}
