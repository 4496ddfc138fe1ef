//! Rendering tests: SVG well-formed (roxmltree), PNG decodes (image crate) at the requested size with
//! visible content, escaping, non-finite values, empty data.

use spinekit_plot::{
    bars_by_category, bland_altman, calibration_plot, horizontal_bars, roc_curve, waterfall,
    Annotation, Axis, Band, CalibrationBin, Chart, Colour, PlotError, Position, RefLine, Series,
    SeriesKind,
};

fn parse_ok(svg: &str) -> roxmltree::Document<'_> {
    let doc = roxmltree::Document::parse(svg)
        .unwrap_or_else(|e| panic!("SVG not well-formed: {e}\n{svg}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert_eq!(
        doc.root_element().tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    doc
}

/// Decodes the PNG, checks its size, and returns the RGBA image.
fn decode(png: &[u8], w: u32, h: u32) -> image::RgbaImage {
    let img = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .expect("PNG decodes")
        .to_rgba8();
    assert_eq!((img.width(), img.height()), (w, h));
    img
}

fn non_white(img: &image::RgbaImage, x0: u32, y0: u32, x1: u32, y1: u32) -> usize {
    let mut n = 0;
    for y in y0..y1.min(img.height()) {
        for x in x0..x1.min(img.width()) {
            let p = img.get_pixel(x, y);
            if p[0] < 200 || p[1] < 200 || p[2] < 200 {
                n += 1;
            }
        }
    }
    n
}

fn all_texts(doc: &roxmltree::Document) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(str::to_string))
        .collect()
}

fn check(chart: &Chart, w: u32, h: u32) -> (String, image::RgbaImage) {
    let svg = chart.to_svg(w, h);
    {
        let doc = parse_ok(&svg);
        assert_eq!(
            doc.root_element().attribute("width"),
            Some(w.to_string().as_str())
        );
        assert_eq!(
            doc.root_element().attribute("height"),
            Some(h.to_string().as_str())
        );
        // Inline-safe: no ids that could clash between several charts on one page, no scripts.
        assert!(doc.descendants().all(|n| n.attribute("id").is_none()));
        assert!(!svg.contains("<script"));
    }
    assert!(
        !svg.contains("NaN") && !svg.contains("inf"),
        "non-finite number leaked into SVG"
    );
    let img = decode(&chart.to_png(w, h).expect("renders"), w, h);
    (svg, img)
}

#[test]
fn roc_renders_with_text_and_curve() {
    let pts = vec![(0.0, 0.0), (0.1, 0.6), (0.3, 0.85), (0.6, 0.95), (1.0, 1.0)];
    let (svg, img) = check(&roc_curve(&pts, "AUC 0.93 (95 % CI 0.90–0.96)"), 640, 480);
    let doc = parse_ok(&svg);
    assert!(all_texts(&doc)
        .iter()
        .any(|t| t == "AUC 0.93 (95 % CI 0.90–0.96)"));
    // The curve colour (Okabe–Ito blue) is present in the raster.
    let blue = Colour::PALETTE[0];
    let blue_px = img
        .pixels()
        .filter(|p| {
            (p[0] as i32 - blue.r as i32).abs() < 30
                && (p[1] as i32 - blue.g as i32).abs() < 30
                && (p[2] as i32 - blue.b as i32).abs() < 30
        })
        .count();
    assert!(blue_px > 300, "curve pixels: {blue_px}");
}

#[test]
fn embedded_font_draws_glyphs() {
    // The empty chart shows "no data" in the middle of the plot: glyphs must produce dark pixels there.
    let chart = Chart::new("", Axis::new(""), Axis::new(""));
    let (svg, img) = check(&chart, 400, 300);
    assert!(svg.contains(">no data<"));
    let centre = non_white(&img, 120, 120, 280, 180);
    assert!(centre > 50, "no glyph pixels in the centre: {centre}");
    // Different text gives different pixels (the font really shapes the string).
    let a = Chart::new("Alpha", Axis::new(""), Axis::new(""))
        .to_png(300, 200)
        .unwrap();
    let b = Chart::new("Omega", Axis::new(""), Axis::new(""))
        .to_png(300, 200)
        .unwrap();
    assert_ne!(decode(&a, 300, 200), decode(&b, 300, 200));
}

#[test]
fn text_is_escaped_and_round_trips() {
    let nasty = "HU <110 & \"low\" 'bone'\u{1} > L1";
    let chart = Chart::new(nasty, Axis::new("x & y"), Axis::new("<y>"))
        .series(Series::line(nasty, vec![(0.0, 0.0), (1.0, 1.0)]))
        .band(Band::new(0.0, 0.5, nasty, Colour::ORANGE))
        .annotation(Annotation::new(Position::Plot(0.5, 0.5), "a<b"));
    let (svg, _) = check(&chart, 500, 400);
    let doc = parse_ok(&svg);
    let texts = all_texts(&doc);
    let expected = "HU <110 & \"low\" 'bone' > L1"; // control character dropped
    assert!(texts.iter().any(|t| t == expected), "{texts:?}");
    assert!(texts.iter().any(|t| t == "x & y"));
    assert!(texts.iter().any(|t| t == "<y>"));
    assert!(texts.iter().any(|t| t == "a<b"));
    assert_eq!(
        spinekit_plot::escape_xml("<&>\"'"),
        "&lt;&amp;&gt;&quot;&apos;"
    );
}

#[test]
fn non_finite_values_are_skipped_without_panic() {
    let pts = vec![
        (0.0, 1.0),
        (1.0, 2.0),
        (2.0, f64::NAN),
        (3.0, 3.0),
        (4.0, 2.0),
        (f64::INFINITY, 2.0),
        (5.0, f64::NEG_INFINITY),
        (6.0, 1.0),
        (7.0, 2.0),
    ];
    let chart = Chart::new("nan", Axis::new("x"), Axis::new("y"))
        .series(Series::line("line", pts.clone()))
        .series(Series::scatter("dots", pts.clone()))
        .series(Series::step("step", pts.clone()))
        .series(Series::bars("bars", pts.clone()).y_intervals(vec![(f64::NAN, 1.0); pts.len()]))
        .hline(RefLine::new(f64::NAN, "nan line"))
        .vline(RefLine::new(f64::INFINITY, "inf line"))
        .band(Band::new(f64::NAN, 1.0, "nan band", Colour::RED))
        .band(Band::new(f64::NEG_INFINITY, 1.5, "below", Colour::RED))
        .annotation(Annotation::new(Position::Data(f64::NAN, 1.0), "lost"));
    let (svg, img) = check(&chart, 600, 400);
    assert!(!svg.contains("lost") && !svg.contains("nan line") && !svg.contains("nan band"));
    assert!(svg.contains(">below<"));
    // Line breaks at the NaN: the line path has more than one move-to.
    let doc = parse_ok(&svg);
    let line_path = doc
        .descendants()
        .find(|n| n.has_tag_name("path"))
        .and_then(|n| n.attribute("d"))
        .unwrap();
    assert!(line_path.matches('M').count() >= 2, "{line_path}");
    assert!(non_white(&img, 0, 0, 600, 400) > 1000);

    // Fixed axis ranges that are not finite fall back to the data.
    let mut chart = Chart::new("", Axis::new("x"), Axis::new("y"))
        .series(Series::line("", vec![(0.0, 0.0), (1.0, 5.0)]));
    chart.x_axis.min = Some(f64::NAN);
    chart.y_axis.max = Some(f64::INFINITY);
    check(&chart, 300, 200);

    // Huge and constant values.
    let chart = Chart::new("", Axis::new(""), Axis::new(""))
        .series(Series::scatter("", vec![(1e300, 1e300), (-1e300, 5.0)]))
        .series(Series::line("", vec![(2.0, 7.0), (2.0, 7.0)]));
    check(&chart, 300, 200);
    let constant = Chart::new("", Axis::new(""), Axis::new(""))
        .series(Series::line("", vec![(3.0, 7.0), (3.0, 7.0)]));
    check(&constant, 300, 200);
}

#[test]
fn empty_data_says_no_data() {
    let only_nan = Chart::new("t", Axis::new("x"), Axis::new("y"))
        .series(Series::line("s", vec![(f64::NAN, 1.0)]));
    for chart in [
        only_nan,
        roc_curve(&[], "AUC n/a"),
        calibration_plot(&[]),
        bland_altman(&[], &[], f64::NAN, (f64::NAN, f64::NAN)),
        waterfall::<&str>(f64::NAN, &[], f64::NAN),
        bars_by_category::<&str>("HU", "HU", &[], vec![]),
        horizontal_bars::<&str>("imp", "mean |SHAP|", &[]),
    ] {
        assert!(chart.is_empty(), "{}", chart.title);
        let (svg, _) = check(&chart, 320, 240);
        assert!(svg.contains(">no data<"), "{}", chart.title);
    }
    let full = roc_curve(&[(0.0, 0.0), (1.0, 1.0)], "");
    assert!(!full.to_svg(320, 240).contains("no data"));
}

#[test]
fn builders_render() {
    let bins: Vec<CalibrationBin> = (0..10)
        .map(|i| {
            let p = (i as f64 + 0.5) / 10.0;
            CalibrationBin {
                mean_predicted: p,
                observed: (p * 0.9 + 0.03).min(1.0),
                n: 20 + i,
                ci: Some(((p - 0.1).max(0.0), (p + 0.1).min(1.0))),
            }
        })
        .chain(std::iter::once(CalibrationBin {
            mean_predicted: 0.5,
            observed: 0.5,
            n: 0,
            ci: None,
        }))
        .collect();
    let (svg, _) = check(&calibration_plot(&bins), 500, 500);
    assert!(svg.contains(">n=29<") && !svg.contains(">n=0<"));

    let means: Vec<f64> = (0..50).map(|i| 100.0 + i as f64).collect();
    let diffs: Vec<f64> = (0..50).map(|i| ((i * 37) % 11) as f64 - 5.0).collect();
    let (svg, _) = check(&bland_altman(&diffs, &means, 0.1, (-6.0, 6.2)), 640, 400);
    assert!(svg.contains(">bias 0.100<") && svg.contains(">upper LoA 6.20<"));

    let contributions = [
        ("degree_spondylolisthesis = 52.3", 1.8),
        ("pelvic_radius = 110", -0.4),
        ("sacral_slope = 40", 0.2),
    ];
    let chart = waterfall(-0.5, &contributions, -0.5 + 1.6);
    let (svg, img) = check(&chart, 700, 400);
    assert!(svg.contains(">+1.80<") && svg.contains(">\u{2212}0.400<"));
    assert!(svg.contains("E[f(x)] = \u{2212}0.500") && svg.contains("f(x) = 1.10"));
    let red = img
        .pixels()
        .filter(|p| p[0] > 180 && p[1] < 90 && p[2] < 120)
        .count();
    let blue = img.pixels().filter(|p| p[2] > 180 && p[0] < 80).count();
    assert!(red > 200 && blue > 50, "red {red} blue {blue}");

    let levels = [
        ("T12", 140.0),
        ("L1", 118.0),
        ("L2", f64::NAN),
        ("L3", 75.0),
    ];
    let bands = vec![
        Band::new(f64::NEG_INFINITY, 80.0, "osteoporosis", Colour::RED),
        Band::new(80.0, 120.0, "osteopenia", Colour::ORANGE),
        Band::new(120.0, f64::INFINITY, "normal", Colour::GREEN),
    ];
    let (svg, _) = check(
        &bars_by_category("Trabecular HU by level", "HU", &levels, bands),
        600,
        400,
    );
    for t in [">T12<", ">L3<", ">n/a<", ">osteopenia<", ">140<"] {
        assert!(svg.contains(t), "missing {t}");
    }

    let imp = [
        ("degree_spondylolisthesis", 2.1),
        ("pelvic_radius", 0.7),
        (
            "a very long feature name that must be shortened to fit the margin of the chart",
            0.1,
        ),
    ];
    let (svg, _) = check(
        &horizontal_bars("Global importance", "mean |SHAP|", &imp),
        500,
        300,
    );
    assert!(svg.contains('…'));
}

#[test]
fn grouped_bars_and_hbars_render() {
    let chart = Chart::new("groups", Axis::new("x"), Axis::new("y"))
        .series(Series::bars("a", vec![(0.0, 1.0), (1.0, 2.0)]))
        .series(Series::bars("b", vec![(0.0, -1.0), (1.0, 3.0)]))
        .series(Series::new("h", SeriesKind::HBars, vec![(2.0, 0.5)]));
    let (svg, _) = check(&chart, 400, 300);
    let doc = parse_ok(&svg);
    // background + 4 vertical + 1 horizontal bar + frame + 3 legend swatches
    let rects = doc.descendants().filter(|n| n.has_tag_name("rect")).count();
    assert_eq!(rects, 1 + 4 + 1 + 1 + 3);
}

#[test]
fn sizes_are_checked_and_output_is_deterministic() {
    let chart = roc_curve(&[(0.0, 0.0), (0.2, 0.7), (1.0, 1.0)], "AUC 0.8");
    assert!(matches!(chart.to_png(0, 100), Err(PlotError::Size { .. })));
    assert!(matches!(
        chart.to_png(100, 100_000),
        Err(PlotError::Size { .. })
    ));
    assert_eq!(
        chart.to_png(320, 200).unwrap(),
        chart.to_png(320, 200).unwrap()
    );
    let (_, small) = check(&chart, 16, 16);
    assert_eq!(small.width(), 16);

    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("roc.png");
    let svg = dir.path().join("roc.svg");
    chart.write_png(&png, 300, 200).unwrap();
    chart.write_svg(&svg, 300, 200).unwrap();
    decode(&std::fs::read(&png).unwrap(), 300, 200);
    parse_ok(&std::fs::read_to_string(&svg).unwrap());
    let missing = dir.path().join("no/such/dir/x.png");
    assert!(matches!(
        chart.write_png(&missing, 300, 200),
        Err(PlotError::Write { .. })
    ));
}

#[test]
fn svg_also_parses_in_usvg() {
    // The rasteriser's own parser accepts every builder's output (guards against resvg-unsupported syntax).
    let chart = waterfall(0.0, &[("a", 1.0), ("b", -2.0)], -1.0);
    let svg = chart.to_svg(400, 300);
    let tree = resvg::usvg::Tree::from_str(&svg, &resvg::usvg::Options::default()).unwrap();
    assert_eq!(tree.size().width(), 400.0);
}
