//! A LocalStack in Docker, for machines that have a Docker daemon (`--target localstack
//! --docker`), started through testcontainers from a pinned image.
//!
//! The embedded target needs no Docker; this exists for users who prefer LocalStack's own image
//! (its Lambda then runs functions in containers, through the mounted Docker socket).

use std::time::Duration;

use testcontainers::core::{IntoContainerPort, Mount, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

/// The image, pinned: LocalStack Community's last freely pullable line.
pub const IMAGE: &str = "localstack/localstack";
pub const TAG: &str = "4.14.0";
const GATEWAY_PORT: u16 = 4566;

#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error(
        "no Docker daemon reachable for --docker ({0}); start Docker (or set DOCKER_HOST), or \
         drop --docker to use the embedded LocalStack, which needs no Docker"
    )]
    Unavailable(String),
    #[error("LocalStack container {IMAGE}:{TAG} did not start: {0}")]
    Start(String),
}

/// A running LocalStack container; removed when dropped.
pub struct DockerLocalStack {
    pub container: ContainerAsync<GenericImage>,
    pub endpoint: String,
}

impl std::fmt::Debug for DockerLocalStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerLocalStack")
            .field("id", &self.container.id())
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// Starts the pinned image and waits for its `Ready.` line.
pub async fn start(
    progress: &mut (dyn std::io::Write + Send),
) -> Result<DockerLocalStack, DockerError> {
    let _ = writeln!(progress, "starting {IMAGE}:{TAG} through Docker");
    let request = GenericImage::new(IMAGE, TAG)
        .with_exposed_port(GATEWAY_PORT.tcp())
        .with_wait_for(WaitFor::message_on_stdout("Ready."))
        .with_env_var("SERVICES", crate::localstack::SERVICES.join(","))
        .with_mount(Mount::bind_mount(
            "/var/run/docker.sock",
            "/var/run/docker.sock",
        ))
        .with_startup_timeout(Duration::from_secs(180));
    let container = request.start().await.map_err(classify)?;
    let port = container
        .get_host_port_ipv4(GATEWAY_PORT)
        .await
        .map_err(|e| DockerError::Start(e.to_string()))?;
    let endpoint = format!("http://127.0.0.1:{port}");
    let _ = writeln!(progress, "LocalStack container ready at {endpoint}");
    Ok(DockerLocalStack {
        container,
        endpoint,
    })
}

fn classify(error: testcontainers::TestcontainersError) -> DockerError {
    let text = error.to_string();
    let lower = text.to_lowercase();
    if lower.contains("socket")
        || lower.contains("connect")
        || lower.contains("no such file")
        || lower.contains("docker")
    {
        DockerError::Unavailable(text)
    } else {
        DockerError::Start(text)
    }
}
