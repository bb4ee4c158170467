//! The `harness` command: parses flags, runs the command, and maps the outcome to an exit code.
//! Ctrl-C or SIGTERM abandon the command; dropping it stops any LocalStack it started, so an
//! interrupted run leaves no process behind (a deployed stack is left to `harness gc`).

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
            "interrupted; stopped the LocalStack this command started (if any); \
             `harness gc --older-than 0s` removes a half-made stack"
        )),
        _ = terminate.recv() => Err(anyhow::anyhow!("terminated; stopped the LocalStack this command started (if any)")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
