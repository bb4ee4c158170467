//! Uploads a planned workload with bounded concurrency and records what S3 answered.
//!
//! Uploads of one key run in plan order, one after another (so "overwrite order" means
//! something); different keys run concurrently up to the workload's concurrency, on that many
//! workers. Files at or above
//! the multipart threshold go through CreateMultipartUpload/UploadPart/Complete, so the pipeline
//! also sees `ObjectCreated:CompleteMultipartUpload` events.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use crate::deploy::describe_error;
use crate::oracle::Uploaded;
use crate::workload::{PART_SIZE, PlannedUpload, content};

/// Uploads every planned file to `bucket`; returns what S3 reported, in plan order, or the
/// first failure (naming the key).
///
/// `concurrency` workers take one key's chain at a time from a shared queue, so memory holds
/// that many uploads in flight, not one task per key: a 10,000-file run once spawned 10,000
/// tasks up front and grew the harness by 120 MiB before the first byte was sent.
pub async fn upload_all(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    plan: &[PlannedUpload],
    concurrency: usize,
    epoch: Instant,
) -> Result<Vec<Uploaded>, String> {
    let chains = Arc::new(Mutex::new(chains_by_key(plan)));
    let workers = concurrency.max(1).min(plan.len().max(1));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let (s3, bucket, chains) = (s3.clone(), bucket.to_owned(), chains.clone());
        tasks.spawn(async move {
            let mut done = Vec::new();
            loop {
                // The lock is released before any upload starts.
                let next = chains.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some(chain) = next else {
                    return Ok::<_, String>(done);
                };
                for upload in chain {
                    done.push(upload_one(&s3, &bucket, &upload, epoch).await?);
                }
            }
        });
    }
    let mut uploaded = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        uploaded.extend(joined.map_err(|e| format!("upload task failed: {e}"))??);
    }
    uploaded.sort_by_key(|u| u.index);
    Ok(uploaded)
}

/// One chain per key, each in plan order, the chains in the order of their first upload.
fn chains_by_key(plan: &[PlannedUpload]) -> VecDeque<Vec<PlannedUpload>> {
    let mut position: HashMap<&str, usize> = HashMap::new();
    let mut chains: VecDeque<Vec<PlannedUpload>> = VecDeque::new();
    for upload in plan {
        let at = *position.entry(upload.key.as_str()).or_insert_with(|| {
            chains.push_back(Vec::new());
            chains.len() - 1
        });
        chains[at].push(upload.clone());
    }
    chains
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

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(index: usize, key: &str) -> PlannedUpload {
        PlannedUpload {
            index,
            key: key.into(),
            size: 1,
            content_type: "text/plain".into(),
            content_seed: index as u64,
            multipart: false,
            overwrites: None,
            same_content_as: None,
        }
    }

    #[test]
    fn each_key_is_one_chain_in_plan_order_and_chains_follow_first_uploads() {
        let plan = [
            planned(0, "a"),
            planned(1, "b"),
            planned(2, "a"),
            planned(3, "c"),
            planned(4, "b"),
            planned(5, "a"),
        ];
        let chains: Vec<Vec<usize>> = chains_by_key(&plan)
            .into_iter()
            .map(|chain| chain.into_iter().map(|u| u.index).collect())
            .collect();
        assert_eq!(chains, [vec![0, 2, 5], vec![1, 4], vec![3]]);
    }
}
