//! HeadObject through aws-sdk-s3.

use super::{Failure, classify};
use crate::ports::{HeadError, ObjectMetadata};
use crate::verdict::HeadMetadata;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::head_object::HeadObjectError;

/// [`ObjectMetadata`] backed by S3 HeadObject.
#[derive(Debug, Clone)]
pub struct S3Metadata {
    client: Client,
}

impl S3Metadata {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

impl ObjectMetadata for S3Metadata {
    async fn head_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<HeadMetadata, HeadError> {
        let output = self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_owned))
            .send()
            .await
            .map_err(|e| head_error(&e))?;
        Ok(HeadMetadata {
            server_side_encryption: output
                .server_side_encryption()
                .map(|sse| sse.as_str().to_owned()),
            kms_key_id: output.ssekms_key_id().map(str::to_owned),
            bucket_key_enabled: output.bucket_key_enabled(),
            content_length: output.content_length().and_then(|n| u64::try_from(n).ok()),
            etag: output.e_tag().map(|e| e.trim_matches('"').to_owned()),
            version_id: output.version_id().map(str::to_owned),
        })
    }
}

/// 404 (the SDK's `NotFound`; HEAD responses have no body, so no `NoSuchKey` code) and
/// `NoSuchKey`/`NoSuchVersion` mean the object is gone.
fn head_error(error: &SdkError<HeadObjectError, HttpResponse>) -> HeadError {
    if let SdkError::ServiceError(service) = error {
        let status = service.raw().status().as_u16();
        let code = aws_sdk_s3::error::ProvideErrorMetadata::code(service.err());
        let not_found = matches!(service.err(), HeadObjectError::NotFound(_));
        if not_found || status == 404 || matches!(code, Some("NoSuchKey" | "NoSuchVersion")) {
            return HeadError::Gone {
                code: code.unwrap_or("NotFound").to_owned(),
            };
        }
    }
    match classify(error) {
        Failure::Transient(detail) => HeadError::Retryable { detail },
        Failure::Service {
            status,
            code,
            message,
        } => HeadError::Failed {
            status,
            code,
            message,
        },
        Failure::Other(detail) => HeadError::Failed {
            status: 0,
            code: "RequestNotSent".to_owned(),
            message: detail,
        },
    }
}
