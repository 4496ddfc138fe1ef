//! Lateral parameters on hand-computed geometry and on phantom projections.

use spinekit_anatomy::Level;
use spinekit_phantom::{generate, project, PhantomConfig, ProjectionView};
use spinekit_xr::lateral::{measure_lateral, EndplatePx, LateralLandmarks, Spacing};
use spinekit_xr::report::{parse_landmarks_json, Landmarks};

/// An endplate through `c` tilted by `tilt_deg` (anterior up positive) for a patient facing the image's left
/// (anterior = −x); half-length 20 px.
fn ep(c: [f64; 2], tilt_deg: f64) -> EndplatePx {
    let (s, co) = tilt_deg.to_radians().sin_cos();
    EndplatePx {
        anterior_px: [c[0] - 20.0 * co, c[1] - 20.0 * s],
        posterior_px: [c[0] + 20.0 * co, c[1] + 20.0 * s],
    }
}

fn hand_case() -> LateralLandmarks {
    // Facing left. S1 midpoint (500, 1000), endplate sloping 40° (anterior lower): SS = 40°.
    // Hip axis 100 px anterior and 100·√3 px below: PT = atan(100 / 173.2) = 30°, so PI = 70°.
    // L1 superior tilt +15° (anterior up): LL = 15 − (−40) = 55°; T4 superior −25°, T12 inferior +10°: TK = 35°.
    // C7 at x 460, S1 posterior corner at x 500 + 20 cos40° = 515.32: SVA = 55.32 px anterior → 5.532 mm at 0.1.
    let s3 = 100.0 * 3f64.sqrt();
    LateralLandmarks {
        pixel_spacing_mm: Some(Spacing::Square(0.1)),
        c7_center_px: [460.0, 100.0],
        t1_superior: ep([480.0, 120.0], 0.0),
        t1_inferior: ep([480.0, 160.0], 0.0),
        t4_superior: ep([470.0, 300.0], -25.0),
        t12_inferior: ep([440.0, 650.0], 10.0),
        l1_superior: ep([440.0, 670.0], 15.0),
        s1_superior: ep([500.0, 1000.0], -40.0),
        femoral_heads_px: [[395.0, 1000.0 + s3], [405.0, 1000.0 + s3]],
    }
}

fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() < tol, "{a} vs {b}");
}

#[test]
fn hand_computed_case_facing_left() {
    let m = measure_lateral(&hand_case()).unwrap();
    assert_eq!(m.patient_facing, "left");
    close(m.sacral_slope_deg, 40.0, 1e-9);
    close(m.pelvic_tilt_deg, 30.0, 1e-9);
    close(m.pelvic_incidence_deg, 70.0, 1e-9);
    close(m.pi_identity_residual_deg, 0.0, 1e-9);
    close(m.lumbar_lordosis_l1_s1_deg, 55.0, 1e-9);
    close(m.thoracic_kyphosis_t4_t12_deg, 35.0, 1e-9);
    close(m.pi_minus_ll_deg, 15.0, 1e-9);
    let sva_px = 500.0 + 20.0 * 40f64.to_radians().cos() - 460.0;
    close(m.sagittal_vertical_axis_px, sva_px, 1e-9);
    close(m.sagittal_vertical_axis_mm.unwrap(), 0.1 * sva_px, 1e-9);
    // TPA: hip (400, 1173.2); T1 centre (480, 140); S1 midpoint (500, 1000).
    let s3 = 100.0 * 3f64.sqrt();
    let a1 = (80f64).atan2(1000.0 + s3 - 140.0);
    let a2 = (100f64).atan2(s3);
    close(m.t1_pelvic_angle_deg, (a2 - a1).to_degrees(), 1e-9);
    assert_eq!(m.srs_schwab.pi_minus_ll, "+"); // 15° (10–20°)
    assert_eq!(m.srs_schwab.global_alignment_sva.as_deref(), Some("0"));
}

#[test]
fn mirrored_image_gives_the_same_values_and_uncalibrated_sva_is_marked() {
    let l = hand_case();
    let flip = |p: [f64; 2]| [1000.0 - p[0], p[1]];
    let fe = |e: EndplatePx| EndplatePx {
        anterior_px: flip(e.anterior_px),
        posterior_px: flip(e.posterior_px),
    };
    let r = LateralLandmarks {
        pixel_spacing_mm: None,
        c7_center_px: flip(l.c7_center_px),
        t1_superior: fe(l.t1_superior),
        t1_inferior: fe(l.t1_inferior),
        t4_superior: fe(l.t4_superior),
        t12_inferior: fe(l.t12_inferior),
        l1_superior: fe(l.l1_superior),
        s1_superior: fe(l.s1_superior),
        femoral_heads_px: [flip(l.femoral_heads_px[0]), flip(l.femoral_heads_px[1])],
    };
    let (a, b) = (measure_lateral(&l).unwrap(), measure_lateral(&r).unwrap());
    assert_eq!(b.patient_facing, "right");
    assert!(!b.calibrated && b.sagittal_vertical_axis_mm.is_none());
    assert!(b.srs_schwab.global_alignment_sva.is_none());
    for (x, y) in [
        (a.pelvic_incidence_deg, b.pelvic_incidence_deg),
        (a.pelvic_tilt_deg, b.pelvic_tilt_deg),
        (a.sacral_slope_deg, b.sacral_slope_deg),
        (a.lumbar_lordosis_l1_s1_deg, b.lumbar_lordosis_l1_s1_deg),
        (
            a.thoracic_kyphosis_t4_t12_deg,
            b.thoracic_kyphosis_t4_t12_deg,
        ),
        (a.t1_pelvic_angle_deg, b.t1_pelvic_angle_deg),
        (a.sagittal_vertical_axis_px, b.sagittal_vertical_axis_px),
    ] {
        close(x, y, 1e-9);
    }
}

#[test]
fn json_round_trip_and_bad_input() {
    let l = hand_case();
    let mut v = serde_json::to_value(&l).unwrap();
    v["view"] = "lateral".into();
    match parse_landmarks_json(&v.to_string()).unwrap() {
        Landmarks::Lateral(back) => assert_eq!(*back, l),
        other => panic!("{other:?}"),
    }
    v.as_object_mut().unwrap().remove("l1_superior");
    let e = parse_landmarks_json(&v.to_string())
        .unwrap_err()
        .to_string();
    assert!(e.contains("l1_superior"), "{e}");
    assert!(parse_landmarks_json("{\"view\": \"oblique\"}").is_err());
    let mut nan = hand_case();
    nan.c7_center_px[0] = f64::NAN;
    assert!(measure_lateral(&nan).is_err());
}

#[test]
fn phantom_lateral_projection_matches_truth() {
    let mut cfg = PhantomConfig::small(Level::C7, Level::L5);
    cfg.seed = 3;
    let ph = generate(&cfg, None).unwrap();
    let p = project(&ph, ProjectionView::Lateral);
    let t = &p.truth;
    let v = |lv: Level| t.vertebrae.iter().find(|x| x.level == lv).unwrap();
    // Lateral corners: TL/TR = superior anterior/posterior, BL/BR = inferior anterior/posterior (project.rs).
    let sup = |lv| {
        let c = v(lv).corners_px;
        EndplatePx {
            anterior_px: c[0],
            posterior_px: c[1],
        }
    };
    let inf = |lv| {
        let c = v(lv).corners_px;
        EndplatePx {
            anterior_px: c[2],
            posterior_px: c[3],
        }
    };
    let l = LateralLandmarks {
        pixel_spacing_mm: Some(Spacing::RowCol(t.pixel_spacing_mm)),
        c7_center_px: t.c7_center_px,
        t1_superior: sup(Level::T1),
        t1_inferior: inf(Level::T1),
        t4_superior: sup(Level::T4),
        t12_inferior: inf(Level::T12),
        l1_superior: sup(Level::L1),
        s1_superior: EndplatePx {
            anterior_px: t.s1_endplate.left_px,
            posterior_px: t.s1_endplate.right_px,
        },
        femoral_heads_px: [t.femoral_heads[0].center_px, t.femoral_heads[1].center_px],
    };
    let m = measure_lateral(&l).unwrap();
    assert_eq!(m.patient_facing, "left"); // project.rs: anterior on the image's left
    let pt = &ph.truth.pelvis;
    close(m.pelvic_incidence_deg, pt.pelvic_incidence_deg, 0.1);
    close(m.pelvic_tilt_deg, pt.pelvic_tilt_deg, 0.1);
    close(m.sacral_slope_deg, pt.sacral_slope_deg, 0.1);
    close(m.pi_identity_residual_deg, 0.0, 0.1);
    let al = &ph.truth.alignment;
    close(
        m.lumbar_lordosis_l1_s1_deg,
        al.lumbar_lordosis.as_ref().unwrap().deg,
        0.1,
    );
    let tk = al.thoracic_kyphosis.as_ref().unwrap();
    assert_eq!((tk.upper, tk.lower), (Level::T4, Level::T12));
    close(m.thoracic_kyphosis_t4_t12_deg, tk.deg, 0.1);
    // SVA: C7 centre to S1 posterosuperior corner along y (anterior = −y in LPS), in mm.
    let sva_truth = -(pt.c7_center_mm[1] - pt.s1_endplate.posterior_mm[1]);
    close(m.sagittal_vertical_axis_mm.unwrap(), sva_truth, 1e-6);
}
