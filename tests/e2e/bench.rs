//! `harness bench` as a library call on the shared embedded LocalStack, with tiny settings
//! (6 files, C=1 and 3, one size): the report's structure, every file verified, the baseline
//! measured, the baseline bucket and the stack gone afterwards.

use std::time::Duration;

use harness::bench::{self, BenchConfig, Checks};
use libtest_mimic::{Failed, Trial};

use crate::shared;

pub fn trials() -> Vec<Trial> {
    vec![Trial::test(
        "bench::tiny_sweep_verifies_every_file",
        tiny_sweep,
    )]
}

fn tiny_sweep() -> Result<(), Failed> {
    let shared = shared::get()?;
    let config = BenchConfig {
        concurrency: vec![1, 3],
        sizes: vec![1024],
        files: 6,
        seed: crate::scenarios::seed(),
        checks: Checks::Both,
        delivery_deadline: Duration::from_secs(90),
    };
    let mut log = Vec::new();
    let report = shared.runtime.block_on(bench::run(
        shared.target(),
        &shared.bootstrap_zip,
        "bench@example.com",
        &config,
        &harness::mailbox::MailSetup::Auto,
        None,
        &mut log,
    ));
    let context = || {
        format!(
            "replay: {}\n--- failures ---\n{}\n--- progress ---\n{}",
            report.replay,
            report.failure_lines().join("\n"),
            String::from_utf8_lossy(&log)
        )
    };
    if !report.passed() {
        return Err(format!("bench failed\n{}", context()).into());
    }
    let check = |ok: bool, what: &str| -> Result<(), Failed> {
        if ok {
            Ok(())
        } else {
            Err(format!("{what}\n{}", context()).into())
        }
    };
    check(
        report.warmup.as_ref().is_some_and(|w| w.verified == 1),
        "warm-up verified",
    )?;
    check(report.points.len() == 2, "one point per concurrency")?;
    for (point, concurrency) in report.points.iter().zip([1, 3]) {
        let at = format!("C={concurrency}");
        check(
            point.concurrency == concurrency && point.size_bytes == 1024,
            &at,
        )?;
        let v = point.verified.as_ref().ok_or("no verified run")?;
        check(
            v.files == 6 && v.verified == 6,
            &format!("{at}: every file verified"),
        )?;
        check(
            v.violations.is_empty() && !v.timed_out,
            &format!("{at}: no violation"),
        )?;
        check(
            v.fifo_latency.summary.count == 6 && v.email_latency.summary.count == 6,
            &format!("{at}: latencies"),
        )?;
        check(v.fifo_latency.p99_ms.is_some(), &format!("{at}: p99"))?;
        check(
            v.requests.get("PutObject") == Some(&6),
            &format!("{at}: 6 PutObject counted"),
        )?;
        check(
            v.requests.get("DeleteMessage") == Some(&6),
            &format!("{at}: 6 DeleteMessage"),
        )?;
        let u = point.unchecked.as_ref().ok_or("no checks-off run")?;
        check(
            u.fifo_messages == 6 && u.emails == 6 && !u.timed_out,
            &format!("{at}: checks off counted"),
        )?;
        let b = point.baseline.as_ref().ok_or("no baseline run")?;
        check(
            b.puts == 6 && b.puts_per_s.is_some_and(|r| r > 0.0),
            &format!("{at}: baseline"),
        )?;
        check(
            point.ratio_to_baseline.is_some_and(|r| r > 0.0),
            &format!("{at}: ratio > 0"),
        )?;
        check(
            point.unchecked_ratio_to_baseline.is_some_and(|r| r > 0.0),
            &format!("{at}: checks-off ratio"),
        )?;
        let ceiling = point.ceiling.ok_or("no ceiling")?;
        check(
            ceiling.requests_per_file >= 7.0 && ceiling.reached.is_some(),
            &format!("{at}: ceiling"),
        )?;
        check(
            point.cpu_percent.is_some() && point.rss.is_some(),
            &format!("{at}: overhead"),
        )?;
    }
    check(
        report.baseline_versions_deleted == Some(12),
        "baseline bucket emptied (2 x 6 PutObject)",
    )?;
    check(
        report.teardown.as_ref().is_some_and(|t| t.is_clean()),
        "teardown clean",
    )?;
    check(report.overhead.rss.is_some(), "RSS sampled")?;
    // The table and both report files.
    let table = bench::table(&report);
    check(
        table.lines().count() >= 3,
        "table has a header and two rows",
    )?;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-report");
    let paths =
        harness::cli::report_files::write_bench(&dir, &report).map_err(|e| e.to_string())?;
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&paths[0])?)?;
    check(
        json["points"].as_array().is_some_and(|p| p.len() == 2),
        "bench.json points",
    )?;
    check(json["seed"] == config.seed, "bench.json seed")?;
    // Nothing of the run is left: the bucket and the stack's bucket are gone.
    let s3 = shared.target().s3();
    let gone = shared.runtime.block_on(async {
        let baseline = s3
            .head_bucket()
            .bucket(&report.baseline_bucket)
            .send()
            .await;
        baseline.is_err()
    });
    check(gone, "baseline bucket gone")?;
    Ok(())
}
