//! Every random stream of a run, derived from its one seed: the single place that lists them.
//!
//! Each consumer of randomness draws from its own named [`Stream`], so adding, removing or
//! reordering the draws of one consumer never shifts another's, and no two consumers ever draw
//! the same numbers. The streams, with their labels and users:
//!
//! | stream | label | drawn by |
//! |---|---|---|
//! | [`Stream::Workload`] | `workload` | [`crate::workload::plan`]: files, sizes, key shapes, content types, upload order and each upload's `content_seed` (whose bytes are then [`crate::workload::content`]); the bench's warm-up plans its one file from the run seed itself, so it draws this stream too (a bench run has no other workload of the run seed) |
//! | [`Stream::Fault`]`(i)` | `fault/i` | [`crate::chaos::schedule::Scheduler`]: the picks of the `i`-th `[[chaos]]` table of the scenario (its position, counting every fault) |
//! | [`Stream::Redelivery`] | `redelivery` | the harness's `chaos::redeliver::plan_events`: the shuffle of the redelivered S3 records and their cut into events |
//! | [`Stream::BenchPoint`]`(i)` | `bench-point/i` | the harness's bench sweep: the seed of the `i`-th point's workload (recorded as the point's `seed`) |
//!
//! A stream's generator is ChaCha8 keyed by the run seed (`ChaCha8Rng::seed_from_u64(seed)`)
//! on the ChaCha stream id [`label_hash`] of its label (64-bit FNV-1a of the label's UTF-8
//! bytes): one key, distinct stream ids, so the streams are independent ChaCha keystreams.
//! Where a consumer takes a `u64` seed rather than a generator (the bench points, whose seed is
//! recorded and handed to [`crate::workload::plan`], which then derives its own
//! [`Stream::Workload`] from it), [`derive()`] gives the stream's first `u64`.
//!
//! Replays of seeds recorded before this scheme (2026-12-07) give different workloads, fault
//! decisions, redelivery orders and bench workloads: the fault streams used to be
//! `seed ^ i·0x9E3779B9`, which made fault 0 draw the very stream of the workload.

use std::fmt;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A named consumer of the run's randomness (see the module documentation for who uses each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// The workload plan (`workload`).
    Workload,
    /// The network fault at this position of the scenario's `[[chaos]]` list (`fault/i`).
    Fault(usize),
    /// The redelivery shuffle of event faults (`redelivery`).
    Redelivery,
    /// The workload seed of the bench sweep's point at this position (`bench-point/i`).
    BenchPoint(usize),
}

impl Stream {
    /// The stream's stable label, from which its ChaCha stream id is hashed.
    pub fn label(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Workload => f.write_str("workload"),
            Self::Fault(i) => write!(f, "fault/{i}"),
            Self::Redelivery => f.write_str("redelivery"),
            Self::BenchPoint(i) => write!(f, "bench-point/{i}"),
        }
    }
}

/// 64-bit FNV-1a of `label`'s bytes: the ChaCha stream id of the stream with that label.
pub fn label_hash(label: &str) -> u64 {
    label.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The generator of `stream` for the run `seed`.
pub fn rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(label_hash(&stream.label()));
    rng
}

/// The first `u64` of `stream` for the run `seed`: a derived seed for consumers that take one.
pub fn derive(seed: u64, stream: Stream) -> u64 {
    rng(seed, stream).next_u64()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn draws(mut rng: ChaCha8Rng, n: usize) -> Vec<u64> {
        (0..n).map(|_| rng.next_u64()).collect()
    }

    fn fixed_and_indexed(n: usize) -> Vec<Stream> {
        let mut all = vec![Stream::Workload, Stream::Redelivery];
        all.extend((0..n).map(Stream::Fault));
        all.extend((0..n).map(Stream::BenchPoint));
        all
    }

    #[test]
    fn labels_are_stable() {
        let labels: Vec<String> = [
            Stream::Workload,
            Stream::Fault(0),
            Stream::Fault(12),
            Stream::Redelivery,
            Stream::BenchPoint(3),
        ]
        .map(Stream::label)
        .into();
        assert_eq!(
            labels,
            [
                "workload",
                "fault/0",
                "fault/12",
                "redelivery",
                "bench-point/3"
            ]
        );
        // The published FNV-1a 64 test vectors.
        assert_eq!(label_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(label_hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(label_hash("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn labels_and_their_stream_ids_are_pairwise_distinct() {
        let streams = fixed_and_indexed(1001);
        let labels: HashSet<String> = streams.iter().map(|s| s.label()).collect();
        assert_eq!(labels.len(), streams.len());
        let ids: HashSet<u64> = labels.iter().map(|l| label_hash(l)).collect();
        assert_eq!(ids.len(), streams.len());
        // Stream id 0 is the one `seed_from_u64` alone draws from: no label uses it.
        assert!(!ids.contains(&0));
    }

    #[test]
    fn the_same_seed_and_stream_give_the_same_draws() {
        for stream in fixed_and_indexed(4) {
            for seed in [0, 1, 42, u64::MAX] {
                assert_eq!(draws(rng(seed, stream), 16), draws(rng(seed, stream), 16));
                assert_eq!(derive(seed, stream), draws(rng(seed, stream), 1)[0]);
            }
        }
    }

    #[test]
    fn different_streams_and_seeds_give_different_draws() {
        let streams = fixed_and_indexed(50);
        for seed in [0, 7, u64::MAX] {
            let firsts: HashSet<Vec<u64>> =
                streams.iter().map(|&s| draws(rng(seed, s), 4)).collect();
            assert_eq!(firsts.len(), streams.len(), "seed {seed}");
        }
        assert_ne!(
            draws(rng(1, Stream::Workload), 4),
            draws(rng(2, Stream::Workload), 4)
        );
    }

    /// The test: fault 0 used to be seeded `seed ^ 0·0x9E3779B9`, i.e. exactly the
    /// workload's `seed_from_u64(seed)`, so its picks were the workload's first draws.
    #[test]
    fn fault_0_draws_are_independent_of_the_workload() {
        for seed in 0..100 {
            let before_fault_0 = draws(
                ChaCha8Rng::seed_from_u64(seed ^ 0u64.wrapping_mul(0x9E37_79B9)),
                64,
            );
            let before_workload = draws(ChaCha8Rng::seed_from_u64(seed), 64);
            assert_eq!(
                before_fault_0, before_workload,
                "the old derivation, seed {seed}"
            );

            let fault_0 = draws(rng(seed, Stream::Fault(0)), 64);
            let workload = draws(rng(seed, Stream::Workload), 64);
            assert_ne!(fault_0[0], workload[0], "seed {seed}");
            let workload: HashSet<u64> = workload.into_iter().collect();
            assert!(
                fault_0.iter().all(|d| !workload.contains(d)),
                "seed {seed}: fault 0 shares a draw with the workload"
            );
            assert_ne!(fault_0, before_fault_0, "seed {seed}");
        }
    }
}
