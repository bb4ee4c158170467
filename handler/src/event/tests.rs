use super::*;
use crate::fixtures::{self, json};
use serde_json::json;

fn records(payload: &Value) -> Vec<Result<ObjectEvent, EventError>> {
    match classify(payload).unwrap() {
        Notification::Records(records) => records,
        other => panic!("expected records, got {other:?}"),
    }
}

fn single(text: &str) -> ObjectEvent {
    let mut all = records(&json(text));
    assert_eq!(all.len(), 1);
    all.remove(0).unwrap()
}

#[test]
fn fixtures_have_the_shape_of_aws_lambda_events_s3_event() {
    for (name, text) in fixtures::NOTIFICATIONS {
        let parsed: Result<aws_lambda_events::event::s3::S3Event, _> = serde_json::from_str(text);
        assert!(parsed.is_ok(), "{name}: {parsed:?}");
        for record in &json(text)["Records"].as_array().unwrap()[..] {
            assert_eq!(record["eventVersion"], "2.1", "{name}");
            assert_eq!(record["s3"]["s3SchemaVersion"], "1.0", "{name}");
        }
    }
}

#[test]
fn aws_key_plus_is_space_and_percent_2b_is_plus() {
    let event = single(fixtures::AWS_PUT_PLUS_SPACE);
    assert_eq!(event.key, "invoices/Q1 2026 + annex (final).pdf");
    assert_eq!(event.raw_key, "invoices/Q1+2026+%2B+annex+%28final%29.pdf");
    assert_eq!(event.bucket, "acme-secure-uploads");
    assert_eq!(event.size, Some(48213));
    assert_eq!(
        event.etag.as_deref(),
        Some("5d41402abc4b2a76b9719d911017c592")
    );
    assert_eq!(
        event.version_id.as_deref(),
        Some("8Hs1y3yYb8zY7.pZk_mQ9gKxW2vLr0Ta")
    );
    assert_eq!(event.sequencer.as_deref(), Some("0067C4217F6A3B9E21"));
    assert_eq!(event.event_name, "ObjectCreated:Put");
    assert_eq!(event.event_time, "2026-03-02T09:15:27.482Z");
    assert_eq!(event.region, "eu-west-1");
    assert!(event.is_object_created());
}

#[test]
fn localstack_key_percent_20_is_space() {
    let event = single(fixtures::LOCALSTACK_PUT_PERCENT20);
    assert_eq!(event.key, "incoming/quarterly report été + notes.txt");
    assert_eq!(event.version_id, None);
    assert_eq!(event.sequencer.as_deref(), Some("0055AED6DCD90281E5"));
}

#[test]
fn multipart_upload_is_object_created() {
    let event = single(fixtures::AWS_MULTIPART_UPLOAD);
    assert_eq!(event.event_name, "ObjectCreated:CompleteMultipartUpload");
    assert!(event.is_object_created());
    assert_eq!(
        event.etag.as_deref(),
        Some("e2c1f3a6b0d94f7a8c5e3b2d1f0a9c8e-7")
    );
    assert_eq!(event.size, Some(52_428_800));
}

#[test]
fn test_event_is_recognized() {
    assert_eq!(
        classify(&json(fixtures::TEST_EVENT)).unwrap(),
        Notification::TestEvent {
            bucket: Some("acme-secure-uploads".to_owned())
        }
    );
}

#[test]
fn multi_record_keeps_order_and_indexes() {
    let all: Vec<ObjectEvent> = records(&json(fixtures::MULTI_RECORD))
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let keys: Vec<(usize, &str)> = all.iter().map(|e| (e.index, e.key.as_str())).collect();
    assert_eq!(
        keys,
        [
            (0, "reports/one.csv"),
            (1, "photos/€ price list.png"),
            (2, "reports/three.csv")
        ]
    );
    assert_eq!(all[2].bucket, "acme-other-uploads");
    assert_eq!(all[2].version_id, None);
}

#[test]
fn missing_key_names_the_path() {
    let all = records(&json(fixtures::MALFORMED_MISSING_KEY));
    let err = all[0].clone().unwrap_err();
    assert_eq!(err.to_string(), "`Records[0].s3.object.key` is missing");
}

#[test]
fn unrecognized_payload_lists_its_keys() {
    let err = classify(&json(fixtures::MALFORMED_UNRECOGNIZED)).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("neither an S3 event notification"), "{text}");
    assert!(text.contains("\"detail-type\""), "{text}");
}

#[test]
fn non_object_payloads_are_errors() {
    let err = classify(&json!([1, 2])).unwrap_err();
    assert_eq!(err, EventError::NotAnObject { found: "an array" });
    assert!(classify(&json!("s3:TestEvent")).is_err());
    assert!(classify(&Value::Null).is_err());
}

#[test]
fn records_must_be_an_array() {
    let err = classify(&json!({"Records": {"a": 1}})).unwrap_err();
    assert_eq!(err.to_string(), "`Records` is an object, expected an array");
}

#[test]
fn empty_records_is_an_empty_notification() {
    assert_eq!(
        classify(&json!({"Records": []})).unwrap(),
        Notification::Records(vec![])
    );
}

fn minimal(object: Value) -> Value {
    json!({"Records": [{
        "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "b"}, "object": object}
    }]})
}

#[test]
fn wrong_types_and_values_are_named() {
    let cases = [
        (
            minimal(json!({"key": "k", "size": -1})),
            "`Records[0].s3.object.size` is a number, expected a non-negative integer",
        ),
        (
            minimal(json!({"key": 5})),
            "`Records[0].s3.object.key` is a non-negative integer, expected a string",
        ),
        (
            minimal(json!({"key": "%FF"})),
            "`Records[0].s3.object.key` is \"%FF\": does not decode to UTF-8",
        ),
        (
            minimal(json!({"key": ""})),
            "`Records[0].s3.object.key` is \"\": an object key is not empty",
        ),
        (
            minimal(json!("oops")),
            "`Records[0].s3.object` is a string, expected an object",
        ),
    ];
    for (payload, expected) in cases {
        let err = records(&payload)[0].clone().unwrap_err().to_string();
        assert!(err.starts_with(expected), "{err}\n  expected: {expected}");
    }
}

#[test]
fn records_from_other_sources_are_rejected() {
    let mut payload = minimal(json!({"key": "k"}));
    payload["Records"][0]["eventSource"] = json!("aws:sqs");
    let err = records(&payload)[0].clone().unwrap_err().to_string();
    assert!(
        err.contains("`Records[0].eventSource` is \"aws:sqs\": expected `aws:s3`"),
        "{err}"
    );
}

#[test]
fn a_bad_record_does_not_hide_good_ones() {
    let payload = json!({"Records": [
        minimal(json!({"key": "a"}))["Records"][0].clone(),
        42,
        minimal(json!({"key": "c"}))["Records"][0].clone(),
    ]});
    let all = records(&payload);
    assert_eq!(all[0].as_ref().unwrap().key, "a");
    assert_eq!(
        all[1].clone().unwrap_err().to_string(),
        "`Records[1]` is a non-negative integer, expected an object"
    );
    assert_eq!(all[2].as_ref().unwrap().index, 2);
}

#[test]
fn null_optional_fields_are_absent() {
    let payload = minimal(json!({"key": "k", "versionId": null, "eTag": "\"abc\""}));
    let event = records(&payload).remove(0).unwrap();
    assert_eq!(event.version_id, None);
    assert_eq!(event.etag.as_deref(), Some("abc"));
    assert_eq!(event.size, None);
}

#[test]
fn object_removed_is_not_object_created() {
    let mut payload = minimal(json!({"key": "k"}));
    payload["Records"][0]["eventName"] = json!("ObjectRemoved:Delete");
    assert!(!records(&payload).remove(0).unwrap().is_object_created());
    payload["Records"][0]["eventName"] = json!("s3:ObjectCreated:Put");
    assert!(records(&payload).remove(0).unwrap().is_object_created());
}

fn first_record(payload: &Value) -> Result<ObjectEvent, EventError> {
    records(payload).remove(0)
}

#[test]
fn keys_are_limited_to_1024_bytes_once_decoded() {
    // Exactly at the limit, however long the encoded form: accepted.
    for raw in ["k".repeat(1024), "%41".repeat(1024), "%C3%A9".repeat(512)] {
        let event = first_record(&minimal(json!({ "key": raw }))).unwrap();
        assert_eq!(event.key.len(), MAX_KEY_BYTES, "{raw}");
    }
    // One byte over, in ASCII or in multi-byte characters (342 x 3 bytes = 1026).
    for (raw, bytes) in [
        ("k".repeat(1025), 1025),
        ("%E2%82%AC".repeat(342), 1026),
        ("+".repeat(1025), 1025),
    ] {
        let err = first_record(&minimal(json!({ "key": raw }))).unwrap_err();
        let EventError::Invalid { path, problem, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(path, "Records[0].s3.object.key");
        assert_eq!(
            problem,
            &format!("the decoded key is {bytes} bytes, more than S3's limit of 1024 bytes")
        );
    }
}

#[test]
fn version_ids_and_bucket_names_over_s3_limits_are_invalid() {
    let ok = minimal(json!({"key": "k", "versionId": "v".repeat(MAX_VERSION_ID_BYTES)}));
    assert!(first_record(&ok).is_ok());
    let err = first_record(&minimal(json!({"key": "k", "versionId": "v".repeat(1025)})))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("`Records[0].s3.object.versionId` is \"vvv")
            && err.ends_with("the version id is 1025 bytes, more than S3's limit of 1024 bytes"),
        "{err}"
    );

    let mut payload = minimal(json!({"key": "k"}));
    payload["Records"][0]["s3"]["bucket"]["name"] = json!("b".repeat(MAX_BUCKET_BYTES));
    assert!(first_record(&payload).is_ok());
    payload["Records"][0]["s3"]["bucket"]["name"] = json!("b".repeat(256));
    let err = first_record(&payload).unwrap_err().to_string();
    assert!(
        err.ends_with("the bucket name is 256 bytes, more than S3's limit of 255 bytes"),
        "{err}"
    );
}

#[test]
fn long_values_are_cut_in_errors() {
    let err = first_record(&minimal(json!({"key": "ab".repeat(1_000_000)})))
        .unwrap_err()
        .to_string();
    assert!(err.len() < 400, "{} bytes: {err:.400}", err.len());
    assert_eq!(
        err,
        format!(
            "`Records[0].s3.object.key` is {:?}... (2000000 bytes in all): the decoded key is \
             2000000 bytes, more than S3's limit of 1024 bytes",
            "ab".repeat(64)
        )
    );
    // Cut at a character boundary: 'é' is 2 bytes, so 64 of them fill the 128 bytes exactly,
    // and with one byte in front, the cut comes a byte early.
    assert_eq!(
        excerpt(&"é".repeat(200)),
        format!("{:?}... (400 bytes in all)", "é".repeat(64))
    );
    assert_eq!(
        excerpt(&format!("x{}", "é".repeat(200))),
        format!("{:?}... (401 bytes in all)", format!("x{}", "é".repeat(63)))
    );
    assert_eq!(excerpt("short"), "\"short\"");
}

/// What `main` gets for a body the runtime cannot read as JSON: a `Payload` that reads as
/// `Unparsable`, never a deserialization error of the runtime's.
#[test]
fn a_payload_that_is_not_json_reaches_the_handler() {
    let bodies: [&[u8]; 8] = [
        b"",
        b"   ",
        b"not json",
        b"{\"Records\": [",
        b"{'Records': []}",
        b"\xff\xfe{}",
        b"\"\xff\"",
        b"{\"Records\": [] ,}",
    ];
    for body in bodies {
        let payload: Payload = fixtures::as_the_runtime_reads(body).unwrap_or_else(|e| {
            panic!(
                "{:?}: the runtime failed: {e}",
                String::from_utf8_lossy(body)
            )
        });
        let err = payload.read().unwrap_err();
        assert!(
            matches!(err, EventError::Unparsable { .. }),
            "{:?}: {err:?}",
            String::from_utf8_lossy(body)
        );
        assert!(
            err.to_string()
                .starts_with("the event payload cannot be parsed as JSON: "),
            "{err}"
        );
    }
    // The runtime reads one JSON value and ignores what follows it.
    let payload: Payload = fixtures::as_the_runtime_reads(b"{\"Records\": []} trailing").unwrap();
    assert_eq!(payload.read(), Ok(Notification::Records(vec![])));
}
