//! Resolves the flags into a [`Target`]: reuse the LocalStack `harness up` left running or
//! start one, start LocalStack's Docker image, attach to a LocalStack elsewhere after checking
//! it answers, or load the AWS configuration; and the constructors for targets built by hand.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};

use super::start_embedded_emulator;
use super::{
    AwsArgs, DEFAULT_LOCALSTACK_REGION, Target, TargetArgs, TargetError, TargetKind,
    localstack_sdk_config, start_embedded,
};
use crate::localstack::{self, EmbeddedLocalStack, Emulator};
use crate::paths;

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
                match localstack::identify(&paths::instances_dir()) {
                    localstack::Identified::Ours(info) => {
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
                    localstack::Identified::Stale { reason, removed } => {
                        let fate = if removed { "removed" } else { "not removed" };
                        let _ = writeln!(
                            progress,
                            "ignoring a stale `harness up` state file ({fate}; nothing was \
                             signalled): {reason}"
                        );
                    }
                    localstack::Identified::None => {}
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
                check_reachable(Emulator::LocalStack, &endpoint).await?;
                // MiniStack answers LocalStack's health path too; taken for a LocalStack its
                // answers would be held to LocalStack's and blamed on the pipeline.
                if check_reachable(Emulator::MiniStack, &endpoint)
                    .await
                    .is_ok()
                {
                    return Err(TargetError::IsMiniStack {
                        endpoint: crate::redact::secrets(&endpoint).into_owned(),
                    });
                }
                Ok(Self::localstack(TargetKind::Localstack, &endpoint, &args.aws, None).await)
            }
            TargetKind::Ministack => match &args.aws.endpoint_url {
                Some(endpoint) => {
                    check_reachable(Emulator::MiniStack, endpoint).await?;
                    Ok(Self::localstack(TargetKind::Ministack, endpoint, &args.aws, None).await)
                }
                None => {
                    let instance =
                        start_embedded_emulator(Emulator::MiniStack, args.python.clone(), progress)
                            .await?;
                    let endpoint = instance.endpoint().to_owned();
                    Ok(Self::localstack(
                        TargetKind::Ministack,
                        &endpoint,
                        &args.aws,
                        Some(instance),
                    )
                    .await)
                }
            },
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
                    sandbox: false,
                    profile: args.aws.profile.clone(),
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
            sandbox: false,
            profile: None,
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
            embedded: embedded.map(tokio::sync::Mutex::new),
            docker: None,
            sandbox: false,
            profile: None,
        }
    }
}

/// Whether `endpoint` answers `emulator`'s health document (MiniStack also answers LocalStack's
/// path, LocalStack not MiniStack's, so each is asked for its own).
async fn check_reachable(emulator: Emulator, endpoint: &str) -> Result<(), TargetError> {
    let url = format!(
        "{}{}",
        endpoint.trim_end_matches('/'),
        emulator.health_path()
    );
    let unreachable = |reason: String| TargetError::Unreachable {
        emulator: emulator.name(),
        endpoint: crate::redact::secrets(endpoint).into_owned(),
        reason: crate::redact::secrets(&reason).into_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn regression_an_unreachable_endpoint_error_hides_its_password() {
        let error = check_reachable(Emulator::LocalStack, "http://user:s3cret@127.0.0.1:9")
            .await
            .unwrap_err()
            .to_string();
        assert!(!error.contains("s3cret"), "{error}");
        assert!(error.contains("user:***@127.0.0.1:9"), "{error}");
    }

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
    async fn regression_a_ministack_is_not_taken_for_a_localstack() {
        // Answers every path, as MiniStack answers both health paths.
        let (endpoint, _) =
            crate::fake_http::fake_localstack_with(|_| ("200 OK", r#"{"services":{}}"#.into()));
        let args = TargetArgs {
            target: TargetKind::Localstack,
            aws: AwsArgs {
                endpoint_url: Some(endpoint),
                ..AwsArgs::default()
            },
            ..TargetArgs::default()
        };
        let err = Target::connect(&args, &mut Vec::new()).await.unwrap_err();
        assert!(matches!(err, TargetError::IsMiniStack { .. }), "{err}");
        assert!(err.to_string().contains("--target ministack"), "{err}");
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
