//! What must hold after a chaos run, on top of the oracle's judgement: the faults a scenario
//! injected on purpose are accounted for, and nothing else is excused.
//!
//! Three outcomes are expected, not violations, and each is checked exactly:
//! * a redelivered S3 event mails again (the handler keeps no state, README "Known limit"), so
//!   an object whose event went `1 + copies` times has exactly that many emails, and still one
//!   FIFO message;
//! * a FIFO message published while the queue's subscription was removed is lost by SNS (the
//!   publish succeeds), so exactly the window's objects, and no others, miss their message;
//! * an event Lambda tried while the function's reserved concurrency was 0 is dropped into the
//!   on-failure queue ([`super::dropped`]), so each object of a throttle window either delivers
//!   or is named by exactly one such record, and then delivers nothing.
//!
//! Everything else the oracle found stays a violation and is named with the faults that touched
//! the object. Pure.

use std::collections::{BTreeMap, BTreeSet};

use crate::oracle::{FailureReceived, Judgement, Uploaded, Violation};

use super::dropped::dropped_uploads;

/// What the run did on purpose that changes the expected deliveries.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Excused {
    /// Upload index -> emails expected (only where more than one).
    pub emails: BTreeMap<usize, usize>,
    /// Upload indices whose FIFO message SNS dropped on purpose.
    pub lost: BTreeSet<usize>,
    /// Upload indices made while the function's reserved concurrency was 0.
    pub throttled: BTreeSet<usize>,
}

/// The judgement after accounting.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Accounting {
    /// One line per excused finding.
    pub accounted: Vec<String>,
    /// Checks of the excuses themselves: `(name, ok, detail)`.
    pub checks: Vec<(String, bool, String)>,
}

/// Removes the excused violations from `judgement` (settling each object's `ok`) and returns
/// what was excused and the checks that the excuses were exact. `failures` are the on-failure
/// queue's records.
pub fn account(
    judgement: &mut Judgement,
    uploads: &[Uploaded],
    failures: &[FailureReceived],
    excused: &Excused,
) -> Accounting {
    let mut out = Accounting::default();
    let dropped = account_dropped(judgement, uploads, failures, excused, &mut out);
    let mut missing_fifo = BTreeSet::new();
    judgement.violations.retain(|v| match v {
        Violation::DuplicateEmail {
            index, key, count, ..
        } if excused.emails.get(index) == Some(count) => {
            out.accounted.push(format!(
                "object #{index} {key:?}: {count} emails for {count} deliveries of its event \
                 (redelivered on purpose; the handler keeps no state)"
            ));
            false
        }
        Violation::MissingFifoMessage { index, .. } | Violation::MissingEmail { index, .. }
            if dropped.contains(index) =>
        {
            false
        }
        Violation::MissingFifoMessage { index, key, .. } => {
            missing_fifo.insert(*index);
            if excused.lost.contains(index) {
                out.accounted.push(format!(
                    "object #{index} {key:?}: FIFO message lost while the subscription was \
                     removed (SNS accepted the publish and had no subscriber)"
                ));
                false
            } else {
                true
            }
        }
        _ => true,
    });
    if !excused.lost.is_empty() {
        let delivered: Vec<usize> = excused.lost.difference(&missing_fifo).copied().collect();
        out.checks.push((
            "exactly the objects uploaded while the FIFO subscription was removed lost their message"
                .into(),
            delivered.is_empty(),
            if delivered.is_empty() {
                format!("{} object(s) lost, as expected", excused.lost.len())
            } else {
                format!(
                    "object(s) {delivered:?} were delivered although published without a subscription"
                )
            },
        ));
    }
    for (index, wanted) in &excused.emails {
        let got = judgement
            .objects
            .iter()
            .find(|o| o.index == *index)
            .map_or(0, |o| o.emails);
        if got < *wanted && got == 1 {
            // One email where more deliveries were made: the redelivery did not run the handler.
            let upload = uploads.iter().find(|u| u.index == *index);
            judgement.violations.push(Violation::RedeliveryNotMailed {
                index: *index,
                key: upload.map(|u| u.key.clone()).unwrap_or_default(),
                version_id: upload.and_then(|u| u.version_id.clone()),
                deliveries: *wanted,
                emails: got,
            });
        }
    }
    let named: BTreeSet<usize> = judgement
        .violations
        .iter()
        .flat_map(Violation::objects)
        .collect();
    for object in &mut judgement.objects {
        object.ok = !named.contains(&object.index);
    }
    out
}

/// The throttle windows' objects whose event Lambda dropped (each named by exactly one
/// `ZeroReservedConcurrency` record and without any delivery): their missing deliveries and
/// their records are accounted for, and the check that the drops were exact is added.
fn account_dropped(
    judgement: &mut Judgement,
    uploads: &[Uploaded],
    failures: &[FailureReceived],
    excused: &Excused,
    out: &mut Accounting,
) -> BTreeSet<usize> {
    if excused.throttled.is_empty() {
        return BTreeSet::new();
    }
    let named = dropped_uploads(failures, uploads);
    let mut records: BTreeMap<usize, usize> = BTreeMap::new();
    for index in named.iter().flatten() {
        *records.entry(*index).or_default() += 1;
    }
    let delivered = |index: usize| {
        judgement
            .objects
            .iter()
            .find(|o| o.index == index)
            .is_some_and(|o| o.fifo_messages > 0 || o.emails > 0)
    };
    let mut problems = Vec::new();
    let mut dropped = BTreeSet::new();
    for (&index, &count) in &records {
        if !excused.throttled.contains(&index) {
            problems.push(format!(
                "object #{index} was dropped outside the throttle window"
            ));
        } else if count > 1 {
            problems.push(format!("object #{index} has {count} records, expected 1"));
        } else if delivered(index) {
            problems.push(format!("object #{index} was dropped and delivered too"));
        } else {
            dropped.insert(index);
        }
    }
    let unnamed = named.iter().filter(|n| n.is_none()).count();
    if unnamed > 0 {
        problems.push(format!("{unnamed} record(s) name no upload"));
    }
    for &index in &dropped {
        let key = uploads
            .iter()
            .find(|u| u.index == index)
            .map_or("", |u| u.key.as_str());
        out.accounted.push(format!(
            "object #{index} {key:?}: its event was dropped while the function's reserved \
             concurrency was 0 ({} in the on-failure queue; Lambda does not retry such events)",
            super::dropped::ZERO_RESERVED_CONCURRENCY
        ));
    }
    // The records that stand for dropped objects are not failures of the pipeline.
    judgement.violations.retain(|v| match v {
        Violation::FailureCountMismatch { expected, got, .. } => {
            got.saturating_sub(dropped.len()) != *expected
        }
        _ => true,
    });
    out.checks.push((
        "each event dropped at zero reserved concurrency is recorded once, in the window, and \
         delivered nothing"
            .into(),
        problems.is_empty(),
        if problems.is_empty() {
            format!(
                "{} of {} throttled object(s) dropped to the on-failure queue, the rest delivered",
                dropped.len(),
                excused.throttled.len()
            )
        } else {
            problems.join("; ")
        },
    ));
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::{LatencySummary, ObjectResult};

    fn judgement(violations: Vec<Violation>, emails: &[usize]) -> Judgement {
        Judgement {
            objects: emails
                .iter()
                .enumerate()
                .map(|(index, &emails)| ObjectResult {
                    index,
                    key: format!("k{index}"),
                    version_id: None,
                    fifo_messages: 1,
                    emails,
                    fifo_latency_ms: None,
                    email_latency_ms: None,
                    ok: false,
                })
                .collect(),
            violations,
            skipped: Vec::new(),
            fifo_latency: LatencySummary::of(std::iter::empty()),
            email_latency: LatencySummary::of(std::iter::empty()),
        }
    }

    fn dup(index: usize, count: usize) -> Violation {
        Violation::DuplicateEmail {
            index,
            key: format!("k{index}"),
            version_id: None,
            etag: "e".into(),
            count,
        }
    }

    fn missing(index: usize) -> Violation {
        Violation::MissingFifoMessage {
            index,
            key: format!("k{index}"),
            version_id: None,
        }
    }

    #[test]
    fn redelivery_emails_are_excused_only_at_the_exact_count() {
        let mut j = judgement(vec![dup(0, 3), dup(1, 2)], &[3, 2]);
        let excused = Excused {
            emails: [(0, 3), (1, 3)].into(),
            ..Excused::default()
        };
        let out = account(&mut j, &[], &[], &excused);
        assert_eq!(out.accounted.len(), 1);
        assert_eq!(j.violations, vec![dup(1, 2)]);
        assert!(j.objects[0].ok && !j.objects[1].ok);
    }

    #[test]
    fn a_redelivery_that_mailed_nothing_more_is_a_violation() {
        let mut j = judgement(vec![], &[1]);
        let excused = Excused {
            emails: [(0, 2)].into(),
            ..Excused::default()
        };
        account(&mut j, &[], &[], &excused);
        assert_eq!(
            j.violations,
            vec![Violation::RedeliveryNotMailed {
                index: 0,
                key: String::new(),
                version_id: None,
                deliveries: 2,
                emails: 1,
            }]
        );
        assert!(
            j.violations[0]
                .to_string()
                .contains("1 email alert(s) for 2 deliveries")
        );
        assert!(!j.objects[0].ok);
    }

    #[test]
    fn only_the_windows_objects_may_be_lost() {
        let mut j = judgement(vec![missing(1), missing(2)], &[1, 1, 1]);
        let excused = Excused {
            lost: [1, 3].into(),
            ..Excused::default()
        };
        let out = account(&mut j, &[], &[], &excused);
        assert_eq!(j.violations, vec![missing(2)], "2 was not in the window");
        assert_eq!(out.checks.len(), 1);
        assert!(!out.checks[0].1, "3 was in the window but delivered");
        assert!(out.checks[0].2.contains("[3]"));
        let mut exact = judgement(vec![missing(1)], &[1, 1]);
        let out = account(
            &mut exact,
            &[],
            &[],
            &Excused {
                lost: [1].into(),
                ..Excused::default()
            },
        );
        assert!(exact.violations.is_empty() && out.checks[0].1);
    }

    #[test]
    fn regression_events_dropped_at_zero_reserved_concurrency_are_accounted_only_when_exact() {
        let uploads: Vec<Uploaded> = (0..3)
            .map(|index| Uploaded {
                index,
                key: format!("k{index}"),
                version_id: Some("v".into()),
                etag: "e".into(),
                size: 1,
                at_ms: 0,
            })
            .collect();
        let record = |index: usize| FailureReceived {
            body: serde_json::json!({
                "requestContext": {"condition": "ZeroReservedConcurrency"},
                "requestPayload": {"Records": [
                    {"s3": {"object": {"key": format!("k{index}"), "versionId": "v"}}}
                ]}
            })
            .to_string(),
            at_ms: 0,
        };
        let missing_both = |index: usize| {
            vec![
                missing(index),
                Violation::MissingEmail {
                    index,
                    key: format!("k{index}"),
                    version_id: None,
                    etag: "e".into(),
                },
            ]
        };
        let mismatch = |got: usize| Violation::FailureCountMismatch {
            expected: 0,
            got,
            bodies: Vec::new(),
        };
        let throttled = Excused {
            throttled: [1, 2].into(),
            ..Excused::default()
        };
        // Object 1 dropped (one record, nothing delivered); object 2 delivered after the window.
        let mut violations = missing_both(1);
        violations.push(mismatch(1));
        let mut j = judgement(violations, &[1, 0, 1]);
        j.objects[1].fifo_messages = 0;
        let out = account(&mut j, &uploads, &[record(1)], &throttled);
        assert!(j.violations.is_empty(), "{:?}", j.violations);
        assert!(j.objects.iter().all(|o| o.ok));
        assert_eq!(out.accounted.len(), 1);
        assert!(out.accounted[0].starts_with("object #1 \"k1\": its event was dropped"));
        assert!(out.accounted[0].contains("ZeroReservedConcurrency"));
        assert!(out.checks[0].1, "{:?}", out.checks);
        assert!(
            out.checks[0].2.starts_with("1 of 2 throttled"),
            "{:?}",
            out.checks
        );

        // A drop outside the window stays a violation and fails the check.
        let mut violations = missing_both(0);
        violations.push(mismatch(1));
        let mut j = judgement(violations.clone(), &[0, 1, 1]);
        j.objects[0].fifo_messages = 0;
        let out = account(&mut j, &uploads, &[record(0)], &throttled);
        assert_eq!(j.violations, violations);
        assert!(!out.checks[0].1 && out.checks[0].2.contains("outside the throttle window"));

        // Two records for one object: not excused either.
        let mut violations = missing_both(1);
        violations.push(mismatch(2));
        let mut j = judgement(violations.clone(), &[1, 0, 1]);
        j.objects[1].fifo_messages = 0;
        let out = account(&mut j, &uploads, &[record(1), record(1)], &throttled);
        assert_eq!(j.violations, violations);
        assert!(!out.checks[0].1 && out.checks[0].2.contains("2 records"));

        // Dropped and delivered too, and a record for no upload: both fail the check.
        let mut j = judgement(vec![mismatch(2)], &[1, 1, 1]);
        let out = account(&mut j, &uploads, &[record(1), record(9)], &throttled);
        assert_eq!(j.violations, vec![mismatch(2)]);
        let detail = &out.checks[0].2;
        assert!(!out.checks[0].1, "{detail}");
        assert!(
            detail.contains("object #1 was dropped and delivered too"),
            "{detail}"
        );
        assert!(detail.contains("1 record(s) name no upload"), "{detail}");
    }
}
