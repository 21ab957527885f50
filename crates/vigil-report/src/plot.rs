//! Figures with plotters, each written as PNG and SVG from the same drawing code.
//!
//! Text is rendered with an embedded font (Liberation Sans, SIL OFL 1.1, `assets/`) registered
//! through plotters' `ab_glyph` backend, so figures have readable labels on machines without
//! any system font.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::ReportError;

const FONT: &[u8] = include_bytes!("../assets/LiberationSans-Regular.ttf");
static REGISTER: Once = Once::new();

fn fonts() {
    REGISTER.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold, FontStyle::Italic, FontStyle::Oblique] {
            if register_font("sans-serif", style, FONT).is_err() {
                tracing::error!("the embedded font failed to load; figure text will be missing");
            }
        }
    });
}

/// Okabe–Ito colour-blind-safe palette.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(240, 228, 66),
];

/// The `i`-th palette colour (cycling).
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

type Area<DB> = DrawingArea<DB, Shift>;

fn perr(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError::Plot { path: path.to_path_buf(), message: e.to_string() }
}

/// A figure, drawn the same way on every backend.
#[derive(Debug, Clone)]
pub enum Fig {
    /// Line panels with bands: `(title, panels)`.
    Lines(String, Vec<Panel>),
    /// Grouped bars with CIs: `(title, panels of (title, y label, groups), series names)`.
    Bars(String, Vec<(String, String, Vec<BarGroup>)>, Vec<String>),
    /// Reliability diagrams.
    Reliability(String, Vec<Reliability>),
    /// Confusion heatmaps.
    Heatmaps(String, Vec<Heatmap>),
    /// Labelled scatter: `(title, (x label, y label), points)`.
    Scatter(String, (String, String), Vec<(String, f64, f64)>),
}

impl Fig {
    fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Result<(), String> {
        match self {
            Fig::Lines(t, p) => draw_lines(root, t, p),
            Fig::Bars(t, p, series) => draw_bars(root, t, p, series),
            Fig::Reliability(t, p) => draw_reliability(root, t, p),
            Fig::Heatmaps(t, m) => draw_heatmaps(root, t, m),
            Fig::Scatter(t, (x, y), pts) => draw_scatter(root, t, (x.as_str(), y.as_str()), pts),
        }
    }

    /// Panels in the figure (for sizing).
    pub fn panels(&self) -> usize {
        match self {
            Fig::Lines(_, p) => p.len(),
            Fig::Bars(_, p, _) => p.len(),
            Fig::Reliability(_, p) => p.len(),
            Fig::Heatmaps(_, m) => m.len(),
            Fig::Scatter(..) => 1,
        }
    }

    /// Writes `<stem>.png` and `<stem>.svg`, sized from the panel grid; returns both paths.
    pub fn write(&self, stem: &Path) -> Result<Vec<PathBuf>, ReportError> {
        let (rows, cols) = grid(self.panels());
        let size = (cols as u32 * 520, rows as u32 * 400 + 50);
        fonts();
        if let Some(dir) = stem.parent() {
            std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))?;
        }
        let png = stem.with_extension("png");
        let svg = stem.with_extension("svg");
        // Render into temp names and rename, so a half-drawn figure never replaces a good one.
        let tmp_png = stem.with_extension("tmp.png");
        let tmp_svg = stem.with_extension("tmp.svg");
        {
            let root = BitMapBackend::new(&tmp_png, size).into_drawing_area();
            root.fill(&WHITE).map_err(|e| perr(&png, e))?;
            self.draw(&root).map_err(|e| perr(&png, e))?;
            root.present().map_err(|e| perr(&png, e))?;
        }
        {
            let root = SVGBackend::new(&tmp_svg, size).into_drawing_area();
            root.fill(&WHITE).map_err(|e| perr(&svg, e))?;
            self.draw(&root).map_err(|e| perr(&svg, e))?;
            root.present().map_err(|e| perr(&svg, e))?;
        }
        std::fs::rename(&tmp_png, &png).map_err(|e| ReportError::io(&png, e))?;
        std::fs::rename(&tmp_svg, &svg).map_err(|e| ReportError::io(&svg, e))?;
        Ok(vec![png, svg])
    }
}

/// A line with an optional band (`lo`, `hi` per point).
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// `(x, y)` points in x order.
    pub points: Vec<(f64, f64)>,
    /// `(x, lo, hi)` band, drawn translucent under the line.
    pub band: Vec<(f64, f64, f64)>,
    /// Palette index.
    pub color: usize,
}

/// One chart of a panel grid.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Chart title.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Whether x counts something (training steps): ticks only at whole numbers.
    pub integer_x: bool,
    /// Lines.
    pub series: Vec<Series>,
}

/// An x range for counted values (at least one unit wide, so ticks can sit on integers) and
/// the most tick labels it can carry without a fractional step.
fn integer_range(xs: impl Iterator<Item = f64>) -> ((f64, f64), usize) {
    let (lo, hi) = xs.filter(|x| x.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    if !lo.is_finite() {
        return ((0.0, 1.0), 2);
    }
    let pad = ((hi - lo) * 0.04).max(0.5);
    let (x0, x1) = (lo - pad, hi + pad);
    ((x0, x1), ((x1 - x0).floor() as usize + 1).clamp(2, 10))
}

/// Tick label of a counted axis: the integer, or nothing between integers.
fn integer_label(x: f64) -> String {
    if (x - x.round()).abs() < 1e-6 { format!("{}", x.round() as i64) } else { String::new() }
}

fn range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { (hi - lo) * 0.08 } else { lo.abs().max(1.0) * 0.1 };
    (lo - pad, hi + pad)
}

/// Grid layout for `n` panels: up to 3 columns.
pub fn grid(n: usize) -> (usize, usize) {
    let cols = n.clamp(1, 3);
    (n.div_ceil(cols).max(1), cols)
}

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Draws line panels (with bands and legends) under a figure title.
fn draw_lines<DB: DrawingBackend>(root: &Area<DB>, title: &str, panels: &[Panel]) -> Result<(), String> {
    let root = root.titled(title, ("sans-serif", 24)).map_err(s)?;
    let (rows, cols) = grid(panels.len());
    let areas = root.split_evenly((rows, cols));
    for (panel, area) in panels.iter().zip(areas.iter()) {
        let xs = panel.series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
        let ((x0, x1), x_ticks) = if panel.integer_x { integer_range(xs) } else { (range(xs), 0) };
        let ys = panel.series.iter().flat_map(|s| s.points.iter().map(|p| p.1).chain(s.band.iter().flat_map(|b| [b.1, b.2])));
        let (y0, y1) = range(ys);
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(62)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(s)?;
        let integer = |x: &f64| integer_label(*x);
        let mut mesh = chart.configure_mesh();
        mesh.x_desc(&panel.x_label)
            .y_desc(&panel.y_label)
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 15))
            .light_line_style(WHITE.mix(0.0));
        if panel.integer_x {
            mesh.x_labels(x_ticks).x_label_formatter(&integer);
        }
        mesh.draw().map_err(s)?;
        for sr in &panel.series {
            let c = color(sr.color);
            if sr.band.len() > 1 {
                let mut poly: Vec<(f64, f64)> = sr.band.iter().map(|b| (b.0, b.2)).collect();
                poly.extend(sr.band.iter().rev().map(|b| (b.0, b.1)));
                chart.draw_series(std::iter::once(Polygon::new(poly, c.mix(0.18).filled()))).map_err(s)?;
            }
            chart
                .draw_series(LineSeries::new(sr.points.iter().copied(), c.stroke_width(2)))
                .map_err(s)?
                .label(&sr.name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
            if sr.points.len() == 1 {
                chart.draw_series(sr.points.iter().map(|p| Circle::new(*p, 4, c.filled()))).map_err(s)?;
            }
        }
        if panel.series.iter().any(|s| !s.name.is_empty()) {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .label_font(("sans-serif", 12))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .draw()
                .map_err(s)?;
        }
    }
    Ok(())
}

/// One group of bars: a category with one value (and CI) per series.
#[derive(Debug, Clone)]
pub struct BarGroup {
    /// Category label (x axis).
    pub label: String,
    /// `(estimate, lo, hi)` per series; `None` when missing.
    pub values: Vec<Option<(f64, f64, f64)>>,
}

/// Grouped bars with confidence-interval whiskers, one panel per metric.
fn draw_bars<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    panels: &[(String, String, Vec<BarGroup>)],
    series: &[String],
) -> Result<(), String> {
    let root = root.titled(title, ("sans-serif", 24)).map_err(s)?;
    let (rows, cols) = grid(panels.len());
    let areas = root.split_evenly((rows, cols));
    for ((ptitle, ylabel, groups), area) in panels.iter().zip(areas.iter()) {
        let vals = groups.iter().flat_map(|g| g.values.iter().flatten().flat_map(|v| [v.0, v.1, v.2])).chain([0.0]);
        let (y0, y1) = range(vals);
        let n = groups.len().max(1) as f64;
        let labels: Vec<String> = groups.iter().map(|g| g.label.clone()).collect();
        let mut chart = ChartBuilder::on(area)
            .caption(ptitle, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(62)
            .build_cartesian_2d(-0.5..(n - 0.5), y0..y1)
            .map_err(s)?;
        chart
            .configure_mesh()
            .x_labels(groups.len().max(1))
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 { labels.get(i as usize).cloned().unwrap_or_default() } else { String::new() }
            })
            .x_desc("variant")
            .y_desc(ylabel)
            .label_style(("sans-serif", 12))
            .axis_desc_style(("sans-serif", 15))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(s)?;
        let k = series.len().max(1) as f64;
        let w = 0.8 / k;
        for (si, name) in series.iter().enumerate() {
            let c = color(si);
            let bars: Vec<_> = groups
                .iter()
                .enumerate()
                .filter_map(|(gi, g)| g.values.get(si).copied().flatten().map(|v| (gi, v)))
                .collect();
            let left = |gi: usize| gi as f64 - 0.4 + si as f64 * w;
            chart
                .draw_series(bars.iter().map(|&(gi, v)| Rectangle::new([(left(gi) + 0.02, 0.0), (left(gi) + w - 0.02, v.0)], c.mix(0.85).filled())))
                .map_err(s)?
                .label(name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
            chart
                .draw_series(bars.iter().filter(|(_, v)| v.2 > v.1).map(|&(gi, v)| {
                    let mid = left(gi) + w / 2.0;
                    PathElement::new(vec![(mid, v.1), (mid, v.2)], BLACK.stroke_width(2))
                }))
                .map_err(s)?;
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font(("sans-serif", 12))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.4))
                .draw()
                .map_err(s)?;
        }
    }
    Ok(())
}

/// A reliability diagram: per-bin accuracy against mean confidence, the diagonal, and bin
/// counts as the marker label.
#[derive(Debug, Clone)]
pub struct Reliability {
    /// Panel title (policy, binning, ECE).
    pub title: String,
    /// `(lo, hi, confidence, accuracy, count)` per non-empty bin.
    pub bins: Vec<(f64, f64, f64, f64, usize)>,
}

/// Draws reliability panels side by side.
fn draw_reliability<DB: DrawingBackend>(root: &Area<DB>, title: &str, panels: &[Reliability]) -> Result<(), String> {
    let root = root.titled(title, ("sans-serif", 24)).map_err(s)?;
    let (rows, cols) = grid(panels.len());
    let areas = root.split_evenly((rows, cols));
    for (p, area) in panels.iter().zip(areas.iter()) {
        let mut chart = ChartBuilder::on(area)
            .caption(&p.title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)
            .map_err(s)?;
        chart
            .configure_mesh()
            .x_desc("confidence")
            .y_desc("accuracy")
            .label_style(("sans-serif", 13))
            .axis_desc_style(("sans-serif", 15))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(s)?;
        let c = color(0);
        chart
            .draw_series(p.bins.iter().map(|b| Rectangle::new([(b.0, 0.0), (b.1, b.3)], c.mix(0.35).filled())))
            .map_err(s)?
            .label("accuracy per bin")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.mix(0.35).filled()));
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.6).stroke_width(1)))
            .map_err(s)?
            .label("perfect calibration")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.mix(0.6)));
        let o = color(1);
        chart
            .draw_series(p.bins.iter().map(|b| Circle::new((b.2, b.3), 4, o.filled())))
            .map_err(s)?
            .label("(mean confidence, accuracy)")
            .legend(move |(x, y)| Circle::new((x + 6, y), 4, o.filled()));
        chart
            .draw_series(p.bins.iter().map(|b| Text::new(format!("n={}", b.4), (b.2, (b.3 + 0.04).min(0.97)), ("sans-serif", 11))))
            .map_err(s)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 12))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(s)?;
    }
    Ok(())
}

/// A confusion matrix as a heatmap with counts.
#[derive(Debug, Clone)]
pub struct Heatmap {
    /// Panel title.
    pub title: String,
    /// Row labels (gold).
    pub rows: Vec<String>,
    /// Column labels (predicted).
    pub cols: Vec<String>,
    /// Counts, `rows × cols`.
    pub counts: Vec<Vec<f64>>,
}

/// Draws confusion heatmaps side by side.
fn draw_heatmaps<DB: DrawingBackend>(root: &Area<DB>, title: &str, maps: &[Heatmap]) -> Result<(), String> {
    let root = root.titled(title, ("sans-serif", 24)).map_err(s)?;
    let (rows, cols) = grid(maps.len());
    let areas = root.split_evenly((rows, cols));
    for (m, area) in maps.iter().zip(areas.iter()) {
        let (nr, nc) = (m.rows.len().max(1), m.cols.len().max(1));
        let max = m.counts.iter().flatten().copied().fold(0.0, f64::max).max(1.0);
        let mut chart = ChartBuilder::on(area)
            .caption(&m.title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(70)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..nc as f64, 0.0..nr as f64)
            .map_err(s)?;
        let (rl, cl) = (m.rows.clone(), m.cols.clone());
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nc * 2 + 1)
            .y_labels(nr * 2 + 1)
            .x_label_formatter(&|x| label_at(&cl, *x))
            .y_label_formatter(&|y| label_at(&rl, nr as f64 - *y))
            .x_desc("predicted")
            .y_desc("gold")
            .label_style(("sans-serif", 11))
            .axis_desc_style(("sans-serif", 14))
            .draw()
            .map_err(s)?;
        for (i, row) in m.counts.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let y = (nr - 1 - i) as f64;
                let t = v / max;
                let fill = RGBColor((255.0 - 255.0 * t) as u8, (255.0 - 141.0 * t) as u8, (255.0 - 77.0 * t) as u8);
                chart.draw_series(std::iter::once(Rectangle::new([(j as f64, y), (j as f64 + 1.0, y + 1.0)], fill.filled()))).map_err(s)?;
                let ink = if t > 0.55 { WHITE } else { BLACK };
                let style = TextStyle::from(("sans-serif", 14).into_font()).color(&ink).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Center,
                ));
                chart.draw_series(std::iter::once(Text::new(format!("{v}"), (j as f64 + 0.5, y + 0.5), style))).map_err(s)?;
            }
        }
    }
    Ok(())
}

/// The label of the cell whose centre is at `x` (labels sit at half-integers).
fn label_at(labels: &[String], x: f64) -> String {
    let f = x - x.floor();
    if (f - 0.5).abs() > 1e-6 || x < 0.0 {
        return String::new();
    }
    labels.get(x.floor() as usize).cloned().unwrap_or_default()
}

/// A labelled scatter (an environment's declared frontier of two metrics).
fn draw_scatter<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    axes: (&str, &str),
    points: &[(String, f64, f64)],
) -> Result<(), String> {
    let root = root.titled(title, ("sans-serif", 24)).map_err(s)?;
    let mut chart = ChartBuilder::on(&root)
        .margin(16)
        .x_label_area_size(46)
        .y_label_area_size(62)
        .build_cartesian_2d(-0.02..1.05, -0.02..1.05)
        .map_err(s)?;
    chart
        .configure_mesh()
        .x_desc(axes.0)
        .y_desc(axes.1)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(s)?;
    for (i, (name, x, y)) in points.iter().enumerate() {
        let c = color(i);
        chart.draw_series(std::iter::once(Circle::new((*x, *y), 6, c.filled()))).map_err(s)?;
        chart.draw_series(std::iter::once(Text::new(name.clone(), (*x + 0.015, *y + 0.03), ("sans-serif", 13)))).map_err(s)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tick labels of a rendered SVG.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text").skip(1).filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim().to_string())).collect()
    }

    #[test]
    fn step_axes_show_whole_steps_only() {
        for n in [1usize, 3, 7, 40] {
            let points: Vec<(f64, f64)> = (1..=n).map(|i| (i as f64, 0.1 * i as f64)).collect();
            let panel = Panel { title: "t".into(), x_label: "RL step".into(), y_label: "y".into(), integer_x: true, series: vec![Series { name: String::new(), points, band: Vec::new(), color: 0 }] };
            fonts();
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (400, 300)).into_drawing_area();
                draw_lines(&root, "f", &[panel]).unwrap();
                root.present().unwrap();
            }
            let ticks: Vec<String> = texts(&svg).into_iter().filter(|t| !t.is_empty() && t.parse::<f64>().is_ok()).collect();
            // y ticks are the decimals; every x tick is a whole step within 1..=n.
            let whole: Vec<i64> = ticks.iter().filter_map(|t| t.parse::<i64>().ok()).collect();
            assert!(!whole.is_empty(), "n {n}: {ticks:?}");
            assert!(whole.iter().all(|&x| (1..=n as i64).contains(&x) || x == 0), "n {n}: {ticks:?}");
            if n == 3 {
                assert_eq!(whole, [1, 2, 3], "{ticks:?}");
            }
            assert_eq!(integer_label(2.5), "");
            assert_eq!(integer_label(3.0), "3");
        }
    }
}
