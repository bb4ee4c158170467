//! Ordering: FIFO delivery order within a message group, and the S3 sequencer order of
//! overwrites of one key.
//!
//! SQS FIFO assigns each message a SequenceNumber that grows within its group; a queue that
//! delivers a group out of order (or delivers one message twice) shows up as a SequenceNumber
//! that does not grow in receive order. S3's `sequencer` orders the events of one key; it is
//! hex of varying length, compared after left-padding with zeros. LocalStack's sequencer is
//! constant, so there the overwrite check is reported as skipped instead of failed.

use std::collections::{BTreeMap, HashMap};

use super::fifo::Named;
use super::{Expect, FifoReceived, Uploaded, Violation};

/// The line added to `skipped` when the target's sequencer cannot order overwrites.
pub(super) const SEQUENCER_CONSTANT: &str =
    "overwrite order: the target's S3 sequencer is constant (LocalStack); not checkable";

/// Within each group (the SQS `MessageGroupId`, else the message's `group_id`), the
/// SequenceNumber must strictly increase in receive order; each message is compared with the
/// one received before it in its group.
pub(super) fn group_order(
    uploads: &[Uploaded],
    fifo: &[FifoReceived],
    named: &[Result<Named, String>],
    owner: &[Option<usize>],
) -> (Vec<Violation>, Vec<String>) {
    let mut violations = Vec::new();
    let mut unnumbered = Vec::new();
    let mut last: HashMap<&str, (usize, u128)> = HashMap::new();
    let key = |d: usize| named[d].as_ref().ok().map(|n| n.key.clone());
    let index = |d: usize| owner[d].map(|u| uploads[u].index);
    for (d, message) in fifo.iter().enumerate() {
        let group = message
            .group_id
            .as_deref()
            .or_else(|| named[d].as_ref().ok()?.value.get("group_id")?.as_str())
            .unwrap_or("(none)");
        let Some(seq) = message
            .sequence_number
            .as_deref()
            .and_then(|s| s.parse::<u128>().ok())
        else {
            unnumbered.push(d);
            continue;
        };
        if let Some(&(e, earlier)) = last.get(&group)
            && seq <= earlier
        {
            violations.push(Violation::GroupOrderBroken {
                group_id: group.to_owned(),
                earlier_position: e,
                earlier_index: index(e),
                earlier_key: key(e),
                earlier_sequence_number: earlier.to_string(),
                later_position: d,
                later_index: index(d),
                later_key: key(d),
                later_sequence_number: seq.to_string(),
            });
        }
        last.insert(group, (d, seq));
    }
    let skipped = if unnumbered.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "group order: {} FIFO message(s) without a decimal SequenceNumber (positions {:?}); \
             not checked",
            unnumbered.len(),
            unnumbered
        )]
    };
    (violations, skipped)
}

/// A sequencer normalized for comparison (upper-case hex), or `None` if it is not hex.
fn hex(sequencer: &str) -> Option<String> {
    let ok = !sequencer.is_empty() && sequencer.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| sequencer.to_ascii_uppercase())
}

/// `a < b` for hex strings of possibly different lengths.
fn hex_less(a: &str, b: &str) -> bool {
    let width = a.len().max(b.len());
    format!("{a:0>width$}") < format!("{b:0>width$}")
}

/// For each key uploaded more than once, the sequencers of its versions (`sequencers[u]`: of the
/// first FIFO message for upload `u`) must increase in upload order (`Uploaded::index`; the
/// uploader runs the uploads of one key one after another).
pub(super) fn overwrite_order(
    expect: &Expect,
    uploads: &[Uploaded],
    sequencers: &[Option<String>],
) -> (Vec<Violation>, Vec<String>) {
    let mut of_key: HashMap<&str, Vec<usize>> = HashMap::new();
    for (u, up) in uploads.iter().enumerate() {
        of_key.entry(up.key.as_str()).or_default().push(u);
    }
    // Sorted by key, for a stable report; only the overwritten keys, so the sort stays small.
    let by_key: BTreeMap<&str, Vec<usize>> = of_key
        .into_iter()
        .filter(|(_, versions)| versions.len() > 1)
        .collect();
    if by_key.is_empty() {
        return (Vec::new(), Vec::new());
    }
    if !expect.sequencer_orders_overwrites {
        return (Vec::new(), vec![SEQUENCER_CONSTANT.to_owned()]);
    }
    let (mut violations, mut skipped) = (Vec::new(), Vec::new());
    for (key, mut versions) in by_key {
        versions.sort_by_key(|&u| (uploads[u].index, uploads[u].at_ms));
        for pair in versions.windows(2) {
            let (a, b) = (&uploads[pair[0]], &uploads[pair[1]]);
            let seq = |u: usize| sequencers[u].as_deref().and_then(hex);
            let (Some(sa), Some(sb)) = (seq(pair[0]), seq(pair[1])) else {
                skipped.push(format!(
                    "overwrite order of key {key:?}: objects #{} and #{} do not both have a FIFO \
                     message with a hex sequencer; not checked",
                    a.index, b.index
                ));
                continue;
            };
            if !hex_less(&sa, &sb) {
                violations.push(Violation::OverwriteOrderBroken {
                    key: key.to_owned(),
                    earlier_index: a.index,
                    earlier_version_id: a.version_id.clone(),
                    earlier_sequencer: sequencers[pair[0]].clone().unwrap_or_default(),
                    later_index: b.index,
                    later_version_id: b.version_id.clone(),
                    later_sequencer: sequencers[pair[1]].clone().unwrap_or_default(),
                });
            }
        }
    }
    (violations, skipped)
}

#[cfg(test)]
mod tests;
