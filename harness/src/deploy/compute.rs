//! The compute side of the stack: the execution role, the log group, the function with its
//! on-failure destination, its S3 permission and the bucket notification that triggers it.

use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, DestinationConfig, Environment, FunctionCode, OnFailure, Runtime, State,
};
use aws_sdk_s3::types::{Event, LambdaFunctionConfiguration, NotificationConfiguration};

use super::aws_error::{DeployError, error_code, is_not_found};
use super::{Ctx, DeployConfig};
use crate::stack::plan::MAX_RETRY_ATTEMPTS;
use crate::stack::policy::{execution_role_policy, execution_role_trust_policy, lambda_permission};
use crate::stack::{StackArns, TAG_REGION};

/// How long a function may take to become Active.
const ACTIVE_DEADLINE: Duration = Duration::from_secs(120);

/// Creates the execution role (or accepts ours) and puts its inline policy; returns its ARN.
pub async fn ensure_role(ctx: &mut Ctx<'_>, arns: &StackArns) -> Result<String, DeployError> {
    let iam = ctx.target.iam();
    let role = ctx.names.role.clone();
    let trust = execution_role_trust_policy(arns).to_string();
    let mut create = iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(&trust)
        .description(format!("upload-harness run {}", ctx.names.run_id));
    // A global resource: it also carries its stack's region, which teardown checks.
    let region = (TAG_REGION.to_owned(), arns.region.clone());
    for (key, value) in ctx.tags().into_iter().chain([region]) {
        create = create.tags(
            aws_sdk_iam::types::Tag::builder()
                .key(key)
                .value(value)
                .build()
                .map_err(|e| DeployError::Invalid(e.to_string()))?,
        );
    }
    let role_arn = match create.send().await {
        Ok(out) => out.role().map(|r| r.arn().to_owned()),
        Err(e) if error_code(&e) == Some("EntityAlreadyExists") => None,
        Err(e) => return Err(DeployError::call("iam CreateRole", &role, e)),
    };
    ctx.record("iam", "CreateRole", &role);
    let role_arn = role_arn.unwrap_or_else(|| arns.role.clone());
    iam.put_role_policy()
        .role_name(&role)
        .policy_name(&ctx.names.role_policy)
        .policy_document(execution_role_policy(arns).to_string())
        .send()
        .await
        .map_err(|e| DeployError::call("iam PutRolePolicy", &role, e))?;
    ctx.record("iam", "PutRolePolicy", &role);
    Ok(role_arn)
}

/// The function's log group, created by us so the role needs no `logs:CreateLogGroup`.
pub async fn ensure_log_group(ctx: &mut Ctx<'_>) -> Result<(), DeployError> {
    let group = ctx.names.log_group.clone();
    let tags = ctx.tags().into_iter().collect();
    match ctx
        .target
        .logs()
        .create_log_group()
        .log_group_name(&group)
        .set_tags(Some(tags))
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) if error_code(&e) == Some("ResourceAlreadyExistsException") => {}
        Err(e) => return Err(DeployError::call("logs CreateLogGroup", &group, e)),
    }
    ctx.record("logs", "CreateLogGroup", &group);
    Ok(())
}

/// Creates the function or brings an existing one to the wanted code and configuration, waits
/// until it is Active, and sets its async retry policy and on-failure destination.
pub async fn ensure_function(
    ctx: &mut Ctx<'_>,
    arns: &StackArns,
    role_arn: &str,
    config: &DeployConfig,
) -> Result<String, DeployError> {
    let lambda = ctx.target.lambda();
    let name = ctx.names.function.clone();
    let mut env = Environment::builder()
        .variables("STANDARD_TOPIC_ARN", &arns.standard_topic)
        .variables("FIFO_TOPIC_ARN", &arns.fifo_topic)
        .variables("EXPECTED_KMS_KEY_ARN", &arns.key)
        .variables("FIFO_GROUPING", &config.fifo_grouping);
    for (name, value) in &config.function_env {
        env = env.variables(name, value);
    }
    let env = env.build();
    let exists = match lambda.get_function().function_name(&name).send().await {
        Ok(_) => true,
        Err(e) if is_not_found(error_code(&e)) => false,
        Err(e) => return Err(DeployError::call("lambda GetFunction", &name, e)),
    };
    if exists {
        lambda
            .update_function_code()
            .function_name(&name)
            .zip_file(Blob::new(config.handler_zip.clone()))
            .send()
            .await
            .map_err(|e| DeployError::call("lambda UpdateFunctionCode", &name, e))?;
        ctx.record("lambda", "UpdateFunctionCode", &name);
        wait_ready(&lambda, &name).await?;
        lambda
            .update_function_configuration()
            .function_name(&name)
            .role(role_arn)
            .timeout(config.function_timeout_s)
            .environment(env)
            .send()
            .await
            .map_err(|e| DeployError::call("lambda UpdateFunctionConfiguration", &name, e))?;
        ctx.record("lambda", "UpdateFunctionConfiguration", &name);
    } else {
        let tags: std::collections::HashMap<String, String> = ctx.tags().into_iter().collect();
        let started = Instant::now();
        loop {
            let result = lambda
                .create_function()
                .function_name(&name)
                .runtime(Runtime::Providedal2023)
                .architectures(Architecture::X8664)
                .handler("bootstrap")
                .role(role_arn)
                .timeout(config.function_timeout_s)
                .memory_size(256)
                .environment(env.clone())
                .set_tags(Some(tags.clone()))
                .code(
                    FunctionCode::builder()
                        .zip_file(Blob::new(config.handler_zip.clone()))
                        .build(),
                )
                .send()
                .await;
            match result {
                Ok(_) => break,
                // On AWS a new role is not assumable for a few seconds.
                Err(e)
                    if error_code(&e) == Some("InvalidParameterValueException")
                        && aws_sdk_lambda::error::ProvideErrorMetadata::message(&e)
                            .is_some_and(|m| m.contains("cannot be assumed"))
                        && started.elapsed() < Duration::from_secs(60) =>
                {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
                Err(e) => return Err(DeployError::call("lambda CreateFunction", &name, e)),
            }
        }
        ctx.record("lambda", "CreateFunction", &name);
    }
    wait_ready(&lambda, &name).await?;
    lambda
        .put_function_event_invoke_config()
        .function_name(&name)
        .maximum_retry_attempts(i32::from(MAX_RETRY_ATTEMPTS))
        .destination_config(
            DestinationConfig::builder()
                .on_failure(
                    OnFailure::builder()
                        .destination(&arns.failure_queue)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .map_err(|e| DeployError::call("lambda PutFunctionEventInvokeConfig", &name, e))?;
    ctx.record("lambda", "PutFunctionEventInvokeConfig", &name);
    Ok(arns.function.clone())
}

/// Waits until the function is Active and no update is in progress.
async fn wait_ready(lambda: &aws_sdk_lambda::Client, name: &str) -> Result<(), DeployError> {
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < ACTIVE_DEADLINE {
        let config = lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(|e| DeployError::call("lambda GetFunctionConfiguration", name, e))?;
        let state = config.state().cloned();
        let update = config.last_update_status().map(|s| s.as_str().to_owned());
        if state == Some(State::Failed) {
            return Err(DeployError::NotReady {
                what: format!("function {name}"),
                waited_s: started.elapsed().as_secs(),
                detail: format!(
                    "state Failed: {}",
                    config.state_reason().unwrap_or("no reason")
                ),
            });
        }
        if state == Some(State::Active) && update.as_deref() != Some("InProgress") {
            return Ok(());
        }
        last = format!("state {state:?}, last update {update:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(DeployError::NotReady {
        what: format!("function {name}"),
        waited_s: ACTIVE_DEADLINE.as_secs(),
        detail: last,
    })
}

/// Lets S3 invoke the function (scoped by bucket ARN and account) and points the bucket's
/// `s3:ObjectCreated:*` notification at it.
pub async fn ensure_trigger(
    ctx: &mut Ctx<'_>,
    arns: &StackArns,
    function_arn: &str,
) -> Result<(), DeployError> {
    let permission = lambda_permission(ctx.names, arns);
    match ctx
        .target
        .lambda()
        .add_permission()
        .function_name(&permission.function_name)
        .statement_id(&permission.statement_id)
        .action(permission.action)
        .principal(permission.principal)
        .source_arn(&permission.source_arn)
        .source_account(&permission.source_account)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) if error_code(&e) == Some("ResourceConflictException") => {}
        Err(e) => {
            return Err(DeployError::call(
                "lambda AddPermission",
                &permission.function_name,
                e,
            ));
        }
    }
    ctx.record("lambda", "AddPermission", &permission.function_name);
    let bucket = ctx.names.bucket.clone();
    let configuration = LambdaFunctionConfiguration::builder()
        .id(&ctx.names.notification_id)
        .lambda_function_arn(function_arn)
        .events(Event::from("s3:ObjectCreated:*"))
        .build()
        .map_err(|e| DeployError::Invalid(e.to_string()))?;
    ctx.target
        .s3()
        .put_bucket_notification_configuration()
        .bucket(&bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .lambda_function_configurations(configuration)
                .build(),
        )
        .send()
        .await
        .map_err(|e| DeployError::call("s3 PutBucketNotificationConfiguration", &bucket, e))?;
    ctx.record("s3", "PutBucketNotificationConfiguration", &bucket);
    Ok(())
}
