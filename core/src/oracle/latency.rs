//! Delivery latency summaries: count, nearest-rank p50/p95 and max over the objects that got a
//! delivery.
//!
//! Nearest rank (the smallest value with at least p% of the values at or below it) is always an
//! observed latency, which keeps small samples honest: with 3 objects p95 is the slowest one.

/// Latency over the objects with a delivery, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LatencySummary {
    pub count: usize,
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
    pub max_ms: Option<u64>,
}

impl LatencySummary {
    /// Summarizes `values` (any order).
    pub fn of(values: impl IntoIterator<Item = u64>) -> Self {
        let mut sorted: Vec<u64> = values.into_iter().collect();
        sorted.sort_unstable();
        Self {
            count: sorted.len(),
            p50_ms: nearest_rank(&sorted, 50),
            p95_ms: nearest_rank(&sorted, 95),
            max_ms: sorted.last().copied(),
        }
    }
}

/// The `percent`-th percentile of ascending `sorted` by nearest rank: rank ⌈p·n/100⌉ (at least
/// 1), 1-based.
pub fn nearest_rank(sorted: &[u64], percent: usize) -> Option<u64> {
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_has_no_percentiles() {
        assert_eq!(LatencySummary::of([]), LatencySummary::default());
    }

    #[test]
    fn nearest_rank_values() {
        let s = LatencySummary::of([30, 10, 20]);
        assert_eq!(
            (s.count, s.p50_ms, s.p95_ms, s.max_ms),
            (3, Some(20), Some(30), Some(30))
        );
        let s = LatencySummary::of(1..=100);
        assert_eq!(
            (s.p50_ms, s.p95_ms, s.max_ms),
            (Some(50), Some(95), Some(100))
        );
        let s = LatencySummary::of([7]);
        assert_eq!((s.p50_ms, s.p95_ms), (Some(7), Some(7)));
        let s = LatencySummary::of([1, 2]);
        assert_eq!((s.p50_ms, s.p95_ms), (Some(1), Some(2)));
    }

    proptest! {
        #[test]
        fn percentiles_are_observed_and_ordered(values in prop::collection::vec(0u64..10_000, 1..60)) {
            let s = LatencySummary::of(values.clone());
            let (p50, p95, max) = (s.p50_ms.unwrap(), s.p95_ms.unwrap(), s.max_ms.unwrap());
            prop_assert!(values.contains(&p50) && values.contains(&p95));
            prop_assert!(p50 <= p95 && p95 <= max);
            prop_assert_eq!(max, *values.iter().max().unwrap());
            let at_or_below = values.iter().filter(|&&v| v <= p50).count();
            prop_assert!(at_or_below * 100 >= 50 * values.len());
        }
    }
}
