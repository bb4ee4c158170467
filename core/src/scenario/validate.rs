//! Validation of a parsed scenario: the rules TOML's types cannot express (a known verdict, a
//! region name, a bucket region only where it is used, a valid workload).
//!
//! Run on every load, so a scenario with a typo is refused before anything is deployed; each
//! error names the field as it is spelt in the file and says how to fix it. Pure: no I/O.

use thiserror::Error;

use super::{Scenario, ScenarioKind, VERDICTS};
use crate::workload::WorkloadError;

/// Why a parsed scenario is not valid; each names the field (as in the file) and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidScenario {
    #[error(
        "the name `{0}` (the file name without `.toml`) must be lowercase letters, digits, `-` and `_`; rename the file"
    )]
    Name(String),
    #[error("`description` is empty; say what the scenario proves")]
    NoDescription,
    #[error(
        "`targets` is empty; list where it runs (embedded, localstack, aws) or leave it out for all three"
    )]
    NoTargets,
    #[error("[stack] `bucket-region` is `{0}`, not a region name like `eu-west-1`")]
    BadRegion(String),
    #[error(
        "[stack] `bucket-region` is set but `kind` is `{0}`; only region-mismatch uses it, so remove it"
    )]
    UnusedBucketRegion(ScenarioKind),
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    #[error("[expect] `verdict` is `{0}`; use encrypted, unencrypted or wrong-key")]
    Verdict(String),
    #[error("[expect] `delivery-deadline-s` is 0; give deliveries at least 1 second")]
    NoDeadline,
    #[error(transparent)]
    Chaos(#[from] crate::chaos::spec::InvalidFault),
    #[error("[[chaos]] faults need `kind = \"pipeline\"` (the default), not `{0}`")]
    ChaosKind(ScenarioKind),
}

impl Scenario {
    /// Checks every field, the workload included; the first problem is returned.
    pub fn validate(&self) -> Result<(), InvalidScenario> {
        let name_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c);
        if self.name.is_empty() || !self.name.chars().all(name_char) {
            return Err(InvalidScenario::Name(self.name.clone()));
        }
        if self.description.trim().is_empty() {
            return Err(InvalidScenario::NoDescription);
        }
        if self.targets.is_empty() {
            return Err(InvalidScenario::NoTargets);
        }
        if let Some(region) = &self.stack.bucket_region {
            if !is_region_name(region) {
                return Err(InvalidScenario::BadRegion(region.clone()));
            }
            if self.kind != ScenarioKind::RegionMismatch {
                return Err(InvalidScenario::UnusedBucketRegion(self.kind));
            }
        }
        self.workload.validate()?;
        if !VERDICTS.contains(&self.expect.verdict.as_str()) {
            return Err(InvalidScenario::Verdict(self.expect.verdict.clone()));
        }
        if self.expect.delivery_deadline_s == 0 {
            return Err(InvalidScenario::NoDeadline);
        }
        if !self.chaos.is_empty() && self.kind != ScenarioKind::Pipeline {
            return Err(InvalidScenario::ChaosKind(self.kind));
        }
        crate::chaos::spec::validate_all(&self.chaos, self.workload.total_uploads())?;
        Ok(())
    }
}

/// `eu-west-1`, `us-gov-west-1`, `ap-southeast-4`: lowercase words, then a number.
fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let (last, words) = parts.split_last().expect("split yields at least one part");
    words.len() >= 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
        && !last.is_empty()
        && last.chars().all(|c| c.is_ascii_digit())
}

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
    fn invalid_values_name_the_field_and_the_fix() {
        for (text, needle) in [
            (
                "description = \" \"\n[workload]\nfiles = 1\n",
                "`description` is empty",
            ),
            (
                "description = \"d\"\ntargets = []\n[workload]\nfiles = 1\n",
                "`targets`",
            ),
            (
                "description = \"d\"\n[stack]\nbucket-region = \"eu-west-1\"\n[workload]\nfiles = 1\n",
                "only region-mismatch uses it",
            ),
            (
                "description = \"d\"\nkind = \"region-mismatch\"\n[stack]\nbucket-region = \"Mars\"\n\
                 [workload]\nfiles = 1\n",
                "`bucket-region` is `Mars`",
            ),
            (
                "description = \"d\"\n[workload]\nfiles = 0\n",
                "workload `files` is 0",
            ),
            (
                "description = \"d\"\n[workload]\nfiles = 1\nmin-size = 5\nmax-size = 4\n",
                "`max-size` (4) is below `min-size` (5)",
            ),
            (
                "description = \"d\"\n[workload]\nfiles = 1\nconcurrency = 0\n",
                "`concurrency`",
            ),
            (
                &format!("{MINIMAL}[expect]\nverdict = \"ok\"\n"),
                "`verdict` is `ok`",
            ),
            (
                &format!("{MINIMAL}[expect]\ndelivery-deadline-s = 0\n"),
                "`delivery-deadline-s`",
            ),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(needle), "`{err}` should contain `{needle}`");
        }
    }

    #[test]
    fn names_and_regions() {
        let mut s = parse(MINIMAL).unwrap();
        for bad in ["", "Odd", "a b", "ü"] {
            s.name = bad.into();
            assert_eq!(s.validate(), Err(InvalidScenario::Name(bad.into())));
        }
        for good in ["eu-west-1", "us-gov-west-1", "ap-southeast-4"] {
            assert!(is_region_name(good), "{good}");
        }
        for bad in [
            "",
            "eu",
            "eu-1",
            "eu-west-",
            "EU-west-1",
            "eu--1",
            "eu-west-x",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }
}
