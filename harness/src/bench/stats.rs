//! The figures of a sweep: latency distributions, rates, verified files and the knee.
//!
//! Kept pure (numbers in, numbers out) so every rule the report states — what counts as a
//! verified file, where the wall time ends, where the knee is — is unit-tested without a target.

use serde::{Deserialize, Serialize};

use crate::oracle::{Judgement, LatencySummary, Uploaded, nearest_rank};

/// A latency distribution in milliseconds: the oracle's summary (count, nearest-rank p50 and
/// p95, max) plus p99, by the same nearest rank (always an observed value).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    #[serde(flatten)]
    pub summary: LatencySummary,
    pub p99_ms: Option<u64>,
}

impl Distribution {
    pub fn of(values: impl IntoIterator<Item = u64>) -> Self {
        let mut sorted: Vec<u64> = values.into_iter().collect();
        sorted.sort_unstable();
        Self {
            p99_ms: nearest_rank(&sorted, 99),
            summary: LatencySummary::of(sorted),
        }
    }
}

/// `count` per second over `wall_ms`; `None` for an empty or instant measurement.
pub fn per_second(count: usize, wall_ms: u64) -> Option<f64> {
    (count > 0 && wall_ms > 0).then(|| count as f64 * 1000.0 / wall_ms as f64)
}

/// `a / b` when both are known and `b` is positive.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// The objects whose FIFO message and email the oracle both proved, and when the last of
/// those deliveries arrived (ms since the first upload started).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Verified {
    pub files: usize,
    pub last_delivery_ms: Option<u64>,
}

/// Counts verified objects: no violation names them, and both deliveries arrived. `uploads` and
/// the judgement's objects are in the same order (as [`crate::oracle::judge`] returns them).
pub fn verified(uploads: &[Uploaded], judgement: &Judgement) -> Verified {
    let mut files = 0;
    let mut last = None;
    for (upload, object) in uploads.iter().zip(&judgement.objects) {
        let (Some(fifo), Some(email)) = (object.fifo_latency_ms, object.email_latency_ms) else {
            continue;
        };
        if !object.ok || object.fifo_messages == 0 || object.emails == 0 {
            continue;
        }
        files += 1;
        let arrived = upload.at_ms + fifo.max(email);
        last = Some(last.map_or(arrived, |l: u64| l.max(arrived)));
    }
    Verified {
        files,
        last_delivery_ms: last,
    }
}

/// One point of a throughput curve at one file size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurveSample {
    pub concurrency: usize,
    pub files_per_s: Option<f64>,
    pub p95_ms: Option<u64>,
}

/// Where adding concurrency stops paying.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Knee {
    pub size_bytes: u64,
    /// The concurrency at the knee.
    pub concurrency: usize,
    /// Which rule found it, with the figures.
    pub reason: String,
}

/// p95 more than this many times the lowest concurrency's p95 is a knee.
pub const KNEE_LATENCY_FACTOR: f64 = 2.0;
/// A throughput gain below this fraction over the previous level is a knee.
pub const KNEE_MIN_GAIN: f64 = 0.10;

/// The knee of `samples` (any order; read along rising concurrency): the first level whose
/// p95 is more than [`KNEE_LATENCY_FACTOR`] × the lowest level's p95, or the last level before
/// a step that gains less than [`KNEE_MIN_GAIN`] throughput, whichever comes first. `None`
/// when the curve keeps paying (or has fewer than two levels).
pub fn knee(size_bytes: u64, samples: &[CurveSample]) -> Option<Knee> {
    let mut sorted = samples.to_vec();
    sorted.sort_by_key(|s| s.concurrency);
    let base = sorted.first()?;
    for pair in sorted.windows(2) {
        let (previous, this) = (pair[0], pair[1]);
        if let (Some(rate), Some(before)) = (this.files_per_s, previous.files_per_s)
            && rate < before * (1.0 + KNEE_MIN_GAIN)
        {
            return Some(Knee {
                size_bytes,
                concurrency: previous.concurrency,
                reason: format!(
                    "C={} gains {:+.0}% over C={} ({rate:.1} vs {before:.1} verified files/s)",
                    this.concurrency,
                    (rate / before - 1.0) * 100.0,
                    previous.concurrency
                ),
            });
        }
        if let (Some(p95), Some(base_p95)) = (this.p95_ms, base.p95_ms)
            && p95 as f64 > KNEE_LATENCY_FACTOR * base_p95.max(1) as f64
        {
            return Some(Knee {
                size_bytes,
                concurrency: this.concurrency,
                reason: format!(
                    "p95 upload->FIFO {p95} ms is more than {KNEE_LATENCY_FACTOR}x C={}'s {base_p95} ms",
                    base.concurrency
                ),
            });
        }
    }
    None
}

/// What the target could give at most: its raw request rate shared by the requests each file
/// costs, and how much of that the pipeline reached.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ceiling {
    pub requests_per_file: f64,
    pub raw_requests_per_s: f64,
    pub ceiling_files_per_s: f64,
    /// Verified files/s ÷ ceiling.
    pub reached: Option<f64>,
}

/// The ceiling for `requests_per_file` at `raw_requests_per_s`; `None` without a raw rate.
pub fn ceiling(
    requests_per_file: f64,
    raw_requests_per_s: Option<f64>,
    verified_per_s: Option<f64>,
) -> Option<Ceiling> {
    let raw = raw_requests_per_s.filter(|r| *r > 0.0)?;
    if requests_per_file <= 0.0 {
        return None;
    }
    let ceiling_files_per_s = raw / requests_per_file;
    Some(Ceiling {
        requests_per_file,
        raw_requests_per_s: raw,
        ceiling_files_per_s,
        reached: ratio(verified_per_s, Some(ceiling_files_per_s)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::ObjectResult;

    #[test]
    fn distribution_has_p99_and_max() {
        let d = Distribution::of(1..=200);
        assert_eq!(
            (
                d.summary.count,
                d.summary.p50_ms,
                d.summary.p95_ms,
                d.p99_ms,
                d.summary.max_ms
            ),
            (200, Some(100), Some(190), Some(198), Some(200))
        );
        assert_eq!(Distribution::of([]), Distribution::default());
        let one = Distribution::of([7]);
        assert_eq!((one.p99_ms, one.summary.max_ms), (Some(7), Some(7)));
    }

    #[test]
    fn rates_and_ratios_need_a_positive_denominator() {
        assert_eq!(per_second(10, 2000), Some(5.0));
        assert_eq!(per_second(10, 0), None);
        assert_eq!(per_second(0, 100), None);
        assert_eq!(ratio(Some(1.0), Some(4.0)), Some(0.25));
        assert_eq!(ratio(Some(1.0), Some(0.0)), None);
        assert_eq!(ratio(None, Some(1.0)), None);
    }

    fn upload(index: usize, at_ms: u64) -> Uploaded {
        Uploaded {
            index,
            key: format!("k{index}"),
            version_id: None,
            etag: "e".into(),
            size: 1,
            at_ms,
        }
    }

    fn object(index: usize, fifo: Option<u64>, email: Option<u64>, ok: bool) -> ObjectResult {
        ObjectResult {
            index,
            key: format!("k{index}"),
            version_id: None,
            fifo_messages: usize::from(fifo.is_some()),
            emails: usize::from(email.is_some()),
            fifo_latency_ms: fifo,
            email_latency_ms: email,
            ok,
        }
    }

    #[test]
    fn only_objects_with_both_deliveries_and_no_violation_are_verified() {
        let uploads = [
            upload(0, 100),
            upload(1, 200),
            upload(2, 300),
            upload(3, 400),
        ];
        let judgement = Judgement {
            objects: vec![
                object(0, Some(50), Some(900), true),  // arrives at 1000
                object(1, Some(10), Some(20), true),   // at 220
                object(2, Some(10), None, false),      // no email
                object(3, Some(5000), Some(1), false), // named by a violation
            ],
            violations: Vec::new(),
            skipped: Vec::new(),
            fifo_latency: LatencySummary::default(),
            email_latency: LatencySummary::default(),
        };
        assert_eq!(
            verified(&uploads, &judgement),
            Verified {
                files: 2,
                last_delivery_ms: Some(1000)
            }
        );
    }

    fn sample(concurrency: usize, rate: f64, p95: u64) -> CurveSample {
        CurveSample {
            concurrency,
            files_per_s: Some(rate),
            p95_ms: Some(p95),
        }
    }

    #[test]
    fn knee_where_throughput_stops_gaining() {
        let curve = [
            sample(4, 30.0, 120),
            sample(1, 10.0, 100),
            sample(2, 19.0, 110),
            sample(8, 32.0, 150),
        ];
        let knee = knee(1024, &curve).unwrap();
        assert_eq!(knee.concurrency, 4);
        assert!(
            knee.reason.contains("C=8 gains +7% over C=4"),
            "{}",
            knee.reason
        );
    }

    #[test]
    fn knee_where_latency_more_than_doubles() {
        let curve = [
            sample(1, 10.0, 100),
            sample(2, 20.0, 150),
            sample(4, 40.0, 201),
        ];
        let knee = knee(1, &curve).unwrap();
        assert_eq!(knee.concurrency, 4);
        assert!(knee.reason.contains("201 ms"), "{}", knee.reason);
    }

    #[test]
    fn no_knee_while_the_curve_pays_or_with_one_level() {
        let curve = [
            sample(1, 10.0, 100),
            sample(2, 20.0, 150),
            sample(4, 40.0, 200),
        ];
        assert_eq!(knee(1, &curve), None);
        assert_eq!(knee(1, &curve[..1]), None);
        assert_eq!(knee(1, &[]), None);
    }

    #[test]
    fn ceiling_is_raw_rate_over_requests_per_file() {
        let c = ceiling(8.0, Some(400.0), Some(25.0)).unwrap();
        assert_eq!(c.ceiling_files_per_s, 50.0);
        assert_eq!(c.reached, Some(0.5));
        assert_eq!(ceiling(8.0, None, Some(1.0)), None);
        assert_eq!(ceiling(0.0, Some(1.0), Some(1.0)), None);
        assert_eq!(ceiling(2.0, Some(10.0), None).unwrap().reached, None);
    }
}
