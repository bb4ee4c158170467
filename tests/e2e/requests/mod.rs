//! The AWS-only paths, tested at the HTTP layer: a representative deploy (region eu-west-1)
//! goes through a recording HTTP client to the shared LocalStack, and the exact requests are
//! asserted — ARNs, policies and their conditions, as the generated documents say — since no
//! AWS account is reachable here. Also the account guard of target `aws`.
//!
//! This module holds the trials; what a recorded deploy must have sent is asserted in
//! `checks`, with the helpers that read recorded requests and policy documents in `inspect`.
//! The runner's own least privilege is proven in `runner_policy`, with the model of IAM's
//! authorisation it judges requests by in `iam`.

mod checks;
mod iam;
mod inspect;
mod runner_policy;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_sts::config::Credentials;
use harness::deploy::{self, DeployConfig, teardown::teardown};
use harness::recording::Recorder;
use harness::run_target::{Target, TargetKind};
use harness::stack::{RunId, StackNames};
use libtest_mimic::{Failed, Trial};

use crate::shared::{self, Shared};
use checks::{check_requests, check_signing};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "requests::a_deploy_sends_exactly_the_generated_policies_and_arns",
            || with_shared(a_deploy_sends_exactly_the_generated_policies_and_arns),
        ),
        Trial::test("requests::target_aws_needs_its_account_allowed", || {
            with_shared(target_aws_needs_its_account_allowed)
        }),
        Trial::test(
            "requests::the_runner_policy_allows_exactly_the_recorded_aws_calls",
            || with_shared(runner_policy::the_runner_policy_allows_exactly_the_recorded_aws_calls),
        ),
        Trial::test(
            "requests::the_iam_model_matches_like_iam",
            runner_policy::the_iam_model_matches_like_iam,
        ),
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
        let config = DeployConfig::new(shared.bootstrap_zip.clone(), "alerts@example.com");
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
