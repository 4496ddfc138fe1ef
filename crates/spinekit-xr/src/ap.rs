//! Coronal (AP) Cobb angles from the four body corners of T1–L5, in the AASCE 2019 convention.
//!
//! The convention is the one that produced the AASCE 2019 / SpineWeb Dataset 16 labels (clinical-reference.md §4.1,
//! §4.4; Wu et al. 2017): each vertebra's line joins the midpoint of its left side to the midpoint of its right
//! side; the angle between two vertebrae is the acute angle between their lines; the main curve is the pair with the
//! largest angle; the two other angles depend on whether the spine is an S curve and, if it is, on the half of the
//! image that holds the main curve (see [`aasce_angles`]).

use crate::XrError;
use serde::{Deserialize, Serialize};
use spinekit_anatomy::Level;

/// Number of vertebrae in the AASCE layout (T1..L5).
pub const AP_VERTEBRA_COUNT: usize = 17;

/// The 17 levels of the AASCE layout, cranial first.
pub const AP_LEVELS: [Level; AP_VERTEBRA_COUNT] = [
    Level::T1,
    Level::T2,
    Level::T3,
    Level::T4,
    Level::T5,
    Level::T6,
    Level::T7,
    Level::T8,
    Level::T9,
    Level::T10,
    Level::T11,
    Level::T12,
    Level::L1,
    Level::L2,
    Level::L3,
    Level::L4,
    Level::L5,
];

/// A point in pixel coordinates: (column x, row y), y pointing down.
pub type PointPx = [f64; 2];

/// Vertebral body corners of T1..L5 on an AP radiograph, in pixels.
///
/// Per vertebra the corners are in AASCE order **as displayed**: top-left, top-right, bottom-left, bottom-right.
/// "Left" is the image's left (the patient's right in the radiographic convention); the angles do not depend on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApLandmarks {
    /// `corners_px[v][c]`: vertebra v (0 = T1 … 16 = L5), corner c (0 TL, 1 TR, 2 BL, 3 BR).
    pub corners_px: [[PointPx; 4]; AP_VERTEBRA_COUNT],
}

impl ApLandmarks {
    /// Checks that every coordinate is finite and that no vertebra has coincident left and right sides.
    pub fn new(corners_px: [[PointPx; 4]; AP_VERTEBRA_COUNT]) -> Result<Self, XrError> {
        for (v, c) in corners_px.iter().enumerate() {
            if c.iter().flatten().any(|x| !x.is_finite()) {
                return Err(XrError::BadLandmarks(format!(
                    "vertebra {} has a missing or non-numeric corner",
                    AP_LEVELS[v]
                )));
            }
        }
        let l = Self { corners_px };
        for (v, level) in AP_LEVELS.iter().enumerate() {
            let [a, b] = l.side_midpoints(v);
            if (b[0] - a[0]).hypot(b[1] - a[1]) < 1e-9 {
                return Err(XrError::BadLandmarks(format!(
                    "vertebra {level} has its left and right corners at the same place"
                )));
            }
        }
        Ok(l)
    }

    /// From a flat list of 68 points in AASCE order (vertebra by vertebra, TL TR BL BR).
    pub fn from_points(points: &[PointPx]) -> Result<Self, XrError> {
        if points.len() != 4 * AP_VERTEBRA_COUNT {
            return Err(XrError::BadLandmarks(format!(
                "expected 68 points (17 vertebrae T1–L5 × 4 corners), found {}",
                points.len()
            )));
        }
        let mut c = [[[0.0; 2]; 4]; AP_VERTEBRA_COUNT];
        for (i, p) in points.iter().enumerate() {
            c[i / 4][i % 4] = *p;
        }
        Self::new(c)
    }

    /// From one row of the AASCE `landmarks.csv`: 68 x then 68 y, normalised by the image width and height.
    pub fn from_aasce_row(row: &[f64], width_px: f64, height_px: f64) -> Result<Self, XrError> {
        if row.len() != 8 * AP_VERTEBRA_COUNT {
            return Err(XrError::BadLandmarks(format!(
                "an AASCE landmark row has 136 values (68 x then 68 y), found {}",
                row.len()
            )));
        }
        let n = 4 * AP_VERTEBRA_COUNT;
        let pts: Vec<PointPx> = (0..n)
            .map(|i| [row[i] * width_px, row[n + i] * height_px])
            .collect();
        Self::from_points(&pts)
    }

    /// Midpoints of the left side (mean of TL, BL) and right side (mean of TR, BR) of vertebra `v`.
    pub fn side_midpoints(&self, v: usize) -> [PointPx; 2] {
        let c = &self.corners_px[v];
        [mid(c[0], c[2]), mid(c[1], c[3])]
    }

    /// Midpoints of the superior (TL, TR) and inferior (BL, BR) endplates of vertebra `v`.
    pub fn endplate_midpoints(&self, v: usize) -> [PointPx; 2] {
        let c = &self.corners_px[v];
        [mid(c[0], c[1]), mid(c[2], c[3])]
    }

    /// Centre of vertebra `v` (mean of its four corners).
    pub fn center(&self, v: usize) -> PointPx {
        let c = &self.corners_px[v];
        [
            0.25 * (c[0][0] + c[1][0] + c[2][0] + c[3][0]),
            0.25 * (c[0][1] + c[1][1] + c[2][1] + c[3][1]),
        ]
    }
}

fn mid(a: PointPx, b: PointPx) -> PointPx {
    [0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1])]
}

/// Which of the three AASCE angles a curve is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CurveRole {
    /// The largest angle over all pairs (column 1 of AASCE `angles.csv`).
    Main,
    /// Column 2 of `angles.csv`.
    Upper,
    /// Column 3 of `angles.csv`.
    Lower,
}

/// Clinical region of a curve, named by the level of its apex (SRS terminology, vertebra-level apices:
/// T1–T5 proximal thoracic, T6–T11 main thoracic, T12–L1 thoracolumbar, L2–L5 lumbar).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CurveRegion {
    ProximalThoracic,
    MainThoracic,
    ThoracoLumbar,
    Lumbar,
}

impl CurveRegion {
    /// Region of an apex at vertebra index `apex` (0 = T1).
    pub fn from_apex(apex: usize) -> Self {
        match apex {
            0..=4 => Self::ProximalThoracic,
            5..=10 => Self::MainThoracic,
            11..=12 => Self::ThoracoLumbar,
            _ => Self::Lumbar,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::ProximalThoracic => "proximal-thoracic",
            Self::MainThoracic => "main-thoracic",
            Self::ThoracoLumbar => "thoraco-lumbar",
            Self::Lumbar => "lumbar",
        }
    }

    /// Short label for pictures.
    pub fn abbreviation(self) -> &'static str {
        match self {
            Self::ProximalThoracic => "PT",
            Self::MainThoracic => "MT",
            Self::ThoracoLumbar => "TL",
            Self::Lumbar => "L",
        }
    }
}

/// One Cobb angle with its end vertebrae and apex.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CobbCurve {
    pub role: CurveRole,
    pub angle_deg: f64,
    /// Cranial end vertebra (index 0 = T1) and its level.
    pub upper_end_index: usize,
    pub upper_end: Level,
    /// Caudal end vertebra.
    pub lower_end_index: usize,
    pub lower_end: Level,
    /// Vertebra (between the end vertebrae, inclusive) whose centre is farthest from the straight line joining
    /// the end vertebrae's centres.
    pub apex_index: usize,
    pub apex: Level,
    /// Apex side on the image: "left", "right", or "none" for a straight segment.
    pub convex_toward_image: String,
    pub region: CurveRegion,
}

/// The three AASCE Cobb angles of one radiograph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AasceAngles {
    pub main_deg: f64,
    pub upper_deg: f64,
    pub lower_deg: f64,
    /// Whether the centre line crosses the line from its first to its last point (an S curve).
    pub s_curve: bool,
    /// For an S curve: whether the main curve lies in the upper half of the image.
    pub main_in_upper_half: bool,
    /// Main, upper and lower curves, in that order.
    pub curves: [CobbCurve; 3],
    /// `angles_deg[a][b]`: acute angle between the lines of vertebrae a and b.
    pub pair_angles_deg: Vec<Vec<f64>>,
    pub method: String,
}

impl AasceAngles {
    /// (main, upper, lower) in degrees: the column order of AASCE `angles.csv`.
    pub fn triple(&self) -> [f64; 3] {
        [self.main_deg, self.upper_deg, self.lower_deg]
    }
}

/// Method string written next to the angles.
pub const AASCE_METHOD: &str = "AASCE 2019 convention: vertebra line = left-side midpoint (mean of TL, BL corners) \
to right-side midpoint (mean of TR, BR); angle between two vertebrae = acute angle between their lines; main = \
largest angle over all pairs (i above j); S curve = endplate-midpoint centre line (excluding its last two points) \
on both sides of the line from its first to its last point; not S: upper = angle(T1, i), lower = angle(L5, j); S \
with the mean row of the superior-endplate midpoints of i and j above the image's middle row: upper = max angle \
between i and a vertebra above it, lower = max angle between j and a vertebra below it; otherwise upper = max angle \
between i and a vertebra above it (at k), lower = max angle between k and a vertebra above k. Apex = vertebra \
farthest from the line joining the end vertebrae's centres.";

/// Acute angle in degrees between the lines of two vertebrae.
fn line_angle_deg(a: [f64; 2], b: [f64; 2]) -> f64 {
    let dot = a[0] * b[0] + a[1] * b[1];
    let n = a[0].hypot(a[1]) * b[0].hypot(b[1]);
    (dot.abs() / n).min(1.0).acos().to_degrees()
}

/// Index of the first maximum of `angles[row][range]`, and its value.
fn argmax(values: impl Iterator<Item = (usize, f64)>) -> (usize, f64) {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, v) in values {
        if v > best.1 {
            best = (i, v);
        }
    }
    best
}

/// The centre line (34 endplate midpoints, superior then inferior per vertebra, cranial first) crosses the straight
/// line from its first to its last point.
///
/// As in the reference implementation, the last two points (L5's endplate midpoints, which lie at the line's end)
/// are not tested; a point counts on a side only if its signed distance exceeds 1e-6 of the line's length.
pub fn is_s_curve(l: &ApLandmarks) -> bool {
    let pts: Vec<PointPx> = (0..AP_VERTEBRA_COUNT)
        .flat_map(|v| l.endplate_midpoints(v))
        .collect();
    let (a, b) = (pts[0], pts[pts.len() - 1]);
    let d = [b[0] - a[0], b[1] - a[1]];
    let len = d[0].hypot(d[1]);
    if len == 0.0 {
        return false;
    }
    let (mut pos, mut neg) = (false, false);
    for p in &pts[..pts.len() - 2] {
        let s = (d[0] * (p[1] - a[1]) - d[1] * (p[0] - a[0])) / len;
        if s > 1e-6 * len {
            pos = true;
        } else if s < -1e-6 * len {
            neg = true;
        }
    }
    pos && neg
}

/// Three Cobb angles (main, upper, lower) with end vertebrae and apices, AASCE 2019 convention (see the module docs
/// and [`AASCE_METHOD`]). `image_height_px` decides, for an S curve, whether the main curve is in the upper half.
pub fn aasce_angles(l: &ApLandmarks, image_height_px: f64) -> AasceAngles {
    let n = AP_VERTEBRA_COUNT;
    let dirs: Vec<[f64; 2]> = (0..n)
        .map(|v| {
            let [a, b] = l.side_midpoints(v);
            [b[0] - a[0], b[1] - a[1]]
        })
        .collect();
    let ang: Vec<Vec<f64>> = (0..n)
        .map(|a| (0..n).map(|b| line_angle_deg(dirs[a], dirs[b])).collect())
        .collect();
    // Main: first row (cranial-most i) holding the global maximum, then its first maximal column; ties resolve
    // cranially like the reference implementation, and by symmetry j > i whenever the maximum is non-zero.
    let mut best = (0usize, 0usize, f64::NEG_INFINITY);
    for (i, row) in ang.iter().enumerate() {
        let (j, v) = argmax(row.iter().copied().enumerate());
        if v > best.2 {
            best = (i, j, v);
        }
    }
    let (i, j, main) = best;
    let (i, j) = (i.min(j), i.max(j));
    let s_curve = is_s_curve(l);
    let top_row = |v: usize| l.endplate_midpoints(v)[0][1];
    let main_in_upper_half = top_row(i) + top_row(j) < image_height_px;
    // (upper curve ends, lower curve ends), each as (cranial, caudal) vertebra indices.
    let (up, low) = if !s_curve {
        ((0, i), (j, n - 1))
    } else if main_in_upper_half {
        let (k, _) = argmax((0..=i).map(|b| (b, ang[i][b])));
        let (m, _) = argmax((j..n).map(|b| (b, ang[j][b])));
        ((k, i), (j, m))
    } else {
        let (k, _) = argmax((0..=i).map(|b| (b, ang[i][b])));
        let (m, _) = argmax((0..=k).map(|b| (b, ang[k][b])));
        ((k, i), (m, k))
    };
    let curve = |role, (a, b): (usize, usize)| {
        let (a, b) = (a.min(b), a.max(b));
        make_curve(l, role, ang[a][b], a, b)
    };
    let curves = [
        curve(CurveRole::Main, (i, j)),
        curve(CurveRole::Upper, up),
        curve(CurveRole::Lower, low),
    ];
    AasceAngles {
        main_deg: main,
        upper_deg: curves[1].angle_deg,
        lower_deg: curves[2].angle_deg,
        s_curve,
        main_in_upper_half,
        curves,
        pair_angles_deg: ang,
        method: AASCE_METHOD.into(),
    }
}

fn make_curve(l: &ApLandmarks, role: CurveRole, angle_deg: f64, a: usize, b: usize) -> CobbCurve {
    let (ca, cb) = (l.center(a), l.center(b));
    let d = [cb[0] - ca[0], cb[1] - ca[1]];
    let len = d[0].hypot(d[1]);
    let mut apex = (a + b) / 2;
    let mut best = 0.0f64;
    let mut side = 0.0;
    if len > 0.0 {
        for v in a..=b {
            let c = l.center(v);
            let s = (d[0] * (c[1] - ca[1]) - d[1] * (c[0] - ca[0])) / len;
            if s.abs() > best.abs() + 1e-12 {
                best = s;
                apex = v;
            }
        }
        // The perpendicular offset's x component tells the image side (d points down the spine).
        side = -best * d[1] / len;
    }
    let convex = if best.abs() < 1e-9 {
        "none"
    } else if side < 0.0 {
        "left"
    } else {
        "right"
    };
    CobbCurve {
        role,
        angle_deg,
        upper_end_index: a,
        upper_end: AP_LEVELS[a],
        lower_end_index: b,
        lower_end: AP_LEVELS[b],
        apex_index: apex,
        apex: AP_LEVELS[apex],
        convex_toward_image: convex.into(),
        region: CurveRegion::from_apex(apex),
    }
}

/// SRS–Schwab coronal curve type (clinical-reference.md §4.2, S27): curves ≥ 30° decide it; T if only thoracic
/// ones, L if only thoracolumbar/lumbar ones, D if both, N if none. Implementation convention: a curve is thoracic
/// when its apex is T9 or higher (Schwab 2012 uses apex ≤ T9 for type T and T10–L4 for type L).
pub fn srs_schwab_curve_type(curves: &[CobbCurve]) -> &'static str {
    /// Threshold from §4.2 (SRS–Schwab 2012, S27).
    const MAJOR_DEG: f64 = 30.0;
    const LAST_THORACIC_APEX: usize = 8; // T9
    let mut t = false;
    let mut lu = false;
    for c in curves.iter().filter(|c| c.angle_deg >= MAJOR_DEG) {
        if c.apex_index <= LAST_THORACIC_APEX {
            t = true;
        } else {
            lu = true;
        }
    }
    match (t, lu) {
        (true, true) => "D",
        (true, false) => "T",
        (false, true) => "L",
        (false, false) => "N",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sheared boxes: vertebra v has centre (xs[v], 100 + 50 v), its side-midpoint line tilted by tilts[v] degrees
    /// and both endplate midpoints exactly at x = xs[v] (so the centre line is the x profile alone).
    fn synth(tilts: &[f64; 17], xs: &[f64; 17]) -> ApLandmarks {
        let mut c = [[[0.0; 2]; 4]; 17];
        for v in 0..17 {
            let (x, y) = (xs[v], 100.0 + 50.0 * v as f64);
            let t = tilts[v].to_radians().tan();
            c[v] = [
                [x - 20.0, y - 15.0 - 20.0 * t],
                [x + 20.0, y - 15.0 + 20.0 * t],
                [x - 20.0, y + 15.0 - 20.0 * t],
                [x + 20.0, y + 15.0 + 20.0 * t],
            ];
        }
        ApLandmarks::new(c).unwrap()
    }

    const TILTS: [f64; 17] = [
        5.0, 0.0, -5.0, -10.0, -8.0, -4.0, 0.0, 8.0, 20.0, 15.0, 10.0, 0.0, -6.0, -12.0, -8.0,
        -2.0, 4.0,
    ];

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn straight_spine_is_not_s_and_uses_first_and_last_vertebrae() {
        let l = synth(&TILTS, &[300.0; 17]);
        let a = aasce_angles(&l, 1000.0);
        assert!(!a.s_curve);
        // Main: T9 (+20°) to L2 (−12°) = 32°; upper: T1 (5°) to T9 = 15°; lower: L2 to L5 (4°) = 16°.
        close(a.main_deg, 32.0);
        close(a.upper_deg, 15.0);
        close(a.lower_deg, 16.0);
        assert_eq!(
            (a.curves[0].upper_end, a.curves[0].lower_end),
            (Level::T9, Level::L2)
        );
        assert_eq!(
            (a.curves[1].upper_end, a.curves[1].lower_end),
            (Level::T1, Level::T9)
        );
        assert_eq!(
            (a.curves[2].upper_end, a.curves[2].lower_end),
            (Level::L2, Level::L5)
        );
        // A straight segment has no convex side.
        assert_eq!(a.curves[0].convex_toward_image, "none");
    }

    #[test]
    fn s_curve_branches_follow_the_image_half() {
        let xs: [f64; 17] =
            std::array::from_fn(|v| 300.0 + 60.0 * (std::f64::consts::TAU * v as f64 / 16.0).sin());
        let l = synth(&TILTS, &xs);
        assert!(is_s_curve(&l));
        // Main curve rows: T9 top 485, L2 top 735 → mean 610; a 2000 px image puts it in the upper half.
        let up = aasce_angles(&l, 2000.0);
        assert!(up.s_curve && up.main_in_upper_half);
        close(up.main_deg, 32.0);
        // Upper: T9 vs above → T4 (−10°) 30°; lower: L2 vs below → L5 (4°) 16°.
        close(up.upper_deg, 30.0);
        close(up.lower_deg, 16.0);
        assert_eq!(up.curves[1].upper_end, Level::T4);
        assert_eq!(up.curves[2].lower_end, Level::L5);
        // An 1000 px image puts it in the lower half: upper as before (k = T4); lower: T4 vs above → T1 (5°) 15°.
        let low = aasce_angles(&l, 1000.0);
        assert!(!low.main_in_upper_half);
        close(low.upper_deg, 30.0);
        close(low.lower_deg, 15.0);
        assert_eq!(
            (low.curves[2].upper_end, low.curves[2].lower_end),
            (Level::T1, Level::T4)
        );
    }

    #[test]
    fn apex_is_the_vertebra_farthest_from_the_end_line_and_names_the_region() {
        let mut xs = [300.0; 17];
        xs[10] = 330.0; // T11 bulges to the image's right
        let l = synth(&TILTS, &xs);
        let a = aasce_angles(&l, 1000.0);
        assert!(!a.s_curve);
        let m = &a.curves[0];
        assert_eq!(m.apex, Level::T11);
        assert_eq!(m.region, CurveRegion::MainThoracic);
        assert_eq!(m.convex_toward_image, "right");
        assert_eq!(CurveRegion::from_apex(0), CurveRegion::ProximalThoracic);
        assert_eq!(CurveRegion::from_apex(11), CurveRegion::ThoracoLumbar);
        assert_eq!(CurveRegion::from_apex(14), CurveRegion::Lumbar);
        assert_eq!(srs_schwab_curve_type(&a.curves), "L");
    }

    #[test]
    fn angles_are_acute_whatever_the_corner_order() {
        let mut l = synth(&TILTS, &[300.0; 17]);
        // Swap left and right corners of T9: its line reverses direction but is the same line.
        let c = l.corners_px[8];
        l.corners_px[8] = [c[1], c[0], c[3], c[2]];
        close(aasce_angles(&l, 1000.0).main_deg, 32.0);
    }

    #[test]
    fn bad_landmarks_are_refused() {
        let mut c = synth(&TILTS, &[300.0; 17]).corners_px;
        c[3][1][0] = f64::NAN;
        assert!(ApLandmarks::new(c).is_err());
        assert!(ApLandmarks::from_points(&[[0.0, 0.0]; 67]).is_err());
        assert!(ApLandmarks::from_aasce_row(&[0.5; 135], 100.0, 100.0).is_err());
        // All corners coincident: no line.
        assert!(ApLandmarks::from_points(&[[1.0, 1.0]; 68]).is_err());
    }

    #[test]
    fn aasce_row_is_denormalised_by_width_and_height() {
        let l = synth(&TILTS, &[300.0; 17]);
        let (w, h) = (600.0, 1200.0);
        let pts: Vec<PointPx> = l.corners_px.iter().flatten().copied().collect();
        let mut row: Vec<f64> = pts.iter().map(|p| p[0] / w).collect();
        row.extend(pts.iter().map(|p| p[1] / h));
        let back = ApLandmarks::from_aasce_row(&row, w, h).unwrap();
        for (a, b) in back
            .corners_px
            .iter()
            .flatten()
            .zip(l.corners_px.iter().flatten())
        {
            assert!((a[0] - b[0]).abs() < 1e-9 && (a[1] - b[1]).abs() < 1e-9);
        }
    }
}
