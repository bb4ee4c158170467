//! The function's checks: runtime, architecture, role, state and environment; the async
//! failure destination and retries; and who may invoke it.

use super::{Check, check, policy_json, text};
use crate::deploy::Deployment;
use crate::run_target::Target;
use crate::stack::{StackArns, StackNames};

pub(super) async fn function_checks(
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
