//! The segmentation pipeline (see the crate documentation for the method).
use crate::numbering::{
    apply_sacroiliac_cue, assign_ribs, detect_c2, find_rib_exits, name_levels, Naming, Ribs,
};
use crate::report::*;
use crate::stats::median;
use crate::validate::validate_ct;
use crate::CtError;
use rayon::prelude::*;
use spinekit_image::{
    reorient_to, resample_to_grid, Geometry, Interpolation, OrientationCode, Volume,
};
use spinekit_morph as morph;
use std::time::Instant;

mod bodies;
mod bone;
mod canal;
mod checks;
mod discs;
mod sacrum;
mod trace;
mod vertebrae;

use bodies::*;
use bone::*;
use canal::*;
use checks::*;
use discs::*;
pub(crate) use sacrum::Sacroiliac;
use sacrum::*;
use trace::*;
use vertebrae::*;

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
    // Reported: a noisy image (thin-slice bone-kernel or low-dose series) is what the engine reads least well.
    let noise_hu = noise_sigma_hu(ct);
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

    // An enhanced blood pool that reads near or above the cortex (a CT angiogram) is told from bone by its density.
    let blood_hu = blood_pool_hu(&cti, &body, noise_hu);
    let mut bone_res = bone_mask(ct, &body, opts, blood_hu, noise_hu);
    bone_res.noise_hu = noise_hu;
    timer.lap("bone", 0.35);

    let bone_i = resample_to_grid(&bone_res.bone, di, gi, Interpolation::Nearest, 0)?;
    // Dense structures without cortex (contrast-filled aorta, kidneys, bowel) and their partial-volumed rim must
    // not join the column where they touch it.
    // (The input-grid map is not needed after this: dropped, as it would otherwise add to the peak memory.)
    let dense_i = match bone_res.dense_non_bone.take() {
        Some(d) if d.data().par_iter().any(|&v| v != 0) => Some(morph::dilate_mm(
            &resample_to_grid(&d, di, gi, Interpolation::Nearest, 0)?,
            DENSE_RIM_MM,
        )),
        _ => None,
    };
    // For the column analysis, marrow and partial-volumed cortex (≥ 130 HU) next to accepted bone count too:
    // at 3 mm the cortex alone is too broken to enclose the bodies.
    // In a noisy contrast study, the bone without the speckle of enhancing organs (see `speckle_free_bone`) takes
    // the bone's place here: as seeds of that neighbourhood, and in the analysis itself (the speckle of a 150 HU
    // heart in 45 HU of noise joins the ribs; filled slice by slice it became a solid heart that the centreline
    // followed). Speckle within 8 mm of the bone comes back with the dense tissue there, which is then read by the
    // mean of each voxel with its six neighbours: a liver at 110 HU in 45 HU of noise puts a third of its voxels
    // at 130 HU or more, scattered; closed slice by slice they made solid masses against the ribs and the bodies.
    let seeds = (dense_i.is_some() && noise_hu >= SPECKLE_MIN_NOISE_HU)
        .then(|| speckle_free_bone(&bone_i, &cti, opts.bone_threshold_hu, opts.cortex_hu));
    let smooth_near = seeds.is_some();
    let core = seeds.as_ref().unwrap_or(&bone_i);
    let near = morph::dilate_mm(core, 8.0);
    let analysis = Volume::from_vec(
        di,
        gi,
        (0..bone_i.len())
            .into_par_iter()
            .map(|n| {
                u8::from(
                    core.data()[n] != 0
                        || (near.data()[n] != 0
                            && if smooth_near {
                                face_mean_hu(&cti, n) >= 130.0
                            } else {
                                cti.data()[n] >= 130
                            }
                            && dense_i.as_ref().is_none_or(|d| d.data()[n] == 0)),
                )
            })
            .collect(),
    )?;
    drop(seeds);
    let mut filled = fill_bone(&analysis, &cti);
    timer.lap("fill", 0.45);

    let sp = gi.spacing_mm;
    let spine = trace_spine(&filled, &body, sp)?;
    let loose_ml = drop_loose_anterior_bone(&mut filled, &analysis, &spine, sp);
    if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
        eprintln!("loose anterior bone {loose_ml:.1} ml");
    }
    timer.lap("centreline", 0.55);

    let (mut segs, profile) = find_vertebrae(&filled, &analysis, &cti, &spine, sp)?;
    timer.lap("discs", 0.62);

    let sacrum_found = detect_sacrum(&filled, &cti, &spine, &mut segs, profile.spacing_mm, sp);
    let sacrum = sacrum_found.is_some();
    if sacrum {
        check_segment_heights(&mut segs, &profile, &spine);
    }
    timer.lap("sacrum", 0.63);
    // The ribs are found before the vertebrae grow: each thoracic level has its own pair.
    let rib_exits = find_rib_exits(&bone_i, &cti, &spine, sp);
    let rib_levels: Vec<(usize, f64)> = rib_exits
        .iter()
        .filter(|e| e.is_rib())
        .map(|e| (e.side, e.axial))
        .collect();
    split_at_rib_pairs(&mut segs, &profile, &spine, &rib_levels);
    timer.lap("rib exits", 0.64);
    if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
        let b: Vec<String> = segs
            .iter()
            .map(|g| format!("{:.1}-{:.1}", g.lo, g.hi))
            .collect();
        eprintln!("segments (slices, caudal first): {b:?}");
    }
    let mut planes = fit_disc_planes(&filled, &spine, &segs, &profile.normals, sp);
    // The lumbosacral disc found in the CT values replaces the fit in the (bridged) bone mask.
    if let Some(Some(pl)) = sacrum_found {
        if planes.len() > 1 {
            planes[1] = Some(pl);
        }
    }
    // Every other disc plane is checked against the CT values (a narrowed disc leaves no gap in the bone mask).
    let ls_from_ct = matches!(sacrum_found, Some(Some(_)));
    let checked: Vec<Option<(DiscPlane, f64)>> = (0..segs.len())
        .into_par_iter()
        .map(|n| {
            let pl = planes[n]?;
            if n == 1 && ls_from_ct {
                return None;
            }
            let r = check_disc_plane_ct(&cti, &spine, pl, segs[n].lo, sp);
            // A boundary placed between two rib pairs moves only a little: there the CT values failed already.
            if segs[n]
                .lo_max_shift_mm
                .is_some_and(|max_mm| (r.1 - segs[n].lo).abs() * sp[2] > max_mm)
            {
                return None;
            }
            Some(r)
        })
        .collect();
    for (n, ch) in checked.into_iter().enumerate() {
        if let Some((pl, c)) = ch {
            planes[n] = Some(pl);
            if n > 0 && (segs[n - 1].hi - segs[n].lo).abs() < 1e-6 {
                segs[n - 1].hi = c;
            }
            segs[n].lo = c;
        }
    }
    let bounds = segment_bounds(&spine, &segs, &planes, sp);
    let mut lab_i = grow_vertebrae(
        &filled,
        &cti,
        opts.bone_threshold_hu,
        &spine,
        &segs,
        &bounds,
        sp,
    );
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
    fill_body_sagittal_sections(&mut lab_i, &cti, &spine, segs.len(), sp);
    lift_posterior_boundaries(&mut lab_i, &spine, sp);
    timer.lap("vertebrae", 0.75);

    let ribs = assign_ribs(&rib_exits, &segs);
    cut_ribs(&mut lab_i, &spine, &segs, &ribs, sp);
    let c2 = detect_c2(&cti, &spine, &segs, sp);
    timer.lap("ribs", 0.78);
    let mut naming = name_levels(&segs, sacrum, &ribs, c2);
    if let Some(si) = sacroiliac_contact(
        &lab_i,
        &bone_i,
        &spine,
        &segs,
        planes.get(1).copied().flatten(),
        sp,
    ) {
        apply_sacroiliac_cue(&mut naming, &segs, &si, sp[2]);
    }
    timer.lap("numbering", 0.8);

    let mut bodies_i = body_labels(&lab_i, &probe_i, &spine, &bounds, sp);
    if sacrum {
        let top = planes.get(1).copied().flatten();
        s1_body(&mut bodies_i, &lab_i, &cti, &spine, &segs, top, sp);
    }
    drop(probe_i);
    let canal_i = canal_mask(&cti, &spine, sp);
    let discs_i = disc_labels(&cti, &bodies_i, &lab_i, &spine, &segs, &bounds, sp);
    timer.lap("bodies, discs, canal", 0.88);
    // The working maps are done with: freed before the input-grid maps are made (the peak memory).
    drop((cti, body, bone_i, near, dense_i, analysis, filled));

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
    // Where the input is finer than the internal grid, a vertebra's outer surface voxel covers several input voxels,
    // some of them soft tissue: those fainter than the surface threshold stay unlabelled (vertebra and body maps).
    let surface_i = outer_surface(&lab_i);
    let refine = (0..3).any(|a| g0.spacing_mm[a] < gi.spacing_mm[a] - 1e-6);
    let ct_in = ct.data();
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
                    let faint = refine
                        && surface_i[idx]
                        && f64::from(ct_in[i + j * din[0] + k * plane_in]) < SURFACE_MIN_HU;
                    for (n, (m, sl)) in maps.iter().zip(sls.iter_mut()).enumerate() {
                        if n < 2 && faint {
                            continue;
                        }
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

    let mut report = build_report(
        &labels, &bodies, &discs, &segs, &spine, &gi, &naming, &ribs, &bone_res,
    );
    check_delineation(&mut report);
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
        if std::env::var_os("SPINEKIT_MEM_DEBUG").is_some() {
            let st = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            let f = |k: &str| {
                st.lines()
                    .find(|l| l.starts_with(k))
                    .unwrap_or("")
                    .to_string()
            };
            eprintln!("{stage}: {} {}", f("VmRSS"), f("VmHWM"));
        }
        if let Some(p) = self.progress {
            p(stage, frac);
        }
        self.t = Instant::now();
    }
}

pub(crate) struct BoneResult {
    bone: Volume<u8>,
    /// Large regions inside the body at the bone threshold without cortex (contrast, dense organs); taken (and
    /// freed) once resampled to the internal grid.
    dense_non_bone: Option<Volume<u8>>,
    dense_non_bone_ml: f64,
    metal_ml: f64,
    clipped: bool,
    /// Image noise in soft tissue (HU), measured on the input.
    noise_hu: f64,
    /// Enhanced blood pool (HU, see `blood_pool_hu`) and the cortical density the bone was told from it by.
    blood_pool_hu: Option<f64>,
    cortex_hu: f64,
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

/// One vertebra (or sacrum) between two disc planes, as slice positions along the centreline.
#[derive(Debug, Clone)]
pub(crate) struct Seg {
    /// Disc plane below (slice index, continuous), or the bottom of the column.
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) lo_is_disc: bool,
    pub(crate) hi_is_disc: bool,
    pub(crate) sacrum: bool,
    /// Set where the boundary below was placed between two rib pairs (see `split_at_rib_pairs`): how far (mm) the
    /// disc-plane check in the CT values may still move it.
    pub(crate) lo_max_shift_mm: Option<f64>,
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

/// Straight distance (mm) between the centreline's points at two continuous slice positions: the distance between
/// two disc planes along the column, which the slice span alone underestimates by the cosine of the segment's tilt
/// (a lordotic L5 or a scoliotic segment leans 20–40° from the scan axis). A chord, not the path length, so that
/// the slice-to-slice jitter of the traced centre does not add up.
fn centreline_chord_mm(s: &Spine, lo: f64, hi: f64) -> f64 {
    let at = |x: f64| -> [f64; 3] {
        let x = x.clamp(s.k_lo as f64, s.k_hi as f64);
        let k = (x.floor() as usize)
            .min(s.k_hi.saturating_sub(1))
            .max(s.k_lo);
        let f = (x - k as f64).clamp(0.0, 1.0);
        let (a, b) = (s.p_mm[k], s.p_mm[(k + 1).min(s.k_hi)]);
        std::array::from_fn(|i| a[i] + f * (b[i] - a[i]))
    };
    let (a, b) = (at(lo), at(hi));
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// Image noise in soft tissue (HU): a robust SD (median absolute difference × 1.4826 / √2) of the difference
/// between neighbours along the first axis where both lie within ±150 HU, over every fourth row.
fn noise_sigma_hu(ct: &Volume<i16>) -> f64 {
    let [ni, nj, nk] = ct.dims();
    let d = ct.data();
    let mut diffs: Vec<f32> = (0..nk)
        .into_par_iter()
        .flat_map_iter(|k| {
            let mut v = Vec::new();
            for j in (0..nj).step_by(4) {
                let row = &d[ni * (j + nj * k)..ni * (j + nj * k) + ni];
                for w in row.windows(2) {
                    if (-150..=150).contains(&w[0]) && (-150..=150).contains(&w[1]) {
                        v.push((w[1] as f32 - w[0] as f32).abs());
                    }
                }
            }
            v
        })
        .collect();
    if diffs.len() < 1000 {
        return 0.0;
    }
    let mid = diffs.len() / 2;
    let (_, m, _) = diffs.select_nth_unstable_by(mid, f32::total_cmp);
    *m as f64 * 1.4826 / std::f64::consts::SQRT_2
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
        .map(|g| centreline_chord_mm(s, g.lo, g.hi))
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
        // Thoracic names rest on the assumption of 12 rib pairs unless they are counted (from C2, or from the
        // first to the last rib): from below, 11 or 13 rib pairs cannot be told apart from 12.
        let thoracic_assumed =
            level.region() == spinekit_anatomy::Region::Thoracic && !naming.thoracic_verified;
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
            noise_hu: bone.noise_hu,
            blood_pool_hu: bone.blood_pool_hu,
            cortex_hu: bone.cortex_hu,
        },
    }
}
