//! Runs a chaos scenario on a deployed stack: uploads the seeded workload with its faults
//! ([`super::segments`]), collects everything and redelivers events ([`super::collection`]),
//! judges it with the oracle, accounts for the faults ([`super::invariants`]), names what is
//! left with the faults and the seed, and writes the chaos summary into the report.

use crate::oracle::{self, Uploaded};
use crate::pipeline::{self, Collected, Finding, RunReport};
use crate::scenario::Scenario;
use crate::workload::{self, PlannedUpload};

use super::ChaosSetup;
use super::collection::deliveries;
use super::findings::key_disabled_outcome;
use super::invariants::{self, Excused};
use super::report::{ChaosSummary, FaultCount, TimelineEvent, TimelineKind};
use super::spec::FaultSpec;

/// Where progress lines go.
pub(super) type Progress<'p> = &'p mut (dyn std::io::Write + Send);

/// Where the run stands while faults come and go.
pub(super) struct Run<'a> {
    /// The deployed stack being exercised: target, deployment, mailbox, clock, session watch.
    pub(super) pipeline: pipeline::Run<'a>,
    pub(super) timeline: Vec<TimelineEvent>,
    /// Per fault of the scenario, how often it was injected.
    pub(super) counts: Vec<u64>,
    pub(super) uploads: Vec<Uploaded>,
    /// Uploads a fault refused, with the error, to retry after their window.
    pub(super) refused: Vec<(PlannedUpload, String)>,
    /// Deliveries read before the end (while the pipeline was brought to rest before a fault).
    pub(super) early: Collected,
    pub(super) excused: Excused,
    /// Keys S3 accepted while the KMS key was disabled (AWS refuses them).
    pub(super) accepted_with_key_disabled: Vec<String>,
    /// Planned uploads never made because LocalStack was restarted before them.
    pub(super) not_made: Vec<usize>,
}

/// Runs `scenario`'s workload with its faults on the deployed stack of `run`; every finding
/// goes into `report`.
pub async fn run(
    run: pipeline::Run<'_>,
    scenario: &Scenario,
    seed: u64,
    setup: &ChaosSetup,
    report: &mut RunReport,
    progress: Progress<'_>,
) {
    let plan = workload::plan(
        &scenario.workload,
        seed,
        &pipeline::key_prefix(run.deployment),
    );
    let mut run = Run {
        pipeline: run,
        timeline: Vec::new(),
        counts: vec![0; scenario.chaos.len()],
        uploads: Vec::new(),
        refused: Vec::new(),
        early: Collected::default(),
        excused: Excused::default(),
        accepted_with_key_disabled: Vec::new(),
        not_made: Vec::new(),
    };
    let _ = writeln!(
        progress,
        "  chaos: {} fault(s), {} uploads",
        scenario.chaos.len(),
        plan.len()
    );
    let concurrency = scenario.workload.concurrency;
    if let Err(e) = run
        .upload_with_faults(&scenario.chaos, &plan, concurrency, report, progress)
        .await
    {
        report.fail(Finding::step("chaos", e));
    }
    key_disabled_outcome(run.pipeline.target, &run.accepted_with_key_disabled, report);
    let restarted = !run.not_made.is_empty();
    let collected = run.collect_all(scenario, progress).await;
    // An unasked-for restart explains a shortfall better than the shortfall itself.
    let unasked_restart = if restarted {
        None
    } else {
        run.pipeline.same_emulator().await.err()
    };
    let mut collected = match unasked_restart.map_or(collected, Err) {
        Ok(c) => c,
        Err(finding) => {
            report.fail(finding);
            report.uploads = run.uploads.clone();
            report.chaos = Some(run.finish(scenario, setup, report));
            return;
        }
    };
    if collected.timed_out {
        // Judged all the same, so the violations name what is missing.
        report.fail(Finding::Undelivered {
            deadline_s: scenario.expect.delivery_deadline_s,
            fifo: collected.fifo.len(),
            mails: collected.mails.len(),
            failures: collected.failures.len(),
            uploads: run.uploads.len(),
        });
    }
    let copies = scenario.chaos.iter().find_map(|f| match f {
        FaultSpec::RedeliverEvents { copies } => Some(*copies),
        _ => None,
    });
    if let Some(copies) = copies
        && !collected.timed_out
        && let Err(e) = run
            .redeliver(scenario, seed, copies, &mut collected, progress)
            .await
    {
        report.fail(Finding::Redelivery(e));
    }
    if !restarted {
        // After a restart this was done before it (the bucket is gone now).
        let at_rest = run.pipeline.check_encryption_at_rest(&run.uploads).await;
        report.checks.push(at_rest);
    }
    let expect = run.pipeline.expect(scenario);
    let mut judgement = oracle::judge(
        &expect,
        &run.uploads,
        &collected.fifo,
        &collected.mails,
        &collected.failures,
    );
    if restarted {
        judgement.skipped.push(not_made_note(&run.not_made));
    }
    let accounting = invariants::account(
        &mut judgement,
        &run.uploads,
        &collected.failures,
        &run.excused,
    );
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

/// What the report says of the uploads a restart prevented (1-based, as users count). Pure.
fn not_made_note(not_made: &[usize]) -> String {
    let (first, last) = (
        not_made.first().map_or(0, |i| i + 1),
        not_made.last().map_or(0, |i| i + 1),
    );
    format!(
        "uploads #{first}-#{last} ({} file(s)) not made: LocalStack was restarted before them and \
         its state, the run's stack with it, is gone; their pipeline is not proven by this run",
        not_made.len()
    )
}

impl Run<'_> {
    fn at(&self) -> u64 {
        self.pipeline.epoch.elapsed().as_millis() as u64
    }

    pub(super) fn event(&mut self, kind: TimelineKind, label: impl Into<String>) {
        let at_ms = self.at();
        self.timeline.push(TimelineEvent {
            at_ms,
            kind,
            label: label.into(),
        });
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
            if v.objects().is_empty() {
                report.fail(Finding::Violation {
                    violation: v.clone(),
                    faults: None,
                    seed,
                });
            }
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
                report.fail(Finding::Violation {
                    violation: v.clone(),
                    faults: Some(active),
                    seed,
                });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_a_restart_prevented_are_named_one_based_with_the_reason() {
        let note = not_made_note(&[3, 4, 5]);
        assert!(
            note.starts_with("uploads #4-#6 (3 file(s)) not made"),
            "{note}"
        );
        assert!(note.contains("LocalStack was restarted"), "{note}");
    }
}
