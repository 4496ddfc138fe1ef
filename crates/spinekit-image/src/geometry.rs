use crate::ImageError;
use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a voxel grid sits in the patient: DICOM patient coordinates (LPS: +x to the patient's Left,
/// +y Posterior, +z Superior), millimetres.
///
/// `world = origin_mm + Σᵢ direction[i] · spacing_mm[i] · index[i]`, where `index` is the (i, j, k) voxel index
/// with i fastest in memory. `direction[i]` is the unit vector along voxel axis i (a column of the DICOM/ITK
/// direction matrix). `origin_mm` is the *centre* of voxel (0, 0, 0), as in DICOM ImagePositionPatient.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Geometry {
    pub origin_mm: [f64; 3],
    pub spacing_mm: [f64; 3],
    pub direction: [[f64; 3]; 3],
}

/// Tolerance for deciding that direction cosines are orthonormal (float noise in DICOM headers is ~1e-6).
const ORTHO_TOL: f64 = 1e-3;

impl Default for Geometry {
    fn default() -> Self {
        Self::identity([1.0; 3])
    }
}

impl Geometry {
    /// Axis-aligned LPS grid at the origin.
    pub fn identity(spacing_mm: [f64; 3]) -> Self {
        Self {
            origin_mm: [0.0; 3],
            spacing_mm,
            direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        }
    }

    /// Checks spacing is positive and finite and the direction cosines are orthonormal.
    pub fn validate(&self) -> Result<(), ImageError> {
        if self.origin_mm.iter().any(|v| !v.is_finite()) {
            return Err(ImageError::BadGeometry("origin is not finite".into()));
        }
        if self.spacing_mm.iter().any(|s| !s.is_finite() || *s <= 0.0) {
            return Err(ImageError::BadGeometry(format!(
                "spacing {:?} mm must be positive and finite",
                self.spacing_mm
            )));
        }
        let d = self.direction_matrix();
        let err = (d.transpose() * d - Matrix3::identity()).abs().max();
        if !err.is_finite() || err > ORTHO_TOL {
            return Err(ImageError::BadGeometry(format!(
                "direction cosines are not orthonormal (error {err:.2e})"
            )));
        }
        Ok(())
    }

    /// Direction matrix with axis unit vectors as columns.
    pub fn direction_matrix(&self) -> Matrix3<f64> {
        let d = &self.direction;
        Matrix3::from_columns(&[
            Vector3::from(d[0]),
            Vector3::from(d[1]),
            Vector3::from(d[2]),
        ])
    }

    /// Direction × diag(spacing): maps a continuous voxel index offset to a world offset in mm.
    pub fn index_to_world_matrix(&self) -> Matrix3<f64> {
        let mut m = self.direction_matrix();
        for i in 0..3 {
            let s = self.spacing_mm[i];
            m.column_mut(i).scale_mut(s);
        }
        m
    }

    /// The 4×4 homogeneous index→LPS transform (row-major), as written to NIfTI sform after an LPS→RAS flip.
    pub fn affine(&self) -> [[f64; 4]; 4] {
        let m = self.index_to_world_matrix();
        let o = self.origin_mm;
        [
            [m[(0, 0)], m[(0, 1)], m[(0, 2)], o[0]],
            [m[(1, 0)], m[(1, 1)], m[(1, 2)], o[1]],
            [m[(2, 0)], m[(2, 1)], m[(2, 2)], o[2]],
            [0.0, 0.0, 0.0, 1.0],
        ]
    }

    /// Builds a geometry from a 3×3 index→world matrix (columns = spacing × direction) and an origin.
    pub fn from_index_to_world(m: Matrix3<f64>, origin_mm: [f64; 3]) -> Result<Self, ImageError> {
        let mut spacing = [0.0; 3];
        let mut dir = [[0.0; 3]; 3];
        for i in 0..3 {
            let c = m.column(i);
            let s = c.norm();
            if !(s.is_finite() && s > 0.0) {
                return Err(ImageError::BadGeometry(format!("axis {i} has zero length")));
            }
            spacing[i] = s;
            dir[i] = [c[0] / s, c[1] / s, c[2] / s];
        }
        let g = Self {
            origin_mm,
            spacing_mm: spacing,
            direction: dir,
        };
        g.validate()?;
        Ok(g)
    }

    /// World position (LPS mm) of a continuous voxel index.
    pub fn index_to_world(&self, idx: [f64; 3]) -> [f64; 3] {
        let mut w = self.origin_mm;
        for (axis, &i) in idx.iter().enumerate() {
            let s = self.spacing_mm[axis] * i;
            for (c, wc) in w.iter_mut().enumerate() {
                *wc += self.direction[axis][c] * s;
            }
        }
        w
    }

    /// Continuous voxel index of a world position (LPS mm). Exact inverse of [`index_to_world`](Self::index_to_world)
    /// for orthonormal directions.
    pub fn world_to_index(&self, w: [f64; 3]) -> [f64; 3] {
        let d = [
            w[0] - self.origin_mm[0],
            w[1] - self.origin_mm[1],
            w[2] - self.origin_mm[2],
        ];
        std::array::from_fn(|axis| {
            let dir = self.direction[axis];
            (d[0] * dir[0] + d[1] * dir[1] + d[2] * dir[2]) / self.spacing_mm[axis]
        })
    }

    /// Orientation code: for each voxel axis, the anatomical direction it increases toward (nibabel's axcodes
    /// convention), e.g. `LPS` for a DICOM axial series, `RAS` for a typical NIfTI from dcm2niix.
    pub fn orientation_code(&self) -> OrientationCode {
        let mut letters = ['?'; 3];
        for (axis, l) in letters.iter_mut().enumerate() {
            let d = self.direction[axis];
            let (c, v) = (0..3)
                .map(|c| (c, d[c]))
                .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                .unwrap_or((0, 0.0));
            *l = match (c, v >= 0.0) {
                (0, true) => 'L',
                (0, false) => 'R',
                (1, true) => 'P',
                (1, false) => 'A',
                (2, true) => 'S',
                _ => 'I',
            };
        }
        OrientationCode(letters)
    }

    /// True when every axis is within `tol_deg` degrees of a patient axis (no obliquity worth resampling).
    pub fn is_axis_aligned(&self, tol_deg: f64) -> bool {
        let cos_tol = tol_deg.to_radians().cos();
        self.direction
            .iter()
            .all(|d| d.iter().any(|v| v.abs() >= cos_tol))
    }

    /// Largest angle (degrees) between a voxel axis and its nearest patient axis.
    pub fn obliquity_deg(&self) -> f64 {
        self.direction
            .iter()
            .map(|d| {
                let m = d.iter().fold(0.0f64, |a, v| a.max(v.abs())).min(1.0);
                m.acos().to_degrees()
            })
            .fold(0.0, f64::max)
    }
}

/// Three-letter orientation code such as `LPS` or `RAS` (see [`Geometry::orientation_code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrientationCode(pub [char; 3]);

impl OrientationCode {
    /// Parses codes like "LPS", "ras" (case-insensitive). Each patient axis must appear once.
    pub fn parse(s: &str) -> Option<Self> {
        let c: Vec<char> = s.trim().to_ascii_uppercase().chars().collect();
        if c.len() != 3 {
            return None;
        }
        let mut seen = [false; 3];
        for ch in &c {
            let a = Self::patient_axis(*ch)?.0;
            if seen[a] {
                return None;
            }
            seen[a] = true;
        }
        Some(Self([c[0], c[1], c[2]]))
    }

    /// The patient axis (0 = L/R, 1 = P/A, 2 = S/I) and sign (+1 toward L, P, S) of a letter.
    pub fn patient_axis(ch: char) -> Option<(usize, f64)> {
        Some(match ch {
            'L' => (0, 1.0),
            'R' => (0, -1.0),
            'P' => (1, 1.0),
            'A' => (1, -1.0),
            'S' => (2, 1.0),
            'I' => (2, -1.0),
            _ => return None,
        })
    }
}

impl fmt::Display for OrientationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.0[0], self.0[1], self.0[2])
    }
}

impl Serialize for OrientationCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
