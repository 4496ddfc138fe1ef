//! Curved planar reformats along the spine's centreline, for the report's overview pictures.

use image::RgbImage;
use spinekit_image::{Border, Interpolation, Volume, Voxel};
use spinekit_picture::{label_colour, Window};

/// Which overview picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReformatPlane {
    /// Anterior on the picture's left, superior at the top; the plane follows the centreline's left–right position.
    Sagittal,
    /// Patient's right on the picture's left, superior at the top; the plane follows the centreline's
    /// anterior–posterior position.
    Coronal,
}

/// A rendered reformat and the mapping from patient LPS millimetres to its pixels.
#[derive(Debug, Clone)]
pub struct Reformat {
    pub plane: ReformatPlane,
    pub image: RgbImage,
    /// Side of one square pixel in mm.
    pub pixel_mm: f64,
    /// Patient coordinate (LPS mm) of column 0's centre along the picture's horizontal axis (y for sagittal,
    /// x for coronal).
    pub col0_mm: f64,
    /// Patient z (LPS mm, superior positive) of row 0's centre.
    pub row0_z_mm: f64,
}

impl Reformat {
    /// Picture position (column, row) in pixels of a patient point projected onto the picture.
    pub fn pixel_of(&self, p_mm: [f64; 3]) -> (f64, f64) {
        let h = match self.plane {
            ReformatPlane::Sagittal => p_mm[1],
            ReformatPlane::Coronal => p_mm[0],
        };
        (
            (h - self.col0_mm) / self.pixel_mm,
            (self.row0_z_mm - p_mm[2]) / self.pixel_mm,
        )
    }
}

/// The largest picture side: overview pictures need no more, and it bounds the work on huge volumes.
const MAX_SIDE_PX: f64 = 900.0;

/// Renders a curved reformat of `ct` (windowed) with `labels` blended at opacity `alpha`.
///
/// For each picture row (a patient z) the plane passes through the centreline's position at that z (linear
/// interpolation between body centres, held constant beyond the ends), so every vertebra is cut through its body
/// even when the spine curves. CT values are averaged over a 3 mm slab across the plane to quieten noise; labels
/// are taken at the plane (nearest voxel). Pixels outside the volume are black.
pub fn curved_reformat<T: Voxel>(
    ct: &Volume<T>,
    labels: Option<&Volume<u8>>,
    centreline_mm: &[[f64; 3]],
    plane: ReformatPlane,
    window: Window,
    alpha: f32,
) -> Reformat {
    let (lo, hi) = ct.world_extent_mm();
    let g = ct.geometry();
    let min_sp = g.spacing_mm.iter().cloned().fold(f64::INFINITY, f64::min);
    let haxis = match plane {
        ReformatPlane::Sagittal => 1,
        ReformatPlane::Coronal => 0,
    };
    let span_h = hi[haxis] - lo[haxis];
    let span_z = hi[2] - lo[2];
    let pixel_mm = min_sp.max(span_h.max(span_z) / MAX_SIDE_PX).max(1e-3);
    let w = ((span_h / pixel_mm).round() as usize).max(1);
    let h = ((span_z / pixel_mm).round() as usize).max(1);
    let col0 = lo[haxis] + pixel_mm / 2.0;
    let row0 = hi[2] - pixel_mm / 2.0;

    let mut line: Vec<[f64; 3]> = centreline_mm
        .iter()
        .copied()
        .filter(|p| p.iter().all(|v| v.is_finite()))
        .collect();
    line.sort_by(|a, b| a[2].total_cmp(&b[2]));
    let centre = [
        (lo[0] + hi[0]) / 2.0,
        (lo[1] + hi[1]) / 2.0,
        (lo[2] + hi[2]) / 2.0,
    ];
    // The plane's position across the picture (x for sagittal, y for coronal) at height z.
    let across = 1 - haxis;
    let plane_at = |z: f64| -> f64 {
        match line.len() {
            0 => centre[across],
            1 => line[0][across],
            _ => {
                if z <= line[0][2] {
                    return line[0][across];
                }
                let last = line[line.len() - 1];
                if z >= last[2] {
                    return last[across];
                }
                let k = line.partition_point(|p| p[2] < z).max(1);
                let (a, b) = (line[k - 1], line[k]);
                let t = if b[2] > a[2] {
                    (z - a[2]) / (b[2] - a[2])
                } else {
                    0.0
                };
                a[across] + t * (b[across] - a[across])
            }
        }
    };
    let alpha = alpha.clamp(0.0, 1.0) as f64;
    let mut img = RgbImage::new(w as u32, h as u32);
    for r in 0..h {
        let z = row0 - r as f64 * pixel_mm;
        let a = plane_at(z);
        for c in 0..w {
            let hpos = col0 + c as f64 * pixel_mm;
            let mut p = [0.0; 3];
            p[haxis] = hpos;
            p[across] = a;
            p[2] = z;
            let mut sum = 0.0;
            let mut n = 0;
            for d in [-1.5, 0.0, 1.5] {
                let mut q = p;
                q[across] += d;
                if let Some(v) = ct.value_at_mm(q, Interpolation::Linear, Border::HalfVoxel) {
                    sum += v;
                    n += 1;
                }
            }
            let grey = if n == 0 {
                0u8
            } else {
                window.apply(sum / n as f64)
            };
            let label = labels
                .and_then(|l| l.value_at_mm(p, Interpolation::Nearest, Border::HalfVoxel))
                .map_or(0, |v| v as u8);
            let px = if label == 0 || n == 0 {
                [grey, grey, grey]
            } else {
                let col = label_colour(label as u32);
                let mut o = [0u8; 3];
                for i in 0..3 {
                    o[i] = (grey as f64 * (1.0 - alpha) + col[i] as f64 * alpha).round() as u8;
                }
                o
            };
            img.put_pixel(c as u32, r as u32, image::Rgb(px));
        }
    }
    Reformat {
        plane,
        image: img,
        pixel_mm,
        col0_mm: col0,
        row0_z_mm: row0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinekit_anatomy::Level;
    use spinekit_phantom::{generate, PhantomConfig, Scoliosis};

    /// On a scoliotic phantom, the pixel of every body centre in both reformats carries that vertebra's colour:
    /// the plane follows the curve and the world → pixel mapping is right.
    #[test]
    fn body_centres_land_on_their_labels() {
        let mut cfg = PhantomConfig::small(Level::T12, Level::L4);
        cfg.scoliosis = Some(Scoliosis {
            cobb_deg: 30.0,
            apex: Level::L2,
            half_span_levels: 2,
            convex: spinekit_phantom::Side::Right,
        });
        let ph = generate(&cfg, None).unwrap();
        let centres: Vec<[f64; 3]> = ph
            .truth
            .levels
            .iter()
            .filter(|l| l.body_voxel_count > 0)
            .filter_map(|l| l.body_centroid_mm)
            .collect();
        assert!(centres.len() >= 4);
        for plane in [ReformatPlane::Sagittal, ReformatPlane::Coronal] {
            let r = curved_reformat(&ph.ct, Some(&ph.bodies), &centres, plane, Window::BONE, 1.0);
            let mut hits = 0;
            for l in ph.truth.levels.iter().filter(|l| l.body_voxel_count > 0) {
                let Some(c) = l.body_centroid_mm else {
                    continue;
                };
                let (x, y) = r.pixel_of(c);
                let px = r.image.get_pixel(x.round() as u32, y.round() as u32).0;
                assert_eq!(
                    px,
                    label_colour(l.verse_label as u32),
                    "{:?} {plane:?}",
                    l.level
                );
                hits += 1;
            }
            assert!(hits >= 4);
        }
    }
}
