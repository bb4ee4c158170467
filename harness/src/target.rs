//! One notion of "where the pipeline runs", used by every command.
//!
//! * `embedded` (default): a LocalStack this harness starts on this machine (or the one
//!   `harness up` left running), with Lambda functions run as local processes.
//! * `localstack`: a LocalStack started elsewhere (e.g. in Docker), at `--endpoint-url`.
//! * `aws`: a real account, credentials and region from the standard aws-config chain.
//!
//! The endpoint, region and credentials flow from here into every SDK client.

use std::path::PathBuf;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::localstack::{self, EmbeddedLocalStack, InstanceInfo, SupervisorError};
use crate::paths;
use crate::provision::{self, ProvisionError};
use crate::python::{self, PythonError};

/// Region used on LocalStack targets unless `--region` says otherwise.
pub const DEFAULT_LOCALSTACK_REGION: &str = "us-east-1";

/// Flags every AWS-facing command shares (the same names as the AWS CLI's).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsArgs {
    /// Named profile from ~/.aws/config (target `aws`).
    #[arg(long, env = "AWS_PROFILE", global = true)]
    pub profile: Option<String>,
    /// Region to deploy to and call (default: the profile's, or us-east-1 on LocalStack).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Endpoint of a LocalStack started elsewhere (target `localstack`).
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TargetKind {
    /// A LocalStack the harness starts itself, no Docker needed.
    #[default]
    Embedded,
    /// A LocalStack reachable at --endpoint-url.
    Localstack,
    /// A real AWS account.
    Aws,
}

/// Target selection shared by every command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TargetArgs {
    /// Where the pipeline runs.
    #[arg(
        long,
        value_enum,
        default_value_t,
        env = "HARNESS_TARGET",
        global = true
    )]
    pub target: TargetKind,
    /// With --target localstack: start LocalStack's pinned Docker image (needs a Docker daemon).
    #[arg(long, global = true)]
    pub docker: bool,
    /// Python >= 3.12 for the embedded LocalStack (default: discovered).
    #[arg(long, env = "HARNESS_PYTHON", global = true)]
    pub python: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

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
        "--endpoint-url only applies to --target localstack; drop it or add --target localstack"
    )]
    StrayEndpoint,
    #[error(
        "{endpoint} does not answer as a LocalStack ({reason}); start it first or fix --endpoint-url"
    )]
    Unreachable { endpoint: String, reason: String },
    #[error("provisioning was interrupted: {0}")]
    Join(String),
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
    embedded: Option<EmbeddedLocalStack>,
    /// The LocalStack container this process started (removed when dropped).
    docker: Option<crate::docker::DockerLocalStack>,
}

impl Target {
    /// Resolves the selection, starting an embedded LocalStack when needed.
    pub async fn connect(
        args: &TargetArgs,
        progress: &mut (dyn std::io::Write + Send),
    ) -> Result<Self, TargetError> {
        if args.docker && (args.target != TargetKind::Localstack || args.aws.endpoint_url.is_some())
        {
            return Err(TargetError::DockerMisuse);
        }
        match args.target {
            TargetKind::Embedded => {
                if args.aws.endpoint_url.is_some() {
                    return Err(TargetError::StrayEndpoint);
                }
                if let Some(info) = localstack::read_running(&paths::instances_dir()) {
                    let _ = writeln!(
                        progress,
                        "using the LocalStack started by `harness up` at {} (pid {})",
                        info.endpoint, info.pid
                    );
                    return Ok(Self::localstack(
                        TargetKind::Embedded,
                        &info.endpoint,
                        &args.aws,
                        None,
                    )
                    .await);
                }
                let instance = start_embedded(args.python.clone(), progress).await?;
                Self::for_embedded(instance, &args.aws).await
            }
            TargetKind::Localstack if args.docker => {
                let container = crate::docker::start(progress).await?;
                let mut target =
                    Self::localstack(TargetKind::Localstack, &container.endpoint, &args.aws, None)
                        .await;
                target.docker = Some(container);
                Ok(target)
            }
            TargetKind::Localstack => {
                let endpoint = args
                    .aws
                    .endpoint_url
                    .clone()
                    .ok_or(TargetError::MissingEndpoint)?;
                check_reachable(&endpoint).await?;
                Ok(Self::localstack(TargetKind::Localstack, &endpoint, &args.aws, None).await)
            }
            TargetKind::Aws => {
                if args.aws.endpoint_url.is_some() {
                    return Err(TargetError::StrayEndpoint);
                }
                let mut loader = aws_config::defaults(BehaviorVersion::latest());
                if let Some(profile) = &args.aws.profile {
                    loader = loader.profile_name(profile);
                }
                if let Some(region) = &args.aws.region {
                    loader = loader.region(Region::new(region.clone()));
                }
                let sdk = loader.load().await;
                let region = sdk
                    .region()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "us-east-1".into());
                Ok(Self {
                    kind: TargetKind::Aws,
                    region,
                    endpoint_url: None,
                    sdk,
                    embedded: None,
                    docker: None,
                })
            }
        }
    }

    /// A target around a LocalStack the caller started (and that this target will stop).
    pub async fn for_embedded(
        instance: EmbeddedLocalStack,
        aws: &AwsArgs,
    ) -> Result<Self, TargetError> {
        let endpoint = instance.endpoint().to_owned();
        Ok(Self::localstack(TargetKind::Embedded, &endpoint, aws, Some(instance)).await)
    }

    /// A target for a LocalStack someone else runs (this target never stops it).
    pub async fn attach(kind: TargetKind, endpoint: &str, aws: &AwsArgs) -> Self {
        Self::localstack(kind, endpoint, aws, None).await
    }

    /// A target from an SDK configuration the caller built (a custom HTTP client, e.g. the
    /// [`crate::recording`] one, or other credentials). `endpoint_url` is `None` for AWS; like
    /// [`Target::attach`], this target never owns a LocalStack process.
    pub fn with_sdk_config(
        kind: TargetKind,
        region: &str,
        endpoint_url: Option<&str>,
        sdk: SdkConfig,
    ) -> Self {
        Self {
            kind,
            region: region.to_owned(),
            endpoint_url: endpoint_url.map(str::to_owned),
            sdk,
            embedded: None,
            docker: None,
        }
    }

    async fn localstack(
        kind: TargetKind,
        endpoint: &str,
        aws: &AwsArgs,
        embedded: Option<EmbeddedLocalStack>,
    ) -> Self {
        let region = aws
            .region
            .clone()
            .unwrap_or_else(|| DEFAULT_LOCALSTACK_REGION.into());
        let sdk = localstack_sdk_config(endpoint, &region).await;
        Self {
            kind,
            region,
            endpoint_url: Some(endpoint.to_owned()),
            sdk,
            embedded,
            docker: None,
        }
    }

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

    /// True when this process started the embedded LocalStack (it stops when the target does).
    pub fn embedded_is_owned(&self) -> bool {
        self.embedded.is_some()
    }

    /// The LocalStack this process started, if any.
    pub fn embedded(&mut self) -> Option<&mut EmbeddedLocalStack> {
        self.embedded.as_mut()
    }

    /// Fails with LocalStack's log tail when an embedded LocalStack has crashed.
    pub fn ensure_alive(&mut self) -> Result<(), SupervisorError> {
        match self.embedded.as_mut() {
            Some(instance) => instance.ensure_alive(),
            None => Ok(()),
        }
    }

    /// One line saying what this target is.
    pub fn describe(&self) -> String {
        match (&self.kind, &self.endpoint_url) {
            (TargetKind::Aws, _) => format!("aws (region {})", self.region),
            (kind, Some(endpoint)) => {
                format!("{kind:?} LocalStack at {endpoint} (region {})", self.region).to_lowercase()
            }
            (kind, None) => format!("{kind:?}"),
        }
    }

    /// Stops an embedded LocalStack this process started; returns it detached otherwise.
    pub fn shutdown(mut self) -> Result<(), SupervisorError> {
        match self.embedded.take() {
            Some(instance) => instance.stop().map(|_| ()),
            None => Ok(()),
        }
    }
}

/// Provisions the venv and starts a LocalStack owned by the caller.
pub async fn start_embedded(
    python: Option<PathBuf>,
    progress: &mut (dyn std::io::Write + Send),
) -> Result<EmbeddedLocalStack, TargetError> {
    let python = python::discover(python.as_deref())?;
    // Provisioning is blocking work (pip); keep it off the async workers. Its progress goes
    // straight to stderr so a user sees it while it happens.
    let venv = tokio::task::spawn_blocking(move || {
        provision::ensure_venv(&python, &paths::venvs_dir(), &mut std::io::stderr())
    })
    .await
    .map_err(|e| TargetError::Join(e.to_string()))??;
    let dir = paths::instances_dir().join(instance_dir_name());
    let instance =
        EmbeddedLocalStack::start(&venv, &dir, Duration::from_secs(180), progress).await?;
    Ok(instance)
}

fn instance_dir_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("ls-{}-{nanos}", std::process::id())
}

/// LocalStack accepts any credentials; fixed test ones keep real ones out of the picture.
pub async fn localstack_sdk_config(endpoint: &str, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_owned()))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test",
            "test",
            None,
            None,
            "harness-localstack",
        ))
        .load()
        .await
}

async fn check_reachable(endpoint: &str) -> Result<(), TargetError> {
    let url = format!("{}/_localstack/health", endpoint.trim_end_matches('/'));
    let unreachable = |reason: String| TargetError::Unreachable {
        endpoint: endpoint.to_owned(),
        reason,
    };
    let response = reqwest::Client::new()
        .get(&url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(unreachable(format!(
            "{url} answered HTTP {}",
            response.status()
        )))
    }
}

/// Describes a detached instance for `harness up`/`status`.
pub fn describe_instance(info: &InstanceInfo) -> String {
    format!(
        "LocalStack running: pid {}, endpoint {}, log {}\n  use it: export AWS_ENDPOINT_URL={}",
        info.pid,
        info.endpoint,
        info.log.display(),
        info.endpoint
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn docker_only_goes_with_target_localstack_and_no_endpoint() {
        let mut args = TargetArgs {
            docker: true,
            ..TargetArgs::default()
        };
        let err = Target::connect(&args, &mut Vec::new()).await.unwrap_err();
        assert!(matches!(err, TargetError::DockerMisuse), "{err}");
        args.target = TargetKind::Localstack;
        args.aws.endpoint_url = Some("http://localhost:4566".into());
        let err = Target::connect(&args, &mut Vec::new()).await.unwrap_err();
        assert!(matches!(err, TargetError::DockerMisuse), "{err}");
    }

    #[tokio::test]
    async fn localstack_target_without_endpoint_says_which_flag_is_missing() {
        let args = TargetArgs {
            target: TargetKind::Localstack,
            ..TargetArgs::default()
        };
        let err = Target::connect(&args, &mut Vec::new()).await.unwrap_err();
        assert!(err.to_string().contains("--endpoint-url"), "{err}");
    }

    #[tokio::test]
    async fn an_endpoint_that_is_down_is_reported_with_the_fix() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let args = TargetArgs {
            target: TargetKind::Localstack,
            aws: AwsArgs {
                endpoint_url: Some(format!("http://127.0.0.1:{port}")),
                ..AwsArgs::default()
            },
            ..TargetArgs::default()
        };
        let err = Target::connect(&args, &mut Vec::new()).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("does not answer") && text.contains("--endpoint-url"),
            "{text}"
        );
    }
}
