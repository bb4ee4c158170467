//! Attributing deliveries to uploaded versions, and the exactly-once counts.
//!
//! Each delivery (FIFO message or email) comes with the uploads it may belong to. Usually that
//! is one version (the version id names it). When a delivery cannot tell versions apart (an
//! email naming key and ETag but no version, for two versions with identical content) it is
//! pooled: such deliveries are dealt, earliest first, to the candidate with the fewest so far,
//! so N deliveries for M indistinguishable versions are counted per (key, ETag) as the rule
//! asks, and a surplus or shortfall still lands on one named version.

use super::{Uploaded, Violation};

/// Which channel a count is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Channel {
    Fifo,
    Email,
}

/// One channel's deliveries, attributed to uploads.
#[derive(Debug, Clone)]
pub(super) struct Attributed {
    /// Per delivery: the upload (position in `uploads`) it belongs to.
    pub owner: Vec<Option<usize>>,
    /// Per upload: its deliveries, in receive order.
    pub per_upload: Vec<Vec<usize>>,
    /// Per delivery: its arrival, ms since run start.
    pub at_ms: Vec<u64>,
}

impl Attributed {
    /// Attributes deliveries (see [`assign`]).
    pub fn new(
        uploads: &[Uploaded],
        candidates: &[Result<Vec<usize>, String>],
        at_ms: Vec<u64>,
    ) -> Self {
        let owner = assign(uploads, candidates, &at_ms);
        let per_upload = per_upload(&owner, uploads.len());
        Self {
            owner,
            per_upload,
            at_ms,
        }
    }

    /// First arrival for upload `u` minus its upload time.
    pub fn latency(&self, u: usize, up: &Uploaded) -> Option<u64> {
        let first = self.per_upload[u].iter().map(|&d| self.at_ms[d]).min();
        first.map(|t| t.saturating_sub(up.at_ms))
    }
}

/// The upload (position in `uploads`) each delivery is attributed to; `None` for deliveries
/// whose candidates are `Err` (unexpected) or empty (ignored). `candidates[d]` lists positions
/// in `uploads`; `at_ms[d]` is the delivery's arrival.
pub(super) fn assign(
    uploads: &[Uploaded],
    candidates: &[Result<Vec<usize>, String>],
    at_ms: &[u64],
) -> Vec<Option<usize>> {
    let mut owner: Vec<Option<usize>> = vec![None; candidates.len()];
    let mut load = vec![0usize; uploads.len()];
    let mut pooled = Vec::new();
    for (d, c) in candidates.iter().enumerate() {
        match c.as_deref() {
            Ok([only]) => {
                owner[d] = Some(*only);
                load[*only] += 1;
            }
            Ok([]) | Err(_) => {}
            Ok(_) => pooled.push(d),
        }
    }
    pooled.sort_by_key(|&d| (at_ms[d], d));
    for d in pooled {
        let Ok(c) = &candidates[d] else { continue };
        let best = c
            .iter()
            .copied()
            .min_by_key(|&u| (load[u], uploads[u].index, uploads[u].at_ms));
        if let Some(u) = best {
            owner[d] = Some(u);
            load[u] += 1;
        }
    }
    owner
}

/// For each upload position, the deliveries attributed to it, in receive order.
pub(super) fn per_upload(owner: &[Option<usize>], uploads: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); uploads];
    for (d, o) in owner.iter().enumerate() {
        if let Some(u) = o {
            out[*u].push(d);
        }
    }
    out
}

/// Missing (0) and duplicate (> 1) deliveries per upload.
pub(super) fn count_violations(
    uploads: &[Uploaded],
    per_upload: &[Vec<usize>],
    channel: Channel,
) -> Vec<Violation> {
    let mut out = Vec::new();
    for (up, deliveries) in uploads.iter().zip(per_upload) {
        let count = deliveries.len();
        if count == 1 {
            continue; // The usual case: nothing to name, so nothing to copy.
        }
        let (index, key, version_id) = (up.index, up.key.clone(), up.version_id.clone());
        let etag = up.etag.clone();
        out.push(match (channel, count) {
            (Channel::Fifo, 0) => Violation::MissingFifoMessage {
                index,
                key,
                version_id,
            },
            (Channel::Fifo, _) => Violation::DuplicateFifoMessage {
                index,
                key,
                version_id,
                count,
            },
            (Channel::Email, 0) => Violation::MissingEmail {
                index,
                key,
                version_id,
                etag,
            },
            (Channel::Email, _) => Violation::DuplicateEmail {
                index,
                key,
                version_id,
                etag,
                count,
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(index: usize) -> Uploaded {
        Uploaded {
            index,
            key: "k".into(),
            version_id: None,
            etag: "e".into(),
            size: 1,
            at_ms: index as u64,
        }
    }

    #[test]
    fn single_candidates_are_attributed_directly() {
        let uploads = [up(0), up(1)];
        let owner = assign(
            &uploads,
            &[Ok(vec![1]), Err("x".into()), Ok(vec![0])],
            &[0, 0, 0],
        );
        assert_eq!(owner, [Some(1), None, Some(0)]);
        assert_eq!(per_upload(&owner, 2), [vec![2], vec![0]]);
    }

    #[test]
    fn pooled_deliveries_fill_the_least_served_version_earliest_first() {
        let uploads = [up(0), up(1)];
        // Arrivals 30, 10, 20: the first to arrive goes to the first version.
        let both = || Ok(vec![0, 1]);
        let owner = assign(&uploads, &[both(), both(), both()], &[30, 10, 20]);
        assert_eq!(owner, [Some(0), Some(0), Some(1)]);
        // One pooled email for two versions: the later version is the one missing it.
        let owner = assign(&uploads, &[both()], &[5]);
        let v = count_violations(&uploads, &per_upload(&owner, 2), Channel::Email);
        assert!(
            matches!(v[..], [Violation::MissingEmail { index: 1, .. }]),
            "{v:?}"
        );
    }

    #[test]
    fn pooled_deliveries_take_the_direct_ones_into_account() {
        let uploads = [up(0), up(1)];
        let owner = assign(&uploads, &[Ok(vec![0, 1]), Ok(vec![0])], &[1, 2]);
        assert_eq!(owner, [Some(1), Some(0)]);
    }

    #[test]
    fn counts_name_missing_and_duplicate_versions() {
        let uploads = [up(0), up(1), up(2)];
        let per = [vec![], vec![3], vec![4, 5]];
        let v = count_violations(&uploads, &per, Channel::Fifo);
        assert_eq!(
            v,
            [
                Violation::MissingFifoMessage {
                    index: 0,
                    key: "k".into(),
                    version_id: None
                },
                Violation::DuplicateFifoMessage {
                    index: 2,
                    key: "k".into(),
                    version_id: None,
                    count: 2
                },
            ]
        );
    }
}
