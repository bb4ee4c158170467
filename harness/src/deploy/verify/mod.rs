//! Reads a deployed stack back from the target and checks every security and wiring property.
//!
//! The deploy code says what it meant to do; this module asks the services what they did: the
//! bucket's encryption, public access block, ownership, versioning and policy; the function's
//! runtime, role, environment, retry policy, destination, permission and trigger; the topics,
//! subscriptions and queues; the role policy (no `*` action) and the key policy.
//!
//! This module holds the check vocabulary and runs the groups, one module each: `bucket`,
//! `function`, `messaging` (topics, subscriptions, queues) and `identity` (role and key
//! policies).

mod bucket;
mod function;
mod identity;
mod messaging;

use serde_json::Value;

use super::Deployment;
use crate::run_target::Target;
use crate::stack::{StackArns, StackNames};
use bucket::bucket_checks;
use function::function_checks;
use identity::identity_checks;
use messaging::messaging_checks;

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
