//! `harness run`: scenarios from `scenarios/`, one seed, reports and a summary.

use crate::target::TargetArgs;

use super::RunArgs;
use super::stack::prepare;

pub(super) async fn run_scenarios(target_args: &TargetArgs, args: RunArgs) -> anyhow::Result<()> {
    use crate::runner::{self, Status, report};
    let all = crate::scenario::load_dir(&crate::scenario::scenarios_dir())?;
    let chosen: Vec<_> = if args.scenarios.is_empty() {
        all
    } else {
        args.scenarios
            .iter()
            .map(|name| find_scenario(&all, name))
            .collect::<anyhow::Result<_>>()?
    };
    let seed = args.seed.unwrap_or_else(crate::stack::run_id::random_seed);
    eprintln!("seed {seed} (replay with --seed {seed})");
    let (target, config) = prepare(target_args, &args.stack).await?;
    let mail = args.mailbox.setup();
    let mut reports = Vec::new();
    for scenario in &chosen {
        let report = runner::run_scenario(
            &target,
            scenario,
            seed,
            &config.handler_zip,
            &config.email,
            &mail,
            &mut std::io::stderr(),
        )
        .await;
        if report.status == Status::Failed {
            eprintln!("{}", report.failure_message());
        }
        reports.push(report);
    }
    target.shutdown()?;
    println!("\n{}", report::summary_table(&reports));
    for r in reports.iter().filter(|r| r.status == Status::Skipped) {
        println!(
            "skipped {}: {}",
            r.scenario,
            r.skipped_reason.as_deref().unwrap_or("")
        );
    }
    for r in &reports {
        for d in &r.divergences {
            println!("divergence ({}): {d}", r.scenario);
        }
    }
    let paths = report::write_reports(&args.report_dir, &reports)?;
    super::print_report_paths(&paths);
    let failed = reports
        .iter()
        .filter(|r| r.status == Status::Failed)
        .count();
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} scenario(s) failed (seed {seed})",
        reports.len()
    );
    Ok(())
}

/// The scenario called `name` among `all`, or an error listing the known ones.
pub(super) fn find_scenario(
    all: &[crate::scenario::Scenario],
    name: &str,
) -> anyhow::Result<crate::scenario::Scenario> {
    match all.iter().find(|s| s.name == name) {
        Some(found) => Ok(found.clone()),
        None => {
            let known: Vec<_> = all.iter().map(|s| s.name.as_str()).collect();
            anyhow::bail!("no scenario `{name}`; known: {}", known.join(", "))
        }
    }
}
