//! `harness up`, `down` and `status`: the embedded LocalStack kept running between commands.

use std::io::Write;

use anyhow::Context;

use crate::localstack::{self, stop_instance};
use crate::paths;
use crate::run_target::{self, TargetArgs};

pub(super) async fn up(args: &TargetArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.target == run_target::TargetKind::Embedded,
        "`harness up` starts the embedded LocalStack; drop --target (other targets are already up)"
    );
    let instances = paths::instances_dir();
    if let Some(info) = localstack::read_running(&instances) {
        println!("{}", run_target::describe_instance(&info));
        return Ok(());
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

pub(super) fn status() -> anyhow::Result<()> {
    match localstack::read_running(&paths::instances_dir()) {
        Some(info) => println!("{}", run_target::describe_instance(&info)),
        None => println!("no LocalStack started by `harness up` is running"),
    }
    Ok(())
}
