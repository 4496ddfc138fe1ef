//! Thick-slice reconstruction of a fine CT, as older archives and many routine studies store one.

use spinekit_image::Volume;

/// Each output slice is the mean of `n` consecutive input slices along the third index axis, centred where they
/// are (the origin moves half the stack up the slice axis; the direction cosines stay). Slices left over at the
/// end are dropped. `n` of 0 or 1, or more than the slices there are, returns a copy.
pub fn thick_slices(ct: &Volume<i16>, n: usize) -> Volume<i16> {
    let [ni, nj, nk] = ct.dims();
    if n <= 1 || n > nk {
        return ct.clone();
    }
    let plane = ni * nj;
    let nk2 = nk / n;
    let mut data = vec![0i16; plane * nk2];
    for (k2, out) in data.chunks_mut(plane).enumerate() {
        for (x, o) in out.iter_mut().enumerate() {
            let sum: i32 = (0..n)
                .map(|d| ct.data()[x + plane * (k2 * n + d)] as i32)
                .sum();
            *o = (sum as f64 / n as f64).round() as i16;
        }
    }
    let mut g = *ct.geometry();
    g.origin_mm = g.index_to_world([0.0, 0.0, (n as f64 - 1.0) / 2.0]);
    g.spacing_mm[2] *= n as f64;
    Volume::from_vec([ni, nj, nk2], g, data).expect("dims match the data")
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinekit_image::Geometry;

    #[test]
    fn averages_slices_and_keeps_them_where_they_were() {
        let g = Geometry::identity([0.8, 0.8, 1.0]);
        // Slice k holds the value 10·k.
        let data: Vec<i16> = (0..7).flat_map(|k| [10 * k as i16; 4]).collect();
        let v = Volume::from_vec([2, 2, 7], g, data).unwrap();
        let t = thick_slices(&v, 3);
        assert_eq!(t.dims(), [2, 2, 2]);
        assert_eq!(t.geometry().spacing_mm, [0.8, 0.8, 3.0]);
        // Slices 0–2 → mean 10 at the world position of slice 1; slices 3–5 → 40 at slice 4.
        assert_eq!(t.get(0, 0, 0), 10);
        assert_eq!(t.get(1, 1, 1), 40);
        let w0 = t.geometry().index_to_world([0.0, 0.0, 0.0]);
        let w1 = t.geometry().index_to_world([0.0, 0.0, 1.0]);
        assert!((w0[2] - v.geometry().index_to_world([0.0, 0.0, 1.0])[2]).abs() < 1e-9);
        assert!((w1[2] - v.geometry().index_to_world([0.0, 0.0, 4.0])[2]).abs() < 1e-9);
        assert_eq!(thick_slices(&v, 1), v);
    }
}
