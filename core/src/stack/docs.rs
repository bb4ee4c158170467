//! The least-privilege model as documentation, generated from the same code that deploys it.
//!
//! `harness policies` prints it, and the README carries it between markers; a test fails when
//! the two drift apart (`HARNESS_BLESS=1 cargo test -p harness --lib readme` rewrites the README).

use serde_json::Value;

use super::policy::{
    StackArns, bucket_policy, execution_role_policy, execution_role_trust_policy,
    fifo_topic_policy, key_policy, queue_policy, standard_topic_policy,
};
use super::{RunId, StackNames};

/// Marks where the generated section starts in the README.
pub const BEGIN: &str = "<!-- generated: harness policies (begin) -->";
/// Marks where it ends.
pub const END: &str = "<!-- generated: harness policies (end) -->";

/// What a generated document is, for a policy linter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// An identity or resource policy: linted as it is.
    Policy,
    /// A role's trust policy, which has no `Resource` (linters that expect one misread it).
    TrustPolicy,
    /// API parameters shown for completeness (Lambda's AddPermission), not a policy document.
    Parameters,
}

/// One generated document of the example stack.
#[derive(Debug, Clone)]
pub struct Document {
    /// A file name for it (`harness policies --write DIR`), `<kind>-<what>.json`.
    pub file: &'static str,
    pub title: &'static str,
    pub kind: DocumentKind,
    pub body: Value,
}

/// Every policy document of an example stack: account 111122223333, region us-west-1.
pub fn example_documents() -> Vec<Document> {
    let names = example_names();
    let arns = StackArns::new(
        "aws",
        "us-west-1",
        "111122223333",
        &names,
        "1234abcd-12ab-34cd-56ef-1234567890ab",
    );
    use DocumentKind::{Parameters, Policy, TrustPolicy};
    let doc = |file, title, kind, body| Document {
        file,
        title,
        kind,
        body,
    };
    vec![
        doc(
            "identity-execution-role.json",
            "Execution role: inline policy (everything the handler may do)",
            Policy,
            execution_role_policy(&arns),
        ),
        doc(
            "trust-execution-role.json",
            "Execution role: trust policy",
            TrustPolicy,
            execution_role_trust_policy(&arns),
        ),
        doc(
            "resource-bucket.json",
            "Bucket policy",
            Policy,
            bucket_policy(&arns),
        ),
        doc(
            "resource-key.json",
            "KMS key policy",
            Policy,
            key_policy(&arns, &arns.account_root()),
        ),
        doc(
            "resource-fifo-queue.json",
            "FIFO queue policy",
            Policy,
            queue_policy(&arns),
        ),
        doc(
            "resource-standard-topic.json",
            "Standard topic policy (alerts to `alerts@example.com`)",
            Policy,
            standard_topic_policy(&arns, "alerts@example.com"),
        ),
        doc(
            "resource-fifo-topic.json",
            "FIFO topic policy",
            Policy,
            fifo_topic_policy(&arns),
        ),
        doc(
            "parameters-lambda-permission.json",
            "Lambda resource policy (AddPermission)",
            Parameters,
            serde_json::to_value(lambda_permission_doc(&names, &arns)).unwrap_or_default(),
        ),
        doc(
            "identity-runner.json",
            "Runner identity policy (whoever runs the harness on AWS; S3 mailbox `mail-example-com`, prefix `inbound/`)",
            Policy,
            super::runner::runner_policy(&super::runner::RunnerParams::new(
                &arns.partition,
                &arns.region,
                &arns.account_id,
                "mail-example-com",
                "inbound/",
            )),
        ),
        doc(
            "trust-runner-github-oidc.json",
            "Runner role: trust policy for GitHub's OIDC provider (one repository, one environment)",
            TrustPolicy,
            super::runner::github_oidc_trust_policy(&super::runner::GitHubOidc {
                provider_arn: super::runner::github_oidc_provider_arn(
                    &arns.partition,
                    &arns.account_id,
                ),
                owner: "octo-org".into(),
                repository: "upload-harness".into(),
                ids: Some(("1342004".into(), "998877".into())),
                git_ref: super::runner::GitHubRef::Environment("aws-sandbox".into()),
            }),
        ),
    ]
}

fn example_names() -> StackNames {
    StackNames::with_default_prefix(&RunId::from_seed(42))
}

/// Every policy document of an example stack, as Markdown.
pub fn policies_markdown() -> String {
    let mut out = format!(
        "Example: run `{}`, account 111122223333, region us-west-1.\n",
        example_names().run_id
    );
    for document in example_documents_sorted() {
        let pretty = serde_json::to_string_pretty(&document.body).unwrap_or_default();
        out.push_str(&format!(
            "\n#### {}\n\n```json\n{pretty}\n```\n",
            document.title
        ));
    }
    out
}

/// [`example_documents`] with the keys of every object sorted, as `harness policies --write`
/// writes them.
pub fn example_documents_sorted() -> Vec<Document> {
    example_documents()
        .into_iter()
        .map(|d| Document {
            body: sorted_keys(d.body),
            ..d
        })
        .collect()
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
