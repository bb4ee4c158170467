use serde_json::json;

use super::*;
use crate::stack::names::RunId;

const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_ARN: &str = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn names() -> StackNames {
    StackNames::with_default_prefix(&RunId::parse("habcdefghij").unwrap())
}

fn arns() -> StackArns {
    StackArns::new("aws", "eu-west-1", "123456789012", &names(), KEY_ID)
}

fn all_policies(arns: &StackArns) -> [Value; 8] {
    [
        execution_role_trust_policy(arns),
        execution_role_policy(arns),
        key_policy(arns, &arns.account_root()),
        bucket_policy(arns),
        queue_policy(arns),
        standard_topic_policy(arns, "ops@example.com"),
        fifo_topic_policy(arns),
        json!({ "Version": VERSION, "Statement": [] }),
    ]
}

#[test]
fn arns_have_the_exact_aws_formats() {
    let a = arns();
    assert_eq!(a.bucket, "arn:aws:s3:::upl-habcdefghij-uploads");
    assert_eq!(a.key, KEY_ARN);
    assert_eq!(
        a.function,
        "arn:aws:lambda:eu-west-1:123456789012:function:upl-habcdefghij-fn"
    );
    assert_eq!(
        a.role,
        "arn:aws:iam::123456789012:role/upl-habcdefghij-role"
    );
    assert_eq!(
        a.standard_topic,
        "arn:aws:sns:eu-west-1:123456789012:upl-habcdefghij-notify"
    );
    assert_eq!(
        a.fifo_topic,
        "arn:aws:sns:eu-west-1:123456789012:upl-habcdefghij-events.fifo"
    );
    assert_eq!(
        a.fifo_queue,
        "arn:aws:sqs:eu-west-1:123456789012:upl-habcdefghij-queue.fifo"
    );
    assert_eq!(
        a.failure_queue,
        "arn:aws:sqs:eu-west-1:123456789012:upl-habcdefghij-failures"
    );
    assert_eq!(
        a.log_group,
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/upl-habcdefghij-fn:*"
    );
    assert_eq!(a.account_root(), "arn:aws:iam::123456789012:root");
    assert_eq!(a.via_service("s3"), "s3.eu-west-1.amazonaws.com");
    // A key ARN in place of the id gives the same ARNs.
    assert_eq!(
        StackArns::new("aws", "eu-west-1", "123456789012", &names(), KEY_ARN),
        a
    );
}

#[test]
fn other_partitions_follow_through() {
    let a = StackArns::new("aws-cn", "cn-north-1", "123456789012", &names(), KEY_ID);
    assert_eq!(a.bucket, "arn:aws-cn:s3:::upl-habcdefghij-uploads");
    assert!(
        a.key
            .starts_with("arn:aws-cn:kms:cn-north-1:123456789012:key/")
    );
    assert_eq!(a.via_service("sqs"), "sqs.cn-north-1.amazonaws.com.cn");
}

#[test]
fn trust_policy_is_exact() {
    assert_eq!(
        execution_role_trust_policy(&arns()),
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "LambdaAssumesRoleForThisAccount",
                "Effect": "Allow",
                "Principal": { "Service": "lambda.amazonaws.com" },
                "Action": "sts:AssumeRole",
                "Condition": { "StringEquals": { "aws:SourceAccount": "123456789012" } }
            }]
        })
    );
}

#[test]
fn execution_role_policy_is_exact() {
    assert_eq!(
        execution_role_policy(&arns()),
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "HeadUploadedObjects",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                    "Resource": ["arn:aws:s3:::upl-habcdefghij-uploads/*"]
                },
                {
                    "Sid": "TellMissingObjectsApart",
                    "Effect": "Allow",
                    "Action": ["s3:ListBucket"],
                    "Resource": ["arn:aws:s3:::upl-habcdefghij-uploads"]
                },
                {
                    "Sid": "DecryptUploadedObjectsViaS3",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt"],
                    "Resource": [KEY_ARN],
                    "Condition": { "StringEquals": { "kms:ViaService": "s3.eu-west-1.amazonaws.com" } }
                },
                {
                    "Sid": "PublishToPipelineTopics",
                    "Effect": "Allow",
                    "Action": ["sns:Publish"],
                    "Resource": [
                        "arn:aws:sns:eu-west-1:123456789012:upl-habcdefghij-notify",
                        "arn:aws:sns:eu-west-1:123456789012:upl-habcdefghij-events.fifo"
                    ]
                },
                {
                    "Sid": "EncryptAlertsViaSns",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": [KEY_ARN],
                    "Condition": { "StringEquals": {
                        "kms:ViaService": "sns.eu-west-1.amazonaws.com",
                        "kms:EncryptionContext:aws:sns:topicArn": [
                        "arn:aws:sns:eu-west-1:123456789012:upl-habcdefghij-notify",
                        "arn:aws:sns:eu-west-1:123456789012:upl-habcdefghij-events.fifo"
                    ]
                    } }
                },
                {
                    "Sid": "SendFailedInvocationsToFailureQueue",
                    "Effect": "Allow",
                    "Action": ["sqs:SendMessage"],
                    "Resource": ["arn:aws:sqs:eu-west-1:123456789012:upl-habcdefghij-failures"]
                },
                {
                    "Sid": "WriteOwnLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/upl-habcdefghij-fn:*"]
                }
            ]
        })
    );
}

#[test]
fn key_policy_is_exact() {
    let root = "arn:aws:iam::123456789012:root";
    let s3_context = json!([
        "arn:aws:s3:::upl-habcdefghij-uploads",
        "arn:aws:s3:::upl-habcdefghij-uploads/*"
    ]);
    let via_s3 = json!({
        "StringEquals": {
            "kms:ViaService": "s3.eu-west-1.amazonaws.com",
            "kms:CallerAccount": "123456789012"
        },
        "StringLike": { "kms:EncryptionContext:aws:s3:arn": s3_context }
    });
    assert_eq!(
        key_policy(&arns(), root),
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "KeyAdministration",
                    "Effect": "Allow",
                    "Principal": { "AWS": root },
                    "Action": [
                        "kms:CancelKeyDeletion", "kms:CreateAlias",
                        "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey",
                        "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation",
                        "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListAliases",
                        "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListResourceTags",
                        "kms:PutKeyPolicy", "kms:RevokeGrant", "kms:ScheduleKeyDeletion",
                        "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
                        "kms:UpdateKeyDescription"
                    ],
                    "Resource": "*"
                },
                {
                    "Sid": "GrantsOnlyForAwsResources",
                    "Effect": "Allow",
                    "Principal": { "AWS": root },
                    "Action": ["kms:CreateGrant"],
                    "Resource": "*",
                    "Condition": { "Bool": { "kms:GrantIsForAWSResource": "true" } }
                },
                {
                    "Sid": "UseForUploadsViaS3",
                    "Effect": "Allow",
                    "Principal": { "AWS": root },
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": via_s3
                },
                {
                    "Sid": "ExecutionRoleDecryptsViaS3",
                    "Effect": "Allow",
                    "Principal": { "AWS": "arn:aws:iam::123456789012:role/upl-habcdefghij-role" },
                    "Action": ["kms:Decrypt"],
                    "Resource": "*",
                    "Condition": via_s3
                },
                {
                    "Sid": "ExecutionRolePublishesViaSns",
                    "Effect": "Allow",
                    "Principal": { "AWS": "arn:aws:iam::123456789012:role/upl-habcdefghij-role" },
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": { "StringEquals": {
                        "kms:ViaService": "sns.eu-west-1.amazonaws.com",
                        "kms:CallerAccount": "123456789012",
                        "kms:EncryptionContext:aws:sns:topicArn": [
                        "arn:aws:sns:eu-west-1:123456789012:upl-habcdefghij-notify",
                        "arn:aws:sns:eu-west-1:123456789012:upl-habcdefghij-events.fifo"
                    ]
                    } }
                },
                {
                    "Sid": "FifoTopicDeliversToEncryptedQueue",
                    "Effect": "Allow",
                    "Principal": { "Service": "sns.amazonaws.com" },
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": {
                        "ArnEquals": { "aws:SourceArn": "arn:aws:sns:eu-west-1:123456789012:upl-habcdefghij-events.fifo" },
                        "StringEquals": { "aws:SourceAccount": "123456789012" }
                    }
                },
                {
                    "Sid": "UseQueueViaSqs",
                    "Effect": "Allow",
                    "Principal": { "AWS": root },
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:ViaService": "sqs.eu-west-1.amazonaws.com",
                            "kms:CallerAccount": "123456789012",
                            "kms:EncryptionContext:aws:sqs:arn": "arn:aws:sqs:eu-west-1:123456789012:upl-habcdefghij-queue.fifo"
                        }
                    }
                }
            ]
        })
    );
}

#[test]
fn key_policy_never_grants_kms_star_and_keeps_an_administrator() {
    let deployer = "arn:aws:iam::123456789012:role/deployer";
    let policy = key_policy(&arns(), deployer);
    assert!(wildcard_actions(&policy).is_empty());
    let admin = &statements(&policy)[0];
    assert_eq!(admin["Principal"]["AWS"], deployer);
    for needed in [
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion",
        "kms:DescribeKey",
    ] {
        assert!(values(admin, "Action").contains(&needed), "{needed}");
    }
}

#[test]
fn bucket_policy_is_exact() {
    let objects = "arn:aws:s3:::upl-habcdefghij-uploads/*";
    assert_eq!(
        bucket_policy(&arns()),
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": ["arn:aws:s3:::upl-habcdefghij-uploads", objects],
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
                        "StringNotEquals": { "s3:x-amz-server-side-encryption-aws-kms-key-id": KEY_ARN },
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
    );
}

#[test]
fn bucket_policy_only_denies() {
    let policy = bucket_policy(&arns());
    assert!(statements(&policy).iter().all(|s| s["Effect"] == "Deny"));
}

#[test]
fn queue_policy_is_exact() {
    assert_eq!(
        queue_policy(&arns()),
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "FifoTopicSendsToQueue",
                "Effect": "Allow",
                "Principal": { "Service": "sns.amazonaws.com" },
                "Action": "sqs:SendMessage",
                "Resource": "arn:aws:sqs:eu-west-1:123456789012:upl-habcdefghij-queue.fifo",
                "Condition": {
                    "ArnEquals": { "aws:SourceArn": "arn:aws:sns:eu-west-1:123456789012:upl-habcdefghij-events.fifo" }
                }
            }]
        })
    );
}

fn topic_policy_statements(topic: &str, delivery: Value) -> Value {
    let role = "arn:aws:iam::123456789012:role/upl-habcdefghij-role";
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ExecutionRolePublishes",
                "Effect": "Allow",
                "Principal": { "AWS": "arn:aws:iam::123456789012:root" },
                "Action": "sns:Publish",
                "Resource": topic,
                "Condition": { "ArnEquals": { "aws:PrincipalArn": role } }
            },
            {
                "Sid": "NoOtherPublisher",
                "Effect": "Deny",
                "Principal": { "AWS": "*" },
                "Action": "sns:Publish",
                "Resource": topic,
                "Condition": { "ArnNotEquals": { "aws:PrincipalArn": role } }
            },
            delivery
        ]
    })
}

#[test]
fn regression_standard_topic_accepts_publishes_only_from_the_execution_role() {
    let topic = "arn:aws:sns:eu-west-1:123456789012:upl-habcdefghij-notify";
    assert_eq!(
        standard_topic_policy(&arns(), "ops@example.com"),
        topic_policy_statements(
            topic,
            json!({
                "Sid": "DeliverOnlyToTheAlertAddress",
                "Effect": "Deny",
                "Principal": { "AWS": "*" },
                "Action": "sns:Subscribe",
                "Resource": topic,
                "Condition": { "StringNotEqualsIgnoreCase": { "sns:Endpoint": "ops@example.com" } }
            })
        )
    );
}

#[test]
fn regression_fifo_topic_accepts_publishes_only_from_the_execution_role() {
    let topic = "arn:aws:sns:eu-west-1:123456789012:upl-habcdefghij-events.fifo";
    assert_eq!(
        fifo_topic_policy(&arns()),
        topic_policy_statements(
            topic,
            json!({
                "Sid": "DeliverOnlyToTheQueue",
                "Effect": "Deny",
                "Principal": { "AWS": "*" },
                "Action": "sns:Subscribe",
                "Resource": topic,
                "Condition": { "StringNotEquals": {
                    "sns:Endpoint": "arn:aws:sqs:eu-west-1:123456789012:upl-habcdefghij-queue.fifo"
                } }
            })
        )
    );
}

#[test]
fn lambda_permission_is_for_our_bucket_and_account() {
    assert_eq!(
        lambda_permission(&names(), &arns()),
        LambdaPermission {
            function_name: "upl-habcdefghij-fn".into(),
            statement_id: "upl-habcdefghij-s3-invoke".into(),
            action: "lambda:InvokeFunction",
            principal: "s3.amazonaws.com",
            source_arn: "arn:aws:s3:::upl-habcdefghij-uploads".into(),
            source_account: "123456789012".into(),
        }
    );
}

#[test]
fn role_policies_have_no_wildcards() {
    let a = arns();
    for policy in [
        execution_role_policy(&a),
        execution_role_trust_policy(&a),
        queue_policy(&a),
    ] {
        assert_eq!(wildcard_actions(&policy), Vec::<String>::new());
        assert!(!has_wildcard_resource(&policy), "{policy}");
    }
}

#[test]
fn every_statement_has_a_sid_and_the_version() {
    for policy in all_policies(&arns()) {
        assert_eq!(statements_without_sid(&policy), 0, "{policy}");
        assert_eq!(policy["Version"], "2012-10-17");
    }
}

#[test]
fn the_checkers_find_wildcards() {
    let bad = json!({
        "Statement": {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "kms:*", "sns:Pub*"],
            "NotAction": "iam:*",
            "Resource": "arn:aws:s3:::b/*"
        }
    });
    assert_eq!(wildcard_actions(&bad), ["kms:*", "sns:Pub*", "iam:*"]);
    assert!(!has_wildcard_resource(&bad));
    assert_eq!(statements_without_sid(&bad), 1);
    for resource in [
        json!("*"),
        json!(["arn:aws:s3:::b", "arn:aws:sns:*:1:t"]),
        json!("arn:*"),
    ] {
        assert!(has_wildcard_resource(
            &json!({ "Statement": [{ "Resource": resource }] })
        ));
    }
    assert!(has_wildcard_resource(
        &json!({ "Statement": [{ "NotResource": "arn:aws:s3:::b" }] })
    ));
    // The bucket policy's deny-all-insecure statement and the key policy's "this key" are
    // reported, as they should be: the checkers are for identity policies.
    assert_eq!(wildcard_actions(&bucket_policy(&arns())), ["s3:*"]);
    assert!(has_wildcard_resource(&key_policy(
        &arns(),
        "arn:aws:iam::123456789012:root"
    )));
}
