//! What gets published: the email Subject and body, and the FIFO JSON message.
//!
//! SNS rejects a Subject over 100 characters, with non-printable-ASCII characters or line
//! breaks, and object keys can be any Unicode, so the Subject is built to be valid by
//! construction. The FIFO message is a versioned, stable schema for machine consumers.

use crate::event::ObjectEvent;
use crate::verdict::{ExpectedKey, HeadMetadata, Verdict};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Longest Subject SNS accepts.
pub const SUBJECT_MAX_LEN: usize = 100;

/// Current `schema_version` of [`FifoMessage`].
pub const SCHEMA_VERSION: u32 = 1;

/// True if SNS accepts `subject`: 1 to 100 printable ASCII characters (which also excludes line
/// breaks and other control characters), starting with a non-space.
pub fn is_valid_subject(subject: &str) -> bool {
    !subject.is_empty()
        && subject.len() <= SUBJECT_MAX_LEN
        && subject.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && !subject.starts_with(' ')
}

/// The email Subject: `[SECURITY] ...` for security alerts, then `bucket/key`, transliterated to
/// ASCII and shortened in the middle (keeping the file name) when too long.
pub fn subject(verdict: Verdict, bucket: &str, key: &str) -> String {
    let lead = match verdict {
        Verdict::Encrypted => "S3 upload (encrypted): ",
        Verdict::Unencrypted => "[SECURITY] Unencrypted S3 upload: ",
        Verdict::WrongKey => "[SECURITY] S3 upload with wrong KMS key: ",
    };
    let target = ascii_line(&format!("{bucket}/{key}"));
    let room = SUBJECT_MAX_LEN - lead.len();
    let target = if target.len() <= room {
        target
    } else {
        // Keep the start (bucket) and more of the end (file name); the text is ASCII now.
        let keep = room - 3;
        let tail = keep * 2 / 3;
        let head = keep - tail;
        format!("{}...{}", &target[..head], &target[target.len() - tail..])
    };
    format!("{lead}{target}").trim_end().to_owned()
}

/// Transliterates to ASCII (unknown characters become `?`), turns whitespace and control
/// characters into single spaces, and trims.
fn ascii_line(text: &str) -> String {
    let spaced: String = text
        .chars()
        .map(|c| {
            if c.is_control() || c.is_whitespace() {
                ' '
            } else {
                c
            }
        })
        .collect();
    let ascii = deunicode::deunicode_with_tofu(&spaced, "?");
    let mut out = String::with_capacity(ascii.len());
    for byte in ascii.bytes() {
        let c = if (0x21..=0x7e).contains(&byte) {
            char::from(byte)
        } else {
            ' '
        };
        if c != ' ' || !out.ends_with(' ') {
            out.push(c);
        }
    }
    out.trim().to_owned()
}

/// Replaces control characters (including line breaks) with visible escapes, so a key cannot
/// forge extra lines in the email body.
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn or_none(value: Option<&str>) -> &str {
    value.unwrap_or("(none)")
}

/// The plain-text email body.
pub fn body(
    event: &ObjectEvent,
    meta: &HeadMetadata,
    verdict: Verdict,
    expected: &ExpectedKey,
) -> String {
    let headline = match verdict {
        Verdict::Encrypted => "A new object was uploaded, encrypted with the expected KMS key.",
        Verdict::Unencrypted => {
            "SECURITY ALERT: a new object is NOT encrypted with SSE-KMS (aws:kms)."
        }
        Verdict::WrongKey => {
            "SECURITY ALERT: a new object is encrypted with SSE-KMS, but NOT with the expected KMS key."
        }
    };
    let size = match event.size.or(meta.content_length) {
        Some(bytes) => format!("{bytes} bytes"),
        None => "(unknown)".to_owned(),
    };
    let bucket_key = match meta.bucket_key_enabled {
        Some(true) => "enabled",
        Some(false) => "disabled",
        None => "(not reported)",
    };
    let mut text = String::new();
    let _ = writeln!(text, "{headline}\n");
    let mut line = |label: &str, value: &str| {
        let _ = writeln!(text, "{label:<18}{value}");
    };
    line("Bucket:", &visible(&event.bucket));
    line("Key:", &visible(&event.key));
    line("Size:", &size);
    line(
        "ETag:",
        or_none(event.etag.as_deref().or(meta.etag.as_deref())),
    );
    line("Version ID:", or_none(event.version_id.as_deref()));
    line("Encryption:", verdict.as_str());
    line(
        "  Algorithm:",
        or_none(meta.server_side_encryption.as_deref()),
    );
    line("  KMS key:", or_none(meta.kms_key_id.as_deref()));
    line("  Expected key:", expected.as_str());
    line("  Bucket key:", bucket_key);
    line("Event:", &visible(&event.event_name));
    line("Event time:", &visible(&event.event_time));
    line("Region:", &visible(&event.region));
    line("Sequencer:", or_none(event.sequencer.as_deref()));
    text
}

/// The JSON message published to the FIFO topic, `schema_version` 1.
///
/// One message per object version; field names are snake_case and stable, new fields may be
/// added within a schema version, removals or changes bump `schema_version`.
///
/// | field | type | meaning |
/// |---|---|---|
/// | `schema_version` | integer | always `1` for this layout |
/// | `bucket` | string | bucket name |
/// | `key` | string | object key, decoded (`+`/`%20` are spaces, `%2B` is `+`) |
/// | `size` | integer or null | object size in bytes (from the event, else HeadObject) |
/// | `etag` | string or null | ETag without quotes (from the event, else HeadObject) |
/// | `version_id` | string or null | object version id; null when the bucket is not versioned |
/// | `sequencer` | string or null | S3 event sequencer (orders events of one key) |
/// | `event_name` | string | e.g. `ObjectCreated:Put`, `ObjectCreated:CompleteMultipartUpload` |
/// | `event_time` | string | event time as sent by S3 (ISO 8601, UTC) |
/// | `region` | string | the event's `awsRegion` |
/// | `encryption.verdict` | string | `encrypted`, `unencrypted` or `wrong-key` |
/// | `encryption.algorithm` | string or null | HeadObject `ServerSideEncryption` (`aws:kms`, `AES256`, ...) |
/// | `encryption.kms_key_id` | string or null | HeadObject `SSEKMSKeyId` (key ARN or key id) |
/// | `encryption.bucket_key_enabled` | boolean or null | HeadObject `BucketKeyEnabled` |
/// | `encryption.expected_kms_key` | string | the configured `EXPECTED_KMS_KEY_ARN` |
/// | `security_alert` | boolean | true unless the verdict is `encrypted` |
/// | `group_id` | string | the SNS `MessageGroupId` this message was published with |
/// | `dedup_id` | string | the SNS `MessageDeduplicationId` (64 hex chars, SHA-256 of the object identity) |
/// | `email_message_id` | string | SNS message id of the email alert, published first |
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FifoMessage {
    pub schema_version: u32,
    pub bucket: String,
    pub key: String,
    pub size: Option<u64>,
    pub etag: Option<String>,
    pub version_id: Option<String>,
    pub sequencer: Option<String>,
    pub event_name: String,
    pub event_time: String,
    pub region: String,
    pub encryption: Encryption,
    pub security_alert: bool,
    pub group_id: String,
    pub dedup_id: String,
    pub email_message_id: String,
}

/// The `encryption` object of [`FifoMessage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    pub verdict: Verdict,
    pub algorithm: Option<String>,
    pub kms_key_id: Option<String>,
    pub bucket_key_enabled: Option<bool>,
    pub expected_kms_key: String,
}

#[cfg(test)]
mod tests;
