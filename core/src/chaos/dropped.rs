//! Events Lambda dropped because the function's reserved concurrency was 0.
//!
//! An asynchronous event that Lambda tries while a function's reserved concurrency is 0 is not
//! retried: Lambda drops it and, with an on-failure destination, sends a record there whose
//! `requestContext.condition` is `ZeroReservedConcurrency` and whose `requestPayload` is the
//! original S3 event (AWS's `AsyncEventsDropped`; LocalStack does the same). Events that wait
//! until the concurrency is back run normally. So a throttle window's objects are each either
//! delivered or named by exactly one such record; this module reads the records back to the
//! uploads they name. Pure.

use crate::oracle::{FailureReceived, Uploaded};

/// The condition of an on-failure record for an event dropped at zero reserved concurrency.
pub const ZERO_RESERVED_CONCURRENCY: &str = "ZeroReservedConcurrency";

/// Per record in `failures` dropped at zero reserved concurrency, the upload each of its S3
/// records names (`None` for one that names no upload). Other records are left out.
pub fn dropped_uploads(failures: &[FailureReceived], uploads: &[Uploaded]) -> Vec<Option<usize>> {
    failures
        .iter()
        .filter_map(|f| serde_json::from_str::<serde_json::Value>(&f.body).ok())
        .filter(|record| {
            record["requestContext"]["condition"].as_str() == Some(ZERO_RESERVED_CONCURRENCY)
        })
        .flat_map(|record| {
            let events = record["requestPayload"]["Records"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            events
                .into_iter()
                .map(|event| upload_named(&event["s3"]["object"], uploads))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The upload an S3 event's `object` names: its key (form-encoded in events: `+` for a space)
/// and version.
fn upload_named(object: &serde_json::Value, uploads: &[Uploaded]) -> Option<usize> {
    let raw = object["key"].as_str()?;
    let spaced = raw.replace('+', " ");
    let key = percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()?;
    let version = object["versionId"].as_str();
    uploads
        .iter()
        .find(|u| u.key == key && u.version_id.as_deref() == version)
        .map(|u| u.index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(index: usize, key: &str, version: &str) -> Uploaded {
        Uploaded {
            index,
            key: key.into(),
            version_id: Some(version.into()),
            etag: "e".into(),
            size: 1,
            at_ms: 0,
        }
    }

    fn record(condition: &str, key: &str, version: &str) -> FailureReceived {
        let body = serde_json::json!({
            "version": "1.0",
            "requestContext": {"condition": condition, "approximateInvokeCount": 0},
            "requestPayload": {"Records": [
                {"eventName": "ObjectCreated:Put",
                 "s3": {"object": {"key": key, "versionId": version}}}
            ]}
        });
        FailureReceived {
            body: body.to_string(),
            at_ms: 0,
        }
    }

    #[test]
    fn zero_concurrency_records_name_their_uploads_by_decoded_key_and_version() {
        let uploads = [
            upload(0, "a b+c/é.txt", "v1"),
            upload(1, "a b+c/é.txt", "v2"),
            upload(2, "plain", "v1"),
        ];
        let failures = [
            record(ZERO_RESERVED_CONCURRENCY, "a+b%2Bc/%C3%A9.txt", "v2"),
            record("RetriesExhausted", "plain", "v1"),
            record(ZERO_RESERVED_CONCURRENCY, "plain", "v9"),
            FailureReceived {
                body: "not json".into(),
                at_ms: 0,
            },
        ];
        assert_eq!(dropped_uploads(&failures, &uploads), [Some(1), None]);
    }
}
