//! Supervises an emulator running on this machine in host mode (no Docker): LocalStack, or
//! MiniStack (`emulator` says how they differ).
//!
//! Start: provision the venv, pick a free loopback port, start LocalStack in its own process
//! group with its log in a file, and wait for `/_localstack/health` to report every service we
//! need, with a deadline, failing early (with the log tail) if the process dies. Stop: SIGTERM
//! with a deadline, then SIGKILL for the whole process tree, functions included, and check that
//! nothing survived. `harness up` detaches an instance and records it in a state file that
//! `harness down` and other commands read; they use or signal the process it names only once it
//! is identified as that instance (same boot, start time and command line), and remove a stale
//! file instead.
//!
//! The process itself is run by `supervisor`; the environment it is started with is built in
//! `env`, the health document it waits on is read in `health`, what describes an instance (and
//! the state file of `harness up`) is in `state`, and telling that the process a state file
//! names is still that instance is in `identify`; telling that LocalStack was restarted
//! underneath a run is in `session`.

mod emulator;
mod env;
mod health;
mod identify;
pub mod session;
mod state;
mod supervisor;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use emulator::Emulator;
#[cfg(test)]
pub(crate) use identify::testing;
pub use identify::{CMDLINE_MARKER, Identified, ProcessIdentity, StaleReason, identify};
pub use state::{InstanceInfo, log_tail, read_running, state_file, write_state};
pub use supervisor::{EmbeddedLocalStack, stop_instance};

/// The services the pipeline and the harness use.
pub const SERVICES: &[&str] = &[
    "s3", "sqs", "sns", "kms", "lambda", "iam", "sts", "logs", "ses",
];

/// The runtime executor our plugin registers under (`localstack.lambda.runtime_executor`).
pub const EXECUTOR_NAME: &str = "local-process";

/// How long LocalStack gets to exit after SIGTERM before the tree is killed (idle it takes about
/// 1 s, after running functions up to about 4.5 s).
pub const STOP_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error("cannot {what} ({path}): {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{emulator} exited during start-up ({status}). Log: {log}\n--- last lines ---\n{tail}")]
    DiedDuringStart {
        emulator: &'static str,
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error(
        "{instance} was not healthy after {waited:?} (last seen: {last}). \
         Log: {log}\n--- last lines ---\n{tail}"
    )]
    NotHealthy {
        /// `<emulator> at <endpoint>`.
        instance: String,
        waited: Duration,
        last: String,
        log: PathBuf,
        tail: String,
    },
    #[error("{emulator} (pid {pid}) is no longer running. Log: {log}\n--- last lines ---\n{tail}")]
    Crashed {
        emulator: &'static str,
        pid: u32,
        log: PathBuf,
        tail: String,
    },
    #[error("processes survived stopping the emulator: {0:?}")]
    Survivors(Vec<u32>),
}

fn io<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> SupervisorError + 'a {
    move |source| SupervisorError::Io {
        what,
        path: path.to_owned(),
        source,
    }
}
