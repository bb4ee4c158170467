//! Removes one run's stack, refusing anything without our tag, and proves nothing is left.
//!
//! Teardown keeps going after a failure (a half-failed deploy leaves an arbitrary subset) and
//! returns every error; then it looks every resource up again and lists what is still there.
//! A resource that exists but does not carry `harness-run=<run id>` is never touched.
//!
//! This module drives the order and the tag check; the stack's resources are named in
//! `resource`, looked up (tags included) in `lookup` and deleted in `delete`.

mod delete;
mod lookup;
mod resource;

use std::collections::HashMap;

use crate::run_target::Target;
use crate::stack::{StackNames, TAG_KEY, TAG_MANAGED_BY, TAG_REGION, run_id_from_tags};
use lookup::Lookup;
use resource::Resource;

/// What a teardown did.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct TeardownReport {
    /// Resources deleted (or scheduled for deletion, for the KMS key).
    pub deleted: Vec<String>,
    /// Resources that were already gone.
    pub absent: Vec<String>,
    /// Every failure, one line each, with the resource.
    pub errors: Vec<String>,
    /// Resources still present after teardown (must be empty).
    pub leftovers: Vec<String>,
}

impl TeardownReport {
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty() && self.leftovers.is_empty()
    }
}

/// An SDK error with its whole chain (the bare Display of an SDK error is "service error").
fn text<E>(error: E) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error,
{
    super::aws_error::describe(&error)
}

/// Why a resource found under the stack's name must not be deleted from here, if it must not:
/// it lacks our two tags (`harness-run=<run>` and `managed-by`), or it is a global resource
/// (the role) whose stack lives in another region than the target's.
fn refusal(run: &str, region: &str, tags: &HashMap<String, String>) -> Option<String> {
    let pairs = tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    if run_id_from_tags(pairs).is_none_or(|owner| owner.as_str() != run) {
        return Some(format!(
            "exists but is not tagged {TAG_KEY}={run} and {}={}; refusing to delete it",
            TAG_MANAGED_BY.0, TAG_MANAGED_BY.1
        ));
    }
    match tags.get(TAG_REGION) {
        Some(home) if home != region => Some(format!(
            "belongs to the stack in region {home} ({TAG_REGION}={home}), not {region}; \
             refusing to delete it from here: run the teardown with --region {home}"
        )),
        _ => None,
    }
}

/// How to finish by hand when a bucket under the run's name has no tag at all: the one way our
/// deploy leaves one is being killed between `CreateBucket` and `PutBucketTagging` (a deploy
/// that fails there deletes the bucket itself).
fn untagged_hint(resource: Resource, names: &StackNames, tags: &HashMap<String, String>) -> String {
    match resource.bucket(names) {
        Some(bucket) if tags.is_empty() => format!(
            ". If a deploy of this run was killed right after creating it, it is empty and ours: \
             check with `aws s3api list-object-versions --bucket {bucket}` and remove it with \
             `aws s3 rb s3://{bucket}`"
        ),
        _ => String::new(),
    }
}

/// Deletes the stack of `names`, keeping going after failures, then verifies it is gone.
pub async fn teardown(
    target: &Target,
    names: &StackNames,
    progress: &mut (dyn std::io::Write + Send),
) -> TeardownReport {
    let mut report = TeardownReport::default();
    let run = names.run_id.to_string();
    let _ = writeln!(progress, "tearing down run {run} on {}", target.describe());
    let account = match super::account_id(target).await {
        Ok(account) => account,
        Err(e) => {
            report.errors.push(format!("cannot tell the account: {e}"));
            return report;
        }
    };
    let account = account.as_str();
    for resource in Resource::ALL {
        let label = resource.label(names);
        match resource.lookup(target, names, account).await {
            Err(e) => report.errors.push(format!("{label}: looking it up: {e}")),
            Ok(Lookup::Missing) => report.absent.push(label),
            Ok(Lookup::Present(tags)) => match refusal(&run, &target.region, &tags) {
                Some(why) => report.errors.push(format!(
                    "{label}: {why}{}",
                    untagged_hint(resource, names, &tags)
                )),
                None => match resource.delete(target, names, account).await {
                    Ok(()) => {
                        let _ = writeln!(progress, "  deleted {label}");
                        report.deleted.push(label);
                    }
                    Err(e) => report.errors.push(format!("{label}: {e}")),
                },
            },
        }
    }
    report.leftovers = leftovers(target, names, account).await;
    if let Some(again) = log_group_recreated(target, names, &report).await {
        let _ = writeln!(progress, "  {again}");
        report.deleted.push(again);
        report.leftovers = leftovers(target, names, account).await;
    }
    report
}

/// MiniStack writes a function's logs after each invocation and creates the log group when it
/// is missing, whatever the role may do (AWS would refuse: the role has no
/// `logs:CreateLogGroup`). An invocation still running when teardown deleted the group (the
/// last upload's) brings it back, untagged. Only there, only when that group is the one thing
/// left, untagged, and this teardown deleted the function and the group itself, it is deleted
/// once more and listed among the deleted with why; anywhere else an untagged group stays
/// refused, and one that comes back again stays a leftover.
async fn log_group_recreated(
    target: &Target,
    names: &StackNames,
    report: &TeardownReport,
) -> Option<String> {
    let label = Resource::LogGroup.label(names);
    let deleted_both = report.deleted.contains(&Resource::Function.label(names))
        && report.deleted.contains(&label);
    if target.emulator() != Some(crate::localstack::Emulator::MiniStack)
        || !deleted_both
        || report.leftovers != [label.clone()]
    {
        return None;
    }
    // Recreated by the platform means untagged: a group that carries tags is not this case.
    let groups = target
        .logs()
        .describe_log_groups()
        .log_group_name_prefix(&names.log_group)
        .send()
        .await
        .ok()?;
    let arn = groups
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(names.log_group.as_str()))?
        .arn()?
        .trim_end_matches(":*")
        .to_owned();
    let tags = target
        .logs()
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .ok()?;
    if !tags.tags().is_none_or(HashMap::is_empty) {
        return None;
    }
    let again = target
        .logs()
        .delete_log_group()
        .log_group_name(&names.log_group)
        .send()
        .await;
    Some(match again {
        Ok(_) => format!(
            "{label} (again, untagged: MiniStack recreated it for the function's last invocation)"
        ),
        Err(e) => format!("deleting {label} again failed: {}", text(e)),
    })
}

/// Every resource of the stack that still exists (a KMS key pending deletion counts as gone).
pub async fn leftovers(target: &Target, names: &StackNames, account: &str) -> Vec<String> {
    let mut left = Vec::new();
    for resource in Resource::ALL {
        match resource.lookup(target, names, account).await {
            Ok(Lookup::Missing) => {}
            Ok(Lookup::Present(_)) => left.push(resource.label(names)),
            Err(e) => left.push(format!("{} (cannot tell: {e})", resource.label(names))),
        }
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn regression_a_role_is_never_deleted_from_another_region_than_its_stacks() {
        let run = "habcdefghij";
        let ours = [(TAG_KEY, run), TAG_MANAGED_BY];
        let role = tags(&[ours[0], ours[1], (TAG_REGION, "eu-west-1")]);
        assert_eq!(refusal(run, "eu-west-1", &role), None);
        let elsewhere = refusal(run, "us-east-1", &role).unwrap();
        assert!(elsewhere.contains("--region eu-west-1"), "{elsewhere}");
        // Regional resources carry no region tag: the lookup found them in the target's region.
        assert_eq!(refusal(run, "us-east-1", &tags(&ours)), None);
    }

    #[test]
    fn regression_the_managed_by_tag_is_checked_too() {
        let run = "habcdefghij";
        assert!(refusal(run, "r", &tags(&[(TAG_KEY, run)])).is_some());
        assert!(refusal(run, "r", &tags(&[(TAG_KEY, "hzzzzzzzzzz"), TAG_MANAGED_BY])).is_some());
        assert!(refusal(run, "r", &HashMap::new()).is_some());
    }
}
