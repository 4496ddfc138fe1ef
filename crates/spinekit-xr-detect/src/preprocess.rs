//! From a radiograph of any size to the network's fixed input grid, and landmarks back again.
//!
//! The image is resized anisotropically to [`IN_H`]×[`IN_W`] (height × width): AASCE radiographs are
//! cropped to the spine, so stretching keeps every vertebra on the grid at the cost of a per-image
//! aspect change that the network learns to accept. Landmarks map back with separate x and y scales,
//! so angles measured on the returned pixel coordinates are unaffected by the stretch.

use crate::N_POINTS;
use rand::Rng;

/// Network input height (rows).
pub const IN_H: usize = 384;
/// Network input width (columns).
pub const IN_W: usize = 192;

/// A radiograph on the network grid, contrast-normalised (zero mean, unit spread).
#[derive(Debug, Clone)]
pub struct Prepared {
    /// `IN_H * IN_W` values, row-major.
    pub pixels: Vec<f32>,
    /// Original width and height in pixels; `x_in = x_px * IN_W / width`.
    pub orig_width: usize,
    pub orig_height: usize,
}

impl Prepared {
    /// Input-grid coordinates → original pixel coordinates (pixel centres at integer + 0.5 on both).
    pub fn to_pixels(&self, p: [f64; 2]) -> [f64; 2] {
        [
            p[0] * self.orig_width as f64 / IN_W as f64,
            p[1] * self.orig_height as f64 / IN_H as f64,
        ]
    }

    /// Original pixel coordinates → input-grid coordinates.
    pub fn to_input(&self, p: [f64; 2]) -> [f64; 2] {
        [
            p[0] * IN_W as f64 / self.orig_width as f64,
            p[1] * IN_H as f64 / self.orig_height as f64,
        ]
    }
}

/// Area-average resampling of a row-major `w`×`h` image to `ow`×`oh` (exact box overlap weights),
/// so downsampling by 5–15× does not alias the thin vertebral endplates away.
pub fn resize_area(src: &[f32], w: usize, h: usize, ow: usize, oh: usize) -> Vec<f32> {
    let wx = axis_weights(w, ow);
    let wy = axis_weights(h, oh);
    // Columns first (each source row to `ow` values), then rows.
    let mut tmp = vec![0f32; ow * h];
    for r in 0..h {
        let row = &src[r * w..(r + 1) * w];
        for (o, taps) in wx.iter().enumerate() {
            tmp[r * ow + o] = taps.iter().map(|&(i, a)| row[i] * a).sum();
        }
    }
    let mut out = vec![0f32; ow * oh];
    for (o, taps) in wy.iter().enumerate() {
        for &(i, a) in taps {
            let src_row = &tmp[i * ow..(i + 1) * ow];
            for (d, s) in out[o * ow..(o + 1) * ow].iter_mut().zip(src_row) {
                *d += a * s;
            }
        }
    }
    out
}

/// For each output cell, the source cells it overlaps and their normalised weights.
fn axis_weights(n: usize, on: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = n as f64 / on as f64;
    (0..on)
        .map(|o| {
            let (a, b) = (o as f64 * scale, (o + 1) as f64 * scale);
            if scale <= 1.0 {
                // Upsampling: linear interpolation between the two nearest source centres.
                let c = ((a + b) / 2.0 - 0.5).clamp(0.0, (n - 1) as f64);
                let i0 = c.floor() as usize;
                let i1 = (i0 + 1).min(n - 1);
                let f = (c - i0 as f64) as f32;
                return vec![(i0, 1.0 - f), (i1, f)];
            }
            let mut taps = Vec::new();
            let mut i = a.floor() as usize;
            while (i as f64) < b && i < n {
                let ov = (b.min(i as f64 + 1.0) - a.max(i as f64)).max(0.0);
                if ov > 0.0 {
                    taps.push((i, (ov / scale) as f32));
                }
                i += 1;
            }
            taps
        })
        .collect()
}

/// Clip to the 0.5–99.5 percentile window, then zero mean and unit standard deviation: makes 8-bit
/// JPEGs, 12-bit DICOM and inverted displays comparable.
pub fn normalise_contrast(v: &mut [f32]) {
    let mut sorted: Vec<f32> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if sorted.is_empty() {
        v.fill(0.0);
        return;
    }
    sorted.sort_unstable_by(|a, b| a.total_cmp(b));
    let q = |f: f64| sorted[((sorted.len() - 1) as f64 * f).round() as usize];
    let (lo, hi) = (q(0.005), q(0.995));
    for x in v.iter_mut() {
        *x = if x.is_finite() { x.clamp(lo, hi) } else { lo };
    }
    let n = v.len() as f64;
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    let sd = var.sqrt().max(1e-6);
    for x in v.iter_mut() {
        *x = ((*x as f64 - mean) / sd) as f32;
    }
}

/// Resize + contrast normalisation of a greyscale image (`inverted` = higher values are darker).
pub fn prepare(data: &[f32], width: usize, height: usize, inverted: bool) -> Prepared {
    let mut pixels = resize_area(data, width, height, IN_W, IN_H);
    if inverted {
        pixels.iter_mut().for_each(|x| *x = -*x);
    }
    normalise_contrast(&mut pixels);
    Prepared {
        pixels,
        orig_width: width,
        orig_height: height,
    }
}

/// Horizontal mirror of landmarks on the input grid: x → IN_W − x, and within each vertebra the
/// left and right corners trade places (top-left ↔ top-right, bottom-left ↔ bottom-right), because the
/// patient's left stays the patient's left while the image's left changes.
pub fn flip_landmarks(pts: &[[f32; 2]; N_POINTS]) -> [[f32; 2]; N_POINTS] {
    let mut out = [[0f32; 2]; N_POINTS];
    for v in 0..N_POINTS / 4 {
        for (c, partner) in [(0, 1), (1, 0), (2, 3), (3, 2)] {
            let p = pts[4 * v + partner];
            out[4 * v + c] = [IN_W as f32 - p[0], p[1]];
        }
    }
    out
}

/// Mirror of an input-grid image.
pub fn flip_pixels(px: &[f32]) -> Vec<f32> {
    let mut out = vec![0f32; px.len()];
    for r in 0..IN_H {
        for c in 0..IN_W {
            out[r * IN_W + c] = px[r * IN_W + IN_W - 1 - c];
        }
    }
    out
}

/// Random training augmentation: horizontal flip, rotation ±8°, anisotropic scale 0.85–1.15,
/// shift ±5 % and a gamma / contrast / noise change. Landmarks follow the same transform.
pub fn augment<R: Rng>(
    px: &[f32],
    pts: &[[f32; 2]; N_POINTS],
    rng: &mut R,
) -> (Vec<f32>, [[f32; 2]; N_POINTS]) {
    let (mut px, mut pts) = if rng.random::<f32>() < 0.5 {
        (flip_pixels(px), flip_landmarks(pts))
    } else {
        (px.to_vec(), *pts)
    };
    let ang = (rng.random::<f32>() * 2.0 - 1.0) * 8f32.to_radians();
    let s = 0.85 + 0.3 * rng.random::<f32>();
    let sx = s * (0.95 + 0.1 * rng.random::<f32>());
    let sy = s;
    let tx = (rng.random::<f32>() * 2.0 - 1.0) * 0.05 * IN_W as f32;
    let ty = (rng.random::<f32>() * 2.0 - 1.0) * 0.05 * IN_H as f32;
    // Rotation in a square metric (x scaled to the height's units) so that the angle is a real rotation
    // of the displayed image, not a shear.
    let (cx, cy) = (IN_W as f32 / 2.0, IN_H as f32 / 2.0);
    let (ca, sa) = (ang.cos(), ang.sin());
    // Forward map: p' = R·S·(p − c) + c + t.
    let fwd = |p: [f32; 2]| {
        let (x, y) = ((p[0] - cx) * sx, (p[1] - cy) * sy);
        [ca * x - sa * y + cx + tx, sa * x + ca * y + cy + ty]
    };
    for p in pts.iter_mut() {
        *p = fwd(*p);
    }
    let fill = px.iter().copied().fold(f32::INFINITY, f32::min);
    let src = px.clone();
    for r in 0..IN_H {
        for c in 0..IN_W {
            // Inverse map of the output pixel centre.
            let (x, y) = (c as f32 + 0.5 - cx - tx, r as f32 + 0.5 - cy - ty);
            let (xr, yr) = (ca * x + sa * y, -sa * x + ca * y);
            let (u, v) = (xr / sx + cx - 0.5, yr / sy + cy - 0.5);
            px[r * IN_W + c] = bilinear(&src, u, v).unwrap_or(fill);
        }
    }
    let gamma = 0.7 + 0.6 * rng.random::<f32>();
    let contrast = 0.8 + 0.4 * rng.random::<f32>();
    let bright = (rng.random::<f32>() * 2.0 - 1.0) * 0.2;
    let noise = 0.05 * rng.random::<f32>();
    let lo = px.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = px.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let span = (hi - lo).max(1e-6);
    for x in px.iter_mut() {
        let t = ((*x - lo) / span).powf(gamma);
        let n: f32 = rng.random::<f32>() + rng.random::<f32>() - 1.0;
        *x = t * span + lo;
        *x = *x * contrast + bright + noise * n * 2.0;
    }
    normalise_contrast(&mut px);
    (px, pts)
}

fn bilinear(src: &[f32], u: f32, v: f32) -> Option<f32> {
    if u < 0.0 || v < 0.0 || u > (IN_W - 1) as f32 || v > (IN_H - 1) as f32 {
        return None;
    }
    let (i0, j0) = (u.floor() as usize, v.floor() as usize);
    let (i1, j1) = ((i0 + 1).min(IN_W - 1), (j0 + 1).min(IN_H - 1));
    let (fu, fv) = (u - i0 as f32, v - j0 as f32);
    let a = src[j0 * IN_W + i0] * (1.0 - fu) + src[j0 * IN_W + i1] * fu;
    let b = src[j1 * IN_W + i0] * (1.0 - fu) + src[j1 * IN_W + i1] * fu;
    Some(a * (1.0 - fv) + b * fv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_resize_keeps_the_mean_and_a_step_edge() {
        let (w, h) = (40, 90);
        let src: Vec<f32> = (0..w * h)
            .map(|i| if i % w < 20 { 10.0 } else { 30.0 })
            .collect();
        let out = resize_area(&src, w, h, 8, 9);
        let mean: f32 = out.iter().sum::<f32>() / out.len() as f32;
        assert!((mean - 20.0).abs() < 1e-4, "{mean}");
        assert!((out[0] - 10.0).abs() < 1e-4 && (out[7] - 30.0).abs() < 1e-4);
    }

    #[test]
    fn pixel_to_input_round_trip() {
        let p = prepare(&vec![1.0; 300 * 900], 300, 900, false);
        let q = p.to_input([123.4, 567.8]);
        let back = p.to_pixels(q);
        assert!((back[0] - 123.4).abs() < 1e-9 && (back[1] - 567.8).abs() < 1e-9);
        assert!((q[0] - 123.4 * IN_W as f64 / 300.0).abs() < 1e-9);
    }

    #[test]
    fn flip_swaps_left_and_right_corners_and_is_an_involution() {
        let mut pts = [[0f32; 2]; N_POINTS];
        for (i, p) in pts.iter_mut().enumerate() {
            // Left corners at x = 100, right corners at x = 150.
            let right = i % 2 == 1;
            *p = [if right { 150.0 } else { 100.0 }, i as f32];
        }
        let f = flip_landmarks(&pts);
        // The new top-left corner is the mirrored old top-right one: x = W − 150, left of the new
        // top-right at W − 100, so left stays left of right.
        let w = IN_W as f32;
        assert_eq!(f[0], [w - 150.0, 1.0]);
        assert_eq!(f[1], [w - 100.0, 0.0]);
        assert_eq!(f[2], [w - 150.0, 3.0]);
        assert_eq!(f[3], [w - 100.0, 2.0]);
        for v in 0..17 {
            assert!(f[4 * v][0] < f[4 * v + 1][0]);
        }
        assert_eq!(flip_landmarks(&f), pts);
        // Image flip agrees with point flip: a bright pixel at column 10 lands at column 245.
        let mut img = vec![0f32; IN_W * IN_H];
        img[5 * IN_W + 10] = 1.0;
        let fi = flip_pixels(&img);
        assert_eq!(fi[5 * IN_W + IN_W - 11], 1.0);
        // Pixel centre 10.5 → W − 10.5, the centre of column W − 11.
        let mut one = [[0f32; 2]; N_POINTS];
        one[0] = [10.5, 5.5];
        assert_eq!(flip_landmarks(&one)[1], [IN_W as f32 - 10.5, 5.5]);
    }

    #[test]
    fn augmentation_moves_landmarks_with_the_image() {
        use rand::SeedableRng;
        // A bright 5×5 blob at a known point must stay under its landmark after augmentation.
        let mut img = vec![0f32; IN_W * IN_H];
        let (bx, by) = (80usize, 200usize);
        for r in by - 2..=by + 2 {
            for c in bx - 2..=bx + 2 {
                img[r * IN_W + c] = 100.0;
            }
        }
        let mut pts = [[0f32; 2]; N_POINTS];
        pts[0] = [bx as f32 + 0.5, by as f32 + 0.5];
        pts[1] = pts[0];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..8 {
            let (a, p) = augment(&img, &pts, &mut rng);
            // Flip moves point 0 to slot 1; both slots hold the blob before the flip.
            let q = p[0];
            let (c, r) = (q[0].floor() as usize, q[1].floor() as usize);
            let max = a.iter().copied().fold(f32::MIN, f32::max);
            assert!(a[r * IN_W + c] > 0.5 * max, "blob not under landmark");
        }
    }
}
