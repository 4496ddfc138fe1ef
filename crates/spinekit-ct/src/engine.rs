//! The segmentation pipeline (see the crate documentation for the method).

use crate::numbering::{detect_ribs, name_levels, Naming, Ribs};
use crate::report::*;
use crate::validate::validate_ct;
use crate::CtError;
use rayon::prelude::*;
use spinekit_image::{
    reorient_to, resample_to_grid, Geometry, Interpolation, OrientationCode, Volume,
};
use spinekit_morph as morph;
use std::time::Instant;

/// Tunable parameters; the defaults suit adult CT.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentOptions {
    /// Coarsest voxel size (mm) the spine analysis runs at; finer inputs are resampled to it.
    pub internal_spacing_mm: f64,
    /// Bone threshold (HU); the manual IRCADb bone masks and common practice use about 180 HU.
    pub bone_threshold_hu: f64,
    /// Cortical density (HU) a bone region must partly reach; contrast-filled vessels do not.
    pub cortex_hu: f64,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        Self {
            internal_spacing_mm: 1.5,
            bone_threshold_hu: 180.0,
            cortex_hu: 400.0,
        }
    }
}

/// Receives (stage name, fraction done 0–1).
pub type Progress<'a> = Option<&'a (dyn Fn(&str, f32) + Sync)>;

/// Wall time of one pipeline stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageTime {
    pub stage: &'static str,
    pub ms: f64,
}

/// All outputs, on the input grid (same dims and geometry as the CT).
#[derive(Debug, Clone)]
pub struct Segmentation {
    /// All bone ≥ the bone threshold (1), marrow below it not included (IRCADb convention).
    pub bone: Volume<u8>,
    /// Whole vertebrae, VerSe labels (marrow filled).
    pub labels: Volume<u8>,
    /// Vertebral bodies, same labels.
    pub bodies: Volume<u8>,
    /// Discs: 100 + VerSe label of the vertebra above.
    pub discs: Volume<u8>,
    /// Spinal canal (1).
    pub canal: Volume<u8>,
    pub report: SpineReport,
    pub timings: Vec<StageTime>,
}

/// Segments and labels the spine in a CT (HU). See the crate documentation for the method.
pub fn segment(
    ct: &Volume<i16>,
    opts: &SegmentOptions,
    progress: Progress<'_>,
) -> Result<Segmentation, CtError> {
    let mut timer = Timer::new(progress);
    validate_ct(ct)?;
    timer.lap("validate", 0.02);

    // Internal grid: LPS axes (i → left, j → posterior, k → superior), spacing ≥ internal_spacing_mm.
    let ct_lps = reorient_to(ct, OrientationCode(['L', 'P', 'S']))?;
    let g0 = *ct_lps.geometry();
    let d0 = ct_lps.dims();
    let mut gi = g0;
    let mut di = [0usize; 3];
    for a in 0..3 {
        gi.spacing_mm[a] = g0.spacing_mm[a].max(opts.internal_spacing_mm);
        let extent = (d0[a] - 1) as f64 * g0.spacing_mm[a];
        di[a] = (extent / gi.spacing_mm[a] + 1e-6).floor() as usize + 1;
    }
    let cti = resample_to_grid(&ct_lps, di, gi, Interpolation::Linear, -1024)?;
    drop(ct_lps);
    timer.lap("resample", 0.08);

    let body = body_mask(&cti);
    timer.lap("body outline", 0.15);

    let bone_res = bone_mask(ct, &body, opts);
    timer.lap("bone", 0.35);

    let bone_i = resample_to_grid(&bone_res.bone, di, gi, Interpolation::Nearest, 0)?;
    // Dense structures without cortex (contrast-filled aorta, kidneys, bowel) and their partial-volumed rim must
    // not join the column where they touch it.
    let dense_i = if bone_res.dense_non_bone.data().par_iter().any(|&v| v != 0) {
        Some(morph::dilate_mm(
            &resample_to_grid(&bone_res.dense_non_bone, di, gi, Interpolation::Nearest, 0)?,
            DENSE_RIM_MM,
        ))
    } else {
        None
    };
    // For the column analysis, marrow and partial-volumed cortex (≥ 130 HU) next to accepted bone count too:
    // at 3 mm the cortex alone is too broken to enclose the bodies.
    let near = morph::dilate_mm(&bone_i, 8.0);
    let analysis = Volume::from_vec(
        di,
        gi,
        (0..bone_i.len())
            .into_par_iter()
            .map(|n| {
                u8::from(
                    bone_i.data()[n] != 0
                        || (near.data()[n] != 0
                            && cti.data()[n] >= 130
                            && dense_i.as_ref().is_none_or(|d| d.data()[n] == 0)),
                )
            })
            .collect(),
    )?;
    let filled = fill_bone(&analysis, &cti);
    timer.lap("fill", 0.45);

    let sp = gi.spacing_mm;
    let spine = trace_spine(&filled, &body, sp)?;
    timer.lap("centreline", 0.55);

    let (mut segs, normals) = find_vertebrae(&filled, &spine, sp)?;
    timer.lap("discs", 0.62);

    let sacrum_found = detect_sacrum(&filled, &cti, &spine, &mut segs, sp);
    let sacrum = sacrum_found.is_some();
    let mut planes = fit_disc_planes(&filled, &spine, &segs, &normals, sp);
    // The lumbosacral disc found in the CT values replaces the fit in the (bridged) bone mask.
    if let Some(Some(pl)) = sacrum_found {
        if planes.len() > 1 {
            planes[1] = Some(pl);
        }
    }
    let bounds = segment_bounds(&spine, &segs, &planes, sp);
    let mut lab_i = grow_vertebrae(&filled, &spine, &segs, &bounds, sp);
    if sacrum {
        trim_sacrum_at_si_joints(&mut lab_i, &bone_i, &spine, sp);
    }
    let probe_i = wall_probe(&cti, &filled, &spine, sp);
    let arch_holes = Some((&cti, &probe_i));
    fill_body_holes(&mut lab_i, &spine, segs.len(), sp, arch_holes, true);
    fill_body_sections(&mut lab_i, &cti, &spine, segs.len(), sp);
    peel_faint_surface(&mut lab_i, &cti, SURFACE_MIN_HU);
    peel_interfaces(
        &mut lab_i,
        &cti,
        opts.bone_threshold_hu,
        (INTERFACE_REACH_MM / sp[0].min(sp[1]).min(sp[2])).ceil() as usize,
    );
    // Again after peeling, marrow-dense holes only: peeling opens the faint rim around a dark hole (pedicle or
    // process marrow) that the first pass could not fill.
    fill_body_holes(&mut lab_i, &spine, segs.len(), sp, arch_holes, false);
    timer.lap("vertebrae", 0.75);

    let ribs = detect_ribs(&bone_i, &spine, &segs, sp);
    timer.lap("ribs", 0.78);
    let naming = name_levels(&segs, sacrum, &ribs);
    timer.lap("numbering", 0.8);

    let bodies_i = body_labels(&lab_i, &probe_i, &spine, segs.len(), sp);
    drop(probe_i);
    let canal_i = canal_mask(&cti, &spine, sp);
    let discs_i = disc_labels(&cti, &filled, &lab_i, &spine, &segs, sp);
    timer.lap("bodies, discs, canal", 0.88);

    // Back to the input grid (nearest: labels must not be averaged) and rename segment indices to VerSe labels.
    let verse: Vec<u8> = naming.levels.iter().map(|l| l.verse_label()).collect();
    let relabel = |v: &Volume<u8>| v.map(|x| if x == 0 { 0 } else { verse[x as usize - 1] });
    // Nearest-neighbour map input voxel → internal voxel, computed once (affine, so incremental per row) and
    // applied to the four maps; internal voxels outside the column are 0, so rows are skipped cheaply.
    let (gin, din) = (*ct.geometry(), ct.dims());
    let q0 = gi.world_to_index(gin.index_to_world([0.0; 3]));
    let step: [[f64; 3]; 3] = std::array::from_fn(|a| {
        let mut e = [0.0; 3];
        e[a] = 1.0;
        let q = gi.world_to_index(gin.index_to_world(e));
        std::array::from_fn(|c| q[c] - q0[c])
    });
    let plane_in = din[0] * din[1];
    let disc_map = discs_i.map(|x| {
        if x == 0 {
            0
        } else {
            100 + verse[x as usize - 1]
        }
    });
    let maps = [&relabel(&lab_i), &relabel(&bodies_i), &disc_map, &canal_i];
    let mut outs: Vec<Vec<u8>> = (0..4).map(|_| vec![0u8; plane_in * din[2]]).collect();
    {
        let mut chunks: Vec<std::slice::ChunksMut<'_, u8>> =
            outs.iter_mut().map(|o| o.chunks_mut(plane_in)).collect();
        let mut per_k: Vec<Vec<&mut [u8]>> = (0..din[2]).map(|_| Vec::with_capacity(4)).collect();
        for c in chunks.iter_mut() {
            for (k, sl) in c.enumerate() {
                per_k[k].push(sl);
            }
        }
        per_k.into_par_iter().enumerate().for_each(|(k, mut sls)| {
            for j in 0..din[1] {
                for i in 0..din[0] {
                    let q: [f64; 3] = std::array::from_fn(|c| {
                        q0[c]
                            + i as f64 * step[0][c]
                            + j as f64 * step[1][c]
                            + k as f64 * step[2][c]
                    });
                    if (0..3).any(|c| q[c] < -0.5 || q[c] >= di[c] as f64 - 0.5) {
                        continue;
                    }
                    let idx = q[0].round() as usize
                        + di[0] * (q[1].round() as usize + di[1] * q[2].round() as usize);
                    for (m, sl) in maps.iter().zip(sls.iter_mut()) {
                        sl[i + j * din[0]] = m.data()[idx];
                    }
                }
            }
        });
    }
    let mut it = outs.into_iter().map(|o| Volume::from_vec(din, gin, o));
    let labels = it.next().expect("four maps")?;
    let bodies = it.next().expect("four maps")?;
    let discs = it.next().expect("four maps")?;
    let canal = it.next().expect("four maps")?;
    timer.lap("map to input grid", 0.95);

    let report = build_report(
        &labels, &bodies, &discs, &segs, &spine, &gi, &naming, &ribs, &bone_res,
    );
    timer.lap("report", 1.0);
    Ok(Segmentation {
        bone: bone_res.bone,
        labels,
        bodies,
        discs,
        canal,
        report,
        timings: timer.times,
    })
}

struct Timer<'a> {
    t: Instant,
    times: Vec<StageTime>,
    progress: Progress<'a>,
}

impl<'a> Timer<'a> {
    fn new(progress: Progress<'a>) -> Self {
        Self {
            t: Instant::now(),
            times: Vec::new(),
            progress,
        }
    }
    fn lap(&mut self, stage: &'static str, frac: f32) {
        let ms = self.t.elapsed().as_secs_f64() * 1e3;
        self.times.push(StageTime { stage, ms });
        if let Some(p) = self.progress {
            p(stage, frac);
        }
        self.t = Instant::now();
    }
}

/// The patient's body: largest region above −400 HU after a 4 mm opening (cuts the table and blankets off),
/// holes filled per slice.
fn body_mask(cti: &Volume<i16>) -> Volume<u8> {
    let m = morph::threshold(cti, -400.0, f64::INFINITY);
    let m = morph::open_mm(&m, 4.0);
    let m = morph::largest_component(&m, morph::Connectivity::Six);
    morph::fill_holes_2d(&m)
}

/// Rim (mm) around a dense non-bone structure whose faint voxels are its partial volume, not marrow: one 3 mm voxel.
const DENSE_RIM_MM: f64 = 3.0;

pub(crate) struct BoneResult {
    bone: Volume<u8>,
    /// Large regions inside the body at the bone threshold without cortex (contrast, dense organs).
    dense_non_bone: Volume<u8>,
    dense_non_bone_ml: f64,
    metal_ml: f64,
    clipped: bool,
}

/// Bone on the input grid: 6-connected regions ≥ the threshold that are large enough, partly cortical
/// (≥ `cortex_hu`) and mostly inside the body.
fn bone_mask(ct: &Volume<i16>, body: &Volume<u8>, opts: &SegmentOptions) -> BoneResult {
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
    }
}

/// Dense non-bone volume (ml) from which contrast (or dense soft tissue) is reported, and the split of bone from
/// touching contrast-filled structures is tried.
const CONTRAST_FINDING_ML: f64 = 20.0;

/// Least volume (ml) of a bone-threshold region without cortex that is treated as contrast (a segment of an
/// enhancing aorta or organ): it is taken out of accepted bone where it touches it, and kept out of the column
/// analysis. Smaller faint pieces are left alone: in elderly bone a marrow region of a few ml can lose its contact
/// with the thin cortex at the threshold.
const NON_CORTICAL_MIN_ML: f64 = 10.0;

/// Removes from `bone` the parts that separate after a one-voxel (6-neighbour) erosion and that, together with
/// the one-voxel rim the erosion took from them (where a bone's cortex lies), are large (≥ `NON_CORTICAL_MIN_ML`)
/// with under 5 % of voxels at cortical density; they are marked in `dense`. Returns the volume removed (ml).
fn split_non_cortical(ct: &Volume<i16>, bone: &mut [u8], dense: &mut [u8], cortex: i16) -> f64 {
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

/// Marrow filled: per-slice closing (in plane only), then the enclosed holes that are not fluid (≥ 50 HU, so
/// that the spinal canal inside a closed neural arch stays empty).
fn fill_bone(bone: &Volume<u8>, cti: &Volume<i16>) -> Volume<u8> {
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
    let data: Vec<u8> = closed
        .data()
        .par_iter()
        .zip(holes.data().par_iter())
        .zip(cti.data().par_iter())
        .map(|((&c, &h), &hu)| u8::from(c != 0 || (h != 0 && hu >= 50)))
        .collect();
    Volume::from_vec(bone.dims(), *bone.geometry(), data).expect("dims")
}

/// The traced column on the internal grid: per slice k, body centre and body front/back (voxel units),
/// valid for k in `k_lo..=k_hi`.
pub(crate) struct Spine {
    pub(crate) k_lo: usize,
    pub(crate) k_hi: usize,
    /// Body centre (i, j) per slice, continuous voxel indices.
    pub(crate) centre: Vec<[f64; 2]>,
    /// Posterior wall of the body (j index) per slice.
    pub(crate) back: Vec<f64>,
    /// Median body depth and half-width (mm).
    pub(crate) depth_mm: f64,
    pub(crate) half_width_mm: f64,
    /// Centreline points in internal mm (index × spacing) and unit tangents, per slice.
    pub(crate) p_mm: Vec<[f64; 3]>,
    pub(crate) t: Vec<[f64; 3]>,
}

fn smooth1d(v: &[f64], sigma: f64) -> Vec<f64> {
    if sigma <= 0.0 {
        return v.to_vec();
    }
    let r = (3.0 * sigma).ceil() as isize;
    let n = v.len() as isize;
    (0..n)
        .map(|i| {
            let (mut s, mut w) = (0.0, 0.0);
            for d in -r..=r {
                let j = (i + d).clamp(0, n - 1) as usize;
                let g = (-(d * d) as f64 / (2.0 * sigma * sigma)).exp();
                s += g * v[j];
                w += g;
            }
            s / w
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// Fills `None` entries by linear interpolation (constant beyond the ends).
fn interpolate(v: &[Option<f64>]) -> Option<Vec<f64>> {
    let known: Vec<usize> = (0..v.len()).filter(|&i| v[i].is_some()).collect();
    let (&first, &last) = (known.first()?, known.last()?);
    let mut out = vec![0.0; v.len()];
    for (i, o) in out.iter_mut().enumerate() {
        *o = if i <= first {
            v[first].unwrap_or_default()
        } else if i >= last {
            v[last].unwrap_or_default()
        } else {
            let b = known.partition_point(|&x| x <= i);
            let (a, c) = (known[b - 1], known[b.min(known.len() - 1)]);
            if a == c {
                v[a].unwrap_or_default()
            } else {
                let f = (i - a) as f64 / (c - a) as f64;
                v[a].unwrap_or_default() * (1.0 - f) + v[c].unwrap_or_default() * f
            }
        };
    }
    Some(out)
}

/// Running median over ±`r` samples, ignoring `None`.
fn running_median(v: &[Option<f64>], r: usize) -> Vec<Option<f64>> {
    (0..v.len())
        .map(|i| {
            let lo = i.saturating_sub(r);
            let hi = (i + r + 1).min(v.len());
            median(v[lo..hi].iter().flatten().copied().collect())
        })
        .collect()
}

fn trace_spine(filled: &Volume<u8>, body: &Volume<u8>, sp: [f64; 3]) -> Result<Spine, CtError> {
    let [ni, nj, nk] = filled.dims();
    let plane = ni * nj;
    // 1. Where bone is present in most slices: the column. Count per (i, j), smoothed by 8 mm.
    let mut count = vec![0f32; plane];
    for k in 0..nk {
        for (c, &v) in count.iter_mut().zip(filled.slice_k(k)) {
            *c += f32::from(v);
        }
    }
    let mut g2 = Geometry::identity([sp[0], sp[1], 1.0]);
    g2.origin_mm = [0.0; 3];
    let cv = Volume::from_vec([ni, nj, 1], g2, count).expect("dims");
    let cs = morph::gaussian_mm(&cv, [8.0, 8.0, 0.0]);
    // Body's left-right centre: the column is within 60 mm of it.
    let (mut sx, mut n) = (0.0, 0.0);
    for k in 0..nk {
        for (p, &v) in body.slice_k(k).iter().enumerate() {
            if v != 0 {
                sx += (p % ni) as f64;
                n += 1.0;
            }
        }
    }
    let xc_body = if n > 0.0 { sx / n } else { ni as f64 / 2.0 };
    let lim = 60.0 / sp[0];
    let (mut best, mut bi, mut bj) = (0f32, 0usize, 0usize);
    for j in 0..nj {
        for i in 0..ni {
            if (i as f64 - xc_body).abs() > lim {
                continue;
            }
            let v = cs.data()[i + j * ni];
            if v > best {
                best = v;
                bi = i;
                bj = j;
            }
        }
    }
    if best < 3.0 {
        return Err(CtError::NoSpine(
            "no bone column runs through the slices".into(),
        ));
    }
    // 2. Per-slice column centroid in a 30 mm window, twice, smoothing in between.
    let mut prior: Vec<[f64; 2]> = vec![[bi as f64, bj as f64]; nk];
    let mut present = vec![false; nk];
    for pass in 0..3 {
        let r_mm = if pass == 0 { 40.0 } else { 30.0 };
        let mut xs: Vec<Option<f64>> = vec![None; nk];
        let mut ys: Vec<Option<f64>> = vec![None; nk];
        for k in 0..nk {
            let sl = filled.slice_k(k);
            let [px, py] = prior[k];
            let (i0, i1) = (
                ((px - r_mm / sp[0]).floor().max(0.0)) as usize,
                ((px + r_mm / sp[0]).ceil() as usize).min(ni - 1),
            );
            let (j0, j1) = (
                ((py - r_mm / sp[1]).floor().max(0.0)) as usize,
                ((py + r_mm / sp[1]).ceil() as usize).min(nj - 1),
            );
            let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
            for j in j0..=j1 {
                for i in i0..=i1 {
                    let dx = (i as f64 - px) * sp[0];
                    let dy = (j as f64 - py) * sp[1];
                    if dx * dx + dy * dy <= r_mm * r_mm && sl[i + j * ni] != 0 {
                        a += i as f64;
                        b += j as f64;
                        c += 1.0;
                    }
                }
            }
            let area = c * sp[0] * sp[1];
            present[k] = area >= 150.0;
            if present[k] {
                xs[k] = Some(a / c);
                ys[k] = Some(b / c);
            }
        }
        if pass == 2 {
            // Track outward from the middle of the column, each slice within 20 mm of its neighbour, so that
            // the pelvis or ribs cannot pull the centre away at the ends.
            let valid: Vec<usize> = (0..nk).filter(|&k| xs[k].is_some()).collect();
            if let Some(&mid) = valid.get(valid.len() / 2) {
                let max_jump = 20.0;
                for dir in [1isize, -1] {
                    let mut last = [xs[mid].unwrap_or(0.0), ys[mid].unwrap_or(0.0)];
                    let mut last_k = mid as isize;
                    let mut k = mid as isize + dir;
                    while k >= 0 && (k as usize) < nk {
                        let ku = k as usize;
                        if let (Some(x), Some(y)) = (xs[ku], ys[ku]) {
                            let d = (((x - last[0]) * sp[0]).powi(2)
                                + ((y - last[1]) * sp[1]).powi(2))
                            .sqrt();
                            // The allowance grows with the distance to the last accepted slice: a slice through a
                            // disc (posterior elements only) shifts the centroid back by up to ~20 mm and must not
                            // make every following slice look like a jump.
                            let dz = (k - last_k).unsigned_abs() as f64 * sp[2];
                            if d > max_jump + 2.0 * dz {
                                xs[ku] = None;
                                ys[ku] = None;
                                present[ku] = false;
                            } else {
                                last = [x, y];
                                last_k = k;
                            }
                        }
                        k += dir;
                    }
                }
            }
        }
        let r = (15.0 / sp[2]).round() as usize;
        let xm = interpolate(&running_median(&xs, r));
        let ym = interpolate(&running_median(&ys, r));
        let (Some(xm), Some(ym)) = (xm, ym) else {
            return Err(CtError::NoSpine("no bone column found".into()));
        };
        let xm = smooth1d(&xm, 8.0 / sp[2]);
        let ym = smooth1d(&ym, 8.0 / sp[2]);
        for k in 0..nk {
            prior[k] = [xm[k], ym[k]];
        }
    }
    // Longest run of slices with column bone (short gaps bridged).
    let gap = (12.0 / sp[2]).ceil() as usize;
    let (mut best_run, mut cur_start, mut last_present) = ((0usize, 0usize), None::<usize>, None);
    #[allow(clippy::needless_range_loop)] // k indexes three parallel arrays
    for k in 0..nk {
        if present[k] {
            match (cur_start, last_present) {
                (Some(_), Some(lp)) if k - lp <= gap => {}
                _ => cur_start = Some(k),
            }
            last_present = Some(k);
            let s = cur_start.unwrap_or(k);
            if k - s >= best_run.1 - best_run.0 {
                best_run = (s, k);
            }
        }
    }
    let (k_lo, k_hi) = best_run;
    if (k_hi - k_lo) as f64 * sp[2] < 25.0 {
        return Err(CtError::NoSpine(format!(
            "bone column only {:.0} mm long",
            (k_hi - k_lo) as f64 * sp[2]
        )));
    }
    // 3. Body per slice: along the AP line through the column centre (±3 mm strip), the most anterior run of
    //    bone ≥ 12 mm long; runs that jump away from the running median (laminae seen through a disc) are dropped.
    let strip = (3.0 / sp[0]).round().max(1.0) as isize;
    let mut front: Vec<Option<f64>> = vec![None; nk];
    let mut backs: Vec<Option<f64>> = vec![None; nk];
    for k in k_lo..=k_hi {
        let sl = filled.slice_k(k);
        let [px, py] = prior[k];
        let j0 = ((py - 70.0 / sp[1]).max(0.0)) as usize;
        let j1 = ((py + 70.0 / sp[1]) as usize).min(nj - 1);
        let mut run_start = None;
        for j in j0..=j1 + 1 {
            let on = j <= j1 && {
                let mut c = 0;
                let mut t = 0;
                for di in -strip..=strip {
                    let i = px.round() as isize + di;
                    if i >= 0 && (i as usize) < ni {
                        t += 1;
                        c += usize::from(sl[i as usize + j * ni] != 0);
                    }
                }
                t > 0 && 2 * c >= t
            };
            match (on, run_start) {
                (true, None) => run_start = Some(j),
                (false, Some(s)) => {
                    let len = (j - s) as f64 * sp[1];
                    run_start = None;
                    if len >= 12.0 {
                        front[k] = Some(s as f64);
                        backs[k] = Some((j - 1) as f64);
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    let r = (15.0 / sp[2]).round() as usize;
    let fm = running_median(&front, r);
    for k in 0..nk {
        if let (Some(f), Some(m)) = (front[k], fm[k]) {
            if (f - m).abs() * sp[1] > 8.0 {
                front[k] = None;
                backs[k] = None;
            }
        }
    }
    let depths: Vec<f64> = (0..nk)
        .filter_map(|k| Some((backs[k]? - front[k]? + 1.0) * sp[1]))
        .collect();
    let depth_mm =
        median(depths).ok_or_else(|| CtError::NoSpine("no vertebral body found".into()))?;
    let f =
        interpolate(&front).ok_or_else(|| CtError::NoSpine("no vertebral body found".into()))?;
    let b =
        interpolate(&backs).ok_or_else(|| CtError::NoSpine("no vertebral body found".into()))?;
    let f = smooth1d(&f, 4.0 / sp[2]);
    let b = smooth1d(&b, 4.0 / sp[2]);
    // Body centre x: centroid of filled bone in the body's AP band within 25 mm of the column; half-width from
    // the run along x through the body centre.
    let mut cx: Vec<Option<f64>> = vec![None; nk];
    let mut widths = Vec::new();
    for k in k_lo..=k_hi {
        let sl = filled.slice_k(k);
        let px = prior[k][0];
        let (ja, jb) = (f[k].round() as usize, (b[k].round() as usize).min(nj - 1));
        let (mut s, mut c) = (0.0, 0.0);
        for j in ja..=jb {
            for i in 0..ni {
                if ((i as f64 - px) * sp[0]).abs() <= 25.0 && sl[i + j * ni] != 0 {
                    s += i as f64;
                    c += 1.0;
                }
            }
        }
        if c > 0.0 {
            cx[k] = Some(s / c);
        }
        if front[k].is_some() {
            let jm = ((f[k] + b[k]) / 2.0).round() as usize;
            let i0 = px.round() as usize;
            if sl[i0.min(ni - 1) + jm * ni] != 0 {
                let (mut lo, mut hi) = (i0, i0);
                while lo > 0 && sl[lo - 1 + jm * ni] != 0 {
                    lo -= 1;
                }
                while hi + 1 < ni && sl[hi + 1 + jm * ni] != 0 {
                    hi += 1;
                }
                widths.push((hi - lo + 1) as f64 * sp[0]);
            }
        }
    }
    let width = median(widths).unwrap_or(depth_mm);
    let cxs = interpolate(&cx).ok_or_else(|| CtError::NoSpine("no vertebral body found".into()))?;
    let cxs = smooth1d(&cxs, 6.0 / sp[2]);
    let cys: Vec<f64> = smooth1d(
        &(0..nk).map(|k| (f[k] + b[k]) / 2.0).collect::<Vec<_>>(),
        4.0 / sp[2],
    );
    let centre: Vec<[f64; 2]> = (0..nk).map(|k| [cxs[k], cys[k]]).collect();
    let p_mm: Vec<[f64; 3]> = (0..nk)
        .map(|k| [cxs[k] * sp[0], cys[k] * sp[1], k as f64 * sp[2]])
        .collect();
    let t: Vec<[f64; 3]> = (0..nk)
        .map(|k| {
            let (a, c) = (k.saturating_sub(2), (k + 2).min(nk - 1));
            let d = [
                p_mm[c][0] - p_mm[a][0],
                p_mm[c][1] - p_mm[a][1],
                p_mm[c][2] - p_mm[a][2],
            ];
            let n = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt().max(1e-9);
            [d[0] / n, d[1] / n, d[2] / n]
        })
        .collect();
    Ok(Spine {
        k_lo,
        k_hi,
        centre,
        back: b,
        depth_mm,
        half_width_mm: width / 2.0,
        p_mm,
        t,
    })
}

/// One vertebra (or sacrum) between two disc planes, as slice positions along the centreline.
#[derive(Debug, Clone)]
pub(crate) struct Seg {
    /// Disc plane below (slice index, continuous), or the bottom of the column.
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) lo_is_disc: bool,
    pub(crate) hi_is_disc: bool,
    pub(crate) sacrum: bool,
}

fn unit_perp(t: [f64; 3]) -> ([f64; 3], [f64; 3]) {
    let x = [1.0, 0.0, 0.0];
    let d = t[0];
    let mut e1 = [x[0] - d * t[0], x[1] - d * t[1], x[2] - d * t[2]];
    let n = (e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2])
        .sqrt()
        .max(1e-9);
    e1 = [e1[0] / n, e1[1] / n, e1[2] / n];
    let e2 = [
        t[1] * e1[2] - t[2] * e1[1],
        t[2] * e1[0] - t[0] * e1[2],
        t[0] * e1[1] - t[1] * e1[0],
    ];
    (e1, e2)
}

/// The lowest bone fill over planes through the centreline point at slice k, tilted from the perpendicular by up
/// to ±35° sagittally and ±20° coronally (a lordotic L5–S1 or a scoliotic disc is not perpendicular to the
/// smoothed centreline), with the normal of that plane. A slight preference for small tilts breaks ties.
fn best_plane_fill(
    filled: &Volume<u8>,
    s: &Spine,
    k: usize,
    r_mm: f64,
    sp: [f64; 3],
) -> (f64, [f64; 3]) {
    let t = s.t[k];
    let (e1, e2) = unit_perp(t);
    let mut best = (f64::INFINITY, t);
    for a in (-35i32..=35).step_by(5) {
        for b in (-20i32..=20).step_by(10) {
            let (ta, tb) = ((a as f64).to_radians().tan(), (b as f64).to_radians().tan());
            let n: [f64; 3] = std::array::from_fn(|c| t[c] + ta * e2[c] + tb * e1[c]);
            let l = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
            let n = n.map(|x| x / l);
            let f = plane_fill_n(filled, s, k, n, r_mm, sp) + 0.0005 * (a.abs() + b.abs()) as f64;
            if f < best.0 {
                best = (f, n);
            }
        }
    }
    best
}

/// Fraction of filled bone in a disc of radius `r_mm` through the centreline point at slice k, with the given
/// normal.
fn plane_fill_n(
    filled: &Volume<u8>,
    s: &Spine,
    k: usize,
    normal: [f64; 3],
    r_mm: f64,
    sp: [f64; 3],
) -> f64 {
    let (e1, e2) = unit_perp(normal);
    let p = s.p_mm[k];
    let d = filled.dims();
    let step = 1.0;
    let n = (r_mm / step).floor() as i32;
    let (mut hit, mut tot) = (0usize, 0usize);
    for a in -n..=n {
        for b in -n..=n {
            let (u, v) = (a as f64 * step, b as f64 * step);
            if u * u + v * v > r_mm * r_mm {
                continue;
            }
            let q: [f64; 3] = std::array::from_fn(|c| p[c] + u * e1[c] + v * e2[c]);
            let idx: [isize; 3] = std::array::from_fn(|c| (q[c] / sp[c]).round() as isize);
            if (0..3).any(|c| idx[c] < 0 || idx[c] as usize >= d[c]) {
                continue;
            }
            tot += 1;
            hit += usize::from(filled.get(idx[0] as usize, idx[1] as usize, idx[2] as usize) != 0);
        }
    }
    if tot == 0 {
        0.0
    } else {
        hit as f64 / tot as f64
    }
}

/// Segments between the discs, caudal first, and the normal of the best (least bone) plane per slice
/// (index k − k_lo), used to start each disc's surface fit.
fn find_vertebrae(
    filled: &Volume<u8>,
    s: &Spine,
    sp: [f64; 3],
) -> Result<(Vec<Seg>, Vec<[f64; 3]>), CtError> {
    let r_mm = (0.35 * s.depth_mm)
        .min(0.6 * s.half_width_mm)
        .clamp(4.0, 14.0);
    let ks: Vec<usize> = (s.k_lo..=s.k_hi).collect();
    let (prof, normals): (Vec<f64>, Vec<[f64; 3]>) = ks
        .par_iter()
        .map(|&k| best_plane_fill(filled, s, k, r_mm, sp))
        .unzip();
    let prof = smooth1d(&prof, 1.5 / sp[2]);
    let n = prof.len();
    let min_gap = (12.0 / sp[2]).round().max(2.0) as usize;
    let reach = (20.0 / sp[2]).round().max(2.0) as usize;
    // Candidate discs: local minima below 0.5 with bone ≥ 0.3 higher within 20 mm on both sides.
    let mut cands: Vec<(usize, f64)> = Vec::new();
    for i in 0..n {
        let v = prof[i];
        if v >= 0.5 {
            continue;
        }
        let l = (i.saturating_sub(1)..i).all(|j| prof[j] >= v);
        let r = (i + 1..(i + 2).min(n)).all(|j| prof[j] > v);
        if !(l && r) {
            continue;
        }
        let lmax = prof[i.saturating_sub(reach)..i]
            .iter()
            .copied()
            .fold(0.0, f64::max);
        let rmax = prof[i + 1..(i + reach + 1).min(n)]
            .iter()
            .copied()
            .fold(0.0, f64::max);
        if lmax >= v + 0.3 && rmax >= v + 0.3 {
            cands.push((i, v));
        }
    }
    // Keep the deepest of candidates closer than min_gap.
    let mut discs: Vec<(usize, f64)> = Vec::new();
    for c in cands {
        match discs.last_mut() {
            Some(last) if c.0 - last.0 < min_gap => {
                if c.1 < last.1 {
                    *last = c;
                }
            }
            _ => discs.push(c),
        }
    }
    // Centre of each gap: middle of the run within 0.1 of the minimum.
    let centres: Vec<f64> = discs
        .iter()
        .map(|&(i, v)| {
            let (mut a, mut b) = (i, i);
            while a > 0 && prof[a - 1] <= v + 0.1 {
                a -= 1;
            }
            while b + 1 < n && prof[b + 1] <= v + 0.1 {
                b += 1;
            }
            (s.k_lo + a) as f64 + (b - a) as f64 / 2.0
        })
        .collect();
    // Segments between consecutive discs, plus the partial ones at the ends when they hold body bone.
    let mut bounds: Vec<(f64, bool)> = vec![(s.k_lo as f64 - 0.5, false)];
    bounds.extend(centres.iter().map(|&c| (c, true)));
    bounds.push((s.k_hi as f64 + 0.5, false));
    let mut segs = Vec::new();
    for w in bounds.windows(2) {
        let (lo, hi) = (w[0], w[1]);
        let len = (hi.0 - lo.0) * sp[2];
        let a = (lo.0.ceil().max(s.k_lo as f64) as usize).saturating_sub(s.k_lo);
        let b = ((hi.0.floor() as usize).min(s.k_hi)).saturating_sub(s.k_lo);
        let mean = if b > a {
            prof[a..=b.min(n - 1)].iter().sum::<f64>() / (b.min(n - 1) - a + 1) as f64
        } else {
            0.0
        };
        let edge = !(lo.1 && hi.1);
        if edge && (len < 8.0 || mean < 0.4) {
            continue;
        }
        segs.push(Seg {
            lo: lo.0,
            hi: hi.0,
            lo_is_disc: lo.1,
            hi_is_disc: hi.1,
            sacrum: false,
        });
    }
    if segs.is_empty() {
        return Err(CtError::NoSpine(
            "no vertebral body found along the column".into(),
        ));
    }
    // Plausibility: a complete segment far shorter than its neighbours is a false gap (merge it into the
    // shorter neighbour); very long ones may hide a missed disc (split at the weakest bone inside).
    let heights: Vec<f64> = segs
        .iter()
        .filter(|g| g.lo_is_disc && g.hi_is_disc)
        .map(|g| (g.hi - g.lo) * sp[2])
        .collect();
    if let Some(hm) = median(heights) {
        let mut i = 0;
        while i < segs.len() {
            let g = &segs[i];
            let h = (g.hi - g.lo) * sp[2];
            if g.lo_is_disc && g.hi_is_disc && h < 0.45 * hm && segs.len() > 1 {
                // Merge with the shorter neighbour.
                let up = (i + 1 < segs.len()).then(|| (segs[i + 1].hi - segs[i + 1].lo) * sp[2]);
                let down = (i > 0).then(|| (segs[i - 1].hi - segs[i - 1].lo) * sp[2]);
                let into_up = match (up, down) {
                    (Some(u), Some(d)) => u <= d,
                    (Some(_), None) => true,
                    _ => false,
                };
                if into_up {
                    segs[i + 1].lo = segs[i].lo;
                    segs[i + 1].lo_is_disc = segs[i].lo_is_disc;
                } else {
                    segs[i - 1].hi = segs[i].hi;
                    segs[i - 1].hi_is_disc = segs[i].hi_is_disc;
                }
                segs.remove(i);
                continue;
            }
            if g.lo_is_disc && g.hi_is_disc && h > 1.7 * hm {
                let a = (g.lo + 0.3 * (g.hi - g.lo)).round() as usize - s.k_lo;
                let b = (g.lo + 0.7 * (g.hi - g.lo)).round() as usize - s.k_lo;
                if let Some((m, v)) = (a..=b.min(n - 1))
                    .map(|x| (x, prof[x]))
                    .min_by(|x, y| x.1.total_cmp(&y.1))
                {
                    if v < 0.7 {
                        let cut = (s.k_lo + m) as f64;
                        let mut upper = segs[i].clone();
                        upper.lo = cut;
                        upper.lo_is_disc = true;
                        segs[i].hi = cut;
                        segs[i].hi_is_disc = true;
                        segs.insert(i + 1, upper);
                    }
                }
            }
            i += 1;
        }
    }
    Ok((segs, normals))
}

/// Lateral extent (mm) of the in-slice bone region connected to the body centre, in front of the posterior wall
/// of the body plus `behind_mm`: the sacral alae (and the ilia across the sacroiliac joints) make it wide, a
/// lumbar body with its transverse processes (which start behind the wall) does not.
fn slice_extent_mm(filled: &Volume<u8>, s: &Spine, k: usize, behind_mm: f64, sp: [f64; 3]) -> f64 {
    let [ni, nj, _] = filled.dims();
    let sl = filled.slice_k(k);
    let [x, y] = s.centre[k];
    let jmax = ((s.back[k] + behind_mm / sp[1]).round() as usize).min(nj - 1);
    let (ci, cj) = (
        (x.round() as usize).min(ni - 1),
        (y.round() as usize).min(jmax),
    );
    // Seed: the nearest bone voxel to the centre within 6 mm.
    let r = (6.0 / sp[0]).ceil() as isize;
    let mut seed = None;
    let mut best = f64::INFINITY;
    for dj in -r..=r {
        for di in -r..=r {
            let (i, j) = (ci as isize + di, cj as isize + dj);
            if i < 0 || j < 0 || i as usize >= ni || j as usize > jmax {
                continue;
            }
            let d = (di * di + dj * dj) as f64;
            if sl[i as usize + j as usize * ni] != 0 && d < best {
                best = d;
                seed = Some((i as usize, j as usize));
            }
        }
    }
    let Some(seed) = seed else { return 0.0 };
    let mut seen = vec![false; ni * (jmax + 1)];
    let mut stack = vec![seed];
    seen[seed.0 + seed.1 * ni] = true;
    let (mut lo, mut hi) = (seed.0, seed.0);
    while let Some((i, j)) = stack.pop() {
        lo = lo.min(i);
        hi = hi.max(i);
        for (a, b) in [
            (i.wrapping_sub(1), j),
            (i + 1, j),
            (i, j.wrapping_sub(1)),
            (i, j + 1),
        ] {
            if a < ni && b <= jmax && !seen[a + b * ni] && sl[a + b * ni] != 0 {
                seen[a + b * ni] = true;
                stack.push((a, b));
            }
        }
    }
    (hi - lo + 1) as f64 * sp[0]
}

/// Finds the sacrum at the caudal end of the column and makes it one segment. Returns `None` when there is no
/// sacrum, else the L5–S1 disc plane when it was found in the CT values (it then replaces the fitted plane).
///
/// Cue: the in-slice bone connected to the body and in front of its posterior wall is far wider than a vertebral
/// body over the lowest ≥ 10 mm of the column (sacral alae, usually joined to the ilia at the sacroiliac joints);
/// a lumbar body is not, because its transverse processes start behind the wall. The L5–S1 disc is then the
/// weakest bone plane (perpendicular to the centreline) in the 15 mm above the top of the wide run.
fn detect_sacrum(
    filled: &Volume<u8>,
    cti: &Volume<i16>,
    s: &Spine,
    segs: &mut Vec<Seg>,
    sp: [f64; 3],
) -> Option<Option<DiscPlane>> {
    let body_w = 2.0 * s.half_width_mm;
    let wide_mm = 100.0f64.max(1.9 * body_w.min(60.0));
    let ext: Vec<f64> = (s.k_lo..=s.k_hi)
        .into_par_iter()
        .map(|k| slice_extent_mm(filled, s, k, 0.0, sp))
        .collect();
    // Wide run from the bottom, tolerating narrow slices (tip, foramina, partial volume) over ≤ 9 mm.
    let tol = (9.0 / sp[2]).ceil() as usize;
    let mut top = None;
    let mut narrow = 0;
    let mut wide_count = 0usize;
    // The lower sacrum and coccyx taper: the wide run may start up to 60 mm above the bottom of the column.
    let first_wide_max = (60.0 / sp[2]).round() as usize;
    for (n, &e) in ext.iter().enumerate() {
        if top.is_none() && n > first_wide_max {
            break;
        }
        if e >= wide_mm {
            top = Some(n);
            wide_count += 1;
            narrow = 0;
        } else if top.is_some() {
            narrow += 1;
            if narrow > tol {
                break;
            }
        }
    }
    let top = top?;
    if (wide_count as f64) * sp[2] < 10.0 {
        return None;
    }
    let k_top = s.k_lo + top;
    // The top of the alae lies at about the S1 endplate, but at coarse voxels the L5 transverse processes may merge
    // with them and lift the wide run into L5: a disc already found from 20 mm below to 15 mm above the top of the
    // wide run, with ≥ 10 mm of wide slices under it, is the L5–S1 disc (the nearest to the top).
    let wide_below = |c: f64| {
        ext[..((c - s.k_lo as f64).max(0.0) as usize).min(ext.len())]
            .iter()
            .filter(|&&e| e >= wide_mm)
            .count() as f64
            * sp[2]
    };
    // First choice: the disc itself, seen in the CT values as a thin band between two endplates, on a plane free
    // to tilt with the sacral slope and to sit in front of or behind the traced centre (where the tilted L5 and
    // S1 share axial slices the centreline runs through both, and the bone mask bridges the disc).
    let ls = lumbosacral_disc(cti, s, k_top, sp);
    if let Some((pl, c)) = ls {
        if (s.k_hi as f64 - c) * sp[2] >= 15.0 {
            apply_sacrum_cut(segs, s, c, sp);
            return Some(Some(pl));
        }
    }
    let near = segs
        .iter()
        .filter(|g| g.lo_is_disc)
        .map(|g| g.lo)
        .filter(|&c| {
            let d = (c - k_top as f64) * sp[2];
            (-20.0..=15.0).contains(&d) && wide_below(c) >= 10.0
        })
        .min_by(|a, b| {
            (a - k_top as f64)
                .abs()
                .total_cmp(&(b - k_top as f64).abs())
        });
    let cut = match near {
        Some(c) => c,
        None => {
            let r_mm = (0.35 * s.depth_mm)
                .min(0.6 * s.half_width_mm)
                .clamp(4.0, 14.0);
            let k_end = (k_top + (15.0 / sp[2]).round() as usize).min(s.k_hi);
            (k_top..=k_end)
                .map(|k| {
                    (
                        k,
                        best_plane_fill(filled, s, k, r_mm, sp).0 + 0.002 * (k - k_top) as f64,
                    )
                })
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(k, _)| k as f64)?
        }
    };
    // Something must be left above the sacrum for it to be the sacrum and not a mis-seen vertebra.
    if (s.k_hi as f64 - cut) * sp[2] < 15.0 {
        return None;
    }
    apply_sacrum_cut(segs, s, cut, sp);
    Some(None)
}

/// Makes everything below slice position `cut` (along the centreline) the sacrum. A segment left above the cut that
/// is far shorter than a vertebra is the lower part of L5 behind a false gap (an osteoporotic body): it is merged
/// into the segment above.
fn apply_sacrum_cut(segs: &mut Vec<Seg>, s: &Spine, cut: f64, sp: [f64; 3]) {
    let heights: Vec<f64> = segs
        .iter()
        .filter(|g| g.lo_is_disc && g.hi_is_disc)
        .map(|g| (g.hi - g.lo) * sp[2])
        .collect();
    let mut out = vec![Seg {
        lo: s.k_lo as f64 - 0.5,
        hi: cut,
        lo_is_disc: false,
        hi_is_disc: true,
        sacrum: true,
    }];
    for g in segs.iter() {
        if g.hi <= cut + 1e-6 {
            continue; // inside the sacrum
        }
        let mut g = g.clone();
        if g.lo < cut {
            g.lo = cut;
            g.lo_is_disc = true;
        }
        if (g.hi - g.lo) * sp[2] >= 8.0 {
            out.push(g);
        }
    }
    if let (Some(hm), true) = (median(heights), out.len() > 2) {
        let h1 = (out[1].hi - out[1].lo) * sp[2];
        let merged = (out[2].hi - out[1].lo) * sp[2];
        if out[1].hi_is_disc && h1 < 0.6 * hm && merged <= 1.4 * hm {
            out[2].lo = out[1].lo;
            out[2].lo_is_disc = true;
            out.remove(1);
        }
    }
    *segs = out;
}

/// Trilinear CT value at a point in internal mm (index × spacing); −1024 outside.
fn sample_hu(cti: &Volume<i16>, q: [f64; 3], sp: [f64; 3]) -> f64 {
    let d = cti.dims();
    let f: [f64; 3] = std::array::from_fn(|c| q[c] / sp[c]);
    if (0..3).any(|c| f[c] < 0.0 || f[c] > (d[c] - 1) as f64) {
        return -1024.0;
    }
    let i0: [usize; 3] =
        std::array::from_fn(|c| (f[c].floor() as usize).min(d[c].saturating_sub(2)));
    let w: [f64; 3] = std::array::from_fn(|c| (f[c] - i0[c] as f64).clamp(0.0, 1.0));
    let mut v = 0.0;
    for corner in 0..8 {
        let o: [usize; 3] = std::array::from_fn(|c| (corner >> c) & 1);
        let idx: [usize; 3] = std::array::from_fn(|c| (i0[c] + o[c]).min(d[c] - 1));
        let wt: f64 = (0..3)
            .map(|c| if o[c] == 1 { w[c] } else { 1.0 - w[c] })
            .product();
        v += wt * cti.get(idx[0], idx[1], idx[2]) as f64;
    }
    v
}

/// The L5–S1 disc near the top of the sacral alae (slice `k_top`), from the CT values: over planes through points
/// on the body's AP line (in front of or behind the traced centre), tilted anteriorly by up to 60° (sacral slope)
/// and ±10° coronally, the one whose disc patch is least bone-like while parallel patches 3–12 mm away on both
/// sides reach endplate density. An osteoporotic body is uniformly faint and scores low; a real disc has endplates
/// on both sides. Returns the plane and the slice position where it crosses the centreline.
fn lumbosacral_disc(
    cti: &Volume<i16>,
    s: &Spine,
    k_top: usize,
    sp: [f64; 3],
) -> Option<(DiscPlane, f64)> {
    let r = (0.3 * s.depth_mm)
        .min(0.6 * s.half_width_mm)
        .clamp(5.0, 12.0);
    let k0 = (k_top as f64 - 25.0 / sp[2]).max(s.k_lo as f64).round() as usize;
    let k1 = (k_top as f64 + 15.0 / sp[2]).min(s.k_hi as f64).round() as usize;
    if k1 <= k0 {
        return None;
    }
    let reach = (s.depth_mm / 2.0 - 0.5 * r).max(0.0);
    let steps_j = (reach / sp[1]).floor() as i32;
    let offs: Vec<f64> = (-8..=8).map(|x| x as f64 * 1.5).collect();
    let mut cands = Vec::new();
    for k in k0..=k1 {
        for dj in -steps_j..=steps_j {
            for a in (-10i32..=60).step_by(5) {
                for b in [-10i32, 0, 10] {
                    cands.push((k, dj, a, b));
                }
            }
        }
    }
    let scored: Vec<(f64, DiscPlane)> = cands
        .par_iter()
        .map(|&(k, dj, a, b)| {
            let (ta, tb) = ((a as f64).to_radians().tan(), (b as f64).to_radians().tan());
            let n = [tb, -ta, 1.0];
            let l = (n[0] * n[0] + n[1] * n[1] + 1.0).sqrt();
            let n = n.map(|x| x / l);
            let c = s.centre[k];
            let o = [c[0] * sp[0], (c[1] + dj as f64) * sp[1], k as f64 * sp[2]];
            let f = patch_profile(cti, o, n, r, &offs, sp);
            let mid = offs.len() / 2;
            let f0 = f[mid - 1].min(f[mid]).min(f[mid + 1]);
            let up = f[mid + 2..].iter().copied().fold(0.0, f64::max);
            let down = f[..mid - 1].iter().copied().fold(0.0, f64::max);
            let score = up.min(down) - f0 - 0.001 * (a.abs() + b.abs()) as f64;
            (
                score,
                DiscPlane {
                    o,
                    n,
                    half_gap_mm: 0.0,
                },
            )
        })
        .collect();
    let (score, pl) = scored.into_iter().max_by(|x, y| x.0.total_cmp(&y.0))?;
    if score < 0.25 {
        return None;
    }
    let pl = recentre_on_gap(cti, pl, r, sp);
    // Where the plane crosses the centreline.
    let mut c = None;
    for k in s.k_lo..s.k_hi {
        let (d0, d1) = (pl.dist(s.p_mm[k]), pl.dist(s.p_mm[k + 1]));
        if d0 <= 0.0 && d1 > 0.0 {
            c = Some(k as f64 + (-d0) / (d1 - d0));
            break;
        }
    }
    Some((pl, c?))
}

/// Mean bone-likeness (0 at 80 HU or less, 1 at 250 HU or more) over a disc patch of radius `r` mm on the plane
/// through `o` with normal `n`, shifted by each offset (mm) along the normal.
fn patch_profile(
    cti: &Volume<i16>,
    o: [f64; 3],
    n: [f64; 3],
    r: f64,
    offsets: &[f64],
    sp: [f64; 3],
) -> Vec<f64> {
    let bone_like = |hu: f64| ((hu - 80.0) / 170.0).clamp(0.0, 1.0);
    let (e1, e2) = unit_perp(n);
    let m = (r / 2.0).floor() as i32;
    offsets
        .iter()
        .map(|&d| {
            let (mut sum, mut cnt) = (0.0, 0.0);
            for u in -m..=m {
                for v in -m..=m {
                    let (u, v) = (u as f64 * 2.0, v as f64 * 2.0);
                    if u * u + v * v > r * r {
                        continue;
                    }
                    let q: [f64; 3] =
                        std::array::from_fn(|x| o[x] + d * n[x] + u * e1[x] + v * e2[x]);
                    sum += bone_like(sample_hu(cti, q, sp));
                    cnt += 1.0;
                }
            }
            sum / f64::max(cnt, 1.0)
        })
        .collect()
}

/// Fraction of the measured half-gap kept free of either vertebra: the profile is averaged over a patch, and over
/// concave endplates that widens the apparent gap, so the outer quarter on each side is left to the vertebrae.
const GAP_CORE_FRACTION: f64 = 0.75;

/// Moves a disc plane along its normal to the middle of the gap between the two endplates, at half-maximum: the
/// coarse search only places it within ±1.5 mm of the gap's floor, and at 3 mm a thin disc (L5–S1) is then shared
/// unevenly between the two vertebrae. The gap's edges are where the bone-likeness profile crosses halfway from
/// its floor to the nearer endplate peak, searched over ±9 mm in 0.5 mm steps.
fn recentre_on_gap(cti: &Volume<i16>, pl: DiscPlane, r: f64, sp: [f64; 3]) -> DiscPlane {
    let offs: Vec<f64> = (-18..=18).map(|x| x as f64 * 0.5).collect();
    let f = patch_profile(cti, pl.o, pl.n, r, &offs, sp);
    let mid = offs.len() / 2;
    // Floor: the lowest value within ±1.5 mm.
    let Some(fl) = (mid - 3..=mid + 3).min_by(|&a, &b| f[a].total_cmp(&f[b])) else {
        return pl;
    };
    let peak_up = f[fl..].iter().copied().fold(0.0, f64::max);
    let peak_down = f[..=fl].iter().copied().fold(0.0, f64::max);
    let half = f[fl] + 0.5 * (peak_up.min(peak_down) - f[fl]);
    let up = (fl..f.len()).find(|&x| f[x] >= half);
    let down = (0..=fl).rev().find(|&x| f[x] >= half);
    let (Some(u), Some(d)) = (up, down) else {
        return pl;
    };
    let shift = 0.5 * (offs[u] + offs[d]);
    DiscPlane {
        o: std::array::from_fn(|x| pl.o[x] + shift * pl.n[x]),
        n: pl.n,
        half_gap_mm: GAP_CORE_FRACTION * 0.5 * (offs[u] - offs[d]),
    }
}

/// A disc's mid-surface as a plane in internal mm (index × spacing), normal pointing cranially.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DiscPlane {
    o: [f64; 3],
    n: [f64; 3],
    /// Half the disc's thickness between the endplates' half-maximum edges, where measured (else 0): voxels
    /// closer to the plane are disc, not bone of either vertebra.
    half_gap_mm: f64,
}

impl DiscPlane {
    /// Signed distance (mm), positive on the cranial side.
    fn dist(&self, p: [f64; 3]) -> f64 {
        (p[0] - self.o[0]) * self.n[0]
            + (p[1] - self.o[1]) * self.n[1]
            + (p[2] - self.o[2]) * self.n[2]
    }
}

/// The plane through the centreline at slice position `c` with the given normal.
fn centre_plane(s: &Spine, c: f64, n: [f64; 3], sp: [f64; 3]) -> DiscPlane {
    let kc = (c.round().max(0.0) as usize).clamp(s.k_lo, s.k_hi);
    let p = s.p_mm[kc];
    DiscPlane {
        o: [p[0], p[1], c * sp[2]],
        n,
        half_gap_mm: 0.0,
    }
}

/// The plane perpendicular to the centreline at slice position `c`.
fn perpendicular_plane(s: &Spine, c: f64, sp: [f64; 3]) -> DiscPlane {
    let kc = (c.round().max(0.0) as usize).clamp(s.k_lo, s.k_hi);
    centre_plane(s, c, s.t[kc], sp)
}

/// Disc planes, one per segment boundary (`planes[n]` is the disc below segment n; `None` where that end is not a
/// disc). Each is fitted to the actual disc: for every column (i, j) through the body footprint, the middle of the
/// longest bone-free run between the two endplates near the centreline's gap; a robust least-squares plane
/// z = a + b·x + c·y through these points follows a tilted disc (L5–S1, lordosis, scoliosis), where a plane
/// perpendicular to the smoothed centreline would cut through a body. Falls back to the perpendicular plane when
/// too few columns show a gap or the fit is implausibly steep.
fn fit_disc_planes(
    filled: &Volume<u8>,
    s: &Spine,
    segs: &[Seg],
    normals: &[[f64; 3]],
    sp: [f64; 3],
) -> Vec<Option<DiscPlane>> {
    let [ni, nj, nk] = filled.dims();
    let r = 0.9 * s.half_width_mm.min(s.depth_mm / 2.0);
    (0..segs.len())
        .map(|n| {
            if !segs[n].lo_is_disc {
                return None;
            }
            let c = segs[n].lo;
            let kc = (c.round().max(0.0) as usize).clamp(s.k_lo, s.k_hi);
            let fallback = centre_plane(s, c, normals[kc - s.k_lo], sp);
            // Search window around the starting plane: up to 10 mm, never past the middle of either neighbour.
            let w = 10.0 / sp[2];
            let below = if n == 0 {
                w
            } else {
                (c - segs[n - 1].lo) * 0.5
            };
            let above = (segs[n].hi - c) * 0.5;
            let (wb, wa) = (w.min(below), w.min(above));
            let fo = fallback.o;
            let fnn = fallback.n;
            let [cx, cy] = s.centre[kc];
            let back = s.back[kc];
            let (ri, rj) = ((r / sp[0]).ceil() as isize, (r / sp[1]).ceil() as isize);
            let mut pts: Vec<[f64; 3]> = Vec::new();
            for dj in -rj..=rj {
                for di in -ri..=ri {
                    let (fi, fj) = (cx + di as f64, cy + dj as f64);
                    let (dx, dy) = (di as f64 * sp[0], dj as f64 * sp[1]);
                    if dx * dx + dy * dy > r * r || fi < 0.0 || fj < 0.0 || fj > back {
                        continue;
                    }
                    let (i, j) = (fi.round() as usize, fj.round() as usize);
                    if i >= ni || j >= nj {
                        continue;
                    }
                    // The starting plane's height in this column (slice units).
                    let (x, y) = (i as f64 * sp[0], j as f64 * sp[1]);
                    let z0 = (fo[2]
                        - ((x - fo[0]) * fnn[0] + (y - fo[1]) * fnn[1]) / fnn[2].max(0.3))
                        / sp[2];
                    let k0 = (z0 - wb).round().max(0.0) as usize;
                    let k1 = ((z0 + wa).round().max(0.0) as usize).min(nk - 1);
                    if k1 < k0 + 2 {
                        continue;
                    }
                    // The bone-free run with bone at both ends that is longest, less its distance from the
                    // starting plane (both in slices): faint marrow under an endplate (an osteoporotic or
                    // 3 mm body) can leave a longer gap inside the body than the disc itself, but the disc is
                    // where the whole plane holds the least bone.
                    let score = |a: usize, e: usize| -> f64 {
                        (e - a) as f64 - ((a as f64 + e as f64 - 1.0) / 2.0 - z0).abs()
                    };
                    let (mut best, mut run): (Option<(usize, usize)>, Option<usize>) = (None, None);
                    let mut seen_bone = false;
                    for k in k0..=k1 {
                        let b = filled.get(i, j, k) != 0;
                        match (b, run) {
                            (false, None) if seen_bone => run = Some(k),
                            (true, Some(st)) => {
                                if best.is_none_or(|(a, e)| score(st, k) > score(a, e)) {
                                    best = Some((st, k));
                                }
                                run = None;
                            }
                            _ => {}
                        }
                        seen_bone |= b;
                    }
                    if let Some((a, e)) = best {
                        // Run a..e (exclusive); its middle in mm.
                        let z = (a as f64 + e as f64 - 1.0) / 2.0 * sp[2];
                        pts.push([x, y, z]);
                    }
                }
            }
            let min_pts = 12.max((0.25 * std::f64::consts::PI * r * r / (sp[0] * sp[1])) as usize);
            let (ox, oy) = (cx * sp[0], cy * sp[1]);
            let mut use_pt = vec![true; pts.len()];
            let mut fit = None;
            for _ in 0..3 {
                let sel: Vec<&[f64; 3]> = pts
                    .iter()
                    .zip(&use_pt)
                    .filter(|x| *x.1)
                    .map(|x| x.0)
                    .collect();
                if sel.len() < min_pts {
                    return Some(fallback);
                }
                // Normal equations for z = a + b·(x−ox) + c·(y−oy).
                let mut m = [[0.0f64; 3]; 3];
                let mut v = [0.0f64; 3];
                for p in &sel {
                    let row = [1.0, p[0] - ox, p[1] - oy];
                    for a in 0..3 {
                        for b in 0..3 {
                            m[a][b] += row[a] * row[b];
                        }
                        v[a] += row[a] * p[2];
                    }
                }
                let Some(x) = solve3(m, v) else {
                    return Some(fallback);
                };
                let tol = 4.0f64.max(1.2 * sp[2]);
                for (u, p) in use_pt.iter_mut().zip(&pts) {
                    let pred = x[0] + x[1] * (p[0] - ox) + x[2] * (p[1] - oy);
                    *u = (p[2] - pred).abs() <= tol;
                }
                fit = Some(x);
            }
            let x = fit?;
            // Steeper than 50° to the slice: not a disc surface.
            if (x[1] * x[1] + x[2] * x[2]).sqrt() > 50f64.to_radians().tan()
                || (x[0] - c * sp[2]).abs() > 12.0
            {
                return Some(fallback);
            }
            let nn = [-x[1], -x[2], 1.0];
            let l = (nn[0] * nn[0] + nn[1] * nn[1] + 1.0).sqrt();
            Some(DiscPlane {
                o: [ox, oy, x[0]],
                n: [nn[0] / l, nn[1] / l, nn[2] / l],
                half_gap_mm: 0.0,
            })
        })
        .collect()
}

/// Solves a 3×3 linear system (Cramer's rule); `None` when singular.
fn solve3(m: [[f64; 3]; 3], v: [f64; 3]) -> Option<[f64; 3]> {
    let det = |a: [[f64; 3]; 3]| {
        a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
            - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
    };
    let d = det(m);
    if d.abs() < 1e-9 {
        return None;
    }
    Some(std::array::from_fn(|c| {
        let mut a = m;
        for r in 0..3 {
            a[r][c] = v[r];
        }
        det(a) / d
    }))
}

/// (lower, upper) disc surface of every segment; `None` at the ends of the column.
fn segment_bounds(
    s: &Spine,
    segs: &[Seg],
    planes: &[Option<DiscPlane>],
    sp: [f64; 3],
) -> Vec<(Option<DiscPlane>, Option<DiscPlane>)> {
    (0..segs.len())
        .map(|n| {
            let g = &segs[n];
            let lo = g
                .lo_is_disc
                .then(|| planes[n].unwrap_or_else(|| perpendicular_plane(s, g.lo, sp)));
            let hi = g.hi_is_disc.then(|| {
                let next = (n + 1 < segs.len() && (segs[n + 1].lo - g.hi).abs() < 1e-6)
                    .then(|| planes[n + 1])
                    .flatten();
                next.unwrap_or_else(|| perpendicular_plane(s, g.hi, sp))
            });
            (lo, hi)
        })
        .collect()
}

/// Segment index (1-based, caudal first) for every internal voxel of the column, by competitive growth from the
/// body cores through filled bone (geodesic, 26-neighbourhood, mm weights).
fn grow_vertebrae(
    filled: &Volume<u8>,
    s: &Spine,
    segs: &[Seg],
    bounds: &[(Option<DiscPlane>, Option<DiscPlane>)],
    sp: [f64; 3],
) -> Volume<u8> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let [ni, nj, nk] = filled.dims();
    let mut lab = vec![0u8; filled.len()];
    let mut dist = vec![f32::INFINITY; filled.len()];
    // Column region: ±55 mm laterally, from 15 mm in front of the body to 95 mm behind its centre.
    let in_column = |i: usize, j: usize, k: usize| -> bool {
        if k < s.k_lo || k > s.k_hi {
            return false;
        }
        let [x, y] = s.centre[k];
        let dx = (i as f64 - x) * sp[0];
        let dy = (j as f64 - y) * sp[1];
        dx.abs() <= 55.0 && dy >= -(s.depth_mm / 2.0 + 15.0) && dy <= 95.0
    };
    // Between segment n's disc surfaces, with a margin (mm) on each side.
    let between = |p: [f64; 3], n: usize, margin: f64| -> bool {
        let (lo, hi) = &bounds[n];
        lo.is_none_or(|pl| pl.dist(p) > margin) && hi.is_none_or(|pl| pl.dist(p) < -margin)
    };
    // Barrier test: only the surfaces shared with a neighbouring segment (an end of the column is not a barrier:
    // the bone beyond it belongs to no other segment).
    let between_neighbours = |p: [f64; 3], n: usize| -> bool {
        let (lo, hi) = &bounds[n];
        (n == 0 || lo.is_none_or(|pl| pl.dist(p) > pl.half_gap_mm))
            && (n + 1 == segs.len() || hi.is_none_or(|pl| pl.dist(p) < -pl.half_gap_mm))
    };
    // The body zone, where the disc surfaces are barriers: near the centre line, in front of the posterior wall.
    let zone_r = 1.2 * s.half_width_mm.max(s.depth_mm / 2.0);
    let in_body_zone = |i: usize, j: usize, k: usize| -> bool {
        let [x, y] = s.centre[k];
        let (dx, dy) = ((i as f64 - x) * sp[0], (j as f64 - y) * sp[1]);
        dx * dx + dy * dy <= zone_r * zone_r && (j as f64) <= s.back[k] + 1.0
    };
    let seed_r = 0.8 * (s.depth_mm / 2.0).min(s.half_width_mm);
    let mut heap = BinaryHeap::new();
    for k in s.k_lo..=s.k_hi {
        for j in 0..nj {
            for i in 0..ni {
                let idx = i + ni * (j + nj * k);
                if filled.data()[idx] == 0 {
                    continue;
                }
                let p = [i as f64 * sp[0], j as f64 * sp[1], k as f64 * sp[2]];
                let c = s.p_mm[k];
                let (dx, dy) = (p[0] - c[0], p[1] - c[1]);
                if dx * dx + dy * dy > seed_r * seed_r {
                    continue;
                }
                for (n, g) in segs.iter().enumerate() {
                    let in_range = k as f64 >= g.lo && k as f64 <= g.hi;
                    if between(p, n, 1.5) && (in_range || g.lo_is_disc && g.hi_is_disc) {
                        lab[idx] = (n + 1) as u8;
                        dist[idx] = 0.0;
                        heap.push((Reverse(0u32), idx as u32));
                        break;
                    }
                }
            }
        }
    }
    let mut offs = Vec::new();
    for dk in -1i32..=1 {
        for dj in -1i32..=1 {
            for di in -1i32..=1 {
                if (di, dj, dk) != (0, 0, 0) {
                    let w = ((di as f64 * sp[0]).powi(2)
                        + (dj as f64 * sp[1]).powi(2)
                        + (dk as f64 * sp[2]).powi(2))
                    .sqrt() as f32;
                    offs.push((di, dj, dk, w));
                }
            }
        }
    }
    const MAX_PATH_MM: f32 = 120.0;
    while let Some((Reverse(dq), idx)) = heap.pop() {
        let idx = idx as usize;
        let d = f32::from_bits(dq);
        if d > dist[idx] {
            continue;
        }
        let (i, j, k) = (idx % ni, (idx / ni) % nj, idx / (ni * nj));
        for &(di, dj, dk, w) in &offs {
            let (a, b, c) = (i as i32 + di, j as i32 + dj, k as i32 + dk);
            if a < 0 || b < 0 || c < 0 || a >= ni as i32 || b >= nj as i32 || c >= nk as i32 {
                continue;
            }
            let (a, b, c) = (a as usize, b as usize, c as usize);
            let q = a + ni * (b + nj * c);
            if filled.data()[q] == 0 || !in_column(a, b, c) {
                continue;
            }
            let nd = d + w;
            if nd < dist[q] && nd <= MAX_PATH_MM {
                let l = lab[idx] as usize - 1;
                if in_body_zone(a, b, c)
                    && !between_neighbours(
                        [a as f64 * sp[0], b as f64 * sp[1], c as f64 * sp[2]],
                        l,
                    )
                {
                    continue;
                }
                dist[q] = nd;
                lab[q] = lab[idx];
                heap.push((Reverse(nd.to_bits()), q as u32));
            }
        }
    }
    Volume::from_vec(filled.dims(), *filled.geometry(), lab).expect("dims")
}

/// Removes the ilia from the sacrum (segment 1): the growth reaches them across the sacroiliac joints, which
/// the marrow filling bridges at coarse voxels. Per side, the joint is the lateral offset 25–60 mm from the
/// midline where the sacrum label holds the least cortical bone (summed over its slices), provided more bone lies
/// beyond it; sacrum voxels further out are cleared.
fn trim_sacrum_at_si_joints(lab: &mut Volume<u8>, bone: &Volume<u8>, s: &Spine, sp: [f64; 3]) {
    let [ni, nj, _] = lab.dims();
    let nb = (80.0 / sp[0]).ceil() as usize + 1;
    // Bone count per lateral offset bin (voxel units), per side (0: −i, 1: +i).
    let mut prof = [vec![0f64; nb], vec![0f64; nb]];
    let off = |i: usize, k: usize| -> (usize, usize) {
        let dx = i as f64 - s.centre[k][0];
        (usize::from(dx > 0.0), dx.abs().round() as usize)
    };
    for k in s.k_lo..=s.k_hi {
        for j in 0..nj {
            for i in 0..ni {
                let idx = lab.index(i, j, k);
                if lab.data()[idx] == 1 && bone.data()[idx] != 0 {
                    let (side, b) = off(i, k);
                    if b < nb {
                        prof[side][b] += 1.0;
                    }
                }
            }
        }
    }
    let lo = (25.0 / sp[0]).round() as usize;
    let hi = ((60.0 / sp[0]).round() as usize).min(nb - 1);
    let mut limit = [usize::MAX; 2];
    for side in 0..2 {
        let p = smooth1d(&prof[side], 0.7);
        // Only up to the last offset that holds sacrum bone (the growth stops at the column's lateral limit).
        let Some(last) = prof[side].iter().rposition(|&v| v > 0.0) else {
            continue;
        };
        let Some((bmin, vmin)) = (lo..=hi.min(last.saturating_sub(1)))
            .map(|b| (b, p[b]))
            .min_by(|x, y| x.1.total_cmp(&y.1))
        else {
            continue;
        };
        let beyond = p[bmin + 1..].iter().copied().fold(0.0, f64::max);
        if beyond >= 1.3 * vmin.max(1.0) {
            limit[side] = bmin;
        }
    }
    if limit == [usize::MAX; 2] {
        return;
    }
    for k in s.k_lo..=s.k_hi {
        for j in 0..nj {
            for i in 0..ni {
                let idx = lab.index(i, j, k);
                if lab.data()[idx] == 1 {
                    let (side, b) = off(i, k);
                    if b > limit[side] {
                        lab.data_mut()[idx] = 0;
                    }
                }
            }
        }
    }
}

/// Surface voxels of a vertebra fainter than this are mostly soft tissue (partial volume): halfway between the
/// 130 HU accepted for the column analysis and the 180 HU bone threshold (140–160 HU gave the same Dice on the
/// TotalSegmentator example and the phantom; 190 HU starts eroding real cortex at 3 mm).
const SURFACE_MIN_HU: f64 = 150.0;

/// Peels the one-voxel surface layer of each vertebra that is fainter than `min_hu`: the column analysis
/// accepts partial-volumed cortex down to 130 HU, which at 3 mm puts a shell of half-bone voxels around every
/// vertebra. Only voxels with an unlabelled 6-neighbour are removed, so marrow inside stays.
fn peel_faint_surface(lab: &mut Volume<u8>, cti: &Volume<i16>, min_hu: f64) {
    let [ni, nj, nk] = lab.dims();
    let src = lab.data().to_vec();
    let out = lab.data_mut();
    for k in 0..nk {
        for j in 0..nj {
            for i in 0..ni {
                let q = i + ni * (j + nj * k);
                if src[q] == 0 || (cti.data()[q] as f64) >= min_hu {
                    continue;
                }
                let open = (i > 0 && src[q - 1] == 0)
                    || (i + 1 < ni && src[q + 1] == 0)
                    || (j > 0 && src[q - ni] == 0)
                    || (j + 1 < nj && src[q + ni] == 0)
                    || (k > 0 && src[q - ni * nj] == 0)
                    || (k + 1 < nk && src[q + ni * nj] == 0);
                if open {
                    out[q] = 0;
                }
            }
        }
    }
}

/// Outside the body, an enclosed hole of a vertebra is filled when at least this dense (HU): pedicle and
/// process marrow at 3 mm is 80–150 HU, the canal's fluid and fat (excluded anyway) and the fat between
/// processes are lower.
const ARCH_HOLE_MIN_HU: f64 = 80.0;

/// How far (mm) from another vertebra a voxel below the bone threshold counts as lying in the gap between the two:
/// 1.5 voxels at 3 mm (a thin disc or a facet joint blurred into the bone mask).
const INTERFACE_REACH_MM: f64 = 4.5;

/// Removes the faint voxels (below `min_hu`, the bone threshold) where two vertebrae meet: at coarse voxels the bone mask bridges a
/// thin disc or a facet joint, and the growth then carries each vertebra into the gap up to the other. A voxel is
/// removed when, within `reach` voxels along one of the six axis directions, the first labelled voxel belongs to
/// another vertebra.
fn peel_interfaces(lab: &mut Volume<u8>, cti: &Volume<i16>, min_hu: f64, reach: usize) {
    let [ni, nj, nk] = lab.dims();
    let src = lab.data().to_vec();
    let strides = [1isize, ni as isize, (ni * nj) as isize];
    let dims = [ni, nj, nk];
    let drop: Vec<usize> = (0..src.len())
        .into_par_iter()
        .filter(|&q| {
            let l = src[q];
            if l == 0 || f64::from(cti.data()[q]) >= min_hu {
                return false;
            }
            let pos = [q % ni, (q / ni) % nj, q / (ni * nj)];
            (0..3).any(|a| {
                [1isize, -1].iter().any(|&dir| {
                    (1..=reach as isize)
                        .take_while(|&d| {
                            let p = pos[a] as isize + dir * d;
                            p >= 0 && (p as usize) < dims[a]
                        })
                        .map(|d| src[(q as isize + dir * d * strides[a]) as usize])
                        .find(|&x| x != 0)
                        .is_some_and(|x| x != l)
                })
            })
        })
        .collect();
    for q in drop {
        lab.data_mut()[q] = 0;
    }
}

/// Fills the holes of each vertebra in its body (in front of the posterior wall): faint osteoporotic marrow and the
/// basivertebral vein's channel stay below the bone threshold and leave unlabelled slabs inside the body. A hole is
/// unlabelled background enclosed by the vertebra in an axial, coronal or sagittal section (two passes, so a slab
/// open in one orientation is closed by another); the canal, behind the wall, is never filled. With `arch`
/// (CT values, canal mask), enclosed holes outside the body are filled too where marrow-dense
/// (≥ `ARCH_HOLE_MIN_HU`) and not canal; with `body_any_hu` false only those dense holes are filled, in one pass.
fn fill_body_holes(
    lab: &mut Volume<u8>,
    s: &Spine,
    nseg: usize,
    sp: [f64; 3],
    arch: Option<(&Volume<i16>, &Volume<u8>)>,
    body_any_hu: bool,
) {
    let dims = lab.dims();
    let [ni, nj, _] = dims;
    let hw = s.half_width_mm + 4.0;
    // (in the body zone, fillable)
    let in_zone = |i: usize, j: usize, k: usize| -> (bool, bool) {
        let body = k >= s.k_lo
            && k <= s.k_hi
            && (j as f64) <= s.back[k] + 1.0
            && ((i as f64 - s.centre[k][0]) * sp[0]).abs() <= hw;
        let dense = arch.is_some_and(|(cti, canal)| {
            canal.get(i, j, k) == 0 && f64::from(cti.get(i, j, k)) >= ARCH_HOLE_MIN_HU
        });
        (body, (body && body_any_hu) || dense)
    };
    let reach = (ENDPLATE_ENCLOSURE_MM / sp[2]).ceil() as usize;
    for n in 1..=nseg as u8 {
        // Bounding box of the label, one voxel wider so that its border is outside.
        let (mut lo, mut hi) = ([usize::MAX; 3], [0usize; 3]);
        for (idx, &v) in lab.data().iter().enumerate() {
            if v == n {
                let p = [idx % ni, (idx / ni) % nj, idx / (ni * nj)];
                for a in 0..3 {
                    lo[a] = lo[a].min(p[a]);
                    hi[a] = hi[a].max(p[a]);
                }
            }
        }
        if lo[0] == usize::MAX {
            continue;
        }
        for a in 0..3 {
            lo[a] = lo[a].saturating_sub(1);
            hi[a] = (hi[a] + 1).min(dims[a] - 1);
        }
        for _pass in 0..if body_any_hu { 2 } else { 1 } {
            for axis in [2usize, 1, 0] {
                // The two in-plane axes.
                let (u, v) = match axis {
                    0 => (1, 2),
                    1 => (0, 2),
                    _ => (0, 1),
                };
                let (nu, nv) = (hi[u] - lo[u] + 1, hi[v] - lo[v] + 1);
                for w in lo[axis]..=hi[axis] {
                    let at = |a: usize, b: usize| -> usize {
                        let mut p = [0usize; 3];
                        p[axis] = w;
                        p[u] = lo[u] + a;
                        p[v] = lo[v] + b;
                        p[0] + ni * (p[1] + nj * p[2])
                    };
                    let mut reached = vec![false; nu * nv];
                    let mut stack = Vec::new();
                    for b in 0..nv {
                        for a in 0..nu {
                            let border = a == 0 || b == 0 || a + 1 == nu || b + 1 == nv;
                            if border && lab.data()[at(a, b)] != n {
                                reached[a + b * nu] = true;
                                stack.push((a, b));
                            }
                        }
                    }
                    while let Some((a, b)) = stack.pop() {
                        for (c, d) in [
                            (a.wrapping_sub(1), b),
                            (a + 1, b),
                            (a, b.wrapping_sub(1)),
                            (a, b + 1),
                        ] {
                            if c < nu && d < nv && !reached[c + d * nu] && lab.data()[at(c, d)] != n
                            {
                                reached[c + d * nu] = true;
                                stack.push((c, d));
                            }
                        }
                    }
                    for b in 0..nv {
                        for a in 0..nu {
                            let q = at(a, b);
                            if !reached[a + b * nu] && lab.data()[q] == 0 {
                                let (i, j, k) = (q % ni, (q / ni) % nj, q / (ni * nj));
                                let (body, fill) = in_zone(i, j, k);
                                // An axial hole in the body is marrow only when the body also closes it above
                                // and below: an endplate's central concavity (normal, or a biconcave
                                // fracture's cup) is ringed by the rim in the axial plane but open to the disc.
                                if fill
                                    && (axis != 2
                                        || !body
                                        || arch.is_none_or(|(cti, _)| {
                                            enclosed_vertically(lab, cti, (i, j, k), n, reach)
                                        }))
                                {
                                    lab.data_mut()[q] = n;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// How far (mm) above and below a voxel the body must close it for the voxel to count as enclosed marrow: more
/// than a lumbar body's height (adult lumbar bodies are 25–30 mm tall), so that the far endplate is reached from
/// anywhere inside the body; a neighbouring vertebra or nothing within reach means the voxel lies in an endplate's
/// concavity, open to the disc.
const ENDPLATE_ENCLOSURE_MM: f64 = 40.0;

/// Whether vertebra `n` closes a voxel both above and below along the slice axis (within `reach` slices): going
/// each way, the first labelled voxel belongs to `n`, or a bone-dense voxel (≥ `ENDPLATE_MIN_HU`, an endplate
/// the bone mask lost, e.g. under an elderly body's faint marrow) comes before any other label. Marrow inside a
/// body is closed by both endplates; the disc in an endplate's central concavity (normal, or the cup of a
/// biconcave fracture) meets the next vertebra or nothing.
fn enclosed_vertically(
    lab: &Volume<u8>,
    cti: &Volume<i16>,
    (i, j, k): (usize, usize, usize),
    n: u8,
    reach: usize,
) -> bool {
    let nk = lab.dims()[2];
    let closed = |z: usize| -> Option<bool> {
        let v = lab.get(i, j, z);
        if v != 0 {
            Some(v == n)
        } else if cti.get(i, j, z) >= ENDPLATE_MIN_HU {
            Some(true)
        } else {
            None
        }
    };
    let up = (k + 1..(k + 1 + reach).min(nk)).find_map(closed);
    let down = (k.saturating_sub(reach)..k).rev().find_map(closed);
    up == Some(true) && down == Some(true)
}

/// An unlabelled voxel at least this dense (HU) closes a body vertically: the bone threshold (§ bone mask, 180 HU),
/// above any disc or marrow that is not bone.
const ENDPLATE_MIN_HU: i16 = 150;

/// Marrow (HU) that a large body section's convex hull may take: above fat and fluid (cortex is labelled already).
const SECTION_FILL_MIN_HU: i16 = 60;

/// In smaller sections (near an endplate, where the hull may reach into a disc's margin) only denser voxels are
/// taken: above disc tissue at 3 mm (70–90 HU), below faint marrow.
const SECTION_FILL_PARTIAL_MIN_HU: i16 = 90;

/// Sections at least this fraction of the body's largest are "large".
const SECTION_FILL_FULL_FRACTION: f64 = 0.6;

/// Sections under this fraction of the body's largest (a corner of a tilted body) are left alone.
const SECTION_FILL_MIN_FRACTION: f64 = 0.15;

/// Fills each vertebral body's axial sections to their convex hull, in the body zone (in front of the posterior
/// wall, within the body's half-width): where the anterior cortex is thin (elderly, osteoporotic bone, 3 mm
/// partial volume) the bone mask leaves the ring open and the faint marrow behind it unlabelled, which the
/// enclosed-hole filling cannot reach. A body section is convex apart from its posterior wall, which lies outside
/// the zone. Voxels must be marrow-dense (fat, fluid and, in smaller sections, disc tissue stay out).
fn fill_body_sections(
    lab: &mut Volume<u8>,
    cti: &Volume<i16>,
    s: &Spine,
    nseg: usize,
    sp: [f64; 3],
) {
    let [ni, nj, nk] = lab.dims();
    let hw = s.half_width_mm + 4.0;
    let reach = (ENDPLATE_ENCLOSURE_MM / sp[2]).ceil() as usize;
    let in_zone = |i: usize, j: usize, k: usize| -> bool {
        (j as f64) <= s.back[k] + 1.0 && ((i as f64 - s.centre[k][0]) * sp[0]).abs() <= hw
    };
    // Zone voxels per slice per label.
    let mut pts: Vec<Vec<Vec<(i64, i64)>>> = vec![vec![Vec::new(); nseg + 1]; nk];
    for (k, per) in pts.iter_mut().enumerate().take(s.k_hi + 1).skip(s.k_lo) {
        for j in 0..nj {
            for i in 0..ni {
                let v = lab.get(i, j, k) as usize;
                if v != 0 && v <= nseg && in_zone(i, j, k) {
                    per[v].push((i as i64, j as i64));
                }
            }
        }
    }
    let mut largest = vec![0usize; nseg + 1];
    for per in &pts {
        for (n, p) in per.iter().enumerate() {
            largest[n] = largest[n].max(p.len());
        }
    }
    for (k, per) in pts.iter().enumerate() {
        for (n, p) in per.iter().enumerate().skip(1) {
            let frac = p.len() as f64 / largest[n].max(1) as f64;
            if p.len() < 8 || frac < SECTION_FILL_MIN_FRACTION {
                continue;
            }
            let min_hu = if frac >= SECTION_FILL_FULL_FRACTION {
                SECTION_FILL_MIN_HU
            } else {
                SECTION_FILL_PARTIAL_MIN_HU
            };
            let hull = convex_hull(p);
            if hull.len() < 3 {
                continue;
            }
            let (i0, i1) = (
                p.iter().map(|q| q.0).min().unwrap_or(0),
                p.iter().map(|q| q.0).max().unwrap_or(0),
            );
            let (j0, j1) = (
                p.iter().map(|q| q.1).min().unwrap_or(0),
                p.iter().map(|q| q.1).max().unwrap_or(0),
            );
            for j in j0..=j1 {
                for i in i0..=i1 {
                    let (iu, ju) = (i as usize, j as usize);
                    let idx = lab.index(iu, ju, k);
                    if lab.data()[idx] == 0
                        && cti.data()[idx] >= min_hu
                        && in_zone(iu, ju, k)
                        && inside_convex(&hull, (i, j))
                        && enclosed_vertically(lab, cti, (iu, ju, k), n as u8, reach)
                    {
                        lab.data_mut()[idx] = n as u8;
                    }
                }
            }
        }
    }
}

/// Convex hull (Andrew's monotone chain), counter-clockwise, without collinear points.
fn convex_hull(p: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut pts = p.to_vec();
    pts.sort_unstable();
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: (i64, i64), a: (i64, i64), b: (i64, i64)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let mut h: Vec<(i64, i64)> = Vec::with_capacity(2 * pts.len());
    for &q in &pts {
        while h.len() >= 2 && cross(h[h.len() - 2], h[h.len() - 1], q) <= 0 {
            h.pop();
        }
        h.push(q);
    }
    let lower = h.len() + 1;
    for &q in pts.iter().rev().skip(1) {
        while h.len() >= lower && cross(h[h.len() - 2], h[h.len() - 1], q) <= 0 {
            h.pop();
        }
        h.push(q);
    }
    h.pop();
    h
}

/// Whether a point lies inside or on a counter-clockwise convex polygon.
fn inside_convex(h: &[(i64, i64)], q: (i64, i64)) -> bool {
    (0..h.len()).all(|a| {
        let (o, b) = (h[a], h[(a + 1) % h.len()]);
        (b.0 - o.0) * (q.1 - o.1) - (b.1 - o.1) * (q.0 - o.0) >= 0
    })
}

/// Bodies: each vertebra's voxels in front of its posterior body wall. The wall is located per vertebra from the
/// canal's anterior boundary next to the midline (the first canal row, minus one row for the cortex the canal
/// mask stops short of), fitted as a line over the vertebra's slices so that a tilted body (L5 in lordosis) keeps
/// a tilted wall and a slice where the canal is missed does not notch the body, then shifted per column by the
/// canal front's median offset there (the concave back surface's posterolateral corners). Without canal
/// evidence (fewer than three slices) the traced column wall is used.
fn body_labels(
    lab: &Volume<u8>,
    canal: &Volume<u8>,
    s: &Spine,
    nseg: usize,
    sp: [f64; 3],
) -> Volume<u8> {
    let [ni, nj, nk] = lab.dims();
    let hw = s.half_width_mm + 4.0;
    let mid_mm = 6.0;
    // Per label, per slice: the canal front (min j of canal voxels within ±mid_mm of the column centre).
    let mut wall: Vec<Vec<Option<f64>>> = vec![vec![None; nk]; nseg + 1];
    let mut present = vec![vec![false; nk]; nseg + 1];
    for (idx, &v) in lab.data().iter().enumerate() {
        if v != 0 && (v as usize) <= nseg {
            present[v as usize][idx / (ni * nj)] = true;
        }
    }
    for k in s.k_lo..=s.k_hi {
        let x = s.centre[k][0];
        let mut front: Option<usize> = None;
        for j in 0..nj {
            for i in 0..ni {
                if ((i as f64 - x) * sp[0]).abs() <= mid_mm && canal.get(i, j, k) != 0 {
                    front = Some(front.map_or(j, |f: usize| f.min(j)));
                }
            }
        }
        if let Some(f) = front {
            for n in 1..=nseg {
                if present[n][k] {
                    wall[n][k] = Some(f as f64 - 1.0);
                }
            }
        }
    }
    // Line fit j = a + b k per label (least squares), slope limited to ±1 row per slice.
    let fit: Vec<Option<(f64, f64)>> = wall
        .iter()
        .map(|w| {
            let pts: Vec<(f64, f64)> = w
                .iter()
                .enumerate()
                .filter_map(|(k, v)| v.map(|j| (k as f64, j)))
                .collect();
            if pts.len() < 3 {
                return None;
            }
            let n = pts.len() as f64;
            let (mk, mj) = (
                pts.iter().map(|p| p.0).sum::<f64>() / n,
                pts.iter().map(|p| p.1).sum::<f64>() / n,
            );
            let sxx: f64 = pts.iter().map(|p| (p.0 - mk).powi(2)).sum();
            let sxy: f64 = pts.iter().map(|p| (p.0 - mk) * (p.1 - mj)).sum();
            let b = if sxx > 0.0 {
                (sxy / sxx).clamp(-1.0, 1.0)
            } else {
                0.0
            };
            Some((mj - b * mk, b))
        })
        .collect();
    // Per label, per column offset from the centre: how far the canal front lies behind its midline value
    // (median over the label's slices). The body's back surface is concave, so its posterolateral corners reach
    // behind the midline front; beyond the canal's sides the offset at its edge is kept. Capped at 2 mm so that
    // the round canal's sides do not pull the pedicle roots into the body (larger caps lost Dice on both the
    // phantom and the TotalSegmentator example).
    let half = (hw / sp[0]).ceil() as i64;
    let width = (2 * half + 1) as usize;
    let max_off = 2.0 / sp[1];
    let mut offs: Vec<Vec<Option<f64>>> = vec![vec![None; width]; nseg + 1];
    for (n, row) in offs.iter_mut().enumerate().skip(1) {
        if fit[n].is_none() {
            continue;
        }
        let mut per: Vec<Vec<f64>> = vec![Vec::new(); width];
        let mut nsl = 0usize;
        for (k, w) in wall[n].iter().enumerate().take(s.k_hi + 1).skip(s.k_lo) {
            let Some(mid) = *w else { continue };
            nsl += 1;
            let x = s.centre[k][0];
            for (c, p) in per.iter_mut().enumerate() {
                let i = x.round() as i64 + c as i64 - half;
                if i < 0 || i >= ni as i64 {
                    continue;
                }
                if let Some(f) = (0..nj).find(|&j| canal.get(i as usize, j, k) != 0) {
                    p.push((f as f64 - 1.0 - mid).clamp(0.0, max_off));
                }
            }
        }
        for (o, p) in row.iter_mut().zip(per.iter_mut()) {
            if p.len() * 2 >= nsl && !p.is_empty() {
                p.sort_by(|a, b| a.total_cmp(b));
                *o = Some(p[p.len() / 2]);
            }
        }
        // Beyond the canal's sides: the offset at its nearest edge; gaps inside it: the midline's (0).
        if let Some(c0) = row.iter().position(Option::is_some) {
            let c1 = row.iter().rposition(Option::is_some).unwrap_or(c0);
            let (o0, o1) = (row[c0], row[c1]);
            for (c, o) in row.iter_mut().enumerate() {
                if c < c0 {
                    *o = o0;
                } else if c > c1 {
                    *o = o1;
                } else if o.is_none() {
                    *o = Some(0.0);
                }
            }
        }
    }
    let mut out = lab.clone();
    for (idx, v) in out.data_mut().iter_mut().enumerate() {
        if *v == 0 {
            continue;
        }
        let (i, j, k) = (idx % ni, (idx / ni) % nj, idx / (ni * nj));
        let kc = k.clamp(s.k_lo, s.k_hi);
        let [x, _] = s.centre[kc];
        let c = i as i64 - x.round() as i64 + half;
        let off = if c >= 0 && (c as usize) < width {
            offs[*v as usize][c as usize]
        } else {
            None
        };
        let back = fit
            .get(*v as usize)
            .copied()
            .flatten()
            .map_or(s.back[kc] + 0.5, |(a, b)| {
                let w = a + b * k as f64 + 0.5;
                match off {
                    Some(o) => w + o,
                    None => w,
                }
            });
        let keep = (j as f64) <= back && ((i as f64 - x) * sp[0]).abs() <= hw;
        if !keep {
            *v = 0;
        }
    }
    out
}

/// Discs: soft tissue between consecutive bodies, within the body outline, in front of the canal. Value = index
/// of the segment above the disc's lower neighbour... i.e. the segment above (1-based, caudal first).
fn disc_labels(
    cti: &Volume<i16>,
    filled: &Volume<u8>,
    lab: &Volume<u8>,
    s: &Spine,
    segs: &[Seg],
    sp: [f64; 3],
) -> Volume<u8> {
    let [ni, nj, nk] = filled.dims();
    let mut out = Volume::<u8>::zeros(filled.dims(), *filled.geometry()).expect("dims");
    let r = 0.9 * s.half_width_mm.min(s.depth_mm / 2.0);
    for (n, g) in segs.iter().enumerate() {
        if !g.lo_is_disc || n == 0 {
            continue;
        }
        let c = g.lo;
        let kc = (c.round() as usize).clamp(s.k_lo, s.k_hi);
        let o = [s.p_mm[kc][0], s.p_mm[kc][1], c * sp[2]];
        let t = s.t[kc];
        let half = 10.0;
        let k0 = ((c - half / sp[2]).floor().max(0.0)) as usize;
        let k1 = ((c + half / sp[2]).ceil() as usize).min(nk - 1);
        for k in k0..=k1 {
            for j in 0..nj {
                for i in 0..ni {
                    let idx = i + ni * (j + nj * k);
                    if filled.data()[idx] != 0 || lab.data()[idx] != 0 {
                        continue;
                    }
                    let hu = cti.data()[idx];
                    if !(-50..=250).contains(&hu) {
                        continue;
                    }
                    let p = [i as f64 * sp[0], j as f64 * sp[1], k as f64 * sp[2]];
                    let d = [p[0] - o[0], p[1] - o[1], p[2] - o[2]];
                    let along = d[0] * t[0] + d[1] * t[1] + d[2] * t[2];
                    if along.abs() > half {
                        continue;
                    }
                    let perp2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] - along * along;
                    if perp2 > r * r || j as f64 > s.back[kc] {
                        continue;
                    }
                    // Between the two bodies: the nearest bone along ±tangent must belong to n and n+1.
                    out.data_mut()[idx] = (n + 1) as u8;
                }
            }
        }
    }
    // Keep only disc voxels bounded by bone above and below along the slice axis within 12 mm.
    let keep: Vec<bool> = (0..out.len())
        .into_par_iter()
        .map(|idx| {
            let v = out.data()[idx];
            if v == 0 {
                return false;
            }
            let (i, j, k) = (idx % ni, (idx / ni) % nj, idx / (ni * nj));
            let steps = (12.0 / sp[2]).ceil() as usize;
            let up = (1..=steps).any(|d| k + d < nk && filled.get(i, j, k + d) != 0);
            let down = (1..=steps).any(|d| k >= d && filled.get(i, j, k - d) != 0);
            up && down
        })
        .collect();
    for (v, k) in out.data_mut().iter_mut().zip(keep) {
        if !k {
            *v = 0;
        }
    }
    out
}

/// Probe for the posterior body wall: per slice, the non-bone region (−100…120 HU, outside filled bone) reached
/// from 7 mm behind the traced wall, within 12 mm. Its front is the first soft-tissue row behind the body's
/// cortex, which `body_labels` cuts at and the marrow filling must not cross; it is not the canal (fat and
/// enhancing veins are left out, and it stops 12 mm from its seed).
fn wall_probe(cti: &Volume<i16>, filled: &Volume<u8>, s: &Spine, sp: [f64; 3]) -> Volume<u8> {
    let [ni, nj, _] = filled.dims();
    let plane = ni * nj;
    let mut out = Volume::<u8>::zeros(filled.dims(), *filled.geometry()).expect("dims");
    let k_lo = s.k_lo;
    out.data_mut()
        .par_chunks_mut(plane)
        .enumerate()
        .filter(|(k, _)| *k >= k_lo && *k <= s.k_hi)
        .for_each(|(k, o)| {
            let sl = filled.slice_k(k);
            let hu = cti.slice_k(k);
            let seed = [s.centre[k][0], s.back[k] + 7.0 / sp[1]];
            let (si, sj) = (seed[0].round() as usize, seed[1].round() as usize);
            if si >= ni || sj >= nj {
                return;
            }
            let ok = |i: usize, j: usize| {
                let dx = (i as f64 - seed[0]) * sp[0];
                let dy = (j as f64 - seed[1]) * sp[1];
                let p = i + j * ni;
                dx * dx + dy * dy <= 144.0 && sl[p] == 0 && hu[p] < 120 && hu[p] > -100
            };
            if !ok(si, sj) {
                return;
            }
            let mut stack = vec![(si, sj)];
            o[si + sj * ni] = 1;
            while let Some((i, j)) = stack.pop() {
                for (a, b) in [
                    (i.wrapping_sub(1), j),
                    (i + 1, j),
                    (i, j.wrapping_sub(1)),
                    (i, j + 1),
                ] {
                    if a < ni && b < nj && o[a + b * ni] == 0 && ok(a, b) {
                        o[a + b * ni] = 1;
                        stack.push((a, b));
                    }
                }
            }
        });
    out
}

/// Number of rays cast from the canal's centre in each slice (7.5° apart).
const CANAL_RAYS: usize = 48;

/// Farthest (mm) a ray looks for the canal's bony wall: beyond any adult canal's half-diameter (lumbar canal
/// AP 15–25 mm, transverse 20–30 mm; clinical-reference §5.1), short of the paraspinal muscles' far side.
const CANAL_MAX_RADIUS_MM: f64 = 20.0;

/// How far (mm) behind the body's posterior wall the first ray centre is put: inside even a stenotic canal
/// (absolute stenosis is AP < 10 mm, §5.1).
const CANAL_SEED_MM: f64 = 5.0;

/// Where a ray finds no wall (an intervertebral foramen, the interlaminar gap at a disc), its radius is taken
/// from the same direction in the slices within this distance (mm) above and below: about half a vertebra.
const CANAL_BRIDGE_MM: f64 = 12.0;

/// Largest ratio of a canal ray's radius to the median of its direction along the column: the canal widens at
/// the lateral recesses and discs by well under a third, a ray through a gap in the arch to the spinous process
/// or the next lamina is about twice as long.
const CANAL_RADIUS_CAP: f64 = 1.3;

/// Canal: per slice along the column, the soft-tissue space that the vertebral foramen encloses (dural sac,
/// epidural fat and veins, ligaments), bounded in front by the body's posterior wall (or, at a disc, the traced
/// wall line) and around by the pedicles, laminae and facets. Rays are cast from the canal's centre to the first
/// bone (filled bone or ≥ the 180 HU bone threshold); directions without bone within reach (foramina, the
/// interlaminar gap) take the radius from the same direction in the nearest slices that have it, else from the
/// neighbouring directions. The centre is re-estimated once from the first outline (smoothed along the column).
/// Unlike a threshold flood, this keeps fat (≤ −100 HU) and enhancing veins inside the canal and does not leak
/// through the foramina.
fn canal_mask(cti: &Volume<i16>, s: &Spine, sp: [f64; 3]) -> Volume<u8> {
    let [ni, nj, nk] = cti.dims();
    let bone_hu = 180i16;
    let wall = |i: isize, j: isize, k: usize| -> bool {
        if i < 0 || j < 0 || i as usize >= ni || j as usize >= nj {
            return true;
        }
        let (i, j) = (i as usize, j as usize);
        cti.get(i, j, k) >= bone_hu || (j as f64) < s.back[k] - 0.5
    };
    let dirs: Vec<(f64, f64)> = (0..CANAL_RAYS)
        .map(|a| {
            let t = a as f64 * std::f64::consts::TAU / CANAL_RAYS as f64;
            (t.cos(), t.sin())
        })
        .collect();
    let step = 0.5 * sp[0].min(sp[1]);
    // Radius (mm) to the wall along each ray from (x, y) in slice k; None where no wall within reach. None for the
    // whole slice when the centre itself is bone.
    let cast = |k: usize, x: f64, y: f64| -> Option<Vec<Option<f64>>> {
        if wall(x.round() as isize, y.round() as isize, k) {
            return None;
        }
        Some(
            dirs.iter()
                .map(|&(dx, dy)| {
                    let mut r = step;
                    while r <= CANAL_MAX_RADIUS_MM {
                        let (i, j) = (x + r * dx / sp[0], y + r * dy / sp[1]);
                        if wall(i.round() as isize, j.round() as isize, k) {
                            return Some(r - 0.5 * step);
                        }
                        r += step;
                    }
                    None
                })
                .collect(),
        )
    };
    // Open rays from the neighbouring directions (circularly), when at least a third of the rays are closed.
    let close_in_slice = |r: &[Option<f64>]| -> Option<Vec<f64>> {
        let known: Vec<usize> = (0..r.len()).filter(|&a| r[a].is_some()).collect();
        if known.len() * 3 < r.len() {
            return None;
        }
        let n = r.len();
        Some(
            (0..n)
                .map(|a| {
                    if let Some(v) = r[a] {
                        return v;
                    }
                    let prev = (1..n).map(|d| (a + n - d) % n).find(|&b| r[b].is_some());
                    let next = (1..n).map(|d| (a + d) % n).find(|&b| r[b].is_some());
                    match (prev, next) {
                        (Some(p), Some(q)) => {
                            let (dp, dq) = ((a + n - p) % n, (q + n - a) % n);
                            let (vp, vq) = (r[p].unwrap_or(0.0), r[q].unwrap_or(0.0));
                            (vp * dq as f64 + vq * dp as f64) / (dp + dq) as f64
                        }
                        _ => 0.0,
                    }
                })
                .collect(),
        )
    };
    let ks: Vec<usize> = (s.k_lo..=s.k_hi).collect();
    // Pass 1: from a point behind the wall; the outline's centroid is the canal centre.
    let centres: Vec<(Option<f64>, Option<f64>)> = ks
        .par_iter()
        .map(|&k| {
            let (x, y) = (s.centre[k][0], s.back[k] + CANAL_SEED_MM / sp[1]);
            let Some(r) = cast(k, x, y).as_deref().and_then(close_in_slice) else {
                return (None, None);
            };
            let (mut sx, mut sy) = (0.0, 0.0);
            for (&(dx, dy), &v) in dirs.iter().zip(&r) {
                // Centroid of the star polygon: each sector's centroid at 2/3 of its radius, weighted by r².
                sx += v * v * (x + 2.0 / 3.0 * v * dx / sp[0]);
                sy += v * v * (y + 2.0 / 3.0 * v * dy / sp[1]);
            }
            let w: f64 = r.iter().map(|v| v * v).sum();
            if w <= 0.0 {
                return (None, None);
            }
            (Some(sx / w), Some(sy / w))
        })
        .collect();
    let rz = (6.0 / sp[2]).round() as usize;
    let (cxs, cys): (Vec<Option<f64>>, Vec<Option<f64>>) = centres.into_iter().unzip();
    let (Some(cx), Some(cy)) = (
        interpolate(&running_median(&cxs, rz)),
        interpolate(&running_median(&cys, rz)),
    ) else {
        return Volume::<u8>::zeros(cti.dims(), *cti.geometry()).expect("dims");
    };
    let cx = smooth1d(&cx, 3.0 / sp[2]);
    let cy = smooth1d(&cy, 3.0 / sp[2]);
    // Pass 2: rays from the smoothed centres.
    let rays: Vec<Option<Vec<Option<f64>>>> = (0..ks.len())
        .into_par_iter()
        .map(|n| cast(ks[n], cx[n], cy[n]))
        .collect();
    // Open rays: the same direction in the nearest slices (linear between the two sides), else in-slice.
    let bridge = (CANAL_BRIDGE_MM / sp[2]).round() as usize;
    let radii: Vec<Option<Vec<f64>>> = (0..ks.len())
        .into_par_iter()
        .map(|n| {
            let r = rays[n].as_ref()?;
            let filled_r: Vec<Option<f64>> = (0..CANAL_RAYS)
                .map(|a| {
                    r[a].or_else(|| {
                        let find = |dir: isize| {
                            (1..=bridge as isize).find_map(|d| {
                                let m = n as isize + dir * d;
                                if m < 0 || m as usize >= ks.len() {
                                    return None;
                                }
                                rays[m as usize].as_ref()?[a].map(|v| (d as f64, v))
                            })
                        };
                        match (find(-1), find(1)) {
                            (Some((d0, v0)), Some((d1, v1))) => {
                                Some((v0 * d1 + v1 * d0) / (d0 + d1))
                            }
                            (Some((_, v)), None) | (None, Some((_, v))) => Some(v),
                            (None, None) => None,
                        }
                    })
                })
                .collect();
            close_in_slice(&filled_r)
        })
        .collect();
    // A ray through a gap in the arch (the interlaminar space or a facet joint at a disc) may reach bone far
    // behind the canal (the spinous process, the next lamina): no direction is longer than `CANAL_RADIUS_CAP`
    // times the median of the same direction over the slices within the bridging distance, mostly closed by the
    // arch.
    let radii: Vec<Option<Vec<f64>>> = (0..ks.len())
        .map(|n| {
            let r = radii[n].as_ref()?;
            let (lo, hi) = (n.saturating_sub(bridge), (n + bridge).min(ks.len() - 1));
            Some(
                (0..CANAL_RAYS)
                    .map(|a| {
                        let m = median(
                            (lo..=hi)
                                .filter_map(|m| radii[m].as_ref().map(|v| v[a]))
                                .collect(),
                        );
                        m.map_or(r[a], |m| r[a].min(CANAL_RADIUS_CAP * m))
                    })
                    .collect(),
            )
        })
        .collect();
    let mut out = Volume::<u8>::zeros(cti.dims(), *cti.geometry()).expect("dims");
    let plane = ni * nj;
    let k_lo = s.k_lo;
    out.data_mut()
        .par_chunks_mut(plane)
        .enumerate()
        .filter(|(k, _)| *k >= k_lo && *k <= s.k_hi && *k < nk)
        .for_each(|(k, o)| {
            let n = k - k_lo;
            let Some(r) = &radii[n] else { return };
            let (x, y) = (cx[n], cy[n]);
            let reach_i = (CANAL_MAX_RADIUS_MM / sp[0]).ceil() as isize;
            let reach_j = (CANAL_MAX_RADIUS_MM / sp[1]).ceil() as isize;
            let (xi, yj) = (x.round() as isize, y.round() as isize);
            for j in (yj - reach_j).max(0)..=(yj + reach_j).min(nj as isize - 1) {
                for i in (xi - reach_i).max(0)..=(xi + reach_i).min(ni as isize - 1) {
                    let (dx, dy) = ((i as f64 - x) * sp[0], (j as f64 - y) * sp[1]);
                    let d = (dx * dx + dy * dy).sqrt();
                    // Radius of the outline in this direction, linear between the two nearest rays.
                    let t = dy.atan2(dx).rem_euclid(std::f64::consts::TAU) / std::f64::consts::TAU
                        * CANAL_RAYS as f64;
                    let a0 = t.floor() as usize % CANAL_RAYS;
                    let a1 = (a0 + 1) % CANAL_RAYS;
                    let f = t - t.floor();
                    let rr = r[a0] * (1.0 - f) + r[a1] * f;
                    if d <= rr && !wall(i, j, k) {
                        o[i as usize + j as usize * ni] = 1;
                    }
                }
            }
        });
    out
}

#[allow(clippy::too_many_arguments)]
fn build_report(
    labels: &Volume<u8>,
    bodies: &Volume<u8>,
    discs: &Volume<u8>,
    segs: &[Seg],
    s: &Spine,
    gi: &Geometry,
    naming: &Naming,
    ribs: &Ribs,
    bone: &BoneResult,
) -> SpineReport {
    let g = labels.geometry();
    let vox_ml: f64 = g.spacing_mm.iter().product::<f64>() / 1000.0;
    let lp = morph::region_props(labels);
    let bp = morph::region_props(bodies);
    let dp = morph::region_props(discs);
    let heights: Vec<f64> = segs
        .iter()
        .map(|g| (g.hi - g.lo) * gi.spacing_mm[2])
        .collect();
    let mut vertebrae = Vec::new();
    for (n, seg) in segs.iter().enumerate() {
        let level = naming.levels[n];
        let label = level.verse_label();
        let Some(p) = lp.iter().find(|p| p.label == label as u32) else {
            continue;
        };
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for c in 0..8 {
            let idx: [f64; 3] = std::array::from_fn(|a| {
                (if c >> a & 1 == 1 {
                    p.bbox_hi[a]
                } else {
                    p.bbox_lo[a]
                }) as f64
            });
            let w = g.index_to_world(idx);
            for a in 0..3 {
                lo[a] = lo[a].min(w[a]);
                hi[a] = hi[a].max(w[a]);
            }
        }
        let partial = !(seg.sacrum || seg.lo_is_disc && seg.hi_is_disc);
        // A vertebra cut by the top of the view may have its rib above the view: only a rib seen counts there.
        let rib_assessable = !seg.sacrum && (seg.hi_is_disc || ribs[n].0 || ribs[n].1);
        // Thoracic names rest on the assumption of 12 rib pairs: the first rib is not detected, and from below
        // 11 or 13 rib pairs cannot be told apart from 12.
        let thoracic_assumed = level.region() == spinekit_anatomy::Region::Thoracic;
        let conf = naming.confidence
            * if partial { 0.7 } else { 1.0 }
            * if thoracic_assumed { 0.6 } else { 1.0 };
        vertebrae.push(VertebraReport {
            level,
            label,
            centroid_mm: p.centroid_mm,
            body_centroid_mm: bp
                .iter()
                .find(|b| b.label == label as u32)
                .map(|b| b.centroid_mm),
            bbox_mm: (lo, hi),
            volume_ml: p.voxels as f64 * vox_ml,
            height_mm: (seg.lo_is_disc && seg.hi_is_disc).then_some(heights[n]),
            partial,
            rib_bearing: rib_assessable.then(|| ribs[n].0 || ribs[n].1),
            confidence: conf,
        });
    }
    vertebrae.reverse(); // cranial first
    let mut disc_reports = Vec::new();
    for n in (1..segs.len()).rev() {
        if !segs[n].lo_is_disc {
            continue;
        }
        let upper = naming.levels[n];
        let lower = naming.levels[n - 1];
        let label = 100 + upper.verse_label() as u16;
        if let Some(p) = dp.iter().find(|p| p.label == label as u32) {
            disc_reports.push(DiscReport {
                upper,
                lower,
                label,
                centre_mm: p.centroid_mm,
            });
        }
    }
    let centreline_mm = (s.k_lo..=s.k_hi)
        .rev()
        .step_by(((5.0 / gi.spacing_mm[2]).round() as usize).max(1))
        .map(|k| gi.index_to_world([s.centre[k][0], s.centre[k][1], k as f64]))
        .collect();
    SpineReport {
        vertebrae,
        discs: disc_reports,
        numbering: naming.numbering.clone(),
        centreline_mm,
        findings: Findings {
            metal: bone.metal_ml >= 0.05,
            metal_volume_ml: bone.metal_ml,
            contrast_or_dense_soft_tissue: bone.dense_non_bone_ml >= CONTRAST_FINDING_ML,
            dense_non_bone_volume_ml: bone.dense_non_bone_ml,
            clipped_high_values: bone.clipped,
        },
    }
}
