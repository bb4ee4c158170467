//! `bench.html`: the one place that maps a [`BenchReport`] onto the page's plain types
//! ([`crate::html::BenchPage`]), so the page is drawn by the same renderer (and style) as the
//! scenario reports without knowing the bench's own types.
//!
//! The page gets the run's facts (seed, replay command, overhead, cleanup), one curve per file
//! size (x = concurrency) with every figure of its points, the RSS samples, and the failure
//! lines; request counts per operation stay in `bench.json`.

use super::{BenchPage, Curve, CurvePoint, Knee};
use crate::bench::config::{BenchConfig, format_size};
use crate::bench::report::{BenchReport, PointReport};

/// The page's view of `report`.
pub fn page(report: &BenchReport) -> BenchPage {
    BenchPage {
        target: report.target.clone(),
        seed: report.seed,
        run_id: report.run_id.clone(),
        replay: report.replay.clone(),
        duration_ms: report.duration_ms,
        sweep: sweep(&report.config),
        cleanup: cleanup(report),
        cpu_percent: report.overhead.cpu_percent,
        rss: report.overhead.rss,
        rss_samples: report.overhead.rss_samples.clone(),
        curves: curves(report),
        errors: report.failure_lines(),
    }
}

/// `bench.html` of `report`, drawn by [`super::render_bench`].
pub fn render(report: &BenchReport) -> String {
    super::render_bench(&page(report))
}

fn sweep(config: &BenchConfig) -> String {
    let levels: Vec<String> = config.concurrency.iter().map(usize::to_string).collect();
    let sizes: Vec<String> = config.sizes.iter().map(|&s| format_size(s)).collect();
    format!(
        "concurrency {} × sizes {}; {} files per point and measurement; checks {}; \
         deliveries awaited up to {} s",
        levels.join(", "),
        sizes.join(", "),
        config.files,
        format!("{:?}", config.checks).to_lowercase(),
        config.delivery_deadline.as_secs()
    )
}

fn cleanup(report: &BenchReport) -> String {
    let stack = match &report.teardown {
        Some(t) if t.is_clean() => format!(
            "stack removed ({} resource(s) deleted, {} already gone)",
            t.deleted.len(),
            t.absent.len()
        ),
        Some(t) => format!(
            "stack teardown incomplete ({} error(s), {} left behind)",
            t.errors.len(),
            t.leftovers.len()
        ),
        None => "no stack to remove".to_owned(),
    };
    let baseline = report.baseline_versions_deleted.map_or_else(
        || format!("baseline bucket {} not removed", report.baseline_bucket),
        |n| format!("baseline bucket removed with its {n} object version(s)"),
    );
    format!("{stack}; {baseline}")
}

/// One curve per file size, in the sweep's order.
pub fn curves(report: &BenchReport) -> Vec<Curve> {
    report
        .config
        .sizes
        .iter()
        .map(|&size| Curve {
            title: format!("{} files", format_size(size)),
            points: report
                .points
                .iter()
                .filter(|p| p.size_bytes == size)
                .map(point)
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

fn point(p: &PointReport) -> CurvePoint {
    let fifo = p.verified.as_ref().map(|v| &v.fifo_latency.summary);
    CurvePoint {
        concurrency: u32::try_from(p.concurrency).unwrap_or(u32::MAX),
        verified_files_per_s: p.verified.as_ref().and_then(|v| v.files_per_s),
        checks_off_files_per_s: p.unchecked.as_ref().and_then(|u| u.files_per_s),
        baseline_puts_per_s: p.baseline.as_ref().and_then(|b| b.puts_per_s),
        verified_to_baseline: p.ratio_to_baseline,
        verified_to_checks_off: p.verified_to_unchecked,
        ceiling_reached: p.ceiling.and_then(|c| c.reached),
        p50_ms: fifo.and_then(|f| f.p50_ms),
        p95_ms: fifo.and_then(|f| f.p95_ms),
        max_ms: fifo.and_then(|f| f.max_ms),
        cpu_percent: p.cpu_percent,
        rss_max_kib: p.rss.map(|r| r.max_kib),
        failed: p.failed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::tests::{point as measured, report};

    #[test]
    fn one_curve_per_size_with_its_knee() {
        let mut r = report(vec![measured(1, 10.0, vec![]), measured(2, 18.0, vec![])]);
        r.config.sizes = vec![1024, 4096];
        let curves = curves(&r);
        assert_eq!(curves.len(), 2);
        assert_eq!(curves[0].title, "1KiB files");
        assert_eq!(curves[0].points.len(), 2);
        assert_eq!(curves[0].points[1].verified_files_per_s, Some(18.0));
        assert_eq!(curves[0].points[0].baseline_puts_per_s, Some(100.0));
        assert_eq!(curves[0].points[0].verified_to_baseline, Some(0.1));
        assert_eq!(curves[0].points[0].p95_ms, Some(30));
        assert_eq!(curves[0].points[0].cpu_percent, Some(12.0));
        assert_eq!(curves[0].knee.as_ref().map(|k| k.concurrency), Some(2));
        assert!(curves[1].points.is_empty() && curves[1].knee.is_none());
    }

    #[test]
    fn the_page_has_the_runs_facts_and_failures() {
        let mut r = report(vec![measured(4, 10.0, vec!["missing email".into()])]);
        r.teardown = Some(Default::default());
        let page = page(&r);
        assert_eq!(
            (page.seed, page.replay.as_str()),
            (7, "harness bench --seed 7")
        );
        assert_eq!(page.errors, ["C=4 size=1KiB: missing email"]);
        assert!(page.curves[0].points[0].failed);
        assert!(page.sweep.contains("checks on"), "{}", page.sweep);
        assert_eq!(
            page.cleanup,
            "stack removed (0 resource(s) deleted, 0 already gone); \
             baseline bucket removed with its 20 object version(s)"
        );
        assert!(render(&r).contains("missing email"));
    }

    #[test]
    fn bench_json_reads_back_into_the_same_page() {
        let mut r = report(vec![measured(1, 10.0, vec![]), measured(2, 18.0, vec![])]);
        r.overhead.rss_samples = vec![crate::bench::RssSample {
            at_ms: 5,
            kib: 4096,
        }];
        let json = serde_json::to_string(&r).unwrap();
        let back: BenchReport = serde_json::from_str(&json).unwrap();
        assert_eq!(render(&back), render(&r));
    }

    /// Renders a saved `bench.json` (`BENCH_JSON`) to `BENCH_HTML`, to see a page change on
    /// real figures: `BENCH_JSON=bench.json BENCH_HTML=/tmp/bench.html cargo test --lib
    /// html::bench_page -- --ignored`.
    #[test]
    #[ignore = "needs BENCH_JSON and BENCH_HTML"]
    fn render_a_saved_bench_json() {
        let json = std::env::var("BENCH_JSON").expect("BENCH_JSON names a bench.json");
        let html = std::env::var("BENCH_HTML").expect("BENCH_HTML names the page to write");
        let report: BenchReport =
            serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
        std::fs::write(html, render(&report)).unwrap();
    }
}
