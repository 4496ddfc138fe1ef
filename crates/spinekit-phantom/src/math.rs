//! Small 3D vector and rigid-frame helpers (f64, LPS millimetres).

use std::ops::{Add, AddAssign, Mul, Neg, Sub};

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct V3 {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

#[inline]
pub const fn v3(x: f64, y: f64, z: f64) -> V3 {
    V3 { x, y, z }
}

impl V3 {
    pub const ZERO: V3 = v3(0.0, 0.0, 0.0);
    pub const X: V3 = v3(1.0, 0.0, 0.0);
    pub const Y: V3 = v3(0.0, 1.0, 0.0);
    pub const Z: V3 = v3(0.0, 0.0, 1.0);

    #[inline]
    pub fn dot(self, o: V3) -> f64 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }
    #[inline]
    pub fn cross(self, o: V3) -> V3 {
        v3(
            self.y * o.z - self.z * o.y,
            self.z * o.x - self.x * o.z,
            self.x * o.y - self.y * o.x,
        )
    }
    #[inline]
    pub fn norm(self) -> f64 {
        self.dot(self).sqrt()
    }
    #[inline]
    pub fn normalized(self) -> V3 {
        let n = self.norm();
        if n > 0.0 {
            self * (1.0 / n)
        } else {
            self
        }
    }
    #[inline]
    pub fn to_array(self) -> [f64; 3] {
        [self.x, self.y, self.z]
    }
    #[inline]
    pub fn min(self, o: V3) -> V3 {
        v3(self.x.min(o.x), self.y.min(o.y), self.z.min(o.z))
    }
    #[inline]
    pub fn max(self, o: V3) -> V3 {
        v3(self.x.max(o.x), self.y.max(o.y), self.z.max(o.z))
    }
    #[inline]
    pub fn abs(self) -> V3 {
        v3(self.x.abs(), self.y.abs(), self.z.abs())
    }
    #[inline]
    pub fn max_elem(self) -> f64 {
        self.x.max(self.y).max(self.z)
    }
    #[inline]
    pub fn get(self, i: usize) -> f64 {
        match i {
            0 => self.x,
            1 => self.y,
            _ => self.z,
        }
    }
}

impl Add for V3 {
    type Output = V3;
    #[inline]
    fn add(self, o: V3) -> V3 {
        v3(self.x + o.x, self.y + o.y, self.z + o.z)
    }
}
impl AddAssign for V3 {
    #[inline]
    fn add_assign(&mut self, o: V3) {
        *self = *self + o;
    }
}
impl Sub for V3 {
    type Output = V3;
    #[inline]
    fn sub(self, o: V3) -> V3 {
        v3(self.x - o.x, self.y - o.y, self.z - o.z)
    }
}
impl Mul<f64> for V3 {
    type Output = V3;
    #[inline]
    fn mul(self, s: f64) -> V3 {
        v3(self.x * s, self.y * s, self.z * s)
    }
}
impl Neg for V3 {
    type Output = V3;
    #[inline]
    fn neg(self) -> V3 {
        v3(-self.x, -self.y, -self.z)
    }
}

/// Rotation matrix stored as its three columns (the images of x̂, ŷ, ẑ).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rot {
    pub c: [V3; 3],
}

impl Rot {
    pub const IDENTITY: Rot = Rot {
        c: [V3::X, V3::Y, V3::Z],
    };

    #[inline]
    pub fn apply(&self, v: V3) -> V3 {
        self.c[0] * v.x + self.c[1] * v.y + self.c[2] * v.z
    }
    /// Inverse rotation (transpose).
    #[inline]
    pub fn apply_t(&self, v: V3) -> V3 {
        v3(self.c[0].dot(v), self.c[1].dot(v), self.c[2].dot(v))
    }
    pub fn mul(&self, o: &Rot) -> Rot {
        Rot {
            c: [self.apply(o.c[0]), self.apply(o.c[1]), self.apply(o.c[2])],
        }
    }
    /// Rotation about the patient's left axis (x) by `a` radians: ŷ turns toward ẑ, so ẑ tilts anteriorly.
    pub fn about_x(a: f64) -> Rot {
        let (s, c) = a.sin_cos();
        Rot {
            c: [V3::X, v3(0.0, c, s), v3(0.0, -s, c)],
        }
    }
    /// Rotation about the posterior axis (y) by `a` radians: x̂ turns toward ẑ (the left end rises).
    pub fn about_y(a: f64) -> Rot {
        let (s, c) = a.sin_cos();
        Rot {
            c: [v3(c, 0.0, s), V3::Y, v3(-s, 0.0, c)],
        }
    }
    /// Frame whose third axis is `axis` and whose first axis is as close as possible to `hint`.
    pub fn from_z_and_x_hint(axis: V3, hint: V3) -> Rot {
        let e3 = axis.normalized();
        let mut e1 = hint - e3 * hint.dot(e3);
        if e1.norm() < 1e-9 {
            e1 = if e3.x.abs() < 0.9 { V3::X } else { V3::Y };
            e1 = e1 - e3 * e1.dot(e3);
        }
        let e1 = e1.normalized();
        let e2 = e3.cross(e1);
        Rot { c: [e1, e2, e3] }
    }
}

/// A rigid frame: origin plus orthonormal axes (columns of `r`) in world (LPS mm).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub o: V3,
    pub r: Rot,
}

impl Frame {
    pub fn new(o: V3, r: Rot) -> Frame {
        Frame { o, r }
    }
    #[inline]
    pub fn to_local(self, p: V3) -> V3 {
        self.r.apply_t(p - self.o)
    }
    #[inline]
    pub fn to_world(self, q: V3) -> V3 {
        self.o + self.r.apply(q)
    }
    #[inline]
    pub fn dir_to_world(&self, d: V3) -> V3 {
        self.r.apply(d)
    }
    /// A child frame given in this frame's local coordinates.
    pub fn compose(&self, local: &Frame) -> Frame {
        Frame {
            o: self.to_world(local.o),
            r: self.r.mul(&local.r),
        }
    }
}

/// Smooth 0→1 step (cubic Hermite) of `x` between `a` and `b`.
#[inline]
pub fn smoothstep(a: f64, b: f64, x: f64) -> f64 {
    let t = ((x - a) / (b - a)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

#[inline]
pub fn lerp(a: f64, b: f64, t: f64) -> f64 {
    a + (b - a) * t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotations_follow_the_documented_senses() {
        let r = Rot::about_x(0.3);
        assert!(r.apply(V3::Z).y < 0.0, "ẑ tilts anteriorly (−y)");
        let r = Rot::about_y(0.3);
        assert!(r.apply(V3::X).z > 0.0, "left end rises");
        let f = Frame::new(
            v3(1.0, 2.0, 3.0),
            Rot::about_y(0.2).mul(&Rot::about_x(-0.4)),
        );
        let p = v3(5.0, -7.0, 11.0);
        let q = f.to_world(f.to_local(p));
        assert!((q - p).norm() < 1e-12);
        let r = Rot::from_z_and_x_hint(v3(0.1, 0.2, 1.0), V3::X);
        assert!((r.c[0].cross(r.c[1]) - r.c[2]).norm() < 1e-12);
    }
}
