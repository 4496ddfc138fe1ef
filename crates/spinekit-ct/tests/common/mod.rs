//! Helpers shared by the CT engine's tests (not every test file uses every helper).
#![allow(dead_code)]

use spinekit_anatomy::Level;
use spinekit_ct::{segment, NumberingStatus, SegmentOptions, SpineReport};
use spinekit_image::Volume;
use spinekit_io::{open_volume, OpenOptions};
use spinekit_morph::RegionProps;

/// A CT (DICOM folder or NIfTI) read and converted to HU.
pub fn load_ct_hu(path: &std::path::Path) -> Volume<i16> {
    open_volume(path, &OpenOptions::default())
        .unwrap()
        .into_ct_hu()
        .unwrap()
}

/// The report of a segmentation with the default options.
pub fn report_of(ct: &Volume<i16>) -> SpineReport {
    segment(ct, &SegmentOptions::default(), None)
        .unwrap()
        .report
}

/// Each vertebra's level and centroid height (mm), for messages.
pub fn names_z(r: &SpineReport) -> String {
    r.vertebrae
        .iter()
        .map(|v| format!("{} {:.0}", v.level, v.centroid_mm[2]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whole vertebrae of `report` whose centroid lies farther than `max_mm` from `reference`'s vertebra of the same
/// level (or that `reference` does not have), as "level: distance" lines; and how many whole vertebrae were
/// compared. Used to check that a degraded series (thick slices, added noise) keeps the clean series' names.
pub fn moved_from(
    report: &SpineReport,
    reference: &SpineReport,
    max_mm: f64,
) -> (Vec<String>, usize) {
    let whole: Vec<_> = report.vertebrae.iter().filter(|v| !v.partial).collect();
    let moved = whole
        .iter()
        .filter_map(|v| {
            let d = reference
                .vertebrae
                .iter()
                .find(|t| t.level == v.level)
                .map(|t| dist_mm(t.centroid_mm, v.centroid_mm));
            (!d.is_some_and(|d| d <= max_mm)).then(|| format!("{}: {d:?} mm", v.level))
        })
        .collect();
    (moved, whole.len())
}

/// A label map read as u8.
pub fn load_u8(path: &std::path::Path) -> Volume<u8> {
    open_volume(path, &OpenOptions::default())
        .unwrap()
        .volume
        .to_type::<u8>()
}

/// TotalSegmentator's vertebra labels (26 S1, 27 L5 … 31 L1, 32 T12, 33 T11) as VerSe labels.
pub fn totalseg_to_verse(v: u8) -> u8 {
    match v {
        26 => Level::Sacrum.verse_label(),
        27..=31 => 24 - (v - 27),
        32 => Level::T12.verse_label(),
        33 => Level::T11.verse_label(),
        _ => 0,
    }
}

/// Distance (mm) within which a reported vertebra's centroid must lie from the truth centroid of the same label to
/// count as identified (the VerSe identification rule).
pub const IDENTIFICATION_MM: f64 = 20.0;

pub fn dist_mm(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|i| (a[i] - b[i]).powi(2)).sum::<f64>().sqrt()
}

/// Whether a vertebra reported with VerSe `label` at `centroid_mm` is identified against the truth regions.
pub fn identified(label: u8, centroid_mm: [f64; 3], truth: &[RegionProps]) -> bool {
    truth.iter().any(|t| {
        t.label == label as u32 && dist_mm(t.centroid_mm, centroid_mm) <= IDENTIFICATION_MM
    })
}

/// Mid-body canal AP diameter (mm) of vertebra `lab` in index space: in the axial slice through the middle of
/// its body, the run of `canal` voxels along the AP index axis (j) through the canal's centroid column, found on
/// the side of the body where the canal lies (the canal within 60 mm of the body). Also returns that slice and
/// column, and the posterior sign. Input grids here are axial with rows along AP.
pub fn midbody_canal_ap(
    bodies: &Volume<u8>,
    lab: u8,
    canal: &Volume<u8>,
) -> Option<(f64, usize, usize, isize)> {
    let [ni, nj, nk] = bodies.dims();
    let sp = bodies.geometry().spacing_mm;
    let ks: Vec<usize> = (0..nk)
        .filter(|&k| (0..nj).any(|j| (0..ni).any(|i| bodies.get(i, j, k) == lab)))
        .collect();
    let k = *ks.get(ks.len() / 2)?;
    let (mut bi, mut bj, mut bn) = (0.0, 0.0, 0.0);
    let (mut ci, mut cj, mut cn) = (0.0, 0.0, 0.0);
    for j in 0..nj {
        for i in 0..ni {
            if bodies.get(i, j, k) == lab {
                bi += i as f64;
                bj += j as f64;
                bn += 1.0;
            }
        }
    }
    let (bi, bj) = (bi / bn, bj / bn);
    for j in 0..nj {
        for i in 0..ni {
            let d = (((i as f64 - bi) * sp[0]).powi(2) + ((j as f64 - bj) * sp[1]).powi(2)).sqrt();
            if canal.get(i, j, k) != 0 && d <= 60.0 {
                ci += i as f64;
                cj += j as f64;
                cn += 1.0;
            }
        }
    }
    if cn == 0.0 {
        return None;
    }
    let (ci, cj) = (ci / cn, cj / cn);
    let dir: isize = if cj > bj { 1 } else { -1 };
    let i = ci.round() as usize;
    // Longest run of canal voxels along the column.
    let (mut best, mut run) = (0usize, 0usize);
    for j in 0..nj {
        if canal.get(i, j, k) != 0 {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    Some((best as f64 * sp[1], k, i, dir))
}

/// One reported vertebra checked against the truth.
#[derive(Debug, Clone, Copy)]
pub struct Named {
    pub level: Level,
    /// Identified (the VerSe rule): the truth centroid of the same label lies within `IDENTIFICATION_MM`.
    pub ok: bool,
    /// The true level whose centroid is nearest, when within `IDENTIFICATION_MM`.
    pub nearest: Option<Level>,
    /// Cut by the field of view.
    pub partial: bool,
}

/// A segmentation's report and each reported vertebra's check (cranial first).
pub struct Checked {
    pub report: SpineReport,
    pub names: Vec<Named>,
}

/// Segments `ct` and checks each name against the truth label map (VerSe labels).
pub fn check(ct: &Volume<i16>, truth: &Volume<u8>) -> Checked {
    let seg = segment(ct, &SegmentOptions::default(), None).unwrap();
    check_report(seg.report, truth)
}

/// Checks each name of a segmentation's report against the truth label map (VerSe labels).
pub fn check_report(report: SpineReport, truth: &Volume<u8>) -> Checked {
    let props = spinekit_morph::region_props(truth);
    let names = report
        .vertebrae
        .iter()
        .map(|v| Named {
            level: v.level,
            ok: identified(v.label, v.centroid_mm, &props),
            nearest: props
                .iter()
                .min_by(|a, b| {
                    dist_mm(a.centroid_mm, v.centroid_mm)
                        .total_cmp(&dist_mm(b.centroid_mm, v.centroid_mm))
                })
                .filter(|t| dist_mm(t.centroid_mm, v.centroid_mm) <= IDENTIFICATION_MM)
                .and_then(|t| Level::from_verse_label(t.label as u8)),
            partial: v.partial,
        })
        .collect();
    Checked { report, names }
}

/// The numbering, its evidence and every name with its check, for assertion messages.
pub fn show(c: &Checked) -> String {
    let n = &c.report.numbering;
    let names: Vec<String> = c
        .names
        .iter()
        .zip(&c.report.vertebrae)
        .map(|(m, v)| {
            format!(
                "{}{} (truth {}; ribs {:?}){}",
                m.level,
                if m.ok { "" } else { " WRONG" },
                m.nearest.map_or("-".to_string(), |l| l.to_string()),
                v.rib_bearing,
                if m.partial { " partial" } else { "" }
            )
        })
        .collect();
    format!(
        "{:?} {:?}: {}\nevidence {:#?}\nnames {names:?}",
        n.status, n.enumeration, n.reason, n.evidence
    )
}

pub fn all_correct(c: &Checked) -> bool {
    c.names.iter().all(|m| m.ok)
}

/// A confident numbering must be fully correct; an unsure one must say why.
pub fn honest(c: &Checked) {
    match c.report.numbering.status {
        NumberingStatus::Confident => assert!(all_correct(c), "wrong while confident: {}", show(c)),
        _ => assert!(!c.report.numbering.reason.is_empty()),
    }
}
