//! The bench page's plots: a file size's throughput and latency against concurrency, and the
//! harness's memory over the run.
//!
//! The throughput plot keeps the rates that matter readable: only verified and checks-off
//! files/s share the left axis (the baseline's raw PUTs/s, tens of times larger, is given as a
//! ratio in the caption and the table instead of a line that flattens them). Concurrency levels
//! are evenly spaced, one step per level, as sweeps double them. The legend has its own strip
//! right of the chart, so it can never cover a line.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{IntoSegmentedCoord, SegmentValue};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::bench::{Curve, CurvePoint};
use super::escape::label;
use super::plot::{BASELINE, Drawn, FONT, MAX, P50, P95, THROUGHPUT, failed, svg};
use crate::bench::RssSample;

const CHECKS_OFF: RGBColor = RGBColor(148, 103, 189);
const SIZE: (u32, u32) = (980, 420);
/// Width of the legend strip right of the throughput chart.
const LEGEND_WIDTH: u32 = 190;

/// How one series is drawn: its line and its legend entry alike.
struct Line {
    name: String,
    color: RGBColor,
    width: u32,
    dashed: bool,
}

impl Line {
    fn new(name: impl Into<String>, color: RGBColor, width: u32, dashed: bool) -> Self {
        Self {
            name: name.into(),
            color,
            width,
            dashed,
        }
    }
}

/// A legend entry: a heading (no swatch) or a series.
enum Entry<'a> {
    Heading(&'a str),
    Series(&'a Line),
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Draws `entries` top-down in `area` (the strip beside the chart).
fn legend(area: &Area<'_>, entries: &[Entry<'_>]) -> Drawn {
    let left = TextStyle::from((FONT, 15)).pos(Pos::new(HPos::Left, VPos::Center));
    let mut y = 56;
    for entry in entries {
        match entry {
            Entry::Heading(text) => {
                y += 8;
                area.draw(&Text::new(
                    *text,
                    (6, y),
                    left.clone().color(&BLACK.mix(0.6)),
                ))?;
            }
            Entry::Series(line) => {
                swatch(area, line, (10, y))?;
                area.draw(&Text::new(line.name.as_str(), (44, y), left.clone()))?;
            }
        }
        y += 20;
    }
    Ok(())
}

/// A short stretch of `line`'s stroke starting at `(x, y)`.
fn swatch(area: &Area<'_>, line: &Line, (x, y): (i32, i32)) -> Drawn {
    let style = line.color.stroke_width(line.width);
    let dashes: &[(i32, i32)] = if line.dashed {
        &[(0, 7), (11, 18), (22, 28)]
    } else {
        &[(0, 28)]
    };
    for &(from, to) in dashes {
        area.draw(&PathElement::new([(x + from, y), (x + to, y)], style))?;
    }
    Ok(())
}

type Level = SegmentValue<i32>;

/// `(level, value)` for the points where `value` is known.
fn series(points: &[&CurvePoint], value: impl Fn(&CurvePoint) -> Option<f64>) -> Vec<(Level, f64)> {
    (0..)
        .zip(points)
        .filter_map(|(i, p)| value(p).map(|v| (SegmentValue::CenterOf(i), v)))
        .collect()
}

/// 10% above the largest of `values`, at least `floor`.
fn axis_end(values: impl Iterator<Item = f64>, floor: f64) -> f64 {
    values.fold(floor, f64::max) * 1.1
}

/// The left axis's end: scaled to the pipeline's rates only, never to the baseline's.
fn rate_axis_end(points: &[&CurvePoint]) -> f64 {
    axis_end(
        points
            .iter()
            .flat_map(|p| [p.verified_files_per_s, p.checks_off_files_per_s])
            .flatten(),
        1.0,
    )
}

/// Verified and checks-off files/s (left axis), p50/p95/max upload-to-FIFO latency (right
/// axis), the knee (if any) as a vertical dashed line; the legend in a strip on the right.
pub fn curve(curve: &Curve) -> String {
    let points = curve.sorted_points();
    let levels: Vec<u32> = points.iter().map(|p| p.concurrency).collect();
    // An integer range's segments include its end: levels 0..=last.
    let last_level = i32::try_from(levels.len().saturating_sub(1)).unwrap_or(i32::MAX);
    let rate_end = rate_axis_end(&points);
    let latency_end = axis_end(
        points
            .iter()
            .filter_map(|p| p.max_ms.or(p.p95_ms))
            .map(|ms| ms as f64),
        1.0,
    );
    let verified = Line::new("verified files/s", THROUGHPUT, 3, false);
    let checks_off = Line::new("checks-off files/s", CHECKS_OFF, 2, true);
    let latencies = [
        (
            Line::new("p50", P50, 1, false),
            series(&points, |p| ms(p.p50_ms)),
        ),
        (
            Line::new("p95", P95, 1, false),
            series(&points, |p| ms(p.p95_ms)),
        ),
        (
            Line::new("max", MAX, 1, false),
            series(&points, |p| ms(p.max_ms)),
        ),
    ];
    let knee = curve.knee.as_ref().and_then(|k| {
        let at = levels.iter().position(|&c| c == k.concurrency)?;
        let line = Line::new(format!("knee at {}", k.concurrency), BASELINE, 1, true);
        Some((line, i32::try_from(at).ok()?))
    });
    svg("throughput curve", SIZE, |root| {
        let (plot_area, legend_area) = root.split_horizontally(SIZE.0 - LEGEND_WIDTH);
        let mut chart = ChartBuilder::on(&plot_area)
            .caption(
                label(
                    &format!("{}: rates and latency by concurrency", curve.title),
                    70,
                ),
                (FONT, 17),
            )
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .right_y_label_area_size(64)
            .build_cartesian_2d((0..last_level).into_segmented(), 0f64..rate_end)?
            .set_secondary_coord((0..last_level).into_segmented(), 0f64..latency_end);
        chart
            .configure_mesh()
            .x_desc("concurrent uploads (one step per level)")
            .y_desc("files/s")
            .x_label_formatter(&|v| level_name(&levels, v))
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_desc("upload → FIFO latency (ms)")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        for (line, values) in &latencies {
            chart.draw_secondary_series(
                LineSeries::new(values.iter().cloned(), line.color.stroke_width(line.width))
                    .point_size(2),
            )?;
        }
        if let Some((line, at)) = &knee {
            let x = SegmentValue::CenterOf(*at);
            chart.draw_series(DashedLineSeries::new(
                [(x.clone(), 0.0), (x, rate_end)],
                6,
                4,
                line.color.stroke_width(line.width),
            ))?;
        }
        let off = series(&points, |p| p.checks_off_files_per_s);
        chart.draw_series(DashedLineSeries::new(
            off.iter().cloned(),
            8,
            4,
            checks_off.color.stroke_width(checks_off.width),
        ))?;
        chart.draw_series(
            off.iter()
                .map(|at| Circle::new(at.clone(), 3, checks_off.color.filled())),
        )?;
        chart.draw_series(
            LineSeries::new(
                series(&points, |p| p.verified_files_per_s),
                verified.color.stroke_width(verified.width),
            )
            .point_size(4),
        )?;
        let mut entries = vec![
            Entry::Heading("left axis"),
            Entry::Series(&verified),
            Entry::Series(&checks_off),
            Entry::Heading("right axis, ms"),
        ];
        entries.extend(latencies.iter().map(|(line, _)| Entry::Series(line)));
        if let Some((line, _)) = &knee {
            entries.push(Entry::Heading(""));
            entries.push(Entry::Series(line));
        }
        legend(&legend_area, &entries)
    })
    .unwrap_or_else(|e| failed(&e))
}

fn ms(v: Option<u64>) -> Option<f64> {
    v.map(|ms| ms as f64)
}

/// The concurrency at the centre of a level, nothing elsewhere.
fn level_name(levels: &[u32], v: &Level) -> String {
    match v {
        SegmentValue::CenterOf(i) => usize::try_from(*i)
            .ok()
            .and_then(|i| levels.get(i))
            .map_or(String::new(), u32::to_string),
        _ => String::new(),
    }
}

/// The harness's RSS (MiB) over the run (seconds); the axis starts at zero so a flat line
/// reads as flat.
pub fn rss(samples: &[RssSample]) -> String {
    let mib = |s: &RssSample| s.kib as f64 / 1024.0;
    let secs = |s: &RssSample| s.at_ms as f64 / 1000.0;
    let x_end = samples.last().map_or(1.0, secs).max(1.0);
    let y_end = axis_end(samples.iter().map(mib), 1.0);
    svg("harness memory", (980, 280), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("harness resident memory over the run", (FONT, 16))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..x_end, 0f64..y_end)?;
        chart
            .configure_mesh()
            .x_desc("seconds since the bench started")
            .y_desc("RSS (MiB)")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        chart.draw_series(LineSeries::new(
            samples.iter().map(|s| (secs(s), mib(s))),
            THROUGHPUT.stroke_width(2),
        ))?;
        Ok(())
    })
    .unwrap_or_else(|e| failed(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(concurrency: u32, verified: f64) -> CurvePoint {
        CurvePoint {
            concurrency,
            verified_files_per_s: Some(verified),
            checks_off_files_per_s: Some(verified + 2.0),
            baseline_puts_per_s: Some(700.0),
            p95_ms: Some(5000),
            ..CurvePoint::default()
        }
    }

    fn curve(points: Vec<CurvePoint>) -> Curve {
        Curve {
            title: "1KiB files".into(),
            points,
            knee: None,
        }
    }

    /// The x of every `<text>` element whose content is `content`.
    fn text_x(svg: &str, content: &str) -> Vec<f64> {
        super::super::plot::svg_texts(svg)
            .into_iter()
            .filter(|(_, text)| *text == content)
            .filter_map(|(x, _)| x)
            .collect()
    }

    /// The x of every vertex of the series' lines (polylines of more than two vertices: axes,
    /// mesh and legend swatches have two).
    fn line_xs(svg: &str) -> Vec<f64> {
        svg.split("<polyline")
            .skip(1)
            .filter_map(|l| l.split("points=\"").nth(1)?.split('"').next())
            .map(|points| points.split_whitespace().collect::<Vec<_>>())
            .filter(|vertices| vertices.len() > 2)
            .flatten()
            .filter_map(|xy| xy.split(',').next()?.parse().ok())
            .collect()
    }

    #[test]
    fn the_rate_axis_ignores_the_baseline() {
        let points = [point(1, 20.0), point(2, 25.0)];
        let refs: Vec<&CurvePoint> = points.iter().collect();
        assert!((rate_axis_end(&refs) - 27.0 * 1.1).abs() < 1e-9);
        assert!((rate_axis_end(&[]) - 1.1).abs() < 1e-9);
    }

    #[test]
    fn the_legend_sits_right_of_every_line() {
        let svg = curve(
            [1, 2, 4, 8, 16]
                .into_iter()
                .map(|c| point(c, 20.0 + f64::from(c)))
                .collect(),
        );
        let svg = super::curve(&svg);
        let strip = f64::from(SIZE.0 - LEGEND_WIDTH);
        for name in [
            "verified files/s",
            "checks-off files/s",
            "p50",
            "p95",
            "max",
        ] {
            let xs = text_x(&svg, name);
            assert!(
                !xs.is_empty() && xs.iter().all(|&x| x >= strip),
                "{name}: {xs:?}"
            );
        }
        let lines = line_xs(&svg);
        assert!(!lines.is_empty());
        assert!(lines.iter().all(|&x| x < strip), "{lines:?}");
        let markers: Vec<f64> = svg
            .split("<circle cx=\"")
            .skip(1)
            .filter_map(|c| c.split('"').next()?.parse().ok())
            .collect();
        assert!(!markers.is_empty());
        assert!(markers.iter().all(|&x| x < strip), "{markers:?}");
        assert!(!svg.contains("baseline"));
    }

    #[test]
    fn odd_curves_and_memory_still_draw() {
        for points in [vec![], vec![point(4, 10.0)], vec![CurvePoint::default()]] {
            let svg = super::curve(&curve(points));
            assert!(svg.starts_with("<svg"), "{svg}");
        }
        let samples = [
            RssSample {
                at_ms: 0,
                kib: 1024,
            },
            RssSample {
                at_ms: 900,
                kib: 2048,
            },
        ];
        assert!(rss(&samples).starts_with("<svg"));
        assert!(rss(&[]).starts_with("<svg"));
    }
}
