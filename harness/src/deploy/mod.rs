//! Carries out the deploy plan ([`crate::stack::plan`]) against a target, idempotently.
//!
//! Each step first accepts what already exists (a re-run converges instead of duplicating),
//! records the call it made in a journal (so tests compare what ran with the plan), and waits on
//! real readiness (the function Active) rather than on time. The result is a [`Deployment`]: the
//! identifiers later commands and scenarios need, printable as JSON.

mod aws_error;
mod compute;
mod storage;
pub mod teardown;
pub mod verify;

use serde::Serialize;

use crate::stack::{RunId, StackArns, StackNames};
use crate::target::{Target, TargetKind};

pub use aws_error::DeployError;

/// What a deploy needs besides the names.
#[derive(Debug, Clone)]
pub struct DeployConfig {
    /// The handler's deployment package (a zip holding `bootstrap`).
    pub handler_zip: Vec<u8>,
    /// Address subscribed to the email alerts.
    pub email: String,
    /// Function timeout in seconds.
    pub function_timeout_s: i32,
}

/// The deployed stack: everything a scenario or a user needs to use it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Deployment {
    pub run_id: String,
    pub target: String,
    pub region: String,
    pub endpoint_url: Option<String>,
    pub account_id: String,
    pub bucket: String,
    pub kms_key_arn: String,
    pub kms_alias: String,
    pub function_name: String,
    pub function_arn: String,
    pub role_arn: String,
    pub standard_topic_arn: String,
    pub fifo_topic_arn: String,
    pub queue_url: String,
    pub queue_arn: String,
    pub failure_queue_url: String,
    pub failure_queue_arn: String,
    pub email_address: String,
    pub email_subscription_arn: String,
    pub log_group: String,
}

/// One API call a deploy made, in the plan's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub service: &'static str,
    pub operation: &'static str,
    pub resource: String,
}

/// Where the deploy is and what it has done so far.
pub(crate) struct Ctx<'a> {
    pub target: &'a Target,
    pub names: &'a StackNames,
    pub journal: Vec<JournalEntry>,
    pub progress: &'a mut (dyn std::io::Write + Send),
}

impl Ctx<'_> {
    pub fn record(&mut self, service: &'static str, operation: &'static str, resource: &str) {
        let _ = writeln!(self.progress, "  {service:<6} {operation:<34} {resource}");
        self.journal.push(JournalEntry {
            service,
            operation,
            resource: resource.to_owned(),
        });
    }

    /// `[(Key, Value)]` of the stack's tags.
    pub fn tags(&self) -> Vec<(String, String)> {
        self.names
            .tags()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    }
}

/// The account the target's credentials belong to (STS `GetCallerIdentity`).
pub async fn account_id(target: &Target) -> Result<String, DeployError> {
    let identity = target
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| DeployError::call("sts GetCallerIdentity", "caller", e))?;
    identity
        .account()
        .map(str::to_owned)
        .ok_or_else(|| DeployError::Invalid("STS returned no account id".into()))
}

/// Deploys (or converges) the stack of `names` and returns it with the journal of calls made.
pub async fn deploy(
    target: &Target,
    names: &StackNames,
    config: &DeployConfig,
    progress: &mut (dyn std::io::Write + Send),
) -> Result<(Deployment, Vec<JournalEntry>), DeployError> {
    let account = account_id(target).await?;
    let _ = writeln!(
        progress,
        "deploying run {} to {} (account {account})",
        names.run_id,
        target.describe()
    );
    let mut ctx = Ctx {
        target,
        names,
        journal: Vec::new(),
        progress,
    };
    let key_arn = storage::ensure_key(&mut ctx).await?;
    let arns = StackArns::new("aws", &target.region, &account, names, &key_arn);
    let role_arn = compute::ensure_role(&mut ctx, &arns).await?;
    storage::put_key_policy(&mut ctx, &arns).await?;
    storage::ensure_bucket(&mut ctx, &arns).await?;
    let messaging = storage::ensure_messaging(&mut ctx, &arns, &config.email).await?;
    compute::ensure_log_group(&mut ctx).await?;
    let function_arn = compute::ensure_function(&mut ctx, &arns, &role_arn, config).await?;
    compute::ensure_trigger(&mut ctx, &arns, &function_arn).await?;
    let deployment = Deployment {
        run_id: names.run_id.to_string(),
        target: format!("{:?}", target.kind).to_lowercase(),
        region: target.region.clone(),
        endpoint_url: target.endpoint_url.clone(),
        account_id: account,
        bucket: names.bucket.clone(),
        kms_key_arn: arns.key.clone(),
        kms_alias: names.kms_alias.clone(),
        function_name: names.function.clone(),
        function_arn,
        role_arn,
        standard_topic_arn: messaging.standard_topic_arn,
        fifo_topic_arn: messaging.fifo_topic_arn,
        queue_url: messaging.queue_url,
        queue_arn: arns.fifo_queue.clone(),
        failure_queue_url: messaging.failure_queue_url,
        failure_queue_arn: arns.failure_queue.clone(),
        email_address: config.email.clone(),
        email_subscription_arn: messaging.email_subscription_arn,
        log_group: names.log_group.clone(),
    };
    Ok((deployment, ctx.journal))
}

/// On AWS, refuses any account not explicitly allowed; returns the account id and says which
/// account and region will be used. LocalStack targets are always allowed.
pub async fn check_account_allowed(
    target: &Target,
    allowed: &[String],
    progress: &mut (dyn std::io::Write + Send),
) -> Result<String, DeployError> {
    let account = account_id(target).await?;
    if target.kind == TargetKind::Aws {
        if !allowed.iter().any(|a| a == &account) {
            return Err(DeployError::Invalid(format!(
                "account {account} is not allowed: real-account runs need it listed with \
                 --allow-account {account} (or HARNESS_ALLOWED_ACCOUNTS={account}); use a \
                 sandbox account"
            )));
        }
        let _ = writeln!(
            progress,
            "using AWS account {account} in region {}",
            target.region
        );
    }
    Ok(account)
}

/// The names of a run id under the default prefix, or a clear error.
pub fn names_for(run_id: &str) -> Result<StackNames, DeployError> {
    let run_id = RunId::parse(run_id).map_err(|e| DeployError::Invalid(e.to_string()))?;
    Ok(StackNames::with_default_prefix(&run_id))
}

/// True when the target is a LocalStack (where a few AWS checks do not apply).
pub fn is_emulated(target: &Target) -> bool {
    target.kind != TargetKind::Aws
}
