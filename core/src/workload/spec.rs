//! The `[workload]` table of a scenario file and its validation.
//!
//! Defaults make a one-line table (`files = 3`) a complete workload; [`WorkloadSpec::validate`]
//! checks every rule the planner relies on when the scenario is loaded, and its errors name the
//! field as it is spelt in the file and say how to fix it. Pure: no I/O.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::KeyShape;

/// Largest `max-size` accepted: the harness holds each upload's bytes in memory.
pub const MAX_UPLOAD_SIZE: u64 = 256 * 1024 * 1024;
/// Most uploads one workload may plan (`files + overwrites + duplicate-content`).
pub const MAX_UPLOADS: usize = 10_000;
/// `max-size` when a scenario leaves it out.
pub const DEFAULT_MAX_SIZE: u64 = 64 * 1024;
/// `concurrency` when a scenario leaves it out.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// The content type when a scenario lists none.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// What to upload: the `[workload]` table of a scenario file (kebab-case keys).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WorkloadSpec {
    /// Distinct uploads before overwrites and duplicates; at least 1.
    pub files: usize,
    /// Smallest size in bytes (default 0).
    #[serde(default)]
    pub min_size: u64,
    /// Largest size in bytes (default 64 KiB); at least `min_size`.
    #[serde(default = "default_max_size")]
    pub max_size: u64,
    /// How many of the files are forced to multipart: a size from
    /// [`super::MULTIPART_THRESHOLD`] to `MULTIPART_THRESHOLD + PART_SIZE`, whatever `max_size`
    /// says (default 0).
    #[serde(default)]
    pub multipart: usize,
    /// Key shapes to draw from; each appears at least once when `files` allows (default plain).
    #[serde(default = "default_key_shapes")]
    pub key_shapes: Vec<KeyShape>,
    /// Content types to draw from (default `application/octet-stream`).
    #[serde(default = "default_content_types")]
    pub content_types: Vec<String>,
    /// Uploads in flight at once (default 4); at least 1.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Extra uploads that re-upload an earlier key with new content.
    #[serde(default)]
    pub overwrites: usize,
    /// Extra uploads with the same bytes as an earlier upload under a new key.
    #[serde(default)]
    pub duplicate_content: usize,
}

fn default_max_size() -> u64 {
    DEFAULT_MAX_SIZE
}

fn default_key_shapes() -> Vec<KeyShape> {
    vec![KeyShape::Plain]
}

fn default_content_types() -> Vec<String> {
    vec![DEFAULT_CONTENT_TYPE.to_owned()]
}

fn default_concurrency() -> usize {
    DEFAULT_CONCURRENCY
}

/// Why a [`WorkloadSpec`] cannot be planned; each names the field (as in the scenario file)
/// and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WorkloadError {
    #[error("workload `files` is 0; set `files` to at least 1")]
    NoFiles,
    #[error(
        "workload `max-size` ({max_size}) is below `min-size` ({min_size}); raise `max-size` or lower `min-size`"
    )]
    SizeRange { min_size: u64, max_size: u64 },
    #[error(
        "workload `max-size` is {max_size} bytes, above the {MAX_UPLOAD_SIZE} bytes the harness holds in memory; lower `max-size`"
    )]
    TooLarge { max_size: u64 },
    #[error(
        "workload `multipart` is {multipart} but `files` is {files}; `multipart` counts files forced to multipart, so set it to at most `files`"
    )]
    TooManyMultipart { multipart: usize, files: usize },
    #[error(
        "workload `key-shapes` is empty; list at least one of plain, spaces, plus, percent, unicode, deep, long, or leave it out for [\"plain\"]"
    )]
    NoKeyShapes,
    #[error("workload `key-shapes` lists `{0}` more than once; list each shape once")]
    DuplicateKeyShape(KeyShape),
    #[error(
        "workload `content-types` is empty; list at least one, or leave it out for [\"{DEFAULT_CONTENT_TYPE}\"]"
    )]
    NoContentTypes,
    #[error(
        "workload `content-types` has `{0}`, which is not a media type; use the form `type/subtype`, e.g. `text/plain`, in printable ASCII"
    )]
    BadContentType(String),
    #[error("workload `concurrency` is 0; set `concurrency` to at least 1")]
    NoConcurrency,
    #[error(
        "workload plans {total} uploads (`files` + `overwrites` + `duplicate-content`), more than {MAX_UPLOADS}; lower them"
    )]
    TooManyUploads { total: usize },
}

impl WorkloadSpec {
    /// A spec with `files` files and every other field at its default.
    pub fn with_files(files: usize) -> Self {
        Self {
            files,
            min_size: 0,
            max_size: DEFAULT_MAX_SIZE,
            multipart: 0,
            key_shapes: default_key_shapes(),
            content_types: default_content_types(),
            concurrency: DEFAULT_CONCURRENCY,
            overwrites: 0,
            duplicate_content: 0,
        }
    }

    /// Checks every rule [`super::plan`] relies on; the first broken one is returned.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        if self.files == 0 {
            return Err(WorkloadError::NoFiles);
        }
        if self.max_size < self.min_size {
            return Err(WorkloadError::SizeRange {
                min_size: self.min_size,
                max_size: self.max_size,
            });
        }
        if self.max_size > MAX_UPLOAD_SIZE {
            return Err(WorkloadError::TooLarge {
                max_size: self.max_size,
            });
        }
        if self.multipart > self.files {
            return Err(WorkloadError::TooManyMultipart {
                multipart: self.multipart,
                files: self.files,
            });
        }
        if self.key_shapes.is_empty() {
            return Err(WorkloadError::NoKeyShapes);
        }
        for (i, shape) in self.key_shapes.iter().enumerate() {
            if self.key_shapes[..i].contains(shape) {
                return Err(WorkloadError::DuplicateKeyShape(*shape));
            }
        }
        if self.content_types.is_empty() {
            return Err(WorkloadError::NoContentTypes);
        }
        if let Some(bad) = self.content_types.iter().find(|t| !is_media_type(t)) {
            return Err(WorkloadError::BadContentType(bad.clone()));
        }
        if self.concurrency == 0 {
            return Err(WorkloadError::NoConcurrency);
        }
        let total = self
            .files
            .saturating_add(self.overwrites)
            .saturating_add(self.duplicate_content);
        if total > MAX_UPLOADS {
            return Err(WorkloadError::TooManyUploads { total });
        }
        Ok(())
    }

    /// How many uploads [`super::plan`] returns.
    pub fn total_uploads(&self) -> usize {
        self.files + self.overwrites + self.duplicate_content
    }
}

/// `type/subtype`, optionally with parameters, in printable ASCII: what S3 stores verbatim.
fn is_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    let valid_token = |s: &str| !s.is_empty() && !s.contains([' ', '/']);
    value.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && essence
            .split_once('/')
            .is_some_and(|(kind, sub)| valid_token(kind) && valid_token(sub))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WorkloadSpec, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn defaults_fill_everything_but_files() {
        let spec = parse("files = 3").unwrap();
        assert_eq!(spec, WorkloadSpec::with_files(3));
        assert_eq!(spec.max_size, 64 * 1024);
        assert_eq!(spec.key_shapes, [KeyShape::Plain]);
        assert_eq!(spec.content_types, ["application/octet-stream"]);
        assert_eq!(spec.concurrency, 4);
        assert_eq!(spec.validate(), Ok(()));
    }

    #[test]
    fn kebab_case_fields_and_shapes_parse() {
        let spec = parse(
            "files = 2\nmin-size = 1\nmax-size = 9\nkey-shapes = [\"percent\", \"unicode\"]\n\
             content-types = [\"text/plain; charset=utf-8\"]\nduplicate-content = 1\noverwrites = 2",
        )
        .unwrap();
        assert_eq!(spec.key_shapes, [KeyShape::Percent, KeyShape::Unicode]);
        assert_eq!((spec.min_size, spec.max_size), (1, 9));
        assert_eq!(spec.total_uploads(), 5);
        assert_eq!(spec.validate(), Ok(()));
        let err = parse("files = 2\nkey-shapes = [\"weird\"]").unwrap_err();
        assert!(err.to_string().contains("weird"), "{err}");
        let err = parse("files = 2\nmaxsize = 3").unwrap_err();
        assert!(err.to_string().contains("maxsize"), "{err}");
    }

    #[test]
    fn every_broken_rule_names_its_field() {
        let base = WorkloadSpec::with_files(2);
        let cases: Vec<(WorkloadSpec, &str)> = vec![
            (
                WorkloadSpec {
                    files: 0,
                    ..base.clone()
                },
                "`files`",
            ),
            (
                WorkloadSpec {
                    min_size: 10,
                    max_size: 9,
                    ..base.clone()
                },
                "`max-size` (9) is below `min-size` (10)",
            ),
            (
                WorkloadSpec {
                    max_size: MAX_UPLOAD_SIZE + 1,
                    ..base.clone()
                },
                "`max-size`",
            ),
            (
                WorkloadSpec {
                    multipart: 3,
                    ..base.clone()
                },
                "`multipart`",
            ),
            (
                WorkloadSpec {
                    key_shapes: vec![],
                    ..base.clone()
                },
                "`key-shapes` is empty",
            ),
            (
                WorkloadSpec {
                    key_shapes: vec![KeyShape::Long, KeyShape::Long],
                    ..base.clone()
                },
                "lists `long` more than once",
            ),
            (
                WorkloadSpec {
                    content_types: vec![],
                    ..base.clone()
                },
                "`content-types`",
            ),
            (
                WorkloadSpec {
                    content_types: vec!["text".into()],
                    ..base.clone()
                },
                "`content-types` has `text`",
            ),
            (
                WorkloadSpec {
                    content_types: vec!["text/pl\nain".into()],
                    ..base.clone()
                },
                "`content-types`",
            ),
            (
                WorkloadSpec {
                    concurrency: 0,
                    ..base.clone()
                },
                "`concurrency`",
            ),
            (
                WorkloadSpec {
                    overwrites: MAX_UPLOADS,
                    ..base.clone()
                },
                "`overwrites`",
            ),
        ];
        for (spec, needle) in cases {
            let err = spec.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "`{err}` should contain `{needle}`");
        }
    }

    #[test]
    fn media_types() {
        for good in [
            "text/plain",
            "application/x-tar",
            "text/csv; charset=utf-8",
            "a/b+json",
        ] {
            assert!(is_media_type(good), "{good}");
        }
        for bad in [
            "",
            "text",
            "/plain",
            "text/",
            "te xt/plain",
            "text/é",
            "a/b/c",
        ] {
            assert!(!is_media_type(bad), "{bad}");
        }
    }
}
