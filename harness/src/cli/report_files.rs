//! Writing reports to disk, at the CLI's edge: a scenario run's JSON documents, JUnit XML and
//! HTML page, and the bench's JSON and HTML, with secrets in URLs hidden. The runs themselves
//! only build typed reports.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::bench::BenchReport;
use crate::pipeline::{RunReport, Status};

/// Writes `<dir>/<scenario>.json` for each report, `<dir>/junit.xml` and the HTML report
/// `<dir>/report.html` ([`crate::html`]); returns the paths.
pub fn write_reports(dir: &Path, reports: &[RunReport]) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut paths = Vec::new();
    for report in reports {
        let path = dir.join(format!("{}.json", report.scenario));
        let text = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
        write(&path, &text)?;
        paths.push(path);
    }
    let junit = dir.join("junit.xml");
    write(&junit, &junit_xml(reports))?;
    paths.push(junit);
    let html = dir.join("report.html");
    write(&html, &crate::html::render_runs(reports))?;
    paths.push(html);
    Ok(paths)
}

/// Writes a report file, with any secret in a URL hidden ([`crate::redact`]).
fn write(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, crate::redact::secrets(text).as_bytes())
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

/// Writes `<dir>/bench.json` and `<dir>/bench.html`; returns their paths.
pub fn write_bench(dir: &Path, report: &BenchReport) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let json = dir.join("bench.json");
    let text = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    write(&json, &text)?;
    let html = dir.join("bench.html");
    write(&html, &crate::html::bench_page::render(report))?;
    Ok(vec![json, html])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::report::tests::{point, report};

    #[test]
    fn xml_escaping_covers_markup_and_control_characters() {
        assert_eq!(escape("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&apos;&#x1;");
        assert_eq!(escape("line\nnext"), "line\nnext");
    }

    #[test]
    fn bench_json_and_html_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let paths = write_bench(dir.path(), &report(vec![point(1, 10.0, vec![])])).unwrap();
        assert_eq!(paths.len(), 2);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&paths[0]).unwrap()).unwrap();
        assert_eq!(json["points"][0]["concurrency"], 1);
        assert_eq!(json["config"]["checks"], "on");
        assert!(
            std::fs::read_to_string(&paths[1])
                .unwrap()
                .contains("<html")
        );
    }

    #[test]
    fn regression_endpoint_credentials_are_never_printed_or_written() {
        use crate::pipeline::Finding;
        use crate::run_target::{Target, TargetKind};
        let endpoint = "http://user:s3cret@127.0.0.1:9";
        let sdk = aws_config::SdkConfig::builder().build();
        let target =
            Target::with_sdk_config(TargetKind::Localstack, "us-east-1", Some(endpoint), sdk);
        assert!(
            !target.describe().contains("s3cret"),
            "{}",
            target.describe()
        );
        assert!(
            !target.replay_flags().contains("s3cret"),
            "{}",
            target.replay_flags()
        );
        let scenario =
            crate::scenario::load_file(&crate::scenario::scenarios_dir().join("default.toml"))
                .unwrap();
        let mut report = RunReport::new(&scenario, &target, 1, &crate::mailbox::MailSetup::Auto);
        report.fail(Finding::Collect(format!(
            "error sending request for url ({endpoint}/_aws/ses)"
        )));
        report.finish(std::time::Duration::ZERO);
        assert!(
            report.replay.contains("user:***@127.0.0.1:9"),
            "{}",
            report.replay
        );
        let dir = tempfile::tempdir().unwrap();
        for path in write_reports(dir.path(), std::slice::from_ref(&report)).unwrap() {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(!text.contains("s3cret"), "{}", path.display());
        }
    }
}
