//! The report's plots, drawn with plotters' SVG backend into strings that the page inlines:
//! latency histograms and the chaos timeline here, the bench page's plots in
//! [`super::bench_plot`] on the same helpers ([`svg`], [`failed`], the palette). Plotters escapes the text it draws; labels from outside still go through
//! [`super::escape::label`] to lose control characters and excess length.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{IntoSegmentedCoord, SegmentValue};
use plotters::prelude::*;
use thiserror::Error;

use super::escape::label;
use crate::chaos::{ChaosSummary, TimelineKind};

/// A plot that could not be drawn; the page shows the message in place of the plot.
#[derive(Debug, Error)]
#[error("could not draw the {plot} plot: {message}")]
pub struct PlotError {
    plot: &'static str,
    message: String,
}

pub(super) type Drawn = Result<(), Box<dyn std::error::Error>>;

pub(super) const FONT: &str = "sans-serif";
pub(super) const THROUGHPUT: RGBColor = RGBColor(31, 119, 180);
pub(super) const BASELINE: RGBColor = RGBColor(127, 127, 127);
pub(super) const P50: RGBColor = RGBColor(44, 160, 44);
pub(super) const P95: RGBColor = RGBColor(255, 127, 14);
pub(super) const MAX: RGBColor = RGBColor(214, 39, 40);
const BAR: RGBColor = RGBColor(70, 130, 180);

/// Draws into an SVG document of `size` pixels and returns its text.
pub(super) fn svg(
    plot: &'static str,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Drawn,
) -> Result<String, PlotError> {
    let fail = |message: String| PlotError { plot, message };
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        draw(&root).map_err(|e| fail(e.to_string()))?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    Ok(out)
}

/// Equal-width bins over `0..=max(values)`: `(lower bound, width, count)`, at most 24 bins.
pub(super) fn bins(values: &[u64]) -> Vec<(u64, u64, u32)> {
    let Some(&max) = values.iter().max() else {
        return Vec::new();
    };
    let width = (max + 1).div_ceil(24).max(1);
    let mut counts = vec![0u32; usize::try_from(max / width + 1).unwrap_or(1)];
    for v in values {
        if let Some(count) = usize::try_from(v / width)
            .ok()
            .and_then(|i| counts.get_mut(i))
        {
            *count += 1;
        }
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| (i as u64 * width, width, count))
        .collect()
}

/// How many labels an axis of whole counts `0..=end` gets: one per count while they fit, so
/// plotters never steps by less than one.
fn count_labels(end: f64) -> usize {
    (end as usize + 1).min(11)
}

/// A histogram of latencies (ms) with the p50 and p95 marked.
pub fn histogram(title: &str, values: &[u64], p50: Option<u64>, p95: Option<u64>) -> String {
    let bins = bins(values);
    let x_end = bins.last().map_or(1, |(lo, w, _)| lo + w) as f64;
    let y_end = f64::from(bins.iter().map(|b| b.2).max().unwrap_or(0) + 1);
    svg("latency histogram", (560, 300), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(label(title, 60), (FONT, 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(44)
            .build_cartesian_2d(0f64..x_end, 0f64..y_end)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("latency (ms)")
            .y_desc("objects")
            // Whole counts only: with fewer labels than counts plotters picks half steps, which
            // `{:.0}` shows as repeated numbers (0, 0, 1, 1, ...).
            .y_labels(count_labels(y_end))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        chart.draw_series(bins.iter().map(|&(lo, width, count)| {
            Rectangle::new(
                [(lo as f64, 0.0), ((lo + width) as f64, f64::from(count))],
                BAR.filled(),
            )
        }))?;
        for (name, mark, color) in [("p50", p50, P50), ("p95", p95, P95)] {
            if let Some(at) = mark {
                let x = at as f64 + 0.5;
                chart
                    .draw_series(LineSeries::new(
                        [(x, 0.0), (x, y_end)],
                        color.stroke_width(2),
                    ))?
                    .label(format!("{name} {at} ms"))
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color));
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
    .unwrap_or_else(|e| failed(&e))
}

/// The rows of the chaos timeline, bottom to top.
const ROWS: [TimelineKind; 5] = [
    TimelineKind::Upload,
    TimelineKind::Delivery,
    TimelineKind::Email,
    TimelineKind::Failure,
    TimelineKind::Fault,
];

fn row_name(kind: TimelineKind) -> &'static str {
    match kind {
        TimelineKind::Fault => "fault",
        TimelineKind::Upload => "upload",
        TimelineKind::Delivery => "FIFO delivery",
        TimelineKind::Email => "email",
        TimelineKind::Failure => "on-failure",
    }
}

fn row_color(kind: TimelineKind) -> RGBColor {
    match kind {
        TimelineKind::Fault => MAX,
        TimelineKind::Upload => BASELINE,
        TimelineKind::Delivery => THROUGHPUT,
        TimelineKind::Email => P50,
        TimelineKind::Failure => P95,
    }
}

/// Faults against uploads and deliveries on one time axis (seconds since the run started); each
/// fault is also a faint vertical line across every row.
pub fn timeline(summary: &ChaosSummary) -> String {
    let end_s = summary.timeline.iter().map(|e| e.at_ms).max().unwrap_or(0) as f64 / 1000.0;
    let end_s = (end_s * 1.03).max(0.1);
    let row = |kind: TimelineKind| ROWS.iter().position(|k| *k == kind).unwrap_or(0) as i32;
    svg("chaos timeline", (900, 320), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("faults against uploads and deliveries", (FONT, 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(110)
            .build_cartesian_2d(0f64..end_s, (0..ROWS.len() as i32).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("seconds since the run started")
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => usize::try_from(*i)
                    .ok()
                    .and_then(|i| ROWS.get(i))
                    .map_or(String::new(), |k| row_name(*k).to_owned()),
                _ => String::new(),
            })
            .draw()?;
        let faults = summary
            .timeline
            .iter()
            .filter(|e| e.kind == TimelineKind::Fault);
        chart.draw_series(faults.map(|e| {
            let x = e.at_ms as f64 / 1000.0;
            PathElement::new(
                [(x, SegmentValue::Exact(0)), (x, SegmentValue::Last)],
                MAX.mix(0.25),
            )
        }))?;
        for kind in ROWS {
            let color = row_color(kind);
            chart.draw_series(summary.timeline.iter().filter(|e| e.kind == kind).map(|e| {
                Circle::new(
                    (e.at_ms as f64 / 1000.0, SegmentValue::CenterOf(row(kind))),
                    4,
                    color.filled(),
                )
            }))?;
        }
        Ok(())
    })
    .unwrap_or_else(|e| failed(&e))
}

/// `(x, content)` of every `<text>` element of a plot's SVG, for tests that read labels back.
#[cfg(test)]
pub(super) fn svg_texts(svg: &str) -> Vec<(Option<f64>, &str)> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let (attributes, rest) = t.split_once('>')?;
            let content = rest.split_once("</text>")?.0.trim();
            let x = attributes
                .split("x=\"")
                .nth(1)?
                .split('"')
                .next()?
                .parse()
                .ok();
            Some((x, content))
        })
        .collect()
}

/// What the page shows instead of a plot that could not be drawn.
pub(super) fn failed(error: &PlotError) -> String {
    format!(
        "<p class=\"plot-error\">{}</p>",
        super::escape::text(&error.to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_cover_every_value_once() {
        let values = [0, 1, 5, 23, 24, 100, 100];
        let bins = bins(&values);
        assert_eq!(bins.iter().map(|b| b.2).sum::<u32>(), values.len() as u32);
        let (lo, width, _) = *bins.last().unwrap();
        assert!(lo <= 100 && 100 < lo + width);
        assert!(bins.len() <= 25);
        assert!(super::bins(&[]).is_empty());
        assert_eq!(super::bins(&[0]), vec![(0, 1, 1)]);
    }

    #[test]
    fn a_histogram_of_few_objects_labels_each_count_once() {
        // Counts up to 2: the y axis must read 0, 1, 2, 3, not 0, 0, 1, 1, 2, 2.
        let svg = histogram("few", &[300, 310, 520, 530, 640, 1100], None, None);
        let texts = svg_texts(&svg);
        for count in ["1", "2", "3"] {
            let times = texts.iter().filter(|(_, t)| *t == count).count();
            assert_eq!(times, 1, "label {count} in {texts:?}");
        }
    }

    #[test]
    fn plots_are_svg_documents() {
        let svg = histogram("FIFO <latency> & more", &[3, 5, 8], Some(5), Some(8));
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("FIFO &lt;latency&gt; &amp; more"));
        assert!(histogram("empty", &[], None, None).starts_with("<svg"));
        assert!(timeline(&ChaosSummary::default()).starts_with("<svg"));
    }
}
