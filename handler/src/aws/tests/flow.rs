//! A whole invocation over the real adapters, and the adapters under aws-smithy-mocks.

use super::*;
use crate::fixtures::json;
use crate::process::Processor;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};

/// The whole handler over the real adapters: HeadObject, then the email publish, then the FIFO
/// publish carrying the email's message id, as exact wire requests.
#[tokio::test]
async fn full_invocation_over_the_wire() {
    let (s3_http, head_request) = capture_request(Some(response(
        200,
        &[
            ("x-amz-server-side-encryption", "AES256"),
            ("content-length", "1024"),
        ],
        "",
    )));
    let any_request = || {
        http::Request::builder()
            .uri("https://sns.eu-west-1.amazonaws.com/")
            .body(SdkBody::empty())
            .unwrap()
    };
    let sns_http = StaticReplayClient::new(vec![
        ReplayEvent::new(any_request(), publish_ok("email-msg-7", None)),
        ReplayEvent::new(
            any_request(),
            publish_ok("fifo-msg-8", Some("10000000000000000001")),
        ),
    ]);
    let processor = Processor::new(
        fixtures::config("prefix"),
        S3Metadata::new(s3_client(s3_http)),
        SnsPublisher::new(sns_client(sns_http.clone())),
    );
    let summary = processor
        .handle(json(fixtures::LOCALSTACK_PUT_PERCENT20))
        .await
        .unwrap();
    assert_eq!(summary.processed[0].email_message_id, "email-msg-7");
    assert_eq!(summary.processed[0].fifo_message_id, "fifo-msg-8");

    assert_eq!(
        head_request.expect_request().uri(),
        "https://uploads-local.s3.eu-west-1.amazonaws.com/incoming/quarterly%20report%20%C3%A9t%C3%A9%20%2B%20notes.txt"
    );
    let requests: Vec<HashMap<String, String>> = sns_http.actual_requests().map(form).collect();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["TopicArn"], fixtures::STANDARD_TOPIC);
    assert_eq!(
        requests[0]["Subject"],
        "[SECURITY] Unencrypted S3 upload: uploads-local/incoming/quarterly report ete + notes.txt"
    );
    assert_eq!(requests[1]["TopicArn"], fixtures::FIFO_TOPIC);
    assert_eq!(requests[1]["MessageGroupId"], "uploads-local/incoming");
    assert_eq!(
        requests[1]["MessageDeduplicationId"],
        summary.processed[0].dedup_id
    );
    let message: serde_json::Value = serde_json::from_str(&requests[1]["Message"]).unwrap();
    assert_eq!(message["email_message_id"], "email-msg-7");
    assert_eq!(message["encryption"]["verdict"], "unencrypted");
    assert_eq!(message["security_alert"], true);
}

/// The same seams with aws-smithy-mocks (modeled outputs and errors, no HTTP).
mod mocked {
    use super::*;
    use aws_sdk_s3::operation::head_object::{HeadObjectError, HeadObjectOutput};
    use aws_sdk_s3::types::ServerSideEncryption;
    use aws_sdk_s3::types::error::NotFound;
    use aws_smithy_mocks::{MockResponseInterceptor, RuleMode, create_mock_http_client, mock};

    fn mocked_s3(rules: &[&aws_smithy_mocks::Rule]) -> aws_sdk_s3::Client {
        let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        s3_client_with(create_mock_http_client(), |b| b.interceptor(interceptor))
    }

    #[tokio::test]
    async fn head_object_passes_the_version_id() {
        let rule = mock!(aws_sdk_s3::Client::head_object)
            .match_requests(|r| {
                r.bucket() == Some("b") && r.key() == Some("a b") && r.version_id() == Some("v1")
            })
            .then_output(|| {
                HeadObjectOutput::builder()
                    .server_side_encryption(ServerSideEncryption::AwsKms)
                    .ssekms_key_id(fixtures::KMS_KEY_ID)
                    .build()
            });
        let meta = S3Metadata::new(mocked_s3(&[&rule]))
            .head_object("b", "a b", Some("v1"))
            .await
            .unwrap();
        assert_eq!(meta.server_side_encryption.as_deref(), Some("aws:kms"));
        assert_eq!(meta.kms_key_id.as_deref(), Some(fixtures::KMS_KEY_ID));
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn modeled_not_found_is_gone() {
        let rule = mock!(aws_sdk_s3::Client::head_object)
            .then_error(|| HeadObjectError::NotFound(NotFound::builder().build()));
        let error = S3Metadata::new(mocked_s3(&[&rule]))
            .head_object("b", "k", None)
            .await
            .unwrap_err();
        assert!(matches!(error, HeadError::Gone { .. }), "{error:?}");
    }
}
