//! What a benchmark reports: `bench.json` (everything), a printed table (one row per point),
//! and `bench.html` (facts, curves, memory and errors; drawn by `html::bench_page`).
//!
//! Every throughput is also given as a ratio to the raw PutObject rate measured in the same run
//! at the same concurrency and size, so figures from different machines can be compared.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::config::{BenchConfig, format_size};
use super::measure::{BaselineRun, UncheckedRun, VerifiedRun};
use super::overhead::{RssSample, RssSummary};
use super::requests::RequestsPerFile;
use super::stats::{Ceiling, Knee};
use crate::deploy::teardown::TeardownReport;

/// One point of the sweep: a concurrency and a file size.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointReport {
    pub concurrency: usize,
    pub size_bytes: u64,
    pub size: String,
    pub files: usize,
    /// The workload seed of this point: the run seed's `bench-point/<position>` stream
    /// (`harness_core::seeds`).
    pub seed: u64,
    pub verified: Option<VerifiedRun>,
    pub unchecked: Option<UncheckedRun>,
    pub baseline: Option<BaselineRun>,
    /// Verified files/s ÷ baseline PutObject/s.
    pub ratio_to_baseline: Option<f64>,
    /// Checks-off files/s ÷ baseline PutObject/s.
    pub unchecked_ratio_to_baseline: Option<f64>,
    /// Verified files/s ÷ checks-off files/s (the goal is at least 0.9).
    pub verified_to_unchecked: Option<f64>,
    pub requests_per_file: Option<RequestsPerFile>,
    pub ceiling: Option<Ceiling>,
    /// The harness's CPU time over the point's wall time, % of one core.
    pub cpu_percent: Option<f64>,
    pub rss: Option<RssSummary>,
    pub errors: Vec<String>,
}

impl PointReport {
    /// Lost, duplicated or wrong deliveries, or anything that stopped a measurement.
    pub fn failed(&self) -> bool {
        !self.errors.is_empty()
            || self
                .verified
                .as_ref()
                .is_some_and(|v| !v.violations.is_empty() || v.timed_out)
            || self.unchecked.as_ref().is_some_and(|u| u.timed_out)
    }
}

/// The whole run's overhead.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Overhead {
    pub cpu_percent: Option<f64>,
    pub rss: Option<RssSummary>,
    /// RSS over the run (at most 200 samples, first, last and peak kept).
    pub rss_samples: Vec<RssSample>,
}

/// Everything one `harness bench` found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchReport {
    pub seed: u64,
    pub run_id: String,
    pub target: String,
    /// The command that runs the same sweep with the same seed.
    pub replay: String,
    pub config: BenchConfig,
    pub baseline_bucket: String,
    pub duration_ms: u64,
    /// One unmeasured file through the pipeline first, so no point pays the cold start.
    pub warmup: Option<VerifiedRun>,
    pub points: Vec<PointReport>,
    /// Per size, where more concurrency stops paying.
    pub knees: Vec<Knee>,
    pub overhead: Overhead,
    pub teardown: Option<TeardownReport>,
    /// Object versions deleted with the baseline bucket (it was then verified gone).
    pub baseline_versions_deleted: Option<usize>,
    /// Anything outside the points that went wrong (deploy, teardown, the baseline bucket).
    pub errors: Vec<String>,
}

impl BenchReport {
    /// Every reason the run failed, one per line.
    pub fn failure_lines(&self) -> Vec<String> {
        let mut lines = self.errors.clone();
        for p in &self.points {
            let at = format!("C={} size={}", p.concurrency, p.size);
            lines.extend(p.errors.iter().map(|e| format!("{at}: {e}")));
            if let Some(v) = &p.verified {
                lines.extend(v.violations.iter().map(|e| format!("{at}: {e}")));
                if v.timed_out {
                    lines.push(format!(
                        "{at}: verified run timed out before every delivery"
                    ));
                }
            }
            if p.unchecked.as_ref().is_some_and(|u| u.timed_out) {
                lines.push(format!(
                    "{at}: checks-off run timed out before every delivery"
                ));
            }
        }
        lines
    }

    pub fn passed(&self) -> bool {
        self.failure_lines().is_empty()
    }
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.decimals$}"))
}

fn ms(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// The printed table: one row per point.
pub fn table(report: &BenchReport) -> String {
    let mut out = format!(
        "{:>4} {:>7} {:>10} {:>11} {:>9} {:>6} {:>6} {:>7} {:>7} {:>7} {:>7} {:>6} {:>5} {:>7}\n",
        "C",
        "size",
        "verified/s",
        "checksoff/s",
        "puts/s",
        "ratio",
        "v/off",
        "p50 ms",
        "p95 ms",
        "max ms",
        "mailp95",
        "ceil%",
        "CPU%",
        "RSS MiB"
    );
    for p in &report.points {
        let v = p.verified.as_ref();
        let fifo = v.map(|v| &v.fifo_latency);
        let _ = writeln!(
            out,
            "{:>4} {:>7} {:>10} {:>11} {:>9} {:>6} {:>6} {:>7} {:>7} {:>7} {:>7} {:>6} {:>5} {:>7}{}",
            p.concurrency,
            p.size,
            num(v.and_then(|v| v.files_per_s), 1),
            num(p.unchecked.as_ref().and_then(|u| u.files_per_s), 1),
            num(p.baseline.as_ref().and_then(|b| b.puts_per_s), 1),
            num(p.ratio_to_baseline, 3),
            num(p.verified_to_unchecked, 2),
            ms(fifo.and_then(|f| f.summary.p50_ms)),
            ms(fifo.and_then(|f| f.summary.p95_ms)),
            ms(fifo.and_then(|f| f.summary.max_ms)),
            ms(v.and_then(|v| v.email_latency.summary.p95_ms)),
            num(p.ceiling.and_then(|c| c.reached).map(|r| r * 100.0), 0),
            num(p.cpu_percent, 0),
            num(p.rss.map(|r| r.max_kib as f64 / 1024.0), 1),
            if p.failed() { "  FAILED" } else { "" }
        );
    }
    for knee in &report.knees {
        let _ = writeln!(
            out,
            "knee at {}: C={} ({})",
            format_size(knee.size_bytes),
            knee.concurrency,
            knee.reason
        );
    }
    if let (Some(cpu), Some(rss)) = (report.overhead.cpu_percent, report.overhead.rss) {
        let _ = writeln!(
            out,
            "harness overhead: {cpu:.0}% of one core over the run; RSS start {:.1} MiB, end {:.1} MiB, max {:.1} MiB",
            rss.start_kib as f64 / 1024.0,
            rss.end_kib as f64 / 1024.0,
            rss.max_kib as f64 / 1024.0
        );
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::bench::config::Checks;
    use crate::bench::stats::Distribution;

    pub(crate) fn point(concurrency: usize, rate: f64, violations: Vec<String>) -> PointReport {
        PointReport {
            concurrency,
            size_bytes: 1024,
            size: "1KiB".into(),
            files: 10,
            seed: 1,
            verified: Some(VerifiedRun {
                files: 10,
                verified: 10,
                wall_ms: Some(1000),
                files_per_s: Some(rate),
                fifo_latency: Distribution::of([10, 20, 30]),
                email_latency: Distribution::of([15, 25, 35]),
                judge_ms: 1,
                violations,
                timed_out: false,
                requests: Default::default(),
                mailbox_polls: 3,
            }),
            unchecked: None,
            baseline: Some(BaselineRun {
                puts: 10,
                wall_ms: 100,
                puts_per_s: Some(100.0),
            }),
            ratio_to_baseline: Some(rate / 100.0),
            unchecked_ratio_to_baseline: None,
            verified_to_unchecked: None,
            requests_per_file: None,
            ceiling: None,
            cpu_percent: Some(12.0),
            rss: None,
            errors: Vec::new(),
        }
    }

    pub(crate) fn report(points: Vec<PointReport>) -> BenchReport {
        BenchReport {
            seed: 7,
            run_id: "habcdefghij".into(),
            target: "embedded".into(),
            replay: "harness bench --seed 7".into(),
            config: BenchConfig {
                checks: Checks::On,
                ..BenchConfig::with_seed(7)
            },
            baseline_bucket: "upl-habcdefghij-baseline".into(),
            duration_ms: 5,
            warmup: None,
            points,
            knees: vec![Knee {
                size_bytes: 1024,
                concurrency: 2,
                reason: "because".into(),
            }],
            overhead: Overhead {
                cpu_percent: Some(5.0),
                rss: Some(RssSummary {
                    start_kib: 1024,
                    end_kib: 2048,
                    max_kib: 3072,
                    samples: 3,
                }),
                rss_samples: Vec::new(),
            },
            teardown: None,
            baseline_versions_deleted: Some(20),
            errors: Vec::new(),
        }
    }

    #[test]
    fn table_has_one_row_per_point_and_marks_failures() {
        let r = report(vec![
            point(1, 10.0, vec![]),
            point(2, 18.0, vec!["lost".into()]),
        ]);
        let text = table(&r);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("verified/s") && lines[0].contains("RSS MiB"));
        assert!(
            lines[1].contains("10.0") && lines[1].contains("0.100") && !lines[1].contains("FAILED")
        );
        assert!(lines[2].contains("18.0") && lines[2].ends_with("FAILED"));
        assert!(text.contains("knee at 1KiB: C=2 (because)"));
        assert!(text.contains("RSS start 1.0 MiB, end 2.0 MiB, max 3.0 MiB"));
    }

    #[test]
    fn violations_and_errors_fail_the_run_with_the_point_named() {
        let ok = report(vec![point(1, 10.0, vec![])]);
        assert!(ok.passed());
        let mut bad = report(vec![point(4, 10.0, vec!["missing FIFO message".into()])]);
        bad.errors.push("teardown left x".into());
        assert_eq!(
            bad.failure_lines(),
            ["teardown left x", "C=4 size=1KiB: missing FIFO message"]
        );
    }
}
