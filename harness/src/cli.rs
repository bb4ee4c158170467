//! Command-line interface: clap definitions and the commands they run.
//!
//! Each command resolves a [`Target`] from the shared flags and does one thing; `main` only
//! parses and maps the outcome to an exit code.

use std::io::Write;

use anyhow::Context;

use crate::localstack::{self, stop_instance};
use crate::paths;
use crate::target::{self, TargetArgs};

#[derive(Debug, clap::Parser)]
#[command(
    name = "harness",
    version,
    about = "Deploys, exercises and verifies the S3 -> Lambda -> SNS -> SQS FIFO upload pipeline"
)]
pub struct Cli {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Start the embedded LocalStack and leave it running for later commands.
    Up,
    /// Stop the LocalStack `harness up` started, with every process it spawned.
    Down,
    /// Show whether a LocalStack started by `harness up` is running.
    Status,
}

/// Runs one command. Errors carry the fix in their message.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Up => up(&cli.target).await,
        Command::Down => down(),
        Command::Status => status(),
    }
}

async fn up(args: &TargetArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.target == target::TargetKind::Embedded,
        "`harness up` starts the embedded LocalStack; drop --target (other targets are already up)"
    );
    let instances = paths::instances_dir();
    if let Some(info) = localstack::read_running(&instances) {
        println!("{}", target::describe_instance(&info));
        return Ok(());
    }
    std::fs::create_dir_all(&instances)
        .with_context(|| format!("creating {}", instances.display()))?;
    let instance = target::start_embedded(args.python.clone(), &mut std::io::stderr()).await?;
    let info = instance.detach();
    localstack::write_state(&instances, &info)?;
    println!("{}", target::describe_instance(&info));
    println!("  stop it with: harness down");
    Ok(())
}

fn down() -> anyhow::Result<()> {
    let instances = paths::instances_dir();
    let state = localstack::state_file(&instances);
    let Ok(text) = std::fs::read_to_string(&state) else {
        println!(
            "no LocalStack started by `harness up` is recorded ({})",
            state.display()
        );
        return Ok(());
    };
    let info: localstack::InstanceInfo = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a harness state file; delete it", state.display()))?;
    eprint!("stopping LocalStack pid {} ... ", info.pid);
    let _ = std::io::stderr().flush();
    let outcome = stop_instance(&info, None);
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

fn status() -> anyhow::Result<()> {
    match localstack::read_running(&paths::instances_dir()) {
        Some(info) => println!("{}", target::describe_instance(&info)),
        None => println!("no LocalStack started by `harness up` is running"),
    }
    Ok(())
}
