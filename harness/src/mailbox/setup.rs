//! Which mailbox a run reads its alerts from: chosen by the command line ([`MailSetup`]),
//! resolved for a target before anything is deployed ([`Inbox`]), and opened for one deployed
//! stack ([`RunMailbox`], which confirms an S3 mailbox's subscription first). Every run mails its
//! own address ([`run_address`]), so mail of other runs is never counted.

use std::time::{Duration, Instant};

use super::s3::await_confirmation;
use super::{LocalStackSes, Mailbox, S3Mailbox};
use crate::localstack::Emulator;
use crate::oracle::MailReceived;
use crate::run_target::Target;
use crate::stack::RunId;

/// How long AWS's subscription confirmation mail may take to land in the S3 mailbox.
pub const CONFIRMATION_DEADLINE: Duration = Duration::from_secs(180);

/// Why no email can be read back on MiniStack (1.5.33, `services/sns.py`): an `email`
/// subscription is a stub that logs the message and neither sends it through its SES nor keeps
/// it anywhere, so there is nothing to observe without patching MiniStack.
pub const MINISTACK_EMAIL_STUB: &str = "MiniStack's SNS email subscriptions are a stub (the \
     message is logged, never sent through its SES nor kept), so no alert email can be read \
     back there; the email checks are skipped, never passed";

/// Where a run reads the email alerts back.
#[derive(Debug, Clone, Default)]
pub enum MailSetup {
    /// LocalStack's SES introspection on LocalStack targets; nothing on AWS (the pipeline
    /// scenarios are then skipped, with that reason).
    #[default]
    Auto,
    /// An S3 bucket an SES receipt rule stores incoming mail in (for AWS, with a verified domain:
    /// the alert address must be on it). The run confirms the email subscription from the
    /// confirmation mail before uploading.
    S3 { bucket: String, prefix: String },
}

/// A [`MailSetup`] resolved for a target: where its alerts are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbox<'a> {
    /// LocalStack's SES introspection at this endpoint.
    LocalStack(&'a str),
    /// The S3 mailbox.
    S3 { bucket: &'a str, prefix: &'a str },
}

impl MailSetup {
    /// Where the alerts are read on `target`; `Err` says how to fix AWS without a mailbox.
    pub fn inbox<'a>(&'a self, target: &'a Target) -> Result<Inbox<'a>, String> {
        match (self, target.emulator(), target.endpoint_url.as_deref()) {
            (Self::S3 { bucket, prefix }, _, _) => Ok(Inbox::S3 { bucket, prefix }),
            (Self::Auto, Some(Emulator::MiniStack), _) => Err(MINISTACK_EMAIL_STUB.into()),
            (Self::Auto, Some(Emulator::LocalStack), Some(endpoint)) => {
                Ok(Inbox::LocalStack(endpoint))
            }
            (Self::Auto, _, _) => Err("reading the email alerts back on AWS needs a mailbox: \
                 pass --mailbox-bucket (an SES receipt-rule bucket for the alert address's \
                 verified domain)"
                .into()),
        }
    }

    /// Why no alert email can be read back on `target` at all, whatever is deployed (MiniStack
    /// without an S3 mailbox): a run there judges everything but the email, which it skips with
    /// this reason.
    pub fn unobservable(&self, target: &Target) -> Option<&'static str> {
        match (self, target.emulator()) {
            (Self::Auto, Some(Emulator::MiniStack)) => Some(MINISTACK_EMAIL_STUB),
            _ => None,
        }
    }

    /// The flags that choose this mailbox again, for replay commands (none for the default).
    pub fn replay_flags(&self) -> String {
        match self {
            Self::Auto => String::new(),
            Self::S3 { bucket, prefix } if prefix.is_empty() => {
                format!(" --mailbox-bucket {bucket}")
            }
            Self::S3 { bucket, prefix } => {
                format!(" --mailbox-bucket {bucket} --mailbox-prefix {prefix:?}")
            }
        }
    }
}

/// `user+<run>@domain`: one address per run, so mail of other runs is never counted.
pub fn run_address(email: &str, run_id: &RunId) -> String {
    match email.split_once('@') {
        Some((user, domain)) => format!("{user}+{run_id}@{domain}"),
        None => format!("{email}+{run_id}"),
    }
}

/// The mailbox of one run, opened for its alert address.
#[derive(Debug)]
pub enum RunMailbox {
    /// LocalStack's SES, deleting the run's mails once read.
    LocalStack(LocalStackSes),
    /// The S3 mailbox, with the run's subscription confirmed.
    S3(S3Mailbox),
    /// No mailbox on this target: nothing is read, and whoever opened it skips its email checks
    /// with the reason (`harness check` on AWS without `--mailbox-bucket`).
    Unread,
}

impl RunMailbox {
    /// Opens `inbox` for the alerts to `address` (subscribed on `target`). For the S3 mailbox,
    /// waits for SNS's confirmation mail and confirms the subscription, so alerts are delivered
    /// at all, and gives the confirmed subscription's ARN with it; `Err` says why that did not
    /// happen.
    pub async fn open(
        inbox: Inbox<'_>,
        target: &Target,
        address: &str,
    ) -> Result<(Self, Option<String>), String> {
        match inbox {
            Inbox::LocalStack(endpoint) => Ok((
                Self::LocalStack(LocalStackSes::new(endpoint).consuming(address)),
                None,
            )),
            Inbox::S3 { bucket, prefix } => {
                let mut mailbox = S3Mailbox::new(target.s3(), bucket, prefix);
                let subscription =
                    await_confirmation(&target.sns(), &mut mailbox, address, CONFIRMATION_DEADLINE)
                        .await
                        .map_err(|e| format!("email subscription not confirmed: {e}"))?;
                Ok((Self::S3(mailbox), Some(subscription)))
            }
        }
    }
}

impl Mailbox for RunMailbox {
    async fn poll(&mut self, epoch: Instant) -> Result<Vec<MailReceived>, String> {
        match self {
            Self::LocalStack(ses) => ses.poll(epoch).await,
            Self::S3(s3) => s3.poll(epoch).await,
            Self::Unread => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run_target::TargetKind;

    #[test]
    fn each_run_gets_its_own_alert_address() {
        let run = RunId::from_seed(42);
        assert_eq!(
            run_address("alerts@mail.example.org", &run),
            format!("alerts+{run}@mail.example.org")
        );
        assert_ne!(
            run_address("a@b.c", &RunId::from_seed(1)),
            run_address("a@b.c", &RunId::from_seed(2))
        );
    }

    #[test]
    fn the_inbox_is_localstacks_own_or_the_s3_mailbox_and_aws_needs_one() {
        let sdk = aws_config::SdkConfig::builder().build();
        let local = Target::with_sdk_config(
            TargetKind::Localstack,
            "us-east-1",
            Some("http://ls"),
            sdk.clone(),
        );
        let aws = Target::with_sdk_config(TargetKind::Aws, "eu-west-1", None, sdk.clone());
        assert_eq!(
            MailSetup::Auto.inbox(&local),
            Ok(Inbox::LocalStack("http://ls"))
        );
        let err = MailSetup::Auto.inbox(&aws).unwrap_err();
        assert!(err.contains("--mailbox-bucket"), "{err}");
        let ministack = Target::with_sdk_config(
            TargetKind::Ministack,
            "us-east-1",
            Some("http://ms"),
            sdk.clone(),
        );
        let err = MailSetup::Auto.inbox(&ministack).unwrap_err();
        assert!(err.contains("skipped, never passed"), "{err}");
        let s3 = MailSetup::S3 {
            bucket: "inbox".into(),
            prefix: "p/".into(),
        };
        for target in [&local, &aws] {
            assert_eq!(
                s3.inbox(target),
                Ok(Inbox::S3 {
                    bucket: "inbox",
                    prefix: "p/"
                })
            );
        }
    }
}
