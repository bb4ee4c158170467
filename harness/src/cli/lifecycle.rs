//! `harness up`, `down` and `status`: the embedded LocalStack kept running between commands.
//! Each acts on the instance a state file names only once it is identified as the one
//! `harness up` started; a stale state file is reported, removed and never acted on.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::localstack::{self, Identified, StaleReason, stop_instance};
use crate::paths;
use crate::run_target::{self, TargetArgs};

pub(super) async fn up(args: &TargetArgs) -> anyhow::Result<()> {
    if args.target != run_target::TargetKind::Embedded {
        return Err(super::UsageError(
            "`harness up` starts the embedded LocalStack; drop --target (localstack and aws are \
             already up; every `--target ministack` command starts and stops a MiniStack of its \
             own, or attaches to one with --endpoint-url)"
                .into(),
        )
        .into());
    }
    let instances = paths::instances_dir();
    match localstack::identify(&instances) {
        Identified::Ours(info) => {
            println!("{}", run_target::describe_instance(&info));
            return Ok(());
        }
        Identified::Stale { reason, removed } => {
            eprintln!("{}", stale_line(&instances, &reason, removed));
        }
        Identified::None => {}
    }
    std::fs::create_dir_all(&instances)
        .with_context(|| format!("creating {}", instances.display()))?;
    let instance = run_target::start_embedded(args.python.clone(), &mut std::io::stderr()).await?;
    let info = instance.detach();
    localstack::write_state(&instances, &info)?;
    println!("{}", run_target::describe_instance(&info));
    println!("  stop it with: harness down");
    Ok(())
}

pub(super) fn down() -> anyhow::Result<()> {
    down_in(&paths::instances_dir(), &mut std::io::stdout())
}

pub(super) fn status() -> anyhow::Result<()> {
    status_in(&paths::instances_dir(), &mut std::io::stdout())
}

/// What a stale state file was and what became of it.
fn stale_line(instances: &Path, reason: &StaleReason, removed: bool) -> String {
    let path = localstack::state_file(instances);
    let fate = if removed {
        "removed"
    } else {
        "could not be removed; delete it by hand"
    };
    format!(
        "stale state file {} ({fate}; nothing was signalled): {reason}",
        path.display()
    )
}

/// Stops the instance recorded under `instances` once it is identified as ours.
fn down_in(instances: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let info = match localstack::identify(instances) {
        Identified::Ours(info) => info,
        Identified::Stale { reason, removed } => {
            writeln!(out, "{}", stale_line(instances, &reason, removed))?;
            return Ok(());
        }
        Identified::None => {
            let state = localstack::state_file(instances);
            writeln!(
                out,
                "no LocalStack started by `harness up` is recorded ({})",
                state.display()
            )?;
            return Ok(());
        }
    };
    eprint!("stopping LocalStack pid {} ... ", info.pid);
    let _ = std::io::stderr().flush();
    let outcome = stop_instance(&info, None);
    let state = localstack::state_file(instances);
    std::fs::remove_file(&state).with_context(|| format!("removing {}", state.display()))?;
    anyhow::ensure!(
        outcome.survivors.is_empty(),
        "processes survived: {:?}; kill them by hand (kill -9) and report a bug",
        outcome.survivors
    );
    eprintln!(
        "stopped ({} process(es){})",
        outcome.seen.len(),
        if outcome.killed_after_deadline {
            ", killed after the grace period"
        } else {
            ""
        }
    );
    Ok(())
}

/// Says whether the instance recorded under `instances` runs (and removes a stale record).
fn status_in(instances: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    match localstack::identify(instances) {
        Identified::Ours(info) => writeln!(out, "{}", run_target::describe_instance(&info))?,
        Identified::Stale { reason, removed } => {
            writeln!(out, "{}", stale_line(instances, &reason, removed))?;
            writeln!(out, "no LocalStack started by `harness up` is running")?;
        }
        Identified::None => writeln!(out, "no LocalStack started by `harness up` is running")?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::localstack::CMDLINE_MARKER;
    use crate::localstack::testing::{Sleeper, identity_shifted, record};

    /// The defect: `down` signalled whatever process tree a leftover state file's pid named.
    #[test]
    fn down_never_signals_an_unrelated_process_a_leftover_state_file_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut unrelated = Sleeper::named(CMDLINE_MARKER);
        let pid = unrelated.pid();
        // The pid is live, but not the process that was recorded (another start tick).
        record(dir.path(), pid, Some(identity_shifted(pid, 1)));
        let mut out = Vec::new();
        down_in(dir.path(), &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(unrelated.is_running(), "`down` signalled pid {pid}: {out}");
        assert!(!localstack::state_file(dir.path()).exists(), "{out}");
        record(dir.path(), pid, Some(identity_shifted(pid, 1)));
        let mut status = Vec::new();
        status_in(dir.path(), &mut status).unwrap();
        let status = String::from_utf8(status).unwrap();
        assert!(!status.contains("LocalStack running"), "{status}");
        assert!(!localstack::state_file(dir.path()).exists(), "{status}");
        for said in [&status, &out] {
            assert!(
                said.contains("stale state file")
                    && said.contains("(removed; nothing was signalled)"),
                "{said}"
            );
        }
    }

    #[test]
    fn down_stops_the_identified_instance() {
        let dir = tempfile::tempdir().unwrap();
        let mut localstack = Sleeper::named(CMDLINE_MARKER);
        let pid = localstack.pid();
        record(dir.path(), pid, Some(identity_shifted(pid, 0)));
        let mut status = Vec::new();
        status_in(dir.path(), &mut status).unwrap();
        assert!(
            String::from_utf8(status)
                .unwrap()
                .contains("LocalStack running")
        );
        down_in(dir.path(), &mut Vec::new()).unwrap();
        assert!(!localstack.is_running());
        assert!(!localstack::state_file(dir.path()).exists());
    }
}
