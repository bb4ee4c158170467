//! The assertions on a recorded deploy: each request that carries a policy, an ARN or a
//! location is found and compared with the generated documents, every ARN is checked for the
//! region and account, and every request for its signature and for leaked secrets.

use harness::deploy::Deployment;
use harness::recording::RecordedRequest;
use harness::stack::policy::{
    bucket_policy, execution_role_policy, has_wildcard_resource, key_policy, queue_policy,
    wildcard_actions,
};
use harness::stack::{StackArns, StackNames};
use libtest_mimic::Failed;
use serde_json::json;

use super::inspect::{
    arns_in, condition_values, expect_eq, find, form, json_body, json_text, statements,
};
use super::{REGION, SECRET};

pub(super) fn check_requests(
    names: &StackNames,
    deployment: &Deployment,
    requests: &[RecordedRequest],
) -> Result<(), Failed> {
    let account = deployment.account_id.as_str();
    let arns = StackArns::new("aws", REGION, account, names, &deployment.kms_key_arn);
    if deployment.region != REGION || !arns.key.contains(":eu-west-1:") {
        return Err(format!("the deploy did not go to {REGION}: {deployment:?}").into());
    }

    // S3 CreateBucket: PUT /BUCKET (path style) with the region's location constraint.
    let create_bucket = find(requests, "s3 CreateBucket", |r| {
        r.service() == Some("s3")
            && r.method == "PUT"
            && r.path().trim_end_matches('/') == format!("/{}", names.bucket)
            && r.query()
                .split('&')
                .all(|kv| kv.is_empty() || kv.starts_with("x-id="))
    })?;
    let body = create_bucket.body_text();
    if !body.contains("<LocationConstraint>eu-west-1</LocationConstraint>") {
        return Err(format!("CreateBucket lacks the location constraint: {body}").into());
    }

    // IAM PutRolePolicy (query protocol): the form carries exactly the generated document.
    let put_role_policy = find(requests, "iam PutRolePolicy", |r| {
        r.service() == Some("iam")
            && form(r).get("Action").map(String::as_str) == Some("PutRolePolicy")
    })?;
    let params = form(put_role_policy);
    expect_eq(
        "PutRolePolicy RoleName",
        &params.get("RoleName"),
        &Some(&names.role),
    )?;
    expect_eq(
        "PutRolePolicy PolicyName",
        &params.get("PolicyName"),
        &Some(&names.role_policy),
    )?;
    let role_policy = json_text("PutRolePolicy PolicyDocument", params.get("PolicyDocument"))?;
    expect_eq(
        "PutRolePolicy document",
        &role_policy,
        &execution_role_policy(&arns),
    )?;
    let wild = wildcard_actions(&role_policy);
    if !wild.is_empty() || has_wildcard_resource(&role_policy) {
        return Err(format!("the role policy sent has wildcards: {wild:?} {role_policy}").into());
    }

    // KMS PutKeyPolicy (JSON protocol): the generated key policy, with its conditions.
    let put_key_policy = find(requests, "kms PutKeyPolicy", |r| {
        r.header("x-amz-target") == Some("TrentService.PutKeyPolicy")
    })?;
    let body = json_body(put_key_policy)?;
    expect_eq("PutKeyPolicy KeyId", &body["KeyId"], &json!(arns.key))?;
    expect_eq(
        "PutKeyPolicy PolicyName",
        &body["PolicyName"],
        &json!("default"),
    )?;
    let key = json_text("PutKeyPolicy Policy", body["Policy"].as_str())?;
    expect_eq(
        "PutKeyPolicy policy",
        &key,
        &key_policy(&arns, &arns.account_root()),
    )?;
    let sns_statement = statements(&key)
        .into_iter()
        .find(|s| s["Principal"]["Service"] == "sns.amazonaws.com")
        .ok_or("the key policy has no statement for SNS")?;
    expect_eq(
        "key policy SNS aws:SourceArn",
        &sns_statement["Condition"]["ArnEquals"]["aws:SourceArn"],
        &json!(arns.fifo_topic),
    )?;
    if !arns
        .fifo_topic
        .ends_with(&format!(":eu-west-1:{account}:{}", names.fifo_topic))
    {
        return Err(format!(
            "the SNS condition is not the FIFO topic: {}",
            arns.fifo_topic
        )
        .into());
    }
    let via_s3 = condition_values(&key, "kms:ViaService");
    if !via_s3.contains(&"s3.eu-west-1.amazonaws.com") {
        return Err(format!("no kms:ViaService s3.eu-west-1.amazonaws.com: {via_s3:?}").into());
    }

    // S3 PutBucketPolicy: PUT /BUCKET?policy, the body is the generated policy.
    let put_bucket_policy = find(requests, "s3 PutBucketPolicy", |r| {
        r.service() == Some("s3")
            && r.method == "PUT"
            && r.path().trim_end_matches('/') == format!("/{}", names.bucket)
            && r.query()
                .split('&')
                .any(|kv| kv == "policy" || kv == "policy=")
    })?;
    expect_eq(
        "PutBucketPolicy body",
        &json_body(put_bucket_policy)?,
        &bucket_policy(&arns),
    )?;

    // SQS SetQueueAttributes (JSON protocol): the queue policy, only our FIFO topic may send.
    let set_queue_attributes = find(requests, "sqs SetQueueAttributes", |r| {
        r.header("x-amz-target") == Some("AmazonSQS.SetQueueAttributes")
    })?;
    let body = json_body(set_queue_attributes)?;
    if !body["QueueUrl"]
        .as_str()
        .is_some_and(|u| u.ends_with(&names.fifo_queue))
    {
        return Err(format!("SetQueueAttributes went to another queue: {body}").into());
    }
    let queue = json_text(
        "SetQueueAttributes Policy",
        body["Attributes"]["Policy"].as_str(),
    )?;
    expect_eq("queue policy", &queue, &queue_policy(&arns))?;
    expect_eq(
        "queue policy aws:SourceArn",
        &condition_values(&queue, "aws:SourceArn"),
        &vec![arns.fifo_topic.as_str()],
    )?;

    // Lambda AddPermission: S3 only, for our bucket and account.
    let add_permission = find(requests, "lambda AddPermission", |r| {
        r.service() == Some("lambda")
            && r.method == "POST"
            && r.path()
                .ends_with(&format!("/functions/{}/policy", names.function))
    })?;
    let body = json_body(add_permission)?;
    expect_eq(
        "AddPermission SourceArn",
        &body["SourceArn"],
        &json!(arns.bucket),
    )?;
    expect_eq(
        "AddPermission SourceAccount",
        &body["SourceAccount"],
        &json!(account),
    )?;
    expect_eq(
        "AddPermission Principal",
        &body["Principal"],
        &json!("s3.amazonaws.com"),
    )?;
    expect_eq(
        "AddPermission Action",
        &body["Action"],
        &json!("lambda:InvokeFunction"),
    )?;

    // Lambda CreateFunction: runtime, architecture, role and exactly the four variables.
    let create_function = find(requests, "lambda CreateFunction", |r| {
        r.service() == Some("lambda") && r.method == "POST" && r.path().ends_with("/functions")
    })?;
    let body = json_body(create_function)?;
    expect_eq(
        "CreateFunction Runtime",
        &body["Runtime"],
        &json!("provided.al2023"),
    )?;
    expect_eq(
        "CreateFunction Architectures",
        &body["Architectures"],
        &json!(["x86_64"]),
    )?;
    expect_eq(
        "CreateFunction Role",
        &body["Role"],
        &json!(deployment.role_arn),
    )?;
    expect_eq(
        "CreateFunction Environment",
        &body["Environment"]["Variables"],
        &json!({
            "STANDARD_TOPIC_ARN": arns.standard_topic,
            "FIFO_TOPIC_ARN": arns.fifo_topic,
            "EXPECTED_KMS_KEY_ARN": arns.key,
            "FIFO_GROUPING": "bucket",
        }),
    )?;

    // Every ARN any request of the deploy carries is in eu-west-1 (S3 and IAM ARNs have no
    // region) and in our account.
    let mut seen = 0;
    for request in requests {
        for arn in arns_in(request) {
            seen += 1;
            let fields: Vec<&str> = arn.splitn(6, ':').collect();
            let (partition, service, region, owner) = match fields[..] {
                [_, p, s, r, a, _] => (p, s, r, a),
                _ => return Err(format!("malformed ARN {arn} in {}", request.uri).into()),
            };
            let wanted_region = if matches!(service, "s3" | "iam") {
                ""
            } else {
                REGION
            };
            let wanted_owner = if service == "s3" { "" } else { account };
            if partition != "aws" || region != wanted_region || owner != wanted_owner {
                return Err(format!(
                    "ARN {arn} in {} {} is not in {REGION}/{account}",
                    request.method, request.uri
                )
                .into());
            }
        }
    }
    if seen < 20 {
        return Err(format!("only {seen} ARNs found in the requests; is the scan broken?").into());
    }
    check_signing(requests)
}

/// Every request is SigV4-signed for eu-west-1 and the secret key appears nowhere: not in a
/// URI, a header (the Authorization header included) or a body.
pub(super) fn check_signing(requests: &[RecordedRequest]) -> Result<(), Failed> {
    if requests.is_empty() {
        return Err("no request was recorded".into());
    }
    for r in requests {
        let auth = r.header("authorization").unwrap_or_default();
        if !auth.starts_with("AWS4-HMAC-SHA256 Credential=test/")
            || r.signing_scope().map(|s| s.0) != Some(REGION)
        {
            return Err(format!(
                "{} {} is not signed for {REGION}: {auth:?}",
                r.method, r.uri
            )
            .into());
        }
        let leaks = r.uri.contains(SECRET)
            || r.headers.iter().any(|(_, v)| v.contains(SECRET))
            || r.body
                .as_deref()
                .is_some_and(|b| b.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()));
        if leaks || r.header("x-amz-security-token").is_some() {
            return Err(format!("{} {} carries credentials in plain text", r.method, r.uri).into());
        }
    }
    Ok(())
}
