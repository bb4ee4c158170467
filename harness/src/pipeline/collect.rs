//! Drains what the pipeline delivered: the FIFO queue, the mailbox and the on-failure queue.
//!
//! Collection ends when everything expected has arrived and then nothing more arrives for a
//! quiet window (so late duplicates are caught), or at the delivery deadline. Messages are
//! deleted as they are read, in receive order, which within a FIFO group is sequence order.

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::MessageSystemAttributeName as Attr;

use crate::deploy::describe_error;
use crate::mailbox::Mailbox;
use crate::oracle::{FailureReceived, FifoReceived, MailReceived};

/// How long nothing new must arrive, after the expected counts are reached, before collection
/// stops: long enough for a redelivered event to show up as a duplicate on an emulator.
pub const QUIET_WINDOW: Duration = Duration::from_secs(3);

/// Everything collected.
#[derive(Debug, Default)]
pub struct Collected {
    pub fifo: Vec<FifoReceived>,
    pub mails: Vec<MailReceived>,
    pub failures: Vec<FailureReceived>,
    /// True when the deadline ended collection before the expected counts were reached.
    pub timed_out: bool,
}

impl Collected {
    /// `fifo` messages, `mails` and `failures` records, all empty (tests count them).
    #[cfg(test)]
    pub(crate) fn sized(fifo: usize, mails: usize, failures: usize) -> Self {
        let message = FifoReceived {
            body: String::new(),
            group_id: None,
            sequence_number: None,
            dedup_id: None,
            at_ms: 0,
        };
        let mail = MailReceived {
            to: Vec::new(),
            subject: String::new(),
            body: String::new(),
            at_ms: 0,
        };
        let failure = FailureReceived {
            body: String::new(),
            at_ms: 0,
        };
        Self {
            fifo: vec![message; fifo],
            mails: vec![mail; mails],
            failures: vec![failure; failures],
            timed_out: false,
        }
    }

    /// Adds what `more` collected after this.
    pub fn absorb(&mut self, more: Collected) {
        self.fifo.extend(more.fifo);
        self.mails.extend(more.mails);
        self.failures.extend(more.failures);
    }
}

/// What collection waits for.
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    pub fifo: usize,
    pub mails: usize,
    pub failures: usize,
    /// Up to this many on-failure records beyond `failures` each stand in for one FIFO message
    /// and one email (an event Lambda dropped on purpose, e.g. at zero reserved concurrency).
    pub or_failed: usize,
}

impl Wanted {
    /// True when `got` holds everything wanted.
    fn reached_by(&self, got: &Collected) -> bool {
        let stand_ins = got
            .failures
            .len()
            .saturating_sub(self.failures)
            .min(self.or_failed);
        got.fifo.len() + stand_ins >= self.fifo
            && got.mails.len() + stand_ins >= self.mails
            && got.failures.len() >= self.failures
    }
}

/// Where deliveries arrive for one deployed stack.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub queue_url: &'a str,
    pub failure_queue_url: &'a str,
    /// Only mail to this address belongs to the run.
    pub email: &'a str,
}

impl<'a> Sources<'a> {
    /// The queues and the alert address of `deployment`.
    pub fn of(deployment: &'a crate::deploy::Deployment) -> Self {
        Self {
            queue_url: &deployment.queue_url,
            failure_queue_url: &deployment.failure_queue_url,
            email: &deployment.email_address,
        }
    }
}

/// Collects until `wanted` has arrived and a quiet window passed, or until `deadline`.
pub async fn collect<M: Mailbox>(
    sqs: &aws_sdk_sqs::Client,
    sources: Sources<'_>,
    mailbox: &mut M,
    wanted: Wanted,
    epoch: Instant,
    deadline: Duration,
) -> Result<Collected, String> {
    let Sources {
        queue_url,
        failure_queue_url,
        email,
    } = sources;
    let started = Instant::now();
    let mut got = Collected::default();
    let mut last_new = Instant::now();
    loop {
        let before = (got.fifo.len(), got.mails.len(), got.failures.len());
        // The FIFO queue is long-polled (it returns as soon as a message arrives, which keeps
        // its latency figures sharp); the failure queue and the mailbox are read without waiting.
        for message in receive(sqs, queue_url, 1).await? {
            let attrs = message.attributes();
            let attr = |name: Attr| attrs.and_then(|a| a.get(&name)).cloned();
            got.fifo.push(FifoReceived {
                body: message.body().unwrap_or_default().to_owned(),
                group_id: attr(Attr::MessageGroupId),
                sequence_number: attr(Attr::SequenceNumber),
                dedup_id: attr(Attr::MessageDeduplicationId),
                at_ms: epoch.elapsed().as_millis() as u64,
            });
            delete(sqs, queue_url, message.receipt_handle()).await?;
        }
        for message in receive(sqs, failure_queue_url, 0).await? {
            got.failures.push(FailureReceived {
                body: message.body().unwrap_or_default().to_owned(),
                at_ms: epoch.elapsed().as_millis() as u64,
            });
            delete(sqs, failure_queue_url, message.receipt_handle()).await?;
        }
        let mails = mailbox.poll(epoch).await?;
        got.mails.extend(
            mails
                .into_iter()
                .filter(|m| m.to.iter().any(|to| to == email)),
        );
        if (got.fifo.len(), got.mails.len(), got.failures.len()) != before {
            last_new = Instant::now();
        }
        let complete = wanted.reached_by(&got);
        if complete && last_new.elapsed() >= QUIET_WINDOW {
            return Ok(got);
        }
        if started.elapsed() >= deadline {
            got.timed_out = !complete;
            return Ok(got);
        }
    }
}

pub(crate) async fn receive(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    wait_s: i32,
) -> Result<Vec<aws_sdk_sqs::types::Message>, String> {
    let out = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(wait_s)
        .message_system_attribute_names(Attr::All)
        .send()
        .await
        .map_err(|e| format!("ReceiveMessage {queue_url}: {}", describe_error(&e)))?;
    Ok(out.messages().to_vec())
}

pub(crate) async fn delete(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    receipt: Option<&str>,
) -> Result<(), String> {
    let Some(receipt) = receipt else {
        return Ok(());
    };
    sqs.delete_message()
        .queue_url(queue_url)
        .receipt_handle(receipt)
        .send()
        .await
        .map(drop)
        .map_err(|e| format!("DeleteMessage {queue_url}: {}", describe_error(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_failure_records_stand_in_for_dropped_deliveries_only_as_allowed() {
        let wanted = |failures, or_failed| Wanted {
            fifo: 3,
            mails: 3,
            failures,
            or_failed,
        };
        assert!(wanted(0, 0).reached_by(&Collected::sized(3, 3, 0)));
        assert!(
            !wanted(0, 0).reached_by(&Collected::sized(2, 2, 1)),
            "no stand-ins allowed"
        );
        assert!(
            wanted(0, 1).reached_by(&Collected::sized(2, 2, 1)),
            "one dropped event"
        );
        assert!(
            !wanted(0, 1).reached_by(&Collected::sized(1, 1, 2)),
            "at most one stands in"
        );
        assert!(
            !wanted(1, 1).reached_by(&Collected::sized(2, 2, 1)),
            "the expected record is not a stand-in"
        );
        assert!(wanted(1, 1).reached_by(&Collected::sized(2, 2, 2)));
        assert!(
            !wanted(0, 1).reached_by(&Collected::sized(2, 3, 0)),
            "a missing message needs its record"
        );
    }
}
