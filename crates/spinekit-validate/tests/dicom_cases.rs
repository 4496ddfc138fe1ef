//! DICOM cases in `validate`: SEG label maps against NIfTI (segment labels → VerSe numbers, nearest resampling,
//! a sparse SEG reference grown to cover the prediction), pairing on DICOM UIDs, worst-offender pictures.

use spinekit_image::{Geometry, Volume};
use spinekit_nifti::{write_nifti, WriteOptions};
use spinekit_testdata::seg::{write_seg, Frame};
use spinekit_validate::cases::PairedOn;
use spinekit_validate::workflow::{
    run_validation, write_report, Task, TaskResults, ValidateOptions,
};
use std::path::Path;

const DIMS: [usize; 3] = [12, 10, 6];
const L3: u16 = 22; // VerSe
const L4: u16 = 23;

/// Reference content: L3 block i 2..6, j 2..6, k 1..3 (32 voxels); L4 block i 5..9, j 3..8, k 3..5 (40 voxels).
fn reference() -> Volume<u16> {
    let g = Geometry::identity([1.0, 1.0, 2.0]);
    let mut v = Volume::<u16>::zeros(DIMS, g).unwrap();
    for k in 0..DIMS[2] {
        for j in 0..DIMS[1] {
            for i in 0..DIMS[0] {
                if (2..6).contains(&i) && (2..6).contains(&j) && (1..3).contains(&k) {
                    v.set(i, j, k, L3);
                }
                if (5..9).contains(&i) && (3..8).contains(&j) && (3..5).contains(&k) {
                    v.set(i, j, k, L4);
                }
            }
        }
    }
    v
}

/// A sparse BINARY SEG of `v` (axial frames only where a segment is present; "L3" is segment 1,
/// "L4 vertebra" segment 2, so the reader must rename them to 22 and 23).
fn seg_of(v: &Volume<u16>, path: &Path, uids: (&str, &str)) {
    let mut frames = Vec::new();
    for (seg, label) in [(1u16, L3), (2u16, L4)] {
        for k in 0..DIMS[2] {
            // Pixels row-major: rows = j, columns = i.
            let pixels: Vec<u8> = (0..DIMS[1])
                .flat_map(|j| (0..DIMS[0]).map(move |i| (i, j)))
                .map(|(i, j)| u8::from(v.get(i, j, k) == label))
                .collect();
            if pixels.iter().any(|p| *p != 0) {
                frames.push(Frame {
                    segment: seg,
                    ipp: [0.0, 0.0, 2.0 * k as f64],
                    pixels,
                });
            }
        }
    }
    write_seg(
        path,
        uids,
        false,
        DIMS[1] as u16,
        DIMS[0] as u16,
        [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        [1.0, 1.0],
        &[(1, "L3"), (2, "L4 vertebra")],
        &frames,
    );
}

fn nifti(v: &Volume<u16>, path: &Path) {
    write_nifti(path, v, None, &WriteOptions::default()).unwrap();
}

fn opts(pred: &Path, reference: &Path, task: Task) -> ValidateOptions {
    let mut o = ValidateOptions::new(pred, reference);
    o.task = Some(task);
    o.bootstrap.resamples = 100;
    o
}

fn dice_of(report: &spinekit_validate::workflow::Report, label: u16) -> f64 {
    let TaskResults::Segmentation(s) = &report.results else {
        panic!("task")
    };
    s.cases[0]
        .labels
        .iter()
        .find(|l| l.counts.label == label)
        .unwrap_or_else(|| panic!("label {label} missing"))
        .dice
}

fn dirs() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let (p, r) = (t.path().join("pred"), t.path().join("ref"));
    std::fs::create_dir_all(&p).unwrap();
    std::fs::create_dir_all(&r).unwrap();
    (t, p, r)
}

#[test]
fn seg_prediction_against_nifti_reference() {
    let (t, pd, rd) = dirs();
    let r = reference();
    nifti(&r, &rd.join("case1.nii.gz"));
    seg_of(&r, &pd.join("case1.dcm"), ("2.25.10", "2.25.77"));
    let report = run_validation(&opts(&pd, &rd, Task::Segmentation)).unwrap();
    assert_eq!(report.paired_cases, 1);
    assert_eq!(report.pairs[0].paired_on, PairedOn::Name);
    // Segments "L3" / "L4 vertebra" became VerSe 22 / 23; the SEG's 4-slice stack lands exactly on the grid.
    assert_eq!(dice_of(&report, L3), 1.0);
    assert_eq!(dice_of(&report, L4), 1.0);
    assert!(report.warnings.iter().any(|w| w.contains("VerSe")));

    // One L3 voxel missing in the prediction: Dice = 2·31 / (31 + 32), and the pictures show that slice.
    let mut p = r.clone();
    p.set(3, 3, 2, 0);
    seg_of(&p, &pd.join("case1.dcm"), ("2.25.10", "2.25.77"));
    let report = run_validation(&opts(&pd, &rd, Task::Segmentation)).unwrap();
    assert!((dice_of(&report, L3) - 62.0 / 63.0).abs() < 1e-12);
    assert_eq!(dice_of(&report, L4), 1.0);
    let TaskResults::Segmentation(s) = &report.results else {
        panic!("task")
    };
    let d = s.cases[0].largest_disagreement.unwrap();
    assert_eq!((d.voxel_axis, d.slice_index, d.differing_voxels), (2, 2, 1));
    let pics = s.cases[0]
        .pictures
        .as_ref()
        .expect("worst case has pictures");
    let diff = image::load_from_memory(&pics.difference_png)
        .unwrap()
        .to_rgb8();
    let red = spinekit_picture::label_colour(1);
    let n_red = diff.pixels().filter(|px| px.0 == red).count();
    assert!(n_red >= 1, "the missed voxel is drawn in red");
    let (_, html) = write_report(&report, &t.path().join("out")).unwrap();
    let html = std::fs::read_to_string(html).unwrap();
    assert_eq!(html.matches("data:image/png;base64,").count(), 3);
    let json = std::fs::read_to_string(t.path().join("out/validation.json")).unwrap();
    assert!(!json.contains("base64") && json.contains("largest_disagreement"));
}

#[test]
fn sparse_seg_reference_still_counts_predicted_labels_outside_its_slices() {
    let (_t, pd, rd) = dirs();
    let r = reference();
    seg_of(&r, &rd.join("case1.dcm"), ("2.25.11", "2.25.77"));
    // The SEG covers k = 1…4 only; three extra L3 voxels at k = 5 lie outside it.
    let mut p = r.clone();
    for i in 0..3 {
        p.set(i, 0, 5, L3);
    }
    nifti(&p, &pd.join("case1.nii.gz"));
    let report = run_validation(&opts(&pd, &rd, Task::Segmentation)).unwrap();
    assert!(
        (dice_of(&report, L3) - 64.0 / 67.0).abs() < 1e-12,
        "{}",
        dice_of(&report, L3)
    );
    assert_eq!(dice_of(&report, L4), 1.0);
}

#[test]
fn cases_pair_on_the_segmented_series_uid_before_names() {
    let (_t, pd, rd) = dirs();
    let r = reference();
    seg_of(&r, &rd.join("case1.dcm"), ("2.25.20", "2.25.77"));
    seg_of(&r, &pd.join("x.dcm"), ("2.25.21", "2.25.77"));
    seg_of(&r, &pd.join("y.dcm"), ("2.25.22", "2.25.99"));
    let report = run_validation(&opts(&pd, &rd, Task::Segmentation)).unwrap();
    assert_eq!(report.paired_cases, 1);
    assert_eq!(report.pairs[0].paired_on, PairedOn::Uid);
    assert_eq!(
        (
            report.pairs[0].case.as_str(),
            report.pairs[0].pred_file.as_str()
        ),
        ("case1", "x.dcm")
    );
    assert_eq!(report.pred_only, vec!["y".to_string()]);
    assert!(report
        .warnings
        .iter()
        .any(|w| w.contains("unpaired") && w.contains('y')));
    assert_eq!(dice_of(&report, L3), 1.0);
    // The SEG's Manufacturer is the writing software, not a scanner.
    assert!(report.acquisition.scanners.is_empty());
    assert_eq!(report.acquisition.scanner_text(), "unknown");

    // Labelling from SEG centroids against NIfTI centroids: both levels identified, 0 mm apart.
    let (_t2, pd2, rd2) = dirs();
    nifti(&r, &rd2.join("a.nii.gz"));
    seg_of(&r, &pd2.join("a.dcm"), ("2.25.23", "2.25.77"));
    let report = run_validation(&opts(&pd2, &rd2, Task::Labelling)).unwrap();
    let TaskResults::Labelling(l) = &report.results else {
        panic!("task")
    };
    assert_eq!(l.cases[0].identification.identified_levels, 2);
    assert!(l.cases[0].identification.mean_localisation_mm.unwrap() < 1e-9);
}

#[test]
fn json_cases_pair_on_a_uid_field() {
    let (_t, pd, rd) = dirs();
    std::fs::write(
        rd.join("patient_a.json"),
        r#"{"SeriesInstanceUID": "1.2.3.4", "cobb": 10.0}"#,
    )
    .unwrap();
    std::fs::write(
        rd.join("patient_b.json"),
        r#"{"SeriesInstanceUID": "1.2.3.5", "cobb": 20.0}"#,
    )
    .unwrap();
    std::fs::write(
        pd.join("run17.json"),
        r#"{"SeriesInstanceUID": "1.2.3.4", "cobb": 13.0}"#,
    )
    .unwrap();
    std::fs::write(pd.join("patient_b.json"), r#"{"cobb": 21.0}"#).unwrap();
    std::fs::write(
        pd.join("lonely.json"),
        r#"{"SeriesInstanceUID": "9.9", "cobb": 1.0}"#,
    )
    .unwrap();
    let report = run_validation(&opts(&pd, &rd, Task::Measurements)).unwrap();
    assert_eq!(report.paired_cases, 2);
    let TaskResults::Measurements(m) = &report.results else {
        panic!("task")
    };
    // |13 − 10| and |21 − 20|.
    assert!((m.measurements[0].mae.value - 2.0).abs() < 1e-12);
    assert_eq!(report.pred_only, vec!["lonely".to_string()]);
    let a = report.pairs.iter().find(|p| p.case == "patient_a").unwrap();
    assert_eq!(a.paired_on, PairedOn::Uid);
}

/// spinekit's own SEG writer (the one `analyze` uses) read back by `validate`: a SEG written on a real CT series
/// (ct-totalseg-example's 20 DICOM slices) against the same labels as NIfTI gives Dice 1 for each level.
#[test]
fn seg_written_by_spinekit_validates_against_its_labels() {
    use spinekit_anatomy::Level;
    use spinekit_dicom_report::{write_seg, LabelLayer, SegmentSpec, WriterInfo};
    let Some(src) = spinekit_testdata::shared_data("ct-totalseg-example/dicom") else {
        return;
    };
    let scan = spinekit_dicom::scan(&src).unwrap();
    let sel = spinekit_dicom::SeriesSelector::Auto;
    let ct = spinekit_dicom::load_volume(&scan, &sel).unwrap().volume;
    let mut source = spinekit_dicom::source_series(&scan, &sel).unwrap();
    // This anonymised series has a blank StudyInstanceUID: filled once, as `analyze` does.
    spinekit_dicom_report::complete_source(&mut source);
    let d = ct.dims();
    // Two blocks on the CT's own grid: L3 in slices 2..9, L4 in slices 11..18 (VerSe 22 and 23).
    let mut labels = Volume::<u8>::zeros(d, *ct.geometry()).unwrap();
    for k in 0..d[2] {
        for j in d[1] / 3..d[1] / 2 {
            for i in d[0] / 3..d[0] / 2 {
                if (2..9).contains(&k) {
                    labels.set(i, j, k, L3 as u8);
                } else if (11..18).contains(&k) {
                    labels.set(i, j, k, L4 as u8);
                }
            }
        }
    }
    let (_t, pd, rd) = dirs();
    let seg = write_seg(
        &pd.join("case1.dcm"),
        &source,
        &[LabelLayer {
            labels: &labels,
            segments: vec![
                SegmentSpec::vertebra(Level::L3),
                SegmentSpec::vertebra(Level::L4),
            ],
        }],
        &WriterInfo::default(),
    )
    .unwrap();
    assert_eq!(seg.segments.len(), 2);
    nifti(&labels.map(u16::from), &rd.join("case1.nii.gz"));
    let report = run_validation(&opts(&pd, &rd, Task::Segmentation)).unwrap();
    assert_eq!(report.paired_cases, 1);
    assert_eq!(dice_of(&report, L3), 1.0);
    assert_eq!(dice_of(&report, L4), 1.0);
}
