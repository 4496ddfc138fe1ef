//! Hole filling: background not reachable from the border becomes foreground.

use rayon::prelude::*;
use spinekit_image::Volume;

/// Fills 3D holes: background regions (6-connected) that do not touch the volume's border.
pub fn fill_holes_3d(mask: &Volume<u8>) -> Volume<u8> {
    fill_holes_3d_from(mask, true)
}

/// Fills 3D holes open only through the first or last slice (k = 0 or k = nk − 1): those faces are where the
/// field of view cut the body, not the outside, so marrow inside a bone cut by the scan's end (a sacrum or a
/// vertebra at the edge of the range) still counts as enclosed. Background reached from the i/j faces is outside.
pub fn fill_holes_3d_cut_ends(mask: &Volume<u8>) -> Volume<u8> {
    fill_holes_3d_from(mask, false)
}

fn fill_holes_3d_from(mask: &Volume<u8>, k_faces_outside: bool) -> Volume<u8> {
    let [ni, nj, nk] = mask.dims();
    let d = mask.data();
    // 1 = foreground, 2 = background reached from outside.
    let mut st: Vec<u8> = d.iter().map(|&v| u8::from(v != 0)).collect();
    let mut stack = Vec::new();
    let push = |st: &mut Vec<u8>, stack: &mut Vec<usize>, p: usize| {
        if st[p] == 0 {
            st[p] = 2;
            stack.push(p);
        }
    };
    for k in 0..nk {
        for j in 0..nj {
            for i in 0..ni {
                let k_face = k_faces_outside && (k == 0 || k == nk - 1);
                if i == 0 || j == 0 || i == ni - 1 || j == nj - 1 || k_face {
                    push(&mut st, &mut stack, i + ni * (j + nj * k));
                }
            }
        }
    }
    while let Some(p) = stack.pop() {
        let (i, j, k) = (p % ni, (p / ni) % nj, p / (ni * nj));
        if i > 0 {
            push(&mut st, &mut stack, p - 1);
        }
        if i + 1 < ni {
            push(&mut st, &mut stack, p + 1);
        }
        if j > 0 {
            push(&mut st, &mut stack, p - ni);
        }
        if j + 1 < nj {
            push(&mut st, &mut stack, p + ni);
        }
        if k > 0 {
            push(&mut st, &mut stack, p - ni * nj);
        }
        if k + 1 < nk {
            push(&mut st, &mut stack, p + ni * nj);
        }
    }
    let data = st.iter().map(|&s| u8::from(s != 2)).collect();
    Volume::from_vec(mask.dims(), *mask.geometry(), data).expect("same dims")
}

/// Fills 2D holes in every slice k (4-connected background not touching the slice's border), in parallel.
pub fn fill_holes_2d(mask: &Volume<u8>) -> Volume<u8> {
    let [ni, nj, _] = mask.dims();
    let plane = ni * nj;
    let mut out = vec![0u8; mask.len()];
    out.par_chunks_mut(plane)
        .zip(mask.data().par_chunks(plane))
        .for_each(|(o, s)| {
            let mut st: Vec<u8> = s.iter().map(|&v| u8::from(v != 0)).collect();
            let mut stack = Vec::new();
            for j in 0..nj {
                for i in 0..ni {
                    if (i == 0 || j == 0 || i == ni - 1 || j == nj - 1) && st[i + j * ni] == 0 {
                        st[i + j * ni] = 2;
                        stack.push(i + j * ni);
                    }
                }
            }
            while let Some(p) = stack.pop() {
                let (i, j) = (p % ni, p / ni);
                let mut nb = [usize::MAX; 4];
                if i > 0 {
                    nb[0] = p - 1;
                }
                if i + 1 < ni {
                    nb[1] = p + 1;
                }
                if j > 0 {
                    nb[2] = p - ni;
                }
                if j + 1 < nj {
                    nb[3] = p + ni;
                }
                for q in nb {
                    if q != usize::MAX && st[q] == 0 {
                        st[q] = 2;
                        stack.push(q);
                    }
                }
            }
            for (a, b) in o.iter_mut().zip(&st) {
                *a = u8::from(*b != 2);
            }
        });
    Volume::from_vec(mask.dims(), *mask.geometry(), out).expect("same dims")
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinekit_image::Geometry;

    /// A hollow box: a 2D hole in the middle slices, a 3D hole overall; an open-topped cup has no 3D hole.
    #[test]
    fn fills_enclosed_cavities_only() {
        let mut m = Volume::<u8>::zeros([7, 7, 7], Geometry::default()).unwrap();
        for k in 1..6 {
            for j in 1..6 {
                for i in 1..6 {
                    let shell = i == 1 || i == 5 || j == 1 || j == 5 || k == 1 || k == 5;
                    m.set(i, j, k, u8::from(shell));
                }
            }
        }
        let f3 = fill_holes_3d(&m);
        assert_eq!(f3.get(3, 3, 3), 1);
        assert_eq!(f3.data().iter().filter(|&&v| v != 0).count(), 125);
        let f2 = fill_holes_2d(&m);
        assert_eq!(f2.get(3, 3, 3), 1, "ring in slice 3 encloses its centre");
        // Open the lid: the 3D hole drains, the 2D holes of the ring slices stay filled.
        m.set(3, 3, 5, 0);
        let f3 = fill_holes_3d(&m);
        assert_eq!(f3.get(3, 3, 3), 0);
        assert_eq!(fill_holes_2d(&m).get(3, 3, 3), 1);
        assert_eq!(
            fill_holes_2d(&m).get(3, 3, 5),
            1,
            "the opening is enclosed within the lid slice"
        );
    }

    /// A tube along k cut by both ends of the volume: no 3D hole when the ends are outside, one when they are the
    /// field of view's cut; a side opening drains it either way.
    #[test]
    fn cut_ends_are_not_outside() {
        let mut m = Volume::<u8>::zeros([7, 7, 5], Geometry::default()).unwrap();
        for k in 0..5 {
            for j in 1..6 {
                for i in 1..6 {
                    m.set(i, j, k, u8::from(i == 1 || i == 5 || j == 1 || j == 5));
                }
            }
        }
        assert_eq!(fill_holes_3d(&m).get(3, 3, 2), 0);
        let cut = fill_holes_3d_cut_ends(&m);
        assert_eq!(cut.get(3, 3, 0), 1);
        assert_eq!(cut.get(3, 3, 2), 1);
        assert_eq!(cut.get(0, 0, 2), 0, "the i/j faces stay outside");
        m.set(1, 3, 2, 0);
        assert_eq!(fill_holes_3d_cut_ends(&m).get(3, 3, 2), 0);
    }
}
