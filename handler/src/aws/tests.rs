//! Adapter tests against the SDK's own HTTP test layer: the exact requests sent, and how real
//! wire responses map to the typed errors.

use super::*;
use crate::fixtures::{self, KMS_KEY_ARN};
use crate::plan::{EmailPublish, FifoPublish};
use crate::ports::{HeadError, ObjectMetadata, PublishError, Publisher};
use aws_sdk_sns::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::test_util::{NeverClient, capture_request};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use std::collections::HashMap;
use std::time::Duration;

const REGION: &str = "eu-west-1";

fn s3_client(http: impl aws_sdk_s3::config::HttpClient + 'static) -> aws_sdk_s3::Client {
    s3_client_with(http, |b| b)
}

fn s3_client_with(
    http: impl aws_sdk_s3::config::HttpClient + 'static,
    customize: impl FnOnce(aws_sdk_s3::config::Builder) -> aws_sdk_s3::config::Builder,
) -> aws_sdk_s3::Client {
    let builder = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        .http_client(http);
    aws_sdk_s3::Client::from_conf(customize(builder).build())
}

fn sns_client(http: impl aws_sdk_sns::config::HttpClient + 'static) -> aws_sdk_sns::Client {
    sns_client_with(http, |b| b)
}

fn sns_client_with(
    http: impl aws_sdk_sns::config::HttpClient + 'static,
    customize: impl FnOnce(aws_sdk_sns::config::Builder) -> aws_sdk_sns::config::Builder,
) -> aws_sdk_sns::Client {
    let builder = aws_sdk_sns::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .retry_config(aws_sdk_sns::config::retry::RetryConfig::disabled())
        .http_client(http);
    aws_sdk_sns::Client::from_conf(customize(builder).build())
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> http::Response<SdkBody> {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(SdkBody::from(body.to_owned())).unwrap()
}

fn publish_ok(message_id: &str, sequence_number: Option<&str>) -> http::Response<SdkBody> {
    let sequence = sequence_number
        .map(|s| format!("<SequenceNumber>{s}</SequenceNumber>"))
        .unwrap_or_default();
    response(
        200,
        &[("content-type", "text/xml")],
        &format!(
            "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\
             <PublishResult><MessageId>{message_id}</MessageId>{sequence}</PublishResult>\
             <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>\
             </PublishResponse>"
        ),
    )
}

fn sns_error(status: u16, kind: &str, code: &str, message: &str) -> http::Response<SdkBody> {
    response(
        status,
        &[("content-type", "text/xml")],
        &format!(
            "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\
             <Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>\
             <RequestId>req-err</RequestId></ErrorResponse>"
        ),
    )
}

/// The form-encoded (AWS Query protocol) body of a captured SNS request.
fn form(request: &HttpRequest) -> HashMap<String, String> {
    let bytes = request.body().bytes().expect("in-memory body");
    form_urlencoded::parse(bytes).into_owned().collect()
}

fn fifo_publish() -> FifoPublish {
    FifoPublish {
        topic_arn: fixtures::FIFO_TOPIC.to_owned(),
        message: r#"{"schema_version":1,"key":"a b+c"}"#.to_owned(),
        group_id: "acme-secure-uploads".to_owned(),
        dedup_id: "0f".repeat(32),
    }
}

fn email_publish() -> EmailPublish {
    EmailPublish {
        topic_arn: fixtures::STANDARD_TOPIC.to_owned(),
        subject: "[SECURITY] Unencrypted S3 upload: b/k".to_owned(),
        message: "SECURITY ALERT: ...\nKey: k\n".to_owned(),
    }
}

#[tokio::test]
async fn fifo_publish_request_carries_group_and_dedup_ids() {
    let (http, request) = capture_request(Some(publish_ok("fifo-1", Some("10000000000000000042"))));
    let publisher = SnsPublisher::new(sns_client(http));
    let published = publisher.publish_fifo(&fifo_publish()).await.unwrap();
    assert_eq!(published.message_id, "fifo-1");
    assert_eq!(
        published.sequence_number.as_deref(),
        Some("10000000000000000042")
    );

    let request = request.expect_request();
    assert_eq!(request.method(), "POST");
    assert_eq!(request.uri(), "https://sns.eu-west-1.amazonaws.com/");
    assert_eq!(
        request.headers().get("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let body = form(&request);
    assert_eq!(body["Action"], "Publish");
    assert_eq!(body["Version"], "2010-03-31");
    assert_eq!(body["TopicArn"], fixtures::FIFO_TOPIC);
    assert_eq!(body["MessageGroupId"], "acme-secure-uploads");
    assert_eq!(body["MessageDeduplicationId"], "0f".repeat(32));
    assert_eq!(body["Message"], r#"{"schema_version":1,"key":"a b+c"}"#);
    assert!(!body.contains_key("Subject"));
}

#[tokio::test]
async fn email_publish_request_has_subject_and_no_fifo_ids() {
    let (http, request) = capture_request(Some(publish_ok("email-1", None)));
    let publisher = SnsPublisher::new(sns_client(http));
    let published = publisher.publish_email(&email_publish()).await.unwrap();
    assert_eq!(published.message_id, "email-1");
    assert_eq!(published.sequence_number, None);
    let body = form(&request.expect_request());
    assert_eq!(body["TopicArn"], fixtures::STANDARD_TOPIC);
    assert_eq!(body["Subject"], "[SECURITY] Unencrypted S3 upload: b/k");
    assert_eq!(body["Message"], "SECURITY ALERT: ...\nKey: k\n");
    assert!(!body.contains_key("MessageGroupId"));
    assert!(!body.contains_key("MessageDeduplicationId"));
}

#[tokio::test]
async fn sns_invalid_parameter_maps_to_rejected_with_code_and_message() {
    let text = "Invalid parameter: The MessageGroupId parameter is required for FIFO topics";
    let (http, _request) =
        capture_request(Some(sns_error(400, "Sender", "InvalidParameter", text)));
    let error = SnsPublisher::new(sns_client(http))
        .publish_fifo(&fifo_publish())
        .await
        .unwrap_err();
    assert_eq!(
        error,
        PublishError::Rejected {
            status: 400,
            code: "InvalidParameter".to_owned(),
            message: text.to_owned(),
        }
    );
}

#[tokio::test]
async fn sns_authorization_error_is_rejected() {
    let (http, _request) = capture_request(Some(sns_error(
        403,
        "Sender",
        "AuthorizationError",
        "User is not authorized to perform: SNS:Publish",
    )));
    let error = SnsPublisher::new(sns_client(http))
        .publish_email(&email_publish())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, PublishError::Rejected { status: 403, code, .. } if code == "AuthorizationError"),
        "{error:?}"
    );
}

#[tokio::test]
async fn sns_throttling_and_5xx_are_retryable() {
    let cases = [
        sns_error(400, "Sender", "Throttled", "Rate exceeded"),
        sns_error(500, "Receiver", "InternalError", "Internal error"),
        sns_error(503, "Receiver", "ServiceUnavailable", "Service unavailable"),
        response(503, &[], ""),
    ];
    for case in cases {
        let (http, _request) = capture_request(Some(case));
        let error = SnsPublisher::new(sns_client(http))
            .publish_fifo(&fifo_publish())
            .await
            .unwrap_err();
        assert!(matches!(error, PublishError::Retryable { .. }), "{error:?}");
    }
}

#[tokio::test]
async fn sns_success_without_message_id_is_a_failure() {
    let (http, _request) = capture_request(Some(response(
        200,
        &[("content-type", "text/xml")],
        "<PublishResponse><PublishResult></PublishResult></PublishResponse>",
    )));
    let error = SnsPublisher::new(sns_client(http))
        .publish_email(&email_publish())
        .await
        .unwrap_err();
    assert!(matches!(error, PublishError::Failed { .. }), "{error:?}");
}

#[derive(Debug)]
struct RefusingConnector;

impl HttpConnector for RefusingConnector {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        HttpConnectorFuture::ready(Err(ConnectorError::io("connection refused".into())))
    }
}

#[tokio::test]
async fn dispatch_failure_and_timeout_are_retryable() {
    let refusing = http_client_fn(|_, _| SharedHttpConnector::new(RefusingConnector));
    let error = SnsPublisher::new(sns_client(refusing))
        .publish_fifo(&fifo_publish())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, PublishError::Retryable { detail } if detail.contains("connection refused")),
        "{error:?}"
    );

    let timeout = aws_sdk_sns::config::timeout::TimeoutConfig::builder()
        .operation_timeout(Duration::from_millis(50))
        .build();
    let client = sns_client_with(NeverClient::new(), |b| b.timeout_config(timeout));
    let error = SnsPublisher::new(client)
        .publish_email(&email_publish())
        .await
        .unwrap_err();
    assert!(matches!(error, PublishError::Retryable { .. }), "{error:?}");
}

#[tokio::test]
async fn head_object_request_and_metadata() {
    let (http, request) = capture_request(Some(response(
        200,
        &[
            ("x-amz-server-side-encryption", "aws:kms"),
            ("x-amz-server-side-encryption-aws-kms-key-id", KMS_KEY_ARN),
            ("x-amz-server-side-encryption-bucket-key-enabled", "true"),
            ("content-length", "48213"),
            ("etag", "\"5d41402abc4b2a76b9719d911017c592\""),
            ("x-amz-version-id", "v-42"),
        ],
        "",
    )));
    let meta = S3Metadata::new(s3_client(http))
        .head_object(
            "acme-secure-uploads",
            "invoices/Q1 2026 + annex.pdf",
            Some("v-42"),
        )
        .await
        .unwrap();
    assert_eq!(meta.server_side_encryption.as_deref(), Some("aws:kms"));
    assert_eq!(meta.kms_key_id.as_deref(), Some(KMS_KEY_ARN));
    assert_eq!(meta.bucket_key_enabled, Some(true));
    assert_eq!(meta.content_length, Some(48213));
    assert_eq!(
        meta.etag.as_deref(),
        Some("5d41402abc4b2a76b9719d911017c592")
    );
    assert_eq!(meta.version_id.as_deref(), Some("v-42"));

    let request = request.expect_request();
    assert_eq!(request.method(), "HEAD");
    assert_eq!(
        request.uri(),
        "https://acme-secure-uploads.s3.eu-west-1.amazonaws.com/invoices/Q1%202026%20%2B%20annex.pdf?versionId=v-42"
    );
}

#[tokio::test]
async fn head_object_404_is_gone() {
    let (http, _request) = capture_request(Some(response(404, &[], "")));
    let error = S3Metadata::new(s3_client(http))
        .head_object("b", "deleted.txt", None)
        .await
        .unwrap_err();
    assert_eq!(
        error,
        HeadError::Gone {
            code: "NotFound".to_owned()
        }
    );
}

#[tokio::test]
async fn head_object_403_is_a_permanent_failure_and_503_is_retryable() {
    let (http, _request) = capture_request(Some(response(403, &[], "")));
    let error = S3Metadata::new(s3_client(http))
        .head_object("b", "k", None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, HeadError::Failed { status: 403, .. }),
        "{error:?}"
    );

    let (http, _request) = capture_request(Some(response(503, &[], "")));
    let error = S3Metadata::new(s3_client(http))
        .head_object("b", "k", None)
        .await
        .unwrap_err();
    assert!(matches!(error, HeadError::Retryable { .. }), "{error:?}");
}

#[tokio::test]
async fn ip_endpoint_uses_path_style_and_force_path_style_works_for_hostnames() {
    for (endpoint, force, expected) in [
        (
            "http://127.0.0.1:4566",
            false,
            "http://127.0.0.1:4566/bkt/dir/a%20b.txt",
        ),
        (
            "http://localhost:4566",
            true,
            "http://localhost:4566/bkt/dir/a%20b.txt",
        ),
        (
            "http://localhost:4566",
            false,
            "http://bkt.localhost:4566/dir/a%20b.txt",
        ),
    ] {
        let (http, request) = capture_request(Some(response(200, &[], "")));
        let client = s3_client_with(http, |b| b.endpoint_url(endpoint).force_path_style(force));
        S3Metadata::new(client)
            .head_object("bkt", "dir/a b.txt", None)
            .await
            .unwrap();
        assert_eq!(
            request.expect_request().uri(),
            expected,
            "{endpoint} {force}"
        );
    }
}

mod flow;
mod hung;
mod robustness;
