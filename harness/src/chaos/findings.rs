//! What S3 accepting uploads while the stack's KMS key was disabled means: a failed check on
//! AWS (which refuses them with `KMS.DisabledException`), a named divergence on LocalStack
//! (which does not look at the key's state on PutObject). Pure, but for writing the finding.

use crate::pipeline::RunReport;
use crate::run_target::{Target, TargetKind};

/// What uploads S3 accepted with the KMS key disabled mean on a target.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyDisabledFinding {
    /// AWS must refuse them (`KMS.DisabledException`): a failed check.
    Failed(String),
    /// LocalStack does not check a key's state on PutObject: a divergence, and the window then
    /// proves only that the pipeline survives the key's disable and enable.
    Divergence(String),
}

/// Judges the uploads accepted while the KMS key was disabled (none: nothing to say). Pure.
fn key_disabled_finding(kind: TargetKind, accepted: &[String]) -> Option<KeyDisabledFinding> {
    if accepted.is_empty() {
        return None;
    }
    let what = format!(
        "{} upload(s) accepted with the KMS key disabled: {}",
        accepted.len(),
        accepted.join(", ")
    );
    Some(if kind == TargetKind::Aws {
        KeyDisabledFinding::Failed(what)
    } else {
        KeyDisabledFinding::Divergence(format!(
            "{what} (LocalStack does not check a key's state on PutObject; AWS refuses with \
             KMS.DisabledException, and the harness uploads the refused files again once the key \
             is enabled)"
        ))
    })
}

pub(super) fn key_disabled_outcome(target: &Target, accepted: &[String], report: &mut RunReport) {
    match key_disabled_finding(target.kind, accepted) {
        Some(KeyDisabledFinding::Failed(what)) => {
            report.check("uploads with the KMS key disabled are refused", false, what);
        }
        Some(KeyDisabledFinding::Divergence(what)) => report.divergences.push(what),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_accepted_with_the_key_disabled_fail_on_aws() {
        let accepted = ["a.txt".to_owned()];
        let Some(KeyDisabledFinding::Failed(what)) =
            key_disabled_finding(TargetKind::Aws, &accepted)
        else {
            panic!("AWS accepting an upload with a disabled key must fail the run");
        };
        assert!(
            what.contains("1 upload(s)") && what.contains("a.txt"),
            "{what}"
        );
    }

    #[test]
    fn uploads_accepted_with_the_key_disabled_are_a_divergence_on_localstack() {
        let accepted = ["a.txt".to_owned(), "b c.txt".to_owned()];
        for kind in [TargetKind::Embedded, TargetKind::Localstack] {
            let Some(KeyDisabledFinding::Divergence(what)) = key_disabled_finding(kind, &accepted)
            else {
                panic!("{kind:?}: LocalStack's gap must be reported as a divergence");
            };
            assert!(what.contains("2 upload(s)") && what.contains("KMS.DisabledException"));
        }
    }

    #[test]
    fn no_upload_accepted_with_the_key_disabled_says_nothing() {
        assert_eq!(key_disabled_finding(TargetKind::Aws, &[]), None);
    }
}
