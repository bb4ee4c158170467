//! The HTML reports in a real browser. A real scenario run on the shared LocalStack (`odd-keys`,
//! whose keys hold every awkward character) and a chaos summary laid over that run's own uploads
//! and deliveries make the scenario page (`report.html`); a synthetic benchmark (a curve and the
//! harness's memory) makes the bench page (`bench.html`). Headless Chromium loads each; the
//! page's own script proves every plot has a laid-out box (`data-plots="N ok"`); the trial
//! asserts on the dumped DOM and on a screenshot.
//!
//! Chromium is Debian's `chromium` (`ci/install-chromium` installs it); without it the trial
//! fails and says so, it never passes silently.

use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::bench::{RssSample, RssSummary};
use harness::chaos::{ChaosSummary, FaultCount, TimelineEvent, TimelineKind};
use harness::html::{BenchPage, Curve, CurvePoint, Knee};
use harness::mailbox::MailSetup;
use harness::pipeline::{RunReport, Status};
use harness::runner;
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
        &MailSetup::Auto,
        &mut log,
    ));
    if real.status != Status::Passed {
        return Err(format!("the run to report on failed: {}", real.failure_message()).into());
    }
    let chaos = with_chaos(&real);
    let seed = real.seed;
    let runs = [real, chaos];
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-trial");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let report = Page {
        name: "report",
        html: harness::html::render_runs(&runs),
        // 2 runs x 2 histograms, 1 timeline.
        plots: 5,
        texts: vec![
            "<section id=\"summary\">".to_owned(),
            "<section id=\"chaos\">".to_owned(),
            "odd-keys (synthetic chaos)".to_owned(),
            "sns Publish throttle (synthetic, p=0.3)".to_owned(),
            format!("--seed {seed}"),
        ],
    };
    let bench = Page {
        name: "bench",
        html: harness::html::render_bench(&bench_page(seed)),
        // 1 curve, the RSS plot.
        plots: 2,
        texts: vec![
            format!("<dt>seed</dt><dd>{seed}</dd>"),
            "4KiB files (synthetic)".to_owned(),
            "Knee at 8 concurrent uploads".to_owned(),
            "<section id=\"memory\">".to_owned(),
            format!("--seed {seed}"),
        ],
    };
    for page in [report, bench] {
        page.check(shared, &dir)?;
    }
    Ok(())
}

/// A rendered page and what the browser must show of it.
struct Page {
    name: &'static str,
    html: String,
    plots: usize,
    texts: Vec<String>,
}

impl Page {
    /// Writes the page to `dir`, loads it in Chromium, checks the DOM and takes a screenshot.
    fn check(&self, shared: &shared::Shared, dir: &Path) -> Result<(), Failed> {
        let expected = self.html.matches("<figure class=\"plot\">").count();
        if expected != self.plots {
            return Err(format!(
                "{}.html has {expected} plots, expected {}",
                self.name, self.plots
            )
            .into());
        }
        let html = dir.join(format!("{}.html", self.name));
        std::fs::write(&html, &self.html).map_err(|e| e.to_string())?;
        let url = format!("file://{}", html.display());

        let dom = chromium(shared, &["--dump-dom".to_owned(), url.clone()])?;
        let dom = String::from_utf8_lossy(&dom);
        let proof = format!("data-plots=\"{expected} ok\"");
        if !dom.contains(&proof) {
            let found = dom
                .split_once("data-plots=\"")
                .map(|(_, rest)| rest.chars().take(20).collect::<String>());
            return Err(format!(
                "the page did not prove its plots rendered: no `{proof}` in the DOM (found \
                 {found:?}); page: {}",
                html.display()
            )
            .into());
        }
        if let Some(text) = self.texts.iter().find(|t| !dom.contains(t.as_str())) {
            return Err(
                format!("the rendered DOM lacks {text:?}; page: {}", html.display()).into(),
            );
        }
        if dom.contains("class=\"plot-error\"") {
            return Err(format!("a plot failed to draw; page: {}", html.display()).into());
        }

        let png = dir.join(format!("{}.png", self.name));
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

/// A synthetic benchmark of one file size, replayable with `seed`.
fn bench_page(seed: u64) -> BenchPage {
    let rss_samples: Vec<RssSample> = (0..120)
        .map(|i| RssSample {
            at_ms: i * 1500,
            kib: 60_000 + i * 40,
        })
        .collect();
    BenchPage {
        target: "embedded LocalStack (synthetic)".to_owned(),
        seed,
        run_id: "hsynthetic0".to_owned(),
        replay: format!("harness --target embedded bench --sizes 4KiB --seed {seed}"),
        duration_ms: 180_000,
        sweep: "concurrency 1, 2, 4, 8, 16 × sizes 4KiB".to_owned(),
        cleanup: "stack removed".to_owned(),
        cpu_percent: Some(4.2),
        rss: Some(RssSummary {
            start_kib: 60_000,
            end_kib: 64_760,
            max_kib: 64_760,
            samples: rss_samples.len(),
        }),
        rss_samples,
        curves: vec![curve()],
        errors: Vec::new(),
    }
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
        verified_files_per_s: Some(rate),
        checks_off_files_per_s: Some(rate * 1.1),
        baseline_puts_per_s: Some(rate * 30.0),
        verified_to_baseline: Some(1.0 / 30.0),
        verified_to_checks_off: Some(1.0 / 1.1),
        ceiling_reached: Some(rate / 80.0),
        p50_ms: Some(p95 * 2 / 3),
        p95_ms: Some(p95),
        max_ms: Some(p95 * 3 / 2),
        cpu_percent: Some(3.0),
        rss_max_kib: Some(64_000),
        failed: false,
    })
    .collect();
    Curve {
        title: "4KiB files (synthetic)".to_owned(),
        points,
        knee: Some(Knee {
            concurrency: 8,
            reason: "throughput +4% from 8 to 16 while p95 more than doubled".to_owned(),
        }),
    }
}
