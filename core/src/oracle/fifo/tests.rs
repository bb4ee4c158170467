//! Unit tests of reading, attributing and schema-checking FIFO messages.

use super::*;
use crate::oracle::testkit::{self, BUCKET, KMS_KEY_ID, OTHER_KEY_ARN, expect, upload};

fn named(body: &Value) -> Named {
    parse(&body.to_string()).unwrap()
}

/// The fields `check` reports for `body` (attributed to `up`), as (field, expected, found).
fn mismatches(
    expect: &Expect,
    up: &Uploaded,
    received: &FifoReceived,
) -> Vec<(String, String, String)> {
    check(expect, up, received, &parse(&received.body).unwrap())
        .into_iter()
        .map(|v| match v {
            Violation::SchemaMismatch {
                field,
                expected,
                found,
                index,
                ..
            } => {
                assert_eq!(index, up.index);
                (field, expected, found)
            }
            other => panic!("{other:?}"),
        })
        .collect()
}

/// The mismatches after `edit` changes the handler's message for `up`.
fn after(edit: impl FnOnce(&mut Value)) -> Vec<(String, String, String)> {
    let up = upload(1, "k", Some("v1"), "e1");
    let mut body = testkit::fifo_json(&expect(), &up, BUCKET);
    let received = testkit::received(&body, 1, 1);
    edit(&mut body);
    let received = FifoReceived {
        body: body.to_string(),
        ..received
    };
    mismatches(&expect(), &up, &received)
}

fn one(field: &str, expected: &str, found: &str) -> Vec<(String, String, String)> {
    vec![(field.to_owned(), expected.to_owned(), found.to_owned())]
}

#[test]
fn parse_reads_the_identity_and_says_why_not() {
    let up = upload(0, "a b", Some("v"), "e");
    let mut body = testkit::fifo_json(&expect(), &up, BUCKET);
    body["etag"] = "\"e\"".into();
    let n = named(&body);
    assert_eq!(
        (n.key.as_str(), n.version_id.as_deref()),
        ("a b", Some("v"))
    );
    assert_eq!(n.etag.as_deref(), Some("e"), "quotes are dropped");
    assert_eq!(n.sequencer, Some(testkit::sequencer(0)));
    assert!(parse("nope").unwrap_err().starts_with("not JSON: "));
    assert_eq!(parse("\"s\"").unwrap_err(), "not a JSON object");
    assert_eq!(parse(r#"{"key": 5}"#).unwrap_err(), "no string field `key`");
}

#[test]
fn candidates_by_version_else_by_etag() {
    let ups = [
        upload(0, "k", Some("v0"), "e0"),
        upload(1, "k", Some("v1"), "e1"),
        upload(2, "k", None, "e2"),
        upload(3, "other", Some("v0"), "e0"),
    ];
    let msg = |version: Option<&str>, etag: &str| Named {
        key: "k".into(),
        version_id: version.map(Into::into),
        etag: Some(etag.into()),
        sequencer: None,
        value: Value::Null,
    };
    assert_eq!(candidates(&ups, &msg(Some("v1"), "whatever")), Ok(vec![1]));
    // A version no upload reports: only uploads without a known version, by ETag.
    assert_eq!(candidates(&ups, &msg(Some("v9"), "e2")), Ok(vec![2]));
    // No version in the message: by ETag (the version mismatch is then a schema finding).
    assert_eq!(candidates(&ups, &msg(None, "e0")), Ok(vec![0]));
    let err = candidates(&ups, &msg(Some("v9"), "e0")).unwrap_err();
    assert!(err.contains("\"k\"") && err.contains("v9"), "{err}");
}

#[test]
fn the_handlers_message_has_no_mismatch() {
    assert_eq!(after(|_| {}), []);
}

#[test]
fn key_id_and_quoted_etag_are_accepted() {
    assert_eq!(
        after(|b| b["encryption"]["kms_key_id"] = KMS_KEY_ID.into()),
        []
    );
    assert_eq!(
        after(|b| b["encryption"]["expected_kms_key"] = KMS_KEY_ID.into()),
        []
    );
    assert_eq!(after(|b| b["etag"] = "\"e1\"".into()), []);
}

#[test]
fn each_wrong_value_is_named() {
    assert_eq!(
        after(|b| b["schema_version"] = 2.into()),
        one("schema_version", "1", "2")
    );
    assert_eq!(
        after(|b| b["bucket"] = "x".into()),
        one("bucket", &format!("\"{BUCKET}\""), "\"x\"")
    );
    assert_eq!(after(|b| b["size"] = 7.into()), one("size", "101", "7"));
    assert_eq!(
        after(|b| b["size"] = Value::Null),
        one("size", "101", "null")
    );
    assert_eq!(
        after(|b| b["etag"] = "e2".into()),
        one("etag", "\"e1\"", "\"e2\"")
    );
    assert_eq!(
        after(|b| b["version_id"] = "v2".into()),
        one("version_id", "\"v1\"", "\"v2\"")
    );
    assert_eq!(
        after(|b| b["encryption"]["kms_key_id"] = OTHER_KEY_ARN.into()),
        one(
            "encryption.kms_key_id",
            &format!("{} or its key id", testkit::KMS_KEY_ARN),
            &format!("\"{OTHER_KEY_ARN}\"")
        )
    );
    assert_eq!(
        after(|b| b["encryption"]["expected_kms_key"] = "alias/x".into())[0].0,
        "encryption.expected_kms_key"
    );
    assert_eq!(
        after(|b| b["security_alert"] = true.into()),
        one("security_alert", "false", "true")
    );
    assert_eq!(
        after(|b| b["email_message_id"] = "".into()),
        one("email_message_id", "a non-empty string", "\"\"")
    );
}

#[test]
fn a_wrong_verdict_is_one_finding_and_the_key_is_not_checked_for_alerts() {
    let found = after(|b| {
        b["encryption"]["verdict"] = "wrong-key".into();
        b["security_alert"] = true.into();
    });
    assert_eq!(
        found,
        one("encryption.verdict", "\"encrypted\"", "\"wrong-key\"")
    );
    // Expecting `unencrypted`, a null key id is right.
    let unencrypted = Expect {
        verdict: "unencrypted".into(),
        ..expect()
    };
    let up = upload(0, "k", Some("v0"), "e0");
    let received = testkit::received(&testkit::fifo_json(&unencrypted, &up, BUCKET), 1, 1);
    assert_eq!(mismatches(&unencrypted, &up, &received), []);
    assert_eq!(
        mismatches(&expect(), &up, &received).len(),
        2,
        "verdict and key id"
    );
}

#[test]
fn group_and_dedup_ids_must_equal_the_sqs_attributes() {
    let up = upload(0, "k", Some("v0"), "e0");
    let body = testkit::fifo_json(&expect(), &up, BUCKET);
    let mut received = testkit::received(&body, 1, 1);
    received.group_id = Some("other-group".into());
    received.dedup_id = Some("f".repeat(64));
    let fields: Vec<String> = mismatches(&expect(), &up, &received)
        .into_iter()
        .map(|m| m.0)
        .collect();
    assert_eq!(fields, ["group_id", "dedup_id"]);
    // Without the attributes there is nothing to compare with.
    received.group_id = None;
    received.dedup_id = None;
    assert_eq!(mismatches(&expect(), &up, &received), []);
}

#[test]
fn dedup_id_must_be_64_hex() {
    let found = after(|b| b["dedup_id"] = "xyz".into());
    // Also differs from the SQS attribute the message was received with.
    assert!(found.contains(&(
        "dedup_id".into(),
        "64 hex characters".into(),
        "\"xyz\"".into()
    )));
}

#[test]
fn missing_and_mistyped_fields_are_named() {
    let found = after(|b| {
        b.as_object_mut().unwrap().remove("email_message_id");
        b["encryption"].as_object_mut().unwrap().remove("verdict");
        b["size"] = "101".into();
        b["security_alert"] = Value::Null;
    });
    assert_eq!(
        found,
        [
            ("size".into(), "an integer or null".into(), "\"101\"".into()),
            (
                "encryption.verdict".into(),
                "a string".into(),
                "missing".into()
            ),
            ("security_alert".into(), "a boolean".into(), "null".into()),
            (
                "email_message_id".into(),
                "a string".into(),
                "missing".into()
            ),
        ]
    );
    let found = after(|b| b["encryption"] = "flat".into());
    let fields: Vec<&str> = found.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(fields[0], "encryption");
    assert_eq!(fields.len(), 6, "the object and its 5 fields: {fields:?}");
}
