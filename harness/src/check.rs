//! `harness check`: the one-command proof that the pipeline works on a target.
//!
//! Deploys a fresh stack, reads every security and wiring property back, uploads one file and
//! waits for its FIFO message (verdict `encrypted`) and its email alert, then tears the stack
//! down and verifies nothing is left. Each step prints one line; the exit code says whether all
//! held. It is a user of the pipeline layer like every scenario: the same stack guard, mailbox
//! and collection, with one upload.

use std::time::{Duration, Instant};

use crate::deploy::{DeployConfig, Deployment, verify::verify};
use crate::mailbox::{MailSetup, run_address};
use crate::pipeline::{Collected, Finding, Run, Stack, Wanted};
use crate::run_target::Target;
use crate::stack::StackNames;
use crate::workload::PlannedUpload;

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

    fn skipped(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok: true,
            skipped: Some(reason.into()),
            detail: String::new(),
        }
    }
}

const FIFO_CHECK: &str = "upload arrives once in the FIFO queue, encrypted with our key";
const EMAIL_CHECK: &str = "email alert sent for the upload";

/// Runs the whole check on the stack of `names`, alerts going to a per-run address derived from
/// `config.email` and read through `mail`; the stack is torn down whatever happened before.
pub async fn run(
    target: &Target,
    names: &StackNames,
    config: &DeployConfig,
    mail: &MailSetup,
    progress: &mut (dyn std::io::Write + Send),
) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let mut stack = Stack::named(target, names.clone());
    let mut config = config.clone();
    config.email = run_address(&config.email, &names.run_id);
    match stack.deploy(&config, progress).await {
        Ok(deployment) => {
            outcomes.push(Outcome::new("deploy", true, "stack deployed"));
            for c in verify(target, names, &deployment).await {
                outcomes.push(Outcome::new(c.name, c.ok, c.detail));
            }
            outcomes.extend(upload_and_follow(target, &deployment, mail, progress).await);
        }
        Err(finding) => outcomes.push(Outcome::new("deploy", false, finding.to_string())),
    }
    let report = stack.teardown(progress).await;
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

/// One upload, then its FIFO message and (where a mailbox can be read) its email.
async fn upload_and_follow(
    target: &Target,
    deployment: &Deployment,
    mail: &MailSetup,
    progress: &mut (dyn std::io::Write + Send),
) -> Vec<Outcome> {
    let inbox = mail.inbox(target);
    let mut run = match Run::start(
        target,
        deployment,
        inbox.as_ref().ok().copied(),
        Instant::now(),
    )
    .await
    {
        Ok(run) => run,
        Err(finding) => return vec![Outcome::new("mailbox", false, finding.to_string())],
    };
    let key = format!("check/{} hello+world é.txt", deployment.run_id);
    let _ = writeln!(progress, "  uploading s3://{}/{key}", deployment.bucket);
    let upload = PlannedUpload {
        index: 0,
        key: key.clone(),
        size: 64,
        content_type: "text/plain".into(),
        content_seed: 0,
        multipart: false,
        overwrites: None,
        same_content_as: None,
    };
    if let Err(finding) = run.upload(std::slice::from_ref(&upload), 1).await {
        return vec![Outcome::new("upload", false, finding.to_string())];
    }
    let wanted = Wanted {
        fifo: 1,
        mails: usize::from(inbox.is_ok()),
        failures: 0,
        or_failed: 0,
    };
    let collected = match run.collect(wanted, DELIVERY_DEADLINE).await {
        Ok(collected) => collected,
        Err(finding) => return vec![Outcome::new(FIFO_CHECK, false, finding.to_string())],
    };
    let email = match inbox {
        Ok(_) => email_outcome(&collected, &key, &deployment.email_address),
        Err(reason) => Outcome::skipped(EMAIL_CHECK, reason),
    };
    vec![fifo_outcome(&collected, &key), email]
}

/// Exactly one FIFO message names `key`, with verdict `encrypted`. Pure.
fn fifo_outcome(collected: &Collected, key: &str) -> Outcome {
    let bodies: Vec<serde_json::Value> = collected
        .fifo
        .iter()
        .filter_map(|m| serde_json::from_str(&m.body).ok())
        .filter(|b: &serde_json::Value| b["key"] == key)
        .collect();
    let Some(first) = bodies.first() else {
        let why = Finding::Undelivered {
            deadline_s: DELIVERY_DEADLINE.as_secs(),
            fifo: collected.fifo.len(),
            mails: collected.mails.len(),
            failures: collected.failures.len(),
            uploads: 1,
        };
        return Outcome::new(
            FIFO_CHECK,
            false,
            format!(
                "no message names the key ({why}); check the failure queue and the function's log"
            ),
        );
    };
    let verdict = first["encryption"]["verdict"].as_str().unwrap_or_default();
    let at_ms = collected.fifo.iter().map(|m| m.at_ms).min().unwrap_or(0);
    Outcome::new(
        FIFO_CHECK,
        verdict == "encrypted" && bodies.len() == 1,
        format!(
            "after {:.1} s: verdict {verdict}, {} message(s)",
            at_ms as f64 / 1000.0,
            bodies.len()
        ),
    )
}

/// A mail to the run's address names `key`. Pure.
fn email_outcome(collected: &Collected, key: &str, address: &str) -> Outcome {
    let found = collected
        .mails
        .iter()
        .find(|m| m.to.iter().any(|to| to == address) && m.body.contains(key));
    match found {
        Some(mail) => Outcome::new(
            EMAIL_CHECK,
            true,
            format!(
                "after {:.1} s to {address}: {}",
                mail.at_ms as f64 / 1000.0,
                mail.subject
            ),
        ),
        None => Outcome::new(
            EMAIL_CHECK,
            false,
            format!(
                "no mail to {address} naming the key within {DELIVERY_DEADLINE:?} ({} mail(s) read)",
                collected.mails.len()
            ),
        ),
    }
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
