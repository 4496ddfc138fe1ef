//! `report.html`: the analysis report as one self-contained page.

use crate::html::{escape, labelled_figure, page, png_bytes, table, FigureLabel};
use crate::model::AnalysisReport;
use crate::overview::{label_css, overview_html};
use image::RgbImage;
use spinekit_anatomy::Tissue;
use spinekit_bodycomp::TissueMap;
use spinekit_ct::Segmentation;
use spinekit_image::Volume;
use spinekit_measure::{CanalMeasure, Measured};
use spinekit_picture::Window;
use spinekit_plot::{bars_by_category, Band, Colour};

/// Pictures need the volumes, which the JSON model does not carry.
pub struct RenderInputs<'a> {
    pub ct: &'a Volume<i16>,
    pub segmentation: &'a Segmentation,
    /// Tissue maps of the body-composition slices (L3 first is not required).
    pub tissue_maps: &'a [TissueMap],
}

fn na(reason: &str) -> String {
    format!("not measurable: {reason}")
}

fn m1<T>(m: &Measured<T>, f: impl Fn(&T) -> String) -> String {
    match m {
        Measured::Value(v) => f(v),
        Measured::NotMeasurable { reason } => na(reason),
    }
}

fn short<T>(m: &Measured<T>, f: impl Fn(&T) -> String) -> String {
    match m {
        Measured::Value(v) => f(v),
        Measured::NotMeasurable { .. } => "—".into(),
    }
}

/// Renders the page. Errors only when a picture cannot be encoded.
pub fn render_html(r: &AnalysisReport, inp: &RenderInputs) -> Result<String, image::ImageError> {
    let mut b = String::new();

    // Findings first: what a reader needs, with the evidence one click away.
    b.push_str("<h2>Findings</h2>");
    for fi in &r.findings {
        b.push_str(&format!(
            "<div class=\"finding\"><span class=\"{}\">{}</span> {}<details><summary class=\"method\">evidence</summary>\
             <p class=\"method\">{}</p></details></div>",
            if fi.flag { "flag" } else { "" },
            escape(&fi.topic),
            escape(&fi.text),
            escape(&fi.evidence)
        ));
    }

    b.push_str("<h2>Levels</h2>");
    b.push_str(&overview_html(inp.ct, &inp.segmentation.labels, &r.spine)?);
    b.push_str(&level_table(r));

    b.push_str("<h2>Bone density</h2>");
    b.push_str(&density_section(r));

    b.push_str("<h2>Body composition</h2>");
    b.push_str(&body_composition_section(r, inp.tissue_maps)?);

    b.push_str("<h2>Alignment</h2>");
    b.push_str(&alignment_section(r));

    b.push_str("<h2>Spinal canal</h2>");
    b.push_str(&canal_section(r));

    b.push_str("<h2>Level numbering</h2>");
    let n = &r.spine.numbering;
    b.push_str(&format!(
        "<p>Status: <b>{:?}</b> — {}</p><ul>",
        n.status,
        escape(&n.reason)
    ));
    for e in &n.evidence {
        b.push_str(&format!("<li>{}</li>", escape(e)));
    }
    b.push_str("</ul>");

    b.push_str("<h2>Methods and provenance</h2>");
    b.push_str(&format!(
        "<p class=\"method\">Input: {} {}×{}×{} voxels, spacing {:.3}×{:.3}×{:.3} mm, orientation {}. Coordinates: {}. \
         Created {} by {}. Report schema {}.</p><ul class=\"method\">",
        escape(&r.input.format),
        r.input.dims[0],
        r.input.dims[1],
        r.input.dims[2],
        r.input.spacing_mm[0],
        r.input.spacing_mm[1],
        r.input.spacing_mm[2],
        escape(&r.input.orientation),
        escape(&r.coordinate_system),
        escape(&r.created_utc),
        escape(&r.software),
        escape(&r.schema)
    ));
    for m in &r.provenance.methods {
        b.push_str(&format!("<li>{}</li>", escape(m)));
    }
    for w in &r.provenance.warnings {
        b.push_str(&format!("<li class=\"flag\">warning: {}</li>", escape(w)));
    }
    b.push_str("</ul>");
    let rows: Vec<Vec<String>> = r
        .provenance
        .stages
        .iter()
        .map(|s| vec![s.stage.clone(), format!("{:.0}", s.ms)])
        .chain(std::iter::once(vec![
            "total".into(),
            format!("{:.0}", r.provenance.total_ms),
        ]))
        .collect();
    b.push_str(&table(&["stage", "wall time (ms)"], &rows));
    for s in &r.patient.sources {
        b.push_str(&format!("<p class=\"method\">{}</p>", escape(s)));
    }

    Ok(page(
        "Spine CT analysis (spinekit)",
        &b,
        &format!("{} — report schema {}", r.software, r.schema),
    ))
}

fn level_table(r: &AnalysisReport) -> String {
    let mut rows = Vec::new();
    for v in &r.measurements.vertebrae {
        let conf = r
            .spine
            .vertebrae
            .iter()
            .find(|s| s.level == v.level)
            .map(|s| format!("{:.2}", s.confidence))
            .unwrap_or_default();
        rows.push(vec![
            v.level.name().to_string(),
            conf,
            short(&v.heights, |h| {
                format!(
                    "{:.1} / {:.1} / {:.1}",
                    h.anterior_mm, h.middle_mm, h.posterior_mm
                )
            }),
            short(&v.heights, |h| {
                format!(
                    "{:.2} / {:.2}",
                    h.anterior_to_posterior_ratio, h.middle_to_posterior_ratio
                )
            }),
            short(&v.fracture, |f| {
                format!(
                    "{}{}",
                    f.genant_grade_value,
                    f.shape
                        .map(|s| format!(" {s:?}").to_lowercase())
                        .unwrap_or_default()
                )
            }),
            short(&v.trabecular_roi, |h| format!("{:.0}", h.mean_hu)),
            short(&v.eroded_body, |h| format!("{:.0}", h.median_hu)),
            short(&v.body, |s| format!("{:.1}", s.volume_ml)),
        ]);
    }
    let mut s = table(
        &[
            "level",
            "naming confidence",
            "body height A / M / P (mm)",
            "Ha/Hp / Hm/Hp",
            "Genant grade",
            "trabecular ROI mean (HU)",
            "eroded body median (HU)",
            "body volume (ml)",
        ],
        &rows,
    );
    if let Some(v) = r
        .measurements
        .vertebrae
        .iter()
        .find_map(|v| v.heights.value())
    {
        s.push_str(&format!(
            "<p class=\"method\">Heights: {}</p>",
            escape(&v.method)
        ));
    }
    let why: Vec<String> = r
        .measurements
        .vertebrae
        .iter()
        .filter_map(|v| {
            v.heights
                .reason()
                .map(|x| format!("{}: {x}", v.level.name()))
        })
        .collect();
    if !why.is_empty() {
        s.push_str(&format!(
            "<p class=\"na\">Not measured — {}</p>",
            escape(&why.join("; "))
        ));
    }
    s
}

fn density_section(r: &AnalysisReport) -> String {
    let m = &r.measurements;
    let cats: Vec<(String, f64)> = m
        .vertebrae
        .iter()
        .filter(|v| v.level.verse_label() < 26)
        .map(|v| {
            (
                v.level.name().to_string(),
                v.trabecular_roi
                    .value()
                    .map(|h| h.mean_hu)
                    .unwrap_or(f64::NAN),
            )
        })
        .collect();
    let mut bands = Vec::new();
    let mut s = String::new();
    if let Measured::Value(d) = &m.bone_density {
        // Bands from the thresholds actually applied (phase-corrected), lowest first.
        let mut th: Vec<f64> = d
            .thresholds
            .iter()
            .filter(|t| t.compared_with.starts_with("trabecular"))
            .map(|t| t.applied_hu)
            .collect();
        th.sort_by(f64::total_cmp);
        th.dedup();
        if let (Some(&lo), Some(&hi)) = (th.first(), th.last()) {
            bands.push(Band::new(
                -100.0,
                lo,
                format!("≤ {lo:.0} HU: osteoporosis likely"),
                Colour::rgb(250, 200, 200),
            ));
            if hi > lo {
                bands.push(Band::new(
                    lo,
                    hi,
                    format!("{lo:.0}–{hi:.0} HU: low density possible"),
                    Colour::rgb(255, 235, 190),
                ));
            }
        }
    }
    let chart = bars_by_category(
        "Trabecular attenuation by level (ROI mean)",
        "HU",
        &cats,
        bands,
    );
    s.push_str(&chart.to_svg(760, 320));
    s.push_str(&m1(&m.bone_density, |d| {
        let th: Vec<Vec<String>> = d
            .thresholds
            .iter()
            .map(|t| {
                vec![
                    t.name.clone(),
                    t.compared_with.clone(),
                    format!("{:.1}", t.native_hu),
                    format!("{:.1}", t.applied_hu),
                    if t.at_or_below { "yes".into() } else { "no".into() },
                    t.meaning.clone(),
                    t.source.clone(),
                ]
            })
            .collect();
        format!(
            "<p>{}: trabecular ROI mean <b>{:.0} HU</b>{} → <b>{:?}</b>. Phase used: {:?} (thresholds {:+.1} HU). {}</p>{}\
             <p class=\"method\">{}</p>",
            d.level.name(),
            d.trabecular_roi_mean_hu,
            d.eroded_body_median_hu
                .map(|x| format!(", eroded-body median {x:.0} HU"))
                .unwrap_or_default(),
            d.category,
            d.phase_used,
            d.threshold_correction_hu,
            escape(&d.level_choice),
            table(
                &["threshold", "compared with", "native (HU)", "applied (HU)", "at or below", "meaning", "source"],
                &th
            ),
            escape(&d.method)
        )
    }));
    s.push_str(&format!(
        "<p class=\"method\">Contrast: {}</p>",
        escape(&m.contrast.note)
    ));
    s
}

/// Soft-tissue window picture of one slice with muscle (red), visceral fat (yellow), subcutaneous fat (cyan)
/// and intermuscular fat (orange).
fn tissue_picture(t: &TissueMap) -> Option<RgbImage> {
    if t.width == 0
        || t.height == 0
        || t.codes.len() != t.width * t.height
        || t.hu.len() != t.codes.len()
    {
        return None;
    }
    let w = Window::SOFT_TISSUE;
    let mut img = RgbImage::new(t.width as u32, t.height as u32);
    for (i, (&c, &hu)) in t.codes.iter().zip(&t.hu).enumerate() {
        let g = w.apply(hu as f64) as f64;
        let col: Option<[u8; 3]> = match c {
            x if x == Tissue::SubcutaneousFat as u8 => Some([0, 200, 220]),
            x if x == Tissue::VisceralFat as u8 => Some([240, 220, 0]),
            x if x == Tissue::OtherFat as u8 => Some([255, 140, 0]),
            x if [
                Tissue::AbdominalWallMuscle as u8,
                Tissue::Psoas as u8,
                Tissue::Paraspinal as u8,
                Tissue::QuadratusLumborum as u8,
                Tissue::OtherMuscle as u8,
            ]
            .contains(&x) =>
            {
                Some([220, 30, 30])
            }
            _ => None,
        };
        let px = match col {
            Some(c) => [0, 1, 2].map(|k| (g * 0.55 + c[k] as f64 * 0.45).round() as u8),
            None => [g as u8; 3],
        };
        img.put_pixel((i % t.width) as u32, (i / t.width) as u32, image::Rgb(px));
    }
    Some(img)
}

fn body_composition_section(
    r: &AnalysisReport,
    maps: &[TissueMap],
) -> Result<String, image::ImageError> {
    let b = match &r.body_composition {
        Measured::Value(b) => b,
        Measured::NotMeasurable { reason } => {
            return Ok(format!("<p class=\"na\">{}</p>", escape(&na(reason))))
        }
    };
    let mut s = String::from("<div class=\"figs\">");
    for t in maps
        .iter()
        .filter(|t| t.level == spinekit_anatomy::Level::L3)
        .chain(
            maps.iter()
                .filter(|t| t.level != spinekit_anatomy::Level::L3)
                .take(0),
        )
    {
        if let Some(img) = tissue_picture(t) {
            let png = png_bytes(&img)?;
            // Display at true proportions: pixel spacing may differ between rows and columns.
            let w = img.width();
            let h = ((img.height() as f64) * t.pixel_spacing_mm[1] / t.pixel_spacing_mm[0]).round()
                as u32;
            let label = |y: f64, text: &str, colour: &str| FigureLabel {
                x_px: 8.0,
                y_px: y,
                text: text.into(),
                colour: colour.into(),
            };
            s.push_str(&labelled_figure(
                &png,
                w,
                h.max(1),
                &[
                    label(14.0, "muscle", "#ff5050"),
                    label(32.0, "visceral fat", "#f0dc00"),
                    label(50.0, "subcutaneous fat", "#00c8dc"),
                    label(68.0, "intermuscular fat", "#ff8c00"),
                ],
                &format!(
                    "{} axial slice used for body composition (soft-tissue window)",
                    t.level.name()
                ),
            ));
        }
    }
    s.push_str("</div>");
    let cm2 = |m: &spinekit_bodycomp::Measured<f64>| {
        m.value()
            .map(|v| format!("{v:.1}"))
            .unwrap_or_else(|| "—".into())
    };
    let mut rows = Vec::new();
    for e in &b.levels {
        match &e.result {
            spinekit_bodycomp::Measured::Value(c) => rows.push(vec![
                e.level.name().to_string(),
                format!("{:.1}", c.slice.z_mm),
                cm2(&c.skeletal_muscle_area_cm2),
                cm2(&c.psoas_area_cm2),
                cm2(&c.paraspinal_area_cm2),
                cm2(&c.abdominal_wall_muscle_area_cm2),
                cm2(&c.imat_area_cm2),
                cm2(&c.visceral_fat_area_cm2),
                cm2(&c.subcutaneous_fat_area_cm2),
                cm2(&c.muscle_mean_hu),
            ]),
            spinekit_bodycomp::Measured::NotMeasurable { reason } => {
                let mut row = vec![e.level.name().to_string(), na(reason)];
                row.resize(10, String::new());
                rows.push(row);
            }
        }
    }
    s.push_str(&table(
        &[
            "level",
            "slice z (mm)",
            "skeletal muscle (cm²)",
            "psoas (cm²)",
            "paraspinal (cm²)",
            "abdominal wall (cm²)",
            "intermuscular fat (cm²)",
            "visceral fat (cm²)",
            "subcutaneous fat (cm²)",
            "muscle mean (HU)",
        ],
        &rows,
    ));
    let l3 = &b.l3;
    s.push_str(&format!(
        "<p>L3 skeletal muscle index: {}; BMI: {}.</p>",
        escape(
            &l3.skeletal_muscle_index_cm2_per_m2
                .value()
                .map(|v| format!("{v:.1} cm²/m²"))
                .unwrap_or_else(|| match &l3.skeletal_muscle_index_cm2_per_m2 {
                    spinekit_bodycomp::Measured::NotMeasurable { reason } => na(reason),
                    _ => String::new(),
                })
        ),
        escape(
            &l3.bmi_kg_per_m2
                .value()
                .map(|v| format!("{v:.1} kg/m²"))
                .unwrap_or_else(|| "not known".into())
        )
    ));
    s.push_str("<ul>");
    for f in &l3.flags {
        match f {
            spinekit_bodycomp::Measured::Value(c) => s.push_str(&format!(
                "<li class=\"{}\">{}: {:.1} {} vs cut-off {:.1} — {} ({})</li>",
                if c.below_threshold { "flag" } else { "" },
                escape(&c.condition),
                c.measured,
                escape(&c.unit),
                c.threshold,
                if c.below_threshold {
                    "below"
                } else {
                    "not below"
                },
                escape(&c.source)
            )),
            spinekit_bodycomp::Measured::NotMeasurable { reason } => {
                s.push_str(&format!("<li class=\"na\">{}</li>", escape(&na(reason))))
            }
        }
    }
    s.push_str("</ul>");
    for c in &b.caveats {
        s.push_str(&format!("<p class=\"method\">caveat: {}</p>", escape(c)));
    }
    s.push_str(&format!("<p class=\"method\">{}</p>", escape(&b.method)));
    Ok(s)
}

fn alignment_section(r: &AnalysisReport) -> String {
    let a = &r.measurements.alignment;
    let mut s = String::new();
    s.push_str(&format!(
        "<p>Coronal: {}</p>",
        escape(&m1(&a.coronal, |c| {
            let curves: Vec<String> = c
                .curves
                .iter()
                .map(|k| {
                    format!(
                        "{:.1}° from {} to {} (apex {}, convex {})",
                        k.cobb_deg,
                        k.upper_end.name(),
                        k.lower_end.name(),
                        k.apex.name(),
                        k.convex
                    )
                })
                .collect();
            format!(
                "largest Cobb angle {:.1}°{}; curves: {}",
                c.max_cobb_deg,
                if c.scoliosis {
                    " (scoliosis, ≥ 10°)"
                } else {
                    ""
                },
                if curves.is_empty() {
                    "none ≥ 5°".into()
                } else {
                    curves.join("; ")
                }
            )
        }))
    ));
    for (name, x) in [
        ("Lumbar lordosis", &a.lumbar_lordosis),
        ("Thoracic kyphosis", &a.thoracic_kyphosis),
    ] {
        s.push_str(&format!(
            "<p>{name}: {}</p>",
            escape(&m1(x, |v| format!(
                "{:.1}° ({} {} endplate to {} {} endplate{})",
                v.angle_deg,
                v.upper.name(),
                v.upper_endplate,
                v.lower.name(),
                v.lower_endplate,
                if v.standard_levels {
                    ""
                } else {
                    "; not the standard levels"
                }
            )))
        ));
    }
    let rows: Vec<Vec<String>> = r
        .measurements
        .spondylolisthesis
        .iter()
        .map(|p| {
            let (slip, grade) = match &p.slip {
                Measured::Value(l) => (
                    format!(
                        "{:+.1} mm ({:+.0} %) {}",
                        l.slip_mm, l.slip_percent, l.direction
                    ),
                    if l.below_measurement_precision {
                        "below precision".into()
                    } else {
                        l.meyerding_grade.to_string()
                    },
                ),
                Measured::NotMeasurable { reason } => (na(reason), String::new()),
            };
            vec![
                format!("{}–{}", p.upper.name(), p.lower.name()),
                slip,
                grade,
            ]
        })
        .collect();
    s.push_str(&table(&["levels", "slip", "Meyerding grade"], &rows));
    if let Some(m) = a.coronal.value() {
        s.push_str(&format!("<p class=\"method\">{}</p>", escape(&m.method)));
    }
    s.push_str("<p class=\"method\">Alignment on a supine CT differs from standing radiographs; compare like with like.</p>");
    s
}

fn canal_section(r: &AnalysisReport) -> String {
    let rows: Vec<Vec<String>> = r
        .measurements
        .canal
        .iter()
        .map(|c| match &c.section {
            Measured::Value(CanalMeasure {
                ap_diameter_mm,
                transverse_diameter_mm,
                area_mm2,
                ap_flag,
                area_flag,
                ..
            }) => vec![
                c.name.clone(),
                format!("{ap_diameter_mm:.1}"),
                format!("{transverse_diameter_mm:.1}"),
                format!("{area_mm2:.0}"),
                format!("{ap_flag:?}").to_lowercase(),
                format!("{area_flag:?}").to_lowercase(),
            ],
            Measured::NotMeasurable { reason } => vec![
                c.name.clone(),
                na(reason),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ],
        })
        .collect();
    let mut s = table(
        &[
            "section",
            "AP diameter (mm)",
            "transverse (mm)",
            "area (mm²)",
            "AP flag",
            "area flag",
        ],
        &rows,
    );
    if let Some(m) = r.measurements.canal.iter().find_map(|c| c.section.value()) {
        s.push_str(&format!(
            "<p class=\"method\">{} Thresholds: {}</p>",
            escape(&m.method),
            escape(&m.thresholds)
        ));
    }
    s
}

/// The CSS colour of a level's label (kept public for callers drawing legends).
pub fn level_colour(label: u8) -> String {
    label_css(label as u32)
}
