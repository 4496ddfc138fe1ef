//! Real data: TotalSegmentator vertebra labels against themselves and shifted copies; AASCE Cobb angles against a
//! perturbed copy. Expected values are computed independently here (voxel counting, closed-form SMAPE).

use spinekit_image::Volume;
use spinekit_testdata::shared_data;
use spinekit_validate::workflow::read_label_map;
use spinekit_validate::*;

/// Content moved by `d` voxels (voxel p goes to p + d); vacated voxels become 0, voxels pushed out are lost.
fn shifted(v: &Volume<u16>, d: [isize; 3]) -> Volume<u16> {
    let dims = v.dims();
    let mut out = Volume::<u16>::zeros(dims, *v.geometry()).unwrap();
    for k in 0..dims[2] {
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                let q = [i as isize + d[0], j as isize + d[1], k as isize + d[2]];
                if (0..3).all(|a| q[a] >= 0 && (q[a] as usize) < dims[a]) {
                    out.set(q[0] as usize, q[1] as usize, q[2] as usize, v.get(i, j, k));
                }
            }
        }
    }
    out
}

/// Dice of label `l` between `v` and its shift by `d`, by counting on the original only.
fn dice_by_counting(v: &Volume<u16>, d: [isize; 3], l: u16) -> f64 {
    let dims = v.dims();
    let inb = |p: [isize; 3]| (0..3).all(|a| p[a] >= 0 && (p[a] as usize) < dims[a]);
    let (mut n_ref, mut n_pred, mut inter) = (0u64, 0u64, 0u64);
    for k in 0..dims[2] as isize {
        for j in 0..dims[1] as isize {
            for i in 0..dims[0] as isize {
                if v.get(i as usize, j as usize, k as usize) != l {
                    continue;
                }
                n_ref += 1;
                let q = [i + d[0], j + d[1], k + d[2]];
                if inb(q) {
                    n_pred += 1; // this voxel survives the shift, landing at q
                    if v.get(q[0] as usize, q[1] as usize, q[2] as usize) == l {
                        inter += 1;
                    }
                }
            }
        }
    }
    2.0 * inter as f64 / (n_ref + n_pred) as f64
}

#[test]
fn vertebrae_against_itself_and_shifted_copies() {
    let Some(p) = shared_data("ct-totalseg-example/labels/vertebrae.nii.gz") else {
        return;
    };
    let v = read_label_map(&p).unwrap();
    assert_eq!(v.dims(), [122, 101, 112]);
    let same = segmentation_metrics(&v, &v).unwrap();
    assert_eq!(
        same.iter().map(|m| m.counts.label).collect::<Vec<_>>(),
        (26..=33).collect::<Vec<_>>()
    );
    for m in &same {
        assert_eq!(m.dice, 1.0);
        let s = m.surface.as_ref().unwrap();
        assert_eq!((s.hd95_mm, s.assd_mm), (0.0, 0.0));
    }
    let spacing = v.geometry().spacing_mm;
    for axis in 0..3 {
        for k in [1isize, 2] {
            let mut d = [0isize; 3];
            d[axis] = k;
            let moved = shifted(&v, d);
            let got = segmentation_metrics(&moved, &v).unwrap();
            let shift_mm = k as f64 * spacing[axis];
            let mut max_hd: f64 = 0.0;
            for m in &got {
                let want = dice_by_counting(&v, d, m.counts.label);
                assert!(
                    (m.dice - want).abs() < 1e-12,
                    "axis {axis} k {k} label {}",
                    m.counts.label
                );
                let s = m.surface.as_ref().unwrap();
                // Every surface voxel's translate lies on the other surface, so no distance exceeds the shift
                // (up to voxels cut at the image edge: T11 is cut by the field of view).
                // T11 (33) touches the top of the field of view: its shifted copy loses the cut layers, its
                // surface at the border is a different cross-section, and the bound does not hold.
                if m.counts.label != 33 {
                    assert!(
                        s.hd_mm <= shift_mm + 1e-9,
                        "label {} HD {} > {shift_mm}",
                        m.counts.label,
                        s.hd_mm
                    );
                    assert!(s.hd95_mm <= shift_mm + 1e-9);
                    max_hd = max_hd.max(s.hd_mm);
                }
            }
            // The caps/faces facing the shift are exactly one shift away.
            assert!(
                (max_hd - shift_mm).abs() < 1e-9,
                "axis {axis} k {k}: max HD {max_hd} vs {shift_mm}"
            );
        }
    }
}

#[test]
fn aasce_angles_perturbed_by_two_degrees() {
    let Some(p) = shared_data("xr-aasce-training/labels/angles.csv") else {
        return;
    };
    let text = std::fs::read_to_string(p).unwrap();
    let reference: Vec<Vec<f64>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|x| x.trim().parse().unwrap()).collect())
        .collect();
    assert_eq!(reference.len(), 481);
    let pred: Vec<Vec<f64>> = reference
        .iter()
        .map(|r| r.iter().map(|a| a + 2.0).collect())
        .collect();
    let (smape, per) = smape_aasce(&pred, &reference).unwrap();
    // Per image: Σ|a+2−a| / Σ(2a+2) = 6 / (2Σa + 6).
    let want: Vec<f64> = reference
        .iter()
        .map(|r| 100.0 * 6.0 / (2.0 * r.iter().sum::<f64>() + 6.0))
        .collect();
    for (g, w) in per.iter().zip(&want) {
        assert!((g - w).abs() < 1e-12);
    }
    assert!((smape - want.iter().sum::<f64>() / want.len() as f64).abs() < 1e-12);
    // MAE is exactly 2°, Bland–Altman bias 2° with zero spread.
    let flat = |x: &[Vec<f64>]| -> Vec<f64> { x.iter().flatten().copied().collect() };
    assert!((mae(&flat(&pred), &flat(&reference)).unwrap() - 2.0).abs() < 1e-12);
    let ba = bland_altman(&flat(&pred), &flat(&reference)).unwrap();
    assert!((ba.bias.value - 2.0).abs() < 1e-12 && ba.sd_diff < 1e-9);
}

/// The whole `validate` workflow (files in, report out) on the TotalSegmentator vertebrae: against itself every
/// Dice is 1 and every surface distance 0; against a copy shifted 2 voxels along j every Dice equals the count
/// on the original (`dice_by_counting`), and the HTML carries the worst offenders' pictures.
#[test]
fn workflow_on_totalseg_vertebrae_itself_and_shifted() {
    let Some(p) = shared_data("ct-totalseg-example/labels/vertebrae.nii.gz") else {
        return;
    };
    let mut o = workflow::ValidateOptions::new(&p, &p);
    o.bootstrap.resamples = 200;
    let report = workflow::run_validation(&o).unwrap();
    assert_eq!(report.paired_cases, 1);
    let workflow::TaskResults::Segmentation(s) = &report.results else {
        panic!("task")
    };
    assert_eq!(s.mean_dice.value, 1.0);
    assert_eq!(s.per_label.len(), 8);
    assert!(s.cases[0].largest_disagreement.is_none());
    for l in &s.per_label {
        assert_eq!(l.hd95_mm.as_ref().unwrap().value, 0.0);
    }

    let v = read_label_map(&p).unwrap();
    let d = [0isize, 2, 0];
    let t = tempfile::tempdir().unwrap();
    let moved = t.path().join("vertebrae.nii.gz");
    spinekit_nifti::write_nifti(
        &moved,
        &shifted(&v, d),
        None,
        &spinekit_nifti::WriteOptions::default(),
    )
    .unwrap();
    let mut o = workflow::ValidateOptions::new(&moved, &p);
    o.bootstrap.resamples = 200;
    let report = workflow::run_validation(&o).unwrap();
    let workflow::TaskResults::Segmentation(s) = &report.results else {
        panic!("task")
    };
    let mut sum = 0.0;
    for m in &s.cases[0].labels {
        let want = dice_by_counting(&v, d, m.counts.label);
        assert!((m.dice - want).abs() < 1e-12, "label {}", m.counts.label);
        sum += want;
    }
    assert!((s.mean_dice.value - sum / s.cases[0].labels.len() as f64).abs() < 1e-12);
    let dis = s.cases[0].largest_disagreement.unwrap();
    assert_eq!(
        dis.voxel_axis, 2,
        "TotalSegmentator example is stored axial"
    );
    let (_, html) = workflow::write_report(&report, &t.path().join("out")).unwrap();
    let html = std::fs::read_to_string(html).unwrap();
    assert_eq!(html.matches("data:image/png;base64,").count(), 3);
}

/// The `validate` workflow on AASCE angles.csv against a copy with every angle + 2°: MAE 2° per angle, bias 2°,
/// SMAPE = mean of 6 / (2Σa + 6) × 100 % per image.
#[test]
fn workflow_on_aasce_angles_perturbed() {
    let Some(p) = shared_data("xr-aasce-training/labels/angles.csv") else {
        return;
    };
    let text = std::fs::read_to_string(&p).unwrap();
    let reference: Vec<Vec<f64>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|x| x.trim().parse().unwrap()).collect())
        .collect();
    let t = tempfile::tempdir().unwrap();
    let moved = t.path().join("angles.csv");
    let perturbed: String = reference
        .iter()
        .map(|r| {
            r.iter()
                .map(|a| format!("{}", a + 2.0))
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    std::fs::write(&moved, perturbed).unwrap();
    let mut o = workflow::ValidateOptions::new(&moved, &p);
    o.bootstrap.resamples = 200;
    let report = workflow::run_validation(&o).unwrap();
    assert_eq!(report.task, workflow::Task::Measurements);
    assert_eq!(report.paired_cases, 481);
    let workflow::TaskResults::Measurements(m) = &report.results else {
        panic!("task")
    };
    assert_eq!(m.measurements.len(), 3);
    for x in &m.measurements {
        assert_eq!(x.n, 481);
        assert!((x.mae.value - 2.0).abs() < 1e-9, "{}", x.name);
        let ba = x.bland_altman.as_ref().unwrap();
        assert!((ba.bias.value - 2.0).abs() < 1e-9 && ba.sd_diff < 1e-9);
    }
    let want: f64 = reference
        .iter()
        .map(|r| 100.0 * 6.0 / (2.0 * r.iter().sum::<f64>() + 6.0))
        .sum::<f64>()
        / reference.len() as f64;
    assert!((m.smape_percent.as_ref().unwrap().value - want).abs() < 1e-9);
}
