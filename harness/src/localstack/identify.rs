//! Telling whether the process a state file names is still the LocalStack `harness up` started,
//! before anything uses or signals it: by now its pid may belong to any process. The instance is
//! ours when its process runs in the same boot, started at the recorded clock tick, and its
//! command line names LocalStack's entry point. Any other state file is stale: it is reported,
//! removed, and never acted on.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::state::{InstanceInfo, state_file};
use crate::proc_tree;

/// What LocalStack's command line contains (`python -m localstack.runtime.main`).
pub const CMDLINE_MARKER: &str = "localstack.runtime.main";

/// What tells a process apart from a later one that reuses its pid.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProcessIdentity {
    /// `/proc/sys/kernel/random/boot_id` when the process was recorded.
    pub boot_id: String,
    /// Its start time in clock ticks since boot (`/proc/<pid>/stat` field 22).
    pub start_ticks: u64,
}

impl ProcessIdentity {
    /// The identity of a live process (`None` when it is gone or `/proc` cannot be read).
    pub fn of(pid: u32) -> Option<Self> {
        Some(Self {
            boot_id: proc_tree::boot_id()?,
            start_ticks: proc_tree::start_ticks(pid)?,
        })
    }
}

/// Why a state file names no instance of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaleReason {
    #[error("it is not a harness state file ({0})")]
    Unreadable(String),
    #[error("process {pid} is no longer running")]
    Gone { pid: u32 },
    #[error(
        "it was written by an older harness that did not record the process's start time, so \
         pid {pid} cannot be told apart from an unrelated process. If `ps -o pid,lstart,args -p \
         {pid}` shows a LocalStack you started ({CMDLINE_MARKER}), stop it by hand: \
         `kill -TERM -- -{pid}` (its process group)"
    )]
    Unverifiable { pid: u32 },
    #[error("it was written before this machine last booted, so pid {pid} is another process")]
    OtherBoot { pid: u32 },
    #[error(
        "pid {pid} now belongs to another process (started at clock tick {found} since boot, \
         not {recorded})"
    )]
    Reused { pid: u32, recorded: u64, found: u64 },
    #[error(
        "process {pid} is not LocalStack (its command line `{cmdline}` lacks {CMDLINE_MARKER})"
    )]
    NotLocalStack { pid: u32, cmdline: String },
}

/// What the state file of `harness up` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identified {
    /// The instance `harness up` started, still running: safe to use and to stop.
    Ours(InstanceInfo),
    /// The file names no instance of ours. Nothing was signalled; the file was removed unless
    /// `removed` is false.
    Stale { reason: StaleReason, removed: bool },
    /// There is no state file.
    None,
}

/// Reads the state file under `instances_dir` and identifies the process it names, removing
/// the file when it is stale.
pub fn identify(instances_dir: &Path) -> Identified {
    let path = state_file(instances_dir);
    let verdict = match fs::read_to_string(&path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Identified::None,
        Err(e) => Err(StaleReason::Unreadable(e.to_string())),
        Ok(text) => serde_json::from_str::<InstanceInfo>(&text)
            .map_err(|e| StaleReason::Unreadable(e.to_string()))
            .and_then(|info| verify(&info).map(|()| info)),
    };
    match verdict {
        Ok(info) => Identified::Ours(info),
        Err(reason) => Identified::Stale {
            reason,
            removed: fs::remove_file(&path).is_ok(),
        },
    }
}

/// Checks that the process `info` names is the one recorded when it was started.
pub fn verify(info: &InstanceInfo) -> Result<(), StaleReason> {
    let pid = info.pid;
    if !proc_tree::is_alive(pid) {
        return Err(StaleReason::Gone { pid });
    }
    let recorded = info
        .identity
        .as_ref()
        .ok_or(StaleReason::Unverifiable { pid })?;
    let now = ProcessIdentity::of(pid).ok_or(StaleReason::Gone { pid })?;
    if now.boot_id != recorded.boot_id {
        return Err(StaleReason::OtherBoot { pid });
    }
    if now.start_ticks != recorded.start_ticks {
        return Err(StaleReason::Reused {
            pid,
            recorded: recorded.start_ticks,
            found: now.start_ticks,
        });
    }
    let cmdline = proc_tree::cmdline(pid).unwrap_or_default();
    if !cmdline.contains(CMDLINE_MARKER) {
        return Err(StaleReason::NotLocalStack { pid, cmdline });
    }
    Ok(())
}

/// Live processes for state files to name, and the state they are recorded in.
#[cfg(test)]
pub(crate) mod testing {
    use std::os::unix::process::CommandExt;
    use std::path::Path;
    use std::process::{Child, Command};
    use std::time::{Duration, Instant};

    use super::ProcessIdentity;
    use crate::localstack::{InstanceInfo, write_state};
    use crate::proc_tree;

    /// A `sleep 30` whose command line starts with `argv0`, leading its own process group as
    /// LocalStack does; killed when dropped.
    pub struct Sleeper(Child);

    impl Sleeper {
        pub fn named(argv0: &str) -> Self {
            let child = Command::new("bash")
                .args(["-c", &format!("exec -a {argv0} sleep 30")])
                .process_group(0)
                .spawn()
                .expect("bash starts");
            // Mid-exec the command line reads empty: wait until `sleep` runs.
            let (pid, ready) = (child.id(), format!("{argv0} 30"));
            let deadline = Instant::now() + Duration::from_secs(5);
            while proc_tree::cmdline(pid).as_ref() != Some(&ready) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            Self(child)
        }

        pub fn pid(&self) -> u32 {
            self.0.id()
        }

        /// True while it has not exited (as a child it lingers as a zombie until reaped).
        pub fn is_running(&mut self) -> bool {
            self.0.try_wait().expect("wait on the sleeper").is_none()
        }
    }

    impl Drop for Sleeper {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// Records `pid` with `identity` as the instance `harness up` left under `dir`.
    pub fn record(dir: &Path, pid: u32, identity: Option<ProcessIdentity>) -> InstanceInfo {
        let info = InstanceInfo {
            pid,
            port: 1,
            endpoint: "http://127.0.0.1:1".into(),
            dir: dir.into(),
            log: dir.join("localstack.log"),
            started_unix: 0,
            identity,
        };
        write_state(dir, &info).unwrap();
        info
    }

    /// The identity of `pid` as recorded at its start, with its start tick shifted by `by`.
    pub fn identity_shifted(pid: u32, by: u64) -> ProcessIdentity {
        let mut identity = ProcessIdentity::of(pid).expect("a live process has an identity");
        identity.start_ticks += by;
        identity
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{Sleeper, identity_shifted, record};
    use super::*;

    fn assert_stale_and_removed(dir: &Path) -> StaleReason {
        match identify(dir) {
            Identified::Stale {
                reason,
                removed: true,
            } => {
                assert!(!state_file(dir).exists(), "a stale file is removed");
                reason
            }
            other => panic!("expected a removed stale file, got {other:?}"),
        }
    }

    #[test]
    fn a_pid_reused_by_an_unrelated_process_is_stale_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut unrelated = Sleeper::named(CMDLINE_MARKER);
        let pid = unrelated.pid();
        record(dir.path(), pid, Some(identity_shifted(pid, 1)));
        let reason = assert_stale_and_removed(dir.path());
        assert!(matches!(reason, StaleReason::Reused { pid: p, .. } if p == pid));
        assert!(unrelated.is_running());
    }

    #[test]
    fn the_process_recorded_at_its_start_is_ours() {
        let dir = tempfile::tempdir().unwrap();
        let localstack = Sleeper::named(CMDLINE_MARKER);
        let pid = localstack.pid();
        let info = record(dir.path(), pid, Some(identity_shifted(pid, 0)));
        assert_eq!(identify(dir.path()), Identified::Ours(info));
        assert!(state_file(dir.path()).exists());
    }

    #[test]
    fn a_process_that_is_not_localstack_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let mut other = Sleeper::named("sleep");
        let pid = other.pid();
        record(dir.path(), pid, Some(identity_shifted(pid, 0)));
        let reason = assert_stale_and_removed(dir.path());
        assert!(
            matches!(reason, StaleReason::NotLocalStack { .. }),
            "{reason}"
        );
        assert!(other.is_running());
    }

    #[test]
    fn a_state_file_of_another_boot_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let localstack = Sleeper::named(CMDLINE_MARKER);
        let pid = localstack.pid();
        let mut identity = identity_shifted(pid, 0);
        identity.boot_id = "00000000-0000-0000-0000-000000000000".into();
        record(dir.path(), pid, Some(identity));
        let reason = assert_stale_and_removed(dir.path());
        assert_eq!(reason, StaleReason::OtherBoot { pid });
    }

    #[test]
    fn an_old_state_file_is_unverifiable_and_says_how_to_stop_it_by_hand() {
        let dir = tempfile::tempdir().unwrap();
        let mut localstack = Sleeper::named(CMDLINE_MARKER);
        let pid = localstack.pid();
        // As written before the identity was recorded: no `identity` key at all.
        let old = format!(
            r#"{{"pid": {pid}, "port": 1, "endpoint": "http://127.0.0.1:1", "dir": "/x",
                "log": "/x/localstack.log", "started_unix": 1}}"#
        );
        fs::write(state_file(dir.path()), old).unwrap();
        let reason = assert_stale_and_removed(dir.path());
        assert_eq!(reason, StaleReason::Unverifiable { pid });
        assert!(
            reason
                .to_string()
                .contains(&format!("kill -TERM -- -{pid}"))
        );
        assert!(localstack.is_running());
    }

    #[test]
    fn a_state_file_of_a_dead_process_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let pid = u32::MAX - 1;
        record(dir.path(), pid, None);
        assert_eq!(
            assert_stale_and_removed(dir.path()),
            StaleReason::Gone { pid }
        );
    }

    #[test]
    fn a_file_that_is_not_a_state_file_is_stale_and_no_file_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(identify(dir.path()), Identified::None);
        fs::write(state_file(dir.path()), "{\"pid\": 1").unwrap();
        let reason = assert_stale_and_removed(dir.path());
        assert!(matches!(reason, StaleReason::Unreadable(_)), "{reason}");
    }
}
