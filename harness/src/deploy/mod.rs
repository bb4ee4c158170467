//! Carries out the deploy plan ([`crate::stack::plan`]) against a target, idempotently.
//!
//! Each step first accepts what already exists (a re-run converges instead of duplicating),
//! records the call it made in a journal (so tests compare what ran with the plan), and waits on
//! real readiness (the function Active) rather than on time. The result is a [`Deployment`]: the
//! identifiers later commands and scenarios need, printable as JSON.

mod aws_error;
mod compute;
pub mod empty_bucket;
pub mod gc;
#[cfg(test)]
mod mocked_s3;
mod storage;
pub mod teardown;
pub mod verify;

use serde::Serialize;

use crate::run_target::{Target, TargetKind};
use crate::stack::{StackArns, StackNames};

pub use aws_error::{DeployError, describe as describe_error};

/// What a deploy needs besides the names.
#[derive(Debug, Clone)]
pub struct DeployConfig {
    /// The handler's deployment package (a zip holding `bootstrap`).
    pub handler_zip: Vec<u8>,
    /// Address subscribed to the email alerts.
    pub email: String,
    /// Function timeout in seconds.
    pub function_timeout_s: i32,
    /// The handler's `FIFO_GROUPING`: `bucket` or `prefix`.
    pub fifo_grouping: String,
    /// More environment for the function, e.g. `AWS_ENDPOINT_URL_SNS` pointing at the chaos
    /// fault proxy.
    pub function_env: Vec<(String, String)>,
}

impl DeployConfig {
    /// The standard configuration: 30 s timeout, one message group per bucket.
    pub fn new(handler_zip: Vec<u8>, email: impl Into<String>) -> Self {
        Self {
            handler_zip,
            email: email.into(),
            function_timeout_s: 30,
            fifo_grouping: crate::stack::plan::FIFO_GROUPING.to_owned(),
            function_env: Vec::new(),
        }
    }
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

impl Deployment {
    /// The stack's names: its run id under the prefix its bucket's name shows.
    pub fn names(&self) -> Result<StackNames, String> {
        let invalid = || {
            format!(
                "deployment of run `{}` has an unexpected bucket name `{}`",
                self.run_id, self.bucket
            )
        };
        let run_id = crate::stack::RunId::parse(&self.run_id).map_err(|e| e.to_string())?;
        let prefix = self
            .bucket
            .strip_suffix(&format!("-{}-uploads", self.run_id))
            .ok_or_else(invalid)?;
        StackNames::new(&run_id, prefix).map_err(|e| e.to_string())
    }
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

/// Why credentials could not be loaded, when that is what failed `error` (not the call itself):
/// the credentials error and its causes, one after the other.
fn credentials_failure(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<aws_credential_types::provider::error::CredentialsError>() {
            let mut text = e.to_string();
            let mut inner = e.source();
            while let Some(source) = inner {
                text = format!("{text}: {source}");
                inner = source.source();
            }
            return Some(text);
        }
        cause = e.source();
    }
    None
}

/// The account the target's credentials belong to (STS `GetCallerIdentity`).
pub async fn account_id(target: &Target) -> Result<String, DeployError> {
    let identity = target
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| match credentials_failure(&e) {
            Some(why) => DeployError::Invalid(match &target.profile {
                Some(profile) => format!(
                    "no AWS credentials for {} from profile `{profile}`: check that \
                     ~/.aws/config or ~/.aws/credentials defines it (for SSO, run \
                     `aws sso login --profile {profile}`), or pass another --profile ({why})",
                    target.describe()
                ),
                None => format!(
                    "no AWS credentials for {}: pass --profile NAME, or set AWS_PROFILE or \
                     AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ({why})",
                    target.describe()
                ),
            }),
            None => DeployError::call("sts GetCallerIdentity", "caller", e),
        })?;
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
        // Printed by `deploy --output json`: never with a password in it.
        endpoint_url: target
            .endpoint_url
            .as_deref()
            .map(|e| crate::redact::secrets(e).into_owned()),
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

/// One attribute of an SNS subscription (`PendingConfirmation`, `RawMessageDelivery`, ...), or
/// `None` when the subscription or the attribute cannot be read.
pub async fn subscription_attribute(
    sns: &aws_sdk_sns::Client,
    subscription_arn: &str,
    name: &str,
) -> Option<String> {
    sns.get_subscription_attributes()
        .subscription_arn(subscription_arn)
        .send()
        .await
        .ok()?
        .attributes()?
        .get(name)
        .cloned()
}

#[cfg(test)]
mod tests {
    use aws_config::{BehaviorVersion, Region};
    use aws_sdk_sts::config::Credentials;
    use aws_smithy_runtime_api::client::http::{
        HttpConnector, HttpConnectorFuture, SharedHttpConnector, http_client_fn,
    };
    use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
    use aws_smithy_types::body::SdkBody;

    use super::*;
    use crate::recording::Recorder;

    /// STS answering GetCallerIdentity for one account, as AWS does.
    #[derive(Debug)]
    struct Sts(&'static str);

    impl HttpConnector for Sts {
        fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
            let body = format!(
                "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                 <GetCallerIdentityResult><Arn>arn:aws:iam::{0}:user/deployer</Arn>\
                 <UserId>AIDAEXAMPLE</UserId><Account>{0}</Account></GetCallerIdentityResult>\
                 <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>\
                 </GetCallerIdentityResponse>",
                self.0
            );
            let status = 200.try_into().expect("a valid status");
            HttpConnectorFuture::ready(Ok(HttpResponse::new(status, SdkBody::from(body))))
        }
    }

    async fn target(kind: TargetKind, account: &'static str, recorder: &Recorder) -> Target {
        let sts = http_client_fn(move |_, _| SharedHttpConnector::new(Sts(account)));
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new(
                "AKIDEXAMPLE",
                "s3cr3t",
                None,
                None,
                "unit",
            ))
            .http_client(recorder.wrap(sts))
            .load()
            .await;
        Target::with_sdk_config(kind, "eu-west-1", None, sdk)
    }

    /// A credentials chain that finds nothing (no profile, no environment, no instance role).
    #[derive(Debug)]
    struct NoCredentials;

    impl aws_credential_types::provider::ProvideCredentials for NoCredentials {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            aws_credential_types::provider::future::ProvideCredentials::ready(Err(
                aws_credential_types::provider::error::CredentialsError::not_loaded(
                    "no profile, no environment, no instance role",
                ),
            ))
        }
    }

    /// An AWS target whose credentials chain finds nothing, its requests recorded.
    async fn without_credentials(recorder: &Recorder) -> Target {
        let sts = http_client_fn(|_, _| SharedHttpConnector::new(Sts("123456789012")));
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(NoCredentials)
            .http_client(recorder.wrap(sts))
            .load()
            .await;
        Target::with_sdk_config(TargetKind::Aws, "eu-west-1", None, sdk)
    }

    #[tokio::test]
    async fn missing_credentials_are_named_with_the_fix_and_nothing_is_sent() {
        let recorder = Recorder::new();
        let aws = without_credentials(&recorder).await;
        let error = account_id(&aws).await.unwrap_err().to_string();
        assert!(error.starts_with("no AWS credentials for aws"), "{error}");
        assert!(
            error.contains("--profile") && error.contains("AWS_PROFILE"),
            "{error}"
        );
        assert!(error.contains("no profile, no environment"), "{error}");
        assert!(recorder.requests().is_empty());
    }

    #[tokio::test]
    async fn regression_a_profile_without_credentials_is_not_told_to_pass_profile() {
        let recorder = Recorder::new();
        let mut aws = without_credentials(&recorder).await;
        aws.profile = Some("nosuch".into());
        let error = account_id(&aws).await.unwrap_err().to_string();
        assert!(error.contains("from profile `nosuch`"), "{error}");
        assert!(error.contains("~/.aws/config"), "{error}");
        assert!(!error.contains("pass --profile NAME"), "{error}");
    }

    #[tokio::test]
    async fn aws_refuses_an_account_not_allowed_and_names_it() {
        let recorder = Recorder::new();
        let aws = target(TargetKind::Aws, "123456789012", &recorder).await;
        for allowed in [vec![], vec!["111111111111".to_owned()]] {
            let mut progress = Vec::new();
            let error = check_account_allowed(&aws, &allowed, &mut progress)
                .await
                .expect_err("an account not listed must be refused")
                .to_string();
            assert!(
                error.contains("account 123456789012 is not allowed"),
                "{error}"
            );
            assert!(error.contains("--allow-account 123456789012"), "{error}");
            assert!(error.contains("HARNESS_ALLOWED_ACCOUNTS"), "{error}");
            assert!(
                progress.is_empty(),
                "nothing may be announced before the check passes"
            );
        }
        // The account came from STS, asked in the target's region.
        let requests = recorder.requests();
        assert_eq!(requests.len(), 2);
        for request in &requests {
            assert_eq!(request.signing_scope(), Some(("eu-west-1", "sts")));
            assert!(request.body_text().contains("Action=GetCallerIdentity"));
        }
    }

    #[tokio::test]
    async fn aws_accepts_a_listed_account_and_says_which_and_where() {
        let recorder = Recorder::new();
        let aws = target(TargetKind::Aws, "123456789012", &recorder).await;
        let allowed = ["111111111111".to_owned(), "123456789012".to_owned()];
        let mut progress = Vec::new();
        let account = check_account_allowed(&aws, &allowed, &mut progress)
            .await
            .unwrap();
        assert_eq!(account, "123456789012");
        assert_eq!(
            String::from_utf8(progress).unwrap(),
            "using AWS account 123456789012 in region eu-west-1\n"
        );
    }

    #[tokio::test]
    async fn localstack_targets_need_no_allow_list() {
        let recorder = Recorder::new();
        let local = target(TargetKind::Localstack, "000000000000", &recorder).await;
        let mut progress = Vec::new();
        let account = check_account_allowed(&local, &[], &mut progress)
            .await
            .unwrap();
        assert_eq!(account, "000000000000");
        assert!(progress.is_empty());
    }
}
