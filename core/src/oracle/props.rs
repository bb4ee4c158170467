//! Property tests of [`super::judge`]: a perfect delivery always passes, and dropping,
//! duplicating or reordering one FIFO message is always reported, for any mix of groups,
//! overwrites, identical contents and awkward keys (spaces, `+`, `%`, Unicode, control
//! characters), with emails rendered by the real handler's code.

use proptest::prelude::*;
use proptest::sample::Index;

use super::testkit::{self, mail};
use super::*;

/// Keys as S3 users write them; the pool is small so overwrites of one key happen.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a b.txt".to_owned()),
        Just("a+b.txt".to_owned()),
        Just("100%.txt".to_owned()),
        Just("x%2By".to_owned()),
        Just("naïve/北京 file.txt".to_owned()),
        Just("tab\there\nnewline".to_owned()),
        "[a-z +%é北/]{1,12}",
    ]
}

/// One run: uploads, each upload's FIFO group, and the receive orders.
#[derive(Debug, Clone)]
struct Run {
    expect: Expect,
    uploads: Vec<Uploaded>,
    groups: Vec<String>,
    fifo_order: Vec<usize>,
    mail_order: Vec<usize>,
}

impl Run {
    /// One message and one email per upload, in the generated receive orders; sequence numbers
    /// grow in receive order, so within every group too.
    fn perfect(&self) -> (Vec<FifoReceived>, Vec<MailReceived>) {
        let fifo = self
            .fifo_order
            .iter()
            .enumerate()
            .map(|(p, &u)| {
                let up = &self.uploads[u];
                testkit::fifo(
                    up,
                    &self.groups[u],
                    1000 + p as u128,
                    up.at_ms + 5 + p as u64,
                )
            })
            .collect();
        let mails = self
            .mail_order
            .iter()
            .enumerate()
            .map(|(p, &u)| mail(&self.uploads[u], self.uploads[u].at_ms + 3 + p as u64))
            .collect();
        (fifo, mails)
    }

    fn judge(&self, fifo: &[FifoReceived], mails: &[MailReceived]) -> Judgement {
        judge(&self.expect, &self.uploads, fifo, mails, &[])
    }
}

fn run(sizes: std::ops::Range<usize>) -> impl Strategy<Value = Run> {
    sizes
        .prop_flat_map(|n| {
            (
                prop::collection::vec(key(), 3),
                prop::collection::vec((0usize..3, 0usize..2, 0usize..2), n),
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
                Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
                any::<bool>(),
            )
        })
        .prop_map(|(keys, picks, fifo_order, mail_order, ordered)| {
            let uploads = picks
                .iter()
                .enumerate()
                .map(|(i, &(k, etag, _))| {
                    testkit::upload(i, &keys[k], Some(&format!("v{i}")), &format!("etag{etag}"))
                })
                .collect();
            let groups = picks
                .iter()
                .map(|&(_, _, g)| format!("group-{g}"))
                .collect();
            let expect = Expect {
                sequencer_orders_overwrites: ordered,
                ..testkit::expect()
            };
            Run {
                expect,
                uploads,
                groups,
                fifo_order,
                mail_order,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn a_perfect_delivery_always_passes(r in run(1..9)) {
        let (fifo, mails) = r.perfect();
        let j = r.judge(&fifo, &mails);
        prop_assert!(j.passed(), "{:#?}", j.violations);
        prop_assert!(j.objects.iter().all(|o| o.ok && o.fifo_messages == 1 && o.emails == 1));
        prop_assert_eq!(j.fifo_latency.count, r.uploads.len());
        prop_assert_eq!(j.email_latency.count, r.uploads.len());
        let overwritten = (0..r.uploads.len())
            .any(|a| (0..a).any(|b| r.uploads[a].key == r.uploads[b].key));
        let skipped = overwritten && !r.expect.sequencer_orders_overwrites;
        prop_assert_eq!(j.skipped.len(), usize::from(skipped), "{:?}", j.skipped);
    }

    #[test]
    fn dropping_one_message_is_exactly_one_missing_message(r in run(1..9), which in any::<Index>()) {
        let (mut fifo, mails) = r.perfect();
        let p = which.index(fifo.len());
        fifo.remove(p);
        let up = &r.uploads[r.fifo_order[p]];
        let j = r.judge(&fifo, &mails);
        prop_assert_eq!(
            j.violations,
            vec![Violation::MissingFifoMessage {
                index: up.index,
                key: up.key.clone(),
                version_id: up.version_id.clone(),
            }]
        );
    }

    #[test]
    fn duplicating_one_message_is_reported(
        r in run(1..9), which in any::<Index>(), later in any::<Index>(),
    ) {
        let (mut fifo, mails) = r.perfect();
        let p = which.index(fifo.len());
        // A redelivery: the same message again, any time after the first.
        let q = p + 1 + later.index(fifo.len() - p);
        fifo.insert(q, fifo[p].clone());
        let up = &r.uploads[r.fifo_order[p]];
        let j = r.judge(&fifo, &mails);
        let duplicate = Violation::DuplicateFifoMessage {
            index: up.index,
            key: up.key.clone(),
            version_id: up.version_id.clone(),
            count: 2,
        };
        prop_assert!(j.violations.contains(&duplicate), "{:#?}", j.violations);
        prop_assert!(
            !j.violations.iter().any(|v| matches!(v, Violation::MissingFifoMessage { .. })),
            "{:#?}", j.violations
        );
    }

    #[test]
    fn swapping_two_messages_of_one_group_breaks_its_order(
        r in run(3..9), first in any::<Index>(), second in any::<Index>(),
    ) {
        let (mut fifo, mails) = r.perfect();
        // With 3 or more messages in 2 groups, some group has two.
        let group_of = |p: usize| &r.groups[r.fifo_order[p]];
        let group = (0..fifo.len())
            .map(group_of)
            .find(|g| (0..fifo.len()).filter(|&p| group_of(p) == *g).count() >= 2)
            .unwrap()
            .clone();
        let members: Vec<usize> = (0..fifo.len()).filter(|&p| *group_of(p) == group).collect();
        let a = first.index(members.len());
        let b = (a + 1 + second.index(members.len() - 1)) % members.len();
        fifo.swap(members[a], members[b]);
        let j = r.judge(&fifo, &mails);
        prop_assert!(
            j.violations
                .iter()
                .any(|v| matches!(v, Violation::GroupOrderBroken { group_id, .. } if *group_id == group)),
            "{:#?}", j.violations
        );
    }
}
