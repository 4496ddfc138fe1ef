//! The exact-geometry record (format and rationale: crate docs, "Exact geometry record").

use crate::xform::Affine;
use spinekit_image::Geometry;

/// Header extension code of the record (NIFTI_ECODE_COMMENT).
pub const EXACT_GEOMETRY_ECODE: i32 = 6;
const MAGIC: &str = "spinekit-exact-geometry 1";

pub(crate) fn encode(g: &Geometry, dims: [usize; 3]) -> Vec<u8> {
    // `+ 0.0` turns -0.0 into 0.0 (the same value) so the text stays tidy.
    let join = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{:?}", x + 0.0))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let dir: Vec<f64> = g.direction.iter().flatten().copied().collect();
    format!(
        "{MAGIC}\ndims {} {} {}\norigin_mm {}\nspacing_mm {}\ndirection {}\n",
        dims[0],
        dims[1],
        dims[2],
        join(&g.origin_mm),
        join(&g.spacing_mm),
        join(&dir)
    )
    .into_bytes()
}

/// Parses a record; `None` when `content` is not one (other comments), `Some(Err)` when it is but is damaged.
pub(crate) fn decode(content: &[u8]) -> Option<Result<(Geometry, [usize; 3]), String>> {
    let text = std::str::from_utf8(content).ok()?;
    let text = text.trim_end_matches(['\0', ' ', '\n']);
    let mut lines = text.lines();
    if lines.next()?.trim() != MAGIC {
        return None;
    }
    let mut field = |name: &str, n: usize| -> Result<Vec<f64>, String> {
        let line = lines.next().ok_or_else(|| format!("missing {name}"))?;
        let mut parts = line.split_whitespace();
        if parts.next() != Some(name) {
            return Err(format!("expected {name}"));
        }
        let v: Vec<f64> = parts
            .map(|p| {
                p.parse::<f64>()
                    .map_err(|_| format!("bad number in {name}"))
            })
            .collect::<Result<_, _>>()?;
        if v.len() != n || v.iter().any(|x| !x.is_finite()) {
            return Err(format!("{name} needs {n} finite numbers"));
        }
        Ok(v)
    };
    let parsed = (|| {
        let d = field("dims", 3)?;
        let o = field("origin_mm", 3)?;
        let s = field("spacing_mm", 3)?;
        let r = field("direction", 9)?;
        let dims = [d[0] as usize, d[1] as usize, d[2] as usize];
        let g = Geometry {
            origin_mm: [o[0], o[1], o[2]],
            spacing_mm: [s[0], s[1], s[2]],
            direction: [[r[0], r[1], r[2]], [r[3], r[4], r[5]], [r[6], r[7], r[8]]],
        };
        g.validate().map_err(|e| e.to_string())?;
        Ok((g, dims))
    })();
    Some(parsed)
}

/// Whether the exact geometry rounds to the header's: every affine entry within 1e-6 of its scale (float32 keeps
/// about 6e-8 relative, so this leaves a wide margin yet catches any real edit, which moves a voxel or more).
pub(crate) fn agrees_with_header(exact: &Geometry, header: &Geometry) -> bool {
    let e = Affine::from_geometry(exact);
    let h = Affine::from_geometry(header);
    let max_spacing = exact.spacing_mm.iter().fold(1.0f64, |a, &b| a.max(b));
    let matrix_ok = (e.m - h.m).iter().all(|d| d.abs() <= 1e-6 * max_spacing);
    let origin_ok = (0..3).all(|r| (e.t[r] - h.t[r]).abs() <= 1e-6 * e.t[r].abs().max(1.0));
    matrix_ok && origin_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_is_bit_exact() {
        let g = Geometry {
            origin_mm: [-177.956_329_345_703_13, 0.1 + 0.2, -1500.000000000001],
            spacing_mm: [0.7, 1.0 / 3.0, 2.5],
            direction: [[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]],
        };
        let mut bytes = encode(&g, [7, 8, 9]);
        bytes.extend_from_slice(&[0, 0, 0]);
        let (back, dims) = decode(&bytes).unwrap().unwrap();
        assert_eq!(back, g);
        assert_eq!(dims, [7, 8, 9]);
    }

    #[test]
    fn other_comments_are_not_records_and_damage_is_reported() {
        assert!(decode(b"FSL5.0").is_none());
        assert!(decode(&[0xff, 0xfe]).is_none());
        let bad = b"spinekit-exact-geometry 1\ndims 1 2 3\norigin_mm 0 0\n";
        assert!(decode(bad).unwrap().is_err());
    }

    #[test]
    fn agreement_tolerates_float32_rounding_but_not_a_shift() {
        let g = Geometry {
            origin_mm: [-800.3, 1200.7, -1500.1],
            spacing_mm: [0.7, 0.7, 1.25],
            direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        };
        let mut rounded = g;
        rounded.origin_mm = g.origin_mm.map(|v| v as f32 as f64);
        rounded.spacing_mm = g.spacing_mm.map(|v| v as f32 as f64);
        assert!(agrees_with_header(&g, &rounded));
        let mut shifted = g;
        shifted.origin_mm[2] += 0.01;
        assert!(!agrees_with_header(&g, &shifted));
    }
}
