//! Elderly bone on phantoms with exact truth: osteoporotic and fatty marrow (trabecular density from 40 HU down to
//! −30 HU, far below the 100 HU at which clinical-reference §2 (Pickhardt 2013, S7) puts a PPV for osteoporosis
//! ≥ 68 %), with and without compression fractures. Marrow this faint is as dark as the canal's content and lies
//! far below the 180 HU bone threshold: the bodies must still be filled, the levels named as on a young spine, and
//! no vertebra merged or split — or, where the voxels are too coarse to see the cortex, the numbering must say so.

mod common;
use common::identified;
use spinekit_anatomy::{FractureShape, GenantGrade, Level};
use spinekit_ct::{segment, NumberingStatus, SegmentOptions, SpineReport};
use spinekit_phantom::{generate, FractureSpec, PhantomConfig};

struct Outcome {
    report: SpineReport,
    /// Per lumbar level: (vertebra Dice, body Dice) against the truth.
    dice: Vec<(Level, f64, f64)>,
    /// Every reported vertebra's centroid within 20 mm of the same label's truth (VerSe identification rule).
    names_right: bool,
}

fn run(
    trabecular_hu: f64,
    voxel_mm: [f64; 3],
    fractures: &[(Level, GenantGrade, FractureShape)],
) -> Outcome {
    let mut cfg = PhantomConfig::small(Level::T10, Level::Sacrum);
    cfg.trabecular_hu = trabecular_hu;
    cfg.voxel_size_mm = voxel_mm;
    cfg.fractures = fractures
        .iter()
        .map(|&(level, grade, shape)| FractureSpec {
            level,
            grade,
            shape,
            height_loss: None,
        })
        .collect();
    let p = generate(&cfg, None).unwrap();
    let seg = segment(&p.ct, &SegmentOptions::default(), None).unwrap();
    let truth = spinekit_morph::region_props(&p.labels);
    let names_right = seg
        .report
        .vertebrae
        .iter()
        .all(|v| identified(v.label, v.centroid_mm, &truth));
    let dice = [Level::L1, Level::L2, Level::L3, Level::L4, Level::L5]
        .into_iter()
        .map(|l| {
            let lab = l.verse_label();
            let dv = spinekit_morph::dice_labels(&seg.labels, lab, &p.labels, lab).unwrap_or(0.0);
            let db = spinekit_morph::dice_labels(&seg.bodies, lab, &p.bodies, lab).unwrap_or(0.0);
            (l, dv, db)
        })
        .collect();
    let n = &seg.report.numbering;
    eprintln!(
        "{trabecular_hu} HU, {voxel_mm:?} mm: {:?} ({}); {dice:.3?}",
        n.status, n.reason
    );
    Outcome {
        report: seg.report,
        dice,
        names_right,
    }
}

fn assert_delineated(o: &Outcome, vertebra_min: f64, body_min: f64) {
    assert!(o.names_right, "a level misplaced: {:?}", o.report.vertebrae);
    assert_eq!(
        o.report.numbering.status,
        NumberingStatus::Confident,
        "{}",
        o.report.numbering.reason
    );
    for &(l, dv, db) in &o.dice {
        assert!(dv >= vertebra_min, "{l}: vertebra Dice {dv}");
        assert!(db >= body_min, "{l}: body Dice {db}");
    }
}

/// Figures reached (2 mm; as at 170 HU within 0.01): 40 HU vertebra L1–L5 0.903/0.904/0.910/0.902/0.902, body
/// 0.896/0.875/0.912/0.930/0.892; −30 HU the same to 0.01 but L5 0.893/0.908. Before marrow enclosed in 3D was
/// filled whatever its density, 60 HU gave bodies 0.66/0.67/0.60/0.54/0.18 with a false "uncertain", and 40 HU
/// bodies 0.00–0.02 with every name misplaced.
#[test]
fn osteoporotic_and_fatty_marrow_at_2mm() {
    for hu in [40.0, -30.0] {
        assert_delineated(&run(hu, [2.0; 3], &[]), 0.88, 0.86);
    }
}

/// 1 mm voxels (internal grid 1.5 mm): 40 HU reached vertebra 0.938/0.933/0.932/0.928/0.924, body
/// 0.910/0.911/0.933/0.946/0.945 since the outer surface is refined on the input grid (before: vertebra
/// 0.893–0.904, body 0.889–0.930; before the marrow fill: every body below 0.02).
#[test]
fn osteoporotic_marrow_at_1mm() {
    assert_delineated(&run(40.0, [1.0; 3], &[]), 0.91, 0.90);
}

/// Clinical abdominal series: 0.8 mm pixels, 3 mm slices (the sacrum cut by the scan's lower end). 40 HU reached
/// vertebra 0.928/0.920/0.907/0.918/0.912, body 0.894/0.921/0.912/0.931/0.915, as at 170 HU. Before the scan's
/// cut ends were taken as closed for the marrow fill, the sacrum's marrow drained through the lowest slice, the
/// sacrum was not found, and every name was one level off (numbering `failed`).
#[test]
fn osteoporotic_marrow_with_3mm_slices_and_fine_pixels() {
    assert_delineated(&run(40.0, [0.8, 0.8, 3.0], &[]), 0.90, 0.88);
}

#[test]
fn osteoporotic_spine_with_fractures() {
    let fr = [
        (Level::L1, GenantGrade::Moderate, FractureShape::Wedge),
        (Level::L3, GenantGrade::Severe, FractureShape::Crush),
    ];
    let o = run(60.0, [2.0; 3], &fr);
    assert_delineated(&o, 0.80, 0.75);
}

/// At 3 mm a faint cortex no longer walls the marrow in (partial volume), and low-density bodies are delineated
/// poorly (40 HU: L3–L5 vertebra Dice 0.31–0.62): the check on the final maps must catch it, so the numbering is
/// never `confident` over a vertebra that lost its body to a neighbour. (Open in issue #4: delineate them.)
#[test]
fn osteoporotic_marrow_at_3mm_is_not_confident_when_the_maps_fail() {
    let o = run(40.0, [3.0; 3], &[]);
    let poor = o.dice.iter().any(|&(_, dv, _)| dv < 0.8);
    if poor {
        assert_ne!(
            o.report.numbering.status,
            NumberingStatus::Confident,
            "{}",
            o.report.numbering.reason
        );
        assert!(o.report.vertebrae.iter().any(|v| v.confidence <= 0.3));
    }
}

/// The phantom of `cfg` segmented and checked against its truth: printed under `case`, and never `confident` and
/// wrong.
fn honest_names(cfg: &PhantomConfig, case: &str) -> common::Checked {
    let p = generate(cfg, None).unwrap();
    let c = common::check(&p.ct, &p.labels);
    eprintln!("{case}: {}", common::show(&c));
    common::honest(&c);
    c
}

/// [`honest_names`], and every name right.
fn right_names(cfg: &PhantomConfig, case: &str) -> common::Checked {
    let c = honest_names(cfg, case);
    assert!(common::all_correct(&c), "{case}: {}", common::show(&c));
    c
}

/// A chest field (T1–T12) on a grid of `voxel_mm`.
fn chest(voxel_mm: [f64; 3]) -> PhantomConfig {
    let mut cfg = PhantomConfig::small(Level::T1, Level::T12);
    cfg.voxel_size_mm = voxel_mm;
    cfg
}

/// The low-dose chest CT of an older adult: T1–T12 at 0.8 × 0.8 × 3 mm with 30 HU of noise (in water) and 80 HU
/// marrow, and with 50 HU of noise and normal marrow. Noise and faint marrow fill most of the gaps of the filled
/// bone mask, and the faint mid-bodies leave thin gaps in the mask before closing; the CT values tell the discs
/// (endplates 3–6 mm apart) from the mid-bodies (read 10–18 mm wide). Before: 3–9 thoracic names one level off
/// (`uncertain`); 50 HU of noise left the filled mask no gap at all. Now every name is right (the status stays
/// `uncertain`: neither the sacrum nor the first rib is in view).
#[test]
fn low_dose_chest_of_an_older_adult_keeps_its_names() {
    for (noise_hu, trabecular_hu) in [(30.0, 80.0), (50.0, 170.0)] {
        let mut cfg = chest([0.8, 0.8, 3.0]);
        cfg.noise_sigma_hu = noise_hu;
        cfg.trabecular_hu = trabecular_hu;
        right_names(
            &cfg,
            &format!("noise {noise_hu} HU, marrow {trabecular_hu} HU"),
        );
    }
}

/// Low-dose screening chest CT, thin slices: T1–T12 at 0.8 × 0.8 × 1 mm with 60 HU of noise (in water) and faint
/// marrow (120 and 80 HU). The noise fills every gap of the bone mask, thin ones included, so the mask gives no disc
/// spacing at all; the clear thin discs of the CT values give it. Before: one segment for the whole column and the
/// numbering `failed`. Now every name is right (`uncertain`: neither the sacrum nor the first rib is in view).
#[test]
fn noisy_thin_slice_chest_keeps_its_names() {
    for trabecular_hu in [120.0, 80.0] {
        let mut cfg = chest([0.8, 0.8, 1.0]);
        cfg.noise_sigma_hu = 60.0;
        cfg.trabecular_hu = trabecular_hu;
        right_names(&cfg, &format!("marrow {trabecular_hu} HU"));
    }
}

/// A contrast-enhanced (portal-venous) abdomen at 0.8 × 0.8 × 1 mm with 45 HU of noise and faint marrow: the
/// aorta (about 160 HU) crosses the bone threshold in speckle and three vertebrae in a row grew into it (up to three
/// times their volume), each no larger than its nearest neighbours, so the numbering stayed `confident` with two
/// vertebrae misplaced. A whole vertebra above 1.6 times the median of up to two neighbours on each side is now
/// flagged. Honest: never `confident` and wrong.
#[test]
fn noisy_contrast_abdomen_is_never_confident_and_wrong() {
    for trabecular_hu in [170.0, 80.0] {
        let mut cfg = PhantomConfig::small(Level::T10, Level::Sacrum);
        cfg.voxel_size_mm = [0.8, 0.8, 1.0];
        cfg.noise_sigma_hu = 45.0;
        cfg.trabecular_hu = trabecular_hu;
        cfg.contrast_phase = spinekit_phantom::ContrastPhase::PortalVenous;
        honest_names(&cfg, &format!("marrow {trabecular_hu} HU"));
    }
}

/// An arterial-phase chest (T1–T12 at 0.8 × 0.8 × 1 mm): the heart (280 HU) and the descending aorta (300 HU) lie
/// against the spine and the ribs, so at the bone threshold they join the skeleton and no dense region is left
/// outside the bone to show the contrast; the split of the bone from touching structures never ran, and the heart
/// was labelled as a vertebra (7 names wrong, `uncertain`). The accepted bone's solid part without cortex now
/// triggers the split. Every name is right, and the contrast is reported.
#[test]
fn arterial_chest_keeps_the_heart_out_of_the_spine() {
    let mut cfg = chest([0.8, 0.8, 1.0]);
    cfg.contrast_phase = spinekit_phantom::ContrastPhase::Arterial;
    let c = right_names(&cfg, "arterial chest");
    assert!(
        c.report.findings.contrast_or_dense_soft_tissue,
        "{:?}",
        c.report.findings
    );
}

/// Arterial phase, T4–L3 at 0.8 × 0.8 × 1 mm with 15 HU of noise: the enhancing kidney (170 HU) lies against the
/// 12th rib, and noise carries it over the bone threshold, so it joins the rib and raises its cross-section to
/// 320–434 mm² (a rib's limit is 260). T12 was taken for L1 and every name was one level off (13 wrong,
/// `uncertain`). The rib's cortex-dense part alone (≥ 300 HU) keeps a rib's section (44–48 mm²) over 100–110 mm
/// from its exit: every name is right.
#[test]
fn arterial_kidney_against_the_12th_rib_keeps_it_a_rib() {
    let cfg = thoracolumbar_contrast(spinekit_phantom::ContrastPhase::Arterial, 15.0);
    right_names(&cfg, "arterial T4–L3");
}

/// A contrast-enhanced T4–L3 field at 0.8 × 0.8 × 1 mm with `noise_hu` of noise.
fn thoracolumbar_contrast(phase: spinekit_phantom::ContrastPhase, noise_hu: f64) -> PhantomConfig {
    let mut cfg = PhantomConfig::small(Level::T4, Level::L3);
    cfg.voxel_size_mm = [0.8, 0.8, 1.0];
    cfg.noise_sigma_hu = noise_hu;
    cfg.contrast_phase = phase;
    cfg
}

/// Portal-venous phase, T4–L3 at 0.8 × 0.8 × 1 mm with 30 HU of noise: a quarter of the aorta's voxels (160 HU)
/// cross the bone threshold in speckle that joins the vertebrae it touches, and the dense tissue within 8 mm of that
/// speckle took in the whole aorta; T11–L2 grew into it (5 names wrong, `uncertain`). The dense tissue is now taken
/// near the bone without that speckle: every name is right.
#[test]
fn venous_aorta_speckle_stays_out_of_the_vertebrae() {
    let cfg = thoracolumbar_contrast(spinekit_phantom::ContrastPhase::PortalVenous, 30.0);
    right_names(&cfg, "venous T4–L3");
}

/// Portal-venous phase at 0.8 × 0.8 × 1 mm with 45 HU of noise (an obese patient, or a low-dose series), T4–L3 and
/// T1–T12: the heart (150 HU) crosses the bone threshold in speckle through and through. Speckle that the
/// six-neighbour mean leaves was still scattered through the heart, and each such voxel took in the dense tissue
/// within 8 mm of it; the heart was labelled as vertebrae and the discs of the mid-thoracic spine were lost (7 and 6
/// names wrong, `uncertain`). Speckle-free bone now keeps only pieces of 0.1 ml or more, and the dense tissue near it
/// is read by its six-neighbour mean: every name is right.
#[test]
fn noisy_venous_heart_stays_out_of_the_spine() {
    for (first, last) in [(Level::T4, Level::L3), (Level::T1, Level::T12)] {
        let mut cfg = thoracolumbar_contrast(spinekit_phantom::ContrastPhase::PortalVenous, 45.0);
        cfg.first_level = first;
        cfg.last_level = last;
        right_names(
            &cfg,
            &format!("venous {}–{}, noise 45 HU", first.name(), last.name()),
        );
    }
}

/// Arterial phase, T4–L3 at 0.8 × 0.8 × 1 mm with osteoporotic marrow (80 HU): where the 300 HU aorta lies against
/// a body, the body's thin shell (all of it one voxel's rim) went with the aorta when the two were split, the
/// marrow lay open, and T6–T10 were cut in the wrong places (8 names wrong, `uncertain`). The shell's cortical
/// rim now stays with the bone: every name is right.
#[test]
fn arterial_aorta_against_fatty_marrow_leaves_the_shell() {
    let mut cfg = thoracolumbar_contrast(spinekit_phantom::ContrastPhase::Arterial, 15.0);
    cfg.trabecular_hu = 80.0;
    right_names(&cfg, "arterial T4–L3, marrow 80 HU");
}

/// A CT angiogram reconstructed with thick slices, T4–L3: the aorta at 450 HU at 3 mm and, with fatty marrow
/// (80 HU), at 2 mm. There the vertebrae's cortex is partial-volumed to 490–560 HU, within 100 HU of the pool, and
/// below the pool's cortex: the vertebrae were taken for the pool and removed (3 mm: no spine found; 2 mm: 7 of 7
/// names wrong). A pool's dense voxels lie inside a lumen, a cortex's against marrow. And with the
/// aorta at 400 HU, T4–L3 at 2 mm: the pool was not found (the heart's tail outweighed the aorta's peak in 100 HU
/// windows) and the aorta stayed bone (12 of 12 names wrong); peaks are now found in 30 HU sums. Every name right.
#[test]
fn thick_slice_angiogram_keeps_its_vertebrae() {
    for (first, last, voxel_mm, marrow_hu, aorta_hu) in [
        (Level::T4, Level::L3, 3.0, 170.0, 450.0),
        (Level::T4, Level::L3, 2.0, 80.0, 450.0),
        (Level::T4, Level::L3, 2.0, 170.0, 400.0),
    ] {
        let mut cfg = PhantomConfig::small(first, last);
        cfg.voxel_size_mm = [voxel_mm; 3];
        cfg.contrast_phase = spinekit_phantom::ContrastPhase::Arterial;
        cfg.aorta_hu = Some(aorta_hu);
        cfg.trabecular_hu = marrow_hu;
        let case = format!(
            "angiogram (aorta {aorta_hu} HU) {}–{} at {voxel_mm} mm, marrow {marrow_hu} HU",
            first.name(),
            last.name()
        );
        let c = right_names(&cfg, &case);
        let pool = c
            .report
            .findings
            .blood_pool_hu
            .expect("the aorta found as a blood pool");
        assert!(
            (pool - aorta_hu).abs() < 20.0,
            "{case}: blood pool {pool} HU"
        );
    }
}

/// A CT angiogram at 2 mm with the aorta at 500 HU, T10–sacrum: the thoracic cortex, partial-volumed to
/// 500–600 HU, reads like the pool, and T9–T12, their ribs and the aorta against them made one component that
/// was taken for the pool and dropped whole (6 of 10 names found). Split at its thin contacts, its vertebrae and
/// ribs are bone again: every vertebra in view is found and named, with normal and fatty marrow.
#[test]
fn angiogram_pool_gives_back_the_vertebrae_against_it() {
    for marrow_hu in [170.0, 80.0] {
        let mut cfg = PhantomConfig::small(Level::T10, Level::Sacrum);
        cfg.voxel_size_mm = [2.0; 3];
        cfg.contrast_phase = spinekit_phantom::ContrastPhase::Arterial;
        cfg.aorta_hu = Some(500.0);
        cfg.trabecular_hu = marrow_hu;
        let case = format!("angiogram (aorta 500 HU) T10–sacrum at 2 mm, marrow {marrow_hu} HU");
        let c = right_names(&cfg, &case);
        let found: Vec<Level> = c.names.iter().map(|n| n.level).collect();
        for level in [Level::T10, Level::T11, Level::T12, Level::L1] {
            assert!(
                found.contains(&level),
                "{case}: {level} not found: {}",
                common::show(&c)
            );
        }
    }
}

/// A noisy CT angiogram (arterial aorta 300 HU, 45 HU of noise), T10–sacrum at 0.8 × 0.8 × 1 mm with fatty marrow
/// (80 HU): 6.4 % of the aorta's voxels reach the 400 HU cortex, too few for a blood pool to be found, and the aorta
/// was kept as bone; T10–T12 were named one level off (4 of 10 wrong, `uncertain`). Cortical-density voxels that few,
/// and reading so little above the cortex, are a noise tail: every name is right.
#[test]
fn noisy_angiogram_aorta_is_not_bone() {
    let mut cfg = PhantomConfig::small(Level::T10, Level::Sacrum);
    cfg.voxel_size_mm = [0.8, 0.8, 1.0];
    cfg.noise_sigma_hu = 45.0;
    cfg.contrast_phase = spinekit_phantom::ContrastPhase::Arterial;
    cfg.trabecular_hu = 80.0;
    right_names(&cfg, "arterial T10–sacrum, noise 45 HU, marrow 80 HU");
}

/// Positive oral contrast (400 and 1000 HU in the small bowel, loops 10 mm or more from the bones), T10–sacrum at
/// 3 mm: the contrast is found as a dense pool (399 and 984 HU), its loops are not bone, and the vertebrae, whose
/// dense voxels lie against marrow, keep every name.
#[test]
fn oral_contrast_on_thick_slices_keeps_the_names() {
    for oral_hu in [400.0, 1000.0] {
        let mut cfg = PhantomConfig::small(Level::T10, Level::Sacrum);
        cfg.voxel_size_mm = [3.0; 3];
        cfg.oral_contrast_hu = Some(oral_hu);
        let c = right_names(&cfg, &format!("oral contrast {oral_hu} HU at 3 mm"));
        let pool = c
            .report
            .findings
            .blood_pool_hu
            .expect("the contrast found as a pool");
        assert!((pool - oral_hu).abs() < 30.0, "pool {pool} HU");
    }
}

/// An older patient's abdominal CT with positive oral contrast (400 HU) on a 3 mm grid, fatty marrow (80 HU). The
/// faint mid-bodies left gaps in the filled mask between the real discs; they halved the disc spacing measured on
/// those gaps (21 mm for 36), and against that spacing the mid-bodies passed for discs and the real discs, 9–12 mm
/// high, for bodies: T10–sacrum had 12 of 14 names wrong, L1–sacrum 8 (`uncertain`).
#[test]
fn oral_contrast_with_fatty_marrow_on_thick_slices_keeps_the_names() {
    for first in [Level::T10, Level::L1] {
        let mut cfg = PhantomConfig::small(first, Level::Sacrum);
        cfg.voxel_size_mm = [3.0; 3];
        cfg.oral_contrast_hu = Some(400.0);
        cfg.trabecular_hu = 80.0;
        right_names(
            &cfg,
            &format!("{first:?}–sacrum, oral contrast, marrow 80 HU at 3 mm"),
        );
    }
}

/// A CT angiogram: the aorta at 450 HU reads above the 400 HU cortex, so it was kept as bone and the vertebrae
/// grew into it (T4–L3: 12 names wrong at 400 and 450 HU, 9 at 500 HU, `uncertain`). The blood pool's density is now
/// measured, and a region whose dense voxels read like it must reach 150 HU above it to count as bone: every name
/// is right.
#[test]
fn ct_angiogram_aorta_above_the_cortex_stays_out_of_the_spine() {
    let mut cfg = thoracolumbar_contrast(spinekit_phantom::ContrastPhase::Arterial, 15.0);
    cfg.aorta_hu = Some(450.0);
    let c = right_names(&cfg, "CT angiogram T4–L3, aorta 450 HU");
    let f = &c.report.findings;
    let pool = f.blood_pool_hu.expect("the aorta found as a blood pool");
    assert!((pool - 450.0).abs() < 15.0, "blood pool {pool} HU");
    // (Cortex is compared in whole HU.)
    assert!(
        (f.cortex_hu - (pool + 150.0)).abs() <= 1.0,
        "cortex {} HU",
        f.cortex_hu
    );
}
