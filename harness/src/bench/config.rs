//! What a benchmark sweeps, read from the command line and checked before anything is deployed.
//!
//! A bad value (`--sizes 1KB`, `--concurrency 0`) is refused with a message that says how to
//! write it, so a sweep never half-runs before failing. Pure: no I/O.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::workload::{MAX_UPLOAD_SIZE, MAX_UPLOADS};

/// Concurrency levels swept when `--concurrency` is not given.
pub const DEFAULT_CONCURRENCY: [usize; 5] = [1, 2, 4, 8, 16];
/// File sizes swept when `--sizes` is not given: 1 KiB and 256 KiB.
pub const DEFAULT_SIZES: [u64; 2] = [1024, 256 * 1024];
/// Files per point when `--files` is not given.
pub const DEFAULT_FILES: usize = 200;
/// Highest concurrency accepted (each upload holds its bytes in memory).
pub const MAX_CONCURRENCY: usize = 256;

/// Which measurements a point makes besides the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Checks {
    /// Every delivery proven by the oracle (verified files/s).
    On,
    /// Uploads and counting deliveries only: what verification costs is the difference.
    Off,
    /// Both, one after the other, for every point.
    Both,
}

impl Checks {
    pub fn verified(self) -> bool {
        matches!(self, Checks::On | Checks::Both)
    }

    pub fn unchecked(self) -> bool {
        matches!(self, Checks::Off | Checks::Both)
    }
}

/// One benchmark: the sweep and what each point does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenchConfig {
    /// Uploads in flight at once, one point per value (ascending, distinct).
    pub concurrency: Vec<usize>,
    /// File sizes in bytes, one point per value and concurrency (distinct).
    pub sizes: Vec<u64>,
    /// Files uploaded per point and per measurement.
    pub files: usize,
    /// Seed of every random choice (key names, contents).
    pub seed: u64,
    pub checks: Checks,
    /// How long one measurement may wait for its deliveries.
    #[serde(serialize_with = "as_secs", deserialize_with = "from_secs")]
    pub delivery_deadline: Duration,
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs())
}

fn from_secs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    u64::deserialize(d).map(Duration::from_secs)
}

/// Why a benchmark configuration cannot run; each says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error(
        "--sizes has `{0}`, which is not a size; write sizes as a number and an optional unit \
         B, KiB, MiB (or K, M), comma-separated, e.g. --sizes 1KiB,256KiB"
    )]
    BadSize(String),
    #[error(
        "--sizes has {size} bytes, above the {MAX_UPLOAD_SIZE} bytes the harness holds in memory; \
         use at most 256MiB"
    )]
    SizeTooLarge { size: u64 },
    #[error(
        "--concurrency has `{0}`, which is not a whole number; write levels comma-separated, \
         e.g. --concurrency 1,4,16"
    )]
    BadConcurrency(String),
    #[error("--concurrency has 0; every level must be at least 1, e.g. --concurrency 1,4,16")]
    ZeroConcurrency,
    #[error("--concurrency has {0}, above {MAX_CONCURRENCY}; use at most {MAX_CONCURRENCY}")]
    ConcurrencyTooHigh(usize),
    #[error("--{0} is empty; give at least one value or leave the flag out for the defaults")]
    Empty(&'static str),
    #[error("--{0} has an empty item (two commas, or a comma at an end); e.g. --concurrency 1,2,4")]
    EmptyItem(&'static str),
    #[error("--{flag} lists {value} more than once; list each value once")]
    Repeated { flag: &'static str, value: String },
    #[error("--files is 0; upload at least 1 file per point, e.g. --files 200")]
    NoFiles,
    #[error("--files is {0}, above {MAX_UPLOADS}; use at most {MAX_UPLOADS} files per point")]
    TooManyFiles(usize),
    #[error("--delivery-deadline-s is 0; give deliveries at least a few seconds, e.g. 120")]
    NoDeadline,
}

/// Parses one size: `1024`, `1KiB`, `256 KiB`, `1K`, `4MiB`, `4M`, `10B` (binary units).
pub fn parse_size(text: &str) -> Result<u64, ConfigError> {
    let bad = || ConfigError::BadSize(text.to_owned());
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1024,
        "m" | "mib" => 1024 * 1024,
        _ => return Err(bad()),
    };
    let size = number.checked_mul(factor).ok_or_else(bad)?;
    if size > MAX_UPLOAD_SIZE {
        return Err(ConfigError::SizeTooLarge { size });
    }
    Ok(size)
}

/// Parses `--sizes`: comma-separated sizes, each once.
pub fn parse_sizes(text: &str) -> Result<Vec<u64>, ConfigError> {
    let sizes = split(text, "sizes")?
        .into_iter()
        .map(parse_size)
        .collect::<Result<Vec<_>, _>>()?;
    no_repeats("sizes", &sizes)?;
    Ok(sizes)
}

/// Parses `--concurrency`: comma-separated levels from 1 to [`MAX_CONCURRENCY`], each once;
/// returned ascending (the knee is read along rising concurrency).
pub fn parse_concurrency(text: &str) -> Result<Vec<usize>, ConfigError> {
    let mut levels = Vec::new();
    for part in split(text, "concurrency")? {
        let level: usize = part
            .parse()
            .map_err(|_| ConfigError::BadConcurrency(part.to_owned()))?;
        match level {
            0 => return Err(ConfigError::ZeroConcurrency),
            l if l > MAX_CONCURRENCY => return Err(ConfigError::ConcurrencyTooHigh(l)),
            l => levels.push(l),
        }
    }
    no_repeats("concurrency", &levels)?;
    levels.sort_unstable();
    Ok(levels)
}

fn split<'a>(text: &'a str, flag: &'static str) -> Result<Vec<&'a str>, ConfigError> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    if parts.iter().all(|p| p.is_empty()) {
        return Err(ConfigError::Empty(flag));
    }
    if parts.iter().any(|p| p.is_empty()) {
        return Err(ConfigError::EmptyItem(flag));
    }
    Ok(parts)
}

fn no_repeats<T: PartialEq + ToString>(
    flag: &'static str,
    values: &[T],
) -> Result<(), ConfigError> {
    for (i, value) in values.iter().enumerate() {
        if values[..i].contains(value) {
            return Err(ConfigError::Repeated {
                flag,
                value: value.to_string(),
            });
        }
    }
    Ok(())
}

impl BenchConfig {
    /// The default sweep with `seed`.
    pub fn with_seed(seed: u64) -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY.to_vec(),
            sizes: DEFAULT_SIZES.to_vec(),
            files: DEFAULT_FILES,
            seed,
            checks: Checks::Both,
            delivery_deadline: default_deadline(DEFAULT_FILES),
        }
    }

    /// Checks what parsing cannot (a config built in code skips the parsers).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.concurrency.is_empty() {
            return Err(ConfigError::Empty("concurrency"));
        }
        if self.sizes.is_empty() {
            return Err(ConfigError::Empty("sizes"));
        }
        if self.concurrency.contains(&0) {
            return Err(ConfigError::ZeroConcurrency);
        }
        if let Some(&high) = self.concurrency.iter().find(|&&c| c > MAX_CONCURRENCY) {
            return Err(ConfigError::ConcurrencyTooHigh(high));
        }
        if let Some(&size) = self.sizes.iter().find(|&&s| s > MAX_UPLOAD_SIZE) {
            return Err(ConfigError::SizeTooLarge { size });
        }
        no_repeats("concurrency", &self.concurrency)?;
        no_repeats("sizes", &self.sizes)?;
        match self.files {
            0 => Err(ConfigError::NoFiles),
            n if n > MAX_UPLOADS => Err(ConfigError::TooManyFiles(n)),
            _ if self.delivery_deadline.is_zero() => Err(ConfigError::NoDeadline),
            _ => Ok(()),
        }
    }

    /// The points of the sweep, in run order: each size, then rising concurrency.
    pub fn points(&self) -> Vec<(usize, u64)> {
        let mut levels = self.concurrency.clone();
        levels.sort_unstable();
        self.sizes
            .iter()
            .flat_map(|&size| levels.iter().map(move |&c| (c, size)))
            .collect()
    }
}

/// Deadline for one measurement of `files` files: 2 minutes plus 1 s per file, generous enough
/// for a slow emulator (it only bounds a run that lost deliveries).
pub fn default_deadline(files: usize) -> Duration {
    Duration::from_secs(120 + files as u64)
}

/// `1024` as `1KiB`, `262144` as `256KiB`, `1536` as `1536B`: how sizes are shown.
pub fn format_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    match bytes {
        b if b >= MIB && b % MIB == 0 => format!("{}MiB", b / MIB),
        b if b >= 1024 && b % 1024 == 0 => format!("{}KiB", b / 1024),
        b => format!("{b}B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_sizes("1KiB,256KiB").unwrap(), [1024, 262_144]);
        assert_eq!(parse_sizes(" 0 , 10B, 1k, 2M , 3 MiB").unwrap().len(), 5);
        assert_eq!(parse_size("2M").unwrap(), 2 * 1024 * 1024);
        assert_eq!(parse_size("256MiB").unwrap(), MAX_UPLOAD_SIZE);
    }

    #[test]
    fn bad_sizes_say_how_to_write_them() {
        for bad in [
            "1KB",
            "KiB",
            "1.5KiB",
            "-1",
            "1 GiB",
            "99999999999999999999",
        ] {
            let e = parse_sizes(bad).unwrap_err().to_string();
            assert!(e.contains("--sizes 1KiB,256KiB"), "{bad}: {e}");
        }
        let e = parse_sizes("257MiB").unwrap_err().to_string();
        assert!(e.contains("at most 256MiB"), "{e}");
        let e = parse_sizes("1KiB,1024").unwrap_err().to_string();
        assert!(e.contains("more than once"), "{e}");
        assert_eq!(parse_sizes(" , "), Err(ConfigError::Empty("sizes")));
    }

    #[test]
    fn regression_a_list_with_an_empty_item_is_refused() {
        for bad in ["1,,2", "1,", ",4"] {
            assert_eq!(
                parse_concurrency(bad),
                Err(ConfigError::EmptyItem("concurrency")),
                "{bad}"
            );
        }
        assert_eq!(
            parse_sizes("1KiB,,2KiB"),
            Err(ConfigError::EmptyItem("sizes"))
        );
    }

    #[test]
    fn concurrency_parses_sorted_and_refuses_zero() {
        assert_eq!(parse_concurrency("16,1,4").unwrap(), [1, 4, 16]);
        assert_eq!(parse_concurrency("1,0"), Err(ConfigError::ZeroConcurrency));
        let e = parse_concurrency("1,x").unwrap_err().to_string();
        assert!(
            e.contains("`x`") && e.contains("--concurrency 1,4,16"),
            "{e}"
        );
        assert!(matches!(
            parse_concurrency("1000"),
            Err(ConfigError::ConcurrencyTooHigh(1000))
        ));
        assert!(matches!(
            parse_concurrency("2,2"),
            Err(ConfigError::Repeated { .. })
        ));
    }

    #[test]
    fn validate_covers_files_and_deadline() {
        let base = BenchConfig::with_seed(1);
        assert_eq!(base.validate(), Ok(()));
        let cases = [
            (
                BenchConfig {
                    files: 0,
                    ..base.clone()
                },
                ConfigError::NoFiles,
            ),
            (
                BenchConfig {
                    files: MAX_UPLOADS + 1,
                    ..base.clone()
                },
                ConfigError::TooManyFiles(MAX_UPLOADS + 1),
            ),
            (
                BenchConfig {
                    concurrency: vec![0],
                    ..base.clone()
                },
                ConfigError::ZeroConcurrency,
            ),
            (
                BenchConfig {
                    sizes: vec![],
                    ..base.clone()
                },
                ConfigError::Empty("sizes"),
            ),
            (
                BenchConfig {
                    delivery_deadline: Duration::ZERO,
                    ..base.clone()
                },
                ConfigError::NoDeadline,
            ),
        ];
        for (config, expected) in cases {
            assert_eq!(config.validate(), Err(expected));
        }
    }

    #[test]
    fn points_run_each_size_along_rising_concurrency() {
        let config = BenchConfig {
            concurrency: vec![4, 1],
            sizes: vec![1024, 10],
            ..BenchConfig::with_seed(1)
        };
        assert_eq!(config.points(), [(1, 1024), (4, 1024), (1, 10), (4, 10)]);
    }

    #[test]
    fn sizes_format_in_the_largest_exact_unit() {
        assert_eq!(format_size(1024), "1KiB");
        assert_eq!(format_size(256 * 1024), "256KiB");
        assert_eq!(format_size(3 * 1024 * 1024), "3MiB");
        assert_eq!(format_size(1536), "1536B");
        assert_eq!(format_size(0), "0B");
        for s in [0, 10, 1024, 1536, 256 * 1024, 5 * 1024 * 1024] {
            assert_eq!(parse_size(&format_size(s)).unwrap(), s);
        }
    }
}
