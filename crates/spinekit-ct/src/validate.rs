//! Refuses input that is not a CT the engine can read, before any work is done.

use crate::CtError;
use spinekit_image::Volume;

/// Thinnest slab (mm) worth segmenting: about one vertebral body height.
pub const MIN_EXTENT_MM: f64 = 30.0;

/// Checks size and that the value distribution looks like Hounsfield units (air near −1000 and a fat peak,
/// or at least soft tissue below zero). MR has no negative values and no air at −1000.
pub fn validate_ct(ct: &Volume<i16>) -> Result<(), CtError> {
    let d = ct.dims();
    let sp = ct.geometry().spacing_mm;
    let extent = (0..3)
        .map(|a| d[a] as f64 * sp[a])
        .fold(f64::INFINITY, f64::min);
    if d.iter().any(|&n| n < 3) || extent < MIN_EXTENT_MM {
        return Err(CtError::TooThin {
            extent_mm: extent,
            min_mm: MIN_EXTENT_MM,
        });
    }
    let data = ct.data();
    let step = (data.len() / 2_000_000).max(1);
    let (mut n, mut air, mut fat, mut neg, mut hi) = (0usize, 0usize, 0usize, 0usize, 0usize);
    let (mut lo_v, mut hi_v) = (i16::MAX, i16::MIN);
    for &v in data.iter().step_by(step) {
        n += 1;
        lo_v = lo_v.min(v);
        hi_v = hi_v.max(v);
        air += usize::from(v <= -850);
        fat += usize::from((-150..=-50).contains(&v));
        neg += usize::from(v < -50);
        hi += usize::from(v >= 150);
    }
    if lo_v == hi_v {
        return Err(CtError::Empty);
    }
    let f = |c: usize| c as f64 / n as f64;
    if lo_v >= -100 {
        return Err(CtError::NotCt(format!(
            "lowest value {lo_v}, but CT has air at about −1000 HU"
        )));
    }
    if f(air) < 0.002 && f(fat) < 0.005 {
        return Err(CtError::NotCt(format!(
            "only {:.2} % of voxels are air (≤ −850 HU) and {:.2} % fat (−150…−50 HU)",
            100.0 * f(air),
            100.0 * f(fat)
        )));
    }
    if f(neg) > 0.995 || f(hi) < 1e-5 {
        return Err(CtError::NoSpine(
            "no voxel dense enough to be bone (≥ 150 HU)".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinekit_image::Geometry;

    fn vol(dims: [usize; 3], sp: [f64; 3], f: impl Fn(usize) -> i16) -> Volume<i16> {
        let n = dims.iter().product();
        Volume::from_vec(dims, Geometry::identity(sp), (0..n).map(f).collect()).unwrap()
    }

    #[test]
    fn refuses_thin_empty_and_mr_like_volumes() {
        let single = vol([64, 64, 1], [1.0; 3], |i| (i % 2000) as i16 - 1000);
        assert!(matches!(validate_ct(&single), Err(CtError::TooThin { .. })));
        let slab = vol([64, 64, 5], [1.0, 1.0, 2.0], |i| (i % 2000) as i16 - 1000);
        assert!(matches!(validate_ct(&slab), Err(CtError::TooThin { .. })));
        let flat = vol([40, 40, 40], [1.0; 3], |_| -1000);
        assert_eq!(validate_ct(&flat), Err(CtError::Empty));
        let mr = vol([40, 40, 40], [1.0; 3], |i| (i % 1500) as i16);
        assert!(matches!(validate_ct(&mr), Err(CtError::NotCt(_))));
        let ct = vol([40, 40, 40], [1.0; 3], |i| [-1000i16, -100, 40, 400][i % 4]);
        assert_eq!(validate_ct(&ct), Ok(()));
    }
}
