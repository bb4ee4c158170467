//! Where the harness keeps things that outlive one process: the LocalStack virtual environment,
//! the state of a LocalStack started by `harness up`, and its logs.
//!
//! `HARNESS_CACHE_DIR` overrides the root (tests use it to isolate runs); otherwise the XDG cache
//! directory is used, so a clone can be deleted without losing the half-minute venv build.

use std::path::PathBuf;

/// Root of everything the harness caches or records.
pub fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("HARNESS_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("upload-harness")
}

/// Directory for the state and logs of embedded LocalStack instances (`HARNESS_STATE_DIR`
/// overrides it, so a test can run its own `harness up` beside a user's).
pub fn instances_dir() -> PathBuf {
    match std::env::var_os("HARNESS_STATE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => cache_root().join("instances"),
    }
}

/// Directory holding provisioned virtual environments, one per lock hash.
pub fn venvs_dir() -> PathBuf {
    cache_root().join("venvs")
}
