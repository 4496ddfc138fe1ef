//! Accuracy against the phantom's exact truth, twice: on the phantom's own label maps (measurement error alone)
//! and end to end after `spinekit_ct::segment` (what the product does).

use spinekit_anatomy::{FractureShape, GenantGrade, Level};
use spinekit_measure::*;
use spinekit_phantom::{
    generate, FractureSpec, Phantom, PhantomConfig, Scoliosis, Side, Visibility,
};

fn truth_levels(p: &Phantom) -> Vec<LevelInput> {
    p.truth
        .levels
        .iter()
        .filter(|l| l.visibility != Visibility::Outside && l.level.has_body())
        .map(|l| LevelInput {
            level: l.level,
            label: l.verse_label,
            partial: l.visibility != Visibility::Full,
        })
        .collect()
}

fn on_truth_maps(p: &Phantom) -> SpineMeasurements {
    let levels = truth_levels(p);
    measure(
        &p.ct,
        &SpineInput {
            labels: &p.labels,
            bodies: &p.bodies,
            canal: Some(&p.canal),
            canal_kind: CanalMapKind::DuralSac,
            levels: &levels,
        },
        Some(p.truth.contrast_phase),
    )
    .unwrap()
}

fn end_to_end(p: &Phantom) -> SpineMeasurements {
    let seg = spinekit_ct::segment(&p.ct, &spinekit_ct::SegmentOptions::default(), None).unwrap();
    measure_segmentation(&p.ct, &seg, Some(p.truth.contrast_phase)).unwrap()
}

/// Per-level errors against the truth; prints a table. Returns (max height error, max HU error) over the
/// full, unfractured (for HU) levels measured.
fn compare(name: &str, p: &Phantom, m: &SpineMeasurements) -> (f64, f64) {
    let (mut eh, mut ehu) = (0.0f64, 0.0f64);
    for v in &m.vertebrae {
        let Some(t) = p.truth.levels.iter().find(|t| t.level == v.level) else {
            eprintln!("{name} {}: not in the truth", v.level);
            continue;
        };
        let mut line = format!("{name} {:>6}", v.level.name());
        if let (Some(h), Some(th)) = (v.heights.value(), t.heights.as_ref()) {
            let e = [
                h.anterior_mm - th.anterior_mm,
                h.middle_mm - th.middle_mm,
                h.posterior_mm - th.posterior_mm,
            ];
            for x in e {
                eh = eh.max(x.abs());
            }
            line += &format!(
                " H {:.1}/{:.1}/{:.1} (truth {:.1}/{:.1}/{:.1})",
                h.anterior_mm,
                h.middle_mm,
                h.posterior_mm,
                th.anterior_mm,
                th.middle_mm,
                th.posterior_mm
            );
        } else {
            line += &format!(" H -- {:?}", v.heights.reason());
        }
        if let Some(f) = v.fracture.value() {
            line += &format!(
                " genant {}{:?} (truth {}{:?})",
                f.genant_grade_value,
                f.shape,
                t.genant_grade.value(),
                t.fracture.as_ref().map(|f| f.shape)
            );
        }
        if let Some(r) = v.trabecular_roi.value() {
            if t.fracture.is_none() {
                ehu = ehu.max((r.mean_hu - t.trabecular_hu).abs());
            }
            line += &format!(
                " HU {:.1} (truth {:.0}, n {}) TS {:.1}",
                r.mean_hu,
                t.trabecular_hu,
                r.voxel_count,
                v.eroded_body.value().map_or(f64::NAN, |e| e.median_hu)
            );
        }
        eprintln!("{line}");
    }
    (eh, ehu)
}

fn check_grades(name: &str, p: &Phantom, m: &SpineMeasurements, min_grade: GenantGrade) {
    for t in &p.truth.levels {
        let Some(f) = &t.fracture else { continue };
        if f.grade < min_grade {
            continue;
        }
        let v = m.vertebrae.iter().find(|v| v.level == t.level).unwrap();
        let fa = v
            .fracture
            .value()
            .unwrap_or_else(|| panic!("{name} {}: {:?}", t.level, v.fracture));
        assert_eq!(
            fa.genant_grade, f.grade,
            "{name} {}: {fa:?} vs {f:?}",
            t.level
        );
        assert_eq!(fa.shape, Some(f.shape), "{name} {}: {fa:?}", t.level);
    }
    // Unfractured levels must not be graded moderate or severe.
    for v in &m.vertebrae {
        let t = p.truth.levels.iter().find(|t| t.level == v.level).unwrap();
        if t.fracture.is_none() {
            if let Some(f) = v.fracture.value() {
                assert!(
                    f.genant_grade < GenantGrade::Moderate,
                    "{name} {}: {f:?}",
                    v.level
                );
            }
        }
    }
}

fn fractures() -> PhantomConfig {
    let mut c = PhantomConfig::small(Level::T10, Level::Sacrum);
    c.voxel_size_mm = [1.0, 1.0, 1.0];
    c.fractures = [
        (Level::T12, GenantGrade::Moderate, FractureShape::Wedge),
        (Level::L2, GenantGrade::Severe, FractureShape::Crush),
        (Level::L4, GenantGrade::Moderate, FractureShape::Biconcave),
    ]
    .map(|(level, grade, shape)| FractureSpec {
        level,
        grade,
        shape,
        height_loss: None,
    })
    .to_vec();
    c
}

#[test]
fn heights_genant_hu_and_lordosis_on_truth_maps() {
    let p = generate(&fractures(), None).unwrap();
    let m = on_truth_maps(&p);
    let (eh, ehu) = compare("truth-maps", &p, &m);
    eprintln!("max |height error| {eh:.2} mm, max |HU error| {ehu:.1}");
    assert!(eh <= 1.0, "height error {eh}");
    assert!(ehu <= 5.0, "HU error {ehu}");
    check_grades("truth-maps", &p, &m, GenantGrade::Moderate);
    let ll = m.alignment.lumbar_lordosis.value().unwrap();
    let tl = p.truth.alignment.lumbar_lordosis.as_ref().unwrap();
    eprintln!("lordosis {:.1} truth {:.1}", ll.angle_deg, tl.deg);
    assert!((ll.angle_deg - tl.deg).abs() <= 3.0);
    // No listhesis in the phantom.
    for s in &m.spondylolisthesis {
        if let Some(x) = s.slip.value() {
            eprintln!(
                "slip {}-{} {:.2} mm {:.1} %",
                s.upper, s.lower, x.slip_mm, x.slip_percent
            );
            assert!(x.slip_mm.abs() < LISTHESIS_PRECISION_MM, "{s:?}");
        }
    }
    // Canal: the dural sac of the phantom.
    for c in &m.canal {
        match &c.section {
            Measured::Value(s) => eprintln!(
                "{}: AP {:.1} mm, LR {:.1} mm, area {:.0} mm² {:?}",
                c.name, s.ap_diameter_mm, s.transverse_diameter_mm, s.area_mm2, s.area_flag
            ),
            Measured::NotMeasurable { reason } => eprintln!("{}: -- {reason}", c.name),
        }
    }
    let json = serde_json::to_string(&m).unwrap();
    let back: SpineMeasurements = serde_json::from_str(&json).unwrap();
    // serde_json may change the last bit of a float: compare the structure and the values to 1e-9.
    assert_eq!(back.vertebrae.len(), m.vertebrae.len());
    assert_eq!(back.schema, SCHEMA);
    for (a, b) in back.vertebrae.iter().zip(&m.vertebrae) {
        assert_eq!(a.level, b.level);
        let (ha, hb) = (
            a.heights.value().map(|h| h.posterior_mm),
            b.heights.value().map(|h| h.posterior_mm),
        );
        assert_eq!(ha.is_some(), hb.is_some());
        if let (Some(x), Some(y)) = (ha, hb) {
            assert!((x - y).abs() < 1e-9);
        }
    }
}

fn scoliosis(voxel_mm: f64) -> PhantomConfig {
    let mut c = PhantomConfig::small(Level::T3, Level::L3);
    c.voxel_size_mm = [voxel_mm; 3];
    c.scoliosis = Some(Scoliosis {
        cobb_deg: 30.0,
        apex: Level::T9,
        half_span_levels: 4,
        convex: Side::Right,
    });
    c
}

/// (measured max Cobb, truth max Cobb, measured TK, truth TK)
fn alignment_numbers(
    name: &str,
    p: &Phantom,
    m: &SpineMeasurements,
) -> (f64, f64, Option<f64>, f64) {
    let c = m
        .alignment
        .coronal
        .value()
        .unwrap_or_else(|| panic!("{name}: {:?}", m.alignment.coronal));
    for cv in &c.curves {
        eprintln!(
            "{name} curve {}–{} apex {} {:.1}° convex {}",
            cv.upper_end, cv.lower_end, cv.apex, cv.cobb_deg, cv.convex
        );
    }
    for t in &p.truth.alignment.coronal_curves {
        let cv = &t.curve;
        eprintln!(
            "{name} truth curve {}–{} apex {} {:.1}° convex {} in_fov {}",
            cv.upper_end, cv.lower_end, cv.apex, cv.cobb_deg, cv.convex, t.in_fov
        );
    }
    let tk = m.alignment.thoracic_kyphosis.value();
    let ttk = p.truth.alignment.thoracic_kyphosis.as_ref().unwrap().deg;
    eprintln!(
        "{name} TK {:?} ({:?}) truth {ttk:.1}",
        tk.map(|t| t.angle_deg),
        tk.map(|t| (t.upper, t.lower))
    );
    (
        c.max_cobb_deg,
        p.truth.alignment.max_coronal_cobb_deg,
        tk.map(|t| t.angle_deg),
        ttk,
    )
}

#[test]
fn cobb_and_kyphosis_on_truth_maps() {
    for vox in [1.5, 2.0] {
        let p = generate(&scoliosis(vox), None).unwrap();
        let m = on_truth_maps(&p);
        let name = format!("truth-maps {vox} mm");
        let (eh, _) = compare(&name, &p, &m);
        let (cobb, tcobb, tk, ttk) = alignment_numbers(&name, &p, &m);
        eprintln!("{name}: max height error {eh:.2} mm, Cobb {cobb:.1} vs {tcobb:.1}");
        assert!(
            (cobb - tcobb).abs() <= 2.0,
            "{name}: Cobb {cobb} vs {tcobb}"
        );
        let main = m
            .alignment
            .coronal
            .value()
            .unwrap()
            .curves
            .iter()
            .max_by(|a, b| a.cobb_deg.total_cmp(&b.cobb_deg))
            .unwrap()
            .clone();
        let tmain = p
            .truth
            .alignment
            .coronal_curves
            .iter()
            .map(|t| &t.curve)
            .max_by(|a, b| a.cobb_deg.total_cmp(&b.cobb_deg))
            .unwrap();
        assert_eq!(main.convex, tmain.convex);
        assert!(
            main.upper_end.ordinal().abs_diff(tmain.upper_end.ordinal()) <= 1,
            "{main:?}"
        );
        assert!(
            main.lower_end.ordinal().abs_diff(tmain.lower_end.ordinal()) <= 1,
            "{main:?}"
        );
        // 1 mm up to 1.5 mm voxels; at 2 mm the label map and the CT place an endplate only to about half a
        // voxel per end (measured max 1.4–1.6 mm), so the bound there is 0.8 voxel.
        let tol = if vox <= 1.5 { 1.0 } else { 0.8 * vox };
        assert!(eh <= tol, "{name}: height error {eh}");
        let tk = tk.unwrap();
        assert!((tk - ttk).abs() <= 3.0, "{name}: TK {tk} vs {ttk}");
    }
}

/// End to end at 2 mm (the engine's test resolution): segmentation, then measurement.
#[test]
fn end_to_end_after_segmentation() {
    let mut fr = fractures();
    fr.voxel_size_mm = [2.0; 3];
    let p = generate(&fr, None).unwrap();
    let m = end_to_end(&p);
    let (eh, ehu) = compare("end-to-end fractures", &p, &m);
    // Grades and types exact end to end for the moderate and severe fractures (T12 wedge, L2 crush, L4
    // biconcave); the L4 cup was missed while the engine filled each body section to its convex hull (middle
    // height 23.9 mm measured, 16.5 mm true).
    check_grades("end-to-end fractures", &p, &m, GenantGrade::Moderate);
    let ll = m.alignment.lumbar_lordosis.value().map(|l| l.angle_deg);
    let tl = p.truth.alignment.lumbar_lordosis.as_ref().unwrap().deg;
    eprintln!("end-to-end fractures: max height error {eh:.2} mm, HU error {ehu:.1}, LL {ll:?} vs {tl:.1}");
    eprintln!("end-to-end LL: {:?}", m.alignment.lumbar_lordosis.reason());
    for v in &m.vertebrae {
        eprintln!(
            "  {} sup {:?} inf {:?}",
            v.level,
            v.superior_endplate.reason(),
            v.inferior_endplate.reason()
        );
    }
    let pm = on_truth_maps(&p);
    let (eh2, ehu2) = compare("truth-maps 2 mm fractures", &p, &pm);
    eprintln!("truth maps 2 mm: max height error {eh2:.2} mm, HU error {ehu2:.1}");

    let p = generate(&scoliosis(2.0), None).unwrap();
    let m = end_to_end(&p);
    let (eh, ehu) = compare("end-to-end scoliosis", &p, &m);
    let (cobb, tcobb, tk, ttk) = alignment_numbers("end-to-end scoliosis", &p, &m);
    eprintln!("end-to-end scoliosis: height {eh:.2} mm, HU {ehu:.1}, Cobb {cobb:.1} vs {tcobb:.1}, TK {tk:?} vs {ttk:.1}");
}

/// The lumbosacral junction end to end on the demo phantom (the default configuration: 0.8 × 0.8 × 1 mm, T12 to
/// the sacrum, no listhesis, sacral slope 40°): the L5–S1 slip and the S1 superior endplate read from the
/// engine's sacrum must match the truth as closely as when read from the phantom's own maps. Before the S1 body
/// was built in the endplate's frame and the corners were walked parallel to the endplate on the whole-vertebra
/// outline, the engine gave a false 3.7 mm slip and a 41.6° S1 endplate (lordosis 58.6° for 55.0°); measured
/// now: slip −0.5 mm, S1 39.5°, lordosis 56.5° (truth maps: −0.5 mm, 40.6°, 55.7°).
#[test]
fn lumbosacral_junction_on_the_demo_phantom() {
    let cfg = PhantomConfig::default();
    let p = generate(&cfg, None).unwrap();
    let truth_slope = cfg.sagittal.sacral_slope_deg;
    let seg = spinekit_ct::segment(&p.ct, &spinekit_ct::SegmentOptions::default(), None).unwrap();
    let ours = measure_segmentation(&p.ct, &seg, Some(p.truth.contrast_phase)).unwrap();
    let reference = on_truth_maps(&p);
    for (name, m) in [("engine", &ours), ("truth maps", &reference)] {
        let slip = m
            .spondylolisthesis
            .iter()
            .find(|s| s.upper == Level::L5 && s.lower == Level::Sacrum)
            .and_then(|s| s.slip.value())
            .unwrap_or_else(|| panic!("{name}: no L5–S1 slip"));
        let s1 = m
            .vertebrae
            .iter()
            .find(|v| v.level == Level::Sacrum)
            .and_then(|v| v.superior_endplate.value())
            .unwrap_or_else(|| panic!("{name}: no S1 endplate"));
        let ll = m.alignment.lumbar_lordosis.value().map(|l| l.angle_deg);
        eprintln!(
            "{name}: L5–S1 slip {:.2} mm, S1 {:.2}° (truth {truth_slope}°), LL {ll:?}",
            slip.slip_mm, s1.sagittal_tilt_deg
        );
        assert!(
            slip.slip_mm.abs() < 1.0,
            "{name}: L5–S1 slip {}",
            slip.slip_mm
        );
        assert!(
            (s1.sagittal_tilt_deg - truth_slope).abs() <= 1.0,
            "{name}: S1 endplate {}",
            s1.sagittal_tilt_deg
        );
    }
    // The sacrum's body map is the S1 body, as in the phantom's truth (measured Dice 0.863; 0.546 when it held
    // the whole sacrum in front of one straight wall line).
    let label = Level::Sacrum.verse_label();
    let d = spinekit_morph::dice_labels(&seg.bodies, label, &p.bodies, label).unwrap_or(0.0);
    eprintln!("S1 body Dice {d:.3}");
    assert!(d >= 0.8, "S1 body Dice {d}");
}
