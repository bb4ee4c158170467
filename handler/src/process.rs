//! The orchestration of one invocation, generic over the metadata and publishing seams.
//!
//! Records are handled one after the other (publish order is message order within a FIFO
//! group); a failed record does not stop the others, and the invocation fails afterwards
//! listing every failed record so Lambda retries it. Each record gets one structured log line.

use crate::config::Config;
use crate::error::{HandlerError, RecordError, RecordFailure};
use crate::event::{self, EventError, Notification, ObjectEvent, Payload, classify};
use crate::plan::plan;
use crate::ports::{HeadError, ObjectMetadata, PublishError, Publisher};
use crate::summary::{ProcessedRecord, SkipReason, SkippedRecord, Summary};
use serde_json::Value;
use tracing::{error, info, warn};

enum Outcome {
    Processed(ProcessedRecord),
    Skipped(SkippedRecord),
}

/// Handles invocations with a validated configuration and the two seams.
#[derive(Debug)]
pub struct Processor<M, P> {
    config: Config,
    metadata: M,
    publisher: P,
}

impl<M: ObjectMetadata, P: Publisher> Processor<M, P> {
    pub fn new(config: Config, metadata: M, publisher: P) -> Self {
        Self {
            config,
            metadata,
            publisher,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Handles one invocation payload as `main` receives it from the runtime: a payload that is
    /// not JSON is a [`HandlerError::MalformedEvent`] like any other unreadable payload.
    pub async fn handle_payload(&self, payload: &Payload) -> Result<Summary, HandlerError> {
        self.run(payload.read()).await
    }

    /// Handles one invocation payload given as JSON text (same outcome as
    /// [`Processor::handle_payload`] on a payload with that text).
    pub async fn handle_json(&self, payload: &str) -> Result<Summary, HandlerError> {
        self.run(event::read(payload)).await
    }

    /// Handles one invocation payload already parsed into a `Value` (same outcome as
    /// [`Processor::handle_json`] on its text).
    pub async fn handle(&self, payload: Value) -> Result<Summary, HandlerError> {
        self.run(classify(&payload)).await
    }

    async fn run(
        &self,
        notification: Result<Notification, EventError>,
    ) -> Result<Summary, HandlerError> {
        let records = match notification {
            Ok(Notification::TestEvent { bucket }) => {
                info!(bucket = bucket.as_deref(), "ignored s3:TestEvent");
                return Ok(Summary {
                    test_events_ignored: 1,
                    ..Summary::default()
                });
            }
            Ok(Notification::Records(records)) => records,
            Err(error) => {
                error!(
                    error_type = crate::error::error_type::MALFORMED_EVENT,
                    error = %error,
                    "malformed event"
                );
                return Err(HandlerError::MalformedEvent(error));
            }
        };
        let mut summary = Summary::default();
        let mut failures = Vec::new();
        for (index, record) in records.into_iter().enumerate() {
            let result = match &record {
                Ok(event) => self.process(event).await,
                Err(error) => Err(RecordError::Malformed(error.clone())),
            };
            match result {
                Ok(Outcome::Processed(done)) => summary.processed.push(done),
                Ok(Outcome::Skipped(skipped)) => summary.skipped.push(skipped),
                Err(error) => {
                    let event = record.as_ref().ok();
                    let failure = RecordFailure {
                        index,
                        bucket: event.map(|e| e.bucket.clone()),
                        key: event.map(|e| e.key.clone()),
                        error,
                    };
                    log_failure(&failure);
                    failures.push(failure);
                }
            }
        }
        if failures.is_empty() {
            Ok(summary)
        } else {
            Err(HandlerError::RecordsFailed { failures, summary })
        }
    }

    async fn process(&self, event: &ObjectEvent) -> Result<Outcome, RecordError> {
        if !event.is_object_created() {
            return Ok(skip(event, SkipReason::NotObjectCreated, &event.event_name));
        }
        let meta = match self
            .metadata
            .head_object(&event.bucket, &event.key, event.version_id.as_deref())
            .await
        {
            Ok(meta) => meta,
            Err(HeadError::Gone { code }) => {
                return Ok(skip(event, SkipReason::ObjectGone, &code));
            }
            Err(error) => return Err(RecordError::Head(error)),
        };
        let plan = plan(&self.config, event, &meta);
        let email = self
            .publisher
            .publish_email(&plan.email)
            .await
            .map_err(RecordError::Email)?;
        let publish = plan.fifo.finish(&email.message_id);
        let fifo = self
            .publisher
            .publish_fifo(&publish)
            .await
            .map_err(|error| RecordError::Fifo {
                email_message_id: email.message_id.clone(),
                error,
            })?;
        let done = ProcessedRecord {
            index: event.index,
            bucket: event.bucket.clone(),
            key: event.key.clone(),
            verdict: plan.verdict,
            security_alert: plan.verdict.is_security_alert(),
            email_message_id: email.message_id,
            fifo_message_id: fifo.message_id,
            fifo_sequence_number: fifo.sequence_number,
            group_id: publish.group_id,
            dedup_id: publish.dedup_id,
        };
        log_processed(&done);
        Ok(Outcome::Processed(done))
    }
}

fn skip(event: &ObjectEvent, reason: SkipReason, detail: &str) -> Outcome {
    let skipped = SkippedRecord {
        index: event.index,
        bucket: event.bucket.clone(),
        key: event.key.clone(),
        reason,
        detail: detail.to_owned(),
    };
    warn!(
        record_index = skipped.index,
        bucket = %skipped.bucket,
        key = %skipped.key,
        reason = skipped.reason.as_str(),
        detail = %skipped.detail,
        "record skipped"
    );
    Outcome::Skipped(skipped)
}

fn log_processed(done: &ProcessedRecord) {
    macro_rules! processed {
        ($level:ident, $message:literal) => {
            $level!(
                record_index = done.index,
                bucket = %done.bucket,
                key = %done.key,
                verdict = done.verdict.as_str(),
                security_alert = done.security_alert,
                email_message_id = %done.email_message_id,
                fifo_message_id = %done.fifo_message_id,
                fifo_sequence_number = done.fifo_sequence_number.as_deref(),
                group_id = %done.group_id,
                dedup_id = %done.dedup_id,
                $message
            )
        };
    }
    if done.security_alert {
        processed!(warn, "record processed: SECURITY ALERT");
    } else {
        processed!(info, "record processed");
    }
}

fn log_failure(failure: &RecordFailure) {
    let (sns_code, sns_message) = match &failure.error {
        RecordError::Email(PublishError::Rejected { code, message, .. })
        | RecordError::Fifo {
            error: PublishError::Rejected { code, message, .. },
            ..
        } => (Some(code.as_str()), Some(message.as_str())),
        _ => (None, None),
    };
    error!(
        record_index = failure.index,
        bucket = failure.bucket.as_deref(),
        key = failure.key.as_deref(),
        error_type = failure.error.error_type(),
        sns_error_code = sns_code,
        sns_error_message = sns_message,
        error = %failure.error,
        "record failed"
    );
}

#[cfg(test)]
mod tests;
