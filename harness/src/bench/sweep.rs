//! One sweep on a deployed stack: the warm-up, the baseline bucket, and per point the three
//! measurements (verified, checks off, raw PutObject) with the ratios, request count and
//! ceiling that follow from them. Generic over the mailbox the alerts are read from
//! (LocalStack's SES, or the S3 mailbox on AWS).

use super::measure::{self, Bench};
use super::overhead::{self, Reading, RssSampler};
use super::requests::{self, CountingMailbox, RequestCounter};
use super::{BenchConfig, BenchReport, PointReport, baseline, format_size, stats};
use crate::deploy::Deployment;
use crate::mailbox::Mailbox;
use crate::progress::Progress;
use crate::run_target::{Target, TargetKind};
use crate::stack::StackNames;

/// What one sweep runs on.
pub(super) struct Sweep<'a> {
    pub(super) target: &'a Target,
    pub(super) config: &'a BenchConfig,
    pub(super) deployment: &'a Deployment,
    pub(super) names: &'a StackNames,
    pub(super) sampler: &'a RssSampler,
    pub(super) ticks: Option<&'a Progress>,
}

impl Sweep<'_> {
    /// Warm-up, baseline bucket, every point, baseline bucket removed and verified gone; the
    /// alerts are read from `mailbox`.
    pub(super) async fn sweep<M: Mailbox + Send>(
        self,
        mailbox: M,
        report: &mut BenchReport,
        progress: &mut (dyn std::io::Write + Send),
    ) {
        let Self {
            target,
            config,
            deployment,
            names,
            sampler,
            ticks,
        } = self;
        let counter = RequestCounter::default();
        let mut bench = Bench {
            s3: counter.s3(target),
            sqs: counter.sqs(target),
            counter,
            deployment,
            mailbox: CountingMailbox {
                inner: mailbox,
                polls: 0,
            },
            deadline: config.delivery_deadline,
            sequencer_orders_overwrites: target.kind == TargetKind::Aws,
        };
        let _ = writeln!(progress, "  warm-up: one file through the pipeline");
        let warm = measure::plan(
            1,
            1024,
            1,
            config.seed,
            &format!("{}-warmup-", names.run_id),
        );
        match bench.verified(&warm, 1).await {
            Ok(run) if run.verified == 1 => report.warmup = Some(run),
            Ok(run) => {
                report.errors.push(format!(
                    "warm-up: the one file was not verified (timed out: {}; violations: {:?})",
                    run.timed_out, run.violations
                ));
                report.warmup = Some(run);
                return;
            }
            Err(e) => {
                report.errors.push(format!("warm-up: {e}"));
                return;
            }
        }
        let bucket = match baseline::create(&bench.s3, target, names).await {
            Ok(bucket) => bucket,
            Err(e) => {
                report.errors.push(format!("baseline bucket: {e}"));
                return;
            }
        };
        let points = config.points();
        for (index, &(concurrency, size)) in points.iter().enumerate() {
            let _ = writeln!(
                progress,
                "  point {}/{}: C={concurrency}, {} files of {}",
                index + 1,
                points.len(),
                config.files,
                format_size(size)
            );
            let point = measure_point(
                &mut bench,
                config,
                &bucket,
                (index, concurrency, size),
                sampler,
                ticks,
            )
            .await;
            let _ = writeln!(progress, "    {}", point_line(&point));
            report.points.push(point);
        }
        match baseline::delete(&bench.s3, &bucket).await {
            Ok(versions) => report.baseline_versions_deleted = Some(versions),
            Err(e) => report.errors.push(format!("baseline bucket: {e}")),
        }
    }
}

/// The three measurements of one point and what follows from them.
async fn measure_point<M: Mailbox + Send>(
    bench: &mut Bench<'_, M>,
    config: &BenchConfig,
    baseline_bucket: &str,
    (index, concurrency, size): (usize, usize, u64),
    sampler: &RssSampler,
    ticks: Option<&Progress>,
) -> PointReport {
    let tick = || {
        if let Some(ticks) = ticks {
            ticks.inc(config.files as u64);
        }
    };
    // The point's own stream of the run seed (core's `seeds`); workload::plan then draws this
    // seed's workload stream.
    let seed =
        harness_core::seeds::derive(config.seed, harness_core::seeds::Stream::BenchPoint(index));
    let run_id = bench.deployment.run_id.clone();
    let plan = |tag: &str| {
        let prefix = format!(
            "{run_id}-c{concurrency}-{}-{tag}-",
            format_size(size).to_lowercase()
        );
        measure::plan(config.files, size, concurrency, seed, &prefix)
    };
    let mark = sampler.mark();
    let reading = Reading::now();
    let mut point = PointReport {
        concurrency,
        size_bytes: size,
        size: format_size(size),
        files: config.files,
        seed,
        verified: None,
        unchecked: None,
        baseline: None,
        ratio_to_baseline: None,
        unchecked_ratio_to_baseline: None,
        verified_to_unchecked: None,
        requests_per_file: None,
        ceiling: None,
        cpu_percent: None,
        rss: None,
        errors: Vec::new(),
    };
    if config.checks.verified() {
        match bench.verified(&plan("v"), concurrency).await {
            Ok(run) => point.verified = Some(run),
            Err(e) => point.errors.push(format!("verified run: {e}")),
        }
        tick();
    }
    if config.checks.unchecked() {
        match bench.unchecked(&plan("u"), concurrency).await {
            Ok(run) => point.unchecked = Some(run),
            Err(e) => point.errors.push(format!("checks-off run: {e}")),
        }
        tick();
    }
    match bench
        .baseline(baseline_bucket, &plan("b"), concurrency)
        .await
    {
        Ok(run) => point.baseline = Some(run),
        Err(e) => point.errors.push(format!("baseline run: {e}")),
    }
    tick();
    point.cpu_percent = reading.cpu_percent_since();
    point.rss = overhead::summarize(&sampler.since(mark));
    derive(&mut point);
    point
}

/// Ratios, requests per file and the ceiling, from a point's measurements.
fn derive(point: &mut PointReport) {
    let verified = point.verified.as_ref().and_then(|v| v.files_per_s);
    let unchecked = point.unchecked.as_ref().and_then(|u| u.files_per_s);
    let raw = point.baseline.as_ref().and_then(|b| b.puts_per_s);
    point.ratio_to_baseline = stats::ratio(verified, raw);
    point.unchecked_ratio_to_baseline = stats::ratio(unchecked, raw);
    point.verified_to_unchecked = stats::ratio(verified, unchecked);
    if let Some(run) = &point.verified {
        let per_file = requests::per_file(run.files, &run.requests, run.mailbox_polls);
        point.ceiling = stats::ceiling(per_file.total, raw, verified);
        point.requests_per_file = Some(per_file);
    }
}

/// One progress line after a point.
fn point_line(p: &PointReport) -> String {
    let rate = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| format!("{v:.1}"));
    format!(
        "verified {}/s, checks off {}/s, baseline {} puts/s, ratio {}{}",
        rate(p.verified.as_ref().and_then(|v| v.files_per_s)),
        rate(p.unchecked.as_ref().and_then(|u| u.files_per_s)),
        rate(p.baseline.as_ref().and_then(|b| b.puts_per_s)),
        p.ratio_to_baseline
            .map_or_else(|| "-".into(), |r| format!("{r:.3}")),
        if p.failed() { " (FAILED)" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::measure::{BaselineRun, UncheckedRun};
    use crate::bench::report::tests::point;

    #[test]
    fn derive_gives_ratios_requests_and_ceiling() {
        let mut p = point(1, 20.0, vec![]);
        p.unchecked = Some(UncheckedRun {
            files: 10,
            fifo_messages: 10,
            emails: 10,
            wall_ms: Some(400),
            files_per_s: Some(25.0),
            timed_out: false,
        });
        p.baseline = Some(BaselineRun {
            puts: 10,
            wall_ms: 100,
            puts_per_s: Some(100.0),
        });
        derive(&mut p);
        assert_eq!(p.ratio_to_baseline, Some(0.2));
        assert_eq!(p.unchecked_ratio_to_baseline, Some(0.25));
        assert_eq!(p.verified_to_unchecked, Some(0.8));
        // No harness requests recorded in the fixture: the 5 fixed pipeline calls.
        let ceiling = p.ceiling.unwrap();
        assert_eq!(ceiling.requests_per_file, 5.0);
        assert_eq!(ceiling.ceiling_files_per_s, 20.0);
        assert_eq!(ceiling.reached, Some(1.0));
    }
}
