//! Region properties and overlap scores.

use spinekit_image::{Volume, Voxel};

/// Size, position and extent of one labelled region.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionProps {
    pub label: u32,
    pub voxels: usize,
    pub volume_mm3: f64,
    /// Mean voxel-centre position in LPS mm.
    pub centroid_mm: [f64; 3],
    /// Inclusive voxel-index bounding box.
    pub bbox_lo: [usize; 3],
    pub bbox_hi: [usize; 3],
}

/// Running sums per label: voxel count, index sum, bbox low, bbox high.
type Acc = (usize, [f64; 3], [usize; 3], [usize; 3]);

/// Properties of every nonzero label present in `labels`, sorted by label.
pub fn region_props<T: Voxel>(labels: &Volume<T>) -> Vec<RegionProps> {
    let [ni, nj, nk] = labels.dims();
    let mut acc: std::collections::BTreeMap<u32, Acc> = Default::default();
    let d = labels.data();
    for k in 0..nk {
        for j in 0..nj {
            for i in 0..ni {
                let v = d[i + ni * (j + nj * k)].to_f64();
                if v <= 0.0 || !v.is_finite() {
                    continue;
                }
                let e = acc
                    .entry(v as u32)
                    .or_insert((0, [0.0; 3], [usize::MAX; 3], [0; 3]));
                e.0 += 1;
                let p = [i, j, k];
                for (a, &pa) in p.iter().enumerate() {
                    e.1[a] += pa as f64;
                    e.2[a] = e.2[a].min(pa);
                    e.3[a] = e.3[a].max(pa);
                }
            }
        }
    }
    let g = labels.geometry();
    let vox_mm3: f64 = g.spacing_mm.iter().product();
    acc.into_iter()
        .map(|(label, (n, s, lo, hi))| {
            let c = [s[0] / n as f64, s[1] / n as f64, s[2] / n as f64];
            RegionProps {
                label,
                voxels: n,
                volume_mm3: n as f64 * vox_mm3,
                centroid_mm: g.index_to_world(c),
                bbox_lo: lo,
                bbox_hi: hi,
            }
        })
        .collect()
}

/// Dice overlap of two masks (nonzero = inside); `None` when both are empty or the grids differ in size.
pub fn dice(a: &Volume<u8>, b: &Volume<u8>) -> Option<f64> {
    if a.dims() != b.dims() {
        return None;
    }
    overlap(
        a.data()
            .iter()
            .zip(b.data())
            .map(|(&x, &y)| (x != 0, y != 0)),
    )
}

/// Dice of label `la` in `a` against label `lb` in `b` (same grid size); `None` when both are absent.
pub fn dice_labels<T: Voxel + PartialEq, U: Voxel + PartialEq>(
    a: &Volume<T>,
    la: T,
    b: &Volume<U>,
    lb: U,
) -> Option<f64> {
    if a.dims() != b.dims() {
        return None;
    }
    overlap(
        a.data()
            .iter()
            .zip(b.data())
            .map(|(&x, &y)| (x == la, y == lb)),
    )
}

fn overlap(pairs: impl Iterator<Item = (bool, bool)>) -> Option<f64> {
    let (mut both, mut na, mut nb) = (0usize, 0usize, 0usize);
    for (x, y) in pairs {
        na += usize::from(x);
        nb += usize::from(y);
        both += usize::from(x && y);
    }
    (na + nb > 0).then(|| 2.0 * both as f64 / (na + nb) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinekit_image::Geometry;

    #[test]
    fn props_and_dice() {
        let mut g = Geometry::identity([2.0, 1.0, 3.0]);
        g.origin_mm = [10.0, 0.0, -5.0];
        let mut v = Volume::<u8>::zeros([4, 4, 4], g).unwrap();
        v.set(1, 1, 1, 3);
        v.set(2, 1, 1, 3);
        v.set(0, 3, 2, 7);
        let p = region_props(&v);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].label, 3);
        assert_eq!(p[0].voxels, 2);
        assert_eq!(p[0].centroid_mm, [13.0, 1.0, -2.0]);
        assert_eq!(p[0].bbox_lo, [1, 1, 1]);
        assert_eq!(p[0].bbox_hi, [2, 1, 1]);
        assert_eq!(p[0].volume_mm3, 12.0);
        assert_eq!(p[1].centroid_mm, [10.0, 3.0, 1.0]);
        let mut w = v.clone();
        w.set(2, 1, 1, 0);
        assert_eq!(dice_labels(&v, 3, &w, 3), Some(2.0 / 3.0));
        assert_eq!(dice_labels(&v, 9, &w, 9), None);
        let a = v.map(|x| u8::from(x != 0));
        assert_eq!(dice(&a, &a), Some(1.0));
    }
}
