//! An endpoint that accepts connections and never answers, over real HTTP on loopback: the
//! adapters built as `main` builds them (`sdk_config_loader`, `adapters`) give up well before
//! the function's timeout, after the SDK's retries, and the failure is `Handler.Retryable`.

use super::*;
use crate::aws::{OPERATION_TIMEOUT, adapters, sdk_config_loader};
use crate::error::error_type;
use crate::process::Processor;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tokio::net::TcpListener;

/// The function's timeout, as the harness deploys it.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the test waits before it calls a call hung (the issue saw no answer after 40 s).
const GIVE_UP: Duration = Duration::from_secs(40);

/// A loopback endpoint that accepts connections, holds them and never answers; with the number
/// of connections it accepted.
async fn black_hole() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    (url, accepted)
}

/// The adapters as `main` builds them, with the region, credentials and endpoint a Lambda
/// environment would give.
async fn adapters_at(url: &str) -> (S3Metadata, SnsPublisher) {
    let sdk = sdk_config_loader()
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(url)
        .load()
        .await;
    adapters(&sdk, false)
}

/// The output of `future` (`None` if it had none after [`GIVE_UP`]) and how long it took.
async fn timed<F: Future>(future: F) -> (Option<F::Output>, Duration) {
    let start = Instant::now();
    let output = tokio::time::timeout(GIVE_UP, future).await.ok();
    (output, start.elapsed())
}

/// No SDK timeouts were set, so an endpoint that accepted the connection and never answered
/// held the invocation until Lambda's own timeout. Now HeadObject (through the whole handler)
/// and Publish each fail within the operation timeout, after the SDK's three attempts, as
/// retryable.
#[tokio::test]
async fn regression_hung_endpoint_is_retryable_before_the_function_timeout() {
    let (s3_url, s3_accepted) = black_hole().await;
    let (sns_url, sns_accepted) = black_hole().await;
    let (metadata, publisher) = adapters_at(&s3_url).await;
    let processor = Processor::new(fixtures::config("bucket"), metadata, publisher);
    let (_, publisher) = adapters_at(&sns_url).await;
    let email = email_publish();

    let ((head, head_took), (publish, publish_took)) = tokio::join!(
        timed(processor.handle_json(fixtures::AWS_PUT_PLUS_SPACE)),
        timed(publisher.publish_email(&email)),
    );

    let bound = OPERATION_TIMEOUT + Duration::from_secs(3);
    assert!(bound < FUNCTION_TIMEOUT);
    let error = head
        .unwrap_or_else(|| panic!("HeadObject had no answer after {GIVE_UP:?}"))
        .unwrap_err();
    assert_eq!(error.error_type(), error_type::RETRYABLE, "{error}");
    assert!(error.to_string().contains("timeout"), "{error}");
    assert!(head_took < bound, "HeadObject failed after {head_took:?}");

    let error = publish
        .unwrap_or_else(|| panic!("Publish had no answer after {GIVE_UP:?}"))
        .unwrap_err();
    assert!(
        matches!(&error, PublishError::Retryable { detail } if detail.contains("timeout")),
        "{error:?}"
    );
    assert!(
        publish_took < bound,
        "Publish failed after {publish_took:?}"
    );

    // Each of the SDK's three attempts connected anew, and all fit in the budget.
    assert_eq!(s3_accepted.load(Ordering::SeqCst), 3);
    assert_eq!(sns_accepted.load(Ordering::SeqCst), 3);
}
