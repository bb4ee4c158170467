//! Removes one run's stack, refusing anything without our tag, and proves nothing is left.
//!
//! Teardown keeps going after a failure (a half-failed deploy leaves an arbitrary subset) and
//! returns every error; then it looks every resource up again and lists what is still there.
//! A resource that exists but does not carry `harness-run=<run id>` is never touched.

use std::collections::HashMap;

use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::aws_error::{error_code, is_not_found};
use crate::stack::{StackNames, TAG_KEY};
use crate::target::Target;

/// What a teardown did.
#[derive(Debug, Default, Clone, serde::Serialize)]
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

/// Result of looking a resource up: its tags when it exists.
enum Lookup {
    Missing,
    Present(HashMap<String, String>),
}

/// An SDK error with its whole chain (the bare Display of an SDK error is "service error").
fn text<E>(error: E) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error,
{
    super::aws_error::describe(&error)
}

fn owned_by(run: &str, tags: &HashMap<String, String>) -> bool {
    tags.get(TAG_KEY).is_some_and(|v| v == run)
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
            Ok(Lookup::Present(tags)) if !owned_by(&run, &tags) => report.errors.push(format!(
                "{label}: exists but is not tagged {TAG_KEY}={run}; refusing to delete it"
            )),
            Ok(Lookup::Present(_)) => match resource.delete(target, names, account).await {
                Ok(()) => {
                    let _ = writeln!(progress, "  deleted {label}");
                    report.deleted.push(label);
                }
                Err(e) => report.errors.push(format!("{label}: {e}")),
            },
        }
    }
    report.leftovers = leftovers(target, names, account).await;
    report
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

/// The stack's resources, in deletion order (consumers before what they consume).
#[derive(Debug, Clone, Copy)]
enum Resource {
    Function,
    LogGroup,
    StandardTopic,
    FifoTopic,
    FifoQueue,
    FailureQueue,
    Bucket,
    Role,
    Key,
}

impl Resource {
    const ALL: [Resource; 9] = [
        Resource::Function,
        Resource::LogGroup,
        Resource::StandardTopic,
        Resource::FifoTopic,
        Resource::FifoQueue,
        Resource::FailureQueue,
        Resource::Bucket,
        Resource::Role,
        Resource::Key,
    ];

    fn label(self, n: &StackNames) -> String {
        match self {
            Resource::Function => format!("lambda function {}", n.function),
            Resource::LogGroup => format!("log group {}", n.log_group),
            Resource::StandardTopic => format!("sns topic {}", n.standard_topic),
            Resource::FifoTopic => format!("sns topic {}", n.fifo_topic),
            Resource::FifoQueue => format!("sqs queue {}", n.fifo_queue),
            Resource::FailureQueue => format!("sqs queue {}", n.failure_queue),
            Resource::Bucket => format!("s3 bucket {}", n.bucket),
            Resource::Role => format!("iam role {}", n.role),
            Resource::Key => format!("kms key {}", n.kms_alias),
        }
    }

    async fn lookup(self, t: &Target, n: &StackNames, account: &str) -> Result<Lookup, String> {
        let missing = |code: Option<&str>| is_not_found(code);
        match self {
            Resource::Function => match t
                .lambda()
                .get_function()
                .function_name(&n.function)
                .send()
                .await
            {
                Ok(out) => Ok(Lookup::Present(out.tags().cloned().unwrap_or_default())),
                Err(e) if missing(error_code(&e)) => Ok(Lookup::Missing),
                Err(e) => Err(text(e)),
            },
            Resource::LogGroup => {
                let out = t
                    .logs()
                    .describe_log_groups()
                    .log_group_name_prefix(&n.log_group)
                    .send()
                    .await
                    .map_err(text)?;
                let Some(group) = out
                    .log_groups()
                    .iter()
                    .find(|g| g.log_group_name() == Some(n.log_group.as_str()))
                else {
                    return Ok(Lookup::Missing);
                };
                let arn = group
                    .arn()
                    .unwrap_or_default()
                    .trim_end_matches(":*")
                    .to_owned();
                let tags = t
                    .logs()
                    .list_tags_for_resource()
                    .resource_arn(arn)
                    .send()
                    .await
                    .map_err(text)?;
                Ok(Lookup::Present(tags.tags().cloned().unwrap_or_default()))
            }
            Resource::StandardTopic | Resource::FifoTopic => {
                let arn = self.topic_arn(t, n, account);
                // Tags of a deleted topic may still answer (LocalStack): ask for the topic first.
                match t.sns().get_topic_attributes().topic_arn(&arn).send().await {
                    Ok(_) => {}
                    Err(e) if missing(error_code(&e)) => return Ok(Lookup::Missing),
                    Err(e) => return Err(text(e)),
                }
                match t
                    .sns()
                    .list_tags_for_resource()
                    .resource_arn(&arn)
                    .send()
                    .await
                {
                    Ok(out) => Ok(Lookup::Present(
                        out.tags()
                            .iter()
                            .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
                            .collect(),
                    )),
                    Err(e) if missing(error_code(&e)) => Ok(Lookup::Missing),
                    Err(e) => Err(text(e)),
                }
            }
            Resource::FifoQueue | Resource::FailureQueue => {
                let Some(url) = self.queue_url(t, n).await? else {
                    return Ok(Lookup::Missing);
                };
                let out = t
                    .sqs()
                    .list_queue_tags()
                    .queue_url(url)
                    .send()
                    .await
                    .map_err(text)?;
                Ok(Lookup::Present(out.tags().cloned().unwrap_or_default()))
            }
            Resource::Bucket => match t.s3().get_bucket_tagging().bucket(&n.bucket).send().await {
                Ok(out) => Ok(Lookup::Present(
                    out.tag_set()
                        .iter()
                        .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
                        .collect(),
                )),
                Err(e) if error_code(&e) == Some("NoSuchBucket") => Ok(Lookup::Missing),
                // An existing bucket without tags is not ours.
                Err(e) if error_code(&e) == Some("NoSuchTagSet") => {
                    Ok(Lookup::Present(HashMap::new()))
                }
                Err(e) => Err(text(e)),
            },
            Resource::Role => match t.iam().list_role_tags().role_name(&n.role).send().await {
                Ok(out) => Ok(Lookup::Present(
                    out.tags()
                        .iter()
                        .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
                        .collect(),
                )),
                Err(e) if missing(error_code(&e)) => Ok(Lookup::Missing),
                Err(e) => Err(text(e)),
            },
            Resource::Key => {
                let key = match t.kms().describe_key().key_id(&n.kms_alias).send().await {
                    Ok(out) => out.key_metadata().cloned(),
                    Err(e) if missing(error_code(&e)) => None,
                    Err(e) => return Err(text(e)),
                };
                let Some(key) = key else {
                    return Ok(Lookup::Missing);
                };
                if key.key_state() == Some(&aws_sdk_kms::types::KeyState::PendingDeletion) {
                    return Ok(Lookup::Missing);
                }
                let tags = t
                    .kms()
                    .list_resource_tags()
                    .key_id(key.key_id())
                    .send()
                    .await
                    .map_err(text)?;
                Ok(Lookup::Present(
                    tags.tags()
                        .iter()
                        .map(|tag| (tag.tag_key().to_owned(), tag.tag_value().to_owned()))
                        .collect(),
                ))
            }
        }
    }

    fn topic_arn(self, t: &Target, n: &StackNames, account: &str) -> String {
        let name = match self {
            Resource::FifoTopic => &n.fifo_topic,
            _ => &n.standard_topic,
        };
        format!("arn:aws:sns:{}:{account}:{name}", t.region)
    }

    async fn queue_url(self, t: &Target, n: &StackNames) -> Result<Option<String>, String> {
        let name = match self {
            Resource::FifoQueue => &n.fifo_queue,
            _ => &n.failure_queue,
        };
        match t.sqs().get_queue_url().queue_name(name).send().await {
            Ok(out) => Ok(out.queue_url().map(str::to_owned)),
            Err(e) if is_not_found(error_code(&e)) => Ok(None),
            Err(e) => Err(text(e)),
        }
    }

    async fn delete(self, t: &Target, n: &StackNames, account: &str) -> Result<(), String> {
        match self {
            Resource::Function => t
                .lambda()
                .delete_function()
                .function_name(&n.function)
                .send()
                .await
                .map(drop)
                .map_err(text),
            Resource::LogGroup => t
                .logs()
                .delete_log_group()
                .log_group_name(&n.log_group)
                .send()
                .await
                .map(drop)
                .map_err(text),
            Resource::StandardTopic | Resource::FifoTopic => {
                let arn = self.topic_arn(t, n, account);
                let subs = t
                    .sns()
                    .list_subscriptions_by_topic()
                    .topic_arn(&arn)
                    .send()
                    .await
                    .map_err(text)?;
                for sub in subs.subscriptions() {
                    // Pending email subscriptions have no ARN yet and vanish with the topic.
                    if let Some(sub_arn) = sub.subscription_arn().filter(|a| a.starts_with("arn:"))
                    {
                        t.sns()
                            .unsubscribe()
                            .subscription_arn(sub_arn)
                            .send()
                            .await
                            .map_err(text)?;
                    }
                }
                t.sns()
                    .delete_topic()
                    .topic_arn(&arn)
                    .send()
                    .await
                    .map(drop)
                    .map_err(text)
            }
            Resource::FifoQueue | Resource::FailureQueue => {
                let Some(url) = self.queue_url(t, n).await? else {
                    return Ok(());
                };
                t.sqs()
                    .delete_queue()
                    .queue_url(url)
                    .send()
                    .await
                    .map(drop)
                    .map_err(text)
            }
            Resource::Bucket => empty_and_delete_bucket(t, &n.bucket).await,
            Resource::Role => {
                let iam = t.iam();
                match iam
                    .delete_role_policy()
                    .role_name(&n.role)
                    .policy_name(&n.role_policy)
                    .send()
                    .await
                {
                    Ok(_) => {}
                    Err(e) if is_not_found(error_code(&e)) => {}
                    Err(e) => return Err(text(e)),
                }
                iam.delete_role()
                    .role_name(&n.role)
                    .send()
                    .await
                    .map(drop)
                    .map_err(text)
            }
            Resource::Key => {
                let kms = t.kms();
                let key = kms
                    .describe_key()
                    .key_id(&n.kms_alias)
                    .send()
                    .await
                    .map_err(text)?;
                let key_id = key
                    .key_metadata()
                    .map(|k| k.key_id().to_owned())
                    .unwrap_or_default();
                kms.delete_alias()
                    .alias_name(&n.kms_alias)
                    .send()
                    .await
                    .map_err(text)?;
                // 7 days is the minimum window KMS allows.
                kms.schedule_key_deletion()
                    .key_id(key_id)
                    .pending_window_in_days(7)
                    .send()
                    .await
                    .map(drop)
                    .map_err(text)
            }
        }
    }
}

/// Deletes every object version and delete marker, then the bucket.
async fn empty_and_delete_bucket(t: &Target, bucket: &str) -> Result<(), String> {
    let s3 = t.s3();
    // ListObjectVersions has no paginator in the SDK; follow the markers by hand.
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
            .map_err(text)?;
        let ids: Vec<ObjectIdentifier> = page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            )
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder()
                    .key(key?)
                    .set_version_id(version.map(str::to_owned))
                    .build()
                    .ok()
            })
            .collect();
        if !ids.is_empty() {
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| e.to_string())?;
            s3.delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(text)?;
        }
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
    }
    s3.delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .map(drop)
        .map_err(text)
}
