//! Slice-parallel rasterisation: soft-tissue layer, soft primitives (discs, canal), bone with cortical
//! shells and textured marrow, metal, then correlated noise. Label maps take each primitive's solid sampled
//! at voxel centres; the CT takes anti-aliased occupancies (partial volume) from the signed distances.

use crate::math::{v3, V3};
use crate::noise::{value_noise, NoiseFilter};
use crate::scene::{Mat, Prim, Scene, SoftClass};
use crate::soft::{Op, OpKind, SoftModel, HU_AIR};
use rayon::prelude::*;
use spinekit_anatomy::{CanalLabel, Tissue};

/// Axis-aligned LPS grid: voxel (i, j, k) centre = origin + (i·sx, j·sy, k·sz).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    pub dims: [usize; 3],
    pub origin: [f64; 3],
    pub spacing: [f64; 3],
}

impl Grid {
    #[inline]
    pub fn x(&self, i: usize) -> f64 {
        self.origin[0] + i as f64 * self.spacing[0]
    }
    #[inline]
    pub fn y(&self, j: usize) -> f64 {
        self.origin[1] + j as f64 * self.spacing[1]
    }
    #[inline]
    pub fn z(&self, k: usize) -> f64 {
        self.origin[2] + k as f64 * self.spacing[2]
    }
    fn i_range(&self, lo: f64, hi: f64) -> Option<(usize, usize)> {
        let a = ((lo - self.origin[0]) / self.spacing[0]).floor().max(0.0);
        let b = ((hi - self.origin[0]) / self.spacing[0])
            .ceil()
            .min(self.dims[0] as f64 - 1.0);
        (a <= b).then_some((a as usize, b as usize))
    }
    fn j_range(&self, lo: f64, hi: f64) -> Option<(usize, usize)> {
        let a = ((lo - self.origin[1]) / self.spacing[1]).floor().max(0.0);
        let b = ((hi - self.origin[1]) / self.spacing[1])
            .ceil()
            .min(self.dims[1] as f64 - 1.0);
        (a <= b).then_some((a as usize, b as usize))
    }
}

/// Label maps and CT, i fastest.
#[derive(Debug, Clone)]
pub struct Maps {
    pub ct: Vec<i16>,
    pub labels: Vec<u8>,
    pub bodies: Vec<u8>,
    pub discs: Vec<u8>,
    pub canal: Vec<u8>,
    pub tissues: Vec<u8>,
}

/// Per-label voxel sums (count, Σx, Σy, Σz in mm) for labels 0..=28, accumulated slice by slice.
#[derive(Debug, Clone)]
pub struct Stats {
    pub labels: Vec<[f64; 4]>,
    pub bodies: Vec<[f64; 4]>,
}

const N_LABELS: usize = 29;
/// Width (mm) of the point spread added to the voxel box when anti-aliasing.
const PSF_MM: f64 = 0.5;
const METAL_HU: f32 = 3071.0;
const HU_MIN: f32 = -1024.0;
const HU_MAX: f32 = 3071.0;

thread_local! {
    /// Per-thread slice buffers, reused across slices and batches.
    static SCRATCH: std::cell::RefCell<Option<Scratch>> = const { std::cell::RefCell::new(None) };
}

struct Scratch {
    hu: Vec<f32>,
    o: Vec<f32>,
    ic: Vec<f32>,
    core: Vec<f32>,
    cort: Vec<f32>,
    best: Vec<f32>,
    bbest: Vec<f32>,
    metal: Vec<f32>,
    noise: Vec<f32>,
    t1: Vec<f32>,
    t2: Vec<f32>,
    /// Rows [lo, hi) touched by bone or metal in the previous slice (only those need resetting).
    dirty: (usize, usize),
}

impl Scratch {
    fn new(n: usize) -> Self {
        Scratch {
            hu: vec![0.0; n],
            o: vec![0.0; n],
            ic: vec![0.0; n],
            core: vec![0.0; n],
            cort: vec![0.0; n],
            best: vec![f32::INFINITY; n],
            bbest: vec![f32::INFINITY; n],
            metal: vec![0.0; n],
            noise: vec![0.0; n],
            t1: vec![0.0; n],
            t2: vec![0.0; n],
            dirty: (0, 0),
        }
    }
    fn reset(&mut self, ni: usize) {
        self.hu.fill(HU_AIR);
        // Nothing drawn since the last reset (a slice above the head or below the feet): nothing to clear.
        if self.dirty.0 >= self.dirty.1 {
            self.dirty = (usize::MAX, 0);
            return;
        }
        let r = self.dirty.0 * ni..self.dirty.1 * ni;
        self.o[r.clone()].fill(0.0);
        self.ic[r.clone()].fill(0.0);
        self.best[r.clone()].fill(f32::INFINITY);
        self.bbest[r.clone()].fill(f32::INFINITY);
        self.metal[r].fill(0.0);
        self.dirty = (usize::MAX, 0);
    }
    fn touch(&mut self, j0: usize, j1: usize) {
        self.dirty = (self.dirty.0.min(j0), self.dirty.1.max(j1 + 1));
    }
}

/// One slice of every output map.
struct Out<'a> {
    ct: &'a mut [i16],
    lab: &'a mut [u8],
    blab: &'a mut [u8],
    disc: &'a mut [u8],
    canal: &'a mut [u8],
    tis: &'a mut [u8],
}

/// Everything the slice kernel reads.
pub struct Ctx<'a> {
    pub grid: Grid,
    pub scene: &'a Scene,
    pub soft: &'a SoftModel,
    pub noise_sigma_hu: f64,
    pub seed: u64,
}

/// Ramp widths: precomputed voxel-size-weighted rows of each primitive's rotation.
struct PrimCtx {
    /// Rotation columns scaled per world axis by the spacing (for ramp widths).
    rs: [V3; 3],
    /// Local step for +1 in i.
    di: V3,
}

impl Ctx<'_> {
    fn prim_ctx(&self, p: &Prim) -> PrimCtx {
        let s = self.grid.spacing;
        let c = p.frame.r.c;
        let sc = |v: V3| v3(v.x * s[0], v.y * s[1], v.z * s[2]);
        PrimCtx {
            rs: [sc(c[0]), sc(c[1]), sc(c[2])],
            di: p.frame.r.apply_t(v3(s[0], 0.0, 0.0)),
        }
    }
}

impl PrimCtx {
    /// Anti-aliasing ramp width (mm) for a local normal `n`.
    #[inline]
    fn ramp(&self, n: V3, fallback: f64) -> f64 {
        let nn = n.dot(n);
        if nn <= 0.0 {
            return fallback;
        }
        let w = self.rs[0] * n.x + self.rs[1] * n.y + self.rs[2] * n.z;
        (w.dot(w) / nn + PSF_MM * PSF_MM).sqrt()
    }
}

#[inline]
fn occ(d: f64, w: f64) -> f32 {
    (0.5 - d / w).clamp(0.0, 1.0) as f32
}

/// Paints one 2D op on row j. Coverage ramps across the boundary with a width that accounts for the
/// boundary's slope between rows (a box-filter approximation); tissue codes use the voxel centre.
#[allow(clippy::too_many_arguments)]
fn paint_row(
    op: &Op,
    hu: &mut [f32],
    tis: &mut [u8],
    grid: &Grid,
    y: f64,
    k: usize,
    soft: &SoftModel,
    seed: u64,
) {
    let (sx, sy) = (grid.spacing[0], grid.spacing[1]);
    let (iv, n) = op.intervals(y);
    if n == 0 {
        return;
    }
    // Slope of each boundary between the neighbouring half-rows: an interval missing there has collapsed
    // to the centre (top or bottom of the region).
    let (ivl, nl) = op.intervals(y - 0.5 * sy);
    let (ivh, nh) = op.intervals(y + 0.5 * sy);
    let endpoint = |ivx: &[(f64, f64); 2], nx: usize, m: usize, end: usize| -> Option<f64> {
        if nx == n {
            Some(if end == 0 { ivx[m].0 } else { ivx[m].1 })
        } else if nx == 0 {
            Some(op.cx)
        } else {
            None
        }
    };
    let width = |m: usize, end: usize| -> f64 {
        let c = if end == 0 { iv[m].0 } else { iv[m].1 };
        let lo = endpoint(&ivl, nl, m, end).unwrap_or(c);
        let hi = endpoint(&ivh, nh, m, end).unwrap_or(c);
        (sx * sx + (hi - lo) * (hi - lo)).sqrt()
    };
    let z = grid.z(k);
    let ni = grid.dims[0];
    for (m, &(x0, x1)) in iv.iter().enumerate().take(n) {
        let (w0, w1) = (width(m, 0), width(m, 1));
        let ia = ((x0 - 0.5 * w0 - grid.origin[0]) / sx).floor().max(0.0) as usize;
        let ib = (((x1 + 0.5 * w1 - grid.origin[0]) / sx).ceil().max(0.0) as usize).min(ni - 1);
        if ia > ib || x1 <= x0 {
            continue;
        }
        // Voxels whose coverage is exactly 1: a plain fill.
        let (fa, fb) = if op.kind == OpKind::Plain || matches!(op.kind, OpKind::Ring(..)) {
            let fa = ((x0 + 0.5 * w0 - grid.origin[0]) / sx)
                .ceil()
                .max(ia as f64) as usize;
            let fb = ((x1 - 0.5 * w1 - grid.origin[0]) / sx)
                .floor()
                .min(ib as f64);
            if fb >= 0.0 && fa <= fb as usize {
                (fa, fb as usize)
            } else {
                (ib + 1, ib)
            }
        } else {
            (ib + 1, ib)
        };
        if fa <= fb {
            hu[fa..=fb].fill(op.hu);
            tis[fa..=fb].fill(op.tissue.code());
        }
        let (inv0, inv1) = (1.0 / w0, 1.0 / w1);
        for i in (ia..fa.min(ib + 1)).chain((fb + 1).max(ia)..=ib) {
            let x = grid.x(i);
            let c = ((0.5 + (x - x0) * inv0).min(0.5 + (x1 - x) * inv1)).clamp(0.0, 1.0) as f32;
            if c <= 0.0 {
                continue;
            }
            let inside = x >= x0 && x < x1;
            let mut v = op.hu;
            match op.kind {
                OpKind::Lung if z <= soft.diaphragm_z(k, x, y) => continue,
                OpKind::Stool => {
                    v = (op.hu as f64 + 90.0 * value_noise(seed ^ 0x0005_7001, [x, y, z], 2.5))
                        as f32;
                }
                _ => {}
            }
            let h = &mut hu[i];
            *h += (v - *h) * c;
            if inside {
                tis[i] = op.tissue.code();
            }
        }
    }
}

type Sums = [[f64; 4]; N_LABELS];

fn slice_kernel(
    ctx: &Ctx,
    k: usize,
    s: &mut Scratch,
    out: Out,
    filt: &NoiseFilter,
) -> (Sums, Sums) {
    let g = ctx.grid;
    let [ni, nj, _] = g.dims;
    let [sx, sy, sz] = g.spacing;
    let z = g.z(k);
    s.reset(ni);
    // 1. Soft-tissue layer.
    let ops = ctx.soft.ops(k);
    for op in &ops {
        let (ylo, yhi) = op.y_range();
        let Some((j0, j1)) = g.j_range(ylo - sy, yhi + sy) else {
            continue;
        };
        for j in j0..=j1 {
            let y = g.y(j);
            let r = j * ni..(j + 1) * ni;
            paint_row(
                op,
                &mut s.hu[r.clone()],
                &mut out.tis[r],
                &g,
                y,
                k,
                ctx.soft,
                ctx.seed,
            );
        }
    }
    let w_iso = (sx * sx + sy * sy + sz * sz).sqrt();
    let half_max = 0.5 * (w_iso * w_iso + PSF_MM * PSF_MM).sqrt();
    let margin = half_max + 0.5;
    let in_z = |p: &Prim| p.lo.z - margin <= z && z <= p.hi.z + margin;
    let ranges = |p: &Prim| {
        Some((
            g.i_range(p.lo.x - margin, p.hi.x + margin)?,
            g.j_range(p.lo.y - margin, p.hi.y + margin)?,
        ))
    };
    // 2. Soft primitives (discs, epidural fat, CSF, cord) in order.
    for p in ctx.scene.soft.iter().filter(|p| in_z(p)) {
        let pc = ctx.prim_ctx(p);
        let Mat::Soft { hu, class } = p.mat else {
            continue;
        };
        let Some(((i0, i1), (j0, j1))) = ranges(p) else {
            continue;
        };
        for j in j0..=j1 {
            let mut q = p.frame.to_local(v3(g.x(i0), g.y(j), z));
            for i in i0..=i1 {
                let e = p.shape.eval(q, 0.0);
                q += pc.di;
                if e.d > half_max {
                    continue;
                }
                let idx = j * ni + i;
                let o = if e.d < -half_max {
                    1.0
                } else {
                    occ(e.d, pc.ramp(e.n, w_iso))
                };
                s.hu[idx] += (hu - s.hu[idx]) * o;
                if e.d < 0.0 {
                    match class {
                        SoftClass::Disc(l) => {
                            out.disc[idx] = l;
                            out.tis[idx] = Tissue::Disc.code();
                        }
                        SoftClass::EpiduralFat => out.tis[idx] = Tissue::OtherFat.code(),
                        SoftClass::Csf => {
                            out.canal[idx] = CanalLabel::Csf.code();
                            out.tis[idx] = Tissue::Csf.code();
                        }
                        SoftClass::Cord => {
                            out.canal[idx] = CanalLabel::Cord.code();
                            out.tis[idx] = Tissue::Cord.code();
                        }
                    }
                }
            }
        }
    }
    // 3. Bone: union of outer occupancies (max), union of marrow occupancies (max), nearest-inside labels.
    let tex_seed = ctx.seed ^ 0x07EB_0CE5;
    for p in ctx.scene.bone.iter().filter(|p| in_z(p)) {
        let pc = ctx.prim_ctx(p);
        let Mat::Bone {
            label,
            body_label,
            cortex_hu,
            core_hu,
            texture_hu,
        } = p.mat
        else {
            continue;
        };
        let Some(((i0, i1), (j0, j1))) = ranges(p) else {
            continue;
        };
        s.touch(j0, j1);
        for j in j0..=j1 {
            let y = g.y(j);
            let mut q = p.frame.to_local(v3(g.x(i0), y, z));
            for i in i0..=i1 {
                let e = p.shape.eval(q, p.cortex_mm);
                q += pc.di;
                if e.d > half_max {
                    continue;
                }
                let idx = j * ni + i;
                let (o, oc) = if e.d_core < -half_max {
                    (1.0, 1.0)
                } else {
                    let w = pc.ramp(e.n, w_iso);
                    (occ(e.d, w), occ(e.d_core, w))
                };
                if o > s.o[idx] {
                    s.o[idx] = o;
                    s.cort[idx] = cortex_hu;
                }
                if oc > s.ic[idx] {
                    s.ic[idx] = oc;
                    let t = if texture_hu != 0.0 {
                        texture_hu as f64 * value_noise(tex_seed, [g.x(i), y, z], 1.3)
                    } else {
                        0.0
                    };
                    s.core[idx] = core_hu + (t + e.extra_hu) as f32;
                }
                let d = e.d as f32;
                if d < 0.0 {
                    if d < s.best[idx] {
                        s.best[idx] = d;
                        out.lab[idx] = label;
                    }
                    if body_label != 0 && d < s.bbest[idx] {
                        s.bbest[idx] = d;
                        out.blab[idx] = body_label;
                    }
                }
            }
        }
    }
    // 4. Metal.
    for p in ctx.scene.metal.iter().filter(|p| in_z(p)) {
        let pc = ctx.prim_ctx(p);
        let Some(((i0, i1), (j0, j1))) = ranges(p) else {
            continue;
        };
        s.touch(j0, j1);
        for j in j0..=j1 {
            let mut q = p.frame.to_local(v3(g.x(i0), g.y(j), z));
            for i in i0..=i1 {
                let e = p.shape.eval(q, 0.0);
                q += pc.di;
                if e.d > half_max {
                    continue;
                }
                let idx = j * ni + i;
                let o = occ(e.d, pc.ramp(e.n, w_iso));
                s.metal[idx] = s.metal[idx].max(o);
                if e.d < 0.0 {
                    out.tis[idx] = Tissue::Metal.code();
                }
            }
        }
    }
    // 5. Compose, add noise, write the CT, fix labels under bone, accumulate centroids.
    let sigma0 = ctx.noise_sigma_hu;
    if sigma0 > 0.0 {
        filt.slice(ctx.seed, k, [ni, nj], &mut s.noise, &mut s.t1, &mut s.t2);
    } else {
        s.noise.fill(0.0);
    }
    let o = ctx.soft.outline[k];
    // Dose dependence: noise grows as exp(μ·ΔD/2) with the water-equivalent diameter (μ ≈ 0.019/mm).
    let d_eff = 2.0 * (o.a * 0.5 * (o.b_ant + o.b_post)).max(1.0).sqrt();
    let sig = (sigma0 * (0.0095 * (d_eff - 271.0)).exp()) as f32;
    let (x0, dxa) = ((g.origin[0] / o.a) as f32, (sx / o.a) as f32);
    let mut lab_sums = [[0.0f64; 4]; N_LABELS];
    let mut body_sums = [[0.0f64; 4]; N_LABELS];
    let (bj0, bj1) = s.dirty;
    let bone_code = Tissue::Bone.code();
    let metal_code = Tissue::Metal.code();
    for j in 0..nj {
        let y = g.y(j);
        let ry = if y < o.cy {
            (y - o.cy) / o.b_ant
        } else {
            (y - o.cy) / o.b_post
        } as f32;
        let ry2 = ry * ry;
        let r = j * ni..(j + 1) * ni;
        let (hu, nz, ct) = (
            &s.hu[r.clone()],
            &s.noise[r.clone()],
            &mut out.ct[r.clone()],
        );
        // Noise modulation (1.2 at the body centre, 1 at the skin, 0.85 outside) and the i16 write.
        let has_bone = j >= bj0 && j < bj1;
        for i in 0..ni {
            let mut v = hu[i];
            if has_bone {
                let idx = j * ni + i;
                let (oo, ii) = (s.o[idx], s.ic[idx]);
                if oo > 0.0 {
                    v = (1.0 - oo) * v + (oo - ii) * s.cort[idx] + ii * s.core[idx];
                }
                let m = s.metal[idx];
                if m > 0.0 {
                    v += (METAL_HU - v) * m;
                }
            }
            let rx = x0 + dxa * i as f32;
            let r2 = rx * rx + ry2;
            let f = if r2 < 1.0 { 1.2 - 0.2 * r2 } else { 0.85 };
            v += sig * f * nz[i];
            // Round half up via truncation of a positive number (values are ≥ −1024 after clamping).
            ct[i] = ((v.clamp(HU_MIN, HU_MAX) + 2048.5) as i32 - 2048) as i16;
        }
        if has_bone {
            for i in 0..ni {
                let idx = j * ni + i;
                if s.best[idx] < 0.0 {
                    if out.tis[idx] != metal_code {
                        out.tis[idx] = bone_code;
                    }
                    out.disc[idx] = 0;
                    out.canal[idx] = 0;
                    let a = &mut lab_sums[out.lab[idx] as usize];
                    a[0] += 1.0;
                    a[1] += g.x(i);
                    a[2] += y;
                    a[3] += z;
                }
                if out.blab[idx] != 0 {
                    let a = &mut body_sums[out.blab[idx] as usize];
                    a[0] += 1.0;
                    a[1] += g.x(i);
                    a[2] += y;
                    a[3] += z;
                }
            }
        }
    }
    (lab_sums, body_sums)
}

/// Rasterises every slice in parallel (deterministic: each slice depends only on its index), reporting
/// progress between batches of slices.
pub fn rasterise(ctx: &Ctx, progress: Option<crate::Progress>) -> (Maps, Stats) {
    let [ni, nj, nk] = ctx.grid.dims;
    let n = ni * nj;
    let total = n * nk;
    let mut maps = Maps {
        ct: vec![0; total],
        labels: vec![0; total],
        bodies: vec![0; total],
        discs: vec![0; total],
        canal: vec![0; total],
        tissues: vec![0; total],
    };
    let filt = NoiseFilter::new(ctx.grid.spacing);
    let mut stats = Stats {
        labels: vec![[0.0; 4]; N_LABELS],
        bodies: vec![[0.0; 4]; N_LABELS],
    };
    let batch = nk.div_ceil(16).max(1);
    let mut k0 = 0;
    while k0 < nk {
        let k1 = (k0 + batch).min(nk);
        let r = k0 * n..k1 * n;
        let sums: Vec<_> = (
            maps.ct[r.clone()].par_chunks_mut(n),
            maps.labels[r.clone()].par_chunks_mut(n),
            maps.bodies[r.clone()].par_chunks_mut(n),
            maps.discs[r.clone()].par_chunks_mut(n),
            maps.canal[r.clone()].par_chunks_mut(n),
            maps.tissues[r].par_chunks_mut(n),
        )
            .into_par_iter()
            .enumerate()
            .map(|(dk, (ct, lab, blab, disc, canal, tis))| {
                SCRATCH.with(|cell| {
                    let mut guard = cell.borrow_mut();
                    if guard.as_ref().is_none_or(|s| s.hu.len() != n) {
                        *guard = Some(Scratch::new(n));
                    }
                    let s = guard.as_mut().expect("scratch allocated");
                    let out = Out {
                        ct,
                        lab,
                        blab,
                        disc,
                        canal,
                        tis,
                    };
                    slice_kernel(ctx, k0 + dk, s, out, &filt)
                })
            })
            .collect();
        for (ls, bs) in sums {
            for l in 0..N_LABELS {
                for c in 0..4 {
                    stats.labels[l][c] += ls[l][c];
                    stats.bodies[l][c] += bs[l][c];
                }
            }
        }
        k0 = k1;
        if let Some(p) = progress {
            p("rasterising slices", k0 as f32 / nk as f32);
        }
    }
    (maps, stats)
}
