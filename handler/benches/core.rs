//! The handler's pure core, without AWS: records/s through `Processor::handle_payload` for S3
//! events of 1, 10 and 100 records (JSON text in, summary out, with in-memory metadata and
//! publisher; like `main`, the text is first taken as a `Payload`, a `RawValue` inside, as the
//! Lambda runtime does), the
//! rendering of one record's publishes, and key decoding. Each group has a trivial baseline
//! measured in the same run (parsing the same JSON, serializing the same message, copying the
//! same key), so BENCHMARKS.md can give ratios that carry across machines.
//!
//! `cargo bench -p handler --bench core`; `cargo test -p handler --benches` runs each once.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use handler::Processor;
use handler::config::Config;
use handler::event::{ObjectEvent, Payload};
use handler::key::decode_key;
use handler::message;
use handler::plan::{EmailPublish, FifoPublish, plan};
use handler::ports::{HeadError, ObjectMetadata, PublishError, Published, Publisher};
use handler::verdict::HeadMetadata;
use serde_json::{Value, json};

const BUCKET: &str = "acme-secure-uploads";
const KMS_KEY_ARN: &str =
    "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn config() -> Config {
    let env = [
        (
            "STANDARD_TOPIC_ARN",
            "arn:aws:sns:eu-west-1:111122223333:alerts",
        ),
        (
            "FIFO_TOPIC_ARN",
            "arn:aws:sns:eu-west-1:111122223333:events.fifo",
        ),
        ("EXPECTED_KMS_KEY_ARN", KMS_KEY_ARN),
        ("FIFO_GROUPING", "prefix"),
    ];
    Config::from_lookup(|var| {
        env.iter()
            .find(|(k, _)| *k == var)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("the bench configuration is valid")
}

fn head() -> HeadMetadata {
    HeadMetadata {
        server_side_encryption: Some("aws:kms".to_owned()),
        kms_key_id: Some(KMS_KEY_ARN.to_owned()),
        bucket_key_enabled: Some(true),
        content_length: Some(48_213),
        etag: Some("5d41402abc4b2a76b9719d911017c592".to_owned()),
        version_id: None,
    }
}

/// HeadObject: every object is SSE-KMS with the expected key.
struct Metadata(HeadMetadata);

impl ObjectMetadata for Metadata {
    async fn head_object(
        &self,
        _bucket: &str,
        _key: &str,
        _version_id: Option<&str>,
    ) -> Result<HeadMetadata, HeadError> {
        Ok(self.0.clone())
    }
}

/// SNS: accepts every publish with fixed ids (the message is still rendered in full).
struct Accept;

impl Publisher for Accept {
    async fn publish_email(&self, email: &EmailPublish) -> Result<Published, PublishError> {
        black_box(email);
        Ok(Published {
            message_id: "0b7c8e4a-5f1d-5a3e-9c2b-7d6e5f4a3b2c".to_owned(),
            sequence_number: None,
        })
    }

    async fn publish_fifo(&self, fifo: &FifoPublish) -> Result<Published, PublishError> {
        black_box(fifo);
        Ok(Published {
            message_id: "1c8d9f5b-6a2e-5b4f-8d3c-8e7f6a5b4c3d".to_owned(),
            sequence_number: Some("10000000000000000001".to_owned()),
        })
    }
}

/// Polls a future that never waits (the fakes answer at once) to completion, so no runtime's
/// scheduling is measured.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the in-memory fakes never wait"),
    }
}

/// Keys as AWS encodes them in events: plain, `+` for spaces with `%2B` for a plus, UTF-8
/// escapes, and a deep path.
fn raw_key(i: usize) -> String {
    match i % 4 {
        0 => format!("reports/2026/day-{i}.csv"),
        1 => format!("invoices/Q1+2026+%2B+annex+%28final%29+{i}.pdf"),
        2 => format!("photos/%E2%82%AC+price+list+%C3%A9t%C3%A9+{i}.png"),
        _ => format!("a/b/c/d/e/f/g/h/{i}/data%20set.parquet"),
    }
}

/// An S3 notification with `n` `ObjectCreated:Put` records, as JSON text.
fn event_text(n: usize) -> String {
    let records: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "eu-west-1",
                "eventTime": "2026-03-02T09:15:27.482Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:AROA5EXAMPLEROLEID12:uploader"},
                "requestParameters": {"sourceIPAddress": "198.51.100.23"},
                "responseElements": {"x-amz-request-id": "9QH3XM5T2RBK7W1F"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "upload-created-to-lambda",
                    "bucket": {"name": BUCKET, "arn": format!("arn:aws:s3:::{BUCKET}")},
                    "object": {
                        "key": raw_key(i),
                        "size": 48_213 + i,
                        "eTag": format!("{:032x}", i * 7919 + 1),
                        "versionId": format!("8Hs1y3yYb8zY7.pZk_mQ9gKxW2vLr{i:04}"),
                        "sequencer": format!("0067C4217F6A3B{i:04X}"),
                    }
                }
            })
        })
        .collect();
    json!({ "Records": records }).to_string()
}

fn events(c: &mut Criterion) {
    let processor = Processor::new(config(), Metadata(head()), Accept);
    let mut group = c.benchmark_group("event");
    for n in [1, 10, 100] {
        let text = event_text(n);
        // Proves the input is what it claims before measuring it (and in test mode).
        let summary = ready(processor.handle_json(&text)).unwrap();
        assert_eq!(summary.processed.len(), n, "every record is processed");
        let parsed = ready(processor.handle(serde_json::from_str(&text).unwrap())).unwrap();
        assert_eq!(parsed, summary, "both entry points agree");
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("handle", n), &text, |b, text| {
            b.iter(|| {
                let payload: Payload = serde_json::from_str(black_box(text)).unwrap();
                ready(processor.handle_payload(&payload)).unwrap()
            });
        });
        group.bench_with_input(BenchmarkId::new("baseline-parse", n), &text, |b, text| {
            b.iter(|| serde_json::from_str::<Value>(black_box(text)).unwrap());
        });
    }
    group.finish();
}

fn object_event(raw: &str) -> ObjectEvent {
    ObjectEvent {
        index: 0,
        bucket: BUCKET.to_owned(),
        key: decode_key(raw).unwrap(),
        raw_key: raw.to_owned(),
        size: Some(48_213),
        etag: Some("5d41402abc4b2a76b9719d911017c592".to_owned()),
        version_id: Some("8Hs1y3yYb8zY7.pZk_mQ9gKxW2vLr0Ta".to_owned()),
        sequencer: Some("0067C4217F6A3B9E21".to_owned()),
        event_name: "ObjectCreated:Put".to_owned(),
        event_time: "2026-03-02T09:15:27.482Z".to_owned(),
        region: "eu-west-1".to_owned(),
    }
}

fn render(c: &mut Criterion) {
    let config = config();
    let meta = head();
    let event = object_event(&raw_key(2));
    let planned = plan(&config, &event, &meta);
    assert!(message::is_valid_subject(&planned.email.subject));
    let finished = planned.fifo.finish("0b7c8e4a-5f1d-5a3e-9c2b-7d6e5f4a3b2c");
    let fifo_json: Value = serde_json::from_str(&finished.message).unwrap();

    let mut group = c.benchmark_group("render");
    group.throughput(Throughput::Elements(1));
    group.bench_function("plan-and-finish", |b| {
        b.iter(|| {
            let planned = plan(&config, black_box(&event), &meta);
            planned.fifo.finish("0b7c8e4a-5f1d-5a3e-9c2b-7d6e5f4a3b2c")
        });
    });
    group.bench_function("subject", |b| {
        b.iter(|| message::subject(planned.verdict, BUCKET, black_box(&event.key)));
    });
    group.bench_function("body", |b| {
        b.iter(|| {
            message::body(
                black_box(&event),
                &meta,
                planned.verdict,
                &config.expected_kms_key,
            )
        });
    });
    group.bench_function("baseline-serialize-fifo-json", |b| {
        b.iter(|| serde_json::to_string(black_box(&fifo_json)).unwrap());
    });
    group.finish();
}

fn keys(c: &mut Criterion) {
    let long = format!("{}%E2%82%AC+end.bin", "deep/".repeat(200));
    let cases = [
        ("plain", "reports/2026/day-1.csv".to_owned()),
        ("plus-and-escapes", raw_key(1)),
        ("utf8-escapes", raw_key(2)),
        ("long-1k", long),
    ];
    let mut group = c.benchmark_group("key");
    group.throughput(Throughput::Elements(1));
    for (name, raw) in &cases {
        assert!(decode_key(raw).is_ok());
        group.bench_with_input(BenchmarkId::new("decode", name), raw, |b, raw| {
            b.iter(|| decode_key(black_box(raw)).unwrap());
        });
        group.bench_with_input(BenchmarkId::new("baseline-copy", name), raw, |b, raw| {
            b.iter(|| black_box(raw.as_str()).to_owned());
        });
    }
    group.finish();
}

criterion_group! {
    name = core;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    targets = events, render, keys
}
criterion_main!(core);
