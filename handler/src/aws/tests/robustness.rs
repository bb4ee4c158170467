//! Nothing in the handler panics on input, and every failure is a `Handler.*` error: oversized
//! keys, version ids and bucket names, payloads that are not JSON, and arbitrary S3-shaped
//! events, taken as the Lambda runtime hands them over (`fixtures::as_the_runtime_reads`),
//! through `Processor::handle_payload` / `handle_json` and the real SDK adapters over an
//! in-memory HTTP client. So a request the SDK cannot build panics here as it did in Lambda.

use super::*;
use crate::error::{HandlerError, RecordError, error_type};
use crate::event::{EventError, MAX_KEY_BYTES, Payload};
use crate::fixtures::as_the_runtime_reads;
use crate::process::Processor;
use crate::summary::Summary;
use aws_smithy_http_client::test_util::infallible_client_fn;
use lambda_runtime::Diagnostic;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The handler over the real adapters. S3 and SNS answer every request at once (HeadObject:
/// SSE-KMS with the expected key; Publish: a fresh message id); the HeadObject URIs are kept.
struct Wired {
    processor: Processor<S3Metadata, SnsPublisher>,
    heads: Arc<Mutex<Vec<String>>>,
}

fn wired() -> Wired {
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&heads);
    let s3 = infallible_client_fn(move |request| {
        seen.lock().unwrap().push(request.uri().to_string());
        response(
            200,
            &[
                ("x-amz-server-side-encryption", "aws:kms"),
                ("x-amz-server-side-encryption-aws-kms-key-id", KMS_KEY_ARN),
            ],
            "",
        )
    });
    let published = AtomicUsize::new(0);
    let sns = infallible_client_fn(move |_| {
        let n = published.fetch_add(1, Ordering::Relaxed);
        publish_ok(&format!("m-{n}"), Some("10000000000000000001"))
    });
    Wired {
        processor: Processor::new(
            fixtures::config("prefix"),
            S3Metadata::new(s3_client(s3)),
            SnsPublisher::new(sns_client(sns)),
        ),
        heads,
    }
}

fn record(bucket: &str, key: &str, version_id: Option<&str>) -> Value {
    json!({
        "eventSource": "aws:s3", "awsRegion": "eu-west-1",
        "eventTime": "2026-03-02T09:15:27.482Z", "eventName": "ObjectCreated:Put",
        "s3": {
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 1, "eTag": "e", "versionId": version_id, "sequencer": "01"}
        }
    })
}

fn event(records: &[Value]) -> String {
    json!({ "Records": records }).to_string()
}

/// The failed records' indexes and `Invalid` problems, and the processed records' indexes.
fn outcome_of(error: &HandlerError) -> (Vec<(usize, String)>, Vec<usize>) {
    let HandlerError::RecordsFailed { failures, summary } = error else {
        panic!("{error:?}");
    };
    let failed = failures
        .iter()
        .map(|f| match &f.error {
            RecordError::Malformed(EventError::Invalid { problem, .. }) => {
                (f.index, problem.clone())
            }
            other => panic!("record {}: {other:?}", f.index),
        })
        .collect();
    (failed, summary.processed.iter().map(|d| d.index).collect())
}

/// Runs `records` through a wired processor, which must fail the event as malformed; gives the
/// error and how many HeadObject calls reached S3.
async fn malformed(records: &[Value]) -> (HandlerError, usize) {
    let wired = wired();
    let error = wired
        .processor
        .handle_json(&event(records))
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), error_type::MALFORMED_EVENT);
    let heads = wired.heads.lock().unwrap().len();
    (error, heads)
}

/// The issue's keys, 70 KB and 2 MB, made the SDK panic while building the HeadObject URI
/// (`InvalidUri(TooLong)`), which Lambda reported as `&alloc::boxed::Box<dyn Any + Send>`; a
/// key just over 1,024 bytes was sent to S3. Now each is a malformed record and the other
/// records of the event are processed.
#[tokio::test]
async fn regression_key_over_1024_bytes_is_a_malformed_record_not_a_panic() {
    let keys = [
        "k".repeat(70_000),
        "k".repeat(2_000_000),
        "k".repeat(1025),
        "%E2%82%AC".repeat(342),
        "k".repeat(1024),
        "ok.txt".to_owned(),
    ];
    let records: Vec<Value> = keys.iter().map(|k| record("b", k, None)).collect();
    let (error, heads) = malformed(&records).await;
    let over = |bytes: usize| {
        format!("the decoded key is {bytes} bytes, more than S3's limit of {MAX_KEY_BYTES} bytes")
    };
    assert_eq!(
        outcome_of(&error),
        (
            vec![
                (0, over(70_000)),
                (1, over(2_000_000)),
                (2, over(1025)),
                (3, over(1026))
            ],
            vec![4, 5]
        )
    );
    // Only the two keys within the limit reached S3, and the error stays readable.
    assert_eq!(heads, 2);
    assert!(
        error.to_string().len() < 2000,
        "{}",
        error.to_string().len()
    );
}

/// A version id goes into the HeadObject URI as well: 70 KB of it panicked like a long key.
#[tokio::test]
async fn regression_version_id_over_1024_bytes_is_a_malformed_record_not_a_panic() {
    let long = "v".repeat(70_000);
    let records = [
        record("b", "a.txt", Some(&long)),
        record("b", "b.txt", Some(&"v".repeat(1024))),
    ];
    let (error, heads) = malformed(&records).await;
    assert_eq!(
        outcome_of(&error),
        (
            vec![(
                0,
                "the version id is 70000 bytes, more than S3's limit of 1024 bytes".to_owned()
            )],
            vec![1]
        )
    );
    assert_eq!(heads, 1);
}

/// A 70 KB bucket name failed inside the SDK ("failed to apply endpoint"), which was classified
/// as a transient dispatch failure: `Handler.Retryable` for an event no retry can fix.
#[tokio::test]
async fn regression_bucket_name_over_255_bytes_is_a_malformed_record_not_retryable() {
    let records = [
        record(&"b".repeat(70_000), "a.txt", None),
        record(&"b".repeat(255), "b.txt", None),
    ];
    let (error, _) = malformed(&records).await;
    assert_eq!(
        outcome_of(&error),
        (
            vec![(
                0,
                "the bucket name is 70000 bytes, more than S3's limit of 255 bytes".to_owned()
            )],
            vec![1]
        )
    );
}

/// A body that is not JSON reaches the handler (the runtime does not refuse it with its own
/// `DeserializeError`) and fails as `Handler.MalformedEvent`, without any AWS call. The binary's
/// regression test is in `tests/bootstrap.rs`.
#[tokio::test]
async fn non_json_payload_is_a_malformed_event_through_the_runtime_path() {
    let wired = wired();
    for body in [&b"not json"[..], b"", b"{\"Records\":[", b"\xff{}"] {
        let payload: Payload = as_the_runtime_reads(body).expect("Payload always deserializes");
        let error = wired.processor.handle_payload(&payload).await.unwrap_err();
        assert!(
            matches!(
                &error,
                HandlerError::MalformedEvent(EventError::Unparsable { .. })
            ),
            "{error:?}"
        );
        assert_eq!(
            Diagnostic::from(error).error_type,
            error_type::MALFORMED_EVENT
        );
    }
    assert!(wired.heads.lock().unwrap().is_empty());
}

/// Every error type the handler reports.
const HANDLER_TYPES: [&str; 5] = [
    error_type::RETRYABLE,
    error_type::PUBLISH_REJECTED,
    error_type::PUBLISH_FAILED,
    error_type::HEAD_OBJECT_FAILED,
    error_type::MALFORMED_EVENT,
];

/// Checks an invocation's outcome: a `Handler.*` error type, records within S3's limits, and,
/// when the payload had `records` records, each of them accounted for exactly once.
fn check(
    outcome: &Result<Summary, HandlerError>,
    records: Option<usize>,
) -> Result<(), TestCaseError> {
    let (summary, failed) = match outcome {
        Ok(summary) => (Some(summary), 0),
        Err(error) => {
            let diagnostic = Diagnostic::from(error.clone());
            prop_assert!(
                HANDLER_TYPES.contains(&diagnostic.error_type.as_str()),
                "{diagnostic:?}"
            );
            match error {
                HandlerError::RecordsFailed { failures, summary } => {
                    prop_assert!(!failures.is_empty());
                    (Some(summary), failures.len())
                }
                HandlerError::MalformedEvent(_) => (None, 0),
            }
        }
    };
    if let Some(summary) = summary {
        for key in summary.processed.iter().map(|d| &d.key) {
            prop_assert!(!key.is_empty() && key.len() <= MAX_KEY_BYTES);
        }
        if let Some(records) = records {
            let seen = summary.processed.len() + summary.skipped.len() + failed;
            prop_assert_eq!(seen, records);
        }
    }
    Ok(())
}

/// The outcome without message ids (which count publishes): Ok or the error type, and how many
/// records were processed, skipped and failed.
fn shape(outcome: &Result<Summary, HandlerError>) -> (&'static str, usize, usize, usize) {
    match outcome {
        Ok(s) => ("ok", s.processed.len(), s.skipped.len(), 0),
        Err(HandlerError::RecordsFailed { failures, summary }) => (
            "records failed",
            summary.processed.len(),
            summary.skipped.len(),
            failures.len(),
        ),
        Err(e @ HandlerError::MalformedEvent(_)) => (e.error_type(), 0, 0, 0),
    }
}

/// A JSON value of any kind, small.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// This character becomes a lone surrogate escape (`\ud800`) in the payload's text: JSON that
/// the runtime reads but `serde_json::Value` refuses.
const SURROGATE: char = '\u{E000}';

/// Keys as S3 sends them and as it never would: any text, broken escapes, lone surrogates,
/// non-UTF-8 escapes, and lengths around and far over the 1,024-byte limit.
fn any_key() -> impl Strategy<Value = String> {
    let unit = prop::sample::select(&["k", "%41", "+", "é", "%C3%A9", "%FF", "%", "€"][..]);
    prop_oneof![
        4 => "[a-zA-Z0-9/ ._+-]{1,40}",
        2 => any::<String>(),
        2 => "(%[0-9A-Fa-f]{0,2}|%|%[g-z]{2}|[+/a-z€\u{E000}]){0,30}",
        2 => (1000usize..1100, unit).prop_map(|(n, unit)| unit.repeat(n)),
        1 => prop::sample::select(&[70_000usize, 300_000][..]).prop_map(|n| "k".repeat(n)),
    ]
}

fn any_bucket() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9.-]{3,20}",
        2 => any::<String>(),
        1 => Just("arn:aws:s3:eu-west-1:111122223333:accesspoint/ap".to_owned()),
        1 => Just("arn:aws:s3-object-lambda:eu-west-1:111122223333:accesspoint/x".to_owned()),
        1 => Just("bucket--x-s3".to_owned()),
        1 => (250usize..260).prop_map(|n| "b".repeat(n)),
        1 => Just("b".repeat(70_000)),
    ]
}

fn any_version_id() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9._]{1,32}",
        2 => any::<String>(),
        1 => (1020usize..1030).prop_map(|n| "v".repeat(n)),
        1 => Just("v".repeat(70_000)),
    ]
}

/// A member: usually `value`, sometimes absent (`None`), null, or any JSON.
fn member(value: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        12 => value.prop_map(Some),
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => any_json().prop_map(Some),
    ]
    .boxed()
}

fn text(value: impl Strategy<Value = String> + 'static) -> BoxedStrategy<Option<Value>> {
    member(value.prop_map(Value::from))
}

fn object<const N: usize>(
    names: [&'static str; N],
    members: [BoxedStrategy<Option<Value>>; N],
) -> impl Strategy<Value = Value> {
    members.prop_map(move |values| {
        Value::Object(
            names
                .iter()
                .zip(values)
                .filter_map(|(name, value)| value.map(|v| ((*name).to_owned(), v)))
                .collect(),
        )
    })
}

fn any_record() -> impl Strategy<Value = Value> {
    let s3_object = object(
        ["key", "size", "eTag", "versionId", "sequencer"],
        [
            text(any_key()),
            member(any::<u64>().prop_map(Value::from)),
            text(any::<String>()),
            text(any_version_id()),
            text(any::<String>()),
        ],
    );
    let bucket = object(["name"], [text(any_bucket())]);
    let s3 = object(["bucket", "object"], [member(bucket), member(s3_object)]);
    let event_name = prop::sample::select(
        &[
            "ObjectCreated:Put",
            "s3:ObjectCreated:CompleteMultipartUpload",
            "ObjectRemoved:Delete",
            "",
        ][..],
    )
    .prop_map(str::to_owned);
    object(
        ["eventSource", "eventName", "eventTime", "awsRegion", "s3"],
        [
            text(prop_oneof![8 => Just("aws:s3".to_owned()), 1 => any::<String>()]),
            text(prop_oneof![4 => event_name, 1 => any::<String>()]),
            text(any::<String>()),
            text(any::<String>()),
            member(s3),
        ],
    )
}

/// A payload and, if it is an S3 notification, its number of records.
fn any_payload() -> impl Strategy<Value = (Value, Option<usize>)> {
    let records = prop::collection::vec(prop_oneof![12 => any_record(), 1 => any_json()], 0..4);
    prop_oneof![
        8 => records.prop_map(|records| {
            let n = records.len();
            (json!({ "Records": records }), Some(n))
        }),
        1 => any_json().prop_map(|records| (json!({ "Records": records }), None)),
        1 => any_json().prop_map(|v| (json!({"Event": "s3:TestEvent", "Bucket": v}), None)),
        1 => any_json().prop_map(|v| (v, None)),
    ]
}

/// How the payload's text is damaged, if at all: cut at a byte, or one byte replaced.
#[derive(Debug, Clone)]
enum Damage {
    None,
    Cut(prop::sample::Index),
    Replace(prop::sample::Index, u8),
}

fn any_damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        8 => Just(Damage::None),
        1 => any::<prop::sample::Index>().prop_map(Damage::Cut),
        1 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Damage::Replace(i, b)),
    ]
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any S3-shaped event (arbitrary strings, numbers, nulls, missing members, huge keys,
    /// broken percent-encoding, lone surrogate escapes), maybe damaged so it is no longer JSON:
    /// taken as the runtime takes it, then through the whole handler and the real adapters.
    #[test]
    fn no_event_makes_the_handler_panic_or_fail_outside_its_error_types(
        (payload, records) in any_payload(),
        damage in any_damage(),
    ) {
        let text = payload.to_string().replace(SURROGATE, r"\ud800");
        let mut body = text.clone().into_bytes();
        match &damage {
            Damage::None => {}
            Damage::Cut(at) => body.truncate(at.index(body.len())),
            Damage::Replace(at, byte) => {
                let at = at.index(body.len());
                body[at] = *byte;
            }
        }
        let payload = as_the_runtime_reads::<Payload>(&body);
        prop_assert!(payload.is_ok(), "the runtime refused the payload: {:?}", payload.err());
        let wired = wired();
        let outcome = block_on(wired.processor.handle_payload(&payload.unwrap()));
        let intact = matches!(damage, Damage::None);
        check(&outcome, records.filter(|_| intact))?;
        if intact {
            let by_text = block_on(wired.processor.handle_json(&text));
            prop_assert_eq!(shape(&outcome), shape(&by_text));
        }
    }

    /// Any bytes at all: the runtime hands them over, and the handler answers with its own type.
    #[test]
    fn no_payload_bytes_make_the_runtime_or_the_handler_fail_outside_its_error_types(
        body in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            "[\\[\\]{}\":, a-zA-Z0-9\\\\]{0,64}".prop_map(String::into_bytes),
        ]
    ) {
        let payload = as_the_runtime_reads::<Payload>(&body);
        prop_assert!(payload.is_ok(), "the runtime refused the payload: {:?}", payload.err());
        let outcome = block_on(wired().processor.handle_payload(&payload.unwrap()));
        check(&outcome, None)?;
        if as_the_runtime_reads::<serde::de::IgnoredAny>(&body).is_err() {
            prop_assert!(
                matches!(outcome, Err(HandlerError::MalformedEvent(EventError::Unparsable { .. }))),
                "{:?}", outcome
            );
        }
    }
}
