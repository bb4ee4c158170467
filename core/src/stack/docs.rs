//! The least-privilege model as documentation, generated from the same code that deploys it.
//!
//! `harness policies` prints it, and the README carries it between markers; a test fails when
//! the two drift apart (`HARNESS_BLESS=1 cargo test -p harness --lib readme` rewrites the README).

use serde_json::Value;

use super::policy::{
    StackArns, bucket_policy, execution_role_policy, execution_role_trust_policy, key_policy,
    queue_policy,
};
use super::{RunId, StackNames};

/// Marks where the generated section starts in the README.
pub const BEGIN: &str = "<!-- generated: harness policies (begin) -->";
/// Marks where it ends.
pub const END: &str = "<!-- generated: harness policies (end) -->";

/// Every policy document of an example stack, as Markdown.
pub fn policies_markdown() -> String {
    let names = StackNames::with_default_prefix(&RunId::from_seed(42));
    let arns = StackArns::new(
        "aws",
        "us-west-1",
        "111122223333",
        &names,
        "1234abcd-12ab-34cd-56ef-1234567890ab",
    );
    let sections: [(&str, Value); 6] = [
        (
            "Execution role: inline policy (everything the handler may do)",
            execution_role_policy(&arns),
        ),
        (
            "Execution role: trust policy",
            execution_role_trust_policy(&arns),
        ),
        ("Bucket policy", bucket_policy(&arns)),
        ("KMS key policy", key_policy(&arns, &arns.account_root())),
        ("FIFO queue policy", queue_policy(&arns)),
        (
            "Lambda resource policy (AddPermission)",
            serde_json::to_value(lambda_permission_doc(&names, &arns)).unwrap_or_default(),
        ),
    ];
    let mut out = format!(
        "Example: run `{}`, account 111122223333, region us-west-1.\n",
        names.run_id
    );
    for (title, document) in sections {
        let pretty = serde_json::to_string_pretty(&sorted_keys(document)).unwrap_or_default();
        out.push_str(&format!("\n#### {title}\n\n```json\n{pretty}\n```\n"));
    }
    out
}

/// The document with every object's keys in sorted order, so the text does not depend on
/// whether some crate in the build turned on serde_json's `preserve_order`.
fn sorted_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted_keys).collect()),
        other => other,
    }
}

fn lambda_permission_doc(names: &StackNames, arns: &StackArns) -> Value {
    let p = super::policy::lambda_permission(names, arns);
    serde_json::json!({
        "FunctionName": p.function_name,
        "StatementId": p.statement_id,
        "Action": p.action,
        "Principal": p.principal,
        "SourceArn": p.source_arn,
        "SourceAccount": p.source_account,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_carries_the_generated_policies() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let (Some(start), Some(end)) = (readme.find(BEGIN), readme.find(END)) else {
            panic!("README.md lacks the {BEGIN} / {END} markers");
        };
        let current = &readme[start + BEGIN.len()..end];
        let wanted = format!("\n{}\n", policies_markdown());
        if current == wanted {
            return;
        }
        if std::env::var_os("HARNESS_BLESS").is_some() {
            let updated = format!("{}{BEGIN}{wanted}{}", &readme[..start], &readme[end..]);
            std::fs::write(&path, updated).unwrap();
            return;
        }
        panic!(
            "README.md's policy section is out of date with the code; run \
             `HARNESS_BLESS=1 cargo test -p harness-core --lib readme` to regenerate it"
        );
    }
}
