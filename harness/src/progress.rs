//! Progress of long runs (uploads of a big workload, bench sweeps), readable both live and in a
//! CI log.
//!
//! On a terminal it is an `indicatif` bar with rate and ETA on stderr. When stderr is not a
//! terminal, or `CI` is set, it prints plain lines instead, at every 10% and at least every 5 s
//! while work advances, e.g. `uploaded 120/1000 (34.1/s, ETA 25 s)`, and a last line from
//! [`Progress::finish`]: `uploaded 1000/1000 in 29.3 s (34.1/s)`.
//!
//! ```no_run
//! use harness::progress::Progress;
//! let progress = Progress::new("uploaded", 1000);
//! for _ in 0..1000 {
//!     // ... one upload ...
//!     progress.inc(1);
//! }
//! progress.finish();
//! ```
//!
//! `Progress` is `Send + Sync`: share it (`&` or `Arc`) between concurrent tasks. [`inc`] is
//! cheap (a mutex and a clock read in plain mode). [`Progress::plain`] writes the plain lines to
//! any writer (tests, log files).
//!
//! [`inc`]: Progress::inc

use std::io::{IsTerminal as _, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Longest gap between two plain lines while work advances.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// A progress display for `total` units of work; see the module documentation.
pub struct Progress {
    inner: Inner,
}

enum Inner {
    Bar(ProgressBar),
    Plain(Mutex<Plain>),
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.inner {
            Inner::Bar(_) => "Progress(bar)",
            Inner::Plain(_) => "Progress(plain)",
        })
    }
}

impl Progress {
    /// A bar on a terminal; plain lines on stderr when it is not one or `CI` is set. `label`
    /// says what is counted, as a past participle: `uploaded`, `verified`.
    pub fn new(label: impl Into<String>, total: u64) -> Self {
        let label = label.into();
        if std::env::var_os("CI").is_some() || !std::io::stderr().is_terminal() {
            return Self::plain(label, total, std::io::stderr());
        }
        let style = ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} ({per_sec}, ETA {eta}) {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
            .with_message(label);
        bar.set_style(style);
        Self {
            inner: Inner::Bar(bar),
        }
    }

    /// Plain lines only, written to `out`.
    pub fn plain(label: impl Into<String>, total: u64, out: impl Write + Send + 'static) -> Self {
        Self {
            inner: Inner::Plain(Mutex::new(Plain::new(
                label.into(),
                total,
                Instant::now(),
                Box::new(out),
            ))),
        }
    }

    /// Records `n` more units done.
    pub fn inc(&self, n: u64) {
        match &self.inner {
            Inner::Bar(bar) => bar.inc(n),
            Inner::Plain(plain) => {
                let mut plain = plain.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(line) = plain.advance(n, Instant::now()) {
                    plain.write(&line);
                }
            }
        }
    }

    /// Ends the display with the total time and rate.
    pub fn finish(&self) {
        match &self.inner {
            Inner::Bar(bar) => bar.finish(),
            Inner::Plain(plain) => {
                let mut plain = plain.lock().unwrap_or_else(|p| p.into_inner());
                let line = plain.finished(Instant::now());
                plain.write(&line);
            }
        }
    }
}

/// The plain-line state: what was done and when the last line was printed.
struct Plain {
    label: String,
    total: u64,
    done: u64,
    started: Instant,
    last_line: Instant,
    /// The next multiple of 10% that earns a line.
    next_tenth: u64,
    out: Box<dyn Write + Send>,
}

impl Plain {
    fn new(label: String, total: u64, now: Instant, out: Box<dyn Write + Send>) -> Self {
        Self {
            label,
            total,
            done: 0,
            started: now,
            last_line: now,
            next_tenth: 1,
            out,
        }
    }

    /// Adds `n` at `now`; the line to print, if one is due (a new tenth, or 5 s since the last).
    fn advance(&mut self, n: u64, now: Instant) -> Option<String> {
        self.done = self.done.saturating_add(n);
        let tenths = self
            .done
            .min(self.total)
            .saturating_mul(10)
            .checked_div(self.total)
            .unwrap_or(0);
        let due = tenths >= self.next_tenth || now.duration_since(self.last_line) >= PLAIN_EVERY;
        if !due {
            return None;
        }
        self.next_tenth = tenths + 1;
        self.last_line = now;
        Some(line(
            &self.label,
            self.done,
            self.total,
            now.duration_since(self.started),
        ))
    }

    fn finished(&self, now: Instant) -> String {
        let took = now.duration_since(self.started);
        format!(
            "{} {}/{} in {:.1} s ({})",
            self.label,
            self.done,
            self.total,
            took.as_secs_f64(),
            rate(self.done, took)
        )
    }

    fn write(&mut self, line: &str) {
        // Progress output is best effort: a closed stderr must not fail the run.
        let _ = writeln!(self.out, "{line}");
    }
}

fn rate(done: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        format!("{:.1}/s", done as f64 / secs)
    } else {
        "-/s".to_owned()
    }
}

/// `uploaded 120/1000 (34.1/s, ETA 25 s)`.
fn line(label: &str, done: u64, total: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let eta = if done == 0 || secs <= 0.0 {
        "?".to_owned()
    } else {
        let left = total.saturating_sub(done) as f64 * secs / done as f64;
        human(Duration::from_secs_f64(left.min(1e9)))
    };
    format!(
        "{label} {done}/{total} ({}, ETA {eta})",
        rate(done, elapsed)
    )
}

/// `25 s`, `3 min 20 s`, `1 h 05 min`.
fn human(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_line_has_count_rate_and_eta() {
        let line = line("uploaded", 120, 1000, Duration::from_millis(3519));
        assert_eq!(line, "uploaded 120/1000 (34.1/s, ETA 26 s)");
        assert_eq!(
            super::line("verified", 0, 10, Duration::ZERO),
            "verified 0/10 (-/s, ETA ?)"
        );
        assert_eq!(
            super::line("uploaded", 10, 10, Duration::from_secs(2)),
            "uploaded 10/10 (5.0/s, ETA 0 s)"
        );
    }

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(human(Duration::from_secs(25)), "25 s");
        assert_eq!(human(Duration::from_secs(200)), "3 min 20 s");
        assert_eq!(human(Duration::from_secs(3900)), "1 h 05 min");
    }

    fn plain(total: u64) -> (Plain, Instant) {
        let t0 = Instant::now();
        (
            Plain::new("uploaded".into(), total, t0, Box::new(std::io::sink())),
            t0,
        )
    }

    #[test]
    fn lines_come_at_every_tenth_and_not_in_between() {
        let (mut p, t0) = plain(100);
        let at = |ms| t0 + Duration::from_millis(ms);
        let printed: Vec<u64> = (1..=100)
            .filter(|&i| p.advance(1, at(i * 10)).is_some())
            .collect();
        assert_eq!(printed, vec![10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
        // A jump over several tenths gives one line, not several.
        let (mut p, _) = plain(100);
        assert!(p.advance(35, at(1)).is_some());
        assert!(p.advance(4, at(2)).is_none());
        assert!(p.advance(1, at(3)).is_some());
    }

    #[test]
    fn slow_work_gets_a_line_every_five_seconds() {
        let (mut p, t0) = plain(1_000_000);
        assert!(p.advance(1, t0 + Duration::from_secs(4)).is_none());
        let line = p.advance(1, t0 + Duration::from_secs(5)).unwrap();
        assert_eq!(line, "uploaded 2/1000000 (0.4/s, ETA 694 h 26 min)");
        assert!(p.advance(1, t0 + Duration::from_secs(9)).is_none());
        assert!(p.advance(1, t0 + Duration::from_secs(10)).is_some());
    }

    #[test]
    fn zero_total_never_divides_by_zero() {
        let (mut p, t0) = plain(0);
        assert!(p.advance(3, t0 + Duration::from_secs(1)).is_none());
        assert!(
            p.finished(t0 + Duration::from_secs(2))
                .starts_with("uploaded 3/0 in 2.0 s")
        );
    }

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn plain_progress_writes_lines_and_a_final_one() {
        let out = Shared::default();
        let progress = Progress::plain("uploaded", 4, out.clone());
        for _ in 0..4 {
            progress.inc(1);
        }
        progress.finish();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(lines[0].starts_with("uploaded 1/4 ("), "{text}");
        assert!(lines[4].starts_with("uploaded 4/4 in "), "{text}");
    }
}
