//! The environment LocalStack is started with: host mode on our loopback port, our Lambda
//! executor, per-instance directories, nothing from the caller's environment beyond `PATH`
//! and `HOME`.

use std::path::Path;

use super::{EXECUTOR_NAME, SERVICES};

/// The environment LocalStack is started with (and nothing else: the parent's environment is
/// cleared, so stray AWS or LocalStack variables cannot change what the harness tests).
pub(super) fn localstack_env(port: u16, dir: &Path) -> Vec<(String, String)> {
    let path = |p: &str| dir.join(p).display().to_string();
    let mut env = base_env();
    env.extend([
        // Host mode on a loopback port of our choosing (no Docker, nothing exposed).
        ("GATEWAY_LISTEN".into(), format!("127.0.0.1:{port}")),
        // URLs LocalStack hands out (queue URLs) point at that port, not at public DNS names.
        ("LOCALSTACK_HOST".into(), format!("127.0.0.1:{port}")),
        ("SQS_ENDPOINT_STRATEGY".into(), "path".into()),
        ("SERVICES".into(), SERVICES.join(",")),
        // Run provided.al2023 functions as local processes through our plugin.
        ("LAMBDA_RUNTIME_EXECUTOR".into(), EXECUTOR_NAME.into()),
        // A machine with /.dockerenv makes LocalStack believe it is in its own container and
        // ignore FILESYSTEM_ROOT (writing to /var/lib/localstack, pinging the Docker bridge).
        ("OVERRIDE_IN_DOCKER".into(), "0".into()),
        // Per-instance state, scratch space (unzipped functions) and plugin cache, so instances
        // never share files and a stopped one leaves nothing elsewhere.
        ("FILESYSTEM_ROOT".into(), path("fs")),
        ("TMPDIR".into(), path("tmp")),
        ("XDG_CACHE_HOME".into(), path("cache")),
        // Async invocations that fail are retried as on AWS (twice), but after 1 s and 2 s
        // instead of 1 and 2 minutes, so failure paths reach the on-failure queue in seconds.
        ("LAMBDA_RETRY_BASE_DELAY".into(), "1".into()),
        // No DNS server on port 53, no analytics, no certificate download: no internet here.
        ("DNS_ADDRESS".into(), "0".into()),
        ("DISABLE_EVENTS".into(), "1".into()),
        ("SKIP_SSL_CERT_DOWNLOAD".into(), "1".into()),
    ]);
    env
}

/// What every emulator process gets from the caller's environment (`PATH`, `HOME`) and a
/// fixed locale and unbuffered output; the rest of the caller's environment is cleared.
pub(super) fn base_env() -> Vec<(String, String)> {
    let inherited =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    vec![
        (
            "PATH".into(),
            inherited("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ),
        ("HOME".into(), inherited("HOME", "/root")),
        ("LANG".into(), "C.UTF-8".into()),
        ("PYTHONUNBUFFERED".into(), "1".into()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_isolates_each_instance() {
        let env = localstack_env(4599, Path::new("/x/inst"));
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("GATEWAY_LISTEN"), Some("127.0.0.1:4599"));
        assert_eq!(get("LAMBDA_RUNTIME_EXECUTOR"), Some(EXECUTOR_NAME));
        assert_eq!(get("FILESYSTEM_ROOT"), Some("/x/inst/fs"));
        assert_eq!(get("OVERRIDE_IN_DOCKER"), Some("0"));
        assert_eq!(
            get("AWS_ENDPOINT_URL"),
            None,
            "nothing inherited from the caller"
        );
    }
}
