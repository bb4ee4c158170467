//! The ordered list of AWS API calls a deploy makes, and its table for the CLI's dry run.
//!
//! Written down as data so the order (which matters: KMS rejects a key policy naming a role
//! that does not exist yet, Lambda needs its role and log group first, S3 checks the Lambda
//! permission when the notification is put) is reviewed and tested in one place.

use super::names::{StackNames, TAG_KEY, TAG_MANAGED_BY, TAG_REGION};
use super::policy::{StackArns, lambda_permission};

/// `FIFO_GROUPING` the deploy gives the function: one message group per bucket.
pub const FIFO_GROUPING: &str = "bucket";
/// `MaximumRetryAttempts` of the function's async invoke configuration.
pub const MAX_RETRY_ATTEMPTS: u8 = 2;

/// One API call of a deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCall {
    /// The SDK's service name: `kms`, `s3`, `sns`, `sqs`, `iam`, `logs`, `lambda`.
    pub service: &'static str,
    /// The API operation, as AWS spells it.
    pub operation: &'static str,
    /// What the call creates or changes: a name or ARN, always carrying the run id.
    pub resource: String,
    /// The parameters that matter for security or wiring.
    pub detail: String,
}

fn call(
    service: &'static str,
    operation: &'static str,
    resource: &str,
    detail: impl Into<String>,
) -> PlannedCall {
    PlannedCall {
        service,
        operation,
        resource: resource.to_owned(),
        detail: detail.into(),
    }
}

/// Every call a deploy of `names` at `arns` makes, in order; `email` gets the standard
/// topic's subscription. The KMS key's ARN in `arns` is only known after `CreateKey`; the
/// plan shows it as given (a dry run passes a placeholder id).
pub fn deploy_plan(names: &StackNames, arns: &StackArns, email: &str) -> Vec<PlannedCall> {
    let tags = format!(
        "tags {TAG_KEY}={}, {}={}",
        names.run_id, TAG_MANAGED_BY.0, TAG_MANAGED_BY.1
    );
    let permission = lambda_permission(names, arns);
    vec![
        // The key starts with KMS's default policy (account root administers): the policy
        // below names the execution role, which KMS accepts only once the role exists.
        call(
            "kms",
            "CreateKey",
            &names.kms_alias,
            format!("SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT, {tags}"),
        ),
        call(
            "kms",
            "CreateAlias",
            &names.kms_alias,
            format!("target {}", arns.key),
        ),
        call(
            "kms",
            "EnableKeyRotation",
            &names.kms_alias,
            "yearly automatic rotation",
        ),
        // IAM is eventually consistent: a new role can take seconds to be usable as a key
        // policy principal or by Lambda; both calls below retry on that.
        call(
            "iam",
            "CreateRole",
            &names.role,
            format!(
                "trust lambda.amazonaws.com if aws:SourceAccount={}, {tags}, {TAG_REGION}={}",
                arns.account_id, arns.region
            ),
        ),
        call(
            "iam",
            "PutRolePolicy",
            &names.role,
            format!(
                "{}: s3:GetObject(Version) on objects, s3:ListBucket on the bucket, kms:Decrypt via S3, sns:Publish on both topics with their KMS data keys via SNS, sqs:SendMessage on failure queue, logs on own log group",
                names.role_policy
            ),
        ),
        call(
            "kms",
            "PutKeyPolicy",
            &names.kms_alias,
            "admin (explicit actions), S3 and SQS use in-account, execution role Decrypt via S3 and publishes via SNS (our topics only), SNS for the FIFO topic only; retry while the role propagates",
        ),
        call(
            "s3",
            "CreateBucket",
            &names.bucket,
            create_bucket_detail(&arns.region),
        ),
        // Tagged at once (S3 cannot tag at creation): a deploy that fails in the configuration
        // calls below leaves a bucket that teardown and gc recognise as the run's.
        call("s3", "PutBucketTagging", &names.bucket, tags.clone()),
        call(
            "s3",
            "PutPublicAccessBlock",
            &names.bucket,
            "BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets all true",
        ),
        call(
            "s3",
            "PutBucketOwnershipControls",
            &names.bucket,
            "BucketOwnerEnforced (ACLs disabled)",
        ),
        call("s3", "PutBucketVersioning", &names.bucket, "Enabled"),
        call(
            "s3",
            "PutBucketEncryption",
            &names.bucket,
            format!("SSE-KMS aws:kms with {}, BucketKeyEnabled=true", arns.key),
        ),
        call(
            "s3",
            "PutBucketPolicy",
            &names.bucket,
            "deny non-TLS, deny SSE other than aws:kms, deny other KMS keys, deny SSE-C",
        ),
        call(
            "sns",
            "CreateTopic",
            &names.standard_topic,
            format!(
                "standard, KmsMasterKeyId={}, Policy: only the execution role publishes, delivery only to {email}, {tags}",
                arns.key
            ),
        ),
        call(
            "sns",
            "Subscribe",
            &names.standard_topic,
            format!("protocol email, endpoint {email} (pending until confirmed)"),
        ),
        call(
            "sns",
            "CreateTopic",
            &names.fifo_topic,
            format!(
                "FifoTopic=true, ContentBasedDeduplication=false, KmsMasterKeyId={}, Policy: only the execution role publishes, delivery only to {}, {tags}",
                arns.key, arns.fifo_queue
            ),
        ),
        call(
            "sqs",
            "CreateQueue",
            &names.fifo_queue,
            format!(
                "FifoQueue=true, ContentBasedDeduplication=false, KmsMasterKeyId={}, {tags}",
                arns.key
            ),
        ),
        call(
            "sqs",
            "SetQueueAttributes",
            &names.fifo_queue,
            format!(
                "Policy: sns.amazonaws.com may SendMessage if aws:SourceArn={}",
                arns.fifo_topic
            ),
        ),
        call(
            "sqs",
            "CreateQueue",
            &names.failure_queue,
            format!("standard, SqsManagedSseEnabled=true, {tags}"),
        ),
        call(
            "sns",
            "Subscribe",
            &names.fifo_topic,
            format!(
                "protocol sqs, endpoint {}, RawMessageDelivery=true",
                arns.fifo_queue
            ),
        ),
        call("logs", "CreateLogGroup", &names.log_group, tags.clone()),
        call(
            "lambda",
            "CreateFunction",
            &names.function,
            format!(
                "provided.al2023, x86_64, handler bootstrap, role {}, env STANDARD_TOPIC_ARN={} FIFO_TOPIC_ARN={} EXPECTED_KMS_KEY_ARN={} FIFO_GROUPING={FIFO_GROUPING}, {tags}",
                arns.role, arns.standard_topic, arns.fifo_topic, arns.key
            ),
        ),
        call(
            "lambda",
            "PutFunctionEventInvokeConfig",
            &names.function,
            format!(
                "MaximumRetryAttempts={MAX_RETRY_ATTEMPTS}, OnFailure destination {}",
                arns.failure_queue
            ),
        ),
        call(
            "lambda",
            "AddPermission",
            &names.function,
            format!(
                "{}: principal {} action {} if SourceArn={} SourceAccount={}",
                permission.statement_id,
                permission.principal,
                permission.action,
                permission.source_arn,
                permission.source_account
            ),
        ),
        call(
            "s3",
            "PutBucketNotificationConfiguration",
            &names.bucket,
            format!(
                "{}: s3:ObjectCreated:* -> {}",
                names.notification_id, arns.function
            ),
        ),
    ]
}

fn create_bucket_detail(region: &str) -> String {
    if region == "us-east-1" {
        "no LocationConstraint (us-east-1 refuses one)".to_owned()
    } else {
        format!("LocationConstraint={region}")
    }
}

/// The plan as a text table: step, service, operation, resource and detail.
pub fn render_plan(plan: &[PlannedCall]) -> String {
    let width = |f: fn(&PlannedCall) -> usize, title: &str| {
        plan.iter().map(f).chain([title.len()]).max().unwrap_or(0)
    };
    let service = width(|c| c.service.len(), "service");
    let operation = width(|c| c.operation.len(), "operation");
    let resource = width(|c| c.resource.len(), "resource");
    let mut out = format!(
        "{:>3}  {:service$}  {:operation$}  {:resource$}  detail\n",
        "#", "service", "operation", "resource"
    );
    for (i, c) in plan.iter().enumerate() {
        let line = format!(
            "{:>3}  {:service$}  {:operation$}  {:resource$}  {}",
            i + 1,
            c.service,
            c.operation,
            c.resource,
            c.detail
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::names::RunId;

    fn plan() -> (StackNames, Vec<PlannedCall>) {
        let names = StackNames::with_default_prefix(&RunId::parse("habcdefghij").unwrap());
        let arns = StackArns::new(
            "aws",
            "eu-west-1",
            "123456789012",
            &names,
            "1234abcd-12ab-34cd-56ef-1234567890ab",
        );
        let plan = deploy_plan(&names, &arns, "ops@example.com");
        (names, plan)
    }

    fn position(plan: &[PlannedCall], service: &str, operation: &str, resource: &str) -> usize {
        plan.iter()
            .position(|c| {
                c.service == service && c.operation == operation && c.resource == resource
            })
            .unwrap_or_else(|| panic!("{service} {operation} {resource} not planned"))
    }

    #[test]
    fn regression_the_bucket_is_tagged_right_after_it_is_made() {
        // Tagged after five configuration calls, a deploy failing in one of them left a bucket
        // that teardown and gc refused forever as foreign.
        let (names, plan) = plan();
        let created = position(&plan, "s3", "CreateBucket", &names.bucket);
        assert_eq!(
            position(&plan, "s3", "PutBucketTagging", &names.bucket),
            created + 1
        );
    }

    #[test]
    fn every_resource_carries_the_run_id() {
        let (_, plan) = plan();
        for c in &plan {
            assert!(c.resource.contains("habcdefghij"), "{c:?}");
        }
    }

    #[test]
    fn every_named_resource_is_created_or_configured() {
        let (names, plan) = plan();
        for (_, name) in names.all() {
            let mentioned = plan
                .iter()
                .any(|c| c.resource == name || c.detail.contains(name));
            assert!(mentioned, "{name} is not in the plan");
        }
    }

    #[test]
    fn dependencies_come_first() {
        let (n, p) = plan();
        let at = |s, o, r: &str| position(&p, s, o, r);
        assert!(at("iam", "CreateRole", &n.role) < at("kms", "PutKeyPolicy", &n.kms_alias));
        assert!(at("kms", "CreateKey", &n.kms_alias) < at("s3", "PutBucketEncryption", &n.bucket));
        assert!(at("kms", "PutKeyPolicy", &n.kms_alias) < at("sns", "Subscribe", &n.fifo_topic));
        assert!(
            at("sqs", "SetQueueAttributes", &n.fifo_queue) < at("sns", "Subscribe", &n.fifo_topic)
        );
        assert!(
            at("logs", "CreateLogGroup", &n.log_group)
                < at("lambda", "CreateFunction", &n.function)
        );
        assert!(at("iam", "PutRolePolicy", &n.role) < at("lambda", "CreateFunction", &n.function));
        assert!(
            at("sqs", "CreateQueue", &n.failure_queue)
                < at("lambda", "PutFunctionEventInvokeConfig", &n.function)
        );
        assert_eq!(
            at("s3", "PutBucketNotificationConfiguration", &n.bucket),
            p.len() - 1
        );
        assert!(at("lambda", "AddPermission", &n.function) < p.len() - 1);
    }

    #[test]
    fn security_settings_are_in_the_plan() {
        let (n, p) = plan();
        assert_eq!(
            create_bucket_detail("eu-west-1"),
            "LocationConstraint=eu-west-1"
        );
        assert!(create_bucket_detail("us-east-1").starts_with("no LocationConstraint"));
        let detail = |s, o, r: &str| p[position(&p, s, o, r)].detail.clone();
        assert!(detail("s3", "PutBucketEncryption", &n.bucket).contains("BucketKeyEnabled=true"));
        assert!(
            detail("s3", "PutBucketOwnershipControls", &n.bucket).contains("BucketOwnerEnforced")
        );
        assert!(
            detail("sqs", "CreateQueue", &n.fifo_queue).contains("KmsMasterKeyId=arn:aws:kms:")
        );
        assert!(detail("sns", "Subscribe", &n.fifo_topic).contains("RawMessageDelivery=true"));
        let function = detail("lambda", "CreateFunction", &n.function);
        for needed in [
            "provided.al2023",
            "x86_64",
            "STANDARD_TOPIC_ARN=",
            "FIFO_TOPIC_ARN=",
            "EXPECTED_KMS_KEY_ARN=",
            "FIFO_GROUPING=bucket",
        ] {
            assert!(function.contains(needed), "{needed}");
        }
        assert!(detail("sns", "Subscribe", &n.standard_topic).contains("ops@example.com"));
    }

    #[test]
    fn render_is_an_aligned_table() {
        let (_, p) = plan();
        let table = render_plan(&p);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), p.len() + 1);
        assert!(lines[0].starts_with("  #  service  operation"));
        assert!(lines[1].starts_with("  1  kms      CreateKey "));
        let column = lines[0].find("resource").unwrap();
        assert!(lines.iter().skip(1).all(|l| l[column..].starts_with("upl-")
            || l[column..].starts_with("alias/")
            || l[column..].starts_with("/aws/")));
        assert_eq!(
            render_plan(&[]),
            "  #  service  operation  resource  detail\n"
        );
    }
}
