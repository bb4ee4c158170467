//! One notion of "where the pipeline runs", used by every command.
//!
//! * `embedded` (default): a LocalStack this harness starts on this machine (or the one
//!   `harness up` left running), with Lambda functions run as local processes.
//! * `localstack`: a LocalStack started elsewhere (e.g. in Docker), at `--endpoint-url`.
//! * `ministack`: MiniStack, a second emulator: started by this harness like the embedded
//!   LocalStack, or attached at `--endpoint-url`.
//! * `aws`: a real account, credentials and region from the standard aws-config chain.
//!
//! The endpoint, region and credentials flow from here into every SDK client.
//!
//! The command-line flags are in `args`; resolving them into a [`Target`] (starting or
//! attaching to a LocalStack, or loading the AWS configuration) in `connect`; starting an
//! embedded LocalStack and the SDK configuration for any LocalStack in `local`. This module
//! holds the resolved target and the SDK clients it hands out.

mod args;
mod connect;
mod local;

use aws_config::{Region, SdkConfig};

use crate::localstack::{EmbeddedLocalStack, Emulator, SupervisorError};
use crate::provision::ProvisionError;
use crate::python::PythonError;

pub use args::{AwsArgs, TargetArgs, TargetKind};
pub use local::{
    describe_instance, localstack_sdk_config, start_embedded, start_embedded_emulator,
};

/// Region used on LocalStack targets unless `--region` says otherwise.
pub const DEFAULT_LOCALSTACK_REGION: &str = "us-east-1";

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(transparent)]
    Python(#[from] PythonError),
    #[error(transparent)]
    Provision(#[from] ProvisionError),
    #[error(transparent)]
    Supervisor(#[from] SupervisorError),
    #[error(transparent)]
    Docker(#[from] crate::docker::DockerError),
    #[error(
        "--docker starts its own LocalStack: use it with --target localstack and without --endpoint-url"
    )]
    DockerMisuse,
    #[error(
        "--target localstack needs --endpoint-url, e.g. --endpoint-url http://localhost:4566 \
         (or use the default --target embedded, which starts LocalStack itself)"
    )]
    MissingEndpoint,
    #[error(
        "--endpoint-url only applies to --target localstack or --target ministack; drop it or \
         add one of those"
    )]
    StrayEndpoint,
    #[error(
        "{endpoint} does not answer as a {emulator} ({reason}); start it first or fix --endpoint-url"
    )]
    Unreachable {
        emulator: &'static str,
        endpoint: String,
        reason: String,
    },
    #[error("{endpoint} is a MiniStack (it answers /_ministack/health): use --target ministack")]
    IsMiniStack { endpoint: String },
    #[error("provisioning was interrupted: {0}")]
    Join(String),
    #[error(
        "this target does not own its LocalStack process (attached, shared or `harness up`), so \
         it cannot restart it; run without --endpoint-url and without `harness up` so the \
         command starts a LocalStack of its own"
    )]
    NotOwned,
}

/// A resolved target with SDK configuration ready for clients.
#[derive(Debug)]
pub struct Target {
    pub kind: TargetKind,
    pub region: String,
    /// `None` on AWS.
    pub endpoint_url: Option<String>,
    pub sdk: SdkConfig,
    /// The LocalStack this process started (stopped when the target is shut down or dropped).
    /// Behind a lock so a chaos run, which holds the target shared, can restart it.
    embedded: Option<tokio::sync::Mutex<EmbeddedLocalStack>>,
    /// The LocalStack container this process started (removed when dropped).
    docker: Option<crate::docker::DockerLocalStack>,
    /// A real account its owner marked as a sandbox (`--sandbox-account`): chaos may inject its
    /// reversible platform faults there.
    sandbox: bool,
    /// The named profile the credentials come from (`--profile`/`AWS_PROFILE`), for messages.
    pub profile: Option<String>,
}

impl Target {
    /// SDK configuration for another region of the same target (cross-region scenarios).
    pub async fn sdk_for_region(&self, region: &str) -> SdkConfig {
        match &self.endpoint_url {
            Some(endpoint) => localstack_sdk_config(endpoint, region).await,
            None => self
                .sdk
                .to_builder()
                .region(Region::new(region.to_owned()))
                .build(),
        }
    }

    /// An S3 client for another region of the same target (a bucket that lives there).
    pub async fn s3_in(&self, region: &str) -> aws_sdk_s3::Client {
        let sdk = self.sdk_for_region(region).await;
        let config = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(self.endpoint_url.is_some())
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// An S3 client; path-style on LocalStack, where bucket host names do not resolve.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk)
            .force_path_style(self.endpoint_url.is_some())
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::new(&self.sdk)
    }

    pub fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.sdk)
    }

    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.sdk)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk)
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk)
    }

    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.sdk)
    }

    /// Marks a real account as a sandbox, where chaos may inject reversible faults.
    pub fn mark_sandbox(&mut self) {
        self.sandbox = true;
    }

    /// Whether chaos faults may be injected here: any LocalStack, or an account marked as a
    /// sandbox.
    pub fn is_sandbox(&self) -> bool {
        self.kind != TargetKind::Aws || self.sandbox
    }

    /// True when this process started the embedded LocalStack (it stops when the target does).
    pub fn embedded_is_owned(&self) -> bool {
        self.embedded.is_some()
    }

    /// The LocalStack this process started, if any.
    pub fn embedded(&mut self) -> Option<&mut EmbeddedLocalStack> {
        self.embedded.as_mut().map(tokio::sync::Mutex::get_mut)
    }

    /// Stops the LocalStack this process started and starts it again on the same endpoint (the
    /// chaos fault `restart-localstack`); its state is lost, as in any restart of LocalStack.
    pub async fn restart_embedded(
        &self,
        progress: &mut (dyn std::io::Write + Send),
    ) -> Result<(), TargetError> {
        let Some(instance) = &self.embedded else {
            return Err(TargetError::NotOwned);
        };
        let mut instance = instance.lock().await;
        instance
            .restart(std::time::Duration::from_secs(180), progress)
            .await?;
        Ok(())
    }

    /// Fails with LocalStack's log tail when an embedded LocalStack has crashed.
    pub fn ensure_alive(&mut self) -> Result<(), SupervisorError> {
        match self.embedded() {
            Some(instance) => instance.ensure_alive(),
            None => Ok(()),
        }
    }

    /// The emulator this target runs on; `None` on AWS.
    pub fn emulator(&self) -> Option<Emulator> {
        match self.kind {
            TargetKind::Aws => None,
            TargetKind::Ministack => Some(Emulator::MiniStack),
            TargetKind::Embedded | TargetKind::Localstack => Some(Emulator::LocalStack),
        }
    }

    /// One line saying what this target is.
    pub fn describe(&self) -> String {
        match (&self.kind, &self.endpoint_url) {
            (TargetKind::Aws, _) => format!("aws (region {})", self.region),
            (kind, Some(endpoint)) => {
                let kind = format!("{kind:?}").to_lowercase();
                let endpoint = crate::redact::secrets(endpoint);
                let emulator = self.emulator().map_or("emulator", Emulator::name);
                format!("{kind} {emulator} at {endpoint} (region {})", self.region)
            }
            (kind, None) => format!("{kind:?}"),
        }
    }

    /// The global flags that select this target again, for replay commands: a LocalStack
    /// someone else runs by its endpoint, AWS with its region (the profile is the user's own).
    pub fn replay_flags(&self) -> String {
        match (self.kind, &self.endpoint_url) {
            (TargetKind::Embedded, _) => "--target embedded".into(),
            (TargetKind::Localstack, _) if self.docker.is_some() => {
                "--target localstack --docker".into()
            }
            (TargetKind::Localstack, Some(endpoint)) => {
                let endpoint = crate::redact::secrets(endpoint);
                format!("--target localstack --endpoint-url {endpoint}")
            }
            (TargetKind::Localstack, None) => "--target localstack".into(),
            (TargetKind::Ministack, _) if self.embedded.is_some() => "--target ministack".into(),
            (TargetKind::Ministack, Some(endpoint)) => {
                let endpoint = crate::redact::secrets(endpoint);
                format!("--target ministack --endpoint-url {endpoint}")
            }
            (TargetKind::Ministack, None) => "--target ministack".into(),
            (TargetKind::Aws, _) => format!("--target aws --region {}", self.region),
        }
    }

    /// Stops the embedded LocalStack this process started, if any (others are left running).
    pub fn shutdown(mut self) -> Result<(), SupervisorError> {
        match self.embedded.take() {
            Some(instance) => instance.into_inner().stop().map(|_| ()),
            None => Ok(()),
        }
    }
}
