//! Uploads a planned workload with bounded concurrency and records what S3 answered.
//!
//! Uploads of one key run in plan order, one after another (so "overwrite order" means
//! something); different keys run concurrently up to the workload's concurrency. Files at or above
//! the multipart threshold go through CreateMultipartUpload/UploadPart/Complete, so the pipeline
//! also sees `ObjectCreated:CompleteMultipartUpload` events.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use tokio::sync::Semaphore;

use crate::deploy::describe_error;
use crate::oracle::Uploaded;
use crate::workload::{PART_SIZE, PlannedUpload, content};

/// Uploads every planned file to `bucket`; returns what S3 reported, in plan order, or the
/// first failure (naming the key).
pub async fn upload_all(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    plan: &[PlannedUpload],
    concurrency: usize,
    epoch: Instant,
) -> Result<Vec<Uploaded>, String> {
    // One chain per key, in plan order.
    let mut chains: BTreeMap<&str, Vec<&PlannedUpload>> = BTreeMap::new();
    for upload in plan {
        chains.entry(upload.key.as_str()).or_default().push(upload);
    }
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for chain in chains.into_values() {
        let chain: Vec<PlannedUpload> = chain.into_iter().cloned().collect();
        let (s3, bucket, permits) = (s3.clone(), bucket.to_owned(), permits.clone());
        tasks.spawn(async move {
            let mut done = Vec::new();
            for upload in chain {
                let _permit = permits.acquire().await.map_err(|e| e.to_string())?;
                done.push(upload_one(&s3, &bucket, &upload, epoch).await?);
            }
            Ok::<_, String>(done)
        });
    }
    let mut uploaded = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        uploaded.extend(joined.map_err(|e| format!("upload task failed: {e}"))??);
    }
    uploaded.sort_by_key(|u| u.index);
    Ok(uploaded)
}

async fn upload_one(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    upload: &PlannedUpload,
    epoch: Instant,
) -> Result<Uploaded, String> {
    let bytes = content(upload);
    let fail =
        |what: &str, e: String| format!("{what} of `{}` ({} bytes): {e}", upload.key, upload.size);
    let (etag, version_id) = if upload.multipart {
        let created = s3
            .create_multipart_upload()
            .bucket(bucket)
            .key(&upload.key)
            .content_type(&upload.content_type)
            .send()
            .await
            .map_err(|e| fail("CreateMultipartUpload", describe_error(&e)))?;
        let upload_id = created.upload_id().unwrap_or_default().to_owned();
        let mut parts = Vec::new();
        for (i, chunk) in bytes.chunks(PART_SIZE as usize).enumerate() {
            let number = i as i32 + 1;
            let part = s3
                .upload_part()
                .bucket(bucket)
                .key(&upload.key)
                .upload_id(&upload_id)
                .part_number(number)
                .body(ByteStream::from(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| fail("UploadPart", describe_error(&e)))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(part.e_tag().map(str::to_owned))
                    .build(),
            );
        }
        let done = s3
            .complete_multipart_upload()
            .bucket(bucket)
            .key(&upload.key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| fail("CompleteMultipartUpload", describe_error(&e)))?;
        (
            done.e_tag().map(str::to_owned),
            done.version_id().map(str::to_owned),
        )
    } else {
        let put = s3
            .put_object()
            .bucket(bucket)
            .key(&upload.key)
            .content_type(&upload.content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| fail("PutObject", describe_error(&e)))?;
        (
            put.e_tag().map(str::to_owned),
            put.version_id().map(str::to_owned),
        )
    };
    Ok(Uploaded {
        index: upload.index,
        key: upload.key.clone(),
        version_id,
        etag: etag.unwrap_or_default().trim_matches('"').to_owned(),
        size: upload.size,
        at_ms: epoch.elapsed().as_millis() as u64,
    })
}
