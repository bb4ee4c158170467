//! Deploy, read back, converge and tear down the whole stack on the embedded LocalStack.

use harness::deploy::{self, DeployConfig, teardown::teardown, verify::verify};
use harness::stack::{RunId, StackArns, StackNames, deploy_plan};
use libtest_mimic::{Failed, Trial};

use crate::shared::{self, Shared};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "deploy::deploy_verify_redeploy_teardown_leaves_nothing",
            || with_shared(deploy_verify_redeploy_teardown_leaves_nothing),
        ),
        Trial::test(
            "deploy::teardown_after_a_half_failed_deploy_removes_everything",
            || with_shared(teardown_after_a_half_failed_deploy_removes_everything),
        ),
        Trial::test(
            "deploy::teardown_refuses_a_resource_without_our_tag",
            || with_shared(teardown_refuses_a_resource_without_our_tag),
        ),
        Trial::test(
            "deploy::a_stack_dropped_without_its_teardown_is_removed_by_its_guard",
            || with_shared(a_stack_dropped_without_its_teardown_is_removed_by_its_guard),
        ),
    ]
}

fn with_shared(test: fn(&'static Shared) -> Result<(), Failed>) -> Result<(), Failed> {
    test(shared::get()?)
}

fn config(shared: &Shared) -> DeployConfig {
    DeployConfig::new(shared.bootstrap_zip.clone(), "alerts@example.com")
}

fn fresh_names() -> StackNames {
    StackNames::with_default_prefix(&RunId::random())
}

fn deploy_verify_redeploy_teardown_leaves_nothing(shared: &'static Shared) -> Result<(), Failed> {
    let target = shared.target();
    let names = fresh_names();
    shared.runtime.block_on(async {
        let mut log = Vec::new();
        let (deployment, journal) = deploy::deploy(target, &names, &config(shared), &mut log)
            .await
            .map_err(|e| format!("deploy failed: {e}"))?;

        // What ran is what the dry run promised, call for call.
        let arns = StackArns::new(
            "aws",
            &target.region,
            &deployment.account_id,
            &names,
            &deployment.kms_key_arn,
        );
        let planned: Vec<_> = deploy_plan(&names, &arns, &deployment.email_address)
            .into_iter()
            .map(|c| (c.service, c.operation))
            .collect();
        let ran: Vec<_> = journal.iter().map(|j| (j.service, j.operation)).collect();
        if planned != ran {
            return Err(
                format!("deploy diverged from its plan:\nplan {planned:?}\nran  {ran:?}").into(),
            );
        }

        let failed: Vec<String> = verify(target, &names, &deployment)
            .await
            .into_iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect();
        if !failed.is_empty() {
            return Err(format!("read-back checks failed:\n{}", failed.join("\n")).into());
        }

        // A second deploy converges: same identifiers, nothing duplicated.
        let (again, _) = deploy::deploy(target, &names, &config(shared), &mut log)
            .await
            .map_err(|e| format!("second deploy failed: {e}"))?;
        if again != deployment {
            return Err(
                format!("second deploy changed the stack:\n{deployment:?}\n{again:?}").into(),
            );
        }
        let topics = target
            .sns()
            .list_topics()
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let ours = topics
            .topics()
            .iter()
            .filter(|t| {
                t.topic_arn()
                    .is_some_and(|a| a.contains(names.run_id.as_str()))
            })
            .count();
        let subs = target
            .sns()
            .list_subscriptions_by_topic()
            .topic_arn(&deployment.fifo_topic_arn)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if ours != 2 || subs.subscriptions().len() != 1 {
            return Err(format!(
                "re-deploy duplicated resources: {ours} topics, {} FIFO subscriptions",
                subs.subscriptions().len()
            )
            .into());
        }

        let report = teardown(target, &names, &mut log).await;
        if !report.is_clean() {
            return Err(format!("teardown not clean: {report:?}").into());
        }
        if report.deleted.len() != 9 {
            return Err(format!("expected 9 resources deleted: {report:?}").into());
        }
        Ok(())
    })
}

fn teardown_after_a_half_failed_deploy_removes_everything(
    shared: &'static Shared,
) -> Result<(), Failed> {
    let target = shared.target();
    let names = fresh_names();
    shared.runtime.block_on(async {
        let mut log = Vec::new();
        // Lambda refuses a package that is not a zip: everything before CreateFunction exists.
        let broken = DeployConfig {
            handler_zip: b"not a zip".to_vec(),
            ..config(shared)
        };
        let error = match deploy::deploy(target, &names, &broken, &mut log).await {
            Ok(_) => return Err("a deploy with a broken package succeeded".into()),
            Err(e) => e,
        };
        if !error.to_string().contains("CreateFunction") {
            return Err(format!("deploy failed elsewhere than CreateFunction: {error}").into());
        }
        let report = teardown(target, &names, &mut log).await;
        if !report.is_clean() {
            return Err(format!("teardown after a failed deploy not clean: {report:?}").into());
        }
        if !report.absent.iter().any(|a| a.contains("lambda function")) {
            return Err(format!("the function should have been absent: {report:?}").into());
        }
        Ok(())
    })
}

fn teardown_refuses_a_resource_without_our_tag(shared: &'static Shared) -> Result<(), Failed> {
    let target = shared.target();
    let names = fresh_names();
    shared.runtime.block_on(async {
        let s3 = target.s3();
        // Someone else's bucket that happens to carry our name (and no tag).
        s3.create_bucket()
            .bucket(&names.bucket)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let mut log = Vec::new();
        let report = teardown(target, &names, &mut log).await;
        let still_there = s3.head_bucket().bucket(&names.bucket).send().await.is_ok();
        s3.delete_bucket()
            .bucket(&names.bucket)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !still_there {
            return Err("teardown deleted a bucket without our tag".into());
        }
        if !report.errors.iter().any(|e| e.contains("refusing")) {
            return Err(format!("teardown did not report the refusal: {report:?}").into());
        }
        Ok(())
    })
}

/// The pipeline's stack guard: a run that ends without its explicit teardown (a panic, an early
/// return, Ctrl-C dropping the command) still leaves nothing behind.
fn a_stack_dropped_without_its_teardown_is_removed_by_its_guard(
    shared: &'static Shared,
) -> Result<(), Failed> {
    let target = shared.target();
    let names = fresh_names();
    shared.runtime.block_on(async {
        let mut log = Vec::new();
        let mut stack = harness::pipeline::Stack::named(target, names.clone());
        let deployment = stack
            .deploy(&config(shared), &mut log)
            .await
            .map_err(|e| format!("deploy: {e}"))?;
        drop(stack);
        let account = deploy::account_id(target)
            .await
            .map_err(|e| e.to_string())?;
        let left = deploy::teardown::leftovers(target, &names, &account).await;
        if !left.is_empty() {
            return Err(format!(
                "the dropped stack of run {} left {left:?}",
                deployment.run_id
            )
            .into());
        }
        Ok(())
    })
}
