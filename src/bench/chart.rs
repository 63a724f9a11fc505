//! Charts of benchmark results, drawn with plotters to SVG and PNG: p50 latency per problem as
//! horizontal bars, one colour per backend column (from a [`Comparison`], so one report or several
//! merged), and the roofline of each backend with every result placed on it at its arithmetic
//! intensity. Text uses the Hack font shipped by `epaint_default_fonts` (no system fonts).

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::bench::compare::{compare, Comparison};
use crate::bench::report::{BenchReport, Roofline};
use crate::error::{Error, Result};

const FONT: &str = "sans-serif";
const WIDTH: u32 = 1100;
/// Pixels per bar, and the gap between row groups.
const BAR_PIXELS: u32 = 14;
const GROUP_GAP_PIXELS: u32 = 10;
const LABEL_AREA: u32 = 330;
/// Pixels per legend line under the latency chart.
const LEGEND_LINE_PIXELS: u32 = 22;

fn register_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        if plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            epaint_default_fonts::HACK_REGULAR,
        )
        .is_err()
        {
            log::error!("the bundled chart font did not load; chart text will be missing");
        }
    });
}

fn chart_error(path: &Path, error: impl std::fmt::Display) -> Error {
    Error::Io {
        path: path.display().to_string(),
        detail: format!("drawing the chart failed: {error}"),
    }
}

type DrawResult = std::result::Result<(), String>;

fn text(error: impl std::fmt::Display) -> String {
    error.to_string()
}

/// A chart that can draw itself on any plotters backend.
trait Chart {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the chart on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult;
}

/// Draws `chart` into `<stem>.svg` and `<stem>.png`; returns both paths.
fn render(stem: &Path, chart: &impl Chart) -> Result<Vec<PathBuf>> {
    register_font();
    let svg = stem.with_extension("svg");
    let png = stem.with_extension("png");
    {
        let root = SVGBackend::new(&svg, chart.size()).into_drawing_area();
        chart.draw(&root).map_err(|e| chart_error(&svg, e))?;
        root.present().map_err(|e| chart_error(&svg, e))?;
    }
    {
        let root = BitMapBackend::new(&png, chart.size()).into_drawing_area();
        chart.draw(&root).map_err(|e| chart_error(&png, e))?;
        root.present().map_err(|e| chart_error(&png, e))?;
    }
    Ok(vec![svg, png])
}

/// `[low, high]` widened by `factor` on both sides, for a log axis.
fn log_bounds(values: impl Iterator<Item = f64>, factor: f64) -> Option<(f64, f64)> {
    let (low, high) = values
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(low, high), v| {
            (low.min(v), high.max(v))
        });
    (high > 0.0).then(|| (low / factor, high * factor))
}

struct LatencyChart<'a> {
    comparison: &'a Comparison,
}

impl LatencyChart<'_> {
    /// Bar slots per row group: one per column and one for the gap.
    fn group_slots(&self) -> f64 {
        self.comparison.columns.len() as f64 + 1.0
    }
}

impl Chart for LatencyChart<'_> {
    fn size(&self) -> (u32, u32) {
        let columns = self.comparison.columns.len() as u32;
        let rows = self.comparison.rows.len() as u32;
        let legend = columns * LEGEND_LINE_PIXELS;
        (
            WIDTH,
            140 + legend + rows * (columns * BAR_PIXELS + GROUP_GAP_PIXELS),
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let comparison = self.comparison;
        root.fill(&WHITE).map_err(text)?;
        let legend_height = comparison.columns.len() as u32 * LEGEND_LINE_PIXELS + 10;
        let (_, total_height) = self.size();
        let (plot_area, legend_area) = root.split_vertically(total_height - legend_height);
        let cells = comparison
            .rows
            .iter()
            .flat_map(|(_, row)| row.iter().flatten());
        let (low, high) = log_bounds(cells.map(|c| c.seconds * 1e3), 2.0).ok_or("no latencies")?;
        let slots = self.group_slots();
        let height = comparison.rows.len() as f64 * slots;
        let mut chart = ChartBuilder::on(&plot_area)
            .caption(
                "p50 latency per problem (ms, log scale; shorter is faster)",
                (FONT, 20),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(LABEL_AREA)
            .build_cartesian_2d((low..high).log_scale(), 0.0..height)
            .map_err(text)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_label_formatter(&|_| String::new())
            .x_desc("p50 ms")
            .label_style((FONT, 13))
            .draw()
            .map_err(text)?;
        for (column, _) in comparison.columns.iter().enumerate() {
            let color = Palette99::pick(column).to_rgba();
            let bars = comparison
                .rows
                .iter()
                .enumerate()
                .filter_map(|(row, (_, cells))| {
                    let cell = cells[column]?;
                    let top = height - row as f64 * slots - column as f64;
                    let corners = [(low, top - 0.1), (cell.seconds * 1e3, top - 0.9)];
                    Some(Rectangle::new(corners, color.filled()))
                });
            chart.draw_series(bars).map_err(text)?;
            let y = (column as u32 * LEGEND_LINE_PIXELS + 10) as i32;
            let x = LABEL_AREA as i32;
            let swatch = Rectangle::new([(x, y), (x + 14, y + 14)], color.filled());
            legend_area.draw(&swatch).map_err(text)?;
            let label = format!("[{column}] {}", comparison.columns[column].label);
            let label_style = TextStyle::from((FONT, 13).into_font());
            legend_area
                .draw(&Text::new(label, (x + 22, y), label_style))
                .map_err(text)?;
        }
        let style =
            TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Right, VPos::Center));
        for (row, (key, _)) in comparison.rows.iter().enumerate() {
            let middle = height - row as f64 * slots - (slots - 1.0) / 2.0;
            let (x, y) = chart.backend_coord(&(low, middle));
            let label = format!(
                "{} {} {} b{}",
                key.kernel, key.shape, key.precision, key.batch
            );
            plot_area
                .draw(&Text::new(label, (x - 8, y), style.clone()))
                .map_err(text)?;
        }
        Ok(())
    }
}

/// Draws the latency chart of `comparison` to `<stem>.svg` and `<stem>.png`.
pub fn latency_chart(comparison: &Comparison, stem: &Path) -> Result<Vec<PathBuf>> {
    if comparison.rows.is_empty() {
        return Err(Error::InvalidArgument {
            op: "latency chart",
            detail: "there are no results to plot".into(),
        });
    }
    render(stem, &LatencyChart { comparison })
}

/// One backend run on the roofline chart.
struct RooflineSeries {
    label: String,
    roof: Option<Roofline>,
    /// (FLOP per byte, achieved GFLOP/s, label) of each result; the label only where no earlier
    /// series placed the same problem (every backend puts a problem at the same intensity).
    points: Vec<(f64, f64, Option<String>)>,
}

struct RooflineChart {
    series: Vec<RooflineSeries>,
}

impl RooflineChart {
    fn bounds(&self) -> Option<((f64, f64), (f64, f64))> {
        let roofs = self.series.iter().filter_map(|s| s.roof.as_ref());
        let ridges = roofs
            .clone()
            .map(|r| r.compute_gflop_per_s / r.bandwidth_gb_per_s);
        let intensities = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let x = log_bounds(intensities.chain(ridges), 4.0)?;
        let achieved = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1));
        let peaks = roofs.map(|r| r.compute_gflop_per_s);
        let roof_at_left = self
            .series
            .iter()
            .filter_map(|s| s.roof.as_ref())
            .map(|r| r.attainable_gflop_per_s(x.0));
        let y = log_bounds(achieved.chain(peaks).chain(roof_at_left), 2.0)?;
        Some((x, y))
    }
}

impl Chart for RooflineChart {
    fn size(&self) -> (u32, u32) {
        (WIDTH, 720)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(text)?;
        let ((x_low, x_high), (y_low, y_high)) = self.bounds().ok_or("nothing to place")?;
        let mut chart = ChartBuilder::on(root)
            .caption(
                "roofline: achieved GFLOP/s against arithmetic intensity",
                (FONT, 20),
            )
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d((x_low..x_high).log_scale(), (y_low..y_high).log_scale())
            .map_err(text)?;
        chart
            .configure_mesh()
            .x_desc("FLOP per byte of minimal traffic")
            .y_desc("GFLOP/s")
            .label_style((FONT, 13))
            .draw()
            .map_err(text)?;
        let label_style =
            TextStyle::from((FONT, 11).into_font()).pos(Pos::new(HPos::Left, VPos::Bottom));
        for (index, series) in self.series.iter().enumerate() {
            let color = Palette99::pick(index).to_rgba();
            if let Some(roof) = &series.roof {
                let steps = 96;
                let line = (0..=steps).map(|step| {
                    let fraction = f64::from(step) / f64::from(steps);
                    let x = x_low * (x_high / x_low).powf(fraction);
                    (x, roof.attainable_gflop_per_s(x))
                });
                chart
                    .draw_series(LineSeries::new(line, color.stroke_width(2)))
                    .map_err(text)?
                    .label(format!(
                        "{} ({:.1} GB/s, {:.1} GFLOP/s)",
                        series.label, roof.bandwidth_gb_per_s, roof.compute_gflop_per_s
                    ))
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
                    });
            }
            let dots = series
                .points
                .iter()
                .map(|&(x, y, _)| Circle::new((x, y), 4, color.filled()));
            chart.draw_series(dots).map_err(text)?;
            let labels = series.points.iter().filter_map(|(x, y, label)| {
                let label = label.clone()?;
                Some(Text::new(label, (*x, *y), label_style.clone()))
            });
            chart.draw_series(labels).map_err(text)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FONT, 13))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(text)?;
        Ok(())
    }
}

/// Draws each backend run's roofline with its results placed on it to `<stem>.svg` and
/// `<stem>.png`. Returns no paths when nothing has a roofline or a known intensity.
pub fn roofline_chart(reports: &[BenchReport], stem: &Path) -> Result<Vec<PathBuf>> {
    let labels = compare(reports, None)?.columns.into_iter().map(|c| c.label);
    let runs = reports.iter().flat_map(|report| &report.runs);
    let mut labelled = std::collections::HashSet::new();
    let series: Vec<RooflineSeries> = runs
        .zip(labels)
        .map(|(run, label)| RooflineSeries {
            label,
            roof: run.roofline.clone(),
            points: run
                .results
                .iter()
                .filter_map(|result| {
                    let intensity = result.intensity()?;
                    let achieved = result.throughput.gflop_per_s?;
                    let name = format!("{} {} {}", result.precision, result.kernel, result.shape);
                    let label = labelled.insert(name.clone()).then_some(name);
                    Some((intensity, achieved, label))
                })
                .collect(),
        })
        .collect();
    let chart = RooflineChart { series };
    if chart.bounds().is_none() {
        return Ok(Vec::new());
    }
    render(stem, &chart)
}
