//! The deployable artifact: the handler's `bootstrap` binary, built by cargo and zipped the way
//! Lambda's `provided.al2023` runtime expects (one executable file named `bootstrap` at the root).
//!
//! The binary is located from cargo's own JSON build messages rather than by guessing the target
//! directory, so `CARGO_TARGET_DIR` and profiles work. `--bootstrap PATH` skips the build.

use std::io::{BufRead, BufReader, Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace this harness was built from (the handler's sources live there).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("harness/ sits inside the workspace")
        .to_owned()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildProfile {
    /// What tests deploy: shares the test build's compiled dependencies.
    Dev,
    /// What real deployments use.
    Release,
}

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("cannot run cargo to build the handler ({0}); is the Rust toolchain on PATH?")]
    CargoMissing(#[source] std::io::Error),
    #[error("building the handler failed ({status}); cargo's messages are above")]
    BuildFailed { status: String },
    #[error("cargo built the handler but reported no `bootstrap` executable")]
    NoExecutable,
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot find cargo's target directory: {0}")]
    Metadata(String),
    #[error("cannot zip the bootstrap: {0}")]
    Zip(#[from] zip::result::ZipError),
}

/// Builds `bootstrap` with cargo and returns the path cargo reports for it.
pub fn build_bootstrap(profile: BuildProfile) -> Result<PathBuf, ArtifactError> {
    build_bootstrap_with(profile, &[], None)
}

/// Builds `bootstrap` with extra handler `features` (e.g. a test-only fault), into `target_dir`
/// when given (else cargo's usual one), and returns the path cargo reports for it.
///
/// A build with other features must use its own target directory: cargo copies every build of
/// the binary to `<target>/<profile>/bootstrap`, so it would replace the normal one under tests
/// that zip it concurrently.
pub fn build_bootstrap_with(
    profile: BuildProfile,
    features: &[&str],
    target_dir: Option<&Path>,
) -> Result<PathBuf, ArtifactError> {
    let mut cmd = cargo();
    cmd.current_dir(workspace_root())
        .args(["build", "-p", "handler", "--bin", "bootstrap"])
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if profile == BuildProfile::Release {
        cmd.arg("--release");
    }
    if !features.is_empty() {
        let qualified: Vec<String> = features.iter().map(|f| format!("handler/{f}")).collect();
        cmd.arg("--features").arg(qualified.join(","));
    }
    if let Some(dir) = target_dir {
        cmd.arg("--target-dir").arg(dir);
    }
    let mut child = cmd.spawn().map_err(ArtifactError::CargoMissing)?;
    let stdout = child.stdout.take().expect("stdout was piped");
    let mut executable = None;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        if let Some(path) = bootstrap_executable(&line) {
            executable = Some(path);
        }
    }
    let status = child.wait().map_err(ArtifactError::CargoMissing)?;
    if !status.success() {
        return Err(ArtifactError::BuildFailed {
            status: status.to_string(),
        });
    }
    executable.ok_or(ArtifactError::NoExecutable)
}

/// Cargo's target directory for this workspace (honours `CARGO_TARGET_DIR` and cargo config),
/// as `cargo metadata` reports it.
pub fn target_directory() -> Result<PathBuf, ArtifactError> {
    let output = cargo()
        .current_dir(workspace_root())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(ArtifactError::CargoMissing)?;
    if !output.status.success() {
        return Err(ArtifactError::Metadata(format!(
            "`cargo metadata` failed ({})",
            output.status
        )));
    }
    metadata_target_directory(&output.stdout)
}

fn metadata_target_directory(json: &[u8]) -> Result<PathBuf, ArtifactError> {
    let metadata: serde_json::Value = serde_json::from_slice(json)
        .map_err(|e| ArtifactError::Metadata(format!("unreadable `cargo metadata` output: {e}")))?;
    metadata
        .get("target_directory")
        .and_then(serde_json::Value::as_str)
        .map(PathBuf::from)
        .ok_or_else(|| ArtifactError::Metadata("`cargo metadata` names no target_directory".into()))
}

/// The cargo that runs us (`$CARGO` under cargo), else the one on PATH.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The `executable` of a cargo `compiler-artifact` message for the `bootstrap` binary.
fn bootstrap_executable(line: &str) -> Option<PathBuf> {
    let msg: serde_json::Value = serde_json::from_str(line).ok()?;
    if msg.get("reason")?.as_str()? != "compiler-artifact"
        || msg.get("target")?.get("name")?.as_str()? != "bootstrap"
    {
        return None;
    }
    Some(PathBuf::from(msg.get("executable")?.as_str()?))
}

/// A Lambda deployment package holding `executable` as `bootstrap` (mode 0755).
pub fn zip_bootstrap(executable: &Path) -> Result<Vec<u8>, ArtifactError> {
    let bytes = std::fs::read(executable).map_err(|source| ArtifactError::Read {
        path: executable.to_owned(),
        source,
    })?;
    zip_single_executable("bootstrap", &bytes)
}

/// A zip holding one executable file (used for the bootstrap and for test functions).
pub fn zip_single_executable(name: &str, bytes: &[u8]) -> Result<Vec<u8>, ArtifactError> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    writer.start_file(name, options)?;
    writer
        .write_all(bytes)
        .map_err(|e| ArtifactError::Zip(e.into()))?;
    Ok(writer.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn finds_the_bootstrap_in_cargo_messages() {
        let line = r#"{"reason":"compiler-artifact","target":{"name":"bootstrap","kind":["bin"]},"executable":"/t/debug/bootstrap"}"#;
        assert_eq!(
            bootstrap_executable(line),
            Some(PathBuf::from("/t/debug/bootstrap"))
        );
        let lib = r#"{"reason":"compiler-artifact","target":{"name":"handler"},"executable":null}"#;
        assert_eq!(bootstrap_executable(lib), None);
        assert_eq!(bootstrap_executable("not json"), None);
    }

    #[test]
    fn reads_the_target_directory_from_cargo_metadata() {
        let json = br#"{"packages":[],"target_directory":"/w/target","version":1}"#;
        assert_eq!(
            metadata_target_directory(json).unwrap(),
            PathBuf::from("/w/target")
        );
        assert!(metadata_target_directory(b"{}").is_err());
        assert!(metadata_target_directory(b"not json").is_err());
    }

    #[test]
    fn zip_holds_an_executable_bootstrap() {
        let zipped = zip_single_executable("bootstrap", b"#!/bin/sh\n").unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(zipped)).unwrap();
        let mut file = archive.by_name("bootstrap").unwrap();
        assert_eq!(file.unix_mode().map(|m| m & 0o777), Some(0o755));
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        assert_eq!(text, "#!/bin/sh\n");
    }
}
