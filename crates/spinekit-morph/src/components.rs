//! Connected-component labelling (union–find, two passes) with component sizes.

use spinekit_image::Volume;

/// Which neighbours touch: faces only (6) or faces, edges and corners (26).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connectivity {
    Six,
    TwentySix,
}

/// Component labels (0 = background, 1..=count in order of first voxel in memory) and voxel counts.
#[derive(Debug, Clone)]
pub struct Components {
    pub labels: Vec<u32>,
    /// `sizes[l]` = voxels of component `l`; `sizes[0]` = 0.
    pub sizes: Vec<usize>,
}

impl Components {
    pub fn count(&self) -> usize {
        self.sizes.len() - 1
    }

    /// Label of the largest component (`None` when there is none).
    pub fn largest(&self) -> Option<u32> {
        (1..self.sizes.len())
            .max_by_key(|&l| (self.sizes[l], std::cmp::Reverse(l)))
            .map(|l| l as u32)
    }
}

fn find(p: &mut [u32], mut x: u32) -> u32 {
    while p[x as usize] != x {
        let gp = p[p[x as usize] as usize];
        p[x as usize] = gp;
        x = gp;
    }
    x
}

/// Labels the foreground (nonzero) voxels of `mask`.
pub fn label_components(mask: &Volume<u8>, conn: Connectivity) -> Components {
    let [ni, nj, nk] = mask.dims();
    let data = mask.data();
    // Backward neighbours (already visited in memory order).
    let offs: Vec<[isize; 3]> = match conn {
        Connectivity::Six => vec![[-1, 0, 0], [0, -1, 0], [0, 0, -1]],
        Connectivity::TwentySix => {
            let mut v = Vec::new();
            for dk in -1..=0isize {
                for dj in -1..=1isize {
                    for di in -1..=1isize {
                        if dk < 0 || dj < 0 || (dj == 0 && di < 0) {
                            v.push([di, dj, dk]);
                        }
                    }
                }
            }
            v
        }
    };
    // Provisional labels via union-find on first-seen ids.
    let mut lab = vec![0u32; data.len()];
    let mut parent: Vec<u32> = vec![0];
    for k in 0..nk {
        for j in 0..nj {
            for i in 0..ni {
                let idx = i + ni * (j + nj * k);
                if data[idx] == 0 {
                    continue;
                }
                let mut cur = 0u32;
                for o in &offs {
                    let (ii, jj, kk) = (i as isize + o[0], j as isize + o[1], k as isize + o[2]);
                    if ii < 0 || jj < 0 || kk < 0 || ii >= ni as isize || jj >= nj as isize {
                        continue;
                    }
                    let n = ii as usize + ni * (jj as usize + nj * kk as usize);
                    let l = lab[n];
                    if l == 0 {
                        continue;
                    }
                    if cur == 0 {
                        cur = find(&mut parent, l);
                    } else {
                        let (a, b) = (find(&mut parent, cur), find(&mut parent, l));
                        if a != b {
                            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                            parent[hi as usize] = lo;
                            cur = lo;
                        }
                    }
                }
                if cur == 0 {
                    cur = parent.len() as u32;
                    parent.push(cur);
                }
                lab[idx] = cur;
            }
        }
    }
    // Final consecutive labels in order of first appearance (roots are the smallest ids of their sets).
    let mut final_of = vec![0u32; parent.len()];
    let mut sizes = vec![0usize];
    for l in 1..parent.len() as u32 {
        let r = find(&mut parent, l);
        if r == l {
            sizes.push(0);
            final_of[l as usize] = (sizes.len() - 1) as u32;
        } else {
            final_of[l as usize] = final_of[r as usize];
        }
    }
    for v in lab.iter_mut() {
        if *v != 0 {
            *v = final_of[*v as usize];
            sizes[*v as usize] += 1;
        }
    }
    Components { labels: lab, sizes }
}

/// The largest connected component of `mask` (empty mask → empty result).
pub fn largest_component(mask: &Volume<u8>, conn: Connectivity) -> Volume<u8> {
    let c = label_components(mask, conn);
    let best = c.largest().unwrap_or(u32::MAX);
    let data = c.labels.iter().map(|&l| u8::from(l == best)).collect();
    Volume::from_vec(mask.dims(), *mask.geometry(), data).expect("same dims")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use spinekit_image::Geometry;

    /// Flood-fill reference.
    fn flood_count(mask: &Volume<u8>, conn: Connectivity) -> Vec<usize> {
        let [ni, nj, _] = mask.dims();
        let mut seen = vec![false; mask.len()];
        let mut sizes = Vec::new();
        for start in 0..mask.len() {
            if mask.data()[start] == 0 || seen[start] {
                continue;
            }
            let mut stack = vec![start];
            seen[start] = true;
            let mut n = 0;
            while let Some(p) = stack.pop() {
                n += 1;
                let (i, j, k) = (p % ni, (p / ni) % nj, p / (ni * nj));
                for dk in -1..=1isize {
                    for dj in -1..=1isize {
                        for di in -1..=1isize {
                            let manhattan = di.abs() + dj.abs() + dk.abs();
                            if manhattan == 0 || (conn == Connectivity::Six && manhattan > 1) {
                                continue;
                            }
                            let Some([a, b, c]) = mask.offset([i, j, k], [di, dj, dk]) else {
                                continue;
                            };
                            let q = mask.index(a, b, c);
                            if mask.data()[q] != 0 && !seen[q] {
                                seen[q] = true;
                                stack.push(q);
                            }
                        }
                    }
                }
            }
            sizes.push(n);
        }
        sizes
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn sizes_match_flood_fill(ni in 1usize..10, nj in 1usize..10, nk in 1usize..8,
                                  seed in any::<u64>(), density in 0.0f64..0.7, six in any::<bool>()) {
            let n = ni * nj * nk;
            let mut x = seed | 1;
            let data: Vec<u8> = (0..n).map(|_| {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                u8::from(((x >> 11) as f64 / (1u64 << 53) as f64) < density)
            }).collect();
            let m = Volume::from_vec([ni, nj, nk], Geometry::default(), data).unwrap();
            let conn = if six { Connectivity::Six } else { Connectivity::TwentySix };
            let c = label_components(&m, conn);
            let want = flood_count(&m, conn);
            prop_assert_eq!(&c.sizes[1..], &want[..]);
            // Same label ⇔ same flood component is implied by equal sizes in first-seen order plus this check:
            for (idx, &l) in c.labels.iter().enumerate() {
                prop_assert_eq!(l == 0, m.data()[idx] == 0);
            }
        }
    }

    #[test]
    fn diagonal_voxels_join_only_with_26() {
        let mut m = Volume::<u8>::zeros([3, 3, 3], Geometry::default()).unwrap();
        m.set(0, 0, 0, 1);
        m.set(1, 1, 1, 1);
        m.set(2, 2, 2, 1);
        assert_eq!(label_components(&m, Connectivity::Six).count(), 3);
        assert_eq!(label_components(&m, Connectivity::TwentySix).count(), 1);
        m.set(0, 2, 0, 1);
        m.set(0, 2, 1, 1);
        let lc = largest_component(&m, Connectivity::Six);
        assert_eq!(lc.data().iter().filter(|&&v| v != 0).count(), 2);
    }
}
