//! The three measurements of one point, each on the same seeded workload: the pipeline with
//! every delivery proven, the pipeline with deliveries only counted (checks off), and raw
//! PutObject into the baseline bucket.
//!
//! Wall time runs from the first upload's start to the last delivery that counts (verified,
//! counted, or the last PutObject's answer for the baseline); the collector's quiet window
//! after that, and the oracle's own time, are outside it (the oracle's is reported apart).

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::requests::{CountingMailbox, Counts, RequestCounter, delta};
use super::stats::{self, Distribution};
use crate::deploy::Deployment;
use crate::mailbox::Mailbox;
use crate::oracle::{self, Expect};
use crate::pipeline::collect::{self, Sources, Wanted};
use crate::pipeline::upload::upload_all;
use crate::workload::{self, PlannedUpload, WorkloadSpec};

/// What the measurements of a run share.
pub struct Bench<'a, M> {
    pub counter: RequestCounter,
    pub s3: aws_sdk_s3::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub deployment: &'a Deployment,
    pub mailbox: CountingMailbox<M>,
    pub deadline: Duration,
    /// True on AWS, whose sequencer orders overwrites (see [`Expect`]).
    pub sequencer_orders_overwrites: bool,
}

/// The seeded uploads of one measurement: `files` files of exactly `size` bytes, plain keys
/// under `prefix`.
pub fn plan(
    files: usize,
    size: u64,
    concurrency: usize,
    seed: u64,
    prefix: &str,
) -> Vec<PlannedUpload> {
    let spec = WorkloadSpec {
        min_size: size,
        max_size: size,
        concurrency,
        ..WorkloadSpec::with_files(files)
    };
    workload::plan(&spec, seed, prefix)
}

/// The pipeline with every delivery judged by the oracle.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifiedRun {
    pub files: usize,
    /// Objects whose FIFO message and email the oracle both proved.
    pub verified: usize,
    /// First upload start to last verified delivery.
    pub wall_ms: Option<u64>,
    pub files_per_s: Option<f64>,
    /// Upload answered -> FIFO message received.
    pub fifo_latency: Distribution,
    /// Upload answered -> email seen in the mailbox.
    pub email_latency: Distribution,
    /// The oracle's time, after collection.
    pub judge_ms: u64,
    /// Every violation the oracle found, one line each.
    pub violations: Vec<String>,
    pub timed_out: bool,
    /// The harness's requests to S3 and SQS, by operation.
    pub requests: Counts,
    pub mailbox_polls: u64,
}

/// The pipeline with deliveries only counted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UncheckedRun {
    pub files: usize,
    pub fifo_messages: usize,
    pub emails: usize,
    /// First upload start to the last delivery counted.
    pub wall_ms: Option<u64>,
    /// Files whose deliveries both arrived (the smaller count) per second.
    pub files_per_s: Option<f64>,
    pub timed_out: bool,
}

/// Raw PutObject into the baseline bucket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaselineRun {
    pub puts: usize,
    /// First upload start to the last PutObject's answer.
    pub wall_ms: u64,
    pub puts_per_s: Option<f64>,
}

impl<M: Mailbox + Send> Bench<'_, M> {
    /// Uploads `plan` at `concurrency`, collects, judges. (Before the first mail LocalStack's
    /// mailbox answers 404, which the mailbox reads as empty, so the warm-up needs no wait of
    /// its own.)
    pub async fn verified(
        &mut self,
        plan: &[PlannedUpload],
        concurrency: usize,
    ) -> Result<VerifiedRun, String> {
        let counted = self.counter.snapshot();
        let polls = self.mailbox.polls;
        let epoch = Instant::now();
        let bucket = &self.deployment.bucket;
        let uploads = upload_all(&self.s3, bucket, plan, concurrency, epoch).await?;
        let wanted = Wanted {
            fifo: uploads.len(),
            mails: uploads.len(),
            failures: 0,
            or_failed: 0,
        };
        let deployment = self.deployment;
        let collected = collect::collect(
            &self.sqs,
            Sources::of(deployment),
            &mut self.mailbox,
            wanted,
            epoch,
            self.deadline,
        )
        .await?;
        let requests = delta(&counted, &self.counter.snapshot());
        let mailbox_polls = self.mailbox.polls - polls;
        let expect = Expect {
            bucket: bucket.clone(),
            kms_key_arn: self.deployment.kms_key_arn.clone(),
            email: deployment.email_address.clone(),
            verdict: "encrypted".into(),
            failures_expected: 0,
            sequencer_orders_overwrites: self.sequencer_orders_overwrites,
            email_unobservable: None,
        };
        let judging = Instant::now();
        let judgement = oracle::judge(
            &expect,
            &uploads,
            &collected.fifo,
            &collected.mails,
            &collected.failures,
        );
        let judge_ms = judging.elapsed().as_millis() as u64;
        let verified = stats::verified(&uploads, &judgement);
        let latencies = |f: fn(&oracle::ObjectResult) -> Option<u64>| {
            Distribution::of(judgement.objects.iter().filter_map(f))
        };
        Ok(VerifiedRun {
            files: uploads.len(),
            verified: verified.files,
            wall_ms: verified.last_delivery_ms,
            files_per_s: verified
                .last_delivery_ms
                .and_then(|wall| stats::per_second(verified.files, wall)),
            fifo_latency: latencies(|o| o.fifo_latency_ms),
            email_latency: latencies(|o| o.email_latency_ms),
            judge_ms,
            violations: judgement
                .violations
                .iter()
                .map(ToString::to_string)
                .collect(),
            timed_out: collected.timed_out,
            requests,
            mailbox_polls,
        })
    }

    /// Uploads `plan` at `concurrency` and counts FIFO messages and emails until both reach
    /// the number of uploads (or the deadline); nothing is kept or judged.
    pub async fn unchecked(
        &mut self,
        plan: &[PlannedUpload],
        concurrency: usize,
    ) -> Result<UncheckedRun, String> {
        let epoch = Instant::now();
        let bucket = &self.deployment.bucket;
        let uploads = upload_all(&self.s3, bucket, plan, concurrency, epoch).await?;
        let wanted = uploads.len();
        let (queue, email) = (
            self.deployment.queue_url.clone(),
            self.deployment.email_address.clone(),
        );
        let (mut fifo, mut emails, mut last_ms) = (0, 0, None::<u64>);
        let started = Instant::now();
        let timed_out = loop {
            for message in collect::receive(&self.sqs, &queue, 1).await? {
                fifo += 1;
                last_ms = Some(epoch.elapsed().as_millis() as u64);
                collect::delete(&self.sqs, &queue, message.receipt_handle()).await?;
            }
            for mail in self.mailbox.poll(epoch).await? {
                if mail.to.iter().any(|to| to == &email) {
                    emails += 1;
                    last_ms = Some(last_ms.map_or(mail.at_ms, |l| l.max(mail.at_ms)));
                }
            }
            if fifo >= wanted && emails >= wanted {
                break false;
            }
            if started.elapsed() >= self.deadline {
                break true;
            }
        };
        Ok(UncheckedRun {
            files: wanted,
            fifo_messages: fifo,
            emails,
            wall_ms: last_ms,
            files_per_s: last_ms.and_then(|wall| stats::per_second(fifo.min(emails), wall)),
            timed_out,
        })
    }

    /// Uploads `plan` at `concurrency` into `bucket` (the baseline, no notification).
    pub async fn baseline(
        &self,
        bucket: &str,
        plan: &[PlannedUpload],
        concurrency: usize,
    ) -> Result<BaselineRun, String> {
        let epoch = Instant::now();
        let uploads = upload_all(&self.s3, bucket, plan, concurrency, epoch).await?;
        let wall_ms = uploads.iter().map(|u| u.at_ms).max().unwrap_or(0);
        Ok(BaselineRun {
            puts: uploads.len(),
            wall_ms,
            puts_per_s: stats::per_second(uploads.len(), wall_ms),
        })
    }
}
