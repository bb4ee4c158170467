//! Which emulator a supervised instance runs: LocalStack (the default) or MiniStack, a second,
//! maintained one. Both run in host mode from a pinned venv on a loopback port; they differ in
//! their lock, how they are started (module and environment) and where they report health.

use std::path::Path;

use super::SERVICES;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Emulator {
    LocalStack,
    MiniStack,
}

impl Emulator {
    /// The name users know it by, for messages.
    pub fn name(self) -> &'static str {
        self.recipe().name
    }

    /// Lowercase, for file and directory names (venvs, logs).
    pub fn slug(self) -> &'static str {
        self.recipe().slug
    }

    /// The module run with `python -m`.
    pub fn module(self) -> &'static str {
        match self {
            Emulator::LocalStack => super::CMDLINE_MARKER,
            Emulator::MiniStack => "ministack",
        }
    }

    /// What provisioning installs for it.
    pub fn recipe(self) -> &'static crate::provision::Recipe {
        match self {
            Emulator::LocalStack => &crate::provision::LOCALSTACK,
            Emulator::MiniStack => &crate::provision::MINISTACK,
        }
    }

    /// The health document (both list `services` with `available`/`running` states).
    pub fn health_path(self) -> &'static str {
        match self {
            Emulator::LocalStack => "/_localstack/health",
            Emulator::MiniStack => "/_ministack/health",
        }
    }

    /// The environment the instance is started with (the parent's is cleared).
    pub fn env(self, port: u16, dir: &Path) -> Vec<(String, String)> {
        match self {
            Emulator::LocalStack => super::env::localstack_env(port, dir),
            Emulator::MiniStack => ministack_env(port, dir),
        }
    }
}

/// MiniStack's environment: bound to loopback (it binds every interface by default), its URLs
/// and its functions' `AWS_ENDPOINT_URL` pointing at that port (without it a `provided.*`
/// function is not pointed at MiniStack at all, and its SDK calls go elsewhere and fail), only
/// the services the pipeline uses, and its scratch files under the instance's directory.
fn ministack_env(port: u16, dir: &Path) -> Vec<(String, String)> {
    let mut env = super::env::base_env();
    env.extend([
        ("BIND_HOST".into(), "127.0.0.1".into()),
        ("GATEWAY_PORT".into(), port.to_string()),
        ("MINISTACK_HOST".into(), "127.0.0.1".into()),
        (
            "AWS_ENDPOINT_URL".into(),
            format!("http://127.0.0.1:{port}"),
        ),
        ("SERVICES".into(), SERVICES.join(",")),
        ("TMPDIR".into(), dir.join("tmp").display().to_string()),
        (
            "XDG_CACHE_HOME".into(),
            dir.join("cache").display().to_string(),
        ),
    ]);
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ministack_listens_on_loopback_and_hands_its_functions_its_own_endpoint() {
        let env = Emulator::MiniStack.env(4599, Path::new("/tmp/x"));
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("BIND_HOST"), Some("127.0.0.1"));
        assert_eq!(get("GATEWAY_PORT"), Some("4599"));
        assert_eq!(get("AWS_ENDPOINT_URL"), Some("http://127.0.0.1:4599"));
        assert_eq!(get("TMPDIR"), Some("/tmp/x/tmp"));
    }
}
