//! The baseline bucket: the same S3 as the pipeline's, without a notification.
//!
//! Raw PutObject throughput into it, with the same client, concurrency and sizes, is what every
//! pipeline figure is divided by, so the figures are ratios that carry across machines. It is
//! named and tagged like the stack (`<prefix>-<run>-baseline`, `harness-run=<run>`) and
//! versioned like the upload bucket (default encryption, no KMS key: the stack's key policy
//! admits only the upload bucket). The benchmark deletes it itself and proves it gone; the
//! stack's teardown (and so gc) removes it too when a bench was cut off before that.

use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Delete,
    ObjectIdentifier, Tag, Tagging, VersioningConfiguration,
};

use crate::deploy::describe_error;
use crate::stack::StackNames;
use crate::target::Target;

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
    let mut deleted = 0;
    loop {
        let listed = s3
            .list_object_versions()
            .bucket(bucket)
            .max_keys(1000)
            .send()
            .await
            .map_err(|e| format!("ListObjectVersions {bucket}: {}", describe_error(&e)))?;
        let mut ids = Vec::new();
        let versions = listed.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = listed
            .delete_markers()
            .iter()
            .map(|m| (m.key(), m.version_id()));
        for (key, version) in versions.chain(markers) {
            let id = ObjectIdentifier::builder()
                .key(key.unwrap_or_default())
                .set_version_id(version.map(str::to_owned))
                .build()
                .map_err(|e| e.to_string())?;
            ids.push(id);
        }
        if ids.is_empty() {
            break;
        }
        let count = ids.len();
        let out = s3
            .delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(ids))
                    .quiet(true)
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .send()
            .await
            .map_err(|e| format!("DeleteObjects {bucket}: {}", describe_error(&e)))?;
        if let Some(error) = out.errors().first() {
            return Err(format!(
                "DeleteObjects {bucket}: {} of {count} failed, e.g. {:?}: {}",
                out.errors().len(),
                error.key().unwrap_or_default(),
                error.message().unwrap_or_default()
            ));
        }
        deleted += count;
    }
    s3.delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| format!("DeleteBucket {bucket}: {}", describe_error(&e)))?;
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
