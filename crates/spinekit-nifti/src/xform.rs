//! NIfTI orientation (RAS world, sform / qform / pixdim) ↔ spinekit [`Geometry`] (LPS world).
//!
//! NIfTI world coordinates are RAS+ (x to the Right... increasing toward Left is negative x); DICOM/spinekit are
//! LPS+. The two differ by negating x and y, so `A_lps = diag(-1, -1, 1) · A_ras` for the whole 3×4 affine.

use crate::error::{NiftiError, Result};
use crate::header::Header;
use crate::GeometrySource;
use nalgebra::{Matrix3, Rotation3, UnitQuaternion, Vector3};
use spinekit_image::Geometry;

/// Largest corner distance (mm) between the sform and the qform read as agreement.
const SFORM_QFORM_TOLERANCE_MM: f64 = 0.01;

/// A 3×4 index→world affine: `world = m · index + t`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Affine {
    pub m: Matrix3<f64>,
    pub t: Vector3<f64>,
}

impl Affine {
    /// Negates the x and y rows: RAS ↔ LPS (its own inverse).
    pub fn flip_xy(self) -> Self {
        let mut a = self;
        for r in 0..2 {
            a.m.row_mut(r).neg_mut();
            a.t[r] = -a.t[r];
        }
        a
    }

    fn scaled(self, s: f64) -> Self {
        Self {
            m: self.m * s,
            t: self.t * s,
        }
    }

    fn is_finite(&self) -> bool {
        self.m.iter().chain(self.t.iter()).all(|v| v.is_finite())
    }

    /// Non-finite, or a voxel axis of zero length: no orientation at all.
    fn is_degenerate(&self) -> bool {
        !self.is_finite() || (0..3).any(|c| self.m.column(c).norm() == 0.0)
    }

    fn apply(&self, idx: [f64; 3]) -> Vector3<f64> {
        self.m * Vector3::from(idx) + self.t
    }

    pub fn from_geometry(g: &Geometry) -> Self {
        Self {
            m: g.index_to_world_matrix(),
            t: Vector3::from(g.origin_mm),
        }
    }
}

/// Millimetres per header spatial unit (`xyzt_units & 7`). Unknown (0) is taken as mm, as nibabel and ITK do.
fn unit_scale(h: &Header, warnings: &mut Vec<String>) -> f64 {
    match h.xyzt_units & 0x07 {
        0 | 2 => 1.0,
        1 => 1000.0,
        3 => 0.001,
        other => {
            warnings.push(format!(
                "unknown spatial unit code {other} in the header; assuming millimetres"
            ));
            1.0
        }
    }
}

fn sform(h: &Header) -> Affine {
    let s = &h.srow;
    Affine {
        m: Matrix3::new(
            s[0][0], s[0][1], s[0][2], s[1][0], s[1][1], s[1][2], s[2][0], s[2][1], s[2][2],
        ),
        t: Vector3::new(s[0][3], s[1][3], s[2][3]),
    }
}

/// Rotation matrix of the header quaternion (b, c, d; a ≥ 0 implied), as nifti1_io computes it.
pub(crate) fn quatern_to_rotation(q: [f64; 3]) -> Matrix3<f64> {
    let [mut b, mut c, mut d] = q;
    let mut a = 1.0 - (b * b + c * c + d * d);
    if a < 1e-7 {
        // Rounding pushed |(b,c,d)| to ≥ 1: a 180° rotation; renormalise (b, c, d).
        let n = (b * b + c * c + d * d).sqrt();
        if n > 0.0 {
            b /= n;
            c /= n;
            d /= n;
        }
        a = 0.0;
    } else {
        a = a.sqrt();
    }
    Matrix3::new(
        a * a + b * b - c * c - d * d,
        2.0 * (b * c - a * d),
        2.0 * (b * d + a * c),
        2.0 * (b * c + a * d),
        a * a + c * c - b * b - d * d,
        2.0 * (c * d - a * b),
        2.0 * (b * d - a * c),
        2.0 * (c * d + a * b),
        a * a + d * d - c * c - b * b,
    )
}

fn positive_pixdim(h: &Header, warnings: &mut Vec<String>) -> [f64; 3] {
    let mut s = [1.0; 3];
    for (i, v) in s.iter_mut().enumerate() {
        let p = h.pixdim[i + 1];
        if p.is_finite() && p != 0.0 {
            *v = p.abs();
        } else {
            warnings.push(format!("voxel size pixdim[{}] is {p}; assuming 1", i + 1));
        }
    }
    s
}

fn qform(h: &Header, warnings: &mut Vec<String>) -> Affine {
    let r = quatern_to_rotation(h.quatern);
    let mut s = positive_pixdim(h, warnings);
    if h.pixdim[0] < 0.0 {
        s[2] = -s[2];
    }
    Affine {
        m: r * Matrix3::from_diagonal(&Vector3::from(s)),
        t: Vector3::from(h.qoffset),
    }
}

/// Turns an LPS affine into a [`Geometry`], rejecting shear and degenerate axes with a clear message.
fn to_geometry(a_lps: &Affine, what: &str) -> Result<Geometry> {
    if !a_lps.is_finite() {
        return Err(NiftiError::BadOrientation(format!(
            "the {what} contains non-finite numbers"
        )));
    }
    Geometry::from_index_to_world(a_lps.m, a_lps.t.into()).map_err(|e| {
        NiftiError::BadOrientation(format!(
            "the {what} does not describe orthogonal voxel axes ({e}); sheared images are not supported"
        ))
    })
}

/// Largest distance (mm) between two affines over the corner voxels of a `dims` grid.
pub(crate) fn max_corner_distance(a: &Affine, b: &Affine, dims: [usize; 3]) -> f64 {
    let mut worst = 0.0f64;
    for n in 0..8 {
        let idx = [0, 1, 2].map(|ax| {
            if n & (1 << ax) != 0 {
                dims[ax].saturating_sub(1) as f64
            } else {
                0.0
            }
        });
        worst = worst.max((a.apply(idx) - b.apply(idx)).norm());
    }
    worst
}

/// Geometry from the header: sform (code > 0 and usable), else qform (code > 0), else pixdim only.
pub(crate) fn header_geometry(
    h: &Header,
    dims: [usize; 3],
    warnings: &mut Vec<String>,
) -> Result<(Geometry, GeometrySource)> {
    let unit = unit_scale(h, warnings);
    let mut q = (h.qform_code > 0).then(|| qform(h, warnings).scaled(unit));
    if q.is_some_and(|q| !q.is_finite()) {
        warnings.push(format!(
            "qform_code is {} but the qform holds non-finite numbers; ignored",
            h.qform_code
        ));
        q = None;
    }
    if h.sform_code > 0 {
        let s = sform(h).scaled(unit);
        if s.is_degenerate() {
            // An empty or non-finite sform carries no orientation: treat it as absent (as if sform_code were 0).
            warnings.push(format!(
                "sform_code is {} but the sform is empty or holds non-finite numbers; ignored",
                h.sform_code
            ));
        } else {
            match to_geometry(&s.flip_xy(), "sform") {
                Ok(g) => {
                    if let Some(q) = q {
                        // The qform is a float32 quaternion: for an oblique orientation its rotation differs from
                        // the float32 sform by up to ~4e-5 rad, 0.001 mm over a small image (a property test found
                        // 0.0010 mm at 25 mm); a hundredth of a millimetre is a real disagreement.
                        let d = max_corner_distance(&s, &q, dims);
                        if d > SFORM_QFORM_TOLERANCE_MM {
                            warnings.push(format!(
                                "sform and qform disagree by up to {d:.3} mm at the image corners; used the sform"
                            ));
                        }
                    }
                    return Ok((g, GeometrySource::Sform));
                }
                // A real but sheared sform: the qform (always orthogonal) is the best representable geometry.
                Err(e) if q.is_some() => warnings.push(format!("{e}; used the qform instead")),
                Err(e) => return Err(e),
            }
        }
    }
    if let Some(q) = q {
        return Ok((to_geometry(&q.flip_xy(), "qform")?, GeometrySource::Qform));
    }
    warnings.push(
        "no orientation in header (no usable sform or qform); assuming RAS axes with the pixdim voxel size \
         and voxel 0 at the origin"
            .into(),
    );
    let s = positive_pixdim(h, warnings);
    let a = Affine {
        m: Matrix3::from_diagonal(&Vector3::from(s)),
        t: Vector3::zeros(),
    }
    .scaled(unit);
    Ok((
        to_geometry(&a.flip_xy(), "voxel size")?,
        GeometrySource::PixdimOnly,
    ))
}

/// Fills pixdim, quaternion, qoffset and srow of `h` from an LPS geometry (mm).
pub(crate) fn fill_header(h: &mut Header, g: &Geometry) {
    let ras = Affine::from_geometry(g).flip_xy();
    for (r, row) in h.srow.iter_mut().enumerate() {
        *row = [ras.m[(r, 0)], ras.m[(r, 1)], ras.m[(r, 2)], ras.t[r]];
    }
    // qform: rotation × diag(spacing) with qfac = -1 folding a left-handed frame into a rotation.
    let mut rot = g.direction_matrix();
    rot.row_mut(0).neg_mut();
    rot.row_mut(1).neg_mut();
    let qfac = if rot.determinant() < 0.0 { -1.0 } else { 1.0 };
    if qfac < 0.0 {
        rot.column_mut(2).neg_mut();
    }
    // Nearest rotation (polar decomposition) removes the ≤1e-3 non-orthogonality Geometry tolerates.
    let svd = rot.svd(true, true);
    let rot = match (svd.u, svd.v_t) {
        (Some(u), Some(v_t)) => u * v_t,
        _ => rot,
    };
    let uq = UnitQuaternion::from_rotation_matrix(&Rotation3::from_matrix_unchecked(rot));
    let q = uq.quaternion();
    let sign = if q.w < 0.0 { -1.0 } else { 1.0 };
    h.quatern = [sign * q.i, sign * q.j, sign * q.k];
    h.qoffset = [ras.t[0], ras.t[1], ras.t[2]];
    h.pixdim[0] = qfac;
    h.pixdim[1..4].copy_from_slice(&g.spacing_mm);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NiftiVersion;

    fn oblique_geometry(flip: bool) -> Geometry {
        let rot = Rotation3::from_euler_angles(0.3, -0.2, 1.1).into_inner();
        let mut dir = [[0.0; 3]; 3];
        for (c, d) in dir.iter_mut().enumerate() {
            for r in 0..3 {
                d[r] = rot[(r, c)] * if flip && c == 2 { -1.0 } else { 1.0 };
            }
        }
        Geometry {
            origin_mm: [-800.25, 1200.5, -1500.125],
            spacing_mm: [0.7, 0.8, 2.5],
            direction: dir,
        }
    }

    #[test]
    fn qform_written_from_geometry_reproduces_it_for_both_handednesses() {
        for flip in [false, true] {
            let g = oblique_geometry(flip);
            let mut h = Header {
                version: NiftiVersion::Two,
                qform_code: 1,
                ..Header::default()
            };
            fill_header(&mut h, &g);
            assert_eq!(h.pixdim[0], if flip { -1.0 } else { 1.0 });
            let mut w = Vec::new();
            let back = to_geometry(&qform(&h, &mut w).flip_xy(), "qform").unwrap();
            let d = max_corner_distance(
                &Affine::from_geometry(&g),
                &Affine::from_geometry(&back),
                [300, 300, 200],
            );
            assert!(d < 1e-9, "qform round trip off by {d} mm");
            assert!(w.is_empty());
        }
    }

    #[test]
    fn sheared_sform_is_rejected_unless_a_qform_exists() {
        let mut h = Header {
            sform_code: 1,
            srow: [
                [1.0, 0.5, 0.0, 0.0],
                [0.0, 1.0, 0.0, 0.0],
                [0.0, 0.0, 1.0, 0.0],
            ],
            pixdim: [1.0; 8],
            ..Header::default()
        };
        let mut w = Vec::new();
        let e = header_geometry(&h, [2, 2, 2], &mut w).unwrap_err();
        assert!(e.to_string().contains("orthogonal"), "{e}");
        h.qform_code = 1;
        let (g, src) = header_geometry(&h, [2, 2, 2], &mut w).unwrap();
        assert_eq!(src, GeometrySource::Qform);
        assert_eq!(g.orientation_code().to_string(), "RAS");
        assert!(w.iter().any(|m| m.contains("used the qform")));
    }

    #[test]
    fn units_metres_and_micrometres_become_millimetres() {
        for (code, scale) in [(1u8, 1000.0), (3, 0.001), (0, 1.0), (2, 1.0)] {
            let h = Header {
                sform_code: 1,
                xyzt_units: code | 8,
                srow: [
                    [0.002, 0.0, 0.0, 0.1],
                    [0.0, 0.002, 0.0, 0.2],
                    [0.0, 0.0, 0.004, 0.3],
                ],
                ..Header::default()
            };
            let (g, _) = header_geometry(&h, [2, 2, 2], &mut Vec::new()).unwrap();
            assert!((g.spacing_mm[2] - 0.004 * scale).abs() < 1e-12 * scale);
            assert!((g.origin_mm[0] + 0.1 * scale).abs() < 1e-12 * scale);
        }
    }
}
