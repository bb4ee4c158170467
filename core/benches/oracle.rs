//! The oracle on large runs: `harness_core::oracle::judge` over 1,000 and 10,000 uploaded objects,
//! each with its FIFO message and email rendered by the real handler's `plan` (so the oracle
//! parses and checks exactly what the handler sends). The baseline, measured in the same run, is
//! parsing the same FIFO bodies as JSON: the least any judge of those messages must do.
//!
//! `cargo bench -p harness-core --bench oracle`; `cargo test -p harness-core --benches` runs each once.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use handler::config::Config;
use handler::event::ObjectEvent;
use handler::plan::plan;
use handler::verdict::HeadMetadata;
use harness_core::oracle::{Expect, FifoReceived, MailReceived, Uploaded, judge};

const BUCKET: &str = "upl-hbenchrun01-uploads";
const REGION: &str = "us-west-1";
const KMS_KEY_ARN: &str =
    "arn:aws:kms:us-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const EMAIL: &str = "alerts+hbenchrun01@example.com";

/// One judged run's inputs.
struct Run {
    expect: Expect,
    uploads: Vec<Uploaded>,
    fifo: Vec<FifoReceived>,
    mails: Vec<MailReceived>,
}

fn handler_config() -> Config {
    let env = [
        (
            "STANDARD_TOPIC_ARN",
            "arn:aws:sns:us-west-1:111122223333:upl-hbenchrun01-notify",
        ),
        (
            "FIFO_TOPIC_ARN",
            "arn:aws:sns:us-west-1:111122223333:upl-hbenchrun01-events.fifo",
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

/// Keys of the shapes the workloads generate: plain, spaces and plus, unicode, markup, deep.
fn key(i: usize) -> String {
    match i % 5 {
        0 => format!("plain/file-{i}.bin"),
        1 => format!("spaces/Q1 2026 + annex {i}.pdf"),
        2 => format!("unicode/été €{i} 日本.txt"),
        3 => format!("markup/<a href=\"x\">&{i}</a>.html"),
        _ => format!("deep/a/b/c/d/e/f/{i}/data.parquet"),
    }
}

/// `n` uploads (about 7 per ms), each with the FIFO message and email the handler renders for
/// it, delivered 40–90 ms and 60–160 ms later in upload order.
fn run(n: usize) -> Run {
    let config = handler_config();
    let mut run = Run {
        expect: Expect {
            bucket: BUCKET.to_owned(),
            kms_key_arn: KMS_KEY_ARN.to_owned(),
            email: EMAIL.to_owned(),
            verdict: "encrypted".to_owned(),
            failures_expected: 0,
            sequencer_orders_overwrites: true,
            email_unobservable: None,
        },
        uploads: Vec::with_capacity(n),
        fifo: Vec::with_capacity(n),
        mails: Vec::with_capacity(n),
    };
    for i in 0..n {
        let up = Uploaded {
            index: i,
            key: key(i),
            version_id: Some(format!("v{i:06}.pZk_mQ9gKxW2vLr0Ta")),
            etag: format!("{:032x}", i * 7919 + 1),
            size: 1024 + (i as u64 * 37) % 65_536,
            at_ms: i as u64 / 7,
        };
        let event = ObjectEvent {
            index: 0,
            bucket: BUCKET.to_owned(),
            key: up.key.clone(),
            raw_key: up.key.clone(),
            size: Some(up.size),
            etag: Some(up.etag.clone()),
            version_id: up.version_id.clone(),
            sequencer: Some(format!("0067C4217F{i:08X}")),
            event_name: "ObjectCreated:Put".to_owned(),
            event_time: "2026-12-02T09:00:00.000Z".to_owned(),
            region: REGION.to_owned(),
        };
        let meta = HeadMetadata {
            server_side_encryption: Some("aws:kms".to_owned()),
            kms_key_id: Some(KMS_KEY_ARN.to_owned()),
            bucket_key_enabled: Some(true),
            content_length: Some(up.size),
            etag: Some(up.etag.clone()),
            version_id: up.version_id.clone(),
        };
        let planned = plan(&config, &event, &meta);
        let fifo = planned
            .fifo
            .finish(&format!("7f1e2d3c-4b5a-5968-8776-{i:012x}"));
        run.fifo.push(FifoReceived {
            body: fifo.message,
            group_id: Some(fifo.group_id),
            sequence_number: Some(format!("{:020}", 10_000_000 + i)),
            dedup_id: Some(fifo.dedup_id),
            at_ms: up.at_ms + 40 + (i as u64 * 13) % 50,
        });
        run.mails.push(MailReceived {
            to: vec![EMAIL.to_owned()],
            subject: planned.email.subject,
            body: planned.email.message,
            at_ms: up.at_ms + 60 + (i as u64 * 29) % 100,
        });
        run.uploads.push(up);
    }
    run
}

fn oracle(c: &mut Criterion) {
    let mut group = c.benchmark_group("oracle");
    for n in [1_000, 10_000] {
        let run = run(n);
        // The inputs are a perfect run: proves the builder before (and in test mode) measuring.
        let j = judge(&run.expect, &run.uploads, &run.fifo, &run.mails, &[]);
        assert!(j.passed(), "{:?}", j.violations.first());
        assert!(
            j.objects
                .iter()
                .all(|o| o.fifo_messages == 1 && o.emails == 1)
        );
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("judge", n), &run, |b, run| {
            b.iter(|| {
                judge(
                    &run.expect,
                    black_box(&run.uploads),
                    &run.fifo,
                    &run.mails,
                    &[],
                )
            });
        });
        group.bench_with_input(
            BenchmarkId::new("baseline-parse-fifo", n),
            &run,
            |b, run| {
                b.iter(|| {
                    black_box(&run.fifo)
                        .iter()
                        .filter(|m| serde_json::from_str::<serde_json::Value>(&m.body).is_ok())
                        .count()
                });
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10);
    targets = oracle
}
criterion_main!(benches);
