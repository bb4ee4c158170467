//! The second emulator, MiniStack, through the real CLI: `harness --target ministack check`
//! provisions and starts one of its own (pinned venv, loopback port), proves the pipeline on it
//! with the real `bootstrap`, skips the email check with MiniStack's reason (its SNS email
//! subscriptions are a stub), and leaves no process behind; and an endpoint that is not a
//! MiniStack is refused before anything is deployed.

use std::path::Path;
use std::process::Command;

use libtest_mimic::{Failed, Trial};

use crate::shared;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "ministack::harness_check_proves_the_pipeline_and_skips_only_the_email",
            harness_check_proves_the_pipeline_and_skips_only_the_email,
        ),
        Trial::test(
            "ministack::an_endpoint_that_is_not_ministack_is_refused",
            an_endpoint_that_is_not_ministack_is_refused,
        ),
        Trial::test(
            "ministack::harness_run_passes_every_scenario_that_applies",
            harness_run_passes_every_scenario_that_applies,
        ),
    ]
}

fn harness(state_dir: &Path, args: &[&str]) -> Result<std::process::Output, Failed> {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .env("HARNESS_STATE_DIR", state_dir)
        .env_remove("HARNESS_TARGET")
        .output()
        .map_err(|e| format!("running harness {args:?}: {e}").into())
}

fn harness_check_proves_the_pipeline_and_skips_only_the_email() -> Result<(), Failed> {
    let state = tempfile::tempdir().map_err(|e| e.to_string())?;
    let out = harness(
        state.path(),
        &["--target", "ministack", "check", "--handler-build", "dev"],
    )?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(format!(
            "harness check on MiniStack failed ({}):\n{stdout}\n{stderr}",
            out.status
        )
        .into());
    }
    for line in [
        "ok  upload arrives once in the FIFO queue, encrypted with our key",
        "ok  standard topic is encrypted with our key",
        "ok  teardown leaves nothing",
        // The skipped email check is not counted among those that held.
        "checks held, 1 skipped",
    ] {
        if !stdout.contains(line) {
            return Err(format!("`harness check` on MiniStack lacks `{line}`:\n{stdout}").into());
        }
    }
    let email = stdout
        .lines()
        .find(|l| l.contains("email alert"))
        .unwrap_or_default();
    if !(email.starts_with("skip") && email.contains("stub")) {
        return Err(format!(
            "the email check is not skipped with MiniStack's reason: {email:?}\n{stdout}"
        )
        .into());
    }
    if !stderr.contains("MiniStack healthy at http://127.0.0.1:") {
        return Err(format!("no embedded MiniStack was started on loopback:\n{stderr}").into());
    }
    let left = processes_under(state.path());
    if !left.is_empty() {
        return Err(format!("processes left running under the state dir: {left:?}").into());
    }
    Ok(())
}

/// `harness --target ministack run`: every scenario that applies there (all but the chaos ones,
/// which are not proven on MiniStack yet) passes, with the email rules skipped and said why.
fn harness_run_passes_every_scenario_that_applies() -> Result<(), Failed> {
    let state = tempfile::tempdir().map_err(|e| e.to_string())?;
    let reports = state.path().join("reports");
    let reports_arg = reports.display().to_string();
    let out = harness(
        state.path(),
        &[
            "--target",
            "ministack",
            "run",
            "--handler-build",
            "dev",
            "--report-dir",
            &reports_arg,
        ],
    )?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(format!(
            "harness run on MiniStack failed ({}):\n{stdout}\n{stderr}",
            out.status
        )
        .into());
    }
    let passed = stdout
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("passed"))
        .count();
    let skipped_chaos = stdout
        .lines()
        .filter(|l| l.starts_with("chaos-") && l.split_whitespace().nth(1) == Some("skipped"))
        .count();
    if passed != 8 || skipped_chaos != 7 {
        return Err(
            format!("wanted 8 scenarios passed and 7 chaos ones skipped:\n{stdout}").into(),
        );
    }
    let default =
        std::fs::read_to_string(reports.join("default.json")).map_err(|e| e.to_string())?;
    if !default.contains("every email rule: MiniStack's SNS email subscriptions are a stub") {
        return Err(format!(
            "the default scenario's report does not say why email was skipped:\n{default}"
        )
        .into());
    }
    Ok(())
}

/// Pids whose working directory is inside `dir` (the embedded emulator and its functions run
/// in its instance directory).
fn processes_under(dir: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
        })
        .collect()
}

fn an_endpoint_that_is_not_ministack_is_refused() -> Result<(), Failed> {
    let shared = shared::get()?;
    let localstack = shared
        .target()
        .endpoint_url
        .clone()
        .ok_or("the shared target is a LocalStack")?;
    let state = tempfile::tempdir().map_err(|e| e.to_string())?;
    let out = harness(
        state.path(),
        &[
            "--target",
            "ministack",
            "--endpoint-url",
            &localstack,
            "teardown",
            "--run-id",
            "habcdefghij",
        ],
    )?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(1) || !stderr.contains("does not answer as a MiniStack") {
        return Err(format!(
            "a LocalStack was taken for a MiniStack ({}): {stderr}",
            out.status
        )
        .into());
    }
    Ok(())
}
