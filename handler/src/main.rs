//! `bootstrap` for the `provided.al2023` runtime: wires logging, configuration, the AWS SDK
//! clients and the Lambda runtime around `handler::Processor`. No logic lives here.

use handler::event::Payload;
use handler::{Config, Processor, aws};
use lambda_runtime::{LambdaEvent, service_fn};
use std::process::ExitCode;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // One JSON object per line; RUST_LOG overrides the level (default: info, SDK internals warn).
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            EnvFilter::new(
                "info,aws_config=warn,aws_smithy_runtime=warn,aws_sdk_s3=warn,aws_sdk_sns=warn",
            )
        }))
        .init();

    let config = match Config::from_lookup(|var| std::env::var(var).ok()) {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(error = %error, "init failed: invalid configuration");
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        standard_topic_arn = %config.standard_topic_arn,
        fifo_topic_arn = %config.fifo_topic_arn,
        expected_kms_key = %config.expected_kms_key.as_str(),
        grouping = ?config.grouping,
        "configuration loaded"
    );

    // Endpoints come from AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, honoured by the SDK;
    // every call has the timeouts of `aws::timeouts`.
    let sdk = aws::sdk_config_loader().load().await;
    let (metadata, publisher) = aws::adapters(&sdk, config.s3_force_path_style);
    let processor = Arc::new(Processor::new(config, metadata, publisher));

    // The payload arrives as JSON text (not parsed into a `Value`), or as the reason it is not
    // JSON: `Payload` never fails to deserialize, so the handler reports either itself.
    let run = lambda_runtime::run(service_fn(move |event: LambdaEvent<Payload>| {
        let processor = Arc::clone(&processor);
        async move { processor.handle_payload(&event.payload).await }
    }))
    .await;
    match run {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %error, "Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}
