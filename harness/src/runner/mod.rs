//! Runs one scenario against a target: a fresh stack, the seeded workload uploaded, every
//! delivery collected and judged by the oracle, torn down, reported. The pieces are the
//! pipeline layer's ([`crate::pipeline`]); this module decides what a scenario of each kind does
//! with them: a plain run here, the original system's documented failures in `documented`, and
//! chaos runs in [`crate::chaos::driver`].
//!
//! The seed drives every random choice of the workload and is in every report with the command
//! that replays the run. The stack is torn down whatever happened, and a teardown that leaves
//! anything behind fails the run.

mod documented;

use std::time::{Duration, Instant};

use crate::chaos::ChaosSetup;
use crate::deploy::{DeployConfig, Deployment};
use crate::localstack::Emulator;
use crate::mailbox::{Inbox, MailSetup, run_address};
use crate::oracle;
use crate::pipeline::encryption::{Enforcement, probe_encryption_enforcement};
use crate::pipeline::{Finding, Run, RunReport, Stack, Wanted, key_prefix};
use crate::run_target::{Target, TargetKind};
use crate::scenario::{Scenario, ScenarioKind, TargetName};
use crate::workload;

/// The scenario-facing name of a target kind.
pub fn target_name(kind: TargetKind) -> TargetName {
    match kind {
        TargetKind::Embedded => TargetName::Embedded,
        TargetKind::Localstack => TargetName::Localstack,
        TargetKind::Ministack => TargetName::Ministack,
        TargetKind::Aws => TargetName::Aws,
    }
}

/// Why `scenario` cannot run on `target` with `mail`, decided before anything is deployed.
fn skip_reason(target: &Target, scenario: &Scenario, mail: &MailSetup) -> Option<String> {
    if !scenario.runs_on(target_name(target.kind)) {
        return Some(format!(
            "scenario `{}` does not run on target {:?} (its targets: {:?})",
            scenario.name, target.kind, scenario.targets
        ));
    }
    let unobservable = mail.unobservable(target);
    if target.emulator() == Some(Emulator::MiniStack) && !scenario.chaos.is_empty() {
        return Some(format!(
            "scenario `{}` injects faults, which are not proven on MiniStack yet",
            scenario.name
        ));
    }
    match scenario.kind {
        // Where no email can be read at all, everything else is still proven.
        ScenarioKind::Pipeline if unobservable.is_some() => None,
        ScenarioKind::Pipeline => mail.inbox(target).err(),
        ScenarioKind::RegionMismatch | ScenarioKind::FifoMissingGroupId => None,
    }
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
    if let Some(reason) = skip_reason(target, scenario, mail) {
        report.skip(reason);
        return report;
    }
    let mut stack = Stack::new(target);
    let run_id = stack.run_id().clone();
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
    match stack.deploy(&config, progress).await {
        Ok(deployment) => {
            exercise(
                target,
                scenario,
                seed,
                mail,
                &deployment,
                chaos,
                &mut report,
                progress,
            )
            .await
        }
        Err(finding) => report.fail(finding),
    }
    let torn = stack.teardown(progress).await;
    report.errors.extend(Finding::of_teardown(&torn));
    report.finish(started.elapsed());
    report
}

/// The check an S3 mailbox's run makes before it uploads anything.
const CONFIRMED: &str = "email subscription confirmed from its confirmation mail";

/// What a scenario of each kind does with its deployed stack.
#[allow(clippy::too_many_arguments)]
async fn exercise(
    target: &Target,
    scenario: &Scenario,
    seed: u64,
    mail: &MailSetup,
    deployment: &Deployment,
    chaos: Option<ChaosSetup>,
    report: &mut RunReport,
    progress: &mut (dyn std::io::Write + Send),
) {
    match scenario.kind {
        ScenarioKind::Pipeline => {
            let unobservable = mail.unobservable(target);
            let inbox = match (mail.inbox(target), unobservable) {
                (Ok(inbox), _) => Some(inbox),
                (Err(_), Some(_)) => None,
                (Err(reason), None) => return report.fail(Finding::Mailbox(reason)),
            };
            let epoch = chaos.as_ref().map_or_else(Instant::now, |c| c.epoch);
            let confirming = matches!(inbox, Some(Inbox::S3 { .. }));
            let mut run = match Run::start(target, deployment, inbox, epoch).await {
                Ok(run) => run,
                Err(Finding::Mailbox(why)) if confirming => {
                    return report.check(CONFIRMED, false, why);
                }
                Err(finding) => return report.fail(finding),
            };
            if let Some(subscription) = &run.confirmed_subscription {
                report.check(CONFIRMED, true, subscription.clone());
            }
            run.email_unobservable = unobservable.map(str::to_owned);
            match chaos {
                Some(setup) => {
                    crate::chaos::driver::run(run, scenario, seed, &setup, report, progress).await
                }
                None => pipeline(run, scenario, seed, report, progress).await,
            }
        }
        ScenarioKind::RegionMismatch => {
            documented::region_mismatch(target, scenario, deployment, report, progress).await
        }
        ScenarioKind::FifoMissingGroupId => {
            documented::fifo_missing_group_id(target, scenario, deployment, report, progress).await
        }
    }
}

/// The main scenario kind without faults: upload the workload and prove every delivery.
async fn pipeline(
    mut run: Run<'_>,
    scenario: &Scenario,
    seed: u64,
    report: &mut RunReport,
    progress: &mut (dyn std::io::Write + Send),
) {
    let plan = workload::plan(&scenario.workload, seed, &key_prefix(run.deployment));
    let _ = writeln!(
        progress,
        "  uploading {} files (concurrency {})",
        plan.len(),
        scenario.workload.concurrency
    );
    let uploads = match run.upload(&plan, scenario.workload.concurrency).await {
        Ok(uploads) => uploads,
        Err(finding) => return report.fail(finding),
    };
    report.uploads = uploads.clone();
    report
        .checks
        .push(run.check_encryption_at_rest(&uploads).await);
    if run.target.emulator() == Some(Emulator::MiniStack) {
        report.divergences.push(
            "MiniStack's HeadObject does not report the Bucket Key: whether it is on is not \
             checked there"
                .into(),
        );
    }
    let wanted = Wanted {
        fifo: uploads.len(),
        // Nothing to wait for where no email can be read.
        mails: if run.email_unobservable.is_some() {
            0
        } else {
            uploads.len()
        },
        failures: scenario.expect.failures,
        or_failed: 0,
    };
    let deadline_s = scenario.expect.delivery_deadline_s;
    let _ = writeln!(progress, "  collecting deliveries (up to {deadline_s} s)");
    let collected = run.collect(wanted, Duration::from_secs(deadline_s)).await;
    // A restart explains a shortfall better than the shortfall itself.
    if let Err(finding) = run.same_emulator().await {
        return report.fail(finding);
    }
    let collected = match collected {
        Ok(c) => c,
        Err(finding) => return report.fail(finding),
    };
    if collected.timed_out {
        report.fail(Finding::Undelivered {
            deadline_s,
            fifo: collected.fifo.len(),
            mails: collected.mails.len(),
            failures: collected.failures.len(),
            uploads: uploads.len(),
        });
    }
    let judgement = oracle::judge(
        &run.expect(scenario),
        &uploads,
        &collected.fifo,
        &collected.mails,
        &collected.failures,
    );
    report.judgement = Some(judgement);
    // After collection, so the probe's own delivery cannot disturb the judgement.
    match probe_encryption_enforcement(run.target, run.deployment).await {
        Enforcement::Checked(check) => report.checks.push(check),
        Enforcement::Divergence(what) => report.divergences.push(what),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(name: &str) -> Scenario {
        let dir = crate::scenario::scenarios_dir();
        crate::scenario::load_file(&dir.join(format!("{name}.toml"))).unwrap()
    }

    #[test]
    fn a_pipeline_scenario_on_aws_without_a_mailbox_is_skipped_before_the_deploy() {
        let sdk = aws_config::SdkConfig::builder().build();
        let aws = Target::with_sdk_config(TargetKind::Aws, "eu-west-1", None, sdk);
        let reason = skip_reason(&aws, &scenario("odd-keys"), &MailSetup::Auto).unwrap();
        assert!(reason.contains("--mailbox-bucket"), "{reason}");
        let mailbox = MailSetup::S3 {
            bucket: "inbox".into(),
            prefix: String::new(),
        };
        assert_eq!(skip_reason(&aws, &scenario("odd-keys"), &mailbox), None);
        // The documented failures read no mail: they run on AWS without a mailbox.
        assert_eq!(
            skip_reason(&aws, &scenario("region-mismatch"), &MailSetup::Auto),
            None
        );
    }

    #[test]
    fn on_ministack_a_pipeline_scenario_runs_without_email_and_a_chaos_one_is_skipped() {
        let sdk = aws_config::SdkConfig::builder().build();
        let ministack =
            Target::with_sdk_config(TargetKind::Ministack, "us-east-1", Some("http://ms"), sdk);
        assert_eq!(
            skip_reason(&ministack, &scenario("odd-keys"), &MailSetup::Auto),
            None
        );
        let mut chaos = scenario("chaos-kms-disabled");
        chaos.targets.push(TargetName::Ministack);
        let reason = skip_reason(&ministack, &chaos, &MailSetup::Auto).unwrap();
        assert!(reason.contains("not proven on MiniStack"), "{reason}");
    }
}
