//! Reading scenario files: one file ([`load_file`]), a folder of them ([`load_dir`]), and where
//! the folder is ([`scenarios_dir`]).
//!
//! Every error names the file, and says what is wrong in it: TOML's own message (line, column
//! and the offending field) or the validation rule that failed, so a bad scenario is fixed from
//! the message alone.

use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::{InvalidScenario, Scenario};

/// The environment variable that points the harness at another scenarios folder.
pub const SCENARIOS_DIR_ENV: &str = "HARNESS_SCENARIOS_DIR";

/// Why scenarios could not be loaded.
#[derive(Debug, Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot list the scenarios folder {}: {source}", dir.display())]
    ReadDir {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Not TOML, or not the scenario layout; `message` is TOML's, with line and column.
    #[error("scenario file {} is not a valid scenario: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("scenario file {}: {source}", path.display())]
    Invalid {
        path: PathBuf,
        #[source]
        source: InvalidScenario,
    },
    #[error(
        "no scenario files (*.toml) in {}; add one, or set {SCENARIOS_DIR_ENV} to a folder that has them",
        dir.display()
    )]
    Empty { dir: PathBuf },
}

/// Loads and validates one scenario file; its name is the file stem.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text)
}

/// Loads every `*.toml` in `dir`, sorted by name; the first bad file fails the whole load, and
/// a folder without scenario files is an error too (a typo in the folder must not pass as "no
/// scenarios to run").
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, ScenarioError> {
    let read_dir_error = |source| ScenarioError::ReadDir {
        dir: dir.to_owned(),
        source,
    };
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_dir_error)? {
        let path = entry.map_err(read_dir_error)?.path();
        if path.extension() == Some(OsStr::new("toml")) && path.is_file() {
            files.push((stem(&path), path));
        }
    }
    if files.is_empty() {
        return Err(ScenarioError::Empty {
            dir: dir.to_owned(),
        });
    }
    files.sort();
    files.iter().map(|(_, path)| load_file(path)).collect()
}

/// The scenarios folder: `$HARNESS_SCENARIOS_DIR` when set, else `scenarios/` at the workspace
/// root (found from this crate's manifest at build time).
pub fn scenarios_dir() -> PathBuf {
    match std::env::var_os(SCENARIOS_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("scenarios"),
    }
}

fn workspace_root() -> &'static Path {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Parses and validates the text of the scenario file at `path`.
fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let mut scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    scenario.name = stem(path);
    scenario
        .validate()
        .map_err(|source| ScenarioError::Invalid {
            path: path.to_owned(),
            source,
        })?;
    Ok(scenario)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Grouping, ScenarioKind, TargetName};
    use crate::workload::{KeyShape, is_valid_key, plan};

    fn real() -> Vec<Scenario> {
        load_dir(&workspace_root().join("scenarios")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn by_name<'a>(all: &'a [Scenario], name: &str) -> &'a Scenario {
        all.iter().find(|s| s.name == name).unwrap()
    }

    #[test]
    fn every_real_scenario_loads_sorted_and_unique() {
        let all = real();
        let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(names, sorted);
        for name in [
            "default",
            "odd-keys",
            "empty-and-multipart",
            "overwrites",
            "duplicate-content",
            "prefix-groups",
            "region-mismatch",
            "fifo-missing-group-id",
        ] {
            assert!(names.contains(&name), "scenarios/{name}.toml is missing");
        }
        if std::env::var_os(SCENARIOS_DIR_ENV).is_none() {
            assert_eq!(scenarios_dir(), workspace_root().join("scenarios"));
        }
    }

    #[test]
    fn real_scenarios_say_what_they_promise() {
        let all = real();
        let odd = by_name(&all, "odd-keys");
        assert_eq!(odd.workload.key_shapes.len(), KeyShape::ALL.len());
        assert!(odd.workload.files >= KeyShape::ALL.len());
        let empty = by_name(&all, "empty-and-multipart");
        assert_eq!((empty.workload.min_size, empty.workload.multipart), (0, 1));
        assert!(by_name(&all, "overwrites").workload.overwrites > 0);
        assert!(
            by_name(&all, "duplicate-content")
                .workload
                .duplicate_content
                > 0
        );
        assert_eq!(
            by_name(&all, "prefix-groups").stack.fifo_grouping,
            Grouping::Prefix
        );
        let region = by_name(&all, "region-mismatch");
        assert_eq!(region.kind, ScenarioKind::RegionMismatch);
        assert_eq!(region.stack.bucket_region.as_deref(), Some("eu-west-1"));
        let fifo = by_name(&all, "fifo-missing-group-id");
        assert_eq!(
            (fifo.kind, fifo.expect.failures),
            (ScenarioKind::FifoMissingGroupId, 1)
        );
        for scenario in &all {
            assert!(scenario.runs_on(TargetName::Embedded), "{}", scenario.name);
            for seed in 0..5 {
                let uploads = plan(&scenario.workload, seed, "hxq3kz7m2ab/");
                assert_eq!(uploads.len(), scenario.workload.total_uploads());
                assert!(uploads.iter().all(|u| is_valid_key(&u.key)));
            }
        }
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let path = write(
            "typo.toml",
            "description = \"d\"\n\n[workload]\nfilez = 1\n",
        );
        let err = load_file(&path).unwrap_err().to_string();
        assert!(err.contains("typo.toml"), "{err}");
        assert!(err.contains("line 4"), "{err}");
        assert!(err.contains("unknown field `filez`"), "{err}");

        let path = write(
            "bad.toml",
            "description = \"d\"\n[workload]\nfiles = 1\nmax-size = 0\nmin-size = 1\n",
        );
        let err = load_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("bad.toml") && err.contains("`max-size` (0) is below"),
            "{err}"
        );

        let path = write(
            "Bad Name.toml",
            "description = \"d\"\n[workload]\nfiles = 1\n",
        );
        let err = load_file(&path).unwrap_err().to_string();
        assert!(err.contains("the name `Bad Name`"), "{err}");

        let err = load_file(&dir.path().join("absent.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cannot read scenario file") && err.contains("absent.toml"),
            "{err}"
        );
    }

    #[test]
    fn a_dir_loads_sorted_and_fails_on_its_first_bad_file() {
        let dir = tempfile::tempdir().unwrap();
        let ok = "description = \"d\"\n[workload]\nfiles = 1\n";
        for name in ["b.toml", "a-b.toml", "a.toml"] {
            std::fs::write(dir.path().join(name), ok).unwrap();
        }
        std::fs::write(dir.path().join("notes.md"), "not a scenario").unwrap();
        std::fs::create_dir(dir.path().join("folder.toml")).unwrap();
        let names: Vec<String> = load_dir(dir.path())
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["a", "a-b", "b"]);

        std::fs::write(dir.path().join("c.toml"), "description = 1").unwrap();
        std::fs::write(dir.path().join("d.toml"), "nonsense").unwrap();
        let err = load_dir(dir.path()).unwrap_err();
        assert!(
            matches!(&err, ScenarioError::Parse { path, .. } if path.ends_with("c.toml")),
            "{err}"
        );
    }

    #[test]
    fn an_empty_or_missing_dir_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("readme.txt"), "").unwrap();
        let err = load_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("no scenario files (*.toml)"), "{err}");
        assert!(err.contains(SCENARIOS_DIR_ENV), "{err}");
        let missing = dir.path().join("nope");
        let err = load_dir(&missing).unwrap_err().to_string();
        assert!(
            err.contains("cannot list the scenarios folder") && err.contains("nope"),
            "{err}"
        );
    }
}
