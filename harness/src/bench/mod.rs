//! `harness bench`: the end-to-end throughput benchmark of the deployed pipeline.
//!
//! One fresh stack is deployed; one unmeasured file warms the function up; then for each point
//! of a sweep over concurrency and file size the same seeded workload is measured three ways:
//! through the pipeline with every FIFO message and email proven by the oracle (verified
//! files/s and latency), through the pipeline with deliveries only counted (`--checks off`:
//! what verification costs), and as raw PutObject into a baseline bucket without a
//! notification (the figure everything is divided by). Each point also reports the API requests
//! one file costs, the ceiling that implies, and the harness's own CPU and memory; the knee of
//! each size's curve is located. The stack and the baseline bucket are removed at the end
//! whatever happened, and anything left is an error.
//!
//! The parts are: the sweep ([`config`]), the measurements ([`measure`]), the baseline bucket
//! (`baseline`), request counting (`requests`), overhead (`overhead`), the figures
//! ([`stats`]), the report ([`report`]) and its HTML page (`page`).

mod baseline;
pub mod config;
pub mod measure;
mod overhead;
mod page;
pub mod report;
mod requests;
pub mod stats;

use std::time::{Duration, Instant};

use crate::deploy::{self, DeployConfig, Deployment, teardown::teardown};
use crate::mailbox::LocalStackSes;
use crate::progress::Progress;
use crate::runner::run_address;
use crate::stack::{RunId, StackNames};
use crate::target::{Target, TargetKind};

pub use config::{BenchConfig, Checks, ConfigError, format_size};
pub use overhead::{RssSample, RssSummary};
pub use report::{BenchReport, PointReport, table, write};

use measure::Bench;
use overhead::{Reading, RssSampler};
use requests::{CountingMailbox, RequestCounter};
use stats::CurveSample;

/// Files `config` uploads in all (for a progress display): per point, one upload of `files`
/// per measurement.
pub fn total_files(config: &BenchConfig) -> u64 {
    let per_point =
        1 + usize::from(config.checks.verified()) + usize::from(config.checks.unchecked());
    (config.points().len() * per_point * config.files) as u64
}

/// How often RSS is sampled.
const RSS_EVERY: Duration = Duration::from_millis(500);

/// The command that runs the same sweep with the same seed.
pub fn replay_command(config: &BenchConfig, target: TargetKind) -> String {
    let join = |v: Vec<String>| v.join(",");
    format!(
        "harness --target {} bench --concurrency {} --sizes {} --files {} --checks {} --seed {}",
        format!("{target:?}").to_lowercase(),
        join(config.concurrency.iter().map(ToString::to_string).collect()),
        join(config.sizes.iter().map(|&s| format_size(s)).collect()),
        config.files,
        format!("{:?}", config.checks).to_lowercase(),
        config.seed
    )
}

/// Runs the benchmark of `config` on `target`; never panics, every problem is in the report.
pub async fn run(
    target: &Target,
    handler_zip: &[u8],
    email: &str,
    config: &BenchConfig,
    ticks: Option<&Progress>,
    progress: &mut (dyn std::io::Write + Send),
) -> BenchReport {
    let started = Instant::now();
    let whole = Reading::now();
    let sampler = RssSampler::start(RSS_EVERY);
    let run_id = RunId::random();
    let names = StackNames::with_default_prefix(&run_id);
    let mut report = BenchReport {
        seed: config.seed,
        run_id: run_id.to_string(),
        target: target.describe(),
        replay: replay_command(config, target.kind),
        config: config.clone(),
        baseline_bucket: baseline::bucket_name(&names),
        duration_ms: 0,
        warmup: None,
        points: Vec::new(),
        knees: Vec::new(),
        overhead: report::Overhead {
            cpu_percent: None,
            rss: None,
            rss_samples: Vec::new(),
        },
        teardown: None,
        baseline_versions_deleted: None,
        errors: Vec::new(),
    };
    if let Err(e) = config.validate() {
        report.errors.push(e.to_string());
    } else if let Some(endpoint) = target.endpoint_url.as_deref() {
        let _ = writeln!(
            progress,
            "bench (seed {}, run {run_id}) on {}: {} point(s) of {} file(s)",
            config.seed,
            target.describe(),
            config.points().len(),
            config.files
        );
        let deploy_config = DeployConfig::new(handler_zip.to_vec(), run_address(email, &run_id));
        match deploy::deploy(target, &names, &deploy_config, progress).await {
            Ok((deployment, _)) => {
                sweep(
                    target,
                    config,
                    &deployment,
                    &names,
                    endpoint,
                    &sampler,
                    ticks,
                    &mut report,
                    progress,
                )
                .await;
            }
            Err(e) => report.errors.push(format!("deploy: {e}")),
        }
        let torn = teardown(target, &names, progress).await;
        if !torn.is_clean() {
            report.errors.push(format!(
                "teardown left errors {:?} and resources {:?}",
                torn.errors, torn.leftovers
            ));
        }
        report.teardown = Some(torn);
    } else {
        report.errors.push(
            "harness bench reads the email alerts from LocalStack's SES mailbox, so it runs on \
             LocalStack targets only for now; use --target embedded or --target localstack"
                .into(),
        );
    }
    report.knees = knees(config, &report.points);
    report.overhead.cpu_percent = whole.cpu_percent_since();
    let samples = sampler.stop();
    report.overhead.rss = overhead::summarize(&samples);
    report.overhead.rss_samples = overhead::downsample(&samples, 200);
    report.duration_ms = started.elapsed().as_millis() as u64;
    report
}

/// Warm-up, baseline bucket, every point, baseline bucket removed and verified gone.
#[allow(clippy::too_many_arguments)]
async fn sweep(
    target: &Target,
    config: &BenchConfig,
    deployment: &Deployment,
    names: &StackNames,
    endpoint: &str,
    sampler: &RssSampler,
    ticks: Option<&Progress>,
    report: &mut BenchReport,
    progress: &mut (dyn std::io::Write + Send),
) {
    let counter = RequestCounter::default();
    let mut bench = Bench {
        s3: counter.s3(target),
        sqs: counter.sqs(target),
        counter,
        deployment,
        mailbox: CountingMailbox {
            inner: LocalStackSes::new(endpoint).consuming(&deployment.email_address),
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
    match bench.warm_up(&warm, endpoint).await {
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

/// The three measurements of one point and what follows from them.
async fn measure_point(
    bench: &mut Bench<'_, LocalStackSes>,
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
    let seed = config.seed.wrapping_add(index as u64);
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

/// The knee of each size's verified curve.
fn knees(config: &BenchConfig, points: &[PointReport]) -> Vec<stats::Knee> {
    config
        .sizes
        .iter()
        .filter_map(|&size| {
            let samples: Vec<CurveSample> = points
                .iter()
                .filter(|p| p.size_bytes == size)
                .map(|p| CurveSample {
                    concurrency: p.concurrency,
                    files_per_s: p.verified.as_ref().and_then(|v| v.files_per_s),
                    p95_ms: p
                        .verified
                        .as_ref()
                        .and_then(|v| v.fifo_latency.summary.p95_ms),
                })
                .collect();
            stats::knee(size, &samples)
        })
        .collect()
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
    fn replay_names_every_sweep_flag_and_the_seed() {
        let config = BenchConfig {
            concurrency: vec![1, 3],
            sizes: vec![1024],
            files: 6,
            ..BenchConfig::with_seed(42)
        };
        assert_eq!(
            replay_command(&config, TargetKind::Embedded),
            "harness --target embedded bench --concurrency 1,3 --sizes 1KiB --files 6 \
             --checks both --seed 42"
        );
    }

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

    #[test]
    fn knees_are_found_per_size() {
        let config = BenchConfig {
            concurrency: vec![1, 2],
            sizes: vec![1024],
            ..BenchConfig::with_seed(1)
        };
        let points = [point(1, 10.0, vec![]), point(2, 10.5, vec![])];
        let knees = knees(&config, &points);
        assert_eq!(knees.len(), 1);
        assert_eq!((knees[0].size_bytes, knees[0].concurrency), (1024, 1));
    }
}
