//! Runs a chaos scenario on a deployed stack: uploads the seeded workload in segments cut at
//! the fault windows (opening and closing each platform fault between segments), retries the
//! uploads a fault refused, redelivers events, collects everything, judges it with the oracle,
//! accounts for the faults, and writes the chaos summary into the report.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::deploy::Deployment;
use crate::mailbox::Mailbox;
use crate::oracle::{self, MailReceived, Uploaded};
use crate::runner::collect::{self, Collected, Sources, Wanted};
use crate::runner::{RunReport, upload};
use crate::scenario::Scenario;
use crate::target::{Target, TargetKind};
use crate::workload::{self, PlannedUpload};

use super::ChaosSetup;
use super::invariants::{self, Excused};
use super::platform::{self, Opened};
use super::redeliver;
use super::report::{ChaosSummary, FaultCount, TimelineEvent, TimelineKind};
use super::spec::FaultSpec;

/// How long a throttle window stays closed after its uploads, so Lambda tries (and is refused)
/// while it lasts. A fault's duration, not a readiness wait.
const THROTTLE_HOLD: Duration = Duration::from_secs(3);
/// After the window's emails arrived, how long the subscription stays removed so the FIFO
/// publish that follows each email (milliseconds later) falls inside the window too.
const UNSUBSCRIBED_HOLD: Duration = Duration::from_secs(2);
/// How long the window's emails may take before the window closes anyway.
const WINDOW_MAIL_DEADLINE: Duration = Duration::from_secs(60);

/// Where the run stands while faults come and go.
struct Run<'a, M> {
    target: &'a Target,
    deployment: &'a Deployment,
    mailbox: &'a mut M,
    epoch: Instant,
    timeline: Vec<TimelineEvent>,
    counts: Vec<u64>,
    uploads: Vec<Uploaded>,
    /// Uploads a fault refused, with the error, to retry after their window.
    refused: Vec<(PlannedUpload, String)>,
    /// Mails read while waiting on a window (the mailbox returns each mail once).
    early_mails: Vec<MailReceived>,
    excused: Excused,
    /// Keys S3 accepted while the KMS key was disabled (AWS refuses them).
    accepted_with_key_disabled: Vec<String>,
}

/// Runs `scenario`'s workload with its faults; every finding goes into `report`.
#[allow(clippy::too_many_arguments)]
pub async fn run<M: Mailbox>(
    target: &Target,
    scenario: &Scenario,
    seed: u64,
    deployment: &Deployment,
    mailbox: &mut M,
    setup: &ChaosSetup,
    report: &mut RunReport,
    progress: &mut (dyn std::io::Write + Send),
) {
    let plan = workload::plan(&scenario.workload, seed, &format!("{}-", deployment.run_id));
    let mut run = Run {
        target,
        deployment,
        mailbox,
        epoch: setup.epoch,
        timeline: Vec::new(),
        counts: vec![0; scenario.chaos.len()],
        uploads: Vec::new(),
        refused: Vec::new(),
        early_mails: Vec::new(),
        excused: Excused::default(),
        accepted_with_key_disabled: Vec::new(),
    };
    let _ = writeln!(
        progress,
        "  chaos: {} fault(s), {} uploads",
        scenario.chaos.len(),
        plan.len()
    );
    if let Err(e) = run.upload_with_windows(scenario, &plan, progress).await {
        report.errors.push(e);
    }
    key_disabled_outcome(target, &run.accepted_with_key_disabled, report);
    let failures = scenario.expect.failures;
    let collected = run.collect_all(scenario, failures, progress).await;
    let mut collected = match collected {
        Ok(c) => c,
        Err(e) => {
            report.errors.push(format!("collect: {e}"));
            report.uploads = run.uploads.clone();
            report.chaos = Some(run.finish(scenario, setup, report));
            return;
        }
    };
    let copies = scenario.chaos.iter().find_map(|f| match f {
        FaultSpec::RedeliverEvents { copies } => Some(*copies),
        _ => None,
    });
    if let Some(copies) = copies
        && let Err(e) = run
            .redeliver(scenario, seed, copies, &mut collected, progress)
            .await
    {
        report.errors.push(format!("redelivery: {e}"));
    }
    crate::runner::check_encryption_at_rest(target, deployment, &run.uploads, report).await;
    let expect = crate::runner::scenario_expect(target, scenario, deployment);
    let mut judgement = oracle::judge(
        &expect,
        &run.uploads,
        &collected.fifo,
        &collected.mails,
        &collected.failures,
    );
    let accounting = invariants::account(&mut judgement, &run.uploads, &run.excused);
    for (name, ok, detail) in accounting.checks {
        report.check(name, ok, detail);
    }
    if let Some(bound) = scenario.expect.max_latency_ms {
        let worst = judgement.fifo_latency.max_ms.unwrap_or(0);
        report.check(
            format!("every FIFO delivery within the retry policy's bound ({bound} ms)"),
            worst <= bound,
            format!("slowest {worst} ms"),
        );
    }
    run.name_violations(scenario, setup, &judgement, seed, report);
    run.timeline.extend(deliveries(&collected));
    report.uploads = run.uploads.clone();
    report.judgement = Some(judgement);
    let mut summary = run.finish(scenario, setup, report);
    summary.accounted = accounting.accounted;
    report.chaos = Some(summary);
}

impl<M: Mailbox> Run<'_, M> {
    fn at(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn event(&mut self, kind: TimelineKind, label: impl Into<String>) {
        let at_ms = self.at();
        self.timeline.push(TimelineEvent {
            at_ms,
            kind,
            label: label.into(),
        });
    }

    /// Uploads `plan` in segments cut at every window edge, opening and closing the faults.
    async fn upload_with_windows(
        &mut self,
        scenario: &Scenario,
        plan: &[PlannedUpload],
        progress: &mut (dyn std::io::Write + Send),
    ) -> Result<(), String> {
        let windows: Vec<(usize, &FaultSpec, std::ops::Range<usize>)> = scenario
            .chaos
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.window().map(|w| (i, f, w)))
            .collect();
        let mut cuts: BTreeSet<usize> = [0, plan.len()].into();
        for (_, _, w) in &windows {
            cuts.extend([w.start, w.end]);
        }
        let cuts: Vec<usize> = cuts.into_iter().collect();
        let mut opened: Vec<(usize, Opened)> = Vec::new();
        for pair in cuts.windows(2) {
            let (from, to) = (pair[0], pair[1]);
            for (i, fault, w) in &windows {
                if w.start == from {
                    let (handle, what) =
                        platform::open(self.target, self.deployment, fault).await?;
                    let _ = writeln!(progress, "  fault opened: {what}");
                    self.counts[*i] += 1;
                    self.event(TimelineKind::Fault, format!("opened: {what}"));
                    if matches!(fault, FaultSpec::RemoveFifoSubscription { .. }) {
                        self.excused.lost.extend(w.clone());
                    }
                    opened.push((*i, handle));
                }
            }
            let refusing = windows
                .iter()
                .any(|(_, f, w)| matches!(f, FaultSpec::DisableKmsKey { .. }) && w.contains(&from));
            self.upload_segment(&plan[from..to], scenario.workload.concurrency, refusing)
                .await?;
            for (i, fault, w) in &windows {
                if w.end != to {
                    continue;
                }
                self.hold(fault).await?;
                let Some(pos) = opened.iter().position(|(j, _)| j == i) else {
                    continue;
                };
                let (_, handle) = opened.remove(pos);
                let what = platform::close(self.target, self.deployment, &handle).await?;
                let _ = writeln!(progress, "  fault closed: {what}");
                self.event(TimelineKind::Fault, format!("closed: {what}"));
            }
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
        let s3 = self.target.s3();
        if !refusing {
            let done = upload::upload_all(
                &s3,
                &self.deployment.bucket,
                segment,
                concurrency,
                self.epoch,
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
                &self.deployment.bucket,
                std::slice::from_ref(planned),
                1,
                self.epoch,
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

    /// What a window waits for before it closes (see the constants).
    async fn hold(&mut self, fault: &FaultSpec) -> Result<(), String> {
        match fault {
            FaultSpec::ThrottleFunction { .. } => tokio::time::sleep(THROTTLE_HOLD).await,
            FaultSpec::RemoveFifoSubscription { .. } => {
                let started = Instant::now();
                while self.early_mails.len() < self.uploads.len()
                    && started.elapsed() < WINDOW_MAIL_DEADLINE
                {
                    let mails = self.mailbox.poll(self.epoch).await?;
                    let email = &self.deployment.email_address;
                    self.early_mails.extend(
                        mails
                            .into_iter()
                            .filter(|m| m.to.iter().any(|t| t == email)),
                    );
                    if self.early_mails.len() < self.uploads.len() {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                tokio::time::sleep(UNSUBSCRIBED_HOLD).await;
            }
            _ => {}
        }
        Ok(())
    }

    async fn collect_all(
        &mut self,
        scenario: &Scenario,
        failures: usize,
        progress: &mut (dyn std::io::Write + Send),
    ) -> Result<Collected, String> {
        let deadline = Duration::from_secs(scenario.expect.delivery_deadline_s);
        let _ = writeln!(
            progress,
            "  collecting deliveries (up to {} s)",
            deadline.as_secs()
        );
        let wanted = Wanted {
            fifo: self.uploads.len().saturating_sub(self.excused.lost.len()),
            mails: self.uploads.len().saturating_sub(self.early_mails.len()),
            failures,
        };
        let mut collected = self.collect(wanted, deadline).await?;
        collected
            .mails
            .splice(0..0, std::mem::take(&mut self.early_mails));
        if collected.timed_out {
            return Err(format!(
                "not everything arrived within {} s: {} of {} FIFO messages, {} of {} emails",
                deadline.as_secs(),
                collected.fifo.len(),
                wanted.fifo,
                collected.mails.len(),
                self.uploads.len()
            ));
        }
        Ok(collected)
    }

    async fn collect(&mut self, wanted: Wanted, deadline: Duration) -> Result<Collected, String> {
        let sources = Sources {
            queue_url: &self.deployment.queue_url,
            failure_queue_url: &self.deployment.failure_queue_url,
            email: &self.deployment.email_address,
        };
        collect::collect(
            &self.target.sqs(),
            sources,
            self.mailbox,
            wanted,
            self.epoch,
            deadline,
        )
        .await
    }

    /// Invokes the function again with every delivered event, `copies` times, shuffled, and
    /// collects what that produced (expected: emails again, no FIFO message).
    async fn redeliver(
        &mut self,
        scenario: &Scenario,
        seed: u64,
        copies: usize,
        collected: &mut Collected,
        progress: &mut (dyn std::io::Write + Send),
    ) -> Result<(), String> {
        let records: Vec<serde_json::Value> = collected
            .fifo
            .iter()
            .filter_map(|m| redeliver::record_from_message(&m.body))
            .collect();
        let events = redeliver::plan_events(&records, copies, seed);
        let _ = writeln!(
            progress,
            "  redelivering {} record(s) x{copies} in {} event(s)",
            records.len(),
            events.len()
        );
        let index = scenario
            .chaos
            .iter()
            .position(|f| matches!(f, FaultSpec::RedeliverEvents { .. }))
            .unwrap_or(0);
        let sent = redeliver::invoke_all(
            &self.target.lambda(),
            &self.deployment.function_name,
            &events,
        )
        .await?;
        self.counts[index] += sent as u64;
        self.event(
            TimelineKind::Fault,
            format!("{sent} redelivered event(s) invoked"),
        );
        // Every redelivered object mails once more per copy.
        let first: Vec<usize> = oracle_owners(&self.uploads, collected);
        for u in first {
            self.excused.emails.insert(u, 1 + copies);
        }
        let wanted = Wanted {
            fifo: 0,
            mails: records.len() * copies,
            failures: 0,
        };
        let deadline = Duration::from_secs(scenario.expect.delivery_deadline_s);
        let more = self.collect(wanted, deadline).await?;
        if more.mails.len() < wanted.mails {
            return Err(format!(
                "{} of {} redelivery emails arrived within {} s",
                more.mails.len(),
                wanted.mails,
                deadline.as_secs()
            ));
        }
        collected.fifo.extend(more.fifo);
        collected.mails.extend(more.mails);
        collected.failures.extend(more.failures);
        Ok(())
    }

    /// Names every remaining violation with the faults that touched its object and the seed.
    fn name_violations(
        &self,
        scenario: &Scenario,
        setup: &ChaosSetup,
        judgement: &oracle::Judgement,
        seed: u64,
        report: &mut RunReport,
    ) {
        let injections = setup.injections();
        for v in &judgement.violations {
            for index in v.objects() {
                let key = self
                    .uploads
                    .iter()
                    .find(|u| u.index == index)
                    .map(|u| u.key.as_str())
                    .unwrap_or("?");
                let mut active: Vec<String> = injections
                    .iter()
                    .filter(|i| i.request.contains(key))
                    .map(|i| format!("{} at {} ms", scenario.chaos[i.rule], i.at_ms))
                    .collect();
                let redelivered = self.excused.emails.contains_key(&index);
                active.extend(
                    scenario
                        .chaos
                        .iter()
                        .filter(|f| {
                            f.window().is_some_and(|w| w.contains(&index))
                                || (redelivered && matches!(f, FaultSpec::RedeliverEvents { .. }))
                        })
                        .map(ToString::to_string),
                );
                if active.is_empty() {
                    active.push("no fault touched it directly".into());
                }
                report
                    .errors
                    .push(format!("{v}; faults: {}; seed {seed}", active.join(", ")));
            }
        }
    }

    /// Fault counts (the proxy's injections included) and the timeline, in time order.
    fn finish(
        &mut self,
        scenario: &Scenario,
        setup: &ChaosSetup,
        report: &mut RunReport,
    ) -> ChaosSummary {
        for injection in setup.injections() {
            self.counts[injection.rule] += 1;
            let mut label = format!("{} {}", injection.action.as_str(), injection.request);
            if !injection.detail.is_empty() {
                label.push_str(&format!(" ({})", injection.detail));
            }
            self.timeline.push(TimelineEvent {
                at_ms: injection.at_ms,
                kind: TimelineKind::Fault,
                label,
            });
        }
        self.timeline.sort_by_key(|e| (e.at_ms, e.kind));
        let faults: Vec<FaultCount> = scenario
            .chaos
            .iter()
            .zip(&self.counts)
            .map(|(f, &injected)| FaultCount {
                fault: f.to_string(),
                injected,
            })
            .collect();
        for f in &faults {
            if f.injected == 0 {
                report.check(
                    format!("fault `{}` was injected", f.fault),
                    false,
                    "it never fired: the scenario proved nothing about it (raise probability or files)",
                );
            }
        }
        ChaosSummary {
            faults,
            timeline: std::mem::take(&mut self.timeline),
            accounted: Vec::new(),
        }
    }
}

/// What uploads S3 accepted with the KMS key disabled mean on a target.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyDisabledFinding {
    /// AWS must refuse them (`KMS.DisabledException`): a failed check.
    Failed(String),
    /// LocalStack does not check a key's state on PutObject: a divergence, and the window then
    /// proves only that the pipeline survives the key's disable and enable.
    Divergence(String),
}

/// Judges the uploads accepted while the KMS key was disabled (none: nothing to say). Pure.
fn key_disabled_finding(kind: TargetKind, accepted: &[String]) -> Option<KeyDisabledFinding> {
    if accepted.is_empty() {
        return None;
    }
    let what = format!(
        "{} upload(s) accepted with the KMS key disabled: {}",
        accepted.len(),
        accepted.join(", ")
    );
    Some(if kind == TargetKind::Aws {
        KeyDisabledFinding::Failed(what)
    } else {
        KeyDisabledFinding::Divergence(format!(
            "{what} (LocalStack does not check a key's state on PutObject; AWS refuses with \
             KMS.DisabledException, and the harness uploads the refused files again once the key \
             is enabled)"
        ))
    })
}

fn key_disabled_outcome(target: &Target, accepted: &[String], report: &mut RunReport) {
    match key_disabled_finding(target.kind, accepted) {
        Some(KeyDisabledFinding::Failed(what)) => {
            report.check("uploads with the KMS key disabled are refused", false, what);
        }
        Some(KeyDisabledFinding::Divergence(what)) => report.divergences.push(what),
        None => {}
    }
}

/// The uploads that got a FIFO message (their events are the ones redelivered).
fn oracle_owners(uploads: &[Uploaded], collected: &Collected) -> Vec<usize> {
    let keys: BTreeSet<(String, Option<String>)> = collected
        .fifo
        .iter()
        .filter_map(|m| {
            let v: serde_json::Value = serde_json::from_str(&m.body).ok()?;
            Some((
                v.get("key")?.as_str()?.to_owned(),
                v.get("version_id")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
            ))
        })
        .collect();
    uploads
        .iter()
        .filter(|u| keys.contains(&(u.key.clone(), u.version_id.clone())))
        .map(|u| u.index)
        .collect()
}

fn deliveries(collected: &Collected) -> Vec<TimelineEvent> {
    let fifo = collected.fifo.iter().map(|m| TimelineEvent {
        at_ms: m.at_ms,
        kind: TimelineKind::Delivery,
        label: serde_json::from_str::<serde_json::Value>(&m.body)
            .ok()
            .and_then(|v| v.get("key")?.as_str().map(str::to_owned))
            .unwrap_or_else(|| "FIFO message".into()),
    });
    let mails = collected.mails.iter().map(|m| TimelineEvent {
        at_ms: m.at_ms,
        kind: TimelineKind::Email,
        label: m.subject.clone(),
    });
    let failures = collected.failures.iter().map(|f| TimelineEvent {
        at_ms: f.at_ms,
        kind: TimelineKind::Failure,
        label: f.body.chars().take(120).collect(),
    });
    fifo.chain(mails).chain(failures).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_accepted_with_the_key_disabled_fail_on_aws() {
        let accepted = ["a.txt".to_owned()];
        let Some(KeyDisabledFinding::Failed(what)) =
            key_disabled_finding(TargetKind::Aws, &accepted)
        else {
            panic!("AWS accepting an upload with a disabled key must fail the run");
        };
        assert!(
            what.contains("1 upload(s)") && what.contains("a.txt"),
            "{what}"
        );
    }

    #[test]
    fn uploads_accepted_with_the_key_disabled_are_a_divergence_on_localstack() {
        let accepted = ["a.txt".to_owned(), "b c.txt".to_owned()];
        for kind in [TargetKind::Embedded, TargetKind::Localstack] {
            let Some(KeyDisabledFinding::Divergence(what)) = key_disabled_finding(kind, &accepted)
            else {
                panic!("{kind:?}: LocalStack's gap must be reported as a divergence");
            };
            assert!(what.contains("2 upload(s)") && what.contains("KMS.DisabledException"));
        }
    }

    #[test]
    fn no_upload_accepted_with_the_key_disabled_says_nothing() {
        assert_eq!(key_disabled_finding(TargetKind::Aws, &[]), None);
    }
}
