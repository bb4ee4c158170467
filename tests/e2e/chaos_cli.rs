//! `harness chaos` through the real CLI: a search over seeds that finds no violation and says
//! so with each fault's count, and the refusal of a scenario without faults.

use std::process::{Command, Output};

use libtest_mimic::{Failed, Trial};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "chaos_cli::search_over_two_seeds_reports_counts_and_no_violation",
            search_over_two_seeds_reports_counts_and_no_violation,
        ),
        Trial::test(
            "chaos_cli::a_scenario_without_faults_is_refused_with_the_fix",
            a_scenario_without_faults_is_refused_with_the_fix,
        ),
    ]
}

/// Runs the CLI with its own state dir (so no `harness up` LocalStack is picked up: the
/// command starts and stops one of its own).
fn harness(state: &std::path::Path, args: &[&str]) -> Result<Output, Failed> {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .env("HARNESS_STATE_DIR", state)
        .env_remove("HARNESS_TARGET")
        .env_remove("HARNESS_SEED")
        .output()
        .map_err(|e| format!("running harness {args:?}: {e}").into())
}

fn search_over_two_seeds_reports_counts_and_no_violation() -> Result<(), Failed> {
    let state = tempfile::tempdir().map_err(|e| e.to_string())?;
    let reports = state.path().join("reports");
    let seed = crate::scenarios::seed().to_string();
    let out = harness(
        state.path(),
        &[
            "chaos",
            "--scenario",
            "chaos-redelivery",
            "--seed",
            &seed,
            "--search",
            "2",
            "--handler-build",
            "dev",
            "--report-dir",
            reports.to_str().ok_or("a UTF-8 temp path")?,
        ],
    )?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let next = crate::scenarios::seed().wrapping_add(1);
    let wanted = [
        format!("no violation in 2 seeds from {seed}"),
        format!("fault (chaos-redelivery, seed {next}): every S3 event redelivered 2x"),
    ];
    let missing: Vec<&String> = wanted.iter().filter(|w| !stdout.contains(*w)).collect();
    if !out.status.success() || !missing.is_empty() {
        return Err(format!(
            "`harness chaos --search 2` exited {} lacking {missing:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            out.status
        )
        .into());
    }
    if !stderr.contains(&format!("searching 2 seeds from {seed}")) {
        return Err(format!("the search did not announce its seeds:\n{stderr}").into());
    }
    let report = reports.join("chaos-redelivery.json");
    let text = std::fs::read_to_string(&report)
        .map_err(|e| format!("no report at {}: {e}", report.display()))?;
    if !text.contains(&format!("\"seed\": {next}")) {
        return Err(format!("the report is not the deciding (last) run's:\n{text}").into());
    }
    Ok(())
}

fn a_scenario_without_faults_is_refused_with_the_fix() -> Result<(), Failed> {
    let state = tempfile::tempdir().map_err(|e| e.to_string())?;
    let out = harness(state.path(), &["chaos", "--scenario", "default"])?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(2)
        || !stderr.contains("injects no faults")
        || !stderr.contains("harness run --scenario default")
    {
        return Err(format!(
            "expected exit 2 (a usage error) naming the fix, got {}: {stderr}",
            out.status
        )
        .into());
    }
    Ok(())
}
