//! `harness gc`: runs are found by the names of their resources, young ones are kept, old ones
//! torn down completely, and a resource that only looks like ours is reported and left alone.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use harness::deploy::gc::{GcOptions, GcReport, Outcome, gc};
use harness::deploy::teardown::{leftovers, teardown};
use harness::deploy::{self, DeployConfig};
use harness::run_target::Target;
use harness::stack::{RunId, StackNames};
use libtest_mimic::{Failed, Trial};

use crate::shared::{self, Shared};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "gc::keeps_young_runs_removes_old_ones_and_leaves_foreign_resources",
            || with_shared(keeps_young_runs_removes_old_ones_and_leaves_foreign_resources),
        ),
        Trial::test(
            "gc::regression_a_cut_off_benchs_baseline_bucket_is_found_and_removed",
            || with_shared(regression_a_cut_off_benchs_baseline_bucket_is_found_and_removed),
        ),
        Trial::test(
            "gc::a_bad_duration_is_refused_with_examples",
            a_bad_duration_is_refused_with_examples,
        ),
    ]
}

fn with_shared(test: fn(&'static Shared) -> Result<(), Failed>) -> Result<(), Failed> {
    test(shared::get()?)
}

const DAY: Duration = Duration::from_secs(86_400);

fn outcome<'a>(report: &'a GcReport, run: &RunId) -> Result<&'a Outcome, Failed> {
    report
        .run(run)
        .map(|r| &r.outcome)
        .ok_or_else(|| format!("gc did not find run {run}: {report:?}").into())
}

fn keeps_young_runs_removes_old_ones_and_leaves_foreign_resources(
    shared: &'static Shared,
) -> Result<(), Failed> {
    let target = shared.target();
    let ours = StackNames::with_default_prefix(&RunId::random());
    // Someone else's bucket that happens to carry a name of ours, without our tag.
    let foreign = StackNames::with_default_prefix(&RunId::random());
    shared.runtime.block_on(async {
        let result = scenario(shared, target, &ours, &foreign).await;
        // Clean up whatever the scenario left, whether it passed or not.
        let s3 = target.s3();
        let foreign_gone = s3.delete_bucket().bucket(&foreign.bucket).send().await;
        let ours_left = teardown(target, &ours, &mut Vec::new()).await;
        result?;
        foreign_gone.map_err(|e| format!("deleting the foreign bucket: {e:?}"))?;
        if !ours_left.deleted.is_empty() {
            return Err(format!("gc left resources behind: {:?}", ours_left.deleted).into());
        }
        Ok(())
    })
}

async fn scenario(
    shared: &Shared,
    target: &Target,
    ours: &StackNames,
    foreign: &StackNames,
) -> Result<(), Failed> {
    let mut log = Vec::new();
    let config = DeployConfig::new(shared.bootstrap_zip.clone(), "alerts@example.com");
    let (deployment, _) = deploy::deploy(target, ours, &config, &mut log)
        .await
        .map_err(|e| format!("deploy failed: {e}"))?;
    target
        .s3()
        .create_bucket()
        .bucket(&foreign.bucket)
        .send()
        .await
        .map_err(|e| format!("creating the foreign bucket: {e:?}"))?;
    // Other trials deploy into the same LocalStack concurrently: only look at our two runs.
    let only = Some(BTreeSet::from([
        ours.run_id.clone(),
        foreign.run_id.clone(),
    ]));
    let options = |older_than, dry_run| GcOptions {
        older_than,
        dry_run,
        runs: only.clone(),
    };

    // Everything is minutes old: a day's threshold keeps both runs and touches nothing.
    let young = gc(target, &options(DAY, false), &mut log).await;
    for run in [&ours.run_id, &foreign.run_id] {
        if !matches!(outcome(&young, run)?, Outcome::Kept) {
            return Err(format!("run {run} was not kept at 1d: {young:?}").into());
        }
    }
    let found = young.run(&ours.run_id).expect("checked above");
    if found.resources.len() != 9 || found.age.is_none_or(|a| a >= DAY) {
        return Err(format!(
            "expected the 9 resources of the deployed run, dated today: {found:?}"
        )
        .into());
    }
    if !young.is_clean() {
        return Err(format!("a gc that keeps everything is not clean: {young:?}").into());
    }

    // A dry run at zero lists both runs and deletes nothing.
    let dry = gc(target, &options(Duration::ZERO, true), &mut log).await;
    for run in [&ours.run_id, &foreign.run_id] {
        if !matches!(outcome(&dry, run)?, Outcome::WouldRemove) {
            return Err(format!("the dry run does not list run {run}: {dry:?}").into());
        }
    }
    let still = leftovers(target, ours, &deployment.account_id).await;
    if still.len() != 9 {
        return Err(format!("the dry run changed the stack: {still:?}").into());
    }

    // The command line does the same (every run of the shared LocalStack is younger than 1d).
    let endpoint = target.endpoint_url.as_deref().expect("a LocalStack target");
    let cli = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["--target", "localstack", "--endpoint-url", endpoint])
        .args(["gc", "--older-than", "1d", "--dry-run"])
        .output()
        .map_err(|e| format!("running harness gc: {e}"))?;
    let stdout = String::from_utf8_lossy(&cli.stdout);
    let kept_line = format!("kept         {} (age ", ours.run_id);
    if !cli.status.success() || !stdout.lines().any(|l| l.starts_with(&kept_line)) {
        return Err(format!(
            "`harness gc --older-than 1d --dry-run` exited {}; stdout:\n{stdout}\nstderr:\n{}",
            cli.status,
            String::from_utf8_lossy(&cli.stderr)
        )
        .into());
    }

    // At zero every run is old: ours goes completely, the foreign bucket is refused and stays.
    let old = gc(target, &options(Duration::ZERO, false), &mut log).await;
    match outcome(&old, &ours.run_id)? {
        Outcome::Removed(r) if r.deleted.len() == 9 && r.leftovers.is_empty() => {}
        other => return Err(format!("our run was not removed cleanly: {other:?}").into()),
    }
    match outcome(&old, &foreign.run_id)? {
        Outcome::Failed(r)
            if r.deleted.is_empty()
                && r.errors.iter().any(|e| {
                    e.contains(&foreign.bucket) && e.contains("refusing to delete it")
                }) => {}
        other => {
            return Err(format!("the foreign bucket was not reported: {other:?}").into());
        }
    }
    if old.is_clean() {
        return Err("a gc that refused a resource reports itself clean".into());
    }
    let left = leftovers(target, ours, &deployment.account_id).await;
    if !left.is_empty() {
        return Err(format!("gc left resources of our run: {left:?}").into());
    }
    target
        .s3()
        .head_bucket()
        .bucket(&foreign.bucket)
        .send()
        .await
        .map_err(|e| format!("gc deleted the foreign bucket: {e:?}"))?;

    // Our run is gone from the listings; the foreign bucket is still found and still refused.
    let again = gc(target, &options(Duration::ZERO, false), &mut log).await;
    if again.run(&ours.run_id).is_some()
        || !matches!(outcome(&again, &foreign.run_id)?, Outcome::Failed(_))
    {
        return Err(format!("unexpected second gc: {again:?}").into());
    }
    Ok(())
}

/// A bench cut off before it removed its baseline bucket left a bucket of ours that no stack
/// resource names: gc must still find it by name and remove it (versions included).
fn regression_a_cut_off_benchs_baseline_bucket_is_found_and_removed(
    shared: &'static Shared,
) -> Result<(), Failed> {
    let target = shared.target();
    let names = StackNames::with_default_prefix(&RunId::random());
    let bucket = names.baseline_bucket.clone();
    shared.runtime.block_on(async {
        let s3 = target.s3();
        // What the bench creates (tagged, versioned), left as a cut-off bench leaves it.
        harness::bench::baseline::create(&s3, target, &names)
            .await
            .map_err(|e| format!("creating the baseline bucket: {e}"))?;
        for body in ["one", "two"] {
            s3.put_object()
                .bucket(&bucket)
                .key("baseline/file")
                .body(body.as_bytes().to_vec().into())
                .send()
                .await
                .map_err(|e| format!("PutObject: {e:?}"))?;
        }
        let options = GcOptions {
            older_than: Duration::ZERO,
            dry_run: false,
            runs: Some(BTreeSet::from([names.run_id.clone()])),
        };
        let report = gc(target, &options, &mut Vec::new()).await;
        let removed = match outcome(&report, &names.run_id)? {
            Outcome::Removed(r) => r.deleted == [format!("s3 bucket {bucket}")],
            _ => false,
        };
        let gone = s3.head_bucket().bucket(&bucket).send().await.is_err();
        if !removed || !gone {
            // Leave nothing behind for the suite's final leftover check.
            teardown(target, &names, &mut Vec::new()).await;
            return Err(format!(
                "the baseline bucket was not removed (still there: {}): {report:?}",
                !gone
            )
            .into());
        }
        Ok::<(), Failed>(())
    })
}

fn a_bad_duration_is_refused_with_examples() -> Result<(), Failed> {
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["gc", "--older-than", "2x"])
        .output()
        .map_err(|e| format!("running harness: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(2)
        || !stderr.contains("invalid duration `2x`")
        || !stderr.contains("e.g. 30m, 2h, 1d")
    {
        return Err(format!(
            "expected a usage error naming the bad duration, got {}: {stderr}",
            out.status
        )
        .into());
    }
    Ok(())
}
