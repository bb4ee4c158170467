//! The two seams between the orchestration and AWS: object metadata and publishing.
//!
//! Keeping them as small traits with typed errors lets the orchestration be tested with fakes,
//! and puts the classification of AWS failures (retry, gone, rejected) in one place, the
//! adapters in `aws`.

use crate::plan::{EmailPublish, FifoPublish};
use crate::verdict::HeadMetadata;
use std::future::Future;
use thiserror::Error;

/// Reads an object's metadata (HeadObject).
pub trait ObjectMetadata {
    fn head_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> impl Future<Output = Result<HeadMetadata, HeadError>> + Send;
}

/// Publishes to SNS.
pub trait Publisher {
    fn publish_email(
        &self,
        email: &EmailPublish,
    ) -> impl Future<Output = Result<Published, PublishError>> + Send;

    fn publish_fifo(
        &self,
        fifo: &FifoPublish,
    ) -> impl Future<Output = Result<Published, PublishError>> + Send;
}

/// A message SNS accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub message_id: String,
    /// Set for FIFO topics.
    pub sequence_number: Option<String>,
}

/// Why HeadObject gave no metadata.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HeadError {
    /// The object (or version) no longer exists: deleted before we got to it.
    #[error("the object is gone (HeadObject: {code})")]
    Gone { code: String },
    /// Throttling, 5xx, timeout, connection or I/O failure: a retry may succeed.
    #[error("HeadObject failed transiently: {detail}")]
    Retryable { detail: String },
    /// Anything else (e.g. 403 AccessDenied): a retry will not help.
    #[error("HeadObject failed: {code}: {message} (HTTP {status})")]
    Failed {
        status: u16,
        code: String,
        message: String,
    },
}

/// Why a publish did not happen.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PublishError {
    /// Throttling, 5xx, timeout, connection or I/O failure: a retry may succeed.
    #[error("SNS publish failed transiently: {detail}")]
    Retryable { detail: String },
    /// SNS refused the request (4xx such as InvalidParameter, AuthorizationError, NotFound).
    #[error("SNS rejected the publish: {code}: {message} (HTTP {status})")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// Neither of the above, e.g. a success response without a message id.
    #[error("SNS publish failed: {detail}")]
    Failed { detail: String },
}
