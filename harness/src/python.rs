//! Finds a Python interpreter new enough for LocalStack (>= 3.12).
//!
//! LocalStack 2026.3 uses PEP 695 syntax, so on 3.11 every service call fails at import time.
//! Discovery order: an explicit choice (`--python` / `HARNESS_PYTHON`), then `python3.13` and
//! `python3.12` on `PATH`, then the pyenv versions folder. Each candidate is asked for its version
//! (pyenv shims exist on `PATH` for versions that are not selected, so existence proves nothing).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The oldest Python LocalStack 2026.3 runs on.
pub const MIN_VERSION: (u32, u32) = (3, 12);

#[derive(Debug, thiserror::Error)]
pub enum PythonError {
    #[error(
        "the Python chosen with --python/HARNESS_PYTHON ({path}) is not usable: {reason}; \
         point it at a CPython >= 3.12 interpreter"
    )]
    ExplicitUnusable { path: PathBuf, reason: String },
    #[error(
        "no Python >= 3.12 found (tried: {tried}). LocalStack needs it. Install CPython 3.12 or \
         3.13 (e.g. `pyenv install 3.13`), pass --python /path/to/python3.13 (or set \
         HARNESS_PYTHON), or run LocalStack in Docker and use `--target localstack \
         --endpoint-url http://localhost:4566`"
    )]
    NotFound { tried: String },
}

/// An interpreter that answered with a usable version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Python {
    pub path: PathBuf,
    pub version: (u32, u32, u32),
}

impl Python {
    pub fn version_string(&self) -> String {
        let (a, b, c) = self.version;
        format!("{a}.{b}.{c}")
    }
}

/// Finds the interpreter, honouring an explicit choice first.
pub fn discover(explicit: Option<&Path>) -> Result<Python, PythonError> {
    if let Some(path) = explicit {
        return probe(path)
            .and_then(require_min)
            .map_err(|reason| PythonError::ExplicitUnusable {
                path: path.to_owned(),
                reason,
            });
    }
    let mut tried = Vec::new();
    for candidate in candidates() {
        match probe(&candidate).and_then(require_min) {
            Ok(python) => return Ok(python),
            Err(reason) => tried.push(format!("{} ({reason})", candidate.display())),
        }
    }
    Err(PythonError::NotFound {
        tried: if tried.is_empty() {
            "nothing".into()
        } else {
            tried.join("; ")
        },
    })
}

fn candidates() -> Vec<PathBuf> {
    // pyenv shims answer only for the selected version and cost ~0.1 s each to fail; every
    // version they could run is found directly in the versions folder below.
    let mut out: Vec<PathBuf> = ["python3.13", "python3.12"]
        .iter()
        .filter_map(|name| find_on_path(name))
        .filter(|path| !is_pyenv_shim(path))
        .collect();
    let pyenv_root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    if let Some(root) = pyenv_root {
        out.extend(pyenv_candidates(&root.join("versions")));
    }
    out
}

/// `versions/3.x.y/bin/python3` for every installed 3.12+, newest first.
fn pyenv_candidates(versions_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(versions_dir) else {
        return Vec::new();
    };
    let mut found: Vec<((u32, u32, u32), PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = parse_version(entry.file_name().to_str()?)?;
            let python = entry.path().join("bin").join("python3");
            (version >= (MIN_VERSION.0, MIN_VERSION.1, 0) && python.exists())
                .then_some((version, python))
        })
        .collect();
    found.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    found.into_iter().map(|(_, p)| p).collect()
}

fn is_pyenv_shim(path: &Path) -> bool {
    path.parent().is_some_and(|dir| {
        dir.ends_with("shims") && dir.parent().is_some_and(|p| p.join("versions").is_dir())
    })
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn probe(path: &Path) -> Result<Python, String> {
    let output = Command::new(path)
        .args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"])
        .output()
        .map_err(|e| format!("cannot run it: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "it exited with {}: {}",
            output.status,
            stderr.lines().next().unwrap_or("").trim()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let version = parse_version(text.trim())
        .ok_or_else(|| format!("unexpected version `{}`", text.trim()))?;
    Ok(Python {
        path: path.to_owned(),
        version,
    })
}

fn require_min(python: Python) -> Result<Python, String> {
    let (major, minor, _) = python.version;
    if (major, minor) >= MIN_VERSION {
        Ok(python)
    } else {
        Err(format!(
            "version {} is older than 3.12",
            python.version_string()
        ))
    }
}

/// Parses `3.13.0` (a trailing suffix such as `3.13.0rc1` or `-dev` is ignored).
fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let patch_digits: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor, patch_digits.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions_with_suffixes() {
        assert_eq!(parse_version("3.13.0"), Some((3, 13, 0)));
        assert_eq!(parse_version("3.12.1rc1"), Some((3, 12, 1)));
        assert_eq!(parse_version("3.12"), None);
        assert_eq!(parse_version("miniconda3-latest"), None);
    }

    #[test]
    fn pyenv_candidates_skip_old_versions_and_sort_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        for v in ["3.11.7", "3.12.1", "3.13.0", "2.7.18"] {
            let bin = dir.path().join(v).join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            std::fs::write(bin.join("python3"), "").unwrap();
        }
        let found = pyenv_candidates(dir.path());
        let names: Vec<_> = found
            .iter()
            .map(|p| p.parent().unwrap().parent().unwrap().file_name().unwrap())
            .collect();
        assert_eq!(names, ["3.13.0", "3.12.1"]);
    }

    #[test]
    fn explicit_python_that_does_not_exist_is_reported_with_the_fix() {
        let err = discover(Some(Path::new("/nonexistent/python9"))).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("/nonexistent/python9"), "{text}");
        assert!(text.contains(">= 3.12"), "{text}");
    }

    #[test]
    fn pyenv_shims_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("shims")).unwrap();
        std::fs::create_dir_all(dir.path().join("versions")).unwrap();
        assert!(is_pyenv_shim(&dir.path().join("shims/python3.13")));
        assert!(!is_pyenv_shim(Path::new("/usr/bin/python3.13")));
    }

    #[test]
    fn too_old_interpreter_is_refused() {
        let old = Python {
            path: "python".into(),
            version: (3, 11, 7),
        };
        assert!(require_min(old).unwrap_err().contains("older than 3.12"));
    }
}
