//! What a run reports: one JSON document per scenario, a JUnit XML file for CI systems, and a
//! short human summary table. A run passes only when every expectation held.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::oracle::{Judgement, Uploaded};
use crate::scenario::Scenario;
use crate::target::Target;

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
    pub checks: Vec<(String, bool, String)>,
    /// Anything that stopped the run from proving its point.
    pub errors: Vec<String>,
    /// Faults injected by a chaos scenario, with counts and a timeline; `None` without chaos.
    pub chaos: Option<crate::chaos::ChaosSummary>,
}

impl RunReport {
    pub fn new(scenario: &Scenario, target: &Target, seed: u64, mail: &super::MailSetup) -> Self {
        Self {
            scenario: scenario.name.clone(),
            description: scenario.description.clone(),
            target: target.describe(),
            seed,
            run_id: String::new(),
            replay: super::replay_command(&scenario.name, seed, target, mail),
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
        self.checks.push((name.into(), ok, detail.into()));
    }

    /// Settles the status (unless skipped) from errors, checks and the judgement.
    pub fn finish(&mut self, took: Duration) {
        self.duration_ms = took.as_millis() as u64;
        if self.status == Status::Skipped && self.errors.is_empty() {
            return;
        }
        let judged_ok = self.judgement.as_ref().is_none_or(Judgement::passed);
        let checks_ok = self.checks.iter().all(|(_, ok, _)| *ok);
        self.status = if self.errors.is_empty() && judged_ok && checks_ok {
            Status::Passed
        } else {
            Status::Failed
        };
    }

    /// Every reason this run failed, one per line, each naming the seed's replay command.
    pub fn failure_lines(&self) -> Vec<String> {
        let mut lines = self.errors.clone();
        for (name, ok, detail) in &self.checks {
            if !ok {
                lines.push(format!("{name}: {detail}"));
            }
        }
        // A chaos run already names each violation, with its faults and seed, in `errors`.
        if let Some(judgement) = self.judgement.as_ref().filter(|_| self.chaos.is_none()) {
            lines.extend(judgement.violations.iter().map(ToString::to_string));
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

/// Writes `<dir>/<scenario>.json` for each report, `<dir>/junit.xml` and the HTML report
/// `<dir>/report.html` ([`crate::html`]); returns the paths.
pub fn write_reports(dir: &Path, reports: &[RunReport]) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut paths = Vec::new();
    for report in reports {
        let path = dir.join(format!("{}.json", report.scenario));
        let text = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
        std::fs::write(&path, text)?;
        paths.push(path);
    }
    let junit = dir.join("junit.xml");
    std::fs::write(&junit, junit_xml(reports))?;
    paths.push(junit);
    let html = dir.join("report.html");
    std::fs::write(&html, crate::html::render_runs(reports))?;
    paths.push(html);
    Ok(paths)
}

/// JUnit XML: one test case per scenario, failures with every reason and the replay command.
pub fn junit_xml(reports: &[RunReport]) -> String {
    let failures = reports
        .iter()
        .filter(|r| r.status == Status::Failed)
        .count();
    let skipped = reports
        .iter()
        .filter(|r| r.status == Status::Skipped)
        .count();
    let total_s: f64 = reports.iter().map(|r| r.duration_ms as f64 / 1000.0).sum();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuite name=\"upload-pipeline scenarios\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{total_s:.3}\">",
        reports.len()
    );
    for r in reports {
        let _ = write!(
            xml,
            "  <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
            escape(&r.target),
            escape(&r.scenario),
            r.duration_ms as f64 / 1000.0
        );
        match r.status {
            Status::Passed => {}
            Status::Skipped => {
                let _ = write!(
                    xml,
                    "<skipped message=\"{}\"/>",
                    escape(r.skipped_reason.as_deref().unwrap_or(""))
                );
            }
            Status::Failed => {
                let _ = write!(
                    xml,
                    "<failure message=\"{}\">{}</failure>",
                    escape(&format!(
                        "seed {}: {} problem(s)",
                        r.seed,
                        r.failure_lines().len()
                    )),
                    escape(&r.failure_message())
                );
            }
        }
        xml.push_str("</testcase>\n");
    }
    xml.push_str("</testsuite>\n");
    xml
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&apos;".into(),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {
                format!("&#x{:x};", c as u32)
            }
            c => c.to_string(),
        })
        .collect()
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

    fn report_with_one_violation(chaos: Option<crate::chaos::ChaosSummary>) -> RunReport {
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
                .map(|_| vec![format!("{missing}; faults: x; seed 7")])
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

    #[test]
    fn xml_escaping_covers_markup_and_control_characters() {
        assert_eq!(escape("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&apos;&#x1;");
        assert_eq!(escape("line\nnext"), "line\nnext");
    }
}
