//! Event faults: S3's at-least-once, unordered delivery, reproduced by invoking the function
//! again with the events it already got.
//!
//! The events are rebuilt from the FIFO messages the run received (each carries the record's
//! bucket, key, size, ETag, version id, sequencer, event name, time and region), with the key
//! form-urlencoded as S3 sends it, so the handler sees the same identity again. The copies are
//! shuffled with the run seed's [`Stream::Redelivery`] (see [`harness_core::seeds`]) and sent
//! in events of one to three records, asynchronously, as S3 invokes.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use harness_core::seeds::{self, Stream};
use rand::RngExt;
use rand::seq::SliceRandom;
use serde_json::{Value, json};

use crate::deploy::describe_error;

/// One S3 record rebuilt from a FIFO message body; `None` if the body is not the handler's.
pub fn record_from_message(body: &str) -> Option<Value> {
    let m: Value = serde_json::from_str(body).ok()?;
    let bucket = m.get("bucket")?.as_str()?;
    let key = m.get("key")?.as_str()?;
    let mut object = json!({
        "key": form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>(),
    });
    for (from, to) in [
        ("size", "size"),
        ("etag", "eTag"),
        ("version_id", "versionId"),
        ("sequencer", "sequencer"),
    ] {
        if let Some(v) = m.get(from).filter(|v| !v.is_null()) {
            object[to] = v.clone();
        }
    }
    Some(json!({
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": m.get("region")?.as_str()?,
        "eventTime": m.get("event_time")?.as_str()?,
        "eventName": m.get("event_name")?.as_str()?,
        "userIdentity": {"principalId": "AWS:harness-chaos"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "chaos-redelivery", "x-amz-id-2": "chaos"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "chaos-redelivery",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "harness"},
                "arn": format!("arn:aws:s3:::{bucket}"),
            },
            "object": object,
        },
    }))
}

/// The redelivery plan: every record `copies` times, shuffled, cut into events of 1 to 3
/// records. Deterministic in `seed` (drawn from its [`Stream::Redelivery`]).
pub fn plan_events(records: &[Value], copies: usize, seed: u64) -> Vec<Value> {
    let mut rng = seeds::rng(seed, Stream::Redelivery);
    let mut all: Vec<Value> = (0..copies).flat_map(|_| records.iter().cloned()).collect();
    all.shuffle(&mut rng);
    let mut events = Vec::new();
    let mut rest = all.as_slice();
    while !rest.is_empty() {
        let n = rng.random_range(1..=3).min(rest.len());
        let (now, later) = rest.split_at(n);
        events.push(json!({ "Records": now }));
        rest = later;
    }
    events
}

/// Invokes `function` asynchronously with each event; returns how many were accepted.
pub async fn invoke_all(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    events: &[Value],
) -> Result<usize, String> {
    for event in events {
        lambda
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(event.to_string()))
            .send()
            .await
            .map_err(|e| format!("lambda Invoke {function}: {}", describe_error(&e)))?;
    }
    Ok(events.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"schema_version":1,"bucket":"b","key":"dir/a b+c","size":5,"etag":"e","version_id":null,"sequencer":"0A","event_name":"ObjectCreated:Put","event_time":"2026-12-02T08:00:00.000Z","region":"us-east-1"}"#;

    #[test]
    fn a_record_is_rebuilt_as_s3_sends_it() {
        let r = record_from_message(BODY).unwrap();
        assert_eq!(r["s3"]["object"]["key"], "dir%2Fa+b%2Bc");
        assert_eq!(r["s3"]["object"]["size"], 5);
        assert_eq!(r["s3"]["object"]["eTag"], "e");
        assert!(r["s3"]["object"].get("versionId").is_none());
        assert_eq!(r["eventName"], "ObjectCreated:Put");
        // The handler decodes it back to the same key.
        let event = json!({"Records": [r]});
        let handler::event::Notification::Records(records) =
            handler::event::classify(&event).unwrap()
        else {
            panic!("not records")
        };
        assert_eq!(records[0].as_ref().unwrap().key, "dir/a b+c");
        assert_eq!(record_from_message("{}"), None);
        assert_eq!(record_from_message("not json"), None);
    }

    #[test]
    fn every_copy_is_planned_once_in_a_seeded_order() {
        let records: Vec<Value> = (0..7).map(|i| json!({ "i": i })).collect();
        let events = plan_events(&records, 2, 9);
        let sent: Vec<i64> = events
            .iter()
            .flat_map(|e| e["Records"].as_array().unwrap().clone())
            .map(|r| r["i"].as_i64().unwrap())
            .collect();
        let mut sorted = sent.clone();
        sorted.sort();
        assert_eq!(sorted, vec![0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
        assert!(
            events
                .iter()
                .all(|e| (1..=3).contains(&e["Records"].as_array().unwrap().len()))
        );
        assert_eq!(plan_events(&records, 2, 9), events);
        assert_ne!(plan_events(&records, 2, 10), events);
    }
}
