//! The embedded LocalStack really runs `provided.al2023` functions: the real handler answers an
//! Invoke, an S3 notification reaches it, and the Lambda contract (timeout, init failure) holds.

use std::time::{Duration, Instant};

use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
use libtest_mimic::{Failed, Trial};

use crate::shared::{self, Shared, unique_name};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("lambda::invoke_returns_the_real_handlers_result", || {
            with_shared(invoke_returns_the_real_handlers_result)
        }),
        Trial::test("lambda::s3_notification_invokes_the_real_handler", || {
            with_shared(s3_notification_invokes_the_real_handler)
        }),
        Trial::test(
            "lambda::function_past_its_timeout_fails_the_invocation",
            || with_shared(function_past_its_timeout_fails_the_invocation),
        ),
        Trial::test("lambda::crash_at_init_reports_an_init_error", || {
            with_shared(crash_at_init_reports_an_init_error)
        }),
    ]
}

type TestResult = Result<(), Failed>;

fn with_shared(test: fn(&'static Shared) -> TestResult) -> TestResult {
    let shared = shared::get()?;
    test(shared)
}

/// Handler configuration that passes init validation; the topics need not exist for a TestEvent.
fn handler_env(standard_topic: &str, fifo_topic: &str, key_arn: &str) -> Environment {
    Environment::builder()
        .variables("STANDARD_TOPIC_ARN", standard_topic)
        .variables("FIFO_TOPIC_ARN", fifo_topic)
        .variables("EXPECTED_KMS_KEY_ARN", key_arn)
        .variables("FIFO_GROUPING", "bucket")
        .build()
}

const ROLE: &str = "arn:aws:iam::000000000000:role/harness-e2e";

/// Creates a function from `zip` and waits until it is Active; returns its ARN.
async fn create_function(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    zip: Vec<u8>,
    env: Environment,
    timeout_s: i32,
) -> Result<String, Failed> {
    let created = lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role(ROLE)
        .timeout(timeout_s)
        .environment(env)
        .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
        .send()
        .await
        .map_err(|e| format!("CreateFunction {name}: {}", err_text(&e)))?;
    lambda
        .wait_until_function_active_v2()
        .function_name(name)
        .wait(Duration::from_secs(60))
        .await
        .map_err(|e| format!("function {name} never became Active: {e}"))?;
    Ok(created.function_arn().unwrap_or_default().to_owned())
}

struct InvokeOutcome {
    function_error: Option<String>,
    payload: String,
}

async fn invoke(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    payload: &str,
) -> Result<InvokeOutcome, Failed> {
    let out = lambda
        .invoke()
        .function_name(name)
        .payload(Blob::new(payload.as_bytes()))
        .send()
        .await
        .map_err(|e| format!("Invoke {name}: {}", err_text(&e)))?;
    Ok(InvokeOutcome {
        function_error: out.function_error().map(str::to_owned),
        payload: out
            .payload()
            .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
            .unwrap_or_default(),
    })
}

fn err_text<E: std::error::Error>(error: &E) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn invoke_returns_the_real_handlers_result(shared: &'static Shared) -> TestResult {
    shared.runtime.block_on(async {
        let lambda = aws_sdk_lambda::Client::new(&shared.sdk);
        let name = unique_name("e2e-invoke");
        let env = handler_env(
            "arn:aws:sns:us-east-1:000000000000:alerts",
            "arn:aws:sns:us-east-1:000000000000:events.fifo",
            "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000",
        );
        create_function(&lambda, &name, shared.bootstrap_zip.clone(), env, 10).await?;
        // S3 sends this when a notification is configured; the handler must accept and skip it.
        let test_event = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-25T10:00:00.000Z","Bucket":"b","RequestId":"R","HostId":"H"}"#;
        let outcome = invoke(&lambda, &name, test_event).await?;
        if let Some(error) = outcome.function_error {
            return Err(format!("handler failed ({error}): {}", outcome.payload).into());
        }
        let summary: serde_json::Value = serde_json::from_str(&outcome.payload)
            .map_err(|e| format!("handler answered non-JSON `{}`: {e}", outcome.payload))?;
        let ignored = summary["test_events_ignored"].as_u64();
        if ignored != Some(1) {
            return Err(format!("expected one ignored TestEvent, handler said {summary}").into());
        }
        lambda.delete_function().function_name(&name).send().await.map_err(|e| err_text(&e))?;
        Ok(())
    })
}

/// The whole trigger path: bucket notification -> real handler -> SNS FIFO -> SQS FIFO.
fn s3_notification_invokes_the_real_handler(shared: &'static Shared) -> TestResult {
    shared.runtime.block_on(async {
        let sdk = &shared.sdk;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(sdk)
                .force_path_style(true)
                .build(),
        );
        let sns = aws_sdk_sns::Client::new(sdk);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let lambda = aws_sdk_lambda::Client::new(sdk);
        let name = unique_name("e2e-notify");

        let standard = sns
            .create_topic()
            .name(&name)
            .send()
            .await
            .map_err(|e| err_text(&e))?;
        let fifo = sns
            .create_topic()
            .name(format!("{name}.fifo"))
            .attributes("FifoTopic", "true")
            .send()
            .await
            .map_err(|e| err_text(&e))?;
        let queue = sqs
            .create_queue()
            .queue_name(format!("{name}.fifo"))
            .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
            .send()
            .await
            .map_err(|e| err_text(&e))?;
        let queue_url = queue.queue_url().unwrap_or_default().to_owned();
        let queue_arn = format!("arn:aws:sqs:us-east-1:000000000000:{name}.fifo");
        sns.subscribe()
            .topic_arn(fifo.topic_arn().unwrap_or_default())
            .protocol("sqs")
            .endpoint(&queue_arn)
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .map_err(|e| err_text(&e))?;

        let env = handler_env(
            standard.topic_arn().unwrap_or_default(),
            fifo.topic_arn().unwrap_or_default(),
            "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000",
        );
        let function_arn =
            create_function(&lambda, &name, shared.bootstrap_zip.clone(), env, 30).await?;
        s3.create_bucket()
            .bucket(&name)
            .send()
            .await
            .map_err(|e| err_text(&e))?;
        lambda
            .add_permission()
            .function_name(&name)
            .statement_id("s3-invoke")
            .action("lambda:InvokeFunction")
            .principal("s3.amazonaws.com")
            .source_arn(format!("arn:aws:s3:::{name}"))
            .send()
            .await
            .map_err(|e| err_text(&e))?;
        use aws_sdk_s3::types::{Event, LambdaFunctionConfiguration, NotificationConfiguration};
        s3.put_bucket_notification_configuration()
            .bucket(&name)
            .notification_configuration(
                NotificationConfiguration::builder()
                    .lambda_function_configurations(
                        LambdaFunctionConfiguration::builder()
                            .lambda_function_arn(&function_arn)
                            .events(Event::from("s3:ObjectCreated:*"))
                            .build()
                            .map_err(|e| e.to_string())?,
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(|e| err_text(&e))?;

        let key = "incoming/report 2026+final.txt";
        s3.put_object()
            .bucket(&name)
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"hello"))
            .send()
            .await
            .map_err(|e| err_text(&e))?;

        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let received = sqs
                .receive_message()
                .queue_url(&queue_url)
                .wait_time_seconds(2)
                .send()
                .await
                .map_err(|e| err_text(&e))?;
            if let Some(message) = received.messages().first() {
                let body: serde_json::Value =
                    serde_json::from_str(message.body().unwrap_or_default())
                        .map_err(|e| format!("FIFO message is not JSON: {e}"))?;
                if body["key"] != key || body["bucket"] != name.as_str() {
                    return Err(format!("FIFO message names another object: {body}").into());
                }
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no FIFO message 60 s after uploading {key}; the notification did not run \
                     the handler (see LocalStack's log for the invocation)"
                )
                .into());
            }
        }
    })
}

/// A bootstrap that takes one invocation and never answers it.
const HANGING_BOOTSTRAP: &str = r#"#!/bin/bash
host=${AWS_LAMBDA_RUNTIME_API%:*}
port=${AWS_LAMBDA_RUNTIME_API##*:}
exec 3<>"/dev/tcp/$host/$port"
printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n' "$AWS_LAMBDA_RUNTIME_API" >&3
read -r status <&3
echo "got an invocation ($status); hanging" >&2
exec sleep 600
"#;

fn function_past_its_timeout_fails_the_invocation(shared: &'static Shared) -> TestResult {
    shared.runtime.block_on(async {
        let lambda = aws_sdk_lambda::Client::new(&shared.sdk);
        let name = unique_name("e2e-timeout");
        let zip =
            harness::artifact::zip_single_executable("bootstrap", HANGING_BOOTSTRAP.as_bytes())
                .map_err(|e| e.to_string())?;
        create_function(&lambda, &name, zip, Environment::builder().build(), 2).await?;
        let started = Instant::now();
        let outcome = invoke(&lambda, &name, "{}").await?;
        let took = started.elapsed();
        if outcome.function_error.is_none() {
            return Err(format!("a hanging function succeeded: {}", outcome.payload).into());
        }
        if !outcome.payload.to_lowercase().contains("timed out") {
            return Err(format!("error does not say it timed out: {}", outcome.payload).into());
        }
        if took > Duration::from_secs(30) {
            return Err(format!("timeout of 2 s enforced only after {took:?}").into());
        }
        // The hung process must have been killed, not left behind.
        let sleepers: Vec<u32> = harness::proc_tree::descendants(shared.localstack_pid)
            .into_iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| String::from_utf8_lossy(&c).contains("sleep\u{0}600"))
                    .unwrap_or(false)
            })
            .collect();
        if !sleepers.is_empty() {
            return Err(format!("timed-out function still running: pids {sleepers:?}").into());
        }
        Ok(())
    })
}

/// The real handler without its configuration must stop at init and say which variable is
/// missing; the invocation must fail promptly instead of hanging.
fn crash_at_init_reports_an_init_error(shared: &'static Shared) -> TestResult {
    shared.runtime.block_on(async {
        let lambda = aws_sdk_lambda::Client::new(&shared.sdk);
        let name = unique_name("e2e-initfail");
        let env = Environment::builder()
            .variables(
                "FIFO_TOPIC_ARN",
                "arn:aws:sns:us-east-1:000000000000:events.fifo",
            )
            .build();
        create_function(&lambda, &name, shared.bootstrap_zip.clone(), env, 10).await?;
        let started = Instant::now();
        let result = lambda
            .invoke()
            .function_name(&name)
            .log_type(aws_sdk_lambda::types::LogType::Tail)
            .payload(Blob::new("{}"))
            .send()
            .await;
        let text = match result {
            Ok(out) => {
                let payload = out
                    .payload()
                    .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
                    .unwrap_or_default();
                let logs = out
                    .log_result()
                    .and_then(|l| aws_smithy_types::base64::decode(l).ok())
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                if out.function_error().is_none() {
                    return Err(format!("init failure went unnoticed: {payload}").into());
                }
                format!("{payload}\n{logs}")
            }
            Err(e) => err_text(&e),
        };
        if started.elapsed() > Duration::from_secs(30) {
            return Err(format!("init failure took {:?} to report", started.elapsed()).into());
        }
        let lower = text.to_lowercase();
        if !(lower.contains("init") || lower.contains("exit")) {
            return Err(format!("error does not report an init failure: {text}").into());
        }
        let instance_log = std::fs::read_to_string(&shared.log).unwrap_or_default();
        if !(text.contains("STANDARD_TOPIC_ARN") || instance_log.contains("STANDARD_TOPIC_ARN")) {
            return Err(format!(
                "the missing variable STANDARD_TOPIC_ARN is named neither in the invoke \
                 result nor in the function's logs: {text}"
            )
            .into());
        }
        Ok(())
    })
}
