//! Small 2D image tools on row-major `w × h` grids (anisotropic pixel spacing): exact Euclidean distance
//! transform, morphology by a radius in mm, connected components, hole filling and box smoothing.
//!
//! They are kept here (rather than using the 3D tools of spinekit-morph) because one slice of 512² pixels
//! must be analysed in a few milliseconds without building 3D volumes.

/// A 2D grid shape with pixel spacing (column, row) in mm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid2 {
    pub w: usize,
    pub h: usize,
    pub spacing_mm: [f64; 2],
}

impl Grid2 {
    pub fn len(&self) -> usize {
        self.w * self.h
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

const INF: f64 = 1e20;

/// 1D squared distance transform (Felzenszwalb & Huttenlocher) of `f` sampled every `s` mm, in place.
fn dt1(f: &mut [f64], s: f64, v: &mut [usize], z: &mut [f64], out: &mut [f64]) {
    let n = f.len();
    if n == 0 {
        return;
    }
    let s2 = s * s;
    let mut k = 0usize;
    v[0] = 0;
    z[0] = f64::NEG_INFINITY;
    z[1] = f64::INFINITY;
    for q in 1..n {
        loop {
            let p = v[k];
            let sp = ((f[q] + s2 * (q * q) as f64) - (f[p] + s2 * (p * p) as f64))
                / (2.0 * s2 * (q as f64 - p as f64));
            if sp <= z[k] && k > 0 {
                k -= 1;
                continue;
            }
            if sp <= z[k] {
                // k == 0: q replaces the only parabola.
                v[0] = q;
                z[1] = f64::INFINITY;
            } else {
                k += 1;
                v[k] = q;
                z[k] = sp;
                z[k + 1] = f64::INFINITY;
            }
            break;
        }
    }
    let mut k = 0usize;
    for (q, o) in out.iter_mut().enumerate().take(n) {
        while z[k + 1] < q as f64 {
            k += 1;
        }
        let d = q as f64 - v[k] as f64;
        *o = (s2 * d * d + f[v[k]]).min(INF);
    }
    f.copy_from_slice(&out[..n]);
}

/// Squared distance (mm²) from each pixel to the nearest pixel where `site` is true (1e20 if none).
pub fn edt_sq(site: &[bool], g: Grid2) -> Vec<f64> {
    let (w, h) = (g.w, g.h);
    let mut d: Vec<f64> = site.iter().map(|&s| if s { 0.0 } else { INF }).collect();
    let m = w.max(h);
    let mut v = vec![0usize; m];
    let mut z = vec![0.0f64; m + 1];
    let mut out = vec![0.0f64; m];
    for r in 0..h {
        dt1(
            &mut d[r * w..(r + 1) * w],
            g.spacing_mm[0],
            &mut v,
            &mut z,
            &mut out,
        );
    }
    let mut col = vec![0.0f64; h];
    for c in 0..w {
        for r in 0..h {
            col[r] = d[r * w + c];
        }
        dt1(&mut col, g.spacing_mm[1], &mut v, &mut z, &mut out);
        for r in 0..h {
            d[r * w + c] = col[r];
        }
    }
    d
}

/// Pixels within `r_mm` of the mask.
pub fn dilate(mask: &[bool], g: Grid2, r_mm: f64) -> Vec<bool> {
    let d = edt_sq(mask, g);
    d.iter().map(|&x| x <= r_mm * r_mm + 1e-9).collect()
}

/// Mask pixels farther than `r_mm` from every non-mask pixel (pixels outside the grid do not count).
pub fn erode(mask: &[bool], g: Grid2, r_mm: f64) -> Vec<bool> {
    let inv: Vec<bool> = mask.iter().map(|&m| !m).collect();
    let d = edt_sq(&inv, g);
    d.iter().map(|&x| x > r_mm * r_mm + 1e-9).collect()
}

/// Morphological opening by a disc of radius `r_mm` (removes structures thinner than 2·r).
pub fn open(mask: &[bool], g: Grid2, r_mm: f64) -> Vec<bool> {
    let e = erode(mask, g, r_mm);
    let o = dilate(&e, g, r_mm);
    o.iter().zip(mask).map(|(&a, &b)| a && b).collect()
}

/// Connected components (8-connected when `diag`); returns the label of each pixel (0 = background)
/// and the pixel count of each label (index 0 unused).
pub fn components(mask: &[bool], g: Grid2, diag: bool) -> (Vec<u32>, Vec<usize>) {
    let (w, h) = (g.w as isize, g.h as isize);
    let mut lab = vec![0u32; mask.len()];
    let mut sizes = vec![0usize];
    let mut stack = Vec::new();
    let nb: &[(isize, isize)] = if diag {
        &[
            (-1, -1),
            (0, -1),
            (1, -1),
            (-1, 0),
            (1, 0),
            (-1, 1),
            (0, 1),
            (1, 1),
        ]
    } else {
        &[(0, -1), (-1, 0), (1, 0), (0, 1)]
    };
    for start in 0..mask.len() {
        if !mask[start] || lab[start] != 0 {
            continue;
        }
        let id = sizes.len() as u32;
        let mut n = 0usize;
        lab[start] = id;
        stack.push(start);
        while let Some(p) = stack.pop() {
            n += 1;
            let (x, y) = ((p % g.w) as isize, (p / g.w) as isize);
            for &(dx, dy) in nb {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= w || ny >= h {
                    continue;
                }
                let q = (ny * w + nx) as usize;
                if mask[q] && lab[q] == 0 {
                    lab[q] = id;
                    stack.push(q);
                }
            }
        }
        sizes.push(n);
    }
    (lab, sizes)
}

/// The mask with every hole (background not 4-connected to the grid border) filled.
pub fn fill_holes(mask: &[bool], g: Grid2) -> Vec<bool> {
    let (w, h) = (g.w, g.h);
    let mut outside = vec![false; mask.len()];
    let mut stack = Vec::new();
    let push = |p: usize, outside: &mut Vec<bool>, stack: &mut Vec<usize>| {
        if !mask[p] && !outside[p] {
            outside[p] = true;
            stack.push(p);
        }
    };
    for x in 0..w {
        push(x, &mut outside, &mut stack);
        push((h - 1) * w + x, &mut outside, &mut stack);
    }
    for y in 0..h {
        push(y * w, &mut outside, &mut stack);
        push(y * w + w - 1, &mut outside, &mut stack);
    }
    while let Some(p) = stack.pop() {
        let (x, y) = (p % w, p / w);
        if x > 0 {
            push(p - 1, &mut outside, &mut stack);
        }
        if x + 1 < w {
            push(p + 1, &mut outside, &mut stack);
        }
        if y > 0 {
            push(p - w, &mut outside, &mut stack);
        }
        if y + 1 < h {
            push(p + w, &mut outside, &mut stack);
        }
    }
    outside.iter().map(|&o| !o).collect()
}

/// The mask with holes of at most `max_px` pixels filled.
pub fn fill_small_holes(mask: &[bool], g: Grid2, max_px: usize) -> Vec<bool> {
    let filled = fill_holes(mask, g);
    let holes: Vec<bool> = filled.iter().zip(mask).map(|(&f, &m)| f && !m).collect();
    let (lab, sizes) = components(&holes, g, false);
    mask.iter()
        .zip(&lab)
        .map(|(&m, &l)| m || (l != 0 && sizes[l as usize] <= max_px))
        .collect()
}

/// Mean over a (2·rx+1) × (2·ry+1) box (clipped at the border), via an integral image.
pub fn box_mean(img: &[f32], g: Grid2, rx: usize, ry: usize) -> Vec<f32> {
    let (w, h) = (g.w, g.h);
    let mut ii = vec![0.0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0.0f64;
        for x in 0..w {
            row += img[y * w + x] as f64;
            ii[(y + 1) * (w + 1) + x + 1] = ii[y * (w + 1) + x + 1] + row;
        }
    }
    let mut out = vec![0.0f32; w * h];
    for y in 0..h {
        let y0 = y.saturating_sub(ry);
        let y1 = (y + ry + 1).min(h);
        for x in 0..w {
            let x0 = x.saturating_sub(rx);
            let x1 = (x + rx + 1).min(w);
            let s = ii[y1 * (w + 1) + x1] - ii[y0 * (w + 1) + x1] - ii[y1 * (w + 1) + x0]
                + ii[y0 * (w + 1) + x0];
            out[y * w + x] = (s / ((x1 - x0) * (y1 - y0)) as f64) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    // Brute force by index on purpose: the reference must look nothing like the transform it checks.
    #[allow(clippy::needless_range_loop)]
    fn edt_matches_brute_force_with_anisotropic_spacing() {
        let g = Grid2 {
            w: 23,
            h: 17,
            spacing_mm: [0.7, 1.3],
        };
        let site: Vec<bool> = (0..g.len()).map(|i| i % 37 == 5 || i == 200).collect();
        let d = edt_sq(&site, g);
        for p in 0..g.len() {
            let (x, y) = ((p % g.w) as f64, (p / g.w) as f64);
            let mut best = f64::INFINITY;
            for q in 0..g.len() {
                if site[q] {
                    let (qx, qy) = ((q % g.w) as f64, (q / g.w) as f64);
                    let dd = ((x - qx) * 0.7).powi(2) + ((y - qy) * 1.3).powi(2);
                    best = best.min(dd);
                }
            }
            assert!((d[p] - best).abs() < 1e-9, "pixel {p}: {} vs {best}", d[p]);
        }
    }

    #[test]
    fn opening_removes_a_thin_bar_but_keeps_a_disc() {
        let g = Grid2 {
            w: 60,
            h: 40,
            spacing_mm: [1.0, 1.0],
        };
        let mut m = vec![false; g.len()];
        for y in 0..40 {
            for x in 0..60 {
                let disc = ((x as f64 - 20.0).powi(2) + (y as f64 - 20.0).powi(2)) < 100.0;
                let bar = (30..32).contains(&y) && x >= 20;
                m[y * 60 + x] = disc || bar;
            }
        }
        let o = open(&m, g, 2.0);
        assert!(o[20 * 60 + 20]);
        assert!(!o[30 * 60 + 50], "the 2-pixel bar must go");
        let (_, sizes) = components(&m, g, false);
        assert_eq!(sizes.len(), 2);
        let mut ring = vec![false; g.len()];
        for y in 5..15 {
            for x in 5..15 {
                ring[y * 60 + x] = y == 5 || y == 14 || x == 5 || x == 14;
            }
        }
        let f = fill_holes(&ring, g);
        assert!(f[10 * 60 + 10] && !f[2 * 60 + 2]);
    }
}
