//! The event fixtures under `tests/fixtures/`, shared by the tests of several modules.
//!
//! They are written in the exact shape AWS and LocalStack deliver S3 notifications to Lambda.

pub const AWS_PUT_PLUS_SPACE: &str = include_str!("../tests/fixtures/aws-put-plus-space.json");
pub const LOCALSTACK_PUT_PERCENT20: &str =
    include_str!("../tests/fixtures/localstack-put-percent20.json");
pub const AWS_MULTIPART_UPLOAD: &str = include_str!("../tests/fixtures/aws-multipart-upload.json");
pub const TEST_EVENT: &str = include_str!("../tests/fixtures/test-event.json");
pub const MULTI_RECORD: &str = include_str!("../tests/fixtures/multi-record.json");
pub const MALFORMED_MISSING_KEY: &str =
    include_str!("../tests/fixtures/malformed-missing-key.json");
pub const MALFORMED_UNRECOGNIZED: &str =
    include_str!("../tests/fixtures/malformed-unrecognized.json");

/// Every S3 notification fixture (those that must also parse as `aws_lambda_events`' S3Event).
pub const NOTIFICATIONS: [(&str, &str); 5] = [
    ("aws-put-plus-space", AWS_PUT_PLUS_SPACE),
    ("localstack-put-percent20", LOCALSTACK_PUT_PERCENT20),
    ("aws-multipart-upload", AWS_MULTIPART_UPLOAD),
    ("multi-record", MULTI_RECORD),
    ("malformed-missing-key", MALFORMED_MISSING_KEY),
];

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("fixture is valid JSON")
}

pub const STANDARD_TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:upload-alerts";
pub const FIFO_TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:upload-events.fifo";
pub const KMS_KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
pub const KMS_KEY_ARN: &str =
    "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
pub const OTHER_KMS_KEY_ARN: &str =
    "arn:aws:kms:eu-west-1:111122223333:key/99999999-12ab-34cd-56ef-1234567890ab";

/// A valid configuration with the given grouping.
pub fn config(grouping: &str) -> crate::config::Config {
    let env = [
        ("STANDARD_TOPIC_ARN", STANDARD_TOPIC),
        ("FIFO_TOPIC_ARN", FIFO_TOPIC),
        ("EXPECTED_KMS_KEY_ARN", KMS_KEY_ARN),
        ("FIFO_GROUPING", grouping),
    ];
    crate::config::Config::from_lookup(|var| {
        env.iter()
            .find(|(k, _)| *k == var)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("test configuration is valid")
}

/// HeadObject metadata for an object encrypted with `key` (SSE-KMS), or SSE-S3 when `None`.
pub fn head(key: Option<&str>) -> crate::verdict::HeadMetadata {
    crate::verdict::HeadMetadata {
        server_side_encryption: Some(if key.is_some() { "aws:kms" } else { "AES256" }.to_owned()),
        kms_key_id: key.map(str::to_owned),
        bucket_key_enabled: key.map(|_| true),
        content_length: Some(48213),
        etag: Some("5d41402abc4b2a76b9719d911017c592".to_owned()),
        version_id: None,
    }
}

/// The payload as the Lambda runtime hands it to `main`'s handler type: lambda_runtime 1.5
/// (`deserializer::deserialize`) reads the invocation body with serde_path_to_error over
/// `serde_json::Deserializer::from_slice`, and answers a failure itself, without calling the
/// handler.
pub fn as_the_runtime_reads<T: serde::de::DeserializeOwned>(
    body: &[u8],
) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer)
}
