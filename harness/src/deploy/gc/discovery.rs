//! Discovery: lists every service for resource names of ours and groups them by run.
//!
//! Each listing is filtered with [`crate::stack::names::is_ours`]; a run's candidate keeps
//! every resource found and the newest creation or modification time among them, which is
//! what the gc decision ([`super::gc`]) ages runs by.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::types::QueueAttributeName;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

use crate::deploy::aws_error::describe;
use crate::run_target::Target;
use crate::stack::{DEFAULT_PREFIX, RunId, StackNames, TAG_REGION, is_ours};

/// A run found by the names of its resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub run_id: RunId,
    /// What was found, one label each (`s3 bucket NAME`, ...), in listing order.
    pub resources: Vec<String>,
    /// The newest creation or modification time among the resources that report one.
    pub newest: Option<SystemTime>,
    /// The run's region when its bucket (as S3 reports it) or its role (`harness-region`) says
    /// it is another than the target's.
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
            if let Some((run_id, region)) =
                stack_elsewhere(name, bucket.bucket_region(), &target.region)
                && let Some(run) = found.runs.get_mut(&run_id)
            {
                run.other_region = Some(region.to_owned());
            }
            // A region-mismatch bucket here belongs to a stack elsewhere: its tag says where,
            // and only a teardown from there removes it.
            let lives_here = bucket
                .bucket_region()
                .is_none_or(|r| r.is_empty() || r == target.region);
            if lives_here
                && let Some(run_id) = is_ours(name)
                && name == StackNames::with_default_prefix(&run_id).mismatch_bucket
                && let Some(home) = mismatch_bucket_home(target, name).await?
                && home != target.region
                && let Some(run) = found.runs.get_mut(&run_id)
            {
                run.other_region = Some(home);
            }
        }
    }
    Ok(())
}

/// The run and region of a stack that lives in another region than `here`, told by one of its
/// buckets. The `region-mismatch` scenario's bucket lives elsewhere on purpose, so it says
/// nothing about where its stack is (its teardown finds it from the stack's region).
fn stack_elsewhere<'a>(
    name: &str,
    bucket_region: Option<&'a str>,
    here: &str,
) -> Option<(RunId, &'a str)> {
    let region = bucket_region.filter(|r| !r.is_empty() && *r != here)?;
    let run_id = is_ours(name)?;
    let names = StackNames::with_default_prefix(&run_id);
    (name != names.mismatch_bucket).then_some((run_id, region))
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
            // IAM is global: a role tagged with another stack region belongs to a run there.
            if let Some(run_id) = is_ours(name)
                && let Some(region) = role_region(target, name).await?
                && region != target.region
                && let Some(run) = found.runs.get_mut(&run_id)
            {
                run.other_region = Some(region);
            }
        }
    }
    Ok(())
}

/// The `harness-region` tag of the region-mismatch bucket `name` (`None` without one).
async fn mismatch_bucket_home(target: &Target, name: &str) -> Result<Option<String>, String> {
    match target.s3().get_bucket_tagging().bucket(name).send().await {
        Ok(out) => Ok(out
            .tag_set()
            .iter()
            .find(|t| t.key() == TAG_REGION)
            .map(|t| t.value().to_owned())),
        Err(e) if crate::deploy::aws_error::error_code(&e) == Some("NoSuchTagSet") => Ok(None),
        // In another region than the client's (the stack's own gc): its stack is here.
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 301) => Ok(None),
        Err(e) => Err(format!(
            "reading the tags of s3 bucket {name}: {}",
            describe(&e)
        )),
    }
}

/// The `harness-region` tag of role `name` (`None` for a role made before roles carried it).
async fn role_region(target: &Target, name: &str) -> Result<Option<String>, String> {
    let tags = target
        .iam()
        .list_role_tags()
        .role_name(name)
        .send()
        .await
        .map_err(|e| format!("listing the tags of iam role {name}: {}", describe(&e)))?;
    Ok(tags
        .tags()
        .iter()
        .find(|t| t.key() == TAG_REGION)
        .map(|t| t.value().to_owned()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_a_region_mismatch_bucket_does_not_hide_its_run_from_the_stacks_region() {
        let names = StackNames::with_default_prefix(&RunId::from_seed(5));
        let run = names.run_id.clone();
        assert_eq!(
            stack_elsewhere(&names.mismatch_bucket, Some("us-east-2"), "eu-west-1"),
            None
        );
        assert_eq!(
            stack_elsewhere(&names.bucket, Some("us-east-2"), "eu-west-1"),
            Some((run, "us-east-2"))
        );
        assert_eq!(
            stack_elsewhere(&names.bucket, Some("eu-west-1"), "eu-west-1"),
            None
        );
        assert_eq!(
            stack_elsewhere("someone-else", Some("us-east-2"), "eu-west-1"),
            None
        );
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
}
