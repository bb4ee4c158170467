//! The workload of a scenario: what to upload, planned from a seed.
//!
//! A [`WorkloadSpec`] (the `[workload]` table of a scenario file) says how many files, which
//! sizes, key shapes and content types, and how many overwrites and duplicate contents;
//! [`plan`] turns it and a seed into the exact list of uploads, in upload order, and
//! [`content`] regenerates each upload's bytes from its seed. Every random choice comes from one
//! ChaCha8 stream seeded with the run's seed, so a failing run is replayed exactly from the seed
//! in its report, and no content ever has to be stored. Pure: no I/O.

mod keys;
mod plan;
#[cfg(test)]
mod props;
mod spec;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use keys::{LONG_KEY_MIN_LEN, MAX_KEY_LEN, MAX_RUN_PREFIX_LEN, is_valid_key};
pub use plan::{content, plan};
pub use spec::{
    DEFAULT_CONCURRENCY, DEFAULT_CONTENT_TYPE, DEFAULT_MAX_SIZE, MAX_UPLOAD_SIZE, MAX_UPLOADS,
    WorkloadError, WorkloadSpec,
};

/// Uploads at or above this size use multipart upload.
pub const MULTIPART_THRESHOLD: u64 = 8 * 1024 * 1024;
/// The part size of a multipart upload (S3's minimum for every part but the last).
pub const PART_SIZE: u64 = 5 * 1024 * 1024;

/// The shape of an object key: each exercises one way keys are encoded in S3 events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyShape {
    /// Only `a-z 0-9 - _ / .`.
    Plain,
    /// Contains spaces (sent as `+` or `%20` in events).
    Spaces,
    /// Contains `+` (sent as `%2B`; a decoder that turns it into a space is wrong).
    Plus,
    /// Contains `%` literally: `100%done`, `%20`, which must not be decoded twice.
    Percent,
    /// Non-ASCII: accents, CJK and emoji.
    Unicode,
    /// 10 to 30 path segments after the run prefix.
    Deep,
    /// 1000 to 1024 bytes in all: S3's limit.
    Long,
}

impl KeyShape {
    /// Every shape, in declaration order.
    pub const ALL: [KeyShape; 7] = [
        KeyShape::Plain,
        KeyShape::Spaces,
        KeyShape::Plus,
        KeyShape::Percent,
        KeyShape::Unicode,
        KeyShape::Deep,
        KeyShape::Long,
    ];

    /// The name used in scenario files, e.g. `percent`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyShape::Plain => "plain",
            KeyShape::Spaces => "spaces",
            KeyShape::Plus => "plus",
            KeyShape::Percent => "percent",
            KeyShape::Unicode => "unicode",
            KeyShape::Deep => "deep",
            KeyShape::Long => "long",
        }
    }
}

impl fmt::Display for KeyShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One upload of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedUpload {
    /// Position in the plan (the upload order).
    pub index: usize,
    /// The object key: starts with the run prefix, valid for S3.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// The `Content-Type` to upload with.
    pub content_type: String,
    /// Seed of the content's byte stream (see [`content`]).
    pub content_seed: u64,
    /// Upload with multipart: exactly when `size >= MULTIPART_THRESHOLD`.
    pub multipart: bool,
    /// For an overwrite, the index of the upload it replaces: the latest earlier upload of the
    /// same key. It must have completed before this one starts, or the final object is a race.
    pub overwrites: Option<usize>,
    /// For a duplicate content, the index of the earlier upload with the same bytes.
    pub same_content_as: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_names_match_serde() {
        for shape in KeyShape::ALL {
            let json = serde_json::to_string(&shape).unwrap();
            assert_eq!(json, format!("\"{shape}\""));
        }
    }
}
