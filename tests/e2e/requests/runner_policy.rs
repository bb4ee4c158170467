//! The proof of the runner's least privilege: the `--target aws` paths (deploy twice, read back,
//! `harness check`, a pipeline scenario with chaos faults, the two documented-failure scenarios,
//! the bench, teardown, gc by run id and the S3 mailbox) run against the shared LocalStack as a
//! target of kind `aws`, every request recorded. Each request's authorisations (`iam`) must be
//! allowed by a statement of [`runner_policy`], and every action of the policy must be used by
//! some request, except the ones services call on the runner's behalf ([`CALLED_BY_SERVICES`]).
//!
//! On AWS the alert mails reach the S3 mailbox through an SES receipt rule; here a relay does
//! that job: it copies what LocalStack's SES emulation got into the mailbox bucket as raw MIME,
//! and writes the subscription confirmation mail (with the token from LocalStack's
//! introspection endpoint) that AWS would send, so the S3 mailbox's paths run as on AWS. The
//! relay, the mailbox bucket and the listing of subscriptions use a client that is not
//! recorded: they stand in for AWS, not for the runner.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sts::config::Credentials;
use harness::bench::{self, BenchConfig, Checks};
use harness::deploy::{self, DeployConfig, gc, verify::verify};
use harness::mailbox::{LocalStackSes, MailSetup, Mailbox};
use harness::oracle::MailReceived;
use harness::recording::{RecordedRequest, Recorder};
use harness::run_target::{Target, TargetKind};
use harness::runner;
use harness::scenario::{self, Scenario};
use harness::stack::runner::{CALLED_BY_SERVICES, RunnerParams, runner_policy};
use harness::stack::{RunId, StackNames};
use libtest_mimic::Failed;

use super::iam::{Authorization, Classifier, allowing_statement, glob, policy_actions};
use crate::shared::{Shared, unique_name};

const REGION: &str = "eu-west-1";
const MAILBOX_PREFIX: &str = "inbound/";
const EMAIL: &str = "alerts@example.com";

/// Actions of the policy that no recorded path exercises, with the reason (besides
/// [`CALLED_BY_SERVICES`]). Keep it tiny.
const UNEXERCISED: [(&str, &str); 0] = [];

/// A chaos run with every fault that is safe on a real account, one window each.
const CHAOS: &str = r#"
description = "The runner policy's proof: each fault that chaos may inject on a sandbox account."
targets = ["aws"]

[workload]
files = 4
max-size = 1024
concurrency = 1

[[chaos]]
fault = "disable-kms-key"
during-uploads = [1, 1]

[[chaos]]
fault = "remove-fifo-subscription"
during-uploads = [2, 2]

[[chaos]]
fault = "throttle-function"
during-uploads = [3, 3]

[[chaos]]
fault = "redeliver-events"
copies = 1

[expect]
delivery-deadline-s = 45
"#;

pub(super) fn the_runner_policy_allows_exactly_the_recorded_aws_calls(
    shared: &'static Shared,
) -> Result<(), Failed> {
    let endpoint = shared
        .target()
        .endpoint_url
        .clone()
        .expect("the shared target is a LocalStack");
    let recorder = Recorder::new();
    let mailbox = unique_name("runner-mailbox");
    let chaos = chaos_scenario()?;
    let started = Instant::now();
    let mut log = String::new();
    shared.runtime.block_on(async {
        // Not recorded: the mailbox bucket, the relay and SNS's confirmation stand in for AWS.
        let plain = sdk(&endpoint, None).await;
        let plain_s3 = s3(&plain);
        plain_s3
            .create_bucket()
            .bucket(&mailbox)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(REGION))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                format!(
                    "creating the mailbox bucket: {}",
                    deploy::describe_error(&e)
                )
            })?;
        let stop = Arc::new(AtomicBool::new(false));
        let relay = tokio::spawn(relay(
            recorder.clone(),
            plain.clone(),
            endpoint.clone(),
            mailbox.clone(),
            Arc::clone(&stop),
        ));

        // A target of kind `aws` (no endpoint: every client is built as for AWS) whose SDK
        // configuration points at LocalStack through the recording client.
        let mut target = Target::with_sdk_config(
            TargetKind::Aws,
            REGION,
            None,
            sdk(&endpoint, Some(&recorder)).await,
        );
        target.mark_sandbox();
        let mail = MailSetup::S3 {
            bucket: mailbox.clone(),
            prefix: MAILBOX_PREFIX.into(),
        };
        let target = &target;
        let zip = &shared.bootstrap_zip;
        let (check, bench, chaos, mismatch, fifo, gc) = tokio::join!(
            timed(check_path(target, zip, &mail)),
            timed(bench_path(target, zip, &mail)),
            timed(scenario_path(target, zip, &mail, chaos)),
            timed(scenario_path(
                target,
                zip,
                &mail,
                documented("region-mismatch")?
            )),
            timed(scenario_path(
                target,
                zip,
                &mail,
                documented("fifo-missing-group-id")?
            )),
            timed(deploy_twice_then_gc(target, zip)),
        );
        stop.store(true, Ordering::Relaxed);
        let _ = relay.await;
        let _ = harness::deploy::empty_bucket::empty_and_delete(&plain_s3, &mailbox).await;
        for (path, outcome) in [
            ("check", check),
            ("bench", bench),
            ("chaos scenario", chaos),
            ("region-mismatch", mismatch),
            ("fifo-missing-group-id", fifo),
            ("deploy twice, gc", gc),
        ] {
            let took = outcome.lines().next().unwrap_or_default();
            eprintln!("runner policy proof: {path} took {took}");
            log.push_str(&format!("--- {path} ---\n{outcome}\n"));
        }
        Ok::<(), Failed>(())
    })?;
    let requests = recorder.requests();
    let elapsed = started.elapsed();
    judge(&requests).map_err(|e| {
        Failed::from(format!(
            "{e}\n({} requests in {elapsed:?})\n{log}",
            requests.len()
        ))
    })
}

/// Every request allowed, every action used.
fn judge(requests: &[RecordedRequest]) -> Result<(), String> {
    let policy = runner_policy(&RunnerParams::new(
        "aws",
        REGION,
        ACCOUNT,
        "(mailbox)",
        MAILBOX_PREFIX,
    ));
    let mut classifier = Classifier::new(ACCOUNT);
    let mut denied = Vec::new();
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    for request in requests {
        let line = format!("{} {}", request.method, request.uri);
        let authorizations = match classifier.classify(request) {
            Ok(a) => a,
            Err(e) => {
                denied.push(format!("{line}: not classified: {e}"));
                continue;
            }
        };
        for authorization in authorizations {
            let authorization = mailbox_named(authorization);
            match allowing_statement(&policy, &authorization) {
                Some(_) => *used.entry(authorization.action.clone()).or_default() += 1,
                None => denied.push(format!(
                    "{line}: {} on {} {:?}",
                    authorization.action, authorization.resource, authorization.context
                )),
            }
        }
    }
    denied.sort();
    denied.dedup();
    let excused: HashSet<&str> = CALLED_BY_SERVICES
        .iter()
        .copied()
        .chain(UNEXERCISED.iter().map(|(a, _)| *a))
        .collect();
    let unused: BTreeSet<String> = policy_actions(&policy)
        .into_iter()
        .filter(|a| !used.contains_key(a) && !excused.contains(a.as_str()))
        .collect();
    let overexcused: Vec<&&str> = excused.iter().filter(|a| used.contains_key(**a)).collect();
    if denied.is_empty() && unused.is_empty() && overexcused.is_empty() {
        return Ok(());
    }
    Err(format!(
        "requests the runner policy does not allow:\n{}\nactions of the policy no recorded \
         request uses: {unused:?}\nexcused actions that are used after all: {overexcused:?}\n\
         used: {used:?}",
        denied.join("\n")
    ))
}

/// LocalStack's account.
const ACCOUNT: &str = "000000000000";

/// The mailbox bucket's name is per test process; the policy is checked with `(mailbox)`.
fn mailbox_named(mut authorization: Authorization) -> Authorization {
    if let Some(rest) = authorization
        .resource
        .strip_prefix("arn:aws:s3:::runner-mailbox-")
        && !rest.is_empty()
    {
        let tail = rest
            .split_once('/')
            .map_or(String::new(), |(_, k)| format!("/{k}"));
        authorization.resource = format!("arn:aws:s3:::(mailbox){tail}");
    }
    authorization
}

/// `path`'s outcome, headed by how long it took.
async fn timed(path: impl std::future::Future<Output = String>) -> String {
    let started = Instant::now();
    let out = path.await;
    format!("({:.0?})\n{out}", started.elapsed())
}

async fn sdk(endpoint: &str, recorder: Option<&Recorder>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("test", "test", None, None, "e2e"));
    if let Some(recorder) = recorder {
        loader = loader.http_client(recorder.http_client());
    }
    loader.load().await
}

/// Path style: bucket host names do not resolve on LocalStack's loopback endpoint.
fn s3(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    )
}

fn chaos_scenario() -> Result<Scenario, Failed> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("runner-policy-chaos.toml");
    std::fs::write(&path, CHAOS).map_err(|e| e.to_string())?;
    Ok(scenario::load_file(&path).map_err(|e| e.to_string())?)
}

/// A scenario of `scenarios/`, to run on AWS with a short deadline.
fn documented(name: &str) -> Result<Scenario, Failed> {
    let path = scenario::scenarios_dir().join(format!("{name}.toml"));
    let mut scenario = scenario::load_file(&path).map_err(|e| e.to_string())?;
    scenario.expect.delivery_deadline_s = scenario.expect.delivery_deadline_s.min(30);
    Ok(scenario)
}

async fn check_path(target: &Target, zip: &[u8], mail: &MailSetup) -> String {
    let names = StackNames::with_default_prefix(&RunId::random());
    let config = DeployConfig::new(zip.to_vec(), EMAIL);
    let mut progress = Vec::new();
    let outcomes = harness::check::run(target, &names, &config, mail, &mut progress).await;
    let lines: Vec<String> = outcomes
        .iter()
        .map(|o| {
            format!(
                "{} {}: {}",
                if o.ok { "ok  " } else { "FAIL" },
                o.name,
                o.detail
            )
        })
        .collect();
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&progress),
        lines.join("\n")
    )
}

async fn bench_path(target: &Target, zip: &[u8], mail: &MailSetup) -> String {
    let config = BenchConfig {
        concurrency: vec![1],
        sizes: vec![1024],
        files: 1,
        seed: crate::scenarios::seed(),
        checks: Checks::Both,
        delivery_deadline: Duration::from_secs(45),
    };
    let mut progress = Vec::new();
    let report = bench::run(target, zip, EMAIL, &config, mail, None, &mut progress).await;
    format!(
        "{}\nfailures: {:?}",
        String::from_utf8_lossy(&progress),
        report.failure_lines()
    )
}

async fn scenario_path(
    target: &Target,
    zip: &[u8],
    mail: &MailSetup,
    scenario: Scenario,
) -> String {
    let mut progress = Vec::new();
    let report = runner::run_scenario(
        target,
        &scenario,
        crate::scenarios::seed(),
        zip,
        EMAIL,
        mail,
        &mut progress,
    )
    .await;
    format!(
        "{}\n{:?}: {}",
        String::from_utf8_lossy(&progress),
        report.status,
        report.failure_message()
    )
}

/// `harness deploy` twice (the second converges), `harness verify`-style read back, and
/// `harness gc --run RUN --older-than 0s`.
async fn deploy_twice_then_gc(target: &Target, zip: &[u8]) -> String {
    let names = StackNames::with_default_prefix(&RunId::random());
    let config = DeployConfig::new(zip.to_vec(), EMAIL);
    let mut progress = Vec::new();
    let mut out = String::new();
    for attempt in 1..=2 {
        match deploy::deploy(target, &names, &config, &mut progress).await {
            Ok((deployment, _)) if attempt == 2 => {
                let failed: Vec<String> = verify(target, &names, &deployment)
                    .await
                    .into_iter()
                    .filter(|c| !c.ok)
                    .map(|c| format!("{}: {}", c.name, c.detail))
                    .collect();
                out.push_str(&format!("read back, failed: {failed:?}\n"));
            }
            Ok(_) => {}
            Err(e) => out.push_str(&format!("deploy {attempt}: {e}\n")),
        }
    }
    let options = gc::GcOptions {
        older_than: Duration::ZERO,
        dry_run: false,
        runs: Some([names.run_id.clone()].into_iter().collect()),
    };
    let report = gc::gc(target, &options, &mut progress).await;
    let summaries: Vec<String> = report
        .runs
        .iter()
        .map(|r| r.summary(Duration::ZERO))
        .collect();
    format!(
        "{}\n{out}gc: {summaries:?} errors {:?}",
        String::from_utf8_lossy(&progress),
        report.errors
    )
}

/// Stands in for SES's receipt rule and SNS's confirmation mail until `stop`.
async fn relay(
    recorder: Recorder,
    plain: SdkConfig,
    endpoint: String,
    bucket: String,
    stop: Arc<AtomicBool>,
) {
    let s3 = s3(&plain);
    let sns = aws_sdk_sns::Client::new(&plain);
    let mut ses = LocalStackSes::new(&endpoint);
    let mut confirmed = HashSet::new();
    let epoch = Instant::now();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let mut mails = ses.poll(epoch).await.unwrap_or_default();
        mails.extend(confirmations(&recorder, &sns, &endpoint, &mut confirmed).await);
        for mail in mails {
            n += 1;
            let _ = s3
                .put_object()
                .bucket(&bucket)
                .key(format!("{MAILBOX_PREFIX}relayed-{n:05}"))
                .body(ByteStream::from(mime(&mail).into_bytes()))
                .send()
                .await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The confirmation mail SNS sends for each new pending email subscription. SNS lists a pending
/// subscription without its ARN, so the ARNs come from the deploy's own recorded
/// `GetSubscriptionAttributes` (it asks whether the email subscription is pending).
async fn confirmations(
    recorder: &Recorder,
    sns: &aws_sdk_sns::Client,
    endpoint: &str,
    done: &mut HashSet<String>,
) -> Vec<MailReceived> {
    let asked: BTreeSet<String> = recorder
        .requests()
        .iter()
        .map(super::inspect::form)
        .filter(|f| f.get("Action").map(String::as_str) == Some("GetSubscriptionAttributes"))
        .filter_map(|f| f.get("SubscriptionArn").cloned())
        .collect();
    let mut mails = Vec::new();
    for arn in asked {
        if done.contains(&arn) {
            continue;
        }
        let Ok(attributes) = sns
            .get_subscription_attributes()
            .subscription_arn(&arn)
            .send()
            .await
        else {
            continue;
        };
        let attributes = attributes.attributes().cloned().unwrap_or_default();
        let (Some(address), Some(topic)) = (attributes.get("Endpoint"), attributes.get("TopicArn"))
        else {
            continue;
        };
        if attributes.get("Protocol").map(String::as_str) != Some("email") {
            done.insert(arn);
            continue;
        }
        let url = format!("{endpoint}/_aws/sns/subscription-tokens/{arn}");
        let Ok(answer) = reqwest::get(&url).await else {
            continue;
        };
        let Ok(token) = answer.json::<serde_json::Value>().await else {
            continue;
        };
        let Some(token) = token["subscription_token"].as_str() else {
            continue;
        };
        done.insert(arn.clone());
        let encoded: String = form_urlencoded::byte_serialize(topic.as_bytes()).collect();
        mails.push(MailReceived {
            to: vec![address.clone()],
            subject: "AWS Notification - Subscription Confirmation".into(),
            body: format!(
                "You have chosen to subscribe to the topic: \n{topic}\n\nTo confirm this \
                 subscription, click or visit the link below:\n<https://sns.{REGION}.amazonaws.com/\
                 ?Action=ConfirmSubscription&TopicArn={encoded}&Token={token}>\n"
            ),
            at_ms: 0,
        });
    }
    mails
}

/// A mail as SES's receipt rule stores it: raw MIME, UTF-8 text.
fn mime(mail: &MailReceived) -> String {
    let subject: String = mail
        .subject
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("={b:02X}")
            }
        })
        .collect();
    format!(
        "From: AWS Notifications <no-reply@sns.amazonaws.com>\r\nTo: {}\r\nSubject: \
         =?UTF-8?Q?{subject}?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; \
         charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}",
        mail.to.join(", "),
        mail.body
    )
}

/// The matcher on its own: globs and conditions as IAM evaluates them.
pub(super) fn the_iam_model_matches_like_iam() -> Result<(), Failed> {
    let cases = [
        ("upl-h??????????-fn", "upl-habcdefghij-fn", true),
        ("upl-h??????????-fn", "upl-habcdefghijk-fn", false),
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b c", true),
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b", false),
        ("inbound/*", "inbound/", true),
        ("*", "anything", true),
        ("a*b*c", "aXbYbZc", true),
        ("a*b?c", "abc", false),
    ];
    for (pattern, text, want) in cases {
        if glob(pattern, text) != want {
            return Err(format!("glob({pattern:?}, {text:?}) != {want}").into());
        }
    }
    let policy = runner_policy(&RunnerParams::new(
        "aws",
        REGION,
        ACCOUNT,
        "(mailbox)",
        "in/",
    ));
    let tagged = |tags: &[(&str, &str)]| {
        let mut a = Authorization {
            action: "sqs:CreateQueue".into(),
            resource: format!("arn:aws:sqs:{REGION}:{ACCOUNT}:upl-habcdefghij-failures"),
            context: BTreeMap::new(),
        };
        for (k, v) in tags {
            a.context
                .entry(format!("aws:RequestTag/{k}"))
                .or_default()
                .push((*v).into());
            a.context
                .entry("aws:TagKeys".into())
                .or_default()
                .push((*k).into());
        }
        allowing_statement(&policy, &a).is_some()
    };
    let ours = [
        ("harness-run", "habcdefghij"),
        ("managed-by", "upload-harness"),
    ];
    let checks = [
        ("both tags", tagged(&ours), true),
        ("no tags", tagged(&[]), false),
        ("one tag", tagged(&ours[..1]), false),
        (
            "another tag key",
            tagged(&[ours[0], ours[1], ("owner", "x")]),
            false,
        ),
    ];
    for (what, got, want) in checks {
        if got != want {
            return Err(format!("a CreateQueue with {what}: allowed {got}, want {want}").into());
        }
    }
    let list = |prefix: Option<&str>| {
        let mut a = Authorization {
            action: "s3:ListBucket".into(),
            resource: "arn:aws:s3:::(mailbox)".into(),
            context: BTreeMap::new(),
        };
        if let Some(p) = prefix {
            a.context.insert("s3:prefix".into(), vec![p.into()]);
        }
        allowing_statement(&policy, &a).is_some()
    };
    if !list(Some("in/")) || list(Some("other/")) || list(None) {
        return Err("the mailbox listing is not limited to its prefix".into());
    }
    Ok(())
}
