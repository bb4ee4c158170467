//! The scenario page's sections as HTML fragments, one function each, in page order: summary
//! table, a pointer to the benchmark's curves, latency histograms, chaos, problems, skipped,
//! divergences and the runs' seeds and replay commands. Every section is always present and says
//! "none" when it has nothing to show, so a reader can tell an empty section from a missing one.
//! The small builders (`section`, `none`, `figure`, `list`) are shared with the bench page.

use std::fmt::Write as _;

use super::escape::text;
use super::plot;
use crate::pipeline::{RunReport, Status};

pub(super) fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| v.to_string())
}

fn status(s: Status) -> (&'static str, &'static str) {
    match s {
        Status::Passed => ("passed", "passed"),
        Status::Failed => ("failed", "FAILED"),
        Status::Skipped => ("skipped", "skipped"),
    }
}

pub(super) fn section(id: &str, title: &str, body: &str) -> String {
    format!("<section id=\"{id}\">\n<h2>{title}</h2>\n{body}</section>\n")
}

pub(super) fn none(what: &str) -> String {
    format!("<p class=\"none\">{}</p>\n", text(what))
}

pub(super) fn figure(svg: &str, caption: &str) -> String {
    format!(
        "<figure class=\"plot\">{svg}<figcaption>{}</figcaption></figure>\n",
        text(caption)
    )
}

fn run_link(i: usize, r: &RunReport) -> String {
    format!("<a href=\"#run-{i}\">{}</a>", text(&r.scenario))
}

/// Per scenario: status, objects, deliveries and latencies.
pub fn summary(runs: &[RunReport]) -> String {
    if runs.is_empty() {
        return section(
            "summary",
            "Summary",
            &none("No scenario runs in this report."),
        );
    }
    let mut rows = String::new();
    for (i, r) in runs.iter().enumerate() {
        let (class, label) = status(r.status);
        let cells = match &r.judgement {
            Some(j) => {
                let fifo: usize = j.objects.iter().map(|o| o.fifo_messages).sum();
                let mails: usize = j.objects.iter().map(|o| o.emails).sum();
                let (f, e) = (&j.fifo_latency, &j.email_latency);
                [
                    fifo.to_string(),
                    mails.to_string(),
                    opt(f.p50_ms),
                    opt(f.p95_ms),
                    opt(f.max_ms),
                    opt(e.p50_ms),
                    opt(e.p95_ms),
                    opt(e.max_ms),
                ]
            }
            None => std::array::from_fn(|_| "–".to_owned()),
        };
        let _ = write!(
            rows,
            "<tr><td>{}</td><td class=\"{class}\">{label}</td><td class=\"n\">{}</td>",
            run_link(i, r),
            r.uploads.len()
        );
        for cell in cells {
            let _ = write!(rows, "<td class=\"n\">{cell}</td>");
        }
        let _ = writeln!(
            rows,
            "<td class=\"n\">{:.1}</td><td class=\"n\">{}</td></tr>",
            r.duration_ms as f64 / 1000.0,
            r.seed
        );
    }
    let passed = runs.iter().filter(|r| r.status == Status::Passed).count();
    let body = format!(
        "<p>{passed} of {} scenario(s) passed.</p>\n<div class=\"wide\"><table>\n<thead><tr>\
         <th rowspan=\"2\">scenario</th><th rowspan=\"2\">status</th><th rowspan=\"2\">objects</th>\
         <th rowspan=\"2\">FIFO</th><th rowspan=\"2\">emails</th><th colspan=\"3\">FIFO latency (ms)</th>\
         <th colspan=\"3\">email latency (ms)</th><th rowspan=\"2\">time (s)</th><th rowspan=\"2\">seed</th></tr>\n\
         <tr><th>p50</th><th>p95</th><th>max</th><th>p50</th><th>p95</th><th>max</th></tr></thead>\n\
         <tbody>\n{rows}</tbody></table></div>\n",
        runs.len()
    );
    section("summary", "Summary", &body)
}

/// The scenario page's throughput section: curves are drawn on the benchmark's own page.
pub fn throughput_elsewhere() -> String {
    section(
        "throughput",
        "Throughput",
        &none("No benchmark curve in this report (it comes from `harness bench`)."),
    )
}

/// FIFO and email latency histograms of every run with deliveries.
pub fn latency(runs: &[RunReport]) -> String {
    let mut body = String::new();
    for r in runs {
        let Some(j) = &r.judgement else { continue };
        let fifo: Vec<u64> = j.objects.iter().filter_map(|o| o.fifo_latency_ms).collect();
        let mail: Vec<u64> = j
            .objects
            .iter()
            .filter_map(|o| o.email_latency_ms)
            .collect();
        if fifo.is_empty() && mail.is_empty() {
            continue;
        }
        let _ = writeln!(body, "<h3>{}</h3>\n<div class=\"pair\">", text(&r.scenario));
        for (channel, values, s) in [
            ("FIFO", &fifo, &j.fifo_latency),
            ("email", &mail, &j.email_latency),
        ] {
            let title = format!("{}: upload to {channel}", r.scenario);
            let caption = format!("{channel}: {} object(s) with a delivery", values.len());
            body.push_str(&figure(
                &plot::histogram(&title, values, s.p50_ms, s.p95_ms),
                &caption,
            ));
        }
        body.push_str("</div>\n");
    }
    if body.is_empty() {
        body = none("No deliveries, so no latencies.");
    }
    section("latency", "Latency", &body)
}

/// Fault counts and the timeline of every chaos run; says so when none was a chaos run.
pub fn chaos(runs: &[RunReport]) -> String {
    let mut body = String::new();
    for r in runs {
        let Some(c) = &r.chaos else { continue };
        let _ = writeln!(body, "<h3>{}</h3>", text(&r.scenario));
        if c.faults.is_empty() {
            body.push_str(&none("This scenario declares no faults."));
        } else {
            body.push_str(
                "<table><thead><tr><th>fault</th><th>injected</th></tr></thead><tbody>\n",
            );
            for f in &c.faults {
                let _ = writeln!(
                    body,
                    "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
                    text(&f.fault),
                    f.injected
                );
            }
            body.push_str("</tbody></table>\n");
        }
        if !c.accounted.is_empty() {
            body.push_str("<p>Findings the faults explain (excused):</p>\n");
            body.push_str(&list(&c.accounted));
        }
        if c.timeline.is_empty() {
            body.push_str(&none("The timeline is empty."));
        } else {
            let caption = format!("{}: {} timeline events", r.scenario, c.timeline.len());
            body.push_str(&figure(&plot::timeline(c), &caption));
        }
    }
    if body.is_empty() {
        body = none("None: no run in this report injected faults (no chaos scenario).");
    }
    section("chaos", "Chaos", &body)
}

pub(super) fn list(items: &[String]) -> String {
    let mut out = String::from("<ul>\n");
    for item in items {
        let _ = writeln!(out, "<li>{}</li>", text(item));
    }
    out.push_str("</ul>\n");
    out
}

/// Errors, failed checks and violations of every failed run, with its replay command.
pub fn problems(runs: &[RunReport]) -> String {
    let mut body = String::new();
    for (i, r) in runs.iter().enumerate() {
        let lines = r.failure_lines();
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(
            body,
            "<h3>{} ({} problem(s))</h3>\n<p>Replay: <code>{}</code></p>",
            run_link(i, r),
            lines.len(),
            text(&r.replay)
        );
        body.push_str(&list(&lines));
    }
    if body.is_empty() {
        body = none("None: no errors, failed checks or violations.");
    }
    section("problems", "Errors and violations", &body)
}

/// Skipped scenarios and the checks that could not be made, each with its reason.
pub fn skipped(runs: &[RunReport]) -> String {
    let mut body = String::new();
    let scenarios: Vec<String> = runs
        .iter()
        .filter(|r| r.status == Status::Skipped)
        .map(|r| {
            format!(
                "{}: {}",
                r.scenario,
                r.skipped_reason.as_deref().unwrap_or("(no reason given)")
            )
        })
        .collect();
    body.push_str("<h3>Skipped scenarios</h3>\n");
    if scenarios.is_empty() {
        body.push_str(&none("None."));
    } else {
        body.push_str(&list(&scenarios));
    }
    let checks: Vec<String> = runs
        .iter()
        .flat_map(|r| {
            let skipped = r.judgement.as_ref().map_or(&[][..], |j| &j.skipped[..]);
            skipped.iter().map(move |s| format!("{}: {s}", r.scenario))
        })
        .collect();
    body.push_str("<h3>Skipped checks</h3>\n");
    if checks.is_empty() {
        body.push_str(&none("None."));
    } else {
        body.push_str(&list(&checks));
    }
    section("skipped", "Skipped", &body)
}

/// Where the target behaved unlike AWS.
pub fn divergences(runs: &[RunReport]) -> String {
    let all: Vec<String> = runs
        .iter()
        .flat_map(|r| {
            r.divergences
                .iter()
                .map(move |d| format!("{}: {d}", r.scenario))
        })
        .collect();
    let body = if all.is_empty() {
        none("None.")
    } else {
        list(&all)
    };
    section("divergences", "Divergences from AWS", &body)
}

/// Every run's identity (target, seed, run id, replay command) and its checks.
pub fn runs(runs: &[RunReport]) -> String {
    let mut body = String::new();
    for (i, r) in runs.iter().enumerate() {
        let (class, label) = status(r.status);
        let _ = writeln!(
            body,
            "<article id=\"run-{i}\"><h3>{} <span class=\"{class}\">{label}</span></h3>\n\
             <p>{}</p>\n<dl><dt>target</dt><dd>{}</dd><dt>seed</dt><dd>{}</dd>\
             <dt>run id</dt><dd>{}</dd><dt>replay</dt><dd><code>{}</code></dd></dl>",
            text(&r.scenario),
            text(&r.description),
            text(&r.target),
            r.seed,
            text(&r.run_id),
            text(&r.replay)
        );
        if !r.checks.is_empty() {
            body.push_str("<table><thead><tr><th>check</th><th>held</th><th>detail</th></tr></thead><tbody>\n");
            for check in &r.checks {
                let (class, held) = if check.ok {
                    ("passed", "yes")
                } else {
                    ("failed", "NO")
                };
                let _ = writeln!(
                    body,
                    "<tr><td>{}</td><td class=\"{class}\">{held}</td><td>{}</td></tr>",
                    text(&check.name),
                    text(&check.detail)
                );
            }
            body.push_str("</tbody></table>\n");
        }
        body.push_str("</article>\n");
    }
    if body.is_empty() {
        body = none("No runs.");
    }
    section("runs", "Runs: seeds and replay commands", &body)
}
