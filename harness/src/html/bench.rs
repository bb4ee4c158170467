//! The benchmark's page (`bench.html`): what was measured and how to replay it, one plot and
//! table per file size, the harness's memory over the run, and what went wrong.
//!
//! The page has its own plain types ([`BenchPage`], [`Curve`]) that `harness bench` fills from
//! its report, so the page only formats; it has none of the scenario page's sections (no
//! scenario runs, deliveries or chaos happen in a benchmark).

use std::fmt::Write as _;

use super::bench_plot;
use super::escape::text;
use super::sections::{figure, list, none, opt, section};
use crate::bench::{RssSample, RssSummary};

/// Everything `bench.html` shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BenchPage {
    pub target: String,
    pub seed: u64,
    pub run_id: String,
    /// The command that runs the same sweep with the same seed.
    pub replay: String,
    pub duration_ms: u64,
    /// What was swept, in words (levels, sizes, files per point, checks).
    pub sweep: String,
    /// What was removed at the end, in words.
    pub cleanup: String,
    /// The harness's CPU time over the whole run, % of one core.
    pub cpu_percent: Option<f64>,
    pub rss: Option<RssSummary>,
    /// The harness's RSS over the run, oldest first.
    pub rss_samples: Vec<RssSample>,
    /// One per file size.
    pub curves: Vec<Curve>,
    /// Every reason the run failed, one a line; empty when it passed.
    pub errors: Vec<String>,
}

/// One file size's throughput against concurrency, drawn as one plot with a table of its points.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curve {
    /// E.g. `1KiB files`.
    pub title: String,
    /// In any order; the plot and the table sort them by concurrency.
    pub points: Vec<CurvePoint>,
    /// Where throughput stops growing with concurrency, if the bench found it.
    pub knee: Option<Knee>,
}

/// One measured point of a [`Curve`]; `None` where the point did not measure that figure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CurvePoint {
    /// Uploads in flight at once.
    pub concurrency: u32,
    /// Files whose FIFO message and email were verified, per second.
    pub verified_files_per_s: Option<f64>,
    /// Files through the pipeline with deliveries only counted, per second.
    pub checks_off_files_per_s: Option<f64>,
    /// Plain PUTs per second at the same concurrency and size (the baseline).
    pub baseline_puts_per_s: Option<f64>,
    /// Verified files/s ÷ baseline PUTs/s.
    pub verified_to_baseline: Option<f64>,
    /// Verified files/s ÷ checks-off files/s.
    pub verified_to_checks_off: Option<f64>,
    /// Verified files/s ÷ the request ceiling (raw request rate ÷ requests per file).
    pub ceiling_reached: Option<f64>,
    /// Upload-to-FIFO-delivery latency.
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
    pub max_ms: Option<u64>,
    /// The harness's CPU time over the point, % of one core.
    pub cpu_percent: Option<f64>,
    pub rss_max_kib: Option<u64>,
    /// The point lost, duplicated or misdelivered something, or could not be measured.
    pub failed: bool,
}

/// The knee of a [`Curve`].
#[derive(Debug, Clone, PartialEq)]
pub struct Knee {
    pub concurrency: u32,
    /// Why this point, e.g. `throughput +3% from 16 to 32 while p95 doubled`.
    pub reason: String,
}

impl Curve {
    /// The points by rising concurrency.
    pub fn sorted_points(&self) -> Vec<&CurvePoint> {
        let mut points: Vec<&CurvePoint> = self.points.iter().collect();
        points.sort_by_key(|p| p.concurrency);
        points
    }
}

/// `v` with `decimals` decimals, `–` when unknown.
fn fixed(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.decimals$}"))
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// `12.3 s`, `3 min 43 s` or `1 h 02 min`.
pub(super) fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..60 => format!("{:.1} s", ms as f64 / 1000.0),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
    }
}

/// `low–high` of `values` with `decimals` decimals (one figure when they round alike).
fn spread(values: impl Iterator<Item = f64>, decimals: usize) -> Option<String> {
    let (low, high) = values.fold(None, |acc: Option<(f64, f64)>, v| {
        Some(acc.map_or((v, v), |(l, h)| (l.min(v), h.max(v))))
    })?;
    let (low, high) = (format!("{low:.decimals$}"), format!("{high:.decimals$}"));
    Some(if low == high {
        low
    } else {
        format!("{low}–{high}")
    })
}

/// CPU and RSS of the harness over the whole run, in words.
fn overhead(page: &BenchPage) -> String {
    let cpu = page.cpu_percent.map_or_else(
        || "CPU not measured".to_owned(),
        |c| format!("CPU {c:.1}% of one core"),
    );
    let rss = page.rss.map_or_else(
        || "RSS not measured".to_owned(),
        |r| {
            format!(
                "RSS start {}, end {}, max {}",
                mib(r.start_kib),
                mib(r.end_kib),
                mib(r.max_kib)
            )
        },
    );
    format!("{cpu}; {rss}")
}

/// The status line and the run's facts, shown under the page title.
pub fn header(page: &BenchPage) -> String {
    let (class, status) = if page.errors.is_empty() {
        ("passed", "passed".to_owned())
    } else {
        ("failed", format!("FAILED ({} error(s))", page.errors.len()))
    };
    let points: usize = page.curves.iter().map(|c| c.points.len()).sum();
    let mut out = format!(
        "<p><span class=\"{class}\">{status}</span>: {points} point(s) over {} file size(s)</p>\n<dl>",
        page.curves.len(),
    );
    let facts = [
        ("target", text(&page.target)),
        ("seed", page.seed.to_string()),
        ("run id", text(&page.run_id)),
        ("replay", format!("<code>{}</code>", text(&page.replay))),
        ("sweep", text(&page.sweep)),
        ("duration", duration(page.duration_ms)),
        ("harness overhead", text(&overhead(page))),
        ("cleanup", text(&page.cleanup)),
        ("errors", errors_fact(&page.errors)),
    ];
    for (name, value) in facts {
        let _ = write!(out, "<dt>{name}</dt><dd>{value}</dd>");
    }
    out.push_str("</dl>\n");
    out
}

fn errors_fact(errors: &[String]) -> String {
    match errors.len() {
        0 => "none".to_owned(),
        n => format!("<a href=\"#problems\" class=\"failed\">{n}, listed below</a>"),
    }
}

/// One plot and one table per curve.
pub fn throughput(curves: &[Curve]) -> String {
    if curves.is_empty() {
        return section("throughput", "Throughput", &none("No point was measured."));
    }
    let mut body = String::new();
    for c in curves {
        let _ = writeln!(body, "<h3>{}</h3>", text(&c.title));
        body.push_str(&figure(&bench_plot::curve(c), &caption(c)));
        if let Some(knee) = &c.knee {
            let _ = writeln!(
                body,
                "<p><strong>Knee at {} concurrent uploads:</strong> {}</p>",
                knee.concurrency,
                text(&knee.reason)
            );
        }
        body.push_str(&table(c));
    }
    section("throughput", "Throughput", &body)
}

/// What the plot shows and the ratios that are not drawn.
fn caption(curve: &Curve) -> String {
    let mut out = "Verified and checks-off files/s on the left axis, upload-to-FIFO latency on \
                   the right."
        .to_owned();
    let to_baseline = spread(
        curve.points.iter().filter_map(|p| p.verified_to_baseline),
        3,
    );
    let baseline = spread(curve.points.iter().filter_map(|p| p.baseline_puts_per_s), 0);
    if let (Some(ratio), Some(baseline)) = (to_baseline, baseline) {
        let _ = write!(
            out,
            " Verified ÷ baseline: {ratio} (raw PutObject at the same concurrency: {baseline} PUTs/s)."
        );
    }
    if let Some(ratio) = spread(
        curve.points.iter().filter_map(|p| p.verified_to_checks_off),
        2,
    ) {
        let _ = write!(out, " Verified ÷ checks-off: {ratio}.");
    }
    out
}

const TABLE_HEAD: &str = "<div class=\"wide\"><table class=\"points\"><thead>\
    <tr><th rowspan=\"2\">concurrency</th><th colspan=\"3\">per second</th>\
    <th colspan=\"2\">ratios</th><th rowspan=\"2\">% of request ceiling</th>\
    <th colspan=\"3\">upload → FIFO (ms)</th><th colspan=\"2\">harness</th></tr>\n\
    <tr><th>verified files</th><th>checks-off files</th><th>baseline PUTs</th>\
    <th>verified ÷ baseline</th><th>verified ÷ checks-off</th>\
    <th>p50</th><th>p95</th><th>max</th><th>CPU %</th><th>RSS max (MiB)</th></tr>\
    </thead><tbody>\n";

/// One row per point, the knee's row marked.
fn table(curve: &Curve) -> String {
    let knee = curve.knee.as_ref().map(|k| k.concurrency);
    let mut out = TABLE_HEAD.to_owned();
    for p in curve.sorted_points() {
        let class = if knee == Some(p.concurrency) {
            " class=\"knee\""
        } else {
            ""
        };
        let failed = if p.failed {
            " <span class=\"failed\">FAILED</span>"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<tr{class}><td class=\"n\">{}{failed}</td>",
            p.concurrency
        );
        let cells = [
            fixed(p.verified_files_per_s, 1),
            fixed(p.checks_off_files_per_s, 1),
            fixed(p.baseline_puts_per_s, 1),
            fixed(p.verified_to_baseline, 3),
            fixed(p.verified_to_checks_off, 2),
            fixed(p.ceiling_reached.map(|r| r * 100.0), 0),
            opt(p.p50_ms),
            opt(p.p95_ms),
            opt(p.max_ms),
            fixed(p.cpu_percent, 1),
            fixed(p.rss_max_kib.map(|k| k as f64 / 1024.0), 1),
        ];
        for cell in cells {
            let _ = write!(out, "<td class=\"n\">{cell}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    out
}

/// The harness's RSS over the run, so a leak shows as a slope.
pub fn memory(page: &BenchPage) -> String {
    let body = if page.rss_samples.is_empty() {
        none("No RSS samples.")
    } else {
        let caption = format!(
            "{}; {} sample(s) shown.",
            overhead(page),
            page.rss_samples.len()
        );
        figure(&bench_plot::rss(&page.rss_samples), &caption)
    };
    section("memory", "Harness memory", &body)
}

/// Every error and violation, each naming its point.
pub fn problems(errors: &[String]) -> String {
    let body = if errors.is_empty() {
        none("None: every measured file was delivered and verified, and cleanup left nothing.")
    } else {
        list(errors)
    };
    section("problems", "Errors and violations", &body)
}

/// The page's title, kept with the sections it heads.
pub const TITLE: &str = "Upload pipeline: throughput benchmark";

/// The sections in page order.
pub fn body(page: &BenchPage) -> String {
    [
        throughput(&page.curves),
        memory(page),
        problems(&page.errors),
    ]
    .concat()
}
