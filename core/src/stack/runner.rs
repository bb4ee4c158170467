//! The identity policy of whoever runs the harness on AWS, and the trust policy of a sandbox
//! role that GitHub Actions assumes through OIDC to do so (the nightly).
//!
//! Least privilege for the runner as for the stack: every action is named (no `*`, no
//! `service:*`); every resource is an ARN pattern of the `upl-` names ([`RUN_GLOB`]: the
//! prefix, `h` and ten `?`, exactly a run id), and where the name cannot scope (a KMS key's id
//! is random) the run tags do (`aws:ResourceTag`, and `aws:RequestTag` on every call that
//! creates or tags). `Resource: "*"` only appears in the statements of [`UNSCOPABLE_SIDS`],
//! for calls IAM has no resource for (listings, `sts:GetCallerIdentity`, calls on an SNS
//! subscription, creating a key), each Sid saying why.
//!
//! The e2e trial `requests::the_runner_policy_allows_exactly_the_recorded_aws_calls` proves it
//! against the requests the `--target aws` paths send; [`runner_role_template`] is the
//! CloudFormation template of the sandbox role (`ci/aws/runner-role.json`). Pure: no I/O.

use serde_json::{Value, json};

use super::names::{DEFAULT_PREFIX, TAG_KEY, TAG_MANAGED_BY};
use super::run_id::RUN_ID_LEN;

const VERSION: &str = "2012-10-17";

/// GitHub's OIDC provider, as IAM names it (the issuer without `https://`).
pub const GITHUB_OIDC_PROVIDER: &str = "token.actions.githubusercontent.com";
/// The audience GitHub's `aws-actions/configure-aws-credentials` asks tokens for.
pub const GITHUB_OIDC_AUDIENCE: &str = "sts.amazonaws.com";

/// The statements whose `Resource` is `*`, and only those: IAM has no resource to scope them.
pub const UNSCOPABLE_SIDS: [&str; 4] = [
    "CallerIdentityHasNoResource",
    "ListingsForGcHaveNoResource",
    "SubscriptionCallsHaveNoResourceType",
    "CreateKeyHasNoArnYetSoOnlyWithOurTags",
];

/// Actions in the policy that no request of the harness is authorised as, because a service
/// calls them with the runner's credentials on its behalf (S3, SQS and SNS use the stack's key
/// for the runner's uploads, reads and publishes). The e2e proof excuses exactly these.
pub const CALLED_BY_SERVICES: [&str; 2] = ["kms:Decrypt", "kms:GenerateDataKey"];

/// Where the runner works. Each field is either a value (`aws`, `eu-west-1`, ...) or a
/// CloudFormation `${...}` reference ([`RunnerParams::cloudformation`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerParams {
    pub partition: String,
    pub account_id: String,
    /// The region the harness deploys its stacks in.
    pub region: String,
    /// `amazonaws.com` (`amazonaws.com.cn` in China), for `kms:ViaService`.
    pub url_suffix: String,
    /// The name prefix ([`DEFAULT_PREFIX`]).
    pub prefix: String,
    /// The S3 mailbox (`--mailbox-bucket`) and the prefix its mails are under.
    pub mailbox_bucket: String,
    pub mailbox_prefix: String,
}

impl RunnerParams {
    /// A runner in `partition`/`region`/`account_id` with the default prefix.
    pub fn new(
        partition: &str,
        region: &str,
        account_id: &str,
        mailbox_bucket: &str,
        mailbox_prefix: &str,
    ) -> Self {
        let url_suffix = if partition == "aws-cn" {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        Self {
            partition: partition.to_owned(),
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            url_suffix: url_suffix.to_owned(),
            prefix: DEFAULT_PREFIX.to_owned(),
            mailbox_bucket: mailbox_bucket.to_owned(),
            mailbox_prefix: mailbox_prefix.to_owned(),
        }
    }

    /// The parameters as references into the template of [`runner_role_template`].
    pub fn cloudformation() -> Self {
        Self {
            partition: "${AWS::Partition}".into(),
            account_id: "${AWS::AccountId}".into(),
            region: "${HarnessRegion}".into(),
            url_suffix: "${AWS::URLSuffix}".into(),
            prefix: DEFAULT_PREFIX.into(),
            mailbox_bucket: "${MailboxBucket}".into(),
            mailbox_prefix: "${MailboxPrefix}".into(),
        }
    }

    fn regional(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition, self.region, self.account_id
        )
    }

    fn bucket(&self, name: &str) -> String {
        format!("arn:{}:s3:::{name}", self.partition)
    }

    /// `<prefix>-h??????????`: the stem of every name of every run, and nothing else.
    fn run_glob(&self) -> String {
        format!("{}-h{}", self.prefix, "?".repeat(RUN_ID_LEN - 1))
    }
}

/// The stem of every run's names under the default prefix: `upl-h??????????` (IAM's `?` is
/// one character, so this is exactly a run id).
pub const RUN_GLOB: &str = "upl-h??????????";

/// Conditions on a call that creates or tags: both of our tags, and no other tag key.
fn request_tags() -> Value {
    json!({
        "StringEquals": { format!("aws:RequestTag/{}", TAG_MANAGED_BY.0): TAG_MANAGED_BY.1 },
        "Null": { format!("aws:RequestTag/{TAG_KEY}"): "false" },
        "ForAllValues:StringEquals": { "aws:TagKeys": [TAG_KEY, TAG_MANAGED_BY.0, super::names::TAG_REGION] }
    })
}

/// The condition that a resource carries our `managed-by` tag.
fn resource_tagged_ours() -> Value {
    json!({
        "StringEquals": { format!("aws:ResourceTag/{}", TAG_MANAGED_BY.0): TAG_MANAGED_BY.1 }
    })
}

fn statement(sid: &str, actions: &[&str], resources: Vec<String>) -> Value {
    json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources })
}

fn with_condition(mut statement: Value, condition: Value) -> Value {
    statement["Condition"] = condition;
    statement
}

fn unscoped(sid: &str, actions: &[&str]) -> Value {
    json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": "*" })
}

/// The identity policy of whoever runs the harness: deploy, read back, run, chaos, bench,
/// teardown, gc and the S3 mailbox, and nothing else.
pub fn runner_policy(p: &RunnerParams) -> Value {
    let run = p.run_glob();
    let buckets: Vec<String> = ["uploads", "baseline", "mismatch"]
        .iter()
        .map(|role| p.bucket(&format!("{run}-{role}")))
        .collect();
    let objects: Vec<String> = buckets.iter().map(|b| format!("{b}/*")).collect();
    // The stack's two topics, and the `fifo-missing-group-id` scenario's probe topic.
    let topics = vec![
        p.regional("sns", &format!("{run}-notify")),
        p.regional("sns", &format!("{run}-events.fifo")),
        p.regional("sns", &format!("{run}-probe.fifo")),
    ];
    let queues = vec![
        p.regional("sqs", &format!("{run}-queue.fifo")),
        p.regional("sqs", &format!("{run}-failures")),
    ];
    let function = vec![p.regional("lambda", &format!("function:{run}-fn"))];
    let role = vec![format!(
        "arn:{}:iam::{}:role/{run}-role",
        p.partition, p.account_id
    )];
    // Both forms: most Logs actions are authorised on `...:NAME:*`, tagging on `...:NAME`.
    let log_group = p.regional("logs", &format!("log-group:/aws/lambda/{run}-fn"));
    let log_groups = vec![log_group.clone(), format!("{log_group}:*")];
    let keys = vec![p.regional("kms", "key/*")];
    let via = |service: &str| format!("{service}.{}.{}", p.region, p.url_suffix);
    let created: Vec<String> = [&topics, &queues, &function, &role, &log_groups]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    json!({
        "Version": VERSION,
        "Statement": [
            // Answers for any identity (an explicit deny cannot even stop it); listed so the
            // policy names every call the harness makes.
            unscoped("CallerIdentityHasNoResource", &["sts:GetCallerIdentity"]),
            // gc finds crashed runs by listing; IAM has no resource for a listing.
            unscoped("ListingsForGcHaveNoResource", &[
                "iam:ListRoles",
                "kms:ListAliases",
                "lambda:ListFunctions",
                "logs:DescribeLogGroups",
                "s3:ListAllMyBuckets",
                "sns:ListTopics",
                "sqs:ListQueues",
            ]),
            // IAM has no resource type for an SNS subscription: teardown and chaos unsubscribe,
            // the deploy reads whether the email subscription is pending.
            unscoped("SubscriptionCallsHaveNoResourceType", &[
                "sns:GetSubscriptionAttributes",
                "sns:Unsubscribe",
            ]),
            // A new key has no ARN to scope to: only a key tagged as ours may be created, and
            // tagging at creation needs kms:TagResource on every key.
            with_condition(
                unscoped("CreateKeyHasNoArnYetSoOnlyWithOurTags", &["kms:CreateKey", "kms:TagResource"]),
                request_tags(),
            ),
            // A key's id is random: the key is ours by its tag, the alias by its name.
            with_condition(
                statement("KeysTaggedAsOurs", &[
                    "kms:CreateAlias",
                    "kms:DeleteAlias",
                    "kms:DescribeKey",
                    "kms:DisableKey",
                    "kms:EnableKey",
                    "kms:EnableKeyRotation",
                    "kms:GetKeyPolicy",
                    "kms:ListResourceTags",
                    "kms:PutKeyPolicy",
                    "kms:ScheduleKeyDeletion",
                ], keys.clone()),
                resource_tagged_ours(),
            ),
            statement("AliasesOfOurKeys", &["kms:CreateAlias", "kms:DeleteAlias"],
                vec![p.regional("kms", &format!("alias/{run}-key"))]),
            // S3 and SQS use the key with the runner's credentials for its uploads and reads;
            // never directly. (Only the execution role publishes to the encrypted topics.)
            with_condition(
                statement("UseOurKeysOnlyThroughS3Sqs",
                    &["kms:Decrypt", "kms:GenerateDataKey"], keys),
                json!({
                    "StringEquals": {
                        format!("aws:ResourceTag/{}", TAG_MANAGED_BY.0): TAG_MANAGED_BY.1,
                        "kms:ViaService": [via("s3"), via("sqs")]
                    }
                }),
            ),
            // Every create that can carry tags carries ours (and tagging at creation is
            // authorised as the service's tag action).
            with_condition(
                statement("CreateAndTagOnlyWithOurTags", &[
                    "iam:CreateRole",
                    "iam:TagRole",
                    "lambda:CreateFunction",
                    "lambda:TagResource",
                    "logs:CreateLogGroup",
                    "logs:TagResource",
                    "sns:CreateTopic",
                    "sns:TagResource",
                    "sqs:CreateQueue",
                    "sqs:TagQueue",
                ], created),
                request_tags(),
            ),
            statement("OurExecutionRole", &[
                "iam:DeleteRole",
                "iam:DeleteRolePolicy",
                "iam:GetRolePolicy",
                "iam:ListRoleTags",
                "iam:PutRolePolicy",
            ], role.clone()),
            with_condition(
                statement("PassOurExecutionRoleToLambdaOnly", &["iam:PassRole"], role),
                json!({ "StringEquals": { "iam:PassedToService": "lambda.amazonaws.com" } }),
            ),
            statement("OurFunction", &[
                "lambda:DeleteFunction",
                "lambda:DeleteFunctionConcurrency",
                "lambda:GetFunction",
                "lambda:GetFunctionConfiguration",
                "lambda:GetFunctionEventInvokeConfig",
                "lambda:GetPolicy",
                "lambda:InvokeFunction",
                // GetFunction carries the tags teardown checks only with this.
                "lambda:ListTags",
                "lambda:PutFunctionConcurrency",
                "lambda:PutFunctionEventInvokeConfig",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
            ], function.clone()),
            // Only S3 may be let in (the stack's bucket, and the region-mismatch scenario's).
            with_condition(
                statement("LetOnlyS3InvokeOurFunction", &["lambda:AddPermission"], function),
                json!({ "StringEquals": { "lambda:Principal": "s3.amazonaws.com" } }),
            ),
            statement("OurLogGroup", &[
                "logs:DeleteLogGroup",
                "logs:FilterLogEvents",
                "logs:ListTagsForResource",
            ], log_groups),
            statement("OurTopics", &[
                "sns:ConfirmSubscription",
                "sns:DeleteTopic",
                "sns:GetTopicAttributes",
                "sns:ListSubscriptionsByTopic",
                "sns:ListTagsForResource",
                "sns:Publish",
                "sns:Subscribe",
            ], topics),
            statement("OurQueues", &[
                "sqs:DeleteMessage",
                "sqs:DeleteQueue",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:ListQueueTags",
                "sqs:ReceiveMessage",
                "sqs:SetQueueAttributes",
            ], queues),
            // The upload bucket, the bench's baseline and the region-mismatch scenario's bucket.
            statement("OurBuckets", &[
                "s3:CreateBucket",
                "s3:DeleteBucket",
                "s3:GetBucketNotification",
                "s3:GetBucketOwnershipControls",
                "s3:GetBucketPolicy",
                "s3:GetBucketPublicAccessBlock",
                "s3:GetBucketTagging",
                "s3:GetBucketVersioning",
                "s3:GetEncryptionConfiguration",
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:PutBucketNotification",
                "s3:PutBucketOwnershipControls",
                "s3:PutBucketPolicy",
                "s3:PutBucketPublicAccessBlock",
                "s3:PutBucketTagging",
                "s3:PutBucketVersioning",
                "s3:PutEncryptionConfiguration",
            ], buckets),
            statement("ObjectsInOurBuckets", &[
                "s3:DeleteObjectVersion",
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:PutObject",
            ], objects),
            // The S3 mailbox is the user's bucket: only its mail prefix is listed and read.
            with_condition(
                statement("ListTheMailboxPrefix", &["s3:ListBucket"],
                    vec![p.bucket(&p.mailbox_bucket)]),
                json!({ "StringLike": { "s3:prefix": [format!("{}*", p.mailbox_prefix)] } }),
            ),
            statement("ReadTheMailboxPrefix", &["s3:GetObject"],
                vec![format!("{}/{}*", p.bucket(&p.mailbox_bucket), p.mailbox_prefix)]),
        ]
    })
}

/// Which workflow runs of the repository may assume the role: a branch or an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitHubRef {
    /// `ref:refs/heads/BRANCH`
    Branch(String),
    /// `environment:NAME` (a job with `environment: NAME`)
    Environment(String),
}

impl GitHubRef {
    fn subject_context(&self) -> String {
        match self {
            Self::Branch(branch) => format!("ref:refs/heads/{branch}"),
            Self::Environment(name) => format!("environment:{name}"),
        }
    }
}

/// The one repository (and branch or environment) whose GitHub Actions may assume the role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubOidc {
    /// `arn:aws:iam::ACCOUNT:oidc-provider/token.actions.githubusercontent.com`
    pub provider_arn: String,
    pub owner: String,
    pub repository: String,
    /// The numeric owner and repository ids, for the immutable `sub` form that survives a
    /// rename (and a new repository of the same name never matches).
    pub ids: Option<(String, String)>,
    pub git_ref: GitHubRef,
}

impl GitHubOidc {
    /// The `sub` values accepted: `repo:OWNER/REPO:CONTEXT`, and with the ids also
    /// `repo:OWNER@OWNER_ID/REPO@REPO_ID:CONTEXT`.
    pub fn subjects(&self) -> Vec<String> {
        let context = self.git_ref.subject_context();
        let mut subjects = vec![format!("repo:{}/{}:{context}", self.owner, self.repository)];
        if let Some((owner_id, repo_id)) = &self.ids {
            subjects.push(format!(
                "repo:{}@{owner_id}/{}@{repo_id}:{context}",
                self.owner, self.repository
            ));
        }
        subjects
    }
}

/// The provider's ARN in an account.
pub fn github_oidc_provider_arn(partition: &str, account_id: &str) -> String {
    format!("arn:{partition}:iam::{account_id}:oidc-provider/{GITHUB_OIDC_PROVIDER}")
}

/// The statement of the trust policy, with `subjects` as given (a list, or a template's
/// `Fn::If`).
fn trust_statement(provider: Value, subjects: Value) -> Value {
    json!({
        "Sid": "GitHubActionsOfOneRepositoryAndRef",
        "Effect": "Allow",
        "Principal": { "Federated": provider },
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {
                format!("{GITHUB_OIDC_PROVIDER}:aud"): GITHUB_OIDC_AUDIENCE,
                format!("{GITHUB_OIDC_PROVIDER}:sub"): subjects
            }
        }
    })
}

/// The trust policy of the sandbox role: GitHub's OIDC tokens for `github`'s repository and
/// ref only, with the audience `sts.amazonaws.com`. `StringEquals` (no `StringLike`): no
/// wildcard in `sub`, so no other branch, environment, pull request or repository matches.
pub fn github_oidc_trust_policy(github: &GitHubOidc) -> Value {
    json!({
        "Version": VERSION,
        "Statement": [trust_statement(json!(github.provider_arn), json!(github.subjects()))]
    })
}

/// Every string holding a `${...}` reference becomes `{"Fn::Sub": string}`.
fn substituted(value: Value) -> Value {
    match value {
        Value::String(s) if s.contains("${") => json!({ "Fn::Sub": s }),
        Value::Array(items) => Value::Array(items.into_iter().map(substituted).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, substituted(v))).collect())
        }
        other => other,
    }
}

/// The CloudFormation template (JSON) of the sandbox role the nightly assumes: GitHub's OIDC
/// provider (created, or an existing one's ARN), the role trusting one repository and one
/// branch or environment, and [`runner_policy`] inline for the account, `HarnessRegion` and
/// the S3 mailbox. Kept in `ci/aws/runner-role.json` by a test.
pub fn runner_role_template() -> Value {
    let legacy = "repo:${GitHubOwner}/${GitHubRepository}:${GitHubSubjectContext}";
    let immutable = "repo:${GitHubOwner}@${GitHubOwnerId}/${GitHubRepository}@${GitHubRepositoryId}:${GitHubSubjectContext}";
    let subjects = json!({ "Fn::If": [
        "HasGitHubIds",
        [{ "Fn::Sub": legacy }, { "Fn::Sub": immutable }],
        [{ "Fn::Sub": legacy }]
    ]});
    let provider = json!({ "Fn::If": [
        "CreateOidcProvider",
        { "Ref": "GitHubOidcProvider" },
        { "Ref": "ExistingOidcProviderArn" }
    ]});
    let trust = json!({
        "Version": VERSION,
        "Statement": [trust_statement(provider, subjects)]
    });
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "upload-harness: the sandbox role GitHub Actions assumes through OIDC to run the harness on AWS (generated by harness-core's stack::runner; do not edit, run `HARNESS_BLESS=1 cargo test -p harness-core --lib runner_role_template`)",
        "Parameters": {
            "GitHubOwner": {
                "Type": "String",
                "Description": "The repository's owner (user or organisation), as in github.com/OWNER/REPO",
                "AllowedPattern": "^[A-Za-z0-9][A-Za-z0-9-]*$"
            },
            "GitHubRepository": {
                "Type": "String",
                "Description": "The repository's name",
                "AllowedPattern": "^[A-Za-z0-9_.-]+$"
            },
            "GitHubOwnerId": {
                "Type": "String",
                "Default": "",
                "Description": "The owner's numeric id, for the immutable sub form repo:OWNER@ID/REPO@ID:...; empty to accept the name form only",
                "AllowedPattern": "^[0-9]*$"
            },
            "GitHubRepositoryId": {
                "Type": "String",
                "Default": "",
                "Description": "The repository's numeric id (with GitHubOwnerId)",
                "AllowedPattern": "^[0-9]*$"
            },
            "GitHubSubjectContext": {
                "Type": "String",
                "Default": "environment:aws-sandbox",
                "Description": "Which runs may assume the role: environment:NAME (a job's environment) or ref:refs/heads/BRANCH",
                "AllowedPattern": "^(environment:[A-Za-z0-9_.-]+|ref:refs/heads/[A-Za-z0-9_./-]+)$"
            },
            "ExistingOidcProviderArn": {
                "Type": "String",
                "Default": "",
                "Description": "The ARN of the account's GitHub OIDC provider if it has one (an account has at most one per URL); empty to create it",
                "AllowedPattern": "^(arn:[a-z-]+:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com)?$"
            },
            "HarnessRegion": {
                "Type": "String",
                "Description": "The region the harness deploys its stacks in (--region)",
                "AllowedPattern": "^[a-z]{2}(-[a-z]+)+-[0-9]$"
            },
            "MailboxBucket": {
                "Type": "String",
                "Description": "The S3 mailbox (--mailbox-bucket): the bucket an SES receipt rule stores the alert mails in",
                "AllowedPattern": "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
            },
            "MailboxPrefix": {
                "Type": "String",
                "Default": "",
                "Description": "The key prefix the mails are stored under (--mailbox-prefix)",
                "AllowedPattern": "^[A-Za-z0-9!_.()/-]*$"
            },
            "MaxSessionSeconds": {
                "Type": "Number",
                "Default": 21600,
                "MinValue": 3600,
                "MaxValue": 43200,
                "Description": "How long one assumed session may last, in seconds: at least the nightly workflow's role-duration-seconds (21600, the whole job)"
            }
        },
        "Conditions": {
            "CreateOidcProvider": { "Fn::Equals": [{ "Ref": "ExistingOidcProviderArn" }, ""] },
            "HasGitHubIds": { "Fn::Not": [{ "Fn::Or": [
                { "Fn::Equals": [{ "Ref": "GitHubOwnerId" }, ""] },
                { "Fn::Equals": [{ "Ref": "GitHubRepositoryId" }, ""] }
            ]}]}
        },
        "Resources": {
            "GitHubOidcProvider": {
                "Type": "AWS::IAM::OIDCProvider",
                "Condition": "CreateOidcProvider",
                "Properties": {
                    "Url": format!("https://{GITHUB_OIDC_PROVIDER}"),
                    "ClientIdList": [GITHUB_OIDC_AUDIENCE]
                }
            },
            "RunnerRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Description": "upload-harness runner: deploy, read back, run, chaos, bench, teardown, gc and the S3 mailbox, upl- resources only",
                    "AssumeRolePolicyDocument": trust,
                    "MaxSessionDuration": { "Ref": "MaxSessionSeconds" },
                    "Policies": [{
                        "PolicyName": "upload-harness-runner",
                        "PolicyDocument": substituted(runner_policy(&RunnerParams::cloudformation()))
                    }],
                    "Tags": [{ "Key": TAG_MANAGED_BY.0, "Value": TAG_MANAGED_BY.1 }]
                }
            }
        },
        "Outputs": {
            "RoleArn": {
                "Description": "role-to-assume for aws-actions/configure-aws-credentials",
                "Value": { "Fn::GetAtt": ["RunnerRole", "Arn"] }
            }
        }
    })
}

/// [`runner_role_template`] as the text of `ci/aws/runner-role.json`: pretty, keys sorted (so
/// the text does not depend on serde_json's `preserve_order`), with a final newline.
pub fn runner_role_template_text() -> String {
    let pretty = serde_json::to_string_pretty(&sorted(runner_role_template())).unwrap_or_default();
    format!("{pretty}\n")
}

fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests;
