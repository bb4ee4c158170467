//! The AWS SDK adapters behind the `ports` traits, the SDK configuration they are built from,
//! and how SDK failures are classified.
//!
//! Every call has connect, read, attempt and operation timeouts ([`timeouts`]), so an endpoint
//! that accepts a connection and never answers fails the call well before the function's own
//! timeout. Throttling, 5xx, timeouts and dispatch/IO failures are retryable; a 404 on
//! HeadObject means the object is gone; any other service error is permanent and keeps the AWS
//! error code and message, so a rejected publish surfaces with SNS's own words.

mod s3;
mod sns;

pub use s3::S3Metadata;
pub use sns::SnsPublisher;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::time::Duration;

// The timeouts of every SDK call. The bound that matters is the function's timeout (30 s, as the
// harness deploys it): a record makes up to three calls (HeadObject, two publishes), and the
// first one that fails, e.g. on a hung endpoint, ends the record. So one operation, with all its
// attempts, must end well inside 30 s, leaving room for init and the calls before it; and within
// that, each attempt must end early enough that the SDK's retries (3 attempts, with backoffs of
// under 1 s and under 2 s between them) still fit. Timeouts are retryable (`Handler.Retryable`).

/// Time to open the TCP (and TLS) connection. AWS endpoints connect in milliseconds; the SDK's
/// own default is 3.1 s.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time from the start of an attempt (connecting included) to the response's headers.
/// HeadObject and Publish normally answer in well under a second (the chaos scenarios add 300 ms
/// of latency): 5 s means a stuck endpoint, not a busy one. Not shorter: a publish retried after
/// a response that was only slow sends its email twice. A hung endpoint thus fails each attempt
/// after 5 s, and the whole call after 3 x 5 s plus backoff, 15 to 18 s.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// One attempt including its response body (the read timeout ends at the headers).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(8);
/// One call with all its attempts and backoffs: the hard bound, 10 s under the function's
/// 30 s timeout (three attempts of up to 8 s plus backoff would otherwise take 27 s).
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

/// The timeouts of every SDK call (the constants above).
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// The SDK configuration `main` loads: the standard chain (region, credentials, endpoints from
/// `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>`) and [`timeouts`]. What is set on the
/// loader takes precedence over the environment.
pub fn sdk_config_loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts())
}

/// The two adapters over one SDK configuration, as `main` builds them.
pub fn adapters(sdk: &SdkConfig, s3_force_path_style: bool) -> (S3Metadata, SnsPublisher) {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(s3_force_path_style)
            .build(),
    );
    let sns = aws_sdk_sns::Client::new(sdk);
    (S3Metadata::new(s3), SnsPublisher::new(sns))
}

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
