//! Where the email alerts can be read back, behind one trait.
//!
//! Each target delivers SNS email somewhere else: LocalStack Community hands it to its SES
//! emulation ([`LocalStackSes`]), LocalStack Pro or any SMTP relay can deliver it to a local
//! SMTP sink ([`SmtpSink`]), and on AWS it can land in an S3 mailbox. The harness reads them all
//! through [`Mailbox`], and the ones that see real MIME turn it into a
//! [`MailReceived`](crate::oracle::MailReceived) with [`mime::parse_mail`]. Which one a run
//! uses, and its per-run address, is decided in [`setup`].

use std::time::Instant;

use crate::oracle::MailReceived;

// One module per kind of mailbox (add new ones here), plus the MIME parsing they share.
pub mod mime;
pub mod s3;
pub mod ses;
pub mod setup;
pub mod smtp;

pub use s3::S3Mailbox;
pub use ses::LocalStackSes;
pub use setup::{CONFIRMATION_DEADLINE, Inbox, MailSetup, RunMailbox, run_address};
pub use smtp::SmtpSink;

/// A source of received mail.
pub trait Mailbox {
    /// Mails that arrived since the last call (each mail is returned once), stamped with the
    /// milliseconds since `epoch` (when the mailbox received the mail if it knows, else when the
    /// harness first saw it).
    fn poll(
        &mut self,
        epoch: Instant,
    ) -> impl std::future::Future<Output = Result<Vec<MailReceived>, String>> + Send;
}
