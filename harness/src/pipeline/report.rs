//! What a run reports: the typed [`RunReport`] (written as one JSON document per scenario by
//! the CLI, with JUnit XML and HTML beside it) and the short human summary table. A run passes
//! only when every expectation held.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use harness_core::chaos::report::ChaosSummary;

use super::finding::{Check, Finding};
use crate::mailbox::MailSetup;
use crate::oracle::{Judgement, Uploaded};
use crate::run_target::Target;
use crate::scenario::Scenario;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Passed,
    Failed,
    Skipped,
}

/// One scenario's run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub scenario: String,
    pub description: String,
    pub target: String,
    pub seed: u64,
    pub run_id: String,
    /// The command that replays this run exactly.
    pub replay: String,
    pub status: Status,
    pub skipped_reason: Option<String>,
    pub duration_ms: u64,
    pub uploads: Vec<Uploaded>,
    pub judgement: Option<Judgement>,
    /// Where the target is known to behave unlike AWS, named instead of hidden.
    pub divergences: Vec<String>,
    /// Checks the scenario made outside the oracle, with their outcome.
    pub checks: Vec<Check>,
    /// Anything that stopped the run from proving its point.
    pub errors: Vec<Finding>,
    /// Faults injected by a chaos scenario, with counts and a timeline; `None` without chaos.
    pub chaos: Option<ChaosSummary>,
}

impl RunReport {
    pub fn new(scenario: &Scenario, target: &Target, seed: u64, mail: &MailSetup) -> Self {
        Self {
            scenario: scenario.name.clone(),
            description: scenario.description.clone(),
            target: target.describe(),
            seed,
            run_id: String::new(),
            replay: super::replay::scenario(target, mail, &scenario.name, seed),
            status: Status::Failed,
            skipped_reason: None,
            duration_ms: 0,
            uploads: Vec::new(),
            judgement: None,
            divergences: Vec::new(),
            checks: Vec::new(),
            errors: Vec::new(),
            chaos: None,
        }
    }

    pub fn skip(&mut self, reason: String) {
        self.status = Status::Skipped;
        self.skipped_reason = Some(reason);
    }

    pub fn check(&mut self, name: impl Into<String>, ok: bool, detail: impl Into<String>) {
        self.checks.push(Check::new(name, ok, detail));
    }

    /// Records what stopped the run from proving its point.
    pub fn fail(&mut self, finding: Finding) {
        self.errors.push(finding);
    }

    /// Settles the status (unless skipped) from errors, checks and the judgement.
    pub fn finish(&mut self, took: Duration) {
        self.duration_ms = took.as_millis() as u64;
        if self.status == Status::Skipped && self.errors.is_empty() {
            return;
        }
        let judged_ok = self.judgement.as_ref().is_none_or(Judgement::passed);
        let checks_ok = self.checks.iter().all(|c| c.ok);
        self.status = if self.errors.is_empty() && judged_ok && checks_ok {
            Status::Passed
        } else {
            Status::Failed
        };
    }

    /// Every reason this run failed, one per line, each naming the seed's replay command.
    pub fn failure_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
        for c in self.checks.iter().filter(|c| !c.ok) {
            lines.push(format!("{}: {}", c.name, c.detail));
        }
        // A violation a finding already names (with its faults and seed) is listed once.
        let named: Vec<_> = self.errors.iter().filter_map(Finding::violation).collect();
        if let Some(judgement) = &self.judgement {
            let unnamed = judgement.violations.iter().filter(|v| !named.contains(v));
            lines.extend(unnamed.map(ToString::to_string));
        }
        lines
    }

    /// The failure message for a test runner: what went wrong and how to replay it.
    pub fn failure_message(&self) -> String {
        format!(
            "scenario {} failed (seed {}, run {}):\n  {}\nreplay: {}",
            self.scenario,
            self.seed,
            self.run_id,
            self.failure_lines().join("\n  "),
            self.replay
        )
    }
}

/// The human summary: one line per scenario with counts and latencies.
pub fn summary_table(reports: &[RunReport]) -> String {
    let mut out = format!(
        "{:<24} {:<8} {:>7} {:>6} {:>7} {:>9} {:>9} {:>9}\n",
        "scenario", "status", "objects", "fifo", "emails", "p50 ms", "p95 ms", "max ms"
    );
    for r in reports {
        let (fifo, mails, p50, p95, max) = match &r.judgement {
            Some(j) => (
                j.objects
                    .iter()
                    .map(|o| o.fifo_messages)
                    .sum::<usize>()
                    .to_string(),
                j.objects
                    .iter()
                    .map(|o| o.emails)
                    .sum::<usize>()
                    .to_string(),
                opt(j.fifo_latency.p50_ms),
                opt(j.fifo_latency.p95_ms),
                opt(j.fifo_latency.max_ms),
            ),
            None => ("-".into(), "-".into(), "-".into(), "-".into(), "-".into()),
        };
        let status = match r.status {
            Status::Passed => "passed",
            Status::Failed => "FAILED",
            Status::Skipped => "skipped",
        };
        let _ = writeln!(
            out,
            "{:<24} {:<8} {:>7} {:>6} {:>7} {:>9} {:>9} {:>9}",
            r.scenario,
            status,
            r.uploads.len(),
            fifo,
            mails,
            p50,
            p95,
            max
        );
    }
    out
}

fn opt(v: Option<u64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_with_one_violation(chaos: Option<ChaosSummary>) -> RunReport {
        let missing = crate::oracle::Violation::MissingFifoMessage {
            index: 0,
            key: "k".into(),
            version_id: None,
        };
        RunReport {
            scenario: "s".into(),
            description: String::new(),
            target: "embedded".into(),
            seed: 7,
            run_id: "r".into(),
            replay: String::new(),
            status: Status::Failed,
            skipped_reason: None,
            duration_ms: 0,
            uploads: Vec::new(),
            judgement: Some(Judgement {
                objects: Vec::new(),
                violations: vec![missing.clone()],
                skipped: Vec::new(),
                fifo_latency: crate::oracle::LatencySummary::of(std::iter::empty()),
                email_latency: crate::oracle::LatencySummary::of(std::iter::empty()),
            }),
            divergences: Vec::new(),
            checks: Vec::new(),
            errors: chaos
                .as_ref()
                .map(|_| {
                    vec![Finding::Violation {
                        violation: missing.clone(),
                        faults: Some(vec!["x".into()]),
                        seed: 7,
                    }]
                })
                .unwrap_or_default(),
            chaos,
        }
    }

    #[test]
    fn regression_chaos_violations_are_listed_once_with_their_faults() {
        let plain = report_with_one_violation(None);
        assert_eq!(plain.failure_lines().len(), 1);
        let chaos = report_with_one_violation(Some(Default::default()));
        let lines = chaos.failure_lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].ends_with("faults: x; seed 7"), "{lines:?}");
    }
}
