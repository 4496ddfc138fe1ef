//! CT body composition and contrast phase, from a CT in HU and the CT spine engine's segmentation.
//!
//! For each of T12–L5 in view, the axial slice through the middle of the vertebral body (its body centroid)
//! is classified into subcutaneous fat, visceral fat, intermuscular fat (IMAT) and skeletal muscle (psoas,
//! paraspinal, quadratus lumborum, abdominal wall) with the HU windows of clinical-reference §3.1; at L3 the
//! skeletal muscle index and the sarcopenia and myosteatosis cut-offs of §3.2 follow when height, sex (and for
//! BMI-dependent sets, weight) are given. The aorta in T12–L3 gives the contrast phase (§2.3).
//!
//! This is classical image analysis (thresholds, rays, morphology; see [`compartments`]), not a learned model;
//! it is pure (no file I/O, no printing). Anything that cannot be measured is an explicit
//! [`Measured::NotMeasurable`] with a reason.

pub mod compartments;
pub mod contrast;
pub mod img2d;
pub mod slice;

pub use contrast::{AortaSample, ContrastEstimate, ContrastHints};

use compartments::{classify, spine_frame, SliceResult, FAT_HU, MUSCLE_HU};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use spinekit_anatomy::{ContrastPhase, Level, Tissue};
use spinekit_ct::Segmentation;
use spinekit_image::Volume;

/// Schema name of [`BodyCompositionReport`].
pub const SCHEMA: &str = "spinekit-bodycomp/2";

/// Levels analysed, cranial first.
pub const LEVELS: [Level; 6] = [
    Level::T12,
    Level::L1,
    Level::L2,
    Level::L3,
    Level::L4,
    Level::L5,
];

/// A value or the reason it is missing (one type and one JSON shape for every engine).
pub use spinekit_anatomy::Measured;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

/// What is known about the patient (all optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PatientInfo {
    pub height_cm: Option<f64>,
    pub weight_kg: Option<f64>,
    pub sex: Option<Sex>,
    pub age_years: Option<f64>,
}

/// Where a measured slice lies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlicePosition {
    /// Index of the volume slice (None when a plane was resampled because the scan is not axial).
    pub slice_index: Option<usize>,
    /// Voxel axis normal to the slice (None when resampled).
    pub slice_axis: Option<usize>,
    /// LPS z (mm) of the slice at the vertebral-body centroid.
    pub z_mm: f64,
    /// Vertebral-body centroid (LPS mm) the slice passes through (or nearest to).
    pub body_centroid_mm: [f64; 3],
    /// Angle between the slice normal and the patient's S axis.
    pub tilt_deg: f64,
    pub resampled: bool,
}

/// Body composition on one slice. Areas in cm², HU in Hounsfield units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelComposition {
    pub level: Level,
    pub slice: SlicePosition,
    pub pixel_area_mm2: f64,
    /// Skeletal muscle area (SMA): all muscle compartments.
    pub skeletal_muscle_area_cm2: Measured<f64>,
    pub psoas_area_cm2: Measured<f64>,
    pub paraspinal_area_cm2: Measured<f64>,
    pub quadratus_lumborum_area_cm2: Measured<f64>,
    pub abdominal_wall_muscle_area_cm2: Measured<f64>,
    /// Intermuscular adipose tissue (fat inside the wall-muscle band and between the paraspinal muscles).
    pub imat_area_cm2: Measured<f64>,
    pub visceral_fat_area_cm2: Measured<f64>,
    pub subcutaneous_fat_area_cm2: Measured<f64>,
    /// VAT / SAT (§3.2 notes; no universal cut-off).
    pub visceral_to_subcutaneous_ratio: Measured<f64>,
    /// Mean HU of the skeletal-muscle pixels (SMRA/SMD, §3.1).
    pub muscle_mean_hu: Measured<f64>,
    pub body_outline_cut_by_fov: bool,
    /// Area inside the body outline (everything but air and the couch), for checking the outline.
    pub body_area_cm2: f64,
    /// Couch pixels (above −500 HU, outside the body) removed from the outline, in cm².
    pub table_removed_cm2: f64,
    pub method: String,
}

/// A level that could not be measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelEntry {
    pub level: Level,
    pub result: Measured<LevelComposition>,
}

/// One cut-off set applied to the L3 values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CutoffFlag {
    /// "sarcopenia" or "myosteatosis".
    pub condition: String,
    /// E.g. "Prado 2008 (clinical-reference §3.2, S18)".
    pub source: String,
    pub measured: f64,
    pub threshold: f64,
    /// "cm²/m²" or "HU".
    pub unit: String,
    /// True when below the threshold.
    pub below_threshold: bool,
    pub note: String,
}

/// Indices at L3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct L3Indices {
    /// SMI = SMA_L3 / height² (§3.2).
    pub skeletal_muscle_index_cm2_per_m2: Measured<f64>,
    /// PMI = psoas area_L3 / height² (§3.2).
    pub psoas_muscle_index_cm2_per_m2: Measured<f64>,
    pub bmi_kg_per_m2: Measured<f64>,
    /// Every cut-off set, each measured or not.
    pub flags: Vec<Measured<CutoffFlag>>,
    pub method: String,
}

/// Everything this crate reports (serialisable; label maps are separate in [`BodyCompositionOutput`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BodyCompositionReport {
    pub schema: String,
    pub levels: Vec<LevelEntry>,
    pub l3: L3Indices,
    pub contrast: ContrastEstimate,
    pub patient: PatientInfo,
    pub caveats: Vec<String>,
    pub method: String,
}

/// Per-pixel tissue codes ([`Tissue`]) of one measured slice, for overlays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TissueMap {
    pub level: Level,
    pub width: usize,
    pub height: usize,
    /// Column then row spacing.
    pub pixel_spacing_mm: [f64; 2],
    /// LPS centre of pixel (0, 0), and the unit LPS directions of increasing column and row.
    pub origin_mm: [f64; 3],
    pub column_direction: [f64; 3],
    pub row_direction: [f64; 3],
    /// Row-major, `width × height`.
    pub codes: Vec<u8>,
    /// HU of the same pixels (for drawing the overlay on the image).
    pub hu: Vec<i16>,
}

impl TissueMap {
    /// The slice as one-slice volumes (HU, tissue codes) with the slice's LPS geometry, e.g. for
    /// `spinekit_picture::write_overlay_png(.., Plane::Axial, SliceAt::Index(0), ..)`.
    pub fn to_volumes(&self) -> Result<(Volume<i16>, Volume<u8>), spinekit_image::ImageError> {
        let (c, r) = (self.column_direction, self.row_direction);
        let n = [
            c[1] * r[2] - c[2] * r[1],
            c[2] * r[0] - c[0] * r[2],
            c[0] * r[1] - c[1] * r[0],
        ];
        let g = spinekit_image::Geometry {
            origin_mm: self.origin_mm,
            spacing_mm: [self.pixel_spacing_mm[0], self.pixel_spacing_mm[1], 1.0],
            direction: [c, r, n],
        };
        let dims = [self.width, self.height, 1];
        Ok((
            Volume::from_vec(dims, g, self.hu.clone())?,
            Volume::from_vec(dims, g, self.codes.clone())?,
        ))
    }
}

/// The report plus the label maps of the measured slices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BodyCompositionOutput {
    pub report: BodyCompositionReport,
    pub maps: Vec<TissueMap>,
}

#[derive(Debug, thiserror::Error)]
pub enum BodyCompError {
    #[error("the segmentation does not match the CT grid (dimensions differ)")]
    GridMismatch,
    #[error("the CT is empty")]
    Empty,
}

fn slice_method(level: Level, pos: &SlicePosition) -> String {
    format!(
        "{level} mid-body axial slice ({}; z = {:.1} mm LPS; nearest to the vertebral-body centroid of the CT \
         engine); skeletal muscle {}…{} HU, adipose tissue {}…{} HU for SAT, VAT and IMAT \
         (clinical-reference §3.1: Mourtzakis 2008 S22, S23); compartments by the classical method of \
         spinekit-bodycomp::compartments (couch removed by a 4 mm opening, abdominal wall traced by 360 rays; \
         muscle only in the wall ring, psoas beside the vertebral body to the transverse processes, paraspinal \
         behind them and posterior muscles attached to the wall; pixels more than 30 HU above the patient's \
         paraspinal muscle (and above 80 HU) are organ or vessel, never muscle); areas are pixel counts × pixel \
         area",
        match pos.slice_index {
            Some(k) => format!("volume slice {k} along voxel axis {}", pos.slice_axis.unwrap_or(2)),
            None => "resampled axial plane".into(),
        },
        pos.z_mm,
        MUSCLE_HU.0,
        MUSCLE_HU.1,
        FAT_HU.0,
        FAT_HU.1
    )
}

fn composition(level: Level, pos: SlicePosition, r: &SliceResult) -> LevelComposition {
    let a = |ts: &[Tissue]| r.area_cm2(ts);
    let sma = a(&[
        Tissue::Psoas,
        Tissue::Paraspinal,
        Tissue::QuadratusLumborum,
        Tissue::AbdominalWallMuscle,
        Tissue::OtherMuscle,
    ]);
    let cut_reason = "body outline cut by the field of view: subcutaneous fat not measurable";
    let muscle_reason =
        "muscle reaches the edge of the field of view: muscle area would be too small";
    let muscle = |v: f64| {
        if r.muscle_cut {
            Measured::not(muscle_reason)
        } else {
            Measured::Value(v)
        }
    };
    let vat = a(&[Tissue::VisceralFat]);
    let sat = a(&[Tissue::SubcutaneousFat]);
    let sat_m = if r.outline_cut {
        Measured::not(cut_reason)
    } else {
        Measured::Value(sat)
    };
    let ratio = if r.outline_cut {
        Measured::not(cut_reason)
    } else if sat <= 0.0 {
        Measured::not("no subcutaneous fat on the slice")
    } else {
        Measured::Value(vat / sat)
    };
    LevelComposition {
        level,
        method: slice_method(level, &pos),
        slice: pos,
        pixel_area_mm2: r.pixel_area_mm2,
        skeletal_muscle_area_cm2: muscle(sma),
        psoas_area_cm2: muscle(a(&[Tissue::Psoas])),
        paraspinal_area_cm2: muscle(a(&[Tissue::Paraspinal])),
        quadratus_lumborum_area_cm2: muscle(a(&[Tissue::QuadratusLumborum])),
        abdominal_wall_muscle_area_cm2: muscle(a(&[Tissue::AbdominalWallMuscle])),
        imat_area_cm2: muscle(a(&[Tissue::OtherFat])),
        visceral_fat_area_cm2: Measured::Value(vat),
        subcutaneous_fat_area_cm2: sat_m,
        visceral_to_subcutaneous_ratio: ratio,
        muscle_mean_hu: match r.muscle_mean_hu {
            Some(h) if !r.muscle_cut => Measured::Value(h),
            Some(_) => Measured::not(muscle_reason),
            None => Measured::not("no muscle found on the slice"),
        },
        body_outline_cut_by_fov: r.outline_cut,
        body_area_cm2: Tissue::ALL
            .iter()
            .filter(|t| t.is_patient())
            .map(|t| r.counts[t.code() as usize])
            .sum::<usize>() as f64
            * r.pixel_area_mm2
            / 100.0,
        table_removed_cm2: r.table_removed_px as f64 * r.pixel_area_mm2 / 100.0,
    }
}

/// What one level gives: its composition or the reason it is missing, its tissue map, and the aorta sample.
struct LevelRun {
    result: Result<LevelComposition, String>,
    map: Option<TissueMap>,
    aorta: Option<AortaSample>,
    aorta_searched: bool,
}

/// Measures one level on its mid-body slice.
fn measure_level(ct: &Volume<i16>, seg: &Segmentation, level: Level) -> LevelRun {
    let mut run = LevelRun {
        result: Err(format!("{level} not in view")),
        map: None,
        aorta: None,
        aorta_searched: false,
    };
    let Some(v) = seg.report.vertebrae.iter().find(|v| v.level == level) else {
        return run;
    };
    let centre = v.body_centroid_mm.unwrap_or(v.centroid_mm);
    run.result = (|| {
        let s = slice::axial_slice(ct, seg, centre)
            .ok_or_else(|| format!("the {level} body centre lies outside the scanned slices"))?;
        let xy = s.xy();
        let spine = spine_frame(&s, &xy, v.label, centre)
            .ok_or_else(|| format!("the {level} vertebral body is not on its mid-body slice"))?;
        let found = if matches!(level, Level::T12 | Level::L1 | Level::L2 | Level::L3) {
            run.aorta_searched = true;
            contrast::find_aorta(&s, &spine, level)
        } else {
            None
        };
        run.aorta = found.clone();
        let mut r = classify(&s, &spine)?;
        if let Some(a) = &found {
            // Show the aorta on the map (it was counted as viscera, never as muscle or fat).
            let r2 = (0.5 * a.diameter_mm).powi(2);
            for (i, p) in xy.iter().enumerate() {
                let d2 = (p[0] - a.centre_mm[0]).powi(2) + (p[1] - a.centre_mm[1]).powi(2);
                let l = r.labels[i];
                let from_bone = l == Tissue::Bone.code() && !s.vertebra[i];
                if d2 <= r2 && (l == Tissue::Bowel.code() || from_bone) {
                    r.labels[i] = Tissue::Aorta.code();
                    r.counts[l as usize] -= 1;
                    r.counts[Tissue::Aorta.code() as usize] += 1;
                }
            }
        }
        let pos = SlicePosition {
            slice_index: s.slice_index,
            slice_axis: s.normal_axis,
            z_mm: s.world(0.0, 0.0)[2] + {
                // z at the body centroid's pixel (differs from pixel (0, 0) on tilted slices).
                let (c, rr) = s.pixel_of(centre[0], centre[1]);
                s.world(c, rr)[2] - s.world(0.0, 0.0)[2]
            },
            body_centroid_mm: centre,
            tilt_deg: s.tilt_deg,
            resampled: s.slice_index.is_none(),
        };
        run.map = Some(TissueMap {
            level,
            width: s.grid.w,
            height: s.grid.h,
            pixel_spacing_mm: s.grid.spacing_mm,
            origin_mm: s.origin_mm,
            column_direction: s.col_dir,
            row_direction: s.row_dir,
            codes: r.labels.clone(),
            hu: s
                .hu
                .iter()
                .map(|&h| h.round().clamp(-32768.0, 32767.0) as i16)
                .collect(),
        });
        Ok(composition(level, pos, &r))
    })();
    run
}

/// Measures body composition at T12–L5 and estimates the contrast phase.
///
/// `seg` must come from `spinekit_ct::segment` on this `ct` (same grid).
pub fn analyze(
    ct: &Volume<i16>,
    seg: &Segmentation,
    patient: &PatientInfo,
    hints: &ContrastHints,
) -> Result<BodyCompositionOutput, BodyCompError> {
    if ct.is_empty() {
        return Err(BodyCompError::Empty);
    }
    if seg.bone.dims() != ct.dims()
        || seg.labels.dims() != ct.dims()
        || seg.bodies.dims() != ct.dims()
    {
        return Err(BodyCompError::GridMismatch);
    }
    // Levels are independent: measure them in parallel, then assemble in cranio-caudal order.
    let per_level: Vec<LevelRun> = LEVELS
        .par_iter()
        .map(|&level| measure_level(ct, seg, level))
        .collect();
    let mut levels = Vec::new();
    let mut maps = Vec::new();
    let mut aorta = Vec::new();
    let mut searched = 0usize;
    let mut l3: Option<LevelComposition> = None;
    let mut l3_reason = "L3 not in view".to_string();
    for (level, run) in LEVELS.into_iter().zip(per_level) {
        searched += usize::from(run.aorta_searched);
        aorta.extend(run.aorta);
        maps.extend(run.map);
        let result = match run.result {
            Ok(c) => {
                if level == Level::L3 {
                    l3 = Some(c.clone());
                }
                Measured::Value(c)
            }
            Err(reason) => {
                if level == Level::L3 {
                    l3_reason = reason.clone();
                }
                Measured::not(reason)
            }
        };
        levels.push(LevelEntry { level, result });
    }
    let contrast = contrast::estimate(aorta, hints, searched);
    let l3i = indices(l3.as_ref(), &l3_reason, patient, contrast.phase);
    let mut caveats = vec![
        "classical image analysis (thresholds, rays, morphology), not a learned model: check the overlay; \
         bowel wall, organs or stool touching the muscles can be miscounted"
            .to_string(),
        "single mid-body slice: a one-slice shift changes SMA by several cm² (clinical-reference §3.3)".into(),
    ];
    // The level names come from the CT engine; an uncertain numbering (e.g. a missed short 12th rib, which
    // shifts every lumbar name by one) moves "L3" to another vertebra, and SMA differs between levels (§3.2).
    let numbering = &seg.report.numbering;
    if numbering.status != spinekit_ct::NumberingStatus::Confident {
        caveats.push(format!(
            "vertebral numbering is {} ({}): the slice named L3 may belong to a neighbouring level; check the \
             level on the sagittal view before using SMI or the cut-offs",
            match numbering.status {
                spinekit_ct::NumberingStatus::Failed => "not established",
                _ => "uncertain",
            },
            numbering.reason
        ));
    }
    if contrast
        .phase
        .is_some_and(|p| p != ContrastPhase::NonContrast)
    {
        caveats.push(
            "contrast-enhanced scan: muscle HU is raised; myosteatosis cut-offs were derived on other phases \
             (clinical-reference §3.1)"
                .into(),
        );
    }
    Ok(BodyCompositionOutput {
        report: BodyCompositionReport {
            schema: SCHEMA.into(),
            levels,
            l3: l3i,
            contrast,
            patient: patient.clone(),
            caveats,
            method: "per level T12–L5: mid-body axial slice through the vertebral-body centroid from \
                     spinekit-ct; tissue windows and cut-offs of clinical-reference §3.1–3.2; contrast phase \
                     from the aorta (§2.3)"
                .into(),
        },
        maps,
    })
}

/// Sarcopenia cut-offs, clinical-reference §3.2.
/// Prado 2008 (S18): SMI < 52.4 (men), < 38.5 (women) cm²/m².
pub const PRADO_2008_SMI: (f64, f64) = (52.4, 38.5);
/// Martin 2013 (S19): men SMI < 43 (BMI < 25) or < 53 (BMI ≥ 25); women < 41 cm²/m².
pub const MARTIN_2013_SMI_MEN: (f64, f64) = (43.0, 53.0);
pub const MARTIN_2013_SMI_WOMEN: f64 = 41.0;
/// Martin 2013 (S19) myosteatosis: muscle attenuation < 41 HU (BMI < 25) or < 33 HU (BMI ≥ 25), both sexes.
pub const MARTIN_2013_HU: (f64, f64) = (41.0, 33.0);
/// Derstine 2018 (S20), healthy young adults, mean − 2 SD, non-contrast: SMI 45.4 / 34.4 cm²/m²,
/// SMRA 38.5 / 34.3 HU (men / women).
pub const DERSTINE_2018_SMI: (f64, f64) = (45.4, 34.4);
pub const DERSTINE_2018_HU: (f64, f64) = (38.5, 34.3);
/// Hamaguchi 2016 (S21) PMI < 6.36 (men), < 3.92 (women) cm²/m².
pub const HAMAGUCHI_2016_PMI: (f64, f64) = (6.36, 3.92);

fn indices(
    l3: Option<&LevelComposition>,
    l3_reason: &str,
    p: &PatientInfo,
    phase: Option<ContrastPhase>,
) -> L3Indices {
    let h_m = p
        .height_cm
        .filter(|h| (50.0..=250.0).contains(h))
        .map(|h| h / 100.0);
    let height_reason = match p.height_cm {
        None => "height not given".to_string(),
        Some(h) => format!("height {h} cm is implausible"),
    };
    let bmi = match (p.weight_kg.filter(|w| (10.0..=400.0).contains(w)), h_m) {
        (Some(w), Some(h)) => Measured::Value(w / (h * h)),
        (None, _) => Measured::not("weight not given"),
        (_, None) => Measured::not(height_reason.clone()),
    };
    let sma = l3.map(|c| c.skeletal_muscle_area_cm2.clone());
    let psoas = l3.map(|c| c.psoas_area_cm2.clone());
    let index = |m: Option<Measured<f64>>| match (m, h_m) {
        (None, _) => Measured::not(l3_reason.to_string()),
        (Some(Measured::NotMeasurable { reason }), _) => Measured::not(reason),
        (Some(Measured::Value(value)), Some(h)) => Measured::Value(value / (h * h)),
        (Some(_), None) => Measured::not(height_reason.clone()),
    };
    let smi = index(sma);
    let pmi = index(psoas);
    let mu_hu: Measured<f64> = match l3 {
        None => Measured::not(l3_reason.to_string()),
        Some(c) => c.muscle_mean_hu.clone(),
    };
    let mut flags = Vec::new();
    let sex_reason = "sex not given";
    let flag = |cond: &str, src: &str, v: f64, thr: f64, unit: &str, note: &str| {
        Measured::Value(CutoffFlag {
            condition: cond.into(),
            source: src.into(),
            measured: v,
            threshold: thr,
            unit: unit.into(),
            below_threshold: v < thr,
            note: note.into(),
        })
    };
    let by_sex = |m: (f64, f64)| p.sex.map(|s| if s == Sex::Male { m.0 } else { m.1 });
    // SMI-based sets.
    for (src, thr) in [
        (
            "Prado 2008 (clinical-reference §3.2, S18)",
            by_sex(PRADO_2008_SMI),
        ),
        (
            "Derstine 2018 healthy young mean − 2 SD (clinical-reference §3.2, S20)",
            by_sex(DERSTINE_2018_SMI),
        ),
    ] {
        flags.push(match (smi.value(), thr) {
            (Some(&v), Some(t)) => flag("sarcopenia", src, v, t, "cm²/m²", "SMI below the cut-off"),
            (None, _) => Measured::not(format!(
                "{src}: SMI not measurable ({})",
                smi.reason().unwrap_or("measured")
            )),
            (_, None) => Measured::not(format!("{src}: {sex_reason}")),
        });
    }
    let martin = "Martin 2013 (clinical-reference §3.2, S19)";
    let martin_smi = match (p.sex, bmi.value()) {
        (Some(Sex::Male), Some(&b)) => Some(if b < 25.0 {
            MARTIN_2013_SMI_MEN.0
        } else {
            MARTIN_2013_SMI_MEN.1
        }),
        (Some(Sex::Female), _) => Some(MARTIN_2013_SMI_WOMEN),
        _ => None,
    };
    flags.push(match (smi.value(), martin_smi) {
        (Some(&v), Some(t)) => flag(
            "sarcopenia",
            martin,
            v,
            t,
            "cm²/m²",
            "SMI below the BMI- and sex-specific cut-off",
        ),
        (None, _) => Measured::not(format!(
            "{martin}: SMI not measurable ({})",
            smi.reason().unwrap_or("measured")
        )),
        (_, None) if p.sex.is_none() => Measured::not(format!("{martin}: {sex_reason}")),
        (_, None) => Measured::not(format!(
            "{martin}: BMI needed for men ({})",
            bmi.reason().unwrap_or("measured")
        )),
    });
    let ham = "Hamaguchi 2016 PMI (clinical-reference §3.2, S21)";
    flags.push(match (pmi.value(), by_sex(HAMAGUCHI_2016_PMI)) {
        (Some(&v), Some(t)) => flag(
            "sarcopenia",
            ham,
            v,
            t,
            "cm²/m²",
            "psoas muscle index; noisier than SMI (§3.3)",
        ),
        (None, _) => Measured::not(format!(
            "{ham}: PMI not measurable ({})",
            pmi.reason().unwrap_or("measured")
        )),
        (_, None) => Measured::not(format!("{ham}: {sex_reason}")),
    });
    // Myosteatosis.
    let phase_note = match phase {
        Some(ContrastPhase::NonContrast) => "non-contrast scan",
        Some(_) => "contrast-enhanced scan: muscle HU is raised, the flag may miss myosteatosis",
        None => "contrast phase unknown",
    };
    flags.push(match (mu_hu.value(), bmi.value()) {
        (Some(&v), Some(&b)) => flag(
            "myosteatosis",
            martin,
            v,
            if b < 25.0 {
                MARTIN_2013_HU.0
            } else {
                MARTIN_2013_HU.1
            },
            "HU",
            phase_note,
        ),
        (None, _) => Measured::not(format!(
            "{martin}: muscle HU not measurable ({})",
            mu_hu.reason().unwrap_or("measured")
        )),
        (_, None) => Measured::not(format!(
            "{martin}: BMI needed ({})",
            bmi.reason().unwrap_or("measured")
        )),
    });
    let der =
        "Derstine 2018 SMRA healthy young mean − 2 SD, non-contrast (clinical-reference §3.2, S20)";
    flags.push(match (mu_hu.value(), by_sex(DERSTINE_2018_HU)) {
        (Some(&v), Some(t)) => flag("myosteatosis", der, v, t, "HU", phase_note),
        (None, _) => Measured::not(format!(
            "{der}: muscle HU not measurable ({})",
            mu_hu.reason().unwrap_or("measured")
        )),
        (_, None) => Measured::not(format!("{der}: {sex_reason}")),
    });
    L3Indices {
        skeletal_muscle_index_cm2_per_m2: smi,
        psoas_muscle_index_cm2_per_m2: pmi,
        bmi_kg_per_m2: bmi,
        flags,
        method: "SMI = SMA_L3 / height², PMI = psoas area_L3 / height² (clinical-reference §3.2); cut-offs: \
                 Prado 2008 (S18), Martin 2013 (S19, BMI-dependent for men and for muscle attenuation), \
                 Derstine 2018 (S20), Hamaguchi 2016 (S21); a flag is 'below_threshold' when the value is \
                 strictly below the cut-off; age is recorded but no age-specific cut-off is applied"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_need_height_and_sex() {
        let none = indices(None, "L3 not in view", &PatientInfo::default(), None);
        assert_eq!(
            none.skeletal_muscle_index_cm2_per_m2.reason(),
            Some("L3 not in view")
        );
        assert!(none.flags.iter().all(|f| f.value().is_none()));
    }
}
