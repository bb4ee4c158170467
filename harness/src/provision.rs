//! Builds, once, the Python virtual environment that runs an emulator: LocalStack with our
//! Lambda executor, or MiniStack.
//!
//! The venv is keyed by a hash of the emulator's checked-in lock, the executor plugin's files
//! (LocalStack's) and the interpreter version, so a change to any of them builds a new one and an unchanged tree reuses
//! the cached one. A venv only counts once its `.complete` marker is written, and builds hold a
//! file lock, so an interrupted or concurrent build is harmless: the next run starts it over.
//! The lock and plugin are embedded in the binary, so an installed `harness` needs no checkout.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::python::Python;

/// The fully pinned lock of LocalStack and its dependencies (pip freeze format).
pub const LOCK: &str = include_str!("../localstack/requirements.lock");

/// The fully pinned lock of MiniStack and its dependencies (pip freeze format).
pub const MINISTACK_LOCK: &str = include_str!("../ministack/requirements.lock");

/// What provisioning installs for one emulator: its lock, the plugin to install after it, and
/// the import that proves the venv works; `name` is for messages, `slug` for file names.
#[derive(Debug)]
pub struct Recipe {
    pub name: &'static str,
    pub slug: &'static str,
    pub lock: &'static str,
    pub plugin: &'static [(&'static str, &'static str)],
    pub import_check: &'static str,
}

/// LocalStack with the harness's local-process Lambda executor.
pub const LOCALSTACK: Recipe = Recipe {
    name: "LocalStack",
    slug: "localstack",
    lock: LOCK,
    plugin: PLUGIN_FILES,
    import_check: "import localstack.runtime.main, harness_lambda_executor.executor",
};

/// MiniStack, which runs functions as local processes itself (no plugin).
pub const MINISTACK: Recipe = Recipe {
    name: "MiniStack",
    slug: "ministack",
    lock: MINISTACK_LOCK,
    plugin: &[],
    import_check: "import ministack.app",
};

pub const PLUGIN_FILES: &[(&str, &str)] = &[
    (
        "pyproject.toml",
        include_str!("../localstack/executor/pyproject.toml"),
    ),
    (
        "harness_lambda_executor/__init__.py",
        include_str!("../localstack/executor/harness_lambda_executor/__init__.py"),
    ),
    (
        "harness_lambda_executor/executor.py",
        include_str!("../localstack/executor/harness_lambda_executor/executor.py"),
    ),
    (
        "harness_lambda_executor/runtime_api.py",
        include_str!("../localstack/executor/harness_lambda_executor/runtime_api.py"),
    ),
    (
        "harness_lambda_executor/api_server.py",
        include_str!("../localstack/executor/harness_lambda_executor/api_server.py"),
    ),
    (
        "harness_lambda_executor/process.py",
        include_str!("../localstack/executor/harness_lambda_executor/process.py"),
    ),
    (
        "harness_lambda_executor/invocation.py",
        include_str!("../localstack/executor/harness_lambda_executor/invocation.py"),
    ),
];

const COMPLETE_MARKER: &str = ".complete";

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("cannot prepare {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{step} failed ({status}); the full output is in {log}. Last lines:\n{tail}\n\
         If this is a network error, check that PyPI is reachable (pip config list); then re-run: \
         provisioning resumes from scratch safely"
    )]
    StepFailed {
        step: &'static str,
        status: String,
        log: PathBuf,
        tail: String,
    },
}

/// A ready virtual environment.
#[derive(Debug, Clone)]
pub struct Venv {
    pub dir: PathBuf,
}

impl Venv {
    /// The venv's interpreter; always invoke tools as `python -m ...` (scripts' shebangs are
    /// absolute and would break if the cache moved).
    pub fn python(&self) -> PathBuf {
        self.dir.join("bin").join("python")
    }
}

/// The cache key of LocalStack's venv: the lock, the plugin and the interpreter version.
pub fn venv_key(python: &Python) -> String {
    emulator_venv_key(&LOCALSTACK, python)
}

/// The cache key of an emulator's venv: its lock, its plugin and the interpreter version.
pub fn emulator_venv_key(recipe: &Recipe, python: &Python) -> String {
    let mut hasher = Sha256::new();
    hasher.update(python.version_string().as_bytes());
    hasher.update([0]);
    hasher.update(recipe.lock.as_bytes());
    for (name, contents) in recipe.plugin {
        hasher.update([0]);
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(contents.as_bytes());
    }
    let digest = hasher.finalize();
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Returns the cached LocalStack venv for `python`, building it first when needed. Progress
/// goes to `progress` (the CLI passes stderr).
pub fn ensure_venv(
    python: &Python,
    venvs_dir: &Path,
    progress: &mut dyn Write,
) -> Result<Venv, ProvisionError> {
    ensure_emulator_venv(&LOCALSTACK, python, venvs_dir, progress)
}

/// Returns the cached venv of the emulator `recipe` describes for `python`, building it first
/// when needed.
pub fn ensure_emulator_venv(
    recipe: &Recipe,
    python: &Python,
    venvs_dir: &Path,
    progress: &mut dyn Write,
) -> Result<Venv, ProvisionError> {
    let (lock_text, plugin, import_check) = (recipe.lock, recipe.plugin, recipe.import_check);
    let slug = recipe.slug;
    let key = emulator_venv_key(recipe, python);
    let dir = venvs_dir.join(format!("{slug}-{key}"));
    let venv = Venv { dir: dir.clone() };
    if dir.join(COMPLETE_MARKER).exists() {
        return Ok(venv);
    }
    fs::create_dir_all(venvs_dir).map_err(io_err(venvs_dir))?;
    let lock_path = venvs_dir.join(format!("{slug}-{key}.lock"));
    let lock = File::create(&lock_path).map_err(io_err(&lock_path))?;
    if lock.try_lock().is_err() {
        let _ = writeln!(
            progress,
            "another harness is provisioning {}; waiting for it",
            dir.display()
        );
        lock.lock().map_err(io_err(&lock_path))?;
    }
    if dir.join(COMPLETE_MARKER).exists() {
        return Ok(venv);
    }
    if dir.exists() {
        let _ = writeln!(progress, "removing an unfinished venv at {}", dir.display());
        fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
    }
    let log_path = venvs_dir.join(format!("{slug}-{key}.log"));
    let log = File::create(&log_path).map_err(io_err(&log_path))?;
    let packages = lock_text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .count();
    let _ = writeln!(
        progress,
        "provisioning {} (Python {} at {}) into {}\n  about half a minute, once; \
         pip's output goes to {}",
        recipe.name,
        python.version_string(),
        python.path.display(),
        dir.display(),
        log_path.display()
    );

    let steps = if plugin.is_empty() { 3 } else { 4 };
    let _ = writeln!(progress, "  [1/{steps}] creating the virtual environment");
    let mut cmd = Command::new(&python.path);
    cmd.arg("-m").arg("venv").arg(&dir);
    run_logged("creating the venv", cmd, &log, &log_path, progress, None)?;

    let scratch = dir.join("harness-src");
    fs::create_dir_all(&scratch).map_err(io_err(&scratch))?;
    let lock_file = scratch.join("requirements.lock");
    fs::write(&lock_file, lock_text).map_err(io_err(&lock_file))?;
    let _ = writeln!(
        progress,
        "  [2/{steps}] installing {packages} pinned packages"
    );
    let mut cmd = Command::new(venv.python());
    cmd.args([
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--disable-pip-version-check",
    ])
    .args(["--progress-bar", "off", "-r"])
    .arg(&lock_file);
    run_logged(
        "installing the lock",
        cmd,
        &log,
        &log_path,
        progress,
        Some(packages),
    )?;

    if !plugin.is_empty() {
        let _ = writeln!(
            progress,
            "  [3/4] installing the local-process Lambda executor"
        );
        install_plugin(&venv, &scratch, plugin, &log, &log_path, progress)?;
    }

    let _ = writeln!(
        progress,
        "  [{steps}/{steps}] checking that {} imports",
        recipe.name
    );
    let mut cmd = Command::new(venv.python());
    cmd.args(["-c", import_check]);
    run_logged(
        "importing the emulator",
        cmd,
        &log,
        &log_path,
        progress,
        None,
    )?;

    let marker = dir.join(COMPLETE_MARKER);
    fs::write(&marker, key).map_err(io_err(&marker))?;
    let _ = writeln!(progress, "  {} environment ready", recipe.name);
    Ok(venv)
}

/// Writes the plugin's files under `scratch` and installs them into `venv`.
fn install_plugin(
    venv: &Venv,
    scratch: &Path,
    plugin: &[(&str, &str)],
    log: &File,
    log_path: &Path,
    progress: &mut dyn Write,
) -> Result<(), ProvisionError> {
    let plugin_dir = scratch.join("executor");
    for (name, contents) in plugin {
        let path = plugin_dir.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        fs::write(&path, contents).map_err(io_err(&path))?;
    }
    let mut cmd = Command::new(venv.python());
    cmd.args(["-m", "pip", "install", "--no-deps", "--no-build-isolation"])
        .args(["--disable-pip-version-check", "--progress-bar", "off"])
        .arg(&plugin_dir);
    run_logged(
        "installing the executor plugin",
        cmd,
        log,
        log_path,
        progress,
        None,
    )
}

/// Runs one provisioning step, appending its output to the log; with `expected_packages`, shows
/// how many of them pip has collected so far.
fn run_logged(
    step: &'static str,
    mut cmd: Command,
    log: &File,
    log_path: &Path,
    progress: &mut dyn Write,
    expected_packages: Option<usize>,
) -> Result<(), ProvisionError> {
    let mut log = log;
    let _ = writeln!(log, "$ {cmd:?}");
    cmd.stdout(Stdio::piped())
        .stderr(log.try_clone().map_err(io_err(log_path))?);
    let mut child = cmd.spawn().map_err(io_err(log_path))?;
    let stdout = child.stdout.take().expect("stdout was piped");
    let mut collected = 0usize;
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let _ = writeln!(log, "{line}");
        if let Some(total) = expected_packages
            && (line.starts_with("Collecting ") || line.starts_with("Processing "))
        {
            collected += 1;
            if collected.is_multiple_of(20) || collected == total {
                let _ = writeln!(progress, "        {collected}/{total} collected");
            }
        }
        if line.starts_with("Installing collected packages") {
            let _ = writeln!(progress, "        installing...");
        }
    }
    let status = child.wait().map_err(io_err(log_path))?;
    if status.success() {
        return Ok(());
    }
    let text = fs::read_to_string(log_path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(15)..].join("\n");
    Err(ProvisionError::StepFailed {
        step,
        status: status.to_string(),
        log: log_path.to_owned(),
        tail,
    })
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ProvisionError + '_ {
    move |source| ProvisionError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python(version: (u32, u32, u32)) -> Python {
        Python {
            path: "/usr/bin/python3".into(),
            version,
        }
    }

    #[test]
    fn key_depends_on_interpreter_version() {
        assert_ne!(venv_key(&python((3, 13, 0))), venv_key(&python((3, 12, 1))));
        assert_eq!(venv_key(&python((3, 13, 0))), venv_key(&python((3, 13, 0))));
    }

    #[test]
    fn lock_pins_every_package_exactly() {
        for line in LOCK.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            assert!(line.contains("=="), "unpinned lock line: {line}");
        }
        assert!(LOCK.contains("localstack-core==2026.3.0"));
        for line in MINISTACK_LOCK.lines().map(str::trim) {
            if !(line.is_empty() || line.starts_with('#')) {
                assert!(line.contains("=="), "unpinned lock line: {line}");
            }
        }
        assert!(MINISTACK_LOCK.contains("ministack==1.5.33"));
    }

    #[test]
    fn each_emulator_has_a_venv_of_its_own() {
        let py = python((3, 13, 0));
        assert_ne!(
            emulator_venv_key(&LOCALSTACK, &py),
            emulator_venv_key(&MINISTACK, &py)
        );
        assert_eq!(venv_key(&py), emulator_venv_key(&LOCALSTACK, &py));
    }

    #[test]
    fn a_failing_step_reports_the_log_tail() {
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("log");
        let log = File::create(&log_path).unwrap();
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "echo resolving; echo 'ERROR: no matching distribution' >&2; exit 3",
        ]);
        let err = run_logged(
            "installing the lock",
            cmd,
            &log,
            &log_path,
            &mut Vec::new(),
            None,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("no matching distribution"), "{text}");
        assert!(text.contains("installing the lock failed"), "{text}");
    }

    #[test]
    fn an_unfinished_venv_is_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let py = python((3, 13, 0));
        let stale = dir.path().join(format!("localstack-{}", venv_key(&py)));
        fs::create_dir_all(stale.join("bin")).unwrap();
        // No marker: ensure_venv must rebuild. With a python that cannot make venvs, that
        // rebuild fails visibly instead of handing back the half-made directory.
        let bogus = Python {
            path: "/bin/false".into(),
            version: (3, 13, 0),
        };
        let err = ensure_venv(&bogus, dir.path(), &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("creating the venv"), "{err}");
        assert!(!stale.join("bin").exists(), "stale venv was kept");
    }
}
