//! The local side of a LocalStack target: starting an embedded LocalStack owned by the
//! caller, the SDK configuration (fixed test credentials) for any LocalStack, and the line
//! that describes a detached instance.

use std::path::PathBuf;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};

use super::TargetError;
use crate::localstack::{EmbeddedLocalStack, Emulator, InstanceInfo};
use crate::paths;
use crate::provision;
use crate::python;

/// Provisions the venv and starts a LocalStack owned by the caller.
pub async fn start_embedded(
    python: Option<PathBuf>,
    progress: &mut (dyn std::io::Write + Send),
) -> Result<EmbeddedLocalStack, TargetError> {
    start_embedded_emulator(Emulator::LocalStack, python, progress).await
}

/// Provisions `emulator`'s venv and starts an instance owned by the caller.
pub async fn start_embedded_emulator(
    emulator: Emulator,
    python: Option<PathBuf>,
    progress: &mut (dyn std::io::Write + Send),
) -> Result<EmbeddedLocalStack, TargetError> {
    let python = python::discover(python.as_deref())?;
    // Provisioning is blocking work (pip); keep it off the async workers. Its progress goes
    // straight to stderr so a user sees it while it happens.
    let venv = tokio::task::spawn_blocking(move || {
        provision::ensure_emulator_venv(
            emulator.recipe(),
            &python,
            &paths::venvs_dir(),
            &mut std::io::stderr(),
        )
    })
    .await
    .map_err(|e| TargetError::Join(e.to_string()))??;
    let dir = paths::instances_dir().join(instance_dir_name(emulator));
    let instance = EmbeddedLocalStack::start_emulator(
        emulator,
        &venv,
        &dir,
        Duration::from_secs(180),
        progress,
    )
    .await?;
    Ok(instance)
}

fn instance_dir_name(emulator: Emulator) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let short = match emulator {
        Emulator::LocalStack => "ls",
        Emulator::MiniStack => "ms",
    };
    format!("{short}-{}-{nanos}", std::process::id())
}

/// The emulators accept any credentials; fixed test ones keep real ones out of the picture.
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
