//! Canal cross-sections perpendicular to the canal axis.

use crate::geom::*;
use crate::types::*;
use spinekit_anatomy::{Level, Region};
use spinekit_image::Volume;

/// Largest normal osseous canal AP diameter: "Normal 15–23/27 mm" (clinical-reference §5.1, S46). A wider section
/// is not a wide canal but a canal map that is not closed there (at a disc level the rays find no bone in front);
/// it is reported as not measurable instead of as a number.
pub const OSSEOUS_AP_NORMAL_MAX_MM: f64 = 27.0;

/// Osseous canal AP diameter (mid-sagittal): < 12 mm relative, < 10 mm absolute stenosis (Verbiest criteria as
/// used in the Framingham CT study; clinical-reference §5.1, S46).
pub const OSSEOUS_AP_RELATIVE_MM: f64 = 12.0;
pub const OSSEOUS_AP_ABSOLUTE_MM: f64 = 10.0;
/// Dural sac cross-sectional area: < 100 mm² relative (Hamanishi 1994, S45), < 75 mm² absolute (Schönström,
/// unverified ✖ in clinical-reference §5.1).
pub const DURAL_AREA_RELATIVE_MM2: f64 = 100.0;
pub const DURAL_AREA_ABSOLUTE_MM2: f64 = 75.0;

/// Sampling step (mm) of the section plane.
const STEP_MM: f64 = 0.25;
/// Largest canal radius considered (mm).
const MAX_RADIUS_MM: f64 = 25.0;

/// Centroid of canal voxels within `radius` of `centre` and within ±`half_slab` of it along `axis`.
fn canal_centroid(
    canal: &Volume<u8>,
    centre: V3,
    axis: V3,
    half_slab: f64,
    radius: f64,
) -> Option<V3> {
    let g = canal.geometry();
    let (lo, hi) = index_box(g, canal.dims(), &box_corners(centre, radius));
    let mut sum = [0.0; 3];
    let mut n = 0usize;
    for k in lo[2]..=hi[2] {
        for j in lo[1]..=hi[1] {
            for i in lo[0]..=hi[0] {
                if canal.get(i, j, k) == 0 {
                    continue;
                }
                let w = g.index_to_world([i as f64, j as f64, k as f64]);
                let d = sub(w, centre);
                if dot(d, axis).abs() <= half_slab && norm(d) <= radius {
                    sum = add(sum, w);
                    n += 1;
                }
            }
        }
    }
    (n >= 3).then(|| scale(sum, 1.0 / n as f64))
}

/// Measures the canal near `guess` (a point in the canal region at the level), with the column axis `s` and the
/// body's posterior axis `p`.
pub fn section(
    canal: &Volume<u8>,
    kind: CanalMapKind,
    guess: V3,
    s: V3,
    p: V3,
    lumbar: bool,
) -> Result<CanalMeasure, String> {
    let c0 = canal_centroid(canal, guess, s, 2.0, 20.0)
        .ok_or("no canal voxels within 20 mm behind the vertebral body")?;
    // Canal axis from the canal centroids 4 mm above and below, if it stays within 30° of the column axis.
    let axis = match (
        canal_centroid(canal, add(c0, scale(s, 4.0)), s, 2.0, 20.0),
        canal_centroid(canal, add(c0, scale(s, -4.0)), s, 2.0, 20.0),
    ) {
        (Some(a), Some(b)) => unit(sub(a, b))
            .filter(|a| dot(*a, s) > 30f64.to_radians().cos())
            .unwrap_or(s),
        _ => s,
    };
    let e1 = unit(reject(p, axis)).ok_or("canal axis parallel to the AP axis")?;
    let e2 = cross(axis, e1);
    let m = MaskView::new(canal, None);
    // Flood fill on the plane grid from the sample nearest to the centroid that lies inside.
    let r = (MAX_RADIUS_MM / STEP_MM) as isize;
    let w = (2 * r + 1) as usize;
    let pt = |a: isize, b: isize| {
        at(
            c0,
            e1,
            a as f64 * STEP_MM,
            e2,
            b as f64 * STEP_MM,
            axis,
            0.0,
        )
    };
    let mut inside = vec![0u8; w * w]; // 0 unknown, 1 in, 2 out
    let id = |a: isize, b: isize| (a + r) as usize + w * (b + r) as usize;
    let seed = (0..=8isize)
        .flat_map(|d| (-d..=d).flat_map(move |a| (-d..=d).map(move |b| (a, b))))
        .find(|&(a, b)| m.inside(pt(a, b)))
        .ok_or("the canal centroid is not inside the canal (irregular canal)")?;
    let mut stack = vec![seed];
    inside[id(seed.0, seed.1)] = 1;
    let mut count = 0usize;
    let mut sum = (0.0, 0.0);
    let mut touches_edge = false;
    while let Some((a, b)) = stack.pop() {
        count += 1;
        sum.0 += a as f64;
        sum.1 += b as f64;
        for (da, db) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
            let (na, nb) = (a + da, b + db);
            if na.abs() > r || nb.abs() > r {
                touches_edge = true;
                continue;
            }
            let k = id(na, nb);
            if inside[k] != 0 {
                continue;
            }
            if m.inside(pt(na, nb)) {
                inside[k] = 1;
                stack.push((na, nb));
            } else {
                inside[k] = 2;
            }
        }
    }
    if touches_edge {
        return Err(format!(
            "the canal region reaches {MAX_RADIUS_MM} mm from its centre (not closed)"
        ));
    }
    let area = count as f64 * STEP_MM * STEP_MM;
    let cc = at(
        c0,
        e1,
        sum.0 / count as f64 * STEP_MM,
        e2,
        sum.1 / count as f64 * STEP_MM,
        axis,
        0.0,
    );
    let chord = |d: V3| -> Option<f64> {
        let q = if m.inside(cc) { cc } else { return None };
        Some(
            m.exit_mm(q, d, 2.0 * MAX_RADIUS_MM)?
                + m.exit_mm(q, scale(d, -1.0), 2.0 * MAX_RADIUS_MM)?,
        )
    };
    let ap =
        chord(e1).ok_or("the canal's area centroid lies outside it (crescent-shaped section)")?;
    let tr =
        chord(e2).ok_or("the canal's area centroid lies outside it (crescent-shaped section)")?;
    if ap > OSSEOUS_AP_NORMAL_MAX_MM {
        return Err(format!(
            "the canal section measured {ap:.1} mm AP, wider than the normal maximum of \
             {OSSEOUS_AP_NORMAL_MAX_MM} mm (clinical-reference §5.1, S46): the canal map is not bounded here"
        ));
    }
    let (ap_flag, area_flag, thresholds) = match (kind, lumbar) {
        (_, false) => (
            StenosisFlag::NotApplicable,
            StenosisFlag::NotApplicable,
            "stenosis thresholds of clinical-reference §5.1 are lumbar; none applied at this level".to_string(),
        ),
        (CanalMapKind::OsseousCanal, true) => (
            if ap < OSSEOUS_AP_ABSOLUTE_MM {
                StenosisFlag::Absolute
            } else if ap < OSSEOUS_AP_RELATIVE_MM {
                StenosisFlag::Relative
            } else {
                StenosisFlag::None
            },
            StenosisFlag::NotApplicable,
            format!(
                "osseous canal AP < {OSSEOUS_AP_RELATIVE_MM} mm relative, < {OSSEOUS_AP_ABSOLUTE_MM} mm absolute \
                 (Verbiest criteria, Framingham CT study; clinical-reference §5.1, S46). The area is of the canal's \
                 soft-tissue content, not the dural sac, so the dural-sac area thresholds (100/75 mm²) are not applied"
            ),
        ),
        (CanalMapKind::DuralSac, true) => (
            StenosisFlag::NotApplicable,
            if area < DURAL_AREA_ABSOLUTE_MM2 {
                StenosisFlag::Absolute
            } else if area < DURAL_AREA_RELATIVE_MM2 {
                StenosisFlag::Relative
            } else {
                StenosisFlag::None
            },
            format!(
                "dural sac area < {DURAL_AREA_RELATIVE_MM2} mm² relative (Hamanishi 1994, S45), < \
                 {DURAL_AREA_ABSOLUTE_MM2} mm² absolute (Schönström, unverified); clinical-reference §5.1. The \
                 osseous AP thresholds do not apply to a dural-sac map"
            ),
        ),
    };
    Ok(CanalMeasure {
        ap_diameter_mm: ap,
        transverse_diameter_mm: tr,
        area_mm2: area,
        centre_mm: cc,
        axis,
        ap_flag,
        area_flag,
        thresholds,
        method: format!(
            "section perpendicular to the local canal axis (through the canal centroids 4 mm above and below; \
             the column axis if they disagree by > 30°), sampled every {STEP_MM} mm with the canal map \
             interpolated trilinearly (0.5 level); area = the connected region around the canal centroid; AP and \
             transverse diameters = chords through the area centroid along the body's AP axis and perpendicular to it"
        ),
    })
}

/// Whether the lumbar stenosis thresholds apply at a level (lumbar bodies and discs from L1 down).
pub fn lumbar(level: Level) -> bool {
    matches!(level.region(), Region::Lumbar | Region::Sacral)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinekit_image::Geometry;

    #[test]
    fn oblique_cylinder_section_is_the_true_ellipse() {
        // A canal of elliptic section 16 (AP) × 22 (LR) mm along an axis tilted 30° in the sagittal plane,
        // on a 0.6 × 0.6 × 1.2 mm grid: the perpendicular section is the ellipse, not the longer axial cut.
        let geom = Geometry {
            origin_mm: [-30.0, -30.0, -30.0],
            spacing_mm: [0.6, 0.6, 1.2],
            ..Geometry::identity([1.0; 3])
        };
        let dims = [100, 100, 50];
        let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
        let axis = [0.0, s, c];
        let e1 = [0.0, c, -s];
        let mut v = Volume::<u8>::zeros(dims, geom).unwrap();
        for k in 0..dims[2] {
            for j in 0..dims[1] {
                for i in 0..dims[0] {
                    let w = geom.index_to_world([i as f64, j as f64, k as f64]);
                    let (a, b) = (dot(w, e1), w[0]);
                    if (a / 8.0).powi(2) + (b / 11.0).powi(2) <= 1.0 {
                        v.set(i, j, k, 1);
                    }
                }
            }
        }
        let m = section(
            &v,
            CanalMapKind::DuralSac,
            [0.0, 0.0, 0.0],
            [0.0, 0.0, 1.0],
            [0.0, 1.0, 0.0],
            true,
        )
        .unwrap();
        assert!(
            (m.ap_diameter_mm - 16.0).abs() < 0.8,
            "{}",
            m.ap_diameter_mm
        );
        assert!(
            (m.transverse_diameter_mm - 22.0).abs() < 0.8,
            "{}",
            m.transverse_diameter_mm
        );
        let want = std::f64::consts::PI * 8.0 * 11.0;
        assert!((m.area_mm2 - want).abs() < 0.05 * want, "{}", m.area_mm2);
        assert!(dot(m.axis, axis) > 0.995);
        assert_eq!(m.area_flag, StenosisFlag::None);
        assert_eq!(m.ap_flag, StenosisFlag::NotApplicable);
    }

    #[test]
    fn a_section_wider_than_any_normal_canal_is_not_reported() {
        // A round "canal" 32 mm across (above the 27 mm normal maximum): an unbounded map, not a measurement.
        let geom = Geometry {
            origin_mm: [-30.0, -30.0, -10.0],
            ..Geometry::identity([1.0; 3])
        };
        let dims = [61, 61, 21];
        let mut v = Volume::<u8>::zeros(dims, geom).unwrap();
        for k in 0..dims[2] {
            for j in 0..dims[1] {
                for i in 0..dims[0] {
                    let w = geom.index_to_world([i as f64, j as f64, k as f64]);
                    if w[0].hypot(w[1]) <= 16.0 {
                        v.set(i, j, k, 1);
                    }
                }
            }
        }
        let e = section(
            &v,
            CanalMapKind::OsseousCanal,
            [0.0, 0.0, 0.0],
            [0.0, 0.0, 1.0],
            [0.0, 1.0, 0.0],
            true,
        )
        .unwrap_err();
        assert!(e.contains("normal maximum of 27 mm"), "{e}");
    }
}
