//! Garbage collection: finds what crashed runs left behind and removes the old ones.
//!
//! Candidates come from resource *names*: every listing (S3 buckets, Lambda functions, SNS
//! topics, SQS queues, IAM roles, KMS aliases, log groups) is filtered with
//! [`crate::stack::names::is_ours`], which yields the run id of a name that is exactly one of
//! ours and nothing for anything else. A run's age is that of its newest resource that reports
//! a creation or modification time (bucket `CreationDate`, function `LastModified`, role
//! `CreateDate`, alias `CreationDate`, queue `CreatedTimestamp`, log group `creationTime`);
//! runs younger than the threshold are kept. A run none of whose resources reports a time
//! (only topics left) cannot be in the middle of a deploy, which creates the dated KMS alias
//! first, so it counts as old.
//!
//! Each old run is removed with [`teardown`], which deletes only what carries the tags
//! `harness-run=<run id>` and `managed-by=upload-harness` and then lists what is left: a
//! resource whose name looks like ours but lacks them is reported and left alone, so gc never
//! touches anything foreign. A run whose bucket lives in another region, or whose (global) role
//! is tagged `harness-region` with another region, is skipped (its regional resources are not
//! visible from here); run gc there.
//!
//! The decision lives here; finding the runs is in `discovery`, reading and printing ages in
//! `duration`.

mod discovery;
mod duration;

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use super::teardown::{self, TeardownReport};
use crate::run_target::Target;
use crate::stack::{RunId, StackNames, TAG_REGION};

pub use discovery::{Candidate, Discovery, discover, parse_lambda_time};
pub use duration::{format_age, parse_duration};

/// What to collect.
#[derive(Debug, Clone, Default)]
pub struct GcOptions {
    /// Runs whose newest resource is younger than this are kept.
    pub older_than: Duration,
    /// Only report what would be removed.
    pub dry_run: bool,
    /// Only consider these runs (targeted clean-up, and tests sharing one account); `None`
    /// considers every run found.
    pub runs: Option<BTreeSet<RunId>>,
}

/// What gc did with one run.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Younger than the threshold.
    Kept,
    /// Old; a dry run only lists it.
    WouldRemove,
    /// Torn down, nothing left.
    Removed(TeardownReport),
    /// The teardown reported errors or leftovers (e.g. a resource without our tag).
    Failed(TeardownReport),
    /// Not handled here, with the reason.
    Skipped(String),
}

/// One run and its outcome.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub run_id: RunId,
    /// `None` when none of its resources reports a time.
    pub age: Option<Duration>,
    pub resources: Vec<String>,
    pub outcome: Outcome,
}

impl RunReport {
    /// One line for the user: outcome, run, age and what was done or found.
    pub fn summary(&self, threshold: Duration) -> String {
        let age = self.age.map_or_else(
            || "age unknown: none of its resources reports a time, so it counts as old".to_owned(),
            |a| format!("age {}", format_age(a)),
        );
        let run = &self.run_id;
        match &self.outcome {
            Outcome::Kept => format!(
                "kept         {run} ({age}, younger than {})",
                format_age(threshold)
            ),
            Outcome::WouldRemove => {
                format!("would remove {run} ({age}): {}", self.resources.join(", "))
            }
            Outcome::Removed(r) => format!(
                "removed      {run} ({age}): {} deleted, {} already absent",
                r.deleted.len(),
                r.absent.len()
            ),
            Outcome::Failed(r) => format!(
                "NOT removed  {run} ({age}): {}{}",
                r.errors.join("; "),
                if r.leftovers.is_empty() {
                    String::new()
                } else {
                    format!("; left behind: {}", r.leftovers.join(", "))
                }
            ),
            Outcome::Skipped(why) => format!("skipped      {run} ({age}): {why}"),
        }
    }
}

/// What a gc did.
#[derive(Debug, Clone, Default)]
pub struct GcReport {
    /// Every run considered, by run id.
    pub runs: Vec<RunReport>,
    /// Listings that failed.
    pub errors: Vec<String>,
}

impl GcReport {
    /// No failed listing and every teardown clean.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
            && !self
                .runs
                .iter()
                .any(|r| matches!(r.outcome, Outcome::Failed(_)))
    }

    pub fn run(&self, run_id: &RunId) -> Option<&RunReport> {
        self.runs.iter().find(|r| &r.run_id == run_id)
    }
}

/// Finds the runs of ours on `target`, removes those older than the threshold (or lists them
/// on a dry run) and reports every run; `progress` gets what each teardown deletes.
pub async fn gc(
    target: &Target,
    options: &GcOptions,
    progress: &mut (dyn std::io::Write + Send),
) -> GcReport {
    let discovery = discover(target).await;
    let now = SystemTime::now();
    let mut report = GcReport {
        runs: Vec::new(),
        errors: discovery.errors,
    };
    let wanted = |run: &RunId| options.runs.as_ref().is_none_or(|only| only.contains(run));
    for candidate in discovery.runs.into_values().filter(|c| wanted(&c.run_id)) {
        let age = candidate.age(now);
        let outcome = if let Some(region) = &candidate.other_region {
            Outcome::Skipped(format!(
                "it belongs to region {region} (its bucket or its role's {TAG_REGION} tag says \
                 so); run gc there (--region {region})"
            ))
        } else if age.is_some_and(|a| a < options.older_than) {
            Outcome::Kept
        } else if options.dry_run {
            Outcome::WouldRemove
        } else {
            let names = StackNames::with_default_prefix(&candidate.run_id);
            let removal = teardown::teardown(target, &names, progress).await;
            if removal.is_clean() {
                Outcome::Removed(removal)
            } else {
                Outcome::Failed(removal)
            }
        };
        let run = RunReport {
            run_id: candidate.run_id,
            age,
            resources: candidate.resources,
            outcome,
        };
        report.runs.push(run);
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_teardown_makes_the_report_unclean() {
        let run = |outcome| RunReport {
            run_id: RunId::from_seed(1),
            age: Some(Duration::from_secs(7_300)),
            resources: vec!["s3 bucket b".into()],
            outcome,
        };
        let mut report = GcReport {
            runs: vec![run(Outcome::Kept), run(Outcome::WouldRemove)],
            errors: Vec::new(),
        };
        assert!(report.is_clean());
        let refused = TeardownReport {
            errors: vec!["s3 bucket b: exists but is not tagged; refusing".into()],
            leftovers: vec!["s3 bucket b".into()],
            ..TeardownReport::default()
        };
        report.runs.push(run(Outcome::Failed(refused)));
        assert!(!report.is_clean());
        let line = report.runs[2].summary(Duration::from_secs(3_600));
        assert!(line.starts_with("NOT removed"), "{line}");
        assert!(
            line.contains("age 2h 1m") && line.contains("refusing"),
            "{line}"
        );
        let kept = report.runs[0].summary(Duration::from_secs(3 * 3_600));
        assert!(kept.contains("younger than 3h"), "{kept}");
    }
}
