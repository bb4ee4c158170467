//! The scenarios must catch the bugs they exist for: a deliberately broken handler is deployed
//! in place of the real one, and the run has to fail with a message that names the cause.
//!
//! Broken handlers are built with test-only cargo features of the `handler` crate into their own
//! target directory (`<target>/fault-builds`), so they never replace the normal `bootstrap` that
//! other trials deploy.

use std::path::PathBuf;

use harness::artifact::{self, BuildProfile};
use harness::runner::{self, Status, report};
use harness::scenario;
use libtest_mimic::{Failed, Trial};

use crate::{scenarios, shared};

/// SNS's text when a FIFO publish has no `MessageGroupId` (the original system's bug).
const GROUP_ID_REQUIRED: &str = "The MessageGroupId parameter is required for FIFO topics";

pub fn trials() -> Vec<Trial> {
    vec![Trial::test(
        "regressions::handler_built_without_fifo_group_id_is_caught_by_the_default_scenario",
        handler_built_without_fifo_group_id_is_caught_by_the_default_scenario,
    )]
}

fn handler_built_without_fifo_group_id_is_caught_by_the_default_scenario() -> Result<(), Failed> {
    let zip = broken_handler("fault-omit-group-id")?;
    let mut scenario =
        scenario::load_file(&artifact::workspace_root().join("scenarios/default.toml"))?;
    // No FIFO message ever arrives, so collection runs to the deadline; the on-failure records
    // (after LocalStack's two retries, 1 s and 2 s apart) arrive well within this.
    scenario.expect.delivery_deadline_s = 30;
    let shared = shared::get()?;
    let mut log = Vec::new();
    let report = shared.runtime.block_on(runner::run_scenario(
        shared.target(),
        &scenario,
        scenarios::seed(),
        &zip,
        "alerts@example.com",
        &runner::MailSetup::Auto,
        &mut log,
    ));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("regression-reports");
    let _ = report::write_reports(
        &dir.join("fault-omit-group-id"),
        std::slice::from_ref(&report),
    );
    let message = report.failure_message();
    let progress = String::from_utf8_lossy(&log);
    if report.status != Status::Failed {
        return Err(format!(
            "the default scenario did not catch a handler that omits MessageGroupId: status \
             {:?}\n--- progress ---\n{progress}",
            report.status
        )
        .into());
    }
    if !message.contains(GROUP_ID_REQUIRED) {
        return Err(format!(
            "the default scenario failed, but its message does not name the cause \
             ({GROUP_ID_REQUIRED:?}):\n{message}\n--- progress ---\n{progress}"
        )
        .into());
    }
    eprintln!("caught as expected:\n{message}");
    Ok(())
}

/// The handler's deployment package built with the test-only fault `feature` (dev profile).
fn broken_handler(feature: &str) -> Result<Vec<u8>, Failed> {
    let dir = artifact::target_directory()?.join("fault-builds");
    let bootstrap = artifact::build_bootstrap_with(BuildProfile::Dev, &[feature], Some(&dir))?;
    Ok(artifact::zip_bootstrap(&bootstrap)?)
}
