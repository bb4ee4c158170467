//! Unit tests of reading email alerts back and attributing them.

use super::*;
use crate::oracle::testkit::{self, BUCKET, EMAIL, expect, mail, upload};

#[test]
fn fields_are_read_from_the_handlers_body() {
    let up = upload(4, "dir/a b.txt", Some("v4"), "e4");
    let f = Fields::parse(&mail(&up, 0).body);
    assert_eq!(
        f,
        Fields {
            bucket: Some(BUCKET.into()),
            key: Some("dir/a b.txt".into()),
            size: Some("104 bytes".into()),
            etag: Some("e4".into()),
            version_id: Some("v4".into()),
            verdict: Some("encrypted".into()),
        }
    );
}

#[test]
fn none_values_are_absent_and_quotes_dropped() {
    let body = "x\n\nBucket:           b\nKey:                spaced\nETag:             \"q\"\n\
                Version ID:       (none)\n  KMS key:        (none)\n";
    let f = Fields::parse(body);
    assert_eq!(
        f.key.as_deref(),
        Some("  spaced"),
        "leading spaces of a key survive"
    );
    assert_eq!(f.etag.as_deref(), Some("q"));
    assert_eq!(f.version_id, None);
    assert_eq!(f.verdict, None);
}

#[test]
fn visible_escapes_control_characters_like_the_handler() {
    assert_eq!(visible("a\nb\t\u{7f}é北"), "a\\nb\\t\\u{7f}é北");
    let up = upload(0, "x\r\ny", Some("v"), "e");
    assert_eq!(
        Fields::parse(&mail(&up, 0).body).key.as_deref(),
        Some("x\\r\\ny")
    );
}

#[test]
fn relevant_means_addressed_to_the_run_and_not_a_confirmation() {
    let up = upload(0, "k", None, "e");
    let mut m = mail(&up, 0);
    assert!(relevant(&expect(), &m));
    m.to = vec![format!("Alerts <{}>", EMAIL.to_uppercase())];
    assert!(relevant(&expect(), &m));
    m.to = vec!["someone@example.com".into()];
    assert!(!relevant(&expect(), &m));
    m.to = vec![EMAIL.into()];
    m.subject = "AWS Notification - Subscription Confirmation".into();
    assert!(!relevant(&expect(), &m));
}

#[test]
fn candidates_by_key_etag_and_version() {
    let ups = [
        upload(0, "k", Some("v0"), "same"),
        upload(1, "k", Some("v1"), "same"),
        upload(2, "k", Some("v2"), "other"),
    ];
    let of = |up: &Uploaded| candidates(&expect(), &ups, &Fields::parse(&mail(up, 0).body));
    assert_eq!(of(&ups[1]), Ok(vec![1]));
    let anonymous = Uploaded {
        version_id: None,
        ..ups[0].clone()
    };
    assert_eq!(
        of(&anonymous),
        Ok(vec![0, 1]),
        "identical content, no version: pooled"
    );
    let err = of(&upload(9, "k", Some("v9"), "same")).unwrap_err();
    assert!(err.contains("v9"), "{err}");
    let err = of(&upload(9, "nope", None, "same")).unwrap_err();
    assert!(err.contains("\"nope\""), "{err}");
    let err = candidates(&expect(), &ups, &Fields::parse("hello")).unwrap_err();
    assert!(err.contains("not an alert"), "{err}");
}

#[test]
fn check_reports_verdict_size_and_subject() {
    let up = upload(0, "k", Some("v"), "e");
    let ok = mail(&up, 0);
    assert_eq!(check(&expect(), &up, &ok, &Fields::parse(&ok.body)), []);
    let bigger = Uploaded {
        size: 5,
        ..up.clone()
    };
    let fields: Vec<String> = check(&expect(), &bigger, &ok, &Fields::parse(&ok.body))
        .into_iter()
        .map(|v| match v {
            Violation::SchemaMismatch {
                field,
                expected,
                found,
                ..
            } => {
                format!("{field}: {expected} / {found}")
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(fields, [r#"email.Size: "5 bytes" / "100 bytes""#]);
    let alert = testkit::mail_with(&up, "wrong-key", 0);
    let wrong_key = Expect {
        verdict: "wrong-key".into(),
        ..expect()
    };
    assert_eq!(
        check(&wrong_key, &up, &alert, &Fields::parse(&alert.body)),
        []
    );
}
