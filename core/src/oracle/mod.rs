//! The oracle: from what a scenario uploaded and what came back (FIFO messages, email alerts,
//! on-failure records) it decides, per object and overall, whether the pipeline kept its
//! guarantees, and names every violation.
//!
//! It is a pure function of its inputs, so each rule is unit-tested and property-tested without
//! AWS; the harness only collects and reports. The rules live in submodules: attributing
//! deliveries to uploaded versions ([`matching`], looked up in an [`index`] of the uploads), the
//! FIFO message ([`fifo`]) and the email ([`email`]) as the handler renders them, ordering within
//! a FIFO group and across overwrites of one key ([`order`]), and latency ([`latency`]).

mod email;
mod fifo;
mod index;
mod latency;
mod matching;
mod order;
mod violation;

#[cfg(test)]
mod props;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

pub use latency::{LatencySummary, nearest_rank};
pub use violation::Violation;

/// One object version the scenario uploaded, as S3 reported it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Uploaded {
    pub index: usize,
    pub key: String,
    pub version_id: Option<String>,
    /// ETag without quotes.
    pub etag: String,
    pub size: u64,
    /// When PutObject/CompleteMultipartUpload returned, ms since run start.
    pub at_ms: u64,
}

/// One message read from the SQS FIFO queue (raw delivery: the body is the handler's JSON).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FifoReceived {
    pub body: String,
    /// SQS `MessageGroupId` attribute.
    pub group_id: Option<String>,
    /// SQS `SequenceNumber` attribute (decimal).
    pub sequence_number: Option<String>,
    /// SQS `MessageDeduplicationId` attribute.
    pub dedup_id: Option<String>,
    pub at_ms: u64,
}

/// One mail read back from the mailbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MailReceived {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
    pub at_ms: u64,
}

/// One record read from the on-failure SQS queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FailureReceived {
    pub body: String,
    pub at_ms: u64,
}

/// What the scenario expects of every delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    pub bucket: String,
    pub kms_key_arn: String,
    pub email: String,
    /// `encrypted`, `unencrypted` or `wrong-key`.
    pub verdict: String,
    pub failures_expected: usize,
    /// False on LocalStack: its sequencer is constant.
    pub sequencer_orders_overwrites: bool,
    /// Why the target's email cannot be read back at all (MiniStack's email subscriptions are
    /// a stub); then no email rule is judged and the reason is listed as skipped, never passed.
    pub email_unobservable: Option<String>,
}

/// The oracle's decision.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Judgement {
    /// One per upload, in the order of the `uploads` slice.
    pub objects: Vec<ObjectResult>,
    pub violations: Vec<Violation>,
    /// Checks that could not be made, with the reason.
    pub skipped: Vec<String>,
    pub fifo_latency: LatencySummary,
    pub email_latency: LatencySummary,
}

impl Judgement {
    /// True when no guarantee was violated.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

/// What arrived for one uploaded version.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ObjectResult {
    pub index: usize,
    pub key: String,
    pub version_id: Option<String>,
    pub fifo_messages: usize,
    pub emails: usize,
    /// First FIFO message's arrival minus the upload's completion.
    pub fifo_latency_ms: Option<u64>,
    /// First email's arrival minus the upload's completion.
    pub email_latency_ms: Option<u64>,
    /// No violation names this object.
    pub ok: bool,
}

/// Longest excerpt of a foreign body kept in a violation.
const EXCERPT_CHARS: usize = 300;

/// Judges one scenario run; see the module documentation and the rule modules.
pub fn judge(
    expect: &Expect,
    uploads: &[Uploaded],
    fifo: &[FifoReceived],
    mails: &[MailReceived],
    failures: &[FailureReceived],
) -> Judgement {
    let (named, fifo_got, mut violations) = fifo::judge(expect, uploads, fifo);
    let (mail_got, mail_violations) = email::judge(expect, uploads, mails);
    let mut skipped = Vec::new();
    match &expect.email_unobservable {
        None => violations.extend(mail_violations),
        Some(reason) => skipped.push(format!("every email rule: {reason}")),
    }

    // Order within FIFO groups, and of overwrites of one key (by the first message's sequencer).
    let (v, s) = order::group_order(uploads, fifo, &named, &fifo_got.owner);
    skipped.extend(s);
    violations.extend(v);
    let sequencers: Vec<Option<String>> = fifo_got
        .per_upload
        .iter()
        .map(|ds| {
            ds.first()
                .and_then(|&d| named[d].as_ref().ok()?.sequencer.clone())
        })
        .collect();
    let (v, s) = order::overwrite_order(expect, uploads, &sequencers);
    violations.extend(v);
    skipped.extend(s);

    // Failed invocations.
    if failures.len() != expect.failures_expected {
        violations.push(Violation::FailureCountMismatch {
            expected: expect.failures_expected,
            got: failures.len(),
            bodies: failures
                .iter()
                .map(|f| violation::failure_summary(&f.body, EXCERPT_CHARS))
                .collect(),
        });
    }

    // Per-object results and latency.
    let named_objects: BTreeSet<usize> = violations.iter().flat_map(Violation::objects).collect();
    let objects: Vec<ObjectResult> = uploads
        .iter()
        .enumerate()
        .map(|(u, up)| ObjectResult {
            index: up.index,
            key: up.key.clone(),
            version_id: up.version_id.clone(),
            fifo_messages: fifo_got.per_upload[u].len(),
            emails: mail_got.per_upload[u].len(),
            fifo_latency_ms: fifo_got.latency(u, up),
            email_latency_ms: mail_got.latency(u, up),
            ok: !named_objects.contains(&up.index),
        })
        .collect();
    Judgement {
        fifo_latency: LatencySummary::of(objects.iter().filter_map(|o| o.fifo_latency_ms)),
        email_latency: LatencySummary::of(objects.iter().filter_map(|o| o.email_latency_ms)),
        objects,
        violations,
        skipped,
    }
}
