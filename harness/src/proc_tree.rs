//! Process-tree bookkeeping on Linux, read from `/proc`.
//!
//! LocalStack starts function processes in their own process groups, so killing LocalStack's
//! group is not enough: a process whose parent died is re-parented and would outlive the run.
//! Stopping therefore collects the whole tree first, asks the root to stop, and then kills every
//! process it ever saw, checking at the end that none is left.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// Parent pid and state letter of a live process, or `None` when it is gone.
fn stat(pid: u32) -> Option<(u32, char)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces: parse after the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((ppid, state))
}

/// True when the process exists and is not a zombie waiting to be reaped.
pub fn is_alive(pid: u32) -> bool {
    matches!(stat(pid), Some((_, state)) if state != 'Z' && state != 'X')
}

/// Every process id in `/proc` (empty if it cannot be read).
pub fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
                .collect()
        })
        .unwrap_or_default()
}

/// Every live descendant of `root` (not including `root`).
pub fn descendants(root: u32) -> BTreeSet<u32> {
    let mut parent_of = Vec::new();
    for pid in pids() {
        if let Some((ppid, state)) = stat(pid)
            && state != 'Z'
        {
            parent_of.push((pid, ppid));
        }
    }
    let mut found = BTreeSet::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, ppid) in &parent_of {
            if ppid == parent && found.insert(pid) {
                frontier.push(pid);
            }
        }
    }
    found
}

/// What stopping a tree did.
#[derive(Debug, Clone, Default)]
pub struct StopOutcome {
    /// Every pid seen in the tree while stopping it.
    pub seen: BTreeSet<u32>,
    /// True when the root had to be killed because it ignored SIGTERM past the deadline.
    pub killed_after_deadline: bool,
    /// Pids still alive at the end (empty on success).
    pub survivors: BTreeSet<u32>,
}

/// Stops `root` and everything below it: SIGTERM to the root's process group, up to `grace`
/// for it to exit, then SIGKILL to every process of the tree. Returns what survived (nothing,
/// unless the kernel refused).
pub fn stop_tree(root: u32, grace: Duration) -> StopOutcome {
    let mut seen = descendants(root);
    seen.insert(root);
    let group = Pid::from_raw(root as i32);
    let _ = killpg(group, Signal::SIGTERM);
    let deadline = Instant::now() + grace;
    while is_alive(root) && Instant::now() < deadline {
        seen.extend(descendants(root));
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed_after_deadline = is_alive(root);
    seen.extend(descendants(root));
    let _ = killpg(group, Signal::SIGKILL);
    for &pid in &seen {
        if is_alive(pid) {
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
        }
    }
    let settle = Instant::now() + Duration::from_secs(5);
    loop {
        let survivors: BTreeSet<u32> = seen.iter().copied().filter(|&p| is_alive(p)).collect();
        if survivors.is_empty() || Instant::now() >= settle {
            return StopOutcome {
                seen,
                killed_after_deadline,
                survivors,
            };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    #[test]
    fn stop_tree_kills_grandchildren_in_other_process_groups() {
        // A shell in its own group that starts a grandchild in yet another group and ignores TERM.
        let mut child = Command::new("bash")
            .args(["-c", "trap '' TERM; setsid sleep 300 & sleep 300 & wait"])
            .process_group(0)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let root = child.id();
        let deadline = Instant::now() + Duration::from_secs(5);
        while descendants(root).len() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let before = descendants(root);
        assert!(
            before.len() >= 2,
            "expected two descendants, saw {before:?}"
        );
        let reaper = std::thread::spawn(move || child.wait());
        let outcome = stop_tree(root, Duration::from_millis(300));
        reaper.join().unwrap().unwrap();
        assert!(
            outcome.killed_after_deadline,
            "bash ignored TERM, so it must have been killed"
        );
        assert!(outcome.survivors.is_empty(), "{:?}", outcome.survivors);
        for pid in before {
            assert!(!is_alive(pid), "pid {pid} outlived stop_tree");
        }
    }

    #[test]
    fn a_missing_process_is_not_alive() {
        assert!(!is_alive(u32::MAX - 1));
    }
}
