//! Test inputs rendered the way the real handler renders them: the FIFO body with
//! `serde_json::json!` in the `schema_version` 1 layout (a test below checks it against the
//! handler's own `FifoMessage`), the email Subject and body with the handler's own
//! `message::subject` and `message::body`, so the oracle is tested against what is really sent.

use handler::event::ObjectEvent;
use handler::message;
use handler::verdict::{ExpectedKey, HeadMetadata, Verdict};
use serde_json::{Value, json};

use super::{Expect, FifoReceived, MailReceived, Uploaded};

pub const BUCKET: &str = "upl-hxxltejrp5n-uploads";
pub const KMS_KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
pub const KMS_KEY_ARN: &str =
    "arn:aws:kms:us-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
pub const OTHER_KEY_ARN: &str =
    "arn:aws:kms:us-west-1:111122223333:key/ffffffff-12ab-34cd-56ef-1234567890ab";
pub const EMAIL: &str = "alerts@example.com";
pub const REGION: &str = "us-west-1";
pub const EVENT_TIME: &str = "2026-03-01T12:00:00.000Z";

/// The default expectation: everything encrypted, no failures, sequencer orders overwrites.
pub fn expect() -> Expect {
    Expect {
        bucket: BUCKET.into(),
        kms_key_arn: KMS_KEY_ARN.into(),
        email: EMAIL.into(),
        verdict: "encrypted".into(),
        failures_expected: 0,
        sequencer_orders_overwrites: true,
        email_unobservable: None,
    }
}

/// Upload number `index` (size `100 + index`, returned at `10 * index` ms).
pub fn upload(index: usize, key: &str, version: Option<&str>, etag: &str) -> Uploaded {
    Uploaded {
        index,
        key: key.into(),
        version_id: version.map(Into::into),
        etag: etag.into(),
        size: 100 + index as u64,
        at_ms: 10 * index as u64,
    }
}

/// `n` uploads of distinct keys `k0`... with versions `v0`... and ETags `e0`...
pub fn uploads(n: usize) -> Vec<Uploaded> {
    (0..n)
        .map(|i| {
            upload(
                i,
                &format!("k{i}"),
                Some(&format!("v{i}")),
                &format!("e{i}"),
            )
        })
        .collect()
}

/// An S3 sequencer that grows with `index` and changes length (as S3's may).
pub fn sequencer(index: usize) -> String {
    format!("{:X}", 0x9 + index * 0x1F3)
}

/// A valid dedup id (64 hex) for `up`.
pub fn dedup(up: &Uploaded) -> String {
    format!("{:064x}", up.index + 1)
}

/// What HeadObject reports for an object with `verdict`.
fn head(up: &Uploaded, verdict: &str) -> HeadMetadata {
    let (algorithm, key) = match verdict {
        "encrypted" => (Some("aws:kms"), Some(KMS_KEY_ARN)),
        "wrong-key" => (Some("aws:kms"), Some(OTHER_KEY_ARN)),
        _ => (Some("AES256"), None),
    };
    HeadMetadata {
        server_side_encryption: algorithm.map(Into::into),
        kms_key_id: key.map(Into::into),
        bucket_key_enabled: Some(true),
        content_length: Some(up.size),
        etag: Some(up.etag.clone()),
        version_id: up.version_id.clone(),
    }
}

/// The handler's FIFO message for `up` in group `group`, with the verdict `expect` wants.
pub fn fifo_json(expect: &Expect, up: &Uploaded, group: &str) -> Value {
    let head = head(up, &expect.verdict);
    json!({
        "schema_version": 1,
        "bucket": expect.bucket,
        "key": up.key,
        "size": up.size,
        "etag": up.etag,
        "version_id": up.version_id,
        "sequencer": sequencer(up.index),
        "event_name": "ObjectCreated:Put",
        "event_time": EVENT_TIME,
        "region": REGION,
        "encryption": {
            "verdict": expect.verdict,
            "algorithm": head.server_side_encryption,
            "kms_key_id": head.kms_key_id,
            "bucket_key_enabled": head.bucket_key_enabled,
            "expected_kms_key": expect.kms_key_arn,
        },
        "security_alert": expect.verdict != "encrypted",
        "group_id": group,
        "dedup_id": dedup(up),
        "email_message_id": format!("email-{}", up.index),
    })
}

/// A received FIFO message carrying `body`, with SQS attributes matching a handler publish.
pub fn received(body: &Value, seq: u128, at_ms: u64) -> FifoReceived {
    let attr = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
    FifoReceived {
        body: body.to_string(),
        group_id: attr("group_id"),
        sequence_number: Some(format!("{seq:020}")),
        dedup_id: attr("dedup_id"),
        at_ms,
    }
}

/// The handler's FIFO message for `up` under the default expectation, as received.
pub fn fifo(up: &Uploaded, group: &str, seq: u128, at_ms: u64) -> FifoReceived {
    received(&fifo_json(&expect(), up, group), seq, at_ms)
}

/// The S3 event the handler would have seen for `up`.
pub fn event(up: &Uploaded) -> ObjectEvent {
    ObjectEvent {
        index: 0,
        bucket: BUCKET.into(),
        key: up.key.clone(),
        raw_key: up.key.clone(),
        size: Some(up.size),
        etag: Some(up.etag.clone()),
        version_id: up.version_id.clone(),
        sequencer: Some(sequencer(up.index)),
        event_name: "ObjectCreated:Put".into(),
        event_time: EVENT_TIME.into(),
        region: REGION.into(),
    }
}

fn verdict(name: &str) -> Verdict {
    match name {
        "encrypted" => Verdict::Encrypted,
        "wrong-key" => Verdict::WrongKey,
        _ => Verdict::Unencrypted,
    }
}

/// The email alert the handler sends for `up` with `verdict`, rendered by the handler's code.
pub fn mail_with(up: &Uploaded, verdict_name: &str, at_ms: u64) -> MailReceived {
    let expected = ExpectedKey::parse(KMS_KEY_ARN).unwrap();
    let v = verdict(verdict_name);
    MailReceived {
        to: vec![EMAIL.into()],
        subject: message::subject(v, BUCKET, &up.key),
        body: message::body(&event(up), &head(up, verdict_name), v, &expected),
        at_ms,
    }
}

/// The email alert for `up` under the default expectation.
pub fn mail(up: &Uploaded, at_ms: u64) -> MailReceived {
    mail_with(up, "encrypted", at_ms)
}

/// One FIFO message (one group, sequence numbers in upload order) and one email per upload,
/// each arriving 5 ms (message) and 7 ms (email) after its upload.
pub fn perfect(uploads: &[Uploaded]) -> (Vec<FifoReceived>, Vec<MailReceived>) {
    let fifo = uploads
        .iter()
        .enumerate()
        .map(|(i, up)| fifo(up, BUCKET, 1000 + i as u128, up.at_ms + 5))
        .collect();
    let mails = uploads.iter().map(|up| mail(up, up.at_ms + 7)).collect();
    (fifo, mails)
}

mod tests {
    use super::*;
    use crate::oracle::judge;

    #[test]
    fn the_test_fifo_body_is_the_handlers_fifo_message() {
        use handler::message::{Encryption, FifoMessage};
        let up = upload(3, "dir/a b+c%.txt", Some("v3"), "e3");
        let real = FifoMessage {
            schema_version: handler::message::SCHEMA_VERSION,
            bucket: BUCKET.into(),
            key: up.key.clone(),
            size: Some(up.size),
            etag: Some(up.etag.clone()),
            version_id: up.version_id.clone(),
            sequencer: Some(sequencer(3)),
            event_name: "ObjectCreated:Put".into(),
            event_time: EVENT_TIME.into(),
            region: REGION.into(),
            encryption: Encryption {
                verdict: Verdict::Encrypted,
                algorithm: Some("aws:kms".into()),
                kms_key_id: Some(KMS_KEY_ARN.into()),
                bucket_key_enabled: Some(true),
                expected_kms_key: KMS_KEY_ARN.into(),
            },
            security_alert: false,
            group_id: BUCKET.into(),
            dedup_id: dedup(&up),
            email_message_id: "email-3".into(),
        };
        let ours = fifo_json(&expect(), &up, BUCKET);
        assert_eq!(serde_json::to_value(&real).unwrap(), ours);
        // And a body serialized by the handler passes the oracle.
        let mut received = fifo(&up, BUCKET, 1, 1);
        received.body = serde_json::to_string(&real).unwrap();
        let j = judge(
            &expect(),
            std::slice::from_ref(&up),
            &[received],
            &[mail(&up, 2)],
            &[],
        );
        assert!(j.passed(), "{:?}", j.violations);
    }
}
