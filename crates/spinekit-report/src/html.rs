//! Building blocks of the self-contained HTML report: escaping, embedded pictures, labelled figures, tables.
//!
//! Everything is inline (CSS, PNGs as data URIs, SVG), so the file can be mailed or archived and opens offline.

use base64::Engine;
use image::{ExtendedColorType, ImageEncoder, RgbImage};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// PNG bytes of an RGB picture.
pub fn png_bytes(img: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut buf = Vec::new();
    image::codecs::png::PngEncoder::new(&mut buf).write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        ExtendedColorType::Rgb8,
    )?;
    Ok(buf)
}

/// A `data:` URI for PNG bytes.
pub fn png_data_uri(png: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

/// A text label placed on a figure, in picture pixels.
#[derive(Debug, Clone)]
pub struct FigureLabel {
    pub x_px: f64,
    pub y_px: f64,
    pub text: String,
    /// CSS colour.
    pub colour: String,
}

/// An embedded PNG with text labels drawn over it as SVG (sharp at any zoom, selectable text).
pub fn labelled_figure(
    png: &[u8],
    width_px: u32,
    height_px: u32,
    labels: &[FigureLabel],
    caption: &str,
) -> String {
    let mut s = format!(
        "<figure><svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" style=\"max-width:100%;height:auto\" \
         xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{cap}\">\
         <image href=\"{uri}\" x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\"/>",
        w = width_px,
        h = height_px,
        cap = escape(caption),
        uri = png_data_uri(png)
    );
    let font = (height_px as f64 / 60.0).clamp(9.0, 16.0);
    for l in labels {
        if !(l.x_px.is_finite() && l.y_px.is_finite()) {
            continue;
        }
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"{font:.0}\" font-family=\"sans-serif\" \
             font-weight=\"bold\" fill=\"{}\" stroke=\"black\" stroke-width=\"0.6\" \
             paint-order=\"stroke\" dominant-baseline=\"middle\">{}</text>",
            l.x_px,
            l.y_px,
            escape(&l.colour),
            escape(&l.text)
        ));
    }
    s.push_str(&format!(
        "</svg><figcaption>{}</figcaption></figure>",
        escape(caption)
    ));
    s
}

/// A table; cells are escaped text.
pub fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table><thead><tr>");
    for h in head {
        s.push_str(&format!("<th>{}</th>", escape(h)));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            s.push_str(&format!("<td>{}</td>", escape(c)));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

/// The research-use disclaimer shown at the top and bottom of every report.
pub const DISCLAIMER: &str = "Research software, not a medical device. These results have not been cleared or \
approved for clinical use and must not be used on their own for diagnosis or treatment decisions; a qualified \
reader must check every finding on the images.";

/// A whole page: title, the disclaimer banner, the body sections (already HTML) and a footer.
pub fn page(title: &str, body: &str, footer: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <style>{css}</style></head><body>\
         <div class=\"disclaimer\">{d}</div><h1>{t}</h1>{body}\
         <footer><p>{f}</p><p class=\"disclaimer\">{d}</p></footer></body></html>\n",
        t = escape(title),
        css = CSS,
        d = escape(DISCLAIMER),
        body = body,
        f = escape(footer)
    )
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1200px;margin:1em auto;\
padding:0 1em;color:#1b1b1b}h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.6em}\
.disclaimer{background:#fff3cd;border:1px solid #e0c36a;padding:.5em .8em;font-size:.9em}\
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}th,td{border:1px solid #ccc;padding:3px 6px;\
text-align:right}th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}\
figure{display:inline-block;margin:.5em;vertical-align:top;background:#000}figcaption{background:#fff;\
font-size:.85em;padding:.3em 0}.figs{display:flex;flex-wrap:wrap;gap:.5em;align-items:flex-start}\
.finding{margin:.3em 0}.flag{color:#a40000;font-weight:bold}.na{color:#777;font-style:italic}\
.method{font-size:.8em;color:#444}footer{margin-top:2em;font-size:.85em;color:#333}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<b a=\"1\">&'</b>"),
            "&lt;b a=&quot;1&quot;&gt;&amp;&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn figure_embeds_png_and_labels() {
        let img = RgbImage::from_pixel(4, 3, image::Rgb([10, 20, 30]));
        let png = png_bytes(&img).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let f = labelled_figure(
            &png,
            4,
            3,
            &[
                FigureLabel {
                    x_px: 1.0,
                    y_px: 2.0,
                    text: "L<3>".into(),
                    colour: "#fff".into(),
                },
                FigureLabel {
                    x_px: f64::NAN,
                    y_px: 2.0,
                    text: "skipped".into(),
                    colour: "#fff".into(),
                },
            ],
            "cap",
        );
        assert!(f.contains("data:image/png;base64,"));
        assert!(f.contains(">L&lt;3&gt;</text>"));
        assert!(!f.contains("skipped"));
    }

    #[test]
    fn page_carries_disclaimer_twice() {
        let p = page("T", "<p>x</p>", "v");
        assert_eq!(p.matches("not a medical device").count(), 2);
    }
}
