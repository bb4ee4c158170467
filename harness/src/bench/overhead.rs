//! The harness's own cost while it measures: CPU time per second of wall time, and memory.
//!
//! A benchmark whose driver saturates a core measures the driver, so every point reports the
//! harness's user+system CPU time (getrusage, all threads of this process; the LocalStack it
//! started is another process and not counted) as a percentage of one core, and its resident
//! set size, sampled in the background over the whole run to show it stays flat.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// User plus system CPU time of this process so far.
pub fn cpu_time() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    getrusage(UsageWho::RUSAGE_SELF).map_or(Duration::ZERO, |u| {
        let micros = |t: nix::sys::time::TimeVal| {
            Duration::from_secs(t.tv_sec().max(0) as u64)
                + Duration::from_micros(t.tv_usec().max(0) as u64)
        };
        micros(u.user_time()) + micros(u.system_time())
    })
}

/// The resident set size of this process in KiB (`VmRSS` of `/proc/self/status`).
pub fn rss_kib() -> Option<u64> {
    parse_vm_rss(&std::fs::read_to_string("/proc/self/status").ok()?)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line["VmRSS:".len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// CPU time as a percentage of one core over `wall`.
pub fn cpu_percent(cpu: Duration, wall: Duration) -> Option<f64> {
    (!wall.is_zero()).then(|| cpu.as_secs_f64() / wall.as_secs_f64() * 100.0)
}

/// A reading of both clocks, to take differences between.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    pub at: Instant,
    pub cpu: Duration,
}

impl Reading {
    pub fn now() -> Self {
        Self {
            at: Instant::now(),
            cpu: cpu_time(),
        }
    }

    /// CPU % of one core since `self`.
    pub fn cpu_percent_since(&self) -> Option<f64> {
        let now = Self::now();
        cpu_percent(now.cpu.saturating_sub(self.cpu), now.at - self.at)
    }
}

/// One RSS sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RssSample {
    /// Milliseconds since the sampler started.
    pub at_ms: u64,
    pub kib: u64,
}

/// How memory moved over a span of samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RssSummary {
    pub start_kib: u64,
    pub end_kib: u64,
    pub max_kib: u64,
    pub samples: usize,
}

/// First, last and largest of `samples`; `None` when there are none.
pub fn summarize(samples: &[RssSample]) -> Option<RssSummary> {
    Some(RssSummary {
        start_kib: samples.first()?.kib,
        end_kib: samples.last()?.kib,
        max_kib: samples.iter().map(|s| s.kib).max()?,
        samples: samples.len(),
    })
}

/// At most `keep` samples, evenly spread, always keeping the first, the last and the largest.
pub fn downsample(samples: &[RssSample], keep: usize) -> Vec<RssSample> {
    if samples.len() <= keep || keep < 3 {
        return samples.to_vec();
    }
    let step = samples.len().div_ceil(keep - 1);
    let mut kept: Vec<RssSample> = samples.iter().step_by(step).copied().collect();
    let last = *samples.last().expect("more than keep samples");
    let largest = *samples.iter().max_by_key(|s| s.kib).expect("not empty");
    for extra in [largest, last] {
        if !kept.contains(&extra) {
            kept.push(extra);
        }
    }
    kept.sort_by_key(|s| s.at_ms);
    kept
}

/// Samples RSS every `every` on a background task until dropped or stopped.
#[derive(Debug)]
pub struct RssSampler {
    samples: Arc<Mutex<Vec<RssSample>>>,
    task: tokio::task::JoinHandle<()>,
    started: Instant,
}

impl RssSampler {
    pub fn start(every: Duration) -> Self {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let started = Instant::now();
        let shared = samples.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                record(&shared, started);
            }
        });
        Self {
            samples,
            task,
            started,
        }
    }

    /// Takes a sample now and returns every sample's index so far (a point's span starts here).
    pub fn mark(&self) -> usize {
        record(&self.samples, self.started);
        self.lock().len() - 1
    }

    /// The samples from index `from` (see [`Self::mark`]) to now, a sample taken now included.
    pub fn since(&self, from: usize) -> Vec<RssSample> {
        record(&self.samples, self.started);
        self.lock()
            .get(from..)
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    }

    /// Stops sampling and returns every sample.
    pub fn stop(self) -> Vec<RssSample> {
        self.task.abort();
        record(&self.samples, self.started);
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RssSample>> {
        self.samples.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn record(samples: &Mutex<Vec<RssSample>>, started: Instant) {
    if let Some(kib) = rss_kib() {
        samples
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(RssSample {
                at_ms: started.elapsed().as_millis() as u64,
                kib,
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_is_read_from_proc_status() {
        let status = "Name:\tharness\nVmPeak:\t  900 kB\nVmRSS:\t   12345 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(status), Some(12345));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
        assert!(rss_kib().is_some_and(|k| k > 0), "this process has an RSS");
    }

    #[test]
    fn cpu_percent_is_of_one_core() {
        let p = cpu_percent(Duration::from_millis(250), Duration::from_secs(1)).unwrap();
        assert!((p - 25.0).abs() < 1e-9);
        assert_eq!(cpu_percent(Duration::from_secs(1), Duration::ZERO), None);
        // Burning CPU shows up in this process's clock.
        let before = cpu_time();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_time() > before);
    }

    fn s(at_ms: u64, kib: u64) -> RssSample {
        RssSample { at_ms, kib }
    }

    #[test]
    fn summary_has_start_end_and_max() {
        let samples = [s(0, 10), s(1, 30), s(2, 20)];
        assert_eq!(
            summarize(&samples),
            Some(RssSummary {
                start_kib: 10,
                end_kib: 20,
                max_kib: 30,
                samples: 3
            })
        );
        assert_eq!(summarize(&[]), None);
    }

    #[test]
    fn downsampling_keeps_first_last_and_peak() {
        let samples: Vec<_> = (0..1000)
            .map(|i| s(i, if i == 517 { 9999 } else { i }))
            .collect();
        let kept = downsample(&samples, 50);
        assert!(kept.len() <= 52, "{}", kept.len());
        assert_eq!(kept.first(), Some(&s(0, 0)));
        assert_eq!(kept.last(), Some(&s(999, 999)));
        assert!(kept.contains(&s(517, 9999)));
        assert!(kept.windows(2).all(|w| w[0].at_ms < w[1].at_ms));
        assert_eq!(downsample(&samples[..10], 50).len(), 10);
    }
}
