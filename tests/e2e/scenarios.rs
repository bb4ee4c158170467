//! Every scenario in `scenarios/` as one trial on the embedded LocalStack (sorted, stable names,
//! filterable: `cargo test --test e2e -- scenario::overwrites`). Scenarios that cannot run on
//! the embedded target are listed as ignored (`--ignored` runs them, and they then report why
//! they are skipped). One seed for the whole test run, printed; `HARNESS_SEED=N` replays it.

use std::sync::OnceLock;

use harness::cli::report_files;
use harness::mailbox::MailSetup;
use harness::pipeline::Status;
use harness::runner;
use harness::scenario::{self, TargetName};
use libtest_mimic::{Failed, Trial};

use crate::shared;

/// The run's scenario seed (shared with `regressions::`, which runs scenarios too).
pub fn seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        let seed = std::env::var("HARNESS_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(harness::stack::run_id::random_seed);
        eprintln!(
            "scenario seed {seed} (replay: HARNESS_SEED={seed} cargo test --test e2e -- scenario::)"
        );
        seed
    })
}

pub fn trials() -> Vec<Trial> {
    let scenarios = match scenario::load_dir(&scenario::scenarios_dir()) {
        Ok(s) => s,
        Err(e) => {
            let message = e.to_string();
            return vec![Trial::test("scenario::load", move || Err(message.into()))];
        }
    };
    scenarios
        .into_iter()
        .map(|s| {
            let ignored = !s.runs_on(TargetName::Embedded);
            Trial::test(format!("scenario::{}", s.name), move || run(&s)).with_ignored_flag(ignored)
        })
        .collect()
}

fn run(scenario: &scenario::Scenario) -> Result<(), Failed> {
    let shared = shared::get()?;
    let seed = seed();
    let mut log = Vec::new();
    // A scenario that restarts LocalStack gets one of its own: the shared one serves the other
    // trials, which run at the same time.
    let private = if scenario.chaos.iter().any(|f| f.needs_owned_localstack()) {
        Some(shared.private_target()?)
    } else {
        None
    };
    let target = private.as_ref().unwrap_or(shared.target());
    let report = shared.runtime.block_on(runner::run_scenario(
        target,
        scenario,
        seed,
        &shared.bootstrap_zip,
        "alerts@example.com",
        &MailSetup::Auto,
        &mut log,
    ));
    if let Some(private) = private {
        private
            .shutdown()
            .map_err(|e| format!("stopping the scenario's own LocalStack: {e}"))?;
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("scenario-reports");
    let _ = report_files::write_reports(&dir.join(&scenario.name), std::slice::from_ref(&report));
    match report.status {
        Status::Passed => Ok(()),
        Status::Skipped => Err(format!(
            "scenario {} was skipped on the embedded target: {}",
            scenario.name,
            report.skipped_reason.unwrap_or_default()
        )
        .into()),
        Status::Failed => Err(format!(
            "{}\n--- progress ---\n{}",
            report.failure_message(),
            String::from_utf8_lossy(&log)
        )
        .into()),
    }
}
