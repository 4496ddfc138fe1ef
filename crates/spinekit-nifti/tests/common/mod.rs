//! Helpers shared by the integration tests.
#![allow(dead_code)]

use spinekit_image::Geometry;

/// Largest distance (mm) between the world positions of the eight corner voxels under two geometries.
pub fn corner_error_mm(a: &Geometry, b: &Geometry, dims: [usize; 3]) -> f64 {
    let mut worst = 0.0f64;
    for n in 0..8 {
        let idx = [0, 1, 2].map(|ax| {
            if n & (1 << ax) != 0 {
                (dims[ax] - 1) as f64
            } else {
                0.0
            }
        });
        let (p, q) = (a.index_to_world(idx), b.index_to_world(idx));
        let d = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt();
        worst = worst.max(d);
    }
    worst
}

/// Largest per-coordinate difference between a world position and a reference.
pub fn max_abs_diff(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|i| (a[i] - b[i]).abs()).fold(0.0, f64::max)
}

pub fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    s.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// A rotation from three angles (radians) as unit column vectors; `flip` makes the frame left-handed.
pub fn rotated_direction(a: f64, b: f64, c: f64, flip: bool) -> [[f64; 3]; 3] {
    let (sa, ca) = a.sin_cos();
    let (sb, cb) = b.sin_cos();
    let (sc, cc) = c.sin_cos();
    // R = Rz(c) · Ry(b) · Rx(a); columns are the voxel axes.
    let r = [
        [cc * cb, cc * sb * sa - sc * ca, cc * sb * ca + sc * sa],
        [sc * cb, sc * sb * sa + cc * ca, sc * sb * ca - cc * sa],
        [-sb, cb * sa, cb * ca],
    ];
    let mut d = [[0.0; 3]; 3];
    for (col, dc) in d.iter_mut().enumerate() {
        for row in 0..3 {
            dc[row] = r[row][col] * if flip && col == 2 { -1.0 } else { 1.0 };
        }
    }
    d
}
