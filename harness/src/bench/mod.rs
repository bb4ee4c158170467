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
//! ([`stats`]) and the report ([`report`]); its HTML page is drawn by [`crate::html`].

pub mod baseline;
pub mod config;
pub mod measure;
mod overhead;
pub mod report;
mod requests;
pub mod stats;
mod sweep;

use std::time::{Duration, Instant};

use crate::deploy::DeployConfig;
use crate::mailbox::{Inbox, MailSetup, RunMailbox, run_address};
use crate::pipeline::{Finding, Stack, replay};
use crate::progress::Progress;
use crate::run_target::Target;
use crate::stack::{RunId, StackNames};

pub use config::{BenchConfig, Checks, ConfigError, format_size};
pub use overhead::{RssSample, RssSummary};
pub use report::{BenchReport, PointReport, table};

use overhead::{Reading, RssSampler};
use stats::CurveSample;
use sweep::Sweep;

/// Files `config` uploads in all (for a progress display): per point, one upload of `files`
/// per measurement.
pub fn total_files(config: &BenchConfig) -> u64 {
    let per_point =
        1 + usize::from(config.checks.verified()) + usize::from(config.checks.unchecked());
    (config.points().len() * per_point * config.files) as u64
}

/// How often RSS is sampled.
const RSS_EVERY: Duration = Duration::from_millis(500);

/// The command that runs the same sweep with the same seed, on the same target and mailbox.
pub fn replay_command(config: &BenchConfig, target: &Target, mail: &MailSetup) -> String {
    let join = |v: Vec<String>| v.join(",");
    let command = format!(
        "bench --concurrency {} --sizes {} --files {} --checks {} --seed {}",
        join(config.concurrency.iter().map(ToString::to_string).collect()),
        join(config.sizes.iter().map(|&s| format_size(s)).collect()),
        config.files,
        format!("{:?}", config.checks).to_lowercase(),
        config.seed,
    );
    replay::command(target, mail, &command)
}

/// Runs the benchmark of `config` on `target`; never panics, every problem is in the report.
pub async fn run(
    target: &Target,
    handler_zip: &[u8],
    email: &str,
    config: &BenchConfig,
    mail: &MailSetup,
    ticks: Option<&Progress>,
    progress: &mut (dyn std::io::Write + Send),
) -> BenchReport {
    let started = Instant::now();
    let whole = Reading::now();
    let sampler = RssSampler::start(RSS_EVERY);
    let names = StackNames::with_default_prefix(&RunId::random());
    let run_id = names.run_id.clone();
    let mut report = BenchReport {
        seed: config.seed,
        run_id: run_id.to_string(),
        target: target.describe(),
        replay: replay_command(config, target, mail),
        config: config.clone(),
        baseline_bucket: names.baseline_bucket.clone(),
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
    // Refused before anything is made: a bad sweep, or AWS without a mailbox.
    let inbox = config
        .validate()
        .map_err(|e| e.to_string())
        .and_then(|()| mail.inbox(target));
    let inbox = match inbox {
        Ok(inbox) => inbox,
        Err(e) => {
            report.errors.push(e);
            return finish(report, config, &whole, sampler, started);
        }
    };
    let _ = writeln!(
        progress,
        "bench (seed {}, run {run_id}) on {}: {} point(s) of {} file(s)",
        config.seed,
        target.describe(),
        config.points().len(),
        config.files
    );
    let deploy_config = DeployConfig::new(handler_zip.to_vec(), run_address(email, &run_id));
    let mut stack = Stack::named(target, names.clone());
    match stack.deploy(&deploy_config, progress).await {
        Ok(deployment) => {
            let sweep = Sweep {
                target,
                config,
                deployment: &deployment,
                names: &names,
                sampler: &sampler,
                ticks,
            };
            if matches!(inbox, Inbox::S3 { .. }) {
                let _ = writeln!(
                    progress,
                    "  waiting for the subscription's confirmation mail"
                );
            }
            match RunMailbox::open(inbox, target, &deployment.email_address).await {
                Ok((mailbox, _subscription)) => sweep.sweep(mailbox, &mut report, progress).await,
                Err(e) => report.errors.push(e),
            }
        }
        Err(finding) => report.errors.push(finding.to_string()),
    }
    let torn = stack.teardown(progress).await;
    report
        .errors
        .extend(Finding::of_teardown(&torn).map(|f| f.to_string()));
    report.teardown = Some(torn);
    finish(report, config, &whole, sampler, started)
}

/// The figures that span the whole run: knees, CPU, memory, duration.
fn finish(
    mut report: BenchReport,
    config: &BenchConfig,
    whole: &Reading,
    sampler: RssSampler,
    started: Instant,
) -> BenchReport {
    report.knees = knees(config, &report.points);
    report.overhead.cpu_percent = whole.cpu_percent_since();
    let samples = sampler.stop();
    report.overhead.rss = overhead::summarize(&samples);
    report.overhead.rss_samples = overhead::downsample(&samples, 200);
    report.duration_ms = started.elapsed().as_millis() as u64;
    report
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::tests::point;
    use crate::run_target::TargetKind;

    /// Answers every request with a 500, as an account that must not be touched.
    #[derive(Debug)]
    struct Untouchable;

    impl aws_smithy_runtime_api::client::http::HttpConnector for Untouchable {
        fn call(
            &self,
            _request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
        ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
            let status = 500.try_into().expect("a valid status");
            let response = aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
                status,
                aws_smithy_types::body::SdkBody::empty(),
            );
            aws_smithy_runtime_api::client::http::HttpConnectorFuture::ready(Ok(response))
        }
    }

    #[tokio::test]
    async fn bench_on_aws_without_a_mailbox_is_refused_before_any_request() {
        use aws_smithy_runtime_api::client::http::{SharedHttpConnector, http_client_fn};
        let recorder = crate::recording::Recorder::new();
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("eu-west-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "AKIDEXAMPLE",
                "s3cr3t",
                None,
                None,
                "unit",
            ))
            .http_client(
                recorder.wrap(http_client_fn(|_, _| SharedHttpConnector::new(Untouchable))),
            )
            .load()
            .await;
        let aws = Target::with_sdk_config(TargetKind::Aws, "eu-west-1", None, sdk);
        let config = BenchConfig::with_seed(7);
        let mut progress = Vec::new();
        let report = run(
            &aws,
            b"zip",
            "alerts@example.com",
            &config,
            &MailSetup::Auto,
            None,
            &mut progress,
        )
        .await;
        let failures = report.failure_lines();
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(failures[0].contains("--mailbox-bucket"), "{failures:?}");
        assert!(report.teardown.is_none(), "nothing was deployed");
        assert!(recorder.requests().is_empty(), "{:?}", recorder.requests());
    }

    #[test]
    fn replay_names_every_sweep_flag_and_the_seed() {
        let config = BenchConfig {
            concurrency: vec![1, 3],
            sizes: vec![1024],
            files: 6,
            ..BenchConfig::with_seed(42)
        };
        let sdk = aws_config::SdkConfig::builder().build();
        let embedded = Target::with_sdk_config(TargetKind::Embedded, "us-east-1", None, sdk);
        assert_eq!(
            replay_command(&config, &embedded, &MailSetup::Auto),
            "harness --target embedded bench --concurrency 1,3 --sizes 1KiB --files 6 \
             --checks both --seed 42"
        );
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
