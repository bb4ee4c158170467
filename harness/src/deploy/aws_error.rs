//! Deploy errors, and reading the AWS error code out of any SDK error.
//!
//! Idempotence rests on telling "already exists" and "not found" apart from real failures, which
//! every service spells differently; [`error_code`] gives the code and [`DeployError::call`]
//! keeps the call, the resource and the full message for the user.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("{call} on {resource} failed: {message}")]
    Call {
        call: &'static str,
        resource: String,
        code: Option<String>,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("{what} did not become ready within {waited_s} s: {detail}")]
    NotReady {
        what: String,
        waited_s: u64,
        detail: String,
    },
}

impl DeployError {
    /// Wraps an SDK error with the call and resource it concerned.
    pub fn call<E>(call: &'static str, resource: &str, error: E) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        Self::Call {
            call,
            resource: resource.to_owned(),
            code: error.code().map(str::to_owned),
            message: describe(&error),
        }
    }

    /// The AWS error code, when the failure came from a service.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Call { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

/// `Code: message` when the service said so, else the whole error chain (a timeout, a refused
/// connection); never the raw response dump.
pub fn describe<E>(error: &E) -> String
where
    E: ProvideErrorMetadata + std::error::Error,
{
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => DisplayErrorContext(error).to_string(),
    }
}

/// The AWS error code of an SDK error (`BucketAlreadyOwnedByYou`, `NoSuchEntity`, ...).
pub fn error_code<E: ProvideErrorMetadata>(error: &E) -> Option<&str> {
    error.code()
}

/// Codes that mean "the thing is not there" across the services we use.
pub fn is_not_found(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "NotFoundException"
                | "ResourceNotFoundException"
                | "NoSuchEntity"
                | "NoSuchBucket"
                | "NotFound"
                | "AWS.SimpleQueueService.NonExistentQueue"
                | "QueueDoesNotExist"
                | "NoSuchTagSet"
        )
    )
}
