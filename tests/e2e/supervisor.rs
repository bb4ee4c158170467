//! `harness up` / `harness down` through the real CLI, and the executor plugin's own test suite.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use harness::localstack::{self, InstanceInfo};
use harness::proc_tree;
use libtest_mimic::{Failed, Trial};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "supervisor::harness_down_leaves_no_process_behind",
            harness_down_leaves_no_process_behind,
        ),
        Trial::test(
            "supervisor::lambda_executor_pytest_suite",
            lambda_executor_pytest_suite,
        ),
        Trial::test(
            "supervisor::harness_check_proves_the_pipeline_end_to_end",
            harness_check_proves_the_pipeline_end_to_end,
        ),
        // With a Docker daemon this would start a real container; here it checks the refusal.
        Trial::test(
            "supervisor::docker_without_a_daemon_says_how_to_proceed",
            docker_without_a_daemon_says_how_to_proceed,
        )
        .with_ignored_flag(docker_daemon_present()),
    ]
}

fn harness_cli(state_dir: &Path, args: &[&str]) -> Result<String, Failed> {
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .env("HARNESS_STATE_DIR", state_dir)
        .env_remove("HARNESS_TARGET")
        .output()
        .map_err(|e| format!("running harness {args:?}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "harness {args:?} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(stdout)
}

fn harness_down_leaves_no_process_behind() -> Result<(), Failed> {
    let state = tempfile::tempdir().map_err(|e| e.to_string())?;
    let up = harness_cli(state.path(), &["up"])?;
    let info: InstanceInfo = serde_json::from_str(
        &std::fs::read_to_string(localstack::state_file(state.path()))
            .map_err(|e| format!("`harness up` wrote no state file: {e}; it printed {up}"))?,
    )
    .map_err(|e| e.to_string())?;
    if !up.contains(&info.endpoint) {
        return Err(format!("`harness up` did not print its endpoint: {up}").into());
    }
    // Run a function so that a function process exists below LocalStack when it is stopped.
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let result = runtime.block_on(warm_a_function(&info.endpoint));
    let tree = proc_tree::descendants(info.pid);
    let bootstrap_seen = tree.iter().any(|pid| {
        std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| c.contains("bootstrap"))
    });
    let down = harness_cli(state.path(), &["down"]);
    result?;
    down?;
    let mut survivors: Vec<u32> = tree
        .into_iter()
        .filter(|&p| proc_tree::is_alive(p))
        .collect();
    if proc_tree::is_alive(info.pid) {
        survivors.push(info.pid);
    }
    if !survivors.is_empty() {
        return Err(format!("processes outlived `harness down`: {survivors:?}").into());
    }
    if localstack::state_file(state.path()).exists() {
        return Err("`harness down` left its state file behind".into());
    }
    if !bootstrap_seen {
        return Err("no function process ran under LocalStack, so the check proved nothing".into());
    }
    Ok(())
}

/// Creates and invokes a trivial shell function that stays warm (keep-alive) afterwards.
async fn warm_a_function(endpoint: &str) -> Result<(), Failed> {
    use aws_sdk_lambda::client::Waiters;
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{FunctionCode, Runtime};
    let sdk = harness::run_target::localstack_sdk_config(endpoint, "us-east-1").await;
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let script = r#"#!/bin/bash
api=$AWS_LAMBDA_RUNTIME_API
while true; do
  exec 3<>"/dev/tcp/${api%:*}/${api##*:}"
  printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
  id=$(grep -i -m1 '^lambda-runtime-aws-request-id:' <&3 | tr -d '\r' | cut -d' ' -f2)
  exec 3<&-
  exec 3<>"/dev/tcp/${api%:*}/${api##*:}"
  printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok' "$id" >&3
  cat <&3 >/dev/null
  exec 3<&-
done
"#;
    let zip = harness::artifact::zip_single_executable("bootstrap", script.as_bytes())
        .map_err(|e| e.to_string())?;
    lambda
        .create_function()
        .function_name("warm")
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role("arn:aws:iam::000000000000:role/harness-e2e")
        .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
        .send()
        .await
        .map_err(|e| format!("CreateFunction: {e:?}"))?;
    lambda
        .wait_until_function_active_v2()
        .function_name("warm")
        .wait(Duration::from_secs(60))
        .await
        .map_err(|e| format!("function never became Active: {e}"))?;
    let out = lambda
        .invoke()
        .function_name("warm")
        .payload(Blob::new("{}"))
        .send()
        .await
        .map_err(|e| format!("Invoke: {e:?}"))?;
    if out.function_error().is_some() {
        return Err(format!("warm function failed: {:?}", out.payload()).into());
    }
    Ok(())
}

/// The Python executor plugin's pytest suite, run in the provisioned venv.
fn lambda_executor_pytest_suite() -> Result<(), Failed> {
    let python =
        harness::python::discover(std::env::var_os("HARNESS_PYTHON").as_deref().map(Path::new))
            .map_err(|e| e.to_string())?;
    let venv = harness::provision::ensure_venv(
        &python,
        &harness::paths::venvs_dir(),
        &mut std::io::stderr(),
    )
    .map_err(|e| e.to_string())?;
    let tests = harness::artifact::workspace_root().join("harness/localstack/executor/tests");
    let out = Command::new(venv.python())
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(&tests)
        .output()
        .map_err(|e| format!("running pytest: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "pytest failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(())
}

fn docker_daemon_present() -> bool {
    std::env::var_os("DOCKER_HOST").is_some() || Path::new("/var/run/docker.sock").exists()
}

fn docker_without_a_daemon_says_how_to_proceed() -> Result<(), Failed> {
    let state = tempfile::tempdir().map_err(|e| e.to_string())?;
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "--target",
            "localstack",
            "--docker",
            "teardown",
            "--run-id",
            "habcdefghij",
        ])
        .env("HARNESS_STATE_DIR", state.path())
        .output()
        .map_err(|e| format!("running harness: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(1) {
        return Err(format!(
            "expected exit 1 without a daemon, got {}: {stderr}",
            out.status
        )
        .into());
    }
    if !(stderr.contains("no Docker daemon reachable") && stderr.contains("drop --docker")) {
        return Err(format!("the error does not say what to do: {stderr}").into());
    }
    Ok(())
}

/// The README's main command, through the real CLI on a LocalStack it starts for itself.
fn harness_check_proves_the_pipeline_end_to_end() -> Result<(), Failed> {
    let state = tempfile::tempdir().map_err(|e| e.to_string())?;
    let stdout = harness_cli(state.path(), &["check", "--handler-build", "dev"])?;
    for line in [
        "ok  upload arrives once in the FIFO queue, encrypted with our key",
        "ok  email alert sent for the upload",
        "ok  teardown leaves nothing",
        "checks held",
    ] {
        if !stdout.contains(line) {
            return Err(format!("`harness check` output lacks `{line}`:\n{stdout}").into());
        }
    }
    Ok(())
}
