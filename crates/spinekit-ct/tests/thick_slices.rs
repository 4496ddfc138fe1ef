//! Thick slices (5 mm), as older archives and many routine abdominal studies store a CT: phantoms generated at
//! 0.8 × 0.8 × 1 mm and reconstructed as 5 mm slices (each the mean of five). The truth stays on the fine grid;
//! names are checked by centroid in millimetres (VerSe identification rule, 20 mm); `spinekit_phantom::thick_slices`
//! makes the thick series. The real-data counterpart is
//! `real_ct::ircadb_as_thick_slices_keeps_its_names`.

mod common;
use common::{all_correct, check, honest, show};
use spinekit_anatomy::Level;
use spinekit_ct::NumberingStatus;
use spinekit_phantom::{generate, thick_slices, PhantomConfig};

fn thick(first: Level, last: Level) -> common::Checked {
    let mut cfg = PhantomConfig::small(first, last);
    cfg.voxel_size_mm = [0.8, 0.8, 1.0];
    let p = generate(&cfg, None).unwrap();
    let c = check(&thick_slices(&p.ct, 5), &p.labels);
    eprintln!("{first}–{last} at 0.8 × 0.8 × 5 mm: {}", show(&c));
    c
}

/// T10 to the sacrum: confident and right.
#[test]
fn thoracolumbar_field_at_5mm_is_confident_and_right() {
    let c = thick(Level::T10, Level::Sacrum);
    assert_eq!(
        c.report.numbering.status,
        NumberingStatus::Confident,
        "{}",
        show(&c)
    );
    assert!(all_correct(&c), "{}", show(&c));
}

/// A lumbar field (L1–L5 with a 10 mm margin): T12 shows only its rib at the top edge, above where the trace of
/// the column stops. Before: that rib was given to L1, which made every lumbar name one level too low
/// (sacralised L5, `uncertain`). Now the names are right; the status stays `uncertain` (no rib-bearing vertebra in
/// the traced column to check the lumbar count against).
#[test]
fn lumbar_field_at_5mm_keeps_t12s_rib_off_l1() {
    let c = thick(Level::L1, Level::L5);
    honest(&c);
    assert!(all_correct(&c), "{}", show(&c));
}

/// Whole thoracolumbar spine (the view starts at T1): the 4–5 mm thoracic discs vanish inside 5 mm slices, and
/// before, the segments above T10 each held two vertebrae. Sacrum and last rib agreed, so the numbering was
/// `confident` with five names wrong. Each thoracic level has its own rib pair: a segment that two rib pairs leave
/// is cut between them. Now every name is right, and every level from T2 down is found once.
#[test]
fn whole_spine_at_5mm_has_one_vertebra_per_rib_pair() {
    let c = thick(Level::T1, Level::Sacrum);
    honest(&c);
    assert!(all_correct(&c), "{}", show(&c));
    let found: Vec<Level> = c.names.iter().map(|m| m.level).collect();
    let normal = |l: &&Level| !matches!(l, Level::T13 | Level::L6);
    for l in Level::ALL
        .iter()
        .filter(|l| (Level::T2..=Level::L5).contains(*l))
        .filter(normal)
    {
        assert!(found.contains(l), "{l} missing: {}", show(&c));
    }
}

/// Fields without the sacrum, whose thoracic segments were merged in pairs the same way (5 and 6 names wrong,
/// `uncertain`): every name right now.
#[test]
fn thoracic_fields_at_5mm_keep_their_names() {
    for (first, last) in [(Level::T4, Level::L3), (Level::C7, Level::L2)] {
        let c = thick(first, last);
        honest(&c);
        assert!(all_correct(&c), "{}", show(&c));
    }
}

/// A chest CT stored as 5 mm slices (T1–T12; the view ends in C7 and L1), generated at 1 mm, with normal and fatty
/// (80 HU) marrow. The thin thoracic discs are averaged away and the filled mask showed three gaps in twelve
/// levels: against their median (95 mm), T12 (30 mm) was merged into the partial L1 below as too short, no
/// rib-free vertebra was left to name from (`failed`, 12 of 12 names wrong). With fatty marrow a faint mid-body was
/// cut between two rib pairs one level apart (10 of 14 wrong). Now every name is right and T1–T12 are found; the
/// status stays `uncertain` (neither the sacrum nor C2 is in view to rule out 11 or 13 rib pairs).
#[test]
fn chest_at_5mm_keeps_its_names() {
    for marrow_hu in [170.0, 80.0] {
        let mut cfg = PhantomConfig::small(Level::T1, Level::T12);
        cfg.voxel_size_mm = [1.0; 3];
        cfg.trabecular_hu = marrow_hu;
        let p = generate(&cfg, None).unwrap();
        let c = check(&thick_slices(&p.ct, 5), &p.labels);
        eprintln!("T1–T12 at 5 mm, marrow {marrow_hu} HU: {}", show(&c));
        honest(&c);
        assert!(all_correct(&c), "marrow {marrow_hu} HU: {}", show(&c));
        let found: Vec<Level> = c.names.iter().map(|m| m.level).collect();
        for l in Level::ALL
            .iter()
            .filter(|l| (Level::T1..=Level::T12).contains(*l))
        {
            assert!(
                found.contains(l),
                "marrow {marrow_hu} HU: {l} missing: {}",
                show(&c)
            );
        }
    }
}
