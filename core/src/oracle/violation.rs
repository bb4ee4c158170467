//! The violations the oracle reports, each naming the object(s) involved, with a one-line
//! `Display` that says what was expected and what was found.
//!
//! Text that comes from outside (keys, bodies, values) is shown with Rust's debug quoting, so a
//! key with line breaks cannot break the one-line-per-violation report.

use std::borrow::Cow;
use std::fmt;

use super::Uploaded;

/// One broken guarantee. `index` is the upload's [`super::Uploaded::index`]; `position` is a
/// delivery's position in the received slice (receive order).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Violation {
    /// An uploaded version got no FIFO message.
    MissingFifoMessage {
        index: usize,
        key: String,
        version_id: Option<String>,
    },
    /// An uploaded version got `count` (> 1) FIFO messages.
    DuplicateFifoMessage {
        index: usize,
        key: String,
        version_id: Option<String>,
        count: usize,
    },
    /// An uploaded version got no email alert.
    MissingEmail {
        index: usize,
        key: String,
        version_id: Option<String>,
        etag: String,
    },
    /// An uploaded version got `count` (> 1) email alerts.
    DuplicateEmail {
        index: usize,
        key: String,
        version_id: Option<String>,
        etag: String,
        count: usize,
    },
    /// A chaos run delivered this version's S3 event `deliveries` times on purpose, but only
    /// `emails` alerts came: the redelivered event did not run the handler. (The oracle alone
    /// never reports this; the chaos accounting does, since it knows how often each event went.)
    RedeliveryNotMailed {
        index: usize,
        key: String,
        version_id: Option<String>,
        deliveries: usize,
        emails: usize,
    },
    /// A delivery for this object does not match it or the schema. `field` is a JSON path of
    /// the FIFO message (`encryption.verdict`) or `email.<label>` for a line of the email
    /// (`email.subject` for its Subject); `expected` and `found` are JSON renderings of values
    /// (`"x"`, `5`, `null`) or a description (`a string`, `missing`, `64 hex characters`).
    SchemaMismatch {
        index: usize,
        key: String,
        version_id: Option<String>,
        field: String,
        expected: String,
        found: String,
    },
    /// A FIFO message that names no uploaded version (or cannot be read at all).
    UnexpectedFifoMessage {
        position: usize,
        key: Option<String>,
        version_id: Option<String>,
        reason: String,
        body: String,
    },
    /// An email to the run's address that names no uploaded version.
    UnexpectedEmail {
        position: usize,
        subject: String,
        key: Option<String>,
        etag: Option<String>,
        reason: String,
    },
    /// Within one message group, `later` was received after `earlier` but its SequenceNumber is
    /// not greater.
    GroupOrderBroken {
        group_id: String,
        earlier_position: usize,
        earlier_index: Option<usize>,
        earlier_key: Option<String>,
        earlier_sequence_number: String,
        later_position: usize,
        later_index: Option<usize>,
        later_key: Option<String>,
        later_sequence_number: String,
    },
    /// Two versions of one key, uploaded one after the other, whose S3 sequencers are not in
    /// upload order.
    OverwriteOrderBroken {
        key: String,
        earlier_index: usize,
        earlier_version_id: Option<String>,
        earlier_sequencer: String,
        later_index: usize,
        later_version_id: Option<String>,
        later_sequencer: String,
    },
    /// The on-failure queue holds another number of records than expected; `bodies` summarise
    /// what it holds (see [`failure_summary`]).
    FailureCountMismatch {
        expected: usize,
        got: usize,
        bodies: Vec<String>,
    },
}

impl Violation {
    /// The uploads ([`super::Uploaded::index`]) this violation names.
    pub fn objects(&self) -> Vec<usize> {
        match self {
            Self::MissingFifoMessage { index, .. }
            | Self::DuplicateFifoMessage { index, .. }
            | Self::MissingEmail { index, .. }
            | Self::DuplicateEmail { index, .. }
            | Self::RedeliveryNotMailed { index, .. }
            | Self::SchemaMismatch { index, .. } => vec![*index],
            Self::GroupOrderBroken {
                earlier_index,
                later_index,
                ..
            } => earlier_index.iter().chain(later_index).copied().collect(),
            Self::OverwriteOrderBroken {
                earlier_index,
                later_index,
                ..
            } => {
                vec![*earlier_index, *later_index]
            }
            Self::UnexpectedFifoMessage { .. }
            | Self::UnexpectedEmail { .. }
            | Self::FailureCountMismatch { .. } => Vec::new(),
        }
    }
}

/// `"v1"` or `null`.
pub(super) fn quoted_or_null(v: &Option<String>) -> String {
    v.as_ref()
        .map_or_else(|| "null".to_owned(), |v| format!("{v:?}"))
}

/// `object #3 "k"`, or just the key when the message is for no upload.
fn object(index: Option<usize>, k: &Option<String>) -> String {
    match index {
        Some(i) => format!("object #{i} {}", key(k)),
        None => format!("key {}", key(k)),
    }
}

/// `text` as is when it is one clean line, else debug-quoted (so it cannot break the line).
fn shown(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(format!("{text:?}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `"key"` or `(unreadable)`.
fn key(k: &Option<String>) -> String {
    k.as_ref()
        .map_or_else(|| "(unreadable)".to_owned(), |k| format!("{k:?}"))
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingFifoMessage {
                index,
                key,
                version_id,
            } => write!(
                f,
                "object #{index} {key:?} (version {}): no FIFO message, expected exactly 1",
                quoted_or_null(version_id)
            ),
            Self::DuplicateFifoMessage {
                index,
                key,
                version_id,
                count,
            } => write!(
                f,
                "object #{index} {key:?} (version {}): {count} FIFO messages, expected exactly 1",
                quoted_or_null(version_id)
            ),
            Self::MissingEmail {
                index,
                key,
                version_id,
                etag,
            } => write!(
                f,
                "object #{index} {key:?} (version {}, ETag {etag:?}): no email alert, expected \
                 exactly 1",
                quoted_or_null(version_id)
            ),
            Self::DuplicateEmail {
                index,
                key,
                version_id,
                etag,
                count,
            } => write!(
                f,
                "object #{index} {key:?} (version {}, ETag {etag:?}): {count} email alerts, \
                 expected exactly 1",
                quoted_or_null(version_id)
            ),
            Self::RedeliveryNotMailed {
                index,
                key,
                version_id,
                deliveries,
                emails,
            } => write!(
                f,
                "object #{index} {key:?} (version {}): {emails} email alert(s) for {deliveries} \
                 deliveries of its S3 event, expected one per delivery (a redelivered event did \
                 not run the handler)",
                quoted_or_null(version_id)
            ),
            Self::SchemaMismatch {
                index,
                key,
                version_id,
                field,
                expected,
                found,
            } => {
                let (what, field) = match field.strip_prefix("email.") {
                    Some(line) => ("email", line),
                    None => ("FIFO message", field.as_str()),
                };
                write!(
                    f,
                    "object #{index} {key:?} (version {}): {what} field `{field}` is {}, expected {}",
                    quoted_or_null(version_id),
                    shown(found),
                    shown(expected)
                )
            }
            Self::UnexpectedFifoMessage {
                position,
                key: k,
                version_id,
                reason,
                ..
            } => write!(
                f,
                "FIFO message #{position} (key {}, version {}) matches no upload: {}",
                key(k),
                quoted_or_null(version_id),
                shown(reason)
            ),
            Self::UnexpectedEmail {
                position,
                subject,
                reason,
                ..
            } => {
                write!(
                    f,
                    "email #{position} {subject:?} matches no upload: {}",
                    shown(reason)
                )
            }
            Self::GroupOrderBroken {
                group_id,
                earlier_position,
                earlier_index,
                earlier_key,
                earlier_sequence_number,
                later_position,
                later_index,
                later_key,
                later_sequence_number,
            } => write!(
                f,
                "group {group_id:?}: FIFO message #{later_position} for {} (SequenceNumber \
                 {later_sequence_number}) was received after #{earlier_position} for {} \
                 (SequenceNumber {earlier_sequence_number}); expected strictly increasing",
                object(*later_index, later_key),
                object(*earlier_index, earlier_key)
            ),
            Self::OverwriteOrderBroken {
                key,
                earlier_index,
                earlier_version_id,
                earlier_sequencer,
                later_index,
                later_version_id,
                later_sequencer,
            } => write!(
                f,
                "key {key:?}: object #{later_index} (version {}) has sequencer \
                 {later_sequencer:?}, not after {earlier_sequencer:?} of object #{earlier_index} \
                 (version {}) uploaded before it",
                quoted_or_null(later_version_id),
                quoted_or_null(earlier_version_id)
            ),
            Self::FailureCountMismatch {
                expected,
                got,
                bodies,
            } => write!(
                f,
                "on-failure queue: {got} record(s), expected {expected}; bodies: {bodies:?}"
            ),
        }
    }
}

/// Collects the mismatches of one delivery with its object.
pub(super) struct Mismatches<'a> {
    upload: &'a Uploaded,
    pub out: Vec<Violation>,
}

impl<'a> Mismatches<'a> {
    pub fn new(upload: &'a Uploaded) -> Self {
        Self {
            upload,
            out: Vec::new(),
        }
    }

    pub fn push(&mut self, field: &str, expected: impl Into<String>, found: impl Into<String>) {
        self.out.push(Violation::SchemaMismatch {
            index: self.upload.index,
            key: self.upload.key.clone(),
            version_id: self.upload.version_id.clone(),
            field: field.to_owned(),
            expected: expected.into(),
            found: found.into(),
        });
    }
}

/// The first `max` characters of `text`, with `…` when cut.
pub(super) fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// An on-failure record as the function's error, `errorType: errorMessage` (the message is what
/// names the cause, and it sits after the long request payload, so an excerpt of the raw body
/// would cut it off); anything else as an excerpt of `max` characters.
pub(super) fn failure_summary(body: &str, max: usize) -> String {
    let record: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let response = record.as_ref().and_then(|r| r.get("responsePayload"));
    let field = |name| response.and_then(|p| p.get(name)).and_then(|v| v.as_str());
    match (field("errorType"), field("errorMessage")) {
        (None, None) => excerpt(body, max),
        (error_type, message) => excerpt(
            &format!(
                "{}: {}",
                error_type.unwrap_or("(no errorType)"),
                message.unwrap_or("(no errorMessage)")
            ),
            // Long enough for one failed record's key and SNS's full text.
            4 * max,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_summary_shows_the_functions_error_of_an_on_failure_record() {
        let record = serde_json::json!({
            "version": "1.0",
            "requestContext": {"condition": "RetriesExhausted"},
            "requestPayload": {"Records": [{"s3": {"object": {"key": "k".repeat(500)}}}]},
            "responsePayload": {
                "errorType": "Handler.PublishRejected",
                "errorMessage": "SNS rejected the publish: InvalidParameter: The MessageGroupId \
                                 parameter is required for FIFO topics"
            }
        });
        let summary = failure_summary(&record.to_string(), 300);
        assert_eq!(
            summary,
            "Handler.PublishRejected: SNS rejected the publish: InvalidParameter: The \
             MessageGroupId parameter is required for FIFO topics"
        );
        assert_eq!(failure_summary("{\"a\":1}", 3), "{\"a…");
        assert_eq!(failure_summary("x".repeat(10).as_str(), 4), "xxxx…");
    }

    #[test]
    fn excerpt_cuts_on_a_char_boundary() {
        assert_eq!(excerpt("abc", 3), "abc");
        assert_eq!(excerpt("héllo", 2), "hé…");
        assert_eq!(excerpt("", 0), "");
    }

    #[test]
    fn display_is_one_line_even_for_keys_with_line_breaks() {
        let v = Violation::MissingFifoMessage {
            index: 1,
            key: "a\nb".into(),
            version_id: None,
        };
        assert_eq!(
            v.to_string(),
            r#"object #1 "a\nb" (version null): no FIFO message, expected exactly 1"#
        );
        let v = Violation::SchemaMismatch {
            index: 2,
            key: "k".into(),
            version_id: Some("v".into()),
            field: "email.Size".into(),
            expected: "5 bytes".into(),
            found: "6\nbytes".into(),
        };
        let text = v.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(text.contains("email field `Size`"), "{text}");
    }

    #[test]
    fn serializes_with_a_kebab_case_kind_tag() {
        let v = Violation::FailureCountMismatch {
            expected: 0,
            got: 1,
            bodies: vec!["x".into()],
        };
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            serde_json::json!({"kind": "failure-count-mismatch", "expected": 0, "got": 1,
                               "bodies": ["x"]})
        );
    }
}
