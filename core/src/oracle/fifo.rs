//! FIFO messages: which uploaded version a message names, and whether it matches that object
//! and the handler's `schema_version` 1 layout (README, "FIFO message schema").
//!
//! Messages are read as untyped JSON rather than into the handler's struct, so a missing or
//! mistyped field is reported by its name instead of making the whole message unreadable. A
//! message is attributed by key and version id (by key and ETag when a version id is missing on
//! either side); the bucket is then checked like any other field, so a message with a wrong
//! bucket is reported as exactly that rather than as "unexpected" plus "missing".

use std::borrow::Cow;

use serde_json::{Value, json};

use super::index::UploadIndex;
use super::matching::{self, Attributed, Channel};
use super::violation::{self, Mismatches, quoted_or_null};
use super::{EXCERPT_CHARS, Expect, FifoReceived, Uploaded, Violation};

/// Attributes the FIFO messages to uploads, counts them per upload and checks each against its
/// object; returns what each message said (for the order checks), the attribution and the
/// violations.
pub(super) fn judge(
    expect: &Expect,
    uploads: &[Uploaded],
    fifo: &[FifoReceived],
) -> (Vec<Result<Named, String>>, Attributed, Vec<Violation>) {
    let named: Vec<Result<Named, String>> = fifo.iter().map(|m| parse(&m.body)).collect();
    let index = index(uploads);
    let candidates: Vec<Result<Vec<usize>, String>> = named
        .iter()
        .map(|n| {
            n.as_ref()
                .map_err(Clone::clone)
                .and_then(|n| attribute(&index, n))
        })
        .collect();
    let got = Attributed::new(uploads, &candidates, fifo.iter().map(|m| m.at_ms).collect());
    let mut violations = Vec::new();
    for (position, reason) in candidates.iter().enumerate() {
        if let Err(reason) = reason {
            let n = named[position].as_ref().ok();
            violations.push(Violation::UnexpectedFifoMessage {
                position,
                key: n.map(|n| n.key.clone()),
                version_id: n.and_then(|n| n.version_id.clone()),
                reason: reason.clone(),
                body: violation::excerpt(&fifo[position].body, EXCERPT_CHARS),
            });
        }
    }
    violations.extend(matching::count_violations(
        uploads,
        &got.per_upload,
        Channel::Fifo,
    ));
    for (position, owner) in got.owner.iter().enumerate() {
        if let (Some(u), Ok(n)) = (owner, &named[position]) {
            violations.extend(check(expect, &uploads[*u], &fifo[position], n));
        }
    }
    (named, got, violations)
}

/// What a readable FIFO message says about the object it is for.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Named {
    pub key: String,
    pub version_id: Option<String>,
    /// Without quotes.
    pub etag: Option<String>,
    pub sequencer: Option<String>,
    pub value: Value,
}

/// Reads a message body; `Err` says why it names no object.
pub(super) fn parse(body: &str) -> Result<Named, String> {
    let value: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    if !value.is_object() {
        return Err("not a JSON object".to_owned());
    }
    let text = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    let Some(key) = text("key") else {
        return Err("no string field `key`".to_owned());
    };
    Ok(Named {
        key,
        version_id: text("version_id"),
        etag: text("etag").map(|e| unquote(&e).to_owned()),
        sequencer: text("sequencer"),
        value,
    })
}

/// An ETag without surrounding quotes.
pub(super) fn unquote(etag: &str) -> &str {
    etag.trim_matches('"')
}

/// The key-id part of a KMS key ARN (`arn:...:key/ID` → `ID`); a bare key id is returned as is.
fn key_id(key: &str) -> &str {
    key.rsplit_once(":key/").map_or(key, |(_, id)| id)
}

/// The uploads indexed by their key as uploaded, which is how a message names it.
pub(super) fn index(uploads: &[Uploaded]) -> UploadIndex<'_> {
    UploadIndex::new(uploads, Cow::Borrowed)
}

/// The uploads (positions) `named` may be for, or why it is for none; [`attribute`] with an
/// index built for this one look-up.
#[cfg(test)]
pub(super) fn candidates(uploads: &[Uploaded], named: &Named) -> Result<Vec<usize>, String> {
    attribute(&index(uploads), named)
}

/// The uploads (positions in the indexed slice) `named` may be for, or why it is for none: those
/// of its key and version id; else, when no upload has that version, those of its key and ETag
/// that have no version id; with no version id in the message, those of its key and ETag.
pub(super) fn attribute(index: &UploadIndex<'_>, named: &Named) -> Result<Vec<usize>, String> {
    let etag = named.etag.as_deref();
    let found =
        index
            .versions(&named.key)
            .map_or(&[][..], |of_key| match (&named.version_id, etag) {
                (Some(v), _) if !of_key.with_version(v).is_empty() => of_key.with_version(v),
                (Some(_), Some(e)) => of_key.unversioned_with_etag(e),
                (None, Some(e)) => of_key.with_etag(e),
                (_, None) => &[],
            });
    if found.is_empty() {
        Err(format!(
            "names key {:?} version {} ETag {}, which no upload has",
            named.key,
            quoted_or_null(&named.version_id),
            quoted_or_null(&named.etag)
        ))
    } else {
        Ok(found.to_vec())
    }
}

/// The JSON types a field may have.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Int,
    Str,
    Bool,
    Object,
    IntOrNull,
    StrOrNull,
    BoolOrNull,
}

impl Shape {
    fn fits(self, v: &Value) -> bool {
        match self {
            Shape::Int => v.is_u64(),
            Shape::Str => v.is_string(),
            Shape::Bool => v.is_boolean(),
            Shape::Object => v.is_object(),
            Shape::IntOrNull => v.is_u64() || v.is_null(),
            Shape::StrOrNull => v.is_string() || v.is_null(),
            Shape::BoolOrNull => v.is_boolean() || v.is_null(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Shape::Int => "an integer",
            Shape::Str => "a string",
            Shape::Bool => "a boolean",
            Shape::Object => "an object",
            Shape::IntOrNull => "an integer or null",
            Shape::StrOrNull => "a string or null",
            Shape::BoolOrNull => "a boolean or null",
        }
    }
}

/// Every field of `schema_version` 1, with its type (dots separate nested fields).
const FIELDS: [(&str, Shape); 20] = [
    ("schema_version", Shape::Int),
    ("bucket", Shape::Str),
    ("key", Shape::Str),
    ("size", Shape::IntOrNull),
    ("etag", Shape::StrOrNull),
    ("version_id", Shape::StrOrNull),
    ("sequencer", Shape::StrOrNull),
    ("event_name", Shape::Str),
    ("event_time", Shape::Str),
    ("region", Shape::Str),
    ("encryption", Shape::Object),
    ("encryption.verdict", Shape::Str),
    ("encryption.algorithm", Shape::StrOrNull),
    ("encryption.kms_key_id", Shape::StrOrNull),
    ("encryption.bucket_key_enabled", Shape::BoolOrNull),
    ("encryption.expected_kms_key", Shape::Str),
    ("security_alert", Shape::Bool),
    ("group_id", Shape::Str),
    ("dedup_id", Shape::Str),
    ("email_message_id", Shape::Str),
];

fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, part| v.get(part))
}

/// The field at `path` if it is present with its schema type.
fn field<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let shape = FIELDS.iter().find(|(p, _)| *p == path).map(|(_, s)| *s)?;
    lookup(v, path).filter(|x| shape.fits(x))
}

fn must_equal(report: &mut Mismatches<'_>, v: &Value, path: &str, expected: Value) {
    if let Some(found) = field(v, path)
        && *found != expected
    {
        report.push(path, expected.to_string(), found.to_string());
    }
}

/// A key field must name `expected` (as ARN or key id).
fn must_name_key(report: &mut Mismatches<'_>, v: &Value, path: &str, expected: &str) {
    if let Some(found) = field(v, path)
        && found.as_str().map(key_id) != Some(key_id(expected))
    {
        report.push(path, format!("{expected} or its key id"), found.to_string());
    }
}

/// Checks one message attributed to `upload`; one violation per field that is wrong.
pub(super) fn check(
    expect: &Expect,
    upload: &Uploaded,
    received: &FifoReceived,
    named: &Named,
) -> Vec<Violation> {
    let mut report = Mismatches::new(upload);
    let v = &named.value;
    // Presence and type; the value checks below only look at well-typed fields.
    for (path, shape) in FIELDS {
        match lookup(v, path) {
            None => report.push(path, shape.describe(), "missing"),
            Some(x) if !shape.fits(x) => report.push(path, shape.describe(), x.to_string()),
            Some(_) => {}
        }
    }
    let text = |path: &str| field(v, path).and_then(Value::as_str);
    must_equal(&mut report, v, "schema_version", json!(1));
    must_equal(&mut report, v, "bucket", json!(expect.bucket));
    must_equal(&mut report, v, "size", json!(upload.size));
    if let Some(found) = field(v, "etag")
        && found.as_str().map(unquote) != Some(unquote(&upload.etag))
    {
        report.push(
            "etag",
            json!(unquote(&upload.etag)).to_string(),
            found.to_string(),
        );
    }
    if let Some(version) = &upload.version_id {
        must_equal(&mut report, v, "version_id", json!(version));
    }
    must_equal(&mut report, v, "encryption.verdict", json!(expect.verdict));
    if expect.verdict == "encrypted" {
        must_name_key(&mut report, v, "encryption.kms_key_id", &expect.kms_key_arn);
    }
    must_name_key(
        &mut report,
        v,
        "encryption.expected_kms_key",
        &expect.kms_key_arn,
    );
    // The message's own verdict decides the alert flag (a wrong verdict is reported above).
    let verdict = text("encryption.verdict").unwrap_or(&expect.verdict);
    must_equal(
        &mut report,
        v,
        "security_alert",
        json!(verdict != "encrypted"),
    );
    if let Some(sqs) = &received.group_id {
        must_equal(&mut report, v, "group_id", json!(sqs));
    }
    if let Some(sqs) = &received.dedup_id {
        must_equal(&mut report, v, "dedup_id", json!(sqs));
    }
    if let Some(dedup) = text("dedup_id")
        && !(dedup.len() == 64 && dedup.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        report.push("dedup_id", "64 hex characters", json!(dedup).to_string());
    }
    if text("email_message_id") == Some("") {
        report.push("email_message_id", "a non-empty string", "\"\"");
    }
    report.out
}

#[cfg(test)]
mod tests;
