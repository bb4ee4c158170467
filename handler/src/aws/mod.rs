//! The AWS SDK adapters behind the `ports` traits, and how SDK failures are classified.
//!
//! Throttling, 5xx, timeouts and dispatch/IO failures are retryable; a 404 on HeadObject means
//! the object is gone; any other service error is permanent and keeps the AWS error code and
//! message, so a rejected publish surfaces with SNS's own words.

mod s3;
mod sns;

pub use s3::S3Metadata;
pub use sns::SnsPublisher;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Error codes AWS uses for throttling and transient server trouble (HTTP status aside).
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "Throttled",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "BandwidthLimitExceeded",
    "KMSThrottling",
    "KMSThrottlingException",
    "InternalError",
    "InternalFailure",
    "InternalErrorException",
    "ServiceUnavailable",
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
];

/// An SDK failure, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    /// Worth retrying; the text says what happened.
    Transient(String),
    /// The service answered with an error that a retry will not fix.
    Service {
        status: u16,
        code: String,
        message: String,
    },
    /// The request could not even be built (a bug, not an AWS condition).
    Other(String),
}

fn classify<E>(error: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().unwrap_or("Unknown").to_owned();
            let message = service.err().message().unwrap_or("").to_owned();
            if status >= 500 || status == 429 || TRANSIENT_CODES.contains(&code.as_str()) {
                Failure::Transient(format!("{code}: {message} (HTTP {status})"))
            } else {
                Failure::Service {
                    status,
                    code,
                    message,
                }
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Failure::Transient(DisplayErrorContext(error).to_string())
        }
        _ => Failure::Other(DisplayErrorContext(error).to_string()),
    }
}

#[cfg(test)]
mod tests;
