//! Solid primitives with approximate signed distances (mm, negative inside) evaluated in a local frame.
//!
//! The distances are exact on the surface and first-order accurate near it, which is all that the
//! anti-aliased rasteriser (a ramp about one voxel wide) and the cortical shells (≈ 1 mm) need. Label maps use
//! the sign only, so label membership is exactly the analytic solid sampled at voxel centres.

use crate::math::{v3, Frame, V3};
use crate::morphometry::HEIGHT_POSITIONS;

/// Result of evaluating a primitive at a point.
#[derive(Debug, Clone, Copy)]
pub struct Eval {
    /// Signed distance to the outer surface.
    pub d: f64,
    /// Signed distance to the inner (marrow) surface, i.e. the outer surface moved in by the cortex.
    pub d_core: f64,
    /// Outward surface normal in the primitive's local frame (not necessarily unit; zero deep inside).
    pub n: V3,
    /// Extra core HU at this point (fracture impaction band).
    pub extra_hu: f64,
}

/// A vertebral body: elliptic anterior half, flattened (superellipse p = 3) posterior half, planar rims
/// with a linear height change from front to back, and concave endplates.
///
/// Local frame: x left, y posterior, z superior, origin at the body centre (mid-depth, mid-height of the rim).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BodyShape {
    /// Half width (x) and half depth (y).
    pub a: f64,
    pub b: f64,
    /// Rim heights at the anterior and posterior measurement positions (15 % / 85 % of the depth).
    pub rim_ant: f64,
    pub rim_post: f64,
    /// Concavity depth at the centre of the superior and inferior endplates (gentle, over the whole plate).
    pub conc_top: f64,
    pub conc_bot: f64,
    /// Central depression of a biconcave fracture (depth at the centre, confined to the inner 75 %).
    pub cup_top: f64,
    pub cup_bot: f64,
    /// Cortical wall and endplate thickness.
    pub wall_mm: f64,
    pub endplate_mm: f64,
    /// Extra HU in a 5 mm band under the superior endplate (fracture impaction), 0 if none.
    pub band_hu: f64,
}

impl BodyShape {
    /// Local y of the anterior, middle and posterior measurement positions.
    pub fn measure_y(&self) -> [f64; 3] {
        HEIGHT_POSITIONS.map(|f| -self.b + f * 2.0 * self.b)
    }

    /// Rim height (between the rim planes) at local y.
    #[inline]
    pub fn rim_height(&self, y: f64) -> f64 {
        let [ya, _, yp] = self.measure_y();
        self.rim_ant + (self.rim_post - self.rim_ant) * (y - ya) / (yp - ya)
    }

    /// Normalised radius² of (x, y) in the endplate ellipse.
    #[inline]
    fn rho2(&self, x: f64, y: f64) -> f64 {
        (x / self.a).powi(2) + (y / self.b).powi(2)
    }

    /// Superior endplate surface z at (x, y).
    #[inline]
    pub fn z_top(&self, x: f64, y: f64) -> f64 {
        let r2 = self.rho2(x, y);
        0.5 * self.rim_height(y) - self.conc_top * (1.0 - r2).max(0.0) - self.cup_top * cup(r2)
    }

    /// Inferior endplate surface z at (x, y).
    #[inline]
    pub fn z_bot(&self, x: f64, y: f64) -> f64 {
        let r2 = self.rho2(x, y);
        -0.5 * self.rim_height(y) + self.conc_bot * (1.0 - r2).max(0.0) + self.cup_bot * cup(r2)
    }

    /// Height along local z at (x, y): the exact length of the body along that line.
    pub fn height_at(&self, x: f64, y: f64) -> f64 {
        self.z_top(x, y) - self.z_bot(x, y)
    }

    /// Anterior, middle, posterior heights in the mid-sagittal plane.
    pub fn heights(&self) -> [f64; 3] {
        self.measure_y().map(|y| self.height_at(0.0, y))
    }

    /// Slope dz/dy of the superior rim plane (the inferior one has the opposite slope).
    pub fn rim_slope(&self) -> f64 {
        let [ya, _, yp] = self.measure_y();
        0.5 * (self.rim_post - self.rim_ant) / (yp - ya)
    }

    /// Largest rim height (for bounding boxes).
    pub fn max_rim(&self) -> f64 {
        self.rim_height(-self.b).max(self.rim_height(self.b))
    }

    #[inline]
    fn eval(&self, q: V3) -> Eval {
        let (dxy, nxy) = section_sdf(q.x, q.y, self.a, self.b);
        let zt = self.z_top(q.x, q.y);
        let zb = self.z_bot(q.x, q.y);
        let dt = q.z - zt;
        let db = zb - q.z;
        let dz = dt.max(db);
        let d = dxy.max(dz);
        let d_core = (dxy + self.wall_mm).max(dz + self.endplate_mm);
        let n = if dxy >= dz {
            v3(nxy.0, nxy.1, 0.0)
        } else if dt >= db {
            V3::Z
        } else {
            -V3::Z
        };
        let extra_hu = if self.band_hu != 0.0 && dt > -5.0 {
            self.band_hu
        } else {
            0.0
        };
        Eval {
            d,
            d_core,
            n,
            extra_hu,
        }
    }
}

/// Radius (normalised) of the central cup of a biconcave fracture.
pub const CUP_RADIUS: f64 = 0.75;

/// Profile of the central cup: 1 at the centre, 0 from `CUP_RADIUS` outward (cos², smooth at both ends).
#[inline]
pub fn cup(r2: f64) -> f64 {
    let r = r2.sqrt() / CUP_RADIUS;
    if r >= 1.0 {
        0.0
    } else {
        (std::f64::consts::FRAC_PI_2 * r).cos().powi(2)
    }
}

/// Signed distance and gradient direction of the body/disc cross-section: ellipse anteriorly (y < 0),
/// superellipse p = 3 posteriorly.
#[inline]
pub fn section_sdf(x: f64, y: f64, a: f64, b: f64) -> (f64, (f64, f64)) {
    if y < 0.0 {
        ellipse_sdf(x, y, a, b)
    } else {
        let u = (x / a).abs();
        let w = (y / b).abs();
        let s = u * u * u + w * w * w;
        let f = s.cbrt();
        if f < 0.3 {
            return ((f - 1.0) * a.min(b), (0.0, 0.0));
        }
        // ∇f = (u²/a, w²/b) / f² (with signs).
        let gx = u * u / a * x.signum();
        let gy = w * w / b;
        let g = (gx * gx + gy * gy).sqrt() / (f * f);
        ((f - 1.0) / g, (gx, gy))
    }
}

/// Approximate signed distance to an ellipse with semi-axes (a, b) and its outward gradient direction.
#[inline]
pub fn ellipse_sdf(x: f64, y: f64, a: f64, b: f64) -> (f64, (f64, f64)) {
    let u = x / a;
    let w = y / b;
    let f = (u * u + w * w).sqrt();
    if f < 0.3 {
        return ((f - 1.0) * a.min(b), (0.0, 0.0));
    }
    let gx = x / (a * a);
    let gy = y / (b * b);
    let g = (gx * gx + gy * gy).sqrt();
    ((f - 1.0) * f / g, (gx, gy))
}

#[inline]
fn ellipsoid_sdf(q: V3, r: V3) -> (f64, V3) {
    let k0 = v3(q.x / r.x, q.y / r.y, q.z / r.z).norm();
    let g = v3(q.x / (r.x * r.x), q.y / (r.y * r.y), q.z / (r.z * r.z));
    let k1 = g.norm();
    if k0 < 0.3 || k1 < 1e-12 {
        return ((k0 - 1.0) * r.x.min(r.y).min(r.z), V3::ZERO);
    }
    (k0 * (k0 - 1.0) / k1, g)
}

#[inline]
fn round_box_sdf(q: V3, half: V3, round: f64) -> (f64, V3) {
    let h = half - v3(round, round, round);
    let a = q.abs() - h;
    let outside = a.max(V3::ZERO);
    let on = outside.norm();
    let inside = a.max_elem().min(0.0);
    let d = on + inside - round;
    let n = if on > 0.0 {
        v3(
            outside.x * q.x.signum(),
            outside.y * q.y.signum(),
            outside.z * q.z.signum(),
        )
    } else if a.x >= a.y && a.x >= a.z {
        v3(q.x.signum(), 0.0, 0.0)
    } else if a.y >= a.z {
        v3(0.0, q.y.signum(), 0.0)
    } else {
        v3(0.0, 0.0, q.z.signum())
    };
    (d, n)
}

/// Shapes in a primitive's local frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    Body(BodyShape),
    /// Tapered capsule from `a` (radius `ra`) to `b` (radius `rb`).
    Capsule {
        a: V3,
        b: V3,
        ra: f64,
        rb: f64,
    },
    /// Box with half extents and rounded edges.
    RoundBox {
        half: V3,
        round: f64,
    },
    Ellipsoid {
        radii: V3,
    },
    /// Elliptic cylinder along local z: semi-axes (ax, ay), half length hz.
    EllCyl {
        ax: f64,
        ay: f64,
        hz: f64,
    },
    /// Shell of an ellipsoid (thickness 2·half_t) clipped to a box.
    EllShell {
        radii: V3,
        half_t: f64,
        clip_center: V3,
        clip_half: V3,
    },
    /// Disc between two planes (points and upward normals in the local frame), body-like cross-section.
    Disc {
        a: V3,
        lo_p: V3,
        lo_n: V3,
        hi_p: V3,
        hi_n: V3,
    },
}

impl Shape {
    /// Evaluates at local point `q`; `cortex` moves the core surface inward (ignored by `Body`).
    #[inline]
    pub fn eval(&self, q: V3, cortex: f64) -> Eval {
        let (d, n) = match *self {
            Shape::Body(ref b) => return b.eval(q),
            Shape::Capsule { a, b, ra, rb } => {
                let ab = b - a;
                let l2 = ab.dot(ab);
                let t = if l2 > 0.0 {
                    ((q - a).dot(ab) / l2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let c = a + ab * t;
                let r = ra + (rb - ra) * t;
                let v = q - c;
                (v.norm() - r, v)
            }
            Shape::RoundBox { half, round } => round_box_sdf(q, half, round),
            Shape::Ellipsoid { radii } => ellipsoid_sdf(q, radii),
            Shape::EllCyl { ax, ay, hz } => {
                let (dxy, (gx, gy)) = ellipse_sdf(q.x, q.y, ax, ay);
                let dz = q.z.abs() - hz;
                if dxy >= dz {
                    (dxy, v3(gx, gy, 0.0))
                } else {
                    (dz, v3(0.0, 0.0, q.z.signum()))
                }
            }
            Shape::EllShell {
                radii,
                half_t,
                clip_center,
                clip_half,
            } => {
                let (de, ne) = ellipsoid_sdf(q, radii);
                let ds = de.abs() - half_t;
                let (dc, nc) = round_box_sdf(q - clip_center, clip_half, 0.0);
                if ds >= dc {
                    (ds, ne * de.signum())
                } else {
                    (dc, nc)
                }
            }
            Shape::Disc {
                a,
                lo_p,
                lo_n,
                hi_p,
                hi_n,
            } => {
                let (dxy, (gx, gy)) = section_sdf(q.x, q.y, a.x, a.y);
                let dl = (lo_p - q).dot(lo_n);
                let dh = (q - hi_p).dot(hi_n);
                let dz = dl.max(dh);
                if dxy >= dz {
                    (dxy, v3(gx, gy, 0.0))
                } else if dh >= dl {
                    (dz, hi_n)
                } else {
                    (dz, -lo_n)
                }
            }
        };
        Eval {
            d,
            d_core: d + cortex,
            n,
            extra_hu: 0.0,
        }
    }

    /// Conservative local bounding box (min, max).
    pub fn local_bounds(&self) -> (V3, V3) {
        match *self {
            Shape::Body(ref b) => {
                let h = 0.5 * b.max_rim() + 0.5;
                (v3(-b.a, -b.b, -h), v3(b.a, b.b, h))
            }
            Shape::Capsule { a, b, ra, rb } => {
                let r = ra.max(rb);
                let rr = v3(r, r, r);
                (a.min(b) - rr, a.max(b) + rr)
            }
            Shape::RoundBox { half, .. } => (-half, half),
            Shape::Ellipsoid { radii } => (-radii, radii),
            Shape::EllCyl { ax, ay, hz } => (v3(-ax, -ay, -hz), v3(ax, ay, hz)),
            Shape::EllShell {
                radii,
                half_t,
                clip_center,
                clip_half,
            } => {
                let r = radii + v3(half_t, half_t, half_t);
                (
                    (clip_center - clip_half).max(-r),
                    (clip_center + clip_half).min(r),
                )
            }
            Shape::Disc {
                a,
                lo_p,
                lo_n,
                hi_p,
                hi_n,
            } => {
                // Plane heights at the corners of the cross-section box bound the disc in z.
                let mut zlo = f64::INFINITY;
                let mut zhi = f64::NEG_INFINITY;
                for (sx, sy) in [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)] {
                    let (x, y) = (sx * a.x, sy * a.y);
                    let zl = lo_p.z - (lo_n.x * (x - lo_p.x) + lo_n.y * (y - lo_p.y)) / lo_n.z;
                    let zh = hi_p.z - (hi_n.x * (x - hi_p.x) + hi_n.y * (y - hi_p.y)) / hi_n.z;
                    zlo = zlo.min(zl);
                    zhi = zhi.max(zh);
                }
                (v3(-a.x, -a.y, zlo), v3(a.x, a.y, zhi))
            }
        }
    }
}

/// World-space axis-aligned bounds of a local box under `frame`.
pub fn world_bounds(frame: &Frame, lo: V3, hi: V3) -> (V3, V3) {
    let mut wlo = v3(f64::INFINITY, f64::INFINITY, f64::INFINITY);
    let mut whi = -wlo;
    for n in 0..8 {
        let c = v3(
            if n & 1 != 0 { hi.x } else { lo.x },
            if n & 2 != 0 { hi.y } else { lo.y },
            if n & 4 != 0 { hi.z } else { lo.z },
        );
        let w = frame.to_world(c);
        wlo = wlo.min(w);
        whi = whi.max(w);
    }
    (wlo, whi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> BodyShape {
        BodyShape {
            a: 23.0,
            b: 17.0,
            rim_ant: 26.0,
            rim_post: 25.0,
            conc_top: 1.0,
            conc_bot: 1.0,
            cup_top: 0.0,
            cup_bot: 0.0,
            wall_mm: 1.0,
            endplate_mm: 1.2,
            band_hu: 0.0,
        }
    }

    #[test]
    fn body_heights_are_the_length_of_the_solid_along_z() {
        let b = body();
        for (y, h) in b.measure_y().into_iter().zip(b.heights()) {
            // Walk along z and measure the inside length numerically.
            let n = 20000;
            let mut inside = 0;
            for k in 0..n {
                let z = -20.0 + 40.0 * (k as f64 + 0.5) / n as f64;
                if Shape::Body(b).eval(v3(0.0, y, z), 0.0).d < 0.0 {
                    inside += 1;
                }
            }
            let len = 40.0 * inside as f64 / n as f64;
            assert!((len - h).abs() < 0.01, "y {y}: {len} vs {h}");
        }
        // Middle height is reduced by both concavities in full.
        let [ha, hm, _] = b.heights();
        assert!((hm - (25.5 - 2.0)).abs() < 1e-9);
        assert!(ha > hm);
    }

    #[test]
    fn distances_have_the_right_sign_and_scale() {
        let s = Shape::Capsule {
            a: V3::ZERO,
            b: v3(10.0, 0.0, 0.0),
            ra: 2.0,
            rb: 2.0,
        };
        assert!((s.eval(v3(5.0, 3.0, 0.0), 0.0).d - 1.0).abs() < 1e-12);
        let e = Shape::Ellipsoid {
            radii: v3(10.0, 5.0, 3.0),
        };
        assert!(e.eval(v3(10.5, 0.0, 0.0), 0.0).d > 0.0);
        assert!((e.eval(v3(9.0, 0.0, 0.0), 0.0).d + 1.0).abs() < 0.1);
        let bx = Shape::RoundBox {
            half: v3(5.0, 4.0, 3.0),
            round: 1.0,
        };
        assert!((bx.eval(v3(0.0, 0.0, 2.5), 0.0).d + 0.5).abs() < 1e-12);
        let b = Shape::Body(body());
        assert!((b.eval(v3(22.0, -0.1, 0.0), 0.0).d + 1.0).abs() < 0.05);
        assert!(b.eval(v3(0.0, 16.5, 0.0), 0.0).d < 0.0);
        assert!(b.eval(v3(0.0, 17.5, 0.0), 0.0).d > 0.0);
    }
}
