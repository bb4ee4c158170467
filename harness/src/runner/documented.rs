//! The original system's two documented failures, reproduced on purpose.
//!
//! * `region-mismatch`: a bucket in one region notifying a Lambda in another. AWS rejects the
//!   configuration (`InvalidArgument`), which is why the trigger "never fired"; LocalStack accepts
//!   it, and the run says so as a named divergence instead of passing silently. The fix (the
//!   same-region stack) must then deliver.
//! * `fifo-missing-group-id`: a FIFO publish without `MessageGroupId` (or without a dedup id) is
//!   rejected with AWS's exact texts (MiniStack's own, pinned wording for the missing dedup id is
//!   named as a divergence) (on a probe topic with the stack's FIFO settings, since the
//!   stack's topics take publishes from the execution role only); and when SNS rejects the
//!   handler's own publish, the invocation fails loudly and the event lands in the on-failure
//!   queue instead of vanishing.
//!
//! Both scenarios make a resource next to the stack (`StackNames::mismatch_bucket`,
//! `StackNames::probe_topic`), tagged with the run, which teardown and gc remove when the
//! scenario was cut off.

use std::time::{Duration, Instant};

use aws_sdk_s3::types::{
    Event, LambdaFunctionConfiguration, NotificationConfiguration, Tag, Tagging,
};

use crate::deploy::empty_bucket::empty_and_delete;
use crate::deploy::{Deployment, describe_error};
use crate::localstack::Emulator;
use crate::pipeline::{Finding, RunReport};
use crate::run_target::{Target, TargetKind};
use crate::scenario::Scenario;
use crate::stack::{StackNames, TAG_REGION};

/// AWS's exact texts (recorded from real AWS in LocalStack's snapshot tests).
pub const GROUP_ID_REQUIRED: &str =
    "Invalid parameter: The MessageGroupId parameter is required for FIFO topics";
pub const DEDUP_ID_REQUIRED: &str = "Invalid parameter: The topic should either have \
     ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly";

pub async fn region_mismatch(
    target: &Target,
    scenario: &Scenario,
    deployment: &Deployment,
    report: &mut RunReport,
    progress: &mut (dyn std::io::Write + Send),
) {
    let other = scenario
        .stack
        .bucket_region
        .clone()
        .filter(|r| r != &target.region)
        .unwrap_or_else(|| {
            if target.region == "eu-west-1" {
                "us-east-2"
            } else {
                "eu-west-1"
            }
            .into()
        });
    let names = match deployment.names() {
        Ok(names) => names,
        Err(e) => return report.fail(Finding::step("naming the scenario's bucket", e)),
    };
    let s3 = target.s3_in(&other).await;
    let bucket = names.mismatch_bucket.clone();
    let _ = writeln!(
        progress,
        "  bucket {bucket} in {other} -> function in {}",
        target.region
    );
    let created = s3
        .create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    other.as_str(),
                ))
                .build(),
        )
        .send()
        .await;
    if let Err(e) = created {
        report.fail(Finding::step(
            format!("creating {bucket} in {other}"),
            describe_error(&e),
        ));
        return;
    }
    // Tagged at once, with the stack's region: teardown and gc of this run find it from there.
    if let Err(e) = tag_mismatch_bucket(&s3, &names, &target.region).await {
        report.fail(Finding::step(format!("tagging {bucket}"), e));
        if let Err(e) = empty_and_delete(&s3, &bucket).await {
            report.fail(Finding::step(format!("removing {bucket}"), e));
        }
        return;
    }
    let permission = target
        .lambda()
        .add_permission()
        .function_name(&deployment.function_name)
        .statement_id(&names.mismatch_bucket)
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn(format!("arn:aws:s3:::{bucket}"))
        .source_account(&deployment.account_id)
        .send()
        .await;
    if let Err(e) = permission {
        report.fail(Finding::step(
            format!("AddPermission for {bucket}"),
            describe_error(&e),
        ));
    }
    let configured = s3
        .put_bucket_notification_configuration()
        .bucket(&bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .lambda_function_configurations(
                    LambdaFunctionConfiguration::builder()
                        .lambda_function_arn(&deployment.function_arn)
                        .events(Event::from("s3:ObjectCreated:*"))
                        .build()
                        .expect("arn and events are set"),
                )
                .build(),
        )
        .send()
        .await;
    match (configured, target.kind) {
        (Err(e), _) => {
            let code = aws_sdk_s3::error::ProvideErrorMetadata::code(&e)
                .unwrap_or_default()
                .to_owned();
            report.check(
                "cross-region notification is rejected with InvalidArgument",
                code == "InvalidArgument",
                describe_error(&e),
            );
        }
        (Ok(_), TargetKind::Aws) => report.check(
            "cross-region notification is rejected with InvalidArgument",
            false,
            format!(
                "AWS accepted a notification from {bucket} ({other}) to a function in {}",
                target.region
            ),
        ),
        (Ok(_), _) => {
            let fired = upload_and_wait(
                &s3,
                target,
                deployment,
                &bucket,
                "mismatch.txt",
                Duration::from_secs(20),
            )
            .await;
            report.divergences.push(format!(
                "{} accepts an S3 notification from a bucket in {other} to a Lambda in {} \
                 (AWS rejects it with InvalidArgument, so the trigger never fires there) and {} \
                 the function; the seed's failure reproduces on AWS only",
                target
                    .emulator()
                    .map_or("the emulator", crate::localstack::Emulator::name),
                target.region,
                if fired { "invoked" } else { "did not invoke" }
            ));
        }
    }
    // The fix: the stack whose bucket and function share a region delivers.
    let main_s3 = target.s3();
    let fixed = upload_and_wait(
        &main_s3,
        target,
        deployment,
        &deployment.bucket,
        "fixed.txt",
        Duration::from_secs(scenario.expect.delivery_deadline_s),
    )
    .await;
    report.check(
        "with bucket and function in one region the upload is delivered",
        fixed,
        "FIFO message for the same-region upload",
    );
    if let Err(e) = empty_and_delete(&s3, &bucket).await {
        report.fail(Finding::step(format!("removing {bucket}"), e));
    }
}

/// Puts the run's tags and the stack's region on the mismatch bucket.
async fn tag_mismatch_bucket(
    s3: &aws_sdk_s3::Client,
    names: &StackNames,
    stack_region: &str,
) -> Result<(), String> {
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
    let tags = names
        .tags()
        .iter()
        .map(|(k, v)| tag(k, v))
        .chain([tag(TAG_REGION, stack_region)])
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let tagging = Tagging::builder()
        .set_tag_set(Some(tags))
        .build()
        .map_err(|e| e.to_string())?;
    s3.put_bucket_tagging()
        .bucket(&names.mismatch_bucket)
        .tagging(tagging)
        .send()
        .await
        .map(drop)
        .map_err(|e| describe_error(&e))
}

/// Uploads one object and waits until a FIFO message names it.
async fn upload_and_wait(
    s3: &aws_sdk_s3::Client,
    target: &Target,
    deployment: &Deployment,
    bucket: &str,
    name: &str,
    deadline: Duration,
) -> bool {
    let key = format!("{}/{name}", deployment.run_id);
    let put = s3
        .put_object()
        .bucket(bucket)
        .key(&key)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"probe"))
        .send()
        .await;
    if put.is_err() {
        return false;
    }
    let sqs = target.sqs();
    let started = Instant::now();
    while started.elapsed() < deadline {
        let Ok(out) = sqs
            .receive_message()
            .queue_url(&deployment.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
        else {
            return false;
        };
        for m in out.messages() {
            let body: serde_json::Value =
                serde_json::from_str(m.body().unwrap_or_default()).unwrap_or_default();
            if body["bucket"] == bucket && body["key"] == key.as_str() {
                return true;
            }
        }
    }
    false
}

pub async fn fifo_missing_group_id(
    target: &Target,
    scenario: &Scenario,
    deployment: &Deployment,
    report: &mut RunReport,
    progress: &mut (dyn std::io::Write + Send),
) {
    let sns = target.sns();
    let probe = match probe_topic(&sns, deployment).await {
        Ok(probe) => probe,
        Err(e) => return report.fail(Finding::step("creating the probe FIFO topic", e)),
    };
    let _ = writeln!(
        progress,
        "  publishing to a FIFO topic like the stack's without MessageGroupId"
    );
    let no_group = sns
        .publish()
        .topic_arn(&probe)
        .message("{}")
        .message_deduplication_id("d1")
        .send()
        .await;
    expect_rejection(
        target,
        report,
        "FIFO publish without MessageGroupId",
        no_group.err().map(|e| describe_error(&e)),
        (GROUP_ID_REQUIRED, None),
    );
    let no_dedup = sns
        .publish()
        .topic_arn(&probe)
        .message("{}")
        .message_group_id("g1")
        .send()
        .await;
    expect_rejection(
        target,
        report,
        "FIFO publish without MessageDeduplicationId",
        no_dedup.err().map(|e| describe_error(&e)),
        (DEDUP_ID_REQUIRED, Some(MINISTACK_DEDUP_ID_REQUIRED)),
    );
    if let Err(e) = sns.delete_topic().topic_arn(&probe).send().await {
        report.fail(Finding::step("DeleteTopic (probe)", describe_error(&e)));
    }

    // Make SNS reject the handler's own FIFO publish: the topic it is configured with is gone.
    let _ = writeln!(
        progress,
        "  deleting the FIFO topic so the handler's publish is rejected"
    );
    if let Err(e) = sns
        .delete_topic()
        .topic_arn(&deployment.fifo_topic_arn)
        .send()
        .await
    {
        report.fail(Finding::step("DeleteTopic", describe_error(&e)));
        return;
    }
    let key = format!("{}/rejected.txt", deployment.run_id);
    if let Err(e) = target
        .s3()
        .put_object()
        .bucket(&deployment.bucket)
        .key(&key)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"rejected"))
        .send()
        .await
    {
        report.fail(Finding::step("PutObject", describe_error(&e)));
        return;
    }
    let sqs = target.sqs();
    let started = Instant::now();
    let deadline = Duration::from_secs(scenario.expect.delivery_deadline_s);
    let mut records = Vec::new();
    while started.elapsed() < deadline && records.len() < scenario.expect.failures.max(1) {
        match sqs
            .receive_message()
            .queue_url(&deployment.failure_queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
        {
            Ok(out) => records.extend(
                out.messages()
                    .iter()
                    .filter_map(|m| m.body().map(str::to_owned)),
            ),
            Err(e) => {
                report.fail(Finding::step(
                    "ReceiveMessage (failure queue)",
                    describe_error(&e),
                ));
                return;
            }
        }
    }
    let record: serde_json::Value = records
        .first()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
    let error_type = record["responsePayload"]["errorType"]
        .as_str()
        .unwrap_or_default();
    let names_key = record["requestPayload"]
        .to_string()
        .contains("rejected.txt");
    report.check(
        "a publish SNS rejects fails the invocation and lands in the on-failure queue",
        records.len() == scenario.expect.failures && error_type == "Handler.PublishRejected" && names_key,
        format!(
            "{} record(s) after {:.1} s; errorType {error_type:?}; names the object: {names_key}; first: {}",
            records.len(),
            started.elapsed().as_secs_f64(),
            records.first().map(|r| r.chars().take(300).collect::<String>()).unwrap_or_default()
        ),
    );
}

/// A FIFO topic with the stack's FIFO settings for the invalid publishes: the stack's own topic
/// accepts publishes only from the execution role, so on AWS the harness would be refused
/// before SNS looked at the parameters. Tagged with the run, so teardown and gc find it.
async fn probe_topic(sns: &aws_sdk_sns::Client, deployment: &Deployment) -> Result<String, String> {
    let names = deployment.names()?;
    let tags = names
        .tags()
        .iter()
        .map(|(k, v)| aws_sdk_sns::types::Tag::builder().key(*k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let out = sns
        .create_topic()
        .name(&names.probe_topic)
        .attributes("FifoTopic", "true")
        .attributes("ContentBasedDeduplication", "false")
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| describe_error(&e))?;
    out.topic_arn()
        .map(str::to_owned)
        .ok_or_else(|| format!("CreateTopic {} answered no ARN", names.probe_topic))
}

/// MiniStack 1.5.33's own text for a FIFO publish without a dedup id (`services/sns.py`); AWS's
/// is [`DEDUP_ID_REQUIRED`]. Pinned, so a change in MiniStack's wording is noticed too.
pub const MINISTACK_DEDUP_ID_REQUIRED: &str = "Invalid parameter: The MessageDeduplicationId \
     parameter is required for FIFO topics when ContentBasedDeduplication is not enabled";

/// How a target answered a publish that must be rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rejection {
    /// Rejected with AWS's exact text.
    AwsText,
    /// Rejected with the known other text of this emulator: a divergence to name.
    EmulatorText,
    /// Accepted, or rejected in some other way: a failure.
    Wrong,
}

/// The verdict on `error`: AWS's `aws_text` everywhere; MiniStack's own `ministack_text` only
/// on MiniStack and only where one is known (LocalStack answers AWS's texts and is held to them).
fn rejection(
    emulator: Option<Emulator>,
    error: Option<&str>,
    aws_text: &str,
    ministack_text: Option<&str>,
) -> Rejection {
    let Some(e) = error.filter(|e| e.contains("InvalidParameter")) else {
        return Rejection::Wrong;
    };
    if e.contains(aws_text) {
        Rejection::AwsText
    } else if emulator == Some(Emulator::MiniStack) && ministack_text.is_some_and(|t| e.contains(t))
    {
        Rejection::EmulatorText
    } else {
        Rejection::Wrong
    }
}

/// The publish must be rejected with AWS's exact text; see [`rejection`].
fn expect_rejection(
    target: &Target,
    report: &mut RunReport,
    name: &str,
    error: Option<String>,
    (aws_text, ministack_text): (&str, Option<&str>),
) {
    let exact = format!("{name} is rejected with AWS's exact text");
    let Some(e) = error else {
        return report.check(format!("{name} is rejected"), false, "SNS accepted it");
    };
    match rejection(target.emulator(), Some(&e), aws_text, ministack_text) {
        Rejection::AwsText => report.check(exact, true, e),
        Rejection::EmulatorText => {
            report.divergences.push(format!(
                "{name}: MiniStack rejects it in its own words, not AWS's ({aws_text:?}): {e}"
            ));
            report.check(format!("{name} is rejected"), true, e);
        }
        Rejection::Wrong => report.check(exact, false, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Option<Emulator> = Some(Emulator::MiniStack);
    const LS: Option<Emulator> = Some(Emulator::LocalStack);

    #[test]
    fn only_aws_text_passes_except_ministacks_pinned_own_words_on_ministack() {
        let aws = format!("InvalidParameter: {DEDUP_ID_REQUIRED}");
        let ministack = format!("InvalidParameterException: {MINISTACK_DEDUP_ID_REQUIRED}");
        let other = "InvalidParameter: something else";
        let texts = (DEDUP_ID_REQUIRED, Some(MINISTACK_DEDUP_ID_REQUIRED));
        let verdict = |emulator, e: &str| rejection(emulator, Some(e), texts.0, texts.1);
        for target in [None, LS, MS] {
            assert_eq!(verdict(target, &aws), Rejection::AwsText);
            assert_eq!(verdict(target, other), Rejection::Wrong);
            assert_eq!(rejection(target, None, texts.0, texts.1), Rejection::Wrong);
        }
        // LocalStack and AWS are held to AWS's text; MiniStack's own is named, not failed.
        assert_eq!(verdict(LS, &ministack), Rejection::Wrong);
        assert_eq!(verdict(None, &ministack), Rejection::Wrong);
        assert_eq!(verdict(MS, &ministack), Rejection::EmulatorText);
        // Where no MiniStack text is known (the missing group id), MiniStack is held to AWS's.
        let group = format!("InvalidParameter: {MINISTACK_DEDUP_ID_REQUIRED}");
        assert_eq!(
            rejection(MS, Some(&group), GROUP_ID_REQUIRED, None),
            Rejection::Wrong
        );
    }
}
