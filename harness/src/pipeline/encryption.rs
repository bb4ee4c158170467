//! The harness's own look at encryption at rest, independent of the handler's verdict: every
//! uploaded version asked with HeadObject, and an upload asking for other encryption probed
//! against the bucket policy.

use super::finding::Check;
use crate::deploy;
use crate::localstack::Emulator;
use crate::run_target::{Target, TargetKind};

/// Every uploaded version, asked with HeadObject: SSE-KMS with our key and the Bucket Key on.
/// This is the harness's own look, independent of the handler's verdict in its messages.
pub(super) async fn check_encryption_at_rest(
    target: &Target,
    deployment: &deploy::Deployment,
    uploads: &[crate::oracle::Uploaded],
) -> Check {
    let s3 = target.s3();
    // MiniStack's HeadObject never reports the Bucket Key (LocalStack's and AWS's do): there it
    // cannot be checked, and the check's name says so instead of passing it.
    let bucket_key_reported = target.emulator() != Some(Emulator::MiniStack);
    let mut wrong = Vec::new();
    for upload in uploads {
        let head = s3
            .head_object()
            .bucket(&deployment.bucket)
            .key(&upload.key)
            .set_version_id(upload.version_id.clone())
            .send()
            .await;
        match head {
            Ok(h) => {
                let algorithm = h.server_side_encryption().map(|a| a.as_str().to_owned());
                let key = h.ssekms_key_id().unwrap_or_default();
                let key_ok = key == deployment.kms_key_arn
                    || deployment.kms_key_arn.ends_with(&format!("key/{key}"));
                // Where the Bucket Key is not reported, only its absence is let go: a `false`
                // still fails.
                let bucket_key_ok = match h.bucket_key_enabled() {
                    Some(on) => on,
                    None => !bucket_key_reported,
                };
                if algorithm.as_deref() != Some("aws:kms") || !key_ok || !bucket_key_ok {
                    wrong.push(format!(
                        "{:?}: {algorithm:?}, key {key:?}, bucket key {:?}",
                        upload.key,
                        h.bucket_key_enabled()
                    ));
                }
            }
            Err(e) => wrong.push(format!(
                "{:?}: HeadObject: {}",
                upload.key,
                deploy::describe_error(&e)
            )),
        }
    }
    let name = if bucket_key_reported {
        "every uploaded object is SSE-KMS with our key and the Bucket Key on (HeadObject)"
    } else {
        "every uploaded object is SSE-KMS with our key (HeadObject; this target does not report \
         the Bucket Key, so it is not checked)"
    };
    Check::new(
        name,
        wrong.is_empty(),
        if wrong.is_empty() {
            format!("{} object(s)", uploads.len())
        } else {
            wrong.join("; ")
        },
    )
}

/// What the probe of the bucket policy's encryption rule found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enforcement {
    /// The target answered as AWS must or must not: a check with its outcome.
    Checked(Check),
    /// The target does not enforce bucket policies (LocalStack): named, not passed.
    Divergence(String),
}

/// An upload asking for SSE-S3 instead of our KMS key must be denied by the bucket policy.
/// Where the target does not enforce bucket policies (LocalStack), that is reported as a
/// divergence, not as a pass.
pub async fn probe_encryption_enforcement(
    target: &Target,
    deployment: &deploy::Deployment,
) -> Enforcement {
    let name = "an upload asking for other encryption than our KMS key is denied";
    let key = format!("{}/probe-sse-s3", deployment.run_id);
    let put = target
        .s3()
        .put_object()
        .bucket(&deployment.bucket)
        .key(&key)
        .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(b"probe"))
        .send()
        .await;
    match put {
        Err(e) => {
            let code = aws_sdk_s3::error::ProvideErrorMetadata::code(&e).unwrap_or_default();
            Enforcement::Checked(Check::new(
                name,
                code == "AccessDenied",
                deploy::describe_error(&e),
            ))
        }
        Ok(_) if target.kind == TargetKind::Aws => Enforcement::Checked(Check::new(
            name,
            false,
            "AWS accepted an SSE-S3 upload despite the bucket policy",
        )),
        Ok(_) => Enforcement::Divergence(format!(
            "{name}: not enforced by this target ({} does not evaluate bucket policies; the \
             SSE-S3 probe upload was accepted)",
            target.emulator().map_or("the emulator", Emulator::name)
        )),
    }
}
