//! One run of the pipeline, owned in one place. A run is: a fresh stack ([`Stack`]: deployed,
//! then torn down explicitly, or by its drop as a safety net), the mailbox of the run's own
//! address, the seeded uploads ([`upload`]), the collection of every delivery ([`collect`]), the
//! harness's own encryption checks ([`encryption`]), and a typed report ([`report`] made of
//! [`finding`]s and checks). [`Run`] holds what a deployed stack needs while it is exercised.
//!
//! Plain scenario runs (`runner`), chaos runs (`chaos`), the bench (`bench`) and `harness check`
//! are users of this layer; none of them deploys or tears down on its own (the bench opens the
//! run's mailbox directly: it counts its requests and needs no emulator session watch).
//! Replay commands are formatted in [`replay`].

pub mod collect;
pub mod encryption;
pub mod faults;
pub mod finding;
pub mod replay;
pub mod report;
mod stack;
pub mod upload;

use std::time::{Duration, Instant};

use crate::deploy::Deployment;
use crate::localstack::session::{SessionWatch, WatchError};
use crate::mailbox::{Inbox, RunMailbox};
use crate::oracle::{Expect, Uploaded};
use crate::run_target::{Target, TargetKind};
use crate::scenario::Scenario;
use crate::workload::PlannedUpload;

pub use collect::{Collected, Wanted};
pub use finding::{Check, Finding};
pub use report::{RunReport, Status};
pub use stack::Stack;

/// A deployed stack being exercised: where uploads go, where deliveries and mail are read, the
/// run's clock, and (on LocalStack) the emulator session the run started in.
#[derive(Debug)]
pub struct Run<'a> {
    pub target: &'a Target,
    pub deployment: &'a Deployment,
    pub mailbox: RunMailbox,
    /// The email subscription the S3 mailbox confirmed (its ARN); `None` elsewhere.
    pub confirmed_subscription: Option<String>,
    /// Time zero of the run: uploads and deliveries are stamped in ms since it.
    pub epoch: Instant,
    /// Why no email can be read back on this target (then none is waited for, and the oracle
    /// skips its email rules with this reason); `None` where mail is read.
    pub email_unobservable: Option<String>,
    watch: Option<SessionWatch>,
}

impl<'a> Run<'a> {
    /// Opens the run's mailbox (an S3 mailbox's subscription confirmed first; `None`: no mail
    /// is read, see [`RunMailbox::Unread`]) and notes the emulator's session, so a restart
    /// under the run is noticed instead of blamed on the pipeline.
    pub async fn start(
        target: &'a Target,
        deployment: &'a Deployment,
        inbox: Option<Inbox<'_>>,
        epoch: Instant,
    ) -> Result<Self, Finding> {
        let watch = watch_emulator(target).await?;
        let (mailbox, confirmed_subscription) = match inbox {
            Some(inbox) => RunMailbox::open(inbox, target, &deployment.email_address)
                .await
                .map_err(Finding::Mailbox)?,
            None => (RunMailbox::Unread, None),
        };
        Ok(Self {
            target,
            deployment,
            mailbox,
            confirmed_subscription,
            epoch,
            email_unobservable: None,
            watch,
        })
    }

    /// Uploads `plan` into the stack's bucket, `concurrency` at a time.
    pub async fn upload(
        &self,
        plan: &[PlannedUpload],
        concurrency: usize,
    ) -> Result<Vec<Uploaded>, Finding> {
        let s3 = self.target.s3();
        upload::upload_all(&s3, &self.deployment.bucket, plan, concurrency, self.epoch)
            .await
            .map_err(Finding::Upload)
    }

    /// Collects the stack's deliveries until `wanted` arrived (and a quiet window passed) or
    /// `deadline`.
    pub async fn collect(
        &mut self,
        wanted: Wanted,
        deadline: Duration,
    ) -> Result<Collected, Finding> {
        let sources = collect::Sources::of(self.deployment);
        let sqs = self.target.sqs();
        collect::collect(
            &sqs,
            sources,
            &mut self.mailbox,
            wanted,
            self.epoch,
            deadline,
        )
        .await
        .map_err(Finding::Collect)
    }

    /// `Err` when the emulator the run started on was restarted or stopped answering.
    pub async fn same_emulator(&self) -> Result<(), Finding> {
        self.emulator_session()
            .await
            .map_err(|e| Finding::Emulator(e.to_string()))
    }

    /// The session watch's verdict, typed (always `Ok` on AWS, which has no watch).
    pub async fn emulator_session(&self) -> Result<(), WatchError> {
        match &self.watch {
            Some(watch) => watch.check().await,
            None => Ok(()),
        }
    }

    /// The harness's own HeadObject of every uploaded version (independent of the handler).
    pub async fn check_encryption_at_rest(&self, uploads: &[Uploaded]) -> Check {
        encryption::check_encryption_at_rest(self.target, self.deployment, uploads).await
    }

    /// What the oracle expects of every delivery of `scenario` on this stack.
    pub fn expect(&self, scenario: &Scenario) -> Expect {
        Expect {
            bucket: self.deployment.bucket.clone(),
            kms_key_arn: self.deployment.kms_key_arn.clone(),
            email: self.deployment.email_address.clone(),
            verdict: scenario.expect.verdict.clone(),
            failures_expected: scenario.expect.failures,
            sequencer_orders_overwrites: self.target.kind == TargetKind::Aws,
            email_unobservable: self.email_unobservable.clone(),
        }
    }
}

/// The session of the target's emulator, to notice a restart later (`None` on AWS).
/// Notes LocalStack's session (`/_localstack/info`). MiniStack reports no session or start
/// time, so a restart underneath a run there is not told apart from a pipeline failure; an
/// embedded MiniStack's death is still caught by the supervisor.
async fn watch_emulator(target: &Target) -> Result<Option<SessionWatch>, Finding> {
    if target.emulator() != Some(crate::localstack::Emulator::LocalStack) {
        return Ok(None);
    }
    match &target.endpoint_url {
        Some(endpoint) => SessionWatch::start(endpoint)
            .await
            .map(Some)
            .map_err(|e| Finding::Emulator(e.to_string())),
        None => Ok(None),
    }
}

/// The key prefix of a run's uploads: a `-` (not `/`) after the run id, so with prefix grouping
/// the top-level prefixes differ.
pub fn key_prefix(deployment: &Deployment) -> String {
    format!("{}-", deployment.run_id)
}
