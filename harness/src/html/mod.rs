//! The HTML reports: self-contained pages (CSS inline, plots as inline SVG, no external URL)
//! that people can open from a CI artifact and read. Two pages share the shell, the style and
//! the plot helpers: the scenario page from [`crate::pipeline::RunReport`]s (`report.html`,
//! [`render_runs`]) and the benchmark's page from a [`BenchPage`] (`bench.html`,
//! [`render_bench`]).
//!
//! The scenario page's sections are always all present (an empty one says "none"): summary
//! table, a pointer to the benchmark, FIFO and email latency histograms, chaos fault counts and
//! timeline, errors and violations, skipped scenarios and checks with their reasons,
//! divergences from AWS, and every run's seed and replay command ([`sections`]). The bench page
//! has the bench's facts under its title, then throughput, the harness's memory and errors
//! ([`bench`]). All text is escaped ([`escape`]); plots are drawn by plotters ([`plot`],
//! [`bench_plot`]).
//!
//! A small inline script checks, once the page is laid out, that every plot's SVG has a
//! non-zero bounding box and sets `<body data-plots="N ok">` (or `"K of N ok"`); the page also
//! carries `data-plots-expected="N"`, so a headless browser can prove the page rendered
//! (`tests/e2e/report.rs`).
//!
//! ```no_run
//! # let runs: Vec<harness::pipeline::RunReport> = Vec::new();
//! let page = harness::html::render_runs(&runs);
//! std::fs::write("reports/report.html", page)?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod bench;
pub mod bench_page;
mod bench_plot;
mod escape;
mod plot;
mod sections;

#[cfg(test)]
mod bench_tests;
#[cfg(test)]
mod tests;

use crate::pipeline::RunReport;

pub use bench::{BenchPage, Curve, CurvePoint, Knee};

/// The page for scenario runs (`harness run`).
pub fn render_runs(runs: &[RunReport]) -> String {
    let body = [
        sections::summary(runs),
        sections::throughput_elsewhere(),
        sections::latency(runs),
        sections::chaos(runs),
        sections::problems(runs),
        sections::skipped(runs),
        sections::divergences(runs),
        sections::runs(runs),
    ]
    .concat();
    let seeds: std::collections::BTreeSet<u64> = runs.iter().map(|r| r.seed).collect();
    let seeds = seeds
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let summary = format!(
        "<p>{} scenario run(s), {} plot(s); seed(s): {}</p>\n",
        runs.len(),
        plot_count(&body),
        if seeds.is_empty() { "none" } else { &seeds },
    );
    page("Upload pipeline: scenario runs", &summary, RUNS_NAV, &body)
}

/// The page for a benchmark (`harness bench`): its facts, curves, memory and errors.
pub fn render_bench(bench_page: &BenchPage) -> String {
    page(
        bench::TITLE,
        &bench::header(bench_page),
        BENCH_NAV,
        &bench::body(bench_page),
    )
}

fn plot_count(body: &str) -> usize {
    body.matches("<figure class=\"plot\">").count()
}

/// The whole page around `body`; `summary` (HTML) goes under the title.
fn page(title: &str, summary: &str, nav: &str, body: &str) -> String {
    let title = escape::text(title);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n\
         <body data-plots-expected=\"{plots}\">\n<header><h1>{title}</h1>\n\
         {summary}<nav>{nav}</nav></header>\n<main>\n{body}</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        plots = plot_count(body),
    )
}

const RUNS_NAV: &str = "<a href=\"#summary\">summary</a> · <a href=\"#throughput\">throughput</a> · \
    <a href=\"#latency\">latency</a> · <a href=\"#chaos\">chaos</a> · \
    <a href=\"#problems\">errors and violations</a> · <a href=\"#skipped\">skipped</a> · \
    <a href=\"#divergences\">divergences</a> · <a href=\"#runs\">seeds and replay</a>";

const BENCH_NAV: &str = "<a href=\"#throughput\">throughput</a> · \
    <a href=\"#memory\">harness memory</a> · <a href=\"#problems\">errors and violations</a>";

const STYLE: &str = "
body { font-family: system-ui, 'DejaVu Sans', sans-serif; margin: 0 auto; max-width: 1200px;
       padding: 0 1.5rem 3rem; color: #1d1d1f; line-height: 1.45; }
header { border-bottom: 2px solid #ddd; margin-bottom: 1rem; }
h1 { font-size: 1.6rem; margin: 1.2rem 0 0.3rem; }
h2 { font-size: 1.3rem; border-bottom: 1px solid #e4e4e4; padding-bottom: 0.2rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 0.4rem; overflow-wrap: anywhere; }
nav { margin: 0.4rem 0 0.8rem; font-size: 0.95rem; }
a { color: #0b5cad; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #d6d6d6; padding: 0.25rem 0.55rem; text-align: left;
         vertical-align: top; overflow-wrap: anywhere; }
th { background: #f3f4f6; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.wide { overflow-x: auto; }
.passed { color: #146c2e; font-weight: 600; }
.failed { color: #b00020; font-weight: 700; }
.skipped { color: #8a6d00; font-weight: 600; }
.none { color: #666; font-style: italic; }
code { font-family: 'DejaVu Sans Mono', monospace; background: #f3f4f6; padding: 0 0.25rem;
       overflow-wrap: anywhere; }
ul { padding-left: 1.3rem; } li { overflow-wrap: anywhere; margin: 0.15rem 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1rem 0.8rem; margin: 0.3rem 0; }
dt { color: #555; } dd { margin: 0; overflow-wrap: anywhere; }
figure.plot { margin: 0.6rem 0 1rem; }
figure.plot svg { display: block; max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #555; }
.pair { display: flex; flex-wrap: wrap; gap: 1rem; }
.pair figure.plot { flex: 1 1 480px; max-width: 580px; }
.plot-error { color: #b00020; }
article { border-top: 1px dashed #ddd; }
header dd code { overflow-wrap: break-word; font-size: 0.85em; }
table.points th { overflow-wrap: normal; }
table.points th[colspan] { text-align: center; }
tr.knee td { background: #fff6da; }
";

/// Proves the page rendered: every plot's SVG has a non-zero box once laid out. Runs at the
/// end of the body, so every plot is parsed; the layout it forces is synchronous.
const SCRIPT: &str = "
(function () {
  var svgs = document.querySelectorAll('figure.plot > svg');
  var ok = 0;
  svgs.forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    var inner = svg.getBBox();
    if (box.width > 0 && box.height > 0 && inner.width > 0 && inner.height > 0) { ok += 1; }
  });
  document.body.dataset.plots = ok === svgs.length ? ok + ' ok' : ok + ' of ' + svgs.length + ' ok';
})();
";
