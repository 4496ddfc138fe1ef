//! Body outline and bone mask on the input grid; filling bone for the column trace.

use super::*;

/// The patient's body: largest region above −400 HU after a 4 mm opening (cuts the table and blankets off),
/// holes filled per slice.
pub(super) fn body_mask(cti: &Volume<i16>) -> Volume<u8> {
    let m = morph::threshold(cti, -400.0, f64::INFINITY);
    let m = morph::open_mm(&m, 4.0);
    let m = morph::largest_component(&m, morph::Connectivity::Six);
    morph::fill_holes_2d(&m)
}

/// Rim (mm) around a dense non-bone structure whose faint voxels are its partial volume, not marrow: one 3 mm voxel.
pub(super) const DENSE_RIM_MM: f64 = 3.0;

/// Bone on the input grid: 6-connected regions ≥ the threshold that are large enough, partly cortical
/// (≥ `cortex_hu`) and mostly inside the body.
pub(super) fn bone_mask(ct: &Volume<i16>, body: &Volume<u8>, opts: &SegmentOptions) -> BoneResult {
    let thr = opts.bone_threshold_hu;
    let m = morph::threshold(ct, thr, f64::INFINITY);
    let comps = morph::label_components(&m, morph::Connectivity::Six);
    let nc = comps.sizes.len();
    let g = ct.geometry();
    let vox_mm3: f64 = g.spacing_mm.iter().product();
    // Input index → body-grid index.
    let bg = body.geometry();
    let map = |p: [usize; 3]| -> Option<usize> {
        let w = g.index_to_world([p[0] as f64, p[1] as f64, p[2] as f64]);
        let q = bg.world_to_index(w);
        let bd = body.dims();
        let r: [usize; 3] = std::array::from_fn(|a| q[a].round().max(0.0) as usize);
        (0..3)
            .all(|a| r[a] < bd[a])
            .then(|| body.index(r[0], r[1], r[2]))
    };
    let [ni, nj, nk] = ct.dims();
    let plane = ni * nj;
    let cortex = opts.cortex_hu as i16;
    let max_v = ct.data().iter().copied().max().unwrap_or(0);
    // Per slice partial sums, merged: (dense, inside, at_max) per component.
    let per_slice: Vec<Vec<(u32, u32, u32, u32)>> = (0..nk)
        .into_par_iter()
        .map(|k| {
            let mut acc: Vec<(u32, u32, u32, u32)> = Vec::new();
            let mut touched = std::collections::HashMap::<u32, usize>::new();
            for j in 0..nj {
                for i in 0..ni {
                    let idx = i + ni * j + plane * k;
                    let l = comps.labels[idx];
                    if l == 0 {
                        continue;
                    }
                    let slot = *touched.entry(l).or_insert_with(|| {
                        acc.push((l, 0, 0, 0));
                        acc.len() - 1
                    });
                    let v = ct.data()[idx];
                    acc[slot].1 += u32::from(v >= cortex);
                    acc[slot].2 += u32::from(map([i, j, k]).is_some_and(|b| body.data()[b] != 0));
                    acc[slot].3 += u32::from(v == max_v);
                }
            }
            acc
        })
        .collect();
    let mut dense = vec![0u64; nc];
    let mut inside = vec![0u64; nc];
    let mut at_max = vec![0u64; nc];
    for s in per_slice {
        for (l, d, ins, mx) in s {
            dense[l as usize] += d as u64;
            inside[l as usize] += ins as u64;
            at_max[l as usize] += mx as u64;
        }
    }
    let mut keep = vec![false; nc];
    let mut dense_non_bone = 0.0;
    let (mut bone_vox, mut bone_max) = (0u64, 0u64);
    for l in 1..nc {
        let n = comps.sizes[l] as f64;
        let in_body = inside[l] as f64 / n >= 0.5;
        let big = n * vox_mm3 >= 30.0;
        let cortical = dense[l] as f64 / n >= 0.05;
        keep[l] = big && in_body && cortical;
        if keep[l] {
            bone_vox += comps.sizes[l] as u64;
            bone_max += at_max[l];
        } else if big && in_body {
            dense_non_bone += n * vox_mm3;
        }
    }
    let dense: Vec<bool> = (0..nc)
        .map(|l| {
            l > 0
                && !keep[l]
                && comps.sizes[l] as f64 * vox_mm3 >= NON_CORTICAL_MIN_ML * 1000.0
                && inside[l] as f64 / comps.sizes[l] as f64 >= 0.5
        })
        .collect();
    let mut data: Vec<u8> = comps
        .labels
        .par_iter()
        .map(|&l| u8::from(keep[l as usize]))
        .collect();
    let mut dense_data: Vec<u8> = comps
        .labels
        .par_iter()
        .map(|&l| u8::from(dense[l as usize]))
        .collect();
    drop(comps);
    // A contrast-filled vessel or organ touching a bone shares its component at the threshold: split the accepted
    // bone at its thin contacts (one-voxel erosion) and take out the large parts without cortex.
    // Only where contrast shows elsewhere in the scan (a contrast-filled vessel rarely touches bone everywhere):
    // the split costs an erosion and a labelling of the whole input grid.
    if dense_non_bone / 1000.0 >= CONTRAST_FINDING_ML {
        let split_ml = split_non_cortical(ct, &mut data, &mut dense_data, cortex);
        dense_non_bone += split_ml * 1000.0;
    }
    let metal = ct.data().par_iter().filter(|&&v| v >= 2500).count() as f64 * vox_mm3;
    BoneResult {
        bone: Volume::from_vec(ct.dims(), *g, data).expect("same dims"),
        dense_non_bone: Volume::from_vec(ct.dims(), *g, dense_data).expect("same dims"),
        dense_non_bone_ml: dense_non_bone / 1000.0,
        metal_ml: metal / 1000.0,
        clipped: max_v < 2000 && bone_vox > 0 && bone_max as f64 / bone_vox as f64 > 0.01,
        noise_hu: 0.0,
    }
}

/// Dense non-bone volume (ml) from which contrast (or dense soft tissue) is reported, and the split of bone from
/// touching contrast-filled structures is tried.
pub(super) const CONTRAST_FINDING_ML: f64 = 20.0;

/// Least volume (ml) of a bone-threshold region without cortex that is treated as contrast (a segment of an
/// enhancing aorta or organ): it is taken out of accepted bone where it touches it, and kept out of the column
/// analysis. Smaller faint pieces are left alone: in elderly bone a marrow region of a few ml can lose its contact
/// with the thin cortex at the threshold.
pub(super) const NON_CORTICAL_MIN_ML: f64 = 10.0;

/// Removes from `bone` the parts that separate after a one-voxel (6-neighbour) erosion and that, together with
/// the one-voxel rim the erosion took from them (where a bone's cortex lies), are large (≥ `NON_CORTICAL_MIN_ML`)
/// with under 5 % of voxels at cortical density; they are marked in `dense`. Returns the volume removed (ml).
pub(super) fn split_non_cortical(
    ct: &Volume<i16>,
    bone: &mut [u8],
    dense: &mut [u8],
    cortex: i16,
) -> f64 {
    let [ni, nj, nk] = ct.dims();
    let plane = ni * nj;
    let vox_ml = ct.geometry().spacing_mm.iter().product::<f64>() / 1000.0;
    let inner = |m: &[u8], q: usize| -> bool {
        let (i, j, k) = (q % ni, (q / ni) % nj, q / plane);
        m[q] != 0
            && i > 0
            && i + 1 < ni
            && j > 0
            && j + 1 < nj
            && k > 0
            && k + 1 < nk
            && m[q - 1] != 0
            && m[q + 1] != 0
            && m[q - ni] != 0
            && m[q + ni] != 0
            && m[q - plane] != 0
            && m[q + plane] != 0
    };
    let eroded: Vec<u8> = (0..bone.len())
        .into_par_iter()
        .map(|q| u8::from(inner(bone, q)))
        .collect();
    let er = Volume::from_vec(ct.dims(), *ct.geometry(), eroded).expect("same dims");
    let comps = morph::label_components(&er, morph::Connectivity::Six);
    drop(er);
    let nc = comps.sizes.len();
    // Each bone voxel's part: its own eroded component, or that of a 6-neighbour (the rim the erosion took, where
    // a bone's cortex lies).
    let part = |q: usize| -> u32 {
        let l = comps.labels[q];
        if l != 0 {
            return l;
        }
        let (i, j, k) = (q % ni, (q / ni) % nj, q / plane);
        let mut nb = [0u32; 6];
        if i > 0 {
            nb[0] = comps.labels[q - 1];
        }
        if i + 1 < ni {
            nb[1] = comps.labels[q + 1];
        }
        if j > 0 {
            nb[2] = comps.labels[q - ni];
        }
        if j + 1 < nj {
            nb[3] = comps.labels[q + ni];
        }
        if k > 0 {
            nb[4] = comps.labels[q - plane];
        }
        if k + 1 < nk {
            nb[5] = comps.labels[q + plane];
        }
        nb.into_iter().find(|&x| x != 0).unwrap_or(0)
    };
    // Counts per part, slice by slice (no per-voxel part map: it would cost four bytes a voxel).
    let (total, dense_count) = (0..nk)
        .into_par_iter()
        .fold(
            || (vec![0u64; nc], vec![0u64; nc]),
            |(mut t, mut d), k| {
                for (q, &b) in bone.iter().enumerate().skip(k * plane).take(plane) {
                    if b != 0 {
                        let l = part(q) as usize;
                        if l != 0 {
                            t[l] += 1;
                            d[l] += u64::from(ct.data()[q] >= cortex);
                        }
                    }
                }
                (t, d)
            },
        )
        .reduce(
            || (vec![0u64; nc], vec![0u64; nc]),
            |(mut t, mut d), (t2, d2)| {
                for l in 0..nc {
                    t[l] += t2[l];
                    d[l] += d2[l];
                }
                (t, d)
            },
        );
    let bad: Vec<bool> = (0..nc)
        .map(|l| {
            l > 0
                && total[l] as f64 * vox_ml >= NON_CORTICAL_MIN_ML
                && (dense_count[l] as f64) < 0.05 * total[l] as f64
        })
        .collect();
    if !bad.iter().any(|&b| b) {
        return 0.0;
    }
    let remove: Vec<usize> = (0..bone.len())
        .into_par_iter()
        .filter(|&q| bone[q] != 0 && bad[part(q) as usize])
        .collect();
    for &q in &remove {
        bone[q] = 0;
        dense[q] = 1;
    }
    remove.len() as f64 * vox_ml
}

/// Marrow filled: per-slice closing (in plane only), then the holes enclosed in the slice that are not fluid
/// (≥ 50 HU, so that the spinal canal inside a closed neural arch stays empty), and every hole enclosed in 3D
/// whatever its density: osteoporotic or fatty marrow (trabecular HU down to and below 0, clinical-reference §2)
/// is as faint as the canal's content, but it is walled in by cortex and endplates, while the canal opens at the
/// foramina and the interlaminar gaps. The first and last slices are where the scan cut the body, not the outside:
/// a sacrum or vertebra cut by the field of view keeps its marrow.
pub(super) fn fill_bone(bone: &Volume<u8>, cti: &Volume<i16>) -> Volume<u8> {
    let mut flat = bone.clone();
    let mut g = *bone.geometry();
    let r = 3.0f64.max(1.5 * g.spacing_mm[0].max(g.spacing_mm[1]));
    g.spacing_mm[2] = 1e4; // the ball does not reach the next slice: a 2D closing
    flat.set_geometry(g).expect("valid geometry");
    let mut closed = morph::close_mm(&flat, r);
    closed
        .set_geometry(*bone.geometry())
        .expect("valid geometry");
    let holes = morph::fill_holes_2d(&closed);
    let closed_3d = morph::fill_holes_3d_cut_ends(&closed);
    let data: Vec<u8> = closed
        .data()
        .par_iter()
        .zip(holes.data().par_iter())
        .zip(closed_3d.data().par_iter())
        .zip(cti.data().par_iter())
        .map(|(((&c, &h), &h3), &hu)| u8::from(c != 0 || (h != 0 && (hu >= 50 || h3 != 0))))
        .collect();
    Volume::from_vec(bone.dims(), *bone.geometry(), data).expect("dims")
}

/// Largest loose bone piece (ml) in front of the column that is taken for a vessel's calcification, not vertebra.
const LOOSE_ANTERIOR_MAX_ML: f64 = 10.0;

/// Removes from the filled mask the bone pieces that lie in front of the vertebral bodies without touching the
/// column in the unclosed mask (calcified plaques in the aortic wall of older patients), together with the fill
/// they brought (the closing's bridges to the bodies and the lumen their ring encloses), so that the vertebrae
/// cannot grow into the aorta. Osteophytes grow from the endplate rims and touch their vertebra; they stay.
/// Returns the volume removed (ml).
pub(super) fn drop_loose_anterior_bone(
    filled: &mut Volume<u8>,
    analysis: &Volume<u8>,
    s: &Spine,
    sp: [f64; 3],
) -> f64 {
    let [ni, nj, nk] = analysis.dims();
    let plane = ni * nj;
    let vox_ml = sp.iter().product::<f64>() / 1000.0;
    let front_mm = s.depth_mm / 2.0;
    // Offset (mm) in front of the body centre: positive = anterior.
    let ahead = |q: usize| -> Option<f64> {
        let (j, k) = ((q / ni) % nj, q / plane);
        (s.k_lo..=s.k_hi)
            .contains(&k)
            .then(|| (s.centre[k][1] - j as f64) * sp[1])
    };
    let lateral = |q: usize| -> f64 {
        let (i, k) = (q % ni, (q / plane).clamp(s.k_lo, s.k_hi));
        (i as f64 - s.centre[k][0]).abs() * sp[0]
    };
    let comps = morph::label_components(analysis, morph::Connectivity::TwentySix);
    let n = comps.count();
    if n == 0 {
        return 0.0;
    }
    // Per component: voxels, summed offset ahead of the body centre, and whether it lies in the column's slices
    // and lateral band.
    let mut sum_ahead = vec![0.0f64; n + 1];
    let mut inside = vec![0usize; n + 1];
    for (q, &l) in comps.labels.iter().enumerate() {
        if l == 0 {
            continue;
        }
        if let Some(a) = ahead(q) {
            if lateral(q) <= 55.0 {
                sum_ahead[l as usize] += a;
                inside[l as usize] += 1;
            }
        }
    }
    let loose: Vec<bool> = (0..=n)
        .map(|l| {
            l > 0
                && inside[l] > 0
                && inside[l] == comps.sizes[l]
                && (comps.sizes[l] as f64) * vox_ml <= LOOSE_ANTERIOR_MAX_ML
                && sum_ahead[l] / inside[l] as f64 > front_mm + 2.0
        })
        .collect();
    if !loose.iter().any(|&b| b) {
        return 0.0;
    }
    // Flood from the loose pieces through the fill they brought (filled but not bone) that lies in front of the
    // bodies' front line.
    let f = filled.data_mut();
    let mut stack: Vec<usize> = Vec::new();
    let mut removed = 0usize;
    for (q, &l) in comps.labels.iter().enumerate() {
        if loose[l as usize] && f[q] != 0 {
            f[q] = 0;
            removed += 1;
            stack.push(q);
        }
    }
    let a = analysis.data();
    while let Some(q) = stack.pop() {
        let (i, j, k) = (q % ni, (q / ni) % nj, q / plane);
        for (ok, r) in [
            (i > 0, q.wrapping_sub(1)),
            (i + 1 < ni, q + 1),
            (j > 0, q.wrapping_sub(ni)),
            (j + 1 < nj, q + ni),
            (k > 0, q.wrapping_sub(plane)),
            (k + 1 < nk, q + plane),
        ] {
            if ok && f[r] != 0 && a[r] == 0 && ahead(r).is_some_and(|d| d > front_mm) {
                f[r] = 0;
                removed += 1;
                stack.push(r);
            }
        }
    }
    removed as f64 * vox_ml
}
