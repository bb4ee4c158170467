//! Unit tests of group order and overwrite order.

use super::*;
use crate::oracle::fifo::parse;
use crate::oracle::testkit::{self, expect, upload, uploads};

fn group_check(fifo: &[FifoReceived], uploads: &[Uploaded]) -> (Vec<Violation>, Vec<String>) {
    let named: Vec<_> = fifo.iter().map(|m| parse(&m.body)).collect();
    let owner: Vec<Option<usize>> = named
        .iter()
        .map(|n| {
            n.as_ref()
                .ok()
                .and_then(|n| uploads.iter().position(|u| u.key == n.key))
        })
        .collect();
    group_order(uploads, fifo, &named, &owner)
}

#[test]
fn groups_are_ordered_independently() {
    let ups = uploads(4);
    // Groups a and b interleaved; each increasing on its own although not globally.
    let f = [
        testkit::fifo(&ups[0], "a", 10, 0),
        testkit::fifo(&ups[1], "b", 5, 0),
        testkit::fifo(&ups[2], "a", 11, 0),
        testkit::fifo(&ups[3], "b", 6, 0),
    ];
    assert_eq!(group_check(&f, &ups), (vec![], vec![]));
}

#[test]
fn equal_or_smaller_sequence_numbers_break_the_order() {
    let ups = uploads(3);
    let f = [
        testkit::fifo(&ups[0], "a", 10, 0),
        testkit::fifo(&ups[1], "a", 10, 0),
        testkit::fifo(&ups[2], "a", 9, 0),
    ];
    let (v, _) = group_check(&f, &ups);
    let pairs: Vec<(usize, usize)> = v
        .iter()
        .map(|v| match v {
            Violation::GroupOrderBroken {
                earlier_position,
                later_position,
                ..
            } => (*earlier_position, *later_position),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(pairs, [(0, 1), (1, 2)]);
}

#[test]
fn sequence_numbers_are_compared_as_numbers_beyond_u64() {
    let ups = uploads(2);
    let mut f = [
        testkit::fifo(&ups[0], "a", 0, 0),
        testkit::fifo(&ups[1], "a", 0, 0),
    ];
    f[0].sequence_number = Some("99999999999999999999".into());
    f[1].sequence_number = Some("100000000000000000000".into());
    assert_eq!(group_check(&f, &ups), (vec![], vec![]));
}

#[test]
fn the_group_falls_back_to_the_messages_group_id_and_unnumbered_are_skipped() {
    let ups = uploads(3);
    let mut f = [
        testkit::fifo(&ups[0], "g", 5, 0),
        testkit::fifo(&ups[1], "g", 4, 0),
        testkit::fifo(&ups[2], "g", 6, 0),
    ];
    f[0].group_id = None;
    f[1].group_id = None;
    f[2].sequence_number = Some("n/a".into());
    let (v, skipped) = group_check(&f, &ups);
    assert!(
        matches!(&v[..], [Violation::GroupOrderBroken { group_id, .. }] if group_id == "g"),
        "{v:?}"
    );
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0].contains("[2]"), "{skipped:?}");
}

#[test]
fn hex_sequencers_compare_after_padding() {
    assert!(hex_less("9", "0A"));
    assert!(hex_less("FF", "100"));
    assert!(!hex_less("100", "FF"));
    assert!(!hex_less("0A", "A"));
    assert_eq!(hex("00ab"), Some("00AB".into()));
    assert_eq!(hex("xyz"), None);
    assert_eq!(hex(""), None);
}

fn overwrites() -> Vec<Uploaded> {
    vec![
        upload(0, "k", Some("v0"), "e0"),
        upload(1, "other", Some("v1"), "e1"),
        upload(2, "k", Some("v2"), "e2"),
        upload(3, "k", Some("v3"), "e3"),
    ]
}

fn seqs(values: [Option<&str>; 4]) -> Vec<Option<String>> {
    values.iter().map(|s| s.map(Into::into)).collect()
}

#[test]
fn overwrites_must_carry_increasing_sequencers() {
    let ups = overwrites();
    let good = seqs([Some("5"), Some("1"), Some("0006"), Some("a0")]);
    assert_eq!(overwrite_order(&expect(), &ups, &good), (vec![], vec![]));
    // A constant sequencer (LocalStack's) is a violation where the target should order them.
    let constant = seqs([Some("5"); 4]);
    let (v, _) = overwrite_order(&expect(), &ups, &constant);
    let pairs: Vec<(usize, usize)> = v
        .iter()
        .map(|v| match v {
            Violation::OverwriteOrderBroken {
                earlier_index,
                later_index,
                key,
                ..
            } => {
                assert_eq!(key, "k");
                (*earlier_index, *later_index)
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(pairs, [(0, 2), (2, 3)]);
}

#[test]
fn overwrite_order_is_skipped_when_not_checkable() {
    let ups = overwrites();
    let localstack = Expect {
        sequencer_orders_overwrites: false,
        ..expect()
    };
    let any = seqs([Some("5"); 4]);
    assert_eq!(
        overwrite_order(&localstack, &ups, &any),
        (vec![], vec![SEQUENCER_CONSTANT.to_owned()])
    );
    // No key uploaded twice: nothing to check, nothing skipped.
    assert_eq!(
        overwrite_order(&localstack, &uploads(3), &[None, None, None]),
        (vec![], vec![])
    );
    // A version without a (hex) sequencer: that pair is skipped, the others checked.
    let partial = seqs([Some("5"), None, None, Some("6")]);
    let (v, skipped) = overwrite_order(&expect(), &ups, &partial);
    assert_eq!(v, []);
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped[0].contains("#0 and #2"), "{skipped:?}");
}
