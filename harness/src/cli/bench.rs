//! `harness bench`: the throughput sweep on one fresh stack, its table and its reports.

use std::time::Duration;

use crate::bench::{self, BenchConfig, config};
use crate::progress::Progress;
use crate::run_target::TargetArgs;

use super::BenchArgs;
use super::stack::prepare;

/// The sweep the flags describe; every bad value is refused before anything is built.
fn bench_config(args: &BenchArgs) -> anyhow::Result<BenchConfig> {
    let config = BenchConfig {
        concurrency: config::parse_concurrency(&args.concurrency)?,
        sizes: config::parse_sizes(&args.sizes)?,
        files: args.files,
        seed: args.seed.unwrap_or_else(crate::stack::run_id::random_seed),
        checks: args.checks,
        delivery_deadline: args
            .delivery_deadline_s
            .map_or_else(|| config::default_deadline(args.files), Duration::from_secs),
    };
    config.validate()?;
    Ok(config)
}

pub(super) async fn bench(target_args: &TargetArgs, args: BenchArgs) -> anyhow::Result<()> {
    let config = bench_config(&args)?;
    if target_args.target == crate::run_target::TargetKind::Ministack {
        // Refused before anything starts: its email is a stub, and the bench proves each file.
        return Err(super::UsageError(
            "harness bench does not run on --target ministack yet: it verifies every file's \
             email, which MiniStack cannot deliver (issue \"A second emulator, MiniStack\")"
                .into(),
        )
        .into());
    }
    let seed = config.seed;
    eprintln!("seed {seed} (replay with --seed {seed})");
    let (target, stack) = prepare(target_args, &args.stack).await?;
    let ticks = Progress::new("files measured", bench::total_files(&config));
    let report = bench::run(
        &target,
        &stack.handler_zip,
        &stack.email,
        &config,
        &args.mailbox.setup(),
        Some(&ticks),
        &mut std::io::stderr(),
    )
    .await;
    ticks.finish();
    println!("\n{}", bench::table(&report));
    let paths = super::report_files::write_bench(&args.report_dir, &report)?;
    super::print_report_paths(&paths);
    target.shutdown()?;
    let failures = report.failure_lines();
    for line in &failures {
        eprintln!("error: {}", crate::redact::secrets(line));
    }
    anyhow::ensure!(
        failures.is_empty(),
        "{} problem(s) in the benchmark (seed {seed}); replay: {}",
        failures.len(),
        report.replay
    );
    Ok(())
}
