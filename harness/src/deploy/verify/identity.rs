//! The identity checks: the execution role's policy (least privilege, no `*`) and the KMS
//! key policy, each compared with the generated document.

use super::{Check, check, policy_json, text};
use crate::run_target::Target;
use crate::stack::policy::{
    execution_role_policy, has_wildcard_resource, key_policy, wildcard_actions,
};
use crate::stack::{StackArns, StackNames};

pub(super) async fn identity_checks(
    target: &Target,
    names: &StackNames,
    arns: &StackArns,
) -> Vec<Check> {
    let mut out = Vec::new();
    out.push(
        match target.iam().get_role_policy().role_name(&names.role).policy_name(&names.role_policy).send().await {
            Ok(p) => {
                let doc = policy_json(p.policy_document());
                let wild = wildcard_actions(&doc);
                check(
                    "execution role policy is the generated least-privilege one (no * action or resource)",
                    wild.is_empty() && !has_wildcard_resource(&doc) && doc == execution_role_policy(arns),
                    format!("wildcard actions {wild:?}; document {doc}"),
                )
            }
            Err(e) => check("execution role policy is the generated least-privilege one (no * action or resource)", false, text(e)),
        },
    );
    out.push(
        match target
            .kms()
            .get_key_policy()
            .key_id(&arns.key)
            .policy_name("default")
            .send()
            .await
        {
            Ok(p) => {
                let doc = policy_json(p.policy().unwrap_or_default());
                check(
                    "key policy is the generated one (admin, S3, role, SNS only)",
                    doc == key_policy(arns, &arns.account_root()),
                    doc.to_string(),
                )
            }
            Err(e) => check(
                "key policy is the generated one (admin, S3, role, SNS only)",
                false,
                text(e),
            ),
        },
    );
    out
}
