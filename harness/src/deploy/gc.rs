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
//! Each old run is removed with [`teardown`], which deletes only what carries the tag
//! `harness-run=<run id>` and then lists what is left: a resource whose name looks like ours
//! but lacks the tag is reported and left alone, so gc never touches anything foreign. A run
//! whose bucket lives in another region is skipped (its regional resources are not visible
//! from here); run gc there.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::types::QueueAttributeName;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

use super::aws_error::describe;
use super::teardown::{self, TeardownReport};
use crate::stack::{DEFAULT_PREFIX, RunId, StackNames, is_ours};
use crate::target::Target;

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

/// A run found by the names of its resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub run_id: RunId,
    /// What was found, one label each (`s3 bucket NAME`, ...), in listing order.
    pub resources: Vec<String>,
    /// The newest creation or modification time among the resources that report one.
    pub newest: Option<SystemTime>,
    /// The bucket's region when S3 reports one other than the target's.
    pub other_region: Option<String>,
}

impl Candidate {
    fn new(run_id: RunId) -> Self {
        Self {
            run_id,
            resources: Vec::new(),
            newest: None,
            other_region: None,
        }
    }

    /// How old the run is at `now` (zero if a clock is ahead), `None` when nothing is dated.
    pub fn age(&self, now: SystemTime) -> Option<Duration> {
        self.newest
            .map(|t| now.duration_since(t).unwrap_or(Duration::ZERO))
    }
}

/// Every run with resources under our names, and the listings that failed.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    pub runs: BTreeMap<RunId, Candidate>,
    /// A failed listing may hide runs; gc then reports failure.
    pub errors: Vec<String>,
}

impl Discovery {
    fn found(&mut self, name: &str, label: String, created: Option<SystemTime>) {
        let Some(run_id) = is_ours(name) else {
            return;
        };
        let run = self
            .runs
            .entry(run_id.clone())
            .or_insert_with(|| Candidate::new(run_id));
        run.resources.push(label);
        if let Some(created) = created {
            run.newest = Some(run.newest.map_or(created, |n| n.max(created)));
        }
    }
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
            || "age unknown".to_owned(),
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
                "its bucket is in {region}; run gc there (--region {region})"
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

/// Lists every service for names of ours; a failed listing is recorded and the rest go on.
pub async fn discover(target: &Target) -> Discovery {
    let mut found = Discovery::default();
    let prefix = format!("{DEFAULT_PREFIX}-");
    let errors = [
        list_buckets(target, &mut found).await,
        list_functions(target, &mut found).await,
        list_topics(target, &mut found).await,
        list_queues(target, &prefix, &mut found).await,
        list_roles(target, &mut found).await,
        list_aliases(target, &mut found).await,
        list_log_groups(target, &prefix, &mut found).await,
    ];
    found
        .errors
        .extend(errors.into_iter().filter_map(Result::err));
    found
}

fn system_time(time: Option<&DateTime>) -> Option<SystemTime> {
    time.and_then(|t| SystemTime::try_from(*t).ok())
}

/// Lambda's `LastModified`, `2024-05-01T12:34:56.789+0000`: RFC 3339 but for the missing
/// colon in the offset.
pub fn parse_lambda_time(text: &str) -> Option<SystemTime> {
    let fixed = match text
        .len()
        .checked_sub(5)
        .and_then(|i| Some((i, text.get(i..)?)))
    {
        Some((i, tail))
            if tail.starts_with(['+', '-']) && tail[1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            format!("{}{}:{}", &text[..i], &tail[..3], &tail[3..])
        }
        _ => text.to_owned(),
    };
    let parsed = DateTime::from_str(&fixed, Format::DateTimeWithOffset).ok()?;
    SystemTime::try_from(parsed).ok()
}

async fn list_buckets(target: &Target, found: &mut Discovery) -> Result<(), String> {
    let mut pages = target.s3().list_buckets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("listing s3 buckets: {}", describe(&e)))?;
        for bucket in page.buckets() {
            let Some(name) = bucket.name() else { continue };
            found.found(
                name,
                format!("s3 bucket {name}"),
                system_time(bucket.creation_date()),
            );
            let elsewhere = bucket
                .bucket_region()
                .filter(|r| !r.is_empty() && *r != target.region);
            if let (Some(run_id), Some(region)) = (is_ours(name), elsewhere)
                && let Some(run) = found.runs.get_mut(&run_id)
            {
                run.other_region = Some(region.to_owned());
            }
        }
    }
    Ok(())
}

async fn list_functions(target: &Target, found: &mut Discovery) -> Result<(), String> {
    let mut pages = target.lambda().list_functions().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("listing lambda functions: {}", describe(&e)))?;
        for function in page.functions() {
            let Some(name) = function.function_name() else {
                continue;
            };
            found.found(
                name,
                format!("lambda function {name}"),
                function.last_modified().and_then(parse_lambda_time),
            );
        }
    }
    Ok(())
}

async fn list_topics(target: &Target, found: &mut Discovery) -> Result<(), String> {
    let mut pages = target.sns().list_topics().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("listing sns topics: {}", describe(&e)))?;
        for topic in page.topics() {
            let Some(arn) = topic.topic_arn() else {
                continue;
            };
            let name = arn.rsplit(':').next().unwrap_or(arn);
            found.found(name, format!("sns topic {name}"), None);
        }
    }
    Ok(())
}

async fn list_queues(target: &Target, prefix: &str, found: &mut Discovery) -> Result<(), String> {
    let sqs = target.sqs();
    // SQS returns a NextToken only when MaxResults is set.
    let mut pages = sqs
        .list_queues()
        .queue_name_prefix(prefix)
        .max_results(1000)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("listing sqs queues: {}", describe(&e)))?;
        for url in page.queue_urls() {
            let name = url.rsplit('/').next().unwrap_or(url);
            if is_ours(name).is_none() {
                continue;
            }
            // Best effort: a queue that vanished meanwhile simply has no time.
            let created = sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::CreatedTimestamp)
                .send()
                .await
                .ok()
                .and_then(|out| {
                    let seconds = out
                        .attributes()?
                        .get(&QueueAttributeName::CreatedTimestamp)?
                        .parse::<u64>()
                        .ok()?;
                    UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
                });
            found.found(name, format!("sqs queue {name}"), created);
        }
    }
    Ok(())
}

async fn list_roles(target: &Target, found: &mut Discovery) -> Result<(), String> {
    let mut pages = target.iam().list_roles().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("listing iam roles: {}", describe(&e)))?;
        for role in page.roles() {
            let name = role.role_name();
            found.found(
                name,
                format!("iam role {name}"),
                system_time(Some(role.create_date())),
            );
        }
    }
    Ok(())
}

async fn list_aliases(target: &Target, found: &mut Discovery) -> Result<(), String> {
    let mut pages = target.kms().list_aliases().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("listing kms aliases: {}", describe(&e)))?;
        for alias in page.aliases() {
            let Some(name) = alias.alias_name() else {
                continue;
            };
            found.found(
                name,
                format!("kms key {name}"),
                system_time(alias.creation_date()),
            );
        }
    }
    Ok(())
}

async fn list_log_groups(
    target: &Target,
    prefix: &str,
    found: &mut Discovery,
) -> Result<(), String> {
    let mut pages = target
        .logs()
        .describe_log_groups()
        .log_group_name_prefix(format!("/aws/lambda/{prefix}"))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("listing log groups: {}", describe(&e)))?;
        for group in page.log_groups() {
            let Some(name) = group.log_group_name() else {
                continue;
            };
            let created = group
                .creation_time()
                .and_then(|ms| u64::try_from(ms).ok())
                .and_then(|ms| UNIX_EPOCH.checked_add(Duration::from_millis(ms)));
            found.found(name, format!("log group {name}"), created);
        }
    }
    Ok(())
}

/// Parses an age threshold: whole numbers with a unit, `s`, `m`, `h`, `d` or `w`, e.g. `30m`,
/// `2h`, `1d`, `1h30m`; a bare `0` is zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = |why: &str| {
        format!(
            "invalid duration `{text}`: {why}; expected a whole number and a unit \
             (s, m, h, d or w), e.g. 30m, 2h, 1d or 1h30m"
        )
    };
    let trimmed = text.trim();
    if trimmed == "0" {
        return Ok(Duration::ZERO);
    }
    if trimmed.is_empty() {
        return Err(bad("it is empty"));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in trimmed.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad(&format!("`{c}` is not a unit"))),
        };
        if digits.is_empty() {
            return Err(bad(&format!("no number before `{c}`")));
        }
        let seconds = digits
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(unit))
            .and_then(|s| total.checked_add(s))
            .ok_or_else(|| bad("it is too large"))?;
        total = seconds;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(bad(&format!("`{digits}` has no unit")));
    }
    Ok(Duration::from_secs(total))
}

/// An age for people: the two largest units, e.g. `1d 2h`, `3h 5m`, `4m 10s`, `42s`, `2h`.
pub fn format_age(age: Duration) -> String {
    let s = age.as_secs();
    let (d, h, m, sec) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60, s % 60);
    let (major, minor) = match (d, h, m) {
        (0, 0, 0) => return format!("{sec}s"),
        (0, 0, _) => (format!("{m}m"), (sec, "s")),
        (0, _, _) => (format!("{h}h"), (m, "m")),
        _ => (format!("{d}d"), (h, "h")),
    };
    match minor {
        (0, _) => major,
        (n, unit) => format!("{major} {n}{unit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        let secs = |t: &str| parse_duration(t).map(|d| d.as_secs());
        assert_eq!(secs("0"), Ok(0));
        assert_eq!(secs("0s"), Ok(0));
        assert_eq!(secs("45s"), Ok(45));
        assert_eq!(secs("30m"), Ok(1_800));
        assert_eq!(secs("2h"), Ok(7_200));
        assert_eq!(secs("1d"), Ok(86_400));
        assert_eq!(secs("1w"), Ok(604_800));
        assert_eq!(secs("1h30m"), Ok(5_400));
        assert_eq!(secs(" 2h "), Ok(7_200));
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        for (bad, why) in [
            ("", "empty"),
            ("2", "`2` has no unit"),
            ("h", "no number before `h`"),
            ("2x", "`x` is not a unit"),
            ("2 h", "` ` is not a unit"),
            ("-1h", "`-` is not a unit"),
            ("1.5h", "`.` is not a unit"),
            ("2H", "`H` is not a unit"),
            ("99999999999999999999d", "too large"),
        ] {
            let error = parse_duration(bad).unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
            assert!(error.contains("e.g. 30m, 2h, 1d"), "{error}");
        }
    }

    #[test]
    fn ages_read_well() {
        let f = |s| format_age(Duration::from_secs(s));
        assert_eq!(f(42), "42s");
        assert_eq!(f(250), "4m 10s");
        assert_eq!(f(3 * 3_600 + 5 * 60 + 9), "3h 5m");
        assert_eq!(f(86_400 + 2 * 3_600), "1d 2h");
        assert_eq!(f(0), "0s");
        assert_eq!(f(7_200), "2h");
        assert_eq!(f(86_400), "1d");
    }

    #[test]
    fn lambda_times_parse() {
        let t = parse_lambda_time("2024-05-01T12:34:56.789+0000").unwrap();
        let z = parse_lambda_time("2024-05-01T12:34:56.789Z").unwrap();
        assert_eq!(t, z);
        let later = parse_lambda_time("2024-05-01T14:34:56.789+0200").unwrap();
        assert_eq!(later, t);
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_millis(),
            1_714_566_896_789
        );
        assert_eq!(parse_lambda_time("yesterday"), None);
    }

    #[test]
    fn discovery_groups_by_run_and_keeps_the_newest_time() {
        let run = RunId::from_seed(3);
        let names = StackNames::with_default_prefix(&run);
        let at = |s| Some(UNIX_EPOCH + Duration::from_secs(s));
        let mut d = Discovery::default();
        d.found(&names.bucket, "bucket".into(), at(100));
        d.found(&names.role, "role".into(), at(300));
        d.found(&names.fifo_topic, "topic".into(), None);
        d.found(&names.log_group, "logs".into(), at(200));
        // Near misses and foreign names are not candidates.
        d.found(&format!("{}-old", names.bucket), "no".into(), at(900));
        d.found("my-bucket", "no".into(), at(900));
        assert_eq!(d.runs.len(), 1);
        let c = &d.runs[&run];
        assert_eq!(c.resources, ["bucket", "role", "topic", "logs"]);
        assert_eq!(c.newest, at(300));
        assert_eq!(
            c.age(UNIX_EPOCH + Duration::from_secs(360)),
            Some(Duration::from_secs(60))
        );
        // A clock behind the service's: age zero, never negative.
        assert_eq!(c.age(UNIX_EPOCH), Some(Duration::ZERO));
        assert_eq!(Candidate::new(run).age(SystemTime::now()), None);
    }

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
