//! `harness run` and the scenario loop it shares with `harness chaos`: scenarios from
//! `scenarios/`, each run with its seed, every failure printed with its replay command, then the
//! summary, the divergences and the reports.

use crate::mailbox::MailSetup;
use crate::pipeline::{RunReport, Status, report};
use crate::run_target::{Target, TargetArgs};
use crate::scenario::Scenario;

use super::RunArgs;
use super::report_files::write_reports;
use super::stack::prepare;

pub(super) async fn run_scenarios(target_args: &TargetArgs, args: RunArgs) -> anyhow::Result<()> {
    let all = crate::scenario::load_dir(&crate::scenario::scenarios_dir())?;
    let chosen: Vec<_> = if args.scenarios.is_empty() {
        all
    } else {
        args.scenarios
            .iter()
            .map(|name| find_scenario(&all, name))
            .collect::<anyhow::Result<_>>()?
    };
    let seed = args.seed.unwrap_or_else(crate::stack::run_id::random_seed);
    eprintln!("seed {seed} (replay with --seed {seed})");
    let (target, config) = prepare(target_args, &args.stack).await?;
    let mail = args.mailbox.setup();
    let runs = chosen.iter().map(|scenario| (scenario, seed));
    let reports = Loop::new(&target, &config, &mail).run(runs, None).await;
    target.shutdown()?;
    println!("\n{}", report::summary_table(&reports));
    for r in reports.iter().filter(|r| r.status == Status::Skipped) {
        println!(
            "skipped {}: {}",
            r.scenario,
            r.skipped_reason.as_deref().unwrap_or("")
        );
    }
    print_divergences(&reports);
    let paths = write_reports(&args.report_dir, &reports)?;
    super::print_report_paths(&paths);
    let failed = reports
        .iter()
        .filter(|r| r.status == Status::Failed)
        .count();
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} scenario(s) failed (seed {seed})",
        reports.len()
    );
    nothing_skipped_only(&reports)
}

/// `Err(NothingProven)` when every report was skipped: a run that proved nothing never exits 0.
pub(super) fn nothing_skipped_only(reports: &[RunReport]) -> anyhow::Result<()> {
    if reports.iter().all(|r| r.status == Status::Skipped) {
        let reasons = reports
            .iter()
            .map(|r| {
                let why = r.skipped_reason.as_deref().unwrap_or("skipped");
                format!("{} (seed {}): {why}", r.scenario, r.seed)
            })
            .collect();
        return Err(super::NothingProven(reasons).into());
    }
    Ok(())
}

/// The one scenario loop: what every run of it shares.
pub(super) struct Loop<'a> {
    target: &'a Target,
    config: &'a crate::deploy::DeployConfig,
    mail: &'a MailSetup,
}

impl<'a> Loop<'a> {
    pub(super) fn new(
        target: &'a Target,
        config: &'a crate::deploy::DeployConfig,
        mail: &'a MailSetup,
    ) -> Self {
        Self {
            target,
            config,
            mail,
        }
    }

    /// Runs each `(scenario, seed)` in order, printing each failure with its replay command;
    /// with `stop_after`, stops at the first failure and numbers the runs out of that total.
    pub(super) async fn run(
        &self,
        runs: impl Iterator<Item = (&Scenario, u64)>,
        stop_after: Option<u64>,
    ) -> Vec<RunReport> {
        let mut reports = Vec::new();
        for (n, (scenario, seed)) in runs.enumerate() {
            if let Some(total) = stop_after.filter(|&total| total > 1) {
                eprintln!("[{}/{total}] seed {seed}", n + 1);
            }
            let report = crate::runner::run_scenario(
                self.target,
                scenario,
                seed,
                &self.config.handler_zip,
                &self.config.email,
                self.mail,
                &mut std::io::stderr(),
            )
            .await;
            let failed = report.status == Status::Failed;
            if failed {
                eprintln!("{}", crate::redact::secrets(&report.failure_message()));
            }
            reports.push(report);
            if failed && stop_after.is_some() {
                break;
            }
        }
        reports
    }
}

/// One line per divergence from AWS a run named, and per rule the oracle could not check, with
/// its scenario and seed: neither is a pass, so neither stays in the reports only.
pub(super) fn print_divergences(reports: &[RunReport]) {
    for r in reports {
        for d in &r.divergences {
            println!("divergence ({}, seed {}): {d}", r.scenario, r.seed);
        }
        for s in r.judgement.iter().flat_map(|j| &j.skipped) {
            println!("not checked ({}, seed {}): {s}", r.scenario, r.seed);
        }
    }
}

/// The scenario called `name` among `all`, or an error listing the known ones.
pub(super) fn find_scenario(all: &[Scenario], name: &str) -> anyhow::Result<Scenario> {
    match all.iter().find(|s| s.name == name) {
        Some(found) => Ok(found.clone()),
        None => {
            let known: Vec<_> = all.iter().map(|s| s.name.as_str()).collect();
            Err(
                super::UsageError(format!("no scenario `{name}`; known: {}", known.join(", ")))
                    .into(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_target::TargetKind;

    fn report(status: Status) -> RunReport {
        let scenario =
            crate::scenario::load_file(&crate::scenario::scenarios_dir().join("odd-keys.toml"))
                .unwrap();
        let sdk = aws_config::SdkConfig::builder().build();
        let aws = Target::with_sdk_config(TargetKind::Aws, "eu-west-1", None, sdk);
        let mut report = RunReport::new(&scenario, &aws, 7, &MailSetup::Auto);
        match status {
            Status::Skipped => report.skip("needs --mailbox-bucket".into()),
            _ => report.finish(std::time::Duration::ZERO),
        }
        report
    }

    #[test]
    fn regression_a_run_in_which_everything_was_skipped_is_not_a_success() {
        let all_skipped = [report(Status::Skipped), report(Status::Skipped)];
        let error = nothing_skipped_only(&all_skipped).unwrap_err();
        assert_eq!(super::super::exit_code(&error), 3);
        assert!(
            error
                .to_string()
                .contains("odd-keys (seed 7): needs --mailbox-bucket"),
            "{error}"
        );
        let one_proven = [report(Status::Skipped), report(Status::Passed)];
        assert!(nothing_skipped_only(&one_proven).is_ok());
    }
}
