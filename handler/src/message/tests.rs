use super::*;
use crate::event::{Notification, classify};
use crate::fixtures::{self, KMS_KEY_ARN, KMS_KEY_ID, OTHER_KMS_KEY_ARN, config, head, json};
use crate::plan::plan;
use proptest::prelude::*;

fn event(text: &str) -> ObjectEvent {
    match classify(&json(text)).unwrap() {
        Notification::Records(mut records) => records.remove(0).unwrap(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn subjects_for_each_verdict() {
    assert_eq!(
        subject(Verdict::Encrypted, "b", "a.txt"),
        "S3 upload (encrypted): b/a.txt"
    );
    assert_eq!(
        subject(Verdict::Unencrypted, "b", "a.txt"),
        "[SECURITY] Unencrypted S3 upload: b/a.txt"
    );
    assert_eq!(
        subject(Verdict::WrongKey, "b", "a.txt"),
        "[SECURITY] S3 upload with wrong KMS key: b/a.txt"
    );
}

#[test]
fn subject_transliterates_unicode_and_flattens_line_breaks() {
    let s = subject(Verdict::Unencrypted, "b", "été/naïve\r\nfile\t北京.txt");
    assert_eq!(
        s,
        "[SECURITY] Unencrypted S3 upload: b/ete/naive file Bei Jing .txt"
    );
    assert!(is_valid_subject(&s));
}

#[test]
fn long_subject_keeps_bucket_and_file_name() {
    let key = format!("{}/final-report.pdf", "deep/".repeat(40));
    let s = subject(Verdict::Encrypted, "acme-secure-uploads", &key);
    assert!(is_valid_subject(&s), "{s}");
    assert_eq!(s.len(), SUBJECT_MAX_LEN);
    assert!(s.contains("acme-secure"), "{s}");
    assert!(s.ends_with("final-report.pdf"), "{s}");
    assert!(s.contains("..."), "{s}");
}

#[test]
fn subject_validity_rules() {
    assert!(is_valid_subject("ok"));
    assert!(!is_valid_subject(""));
    assert!(!is_valid_subject(" leading space"));
    assert!(!is_valid_subject("line\nbreak"));
    assert!(!is_valid_subject("é"));
    assert!(!is_valid_subject(&"x".repeat(101)));
}

proptest! {
    #[test]
    fn subject_is_always_valid(key in any::<String>(), bucket in "[a-z0-9][a-z0-9.-]{2,62}") {
        for verdict in [Verdict::Encrypted, Verdict::Unencrypted, Verdict::WrongKey] {
            let s = subject(verdict, &bucket, &key);
            prop_assert!(is_valid_subject(&s), "{:?}", s);
            prop_assert_eq!(s.starts_with("[SECURITY]"), verdict.is_security_alert());
        }
    }

    #[test]
    fn subject_is_valid_for_unicode_heavy_keys(key in "\\PC{0,400}") {
        let s = subject(Verdict::WrongKey, "b", &key);
        prop_assert!(is_valid_subject(&s), "{:?}", s);
    }
}

#[test]
fn body_is_readable_and_complete() {
    let config = config("bucket");
    let e = event(fixtures::AWS_PUT_PLUS_SPACE);
    let text = body(
        &e,
        &head(None),
        Verdict::Unencrypted,
        &config.expected_kms_key,
    );
    assert!(
        text.starts_with("SECURITY ALERT: a new object is NOT encrypted"),
        "{text}"
    );
    assert!(
        text.contains("SSE-KMS (aws:kms).\n\nBucket:           acme-secure-uploads\n"),
        "{text}"
    );
    for expected in [
        "Key:              invoices/Q1 2026 + annex (final).pdf\n",
        "Size:             48213 bytes\n",
        "ETag:             5d41402abc4b2a76b9719d911017c592\n",
        "Version ID:       8Hs1y3yYb8zY7.pZk_mQ9gKxW2vLr0Ta\n",
        "Encryption:       unencrypted\n",
        "  Algorithm:      AES256\n",
        "  KMS key:        (none)\n",
        "Event time:       2026-03-02T09:15:27.482Z\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn body_escapes_control_characters_in_keys() {
    let config = config("bucket");
    let mut e = event(fixtures::AWS_PUT_PLUS_SPACE);
    e.key = "a\nFake-Line: x".to_owned();
    let text = body(
        &e,
        &head(Some(KMS_KEY_ARN)),
        Verdict::Encrypted,
        &config.expected_kms_key,
    );
    assert!(
        text.contains("Key:              a\\nFake-Line: x\n"),
        "{text}"
    );
}

#[test]
fn fifo_message_has_the_documented_schema() {
    let config = config("bucket");
    let e = event(fixtures::AWS_PUT_PLUS_SPACE);
    let planned = plan(&config, &e, &head(Some(KMS_KEY_ID)));
    let publish = planned.fifo.finish("email-msg-1");
    let value: serde_json::Value = serde_json::from_str(&publish.message).unwrap();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "bucket",
            "dedup_id",
            "email_message_id",
            "encryption",
            "etag",
            "event_name",
            "event_time",
            "group_id",
            "key",
            "region",
            "schema_version",
            "security_alert",
            "sequencer",
            "size",
            "version_id"
        ]
    );
    assert_eq!(
        value["encryption"],
        serde_json::json!({
            "verdict": "encrypted",
            "algorithm": "aws:kms",
            "kms_key_id": KMS_KEY_ID,
            "bucket_key_enabled": true,
            "expected_kms_key": KMS_KEY_ARN,
        })
    );
    assert_eq!(value["schema_version"], 1);
    assert_eq!(value["key"], "invoices/Q1 2026 + annex (final).pdf");
    assert_eq!(value["size"], 48213);
    assert_eq!(value["security_alert"], false);
    assert_eq!(value["email_message_id"], "email-msg-1");
    assert_eq!(value["group_id"], publish.group_id);
    assert_eq!(value["dedup_id"], publish.dedup_id);
    let round_trip: FifoMessage = serde_json::from_str(&publish.message).unwrap();
    assert_eq!(round_trip.email_message_id, "email-msg-1");
}

#[test]
fn wrong_key_plan_is_a_security_alert() {
    let config = config("bucket");
    let e = event(fixtures::AWS_MULTIPART_UPLOAD);
    let planned = plan(&config, &e, &head(Some(OTHER_KMS_KEY_ARN)));
    assert_eq!(planned.verdict, Verdict::WrongKey);
    assert!(planned.email.subject.starts_with("[SECURITY]"));
    assert_eq!(planned.email.topic_arn, fixtures::STANDARD_TOPIC);
    let publish = planned.fifo.finish("m");
    assert_eq!(publish.topic_arn, fixtures::FIFO_TOPIC);
    let value: serde_json::Value = serde_json::from_str(&publish.message).unwrap();
    assert_eq!(value["security_alert"], true);
    assert_eq!(value["encryption"]["verdict"], "wrong-key");
    assert_eq!(value["version_id"], "Qm0ZBp2J.7bLx5nD_vT3kR8sYw1aEc6H");
}

#[test]
fn localstack_plan_has_null_version_and_prefix_group() {
    let config = config("prefix");
    let e = event(fixtures::LOCALSTACK_PUT_PERCENT20);
    let publish = plan(&config, &e, &head(Some(KMS_KEY_ARN))).fifo.finish("m");
    assert_eq!(publish.group_id, "uploads-local/incoming");
    let value: serde_json::Value = serde_json::from_str(&publish.message).unwrap();
    assert_eq!(value["version_id"], serde_json::Value::Null);
    assert_eq!(value["key"], "incoming/quarterly report été + notes.txt");
}

/// The README documents the FIFO message; its table must be the one on [`FifoMessage`].
#[test]
fn readme_documents_the_fifo_schema_exactly() {
    let source = include_str!("../message.rs");
    let readme = include_str!("../../../README.md");
    let rows: Vec<&str> = source
        .lines()
        .take_while(|l| !l.contains("pub struct FifoMessage"))
        .filter_map(|l| l.strip_prefix("/// |"))
        .collect();
    assert!(rows.len() > 10, "schema table not found on FifoMessage");
    for row in rows {
        let line = format!("|{row}");
        assert!(
            readme.lines().any(|l| l == line),
            "README.md lacks the schema row `{line}`; copy the table from FifoMessage's doc"
        );
    }
}
