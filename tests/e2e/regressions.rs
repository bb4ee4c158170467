//! The scenarios must catch the bugs they exist for: a deliberately broken handler is deployed
//! in place of the real one, and the run has to fail with a message that names the cause.
//!
//! Broken handlers are built with test-only cargo features of the `handler` crate into their own
//! target directory (`<target>/fault-builds`), so they never replace the normal `bootstrap` that
//! other trials deploy. Each test is named after the bug it reproduces.

use std::path::PathBuf;
use std::sync::Mutex;

use harness::artifact::{self, BuildProfile};
use harness::cli::report_files;
use harness::mailbox::MailSetup;
use harness::pipeline::Status;
use harness::runner;
use harness::scenario;
use libtest_mimic::{Failed, Trial};

use crate::{scenarios, shared};

/// SNS's text when a FIFO publish has no `MessageGroupId` (the original system's bug).
const GROUP_ID_REQUIRED: &str = "The MessageGroupId parameter is required for FIFO topics";

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "regressions::handler_built_without_fifo_group_id_is_caught_by_the_default_scenario",
            handler_built_without_fifo_group_id_is_caught_by_the_default_scenario,
        ),
        Trial::test(
            "regressions::handler_with_random_dedup_ids_is_caught_by_chaos_redelivery",
            handler_with_random_dedup_ids_is_caught_by_chaos_redelivery,
        ),
    ]
}

fn handler_built_without_fifo_group_id_is_caught_by_the_default_scenario() -> Result<(), Failed> {
    let mut scenario = load("default")?;
    // No FIFO message ever arrives, so collection runs to the deadline; the on-failure records
    // (after LocalStack's two retries, 1 s and 2 s apart) arrive well within this.
    scenario.expect.delivery_deadline_s = 30;
    let message = caught(&scenario, "fault-omit-group-id")?;
    if !message.contains(GROUP_ID_REQUIRED) {
        return Err(format!(
            "the default scenario failed, but its message does not name the cause \
             ({GROUP_ID_REQUIRED:?}):\n{message}"
        )
        .into());
    }
    Ok(())
}

/// A handler that gives every FIFO publish a fresh deduplication id passes a plain run (each
/// object is published once), so only redelivered S3 events expose it: the queue then holds
/// one message per delivery, and chaos-redelivery must say so.
fn handler_with_random_dedup_ids_is_caught_by_chaos_redelivery() -> Result<(), Failed> {
    let scenario = load("chaos-redelivery")?;
    let message = caught(&scenario, "fault-random-dedup-id")?;
    if !message.contains("FIFO messages, expected exactly 1") {
        return Err(format!(
            "chaos-redelivery failed, but not on duplicated FIFO messages:\n{message}"
        )
        .into());
    }
    if !message.contains("every S3 event redelivered") {
        return Err(format!("the violation does not name the active fault:\n{message}").into());
    }
    Ok(())
}

fn load(name: &str) -> Result<scenario::Scenario, Failed> {
    let path = scenario::scenarios_dir().join(format!("{name}.toml"));
    Ok(scenario::load_file(&path)?)
}

/// Runs `scenario` with the handler built with `fault`; it must fail. Returns the failure
/// message (the reports are kept under the test's temporary directory).
fn caught(scenario: &scenario::Scenario, fault: &str) -> Result<String, Failed> {
    let zip = broken_handler(fault)?;
    let shared = shared::get()?;
    let mut log = Vec::new();
    let report = shared.runtime.block_on(runner::run_scenario(
        shared.target(),
        scenario,
        scenarios::seed(),
        &zip,
        "alerts@example.com",
        &MailSetup::Auto,
        &mut log,
    ));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("regression-reports");
    let _ = report_files::write_reports(&dir.join(fault), std::slice::from_ref(&report));
    let message = report.failure_message();
    if report.status != Status::Failed {
        return Err(format!(
            "scenario {} did not catch the handler built with `{fault}`: status {:?}\n\
             --- progress ---\n{}",
            scenario.name,
            report.status,
            String::from_utf8_lossy(&log)
        )
        .into());
    }
    eprintln!("`{fault}` caught as expected:\n{message}");
    Ok(message)
}

/// The handler's deployment package built with the test-only fault `feature` (dev profile).
///
/// Every fault build shares one target directory (so the dependencies compile once) and cargo
/// copies each to the same `debug/bootstrap`, so building and zipping is one step under a lock.
fn broken_handler(feature: &str) -> Result<Vec<u8>, Failed> {
    static BUILD: Mutex<()> = Mutex::new(());
    let _one_at_a_time = BUILD
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = artifact::target_directory()?.join("fault-builds");
    let bootstrap = artifact::build_bootstrap_with(BuildProfile::Dev, &[feature], Some(&dir))?;
    Ok(artifact::zip_bootstrap(&bootstrap)?)
}
