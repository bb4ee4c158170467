//! The baseline bucket: the same S3 as the pipeline's, without a notification.
//!
//! Raw PutObject throughput into it, with the same client, concurrency and sizes, is what every
//! pipeline figure is divided by, so the figures are ratios that carry across machines. It is
//! named and tagged like the stack (`<prefix>-<run>-baseline`, `harness-run=<run>`) and
//! versioned like the upload bucket (default encryption, no KMS key: the stack's key policy
//! admits only the upload bucket). The benchmark deletes it itself and proves it gone; the
//! stack's teardown (and so gc) removes it too when a bench was cut off before that.

use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Tag, Tagging,
    VersioningConfiguration,
};

use crate::deploy::describe_error;
use crate::deploy::empty_bucket::empty_and_delete;
use crate::run_target::Target;
use crate::stack::StackNames;

/// Creates the bucket, tagged and versioned.
pub async fn create(
    s3: &aws_sdk_s3::Client,
    target: &Target,
    names: &StackNames,
) -> Result<String, String> {
    let bucket = names.baseline_bucket.clone();
    let mut create = s3.create_bucket().bucket(&bucket);
    if target.region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(target.region.as_str()))
                .build(),
        );
    }
    create
        .send()
        .await
        .map_err(|e| format!("CreateBucket {bucket}: {}", describe_error(&e)))?;
    let mut tagging = Tagging::builder();
    for (key, value) in names.tags() {
        tagging = tagging.tag_set(
            Tag::builder()
                .key(key)
                .value(value)
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    s3.put_bucket_tagging()
        .bucket(&bucket)
        .tagging(tagging.build().map_err(|e| e.to_string())?)
        .send()
        .await
        .map_err(|e| format!("PutBucketTagging {bucket}: {}", describe_error(&e)))?;
    s3.put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(|e| format!("PutBucketVersioning {bucket}: {}", describe_error(&e)))?;
    Ok(bucket)
}

/// Deletes every version in the bucket, then the bucket, then checks it is gone. Returns how
/// many object versions were deleted.
pub async fn delete(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<usize, String> {
    let deleted = empty_and_delete(s3, bucket).await?;
    match s3.head_bucket().bucket(bucket).send().await {
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(deleted),
        Err(e) => Err(format!(
            "HeadBucket {bucket} after deleting it: {}; check by hand that it is gone",
            describe_error(&e)
        )),
        Ok(_) => Err(format!(
            "bucket {bucket} still exists after DeleteBucket; delete it by hand"
        )),
    }
}
