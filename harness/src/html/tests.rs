//! Whole-page tests of the scenario page: every section present, empty inputs, escaping,
//! self-containment (of both pages), chaos.

use super::*;
use crate::chaos::{ChaosSummary, FaultCount, TimelineEvent, TimelineKind};
use crate::oracle::{Judgement, LatencySummary, ObjectResult, Uploaded, Violation};
use crate::pipeline::{Check, Finding, Status};

const NASTY: &str = "odd/<script>alert('x')</script> & \"q\" été 日本\u{1}.txt";

fn run(name: &str, status: Status, latencies: &[u64]) -> RunReport {
    let uploads: Vec<Uploaded> = latencies
        .iter()
        .enumerate()
        .map(|(i, _)| Uploaded {
            index: i,
            key: if i == 0 {
                NASTY.into()
            } else {
                format!("k{i}")
            },
            version_id: Some(format!("v{i}")),
            etag: format!("e{i}"),
            size: 10,
            at_ms: i as u64 * 10,
        })
        .collect();
    let objects: Vec<ObjectResult> = uploads
        .iter()
        .zip(latencies)
        .map(|(u, &ms)| ObjectResult {
            index: u.index,
            key: u.key.clone(),
            version_id: u.version_id.clone(),
            fifo_messages: 1,
            emails: 1,
            fifo_latency_ms: Some(ms),
            email_latency_ms: Some(ms + 20),
            ok: true,
        })
        .collect();
    RunReport {
        scenario: name.into(),
        description: format!("the {name} scenario"),
        target: "embedded LocalStack".into(),
        seed: 4242,
        run_id: "hxxltejrp5n".into(),
        replay: format!("harness run --scenario {name} --seed 4242"),
        status,
        skipped_reason: None,
        duration_ms: 12_345,
        judgement: Some(Judgement {
            fifo_latency: LatencySummary::of(latencies.iter().copied()),
            email_latency: LatencySummary::of(latencies.iter().map(|l| l + 20)),
            objects,
            violations: Vec::new(),
            skipped: vec!["overwrite order: LocalStack's sequencer is constant".into()],
        }),
        uploads,
        divergences: Vec::new(),
        checks: vec![Check::new("teardown leaves nothing", true, "0 resources")],
        errors: Vec::new(),
        chaos: None,
    }
}

fn failed_run() -> RunReport {
    let mut r = run("fifo-<bad>", Status::Failed, &[5, 7, 300]);
    if let Some(j) = r.judgement.as_mut() {
        j.violations.push(Violation::MissingEmail {
            index: 0,
            key: NASTY.into(),
            version_id: Some("v0".into()),
            etag: "e0".into(),
        });
    }
    r.errors.push(Finding::Upload(format!("{NASTY} failed")));
    r.divergences
        .push("LocalStack does not evaluate bucket policies".into());
    r
}

fn skipped_run() -> RunReport {
    let mut r = run("needs-mailbox", Status::Skipped, &[]);
    r.judgement = None;
    r.skipped_reason = Some("no mailbox on --target aws".into());
    r
}

fn chaos_run() -> RunReport {
    let mut r = run("chaos-throttle", Status::Passed, &[40, 80, 120, 900]);
    r.chaos = Some(ChaosSummary {
        faults: vec![FaultCount {
            fault: "sns Publish throttle (p=0.3, max 5)".into(),
            injected: 5,
        }],
        timeline: vec![
            event(10, TimelineKind::Upload, "k1"),
            event(15, TimelineKind::Fault, "sns Publish throttled"),
            event(60, TimelineKind::Delivery, "k1"),
            event(90, TimelineKind::Email, "k1"),
            event(1500, TimelineKind::Failure, "record 3"),
        ],
        accounted: vec!["a second email for k1: its event was redelivered".into()],
    });
    r
}

fn event(at_ms: u64, kind: TimelineKind, label: &str) -> TimelineEvent {
    TimelineEvent {
        at_ms,
        kind,
        label: label.into(),
    }
}

const SECTIONS: [&str; 8] = [
    "summary",
    "throughput",
    "latency",
    "chaos",
    "problems",
    "skipped",
    "divergences",
    "runs",
];

fn assert_sections(page: &str) {
    for id in SECTIONS {
        assert!(page.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
}

pub(super) fn plots(page: &str) -> usize {
    page.matches("<figure class=\"plot\"><svg").count()
}

#[test]
fn a_full_report_has_every_section_and_its_contents() {
    let runs = [
        run("default", Status::Passed, &[10, 12, 30, 55]),
        failed_run(),
        skipped_run(),
        chaos_run(),
    ];
    let page = render_runs(&runs);
    assert_sections(&page);
    // 3 runs with deliveries x 2 histograms, 1 timeline.
    assert_eq!(plots(&page), 7);
    assert!(page.contains("data-plots-expected=\"7\""));
    assert!(page.contains("2 of 4 scenario(s) passed."));
    for text in [
        "harness run --scenario default --seed 4242",
        "no mailbox on --target aws",
        "overwrite order: LocalStack&#39;s sequencer is constant",
        "LocalStack does not evaluate bucket policies",
        "sns Publish throttle (p=0.3, max 5)",
        "FAILED",
        "4242",
    ] {
        assert!(page.contains(text), "missing {text:?}");
    }
    assert!(!page.contains("no run in this report injected faults"));
}

#[test]
fn empty_inputs_still_give_every_section_saying_none() {
    let page = render_runs(&[]);
    assert_sections(&page);
    assert_eq!(plots(&page), 0);
    assert!(page.contains("data-plots-expected=\"0\""));
    assert!(page.contains("No scenario runs in this report."));
    assert!(page.contains("No benchmark curve in this report"));
    assert!(page.contains("seed(s): none"));
}

#[test]
fn a_report_without_chaos_has_no_timeline_but_says_none() {
    let page = render_runs(&[run("default", Status::Passed, &[10, 20])]);
    assert!(page.contains("None: no run in this report injected faults"));
    assert!(!page.contains("timeline events"));
    assert_eq!(plots(&page), 2);
}

#[test]
fn outside_text_is_escaped_everywhere() {
    let page = render_runs(&[failed_run()]);
    assert!(!page.contains("<script>alert"), "raw markup from a key");
    assert!(!page.contains("<bad>"));
    assert!(page.contains("fifo-&lt;bad&gt;"));
    assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp;"));
    assert!(page.contains("été 日本\\u{1}.txt"));
    assert!(!page.contains('\u{1}'));
    // The only script is the page's own.
    assert_eq!(page.matches("<script").count(), 1);
}

#[test]
fn the_page_is_self_contained() {
    let bench = render_bench(&super::bench_tests::bench_page());
    for page in [render_runs(&[chaos_run(), failed_run()]), bench] {
        for external in ["src=", "href=\"http", "url(", "@import", "<link"] {
            assert!(!page.contains(external), "{external}");
        }
        assert!(page.contains("<style>") && page.contains("data-plots"));
        assert_eq!(
            page.matches("<script").count(),
            1,
            "only the page's own script"
        );
    }
}

#[test]
fn chaos_runs_get_fault_counts_and_a_timeline() {
    let page = render_runs(&[chaos_run(), run("plain", Status::Passed, &[5])]);
    assert!(page.contains("<td>sns Publish throttle (p=0.3, max 5)</td><td class=\"n\">5</td>"));
    assert!(page.contains("chaos-throttle: 5 timeline events"));
    assert!(page.contains("a second email for k1: its event was redelivered"));
    // 2 runs x 2 histograms + 1 timeline.
    assert_eq!(plots(&page), 5);
}
