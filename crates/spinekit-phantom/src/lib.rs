//! Synthetic spine CT phantom with exact ground truth.
//!
//! [`generate`] builds a spinal column (a chain of vertebrae whose orientations follow sagittal and coronal
//! angle profiles, so Cobb angles, lordosis and kyphosis are known exactly), turns it into analytic solids
//! (cortical-shell vertebral bodies with concave endplates, pedicles, laminae, processes, facets, ribs, sacrum,
//! pelvis, femora, discs, dural sac and cord), paints soft tissues relative to the spine (muscles, fat, organs,
//! bowel with gas, vessels, lungs, table) and rasterises everything slice by slice in parallel with partial-volume
//! anti-aliasing and correlated, size-dependent noise. The [`Truth`] is measured on the generated geometry and
//! label maps. [`project`] makes AP or lateral radiographs with 2D landmarks.
//!
//! The library is pure: no file I/O and no printing; progress goes to an optional callback.
//!
//! # Label maps
//! - `labels`: whole vertebrae, VerSe'20 numbers (1–7 C1–C7, 8–19 T1–T12, 20–24 L1–L5, 25 L6, 26 sacrum,
//!   28 T13); ribs, pelvis and femora are 0. A voxel belongs to the vertebra whose solid contains its centre
//!   (osteophytes included: each belongs to the vertebra it grows from).
//! - `bodies`: vertebral bodies only (same numbers; for the sacrum its top segment).
//! - `discs`: each disc carries the VerSe number of the vertebra **above** it (L4-L5 → 23, L5-S1 → 24).
//! - `canal`: 1 CSF in the dural sac, 2 spinal cord ([`spinekit_anatomy::CanalLabel`]).
//! - `tissues`: [`spinekit_anatomy::Tissue`] codes (psoas, paraspinal, quadratus lumborum, abdominal wall,
//!   other muscle, subcutaneous / visceral / other fat, organs, bowel and gas, vessels, bone, disc, metal, …).
//!
//! # Realism notes
//! HU of a phantom at 3 mm (noise 8 HU, trabecular 120 HU; `examples/phantom_hu_stats.rs`) against the
//! 3 mm TotalSegmentator example CT in `../shared/data/ct-totalseg-example` (same rules on both):
//! lumbar bodies median 131 vs 138 HU (95th percentile 391 vs 326: the phantom's cortical shell weighs
//! a little more); whole vertebrae median 196 vs 172; L3 muscle window (−29…150 HU) mean 37 ± 28 vs
//! 20 ± 28 (the real patient's muscle is fattier); L3 fat window (−190…−30 HU) mean −100 ± 21 vs −95 ± 27.
//! Shapes are analytic (ellipses, capsules, shells), so the anatomy is plausible to an algorithm but
//! simpler than a patient: no vertebral rotation in scoliosis, smooth organ outlines, bowel as ellipsoids
//! with air–fluid levels.
//!
//! Degeneration is off by default. [`PhantomConfig::degeneration`] (presets [`Degeneration::moderate`] and
//! [`Degeneration::severe`]) adds, seeded: disc-space narrowing per disc (the column shortens; heights,
//! angles and alignment in the truth are measured on the narrowed geometry, and the facets of the two
//! neighbours move closer as the disc does); marginal osteophytes, tapered bony capsules of 3–8 mm with a
//! cortical rim growing out of the anterior and lateral endplate rims every 7.5° (overlapping into a lip),
//! optionally bridging the disc (both neighbours' spurs meet over its anterior and anterolateral margin);
//! vacuum phenomenon (a flat gas cleft at −900 HU in the nucleus); and calcified plaques (900 HU, 1–2 mm
//! thick arcs of the wall, half of them on the posterior wall facing the spine) in the abdominal aorta,
//! which is moved forward by the longest spur so that the spurs do not grow into it. In `labels` each spur
//! belongs to the vertebra it grows from (a bridge is split at the plane midway between its two halves);
//! `bodies` excludes spurs. Still simpler than a patient: the lip is a row of overlapping capsules; no facet
//! hypertrophy, endplate sclerosis, Schmorl nodes, listhesis or ligamentum flavum calcification. A narrowed
//! disc too thin for its lordotic wedge gives up angle (posterior edge 1.5 mm), so lordosis falls (severe
//! preset: lumbar lordosis 55° → 39°), as in degenerative flat back.

mod added_noise;
mod config;
mod degen;
mod error;
mod math;
mod morphometry;
mod noise;
mod project;
mod raster;
mod scene;
mod shapes;
mod soft;
mod spine;
mod thick;
mod truth;

pub use added_noise::{added_noise, NoiseTexture};
pub use config::{
    BodyHabitus, ContrastPhase, FractureSpec, GridSize, LevelHu, PhantomConfig, SagittalProfile,
    Scoliosis, Side, MAX_VOXELS,
};
pub use degen::{
    AorticPlaqueTruth, DegeneratedDiscTruth, Degeneration, DegenerationPreset, DegenerationTruth,
    DiscDegeneration,
};
pub use error::PhantomError;
pub use morphometry::{dims as level_dimensions, LevelDims, HEIGHT_POSITIONS};
pub use project::{
    project, CircleLandmark, Projection, ProjectionTruth, ProjectionView, Px, S1Landmarks,
    VertebraLandmarks,
};
pub use thick::thick_slices;
pub use truth::{
    AlignmentTruth, AngleTruth, BodyCompositionTruth, CobbTruth, Conventions, DiscTruth, Endplate,
    EnumerationTruth, FractureTruth, GridTruth, Heights, LabelMapsTruth, LevelTruth, PedicleTruth,
    PelvisTruth, ScrewTruth, Truth, Visibility,
};

use math::v3;
use raster::Grid;
use spinekit_image::{Geometry, Volume};

/// Progress callback: a short description of the current phase and the fraction done (0–1).
pub type Progress<'a> = &'a dyn Fn(&str, f32);

/// A generated phantom: CT (HU), label maps on the same grid, and the truth.
#[derive(Debug, Clone)]
pub struct Phantom {
    /// Hounsfield units, clamped to −1024…3071.
    pub ct: Volume<i16>,
    /// Whole vertebrae, VerSe'20 numbering (see [`Truth::label_maps`]).
    pub labels: Volume<u8>,
    /// Vertebral bodies only, same numbering.
    pub bodies: Volume<u8>,
    /// Discs, labelled with the VerSe number of the vertebra above.
    pub discs: Volume<u8>,
    /// Spinal canal: 1 CSF (dural sac), 2 cord.
    pub canal: Volume<u8>,
    /// Tissue codes of [`spinekit_anatomy::Tissue`].
    pub tissues: Volume<u8>,
    pub truth: Truth,
}

/// Margin (mm) kept between the requested levels' bodies and the top/bottom of the grid.
const LEVEL_MARGIN_MM: f64 = 5.0;

/// Generates a phantom. Deterministic: the same configuration gives the same bytes on any thread count.
pub fn generate(cfg: &PhantomConfig, progress: Option<Progress>) -> Result<Phantom, PhantomError> {
    cfg.validate()?;
    let report = |s: &str, f: f32| {
        if let Some(p) = progress {
            p(s, f);
        }
    };
    report("building anatomy", 0.0);
    let mut model = spine::build(cfg);

    // Requested levels: from the first level's segment to the last's (the top sacral segment for the sacrum).
    let seg_idx = |l: spinekit_anatomy::Level| {
        model
            .segments
            .iter()
            .position(|s| s.level == l && (s.free || s.in_body_map))
            .expect("validated level exists")
    };
    let (i0, i1) = (seg_idx(cfg.first_level), seg_idx(cfg.last_level));
    let (mut zlo, mut zhi) = (f64::INFINITY, f64::NEG_INFINITY);
    for i in i0..=i1 {
        let (a, b) = model.segment_z_range(i);
        zlo = zlo.min(a);
        zhi = zhi.max(b);
    }
    let span = zhi - zlo;
    let zc = 0.5 * (zlo + zhi);
    // Centre the body outline in y at the middle of the requested levels.
    let s = soft::spine_at(&model, zc);
    let b_post = s.post_reach + 8.0 + 0.8 * cfg.body.subcutaneous_fat_mm + 2.0;
    let b_ant = (cfg.body.abdomen_ap_mm - b_post).max(60.0);
    let yc = s.y + 0.5 * (b_post - b_ant);
    model.translate(v3(0.0, -yc, -zc));

    let sp = cfg.voxel_size_mm;
    let need = span + 2.0 * LEVEL_MARGIN_MM;
    let levels = format!("levels {}–{}", cfg.first_level, cfg.last_level);
    let dims = match cfg.grid {
        GridSize::Dims { dims } => dims,
        GridSize::FovMm { fov_mm } => {
            [0, 1, 2].map(|a| (fov_mm[a] / sp[a]).ceil().max(1.0) as usize)
        }
        GridSize::FitLevels {
            inplane_fov_mm,
            margin_mm,
        } => [
            (inplane_fov_mm / sp[0]).ceil() as usize,
            (inplane_fov_mm / sp[1]).ceil() as usize,
            ((span + 2.0 * margin_mm.max(LEVEL_MARGIN_MM)) / sp[2]).ceil() as usize,
        ],
    };
    let extent_z = dims[2] as f64 * sp[2];
    if extent_z < need {
        return Err(PhantomError::FieldOfView(format!(
            "{levels} need {need:.0} mm in z but the grid covers {extent_z:.0} mm ({} slices × {} mm); \
             add slices, enlarge the voxels or request fewer levels",
            dims[2], sp[2]
        )));
    }
    let nvox = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if nvox.is_none_or(|n| n > MAX_VOXELS || n == 0) {
        return Err(PhantomError::Config(format!(
            "grid {dims:?} exceeds {MAX_VOXELS} voxels; enlarge the voxels or shrink the field of view"
        )));
    }
    let grid = Grid {
        dims,
        origin: [0, 1, 2].map(|a| -0.5 * (dims[a] as f64 - 1.0) * sp[a]),
        spacing: sp,
    };
    let scene = scene::build(&model, &cfg.screws, cfg.degeneration.as_ref(), cfg.seed);
    let zs: Vec<f64> = (0..dims[2]).map(|k| grid.z(k)).collect();
    let softm = soft::SoftModel::new(cfg, &model, &scene, zs);
    report("rasterising slices", 0.0);
    let ctx = raster::Ctx {
        grid,
        scene: &scene,
        soft: &softm,
        noise_sigma_hu: cfg.noise_sigma_hu,
        seed: cfg.seed,
    };
    let (maps, stats) = raster::rasterise(&ctx, progress);
    report("measuring truth", 1.0);
    let mut truth = truth::compute(&truth::TruthInput {
        cfg,
        model: &model,
        scene: &scene,
        grid,
        maps: &maps,
        stats: &stats,
        aorta_hu: softm.enh.aorta,
    });
    truth.degeneration = cfg
        .degeneration
        .as_ref()
        .map(|_| degen::truth(&scene, &softm.degen_plaques));
    let geom = Geometry {
        origin_mm: grid.origin,
        spacing_mm: sp,
        direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    };
    Ok(Phantom {
        ct: Volume::from_vec(dims, geom, maps.ct)?,
        labels: Volume::from_vec(dims, geom, maps.labels)?,
        bodies: Volume::from_vec(dims, geom, maps.bodies)?,
        discs: Volume::from_vec(dims, geom, maps.discs)?,
        canal: Volume::from_vec(dims, geom, maps.canal)?,
        tissues: Volume::from_vec(dims, geom, maps.tissues)?,
        truth,
    })
}
