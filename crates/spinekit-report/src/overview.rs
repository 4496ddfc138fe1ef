//! The report's overview pictures: curved sagittal and coronal reformats with every level named.

use crate::html::{labelled_figure, png_bytes, FigureLabel};
use crate::reformat::{curved_reformat, ReformatPlane};
use spinekit_ct::SpineReport;
use spinekit_image::Volume;
use spinekit_picture::{label_colour, Window};

/// CSS colour of a label, the same as in the label-map overlays.
pub fn label_css(label: u32) -> String {
    let [r, g, b] = label_colour(label);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Two figures (sagittal, coronal) as HTML, each with the level names written beside the vertebrae.
pub fn overview_html(
    ct: &Volume<i16>,
    labels: &Volume<u8>,
    spine: &SpineReport,
) -> Result<String, image::ImageError> {
    let centres: Vec<[f64; 3]> = spine
        .vertebrae
        .iter()
        .map(|v| v.body_centroid_mm.unwrap_or(v.centroid_mm))
        .collect();
    let mut html = String::from("<div class=\"figs\">");
    for (plane, caption) in [
        (
            ReformatPlane::Sagittal,
            "Sagittal curved reformat along the spine (anterior left), bone window, vertebrae coloured by level",
        ),
        (
            ReformatPlane::Coronal,
            "Coronal curved reformat along the spine (patient's right on the left), bone window",
        ),
    ] {
        let r = curved_reformat(ct, Some(labels), &centres, plane, Window::BONE, 0.35);
        let marks: Vec<FigureLabel> = spine
            .vertebrae
            .iter()
            .map(|v| {
                let c = v.body_centroid_mm.unwrap_or(v.centroid_mm);
                let (x, y) = r.pixel_of(c);
                // Names sit to the side of the body: in front of it (sagittal) or to the patient's right (coronal).
                let offset = 35.0 / r.pixel_mm;
                FigureLabel {
                    x_px: (x - offset).max(2.0),
                    y_px: y,
                    text: v.level.name().to_string(),
                    colour: label_css(v.label as u32),
                }
            })
            .collect();
        let png = png_bytes(&r.image)?;
        html.push_str(&labelled_figure(
            &png,
            r.image.width(),
            r.image.height(),
            &marks,
            caption,
        ));
    }
    html.push_str("</div>");
    Ok(html)
}
