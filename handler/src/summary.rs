//! What a successful invocation returns: the records published and the records deliberately
//! skipped, with why. `process` builds it and `error` carries it next to the failed records of
//! a partly failed invocation; it depends on neither, so neither depends on the other.

use crate::verdict::Verdict;
use serde::{Deserialize, Serialize};

/// The successful response of an invocation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub processed: Vec<ProcessedRecord>,
    pub skipped: Vec<SkippedRecord>,
    pub test_events_ignored: u32,
}

/// A record whose email alert and FIFO message were published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessedRecord {
    pub index: usize,
    pub bucket: String,
    pub key: String,
    pub verdict: Verdict,
    pub security_alert: bool,
    pub email_message_id: String,
    pub fifo_message_id: String,
    pub fifo_sequence_number: Option<String>,
    pub group_id: String,
    pub dedup_id: String,
}

/// A record that was deliberately not published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedRecord {
    pub index: usize,
    pub bucket: String,
    pub key: String,
    pub reason: SkipReason,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// HeadObject found no such object (or version): deleted before processing.
    ObjectGone,
    /// Not an `ObjectCreated:*` event.
    NotObjectCreated,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::ObjectGone => "object-gone",
            SkipReason::NotObjectCreated => "not-object-created",
        }
    }
}
