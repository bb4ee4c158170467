//! `harness check`: the one-command proof that the pipeline works on a target.
//!
//! Deploys a fresh stack, reads every security and wiring property back, uploads one file and
//! waits for its FIFO message (verdict `encrypted`) and its email alert, then tears the stack
//! down and verifies nothing is left. Each step prints one line; the exit code says whether all
//! held. Randomized multi-file scenarios build on the same pieces.

use std::time::{Duration, Instant};

use crate::deploy::{self, DeployConfig, Deployment, teardown::teardown, verify::verify};
use crate::stack::StackNames;
use crate::target::{Target, TargetKind};

/// How long an upload may take to come out as a FIFO message and an email.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(90);

/// One line of the check's outcome.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub ok: bool,
    /// `Some(reason)` when the step could not run on this target.
    pub skipped: Option<String>,
    pub detail: String,
}

impl Outcome {
    fn new(name: impl Into<String>, ok: bool, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok,
            skipped: None,
            detail: detail.into(),
        }
    }
}

/// Runs the whole check; the stack is torn down whatever happened before.
pub async fn run(
    target: &Target,
    names: &StackNames,
    config: &DeployConfig,
    progress: &mut (dyn std::io::Write + Send),
) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    match deploy::deploy(target, names, config, progress).await {
        Ok((deployment, _)) => {
            outcomes.push(Outcome::new("deploy", true, "stack deployed"));
            for c in verify(target, names, &deployment).await {
                outcomes.push(Outcome::new(c.name, c.ok, c.detail));
            }
            outcomes.extend(upload_and_follow(target, &deployment, progress).await);
        }
        Err(e) => outcomes.push(Outcome::new("deploy", false, e.to_string())),
    }
    let report = teardown(target, names, progress).await;
    outcomes.push(Outcome::new(
        "teardown leaves nothing",
        report.is_clean(),
        format!(
            "{} deleted; errors {:?}; leftovers {:?}",
            report.deleted.len(),
            report.errors,
            report.leftovers
        ),
    ));
    outcomes
}

async fn upload_and_follow(
    target: &Target,
    deployment: &Deployment,
    progress: &mut (dyn std::io::Write + Send),
) -> Vec<Outcome> {
    let key = format!("check/{} hello+world é.txt", deployment.run_id);
    let _ = writeln!(progress, "  uploading s3://{}/{key}", deployment.bucket);
    let started = Instant::now();
    if let Err(e) = target
        .s3()
        .put_object()
        .bucket(&deployment.bucket)
        .key(&key)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(
            b"harness check\n",
        ))
        .send()
        .await
    {
        return vec![Outcome::new("upload", false, deploy::describe_error(&e))];
    }
    let mut out = vec![fifo_message(target, deployment, &key, started).await];
    out.push(email(target, deployment, &key, started).await);
    out
}

async fn fifo_message(
    target: &Target,
    deployment: &Deployment,
    key: &str,
    started: Instant,
) -> Outcome {
    let name = "upload arrives once in the FIFO queue, encrypted with our key";
    let sqs = target.sqs();
    let mut seen = Vec::new();
    while started.elapsed() < DELIVERY_DEADLINE {
        let received = match sqs
            .receive_message()
            .queue_url(&deployment.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(2)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return Outcome::new(name, false, deploy::describe_error(&e)),
        };
        for message in received.messages() {
            let body: serde_json::Value =
                serde_json::from_str(message.body().unwrap_or_default()).unwrap_or_default();
            seen.push(body);
        }
        if let Some(body) = seen.iter().find(|b| b["key"] == key) {
            let verdict = body["encryption"]["verdict"].as_str().unwrap_or_default();
            let copies = seen.iter().filter(|b| b["key"] == key).count();
            return Outcome::new(
                name,
                verdict == "encrypted" && copies == 1,
                format!(
                    "after {:.1} s: verdict {verdict}, {copies} message(s)",
                    started.elapsed().as_secs_f64()
                ),
            );
        }
    }
    Outcome::new(
        name,
        false,
        format!(
            "no message within {DELIVERY_DEADLINE:?}; check the failure queue and the function's log"
        ),
    )
}

async fn email(target: &Target, deployment: &Deployment, key: &str, started: Instant) -> Outcome {
    let name = "email alert sent for the upload";
    let Some(endpoint) = target
        .endpoint_url
        .as_deref()
        .filter(|_| target.kind != TargetKind::Aws)
    else {
        return Outcome {
            name: name.into(),
            ok: true,
            skipped: Some("reading mail on AWS needs a mailbox (scenario runner)".into()),
            detail: String::new(),
        };
    };
    let client = reqwest::Client::new();
    let url = format!("{endpoint}/_aws/ses");
    while started.elapsed() < DELIVERY_DEADLINE {
        let mails: serde_json::Value = match client.get(&url).send().await {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(e) => return Outcome::new(name, false, format!("{url}: {e}")),
        };
        let found = mails["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| {
                m["Destination"]["ToAddresses"]
                    .as_array()
                    .is_some_and(|to| to.iter().any(|a| a == deployment.email_address.as_str()))
                    && m["Body"]["text_part"]
                        .as_str()
                        .is_some_and(|body| body.contains(key))
            });
        if let Some(mail) = found {
            return Outcome::new(
                name,
                true,
                format!(
                    "after {:.1} s to {}: {}",
                    started.elapsed().as_secs_f64(),
                    deployment.email_address,
                    mail["Subject"].as_str().unwrap_or_default()
                ),
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Outcome::new(
        name,
        false,
        format!("no mail naming the key at {url} within {DELIVERY_DEADLINE:?}"),
    )
}

/// The outcomes as a table.
pub fn render(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for o in outcomes {
        let mark = match (&o.skipped, o.ok) {
            (Some(_), _) => "skip",
            (None, true) => "ok",
            (None, false) => "FAIL",
        };
        // Passing lines stay short; a failure or a skip says why.
        let detail = match (&o.skipped, o.ok) {
            (Some(reason), _) => format!(": {reason}"),
            (None, false) => format!(": {}", o.detail),
            (None, true) if o.detail.len() <= 60 => format!(" ({})", o.detail),
            (None, true) => String::new(),
        };
        out.push_str(&format!("{mark:>4}  {}{detail}\n", o.name));
    }
    out
}
