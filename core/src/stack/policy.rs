//! The ARNs of one stack and every policy document a deploy puts on it.
//!
//! Least privilege is the point of the secure deploy, so the documents are built here as pure
//! values, asserted exactly in tests, and checked ([`wildcard_actions`],
//! [`has_wildcard_resource`]) both here and by the deploy's verification against what AWS
//! reports back.

use serde_json::{Value, json};

use super::names::StackNames;

const VERSION: &str = "2012-10-17";

/// Where the stack lives and the ARN of each of its resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackArns {
    pub partition: String,
    pub region: String,
    pub account_id: String,
    /// `arn:aws:s3:::BUCKET`
    pub bucket: String,
    /// `arn:aws:kms:REGION:ACCOUNT:key/KEY_ID`
    pub key: String,
    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME`
    pub function: String,
    /// `arn:aws:iam::ACCOUNT:role/NAME`
    pub role: String,
    /// `arn:aws:sns:REGION:ACCOUNT:NAME`
    pub standard_topic: String,
    pub fifo_topic: String,
    /// `arn:aws:sqs:REGION:ACCOUNT:NAME`
    pub fifo_queue: String,
    pub failure_queue: String,
    /// `arn:aws:logs:REGION:ACCOUNT:log-group:/aws/lambda/NAME:*` (the `:*` form IAM wants
    /// for the log-stream actions).
    pub log_group: String,
}

impl StackArns {
    /// The ARNs of `names` in `partition` (`aws`, `aws-cn`, ...), `region` and `account_id`;
    /// `key_id` is the KMS `KeyId` (a key ARN is accepted too: its id is taken from it).
    pub fn new(
        partition: &str,
        region: &str,
        account_id: &str,
        names: &StackNames,
        key_id: &str,
    ) -> Self {
        let key_id = key_id.rsplit("key/").next().unwrap_or(key_id);
        let regional = |service: &str, resource: &str| {
            format!("arn:{partition}:{service}:{region}:{account_id}:{resource}")
        };
        Self {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account_id: account_id.to_owned(),
            bucket: format!("arn:{partition}:s3:::{}", names.bucket),
            key: regional("kms", &format!("key/{key_id}")),
            function: regional("lambda", &format!("function:{}", names.function)),
            role: format!("arn:{partition}:iam::{account_id}:role/{}", names.role),
            standard_topic: regional("sns", &names.standard_topic),
            fifo_topic: regional("sns", &names.fifo_topic),
            fifo_queue: regional("sqs", &names.fifo_queue),
            failure_queue: regional("sqs", &names.failure_queue),
            log_group: regional("logs", &format!("log-group:{}:*", names.log_group)),
        }
    }

    /// `arn:aws:s3:::BUCKET/*`: every object in the bucket.
    pub fn bucket_objects(&self) -> String {
        format!("{}/*", self.bucket)
    }

    /// The account's root principal, `arn:aws:iam::ACCOUNT:root`: the usual key administrator,
    /// which hands the decision to the account's IAM policies.
    pub fn account_root(&self) -> String {
        format!("arn:{}:iam::{}:root", self.partition, self.account_id)
    }

    /// `SERVICE.REGION.amazonaws.com` (`.com.cn` in China), as `kms:ViaService` wants it.
    pub fn via_service(&self, service: &str) -> String {
        let suffix = if self.partition == "aws-cn" {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        format!("{service}.{}.{suffix}", self.region)
    }
}

/// Who may assume the execution role: Lambda, only on behalf of this account.
pub fn execution_role_trust_policy(arns: &StackArns) -> Value {
    json!({
        "Version": VERSION,
        "Statement": [{
            "Sid": "LambdaAssumesRoleForThisAccount",
            "Effect": "Allow",
            "Principal": { "Service": "lambda.amazonaws.com" },
            "Action": "sts:AssumeRole",
            "Condition": { "StringEquals": { "aws:SourceAccount": arns.account_id } }
        }]
    })
}

/// The execution role's inline policy: exactly the calls the handler (and Lambda on its
/// behalf) makes, each on its own resource.
pub fn execution_role_policy(arns: &StackArns) -> Value {
    json!({
        "Version": VERSION,
        "Statement": [
            {
                // HeadObject is authorised as s3:GetObject; the handler passes the event's
                // VersionId (the bucket is versioned), which is authorised as
                // s3:GetObjectVersion.
                "Sid": "HeadUploadedObjects",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": [arns.bucket_objects()]
            },
            {
                // Without s3:ListBucket S3 answers 403 instead of 404 for a missing object, so
                // the handler could not tell "deleted before processing" (skipped) from "not
                // allowed" (a failure). Only on this bucket, and it lists nothing else.
                "Sid": "TellMissingObjectsApart",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [arns.bucket]
            },
            {
                // HeadObject on an SSE-KMS object does not call KMS, but a GetObject would,
                // and without it a future read fails with a confusing AccessDenied. Scoped to
                // calls S3 makes for us, so the role cannot decrypt anything directly.
                "Sid": "DecryptUploadedObjectsViaS3",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [arns.key],
                "Condition": { "StringEquals": { "kms:ViaService": arns.via_service("s3") } }
            },
            {
                "Sid": "PublishToPipelineTopics",
                "Effect": "Allow",
                "Action": ["sns:Publish"],
                "Resource": [arns.standard_topic, arns.fifo_topic]
            },
            {
                // Both topics are encrypted with the stack's key: SNS calls KMS with the
                // publisher's credentials, so a publish needs a data key and its decryption,
                // only through SNS and only for our topics (SNS's encryption context).
                "Sid": "EncryptAlertsViaSns",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": [arns.key],
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": arns.via_service("sns"),
                        "kms:EncryptionContext:aws:sns:topicArn": [arns.standard_topic, arns.fifo_topic]
                    }
                }
            },
            {
                // Lambda sends the async on-failure record with the execution role. The
                // failure queue uses SSE-SQS, so no KMS permission is needed for it.
                "Sid": "SendFailedInvocationsToFailureQueue",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": [arns.failure_queue]
            },
            {
                // The deploy creates the log group, so no logs:CreateLogGroup.
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [arns.log_group]
            }
        ]
    })
}

/// Administration actions for the key's administrator, listed one by one (no `kms:*`):
/// enough to manage, tag, re-policy and delete the key, none to use it for data.
/// `kms:PutKeyPolicy` is in it, which AWS's lockout check requires of the caller.
pub const KEY_ADMIN_ACTIONS: [&str; 21] = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
];

/// The key policy. `admin_principal_arn` is usually [`StackArns::account_root`] (then the
/// account's IAM policies decide who administers and who uploads) or the deployer's role.
/// `Resource` is `*` in a key policy by definition: it means "this key".
///
/// The execution role must exist before this policy is put (KMS rejects unknown
/// principals), so a deploy creates the key with the default policy and puts this one after
/// `iam:CreateRole`.
pub fn key_policy(arns: &StackArns, admin_principal_arn: &str) -> Value {
    let s3_context = json!([arns.bucket, arns.bucket_objects()]);
    json!({
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "KeyAdministration",
                "Effect": "Allow",
                "Principal": { "AWS": admin_principal_arn },
                "Action": KEY_ADMIN_ACTIONS,
                "Resource": "*"
            },
            {
                // Grants only for AWS services acting for the account (as S3 and SQS do),
                // never to an arbitrary principal.
                "Sid": "GrantsOnlyForAwsResources",
                "Effect": "Allow",
                "Principal": { "AWS": admin_principal_arn },
                "Action": ["kms:CreateGrant"],
                "Resource": "*",
                "Condition": { "Bool": { "kms:GrantIsForAWSResource": "true" } }
            },
            {
                // Uploads and reads through S3 (SSE-KMS with a Bucket Key). S3 calls KMS with
                // the caller's credentials; its encryption context is the bucket ARN with a
                // Bucket Key and the object ARN without one.
                "Sid": "UseForUploadsViaS3",
                "Effect": "Allow",
                "Principal": { "AWS": admin_principal_arn },
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": arns.via_service("s3"),
                        "kms:CallerAccount": arns.account_id
                    },
                    "StringLike": { "kms:EncryptionContext:aws:s3:arn": s3_context }
                }
            },
            {
                "Sid": "ExecutionRoleDecryptsViaS3",
                "Effect": "Allow",
                "Principal": { "AWS": arns.role },
                "Action": ["kms:Decrypt"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": arns.via_service("s3"),
                        "kms:CallerAccount": arns.account_id
                    },
                    "StringLike": { "kms:EncryptionContext:aws:s3:arn": s3_context }
                }
            },
            {
                // The handler publishes to the encrypted topics; SNS asks KMS for it.
                "Sid": "ExecutionRolePublishesViaSns",
                "Effect": "Allow",
                "Principal": { "AWS": arns.role },
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": arns.via_service("sns"),
                        "kms:CallerAccount": arns.account_id,
                        "kms:EncryptionContext:aws:sns:topicArn": [arns.standard_topic, arns.fifo_topic]
                    }
                }
            },
            {
                // SNS delivers to the SSE-KMS FIFO queue with its own service principal; only
                // our FIFO topic may make it use the key.
                "Sid": "FifoTopicDeliversToEncryptedQueue",
                "Effect": "Allow",
                "Principal": { "Service": "sns.amazonaws.com" },
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {
                    "ArnEquals": { "aws:SourceArn": arns.fifo_topic },
                    "StringEquals": { "aws:SourceAccount": arns.account_id }
                }
            },
            {
                // Reading (and test-sending to) the encrypted FIFO queue: SQS calls KMS with
                // the caller's credentials.
                "Sid": "UseQueueViaSqs",
                "Effect": "Allow",
                "Principal": { "AWS": admin_principal_arn },
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": arns.via_service("sqs"),
                        "kms:CallerAccount": arns.account_id,
                        // This stack's FIFO queue only (SQS's encryption context is the queue
                        // ARN): no other queue of the account may use the key.
                        "kms:EncryptionContext:aws:sqs:arn": arns.fifo_queue
                    }
                }
            }
        ]
    })
}

/// The bucket policy: TLS only, and no upload may ask for any encryption but our key.
///
/// Negated operators (`StringNotEquals`) match when the key is absent, so each header check
/// is paired with `Null: false` ("the header is present"): an upload without encryption
/// headers is allowed and gets the bucket default (SSE-KMS, our key).
pub fn bucket_policy(arns: &StackArns) -> Value {
    let objects = arns.bucket_objects();
    json!({
        "Version": VERSION,
        "Statement": [
            {
                // A Deny, so the `s3:*` grants nothing.
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arns.bucket, objects],
                "Condition": { "Bool": { "aws:SecureTransport": "false" } }
            },
            {
                "Sid": "DenyEncryptionOtherThanKms",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": [objects],
                "Condition": {
                    "StringNotEquals": { "s3:x-amz-server-side-encryption": "aws:kms" },
                    "Null": { "s3:x-amz-server-side-encryption": "false" }
                }
            },
            {
                "Sid": "DenyOtherKmsKeys",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": [objects],
                "Condition": {
                    "StringNotEquals": { "s3:x-amz-server-side-encryption-aws-kms-key-id": arns.key },
                    "Null": { "s3:x-amz-server-side-encryption-aws-kms-key-id": "false" }
                }
            },
            {
                "Sid": "DenyCustomerProvidedKeys",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": [objects],
                "Condition": {
                    "Null": { "s3:x-amz-server-side-encryption-customer-algorithm": "false" }
                }
            }
        ]
    })
}

/// The FIFO queue's policy: only our FIFO topic, through SNS, may send to it.
pub fn queue_policy(arns: &StackArns) -> Value {
    json!({
        "Version": VERSION,
        "Statement": [{
            "Sid": "FifoTopicSendsToQueue",
            "Effect": "Allow",
            "Principal": { "Service": "sns.amazonaws.com" },
            "Action": "sqs:SendMessage",
            "Resource": arns.fifo_queue,
            "Condition": { "ArnEquals": { "aws:SourceArn": arns.fifo_topic } }
        }]
    })
}

/// The standard topic's policy: only the execution role publishes, and it delivers only to the
/// alert address (`email`), so no other principal of the account can send fake alerts or
/// read them by subscribing.
pub fn standard_topic_policy(arns: &StackArns, email: &str) -> Value {
    topic_policy(
        arns,
        &arns.standard_topic,
        json!({
            "Sid": "DeliverOnlyToTheAlertAddress",
            "Effect": "Deny",
            "Principal": { "AWS": "*" },
            "Action": "sns:Subscribe",
            "Resource": arns.standard_topic,
            "Condition": { "StringNotEqualsIgnoreCase": { "sns:Endpoint": email } }
        }),
    )
}

/// The FIFO topic's policy: only the execution role publishes, and it delivers only to the
/// stack's FIFO queue.
pub fn fifo_topic_policy(arns: &StackArns) -> Value {
    topic_policy(
        arns,
        &arns.fifo_topic,
        json!({
            "Sid": "DeliverOnlyToTheQueue",
            "Effect": "Deny",
            "Principal": { "AWS": "*" },
            "Action": "sns:Subscribe",
            "Resource": arns.fifo_topic,
            "Condition": { "StringNotEquals": { "sns:Endpoint": arns.fifo_queue } }
        }),
    )
}

/// A topic policy: the execution role may publish, every other principal is denied publishing
/// (a Deny, because an account's own IAM policies would otherwise be enough), then `delivery`.
/// The role is named in conditions, not as a `Principal`, so a role IAM has not propagated yet
/// cannot make SNS reject the policy.
fn topic_policy(arns: &StackArns, topic: &str, delivery: Value) -> Value {
    json!({
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ExecutionRolePublishes",
                "Effect": "Allow",
                "Principal": { "AWS": arns.account_root() },
                "Action": "sns:Publish",
                "Resource": topic,
                "Condition": { "ArnEquals": { "aws:PrincipalArn": arns.role } }
            },
            {
                "Sid": "NoOtherPublisher",
                "Effect": "Deny",
                "Principal": { "AWS": "*" },
                "Action": "sns:Publish",
                "Resource": topic,
                "Condition": { "ArnNotEquals": { "aws:PrincipalArn": arns.role } }
            },
            delivery
        ]
    })
}

/// The `lambda:AddPermission` parameters that let S3 (only our bucket, only in our account)
/// invoke the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaPermission {
    pub function_name: String,
    pub statement_id: String,
    pub action: &'static str,
    pub principal: &'static str,
    pub source_arn: String,
    pub source_account: String,
}

pub fn lambda_permission(names: &StackNames, arns: &StackArns) -> LambdaPermission {
    LambdaPermission {
        function_name: names.function.clone(),
        statement_id: names.permission_statement_id.clone(),
        action: "lambda:InvokeFunction",
        principal: "s3.amazonaws.com",
        source_arn: arns.bucket.clone(),
        source_account: arns.account_id.clone(),
    }
}

/// The statements of `policy`, whether `Statement` is one object or a list.
fn statements(policy: &Value) -> Vec<&Value> {
    match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    }
}

/// The values of `field` in `statement`, whether one string or a list.
fn values<'a>(statement: &'a Value, field: &str) -> Vec<&'a str> {
    match statement.get(field) {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Every `Action` or `NotAction` of `policy` that contains `*`, in document order.
pub fn wildcard_actions(policy: &Value) -> Vec<String> {
    statements(policy)
        .into_iter()
        .flat_map(|s| [values(s, "Action"), values(s, "NotAction")])
        .flatten()
        .filter(|a| a.contains('*'))
        .map(str::to_owned)
        .collect()
}

/// Whether any statement applies to resources broader than named ones: a `Resource` of `*`,
/// an ARN with `*` in its partition, service, region or account, or any `NotResource`.
/// A `*` in the resource part (`bucket/*`, `log-group:NAME:*`) is fine.
pub fn has_wildcard_resource(policy: &Value) -> bool {
    statements(policy).into_iter().any(|s| {
        !values(s, "NotResource").is_empty()
            || values(s, "Resource").into_iter().any(|r| {
                let fields: Vec<&str> = r.splitn(6, ':').collect();
                fields.len() < 6 || fields[..5].iter().any(|f| f.contains('*'))
            })
    })
}

/// The number of statements without a non-empty `Sid`.
pub fn statements_without_sid(policy: &Value) -> usize {
    statements(policy)
        .into_iter()
        .filter(|s| {
            s.get("Sid")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        })
        .count()
}

#[cfg(test)]
mod tests;
