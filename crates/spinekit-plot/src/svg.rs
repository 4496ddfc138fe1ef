//! Hand-written SVG renderer. No ids (several charts can be inlined in one HTML page), no clip paths:
//! geometry is clipped here so the output is simple for any SVG consumer.

use std::fmt::Write as _;

use crate::ticks::{format_tick, nice_range, nice_ticks};
use crate::{escape_xml, Anchor, Chart, Colour, Position, SeriesKind};

/// Font stack: the embedded DejaVu Sans when rasterised, a close match in browsers.
const FONT_FAMILY: &str = "DejaVu Sans, Verdana, Arial, sans-serif";
/// Average advance of DejaVu Sans glyphs in em, used to estimate label widths for layout.
const CHAR_EM: f64 = 0.6;

/// Target number of intervals for automatic ticks.
const TICK_TARGET: usize = 5;

pub(crate) fn render(chart: &Chart, w: u32, h: u32) -> String {
    let (wf, hf) = (w as f64, h as f64);
    let fs = (wf.min(hf) / 36.0).clamp(8.0, 18.0);
    let pad = fs * 0.8;
    let empty = chart.is_empty();

    let geo = BarGeometry::new(chart);
    let (xr, yr) = if empty {
        ((0.0, 1.0), (0.0, 1.0))
    } else {
        data_extents(chart, &geo)
    };
    let x_scale = AxisScale::new(&chart.x_axis, xr);
    let y_scale = AxisScale::new(&chart.y_axis, yr);

    // Legend layout (rows of items).
    let legend_items: Vec<(usize, &str)> = if chart.legend {
        chart
            .series
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.name.trim().is_empty())
            .map(|(i, s)| (i, s.name.as_str()))
            .collect()
    } else {
        Vec::new()
    };
    let avail = wf - 2.0 * pad;
    let mut legend_rows: Vec<Vec<(usize, &str, f64)>> = Vec::new();
    let mut row_w = 0.0;
    for &(i, name) in &legend_items {
        let item_w = 2.4 * fs + text_width(name, fs * 0.9) + fs;
        if legend_rows.is_empty() || (row_w + item_w > avail && row_w > 0.0) {
            legend_rows.push(Vec::new());
            row_w = 0.0;
        }
        legend_rows
            .last_mut()
            .expect("row pushed above")
            .push((i, name, item_w));
        row_w += item_w;
    }

    let title_fs = fs * 1.25;
    let mut top = pad;
    if !chart.title.trim().is_empty() {
        top += title_fs * 1.4;
    }
    let legend_top = top;
    top += legend_rows.len() as f64 * fs * 1.5 + pad * 0.5;

    let max_label_w = wf * 0.4;
    let y_tick_w = y_scale
        .ticks
        .iter()
        .map(|(_, l)| text_width(l, fs).min(max_label_w))
        .fold(0.0_f64, f64::max);
    let mut left = pad + y_tick_w + fs * 0.6;
    if !chart.y_axis.label.trim().is_empty() {
        left += fs * 1.5;
    }
    let mut bottom = pad + fs * 1.6;
    if !chart.x_axis.label.trim().is_empty() {
        bottom += fs * 1.5;
    }
    // Half of the last x tick label may stick out on the right.
    let mut right = pad
        + x_scale
            .ticks
            .last()
            .map(|(_, l)| text_width(l, fs) / 2.0)
            .unwrap_or(0.0)
            .min(wf * 0.2);
    // Band labels sit outside the plot on the right, so they never hide data.
    let band_label_w = chart
        .bands
        .iter()
        .filter(|b| !(b.y0.is_nan() || b.y1.is_nan()))
        .map(|b| text_width(&b.label, fs * 0.8))
        .fold(0.0_f64, f64::max)
        .min(wf * 0.25);
    if band_label_w > 0.0 {
        right = right.max(pad + band_label_w + 6.0);
    }
    let plot = Rect {
        x0: left.min(wf * 0.6),
        x1: (wf - right).max(left.min(wf * 0.6) + 1.0),
        y0: top.min(hf * 0.6),
        y1: (hf - bottom).max(top.min(hf * 0.6) + 1.0),
    };
    let map = Mapper {
        plot,
        x: x_scale.clone(),
        y: y_scale.clone(),
    };

    let mut s = String::with_capacity(16 * 1024);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="{FONT_FAMILY}" font-size="{}">"#,
        n(fs)
    );
    s.push('\n');
    let _ = writeln!(
        s,
        r#"<rect x="0" y="0" width="{w}" height="{h}" fill="white"/>"#
    );

    // Threshold bands.
    for band in &chart.bands {
        if band.y0.is_nan() || band.y1.is_nan() {
            continue;
        }
        let (a, b) = (map.py(band.y0.min(band.y1)), map.py(band.y0.max(band.y1)));
        let (top_px, bot_px) = (b.max(plot.y0), a.min(plot.y1));
        if bot_px - top_px <= 0.0 {
            continue;
        }
        let _ = writeln!(
            s,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}" fill-opacity="0.15"/>"#,
            n(plot.x0),
            n(top_px),
            n(plot.x1 - plot.x0),
            n(bot_px - top_px),
            band.colour.to_hex()
        );
    }

    // Grid and tick marks.
    let grid = "#e3e3e3";
    for (v, _) in &x_scale.ticks {
        let px = map.px(*v);
        if px >= plot.x0 - 0.5 && px <= plot.x1 + 0.5 {
            let _ = writeln!(
                s,
                r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{grid}" stroke-width="1"/>"#,
                n(px),
                n(plot.y0),
                n(plot.y1)
            );
        }
    }
    for (v, _) in &y_scale.ticks {
        let py = map.py(*v);
        if py >= plot.y0 - 0.5 && py <= plot.y1 + 0.5 {
            let _ = writeln!(
                s,
                r#"<line x1="{1}" y1="{0}" x2="{2}" y2="{0}" stroke="{grid}" stroke-width="1"/>"#,
                n(py),
                n(plot.x0),
                n(plot.x1)
            );
        }
    }

    let stroke_w = (fs / 6.0).max(1.2);
    if !empty {
        // Floating range bars (waterfalls).
        let half = geo.range_half_height * map.y_px_per_unit().abs();
        for r in &chart.ranges {
            if !(r.y.is_finite() && r.x0.is_finite() && r.x1.is_finite()) {
                continue;
            }
            let (xa, xb) = (map.px(r.x0.min(r.x1)), map.px(r.x0.max(r.x1)));
            let yc = map.py(r.y);
            if let Some(rect) = plot.clamp_rect(xa, yc - half, xb, yc + half) {
                let _ = writeln!(
                    s,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>"#,
                    n(rect.x0),
                    n(rect.y0),
                    n((rect.x1 - rect.x0).max(1.0)),
                    n(rect.y1 - rect.y0),
                    r.colour.to_hex()
                );
            }
            if !r.label.is_empty() && plot.contains(plot.x0.max(map.px(r.x1)), yc) {
                let forward = r.x1 >= r.x0;
                let (x, anchor) = if forward {
                    (map.px(r.x1) + 4.0, Anchor::Start)
                } else {
                    (map.px(r.x1) - 4.0, Anchor::End)
                };
                text(&mut s, x, yc, fs * 0.85, &r.label, anchor, "#333333", None);
            }
        }

        // Series: bars first so lines and dots stay visible on top.
        let order: Vec<usize> =
            (0..chart.series.len())
                .filter(|&i| matches!(chart.series[i].kind, SeriesKind::Bars | SeriesKind::HBars))
                .chain((0..chart.series.len()).filter(|&i| {
                    !matches!(chart.series[i].kind, SeriesKind::Bars | SeriesKind::HBars)
                }))
                .collect();
        for i in order {
            let series = &chart.series[i];
            let colour = series_colour(chart, i).to_hex();
            match series.kind {
                SeriesKind::Line | SeriesKind::Step => {
                    let pts: Vec<(f64, f64)> = if series.kind == SeriesKind::Step {
                        step_points(&series.points)
                    } else {
                        series.points.clone()
                    };
                    let d = polyline_path(&pts, &map);
                    if !d.is_empty() {
                        let dash = if series.dashed {
                            format!(r#" stroke-dasharray="{} {}""#, n(fs * 0.5), n(fs * 0.35))
                        } else {
                            String::new()
                        };
                        let _ = writeln!(
                            s,
                            r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="{}" stroke-linejoin="round" stroke-linecap="round"{dash}/>"#,
                            n(stroke_w)
                        );
                    }
                }
                SeriesKind::Scatter => {
                    let r = (fs / 4.0).max(2.0);
                    for &(x, y) in &series.points {
                        if !(x.is_finite() && y.is_finite()) {
                            continue;
                        }
                        let (px, py) = (map.px(x), map.py(y));
                        if plot.contains(px, py) {
                            let _ = writeln!(
                                s,
                                r#"<circle cx="{}" cy="{}" r="{}" fill="{colour}" fill-opacity="0.75"/>"#,
                                n(px),
                                n(py),
                                n(r)
                            );
                        }
                    }
                }
                SeriesKind::Bars | SeriesKind::HBars => {
                    let vertical = series.kind == SeriesKind::Bars;
                    let (offset, half) = geo.offset_and_half(i);
                    for &(x, y) in &series.points {
                        if !(x.is_finite() && y.is_finite()) {
                            continue;
                        }
                        let rect = if vertical {
                            let (xa, xb) = (map.px(x + offset - half), map.px(x + offset + half));
                            let (ya, yb) = (map.py(0.0), map.py(y));
                            plot.clamp_rect(xa.min(xb), ya.min(yb), xa.max(xb), ya.max(yb))
                        } else {
                            let (ya, yb) = (map.py(y + offset - half), map.py(y + offset + half));
                            let (xa, xb) = (map.px(0.0), map.px(x));
                            plot.clamp_rect(xa.min(xb), ya.min(yb), xa.max(xb), ya.max(yb))
                        };
                        if let Some(r) = rect {
                            let _ = writeln!(
                                s,
                                r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{colour}"/>"#,
                                n(r.x0),
                                n(r.y0),
                                n((r.x1 - r.x0).max(0.5)),
                                n((r.y1 - r.y0).max(0.5))
                            );
                        }
                    }
                }
            }

            // Error bars.
            if series.y_intervals.len() == series.points.len() {
                let cap = (fs / 3.0).max(3.0);
                let (offset, _) = geo.offset_and_half(i);
                let offset = if series.kind == SeriesKind::Bars {
                    offset
                } else {
                    0.0
                };
                for (&(x, _), &(lo, hi)) in series.points.iter().zip(&series.y_intervals) {
                    if !(x.is_finite() && lo.is_finite() && hi.is_finite()) {
                        continue;
                    }
                    let px = map.px(x + offset);
                    let mut d = String::new();
                    push_segment(&mut d, (px, map.py(lo)), (px, map.py(hi)), &plot);
                    push_segment(
                        &mut d,
                        (px - cap, map.py(lo)),
                        (px + cap, map.py(lo)),
                        &plot,
                    );
                    push_segment(
                        &mut d,
                        (px - cap, map.py(hi)),
                        (px + cap, map.py(hi)),
                        &plot,
                    );
                    if !d.is_empty() {
                        let _ = writeln!(
                            s,
                            r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="{}"/>"#,
                            n(stroke_w * 0.8)
                        );
                    }
                }
            }

            // Point labels.
            if series.point_labels.len() == series.points.len() {
                let (offset, _) = geo.offset_and_half(i);
                for (&(x, y), label) in series.points.iter().zip(&series.point_labels) {
                    if label.is_empty() || !x.is_finite() {
                        continue;
                    }
                    let (px, py, anchor) = match series.kind {
                        SeriesKind::Bars => {
                            let yv = if y.is_finite() { y } else { 0.0 };
                            let py = map.py(yv) + if yv >= 0.0 { -fs * 0.6 } else { fs * 0.8 };
                            (map.px(x + offset), py, Anchor::Middle)
                        }
                        SeriesKind::HBars => {
                            if !y.is_finite() {
                                continue;
                            }
                            let forward = x >= 0.0;
                            (
                                map.px(x) + if forward { 4.0 } else { -4.0 },
                                map.py(y + offset),
                                if forward { Anchor::Start } else { Anchor::End },
                            )
                        }
                        _ => {
                            if !y.is_finite() {
                                continue;
                            }
                            (map.px(x) + fs * 0.4, map.py(y) - fs * 0.6, Anchor::Start)
                        }
                    };
                    if plot.contains(px.clamp(plot.x0, plot.x1), py.clamp(plot.y0, plot.y1)) {
                        text(
                            &mut s,
                            px,
                            py.clamp(plot.y0 + fs * 0.5, plot.y1 - fs * 0.3),
                            fs * 0.8,
                            label,
                            anchor,
                            "#333333",
                            None,
                        );
                    }
                }
            }
        }
    }

    // Reference lines.
    for line in &chart.hlines {
        if !line.value.is_finite() {
            continue;
        }
        let py = map.py(line.value);
        if py < plot.y0 - 0.5 || py > plot.y1 + 0.5 {
            continue;
        }
        let dash = if line.dashed {
            format!(r#" stroke-dasharray="{} {}""#, n(fs * 0.5), n(fs * 0.35))
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            r#"<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="{3}" stroke-width="{4}"{dash}/>"#,
            n(plot.x0),
            n(py),
            n(plot.x1),
            line.colour.to_hex(),
            n(stroke_w * 0.9)
        );
        if !line.label.is_empty() {
            text(
                &mut s,
                plot.x1 - 4.0,
                py - fs * 0.55,
                fs * 0.85,
                &line.label,
                Anchor::End,
                &line.colour.to_hex(),
                None,
            );
        }
    }
    for (k, line) in chart.vlines.iter().enumerate() {
        if !line.value.is_finite() {
            continue;
        }
        let px = map.px(line.value);
        if px < plot.x0 - 0.5 || px > plot.x1 + 0.5 {
            continue;
        }
        let dash = if line.dashed {
            format!(r#" stroke-dasharray="{} {}""#, n(fs * 0.5), n(fs * 0.35))
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{3}" stroke-width="{4}"{dash}/>"#,
            n(px),
            n(plot.y0),
            n(plot.y1),
            line.colour.to_hex(),
            n(stroke_w * 0.9)
        );
        if !line.label.is_empty() {
            // Alternate top/bottom so two nearby lines (e.g. waterfall base and output) do not collide.
            let y = if k % 2 == 0 {
                plot.y0 + fs * 0.8
            } else {
                plot.y1 - fs * 0.6
            };
            let anchor = if px > (plot.x0 + plot.x1) / 2.0 {
                Anchor::End
            } else {
                Anchor::Start
            };
            let x = if anchor == Anchor::End {
                px - 4.0
            } else {
                px + 4.0
            };
            text(
                &mut s,
                x,
                y,
                fs * 0.85,
                &line.label,
                anchor,
                &line.colour.to_hex(),
                None,
            );
        }
    }

    // Band labels: right of the plot, level with the middle of the visible part of each band.
    for band in &chart.bands {
        if band.y0.is_nan() || band.y1.is_nan() || band.label.is_empty() {
            continue;
        }
        let top_px = map.py(band.y0.max(band.y1)).max(plot.y0);
        let bot_px = map.py(band.y0.min(band.y1)).min(plot.y1);
        if bot_px - top_px < fs * 0.9 {
            continue;
        }
        let dark = Colour::rgb(band.colour.r / 2, band.colour.g / 2, band.colour.b / 2);
        let label = truncate_to_width(&band.label, fs * 0.8, band_label_w);
        text(
            &mut s,
            plot.x1 + 4.0,
            (top_px + bot_px) / 2.0,
            fs * 0.8,
            &label,
            Anchor::Start,
            &dark.to_hex(),
            None,
        );
    }

    // Frame.
    let _ = writeln!(
        s,
        r##"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#444444" stroke-width="1"/>"##,
        n(plot.x0),
        n(plot.y0),
        n(plot.x1 - plot.x0),
        n(plot.y1 - plot.y0)
    );

    // Tick labels.
    for (v, label) in &x_scale.ticks {
        let px = map.px(*v);
        if px >= plot.x0 - 0.5 && px <= plot.x1 + 0.5 {
            let _ = writeln!(
                s,
                r##"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="#444444" stroke-width="1"/>"##,
                n(px),
                n(plot.y1),
                n(plot.y1 + 4.0)
            );
            text(
                &mut s,
                px,
                plot.y1 + 4.0 + fs * 0.9,
                fs,
                label,
                Anchor::Middle,
                "#222222",
                None,
            );
        }
    }
    for (v, label) in &y_scale.ticks {
        let py = map.py(*v);
        if py >= plot.y0 - 0.5 && py <= plot.y1 + 0.5 {
            let _ = writeln!(
                s,
                r##"<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="#444444" stroke-width="1"/>"##,
                n(plot.x0 - 4.0),
                n(py),
                n(plot.x0)
            );
            let label = truncate_to_width(label, fs, max_label_w);
            text(
                &mut s,
                plot.x0 - 6.0,
                py,
                fs,
                &label,
                Anchor::End,
                "#222222",
                None,
            );
        }
    }

    // Axis labels.
    if !chart.x_axis.label.trim().is_empty() {
        text(
            &mut s,
            (plot.x0 + plot.x1) / 2.0,
            hf - pad - fs * 0.3,
            fs,
            &chart.x_axis.label,
            Anchor::Middle,
            "#000000",
            None,
        );
    }
    if !chart.y_axis.label.trim().is_empty() {
        let x = pad + fs * 0.5;
        let y = (plot.y0 + plot.y1) / 2.0;
        text(
            &mut s,
            x,
            y,
            fs,
            &chart.y_axis.label,
            Anchor::Middle,
            "#000000",
            Some(-90.0),
        );
    }

    // Annotations.
    for a in &chart.annotations {
        let (px, py) = match a.position {
            Position::Data(x, y) => (map.px(x), map.py(y)),
            Position::Plot(fx, fy) => (
                plot.x0 + fx * (plot.x1 - plot.x0),
                plot.y1 - fy * (plot.y1 - plot.y0),
            ),
        };
        if !(px.is_finite() && py.is_finite()) {
            continue;
        }
        for (k, line) in a.text.lines().enumerate() {
            text(
                &mut s,
                px,
                py + k as f64 * fs * 1.2,
                fs * 0.95,
                line,
                a.anchor,
                &a.colour.to_hex(),
                None,
            );
        }
    }

    // Legend.
    for (r, row) in legend_rows.iter().enumerate() {
        let yc = legend_top + r as f64 * fs * 1.5 + fs * 0.6;
        let mut x = pad;
        for &(i, name, item_w) in row {
            let c = series_colour(chart, i).to_hex();
            match chart.series[i].kind {
                SeriesKind::Scatter => {
                    let _ = writeln!(
                        s,
                        r#"<circle cx="{}" cy="{}" r="{}" fill="{c}"/>"#,
                        n(x + fs * 0.8),
                        n(yc),
                        n(fs * 0.3)
                    );
                }
                SeriesKind::Bars | SeriesKind::HBars => {
                    let _ = writeln!(
                        s,
                        r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{c}"/>"#,
                        n(x + fs * 0.3),
                        n(yc - fs * 0.4),
                        n(fs),
                        n(fs * 0.8)
                    );
                }
                _ => {
                    let dash = if chart.series[i].dashed {
                        format!(r#" stroke-dasharray="{} {}""#, n(fs * 0.4), n(fs * 0.25))
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        s,
                        r#"<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="{c}" stroke-width="{3}"{dash}/>"#,
                        n(x),
                        n(yc),
                        n(x + fs * 1.8),
                        n(stroke_w)
                    );
                }
            }
            text(
                &mut s,
                x + fs * 2.2,
                yc,
                fs * 0.9,
                name,
                Anchor::Start,
                "#222222",
                None,
            );
            x += item_w;
        }
    }

    // Title.
    if !chart.title.trim().is_empty() {
        text(
            &mut s,
            wf / 2.0,
            pad + title_fs * 0.5,
            title_fs,
            &chart.title,
            Anchor::Middle,
            "#000000",
            None,
        );
    }

    if empty {
        text(
            &mut s,
            (plot.x0 + plot.x1) / 2.0,
            (plot.y0 + plot.y1) / 2.0,
            fs * 1.4,
            "no data",
            Anchor::Middle,
            "#777777",
            None,
        );
    }

    s.push_str("</svg>\n");
    s
}

/// Estimated rendered width of a label.
fn text_width(t: &str, font_size: f64) -> f64 {
    t.chars().count() as f64 * font_size * CHAR_EM
}

fn truncate_to_width(t: &str, font_size: f64, max_w: f64) -> String {
    if text_width(t, font_size) <= max_w {
        return t.to_string();
    }
    let keep = ((max_w / (font_size * CHAR_EM)).floor() as usize)
        .saturating_sub(1)
        .max(1);
    let mut out: String = t.chars().take(keep).collect();
    out.push('…');
    out
}

/// Text vertically centred on `y` (baseline shifted by 0.35 em: renderers disagree on `dominant-baseline`).
#[allow(clippy::too_many_arguments)]
fn text(
    s: &mut String,
    x: f64,
    y: f64,
    size: f64,
    content: &str,
    anchor: Anchor,
    fill: &str,
    rotate: Option<f64>,
) {
    let anchor = match anchor {
        Anchor::Start => "start",
        Anchor::Middle => "middle",
        Anchor::End => "end",
    };
    let transform = rotate
        .map(|a| format!(r#" transform="rotate({} {} {})""#, n(a), n(x), n(y)))
        .unwrap_or_default();
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" font-size="{}" text-anchor="{anchor}" fill="{fill}"{transform}>{}</text>"#,
        n(x),
        n(y + size * 0.35),
        n(size),
        escape_xml(content)
    );
}

/// Pixel coordinates with two decimals, trailing zeros trimmed.
fn n(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".into()
    } else {
        s.to_string()
    }
}

fn series_colour(chart: &Chart, i: usize) -> Colour {
    chart.series[i].colour.unwrap_or_else(|| {
        // Palette index counts only the series without an explicit colour, so explicit ones do not shift it.
        let k = chart.series[..i]
            .iter()
            .filter(|s| s.colour.is_none())
            .count();
        Colour::PALETTE[k % Colour::PALETTE.len()]
    })
}

fn step_points(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    for (k, &(x, y)) in points.iter().enumerate() {
        if k > 0 {
            let (_, py) = points[k - 1];
            if x.is_finite()
                && y.is_finite()
                && py.is_finite()
                && out.last().is_some_and(|p: &(f64, f64)| p.0.is_finite())
            {
                out.push((x, py));
            }
        }
        out.push((x, y));
    }
    out
}

#[derive(Debug, Clone, Copy)]
struct Rect {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Rect {
    fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.x0 - 0.5 && x <= self.x1 + 0.5 && y >= self.y0 - 0.5 && y <= self.y1 + 0.5
    }
    fn clamp_rect(&self, xa: f64, ya: f64, xb: f64, yb: f64) -> Option<Rect> {
        if ![xa, ya, xb, yb].iter().all(|v| v.is_finite()) {
            return None;
        }
        let r = Rect {
            x0: xa.max(self.x0),
            x1: xb.min(self.x1),
            y0: ya.max(self.y0),
            y1: yb.min(self.y1),
        };
        (r.x1 >= r.x0 && r.y1 >= r.y0).then_some(r)
    }
}

/// Liang–Barsky clipping of a segment to the plot rectangle.
fn clip(a: (f64, f64), b: (f64, f64), r: &Rect) -> Option<((f64, f64), (f64, f64))> {
    if ![a.0, a.1, b.0, b.1].iter().all(|v| v.is_finite()) {
        return None;
    }
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let mut t0 = 0.0_f64;
    let mut t1 = 1.0_f64;
    for (p, q) in [
        (-dx, a.0 - r.x0),
        (dx, r.x1 - a.0),
        (-dy, a.1 - r.y0),
        (dy, r.y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    (t0 <= t1).then_some({
        (
            (a.0 + t0 * dx, a.1 + t0 * dy),
            (a.0 + t1 * dx, a.1 + t1 * dy),
        )
    })
}

fn push_segment(d: &mut String, a: (f64, f64), b: (f64, f64), r: &Rect) {
    if let Some((p, q)) = clip(a, b, r) {
        let _ = write!(d, "M{} {}L{} {}", n(p.0), n(p.1), n(q.0), n(q.1));
    }
}

/// Path through consecutive finite points, clipped; non-finite points break the line.
fn polyline_path(points: &[(f64, f64)], map: &Mapper) -> String {
    let mut d = String::new();
    let mut last_end: Option<(f64, f64)> = None;
    let mut prev: Option<(f64, f64)> = None;
    for &(x, y) in points {
        if !(x.is_finite() && y.is_finite()) {
            prev = None;
            last_end = None;
            continue;
        }
        let p = (map.px(x), map.py(y));
        if let Some(a) = prev {
            if let Some((c0, c1)) = clip(a, p, &map.plot) {
                let continues = last_end
                    .is_some_and(|e| (e.0 - c0.0).abs() < 1e-6 && (e.1 - c0.1).abs() < 1e-6);
                if !continues {
                    let _ = write!(d, "M{} {}", n(c0.0), n(c0.1));
                }
                let _ = write!(d, "L{} {}", n(c1.0), n(c1.1));
                last_end = Some(c1);
            } else {
                last_end = None;
            }
        }
        prev = Some(p);
    }
    // A lone finite point still deserves a mark.
    if d.is_empty() {
        let finite: Vec<_> = points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        if finite.len() == 1 {
            let (px, py) = (map.px(finite[0].0), map.py(finite[0].1));
            if map.plot.contains(px, py) {
                let _ = write!(d, "M{} {}L{} {}", n(px - 0.5), n(py), n(px + 0.5), n(py));
            }
        }
    }
    d
}

/// Resolved axis: range and tick (value, label) list.
#[derive(Debug, Clone)]
struct AxisScale {
    lo: f64,
    hi: f64,
    ticks: Vec<(f64, String)>,
}

impl AxisScale {
    fn new(axis: &crate::Axis, data: (f64, f64)) -> Self {
        let fixed_lo = axis.min.filter(|v| v.is_finite());
        let fixed_hi = axis.max.filter(|v| v.is_finite());
        let explicit: Vec<(f64, String)> = axis
            .ticks
            .iter()
            .filter(|t| t.value.is_finite())
            .map(|t| (t.value, t.label.clone()))
            .collect();
        let (mut lo, mut hi) = data;
        if !explicit.is_empty() {
            for (v, _) in &explicit {
                lo = lo.min(*v);
                hi = hi.max(*v);
            }
        }
        if let Some(v) = fixed_lo {
            lo = v;
        }
        if let Some(v) = fixed_hi {
            hi = v;
        }
        if !(lo.is_finite() && hi.is_finite()) {
            (lo, hi) = (0.0, 1.0);
        }
        if hi < lo {
            std::mem::swap(&mut lo, &mut hi);
        }
        if hi - lo <= f64::EPSILON * lo.abs().max(1.0) * 16.0 {
            let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            if fixed_lo.is_none() || fixed_hi.is_some() {
                lo -= d;
            }
            hi += d;
        }
        if explicit.is_empty() {
            let (nlo, nhi) = nice_range(lo, hi, TICK_TARGET);
            if fixed_lo.is_none() {
                lo = nlo;
            }
            if fixed_hi.is_none() {
                hi = nhi;
            }
            let (step, vals) = nice_ticks(lo, hi, TICK_TARGET);
            AxisScale {
                lo,
                hi,
                ticks: vals
                    .into_iter()
                    .map(|v| (v, format_tick(v, step)))
                    .collect(),
            }
        } else {
            if fixed_lo.is_none() || fixed_hi.is_none() {
                let padding = (hi - lo) * 0.05;
                if fixed_lo.is_none() {
                    lo -= padding;
                }
                if fixed_hi.is_none() {
                    hi += padding;
                }
            }
            AxisScale {
                lo,
                hi,
                ticks: explicit,
            }
        }
    }
}

struct Mapper {
    plot: Rect,
    x: AxisScale,
    y: AxisScale,
}

impl Mapper {
    fn px(&self, v: f64) -> f64 {
        self.plot.x0 + (v - self.x.lo) / (self.x.hi - self.x.lo) * (self.plot.x1 - self.plot.x0)
    }
    fn py(&self, v: f64) -> f64 {
        self.plot.y1 - (v - self.y.lo) / (self.y.hi - self.y.lo) * (self.plot.y1 - self.plot.y0)
    }
    fn y_px_per_unit(&self) -> f64 {
        (self.plot.y1 - self.plot.y0) / (self.y.hi - self.y.lo)
    }
}

/// Bar widths in data units: bars of several series at the same position are grouped side by side.
struct BarGeometry {
    /// (series index, slot) for bar series.
    slots: Vec<(usize, usize)>,
    n_vertical: usize,
    n_horizontal: usize,
    v_gap: f64,
    h_gap: f64,
    range_half_height: f64,
    kinds: Vec<SeriesKind>,
}

impl BarGeometry {
    fn new(chart: &Chart) -> Self {
        let mut slots = Vec::new();
        let (mut nv, mut nh) = (0, 0);
        let mut vpos = Vec::new();
        let mut hpos = Vec::new();
        for (i, s) in chart.series.iter().enumerate() {
            match s.kind {
                SeriesKind::Bars => {
                    slots.push((i, nv));
                    nv += 1;
                    vpos.extend(
                        s.points
                            .iter()
                            .filter(|p| p.0.is_finite() && p.1.is_finite())
                            .map(|p| p.0),
                    );
                }
                SeriesKind::HBars => {
                    slots.push((i, nh));
                    nh += 1;
                    hpos.extend(
                        s.points
                            .iter()
                            .filter(|p| p.0.is_finite() && p.1.is_finite())
                            .map(|p| p.1),
                    );
                }
                _ => {}
            }
        }
        let rpos: Vec<f64> = chart
            .ranges
            .iter()
            .map(|r| r.y)
            .filter(|v| v.is_finite())
            .collect();
        BarGeometry {
            slots,
            n_vertical: nv,
            n_horizontal: nh,
            v_gap: min_gap(vpos),
            h_gap: min_gap(hpos),
            range_half_height: 0.35 * min_gap(rpos),
            kinds: chart.series.iter().map(|s| s.kind).collect(),
        }
    }

    /// (centre offset, half width) in data units for bar series `i`.
    fn offset_and_half(&self, i: usize) -> (f64, f64) {
        let Some(&(_, slot)) = self.slots.iter().find(|(s, _)| *s == i) else {
            return (0.0, 0.0);
        };
        let (count, gap) = if self.kinds[i] == SeriesKind::Bars {
            (self.n_vertical, self.v_gap)
        } else {
            (self.n_horizontal, self.h_gap)
        };
        let width = 0.8 * gap / count as f64;
        let offset = (slot as f64 - (count as f64 - 1.0) / 2.0) * width;
        (offset, width / 2.0 * 0.92)
    }
}

/// Smallest distance between distinct positions (1 when fewer than two).
fn min_gap(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.dedup();
    let g = v
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    if g.is_finite() && g > 0.0 {
        g
    } else {
        1.0
    }
}

/// Data extents over everything that is drawn at data coordinates.
fn data_extents(chart: &Chart, geo: &BarGeometry) -> ((f64, f64), (f64, f64)) {
    let mut x = (f64::INFINITY, f64::NEG_INFINITY);
    let mut y = (f64::INFINITY, f64::NEG_INFINITY);
    let add = |r: &mut (f64, f64), v: f64| {
        if v.is_finite() {
            r.0 = r.0.min(v);
            r.1 = r.1.max(v);
        }
    };
    for s in &chart.series {
        let with_intervals = s.y_intervals.len() == s.points.len();
        for (k, &(px, py)) in s.points.iter().enumerate() {
            if !(px.is_finite() && py.is_finite()) {
                continue;
            }
            match s.kind {
                SeriesKind::Bars => {
                    add(&mut x, px - geo.v_gap / 2.0);
                    add(&mut x, px + geo.v_gap / 2.0);
                    add(&mut y, 0.0);
                    add(&mut y, py);
                }
                SeriesKind::HBars => {
                    add(&mut y, py - geo.h_gap / 2.0);
                    add(&mut y, py + geo.h_gap / 2.0);
                    add(&mut x, 0.0);
                    add(&mut x, px);
                }
                _ => {
                    add(&mut x, px);
                    add(&mut y, py);
                }
            }
            if with_intervals {
                let (lo, hi) = s.y_intervals[k];
                add(&mut y, lo);
                add(&mut y, hi);
            }
        }
    }
    for r in &chart.ranges {
        if r.y.is_finite() && r.x0.is_finite() && r.x1.is_finite() {
            add(&mut x, r.x0);
            add(&mut x, r.x1);
            add(&mut y, r.y - geo.range_half_height * 1.4);
            add(&mut y, r.y + geo.range_half_height * 1.4);
        }
    }
    for b in &chart.bands {
        if !(b.y0.is_nan() || b.y1.is_nan()) {
            add(&mut y, b.y0);
            add(&mut y, b.y1);
        }
    }
    for l in &chart.hlines {
        add(&mut y, l.value);
    }
    for l in &chart.vlines {
        add(&mut x, l.value);
    }
    for a in &chart.annotations {
        if let Position::Data(ax, ay) = a.position {
            if ax.is_finite() && ay.is_finite() {
                add(&mut x, ax);
                add(&mut y, ay);
            }
        }
    }
    let fix = |r: (f64, f64)| if r.0 <= r.1 { r } else { (0.0, 1.0) };
    (fix(x), fix(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_inside_and_cuts_outside() {
        let r = Rect {
            x0: 0.0,
            x1: 10.0,
            y0: 0.0,
            y1: 10.0,
        };
        assert_eq!(
            clip((1.0, 1.0), (2.0, 2.0), &r),
            Some(((1.0, 1.0), (2.0, 2.0)))
        );
        assert_eq!(
            clip((-5.0, 5.0), (5.0, 5.0), &r),
            Some(((0.0, 5.0), (5.0, 5.0)))
        );
        assert_eq!(clip((-5.0, -5.0), (-1.0, -1.0), &r), None);
        assert_eq!(clip((f64::NAN, 0.0), (1.0, 1.0), &r), None);
    }

    #[test]
    fn number_formatting_is_compact() {
        assert_eq!(n(1.0), "1");
        assert_eq!(n(1.256), "1.26");
        assert_eq!(n(-0.001), "0");
        assert_eq!(n(f64::NAN), "0");
    }

    #[test]
    fn step_inserts_corners() {
        let s = step_points(&[(0.0, 0.0), (1.0, 1.0), (2.0, 0.5)]);
        assert_eq!(
            s,
            vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (2.0, 1.0), (2.0, 0.5)]
        );
    }
}
