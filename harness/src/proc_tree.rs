//! Process-tree bookkeeping on Linux, read from `/proc`, and what tells a process apart from a
//! later one that reuses its pid (its start time, this boot's id, its command line).
//!
//! LocalStack starts function processes in their own process groups, so killing LocalStack's
//! group is not enough: a process whose parent died is re-parented and would outlive the run.
//! Stopping therefore collects the whole tree first, asks the root to stop, and then kills every
//! process it ever saw, checking at the end that none is left.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// What `/proc/<pid>/stat` says about a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    state: char,
    ppid: u32,
    /// Field 22: when the process started, in clock ticks since boot.
    start_ticks: u64,
}

/// Parses a `/proc/<pid>/stat` line. The command name is in parentheses and may contain spaces
/// and ')': the fields are read after the last ')', where field 3 (the state) comes first.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = text.get(text.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_whitespace().take(20).collect();
    Some(Stat {
        state: fields.first()?.chars().next()?,
        ppid: fields.get(1)?.parse().ok()?,
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

/// The stat of a live process, or `None` when it is gone.
fn stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// When the process started, in clock ticks since boot (`None` when it is gone). With the
/// [`boot_id`] it tells a process apart from a later one that reuses its pid.
pub fn start_ticks(pid: u32) -> Option<u64> {
    stat(pid).map(|s| s.start_ticks)
}

/// This boot's random id (`/proc/sys/kernel/random/boot_id`), so that start ticks of another
/// boot never match.
pub fn boot_id() -> Option<String> {
    let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(text.trim().to_owned()).filter(|id| !id.is_empty())
}

/// The process's command line, arguments separated by spaces (`None` when it is gone).
pub fn cmdline(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        String::from_utf8_lossy(&raw)
            .replace('\0', " ")
            .trim_end()
            .to_owned(),
    )
}

/// True when the process exists and is not a zombie waiting to be reaped.
pub fn is_alive(pid: u32) -> bool {
    matches!(stat(pid), Some(s) if s.state != 'Z' && s.state != 'X')
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
        if let Some(s) = stat(pid)
            && s.state != 'Z'
        {
            parent_of.push((pid, s.ppid));
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
        assert_eq!(start_ticks(u32::MAX - 1), None);
        assert_eq!(cmdline(u32::MAX - 1), None);
    }

    /// A stat line for the command name `comm`: state S (field 3), then field n holds n.
    fn stat_line(comm: &str) -> String {
        let tail: Vec<String> = (4..=52).map(|n| n.to_string()).collect();
        format!("1234 ({comm}) S {}\n", tail.join(" "))
    }

    #[test]
    fn stat_is_parsed_after_the_last_parenthesis_of_the_command_name() {
        for comm in ["sleep", "a b", "x) S 9 9 (y", ") )", "python -m (a)"] {
            let parsed = parse_stat(&stat_line(comm)).unwrap();
            assert_eq!(
                parsed,
                Stat {
                    state: 'S',
                    ppid: 4,
                    start_ticks: 22,
                },
                "{comm:?}"
            );
        }
    }

    #[test]
    fn a_truncated_stat_line_is_not_parsed() {
        assert_eq!(parse_stat("1 (sleep) S 1 2 3"), None);
        assert_eq!(parse_stat("1 (sleep"), None);
        assert_eq!(parse_stat(""), None);
    }

    #[test]
    fn this_process_has_a_stable_start_time_and_its_command_line() {
        let me = std::process::id();
        let first = start_ticks(me).unwrap();
        assert_eq!(start_ticks(me), Some(first));
        assert!(boot_id().is_some_and(|id| id.len() >= 32));
        let exe = std::env::current_exe().unwrap();
        let name = exe.file_name().unwrap().to_str().unwrap();
        assert!(cmdline(me).unwrap().contains(name));
    }
}
