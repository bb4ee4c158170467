//! Runs one scenario against a target: deploy a fresh stack, upload the seeded workload, collect
//! every delivery, judge it with the oracle, tear down, and report.
//!
//! The seed drives every random choice of the workload and is in every report with the command
//! that replays the run. The stack is torn down whatever happened, and a teardown that leaves
//! anything behind fails the run.

pub mod collect;
mod documented;
mod encryption;
pub mod report;
pub mod upload;

use std::time::{Duration, Instant};

use crate::chaos::ChaosSetup;
use crate::deploy::{self, DeployConfig, teardown::teardown};
use crate::localstack::session::SessionWatch;
use crate::mailbox::s3::await_confirmation;
use crate::mailbox::{LocalStackSes, Mailbox, S3Mailbox};
use crate::oracle::{self, Expect};
use crate::scenario::{Scenario, ScenarioKind, TargetName};
use crate::stack::{RunId, StackNames};
use crate::target::{Target, TargetKind};
use crate::workload;

pub(crate) use encryption::check_encryption_at_rest;
use encryption::probe_encryption_enforcement;
pub use report::{RunReport, Status};

/// Where a run reads the email alerts back.
#[derive(Debug, Clone, Default)]
pub enum MailSetup {
    /// LocalStack's SES introspection on LocalStack targets; nothing on AWS (the pipeline
    /// scenarios are then skipped, with that reason).
    #[default]
    Auto,
    /// An S3 bucket an SES receipt rule stores incoming mail in (for AWS, with a verified domain:
    /// the alert address must be on it). The run confirms the email subscription from the
    /// confirmation mail before uploading.
    S3 { bucket: String, prefix: String },
}

/// A [`MailSetup`] resolved for a target: where its alerts are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbox<'a> {
    /// LocalStack's SES introspection at this endpoint.
    LocalStack(&'a str),
    /// The S3 mailbox.
    S3 { bucket: &'a str, prefix: &'a str },
}

impl MailSetup {
    /// Where the alerts are read on `target`; `Err` says how to fix AWS without a mailbox.
    pub fn inbox<'a>(&'a self, target: &'a Target) -> Result<Inbox<'a>, String> {
        match (self, target.endpoint_url.as_deref()) {
            (Self::S3 { bucket, prefix }, _) => Ok(Inbox::S3 { bucket, prefix }),
            (Self::Auto, Some(endpoint)) => Ok(Inbox::LocalStack(endpoint)),
            (Self::Auto, None) => Err("reading the email alerts back on AWS needs a mailbox: \
                 pass --mailbox-bucket (an SES receipt-rule bucket for the alert address's \
                 verified domain)"
                .into()),
        }
    }

    /// The flags that choose this mailbox again, for replay commands (none for the default).
    pub fn replay_flags(&self) -> String {
        match self {
            Self::Auto => String::new(),
            Self::S3 { bucket, prefix } if prefix.is_empty() => {
                format!(" --mailbox-bucket {bucket}")
            }
            Self::S3 { bucket, prefix } => {
                format!(" --mailbox-bucket {bucket} --mailbox-prefix {prefix:?}")
            }
        }
    }
}

/// `user+<run>@domain`: one address per run, so mail of other runs is never counted.
pub fn run_address(email: &str, run_id: &RunId) -> String {
    match email.split_once('@') {
        Some((user, domain)) => format!("{user}+{run_id}@{domain}"),
        None => format!("{email}+{run_id}"),
    }
}

/// The scenario-facing name of a target kind.
pub fn target_name(kind: TargetKind) -> TargetName {
    match kind {
        TargetKind::Embedded => TargetName::Embedded,
        TargetKind::Localstack => TargetName::Localstack,
        TargetKind::Aws => TargetName::Aws,
    }
}

/// The command that replays a run: the same target, scenario, seed and mailbox.
pub fn replay_command(scenario: &str, seed: u64, target: &Target, mail: &MailSetup) -> String {
    format!(
        "harness {} run --scenario {scenario} --seed {seed}{}",
        target.replay_flags(),
        mail.replay_flags()
    )
}

/// Runs `scenario` on `target` with `seed`, alerts going to a per-run address derived from
/// `email` and read back through `mail`; never panics, every problem is in the report.
pub async fn run_scenario(
    target: &Target,
    scenario: &Scenario,
    seed: u64,
    handler_zip: &[u8],
    email: &str,
    mail: &MailSetup,
    progress: &mut (dyn std::io::Write + Send),
) -> RunReport {
    let started = Instant::now();
    let mut report = RunReport::new(scenario, target, seed, mail);
    if !scenario.runs_on(target_name(target.kind)) {
        report.skip(format!(
            "scenario `{}` does not run on target {:?} (its targets: {:?})",
            scenario.name, target.kind, scenario.targets
        ));
        return report;
    }
    let run_id = RunId::random();
    let names = StackNames::with_default_prefix(&run_id);
    report.run_id = run_id.to_string();
    let _ = writeln!(
        progress,
        "scenario {} (seed {seed}, run {run_id}) on {}",
        scenario.name,
        target.describe()
    );
    let mut config = DeployConfig::new(handler_zip.to_vec(), run_address(email, &run_id));
    config.fifo_grouping = scenario.stack.fifo_grouping.as_str().to_owned();
    // Chaos: the fault proxy must run before the deploy points the function at it.
    let chaos = if scenario.chaos.is_empty() {
        None
    } else {
        match ChaosSetup::prepare(target, scenario, seed).await {
            Ok(setup) => {
                config.function_env = setup.function_env();
                Some(setup)
            }
            Err(reason) => {
                report.skip(reason);
                report.finish(started.elapsed());
                return report;
            }
        }
    };
    match deploy::deploy(target, &names, &config, progress).await {
        Ok((deployment, _)) => match scenario.kind {
            ScenarioKind::Pipeline => match mail.inbox(target) {
                Ok(Inbox::S3 { bucket, prefix }) => {
                    let mut mailbox =
                        S3Mailbox::new(target.s3(), bucket.to_owned(), prefix.to_owned());
                    if confirm_subscription(target, &mut mailbox, &deployment, &mut report).await {
                        pipeline(
                            target,
                            scenario,
                            seed,
                            &deployment,
                            &mut mailbox,
                            chaos.as_ref(),
                            &mut report,
                            progress,
                        )
                        .await
                    }
                }
                Ok(Inbox::LocalStack(endpoint)) => {
                    let mut mailbox =
                        LocalStackSes::new(endpoint).consuming(&deployment.email_address);
                    pipeline(
                        target,
                        scenario,
                        seed,
                        &deployment,
                        &mut mailbox,
                        chaos.as_ref(),
                        &mut report,
                        progress,
                    )
                    .await
                }
                Err(reason) => report.skip(reason),
            },
            ScenarioKind::RegionMismatch => {
                documented::region_mismatch(target, scenario, &deployment, &mut report, progress)
                    .await
            }
            ScenarioKind::FifoMissingGroupId => {
                documented::fifo_missing_group_id(
                    target,
                    scenario,
                    &deployment,
                    &mut report,
                    progress,
                )
                .await
            }
        },
        Err(e) => report.errors.push(format!("deploy: {e}")),
    }
    let torn = teardown(target, &names, progress).await;
    if !torn.is_clean() {
        report.errors.push(format!(
            "teardown left errors {:?} and resources {:?}",
            torn.errors, torn.leftovers
        ));
    }
    report.finish(started.elapsed());
    report
}

/// AWS sends a confirmation mail first; confirm from it (within the delivery deadline) so the
/// alerts are delivered at all. Returns false (with the failure in the report) when it never came.
async fn confirm_subscription(
    target: &Target,
    mailbox: &mut S3Mailbox,
    deployment: &deploy::Deployment,
    report: &mut RunReport,
) -> bool {
    let confirmed = await_confirmation(
        &target.sns(),
        mailbox,
        &deployment.email_address,
        CONFIRMATION_DEADLINE,
    )
    .await;
    let ok = confirmed.is_ok();
    report.check(
        "email subscription confirmed from its confirmation mail",
        ok,
        confirmed.unwrap_or_else(|e| e),
    );
    ok
}

/// How long AWS's subscription confirmation mail may take to land in the S3 mailbox.
pub(crate) const CONFIRMATION_DEADLINE: Duration = Duration::from_secs(180);

/// The main scenario kind: upload the workload and prove every delivery (with the scenario's
/// faults, if it has any).
#[allow(clippy::too_many_arguments)]
async fn pipeline<M: Mailbox>(
    target: &Target,
    scenario: &Scenario,
    seed: u64,
    deployment: &deploy::Deployment,
    mailbox: &mut M,
    chaos: Option<&ChaosSetup>,
    report: &mut RunReport,
    progress: &mut (dyn std::io::Write + Send),
) {
    if let Some(setup) = chaos {
        crate::chaos::driver::run(
            target, scenario, seed, deployment, mailbox, setup, report, progress,
        )
        .await;
        return;
    }
    // A `-` (not `/`) after the run id, so with prefix grouping the top-level prefixes differ.
    let plan = workload::plan(&scenario.workload, seed, &format!("{}-", deployment.run_id));
    // On LocalStack, a restart under the run loses the stack: notice it instead of blaming the
    // pipeline for what it took.
    let watch = match watch_localstack(target).await {
        Ok(watch) => watch,
        Err(e) => {
            report.errors.push(e);
            return;
        }
    };
    let epoch = Instant::now();
    let _ = writeln!(
        progress,
        "  uploading {} files (concurrency {})",
        plan.len(),
        scenario.workload.concurrency
    );
    let uploads = match upload::upload_all(
        &target.s3(),
        &deployment.bucket,
        &plan,
        scenario.workload.concurrency,
        epoch,
    )
    .await
    {
        Ok(uploads) => uploads,
        Err(e) => {
            report.errors.push(format!("upload: {e}"));
            return;
        }
    };
    report.uploads = uploads.clone();
    check_encryption_at_rest(target, deployment, &uploads, report).await;
    let wanted = collect::Wanted {
        fifo: uploads.len(),
        mails: uploads.len(),
        failures: scenario.expect.failures,
        or_failed: 0,
    };
    let _ = writeln!(
        progress,
        "  collecting deliveries (up to {} s)",
        scenario.expect.delivery_deadline_s
    );
    let collected = collect::collect(
        &target.sqs(),
        collect::Sources::of(deployment),
        mailbox,
        wanted,
        epoch,
        Duration::from_secs(scenario.expect.delivery_deadline_s),
    )
    .await;
    if let Some(watch) = &watch
        && let Err(e) = watch.check().await
    {
        report.errors.push(e.to_string());
        return;
    }
    let collected = match collected {
        Ok(c) => c,
        Err(e) => {
            report.errors.push(format!("collect: {e}"));
            return;
        }
    };
    if collected.timed_out {
        report.errors.push(format!(
            "not everything arrived within {} s: {} of {} FIFO messages, {} of {} emails",
            scenario.expect.delivery_deadline_s,
            collected.fifo.len(),
            wanted.fifo,
            collected.mails.len(),
            wanted.mails
        ));
    }
    let expect = scenario_expect(target, scenario, deployment);
    let judgement = oracle::judge(
        &expect,
        &uploads,
        &collected.fifo,
        &collected.mails,
        &collected.failures,
    );
    report.judgement = Some(judgement);
    // After collection, so the probe's own delivery cannot disturb the judgement.
    probe_encryption_enforcement(target, deployment, report).await;
}

/// The session of the target's LocalStack, to notice a restart later (`None` on AWS).
pub(crate) async fn watch_localstack(target: &Target) -> Result<Option<SessionWatch>, String> {
    match &target.endpoint_url {
        Some(endpoint) => SessionWatch::start(endpoint)
            .await
            .map(Some)
            .map_err(|e| e.to_string()),
        None => Ok(None),
    }
}

/// What the oracle expects of every delivery of `scenario` on `deployment`.
pub(crate) fn scenario_expect(
    target: &Target,
    scenario: &Scenario,
    deployment: &deploy::Deployment,
) -> Expect {
    Expect {
        bucket: deployment.bucket.clone(),
        kms_key_arn: deployment.kms_key_arn.clone(),
        email: deployment.email_address.clone(),
        verdict: scenario.expect.verdict.clone(),
        failures_expected: scenario.expect.failures,
        sequencer_orders_overwrites: target.kind == TargetKind::Aws,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_run_gets_its_own_alert_address() {
        let run = RunId::from_seed(42);
        assert_eq!(
            run_address("alerts@mail.example.org", &run),
            format!("alerts+{run}@mail.example.org")
        );
        assert_ne!(
            run_address("a@b.c", &RunId::from_seed(1)),
            run_address("a@b.c", &RunId::from_seed(2))
        );
    }

    #[test]
    fn the_inbox_is_localstacks_own_or_the_s3_mailbox_and_aws_needs_one() {
        let sdk = aws_config::SdkConfig::builder().build();
        let local = Target::with_sdk_config(
            TargetKind::Localstack,
            "us-east-1",
            Some("http://ls"),
            sdk.clone(),
        );
        let aws = Target::with_sdk_config(TargetKind::Aws, "eu-west-1", None, sdk);
        assert_eq!(
            MailSetup::Auto.inbox(&local),
            Ok(Inbox::LocalStack("http://ls"))
        );
        let err = MailSetup::Auto.inbox(&aws).unwrap_err();
        assert!(err.contains("--mailbox-bucket"), "{err}");
        let s3 = MailSetup::S3 {
            bucket: "inbox".into(),
            prefix: "p/".into(),
        };
        for target in [&local, &aws] {
            assert_eq!(
                s3.inbox(target),
                Ok(Inbox::S3 {
                    bucket: "inbox",
                    prefix: "p/"
                })
            );
        }
    }

    #[test]
    fn replay_command_names_scenario_seed_target_and_mailbox() {
        let sdk = aws_config::SdkConfig::builder().build();
        let embedded =
            Target::with_sdk_config(TargetKind::Embedded, "us-east-1", None, sdk.clone());
        assert_eq!(
            replay_command("overwrites", 7, &embedded, &MailSetup::Auto),
            "harness --target embedded run --scenario overwrites --seed 7"
        );
        let shared = Target::with_sdk_config(
            TargetKind::Localstack,
            "us-east-1",
            Some("http://ls:4566"),
            sdk.clone(),
        );
        assert_eq!(
            replay_command("overwrites", 7, &shared, &MailSetup::Auto),
            "harness --target localstack --endpoint-url http://ls:4566 run --scenario overwrites \
             --seed 7"
        );
        let aws = Target::with_sdk_config(TargetKind::Aws, "eu-west-1", None, sdk);
        let mail = MailSetup::S3 {
            bucket: "inbox".into(),
            prefix: "mail/ x".into(),
        };
        assert_eq!(
            replay_command("big-files", 1, &aws, &mail),
            "harness --target aws --region eu-west-1 run --scenario big-files --seed 1 \
             --mailbox-bucket inbox --mailbox-prefix \"mail/ x\""
        );
    }
}
