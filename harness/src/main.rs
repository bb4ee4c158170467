//! The `harness` command: parses flags, runs the command, and maps the outcome to an exit code.
//! Ctrl-C or SIGTERM abandon the command; dropping it tears down the stack of the run in
//! progress (the pipeline's stack guard, which names the run and prints the `harness teardown
//! --run-id ID` that finishes the job if that fails) and stops any LocalStack it started, so
//! an interrupted run leaves no process and, normally, no stack behind.

use std::process::ExitCode;

use clap::Parser;
use tokio::signal::unix::{SignalKind, signal};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = harness::cli::Cli::parse();
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(stream) => stream,
        Err(error) => {
            eprintln!("error: cannot watch for SIGTERM: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = tokio::select! {
        result = harness::cli::run(cli) => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!(
            "interrupted; a run's stack was torn down on the way out (its run id and, if that \
             failed, the `harness teardown --run-id ID` that finishes it are printed above), \
             and the LocalStack this command started (if any) was stopped"
        )),
        _ = terminate.recv() => Err(anyhow::anyhow!("terminated; stopped the LocalStack this command started (if any)")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", harness::redact::secrets(&format!("{error:#}")));
            ExitCode::from(harness::cli::exit_code(&error))
        }
    }
}
