//! Counting API requests: what one file costs the target, so the ceiling (raw request rate ÷
//! requests per file) can be stated.
//!
//! The harness's own calls are counted, not estimated: its S3 and SQS clients carry an
//! interceptor that counts every HTTP attempt by operation (retries included), and the mailbox
//! is wrapped to count its polls. The pipeline's internal calls (the S3 event's invocation, the
//! handler's HeadObject and two publishes, SNS's deliveries) happen inside the target and are
//! fixed per file; they are listed with the reason for each.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use serde::{Deserialize, Serialize};

use crate::mailbox::Mailbox;
use crate::oracle::MailReceived;
use crate::run_target::Target;

/// Requests per operation (`PutObject`, `ReceiveMessage`, ...).
pub type Counts = BTreeMap<String, u64>;

/// Counts every request its clients send, by operation; clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<Mutex<Counts>>);

impl RequestCounter {
    /// The counts so far.
    pub fn snapshot(&self) -> Counts {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// An S3 client for `target` (path-style on LocalStack, as [`Target::s3`]) that counts.
    pub fn s3(&self, target: &Target) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&target.sdk)
            .force_path_style(target.endpoint_url.is_some())
            .interceptor(self.clone())
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// An SQS client for `target` that counts.
    pub fn sqs(&self, target: &Target) -> aws_sdk_sqs::Client {
        let config = aws_sdk_sqs::config::Builder::from(&target.sdk)
            .interceptor(self.clone())
            .build();
        aws_sdk_sqs::Client::from_conf(config)
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "bench-request-counter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map_or("unknown", Metadata::name)
            .to_owned();
        *self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(operation)
            .or_default() += 1;
        Ok(())
    }
}

/// `after - before`, per operation, dropping zeros.
pub fn delta(before: &Counts, after: &Counts) -> Counts {
    after
        .iter()
        .map(|(op, n)| (op.clone(), n - before.get(op).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// A mailbox that counts its polls.
#[derive(Debug)]
pub struct CountingMailbox<M> {
    pub inner: M,
    pub polls: u64,
}

impl<M: Mailbox + Send> Mailbox for CountingMailbox<M> {
    async fn poll(&mut self, epoch: Instant) -> Result<Vec<MailReceived>, String> {
        self.polls += 1;
        self.inner.poll(epoch).await
    }
}

/// One line of the per-file request count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestItem {
    /// `harness`, `s3`, `handler` or `sns`: who sends it.
    pub by: String,
    pub operation: String,
    pub per_file: f64,
    /// Counted during the run (else fixed by the pipeline's design).
    pub measured: bool,
    pub why: String,
}

/// What one file costs the target, every line explained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestsPerFile {
    pub items: Vec<RequestItem>,
    /// Sum of the items (the mailbox polls are listed but not added: not an AWS API).
    pub total: f64,
}

/// The fixed calls the pipeline makes inside the target for each file.
const PIPELINE: [(&str, &str, &str); 5] = [
    (
        "s3",
        "lambda Invoke (async)",
        "the s3:ObjectCreated:* notification invokes the function once per object",
    ),
    (
        "handler",
        "s3 HeadObject",
        "the handler reads the object's encryption for its verdict",
    ),
    ("handler", "sns Publish (standard topic)", "the email alert"),
    (
        "handler",
        "sns Publish (FIFO topic)",
        "the FIFO message, with MessageGroupId and MessageDeduplicationId",
    ),
    (
        "sns",
        "sqs SendMessage",
        "the FIFO topic delivers to the SQS FIFO queue (raw delivery); the email \
         subscription's delivery is SNS-internal (SES on LocalStack) and not counted",
    ),
];

/// Requests per file for `files` files, from the harness's counted calls (`harness`, one
/// measurement's [`delta`]) and `mailbox_polls`.
pub fn per_file(files: usize, harness: &Counts, mailbox_polls: u64) -> RequestsPerFile {
    let n = files.max(1) as f64;
    let mut items = Vec::new();
    for (operation, count) in harness {
        let why = match operation.as_str() {
            "PutObject" => "the upload (SSE-KMS with the Bucket Key: no KMS call per object)",
            "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" => {
                "the upload, in parts (files of 8 MiB and more)"
            }
            "ReceiveMessage" => {
                "the harness long-polls the FIFO queue (up to 10 messages per call) and polls \
                 the on-failure queue once per round"
            }
            "DeleteMessage" => "the harness deletes each FIFO message it read",
            _ => "made by the harness during the measurement",
        };
        items.push(RequestItem {
            by: "harness".to_owned(),
            operation: format!("{} {operation}", service_of(operation)),
            per_file: *count as f64 / n,
            measured: true,
            why: why.to_owned(),
        });
    }
    for (by, operation, why) in PIPELINE {
        items.push(RequestItem {
            by: by.to_owned(),
            operation: operation.to_owned(),
            per_file: 1.0,
            measured: false,
            why: why.to_owned(),
        });
    }
    let total = items.iter().map(|i| i.per_file).sum();
    items.push(RequestItem {
        by: "harness".to_owned(),
        operation: "mailbox poll".to_owned(),
        per_file: mailbox_polls as f64 / n,
        measured: true,
        why: "reads the alerts back (LocalStack's /_aws/ses; not an AWS API, not in the total)"
            .to_owned(),
    });
    RequestsPerFile { items, total }
}

fn service_of(operation: &str) -> &'static str {
    match operation {
        "ReceiveMessage" | "DeleteMessage" | "SendMessage" => "sqs",
        _ => "s3",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> Counts {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    #[test]
    fn delta_subtracts_and_drops_zeros() {
        let before = counts(&[("PutObject", 3), ("ReceiveMessage", 5)]);
        let after = counts(&[
            ("PutObject", 13),
            ("ReceiveMessage", 5),
            ("DeleteMessage", 2),
        ]);
        assert_eq!(
            delta(&before, &after),
            counts(&[("PutObject", 10), ("DeleteMessage", 2)])
        );
    }

    #[test]
    fn per_file_adds_measured_and_fixed_calls_but_not_mailbox_polls() {
        let harness = counts(&[
            ("PutObject", 100),
            ("ReceiveMessage", 40),
            ("DeleteMessage", 100),
        ]);
        let r = per_file(100, &harness, 50);
        // 1 PutObject + 0.4 ReceiveMessage + 1 DeleteMessage + 5 fixed.
        assert!((r.total - 7.4).abs() < 1e-9, "{}", r.total);
        let poll = r.items.last().unwrap();
        assert_eq!(
            (poll.operation.as_str(), poll.per_file),
            ("mailbox poll", 0.5)
        );
        assert!(
            r.items
                .iter()
                .any(|i| i.operation == "sqs ReceiveMessage" && i.measured)
        );
        assert!(
            r.items
                .iter()
                .any(|i| i.operation == "s3 HeadObject" && !i.measured)
        );
        assert!(r.items.iter().all(|i| !i.why.is_empty()));
    }

    #[test]
    fn no_files_does_not_divide_by_zero() {
        assert_eq!(per_file(0, &Counts::new(), 0).total, 5.0);
    }
}
