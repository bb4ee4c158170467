//! `harness chaos`: one chaos scenario, replayed exactly from a seed, or searched over many seeds
//! until the first run whose invariants break, which is then printed as a replay command.

use crate::runner::{self, Status, report};
use crate::target::TargetArgs;

use super::ChaosArgs;
use super::scenarios::find_scenario;
use super::stack::prepare;

pub(super) async fn chaos(target_args: &TargetArgs, args: ChaosArgs) -> anyhow::Result<()> {
    let all = crate::scenario::load_dir(&crate::scenario::scenarios_dir())?;
    let scenario = find_scenario(&all, &args.scenario)?;
    anyhow::ensure!(
        !scenario.chaos.is_empty(),
        "scenario `{}` injects no faults (it has no [[chaos]] tables); run it with \
         `harness run --scenario {}`",
        scenario.name,
        scenario.name
    );
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
    let target_flags = target.replay_flags();
    let mail = args.mailbox.setup();
    let mut reports = Vec::new();
    for n in 0..runs {
        let seed = first.wrapping_add(n);
        if runs > 1 {
            eprintln!("[{}/{runs}] seed {seed}", n + 1);
        }
        let report = runner::run_scenario(
            &target,
            &scenario,
            seed,
            &config.handler_zip,
            &config.email,
            &mail,
            &mut std::io::stderr(),
        )
        .await;
        let failed = report.status == Status::Failed;
        if failed {
            eprintln!("{}", report.failure_message());
        }
        reports.push(report);
        if failed {
            break;
        }
    }
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
        for d in &r.divergences {
            println!("divergence ({}, seed {}): {d}", r.scenario, r.seed);
        }
    }
    // One scenario's reports share a file name: keep the run that decided the outcome (the
    // violation, or the last clean seed); the table above lists every seed.
    let paths = report::write_reports(&args.report_dir, &reports[reports.len() - 1..])?;
    super::print_report_paths(&paths);
    // The loop stops at the first failure, so only the last run can have failed.
    if let Some(bad) = reports.last().filter(|r| r.status == Status::Failed) {
        anyhow::bail!(
            "invariants broken on seed {} after {} run(s); replay: harness {} chaos --scenario {} \
             --seed {}{}",
            bad.seed,
            reports.len(),
            target_flags,
            scenario.name,
            bad.seed,
            mail.replay_flags()
        );
    }
    if runs > 1 {
        println!("no violation in {runs} seeds from {first}");
    }
    Ok(())
}
