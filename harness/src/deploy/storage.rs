//! The data side of the stack: the KMS key, the encrypted bucket, the topics and the queues.
//!
//! Every step accepts what already exists under our name, so a second deploy converges.

use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, ObjectOwnership,
    OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tagging, VersioningConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;

use super::Ctx;
use super::aws_error::{DeployError, error_code, is_not_found};
use crate::stack::StackArns;
use crate::stack::policy::{
    bucket_policy, fifo_topic_policy, key_policy, queue_policy, standard_topic_policy,
};

/// Finds the key behind our alias, or creates it (tagged) with the alias; returns its ARN.
pub async fn ensure_key(ctx: &mut Ctx<'_>) -> Result<String, DeployError> {
    let kms = ctx.target.kms();
    let alias = ctx.names.kms_alias.clone();
    match kms.describe_key().key_id(&alias).send().await {
        Ok(found) => {
            if let Some(meta) = found.key_metadata() {
                ctx.record("kms", "DescribeKey", &alias);
                return Ok(meta.arn().unwrap_or_default().to_owned());
            }
        }
        Err(e) if is_not_found(error_code(&e)) => {}
        Err(e) => return Err(DeployError::call("kms DescribeKey", &alias, e)),
    }
    let mut create = kms
        .create_key()
        .description(format!("upload-harness run {}", ctx.names.run_id));
    for (key, value) in ctx.tags() {
        create = create.tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key(key)
                .tag_value(value)
                .build()
                .map_err(|e| DeployError::Invalid(e.to_string()))?,
        );
    }
    let created = create
        .send()
        .await
        .map_err(|e| DeployError::call("kms CreateKey", &alias, e))?;
    ctx.record("kms", "CreateKey", &alias);
    let meta = created
        .key_metadata()
        .ok_or_else(|| DeployError::Invalid("CreateKey returned no key metadata".into()))?;
    let key_id = meta.key_id().to_owned();
    let key_arn = meta.arn().unwrap_or_default().to_owned();
    kms.create_alias()
        .alias_name(&alias)
        .target_key_id(&key_id)
        .send()
        .await
        .map_err(|e| DeployError::call("kms CreateAlias", &alias, e))?;
    ctx.record("kms", "CreateAlias", &alias);
    kms.enable_key_rotation()
        .key_id(&key_id)
        .send()
        .await
        .map_err(|e| DeployError::call("kms EnableKeyRotation", &alias, e))?;
    ctx.record("kms", "EnableKeyRotation", &alias);
    Ok(key_arn)
}

/// Replaces the key's default policy with ours (the role must exist first).
pub async fn put_key_policy(ctx: &mut Ctx<'_>, arns: &StackArns) -> Result<(), DeployError> {
    let policy = key_policy(arns, &arns.account_root()).to_string();
    let kms = ctx.target.kms();
    // A fresh IAM role can take seconds to become a valid principal on AWS.
    let mut attempts = 0;
    loop {
        match kms
            .put_key_policy()
            .key_id(&arns.key)
            .policy_name("default")
            .policy(&policy)
            .send()
            .await
        {
            Ok(_) => break,
            Err(e)
                if error_code(&e) == Some("MalformedPolicyDocumentException") && attempts < 10 =>
            {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            }
            Err(e) => return Err(DeployError::call("kms PutKeyPolicy", &arns.key, e)),
        }
    }
    ctx.record("kms", "PutKeyPolicy", &ctx.names.kms_alias.clone());
    Ok(())
}

/// Creates the bucket (or accepts ours) and applies every security setting.
pub async fn ensure_bucket(ctx: &mut Ctx<'_>, arns: &StackArns) -> Result<(), DeployError> {
    let s3 = ctx.target.s3();
    let bucket = ctx.names.bucket.clone();
    let mut create = s3.create_bucket().bucket(&bucket);
    if arns.region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(arns.region.as_str()))
                .build(),
        );
    }
    let created_now = match create.send().await {
        // us-east-1 answers 200, not BucketAlreadyOwnedByYou, for a bucket we already own, so
        // only elsewhere does a success prove this very call made it.
        Ok(_) => arns.region != "us-east-1",
        Err(e) if error_code(&e) == Some("BucketAlreadyOwnedByYou") => false,
        Err(e) => return Err(DeployError::call("s3 CreateBucket", &bucket, e)),
    };
    ctx.record("s3", "CreateBucket", &bucket);
    // Tagged at once (S3 cannot tag at creation), so a deploy that fails in the calls below
    // leaves a bucket that teardown and gc recognise as this run's.
    let mut tagging = Tagging::builder();
    for (key, value) in ctx.tags() {
        tagging = tagging.tag_set(
            aws_sdk_s3::types::Tag::builder()
                .key(key)
                .value(value)
                .build()
                .map_err(|e| DeployError::Invalid(e.to_string()))?,
        );
    }
    let tagged = s3
        .put_bucket_tagging()
        .bucket(&bucket)
        .tagging(
            tagging
                .build()
                .map_err(|e| DeployError::Invalid(e.to_string()))?,
        )
        .send()
        .await;
    if let Err(e) = tagged {
        let error = DeployError::call("s3 PutBucketTagging", &bucket, e);
        return Err(remove_untagged(&s3, &bucket, created_now, error).await);
    }
    ctx.record("s3", "PutBucketTagging", &bucket);
    s3.put_public_access_block()
        .bucket(&bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| DeployError::call("s3 PutPublicAccessBlock", &bucket, e))?;
    ctx.record("s3", "PutPublicAccessBlock", &bucket);
    s3.put_bucket_ownership_controls()
        .bucket(&bucket)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                        .build()
                        .map_err(|e| DeployError::Invalid(e.to_string()))?,
                )
                .build()
                .map_err(|e| DeployError::Invalid(e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| DeployError::call("s3 PutBucketOwnershipControls", &bucket, e))?;
    ctx.record("s3", "PutBucketOwnershipControls", &bucket);
    s3.put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(|e| DeployError::call("s3 PutBucketVersioning", &bucket, e))?;
    ctx.record("s3", "PutBucketVersioning", &bucket);
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .kms_master_key_id(&arns.key)
        .build()
        .map_err(|e| DeployError::Invalid(e.to_string()))?;
    s3.put_bucket_encryption()
        .bucket(&bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(by_default)
                        .bucket_key_enabled(true)
                        .build(),
                )
                .build()
                .map_err(|e| DeployError::Invalid(e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| DeployError::call("s3 PutBucketEncryption", &bucket, e))?;
    ctx.record("s3", "PutBucketEncryption", &bucket);
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(bucket_policy(arns).to_string())
        .send()
        .await
        .map_err(|e| DeployError::call("s3 PutBucketPolicy", &bucket, e))?;
    ctx.record("s3", "PutBucketPolicy", &bucket);
    Ok(())
}

/// A bucket this deploy created a moment ago but could not tag would be refused by teardown
/// and gc forever (untagged means foreign to them), so it is deleted at once: it is empty and
/// the `CreateBucket` that made it succeeded in this very call. A bucket that already existed
/// (or any bucket in us-east-1, where S3 does not tell) is left alone. The returned error says which happened.
async fn remove_untagged(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    created_now: bool,
    error: DeployError,
) -> DeployError {
    if !created_now {
        return error;
    }
    let outcome = match s3.delete_bucket().bucket(bucket).send().await {
        Ok(_) => "the empty bucket this deploy had just created was deleted again".to_owned(),
        Err(e) => format!(
            "deleting the empty bucket this deploy had just created failed too ({}); remove \
             it with `aws s3 rb s3://{bucket}` (teardown refuses it: it carries no tag)",
            super::aws_error::describe(&e)
        ),
    };
    match error {
        DeployError::Call {
            call,
            resource,
            code,
            message,
        } => DeployError::Call {
            call,
            resource,
            code,
            message: format!("{message}; {outcome}"),
        },
        other => DeployError::Invalid(format!("{other}; {outcome}")),
    }
}

/// What the messaging steps made.
pub struct Messaging {
    pub standard_topic_arn: String,
    pub fifo_topic_arn: String,
    pub email_subscription_arn: String,
    pub queue_url: String,
    pub failure_queue_url: String,
}

/// Topics, the email subscription, the encrypted FIFO queue with its policy, the failure queue
/// and the raw FIFO subscription. CreateTopic, CreateQueue and Subscribe are idempotent for
/// identical attributes, which is what makes a re-run converge.
pub async fn ensure_messaging(
    ctx: &mut Ctx<'_>,
    arns: &StackArns,
    email: &str,
) -> Result<Messaging, DeployError> {
    let sns = ctx.target.sns();
    let sqs = ctx.target.sqs();
    let names = ctx.names.clone();
    let sns_tags: Vec<aws_sdk_sns::types::Tag> = ctx
        .tags()
        .into_iter()
        .map(|(k, v)| aws_sdk_sns::types::Tag::builder().key(k).value(v).build())
        .collect::<Result<_, _>>()
        .map_err(|e| DeployError::Invalid(e.to_string()))?;

    let standard = sns
        .create_topic()
        .name(&names.standard_topic)
        .attributes("KmsMasterKeyId", &arns.key)
        .attributes("Policy", standard_topic_policy(arns, email).to_string())
        .set_tags(Some(sns_tags.clone()))
        .send()
        .await
        .map_err(|e| DeployError::call("sns CreateTopic", &names.standard_topic, e))?;
    ctx.record("sns", "CreateTopic", &names.standard_topic);
    let standard_topic_arn = standard.topic_arn().unwrap_or_default().to_owned();
    let email_sub = sns
        .subscribe()
        .topic_arn(&standard_topic_arn)
        .protocol("email")
        .endpoint(email)
        .return_subscription_arn(true)
        .send()
        .await
        .map_err(|e| DeployError::call("sns Subscribe", &names.standard_topic, e))?;
    ctx.record("sns", "Subscribe", &names.standard_topic);
    report_pending_confirmation(ctx, email, email_sub.subscription_arn()).await;

    let fifo = sns
        .create_topic()
        .name(&names.fifo_topic)
        .attributes("FifoTopic", "true")
        .attributes("ContentBasedDeduplication", "false")
        .attributes("KmsMasterKeyId", &arns.key)
        .attributes("Policy", fifo_topic_policy(arns).to_string())
        .set_tags(Some(sns_tags))
        .send()
        .await
        .map_err(|e| DeployError::call("sns CreateTopic", &names.fifo_topic, e))?;
    ctx.record("sns", "CreateTopic", &names.fifo_topic);
    let fifo_topic_arn = fifo.topic_arn().unwrap_or_default().to_owned();

    let mut create_queue = sqs
        .create_queue()
        .queue_name(&names.fifo_queue)
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "false")
        .attributes(QueueAttributeName::KmsMasterKeyId, &arns.key);
    for (key, value) in ctx.tags() {
        create_queue = create_queue.tags(key, value);
    }
    let queue = create_queue
        .send()
        .await
        .map_err(|e| DeployError::call("sqs CreateQueue", &names.fifo_queue, e))?;
    ctx.record("sqs", "CreateQueue", &names.fifo_queue);
    let queue_url = queue.queue_url().unwrap_or_default().to_owned();
    sqs.set_queue_attributes()
        .queue_url(&queue_url)
        .attributes(QueueAttributeName::Policy, queue_policy(arns).to_string())
        .send()
        .await
        .map_err(|e| DeployError::call("sqs SetQueueAttributes", &names.fifo_queue, e))?;
    ctx.record("sqs", "SetQueueAttributes", &names.fifo_queue);

    let mut create_failure = sqs
        .create_queue()
        .queue_name(&names.failure_queue)
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "true");
    for (key, value) in ctx.tags() {
        create_failure = create_failure.tags(key, value);
    }
    let failure = create_failure
        .send()
        .await
        .map_err(|e| DeployError::call("sqs CreateQueue", &names.failure_queue, e))?;
    ctx.record("sqs", "CreateQueue", &names.failure_queue);

    sns.subscribe()
        .topic_arn(&fifo_topic_arn)
        .protocol("sqs")
        .endpoint(&arns.fifo_queue)
        .attributes("RawMessageDelivery", "true")
        .return_subscription_arn(true)
        .send()
        .await
        .map_err(|e| DeployError::call("sns Subscribe", &names.fifo_topic, e))?;
    ctx.record("sns", "Subscribe", &names.fifo_topic);

    Ok(Messaging {
        standard_topic_arn,
        fifo_topic_arn,
        email_subscription_arn: email_sub.subscription_arn().unwrap_or_default().to_owned(),
        queue_url,
        failure_queue_url: failure.queue_url().unwrap_or_default().to_owned(),
    })
}

/// AWS delivers email only after the recipient confirms the subscription (LocalStack does not
/// ask); say so instead of letting alerts vanish unnoticed.
async fn report_pending_confirmation(ctx: &mut Ctx<'_>, email: &str, arn: Option<&str>) {
    // LocalStack delivers without confirmation (yet reports the flag), so only AWS is asked.
    let Some(arn) = arn.filter(|_| ctx.target.kind == crate::run_target::TargetKind::Aws) else {
        return;
    };
    let pending =
        super::subscription_attribute(&ctx.target.sns(), arn, "PendingConfirmation").await;
    if pending.as_deref() == Some("true") {
        let _ = writeln!(
            ctx.progress,
            "  note: the email subscription for {email} is pending confirmation; no alert is \
             delivered until the recipient follows the link AWS mailed"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::delete_bucket::DeleteBucketOutput;
    use aws_smithy_mocks::mock;

    use crate::deploy::mocked_s3::mocked_s3;

    fn tagging_refused() -> DeployError {
        DeployError::Call {
            call: "s3 PutBucketTagging",
            resource: "upl-habcdefghij-uploads".into(),
            code: Some("AccessDenied".into()),
            message: "denied".into(),
        }
    }

    #[tokio::test]
    async fn regression_a_bucket_created_but_not_tagged_is_not_left_for_teardown_to_refuse() {
        let delete = mock!(aws_sdk_s3::Client::delete_bucket)
            .then_output(|| DeleteBucketOutput::builder().build());
        let s3 = mocked_s3(&[&delete]);
        let error = remove_untagged(&s3, "upl-habcdefghij-uploads", true, tagging_refused()).await;
        assert_eq!(delete.num_calls(), 1);
        let text = error.to_string();
        assert!(
            text.contains("denied") && text.contains("deleted again"),
            "{text}"
        );

        // A bucket that existed before this deploy is never deleted here.
        let untouched = mock!(aws_sdk_s3::Client::delete_bucket)
            .then_output(|| DeleteBucketOutput::builder().build());
        let s3 = mocked_s3(&[&untouched]);
        let error = remove_untagged(&s3, "upl-habcdefghij-uploads", false, tagging_refused()).await;
        assert_eq!(untouched.num_calls(), 0);
        assert!(!error.to_string().contains("deleted"), "{error}");
    }
}
