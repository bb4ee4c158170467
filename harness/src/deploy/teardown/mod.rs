//! Removes one run's stack, refusing anything without our tag, and proves nothing is left.
//!
//! Teardown keeps going after a failure (a half-failed deploy leaves an arbitrary subset) and
//! returns every error; then it looks every resource up again and lists what is still there.
//! A resource that exists but does not carry `harness-run=<run id>` is never touched.
//!
//! This module drives the order and the tag check; the stack's resources are named in
//! `resource`, looked up (tags included) in `lookup` and deleted in `delete`.

mod delete;
mod lookup;
mod resource;

use std::collections::HashMap;

use crate::run_target::Target;
use crate::stack::{StackNames, TAG_KEY};
use lookup::Lookup;
use resource::Resource;

/// What a teardown did.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct TeardownReport {
    /// Resources deleted (or scheduled for deletion, for the KMS key).
    pub deleted: Vec<String>,
    /// Resources that were already gone.
    pub absent: Vec<String>,
    /// Every failure, one line each, with the resource.
    pub errors: Vec<String>,
    /// Resources still present after teardown (must be empty).
    pub leftovers: Vec<String>,
}

impl TeardownReport {
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty() && self.leftovers.is_empty()
    }
}

/// An SDK error with its whole chain (the bare Display of an SDK error is "service error").
fn text<E>(error: E) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error,
{
    super::aws_error::describe(&error)
}

fn owned_by(run: &str, tags: &HashMap<String, String>) -> bool {
    tags.get(TAG_KEY).is_some_and(|v| v == run)
}

/// Deletes the stack of `names`, keeping going after failures, then verifies it is gone.
pub async fn teardown(
    target: &Target,
    names: &StackNames,
    progress: &mut (dyn std::io::Write + Send),
) -> TeardownReport {
    let mut report = TeardownReport::default();
    let run = names.run_id.to_string();
    let _ = writeln!(progress, "tearing down run {run} on {}", target.describe());
    let account = match super::account_id(target).await {
        Ok(account) => account,
        Err(e) => {
            report.errors.push(format!("cannot tell the account: {e}"));
            return report;
        }
    };
    let account = account.as_str();
    for resource in Resource::ALL {
        let label = resource.label(names);
        match resource.lookup(target, names, account).await {
            Err(e) => report.errors.push(format!("{label}: looking it up: {e}")),
            Ok(Lookup::Missing) => report.absent.push(label),
            Ok(Lookup::Present(tags)) if !owned_by(&run, &tags) => report.errors.push(format!(
                "{label}: exists but is not tagged {TAG_KEY}={run}; refusing to delete it"
            )),
            Ok(Lookup::Present(_)) => match resource.delete(target, names, account).await {
                Ok(()) => {
                    let _ = writeln!(progress, "  deleted {label}");
                    report.deleted.push(label);
                }
                Err(e) => report.errors.push(format!("{label}: {e}")),
            },
        }
    }
    report.leftovers = leftovers(target, names, account).await;
    report
}

/// Every resource of the stack that still exists (a KMS key pending deletion counts as gone).
pub async fn leftovers(target: &Target, names: &StackNames, account: &str) -> Vec<String> {
    let mut left = Vec::new();
    for resource in Resource::ALL {
        match resource.lookup(target, names, account).await {
            Ok(Lookup::Missing) => {}
            Ok(Lookup::Present(_)) => left.push(resource.label(names)),
            Err(e) => left.push(format!("{} (cannot tell: {e})", resource.label(names))),
        }
    }
    left
}
