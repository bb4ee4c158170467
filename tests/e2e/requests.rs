//! The AWS-only paths, tested at the HTTP layer: a representative deploy (region eu-west-1)
//! goes through a recording HTTP client to the shared LocalStack, and the exact requests are
//! asserted — ARNs, policies and their conditions, as the generated documents say — since no
//! AWS account is reachable here. Also the account guard of target `aws`.

use std::collections::BTreeMap;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_sts::config::Credentials;
use harness::deploy::{self, DeployConfig, Deployment, teardown::teardown};
use harness::recording::{RecordedRequest, Recorder};
use harness::stack::policy::{
    bucket_policy, execution_role_policy, has_wildcard_resource, key_policy, queue_policy,
    wildcard_actions,
};
use harness::stack::{RunId, StackArns, StackNames};
use harness::target::{Target, TargetKind};
use libtest_mimic::{Failed, Trial};
use serde_json::{Value, json};

use crate::shared::{self, Shared};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "requests::a_deploy_sends_exactly_the_generated_policies_and_arns",
            || with_shared(a_deploy_sends_exactly_the_generated_policies_and_arns),
        ),
        Trial::test("requests::target_aws_needs_its_account_allowed", || {
            with_shared(target_aws_needs_its_account_allowed)
        }),
    ]
}

fn with_shared(test: fn(&'static Shared) -> Result<(), Failed>) -> Result<(), Failed> {
    test(shared::get()?)
}

const REGION: &str = "eu-west-1";
/// A secret that must never appear on the wire (SigV4 sends only a signature).
const SECRET: &str = "harness-recorded-secret-9d41c7";

fn a_deploy_sends_exactly_the_generated_policies_and_arns(
    shared: &'static Shared,
) -> Result<(), Failed> {
    let endpoint = shared
        .target()
        .endpoint_url
        .clone()
        .expect("the shared target is a LocalStack");
    let names = StackNames::with_default_prefix(&RunId::random());
    let recorder = Recorder::new();
    shared.runtime.block_on(async {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new("test", SECRET, None, None, "e2e"))
            .http_client(recorder.http_client())
            .load()
            .await;
        let target = Target::with_sdk_config(TargetKind::Localstack, REGION, Some(&endpoint), sdk);
        let mut log = Vec::new();
        let config = DeployConfig {
            handler_zip: shared.bootstrap_zip.clone(),
            email: "alerts@example.com".into(),
            function_timeout_s: 30,
        };
        let deployed = deploy::deploy(&target, &names, &config, &mut log).await;
        let requests = recorder.requests();
        let checked = match &deployed {
            Ok((deployment, _)) => check_requests(&names, deployment, &requests),
            Err(e) => Err(format!("deploy failed: {e}").into()),
        };
        // Tear down on the same (recording) target, whatever the checks said.
        recorder.clear();
        let report = teardown(&target, &names, &mut log).await;
        checked?;
        if !report.is_clean() || report.deleted.len() != 9 {
            return Err(format!("teardown in {REGION} not clean: {report:?}").into());
        }
        // The teardown's requests carry no secret either, and all went to eu-west-1.
        check_signing(&recorder.requests())?;
        Ok(())
    })
}

fn check_requests(
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
fn check_signing(requests: &[RecordedRequest]) -> Result<(), Failed> {
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

fn target_aws_needs_its_account_allowed(shared: &'static Shared) -> Result<(), Failed> {
    let endpoint = shared.target().endpoint_url.clone();
    // A target of kind `aws` whose STS (LocalStack's) answers account 000000000000.
    let aws = Target::with_sdk_config(
        TargetKind::Aws,
        &shared.target().region,
        endpoint.as_deref(),
        shared.sdk.clone(),
    );
    shared.runtime.block_on(async {
        let mut progress = Vec::new();
        let refused = deploy::check_account_allowed(&aws, &["123456789012".into()], &mut progress)
            .await
            .err()
            .ok_or("an account not in the allow list was accepted")?
            .to_string();
        if !(refused.contains("account 000000000000 is not allowed")
            && refused.contains("--allow-account 000000000000"))
        {
            return Err(
                format!("the refusal does not name the account and the flag: {refused}").into(),
            );
        }
        if !progress.is_empty() {
            return Err("a refused target announced itself".into());
        }
        let allowed = ["123456789012".to_owned(), "000000000000".to_owned()];
        let account = deploy::check_account_allowed(&aws, &allowed, &mut progress)
            .await
            .map_err(|e| format!("a listed account was refused: {e}"))?;
        let said = String::from_utf8_lossy(&progress);
        if account != "000000000000"
            || said != "using AWS account 000000000000 in region us-east-1\n"
        {
            return Err(format!("accepted {account}, said {said:?}").into());
        }
        Ok(())
    })
}

/// The first request `matches` accepts, or an error listing what was sent.
fn find<'a>(
    requests: &'a [RecordedRequest],
    what: &str,
    matches: impl Fn(&RecordedRequest) -> bool,
) -> Result<&'a RecordedRequest, Failed> {
    requests.iter().find(|r| matches(r)).ok_or_else(|| {
        let sent: Vec<String> = requests
            .iter()
            .map(|r| format!("{} {} {:?}", r.method, r.uri, r.header("x-amz-target")))
            .collect();
        format!("no {what} request among:\n{}", sent.join("\n")).into()
    })
}

fn expect_eq<T: PartialEq + std::fmt::Debug + ?Sized>(
    what: &str,
    found: &T,
    wanted: &T,
) -> Result<(), Failed> {
    if found == wanted {
        Ok(())
    } else {
        Err(format!("{what}:\nsent   {found:?}\nwanted {wanted:?}").into())
    }
}

/// The URL-decoded parameters of a form body (the query protocol of IAM, SNS, STS).
fn form(request: &RecordedRequest) -> BTreeMap<String, String> {
    form_urlencoded::parse(request.body.as_deref().unwrap_or_default())
        .into_owned()
        .collect()
}

fn json_body(request: &RecordedRequest) -> Result<Value, Failed> {
    serde_json::from_slice(request.body.as_deref().unwrap_or_default())
        .map_err(|e| format!("{} {}: body is not JSON: {e}", request.method, request.uri).into())
}

fn json_text<S: AsRef<str>>(what: &str, text: Option<S>) -> Result<Value, Failed> {
    let text = text.ok_or_else(|| format!("{what} missing"))?;
    serde_json::from_str(text.as_ref()).map_err(|e| format!("{what} is not JSON: {e}").into())
}

fn statements(policy: &Value) -> Vec<&Value> {
    policy["Statement"]
        .as_array()
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

/// Every value of condition key `key`, under any operator, in any statement.
fn condition_values<'a>(policy: &'a Value, key: &str) -> Vec<&'a str> {
    statements(policy)
        .into_iter()
        .filter_map(|s| s["Condition"].as_object())
        .flat_map(|operators| operators.values())
        .filter_map(|keys| keys.get(key))
        .filter_map(Value::as_str)
        .collect()
}

/// Every ARN in a request: in its URI and in its body, form bodies URL-decoded first (JSON
/// bodies escape nested policies with `\"`, which ends an ARN as well).
fn arns_in(request: &RecordedRequest) -> Vec<String> {
    let mut texts = vec![percent_decode(&request.uri)];
    let is_form = request
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        texts.extend(form(request).into_values());
    } else {
        texts.push(request.body_text());
    }
    let mut found = Vec::new();
    for text in &texts {
        let mut rest = text.as_str();
        while let Some(at) = rest.find("arn:") {
            let starts_word = rest[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_ascii_alphanumeric());
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| c.is_whitespace() || "\"\\,<>&]}'".contains(c))
                .unwrap_or(tail.len());
            if starts_word {
                found.push(tail[..end].to_owned());
            }
            rest = &tail[4..];
        }
    }
    found
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}
