//! The demo's last step: `spinekit analyze`'s numbers set against the phantom's exact truth, with the
//! tolerances of the analyze issue's acceptance list (heights 1 mm, Genant grade and type exact for grades 2–3,
//! trabecular HU 5 HU, Cobb 2°, lordosis 3°, L3 muscle and fat areas 5 %).

use serde::Serialize;
use spinekit_anatomy::{GenantGrade, Level, Measured};
use spinekit_phantom::{Truth, Visibility};
use spinekit_report::AnalysisReport;

/// How a measured number may differ from the truth.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tolerance {
    Absolute { limit: f64 },
    Percent { limit: f64 },
    Exact,
}

/// One measured quantity next to its truth.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub quantity: String,
    pub level: Option<Level>,
    pub unit: String,
    /// `None` when spinekit reported the quantity "not measurable" (the reason is in `note`).
    pub measured: Option<String>,
    pub truth: String,
    pub difference: Option<f64>,
    pub tolerance: Tolerance,
    pub within_tolerance: bool,
    pub note: String,
}

/// Every row, and how many were within tolerance.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub description: String,
    pub rows: Vec<Row>,
    pub within_tolerance: usize,
    pub total: usize,
}

fn numeric(
    quantity: &str,
    level: Option<Level>,
    unit: &str,
    measured: Result<f64, String>,
    truth: f64,
    tol: Tolerance,
) -> Row {
    let (m, diff, ok, note) = match measured {
        Ok(m) => {
            let d = m - truth;
            let ok = match tol {
                Tolerance::Absolute { limit } => d.abs() <= limit,
                Tolerance::Percent { limit } => truth != 0.0 && (d / truth).abs() * 100.0 <= limit,
                Tolerance::Exact => d == 0.0,
            };
            (Some(format!("{m:.1}")), Some(d), ok, String::new())
        }
        Err(why) => (None, None, false, format!("not measurable: {why}")),
    };
    Row {
        quantity: quantity.into(),
        level,
        unit: unit.into(),
        measured: m,
        truth: format!("{truth:.1}"),
        difference: diff,
        tolerance: tol,
        within_tolerance: ok,
        note,
    }
}

const NOT_FOUND: &str = "level not found by the CT engine";

/// The value, or why it is missing.
fn get<T>(m: &Measured<T>) -> Result<&T, String> {
    m.as_result().map_err(str::to_string)
}

/// Compares an analyze report of a phantom with the phantom's truth.
pub fn compare(truth: &Truth, report: &AnalysisReport) -> Comparison {
    let mut rows = Vec::new();
    let ms = &report.measurements;
    for lt in truth
        .levels
        .iter()
        .filter(|l| l.visibility == Visibility::Full)
    {
        // The sacrum is not graded and not used for density (it only gives the S1 endplate).
        let Some(th) = lt.heights.as_ref().filter(|_| lt.level != Level::Sacrum) else {
            continue;
        };
        let vm = ms.vertebrae.iter().find(|v| v.level == lt.level);
        let heights = vm
            .ok_or(NOT_FOUND.to_string())
            .and_then(|v| get(&v.heights));
        let abs1 = Tolerance::Absolute { limit: 1.0 };
        for (name, t, f) in [
            (
                "anterior height",
                th.anterior_mm,
                (|h: &spinekit_measure::BodyHeights| h.anterior_mm) as fn(&_) -> f64,
            ),
            ("middle height", th.middle_mm, |h| h.middle_mm),
            ("posterior height", th.posterior_mm, |h| h.posterior_mm),
        ] {
            let m = heights.clone().map(f);
            rows.push(numeric(name, Some(lt.level), "mm", m, t, abs1));
        }
        // Genant grade and type: exact for grades 2–3 (the acceptance list); grades 0–1 are shown, not judged.
        let (grade, shape, note) = match vm
            .ok_or(NOT_FOUND.to_string())
            .and_then(|v| get(&v.fracture))
        {
            Ok(f) => (Some(f.genant_grade), f.shape, String::new()),
            Err(why) => (None, None, format!("not measurable: {why}")),
        };
        let truth_shape = lt.fracture.as_ref().map(|f| f.shape);
        let judged = matches!(lt.genant_grade, GenantGrade::Moderate | GenantGrade::Severe);
        rows.push(Row {
            quantity: "Genant grade and type".into(),
            level: Some(lt.level),
            unit: String::new(),
            measured: grade.map(|g| {
                format!(
                    "{g:?}{}",
                    shape.map(|s| format!(" {s:?}")).unwrap_or_default()
                )
            }),
            truth: format!(
                "{:?}{}",
                lt.genant_grade,
                truth_shape.map(|s| format!(" {s:?}")).unwrap_or_default()
            ),
            difference: None,
            tolerance: Tolerance::Exact,
            within_tolerance: !judged || (grade == Some(lt.genant_grade) && shape == truth_shape),
            note: if judged {
                note
            } else {
                "grade 0–1: shown, not judged".into()
            },
        });
        let hu = vm
            .ok_or(NOT_FOUND.to_string())
            .and_then(|v| get(&v.trabecular_roi))
            .map(|s| s.mean_hu);
        rows.push(numeric(
            "trabecular ROI mean",
            Some(lt.level),
            "HU",
            hu,
            lt.trabecular_hu,
            Tolerance::Absolute { limit: 5.0 },
        ));
    }
    let al = &ms.alignment;
    if truth.alignment.coronal_curves.iter().any(|c| c.in_fov)
        || truth.alignment.max_coronal_cobb_deg == 0.0
    {
        let m = get(&al.coronal).map(|c| c.max_cobb_deg);
        rows.push(numeric(
            "largest coronal Cobb angle",
            None,
            "°",
            m,
            truth.alignment.max_coronal_cobb_deg,
            Tolerance::Absolute { limit: 2.0 },
        ));
    }
    for (name, t, m) in [
        (
            "lumbar lordosis",
            &truth.alignment.lumbar_lordosis,
            &al.lumbar_lordosis,
        ),
        (
            "thoracic kyphosis",
            &truth.alignment.thoracic_kyphosis,
            &al.thoracic_kyphosis,
        ),
    ] {
        let Some(t) = t.as_ref().filter(|t| t.in_fov) else {
            continue;
        };
        let m = get(m).map(|a| a.angle_deg);
        let name = format!("{name} {}–{}", t.upper, t.lower);
        rows.push(numeric(
            &name,
            None,
            "°",
            m,
            t.deg,
            Tolerance::Absolute { limit: 3.0 },
        ));
    }
    if let Some(bt) = &truth.body_composition_l3 {
        let l3 = get(&report.body_composition).and_then(|b| {
            b.levels
                .iter()
                .find(|e| e.level == Level::L3)
                .ok_or_else(|| "L3 not analysed".to_string())
                .and_then(|e| get(&e.result))
        });
        let pct5 = Tolerance::Percent { limit: 5.0 };
        type Pick = fn(&spinekit_bodycomp::LevelComposition) -> &Measured<f64>;
        for (name, t, pick) in [
            (
                "L3 skeletal muscle area",
                bt.skeletal_muscle_area_cm2,
                (|c: &spinekit_bodycomp::LevelComposition| &c.skeletal_muscle_area_cm2) as Pick,
            ),
            ("L3 visceral fat area", bt.visceral_fat_area_cm2, |c| {
                &c.visceral_fat_area_cm2
            }),
            (
                "L3 subcutaneous fat area",
                bt.subcutaneous_fat_area_cm2,
                |c| &c.subcutaneous_fat_area_cm2,
            ),
        ] {
            let m = l3.clone().and_then(|c| get(pick(c)).copied());
            rows.push(numeric(name, Some(Level::L3), "cm²", m, t, pct5));
        }
    }
    let within_tolerance = rows.iter().filter(|r| r.within_tolerance).count();
    Comparison {
        description:
            "spinekit analyze on the demo phantom versus the phantom's exact truth (truth.json); \
                      tolerances from the analyze acceptance list"
                .into(),
        total: rows.len(),
        within_tolerance,
        rows,
    }
}

/// The comparison as a fixed-width text table for the terminal.
pub fn to_text(c: &Comparison) -> String {
    let mut s = format!(
        "     {:<32} {:<6} {:>16} {:>16} {:>8}  ok\n",
        "quantity", "level", "measured", "truth", "diff"
    );
    for r in &c.rows {
        let lvl = r.level.map(|l| l.name().to_string()).unwrap_or_default();
        let unit = if r.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", r.unit)
        };
        let m = r
            .measured
            .as_ref()
            .map(|m| format!("{m}{unit}"))
            .unwrap_or_else(|| "not measurable".into());
        let d = match (r.difference, r.tolerance, r.truth.parse::<f64>()) {
            (Some(d), Tolerance::Percent { .. }, Ok(t)) if t != 0.0 => {
                format!("{:+.1} %", 100.0 * d / t)
            }
            (Some(d), _, _) => format!("{d:+.1}"),
            _ => String::new(),
        };
        let ok = if r.within_tolerance { "✔" } else { "✘" };
        s.push_str(&format!(
            "     {:<32} {:<6} {:>16} {:>16} {:>8}  {ok}{}\n",
            r.quantity,
            lvl,
            m,
            format!("{}{unit}", r.truth),
            d,
            if r.note.is_empty() {
                String::new()
            } else {
                format!("  ({})", r.note)
            }
        ));
    }
    s.push_str(&format!(
        "     {} of {} within the acceptance tolerances",
        c.within_tolerance, c.total
    ));
    s
}
