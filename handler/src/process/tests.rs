use super::*;
use crate::error::error_type;
use crate::fixtures::{self, KMS_KEY_ARN, KMS_KEY_ID, OTHER_KMS_KEY_ARN, config, head, json};
use crate::ids::is_valid_sns_id;
use crate::message::{FifoMessage, is_valid_subject};
use crate::plan::{EmailPublish, FifoPublish};
use crate::ports::Published;
use crate::verdict::{HeadMetadata, Verdict};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;

/// HeadObject answers by key; unknown keys are SSE-KMS with the expected key.
#[derive(Default)]
struct FakeMetadata {
    answers: HashMap<String, Result<HeadMetadata, HeadError>>,
    calls: Mutex<Vec<(String, String, Option<String>)>>,
}

impl FakeMetadata {
    fn with(mut self, key: &str, answer: Result<HeadMetadata, HeadError>) -> Self {
        self.answers.insert(key.to_owned(), answer);
        self
    }
}

impl ObjectMetadata for FakeMetadata {
    async fn head_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<HeadMetadata, HeadError> {
        self.calls.lock().unwrap().push((
            bucket.to_owned(),
            key.to_owned(),
            version_id.map(str::to_owned),
        ));
        self.answers
            .get(key)
            .cloned()
            .unwrap_or_else(|| Ok(head(Some(KMS_KEY_ARN))))
    }
}

/// Records publishes; fails the email or FIFO publish for chosen keys.
#[derive(Default)]
struct FakePublisher {
    emails: Mutex<Vec<EmailPublish>>,
    fifos: Mutex<Vec<FifoPublish>>,
    email_failures: HashMap<String, PublishError>,
    fifo_failures: HashMap<String, PublishError>,
}

fn key_of(fifo: &FifoPublish) -> String {
    serde_json::from_str::<FifoMessage>(&fifo.message)
        .unwrap()
        .key
}

impl Publisher for FakePublisher {
    async fn publish_email(&self, email: &EmailPublish) -> Result<Published, PublishError> {
        if let Some((_, error)) = self
            .email_failures
            .iter()
            .find(|(key, _)| email.message.contains(key.as_str()))
        {
            return Err(error.clone());
        }
        let mut emails = self.emails.lock().unwrap();
        emails.push(email.clone());
        Ok(Published {
            message_id: format!("email-{}", emails.len()),
            sequence_number: None,
        })
    }

    async fn publish_fifo(&self, fifo: &FifoPublish) -> Result<Published, PublishError> {
        if let Some(error) = self.fifo_failures.get(&key_of(fifo)) {
            return Err(error.clone());
        }
        let mut fifos = self.fifos.lock().unwrap();
        fifos.push(fifo.clone());
        Ok(Published {
            message_id: format!("fifo-{}", fifos.len()),
            sequence_number: Some(format!("1000000000000000000{}", fifos.len())),
        })
    }
}

fn processor(
    grouping: &str,
    metadata: FakeMetadata,
    publisher: FakePublisher,
) -> Processor<FakeMetadata, FakePublisher> {
    Processor::new(config(grouping), metadata, publisher)
}

fn rejected() -> PublishError {
    PublishError::Rejected {
        status: 400,
        code: "InvalidParameter".to_owned(),
        message: "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"
            .to_owned(),
    }
}

#[tokio::test]
async fn encrypted_put_publishes_email_then_fifo() {
    let p = processor("bucket", FakeMetadata::default(), FakePublisher::default());
    let summary = p.handle(json(fixtures::AWS_PUT_PLUS_SPACE)).await.unwrap();
    assert_eq!(summary.processed.len(), 1);
    let done = &summary.processed[0];
    assert_eq!(done.key, "invoices/Q1 2026 + annex (final).pdf");
    assert_eq!(done.verdict, Verdict::Encrypted);
    assert_eq!(done.email_message_id, "email-1");
    assert_eq!(done.fifo_message_id, "fifo-1");

    let calls = p.metadata.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        [(
            "acme-secure-uploads".to_owned(),
            "invoices/Q1 2026 + annex (final).pdf".to_owned(),
            Some("8Hs1y3yYb8zY7.pZk_mQ9gKxW2vLr0Ta".to_owned())
        )]
    );
    let emails = p.publisher.emails.lock().unwrap().clone();
    assert_eq!(emails[0].topic_arn, fixtures::STANDARD_TOPIC);
    assert!(is_valid_subject(&emails[0].subject));
    assert!(!emails[0].subject.starts_with("[SECURITY]"));
    let fifos = p.publisher.fifos.lock().unwrap().clone();
    assert_eq!(fifos[0].topic_arn, fixtures::FIFO_TOPIC);
    assert_eq!(fifos[0].group_id, "acme-secure-uploads");
    assert!(is_valid_sns_id(&fifos[0].group_id) && is_valid_sns_id(&fifos[0].dedup_id));
    let message: FifoMessage = serde_json::from_str(&fifos[0].message).unwrap();
    assert_eq!(message.email_message_id, "email-1");
    assert_eq!(message.dedup_id, done.dedup_id);
}

#[tokio::test]
async fn summary_serializes_as_documented() {
    let p = processor("bucket", FakeMetadata::default(), FakePublisher::default());
    let summary = p
        .handle(json(fixtures::LOCALSTACK_PUT_PERCENT20))
        .await
        .unwrap();
    let value = serde_json::to_value(&summary).unwrap();
    let dedup = value["processed"][0]["dedup_id"].clone();
    assert_eq!(
        value,
        json!({
            "processed": [{
                "index": 0,
                "bucket": "uploads-local",
                "key": "incoming/quarterly report été + notes.txt",
                "verdict": "encrypted",
                "security_alert": false,
                "email_message_id": "email-1",
                "fifo_message_id": "fifo-1",
                "fifo_sequence_number": "10000000000000000001",
                "group_id": "uploads-local",
                "dedup_id": dedup,
            }],
            "skipped": [],
            "test_events_ignored": 0,
        })
    );
}

#[tokio::test]
async fn unencrypted_and_wrong_key_raise_security_alerts() {
    for (meta, verdict) in [
        (head(None), Verdict::Unencrypted),
        (HeadMetadata::default(), Verdict::Unencrypted),
        (head(Some(OTHER_KMS_KEY_ARN)), Verdict::WrongKey),
        (head(Some(KMS_KEY_ID)), Verdict::Encrypted),
    ] {
        let metadata =
            FakeMetadata::default().with("backups/db-2026-03-02.tar.gz", Ok(meta.clone()));
        let p = processor("bucket", metadata, FakePublisher::default());
        let summary = p
            .handle(json(fixtures::AWS_MULTIPART_UPLOAD))
            .await
            .unwrap();
        assert_eq!(summary.processed[0].verdict, verdict, "{meta:?}");
        let subject = p.publisher.emails.lock().unwrap()[0].subject.clone();
        assert_eq!(
            subject.starts_with("[SECURITY]"),
            verdict.is_security_alert(),
            "{subject}"
        );
        assert_eq!(
            summary.processed[0].security_alert,
            verdict.is_security_alert()
        );
    }
}

#[tokio::test]
async fn test_event_is_ignored_without_any_call() {
    let p = processor("bucket", FakeMetadata::default(), FakePublisher::default());
    let summary = p.handle(json(fixtures::TEST_EVENT)).await.unwrap();
    assert_eq!(
        summary,
        Summary {
            test_events_ignored: 1,
            ..Summary::default()
        }
    );
    assert!(p.metadata.calls.lock().unwrap().is_empty());
    assert!(p.publisher.emails.lock().unwrap().is_empty());
}

#[tokio::test]
async fn object_deleted_before_processing_is_skipped_as_gone() {
    let metadata = FakeMetadata::default().with(
        "incoming/quarterly report été + notes.txt",
        Err(HeadError::Gone {
            code: "NotFound".to_owned(),
        }),
    );
    let p = processor("bucket", metadata, FakePublisher::default());
    let summary = p
        .handle(json(fixtures::LOCALSTACK_PUT_PERCENT20))
        .await
        .unwrap();
    assert!(summary.processed.is_empty());
    assert_eq!(summary.skipped[0].reason, SkipReason::ObjectGone);
    let value = serde_json::to_value(&summary.skipped[0]).unwrap();
    assert_eq!(value["reason"], "object-gone");
    assert!(p.publisher.emails.lock().unwrap().is_empty());
}

#[tokio::test]
async fn transient_head_failure_fails_the_invocation_as_retryable() {
    let metadata = FakeMetadata::default().with(
        "backups/db-2026-03-02.tar.gz",
        Err(HeadError::Retryable {
            detail: "SlowDown (HTTP 503)".to_owned(),
        }),
    );
    let p = processor("bucket", metadata, FakePublisher::default());
    let error = p
        .handle(json(fixtures::AWS_MULTIPART_UPLOAD))
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), error_type::RETRYABLE);
    assert!(error.to_string().contains("SlowDown"), "{error}");
    assert!(p.publisher.emails.lock().unwrap().is_empty());
}

#[tokio::test]
async fn rejected_fifo_publish_fails_loudly_with_the_sns_code_and_message() {
    let publisher = FakePublisher {
        fifo_failures: HashMap::from([("backups/db-2026-03-02.tar.gz".to_owned(), rejected())]),
        ..FakePublisher::default()
    };
    let p = processor("bucket", FakeMetadata::default(), publisher);
    let error = p
        .handle(json(fixtures::AWS_MULTIPART_UPLOAD))
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), error_type::PUBLISH_REJECTED);
    let text = error.to_string();
    assert!(text.contains("InvalidParameter"), "{text}");
    assert!(
        text.contains("The MessageGroupId parameter is required for FIFO topics"),
        "{text}"
    );
    assert!(text.contains("email alert email-1 was published"), "{text}");
}

#[tokio::test]
async fn partial_failure_lists_failed_records_and_processes_the_rest() {
    let publisher = FakePublisher {
        email_failures: HashMap::from([("photos/€ price list.png".to_owned(), rejected())]),
        ..FakePublisher::default()
    };
    let p = processor("prefix", FakeMetadata::default(), publisher);
    let error = p.handle(json(fixtures::MULTI_RECORD)).await.unwrap_err();
    let HandlerError::RecordsFailed { failures, summary } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].index, 1);
    assert_eq!(failures[0].key.as_deref(), Some("photos/€ price list.png"));
    let done: Vec<usize> = summary.processed.iter().map(|d| d.index).collect();
    assert_eq!(done, [0, 2]);
    let groups: Vec<&str> = summary
        .processed
        .iter()
        .map(|d| d.group_id.as_str())
        .collect();
    assert_eq!(
        groups,
        ["acme-secure-uploads/reports", "acme-other-uploads/reports"]
    );
    let text = error.to_string();
    assert!(
        text.starts_with(
            "1 of 3 record(s) failed (2 processed, 0 skipped): record 1 \
                          (s3://acme-secure-uploads/\"photos/€ price list.png\"): \
                          [Handler.PublishRejected] email alert not published"
        ),
        "{text}"
    );
    assert_eq!(p.publisher.fifos.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn malformed_record_fails_with_its_path_and_others_still_run() {
    let mut payload = json(fixtures::MULTI_RECORD);
    payload["Records"][0]["s3"]["object"]
        .as_object_mut()
        .unwrap()
        .remove("key");
    let p = processor("bucket", FakeMetadata::default(), FakePublisher::default());
    let error = p.handle(payload).await.unwrap_err();
    assert_eq!(error.error_type(), error_type::MALFORMED_EVENT);
    assert!(
        error
            .to_string()
            .contains("record 0: [Handler.MalformedEvent] malformed record: `Records[0].s3.object.key` is missing"),
        "{error}"
    );
    assert_eq!(p.publisher.fifos.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn malformed_fixtures_give_clear_errors() {
    let p = processor("bucket", FakeMetadata::default(), FakePublisher::default());
    let error = p
        .handle(json(fixtures::MALFORMED_MISSING_KEY))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`Records[0].s3.object.key` is missing"),
        "{error}"
    );
    let error = p
        .handle(json(fixtures::MALFORMED_UNRECOGNIZED))
        .await
        .unwrap_err();
    assert!(
        matches!(error, HandlerError::MalformedEvent(_)),
        "{error:?}"
    );
    assert_eq!(error.error_type(), error_type::MALFORMED_EVENT);
    assert!(p.publisher.emails.lock().unwrap().is_empty());
}

#[tokio::test]
async fn redelivered_event_produces_the_same_fifo_ids() {
    let p = processor("bucket", FakeMetadata::default(), FakePublisher::default());
    let first = p.handle(json(fixtures::MULTI_RECORD)).await.unwrap();
    let again = p.handle(json(fixtures::MULTI_RECORD)).await.unwrap();
    for (a, b) in first.processed.iter().zip(&again.processed) {
        assert_eq!((&a.group_id, &a.dedup_id), (&b.group_id, &b.dedup_id));
    }
    let dedups: std::collections::HashSet<&str> = first
        .processed
        .iter()
        .map(|d| d.dedup_id.as_str())
        .collect();
    assert_eq!(dedups.len(), 3);
}

#[tokio::test]
async fn non_object_created_events_are_skipped() {
    let mut payload = json(fixtures::AWS_PUT_PLUS_SPACE);
    payload["Records"][0]["eventName"] = json!("ObjectRemoved:Delete");
    let p = processor("bucket", FakeMetadata::default(), FakePublisher::default());
    let summary = p.handle(payload).await.unwrap();
    assert_eq!(summary.skipped[0].reason, SkipReason::NotObjectCreated);
    assert_eq!(summary.skipped[0].detail, "ObjectRemoved:Delete");
    assert!(p.metadata.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn all_notification_fixtures_go_through_the_core() {
    for (name, text) in fixtures::NOTIFICATIONS {
        let p = processor("prefix", FakeMetadata::default(), FakePublisher::default());
        let result = p.handle(json(text)).await;
        match name {
            "malformed-missing-key" => assert!(result.is_err(), "{name}"),
            _ => {
                let summary = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(!summary.processed.is_empty(), "{name}");
                for fifo in p.publisher.fifos.lock().unwrap().iter() {
                    assert!(is_valid_sns_id(&fifo.group_id), "{name}");
                    assert!(is_valid_sns_id(&fifo.dedup_id), "{name}");
                }
            }
        }
    }
}
