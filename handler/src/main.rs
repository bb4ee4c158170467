//! `bootstrap` for the `provided.al2023` runtime: wires logging, configuration, the AWS SDK
//! clients and the Lambda runtime around `handler::Processor`. No logic lives here.

use handler::aws::{S3Metadata, SnsPublisher};
use handler::{Config, Processor};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::value::RawValue;
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

    // Endpoints come from AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>, honoured by the SDK.
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(config.s3_force_path_style)
            .build(),
    );
    let sns = aws_sdk_sns::Client::new(&sdk);
    let processor = Arc::new(Processor::new(
        config,
        S3Metadata::new(s3),
        SnsPublisher::new(sns),
    ));

    // The payload arrives as JSON text (checked to be JSON by the runtime, not parsed into a
    // `Value`): the handler reads the fields it needs straight from it (`event::read`).
    let run = lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let processor = Arc::clone(&processor);
        async move { processor.handle_json(event.payload.get()).await }
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
