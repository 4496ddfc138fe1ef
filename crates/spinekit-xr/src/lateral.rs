//! Sagittal alignment and spinopelvic parameters from lateral landmarks (clinical-reference.md §4.1–§4.2).
//!
//! # Landmark JSON schema (`"view": "lateral"`)
//!
//! All points are `[x, y]` in pixels of the radiograph, x to the right, y **down**, (0, 0) = centre of the
//! top-left pixel. Each endplate gives its anterior and posterior corners.
//!
//! ```json
//! {
//!   "view": "lateral",
//!   "pixel_spacing_mm": [0.15, 0.15],
//!   "c7_center_px": [x, y],
//!   "t1_superior": {"anterior_px": [x, y], "posterior_px": [x, y]},
//!   "t1_inferior": {"anterior_px": [x, y], "posterior_px": [x, y]},
//!   "t4_superior": {"anterior_px": [x, y], "posterior_px": [x, y]},
//!   "t12_inferior": {"anterior_px": [x, y], "posterior_px": [x, y]},
//!   "l1_superior": {"anterior_px": [x, y], "posterior_px": [x, y]},
//!   "s1_superior": {"anterior_px": [x, y], "posterior_px": [x, y]},
//!   "femoral_heads_px": [[x, y], [x, y]]
//! }
//! ```
//!
//! `pixel_spacing_mm` is (row, column) spacing at the patient, magnification-corrected; omit it (or `null`) when
//! unknown: angles then assume square pixels and SVA is given in pixels only, marked uncalibrated. The T1 centre
//! (for TPA) is the mean of the four T1 endplate corners. The hip axis is the midpoint of the two femoral head
//! centres (bicoxofemoral axis).
//!
//! **Facing.** The patient may face the image's left or right: the anterior direction is taken from the landmarks
//! (the sign of the mean x offset from posterior to anterior corner over all six endplates) and reported as
//! `patient_facing`. All angles are computed in a patient frame (u anterior, v superior, in mm when calibrated), so
//! a mirrored radiograph gives identical values.

use crate::XrError;
use serde::{Deserialize, Serialize};

/// Anterior and posterior corner of one endplate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndplatePx {
    pub anterior_px: [f64; 2],
    pub posterior_px: [f64; 2],
}

/// Pixel spacing: one number (square pixels) or (row, column).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Spacing {
    Square(f64),
    RowCol([f64; 2]),
}

impl Spacing {
    /// (row, column) spacing in mm.
    pub fn row_col_mm(self) -> [f64; 2] {
        match self {
            Self::Square(s) => [s, s],
            Self::RowCol(rc) => rc,
        }
    }
}

/// Landmarks of a lateral full-spine radiograph (see the module docs for the JSON schema).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LateralLandmarks {
    #[serde(default)]
    pub pixel_spacing_mm: Option<Spacing>,
    pub c7_center_px: [f64; 2],
    pub t1_superior: EndplatePx,
    pub t1_inferior: EndplatePx,
    pub t4_superior: EndplatePx,
    pub t12_inferior: EndplatePx,
    pub l1_superior: EndplatePx,
    pub s1_superior: EndplatePx,
    pub femoral_heads_px: [[f64; 2]; 2],
}

impl LateralLandmarks {
    fn endplates(&self) -> [(&'static str, &EndplatePx); 6] {
        [
            ("T1 superior", &self.t1_superior),
            ("T1 inferior", &self.t1_inferior),
            ("T4 superior", &self.t4_superior),
            ("T12 inferior", &self.t12_inferior),
            ("L1 superior", &self.l1_superior),
            ("S1 superior", &self.s1_superior),
        ]
    }

    /// Checks finite coordinates, a positive spacing and non-degenerate endplates.
    pub fn validate(&self) -> Result<(), XrError> {
        let bad = |what: &str| {
            Err(XrError::BadLandmarks(format!(
                "{what} is missing or not a finite number"
            )))
        };
        if let Some(s) = self.pixel_spacing_mm {
            if s.row_col_mm().iter().any(|v| !v.is_finite() || *v <= 0.0) {
                return Err(XrError::BadLandmarks(
                    "pixel_spacing_mm must be positive".into(),
                ));
            }
        }
        if self.c7_center_px.iter().any(|v| !v.is_finite()) {
            return bad("the C7 centre");
        }
        if self
            .femoral_heads_px
            .iter()
            .flatten()
            .any(|v| !v.is_finite())
        {
            return bad("a femoral head centre");
        }
        for (name, e) in self.endplates() {
            if e.anterior_px
                .iter()
                .chain(&e.posterior_px)
                .any(|v| !v.is_finite())
            {
                return bad(&format!("the {name} endplate"));
            }
            if e.anterior_px == e.posterior_px {
                return Err(XrError::BadLandmarks(format!(
                    "the {name} endplate has its anterior and posterior corners at the same place"
                )));
            }
        }
        Ok(())
    }

    /// +1 when the patient faces the image's right (anterior = +x), −1 when facing left.
    pub fn facing_sign(&self) -> f64 {
        let dx: f64 = self
            .endplates()
            .iter()
            .map(|(_, e)| e.anterior_px[0] - e.posterior_px[0])
            .sum();
        if dx >= 0.0 {
            1.0
        } else {
            -1.0
        }
    }
}

/// SRS–Schwab modifier grade ("0", "+", "++").
fn grade(v: f64, plus_from: f64, plus_plus_above: f64) -> &'static str {
    if v < plus_from {
        "0"
    } else if v <= plus_plus_above {
        "+"
    } else {
        "++"
    }
}

/// SRS–Schwab sagittal modifiers (clinical-reference.md §4.2, S27). Boundary convention (impl.): "+" includes
/// both ends of its range (10–20°, 40–95 mm, 20–30°).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchwabModifiers {
    /// PI−LL: 0 < 10°, + 10–20°, ++ > 20°.
    pub pi_minus_ll: String,
    /// SVA: 0 < 40 mm, + 40–95 mm, ++ > 95 mm; `None` without pixel spacing.
    pub global_alignment_sva: Option<String>,
    /// PT: 0 < 20°, + 20–30°, ++ > 30°.
    pub pelvic_tilt: String,
}

/// Lateral measurements. Angles in degrees with the sign conventions of §4.1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LateralMeasurements {
    /// "left" or "right": the image side the patient faces (detected from the landmarks).
    pub patient_facing: String,
    pub calibrated: bool,
    pub pelvic_incidence_deg: f64,
    pub pelvic_tilt_deg: f64,
    pub sacral_slope_deg: f64,
    /// PI − (PT + SS): zero up to rounding when the landmarks are consistent (a QA check, §4.1).
    pub pi_identity_residual_deg: f64,
    /// L1 superior to S1 superior endplate, positive = lordotic.
    pub lumbar_lordosis_l1_s1_deg: f64,
    /// T4 superior to T12 inferior endplate, positive = kyphotic.
    pub thoracic_kyphosis_t4_t12_deg: f64,
    pub pi_minus_ll_deg: f64,
    /// C7 plumb line to the posterosuperior S1 corner, positive = C7 anterior; `None` without pixel spacing.
    pub sagittal_vertical_axis_mm: Option<f64>,
    /// The same horizontal offset in pixel columns (always given; the only SVA when uncalibrated).
    pub sagittal_vertical_axis_px: f64,
    /// Angle at the hip axis between the T1 centre and the S1 endplate midpoint.
    pub t1_pelvic_angle_deg: f64,
    pub srs_schwab: SchwabModifiers,
    pub method: String,
}

/// Method string for the lateral measurements.
pub const LATERAL_METHOD: &str = "clinical-reference.md §4.1 (S29, S27, S28): patient frame u anterior, v \
superior (image y down, facing side detected from endplate corners); endplate tilt = atan2(v_ant − v_post, \
u_ant − u_post); SS = −tilt(S1); PT = angle between vertical and hip-axis→S1-midpoint line, positive when the hip \
axis is anterior; PI = angle between the S1 endplate normal (into the sacrum) and the S1-midpoint→hip-axis line; \
LL = tilt(L1 sup) − tilt(S1 sup); TK = tilt(T12 inf) − tilt(T4 sup); SVA = u(C7 centre) − u(S1 posterosuperior \
corner); TPA = angle at the hip axis between T1 centre and S1 midpoint; hip axis = midpoint of the femoral head \
centres; SRS–Schwab modifiers with '+' inclusive of both range ends.";

/// Computes all lateral parameters (validates the landmarks first).
pub fn measure_lateral(l: &LateralLandmarks) -> Result<LateralMeasurements, XrError> {
    l.validate()?;
    let f = l.facing_sign();
    let [sr, sc] = l
        .pixel_spacing_mm
        .map(Spacing::row_col_mm)
        .unwrap_or([1.0, 1.0]);
    // Patient frame: u anterior, v superior (mm when calibrated, else pixels).
    let uv = |p: [f64; 2]| [f * p[0] * sc, -p[1] * sr];
    let tilt = |e: &EndplatePx| {
        let (a, p) = (uv(e.anterior_px), uv(e.posterior_px));
        (a[1] - p[1]).atan2(a[0] - p[0]).to_degrees()
    };
    let mid = |a: [f64; 2], b: [f64; 2]| [0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1])];
    let hip = mid(uv(l.femoral_heads_px[0]), uv(l.femoral_heads_px[1]));
    let s1a = uv(l.s1_superior.anterior_px);
    let s1p = uv(l.s1_superior.posterior_px);
    let s1m = mid(s1a, s1p);

    let ss = -tilt(&l.s1_superior);
    let pt = (hip[0] - s1m[0]).atan2(s1m[1] - hip[1]).to_degrees();
    // Normal to the S1 endplate pointing into the sacrum (inferior side).
    let d = [s1a[0] - s1p[0], s1a[1] - s1p[1]];
    let n = [d[1], -d[0]];
    let to_hip = [hip[0] - s1m[0], hip[1] - s1m[1]];
    let pi = angle_between(n, to_hip);
    let ll = tilt(&l.l1_superior) - tilt(&l.s1_superior);
    let tk = tilt(&l.t12_inferior) - tilt(&l.t4_superior);
    let sva_px = f * (l.c7_center_px[0] - l.s1_superior.posterior_px[0]);
    let sva_mm = l.pixel_spacing_mm.map(|_| sva_px * sc);
    let t1 = {
        let pts = [
            l.t1_superior.anterior_px,
            l.t1_superior.posterior_px,
            l.t1_inferior.anterior_px,
            l.t1_inferior.posterior_px,
        ];
        uv([
            pts.iter().map(|p| p[0]).sum::<f64>() / 4.0,
            pts.iter().map(|p| p[1]).sum::<f64>() / 4.0,
        ])
    };
    let tpa = angle_between(
        [t1[0] - hip[0], t1[1] - hip[1]],
        [s1m[0] - hip[0], s1m[1] - hip[1]],
    );
    let pi_ll = pi - ll;
    Ok(LateralMeasurements {
        patient_facing: if f > 0.0 { "right" } else { "left" }.into(),
        calibrated: l.pixel_spacing_mm.is_some(),
        pelvic_incidence_deg: pi,
        pelvic_tilt_deg: pt,
        sacral_slope_deg: ss,
        pi_identity_residual_deg: pi - (pt + ss),
        lumbar_lordosis_l1_s1_deg: ll,
        thoracic_kyphosis_t4_t12_deg: tk,
        pi_minus_ll_deg: pi_ll,
        sagittal_vertical_axis_mm: sva_mm,
        sagittal_vertical_axis_px: sva_px,
        t1_pelvic_angle_deg: tpa,
        srs_schwab: SchwabModifiers {
            // Thresholds: §4.2 SRS–Schwab (S27).
            pi_minus_ll: grade(pi_ll, 10.0, 20.0).into(),
            global_alignment_sva: sva_mm.map(|s| grade(s, 40.0, 95.0).into()),
            pelvic_tilt: grade(pt, 20.0, 30.0).into(),
        },
        method: LATERAL_METHOD.into(),
    })
}

/// Unsigned angle between two vectors in degrees.
fn angle_between(a: [f64; 2], b: [f64; 2]) -> f64 {
    let c = (a[0] * b[0] + a[1] * b[1]) / (a[0].hypot(a[1]) * b[0].hypot(b[1]));
    c.clamp(-1.0, 1.0).acos().to_degrees()
}

#[cfg(test)]
mod tests {
    use super::grade;

    #[test]
    fn schwab_grades_follow_the_section_4_2_boundaries() {
        // PT: 0 < 20°, + 20–30°, ++ > 30°.
        assert_eq!(grade(19.9, 20.0, 30.0), "0");
        assert_eq!(grade(20.0, 20.0, 30.0), "+");
        assert_eq!(grade(30.0, 20.0, 30.0), "+");
        assert_eq!(grade(30.1, 20.0, 30.0), "++");
        // SVA in mm: 0 < 40, + 40–95, ++ > 95.
        assert_eq!(grade(96.0, 40.0, 95.0), "++");
        assert_eq!(grade(-120.0, 40.0, 95.0), "0");
    }
}
