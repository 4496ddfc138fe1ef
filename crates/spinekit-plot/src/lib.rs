//! Small, dependency-light charts for reports.
//!
//! A [`Chart`] is plain data (axes, series, threshold bands, reference lines, annotations). It renders to a
//! self-contained SVG string ([`Chart::to_svg`]) that can be inlined in HTML (no ids, no scripts, no external
//! resources), and to PNG bytes ([`Chart::to_png`]) by rasterising that same SVG with resvg and an embedded
//! DejaVu Sans font, so pictures look the same on every machine and no system fonts are needed.
//!
//! Robustness rules: every text is XML-escaped; NaN/±∞ values are skipped (a line breaks there); a chart
//! without any finite data says "no data" instead of failing.
//!
//! Ready-made builders for the usual report figures live in [`builders`] and are re-exported here:
//! [`roc_curve`], [`calibration_plot`], [`bland_altman`], [`waterfall`], [`bars_by_category`],
//! [`horizontal_bars`].

pub mod builders;
mod raster;
mod svg;
mod ticks;

use std::path::Path;

pub use builders::{
    bars_by_category, bland_altman, calibration_plot, horizontal_bars, roc_curve, waterfall,
    CalibrationBin,
};

/// Errors from rasterising or writing a chart.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The requested picture size cannot be rendered.
    #[error(
        "picture size {width_px}×{height_px} px is not allowed (each side must be 16…8192 px)"
    )]
    Size { width_px: u32, height_px: u32 },
    /// The generated SVG could not be parsed by the rasteriser (a bug in this crate).
    #[error("the chart could not be rasterised: {0}")]
    Render(String),
    /// PNG encoding failed.
    #[error("the chart could not be encoded as PNG: {0}")]
    Encode(String),
    /// Writing the picture to disk failed.
    #[error("could not write the chart to {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour {
    pub r: u8,
    pub g: u8,
    pub b: u8,
}

impl Colour {
    pub const fn rgb(r: u8, g: u8, b: u8) -> Self {
        Colour { r, g, b }
    }
    pub const BLACK: Colour = Colour::rgb(0, 0, 0);
    pub const GREY: Colour = Colour::rgb(120, 120, 120);
    /// Positive contributions / "worse" (SHAP convention: red pushes the prediction up).
    pub const RED: Colour = Colour::rgb(213, 50, 80);
    /// Negative contributions (SHAP convention: blue pushes the prediction down).
    pub const BLUE: Colour = Colour::rgb(30, 136, 229);
    pub const GREEN: Colour = Colour::rgb(0, 158, 115);
    pub const ORANGE: Colour = Colour::rgb(230, 159, 0);
    /// Okabe–Ito colour-blind-safe palette, used for series without an explicit colour (in order).
    pub const PALETTE: [Colour; 7] = [
        Colour::rgb(0, 114, 178),
        Colour::rgb(213, 94, 0),
        Colour::rgb(0, 158, 115),
        Colour::rgb(204, 121, 167),
        Colour::rgb(230, 159, 0),
        Colour::rgb(86, 180, 233),
        Colour::rgb(0, 0, 0),
    ];

    /// `#rrggbb`.
    pub fn to_hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }
}

/// One explicit axis tick: position in data units and its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub value: f64,
    pub label: String,
}

impl Tick {
    pub fn new(value: f64, label: impl Into<String>) -> Self {
        Tick {
            value,
            label: label.into(),
        }
    }
}

/// An axis. `min`/`max` of `None` (or non-finite) mean "fit the data" (rounded out to nice ticks);
/// empty `ticks` mean automatic nice ticks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Axis {
    pub label: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub ticks: Vec<Tick>,
}

impl Axis {
    pub fn new(label: impl Into<String>) -> Self {
        Axis {
            label: label.into(),
            ..Default::default()
        }
    }
    /// Fixed range.
    pub fn range(mut self, min: f64, max: f64) -> Self {
        self.min = Some(min);
        self.max = Some(max);
        self
    }
    /// Explicit ticks (e.g. category names).
    pub fn ticks(mut self, ticks: Vec<Tick>) -> Self {
        self.ticks = ticks;
        self
    }
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesKind {
    /// Straight segments joining consecutive points (in the given order); breaks at non-finite points.
    Line,
    /// Dots.
    Scatter,
    /// Post-step: horizontal to the next x, then vertical (e.g. cumulative curves).
    Step,
    /// Vertical bars from y = 0 to each point's y, centred on its x.
    Bars,
    /// Horizontal bars from x = 0 to each point's x, centred on its y (points are `(x = value, y = row)`).
    HBars,
}

/// A data series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend text; empty = not shown in the legend.
    pub name: String,
    pub kind: SeriesKind,
    pub points: Vec<(f64, f64)>,
    /// `None` = next palette colour.
    pub colour: Option<Colour>,
    /// Dashed line (Line/Step only).
    pub dashed: bool,
    /// Optional vertical interval per point `(low, high)` drawn as error bars; ignored unless it has the same
    /// length as `points` (non-finite entries are skipped).
    pub y_intervals: Vec<(f64, f64)>,
    /// Optional text per point drawn next to it (e.g. value labels on bars); ignored unless same length as
    /// `points`; empty strings are skipped.
    pub point_labels: Vec<String>,
}

impl Series {
    pub fn new(name: impl Into<String>, kind: SeriesKind, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            kind,
            points,
            colour: None,
            dashed: false,
            y_intervals: Vec::new(),
            point_labels: Vec::new(),
        }
    }
    pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self::new(name, SeriesKind::Line, points)
    }
    pub fn scatter(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self::new(name, SeriesKind::Scatter, points)
    }
    pub fn step(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self::new(name, SeriesKind::Step, points)
    }
    pub fn bars(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self::new(name, SeriesKind::Bars, points)
    }
    pub fn colour(mut self, colour: Colour) -> Self {
        self.colour = Some(colour);
        self
    }
    pub fn dashed(mut self) -> Self {
        self.dashed = true;
        self
    }
    pub fn y_intervals(mut self, intervals: Vec<(f64, f64)>) -> Self {
        self.y_intervals = intervals;
        self
    }
    pub fn point_labels(mut self, labels: Vec<String>) -> Self {
        self.point_labels = labels;
        self
    }
}

/// A horizontal band between two y values (e.g. a clinical threshold range). Either bound may be ±∞
/// (the band then reaches the plot edge); a band with a NaN bound is skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub y0: f64,
    pub y1: f64,
    pub label: String,
    pub colour: Colour,
}

impl Band {
    pub fn new(y0: f64, y1: f64, label: impl Into<String>, colour: Colour) -> Self {
        Band {
            y0,
            y1,
            label: label.into(),
            colour,
        }
    }
}

/// A horizontal (`hlines`) or vertical (`vlines`) reference line with an optional label.
#[derive(Debug, Clone, PartialEq)]
pub struct RefLine {
    pub value: f64,
    pub label: String,
    pub colour: Colour,
    pub dashed: bool,
}

impl RefLine {
    pub fn new(value: f64, label: impl Into<String>) -> Self {
        RefLine {
            value,
            label: label.into(),
            colour: Colour::GREY,
            dashed: true,
        }
    }
    pub fn colour(mut self, colour: Colour) -> Self {
        self.colour = colour;
        self
    }
    pub fn solid(mut self) -> Self {
        self.dashed = false;
        self
    }
}

/// A floating horizontal bar from `x0` to `x1` at row `y` (waterfall charts).
#[derive(Debug, Clone, PartialEq)]
pub struct RangeBar {
    pub y: f64,
    pub x0: f64,
    pub x1: f64,
    pub colour: Colour,
    /// Drawn beyond the bar's end (empty = none).
    pub label: String,
}

/// Where an annotation sits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Position {
    /// Data coordinates.
    Data(f64, f64),
    /// Fractions of the plot area: (0, 0) bottom-left, (1, 1) top-right.
    Plot(f64, f64),
}

/// Horizontal text anchoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// Free text on the plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    pub position: Position,
    pub text: String,
    pub anchor: Anchor,
    pub colour: Colour,
}

impl Annotation {
    pub fn new(position: Position, text: impl Into<String>) -> Self {
        Annotation {
            position,
            text: text.into(),
            anchor: Anchor::Start,
            colour: Colour::BLACK,
        }
    }
    pub fn anchor(mut self, anchor: Anchor) -> Self {
        self.anchor = anchor;
        self
    }
}

/// A chart: plain data, rendered by [`Chart::to_svg`] / [`Chart::to_png`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Chart {
    pub title: String,
    pub x_axis: Axis,
    pub y_axis: Axis,
    pub series: Vec<Series>,
    pub bands: Vec<Band>,
    pub hlines: Vec<RefLine>,
    pub vlines: Vec<RefLine>,
    pub ranges: Vec<RangeBar>,
    pub annotations: Vec<Annotation>,
    /// Draw the legend row (only series with a non-empty name appear).
    pub legend: bool,
}

impl Chart {
    pub fn new(title: impl Into<String>, x_axis: Axis, y_axis: Axis) -> Self {
        Chart {
            title: title.into(),
            x_axis,
            y_axis,
            legend: true,
            ..Default::default()
        }
    }
    pub fn series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }
    pub fn band(mut self, band: Band) -> Self {
        self.bands.push(band);
        self
    }
    pub fn hline(mut self, line: RefLine) -> Self {
        self.hlines.push(line);
        self
    }
    pub fn vline(mut self, line: RefLine) -> Self {
        self.vlines.push(line);
        self
    }
    pub fn annotation(mut self, annotation: Annotation) -> Self {
        self.annotations.push(annotation);
        self
    }

    /// True when nothing finite would be drawn from the data (series points and range bars); such a chart
    /// renders its frame with the words "no data".
    pub fn is_empty(&self) -> bool {
        let any_point = self.series.iter().any(|s| {
            s.points
                .iter()
                .any(|&(x, y)| x.is_finite() && y.is_finite())
        });
        let any_range = self
            .ranges
            .iter()
            .any(|r| r.y.is_finite() && r.x0.is_finite() && r.x1.is_finite());
        !(any_point || any_range)
    }

    /// Self-contained SVG document (no ids, scripts or external references: safe to inline several in one
    /// HTML page). Sizes are clamped to 16…8192 px.
    pub fn to_svg(&self, width_px: u32, height_px: u32) -> String {
        svg::render(self, clamp_size(width_px), clamp_size(height_px))
    }

    /// PNG bytes of [`Chart::to_svg`] rasterised at exactly `width_px`×`height_px` (white background).
    pub fn to_png(&self, width_px: u32, height_px: u32) -> Result<Vec<u8>, PlotError> {
        check_size(width_px, height_px)?;
        raster::svg_to_png(&self.to_svg(width_px, height_px), width_px, height_px)
    }

    /// Writes the PNG atomically (temp file + rename: never a half-written picture).
    pub fn write_png(&self, path: &Path, width_px: u32, height_px: u32) -> Result<(), PlotError> {
        let bytes = self.to_png(width_px, height_px)?;
        spinekit_atomic::write_bytes_atomic(path, &bytes).map_err(|source| PlotError::Write {
            path: path.display().to_string(),
            source,
        })
    }

    /// Writes the SVG atomically.
    pub fn write_svg(&self, path: &Path, width_px: u32, height_px: u32) -> Result<(), PlotError> {
        check_size(width_px, height_px)?;
        spinekit_atomic::write_bytes_atomic(path, self.to_svg(width_px, height_px).as_bytes())
            .map_err(|source| PlotError::Write {
                path: path.display().to_string(),
                source,
            })
    }
}

const MIN_SIDE_PX: u32 = 16;
const MAX_SIDE_PX: u32 = 8192;

fn clamp_size(v: u32) -> u32 {
    v.clamp(MIN_SIDE_PX, MAX_SIDE_PX)
}

fn check_size(width_px: u32, height_px: u32) -> Result<(), PlotError> {
    let ok = |v: u32| (MIN_SIDE_PX..=MAX_SIDE_PX).contains(&v);
    if ok(width_px) && ok(height_px) {
        Ok(())
    } else {
        Err(PlotError::Size {
            width_px,
            height_px,
        })
    }
}

/// Escapes text for SVG/XML content and attribute values; drops characters XML 1.0 forbids.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}
