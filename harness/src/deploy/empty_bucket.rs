//! The one way the harness empties and removes a bucket (the stack's upload bucket at teardown,
//! the bench's baseline bucket, the region-mismatch scenario's other bucket): every page of
//! object versions and delete markers, each batch's per-key `DeleteObjects` errors checked (a
//! quiet delete answers 200 even when keys failed), then `DeleteBucket`.

use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::aws_error::describe;

/// Deletes every object version and delete marker of `bucket`, then the bucket; returns how
/// many versions and markers were deleted. Unversioned objects are listed as version `null`,
/// so this empties any bucket.
pub async fn empty_and_delete(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<usize, String> {
    let mut deleted = 0;
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
            .map_err(|e| format!("ListObjectVersions {bucket}: {}", describe(&e)))?;
        let ids = identifiers(&page)?;
        if !ids.is_empty() {
            deleted += delete_batch(s3, bucket, ids).await?;
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
        .map_err(|e| format!("DeleteBucket {bucket}: {}", describe(&e)))?;
    Ok(deleted)
}

/// Every version and delete marker of one listing page.
fn identifiers(
    page: &aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput,
) -> Result<Vec<ObjectIdentifier>, String> {
    let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
    let markers = page
        .delete_markers()
        .iter()
        .map(|m| (m.key(), m.version_id()));
    versions
        .chain(markers)
        .filter_map(|(key, version)| Some((key?, version)))
        .map(|(key, version)| {
            ObjectIdentifier::builder()
                .key(key)
                .set_version_id(version.map(str::to_owned))
                .build()
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// One `DeleteObjects` call (at most 1,000 keys, as one listing page holds); `Err` names the
/// first key S3 refused and how many it refused.
async fn delete_batch(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    ids: Vec<ObjectIdentifier>,
) -> Result<usize, String> {
    let count = ids.len();
    let delete = Delete::builder()
        .set_objects(Some(ids))
        .quiet(true)
        .build()
        .map_err(|e| e.to_string())?;
    let out = s3
        .delete_objects()
        .bucket(bucket)
        .delete(delete)
        .send()
        .await
        .map_err(|e| format!("DeleteObjects {bucket}: {}", describe(&e)))?;
    match out.errors().first() {
        None => Ok(count),
        Some(error) => Err(format!(
            "DeleteObjects {bucket}: {} of {count} key(s) not deleted, e.g. {:?}: {} {}",
            out.errors().len(),
            error.key().unwrap_or_default(),
            error.code().unwrap_or_default(),
            error.message().unwrap_or_default()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::delete_bucket::DeleteBucketOutput;
    use aws_sdk_s3::operation::delete_objects::DeleteObjectsOutput;
    use aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput;
    use aws_sdk_s3::types::{DeleteMarkerEntry, Error as KeyError, ObjectVersion};
    use aws_smithy_mocks::mock;

    use crate::deploy::mocked_s3::mocked_s3;

    fn version(key: &str, id: &str) -> ObjectVersion {
        ObjectVersion::builder().key(key).version_id(id).build()
    }

    #[tokio::test]
    async fn every_page_is_followed_and_counted() {
        let first = mock!(aws_sdk_s3::Client::list_object_versions)
            .match_requests(|r| r.key_marker().is_none())
            .then_output(|| {
                ListObjectVersionsOutput::builder()
                    .versions(version("a", "1"))
                    .delete_markers(
                        DeleteMarkerEntry::builder()
                            .key("a")
                            .version_id("2")
                            .build(),
                    )
                    .is_truncated(true)
                    .next_key_marker("a")
                    .next_version_id_marker("2")
                    .build()
            });
        let delete_first = mock!(aws_sdk_s3::Client::delete_objects)
            .match_requests(|r| r.delete().is_some_and(|d| d.objects().len() == 2))
            .then_output(|| DeleteObjectsOutput::builder().build());
        let second = mock!(aws_sdk_s3::Client::list_object_versions)
            .match_requests(|r| r.key_marker() == Some("a") && r.version_id_marker() == Some("2"))
            .then_output(|| {
                ListObjectVersionsOutput::builder()
                    .versions(version("b", "3"))
                    .is_truncated(false)
                    .build()
            });
        let delete_second = mock!(aws_sdk_s3::Client::delete_objects)
            .then_output(|| DeleteObjectsOutput::builder().build());
        let bucket = mock!(aws_sdk_s3::Client::delete_bucket)
            .match_requests(|r| r.bucket() == Some("b"))
            .then_output(|| DeleteBucketOutput::builder().build());
        let s3 = mocked_s3(&[&first, &delete_first, &second, &delete_second, &bucket]);
        assert_eq!(empty_and_delete(&s3, "b").await, Ok(3));
        assert_eq!(bucket.num_calls(), 1);
    }

    #[tokio::test]
    async fn regression_per_key_delete_errors_are_not_ignored() {
        let list = mock!(aws_sdk_s3::Client::list_object_versions).then_output(|| {
            ListObjectVersionsOutput::builder()
                .versions(version("locked", "1"))
                .versions(version("free", "2"))
                .build()
        });
        // A quiet DeleteObjects answers 200 with the keys it could not delete.
        let refused = mock!(aws_sdk_s3::Client::delete_objects).then_output(|| {
            DeleteObjectsOutput::builder()
                .errors(
                    KeyError::builder()
                        .key("locked")
                        .code("AccessDenied")
                        .message("Access Denied")
                        .build(),
                )
                .build()
        });
        let bucket = mock!(aws_sdk_s3::Client::delete_bucket)
            .then_output(|| DeleteBucketOutput::builder().build());
        let s3 = mocked_s3(&[&list, &refused, &bucket]);
        let error = empty_and_delete(&s3, "b").await.unwrap_err();
        assert!(
            error.contains("1 of 2 key(s) not deleted") && error.contains("\"locked\""),
            "{error}"
        );
        assert_eq!(
            bucket.num_calls(),
            0,
            "a bucket with keys left is not deleted"
        );
    }
}
