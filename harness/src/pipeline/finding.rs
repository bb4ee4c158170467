//! What a run found, typed until it is rendered: [`Finding`]s stop a run from proving its point,
//! [`Check`]s are the properties a run checks outside the oracle. Both render to the texts the
//! JSON report has always carried (`errors` as strings, `checks` as `[name, ok, detail]`), so
//! the report's schema is unchanged while code inside a run matches on variants, not on text.

use serde::ser::{Serialize, SerializeTuple, Serializer};

use crate::deploy::teardown::TeardownReport;
use crate::oracle::Violation;

/// Something that stopped a run from proving its point.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Finding {
    /// The stack could not be deployed.
    #[error("deploy: {0}")]
    Deploy(String),
    /// The workload could not be uploaded.
    #[error("upload: {0}")]
    Upload(String),
    /// Reading the queues or the mailbox failed.
    #[error("collect: {0}")]
    Collect(String),
    /// The delivery deadline passed before everything expected arrived.
    #[error(
        "collect: not everything arrived within {deadline_s} s ({fifo} FIFO message(s), {mails} \
         email(s) and {failures} on-failure record(s) for {uploads} upload(s))"
    )]
    Undelivered {
        deadline_s: u64,
        fifo: usize,
        mails: usize,
        failures: usize,
        uploads: usize,
    },
    /// The email alerts cannot be read back (no mailbox, or its subscription never confirmed).
    #[error("{0}")]
    Mailbox(String),
    /// The emulator under the run was restarted or stopped answering.
    #[error("{0}")]
    Emulator(String),
    /// A step of a documented-failure scenario or of a fault failed, e.g. creating the other
    /// region's bucket.
    #[error("{step}: {error}")]
    Step { step: String, error: String },
    /// Redelivering recorded events (chaos) failed.
    #[error("redelivery: {0}")]
    Redelivery(String),
    /// An oracle violation a chaos run names with the faults that touched its object.
    #[error("{violation}; {}seed {seed}", faults_text(.faults))]
    Violation {
        violation: Violation,
        /// `None` when the violation names no object.
        faults: Option<Vec<String>>,
        seed: u64,
    },
    /// The teardown failed or left resources behind.
    #[error("teardown left errors {errors:?} and resources {leftovers:?}")]
    Teardown {
        errors: Vec<String>,
        leftovers: Vec<String>,
    },
}

fn faults_text(faults: &Option<Vec<String>>) -> String {
    faults
        .as_ref()
        .map_or_else(String::new, |f| format!("faults: {}; ", f.join(", ")))
}

impl Finding {
    /// A step that failed, e.g. `Finding::step("AddPermission for b", error)`.
    pub fn step(step: impl Into<String>, error: impl ToString) -> Self {
        Self::Step {
            step: step.into(),
            error: error.to_string(),
        }
    }

    /// What an unclean teardown found (`None` when it left nothing and failed nowhere).
    pub fn of_teardown(torn: &TeardownReport) -> Option<Self> {
        (!torn.is_clean()).then(|| Self::Teardown {
            errors: torn.errors.clone(),
            leftovers: torn.leftovers.clone(),
        })
    }

    /// The oracle violation this finding names, if it is one.
    pub fn violation(&self) -> Option<&Violation> {
        match self {
            Self::Violation { violation, .. } => Some(violation),
            _ => None,
        }
    }
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A property a run checked outside the oracle, with its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

impl Check {
    pub fn new(name: impl Into<String>, ok: bool, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok,
            detail: detail.into(),
        }
    }
}

/// `[name, ok, detail]`, as the report has always written checks.
impl Serialize for Check {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(3)?;
        tuple.serialize_element(&self.name)?;
        tuple.serialize_element(&self.ok)?;
        tuple.serialize_element(&self.detail)?;
        tuple.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_and_checks_serialize_as_the_report_always_wrote_them() {
        let missing = Violation::MissingFifoMessage {
            index: 0,
            key: "k".into(),
            version_id: None,
        };
        let named = Finding::Violation {
            violation: missing.clone(),
            faults: Some(vec!["sns Publish throttle".into(), "kms".into()]),
            seed: 7,
        };
        assert_eq!(
            serde_json::to_value(&named).unwrap(),
            serde_json::json!(format!(
                "{missing}; faults: sns Publish throttle, kms; seed 7"
            ))
        );
        let unnamed = Finding::Violation {
            violation: missing.clone(),
            faults: None,
            seed: 7,
        };
        assert_eq!(unnamed.to_string(), format!("{missing}; seed 7"));
        assert_eq!(
            serde_json::to_value(Check::new("n", false, "d")).unwrap(),
            serde_json::json!(["n", false, "d"])
        );
        assert_eq!(
            Finding::step("AddPermission for b", "denied").to_string(),
            "AddPermission for b: denied"
        );
    }

    #[test]
    fn only_an_unclean_teardown_is_a_finding() {
        let clean = TeardownReport::default();
        assert_eq!(Finding::of_teardown(&clean), None);
        let left = TeardownReport {
            leftovers: vec!["bucket b".into()],
            ..TeardownReport::default()
        };
        assert_eq!(
            Finding::of_teardown(&left).unwrap().to_string(),
            "teardown left errors [] and resources [\"bucket b\"]"
        );
    }
}
