//! Unit tests of [`super::judge`]: one per violation kind and rule, on tiny hand-made inputs
//! rendered like the real handler renders them ([`super::testkit`]).

use super::testkit::{self, BUCKET, EMAIL, expect, fifo, mail, perfect, upload, uploads};
use super::*;

fn run(uploads: &[Uploaded], fifo: &[FifoReceived], mails: &[MailReceived]) -> Judgement {
    judge(&expect(), uploads, fifo, mails, &[])
}

#[test]
fn a_perfect_delivery_passes_with_latencies() {
    let ups = uploads(3);
    let (f, m) = perfect(&ups);
    let j = run(&ups, &f, &m);
    assert!(j.passed(), "{:?}", j.violations);
    assert!(j.skipped.is_empty(), "{:?}", j.skipped);
    assert!(
        j.objects
            .iter()
            .all(|o| o.ok && o.fifo_messages == 1 && o.emails == 1)
    );
    assert_eq!(j.objects[1].fifo_latency_ms, Some(5));
    assert_eq!(j.objects[1].email_latency_ms, Some(7));
    assert_eq!((j.fifo_latency.count, j.fifo_latency.p95_ms), (3, Some(5)));
    assert_eq!(
        (j.email_latency.count, j.email_latency.max_ms),
        (3, Some(7))
    );
}

#[test]
fn missing_fifo_message_names_the_object() {
    let ups = uploads(3);
    let (mut f, m) = perfect(&ups);
    f.remove(1);
    let j = run(&ups, &f, &m);
    assert_eq!(
        j.violations,
        [Violation::MissingFifoMessage {
            index: 1,
            key: "k1".into(),
            version_id: Some("v1".into())
        }]
    );
    assert_eq!(
        j.objects.iter().map(|o| o.ok).collect::<Vec<_>>(),
        [true, false, true]
    );
    assert_eq!(
        (j.objects[1].fifo_messages, j.objects[1].fifo_latency_ms),
        (0, None)
    );
    assert_eq!(j.fifo_latency.count, 2);
}

#[test]
fn duplicate_fifo_message_is_counted() {
    let ups = uploads(2);
    let (mut f, m) = perfect(&ups);
    // A second publish of the same object: a new SequenceNumber, so the order still holds.
    f.push(fifo(&ups[0], BUCKET, 5000, 90));
    let j = run(&ups, &f, &m);
    assert_eq!(
        j.violations,
        [Violation::DuplicateFifoMessage {
            index: 0,
            key: "k0".into(),
            version_id: Some("v0".into()),
            count: 2
        }]
    );
    assert_eq!(
        j.objects[0].fifo_latency_ms,
        Some(5),
        "latency is the first delivery's"
    );
}

#[test]
fn missing_and_duplicate_emails() {
    let ups = uploads(2);
    let (f, mut m) = perfect(&ups);
    m.remove(0);
    m.push(mail(&ups[1], 50));
    let j = run(&ups, &f, &m);
    assert_eq!(
        j.violations,
        [
            Violation::MissingEmail {
                index: 0,
                key: "k0".into(),
                version_id: Some("v0".into()),
                etag: "e0".into()
            },
            Violation::DuplicateEmail {
                index: 1,
                key: "k1".into(),
                version_id: Some("v1".into()),
                etag: "e1".into(),
                count: 2
            },
        ]
    );
}

#[test]
fn unexpected_fifo_messages_unknown_version_and_unreadable() {
    let ups = uploads(1);
    let (mut f, m) = perfect(&ups);
    let stranger = upload(7, "k0", Some("v-other"), "e9");
    f.push(fifo(&stranger, BUCKET, 2000, 30));
    let mut garbage = fifo(&ups[0], BUCKET, 2001, 31);
    garbage.body = "{not json".into();
    f.push(garbage);
    let mut array = fifo(&ups[0], BUCKET, 2002, 32);
    array.body = "[1]".into();
    f.push(array);
    let j = run(&ups, &f, &m);
    let [
        Violation::UnexpectedFifoMessage {
            position: 1,
            key: Some(k),
            version_id: Some(v),
            ..
        },
        Violation::UnexpectedFifoMessage {
            position: 2,
            key: None,
            reason: r2,
            body,
            ..
        },
        Violation::UnexpectedFifoMessage {
            position: 3,
            reason: r3,
            ..
        },
    ] = &j.violations[..]
    else {
        panic!("{:#?}", j.violations)
    };
    assert_eq!((k.as_str(), v.as_str()), ("k0", "v-other"));
    assert!(r2.starts_with("not JSON: "), "{r2}");
    assert_eq!(body, "{not json");
    assert_eq!(r3, "not a JSON object");
    assert!(j.objects[0].ok, "the upload itself got its one message");
}

#[test]
fn unexpected_emails_and_ignored_mails() {
    let ups = uploads(1);
    let (f, mut m) = perfect(&ups);
    // Another key; another bucket; not an alert at all.
    m.push(mail(&upload(5, "nope", Some("v0"), "e0"), 20));
    let mut other_bucket = mail(&ups[0], 21);
    other_bucket.body = other_bucket.body.replace(BUCKET, "someone-elses-bucket");
    m.push(other_bucket);
    m.push(MailReceived {
        to: vec![EMAIL.into()],
        subject: "hi".into(),
        body: "hello".into(),
        at_ms: 22,
    });
    // Ignored: addressed to someone else, and SNS's subscription confirmation.
    let mut elsewhere = mail(&ups[0], 23);
    elsewhere.to = vec!["other@example.com".into()];
    m.push(elsewhere);
    m.push(MailReceived {
        to: vec![format!("Alerts <{EMAIL}>")],
        subject: "AWS Notification - Subscription Confirmation".into(),
        body: "You have chosen to subscribe".into(),
        at_ms: 24,
    });
    let j = run(&ups, &f, &m);
    let positions: Vec<usize> = j
        .violations
        .iter()
        .map(|v| match v {
            Violation::UnexpectedEmail { position, .. } => *position,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(positions, [1, 2, 3]);
    assert!(
        j.violations[1].to_string().contains("someone-elses-bucket"),
        "{}",
        j.violations[1]
    );
    assert_eq!(j.objects[0].emails, 1);
}

#[test]
fn schema_mismatch_names_the_field_and_the_object() {
    let ups = uploads(2);
    let (mut f, m) = perfect(&ups);
    let mut body = testkit::fifo_json(&expect(), &ups[1], BUCKET);
    body["bucket"] = "wrong-bucket".into();
    body["encryption"]["verdict"] = "unencrypted".into();
    body["security_alert"] = true.into();
    f[1] = testkit::received(&body, 1001, 15);
    let j = run(&ups, &f, &m);
    let fields: Vec<(usize, &str)> = j
        .violations
        .iter()
        .map(|v| match v {
            Violation::SchemaMismatch { index, field, .. } => (*index, field.as_str()),
            other => panic!("{other:?}"),
        })
        .collect();
    // A consistent alert flag for the (wrong) verdict is not a second violation.
    assert_eq!(fields, [(1, "bucket"), (1, "encryption.verdict")]);
    assert!(!j.objects[1].ok && j.objects[0].ok);
    assert_eq!(
        j.objects[1].fifo_messages, 1,
        "a wrong bucket is a mismatch, not a stranger"
    );
}

#[test]
fn email_with_the_wrong_verdict_is_a_schema_mismatch() {
    let ups = uploads(1);
    let (f, _) = perfect(&ups);
    let m = [testkit::mail_with(&ups[0], "unencrypted", 9)];
    let j = run(&ups, &f, &m);
    let fields: Vec<String> = j
        .violations
        .iter()
        .map(|v| match v {
            Violation::SchemaMismatch { field, .. } => field.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(fields, ["email.Encryption", "email.subject"]);
}

#[test]
fn group_order_broken_names_the_group_and_both_keys() {
    let ups = uploads(3);
    let (mut f, m) = perfect(&ups);
    f.swap(1, 2);
    let j = run(&ups, &f, &m);
    assert_eq!(
        j.violations,
        [Violation::GroupOrderBroken {
            group_id: BUCKET.into(),
            earlier_position: 1,
            earlier_index: Some(2),
            earlier_key: Some("k2".into()),
            earlier_sequence_number: "1002".into(),
            later_position: 2,
            later_index: Some(1),
            later_key: Some("k1".into()),
            later_sequence_number: "1001".into(),
        }]
    );
    assert!(!j.objects[1].ok && !j.objects[2].ok && j.objects[0].ok);
    let line = j.violations[0].to_string();
    assert!(
        line.contains("\"k2\"") && line.contains("\"k1\"") && line.contains(BUCKET),
        "{line}"
    );
}

#[test]
fn overwrite_order_broken_and_skipped_on_localstack() {
    let ups = [
        upload(0, "same", Some("v0"), "e0"),
        upload(1, "same", Some("v1"), "e1"),
    ];
    let (mut f, m) = perfect(&ups);
    // The later version carries the smaller sequencer.
    for (i, seq) in [(0, "0A"), (1, "9")] {
        let mut body = testkit::fifo_json(&expect(), &ups[i], BUCKET);
        body["sequencer"] = seq.into();
        f[i] = testkit::received(&body, 1000 + i as u128, 5);
    }
    let j = run(&ups, &f, &m);
    assert_eq!(
        j.violations,
        [Violation::OverwriteOrderBroken {
            key: "same".into(),
            earlier_index: 0,
            earlier_version_id: Some("v0".into()),
            earlier_sequencer: "0A".into(),
            later_index: 1,
            later_version_id: Some("v1".into()),
            later_sequencer: "9".into(),
        }]
    );
    let localstack = Expect {
        sequencer_orders_overwrites: false,
        ..expect()
    };
    let j = judge(&localstack, &ups, &f, &m, &[]);
    assert!(j.passed(), "{:?}", j.violations);
    assert_eq!(j.skipped, [order::SEQUENCER_CONSTANT]);
}

#[test]
fn failure_count_mismatch_carries_truncated_bodies() {
    let ups = uploads(1);
    let (f, m) = perfect(&ups);
    let failures = [FailureReceived {
        body: "x".repeat(1000),
        at_ms: 3,
    }];
    let j = judge(&expect(), &ups, &f, &m, &failures);
    let [
        Violation::FailureCountMismatch {
            expected: 0,
            got: 1,
            bodies,
        },
    ] = &j.violations[..]
    else {
        panic!("{:?}", j.violations)
    };
    assert_eq!(bodies[0].chars().count(), EXCERPT_CHARS + 1);
    assert!(j.objects[0].ok, "a failure count names no object");
    let one = Expect {
        failures_expected: 1,
        ..expect()
    };
    assert!(judge(&one, &ups, &f, &m, &failures).passed());
}

#[test]
fn where_email_cannot_be_read_its_rules_are_skipped_with_the_reason_never_passed() {
    let ups = uploads(2);
    let (f, _) = perfect(&ups);
    // Without the reason, no email is a violation of the object...
    let j = judge(&expect(), &ups, &f, &[], &[]);
    assert!(!j.passed());
    // ...with it, the email rules are skipped and say why; the FIFO rules still hold.
    let ministack = Expect {
        email_unobservable: Some("email is a stub here".into()),
        ..expect()
    };
    let j = judge(&ministack, &ups, &f, &[], &[]);
    assert!(j.passed(), "{:?}", j.violations);
    assert_eq!(j.skipped, ["every email rule: email is a stub here"]);
    assert_eq!(j.objects[0].fifo_messages, 1);
    // A FIFO shortfall is still caught.
    assert!(!judge(&ministack, &ups, &f[..1], &[], &[]).passed());
}

#[test]
fn identical_content_versions_are_counted_per_key_and_etag() {
    let ups = [
        upload(0, "same", Some("v0"), "e"),
        upload(1, "same", Some("v1"), "e"),
    ];
    let (f, _) = perfect(&ups);
    // Mails that do not name the version (as for an event without one).
    let anonymous = |up: &Uploaded, at| {
        mail(
            &Uploaded {
                version_id: None,
                ..up.clone()
            },
            at,
        )
    };
    let j = run(&ups, &f, &[anonymous(&ups[1], 30), anonymous(&ups[0], 20)]);
    assert!(j.passed(), "{:?}", j.violations);
    assert_eq!(
        j.objects[0].email_latency_ms,
        Some(20),
        "earliest mail to the earliest version"
    );
    let j = run(&ups, &f, &[anonymous(&ups[0], 20)]);
    assert!(
        matches!(
            &j.violations[..],
            [Violation::MissingEmail { index: 1, .. }]
        ),
        "{:?}",
        j.violations
    );
    // Mails that name the version are attributed exactly.
    let j = run(&ups, &f, &[mail(&ups[1], 20), mail(&ups[1], 21)]);
    assert!(
        matches!(
            &j.violations[..],
            [
                Violation::MissingEmail { index: 0, .. },
                Violation::DuplicateEmail {
                    index: 1,
                    count: 2,
                    ..
                }
            ]
        ),
        "{:?}",
        j.violations
    );
}

#[test]
fn keys_with_control_characters_and_unicode_match_their_email() {
    let ups = [
        upload(0, "line\nbreak\t.txt", Some("v0"), "e0"),
        upload(1, "naïve 北京/a+b %2B.txt", Some("v1"), "e1"),
        upload(2, " leading and trailing ", Some("v2"), "e2"),
    ];
    let (f, m) = perfect(&ups);
    assert!(m[0].body.contains("line\\nbreak\\t.txt"), "{}", m[0].body);
    let j = run(&ups, &f, &m);
    assert!(j.passed(), "{:?}", j.violations);
}

#[test]
fn nothing_received_names_every_object_twice() {
    let ups = uploads(2);
    let j = run(&ups, &[], &[]);
    assert_eq!(j.violations.len(), 4);
    assert!(j.objects.iter().all(|o| !o.ok));
    assert_eq!(j.fifo_latency, LatencySummary::default());
    let json = serde_json::to_value(&j).unwrap();
    assert_eq!(json["violations"][0]["kind"], "missing-fifo-message");
}
