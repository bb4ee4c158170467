//! The common case read straight from the JSON text, without building a `serde_json::Value`:
//! a notification whose records all have the shape the handler reads is deserialized into typed
//! structs that borrow their strings from the text, and the fields the handler ignores are
//! skipped unparsed.
//!
//! Anything else (an `s3:TestEvent`, a missing, null or mistyped field, an array where an object
//! belongs, a string with JSON escapes, a duplicated key) makes [`records`] return `None`, and
//! the caller reads the `Value` by path instead, which names the problem. So whenever this
//! succeeds, the `Value` path would have found exactly the same strings and numbers.

use super::{EventError, Fields, Text};
use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, MapAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

/// The records of `text`, if it is a notification whose records all have the expected shape.
pub(super) fn records(text: &str) -> Option<Vec<Record<'_>>> {
    let notification: Object<Notification<'_>> = serde_json::from_str(text).ok()?;
    Some(
        notification
            .0
            .records
            .into_iter()
            .map(|record| record.0)
            .collect(),
    )
}

#[derive(Deserialize)]
struct Notification<'a> {
    #[serde(rename = "Records", borrow)]
    records: Vec<Object<Record<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Record<'a> {
    event_source: &'a str,
    event_name: &'a str,
    event_time: &'a str,
    aws_region: &'a str,
    #[serde(borrow)]
    s3: Object<S3<'a>>,
}

#[derive(Deserialize)]
struct S3<'a> {
    #[serde(borrow)]
    bucket: Object<Bucket<'a>>,
    #[serde(borrow)]
    object: Object<S3Object<'a>>,
}

#[derive(Deserialize)]
struct Bucket<'a> {
    name: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Object<'a> {
    key: &'a str,
    size: Option<u64>,
    #[serde(rename = "eTag", borrow)]
    etag: Option<&'a str>,
    #[serde(borrow)]
    version_id: Option<&'a str>,
    #[serde(borrow)]
    sequencer: Option<&'a str>,
}

impl<'a> Fields<'a> for Record<'a> {
    fn text(&self, field: Text) -> Result<Option<&'a str>, EventError> {
        let object = &self.s3.object;
        Ok(match field {
            Text::Source => Some(self.event_source),
            Text::Bucket => Some(self.s3.bucket.name),
            Text::Key => Some(object.key),
            Text::ETag => object.etag,
            Text::VersionId => object.version_id,
            Text::Sequencer => object.sequencer,
            Text::EventName => Some(self.event_name),
            Text::EventTime => Some(self.event_time),
            Text::Region => Some(self.aws_region),
        })
    }

    fn size(&self) -> Result<Option<u64>, EventError> {
        Ok(self.s3.object.size)
    }
}

/// `T` read from a JSON object only: serde's derived structs also accept an array (fields by
/// position), which the `Value` path rejects.
struct Object<T>(T);

impl<T> Deref for Object<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OnlyMap<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for OnlyMap<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(OnlyMap(PhantomData))
            .map(Object)
    }
}

#[cfg(test)]
mod tests;
