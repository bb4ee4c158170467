//! What identifies an instance (pid, port, endpoint, directory, log), its log tail, and the
//! state file in which `harness up` records a detached instance for `harness down` and the
//! other commands.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{SupervisorError, io};
use crate::proc_tree;

/// What is recorded about a running instance (also the state file of `harness up`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct InstanceInfo {
    pub pid: u32,
    pub port: u16,
    pub endpoint: String,
    pub dir: PathBuf,
    pub log: PathBuf,
    pub started_unix: u64,
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

/// Reads the recorded instance, if any and if its process still runs.
pub fn read_running(instances_dir: &Path) -> Option<InstanceInfo> {
    let text = fs::read_to_string(state_file(instances_dir)).ok()?;
    let info: InstanceInfo = serde_json::from_str(&text).ok()?;
    proc_tree::is_alive(info.pid).then_some(info)
}

/// Records a detached instance.
pub fn write_state(instances_dir: &Path, info: &InstanceInfo) -> Result<(), SupervisorError> {
    let path = state_file(instances_dir);
    let text = serde_json::to_string_pretty(info).expect("instance info serializes");
    fs::write(&path, text).map_err(io("write the state file", &path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_file_of_a_dead_process_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let info = InstanceInfo {
            pid: u32::MAX - 1,
            port: 1,
            endpoint: "http://127.0.0.1:1".into(),
            dir: dir.path().into(),
            log: dir.path().join("log"),
            started_unix: 0,
        };
        write_state(dir.path(), &info).unwrap();
        assert_eq!(read_running(dir.path()), None);
    }
}
