//! `harness chaos`: one chaos scenario, replayed exactly from a seed, or searched over many seeds
//! until the first run whose invariants break, which is then printed as a replay command.

use crate::pipeline::{Status, replay, report};
use crate::run_target::TargetArgs;

use super::ChaosArgs;
use super::report_files::write_reports;
use super::scenarios::{Loop, find_scenario, print_divergences};
use super::stack::prepare;

pub(super) async fn chaos(target_args: &TargetArgs, args: ChaosArgs) -> anyhow::Result<()> {
    let all = crate::scenario::load_dir(&crate::scenario::scenarios_dir())?;
    let scenario = find_scenario(&all, &args.scenario)?;
    if scenario.chaos.is_empty() {
        return Err(super::UsageError(format!(
            "scenario `{0}` injects no faults (it has no [[chaos]] tables); run it with \
             `harness run --scenario {0}`",
            scenario.name
        ))
        .into());
    }
    let first = args.seed.unwrap_or_else(crate::stack::run_id::random_seed);
    let runs = args.search.unwrap_or(1).max(1);
    if runs > 1 {
        eprintln!(
            "searching {runs} seeds from {first} (seeds {first}..{}), stopping at the first \
             violation",
            first.wrapping_add(runs - 1)
        );
    } else {
        eprintln!("seed {first} (replay with --seed {first})");
    }
    let (target, config) = prepare(target_args, &args.stack).await?;
    let mail = args.mailbox.setup();
    let seeds = (0..runs).map(|n| (&scenario, first.wrapping_add(n)));
    let reports = Loop::new(&target, &config, &mail)
        .run(seeds, Some(runs))
        .await;
    // The replay of a failure names this target: formatted before the target is shut down.
    let bad = reports.last().filter(|r| r.status == Status::Failed);
    let bad_replay = bad.map(|r| replay::chaos(&target, &mail, &scenario.name, r.seed));
    target.shutdown()?;
    println!("\n{}", report::summary_table(&reports));
    for r in &reports {
        if let Some(summary) = &r.chaos {
            for f in &summary.faults {
                println!(
                    "fault ({}, seed {}): {} injected {}",
                    r.scenario, r.seed, f.fault, f.injected
                );
            }
        }
    }
    print_divergences(&reports);
    // One scenario's reports share a file name: keep the run that decided the outcome (the
    // violation, or the last clean seed); the table above lists every seed.
    let paths = write_reports(&args.report_dir, &reports[reports.len() - 1..])?;
    super::print_report_paths(&paths);
    // The loop stops at the first failure, so only the last run can have failed.
    if let (Some(bad), Some(replay)) = (bad, bad_replay) {
        anyhow::bail!(
            "invariants broken on seed {} after {} run(s); replay: {replay}",
            bad.seed,
            reports.len(),
        );
    }
    super::scenarios::nothing_skipped_only(&reports)?;
    if runs > 1 {
        println!("no violation in {runs} seeds from {first}");
    }
    Ok(())
}
