//! Ctrl-C in the middle of a run: the command stops, its stack guard tears the run's stack down
//! on the way out and says so with the run id, and nothing of the run is left on the target.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use harness::deploy;
use harness::stack::{RunId, StackNames};
use libtest_mimic::{Failed, Trial};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::shared;

/// How long the run may take to reach its uploads (deploy included).
const TO_UPLOADS: Duration = Duration::from_secs(240);
/// How long the interrupted command may take to tear down and exit.
const TO_EXIT: Duration = Duration::from_secs(180);

pub fn trials() -> Vec<Trial> {
    vec![Trial::test(
        "interrupt::ctrl_c_mid_run_tears_the_stack_down_and_names_the_run",
        ctrl_c_mid_run_tears_the_stack_down_and_names_the_run,
    )]
}

fn ctrl_c_mid_run_tears_the_stack_down_and_names_the_run() -> Result<(), Failed> {
    let shared = shared::get()?;
    let target = shared.target();
    let endpoint = target.endpoint_url.clone().ok_or("a LocalStack target")?;
    let state = tempfile::tempdir().map_err(|e| e.to_string())?;
    let reports = state.path().join("reports");
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["--target", "localstack", "--endpoint-url", &endpoint])
        .args(["run", "--scenario", "default", "--handler-build", "dev"])
        .args(["--report-dir", reports.to_str().ok_or("a UTF-8 temp path")?])
        .env("HARNESS_STATE_DIR", state.path())
        .env_remove("HARNESS_TARGET")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running harness run: {e}"))?;
    // Every stderr line, read on a thread of its own so each wait below has a deadline.
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut child = Reaped(child);
    let (lines, read) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut run_id = None;
    let uploads_by = Instant::now() + TO_UPLOADS;
    while !seen.iter().any(|l: &String| l.contains("uploading")) {
        let left = uploads_by.saturating_duration_since(Instant::now());
        let line = read
            .recv_timeout(left)
            .map_err(|_| format!("the run reached no upload in time:\n{}", seen.join("\n")))?;
        if let Some(id) = run_id_of(&line) {
            run_id = Some(id);
        }
        seen.push(line);
    }
    let run_id = run_id.ok_or_else(|| format!("no run id announced:\n{}", seen.join("\n")))?;
    let pid = i32::try_from(child.0.id()).map_err(|e| e.to_string())?;
    kill(Pid::from_raw(pid), Signal::SIGINT).map_err(|e| format!("SIGINT: {e}"))?;
    let status = child.exit_within(TO_EXIT, &read, &mut seen)?;
    let all = seen.join("\n");
    if status.code() != Some(1) || !all.contains(&format!("run {run_id}: stack removed")) {
        return Err(format!("after Ctrl-C: exit {status}, stderr:\n{all}").into());
    }
    let names = StackNames::with_default_prefix(&run_id);
    let left = shared.runtime.block_on(async {
        let account = deploy::account_id(target)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(deploy::teardown::leftovers(target, &names, &account).await)
    })?;
    if !left.is_empty() {
        return Err(format!("run {run_id} left {left:?} after Ctrl-C:\n{all}").into());
    }
    Ok(())
}

/// The run id in the line `scenario NAME (seed N, run ID) on ...`.
fn run_id_of(line: &str) -> Option<RunId> {
    let rest = line.split_once(", run ")?.1;
    RunId::parse(rest.split_once(')')?.0).ok()
}

/// The command under test: killed and reaped when the trial ends early, so a failing trial
/// never leaves it running (or writing into a closed pipe mid-deploy).
struct Reaped(Child);

impl Reaped {
    /// Waits for the exit at most `limit` in all, collecting stderr lines meanwhile.
    fn exit_within(
        &mut self,
        limit: Duration,
        read: &mpsc::Receiver<String>,
        seen: &mut Vec<String>,
    ) -> Result<ExitStatus, Failed> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().map_err(|e| e.to_string())? {
                seen.extend(read.try_iter());
                return Ok(status);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(
                    format!("no exit within {limit:?} of Ctrl-C:\n{}", seen.join("\n")).into(),
                );
            }
            // A line or a short pause, whichever comes first: then look at the process again.
            if let Ok(line) = read.recv_timeout(left.min(Duration::from_millis(200))) {
                seen.push(line);
            }
        }
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
