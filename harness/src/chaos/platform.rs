//! Platform faults: what an operator (or an outage) does to the deployed stack for a while, and
//! how each is undone. Each opens and closes through the same public APIs a person would use,
//! so every one is reversible and safe on a sandbox account.

use crate::deploy::{Deployment, describe_error};
use crate::run_target::Target;

use super::spec::FaultSpec;

/// An opened fault and what closing it needs.
#[derive(Debug)]
pub enum Opened {
    Throttled,
    KeyDisabled,
    /// The removed subscription's ARN.
    Unsubscribed(String),
}

/// Opens a windowed fault; the string says what was done, for the timeline.
pub async fn open(
    target: &Target,
    deployment: &Deployment,
    fault: &FaultSpec,
) -> Result<(Opened, String), String> {
    match fault {
        FaultSpec::ThrottleFunction { .. } => {
            target
                .lambda()
                .put_function_concurrency()
                .function_name(&deployment.function_name)
                .reserved_concurrent_executions(0)
                .send()
                .await
                .map_err(|e| format!("lambda PutFunctionConcurrency 0: {}", describe_error(&e)))?;
            Ok((
                Opened::Throttled,
                "function reserved concurrency set to 0".into(),
            ))
        }
        FaultSpec::DisableKmsKey { .. } => {
            target
                .kms()
                .disable_key()
                .key_id(&deployment.kms_key_arn)
                .send()
                .await
                .map_err(|e| format!("kms DisableKey: {}", describe_error(&e)))?;
            Ok((Opened::KeyDisabled, "KMS key disabled".into()))
        }
        FaultSpec::RemoveFifoSubscription { .. } => {
            let arn = fifo_subscription(target, deployment).await?;
            target
                .sns()
                .unsubscribe()
                .subscription_arn(&arn)
                .send()
                .await
                .map_err(|e| format!("sns Unsubscribe {arn}: {}", describe_error(&e)))?;
            Ok((
                Opened::Unsubscribed(arn.clone()),
                format!("FIFO subscription {arn} removed"),
            ))
        }
        other => Err(format!("`{other}` is not a windowed fault")),
    }
}

/// Undoes an opened fault; the string says what was done.
pub async fn close(
    target: &Target,
    deployment: &Deployment,
    opened: &Opened,
) -> Result<String, String> {
    match opened {
        Opened::Throttled => {
            target
                .lambda()
                .delete_function_concurrency()
                .function_name(&deployment.function_name)
                .send()
                .await
                .map_err(|e| format!("lambda DeleteFunctionConcurrency: {}", describe_error(&e)))?;
            Ok("function reserved concurrency removed".into())
        }
        Opened::KeyDisabled => {
            target
                .kms()
                .enable_key()
                .key_id(&deployment.kms_key_arn)
                .send()
                .await
                .map_err(|e| format!("kms EnableKey: {}", describe_error(&e)))?;
            Ok("KMS key enabled".into())
        }
        Opened::Unsubscribed(_) => {
            let out = target
                .sns()
                .subscribe()
                .topic_arn(&deployment.fifo_topic_arn)
                .protocol("sqs")
                .endpoint(&deployment.queue_arn)
                .attributes("RawMessageDelivery", "true")
                .return_subscription_arn(true)
                .send()
                .await
                .map_err(|e| format!("sns Subscribe (restore): {}", describe_error(&e)))?;
            Ok(format!(
                "FIFO subscription restored as {}",
                out.subscription_arn().unwrap_or("?")
            ))
        }
    }
}

/// The ARN of the FIFO topic's subscription of our queue.
async fn fifo_subscription(target: &Target, deployment: &Deployment) -> Result<String, String> {
    let out = target
        .sns()
        .list_subscriptions_by_topic()
        .topic_arn(&deployment.fifo_topic_arn)
        .send()
        .await
        .map_err(|e| format!("sns ListSubscriptionsByTopic: {}", describe_error(&e)))?;
    out.subscriptions()
        .iter()
        .find(|s| s.endpoint() == Some(deployment.queue_arn.as_str()))
        .and_then(|s| s.subscription_arn())
        .map(str::to_owned)
        .ok_or_else(|| format!("no subscription of {} found", deployment.queue_arn))
}
