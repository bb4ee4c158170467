//! Scenarios as data: each `scenarios/<name>.toml` at the workspace root says what one run
//! proves, where it may run, how the stack is set up, what to upload and what to expect.
//!
//! Keeping scenarios in files instead of code means a new case (a key shape, an overwrite
//! pattern, a documented failure) is a reviewed text file that the CLI and the end-to-end tests
//! both pick up. Files are strict: an unknown or misspelt field is an error naming it, and every
//! value is checked on load ([`load_file`] runs [`Scenario::validate`]), so a scenario never
//! fails halfway through a deploy because of a typo. Pure apart from reading the files.

mod load;
mod validate;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::workload::WorkloadSpec;

pub use load::{SCENARIOS_DIR_ENV, ScenarioError, load_dir, load_file, scenarios_dir};
pub use validate::InvalidScenario;

/// The verdicts a scenario may expect, as the handler reports them.
pub const VERDICTS: [&str; 3] = ["encrypted", "unencrypted", "wrong-key"];
/// `[expect] delivery-deadline-s` when a scenario leaves it out.
pub const DEFAULT_DELIVERY_DEADLINE_S: u64 = 120;

/// One scenario file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Scenario {
    /// The file stem, e.g. `odd-keys`; not a field of the file.
    #[serde(skip_deserializing)]
    pub name: String,
    /// What the scenario proves, in a sentence or two.
    pub description: String,
    /// Where it can run (default: everywhere).
    #[serde(default = "all_targets")]
    pub targets: Vec<TargetName>,
    #[serde(default)]
    pub kind: ScenarioKind,
    /// The `[stack]` table.
    #[serde(default)]
    pub stack: StackOptions,
    /// The `[workload]` table.
    pub workload: WorkloadSpec,
    /// The `[expect]` table.
    #[serde(default)]
    pub expect: Expectations,
    /// The `[[chaos]]` tables: faults injected during the run (none for a plain scenario).
    #[serde(default)]
    pub chaos: Vec<crate::chaos::FaultSpec>,
}

/// Where a scenario can run: the harness's `--target` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetName {
    Embedded,
    Localstack,
    Ministack,
    Aws,
}

/// What a run does after deploying.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum ScenarioKind {
    /// Upload the workload and prove every delivery.
    #[default]
    Pipeline,
    /// The original system's first failure: a bucket in another region than the Lambda.
    RegionMismatch,
    /// The original system's second failure: FIFO publishes without `MessageGroupId`.
    FifoMissingGroupId,
}

/// The `[stack]` table: how the stack is deployed for this scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StackOptions {
    /// The handler's `FIFO_GROUPING`.
    #[serde(default)]
    pub fifo_grouping: Grouping,
    /// The other bucket's region, for `region-mismatch` only.
    #[serde(default)]
    pub bucket_region: Option<String>,
}

/// How the handler groups FIFO messages (its `FIFO_GROUPING`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Grouping {
    /// One message group per bucket.
    #[default]
    Bucket,
    /// One message group per top-level key prefix.
    Prefix,
}

/// The `[expect]` table: what the run must observe.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Expectations {
    /// The verdict of every upload: one of [`VERDICTS`] (default `encrypted`).
    #[serde(default = "default_verdict")]
    pub verdict: String,
    /// Records expected in the on-failure queue (default 0).
    #[serde(default)]
    pub failures: usize,
    /// How long every delivery may take, in seconds (default 120).
    #[serde(default = "default_deadline")]
    pub delivery_deadline_s: u64,
    /// The slowest FIFO delivery the retry policy allows under the scenario's faults, in ms
    /// (checked when set).
    #[serde(default)]
    pub max_latency_ms: Option<u64>,
}

impl Default for Expectations {
    fn default() -> Self {
        Self {
            verdict: default_verdict(),
            failures: 0,
            delivery_deadline_s: DEFAULT_DELIVERY_DEADLINE_S,
            max_latency_ms: None,
        }
    }
}

fn all_targets() -> Vec<TargetName> {
    TargetName::ALL.to_vec()
}

fn default_verdict() -> String {
    VERDICTS[0].to_owned()
}

fn default_deadline() -> u64 {
    DEFAULT_DELIVERY_DEADLINE_S
}

impl Scenario {
    /// True if the scenario lists `target`.
    pub fn runs_on(&self, target: TargetName) -> bool {
        self.targets.contains(&target)
    }
}

impl TargetName {
    pub const ALL: [TargetName; 4] = [
        TargetName::Embedded,
        TargetName::Localstack,
        TargetName::Ministack,
        TargetName::Aws,
    ];

    /// The name used in scenario files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetName::Embedded => "embedded",
            TargetName::Localstack => "localstack",
            TargetName::Ministack => "ministack",
            TargetName::Aws => "aws",
        }
    }
}

impl ScenarioKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioKind::Pipeline => "pipeline",
            ScenarioKind::RegionMismatch => "region-mismatch",
            ScenarioKind::FifoMissingGroupId => "fifo-missing-group-id",
        }
    }
}

impl Grouping {
    /// The handler's `FIFO_GROUPING` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::Bucket => "bucket",
            Grouping::Prefix => "prefix",
        }
    }
}

macro_rules! display_as_str {
    ($($ty:ty),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

display_as_str!(TargetName, ScenarioKind, Grouping);

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scenario, String> {
        let mut scenario: Scenario = toml::from_str(text).map_err(|e| e.to_string())?;
        scenario.name = "test".into();
        scenario.validate().map_err(|e| e.to_string())?;
        Ok(scenario)
    }

    const MINIMAL: &str = "description = \"d\"\n[workload]\nfiles = 1\n";

    #[test]
    fn a_minimal_scenario_gets_every_default() {
        let s = parse(MINIMAL).unwrap();
        assert_eq!(s.targets, TargetName::ALL);
        assert_eq!(s.kind, ScenarioKind::Pipeline);
        assert_eq!(s.stack, StackOptions::default());
        assert_eq!(s.stack.fifo_grouping, Grouping::Bucket);
        assert_eq!(s.expect, Expectations::default());
        assert_eq!(s.expect.verdict, "encrypted");
        assert_eq!(s.expect.delivery_deadline_s, 120);
        assert!(s.runs_on(TargetName::Aws));
    }

    #[test]
    fn every_field_parses_in_kebab_case() {
        let s = parse(
            "description = \"d\"\ntargets = [\"embedded\"]\nkind = \"region-mismatch\"\n\
             [stack]\nfifo-grouping = \"prefix\"\nbucket-region = \"eu-west-1\"\n\
             [workload]\nfiles = 1\n\
             [expect]\nverdict = \"wrong-key\"\nfailures = 2\ndelivery-deadline-s = 30\n",
        )
        .unwrap();
        assert!(s.runs_on(TargetName::Embedded) && !s.runs_on(TargetName::Localstack));
        assert_eq!(s.kind, ScenarioKind::RegionMismatch);
        assert_eq!(s.stack.fifo_grouping.as_str(), "prefix");
        assert_eq!(s.stack.bucket_region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            (s.expect.verdict.as_str(), s.expect.failures),
            ("wrong-key", 2)
        );
        assert_eq!(s.expect.delivery_deadline_s, 30);
        let kind = parse(&format!("kind = \"fifo-missing-group-id\"\n{MINIMAL}")).unwrap();
        assert_eq!(kind.kind.to_string(), "fifo-missing-group-id");
    }

    #[test]
    fn unknown_fields_are_named_in_every_table() {
        for (text, field) in [
            (format!("colour = 1\n{MINIMAL}"), "colour"),
            (format!("name = \"x\"\n{MINIMAL}"), "name"),
            (format!("{MINIMAL}filez = 2\n"), "filez"),
            (
                format!("{MINIMAL}[stack]\nfifo_grouping = \"prefix\"\n"),
                "fifo_grouping",
            ),
            (format!("{MINIMAL}[expect]\ndeadline = 3\n"), "deadline"),
        ] {
            let err = parse(&text).unwrap_err();
            assert!(err.contains(&format!("unknown field `{field}`")), "{err}");
        }
        let err = parse("description = \"d\"\n").unwrap_err();
        assert!(err.contains("missing field `workload`"), "{err}");
        let err = parse(&format!("kind = \"other\"\n{MINIMAL}")).unwrap_err();
        assert!(err.contains("other"), "{err}");
    }

    #[test]
    fn names_match_serde() {
        for target in TargetName::ALL {
            assert_eq!(
                serde_json::to_string(&target).unwrap(),
                format!("\"{target}\"")
            );
        }
        for kind in [
            ScenarioKind::Pipeline,
            ScenarioKind::RegionMismatch,
            ScenarioKind::FifoMissingGroupId,
        ] {
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{kind}\""));
        }
        for grouping in [Grouping::Bucket, Grouping::Prefix] {
            assert_eq!(
                serde_json::to_string(&grouping).unwrap(),
                format!("\"{grouping}\"")
            );
        }
    }
}
