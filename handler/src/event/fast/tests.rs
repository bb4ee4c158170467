//! `read` (the typed fast path, or the `Value` when it does not apply) against `classify` on the
//! `Value`: the same outcome for every payload, and the fast path taken for real notifications.

use super::records;
use crate::event::{EventError, Notification, Payload, classify, read};
use crate::fixtures;
use proptest::prelude::*;
use serde_json::Value;
use serde_json::value::RawValue;

const ALL_FIXTURES: [&str; 7] = [
    fixtures::AWS_PUT_PLUS_SPACE,
    fixtures::LOCALSTACK_PUT_PERCENT20,
    fixtures::AWS_MULTIPART_UPLOAD,
    fixtures::TEST_EVENT,
    fixtures::MULTI_RECORD,
    fixtures::MALFORMED_MISSING_KEY,
    fixtures::MALFORMED_UNRECOGNIZED,
];

/// `read` on the text gives what `classify` gives on its `Value`.
fn assert_reads_as_classified(text: &str) {
    let value: Value = serde_json::from_str(text).expect("the case is valid JSON");
    assert_eq!(read(text), classify(&value), "{text}");
}

#[test]
fn fixtures_read_as_they_classify() {
    for text in ALL_FIXTURES {
        assert_reads_as_classified(text);
    }
}

#[test]
fn well_formed_notifications_take_the_fast_path() {
    for (name, text) in fixtures::NOTIFICATIONS {
        let fast = records(text).is_some();
        assert_eq!(fast, name != "malformed-missing-key", "{name}");
    }
}

/// A record with the given `s3` member, everything else well-formed.
fn record(s3: &str) -> String {
    format!(
        r#"{{"eventSource":"aws:s3","awsRegion":"r","eventTime":"t","eventName":"ObjectCreated:Put","s3":{s3}}}"#
    )
}

#[test]
fn odd_shapes_read_as_they_classify() {
    let s3 = r#"{"bucket":{"name":"b"},"object":{"key":"k+%2B","size":1,"eTag":"\"e\"","versionId":"v","sequencer":"s"}}"#;
    let object =
        |object: &str| record(&format!(r#"{{"bucket":{{"name":"b"}},"object":{object}}}"#));
    let cases = [
        format!(r#"{{"Records":[{}]}}"#, record(s3)),
        // Arrays where objects belong: serde's derived structs would read them field by field.
        r#"{"Records":[["aws:s3","ObjectCreated:Put","t","r",{"bucket":{"name":"b"},"object":{"key":"k"}}]]}"#.to_owned(),
        r#"[[]]"#.to_owned(),
        record(r#"[{"name":"b"},{"key":"k"}]"#),
        // Repeated keys: the `Value` keeps the last one, serde's derived structs refuse.
        format!(r#"{{"Records":[],"Records":[{}]}}"#, record(s3)),
        format!(r#"{{"Records":[{}]}}"#, record(s3).replace(r#""eventSource":"aws:s3""#, r#""eventSource":"aws:sqs","eventSource":"aws:s3""#)),
        // JSON escapes in the strings the handler reads and in member names.
        format!(r#"{{"Records":[{}]}}"#, record(s3).replace("aws:s3", r"aws:\u0073\u0033")),
        format!(r#"{{"Records":[{}]}}"#, object(r#"{"key":"a\/b\n"}"#)),
        format!(r#"{{"Records":[{}]}}"#, record(s3).replace("eventSource", r"event\u0053ource")),
        // Null and absent members.
        format!(r#"{{"Records":[{}]}}"#, record("null")),
        format!(r#"{{"Records":[{}]}}"#, object(r#"{"key":"k","size":null,"eTag":null,"versionId":null}"#)),
        format!(r#"{{"Records":[{}]}}"#, object(r#"{"size":1}"#)),
        // Numbers that are not a u64 size.
        format!(r#"{{"Records":[{}]}}"#, object(r#"{"key":"k","size":-0}"#)),
        format!(r#"{{"Records":[{}]}}"#, object(r#"{"key":"k","size":1.0}"#)),
        format!(r#"{{"Records":[{}]}}"#, object(r#"{"key":"k","size":1e3}"#)),
        format!(r#"{{"Records":[{}]}}"#, object(r#"{"key":"k","size":18446744073709551616}"#)),
        format!(r#"{{"Records":[{}]}}"#, object(r#"{"key":"k","size":18446744073709551615}"#)),
        // Not records at all.
        r#"{"Records":null}"#.to_owned(),
        r#"{"Records":{}}"#.to_owned(),
        r#"{"Records":[null,1,"x",[],{}]}"#.to_owned(),
        r#"{"Event":"s3:TestEvent","Bucket":7}"#.to_owned(),
        r#""Records""#.to_owned(),
    ];
    for text in &cases {
        assert_reads_as_classified(text);
    }
}

#[test]
fn text_only_the_runtime_accepts() {
    // A lone surrogate in a field the handler reads: neither way can read it.
    let text = format!(
        r#"{{"Records":[{}]}}"#,
        record("null").replace("aws:s3", r"\ud800")
    );
    assert!(serde_json::from_str::<Value>(&text).is_err());
    assert!(matches!(read(&text), Err(EventError::Unparsable { .. })));
    // In a field it ignores, the record is read (the runtime used to refuse such a payload whole,
    // when it parsed it into a `Value`).
    let s3 = r#"{"bucket":{"name":"b"},"object":{"key":"k"}},"userIdentity":"\ud800""#;
    let text = format!(r#"{{"Records":[{}]}}"#, record(s3));
    let Ok(Notification::Records(records)) = read(&text) else {
        panic!("{text} is read");
    };
    assert_eq!(records[0].as_ref().unwrap().key, "k");
}

/// `main` asks the runtime for a `Payload` (a `Box<RawValue>` inside): the text comes through
/// whole, and reads as it classifies.
#[test]
fn the_runtime_hands_over_the_payload_text() {
    for text in ALL_FIXTURES {
        let payload: Box<RawValue> = fixtures::as_the_runtime_reads(text.as_bytes()).unwrap();
        assert_eq!(payload.get(), text.trim());
        let payload: Payload = fixtures::as_the_runtime_reads(text.as_bytes()).unwrap();
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(payload.read(), classify(&value));
    }
}

/// Values of other kinds, including those serde and `Value` could treat differently.
const ODD: &[&str] = &[
    "null",
    "true",
    "0",
    "-1",
    "-0",
    "1.5",
    "1e3",
    "18446744073709551616",
    r#""""#,
    r#""x""#,
    r#""\u0078""#,
    "[]",
    r#"["x"]"#,
    "{}",
];

/// A member's JSON: usually `value`, sometimes absent (`None`) or of another kind.
fn member(value: impl Strategy<Value = String> + 'static) -> BoxedStrategy<Option<String>> {
    prop_oneof![
        40 => value.prop_map(Some),
        1 => Just(None),
        1 => prop::sample::select(ODD).prop_map(|v| Some(v.to_owned())),
    ]
    .boxed()
}

fn one_of(values: &'static [&'static str]) -> BoxedStrategy<Option<String>> {
    member(prop::sample::select(values).prop_map(str::to_owned))
}

/// An optional member: often absent or null.
fn optional(values: &'static [&'static str]) -> BoxedStrategy<Option<String>> {
    prop_oneof![
        3 => one_of(values),
        1 => Just(None),
        1 => Just(Some("null".to_owned())),
    ]
    .boxed()
}

/// An object of the present members, maybe with its first member repeated with another value.
fn object<const N: usize>(
    members: [BoxedStrategy<Option<String>>; N],
    names: [&'static str; N],
) -> impl Strategy<Value = String> {
    let again = proptest::option::weighted(0.02, prop::sample::select(ODD));
    (members, again).prop_map(move |(values, again)| {
        let mut parts: Vec<String> = names
            .iter()
            .zip(&values)
            .filter_map(|(name, value)| value.as_ref().map(|v| format!("\"{name}\":{v}")))
            .collect();
        if let Some(value) = again {
            parts.push(format!("\"{}\":{value}", names[0]));
        }
        format!("{{{}}}", parts.join(","))
    })
}

fn any_record() -> impl Strategy<Value = String> {
    let s3_object = object(
        [
            one_of(&[
                r#""k""#,
                r#""a+b%2Bc""#,
                r#""%FF""#,
                r#""""#,
                r#""caf%C3%A9""#,
            ]),
            optional(&["5", "0"]),
            optional(&[r#""\"e\"""#, r#""e""#]),
            optional(&[r#""v""#]),
            optional(&[r#""s""#]),
        ],
        ["key", "size", "eTag", "versionId", "sequencer"],
    );
    let bucket = object([one_of(&[r#""b""#, r#""""#])], ["name"]);
    let s3 = object([member(bucket), member(s3_object)], ["bucket", "object"]);
    object(
        [
            one_of(&[r#""aws:s3""#, r#""aws:sqs""#]),
            one_of(&[r#""ObjectCreated:Put""#, r#""ObjectRemoved:Delete""#]),
            one_of(&[r#""t""#]),
            one_of(&[r#""r""#]),
            member(s3),
        ],
        ["eventSource", "eventName", "eventTime", "awsRegion", "s3"],
    )
}

proptest! {
    #[test]
    fn any_notification_reads_as_it_classifies(
        records in prop::collection::vec(member(any_record()), 0..4)
    ) {
        let records: Vec<String> = records.into_iter().map(|r| r.unwrap_or("null".into())).collect();
        let text = format!(r#"{{"Records":[{}]}}"#, records.join(","));
        let value: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(read(&text), classify(&value), "{}", text);
    }
}
