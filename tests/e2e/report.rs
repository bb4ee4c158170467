//! The HTML report in a real browser: a real scenario run on the shared LocalStack (`odd-keys`,
//! whose keys hold every awkward character), a chaos summary laid over that run's own uploads
//! and deliveries, and a synthetic bench curve are rendered into one page, which headless
//! Chromium loads. The page's own script proves every plot has a laid-out box
//! (`data-plots="N ok"`); the trial asserts on the dumped DOM and on a screenshot.
//!
//! Chromium is Debian's `chromium` (`ci/install-chromium` installs it); without it the trial
//! fails and says so, it never passes silently.

use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::chaos::{ChaosSummary, FaultCount, TimelineEvent, TimelineKind};
use harness::html::{Curve, CurvePoint, Knee};
use harness::runner::{self, RunReport, Status};
use harness::scenario;
use libtest_mimic::{Failed, Trial};

use crate::{scenarios, shared};

const CHROMIUM: &str = "/usr/bin/chromium";
const SCENARIO: &str = "odd-keys";

pub fn trials() -> Vec<Trial> {
    vec![Trial::test(
        "report::html_renders_in_chromium",
        html_renders_in_chromium,
    )]
}

fn html_renders_in_chromium() -> Result<(), Failed> {
    if !Path::new(CHROMIUM).exists() {
        return Err(format!(
            "{CHROMIUM} is missing: run `ci/install-chromium` (installs Debian's chromium) \
             and re-run this trial"
        )
        .into());
    }
    let shared = shared::get()?;
    let scenarios = scenario::load_dir(&scenario::scenarios_dir()).map_err(|e| e.to_string())?;
    let chosen = scenarios
        .iter()
        .find(|s| s.name == SCENARIO)
        .ok_or_else(|| format!("no scenario `{SCENARIO}` in scenarios/"))?;
    let mut log = Vec::new();
    let real = shared.runtime.block_on(runner::run_scenario(
        shared.target(),
        chosen,
        scenarios::seed(),
        &shared.bootstrap_zip,
        "alerts@example.com",
        &runner::MailSetup::Auto,
        &mut log,
    ));
    if real.status != Status::Passed {
        return Err(format!("the run to report on failed: {}", real.failure_message()).into());
    }
    let chaos = with_chaos(&real);
    let runs = [real, chaos];
    let page = harness::html::render_bench(&[curve()], &runs);
    let expected = page.matches("<figure class=\"plot\">").count();
    // 2 runs x 2 histograms, 1 curve, 1 timeline.
    if expected != 6 {
        return Err(format!("the page has {expected} plots, expected 6").into());
    }

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-trial");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let html = dir.join("report.html");
    std::fs::write(&html, &page).map_err(|e| e.to_string())?;
    let url = format!("file://{}", html.display());

    let dom = chromium(shared, &["--dump-dom".to_owned(), url.clone()])?;
    let dom = String::from_utf8_lossy(&dom);
    let proof = format!("data-plots=\"{expected} ok\"");
    if !dom.contains(&proof) {
        let found = dom
            .split_once("data-plots=\"")
            .map(|(_, rest)| rest.chars().take(20).collect::<String>());
        return Err(format!(
            "the page did not prove its plots rendered: no `{proof}` in the DOM (found {found:?}); \
             page: {}",
            html.display()
        )
        .into());
    }
    for text in [
        "<section id=\"summary\">",
        "<section id=\"chaos\">",
        "odd-keys (synthetic chaos)",
        "sns Publish throttle (synthetic, p=0.3)",
        "embedded LocalStack, 4 KiB files (synthetic)",
        "Knee at 8 concurrent uploads",
        &format!("--seed {}", runs[0].seed),
    ] {
        if !dom.contains(text) {
            return Err(
                format!("the rendered DOM lacks {text:?}; page: {}", html.display()).into(),
            );
        }
    }
    if dom.contains("class=\"plot-error\"") {
        return Err(format!("a plot failed to draw; page: {}", html.display()).into());
    }

    let png = dir.join("report.png");
    let _ = std::fs::remove_file(&png);
    chromium(
        shared,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,2400".to_owned(),
            url,
        ],
    )?;
    check_png(&png)
}

/// Runs headless Chromium on a fresh profile with `args`; its stdout.
fn chromium(shared: &shared::Shared, args: &[String]) -> Result<Vec<u8>, Failed> {
    let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut command = tokio::process::Command::new(CHROMIUM);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .kill_on_drop(true);
    let output = shared
        .runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(90), command.output()).await })
        .map_err(|_| format!("chromium {args:?} did not finish within 90 s"))?
        .map_err(|e| format!("starting {CHROMIUM}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "chromium {args:?} exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(output.stdout)
}

fn check_png(png: &PathBuf) -> Result<(), Failed> {
    let bytes =
        std::fs::read(png).map_err(|e| format!("no screenshot at {}: {e}", png.display()))?;
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.len() < 50_000 {
        return Err(format!(
            "the screenshot {} is not a real page ({} bytes)",
            png.display(),
            bytes.len()
        )
        .into());
    }
    Ok(())
}

/// The real run again, as a chaos run: its uploads and deliveries on the timeline, with a
/// (synthetic) fault after every third upload.
fn with_chaos(real: &RunReport) -> RunReport {
    let mut run = real.clone();
    run.scenario = format!("{} (synthetic chaos)", real.scenario);
    let mut timeline = Vec::new();
    let event = |at_ms, kind, label: &str| TimelineEvent {
        at_ms,
        kind,
        label: label.to_owned(),
    };
    let objects = real.judgement.as_ref().map_or(&[][..], |j| &j.objects[..]);
    for (up, object) in real.uploads.iter().zip(objects) {
        timeline.push(event(up.at_ms, TimelineKind::Upload, &up.key));
        if up.index % 3 == 0 {
            timeline.push(event(
                up.at_ms + 5,
                TimelineKind::Fault,
                "sns Publish throttled",
            ));
        }
        for (latency, kind) in [
            (object.fifo_latency_ms, TimelineKind::Delivery),
            (object.email_latency_ms, TimelineKind::Email),
        ] {
            if let Some(ms) = latency {
                timeline.push(event(up.at_ms + ms, kind, &up.key));
            }
        }
    }
    timeline.sort_by_key(|e| (e.at_ms, e.kind));
    let injected = timeline
        .iter()
        .filter(|e| e.kind == TimelineKind::Fault)
        .count() as u64;
    run.chaos = Some(ChaosSummary {
        faults: vec![FaultCount {
            fault: "sns Publish throttle (synthetic, p=0.3)".to_owned(),
            injected,
        }],
        timeline,
        ..ChaosSummary::default()
    });
    run
}

fn curve() -> Curve {
    let points = [
        (1, 6.0, 420),
        (2, 11.5, 450),
        (4, 19.0, 520),
        (8, 24.0, 800),
        (16, 25.0, 1900),
    ]
    .into_iter()
    .map(|(concurrency, rate, p95): (u32, f64, u64)| CurvePoint {
        concurrency,
        file_size: 4096,
        verified_files_per_s: rate,
        baseline_puts_per_s: rate * 1.8,
        p50_ms: Some(p95 * 2 / 3),
        p95_ms: Some(p95),
        max_ms: Some(p95 * 3 / 2),
    })
    .collect();
    Curve {
        title: "embedded LocalStack, 4 KiB files (synthetic)".to_owned(),
        points,
        knee: Some(Knee {
            concurrency: 8,
            reason: "throughput +4% from 8 to 16 while p95 more than doubled".to_owned(),
        }),
    }
}
