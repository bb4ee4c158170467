//! Invocation errors, their classification and their Lambda error type names.
//!
//! Lambda retries a failed asynchronous invocation whatever the error, so the classification is
//! for people and tests: the `errorType` reported to Lambda (`Handler.Retryable`,
//! `Handler.PublishRejected`, ...) says whether a retry can help and what kind of failure it is,
//! and the message lists every failed record with its cause.

use crate::event::EventError;
use crate::ports::{HeadError, PublishError};
use crate::summary::Summary;
use lambda_runtime::Diagnostic;
use thiserror::Error;

/// Whether retrying the invocation can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Retryable,
    Permanent,
}

/// Lambda error type names (the `errorType` of the invocation error).
pub mod error_type {
    /// A transient AWS failure (throttling, 5xx, timeout, connection): retrying can succeed.
    pub const RETRYABLE: &str = "Handler.Retryable";
    /// SNS rejected a publish (4xx, e.g. InvalidParameter); the SNS code and message follow.
    pub const PUBLISH_REJECTED: &str = "Handler.PublishRejected";
    /// A publish failed in another permanent way (e.g. no message id in the response).
    pub const PUBLISH_FAILED: &str = "Handler.PublishFailed";
    /// HeadObject failed permanently (e.g. 403 AccessDenied).
    pub const HEAD_OBJECT_FAILED: &str = "Handler.HeadObjectFailed";
    /// The payload or a record is not a readable S3 notification.
    pub const MALFORMED_EVENT: &str = "Handler.MalformedEvent";
}

/// Why one record failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordError {
    #[error("malformed record: {0}")]
    Malformed(EventError),
    #[error("{0}")]
    Head(HeadError),
    #[error("email alert not published: {0}")]
    Email(PublishError),
    #[error("email alert {email_message_id} was published, but the FIFO message was not: {error}")]
    Fifo {
        email_message_id: String,
        error: PublishError,
    },
}

impl RecordError {
    pub fn class(&self) -> ErrorClass {
        match self.error_type() {
            error_type::RETRYABLE => ErrorClass::Retryable,
            _ => ErrorClass::Permanent,
        }
    }

    pub fn error_type(&self) -> &'static str {
        match self {
            RecordError::Malformed(_) => error_type::MALFORMED_EVENT,
            RecordError::Head(HeadError::Retryable { .. }) => error_type::RETRYABLE,
            // `Gone` is turned into a skip before it gets here; if it does not, it is permanent.
            RecordError::Head(HeadError::Failed { .. } | HeadError::Gone { .. }) => {
                error_type::HEAD_OBJECT_FAILED
            }
            RecordError::Email(error) | RecordError::Fifo { error, .. } => match error {
                PublishError::Retryable { .. } => error_type::RETRYABLE,
                PublishError::Rejected { .. } => error_type::PUBLISH_REJECTED,
                PublishError::Failed { .. } => error_type::PUBLISH_FAILED,
            },
        }
    }
}

/// A failed record, identified for the error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFailure {
    pub index: usize,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub error: RecordError,
}

impl std::fmt::Display for RecordFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {}", self.index)?;
        if let (Some(bucket), Some(key)) = (&self.bucket, &self.key) {
            write!(f, " (s3://{bucket}/{key:?})")?;
        }
        write!(f, ": [{}] {}", self.error.error_type(), self.error)
    }
}

/// Why an invocation failed. `Debug` prints the same readable text as `Display`, because the
/// Lambda runtime logs handler errors with `{:?}`.
#[derive(Clone, PartialEq, Eq, Error)]
pub enum HandlerError {
    /// The payload is not an S3 notification or TestEvent at all.
    #[error("malformed event: {0}")]
    MalformedEvent(EventError),
    /// Some records failed; the others were processed (see `summary`).
    #[error(
        "{} of {} record(s) failed ({} processed, {} skipped): {}",
        .failures.len(),
        .failures.len() + .summary.processed.len() + .summary.skipped.len(),
        .summary.processed.len(),
        .summary.skipped.len(),
        failure_list(.failures)
    )]
    RecordsFailed {
        failures: Vec<RecordFailure>,
        summary: Summary,
    },
}

fn failure_list(failures: &[RecordFailure]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl std::fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {self}", self.error_type())
    }
}

impl HandlerError {
    /// The Lambda `errorType`. With several failed records: `Handler.Retryable` if any can
    /// succeed on retry, else the first record's type (e.g. `Handler.PublishRejected`).
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::MalformedEvent(_) => error_type::MALFORMED_EVENT,
            HandlerError::RecordsFailed { failures, .. } => {
                if failures
                    .iter()
                    .any(|f| f.error.class() == ErrorClass::Retryable)
                {
                    error_type::RETRYABLE
                } else {
                    failures
                        .first()
                        .map_or(error_type::MALFORMED_EVENT, |f| f.error.error_type())
                }
            }
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self.error_type() {
            error_type::RETRYABLE => ErrorClass::Retryable,
            _ => ErrorClass::Permanent,
        }
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Self {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(index: usize, error: RecordError) -> RecordFailure {
        RecordFailure {
            index,
            bucket: Some("b".to_owned()),
            key: Some("k 1".to_owned()),
            error,
        }
    }

    fn rejected() -> RecordError {
        RecordError::Fifo {
            email_message_id: "m-1".to_owned(),
            error: PublishError::Rejected {
                status: 400,
                code: "InvalidParameter".to_owned(),
                message:
                    "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
                        .to_owned(),
            },
        }
    }

    fn throttled() -> RecordError {
        RecordError::Head(HeadError::Retryable {
            detail: "SlowDown (HTTP 503)".to_owned(),
        })
    }

    #[test]
    fn rejected_publish_maps_to_publish_rejected_with_code_and_message() {
        let error = HandlerError::RecordsFailed {
            failures: vec![failure(0, rejected())],
            summary: Summary::default(),
        };
        assert!(format!("{error:?}").starts_with("[Handler.PublishRejected] 1 of 1 record(s)"));
        let diagnostic = Diagnostic::from(error);
        assert_eq!(diagnostic.error_type, "Handler.PublishRejected");
        assert_eq!(
            diagnostic.error_message,
            "1 of 1 record(s) failed (0 processed, 0 skipped): record 0 (s3://b/\"k 1\"): \
             [Handler.PublishRejected] email alert m-1 was published, but the FIFO message was \
             not: SNS rejected the publish: InvalidParameter: Invalid parameter: The \
             MessageGroupId parameter is required for FIFO topics (HTTP 400)"
        );
    }

    #[test]
    fn any_retryable_failure_makes_the_invocation_retryable() {
        let error = HandlerError::RecordsFailed {
            failures: vec![failure(0, rejected()), failure(1, throttled())],
            summary: Summary::default(),
        };
        assert_eq!(error.error_type(), "Handler.Retryable");
        assert_eq!(error.class(), ErrorClass::Retryable);
        let text = error.to_string();
        assert!(
            text.contains("record 0 ") && text.contains("record 1 "),
            "{text}"
        );
    }

    #[test]
    fn classification_of_record_errors() {
        assert_eq!(throttled().class(), ErrorClass::Retryable);
        assert_eq!(rejected().class(), ErrorClass::Permanent);
        let head_failed = RecordError::Head(HeadError::Failed {
            status: 403,
            code: "AccessDenied".to_owned(),
            message: "Access Denied".to_owned(),
        });
        assert_eq!(head_failed.error_type(), "Handler.HeadObjectFailed");
        let email_retry = RecordError::Email(PublishError::Retryable {
            detail: "timeout".to_owned(),
        });
        assert_eq!(email_retry.error_type(), "Handler.Retryable");
        let malformed = RecordError::Malformed(EventError::Missing {
            path: "Records[0].s3".to_owned(),
        });
        assert_eq!(malformed.error_type(), "Handler.MalformedEvent");
        assert_eq!(
            HandlerError::MalformedEvent(EventError::NotAnObject { found: "null" }).error_type(),
            "Handler.MalformedEvent"
        );
    }
}
