//! What identifies an instance (pid and process identity, port, endpoint, directory, log), its
//! log tail, and the state file in which `harness up` records a detached instance for
//! `harness down` and the other commands, which read it only through [`super::identify`].

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::identify::{Identified, ProcessIdentity, identify};
use super::{SupervisorError, io};

/// What is recorded about a running instance (also the state file of `harness up`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct InstanceInfo {
    pub pid: u32,
    pub port: u16,
    pub endpoint: String,
    pub dir: PathBuf,
    pub log: PathBuf,
    pub started_unix: u64,
    /// What tells the process apart from a later one with its pid. Files of older harnesses
    /// lack it and are therefore never acted on.
    #[serde(default)]
    pub identity: Option<ProcessIdentity>,
}

impl InstanceInfo {
    /// Last `lines` lines of the instance's log.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }
}

/// Last `lines` lines of a file (empty when unreadable).
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The state file of the instance `harness up` left running.
pub fn state_file(instances_dir: &Path) -> PathBuf {
    instances_dir.join("current.json")
}

/// The recorded instance, if its process is identified as the one `harness up` started (a
/// stale state file is removed).
pub fn read_running(instances_dir: &Path) -> Option<InstanceInfo> {
    match identify(instances_dir) {
        Identified::Ours(info) => Some(info),
        Identified::Stale { .. } | Identified::None => None,
    }
}

/// Records a detached instance, whole or not at all (a reader never sees half a file).
pub fn write_state(instances_dir: &Path, info: &InstanceInfo) -> Result<(), SupervisorError> {
    let path = state_file(instances_dir);
    let partial = instances_dir.join(format!("current.json.{}.tmp", std::process::id()));
    let text = serde_json::to_string_pretty(info).expect("instance info serializes");
    fs::write(&partial, text).map_err(io("write the state file", &partial))?;
    fs::rename(&partial, &path).map_err(io("write the state file", &path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::localstack::CMDLINE_MARKER;
    use crate::localstack::testing::{Sleeper, identity_shifted, record};

    #[test]
    fn only_an_identified_instance_is_read_as_running() {
        let dir = tempfile::tempdir().unwrap();
        let localstack = Sleeper::named(CMDLINE_MARKER);
        let pid = localstack.pid();
        record(dir.path(), pid, Some(identity_shifted(pid, 1)));
        assert_eq!(read_running(dir.path()), None);
        assert!(
            !state_file(dir.path()).exists(),
            "the stale file is removed"
        );
        let info = record(dir.path(), pid, Some(identity_shifted(pid, 0)));
        assert_eq!(read_running(dir.path()), Some(info));
    }

    #[test]
    fn the_state_file_round_trips_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let info = record(dir.path(), 7, Some(identity_shifted(std::process::id(), 0)));
        let text = fs::read_to_string(state_file(dir.path())).unwrap();
        assert_eq!(serde_json::from_str::<InstanceInfo>(&text).unwrap(), info);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only current.json: {names:?}");
    }
}
