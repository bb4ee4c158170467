//! Collecting a chaos run's deliveries: what arrived while the run quiesced before fault edges
//! plus the rest at the end, and the redelivered events' own emails; then the timeline points
//! they make.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::oracle::Uploaded;
use crate::pipeline::{Collected, Finding, Wanted};
use crate::scenario::Scenario;

use super::driver::{Progress, Run};
use super::redeliver;
use super::report::{TimelineEvent, TimelineKind};
use super::spec::FaultSpec;

impl Run<'_> {
    /// Everything the run's uploads were to produce, the deliveries read early included.
    pub(super) async fn collect_all(
        &mut self,
        scenario: &Scenario,
        progress: Progress<'_>,
    ) -> Result<Collected, Finding> {
        if !self.not_made.is_empty() {
            // After a restart the queues are gone: what arrived before it is all there is.
            return Ok(std::mem::take(&mut self.early));
        }
        let deadline = Duration::from_secs(scenario.expect.delivery_deadline_s);
        let _ = writeln!(
            progress,
            "  collecting deliveries (up to {} s)",
            deadline.as_secs()
        );
        let wanted = self.still_wanted(scenario.expect.failures);
        let mut early = std::mem::take(&mut self.early);
        let collected = self.pipeline.collect(wanted, deadline).await?;
        early.timed_out = collected.timed_out;
        early.absorb(collected);
        Ok(early)
    }

    /// What is still to arrive from the uploads made so far, beyond the deliveries read early:
    /// a FIFO message (unless its subscription was removed on purpose) and an email each, and
    /// `expected_failures` on-failure records; an event a throttle window dropped stands in
    /// for both deliveries of its object, through its on-failure record.
    pub(super) fn still_wanted(&self, expected_failures: usize) -> Wanted {
        let count = |set: &BTreeSet<usize>| {
            self.uploads
                .iter()
                .filter(|u| set.contains(&u.index))
                .count()
        };
        remaining(
            self.uploads.len(),
            count(&self.excused.lost),
            count(&self.excused.throttled),
            &self.early,
            expected_failures,
        )
    }

    pub(super) async fn collect(
        &mut self,
        wanted: Wanted,
        deadline: Duration,
    ) -> Result<Collected, String> {
        self.pipeline
            .collect(wanted, deadline)
            .await
            .map_err(|finding| finding.to_string())
    }

    /// Invokes the function again with every delivered event, `copies` times, shuffled, and
    /// collects what that produced (expected: emails again, no FIFO message).
    pub(super) async fn redeliver(
        &mut self,
        scenario: &Scenario,
        seed: u64,
        copies: usize,
        collected: &mut Collected,
        progress: Progress<'_>,
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
            &self.pipeline.target.lambda(),
            &self.pipeline.deployment.function_name,
            &events,
        )
        .await?;
        self.counts[index] += sent as u64;
        self.event(
            TimelineKind::Fault,
            format!("{sent} redelivered event(s) invoked"),
        );
        // Every redelivered object mails once more per copy.
        for u in delivered_uploads(&self.uploads, collected) {
            self.excused.emails.insert(u, 1 + copies);
        }
        let wanted = Wanted {
            fifo: 0,
            mails: records.len() * copies,
            failures: 0,
            or_failed: 0,
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
        collected.absorb(more);
        Ok(())
    }
}

/// What `uploads` uploads still owe beyond `early`, `lost` of them without a FIFO message on
/// purpose and `throttled` of them possibly dropped, each then standing in with an on-failure
/// record for both its deliveries. Pure.
fn remaining(
    uploads: usize,
    lost: usize,
    throttled: usize,
    early: &Collected,
    expected_failures: usize,
) -> Wanted {
    let stood_in = early
        .failures
        .len()
        .saturating_sub(expected_failures)
        .min(throttled);
    Wanted {
        fifo: (uploads - lost).saturating_sub(early.fifo.len() + stood_in),
        mails: uploads.saturating_sub(early.mails.len() + stood_in),
        failures: expected_failures.saturating_sub(early.failures.len()),
        or_failed: throttled - stood_in,
    }
}

/// The uploads that got a FIFO message (their events are the ones redelivered).
fn delivered_uploads(uploads: &[Uploaded], collected: &Collected) -> Vec<usize> {
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

/// The timeline points of everything collected.
pub(super) fn deliveries(collected: &Collected) -> Vec<TimelineEvent> {
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
    fn what_remains_counts_early_deliveries_and_dropped_events_once() {
        // 6 uploads, 3 of them in a throttle window, all 3 dropped while it was open; the
        // first delivered before it.
        let w = remaining(6, 0, 3, &Collected::sized(1, 1, 3), 0);
        assert_eq!((w.fifo, w.mails, w.failures, w.or_failed), (2, 2, 0, 0));
        // Only one dropped so far: the other two may still deliver or be dropped.
        let w = remaining(6, 0, 3, &Collected::sized(1, 1, 1), 0);
        assert_eq!((w.fifo, w.mails, w.failures, w.or_failed), (4, 4, 0, 2));
        // An expected failure record is not a stand-in.
        let w = remaining(6, 0, 3, &Collected::sized(1, 1, 1), 1);
        assert_eq!((w.fifo, w.mails, w.failures, w.or_failed), (5, 5, 0, 3));
        // Messages lost with the subscription are not waited for.
        let w = remaining(6, 2, 0, &Collected::sized(0, 0, 0), 0);
        assert_eq!((w.fifo, w.mails, w.failures, w.or_failed), (4, 6, 0, 0));
    }
}
