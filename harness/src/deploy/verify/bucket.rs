//! The bucket's checks: default encryption, public access block, ownership, versioning,
//! policy and the notification that triggers the function.

use super::{Check, check, policy_json, text};
use crate::run_target::Target;
use crate::stack::policy::bucket_policy;
use crate::stack::{StackArns, StackNames};

pub(super) async fn bucket_checks(
    target: &Target,
    names: &StackNames,
    arns: &StackArns,
) -> Vec<Check> {
    let s3 = target.s3();
    let bucket = &names.bucket;
    let mut out = Vec::new();
    out.push(
        match s3.get_bucket_encryption().bucket(bucket).send().await {
            Ok(enc) => {
                let rule = enc
                    .server_side_encryption_configuration()
                    .and_then(|c| c.rules().first());
                let default = rule.and_then(|r| r.apply_server_side_encryption_by_default());
                let algorithm = default.map(|d| d.sse_algorithm().as_str().to_owned());
                let key = default
                    .and_then(|d| d.kms_master_key_id())
                    .unwrap_or_default();
                let bucket_key = rule.and_then(|r| r.bucket_key_enabled());
                check(
                    "bucket default encryption is SSE-KMS with our key and Bucket Key",
                    algorithm.as_deref() == Some("aws:kms")
                        && (key == arns.key || arns.key.ends_with(key))
                        && bucket_key == Some(true),
                    format!("algorithm {algorithm:?}, key {key:?}, bucket key {bucket_key:?}"),
                )
            }
            Err(e) => check(
                "bucket default encryption is SSE-KMS with our key and Bucket Key",
                false,
                text(e),
            ),
        },
    );
    out.push(
        match s3.get_public_access_block().bucket(bucket).send().await {
            Ok(pab) => {
                let c = pab.public_access_block_configuration();
                let all = c.is_some_and(|c| {
                    c.block_public_acls() == Some(true)
                        && c.ignore_public_acls() == Some(true)
                        && c.block_public_policy() == Some(true)
                        && c.restrict_public_buckets() == Some(true)
                });
                check(
                    "bucket blocks public access (all four settings)",
                    all,
                    format!("{c:?}"),
                )
            }
            Err(e) => check(
                "bucket blocks public access (all four settings)",
                false,
                text(e),
            ),
        },
    );
    out.push(
        match s3
            .get_bucket_ownership_controls()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(own) => {
                let rule = own
                    .ownership_controls()
                    .and_then(|c| c.rules().first())
                    .map(|r| r.object_ownership().as_str().to_owned());
                check(
                    "bucket ownership is enforced (ACLs off)",
                    rule.as_deref() == Some("BucketOwnerEnforced"),
                    format!("{rule:?}"),
                )
            }
            Err(e) => check("bucket ownership is enforced (ACLs off)", false, text(e)),
        },
    );
    out.push(
        match s3.get_bucket_versioning().bucket(bucket).send().await {
            Ok(v) => check(
                "bucket versioning is enabled",
                v.status().map(|s| s.as_str()) == Some("Enabled"),
                format!("{:?}", v.status()),
            ),
            Err(e) => check("bucket versioning is enabled", false, text(e)),
        },
    );
    out.push(match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(p) => {
            let found = policy_json(p.policy().unwrap_or_default());
            check(
                "bucket policy denies non-TLS and foreign encryption (as generated)",
                found == bucket_policy(arns),
                found.to_string(),
            )
        }
        Err(e) => check(
            "bucket policy denies non-TLS and foreign encryption (as generated)",
            false,
            text(e),
        ),
    });
    out.push(
        match s3
            .get_bucket_notification_configuration()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(n) => {
                let ok = n.lambda_function_configurations().iter().any(|c| {
                    c.lambda_function_arn() == arns.function
                        && c.events()
                            .iter()
                            .any(|e| e.as_str() == "s3:ObjectCreated:*")
                });
                check(
                    "bucket notifies the function on s3:ObjectCreated:*",
                    ok,
                    format!("{:?}", n.lambda_function_configurations()),
                )
            }
            Err(e) => check(
                "bucket notifies the function on s3:ObjectCreated:*",
                false,
                text(e),
            ),
        },
    );
    out
}
