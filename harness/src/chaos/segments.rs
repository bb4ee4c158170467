//! The upload phase of a chaos run: the scenario's faults plugged into the pipeline layer's
//! segmented upload ([`crate::pipeline::faults`]), which cuts the seeded workload at every fault
//! edge (a window opening or closing, the LocalStack restart); the pipeline is brought to rest
//! before each edge so that a fault touches exactly the uploads it names, and the uploads a
//! fault refused are retried once it is over.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::pipeline::faults::{Faults, Flow, upload_around};
use crate::pipeline::{RunReport, Wanted, upload};
use crate::workload::PlannedUpload;

use super::completion;
use super::driver::{Progress, Run};
use super::platform::{self, Opened};
use super::report::TimelineKind;
use super::spec::FaultSpec;

/// How long a throttle window may wait for Lambda to try (and drop) its events before it is
/// lifted anyway (the events not tried by then run normally afterwards).
const THROTTLE_DROP_DEADLINE: Duration = Duration::from_secs(60);
/// How long the uploads before a fault edge may take to be delivered.
const QUIESCE_DEADLINE: Duration = Duration::from_secs(90);
/// How long the window's invocations may take to finish before the window closes anyway.
const WINDOW_COMPLETION_DEADLINE: Duration = Duration::from_secs(60);

/// A fault of the scenario with an edge in the upload sequence.
struct Edged<'f> {
    rule: usize,
    fault: &'f FaultSpec,
    /// 0-based upload positions `[start, end)`; a restart is an empty range at its point.
    span: std::ops::Range<usize>,
}

/// A chaos run's faults, plugged into the pipeline layer's segmented upload
/// ([`crate::pipeline::faults`]): windows open before their first upload and close after their last,
/// a restart ends the uploads.
struct Segmented<'s, 'a> {
    run: &'s mut Run<'a>,
    edged: Vec<Edged<'s>>,
    /// Windows open now, with what closes them.
    opened: Vec<(usize, Opened)>,
    concurrency: usize,
    report: &'s mut RunReport,
    progress: Progress<'s>,
}

impl Faults for Segmented<'_, '_> {
    fn edges(&self) -> BTreeSet<usize> {
        self.edged
            .iter()
            .flat_map(|e| [e.span.start, e.span.end])
            .collect()
    }

    async fn before_upload(&mut self, from: usize) -> Result<(), String> {
        self.run.same_localstack().await?;
        let starting = self
            .edged
            .iter()
            .filter(|e| e.fault.window().is_some() && e.span.start == from);
        for e in starting {
            let what = format!("opening `{}`", e.fault);
            self.run.quiesce(&what, self.progress).await?;
            let (handle, what) = platform::open(
                self.run.pipeline.target,
                self.run.pipeline.deployment,
                e.fault,
            )
            .await?;
            let _ = writeln!(self.progress, "  fault opened: {what}");
            self.run.counts[e.rule] += 1;
            self.run
                .event(TimelineKind::Fault, format!("opened: {what}"));
            match e.fault {
                FaultSpec::RemoveFifoSubscription { .. } => {
                    self.run.excused.lost.extend(e.span.clone());
                }
                FaultSpec::ThrottleFunction { .. } => {
                    self.run.excused.throttled.extend(e.span.clone());
                }
                _ => {}
            }
            self.opened.push((e.rule, handle));
        }
        Ok(())
    }

    async fn upload(&mut self, segment: &[PlannedUpload]) -> Result<(), String> {
        let Some(from) = segment.first().map(|u| u.index) else {
            return Ok(());
        };
        let refusing = self
            .edged
            .iter()
            .any(|e| matches!(e.fault, FaultSpec::DisableKmsKey { .. }) && e.span.contains(&from));
        self.run
            .upload_segment(segment, self.concurrency, refusing)
            .await
    }

    async fn after_upload(&mut self, to: usize, plan: &[PlannedUpload]) -> Result<Flow, String> {
        let ending = self
            .edged
            .iter()
            .filter(|e| e.span.end == to && e.fault.restart_after().is_none());
        for e in ending {
            self.run.hold(e.fault, &e.span, self.progress).await?;
            let Some(pos) = self.opened.iter().position(|(rule, _)| *rule == e.rule) else {
                continue;
            };
            let (_, handle) = self.opened.remove(pos);
            let what = platform::close(
                self.run.pipeline.target,
                self.run.pipeline.deployment,
                &handle,
            )
            .await?;
            let _ = writeln!(self.progress, "  fault closed: {what}");
            self.run
                .event(TimelineKind::Fault, format!("closed: {what}"));
        }
        match self
            .edged
            .iter()
            .find(|e| e.fault.restart_after() == Some(to))
        {
            Some(e) => {
                let rule = e.rule;
                self.run
                    .restart(rule, to, plan, self.report, self.progress)
                    .await?;
                Ok(Flow::Stop)
            }
            None => Ok(Flow::Continue),
        }
    }
}

impl Run<'_> {
    /// Uploads `plan` in segments cut at every fault edge, opening and closing the faults, then
    /// retries what a fault refused.
    pub(super) async fn upload_with_faults(
        &mut self,
        faults: &[FaultSpec],
        plan: &[PlannedUpload],
        concurrency: usize,
        report: &mut RunReport,
        progress: Progress<'_>,
    ) -> Result<(), String> {
        let edged: Vec<Edged> = faults
            .iter()
            .enumerate()
            .filter_map(|(rule, fault)| {
                let span = fault
                    .window()
                    .or_else(|| fault.restart_after().map(|after| after..after))?;
                Some(Edged { rule, fault, span })
            })
            .collect();
        let mut segmented = Segmented {
            run: self,
            edged,
            opened: Vec::new(),
            concurrency,
            report,
            progress: &mut *progress,
        };
        if upload_around(&mut segmented, plan).await? == Flow::Stop {
            return Ok(());
        }
        // Resume: what a fault refused is uploaded again now that it is over.
        for (planned, error) in std::mem::take(&mut self.refused) {
            let _ = writeln!(
                progress,
                "  retrying upload #{} refused during the fault: {error}",
                planned.index
            );
            self.upload_segment(std::slice::from_ref(&planned), 1, false)
                .await?;
        }
        Ok(())
    }

    async fn upload_segment(
        &mut self,
        segment: &[PlannedUpload],
        concurrency: usize,
        refusing: bool,
    ) -> Result<(), String> {
        let s3 = self.pipeline.target.s3();
        if !refusing {
            let done = upload::upload_all(
                &s3,
                &self.pipeline.deployment.bucket,
                segment,
                concurrency,
                self.pipeline.epoch,
            )
            .await?;
            for u in &done {
                self.event(TimelineKind::Upload, u.key.clone());
            }
            self.uploads.extend(done);
            return Ok(());
        }
        // One by one: each refusal is recorded, none stops the run.
        for planned in segment {
            match upload::upload_all(
                &s3,
                &self.pipeline.deployment.bucket,
                std::slice::from_ref(planned),
                1,
                self.pipeline.epoch,
            )
            .await
            {
                Ok(done) => {
                    self.event(
                        TimelineKind::Upload,
                        format!("{} (accepted with the key disabled)", planned.key),
                    );
                    self.accepted_with_key_disabled.push(planned.key.clone());
                    self.uploads.extend(done);
                }
                Err(e) => {
                    self.event(
                        TimelineKind::Fault,
                        format!("upload #{} refused", planned.index),
                    );
                    self.refused.push((planned.clone(), e));
                }
            }
        }
        Ok(())
    }

    /// Waits until every upload so far was delivered (FIFO message, unless its loss is
    /// excused, and email), keeping what arrived for the judgement: a fault opened now touches
    /// no invocation of an earlier upload.
    async fn quiesce(&mut self, before: &str, progress: Progress<'_>) -> Result<(), String> {
        let wanted = self.still_wanted(0);
        if wanted.fifo == 0 && wanted.mails == 0 {
            return Ok(());
        }
        let _ = writeln!(
            progress,
            "  waiting for {} FIFO message(s) and {} email(s) before {before}",
            wanted.fifo, wanted.mails
        );
        let got = self.collect(wanted, QUIESCE_DEADLINE).await?;
        let (timed_out, fifo, mails) = (got.timed_out, got.fifo.len(), got.mails.len());
        self.early.absorb(got);
        if timed_out {
            return Err(format!(
                "before {before}, the earlier uploads' deliveries did not all arrive within {} s: \
                 {fifo} of {} FIFO messages, {mails} of {} emails",
                QUIESCE_DEADLINE.as_secs(),
                wanted.fifo,
                wanted.mails
            ));
        }
        Ok(())
    }

    /// What a window waits for before it closes: a throttle lasts until Lambda tried, and
    /// dropped, every event of the window's uploads; a removed subscription lasts until the
    /// function finished every invocation of the window's uploads (their FIFO publishes came
    /// after their emails).
    async fn hold(
        &mut self,
        fault: &FaultSpec,
        span: &std::ops::Range<usize>,
        progress: Progress<'_>,
    ) -> Result<(), String> {
        match fault {
            FaultSpec::ThrottleFunction { .. } => {
                // At zero reserved concurrency Lambda drops each event it tries into the
                // on-failure queue (`ZeroReservedConcurrency`); observed, not guessed.
                let window = self
                    .uploads
                    .iter()
                    .filter(|u| span.contains(&u.index))
                    .count();
                let wanted = Wanted {
                    fifo: 0,
                    mails: 0,
                    failures: window,
                    or_failed: 0,
                };
                let got = self.collect(wanted, THROTTLE_DROP_DEADLINE).await?;
                if got.timed_out {
                    let _ = writeln!(
                        progress,
                        "  {} of {window} throttled event(s) dropped within {} s; the rest run \
                         once the throttle is lifted",
                        got.failures.len(),
                        THROTTLE_DROP_DEADLINE.as_secs()
                    );
                }
                self.early.absorb(got);
            }
            FaultSpec::RemoveFifoSubscription { .. } => {
                let keys: Vec<String> = self
                    .uploads
                    .iter()
                    .filter(|u| span.contains(&u.index))
                    .map(|u| u.key.clone())
                    .collect();
                completion::wait_processed(
                    &self.pipeline.target.logs(),
                    &self.pipeline.deployment.log_group,
                    &keys,
                    WINDOW_COMPLETION_DEADLINE,
                )
                .await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// The `restart-localstack` fault after upload `after`: the uploads so far are delivered
    /// and checked at rest, LocalStack is restarted, and the run must notice on its own (the
    /// session watch); the rest of the plan is not uploaded, with the reason in the report.
    async fn restart(
        &mut self,
        rule: usize,
        after: usize,
        plan: &[PlannedUpload],
        report: &mut RunReport,
        progress: Progress<'_>,
    ) -> Result<(), String> {
        self.quiesce("restarting LocalStack", progress).await?;
        let at_rest = self.pipeline.check_encryption_at_rest(&self.uploads).await;
        report.checks.push(at_rest);
        self.pipeline
            .target
            .restart_embedded(progress)
            .await
            .map_err(|e| format!("restarting LocalStack: {e}"))?;
        self.counts[rule] += 1;
        self.event(
            TimelineKind::Fault,
            format!("LocalStack restarted after upload {after}"),
        );
        let detected = self.check_watch().await;
        let name = format!("LocalStack's restart after upload {after} is detected by the run");
        match detected {
            Err(crate::localstack::session::WatchError::Restarted(r)) => {
                let bucket_gone = self
                    .pipeline
                    .target
                    .s3()
                    .head_bucket()
                    .bucket(&self.pipeline.deployment.bucket)
                    .send()
                    .await
                    .is_err();
                report.check(
                    name,
                    true,
                    format!(
                        "session {} is now {}; the run's bucket {}",
                        r.before,
                        r.now,
                        if bucket_gone {
                            "is gone with it"
                        } else {
                            "is still there (state persisted)"
                        }
                    ),
                );
                self.event(TimelineKind::Fault, "restart detected (session changed)");
            }
            Err(other) => report.check(name, false, other.to_string()),
            Ok(()) => report.check(
                name,
                false,
                "the session id did not change: the restart went unnoticed",
            ),
        }
        self.not_made = plan[after..].iter().map(|p| p.index).collect();
        let _ = writeln!(
            progress,
            "  {} upload(s) not made: the stack went with LocalStack's state",
            self.not_made.len()
        );
        Ok(())
    }

    /// `Err` when LocalStack was restarted (or went down) under the run without the scenario
    /// asking for it.
    pub(super) async fn same_localstack(&self) -> Result<(), String> {
        self.check_watch().await.map_err(|e| e.to_string())
    }

    /// The session watch's verdict (always `Ok` on AWS, which has no watch).
    async fn check_watch(&self) -> Result<(), crate::localstack::session::WatchError> {
        self.pipeline.emulator_session().await
    }
}
