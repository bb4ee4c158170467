//! Publish through aws-sdk-sns (standard topic for the email, FIFO topic for the JSON).

use super::{Failure, classify};
use crate::plan::{EmailPublish, FifoPublish};
use crate::ports::{PublishError, Published, Publisher};
use aws_sdk_sns::Client;
use aws_sdk_sns::config::http::HttpResponse;
use aws_sdk_sns::error::SdkError;
use aws_sdk_sns::operation::publish::{PublishError as SdkPublishError, PublishOutput};

/// [`Publisher`] backed by SNS Publish.
#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: Client,
}

impl SnsPublisher {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl Publisher for SnsPublisher {
    async fn publish_email(&self, email: &EmailPublish) -> Result<Published, PublishError> {
        let output = self
            .client
            .publish()
            .topic_arn(&email.topic_arn)
            .subject(&email.subject)
            .message(&email.message)
            .send()
            .await
            .map_err(|e| publish_error(&e))?;
        published(&output)
    }

    async fn publish_fifo(&self, fifo: &FifoPublish) -> Result<Published, PublishError> {
        let request = self
            .client
            .publish()
            .topic_arn(&fifo.topic_arn)
            .message(&fifo.message);
        // Test-only fault (see the `fault-omit-group-id` feature): the original system's bug.
        #[cfg(not(feature = "fault-omit-group-id"))]
        let request = request.message_group_id(&fifo.group_id);
        // Test-only fault (see the `fault-random-dedup-id` feature): a fresh id per publish.
        #[cfg(feature = "fault-random-dedup-id")]
        let request = request.message_deduplication_id(fresh_dedup_id());
        #[cfg(not(feature = "fault-random-dedup-id"))]
        let request = request.message_deduplication_id(&fifo.dedup_id);
        let output = request.send().await.map_err(|e| publish_error(&e))?;
        published(&output)
    }
}

/// A deduplication id no other publish shares (the weakened handler's bug): process id and
/// wall-clock nanoseconds.
#[cfg(feature = "fault-random-dedup-id")]
fn fresh_dedup_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:08x}{nanos:032x}", std::process::id())
}

fn published(output: &PublishOutput) -> Result<Published, PublishError> {
    let message_id = output.message_id().ok_or_else(|| PublishError::Failed {
        detail: "SNS accepted the publish but returned no MessageId".to_owned(),
    })?;
    Ok(Published {
        message_id: message_id.to_owned(),
        sequence_number: output.sequence_number().map(str::to_owned),
    })
}

fn publish_error(error: &SdkError<SdkPublishError, HttpResponse>) -> PublishError {
    match classify(error) {
        Failure::Transient(detail) => PublishError::Retryable { detail },
        Failure::Service {
            status,
            code,
            message,
        } => PublishError::Rejected {
            status,
            code,
            message,
        },
        Failure::Other(detail) => PublishError::Failed { detail },
    }
}
