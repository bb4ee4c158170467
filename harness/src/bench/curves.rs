//! Conversion of a [`BenchReport`] to the HTML report's curve types ([`crate::html::Curve`]),
//! so `bench.html` is drawn by the same page renderer as the scenario reports.
//!
//! The bench keeps its own, richer types (checks-off rate, ceiling, overhead, request counts are
//! in `bench.json`); this module is the one place that maps them onto the page's curves: one
//! curve per file size, x = concurrency.

use super::config::format_size;
use super::report::BenchReport;
use crate::html::{Curve, CurvePoint, Knee};

/// One curve per file size, in the sweep's order; a point that measured nothing shows as 0.
pub fn curves(report: &BenchReport) -> Vec<Curve> {
    report
        .config
        .sizes
        .iter()
        .map(|&size| Curve {
            title: format!("{}, {} files", report.target, format_size(size)),
            points: report
                .points
                .iter()
                .filter(|p| p.size_bytes == size)
                .map(|p| {
                    let fifo = p.verified.as_ref().map(|v| &v.fifo_latency);
                    CurvePoint {
                        concurrency: u32::try_from(p.concurrency).unwrap_or(u32::MAX),
                        file_size: size,
                        verified_files_per_s: p
                            .verified
                            .as_ref()
                            .and_then(|v| v.files_per_s)
                            .unwrap_or(0.0),
                        baseline_puts_per_s: p
                            .baseline
                            .as_ref()
                            .and_then(|b| b.puts_per_s)
                            .unwrap_or(0.0),
                        p50_ms: fifo.and_then(|f| f.summary.p50_ms),
                        p95_ms: fifo.and_then(|f| f.summary.p95_ms),
                        max_ms: fifo.and_then(|f| f.summary.max_ms),
                    }
                })
                .collect(),
            knee: report
                .knees
                .iter()
                .find(|k| k.size_bytes == size)
                .map(|k| Knee {
                    concurrency: u32::try_from(k.concurrency).unwrap_or(u32::MAX),
                    reason: k.reason.clone(),
                }),
        })
        .collect()
}

/// `bench.html`: the curves, drawn by [`crate::html::render_bench`].
pub fn render(report: &BenchReport) -> String {
    crate::html::render_bench(&curves(report), &[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::tests::{point, report};

    #[test]
    fn one_curve_per_size_with_its_knee() {
        let mut r = report(vec![point(1, 10.0, vec![]), point(2, 18.0, vec![])]);
        r.config.sizes = vec![1024, 4096];
        let curves = curves(&r);
        assert_eq!(curves.len(), 2);
        assert_eq!(curves[0].points.len(), 2);
        assert_eq!(curves[0].points[1].verified_files_per_s, 18.0);
        assert_eq!(curves[0].points[0].baseline_puts_per_s, 100.0);
        assert_eq!(curves[0].points[0].p95_ms, Some(30));
        assert_eq!(curves[0].knee.as_ref().map(|k| k.concurrency), Some(2));
        assert!(curves[1].points.is_empty() && curves[1].knee.is_none());
        assert!(render(&r).contains("throughput"));
    }
}
