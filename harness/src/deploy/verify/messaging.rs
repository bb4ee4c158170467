//! The messaging checks: the FIFO topic's settings, both topics' subscriptions, and the
//! queues' encryption and policy.

use serde_json::Value;

use super::{Check, check, policy_json, text};
use crate::deploy::{Deployment, subscription_attribute};
use crate::run_target::Target;
use crate::stack::StackArns;
use crate::stack::policy::{fifo_topic_policy, queue_policy, standard_topic_policy};

pub(super) async fn messaging_checks(
    target: &Target,
    arns: &StackArns,
    deployment: &Deployment,
) -> Vec<Check> {
    let sns = target.sns();
    let sqs = target.sqs();
    let mut out = vec![
        topic_guarded(
            &sns,
            "standard topic is encrypted with our key and only the execution role may publish to it",
            &deployment.standard_topic_arn,
            &arns.key,
            standard_topic_policy(arns, &deployment.email_address),
        )
        .await,
        topic_guarded(
            &sns,
            "FIFO topic is encrypted with our key and only the execution role may publish to it",
            &deployment.fifo_topic_arn,
            &arns.key,
            fifo_topic_policy(arns),
        )
        .await,
    ];
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
                Some(arn) => subscription_attribute(&sns, arn, "RawMessageDelivery").await,
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

/// Whether a topic is encrypted with the stack's key and carries exactly its generated policy
/// (only the execution role publishes; delivery only to the stack's endpoint).
async fn topic_guarded(
    sns: &aws_sdk_sns::Client,
    name: &'static str,
    topic_arn: &str,
    key_arn: &str,
    wanted_policy: Value,
) -> Check {
    match sns.get_topic_attributes().topic_arn(topic_arn).send().await {
        Ok(a) => {
            let attrs = a.attributes().cloned().unwrap_or_default();
            let policy = attrs
                .get("Policy")
                .map(|p| policy_json(p))
                .unwrap_or(Value::Null);
            check(
                name,
                attrs.get("KmsMasterKeyId").map(String::as_str) == Some(key_arn)
                    && policy == wanted_policy,
                format!(
                    "KmsMasterKeyId {:?}, Policy {policy}",
                    attrs.get("KmsMasterKeyId")
                ),
            )
        }
        Err(e) => check(name, false, text(e)),
    }
}
