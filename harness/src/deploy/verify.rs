//! Reads a deployed stack back from the target and checks every security and wiring property.
//!
//! The deploy code says what it meant to do; this module asks the services what they did: the
//! bucket's encryption, public access block, ownership, versioning and policy; the function's
//! runtime, role, environment, retry policy, destination, permission and trigger; the topics,
//! subscriptions and queues; the role policy (no `*` action) and the key policy.

use serde_json::Value;

use super::Deployment;
use crate::stack::policy::{
    bucket_policy, execution_role_policy, has_wildcard_resource, key_policy, queue_policy,
    wildcard_actions,
};
use crate::stack::{StackArns, StackNames};
use crate::target::Target;

/// One property, checked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

fn check(name: &'static str, ok: bool, detail: impl Into<String>) -> Check {
    Check {
        name,
        ok,
        detail: detail.into(),
    }
}

fn text<E>(error: E) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error,
{
    super::aws_error::describe(&error)
}

/// A policy document as JSON, whether the service returned it raw or URL-encoded (IAM does).
fn policy_json(document: &str) -> Value {
    let decoded = if document.trim_start().starts_with('{') {
        document.to_owned()
    } else {
        percent_encoding::percent_decode_str(document)
            .decode_utf8_lossy()
            .into_owned()
    };
    serde_json::from_str(&decoded).unwrap_or(Value::Null)
}

/// Checks every property of `deployment`; each failure says what was found instead.
pub async fn verify(target: &Target, names: &StackNames, deployment: &Deployment) -> Vec<Check> {
    let arns = StackArns::new(
        "aws",
        &deployment.region,
        &deployment.account_id,
        names,
        &deployment.kms_key_arn,
    );
    let mut checks = Vec::new();
    checks.extend(bucket_checks(target, names, &arns).await);
    checks.extend(function_checks(target, names, &arns, deployment).await);
    checks.extend(messaging_checks(target, &arns, deployment).await);
    checks.extend(identity_checks(target, names, &arns).await);
    checks
}

async fn bucket_checks(target: &Target, names: &StackNames, arns: &StackArns) -> Vec<Check> {
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

async fn function_checks(
    target: &Target,
    names: &StackNames,
    arns: &StackArns,
    deployment: &Deployment,
) -> Vec<Check> {
    let lambda = target.lambda();
    let name = &names.function;
    let mut out = Vec::new();
    out.push(
        match lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
        {
            Ok(c) => {
                let env = c
                    .environment()
                    .and_then(|e| e.variables())
                    .cloned()
                    .unwrap_or_default();
                let runtime = c.runtime().map(|r| r.as_str().to_owned());
                let arch: Vec<_> = c
                    .architectures()
                    .iter()
                    .map(|a| a.as_str().to_owned())
                    .collect();
                let ok = runtime.as_deref() == Some("provided.al2023")
                    && arch == ["x86_64"]
                    && c.role() == Some(deployment.role_arn.as_str())
                    && c.state().map(|s| s.as_str()) == Some("Active")
                    && env.get("STANDARD_TOPIC_ARN") == Some(&deployment.standard_topic_arn)
                    && env.get("FIFO_TOPIC_ARN") == Some(&deployment.fifo_topic_arn)
                    && env.get("EXPECTED_KMS_KEY_ARN") == Some(&deployment.kms_key_arn);
                check(
                    "function is provided.al2023/x86_64, Active, with our role and configuration",
                    ok,
                    format!(
                        "runtime {runtime:?}, arch {arch:?}, role {:?}, state {:?}, env {env:?}",
                        c.role(),
                        c.state()
                    ),
                )
            }
            Err(e) => check(
                "function is provided.al2023/x86_64, Active, with our role and configuration",
                false,
                text(e),
            ),
        },
    );
    out.push(
        match lambda
            .get_function_event_invoke_config()
            .function_name(name)
            .send()
            .await
        {
            Ok(c) => {
                let destination = c
                    .destination_config()
                    .and_then(|d| d.on_failure())
                    .and_then(|f| f.destination())
                    .unwrap_or_default();
                check(
                    "async failures go to the failure queue after 2 retries",
                    c.maximum_retry_attempts() == Some(2) && destination == arns.failure_queue,
                    format!(
                        "retries {:?}, on-failure {destination:?}",
                        c.maximum_retry_attempts()
                    ),
                )
            }
            Err(e) => check(
                "async failures go to the failure queue after 2 retries",
                false,
                text(e),
            ),
        },
    );
    out.push(match lambda.get_policy().function_name(name).send().await {
        Ok(p) => {
            let doc = policy_json(p.policy().unwrap_or_default());
            let statements = doc["Statement"].as_array().cloned().unwrap_or_default();
            let ok = statements.iter().any(|s| {
                let principal = &s["Principal"]["Service"];
                let cond = &s["Condition"];
                principal == "s3.amazonaws.com"
                    && cond["ArnLike"]["AWS:SourceArn"] == arns.bucket.as_str()
                    && cond["StringEquals"]["AWS:SourceAccount"] == arns.account_id.as_str()
            });
            check(
                "only S3, for our bucket and account, may invoke the function",
                ok && statements.len() == 1,
                doc.to_string(),
            )
        }
        Err(e) => check(
            "only S3, for our bucket and account, may invoke the function",
            false,
            text(e),
        ),
    });
    out
}

async fn messaging_checks(
    target: &Target,
    arns: &StackArns,
    deployment: &Deployment,
) -> Vec<Check> {
    let sns = target.sns();
    let sqs = target.sqs();
    let mut out = Vec::new();
    out.push(
        match sns
            .get_topic_attributes()
            .topic_arn(&deployment.fifo_topic_arn)
            .send()
            .await
        {
            Ok(a) => {
                let attrs = a.attributes().cloned().unwrap_or_default();
                check(
                    "FIFO topic is FIFO without content-based dedup (the handler sends ids)",
                    attrs.get("FifoTopic").map(String::as_str) == Some("true")
                        && attrs.get("ContentBasedDeduplication").map(String::as_str)
                            != Some("true"),
                    format!("{attrs:?}"),
                )
            }
            Err(e) => check(
                "FIFO topic is FIFO without content-based dedup (the handler sends ids)",
                false,
                text(e),
            ),
        },
    );
    out.push(
        match sns
            .list_subscriptions_by_topic()
            .topic_arn(&deployment.standard_topic_arn)
            .send()
            .await
        {
            Ok(s) => check(
                "standard topic has the email subscription",
                s.subscriptions().iter().any(|s| {
                    s.protocol() == Some("email")
                        && s.endpoint() == Some(deployment.email_address.as_str())
                }),
                format!("{:?}", s.subscriptions()),
            ),
            Err(e) => check("standard topic has the email subscription", false, text(e)),
        },
    );
    let fifo_sub = sns
        .list_subscriptions_by_topic()
        .topic_arn(&deployment.fifo_topic_arn)
        .send()
        .await;
    out.push(match fifo_sub {
        Ok(s) => {
            let sub = s.subscriptions().iter().find(|s| {
                s.protocol() == Some("sqs") && s.endpoint() == Some(arns.fifo_queue.as_str())
            });
            let raw = match sub.and_then(|s| s.subscription_arn()) {
                Some(arn) => sns
                    .get_subscription_attributes()
                    .subscription_arn(arn)
                    .send()
                    .await
                    .ok()
                    .and_then(|a| {
                        a.attributes()
                            .and_then(|m| m.get("RawMessageDelivery").cloned())
                    }),
                None => None,
            };
            check(
                "FIFO topic delivers raw to the FIFO queue",
                raw.as_deref() == Some("true"),
                format!("subscription {sub:?}, RawMessageDelivery {raw:?}"),
            )
        }
        Err(e) => check("FIFO topic delivers raw to the FIFO queue", false, text(e)),
    });
    use aws_sdk_sqs::types::QueueAttributeName as Q;
    out.push(
        match sqs
            .get_queue_attributes()
            .queue_url(&deployment.queue_url)
            .attribute_names(Q::All)
            .send()
            .await
        {
            Ok(a) => {
                let attrs = a.attributes().cloned().unwrap_or_default();
                let policy = attrs
                    .get(&Q::Policy)
                    .map(|p| policy_json(p))
                    .unwrap_or(Value::Null);
                check(
                    "FIFO queue is encrypted with our key and accepts only our FIFO topic",
                    attrs.get(&Q::FifoQueue).map(String::as_str) == Some("true")
                        && attrs.get(&Q::KmsMasterKeyId) == Some(&arns.key)
                        && policy == queue_policy(arns),
                    format!("{attrs:?}"),
                )
            }
            Err(e) => check(
                "FIFO queue is encrypted with our key and accepts only our FIFO topic",
                false,
                text(e),
            ),
        },
    );
    out.push(
        match sqs
            .get_queue_attributes()
            .queue_url(&deployment.failure_queue_url)
            .attribute_names(Q::All)
            .send()
            .await
        {
            Ok(a) => {
                let attrs = a.attributes().cloned().unwrap_or_default();
                check(
                    "failure queue exists and is encrypted (SSE-SQS)",
                    attrs.get(&Q::SqsManagedSseEnabled).map(String::as_str) == Some("true"),
                    format!("{attrs:?}"),
                )
            }
            Err(e) => check(
                "failure queue exists and is encrypted (SSE-SQS)",
                false,
                text(e),
            ),
        },
    );
    out
}

async fn identity_checks(target: &Target, names: &StackNames, arns: &StackArns) -> Vec<Check> {
    let mut out = Vec::new();
    out.push(
        match target.iam().get_role_policy().role_name(&names.role).policy_name(&names.role_policy).send().await {
            Ok(p) => {
                let doc = policy_json(p.policy_document());
                let wild = wildcard_actions(&doc);
                check(
                    "execution role policy is the generated least-privilege one (no * action or resource)",
                    wild.is_empty() && !has_wildcard_resource(&doc) && doc == execution_role_policy(arns),
                    format!("wildcard actions {wild:?}; document {doc}"),
                )
            }
            Err(e) => check("execution role policy is the generated least-privilege one (no * action or resource)", false, text(e)),
        },
    );
    out.push(
        match target
            .kms()
            .get_key_policy()
            .key_id(&arns.key)
            .policy_name("default")
            .send()
            .await
        {
            Ok(p) => {
                let doc = policy_json(p.policy().unwrap_or_default());
                check(
                    "key policy is the generated one (admin, S3, role, SNS only)",
                    doc == key_policy(arns, &arns.account_root()),
                    doc.to_string(),
                )
            }
            Err(e) => check(
                "key policy is the generated one (admin, S3, role, SNS only)",
                false,
                text(e),
            ),
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_are_read_raw_or_url_encoded() {
        let raw = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(policy_json(raw), policy_json(encoded));
        assert_eq!(policy_json(raw)["Version"], "2012-10-17");
        assert_eq!(policy_json("not json"), Value::Null);
    }
}
