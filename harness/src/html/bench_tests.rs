//! Tests of the bench page: its facts under the title, no scenario sections, the per-size table's
//! columns, the RSS plot, failures and escaping.

use super::tests::plots;
use super::*;
use crate::bench::{RssSample, RssSummary};

fn point(concurrency: u32, verified: f64, p95: u64) -> CurvePoint {
    CurvePoint {
        concurrency,
        verified_files_per_s: Some(verified),
        checks_off_files_per_s: Some(verified * 1.2),
        baseline_puts_per_s: Some(600.0),
        verified_to_baseline: Some(verified / 600.0),
        verified_to_checks_off: Some(1.0 / 1.2),
        ceiling_reached: Some(0.301),
        p50_ms: Some(p95 / 2),
        p95_ms: Some(p95),
        max_ms: Some(p95 + 100),
        cpu_percent: Some(2.53),
        rss_max_kib: Some(67_920),
        failed: false,
    }
}

fn curve(title: &str) -> Curve {
    Curve {
        title: title.into(),
        points: vec![
            point(4, 26.8, 6185),
            point(1, 24.1, 7585),
            point(16, 22.3, 8118),
        ],
        knee: Some(Knee {
            concurrency: 4,
            reason: "C=16 gains -17% over C=4".into(),
        }),
    }
}

pub(super) fn bench_page() -> BenchPage {
    BenchPage {
        target: "embedded localstack at http://127.0.0.1:33047 (region us-east-1)".into(),
        seed: 20_261_204,
        run_id: "hrlv5bejqdz".into(),
        replay: "harness --target embedded bench --checks both --seed 20261204".into(),
        duration_ms: 223_044,
        sweep: "concurrency 1, 4, 16 × sizes 1KiB, 256KiB".into(),
        cleanup: "stack removed (9 resource(s) deleted, 0 already gone)".into(),
        cpu_percent: Some(3.87),
        rss: Some(RssSummary {
            start_kib: 28_828,
            end_kib: 79_580,
            max_kib: 79_580,
            samples: 468,
        }),
        rss_samples: (0..50)
            .map(|i| RssSample {
                at_ms: i * 1500,
                kib: 64_000 + i * 20,
            })
            .collect(),
        curves: vec![curve("1KiB files"), curve("256KiB files")],
        errors: Vec::new(),
    }
}

#[test]
fn the_header_names_the_runs_facts() {
    let page = render_bench(&bench_page());
    let header = &page[page.find("<header>").unwrap()..page.find("</header>").unwrap()];
    for fact in [
        "<span class=\"passed\">passed</span>: 6 point(s) over 2 file size(s)",
        "<dt>seed</dt><dd>20261204</dd>",
        "<dt>run id</dt><dd>hrlv5bejqdz</dd>",
        "<code>harness --target embedded bench --checks both --seed 20261204</code>",
        "embedded localstack at http://127.0.0.1:33047",
        "<dt>duration</dt><dd>3 min 43 s</dd>",
        "CPU 3.9% of one core; RSS start 28.2 MiB, end 77.7 MiB, max 77.7 MiB",
        "stack removed (9 resource(s) deleted",
        "<dt>errors</dt><dd>none</dd>",
    ] {
        assert!(header.contains(fact), "missing {fact:?} in {header}");
    }
    assert!(!header.contains("scenario run(s)"));
}

#[test]
fn a_bench_page_has_no_scenario_sections() {
    let page = render_bench(&bench_page());
    for id in ["throughput", "memory", "problems"] {
        assert!(page.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    for id in [
        "summary",
        "latency",
        "chaos",
        "skipped",
        "divergences",
        "runs",
    ] {
        assert!(!page.contains(&format!("<section id=\"{id}\">")), "{id}");
        assert!(!page.contains(&format!("href=\"#{id}\"")), "nav to {id}");
    }
    for text in [
        "No scenario runs",
        "No deliveries",
        "No runs.",
        "seed(s): none",
    ] {
        assert!(!page.contains(text), "{text}");
    }
}

#[test]
fn each_size_has_a_plot_a_knee_and_a_table_with_every_figure() {
    let page = render_bench(&bench_page());
    // 2 curves and the RSS plot.
    assert_eq!(plots(&page), 3);
    assert!(page.contains("data-plots-expected=\"3\""));
    assert!(page.contains("<h3>256KiB files</h3>"));
    assert!(page.contains("Knee at 4 concurrent uploads:</strong> C=16 gains -17% over C=4"));
    for header in [
        "checks-off files",
        "baseline PUTs",
        "verified ÷ baseline",
        "verified ÷ checks-off",
        "% of request ceiling",
        "CPU %",
        "RSS max (MiB)",
    ] {
        assert!(page.contains(&format!(">{header}</th>")), "{header}");
    }
    let row = "<tr><td class=\"n\">1</td><td class=\"n\">24.1</td><td class=\"n\">28.9</td>\
               <td class=\"n\">600.0</td><td class=\"n\">0.040</td><td class=\"n\">0.83</td>\
               <td class=\"n\">30</td><td class=\"n\">3792</td><td class=\"n\">7585</td>\
               <td class=\"n\">7685</td><td class=\"n\">2.5</td><td class=\"n\">66.3</td></tr>";
    assert!(page.contains(row), "no row for C=1 as {row}");
    assert!(page.contains("<tr class=\"knee\"><td class=\"n\">4</td>"));
    assert!(page.contains(
        "Verified ÷ baseline: 0.037–0.045 (raw PutObject at the same concurrency: 600 PUTs/s)."
    ));
    assert!(page.contains("Verified ÷ checks-off: 0.83."));
}

#[test]
fn the_rss_plot_is_an_svg_with_the_overhead_in_its_caption() {
    let page = render_bench(&bench_page());
    let memory = &page[page.find("<section id=\"memory\">").unwrap()..];
    assert!(memory.starts_with(
        "<section id=\"memory\">\n<h2>Harness memory</h2>\n<figure class=\"plot\"><svg"
    ));
    assert!(memory.contains("harness resident memory over the run"));
    assert!(memory.contains("RSS start 28.2 MiB, end 77.7 MiB, max 77.7 MiB; 50 sample(s) shown."));
}

#[test]
fn failures_are_counted_in_the_header_listed_and_marked_on_their_point() {
    let mut bench = bench_page();
    bench.curves[0].points[2].failed = true;
    bench.errors = vec!["C=16 size=1KiB: missing <email> for k1".into()];
    let page = render_bench(&bench);
    assert!(page.contains("<span class=\"failed\">FAILED (1 error(s))</span>"));
    assert!(page.contains("<a href=\"#problems\" class=\"failed\">1, listed below</a>"));
    assert!(page.contains("<li>C=16 size=1KiB: missing &lt;email&gt; for k1</li>"));
    assert!(page.contains("<td class=\"n\">16 <span class=\"failed\">FAILED</span></td>"));
    assert!(!page.contains("<email>"));
}

#[test]
fn an_empty_bench_says_so_in_each_section() {
    let page = render_bench(&BenchPage::default());
    assert_eq!(plots(&page), 0);
    for text in [
        "No point was measured.",
        "No RSS samples.",
        "CPU not measured; RSS not measured",
        "None: every measured file was delivered and verified",
    ] {
        assert!(page.contains(text), "{text}");
    }
}

#[test]
fn outside_text_in_the_facts_is_escaped() {
    let mut bench = bench_page();
    bench.target = "<b>odd</b> & \"target\"".into();
    bench.replay = "harness bench --seed 1 <x>".into();
    let page = render_bench(&bench);
    assert!(page.contains("&lt;b&gt;odd&lt;/b&gt; &amp; &quot;target&quot;"));
    assert!(page.contains("<code>harness bench --seed 1 &lt;x&gt;</code>"));
    assert!(!page.contains("<b>odd"));
}

#[test]
fn durations_read_in_the_largest_fitting_unit() {
    use super::bench::duration;
    assert_eq!(duration(5), "0.0 s");
    assert_eq!(duration(12_345), "12.3 s");
    assert_eq!(duration(223_044), "3 min 43 s");
    assert_eq!(duration(3_725_000), "1 h 02 min");
}
