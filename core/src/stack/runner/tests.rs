use super::*;
use crate::stack::policy::{statements_without_sid, wildcard_actions};
use crate::stack::{RunId, StackNames};

fn example() -> Value {
    runner_policy(&RunnerParams::new(
        "aws",
        "eu-west-1",
        "111122223333",
        "mail-example-com",
        "inbound/",
    ))
}

fn statements(policy: &Value) -> &Vec<Value> {
    policy["Statement"].as_array().unwrap()
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn every_action_is_named_and_every_statement_has_a_unique_alphanumeric_sid() {
    let policy = example();
    assert_eq!(wildcard_actions(&policy), Vec::<String>::new());
    assert_eq!(statements_without_sid(&policy), 0);
    let mut sids: Vec<&str> = statements(&policy)
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    for sid in &sids {
        // IAM accepts only A-Z, a-z and 0-9 in an identity policy's Sid.
        assert!(sid.bytes().all(|b| b.is_ascii_alphanumeric()), "{sid}");
    }
    let count = sids.len();
    sids.sort_unstable();
    sids.dedup();
    assert_eq!(sids.len(), count, "duplicate Sid");
    for statement in statements(&policy) {
        assert_eq!(statement["Effect"], "Allow");
        for action in strings(&statement["Action"]) {
            let (service, name) = action.split_once(':').unwrap();
            assert!(!service.is_empty() && name.starts_with(|c: char| c.is_ascii_uppercase()));
        }
        assert!(statement.get("NotAction").is_none() && statement.get("NotResource").is_none());
    }
}

#[test]
fn resource_star_only_in_the_statements_that_cannot_be_scoped() {
    let policy = example();
    for statement in statements(&policy) {
        let sid = statement["Sid"].as_str().unwrap();
        let resources = strings(&statement["Resource"]);
        let star = resources.contains(&"*");
        assert_eq!(star, UNSCOPABLE_SIDS.contains(&sid), "{sid}: {resources:?}");
        if star {
            assert_eq!(resources, ["*"], "{sid}");
        }
    }
    for sid in UNSCOPABLE_SIDS {
        assert!(
            statements(&policy).iter().any(|s| s["Sid"] == sid),
            "{sid} is not in the policy"
        );
    }
}

#[test]
fn every_scoped_resource_is_a_run_name_or_the_mailbox_in_the_account_and_region() {
    let policy = example();
    for statement in statements(&policy) {
        for arn in strings(&statement["Resource"]) {
            if arn == "*" {
                continue;
            }
            let fields: Vec<&str> = arn.splitn(6, ':').collect();
            let [_, partition, service, region, account, resource] = fields[..] else {
                panic!("not an ARN: {arn}");
            };
            assert_eq!(partition, "aws");
            let (want_region, want_account) = match service {
                "s3" => ("", ""),
                "iam" => ("", "111122223333"),
                _ => ("eu-west-1", "111122223333"),
            };
            assert_eq!((region, account), (want_region, want_account), "{arn}");
            // Only `?` of a run id, the `*` of a key id, of a bucket's objects or of the mail
            // prefix, and the `:*` of a log group's streams.
            let scoped = resource.contains(RUN_GLOB)
                || resource == "key/*"
                || resource.starts_with("mail-example-com");
            assert!(scoped, "{arn} is not scoped to our names");
            if resource.contains(RUN_GLOB) {
                let rest = resource.replacen(RUN_GLOB, "", 1);
                assert!(!rest.contains('?'), "{arn}");
                assert!(
                    !rest.contains('*') || rest.ends_with("/*") || rest.ends_with(":*"),
                    "{arn}"
                );
            }
        }
    }
    // The key statement is scoped by the tag instead of a name.
    let keys = statements(&policy)
        .iter()
        .find(|s| s["Sid"] == "KeysTaggedAsOurs")
        .unwrap();
    assert_eq!(
        keys["Condition"]["StringEquals"]["aws:ResourceTag/managed-by"],
        "upload-harness"
    );
}

#[test]
fn the_run_glob_matches_every_name_of_a_run_and_is_one_run_id_long() {
    let names = StackNames::with_default_prefix(&RunId::from_seed(9));
    assert_eq!(RUN_GLOB.len(), format!("upl-{}", names.run_id).len());
    let params = RunnerParams::new("aws", "eu-west-1", "1", "m", "");
    assert_eq!(params.run_glob(), RUN_GLOB);
    for (_, name) in names.all() {
        let stem = name
            .trim_start_matches("alias/")
            .trim_start_matches("/aws/lambda/");
        assert!(stem.starts_with(&format!("upl-{}", names.run_id)), "{name}");
    }
}

#[test]
fn creates_and_tags_need_both_run_tags_and_no_other() {
    let policy = example();
    for sid in [
        "CreateKeyHasNoArnYetSoOnlyWithOurTags",
        "CreateAndTagOnlyWithOurTags",
    ] {
        let statement = statements(&policy)
            .iter()
            .find(|s| s["Sid"] == sid)
            .unwrap();
        let condition = &statement["Condition"];
        assert_eq!(
            condition["StringEquals"]["aws:RequestTag/managed-by"],
            "upload-harness"
        );
        assert_eq!(condition["Null"]["aws:RequestTag/harness-run"], "false");
        assert_eq!(
            condition["ForAllValues:StringEquals"]["aws:TagKeys"],
            json!(["harness-run", "managed-by", "harness-region"])
        );
    }
}

#[test]
fn the_mailbox_is_read_only_under_its_prefix() {
    let policy = example();
    let mailbox: Vec<&Value> = statements(&policy)
        .iter()
        .filter(|s| {
            strings(&s["Resource"])
                .iter()
                .any(|r| r.contains("mail-example-com"))
        })
        .collect();
    assert_eq!(mailbox.len(), 2);
    let actions: Vec<&str> = mailbox.iter().flat_map(|s| strings(&s["Action"])).collect();
    assert_eq!(actions, ["s3:ListBucket", "s3:GetObject"]);
    assert_eq!(
        mailbox[0]["Condition"]["StringLike"]["s3:prefix"],
        json!(["inbound/*"])
    );
    assert_eq!(
        strings(&mailbox[1]["Resource"]),
        ["arn:aws:s3:::mail-example-com/inbound/*"]
    );
}

#[test]
fn the_policy_fits_in_an_inline_role_policy() {
    // IAM's limit for all inline policies of a role together, whitespace not counted.
    let text = example().to_string();
    assert!(text.len() < 10_240, "{} characters", text.len());
    let template = runner_policy(&RunnerParams::cloudformation()).to_string();
    assert!(template.len() < 10_240, "{} characters", template.len());
}

fn oidc(ids: bool, git_ref: GitHubRef) -> GitHubOidc {
    GitHubOidc {
        provider_arn: github_oidc_provider_arn("aws", "111122223333"),
        owner: "octo-org".into(),
        repository: "upload-harness".into(),
        ids: ids.then(|| ("1342004".into(), "998877".into())),
        git_ref,
    }
}

#[test]
fn the_trust_policy_admits_one_repository_and_ref_with_the_sts_audience() {
    let policy = github_oidc_trust_policy(&oidc(false, GitHubRef::Branch("main".into())));
    assert_eq!(statements_without_sid(&policy), 0);
    let statement = &statements(&policy)[0];
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    assert_eq!(
        statement["Principal"]["Federated"],
        "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
    );
    let condition = statement["Condition"].as_object().unwrap();
    assert_eq!(
        condition.keys().collect::<Vec<_>>(),
        ["StringEquals"],
        "no StringLike: no wildcard subject"
    );
    assert_eq!(
        condition["StringEquals"]["token.actions.githubusercontent.com:aud"],
        "sts.amazonaws.com"
    );
    assert_eq!(
        condition["StringEquals"]["token.actions.githubusercontent.com:sub"],
        json!(["repo:octo-org/upload-harness:ref:refs/heads/main"])
    );
}

#[test]
fn the_immutable_subject_form_is_accepted_with_the_ids() {
    let github = oidc(true, GitHubRef::Environment("aws-sandbox".into()));
    assert_eq!(
        github.subjects(),
        [
            "repo:octo-org/upload-harness:environment:aws-sandbox",
            "repo:octo-org@1342004/upload-harness@998877:environment:aws-sandbox",
        ]
    );
    for subject in github.subjects() {
        assert!(!subject.contains('*') && !subject.contains('?'));
    }
}

/// Every `${NAME}` in the template names a parameter or a pseudo parameter.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            let mut rest = s.as_str();
            while let Some(at) = rest.find("${") {
                let tail = &rest[at + 2..];
                let end = tail.find('}').unwrap();
                found.push(tail[..end].to_owned());
                rest = &tail[end..];
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        Value::Object(map) => map.values().for_each(|v| references(v, found)),
        _ => {}
    }
}

#[test]
fn the_template_substitutes_only_its_parameters_and_pseudo_parameters() {
    let template = runner_role_template();
    let parameters = template["Parameters"].as_object().unwrap();
    let mut found = Vec::new();
    references(&template, &mut found);
    assert!(found.len() > 20);
    for name in &found {
        assert!(
            parameters.contains_key(name)
                || ["AWS::Partition", "AWS::AccountId", "AWS::URLSuffix"].contains(&name.as_str()),
            "${{{name}}}"
        );
    }
    // Every string with a reference is substituted.
    fn unsubstituted(value: &Value, inside_sub: bool) -> bool {
        match value {
            Value::String(s) => s.contains("${") && !inside_sub,
            Value::Array(items) => items.iter().any(|v| unsubstituted(v, inside_sub)),
            Value::Object(map) => map
                .iter()
                .any(|(k, v)| unsubstituted(v, inside_sub || k == "Fn::Sub")),
            _ => false,
        }
    }
    assert!(!unsubstituted(&template, false));
    // The role's inline policy is the runner policy.
    let inline =
        &template["Resources"]["RunnerRole"]["Properties"]["Policies"][0]["PolicyDocument"];
    assert_eq!(
        statements(inline).len(),
        statements(&example()).len(),
        "{inline}"
    );
    assert_eq!(wildcard_actions(inline), Vec::<String>::new());
}

#[test]
fn runner_role_template_is_checked_in() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ci/aws/runner-role.json");
    let wanted = runner_role_template_text();
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current == wanted {
        return;
    }
    if std::env::var_os("HARNESS_BLESS").is_some() {
        std::fs::write(&path, wanted).unwrap();
        return;
    }
    panic!(
        "ci/aws/runner-role.json is out of date with stack::runner; run \
         `HARNESS_BLESS=1 cargo test -p harness-core --lib runner_role_template` to regenerate it"
    );
}
