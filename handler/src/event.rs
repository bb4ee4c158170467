//! Classifying an invocation payload and extracting what the handler needs from each record.
//!
//! A malformed event is reported with the exact path that is missing or wrong instead of a
//! generic deserialization failure or a panic, and S3 also sends an `s3:TestEvent`, which is not
//! an S3Event shape: so the general way reads the payload as a plain JSON `Value`, by path
//! ([`classify`]). Building that `Value` costs more than everything else the handler does per
//! record, though, so [`read`] first tries the common case straight from the JSON text
//! (`fast`), and falls back to the `Value` only when that fails. Both feed the same record
//! checks, so they agree.
//!
//! The runtime hands the payload over as a [`Payload`], which also carries a payload that is not
//! JSON at all, so that too is reported by the handler (`Handler.MalformedEvent`). A record whose
//! key, version id or bucket name is longer than S3 allows is a malformed record here, before any
//! AWS call: the SDK cannot even build a request for such a key (it panics on a URI over 64 KiB).

use crate::key::decode_key;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_json::value::RawValue;
use thiserror::Error;

mod fast;

/// S3's limit on an object key: 1,024 bytes of UTF-8 (the decoded key, not its encoding in the
/// event).
pub const MAX_KEY_BYTES: usize = 1024;
/// S3's limit on a version id: "no more than 1,024 bytes long".
pub const MAX_VERSION_ID_BYTES: usize = 1024;
/// The longest bucket name S3 ever allowed (legacy us-east-1 names; today's are 3 to 63).
pub const MAX_BUCKET_BYTES: usize = 255;

/// An invocation payload as `main` takes it from the Lambda runtime: the JSON text, or why the
/// runtime's JSON reader could not read one (not JSON, not UTF-8, empty).
///
/// Its `Deserialize` never fails. The runtime deserializes the payload into the handler's type
/// before calling it, and a failure there is answered by the runtime itself, with the error type
/// `&lambda_runtime::deserializer::DeserializeError`: taking this type instead lets the handler
/// report a payload that is not JSON as `Handler.MalformedEvent`, like any other malformed event.
/// (The runtime reads one JSON value and ignores what follows it, so `{}x` arrives as `{}`.)
#[derive(Debug)]
pub struct Payload(Result<Box<RawValue>, String>);

impl Payload {
    /// Classifies the payload: [`read`] on its text, or [`EventError::Unparsable`].
    pub fn read(&self) -> Result<Notification, EventError> {
        match &self.0 {
            Ok(text) => read(text.get()),
            Err(error) => Err(EventError::Unparsable {
                error: error.clone(),
            }),
        }
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Payload(
            Box::<RawValue>::deserialize(deserializer).map_err(|error| error.to_string()),
        ))
    }
}

/// What the payload turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// `{"Service":"Amazon S3","Event":"s3:TestEvent",...}`, sent when a notification
    /// configuration is saved. Carries the bucket, if given.
    TestEvent { bucket: Option<String> },
    /// An S3 event notification: one entry per record, in order. A record that cannot be read
    /// does not prevent the others from being processed.
    Records(Vec<Result<ObjectEvent, EventError>>),
}

/// One S3 event record, with the key decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEvent {
    /// Position in `Records`.
    pub index: usize,
    pub bucket: String,
    /// Decoded key (`+` and `%20` are spaces, `%2B` is `+`).
    pub key: String,
    /// The key as it appeared in the event.
    pub raw_key: String,
    pub size: Option<u64>,
    /// ETag without quotes.
    pub etag: Option<String>,
    pub version_id: Option<String>,
    pub sequencer: Option<String>,
    /// E.g. `ObjectCreated:Put`.
    pub event_name: String,
    pub event_time: String,
    pub region: String,
}

impl ObjectEvent {
    /// `ObjectCreated:*` (with or without the `s3:` prefix).
    pub fn is_object_created(&self) -> bool {
        self.event_name
            .trim_start_matches("s3:")
            .starts_with("ObjectCreated:")
    }
}

/// What is wrong with a payload or one of its records.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EventError {
    #[error(
        "the event payload is {found}, expected a JSON object (an S3 event notification with \
         `Records`, or an s3:TestEvent)"
    )]
    NotAnObject { found: &'static str },
    /// A payload that is not JSON (or not UTF-8, or empty), or JSON that `serde_json::Value`
    /// cannot hold (a lone surrogate escape, nesting deeper than 128, a number beyond `f64`).
    #[error("the event payload cannot be parsed as JSON: {error}")]
    Unparsable { error: String },
    #[error(
        "the event payload is neither an S3 event notification (no `Records` array) nor an \
         s3:TestEvent (no `\"Event\": \"s3:TestEvent\"`); its top-level keys are [{keys}]"
    )]
    Unrecognized { keys: String },
    #[error("`{path}` is missing")]
    Missing { path: String },
    #[error("`{path}` is {found}, expected {expected}")]
    WrongType {
        path: String,
        found: &'static str,
        expected: &'static str,
    },
    #[error("`{path}` is {value}: {problem}")]
    Invalid {
        path: String,
        value: String,
        problem: String,
    },
}

/// Classifies a payload given as JSON text: the same outcome as [`classify`] on its `Value`.
pub fn read(text: &str) -> Result<Notification, EventError> {
    if let Some(records) = fast::records(text) {
        return Ok(each(&records, read_record));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(payload) => classify(&payload),
        Err(error) => Err(EventError::Unparsable {
            error: error.to_string(),
        }),
    }
}

/// Classifies a payload. Only a payload that is neither a notification nor a TestEvent (or whose
/// `Records` is not an array) is an error here; per-record problems are inside `Records`.
pub fn classify(payload: &Value) -> Result<Notification, EventError> {
    let Some(object) = payload.as_object() else {
        return Err(EventError::NotAnObject {
            found: type_name(payload),
        });
    };
    if let Some(records) = object.get("Records") {
        let Some(records) = records.as_array() else {
            return Err(EventError::WrongType {
                path: "Records".to_owned(),
                found: type_name(records),
                expected: "an array",
            });
        };
        return Ok(each(records, parse_record));
    }
    if object.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Notification::TestEvent {
            bucket: object
                .get("Bucket")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    let keys: Vec<String> = object.keys().map(|k| format!("{k:?}")).collect();
    Err(EventError::Unrecognized {
        keys: keys.join(", "),
    })
}

/// The records, each read on its own: one that cannot be read does not hide the others.
fn each<T>(
    records: &[T],
    read: impl Fn(usize, &T) -> Result<ObjectEvent, EventError>,
) -> Notification {
    Notification::Records(
        records
            .iter()
            .enumerate()
            .map(|(index, record)| read(index, record))
            .collect(),
    )
}

fn parse_record(index: usize, record: &Value) -> Result<ObjectEvent, EventError> {
    if !record.is_object() {
        return Err(EventError::WrongType {
            path: format!("Records[{index}]"),
            found: type_name(record),
            expected: "an object",
        });
    }
    read_record(index, &Reader { index, record })
}

/// A string field of a record, by the path that names it in errors.
#[derive(Debug, Clone, Copy)]
enum Text {
    Source,
    Bucket,
    Key,
    ETag,
    VersionId,
    Sequencer,
    EventName,
    EventTime,
    Region,
}

impl Text {
    fn path(self) -> &'static [&'static str] {
        match self {
            Text::Source => &["eventSource"],
            Text::Bucket => &["s3", "bucket", "name"],
            Text::Key => &["s3", "object", "key"],
            Text::ETag => &["s3", "object", "eTag"],
            Text::VersionId => &["s3", "object", "versionId"],
            Text::Sequencer => &["s3", "object", "sequencer"],
            Text::EventName => &["eventName"],
            Text::EventTime => &["eventTime"],
            Text::Region => &["awsRegion"],
        }
    }
}

/// The path of the object size.
const SIZE: &[&str] = &["s3", "object", "size"];

/// Where a record's fields are read from: a `Value` by path, or the typed fast path.
trait Fields<'a> {
    /// The string; `None` if it (or a parent) is absent or null, an error if it or a parent has
    /// another type.
    fn text(&self, field: Text) -> Result<Option<&'a str>, EventError>;
    /// The object size, likewise.
    fn size(&self) -> Result<Option<u64>, EventError>;
}

/// Reads and checks one record's fields, in a fixed order: the first problem is the one reported.
fn read_record<'a>(index: usize, at: &impl Fields<'a>) -> Result<ObjectEvent, EventError> {
    let required = |field: Text| {
        at.text(field)?.ok_or_else(|| EventError::Missing {
            path: path(index, field.path()),
        })
    };
    let invalid = |field: Text, value: &str, problem: &str| EventError::Invalid {
        path: path(index, field.path()),
        value: excerpt(value),
        problem: problem.to_owned(),
    };
    let source = required(Text::Source)?;
    if source != "aws:s3" {
        return Err(invalid(
            Text::Source,
            source,
            "expected `aws:s3`; this function takes S3 notifications delivered directly to Lambda",
        ));
    }
    let bucket = required(Text::Bucket)?;
    if bucket.is_empty() {
        return Err(invalid(Text::Bucket, bucket, "a bucket name is not empty"));
    }
    if bucket.len() > MAX_BUCKET_BYTES {
        return Err(invalid(
            Text::Bucket,
            bucket,
            &too_long("the bucket name", bucket.len(), MAX_BUCKET_BYTES),
        ));
    }
    let raw_key = required(Text::Key)?;
    let key = decode_key(raw_key).map_err(|e| invalid(Text::Key, raw_key, &e.to_string()))?;
    if key.is_empty() {
        return Err(invalid(Text::Key, raw_key, "an object key is not empty"));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(invalid(
            Text::Key,
            raw_key,
            &too_long("the decoded key", key.len(), MAX_KEY_BYTES),
        ));
    }
    let size = at.size()?;
    let etag = at.text(Text::ETag)?;
    let version_id = at.text(Text::VersionId)?;
    if let Some(version_id) = version_id.filter(|v| v.len() > MAX_VERSION_ID_BYTES) {
        return Err(invalid(
            Text::VersionId,
            version_id,
            &too_long("the version id", version_id.len(), MAX_VERSION_ID_BYTES),
        ));
    }
    Ok(ObjectEvent {
        index,
        bucket: bucket.to_owned(),
        key,
        raw_key: raw_key.to_owned(),
        size,
        etag: etag.map(|e| e.trim_matches('"').to_owned()),
        version_id: version_id.map(str::to_owned),
        sequencer: at.text(Text::Sequencer)?.map(str::to_owned),
        event_name: required(Text::EventName)?.to_owned(),
        event_time: required(Text::EventTime)?.to_owned(),
        region: required(Text::Region)?.to_owned(),
    })
}

fn too_long(what: &str, len: usize, limit: usize) -> String {
    format!("{what} is {len} bytes, more than S3's limit of {limit} bytes")
}

/// Values up to this many bytes are quoted whole in an error; longer ones are cut.
const EXCERPT_BYTES: usize = 128;

/// `value` quoted for an error message: whole if short, else its start and its length (an error
/// that quoted a 2 MB key whole would be a 2 MB log line and Lambda error message).
fn excerpt(value: &str) -> String {
    if value.len() <= EXCERPT_BYTES {
        return format!("{value:?}");
    }
    let start = &value[..value.floor_char_boundary(EXCERPT_BYTES)];
    format!("{start:?}... ({} bytes in all)", value.len())
}

fn path(index: usize, path: &[&str]) -> String {
    format!("Records[{index}].{}", path.join("."))
}

/// Reads fields of one record from a `Value` by path, producing errors that name the full path.
struct Reader<'a> {
    index: usize,
    record: &'a Value,
}

impl<'a> Fields<'a> for Reader<'a> {
    fn text(&self, field: Text) -> Result<Option<&'a str>, EventError> {
        let path = field.path();
        match self.get(path)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong_type(path, other, "a string")),
        }
    }

    fn size(&self) -> Result<Option<u64>, EventError> {
        match self.get(SIZE)? {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.wrong_type(SIZE, value, "a non-negative integer")),
        }
    }
}

impl<'a> Reader<'a> {
    /// The value at `path`; `None` if it (or a parent) is absent or null.
    fn get(&self, path: &[&str]) -> Result<Option<&'a Value>, EventError> {
        let mut current = self.record;
        for (depth, segment) in path.iter().enumerate() {
            match current {
                Value::Object(map) => match map.get(*segment) {
                    None | Some(Value::Null) => return Ok(None),
                    Some(next) => current = next,
                },
                other => return Err(self.wrong_type(&path[..depth], other, "an object")),
            }
        }
        Ok(Some(current))
    }

    fn wrong_type(&self, at: &[&str], found: &Value, expected: &'static str) -> EventError {
        EventError::WrongType {
            path: path(self.index, at),
            found: type_name(found),
            expected,
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_u64() => "a non-negative integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
