//! What gets published: the email Subject and body, and the FIFO JSON message.
//!
//! SNS rejects a Subject over 100 characters, with non-printable-ASCII characters or line
//! breaks, and object keys can be any Unicode, so the Subject is built to be valid by
//! construction. The FIFO message is a versioned, stable schema for machine consumers.

use crate::event::ObjectEvent;
use crate::verdict::{ExpectedKey, HeadMetadata, Verdict};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
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
    let mut subject = String::with_capacity(SUBJECT_MAX_LEN);
    subject.push_str(lead);
    if target.len() <= room {
        subject.push_str(&target);
    } else {
        // Keep the start (bucket) and more of the end (file name); the text is ASCII now.
        let keep = room - 3;
        let tail = keep * 2 / 3;
        let head = keep - tail;
        subject.push_str(&target[..head]);
        subject.push_str("...");
        subject.push_str(&target[target.len() - tail..]);
    }
    subject.truncate(subject.trim_end().len());
    subject
}

/// Transliterates to ASCII (unknown characters become `?`), turns whitespace and control
/// characters into single spaces, and trims.
fn ascii_line(text: &str) -> String {
    // ASCII needs no transliteration, and its whitespace and control characters are exactly the
    // bytes the loop below turns into spaces.
    let ascii = if text.is_ascii() {
        Cow::Borrowed(text)
    } else {
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
        Cow::Owned(deunicode::deunicode_with_tofu(&spaced, "?"))
    };
    let mut out = String::with_capacity(ascii.len());
    for byte in ascii.bytes() {
        if (0x21..=0x7e).contains(&byte) {
            out.push(char::from(byte));
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// Appends `text` with control characters (including line breaks) replaced by visible escapes,
/// so a key cannot forge extra lines in the email body.
fn push_visible(out: &mut String, text: &str) {
    let mut done = 0;
    for (at, control) in text.match_indices(char::is_control) {
        out.push_str(&text[done..at]);
        out.extend(control.chars().flat_map(char::escape_default));
        done = at + control.len();
    }
    out.push_str(&text[done..]);
}

fn or_none(value: Option<&str>) -> &str {
    value.unwrap_or("(none)")
}

/// Where the values start in the email body: labels are padded to this many characters.
const LABEL_WIDTH: usize = 18;

/// Appends a body line's label, padded to [`LABEL_WIDTH`].
fn push_label(text: &mut String, label: &str) {
    text.push_str(label);
    text.extend(std::iter::repeat_n(
        ' ',
        LABEL_WIDTH.saturating_sub(label.len()),
    ));
}

/// Appends a body line: the label, `value`, a line break.
fn push_line(text: &mut String, label: &str, value: &str) {
    push_label(text, label);
    text.push_str(value);
    text.push('\n');
}

/// Appends a body line whose value comes from the event, with control characters made visible.
fn push_visible_line(text: &mut String, label: &str, value: &str) {
    push_label(text, label);
    push_visible(text, value);
    text.push('\n');
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
    let bucket_key = match meta.bucket_key_enabled {
        Some(true) => "enabled",
        Some(false) => "disabled",
        None => "(not reported)",
    };
    // Room for the labels, the headline and the usual values; the key can be long.
    let mut text = String::with_capacity(1024 + event.bucket.len() + event.key.len());
    text.push_str(headline);
    text.push_str("\n\n");
    push_visible_line(&mut text, "Bucket:", &event.bucket);
    push_visible_line(&mut text, "Key:", &event.key);
    push_label(&mut text, "Size:");
    match event.size.or(meta.content_length) {
        Some(bytes) => {
            let _ = writeln!(text, "{bytes} bytes");
        }
        None => text.push_str("(unknown)\n"),
    }
    let etag = event.etag.as_deref().or(meta.etag.as_deref());
    push_line(&mut text, "ETag:", or_none(etag));
    push_line(
        &mut text,
        "Version ID:",
        or_none(event.version_id.as_deref()),
    );
    push_line(&mut text, "Encryption:", verdict.as_str());
    let algorithm = meta.server_side_encryption.as_deref();
    push_line(&mut text, "  Algorithm:", or_none(algorithm));
    push_line(&mut text, "  KMS key:", or_none(meta.kms_key_id.as_deref()));
    push_line(&mut text, "  Expected key:", expected.as_str());
    push_line(&mut text, "  Bucket key:", bucket_key);
    push_visible_line(&mut text, "Event:", &event.event_name);
    push_visible_line(&mut text, "Event time:", &event.event_time);
    push_visible_line(&mut text, "Region:", &event.region);
    push_line(&mut text, "Sequencer:", or_none(event.sequencer.as_deref()));
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
