//! The pure step from (event record, HeadObject metadata, configuration) to the two publishes.
//!
//! Everything the handler sends is decided here, without I/O, so it can be tested exhaustively.
//! The FIFO message embeds the email's SNS message id, which is only known after the email has
//! been published; [`FifoDraft::finish`] fills it in.

use crate::config::Config;
use crate::event::ObjectEvent;
use crate::ids::{ObjectIdentity, dedup_id, group_id};
use crate::message::{self, Encryption, FifoMessage, SCHEMA_VERSION};
use crate::verdict::{HeadMetadata, Verdict, verdict};

/// A publish to the standard topic (email subscription).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailPublish {
    pub topic_arn: String,
    pub subject: String,
    pub message: String,
}

/// A publish to the FIFO topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FifoPublish {
    pub topic_arn: String,
    /// The JSON of a [`FifoMessage`].
    pub message: String,
    pub group_id: String,
    pub dedup_id: String,
}

/// The FIFO message before the email's message id is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FifoDraft {
    topic_arn: String,
    message: FifoMessage,
}

impl FifoDraft {
    /// The publish, with `email_message_id` filled in. Consumes the draft, whose strings move
    /// into the publish.
    pub fn finish(self, email_message_id: &str) -> FifoPublish {
        let mut message = self.message;
        message.email_message_id = email_message_id.to_owned();
        FifoPublish {
            topic_arn: self.topic_arn,
            // A struct of strings, numbers, booleans and options always serializes.
            message: serde_json::to_string(&message).expect("FifoMessage serializes to JSON"),
            group_id: message.group_id,
            dedup_id: message.dedup_id,
        }
    }
}

/// Everything to do for one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordPlan {
    pub verdict: Verdict,
    pub email: EmailPublish,
    pub fifo: FifoDraft,
}

/// Plans the publishes for one object.
pub fn plan(config: &Config, event: &ObjectEvent, meta: &HeadMetadata) -> RecordPlan {
    let verdict = verdict(meta, &config.expected_kms_key);
    let etag = event.etag.clone().or_else(|| meta.etag.clone());
    let dedup_id = dedup_id(&ObjectIdentity {
        bucket: &event.bucket,
        key: &event.key,
        version_id: event.version_id.as_deref(),
        etag: etag.as_deref(),
        sequencer: event.sequencer.as_deref(),
    });
    let message = FifoMessage {
        schema_version: SCHEMA_VERSION,
        bucket: event.bucket.clone(),
        key: event.key.clone(),
        size: event.size.or(meta.content_length),
        etag,
        version_id: event.version_id.clone(),
        sequencer: event.sequencer.clone(),
        event_name: event.event_name.clone(),
        event_time: event.event_time.clone(),
        region: event.region.clone(),
        encryption: Encryption {
            verdict,
            algorithm: meta.server_side_encryption.clone(),
            kms_key_id: meta.kms_key_id.clone(),
            bucket_key_enabled: meta.bucket_key_enabled,
            expected_kms_key: config.expected_kms_key.as_str().to_owned(),
        },
        security_alert: verdict.is_security_alert(),
        group_id: group_id(config.grouping, &event.bucket, &event.key),
        dedup_id,
        email_message_id: String::new(),
    };
    RecordPlan {
        verdict,
        email: EmailPublish {
            topic_arn: config.standard_topic_arn.clone(),
            subject: message::subject(verdict, &event.bucket, &event.key),
            message: message::body(event, meta, verdict, &config.expected_kms_key),
        },
        fifo: FifoDraft {
            topic_arn: config.fifo_topic_arn.clone(),
            message,
        },
    }
}
