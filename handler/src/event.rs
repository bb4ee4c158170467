//! Classifying an invocation payload and extracting what the handler needs from each record.
//!
//! The payload is read as plain JSON first because S3 also sends an `s3:TestEvent`, which is not
//! an S3Event shape. Fields are then read by path so that a malformed event is reported with the
//! exact path that is missing or wrong instead of a generic deserialization failure or a panic.

use crate::key::decode_key;
use serde_json::Value;
use thiserror::Error;

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
        return Ok(Notification::Records(
            records
                .iter()
                .enumerate()
                .map(|(index, record)| parse_record(index, record))
                .collect(),
        ));
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

fn parse_record(index: usize, record: &Value) -> Result<ObjectEvent, EventError> {
    let at = Reader { index, record };
    if !record.is_object() {
        return Err(EventError::WrongType {
            path: format!("Records[{index}]"),
            found: type_name(record),
            expected: "an object",
        });
    }
    let source = at.required_str(&["eventSource"])?;
    if source != "aws:s3" {
        return Err(at.invalid(
            &["eventSource"],
            source,
            "expected `aws:s3`; this function takes S3 notifications delivered directly to Lambda",
        ));
    }
    let bucket = at.required_str(&["s3", "bucket", "name"])?;
    if bucket.is_empty() {
        return Err(at.invalid(
            &["s3", "bucket", "name"],
            bucket,
            "a bucket name is not empty",
        ));
    }
    let raw_key = at.required_str(&["s3", "object", "key"])?;
    let key = decode_key(raw_key)
        .map_err(|e| at.invalid(&["s3", "object", "key"], raw_key, &e.to_string()))?;
    if key.is_empty() {
        return Err(at.invalid(
            &["s3", "object", "key"],
            raw_key,
            "an object key is not empty",
        ));
    }
    Ok(ObjectEvent {
        index,
        bucket: bucket.to_owned(),
        key,
        raw_key: raw_key.to_owned(),
        size: at.optional_u64(&["s3", "object", "size"])?,
        etag: at
            .optional_str(&["s3", "object", "eTag"])?
            .map(|e| e.trim_matches('"').to_owned()),
        version_id: at
            .optional_str(&["s3", "object", "versionId"])?
            .map(str::to_owned),
        sequencer: at
            .optional_str(&["s3", "object", "sequencer"])?
            .map(str::to_owned),
        event_name: at.required_str(&["eventName"])?.to_owned(),
        event_time: at.required_str(&["eventTime"])?.to_owned(),
        region: at.required_str(&["awsRegion"])?.to_owned(),
    })
}

/// Reads fields of one record by path, producing errors that name the full path.
struct Reader<'a> {
    index: usize,
    record: &'a Value,
}

impl<'a> Reader<'a> {
    fn path(&self, path: &[&str]) -> String {
        format!("Records[{}].{}", self.index, path.join("."))
    }

    /// The value at `path`; `None` if it (or a parent) is absent or null.
    fn get(&self, path: &[&str]) -> Result<Option<&'a Value>, EventError> {
        let mut current = self.record;
        for (depth, segment) in path.iter().enumerate() {
            match current {
                Value::Object(map) => match map.get(*segment) {
                    None | Some(Value::Null) => return Ok(None),
                    Some(next) => current = next,
                },
                other => {
                    return Err(EventError::WrongType {
                        path: self.path(&path[..depth]),
                        found: type_name(other),
                        expected: "an object",
                    });
                }
            }
        }
        Ok(Some(current))
    }

    fn optional_str(&self, path: &[&str]) -> Result<Option<&'a str>, EventError> {
        match self.get(path)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(EventError::WrongType {
                path: self.path(path),
                found: type_name(other),
                expected: "a string",
            }),
        }
    }

    fn required_str(&self, path: &[&str]) -> Result<&'a str, EventError> {
        self.optional_str(path)?.ok_or_else(|| EventError::Missing {
            path: self.path(path),
        })
    }

    fn optional_u64(&self, path: &[&str]) -> Result<Option<u64>, EventError> {
        match self.get(path)? {
            None => Ok(None),
            Some(value) => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| EventError::WrongType {
                    path: self.path(path),
                    found: type_name(value),
                    expected: "a non-negative integer",
                }),
        }
    }

    fn invalid(&self, path: &[&str], value: &str, problem: &str) -> EventError {
        EventError::Invalid {
            path: self.path(path),
            value: format!("{value:?}"),
            problem: problem.to_owned(),
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
