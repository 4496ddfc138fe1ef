//! Body outline and bone mask on the input grid; filling bone for the column trace.

use super::*;
use std::collections::HashSet;

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

/// The six face neighbours of linear index `q` on a grid of `dims` (i fastest), each with whether it lies inside
/// the grid (where it does not, its index is meaningless).
fn face_neighbours(q: usize, dims: [usize; 3]) -> [(bool, usize); 6] {
    let [ni, nj, nk] = dims;
    let plane = ni * nj;
    let (i, j, k) = (q % ni, (q / ni) % nj, q / plane);
    [
        (i > 0, q.wrapping_sub(1)),
        (i + 1 < ni, q + 1),
        (j > 0, q.wrapping_sub(ni)),
        (j + 1 < nj, q + ni),
        (k > 0, q.wrapping_sub(plane)),
        (k + 1 < nk, q + plane),
    ]
}

/// Least density (HU) of an enhanced blood pool that is told from bone by its density: a CT angiogram's aorta
/// reads 300–500 HU, at or above the 400 HU cortex, and was kept as bone (arterial phantom with a 400–500 HU
/// aorta: 4–12 names wrong). Trabecular bone mostly stays below it: L1 reads 226 ± 44 HU under 30 years (Jang
/// 2019) and 236 ± 42 HU in young women (Hendrickson 2018; clinical-reference.md §2). A dense young spine taken
/// for a pool does no harm: a bone's voxels at the cortex read cortex, not the pool (`POOL_MATCH_HU`).
const BLOOD_POOL_MIN_HU: f64 = 300.0;

/// Least volume (ml) of homogeneous dense voxels taken for a blood pool: an aorta over 10 cm of the field holds
/// 40–60 ml, the left heart more.
const BLOOD_POOL_MIN_ML: f64 = 20.0;

/// Margin (HU) above the blood pool at which a voxel counts as cortex when a blood pool is found: over 3.3
/// standard deviations of 45 HU noise, so that under 0.1 % of the lumen's voxels reach it.
pub(super) const CORTEX_ABOVE_BLOOD_HU: f64 = 150.0;

/// Largest difference (HU) between the mean of a region's voxels at the cortex (≥ 400 HU) and the blood pool for
/// the region to be taken for that pool: an aorta's (with the heart it touches) read its lumen; a bone's read its
/// cortex, 600–1000 HU on thin slices.
const POOL_MATCH_HU: f64 = 100.0;

/// Least fraction of a region's voxels at the cortex that lie inside a lumen (`CortexRule::flat`) for the region
/// to be taken for the pool. A lumen's dense voxels are mostly inside it: an angiogram's aorta 0.55–0.74 (0.8 mm,
/// 15–45 HU of noise), bowel loops with oral contrast 0.40–0.53 (3 mm). A cortex's lie against marrow or soft
/// tissue: 0.00–0.01 for every vertebra. Positive oral contrast (400 HU) was found as the pool, and fatty-marrow
/// vertebrae at 3 mm, whose partial-volumed cortex reads 490 HU, were taken for it and lost.
const POOL_FLAT_FRACTION: f64 = 0.2;

/// How bone is told from contrast: a region is cortical when at least 5 % of its voxels reach the cortex (400 HU),
/// and, where an enhanced blood pool is found, those voxels are not that pool's: a region whose voxels at the
/// cortex have a mean within `POOL_MATCH_HU` of the pool is cortical only with 5 % of its voxels
/// `CORTEX_ABOVE_BLOOD_HU` above the pool.
#[derive(Debug, Clone, Copy)]
pub(super) struct CortexRule {
    pub cortex: i16,
    /// The blood pool (HU) and the cortex above it.
    pub pool: Option<(f64, i16)>,
    /// Largest difference (HU) from a voxel to each of its six neighbours for it to lie inside a lumen
    /// ([`lumen_tolerance_hu`], as in [`blood_pool_hu`]).
    pub flat_tol_hu: i32,
    /// Image noise (HU, measured on the input).
    pub noise_hu: f64,
}

/// Most voxels at cortical density (fraction of a region) for them to be read as a noise tail
/// ([`CortexRule::noise_tail`]).
const NOISE_TAIL_MAX_FRACTION: f64 = 0.1;

/// Highest mean of a noise tail's voxels at cortical density, in noise deviations above the cortex
/// ([`CortexRule::noise_tail`]). A Gaussian's tail beyond 1.5–2.5 deviations has its mean under half a deviation
/// beyond the threshold; the lumen's partial-volumed edge, and a noise measure that reads low in correlated noise
/// (32.5 HU for 45), raise it to 1.8 measured deviations in the arterial aorta of `noise_tail`.
const NOISE_TAIL_MAX_DEVIATIONS: f64 = 3.0;

/// Largest difference (HU) from a voxel to each of its six neighbours for it to lie inside a homogeneous lumen:
/// 3 noise deviations + 20 HU.
fn lumen_tolerance_hu(noise_hu: f64) -> i32 {
    (3.0 * noise_hu + 20.0) as i32
}

/// Whether voxel `q` of `ct` has all six neighbours inside the grid and within `tol_hu` of it.
fn reads_like_neighbours(ct: &Volume<i16>, q: usize, tol_hu: i32) -> bool {
    let c = ct.data();
    let v = i32::from(c[q]);
    face_neighbours(q, ct.dims())
        .iter()
        .all(|&(ok, r)| ok && (i32::from(c[r]) - v).abs() <= tol_hu)
}

impl CortexRule {
    pub fn new(cortex_hu: f64, pool_hu: Option<f64>, noise_hu: f64) -> Self {
        CortexRule {
            cortex: cortex_hu as i16,
            pool: pool_hu.map(|p| (p, (p + CORTEX_ABOVE_BLOOD_HU).max(cortex_hu) as i16)),
            flat_tol_hu: lumen_tolerance_hu(noise_hu),
            noise_hu,
        }
    }

    /// Whether voxel `q` of `ct` reads like its six neighbours (inside a lumen, not a cortex against marrow).
    pub fn flat(&self, ct: &Volume<i16>, q: usize) -> bool {
        reads_like_neighbours(ct, q, self.flat_tol_hu)
    }

    /// The density a rim voxel needs to count as a bone's cortex: above the pool where there is one.
    pub fn cortex_hu(&self) -> i16 {
        self.pool.map_or(self.cortex, |p| p.1)
    }

    /// Whether region `c` is without cortex.
    pub fn non_cortical(&self, c: &DenseCount) -> bool {
        (c.at_cortex as f64) < 0.05 * c.voxels.max(1) as f64
            || self.is_pool(c, 0.05)
            || self.noise_tail(c)
    }

    /// Whether the few voxels of region `c` at cortical density are only the noise tail of a dense lumen: under
    /// `NOISE_TAIL_MAX_FRACTION` of its voxels, reading on average less than `NOISE_TAIL_MAX_DEVIATIONS` noise
    /// deviations above the cortex. An arterial aorta (300 HU) in 45 HU of noise (measured 32.5 HU) put 6.4 % of
    /// its voxels at 400 HU or more, their mean 458 HU: too few for a blood pool to be found, enough to be kept as
    /// bone, and T10–T12 were named one level off. Bone parts hold 37–61 % of their voxels at that density,
    /// reading 438–914 HU on average (1–3 mm grids, marrow 80–170 HU).
    pub fn noise_tail(&self, c: &DenseCount) -> bool {
        (c.at_cortex as f64) < NOISE_TAIL_MAX_FRACTION * c.voxels.max(1) as f64
            && c.cortex_sum_hu / (c.at_cortex.max(1) as f64)
                < f64::from(self.cortex) + NOISE_TAIL_MAX_DEVIATIONS * self.noise_hu
    }

    /// Whether region `c` is the blood pool: its voxels at the cortex read the pool, lie inside a lumen (at least
    /// `POOL_FLAT_FRACTION` of them), and under `fraction` of its voxels reach the pool's cortex.
    pub fn is_pool(&self, c: &DenseCount, fraction: f64) -> bool {
        self.pool.is_some_and(|(p, _)| {
            (c.cortex_sum_hu / c.at_cortex.max(1) as f64 - p).abs() <= POOL_MATCH_HU
                && c.flat_at_cortex as f64 >= POOL_FLAT_FRACTION * c.at_cortex as f64
                && (c.above_pool as f64) < fraction * c.voxels.max(1) as f64
        })
    }
}

/// What [`CortexRule`] reads of a region: its voxels, those at the cortex (and their HU sum), and those at the
/// pool's cortex. Counted voxel by voxel ([`DenseCount::add`]) and merged across slices.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct DenseCount {
    pub voxels: u64,
    pub at_cortex: u64,
    pub cortex_sum_hu: f64,
    pub above_pool: u64,
    /// Voxels at the cortex inside a lumen: their six neighbours read like them (counted where a pool is found).
    pub flat_at_cortex: u64,
}

impl DenseCount {
    /// Counts voxel `q` of `ct`.
    pub fn add(&mut self, ct: &Volume<i16>, q: usize, rule: &CortexRule) {
        let v = ct.data()[q];
        self.voxels += 1;
        if v >= rule.cortex {
            self.at_cortex += 1;
            self.cortex_sum_hu += f64::from(v);
            self.flat_at_cortex += u64::from(rule.pool.is_some() && rule.flat(ct, q));
        }
        self.above_pool += u64::from(v >= rule.cortex_hu());
    }

    pub fn merge(&mut self, o: &DenseCount) {
        self.voxels += o.voxels;
        self.at_cortex += o.at_cortex;
        self.cortex_sum_hu += o.cortex_sum_hu;
        self.above_pool += o.above_pool;
        self.flat_at_cortex += o.flat_at_cortex;
    }
}

/// Density (HU) of an enhanced blood pool (aorta, heart chambers; or bowel loops full of positive oral contrast,
/// which bone is told from in the same way) in `cti`, where there is one: among the peaks of the histogram of
/// homogeneous voxels inside the `body` ([`reads_like_neighbours`] within [`lumen_tolerance_hu`]), 250 to
/// 1000 HU, the densest whose 100 HU window holds at least `BLOOD_POOL_MIN_ML` with a mean of at least
/// `BLOOD_POOL_MIN_HU`. Bone is heterogeneous (cortex against marrow) and mostly fails the homogeneity test.
pub(super) fn blood_pool_hu(cti: &Volume<i16>, body: &Volume<u8>, noise_hu: f64) -> Option<f64> {
    const LO: i32 = 250;
    const BIN: i32 = 10;
    const BINS: usize = 75;
    let [ni, nj, nk] = cti.dims();
    let plane = ni * nj;
    let (c, b) = (cti.data(), body.data());
    let tol = lumen_tolerance_hu(noise_hu);
    let (hist, sums) = (1..nk.saturating_sub(1))
        .into_par_iter()
        .fold(
            || (vec![0u64; BINS], vec![0f64; BINS]),
            |(mut h, mut s), k| {
                for q in plane * k..plane * (k + 1) {
                    let v = i32::from(c[q]);
                    if !(LO..LO + BIN * BINS as i32).contains(&v) || b[q] == 0 {
                        continue;
                    }
                    if reads_like_neighbours(cti, q, tol) {
                        let bin = ((v - LO) / BIN) as usize;
                        h[bin] += 1;
                        s[bin] += f64::from(v);
                    }
                }
                (h, s)
            },
        )
        .reduce(
            || (vec![0u64; BINS], vec![0f64; BINS]),
            |(mut h, mut s), (h2, s2)| {
                for i in 0..BINS {
                    h[i] += h2[i];
                    s[i] += s2[i];
                }
                (h, s)
            },
        );
    let vox_ml = cti.geometry().spacing_mm.iter().product::<f64>() / 1000.0;
    // Peaks of the histogram (30 HU sums: no neighbour holds more), each measured over the 100 HU window around
    // it (voxel count and mean). The densest peak that is large enough and dense enough: in a CT angiogram of the
    // chest the aorta (400–500 HU) lies above a larger heart (280 HU in the right chambers' phase mix), and the
    // aorta is what reaches the cortex. (Peaks found on 100 HU sums lost the aorta on 2–3 mm voxels: the heart's
    // tail within 100 HU of it outweighed its peak.)
    let near = |i: usize, half: usize| i.saturating_sub(half)..(i + half + 1).min(BINS);
    let (peak_half, window_half) = (1, (50 / BIN) as usize);
    let smooth: Vec<u64> = (0..BINS)
        .map(|i| hist[near(i, peak_half)].iter().sum())
        .collect();
    let pools: Vec<(f64, f64)> = (0..BINS)
        .filter(|&i| {
            smooth[i] > 0
                && (i == 0 || smooth[i - 1] <= smooth[i])
                && (i + 1 == BINS || smooth[i + 1] <= smooth[i])
        })
        .map(|i| {
            let count: u64 = hist[near(i, window_half)].iter().sum();
            let mean = sums[near(i, window_half)].iter().sum::<f64>() / count.max(1) as f64;
            (mean, count as f64 * vox_ml)
        })
        .filter(|&(mean, ml)| ml >= BLOOD_POOL_MIN_ML && mean >= BLOOD_POOL_MIN_HU)
        .collect();
    if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
        eprintln!("blood pools (HU, ml): {pools:.0?}; noise {noise_hu:.1} HU");
    }
    pools.iter().map(|p| p.0).max_by(f64::total_cmp)
}

/// Bone on the input grid: 6-connected regions ≥ the threshold that are large enough, cortical (see
/// [`CortexRule`], with the blood pool `pool_hu` where one was found) and mostly inside the body.
pub(super) fn bone_mask(
    ct: &Volume<i16>,
    body: &Volume<u8>,
    opts: &SegmentOptions,
    pool_hu: Option<f64>,
    noise_hu: f64,
) -> BoneResult {
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
    let rule = CortexRule::new(opts.cortex_hu, pool_hu, noise_hu);
    let max_v = ct.data().iter().copied().max().unwrap_or(0);
    // Per slice partial sums, merged, per component: (label, what the cortex rule reads, inside, at_max).
    type Acc = (u32, DenseCount, u32, u32);
    let per_slice: Vec<Vec<Acc>> = (0..nk)
        .into_par_iter()
        .map(|k| {
            let mut acc: Vec<Acc> = Vec::new();
            let mut touched = std::collections::HashMap::<u32, usize>::new();
            for j in 0..nj {
                for i in 0..ni {
                    let idx = i + ni * j + plane * k;
                    let l = comps.labels[idx];
                    if l == 0 {
                        continue;
                    }
                    let slot = *touched.entry(l).or_insert_with(|| {
                        acc.push((l, DenseCount::default(), 0, 0));
                        acc.len() - 1
                    });
                    let v = ct.data()[idx];
                    acc[slot].1.add(ct, idx, &rule);
                    acc[slot].2 += u32::from(map([i, j, k]).is_some_and(|b| body.data()[b] != 0));
                    acc[slot].3 += u32::from(v == max_v);
                }
            }
            acc
        })
        .collect();
    let mut dense_counts = vec![DenseCount::default(); nc];
    let mut inside = vec![0u64; nc];
    let mut at_max = vec![0u64; nc];
    for s in per_slice {
        for (l, d, ins, mx) in s {
            let l = l as usize;
            dense_counts[l].merge(&d);
            inside[l] += ins as u64;
            at_max[l] += mx as u64;
        }
    }
    let mut keep = vec![false; nc];
    let mut dense_non_bone = 0.0;
    let (mut bone_vox, mut bone_max) = (0u64, 0u64);
    for l in 1..nc {
        let n = comps.sizes[l] as f64;
        let in_body = inside[l] as f64 / n >= 0.5;
        let big = n * vox_mm3 >= 30.0;
        let cortical = !rule.non_cortical(&dense_counts[l]);
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
    // Components taken for the blood pool though they hold cortex (see `bone_in_pool`).
    let pooled: Vec<bool> = (0..nc)
        .map(|l| dense[l] && rule.is_pool(&dense_counts[l], 0.05))
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
    let in_pool: Option<Vec<u8>> = pooled.iter().any(|&p| p).then(|| {
        comps
            .labels
            .par_iter()
            .map(|&l| u8::from(pooled[l as usize]))
            .collect()
    });
    drop(comps);
    if let Some(mut in_pool) = in_pool {
        let found = bone_in_pool(ct, &mut in_pool, &rule);
        for &q in &found {
            data[q] = 1;
            dense_data[q] = 0;
        }
        dense_non_bone -= found.len() as f64 * vox_mm3;
        if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
            eprintln!(
                "bone found in the pool {:.1} ml",
                found.len() as f64 * vox_mm3 / 1000.0
            );
        }
    }
    // A contrast-filled vessel or organ touching a bone shares its component at the threshold: split the accepted
    // bone at its thin contacts (one-voxel erosion) and take out the large parts without cortex.
    // Only where contrast shows elsewhere in the scan (the split costs an erosion and a labelling of the whole
    // input grid), or where the accepted bone holds solid regions without cortex: in the arterial phase the heart
    // and the descending aorta (280–300 HU) can lie against the spine and the ribs over their whole length, so that
    // no dense region is left outside the bone to show the contrast (a chest phantom: the heart was labelled as a
    // vertebra).
    // (The solid scan only where no contrast shows outside: it costs a pass over the grid.)
    if dense_non_bone / 1000.0 >= CONTRAST_FINDING_ML
        || solid_non_cortical_ml(ct, &data, rule.cortex_hu()) >= SOLID_NON_CORTICAL_MIN_ML
    {
        let split_ml = split_non_cortical(ct, &mut data, &mut dense_data, &rule);
        dense_non_bone += split_ml * 1000.0;
        // Slice by slice, vessel sections that noise joined to the bone.
        let vessel_ml =
            drop_vessel_sections(ct, &mut data, &mut dense_data, &rule, body_mid_x_mm(body));
        dense_non_bone += vessel_ml * 1000.0;
        if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
            eprintln!("split off bone {split_ml:.1} ml; vessel sections {vessel_ml:.1} ml");
        }
    }
    let metal = ct.data().par_iter().filter(|&&v| v >= 2500).count() as f64 * vox_mm3;
    BoneResult {
        bone: Volume::from_vec(ct.dims(), *g, data).expect("same dims"),
        dense_non_bone: Some(Volume::from_vec(ct.dims(), *g, dense_data).expect("same dims")),
        dense_non_bone_ml: dense_non_bone / 1000.0,
        metal_ml: metal / 1000.0,
        clipped: max_v < 2000 && bone_vox > 0 && bone_max as f64 / bone_vox as f64 > 0.01,
        noise_hu: 0.0,
        blood_pool_hu: pool_hu,
        cortex_hu: f64::from(rule.cortex_hu()),
    }
}

/// Solid accepted bone without cortex (ml, see [`solid_non_cortical_ml`]) from which the bone is split from
/// touching structures even where no contrast shows outside it: the heart and aorta of an arterial chest phantom
/// that joined the skeleton hold 632 ml; the dense rib and pelvic marrow (205–260 HU) of the non-contrast whole
/// spine phantom 85 ml, and of the 512 × 512 × 300 one 26 ml (there the split would only cost time and memory).
/// Where contrast shows outside the bone as well (the arterial abdomen: 53 ml outside), it runs anyway.
const SOLID_NON_CORTICAL_MIN_ML: f64 = 150.0;

/// Volume (ml) of accepted bone below cortical density whose neighbours 2 mm away along all three axes are too:
/// the inside of a solid region without cortex (an enhancing heart or aorta; dense marrow also counts, and only
/// costs the split its time). Trabecular bone below the threshold and thin cortical shells do not.
fn solid_non_cortical_ml(ct: &Volume<i16>, bone: &[u8], cortex: i16) -> f64 {
    let [ni, nj, nk] = ct.dims();
    let sp = ct.geometry().spacing_mm;
    let d: [usize; 3] = std::array::from_fn(|a| (2.0 / sp[a]).ceil().max(1.0) as usize);
    let plane = ni * nj;
    let soft = |q: usize| bone[q] != 0 && ct.data()[q] < cortex;
    let count: usize = (d[2]..nk.saturating_sub(d[2]))
        .into_par_iter()
        .map(|k| {
            let mut c = 0;
            for j in d[1]..nj.saturating_sub(d[1]) {
                for i in d[0]..ni.saturating_sub(d[0]) {
                    let q = i + ni * j + plane * k;
                    c += usize::from(
                        soft(q)
                            && soft(q - d[0])
                            && soft(q + d[0])
                            && soft(q - ni * d[1])
                            && soft(q + ni * d[1])
                            && soft(q - plane * d[2])
                            && soft(q + plane * d[2]),
                    );
                }
            }
            c
        })
        .sum();
    let ml = count as f64 * sp.iter().product::<f64>() / 1000.0;
    if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
        eprintln!("solid accepted bone without cortex {ml:.1} ml");
    }
    ml
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
    rule: &CortexRule,
) -> f64 {
    let dims = ct.dims();
    let vox_ml = ct.geometry().spacing_mm.iter().product::<f64>() / 1000.0;
    let inner = |m: &[u8], q: usize| -> bool {
        m[q] != 0
            && face_neighbours(q, dims)
                .iter()
                .all(|&(ok, r)| ok && m[r] != 0)
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
        face_neighbours(q, dims)
            .into_iter()
            .filter(|&(ok, _)| ok)
            .map(|(_, r)| comps.labels[r])
            .find(|&x| x != 0)
            .unwrap_or(0)
    };
    // Counts per part (no per-voxel part map: it would cost four bytes a voxel).
    let counts = count_by_label(ct, nc, rule, |q| if bone[q] != 0 { part(q) } else { 0 });
    let bad: Vec<bool> = (0..nc)
        .map(|l| {
            l > 0
                && counts[l].voxels as f64 * vox_ml >= NON_CORTICAL_MIN_ML
                && rule.non_cortical(&counts[l])
        })
        .collect();
    if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
        for (c, &is_bad) in counts.iter().zip(&bad).skip(1) {
            if c.voxels as f64 * vox_ml >= NON_CORTICAL_MIN_ML {
                let t = c.voxels as f64;
                eprintln!(
                    "part {:.0} ml: {:.3} at cortex (mean {:.0} HU, {:.2} flat), {:.3} above the pool's; bad {is_bad}",
                    t * vox_ml,
                    c.at_cortex as f64 / t,
                    c.cortex_sum_hu / c.at_cortex.max(1) as f64,
                    c.flat_at_cortex as f64 / c.at_cortex.max(1) as f64,
                    c.above_pool as f64 / t,
                );
            }
        }
    }
    if !bad.iter().any(|&b| b) {
        return 0.0;
    }
    let mut remove: Vec<usize> = (0..bone.len())
        .into_par_iter()
        .filter(|&q| bone[q] != 0 && bad[part(q) as usize])
        .collect();
    // A thin cortex (a fatty-marrow body's shell is rim only) where an enhancing aorta lies against it has the
    // aorta's core as its only eroded neighbour, and went with the aorta: the shell opened there, its marrow was
    // no longer enclosed, and three thoracic bodies stayed unfilled (arterial phantom, marrow 80 HU, noise 15 HU).
    // Rim voxels at cortical density stay where they join (through each other) the bone that stays; the aorta's
    // own rim holds only scattered noise voxels at that density.
    let stays = |r: usize| bone[r] != 0 && !bad[part(r) as usize];
    let cortical_rim = |q: usize| comps.labels[q] == 0 && ct.data()[q] >= rule.cortex_hu();
    let mut back: HashSet<usize> = remove
        .par_iter()
        .copied()
        .filter(|&q| {
            cortical_rim(q)
                && face_neighbours(q, dims)
                    .into_iter()
                    .any(|(ok, r)| ok && stays(r))
        })
        .collect();
    let mut stack: Vec<usize> = back.iter().copied().collect();
    while let Some(q) = stack.pop() {
        for (ok, r) in face_neighbours(q, dims) {
            if ok && bone[r] != 0 && cortical_rim(r) && bad[part(r) as usize] && back.insert(r) {
                stack.push(r);
            }
        }
    }
    // With them, their partial-volumed rim on the marrow side (next to bone given back and to non-bone): a
    // one-voxel cortex leaves gaps where the internal grid samples it; the two-voxel shell does not.
    let rim: Vec<usize> = remove
        .par_iter()
        .copied()
        .filter(|&q| {
            let nb = face_neighbours(q, dims);
            comps.labels[q] == 0
                && !back.contains(&q)
                && nb.iter().any(|&(ok, r)| ok && back.contains(&r))
                && nb.iter().any(|&(ok, r)| ok && bone[r] == 0)
        })
        .collect();
    back.extend(rim);
    remove.retain(|q| !back.contains(q));
    if std::env::var_os("SPINEKIT_TRACE_DEBUG").is_some() {
        eprintln!("cortical rim kept {}", back.len());
    }
    for &q in &remove {
        bone[q] = 0;
        dense[q] = 1;
    }
    remove.len() as f64 * vox_ml
}

/// What `rule` reads of each of `n` labelled regions of `ct` (`label_of` each voxel, 0 for none), slice by slice.
fn count_by_label(
    ct: &Volume<i16>,
    n: usize,
    rule: &CortexRule,
    label_of: impl Fn(usize) -> u32 + Sync,
) -> Vec<DenseCount> {
    let [ni, nj, nk] = ct.dims();
    let plane = ni * nj;
    let zero = || vec![DenseCount::default(); n];
    (0..nk)
        .into_par_iter()
        .fold(zero, |mut c, k| {
            for q in k * plane..(k + 1) * plane {
                let l = label_of(q) as usize;
                if l != 0 {
                    c[l].add(ct, q, rule);
                }
            }
            c
        })
        .reduce(zero, |mut c, c2| {
            for (a, b) in c.iter_mut().zip(&c2) {
                a.merge(b);
            }
            c
        })
}

/// Least volume (ml) of a piece of bone found inside a component taken for the blood pool ([`bone_in_pool`]): a
/// thoracic vertebra with its rib necks holds 30–50 ml, a lumbar one 40–70.
const POOL_BONE_MIN_ML: f64 = 5.0;

/// Voxels of bone inside the components taken for the blood pool (`in_pool`, input grid): their parts split at
/// thin contacts as the accepted bone's are ([`split_non_cortical`]), and the pieces left that are not the pool
/// and hold cortex. On a 2 mm CT angiogram (aorta 500 HU) the partial-volumed thoracic cortex reads 500–600 HU, and
/// where the aorta lies against the spine, vertebrae, ribs and aorta made one component whose dense voxels read
/// like the pool (4.5 % reached the pool's cortex): T9–T12 were lost with it and their names were not found.
fn bone_in_pool(ct: &Volume<i16>, in_pool: &mut [u8], rule: &CortexRule) -> Vec<usize> {
    let mut pool_parts = vec![0u8; in_pool.len()];
    split_non_cortical(ct, in_pool, &mut pool_parts, rule);
    drop(pool_parts);
    let left = Volume::from_vec(ct.dims(), *ct.geometry(), in_pool.to_vec()).expect("same dims");
    let comps = morph::label_components(&left, morph::Connectivity::Six);
    drop(left);
    let counts = count_by_label(ct, comps.sizes.len(), rule, |q| comps.labels[q]);
    let vox_ml = ct.geometry().spacing_mm.iter().product::<f64>() / 1000.0;
    let bone: Vec<bool> = counts
        .iter()
        .enumerate()
        .map(|(l, c)| {
            l > 0 && c.voxels as f64 * vox_ml >= POOL_BONE_MIN_ML && !rule.non_cortical(c)
        })
        .collect();
    comps
        .labels
        .par_iter()
        .enumerate()
        .filter(|&(_, &l)| bone[l as usize])
        .map(|(q, _)| q)
        .collect()
}

/// Noise (HU in water, see `noise_sigma_hu`) from which, in a contrast-enhanced study, the bone of the analysis
/// mask (and the seed of its dense tissue) is cleared of speckle ([`speckle_free_bone`]): at 15 HU an organ 20 HU below the
/// bone threshold puts under 10 % of its voxels above it, no connected speckle.
pub(super) const SPECKLE_MIN_NOISE_HU: f64 = 20.0;

/// Least volume (ml) of a piece of speckle-free bone (`speckle_free_bone`). The six-neighbour mean leaves a few
/// per cent of a 150 HU organ's voxels above the threshold in 45 HU of noise (portal-venous heart, veins), scattered
/// through it; each seeded 8 mm of the organ's dense tissue, which the slice-by-slice closing made solid: the heart
/// was labelled as vertebrae and the discs of T5–T10 were lost (7 of 12 names wrong in a T4–L3 field). Dropping
/// pieces under 10 voxels of 1.5 mm (0.03 ml) left 6 names wrong there, under 30 (0.1 ml) none. Bone comes in far
/// larger pieces: 2 cm of a rib hold 2–3 ml.
pub(super) const SPECKLE_FREE_MIN_ML: f64 = 0.1;

/// Mean HU of voxel `q` and its six face neighbours in `ct` (those inside the grid): noise over √7 less.
pub(super) fn face_mean_hu(ct: &Volume<i16>, q: usize) -> f64 {
    let c = ct.data();
    let (mut sum, mut n) = (c[q] as f64, 1.0);
    for (ok, r) in face_neighbours(q, ct.dims()) {
        if ok {
            sum += c[r] as f64;
            n += 1.0;
        }
    }
    sum / n
}

/// `bone` (internal grid) without the speckle of an enhancing organ that noise carried over the bone threshold:
/// voxels below cortical density whose mean with their six neighbours in `ct` is below the threshold, and what is
/// left in pieces under `SPECKLE_FREE_MIN_ML`. A portal-venous aorta at 160 HU with 30 HU of noise has a quarter of
/// its voxels above 180 HU, joined to the vertebra it touches; dense tissue (≥ 130 HU) within 8 mm of that speckle
/// then took in the whole aorta, and the vertebrae grew into it. A bone's cortex stays (a thin plate keeps five of
/// its seven voxels), and so does marrow whose mean is above the threshold; marrow speckle does not matter, its
/// cortex seeds the same neighbourhood.
pub(super) fn speckle_free_bone(
    bone: &Volume<u8>,
    ct: &Volume<i16>,
    threshold_hu: f64,
    cortex_hu: f64,
) -> Volume<u8> {
    let dims = bone.dims();
    let (b, c) = (bone.data(), ct.data());
    let data: Vec<u8> = (0..b.len())
        .into_par_iter()
        .map(|q| {
            if b[q] == 0 {
                return 0;
            }
            u8::from(c[q] as f64 >= cortex_hu || face_mean_hu(ct, q) >= threshold_hu)
        })
        .collect();
    let kept = Volume::from_vec(dims, *bone.geometry(), data).expect("same dims");
    let vox_ml = bone.geometry().spacing_mm.iter().product::<f64>() / 1000.0;
    let comps = morph::label_components(&kept, morph::Connectivity::TwentySix);
    let big: Vec<bool> = comps
        .sizes
        .iter()
        .map(|&n| n as f64 * vox_ml >= SPECKLE_FREE_MIN_ML)
        .collect();
    let data = comps
        .labels
        .par_iter()
        .map(|&l| u8::from(l != 0 && big[l as usize]))
        .collect();
    Volume::from_vec(dims, *bone.geometry(), data).expect("same dims")
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
        for (ok, r) in face_neighbours(q, [ni, nj, nk]) {
            if ok && f[r] != 0 && a[r] == 0 && ahead(r).is_some_and(|d| d > front_mm) {
                f[r] = 0;
                removed += 1;
                stack.push(r);
            }
        }
    }
    removed as f64 * vox_ml
}

/// Largest in-plane pixel (mm) at which the vessel-section test runs. On such a grid a bone's section always
/// shows cortex at full density, and noise is finest-grained there (it joins vessels to bone); at 3 mm pixels a
/// vertebral body's section may hold no voxel at cortical density at all.
const SECTION_TEST_MAX_PIXEL_MM: f64 = 1.0;

/// Most voxels at cortical density in a section taken for a vessel (fraction): noise puts a few of a
/// portal-venous vessel's voxels there; a bone's section has its cortical rim (about a tenth of a body's section).
const SECTION_CORTEX_MAX_FRACTION: f64 = 0.01;

/// Farthest (mm) from the body's left–right middle that a section is taken for a vessel: the aorta and the cava
/// run within 50 mm of the midline; calcified costal cartilage and the ribs' front ends lie farther out.
const SECTION_MAX_LATERAL_MM: f64 = 60.0;

/// Index (first axis) of the body's left–right middle: the mean over its voxels (the middle of the grid where
/// there is no body).
pub(super) fn body_mid_i(body: &Volume<u8>) -> f64 {
    let ni = body.dims()[0];
    let (mut s, mut n) = (0.0, 0usize);
    for (p, &v) in body.data().iter().enumerate() {
        if v != 0 {
            s += (p % ni) as f64;
            n += 1;
        }
    }
    if n > 0 {
        s / n as f64
    } else {
        ni as f64 / 2.0
    }
}

/// World x (mm, LPS) of the body's left–right middle.
fn body_mid_x_mm(body: &Volume<u8>) -> f64 {
    let nj = body.dims()[1];
    body.geometry()
        .index_to_world([body_mid_i(body), nj as f64 / 2.0, 0.0])[0]
}

/// Radius (mm) around a section's centroid of which at least `SOLID_MIN_FRACTION` must be its own for it to be
/// taken for a vessel.
const SOLID_RADIUS_MM: f64 = 3.0;

/// A portal-venous vessel (about 160 HU) in 45 HU of noise has a third of its lumen above the bone threshold; the
/// marrow inside an osteoporotic body's shell (80–120 HU) under 10 %.
const SOLID_MIN_FRACTION: f64 = 0.15;

/// Least area (mm²) of a section taken for a vessel: an aorta or cava is 200–600 mm².
const SECTION_MIN_MM2: f64 = 60.0;

/// Farthest (mm) a section's enclosing bone may lie: a marrow island in a body is walled in within a body's
/// half width.
const ENCLOSURE_MM: f64 = 25.0;

/// Takes out of `bone` (input grid; marked in `dense`) the in-slice sections without cortex that no bone walls
/// in: a contrast-filled aorta or cava at the bone threshold. In a noisy fine-pixel series the vessel's speckle
/// above the threshold joins it to the vertebrae somewhere along the column, so it is accepted with them in 3D;
/// slice by slice it lies apart, in front of the body. A marrow island without cortex inside a faint body is
/// walled in by that body's cortex and stays. Returns the volume taken out (ml).
pub(super) fn drop_vessel_sections(
    ct: &Volume<i16>,
    bone: &mut [u8],
    dense: &mut [u8],
    rule: &CortexRule,
    mid_x_mm: f64,
) -> f64 {
    let [ni, nj, _] = ct.dims();
    let g = *ct.geometry();
    let plane = ni * nj;
    let sp = ct.geometry().spacing_mm;
    if sp[0].max(sp[1]) > SECTION_TEST_MAX_PIXEL_MM {
        return 0.0;
    }
    let px_mm2 = sp[0] * sp[1];
    let dirs: [(f64, f64); 8] = std::array::from_fn(|d| {
        let a = d as f64 * std::f64::consts::FRAC_PI_4;
        (a.cos(), a.sin())
    });
    let removed: usize = bone
        .par_chunks_mut(plane)
        .zip(dense.par_chunks_mut(plane))
        .enumerate()
        .map(|(k, (b, o))| {
            // 8-connected sections of the slice (26-connectivity on a one-slice grid): what the cortex rule
            // reads of each, and its centroid.
            let slice = Volume::from_vec([ni, nj, 1], g, b.to_vec()).expect("one slice");
            let comps = morph::label_components(&slice, morph::Connectivity::TwentySix);
            drop(slice);
            let lab = comps.labels;
            let mut stats = vec![(DenseCount::default(), 0.0f64, 0.0f64); comps.sizes.len()];
            for (q, &l) in lab.iter().enumerate() {
                if l != 0 {
                    let st = &mut stats[l as usize];
                    st.0.add(ct, k * plane + q, rule);
                    st.1 += (q % ni) as f64;
                    st.2 += (q / ni) as f64;
                }
            }
            let mut taken = 0usize;
            for (l, (d, si, sj)) in stats.iter().enumerate().skip(1) {
                let (cnt, dense_cnt) = (d.voxels as usize, d.at_cortex as usize);
                // (A CT angiogram's aorta reads at the cortex: its section is the pool's, not cortex.)
                let pool = || rule.is_pool(d, SECTION_CORTEX_MAX_FRACTION);
                if (cnt as f64) * px_mm2 < SECTION_MIN_MM2
                    || (dense_cnt as f64 > SECTION_CORTEX_MAX_FRACTION * cnt as f64 && !pool())
                {
                    continue;
                }
                let (ci, cj) = (si / cnt as f64, sj / cnt as f64);
                if (g.index_to_world([ci, cj, k as f64])[0] - mid_x_mm).abs()
                    > SECTION_MAX_LATERAL_MM
                {
                    continue;
                }
                // Solid around its centroid, as a vessel's lumen is: the section of an osteoporotic body whose
                // faint cortex shows no voxel at cortical density is a shell around marrow below the threshold,
                // and its centroid lies in that marrow.
                let (rx, ry) = (
                    (SOLID_RADIUS_MM / sp[0]).ceil() as isize,
                    (SOLID_RADIUS_MM / sp[1]).ceil() as isize,
                );
                let (mut inside, mut all) = (0usize, 0usize);
                for dy in -ry..=ry {
                    for dx in -rx..=rx {
                        let (x, y) = (ci.round() as isize + dx, cj.round() as isize + dy);
                        let d2 = (dx as f64 * sp[0]).powi(2) + (dy as f64 * sp[1]).powi(2);
                        if d2 > SOLID_RADIUS_MM * SOLID_RADIUS_MM
                            || x < 0
                            || y < 0
                            || x >= ni as isize
                            || y >= nj as isize
                        {
                            continue;
                        }
                        all += 1;
                        inside += usize::from(lab[x as usize + y as usize * ni] == l as u32);
                    }
                }
                if (inside as f64) < SOLID_MIN_FRACTION * all as f64 {
                    continue;
                }
                // Walled in: at least 7 of 8 rays from the centroid meet other bone within `ENCLOSURE_MM`.
                let step = 0.5 * sp[0].min(sp[1]);
                let walled = dirs
                    .iter()
                    .filter(|&&(dx, dy)| {
                        let mut t = 0.0;
                        while t <= ENCLOSURE_MM {
                            let x = (ci + dx * t / sp[0]).round();
                            let y = (cj + dy * t / sp[1]).round();
                            if x < 0.0 || y < 0.0 || x >= ni as f64 || y >= nj as f64 {
                                return false;
                            }
                            let r = x as usize + y as usize * ni;
                            if b[r] != 0 && lab[r] != l as u32 {
                                return true;
                            }
                            t += step;
                        }
                        false
                    })
                    .count()
                    >= 7;
                if walled {
                    continue;
                }
                for p in 0..plane {
                    if lab[p] == l as u32 {
                        b[p] = 0;
                        o[p] = 1;
                        taken += 1;
                    }
                }
            }
            taken
        })
        .sum();
    removed as f64 * sp.iter().product::<f64>() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use spinekit_image::Geometry;

    /// A 20³ grid: a one-voxel plate of faint cortex (300 HU) at z = 5 between marrow (80 HU) and soft tissue
    /// (40 HU), and a 160 HU organ at z ≥ 12 whose checkerboard speckle (every other voxel 200 HU, all of them in
    /// the bone mask) crosses the 180 HU threshold. The plate stays; the speckle goes.
    #[test]
    fn speckle_goes_and_a_faint_plate_stays() {
        let n = 20usize;
        let g = Geometry::identity([1.0; 3]);
        let mut hu = vec![40i16; n * n * n];
        let mut bone = vec![0u8; n * n * n];
        for k in 0..n {
            for j in 0..n {
                for i in 0..n {
                    let q = i + n * (j + n * k);
                    if k < 5 {
                        hu[q] = 80;
                    } else if k == 5 {
                        hu[q] = 300;
                        bone[q] = 1;
                    } else if k >= 12 {
                        let up = (i + j + k) % 2 == 0;
                        hu[q] = if up { 200 } else { 120 };
                        bone[q] = u8::from(up);
                    }
                }
            }
        }
        let ct = Volume::from_vec([n; 3], g, hu).unwrap();
        let b = Volume::from_vec([n; 3], g, bone).unwrap();
        let out = speckle_free_bone(&b, &ct, 180.0, 400.0);
        let at = |i: usize, j: usize, k: usize| out.data()[i + n * (j + n * k)];
        assert!(
            (1..n - 1).all(|i| at(i, 10, 5) == 1),
            "the plate lost voxels"
        );
        let speckle: usize = (12..n)
            .map(|k| {
                (0..n * n)
                    .filter(|&p| out.data()[p + n * n * k] != 0)
                    .count()
            })
            .sum();
        assert_eq!(speckle, 0);
    }

    /// 10 000 voxels each: an aorta at 450 HU (60 % of its voxels at the 400 HU cortex, reading 470 HU; none
    /// above 600 HU) and a vertebra (30 % at the cortex reading 800 HU, 20 % above 600 HU). With the pool found
    /// at 450 HU the aorta is without cortex and the vertebra keeps it; without a pool both count as cortical. A
    /// fatty-marrow vertebra at 3 mm (45 % at the cortex reading 490 HU, none above 600 HU, almost none inside a
    /// lumen) keeps its cortex.
    #[test]
    fn the_pool_is_told_from_bone_by_what_reads_at_the_cortex() {
        // (voxels, at the cortex, their mean HU, above the pool's cortex)
        // (A lumen's voxels at the cortex are mostly inside it, a cortex's lie against marrow.)
        let region = |at_cortex: u64, mean_hu: f64, above_pool: u64| DenseCount {
            voxels: 10_000,
            at_cortex,
            cortex_sum_hu: at_cortex as f64 * mean_hu,
            above_pool,
            flat_at_cortex: if mean_hu < 600.0 { at_cortex / 2 } else { 0 },
        };
        let pool = CortexRule::new(400.0, Some(450.0), 15.0);
        assert_eq!(pool.cortex_hu(), 600);
        assert!(pool.non_cortical(&region(6_000, 470.0, 0)));
        assert!(!pool.non_cortical(&region(3_000, 800.0, 2_000)));
        // A partial-volumed cortex that reads like the pool is still a cortex: it is not inside a lumen.
        let shell = DenseCount {
            flat_at_cortex: 30,
            ..region(4_500, 490.0, 0)
        };
        assert!(!pool.non_cortical(&shell));
        let none = CortexRule::new(400.0, None, 15.0);
        assert_eq!(none.cortex_hu(), 400);
        assert!(!none.non_cortical(&region(6_000, 470.0, 6_000)));
        assert!(!none.non_cortical(&region(3_000, 800.0, 3_000)));
        assert!(none.non_cortical(&region(400, 420.0, 400)));
    }

    /// A 1 mm grid in a 40 HU body: a 450 HU vessel (radius 11 mm, 80 slices: 30 ml) beside a bone
    /// (1000 HU cortex around 250 HU marrow), with 15 HU of noise. The vessel is the pool (≈ 450 HU); without
    /// it the bone's marrow is none (below 300 HU) and neither is its cortex (not homogeneous).
    #[test]
    fn blood_pool_is_the_homogeneous_dense_lumen() {
        let (n, nk) = (64usize, 80usize);
        let g = Geometry::identity([1.0; 3]);
        let mut seed = 7u64;
        let mut noise = move || {
            // Sum of uniforms: roughly normal, σ = 15 HU.
            let mut s = 0.0;
            for _ in 0..12 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s += (seed >> 11) as f64 / (1u64 << 53) as f64;
            }
            (s - 6.0) * 15.0
        };
        let make = |vessel: bool, noise: &mut dyn FnMut() -> f64| {
            let mut hu = vec![0i16; n * n * nk];
            for k in 0..nk {
                for j in 0..n {
                    for i in 0..n {
                        let rb = (i as f64 - 20.0).hypot(j as f64 - 32.0);
                        let rv = (i as f64 - 46.0).hypot(j as f64 - 32.0);
                        let v = if rb <= 12.0 {
                            if rb >= 10.5 {
                                1000.0
                            } else {
                                250.0
                            }
                        } else if vessel && rv <= 11.0 {
                            450.0
                        } else {
                            40.0
                        };
                        hu[i + n * (j + n * k)] = (v + noise()) as i16;
                    }
                }
            }
            Volume::from_vec([n, n, nk], g, hu).unwrap()
        };
        let body = Volume::from_vec([n, n, nk], g, vec![1u8; n * n * nk]).unwrap();
        let with = blood_pool_hu(&make(true, &mut noise), &body, 15.0).expect("a pool");
        assert!((with - 450.0).abs() < 10.0, "{with}");
        assert_eq!(blood_pool_hu(&make(false, &mut noise), &body, 15.0), None);
    }

    /// A 1 mm grid: a one-voxel 800 HU shell (radius 10 mm) around 80 HU marrow, the section of a fatty-marrow
    /// body, with a 300 HU vessel (radius 11 mm) lying against it over 30 slices. The vessel goes; the shell stays
    /// whole where the vessel touches it (it had gone with the vessel there, and the marrow was open to it).
    #[test]
    fn an_aorta_against_a_thin_shell_leaves_the_shell_closed() {
        let (n, nk) = (56usize, 30usize);
        let g = Geometry::identity([1.0; 3]);
        let r = |i: usize, j: usize, x: f64, y: f64| (i as f64 - x).hypot(j as f64 - y);
        let mut hu = vec![40i16; n * n * nk];
        let mut shell = vec![false; n * n * nk];
        for k in 0..nk {
            for j in 0..n {
                for i in 0..n {
                    let q = i + n * (j + n * k);
                    let rb = r(i, j, 16.0, 24.0);
                    if (rb - 10.0).abs() < 0.5 {
                        hu[q] = 800;
                        shell[q] = true;
                    } else if rb < 10.0 {
                        hu[q] = 80;
                    } else if r(i, j, 37.5, 24.0) <= 11.0 {
                        hu[q] = 300;
                    }
                }
            }
        }
        let ct = Volume::from_vec([n, n, nk], g, hu).unwrap();
        let mut bone: Vec<u8> = ct.data().iter().map(|&v| u8::from(v >= 180)).collect();
        let mut dense = vec![0u8; bone.len()];
        let ml = split_non_cortical(
            &ct,
            &mut bone,
            &mut dense,
            &CortexRule::new(400.0, None, 15.0),
        );
        let lost = (0..bone.len())
            .filter(|&q| shell[q] && bone[q] == 0)
            .count();
        assert_eq!(lost, 0, "shell voxels taken with the vessel");
        let centre = 37 + n * (24 + n * 15);
        assert_eq!((bone[centre], dense[centre]), (0, 1), "vessel taken out");
        let vessel_ml = std::f64::consts::PI * 121.0 * nk as f64 / 1000.0;
        assert!(
            (ml - vessel_ml).abs() < 0.15 * vessel_ml,
            "{ml} ml vs {vessel_ml}"
        );
    }

    /// One 0.6 mm slice: a body (marrow 250 HU in a 1 mm, 1000 HU cortex, radius 18 mm) at the middle, a
    /// 200 HU vessel (radius 10 mm) 3 mm in front of it, a 200 HU marrow island without cortex inside the body,
    /// and a 200 HU disc 90 mm to the side (costal cartilage's place). Bone = everything ≥ 180 HU.
    #[test]
    fn vessel_sections_go_and_walled_marrow_stays() {
        let (n, px) = (400usize, 0.6);
        let g = Geometry::identity([px, px, 1.0]);
        let c = n as f64 / 2.0;
        let mut hu = vec![40i16; n * n];
        let at = |i: usize, j: usize, x: f64, y: f64| {
            ((i as f64 - x).powi(2) + (j as f64 - y).powi(2)).sqrt() * px
        };
        for j in 0..n {
            for i in 0..n {
                let r_body = at(i, j, c, c);
                let v = &mut hu[i + j * n];
                if r_body <= 18.0 {
                    *v = if r_body >= 17.0 { 1000 } else { 250 };
                    // The island: marrow cut off from the cortex by a ring of faint marrow.
                    if r_body > 9.0 && r_body < 11.0 {
                        *v = 120;
                    }
                    if r_body <= 9.0 {
                        *v = 200;
                    }
                }
                if at(i, j, c, c - (18.0 + 3.0 + 10.0) / px) <= 10.0 {
                    *v = 200;
                }
                if at(i, j, c + 90.0 / px, c) <= 6.0 {
                    *v = 200;
                }
                // An osteoporotic body 45 mm to the side: a 1.2 mm, 300 HU shell (no voxel at cortical density)
                // around 80 HU marrow.
                let r_shell = at(i, j, c - 45.0 / px, c);
                if r_shell <= 16.0 {
                    *v = if r_shell >= 14.8 { 300 } else { 80 };
                }
            }
        }
        let ct = Volume::from_vec([n, n, 1], g, hu).unwrap();
        let mut bone: Vec<u8> = ct.data().iter().map(|&v| u8::from(v >= 180)).collect();
        let mut dense = vec![0u8; bone.len()];
        let before = bone.clone();
        let ml = drop_vessel_sections(
            &ct,
            &mut bone,
            &mut dense,
            &CortexRule::new(400.0, None, 15.0),
            c * px,
        );
        let idx = |x: f64, y: f64| x.round() as usize + y.round() as usize * n;
        let vessel = idx(c, c - 31.0 / px);
        assert_eq!((bone[vessel], dense[vessel]), (0, 1), "vessel taken out");
        assert_eq!(bone[idx(c, c)], 1, "walled marrow island stays");
        assert_eq!(bone[idx(c + 15.0 / px, c)], 1, "body marrow stays");
        assert_eq!(bone[idx(c + 90.0 / px, c)], 1, "far-lateral section stays");
        assert_eq!(
            bone[idx(c - 45.0 / px + 15.5 / px, c)],
            1,
            "faint osteoporotic shell stays"
        );
        let vessel_ml = std::f64::consts::PI * 100.0 * 1.0 / 1000.0;
        assert!((ml - vessel_ml).abs() < 0.02, "{ml} ml vs {vessel_ml}");
        // Coarse pixels: no test (a body's section may show no cortex there).
        let coarse = Volume::from_vec(
            [n, n, 1],
            Geometry::identity([1.5, 1.5, 3.0]),
            ct.data().to_vec(),
        )
        .unwrap();
        let (mut b2, mut d2) = (before.clone(), vec![0u8; before.len()]);
        assert_eq!(
            drop_vessel_sections(
                &coarse,
                &mut b2,
                &mut d2,
                &CortexRule::new(400.0, None, 15.0),
                c * 1.5
            ),
            0.0
        );
        assert_eq!(b2, before);
    }
}
