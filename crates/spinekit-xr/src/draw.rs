//! Annotated pictures: the radiograph in grey with landmarks, vertebra lines, the end-vertebra lines extended
//! across the image and the angles written beside each curve's apex.

use crate::ap::{AasceAngles, ApLandmarks, CurveRole, AP_VERTEBRA_COUNT};
use crate::font;
use crate::lateral::{LateralLandmarks, LateralMeasurements};
use crate::{XrError, RESEARCH_NOTICE};
use image::{GrayImage, Rgb, RgbImage};
use std::path::Path;

const RED: Rgb<u8> = Rgb([255, 60, 60]);
const GREEN: Rgb<u8> = Rgb([80, 220, 80]);
const BLACK: Rgb<u8> = Rgb([0, 0, 0]);
const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
/// Main, upper, lower curve colours.
const CURVE: [Rgb<u8>; 3] = [Rgb([255, 220, 0]), Rgb([0, 220, 255]), Rgb([255, 80, 255])];

/// Reads a PNG or JPEG radiograph as 8-bit grey.
pub fn load_gray(path: &Path) -> Result<GrayImage, XrError> {
    let img = image::ImageReader::open(path)
        .map_err(|e| XrError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| XrError::io(path, e))?
        .decode()
        .map_err(|e| XrError::Image(format!("{}: {e}", path.display())))?;
    Ok(img.to_luma8())
}

/// Writes a PNG atomically (temporary file in the same folder, then rename).
pub fn write_png(path: &Path, img: &RgbImage) -> Result<(), XrError> {
    spinekit_atomic::write_atomic(path, |w| {
        let mut buf = std::io::Cursor::new(Vec::new());
        img.write_to(&mut buf, image::ImageFormat::Png)
            .map_err(|e| XrError::Image(format!("PNG encoding failed: {e}")))?;
        w.write_all(buf.get_ref()).map_err(|e| XrError::io(path, e))
    })
}

struct Canvas {
    img: RgbImage,
    thick: i64,
    text_scale: u32,
}

impl Canvas {
    fn new(gray: &GrayImage) -> Self {
        let (w, h) = gray.dimensions();
        let mut img = RgbImage::new(w, h);
        for (p, g) in img.pixels_mut().zip(gray.pixels()) {
            *p = Rgb([g[0]; 3]);
        }
        let m = w.max(h) as i64;
        Self {
            img,
            thick: (m / 900).max(1),
            text_scale: (w.min(h) / 300).clamp(1, 6),
        }
    }

    fn put(&mut self, x: i64, y: i64, c: Rgb<u8>) {
        if x >= 0 && y >= 0 && (x as u32) < self.img.width() && (y as u32) < self.img.height() {
            self.img.put_pixel(x as u32, y as u32, c);
        }
    }

    fn dot(&mut self, p: [f64; 2], r: i64, c: Rgb<u8>) {
        let (cx, cy) = (p[0].round() as i64, p[1].round() as i64);
        for dy in -r..=r {
            for dx in -r..=r {
                if dx * dx + dy * dy <= r * r {
                    self.put(cx + dx, cy + dy, c);
                }
            }
        }
    }

    fn circle(&mut self, p: [f64; 2], r: f64, c: Rgb<u8>) {
        let n = (r * 8.0).max(16.0) as usize;
        for k in 0..n {
            let t = k as f64 / n as f64 * std::f64::consts::TAU;
            let q = [p[0] + r * t.cos(), p[1] + r * t.sin()];
            self.dot(q, self.thick / 2, c);
        }
    }

    fn line(&mut self, a: [f64; 2], b: [f64; 2], c: Rgb<u8>) {
        let len = (b[0] - a[0]).hypot(b[1] - a[1]);
        let steps = len.ceil().max(1.0) as usize;
        // Clip to a generous box so extended lines far outside the image stay cheap.
        let r = self.thick / 2;
        for k in 0..=steps {
            let t = k as f64 / steps as f64;
            let (x, y) = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]));
            if x < -10.0
                || y < -10.0
                || x > self.img.width() as f64 + 10.0
                || y > self.img.height() as f64 + 10.0
            {
                continue;
            }
            for dy in -r..=r {
                for dx in -r..=r {
                    self.put(x.round() as i64 + dx, y.round() as i64 + dy, c);
                }
            }
        }
    }

    /// The line through a and b extended to the image's left and right borders.
    fn extended(&mut self, a: [f64; 2], b: [f64; 2], c: Rgb<u8>) {
        let dx = b[0] - a[0];
        if dx.abs() < 1e-9 {
            return self.line(a, b, c);
        }
        let slope = (b[1] - a[1]) / dx;
        let w = self.img.width() as f64;
        let y = |x: f64| a[1] + (x - a[0]) * slope;
        self.line([0.0, y(0.0)], [w - 1.0, y(w - 1.0)], c);
    }

    /// Text with a black outline; (x, y) is the top-left corner.
    fn text(&mut self, s: &str, x: i64, y: i64, c: Rgb<u8>) {
        let sc = self.text_scale;
        let o = sc as i64;
        for (ox, oy) in [
            (-o, 0),
            (o, 0),
            (0, -o),
            (0, o),
            (-o, -o),
            (o, o),
            (-o, o),
            (o, -o),
        ] {
            let mut pts = Vec::new();
            font::render(s, x + ox, y + oy, sc, |px, py| pts.push((px, py)));
            for (px, py) in pts {
                self.put(px, py, BLACK);
            }
        }
        let mut pts = Vec::new();
        font::render(s, x, y, sc, |px, py| pts.push((px, py)));
        for (px, py) in pts {
            self.put(px, py, c);
        }
    }

    fn line_height(&self) -> i64 {
        9 * self.text_scale as i64
    }
}

/// AP picture: corners (red), every vertebra line (green), each curve's two end-vertebra lines extended across the
/// image in the curve's colour, and "MT 41.1° T5–T11" beside each apex.
pub fn annotate_ap(gray: &GrayImage, l: &ApLandmarks, a: &AasceAngles) -> RgbImage {
    let mut cv = Canvas::new(gray);
    for v in 0..AP_VERTEBRA_COUNT {
        let [p, q] = l.side_midpoints(v);
        cv.line(p, q, GREEN);
    }
    for (k, c) in a.curves.iter().enumerate() {
        if c.angle_deg <= 0.0 {
            continue;
        }
        for v in [c.upper_end_index, c.lower_end_index] {
            let [p, q] = l.side_midpoints(v);
            cv.extended(p, q, CURVE[k]);
        }
    }
    for v in 0..AP_VERTEBRA_COUNT {
        for p in l.corners_px[v] {
            cv.dot(p, cv.thick + 1, RED);
        }
    }
    // Labels at the apex row on the side of the image with more room.
    let spine_x =
        (0..AP_VERTEBRA_COUNT).map(|v| l.center(v)[0]).sum::<f64>() / AP_VERTEBRA_COUNT as f64;
    let w = cv.img.width() as f64;
    let lh = cv.line_height();
    let mut used_rows: Vec<i64> = Vec::new();
    for (k, c) in a.curves.iter().enumerate() {
        let role = match c.role {
            CurveRole::Main => "MAIN",
            CurveRole::Upper => "UPPER",
            CurveRole::Lower => "LOWER",
        };
        let s = format!(
            "{} {:.1}° {}-{} {}",
            c.region.abbreviation(),
            c.angle_deg,
            c.upper_end.name(),
            c.lower_end.name(),
            role
        );
        let tw = font::text_width(&s, cv.text_scale) as f64;
        let x = if spine_x > w / 2.0 {
            (spine_x - 0.15 * w - tw).max(2.0)
        } else {
            (spine_x + 0.15 * w).min(w - tw - 2.0).max(2.0)
        };
        let mut y = l.center(c.apex_index)[1].round() as i64 - lh / 2;
        while used_rows.iter().any(|&r| (r - y).abs() < lh + 2) {
            y += lh + 2;
        }
        used_rows.push(y);
        cv.text(&s, x as i64, y, CURVE[k]);
    }
    let header = format!(
        "AASCE COBB{}  {}",
        if a.s_curve { "  S CURVE" } else { "" },
        RESEARCH_NOTICE.to_uppercase()
    );
    cv.text(&header, 4, 4, WHITE);
    cv.img
}

/// Lateral picture: endplate lines, femoral heads and hip axis, the C7 plumb line, and the values top-left.
pub fn annotate_lateral(
    gray: &GrayImage,
    l: &LateralLandmarks,
    m: &LateralMeasurements,
) -> RgbImage {
    let mut cv = Canvas::new(gray);
    let h = cv.img.height() as f64;
    for e in [
        &l.t1_superior,
        &l.t1_inferior,
        &l.t4_superior,
        &l.t12_inferior,
        &l.l1_superior,
    ] {
        let (a, p) = (e.anterior_px, e.posterior_px);
        let d = [a[0] - p[0], a[1] - p[1]];
        cv.line(
            [p[0] - d[0], p[1] - d[1]],
            [a[0] + d[0], a[1] + d[1]],
            GREEN,
        );
    }
    let s1 = &l.s1_superior;
    cv.extended(s1.anterior_px, s1.posterior_px, CURVE[0]);
    let s1m = [
        0.5 * (s1.anterior_px[0] + s1.posterior_px[0]),
        0.5 * (s1.anterior_px[1] + s1.posterior_px[1]),
    ];
    let f = l.femoral_heads_px;
    let hip = [0.5 * (f[0][0] + f[1][0]), 0.5 * (f[0][1] + f[1][1])];
    let head_r = ((s1.anterior_px[0] - s1.posterior_px[0])
        .hypot(s1.anterior_px[1] - s1.posterior_px[1]))
        * 0.5;
    for c in f {
        cv.circle(c, head_r, CURVE[1]);
    }
    cv.line(hip, s1m, CURVE[1]);
    cv.line(hip, [hip[0], hip[1] - 0.3 * h], WHITE);
    // C7 plumb line.
    cv.line(
        [l.c7_center_px[0], l.c7_center_px[1]],
        [l.c7_center_px[0], h - 1.0],
        CURVE[2],
    );
    for p in [l.c7_center_px, s1.anterior_px, s1.posterior_px, hip] {
        cv.dot(p, cv.thick + 2, RED);
    }
    let sva = match m.sagittal_vertical_axis_mm {
        Some(v) => format!("SVA {v:.0} MM"),
        None => format!("SVA {:.0} PX (UNCALIBRATED)", m.sagittal_vertical_axis_px),
    };
    let lines = [
        RESEARCH_NOTICE.to_uppercase(),
        format!(
            "PI {:.1}°  PT {:.1}°  SS {:.1}°",
            m.pelvic_incidence_deg, m.pelvic_tilt_deg, m.sacral_slope_deg
        ),
        format!(
            "LL L1-S1 {:.1}°  PI-LL {:.1}°",
            m.lumbar_lordosis_l1_s1_deg, m.pi_minus_ll_deg
        ),
        format!(
            "TK T4-T12 {:.1}°  TPA {:.1}°",
            m.thoracic_kyphosis_t4_t12_deg, m.t1_pelvic_angle_deg
        ),
        sva,
    ];
    let lh = cv.line_height() + 2;
    for (n, s) in lines.iter().enumerate() {
        cv.text(s, 4, 4 + n as i64 * lh, WHITE);
    }
    cv.img
}
