//! The real `bootstrap` binary against a fake Lambda Runtime API on loopback, for the payloads of
//! the issue: what the function reports to Lambda (`POST /invocation/{id}/error`) for a payload
//! that is not JSON, for keys over S3's 1,024-byte limit, and when the AWS endpoint accepts
//! connections and never answers. Every AWS endpoint is such a black hole here, so nothing
//! leaves the machine.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, mpsc};

/// The function's timeout, as the harness deploys it.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);
const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

/// What the function posted for the invocation: the path's last segment and the JSON body.
#[derive(Debug)]
struct Posted {
    kind: String,
    body: Value,
}

/// The Runtime API: hands out `payload` once (later `next` calls wait forever) and forwards what
/// the function posts.
async fn runtime_api(payload: Vec<u8>) -> (SocketAddr, mpsc::UnboundedReceiver<Posted>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (sender, posted) = mpsc::unbounded_channel();
    let payload = Arc::new(Mutex::new(Some(Bytes::from(payload))));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let payload = Arc::clone(&payload);
            let sender = sender.clone();
            let service = service_fn(move |request: Request<Incoming>| {
                let payload = Arc::clone(&payload);
                let sender = sender.clone();
                async move { Ok::<_, Infallible>(answer(request, &payload, &sender).await) }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    (addr, posted)
}

async fn answer(
    request: Request<Incoming>,
    payload: &Mutex<Option<Bytes>>,
    posted: &mpsc::UnboundedSender<Posted>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    if path == "/2018-06-01/runtime/invocation/next" {
        let Some(payload) = payload.lock().await.take() else {
            return std::future::pending().await;
        };
        let deadline = SystemTime::now() + FUNCTION_TIMEOUT;
        let deadline_ms = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis();
        return Response::builder()
            .header("lambda-runtime-aws-request-id", REQUEST_ID)
            .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:eu-west-1:111122223333:function:upload-handler",
            )
            .body(Full::new(payload))
            .unwrap();
    }
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let kind = path.rsplit('/').next().unwrap_or_default().to_owned();
    let body =
        serde_json::from_slice(&body).unwrap_or_else(|_| json!(String::from_utf8_lossy(&body)));
    posted.send(Posted { kind, body }).unwrap();
    Response::builder()
        .status(StatusCode::ACCEPTED)
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// A loopback endpoint that accepts connections and never answers; counts them.
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

/// `bootstrap` with a Lambda environment: the Runtime API at `runtime_api`, every AWS endpoint
/// at `endpoint`, test credentials, the handler's configuration, and nothing inherited.
fn bootstrap(runtime_api: SocketAddr, endpoint: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "upload-handler")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env(
            "STANDARD_TOPIC_ARN",
            "arn:aws:sns:eu-west-1:111122223333:upload-alerts",
        )
        .env(
            "FIFO_TOPIC_ARN",
            "arn:aws:sns:eu-west-1:111122223333:upload-events.fifo",
        )
        .env(
            "EXPECTED_KMS_KEY_ARN",
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("bootstrap starts")
}

/// One invocation of `bootstrap` with `payload`: what it posted (`None` if nothing within
/// `wait`), how long after it started that took, and its log.
async fn invoke(
    payload: Vec<u8>,
    endpoint: &str,
    wait: Duration,
) -> (Option<Posted>, Duration, String) {
    let (api, mut posted) = runtime_api(payload).await;
    let mut child = bootstrap(api, endpoint);
    let start = Instant::now();
    let answer = tokio::time::timeout(wait, posted.recv())
        .await
        .ok()
        .flatten();
    let took = start.elapsed();
    child.start_kill().unwrap();
    let output = child.wait_with_output().await.unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (answer, took, log)
}

/// The `errorType` and `errorMessage` of an invocation error.
fn error_of(posted: Option<Posted>, log: &str) -> (String, String) {
    let posted = posted.unwrap_or_else(|| panic!("the function posted nothing; its log:\n{log}"));
    assert_eq!(posted.kind, "error", "{posted:?}\n{log}");
    let field = |name: &str| posted.body[name].as_str().unwrap_or_default().to_owned();
    (field("errorType"), field("errorMessage"))
}

fn record(key: &str) -> Value {
    json!({
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-1",
        "eventTime": "2026-03-02T09:15:27.482Z", "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "bucket": {"name": "acme-secure-uploads", "arn": "arn:aws:s3:::acme-secure-uploads"},
            "object": {"key": key, "size": 1, "eTag": "e", "sequencer": "0067C4217F6A3B9E21"}
        }
    })
}

/// The runtime refused a body that is not JSON before calling the handler, and Lambda saw
/// `&lambda_runtime::deserializer::DeserializeError`.
#[tokio::test]
async fn regression_non_json_payload_is_handler_malformed_event_not_a_runtime_deserialize_error() {
    let (endpoint, accepted) = black_hole().await;
    let wait = Duration::from_secs(20);
    let (posted, _, log) = invoke(b"this is not JSON".to_vec(), &endpoint, wait).await;
    let (error_type, message) = error_of(posted, &log);
    assert_eq!(error_type, "Handler.MalformedEvent", "{message}\n{log}");
    assert!(
        message.starts_with("malformed event: the event payload cannot be parsed as JSON: "),
        "{message}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
}

/// The keys (70 KB and 2 MB) panicked inside the SDK, and Lambda saw
/// `&alloc::boxed::Box<dyn Any + Send>` with `InvalidUri(TooLong)`.
#[tokio::test]
async fn regression_key_over_1024_bytes_is_a_malformed_record_not_a_panic() {
    let (endpoint, accepted) = black_hole().await;
    let payload = json!({"Records": [record(&"k".repeat(70_000)), record(&"k".repeat(2_000_000))]});
    let wait = Duration::from_secs(20);
    let (posted, _, log) = invoke(payload.to_string().into_bytes(), &endpoint, wait).await;
    let (error_type, message) = error_of(posted, &log);
    assert_eq!(error_type, "Handler.MalformedEvent", "{message}\n{log}");
    for (index, bytes) in [(0, 70_000), (1, 2_000_000)] {
        let expected = format!(
            "record {index}: [Handler.MalformedEvent] malformed record: \
             `Records[{index}].s3.object.key` is"
        );
        assert!(message.contains(&expected), "{message}");
        let limit = format!("the decoded key is {bytes} bytes, more than S3's limit of 1024 bytes");
        assert!(message.contains(&limit), "{message}");
    }
    assert!(message.len() < 2000, "{} bytes", message.len());
    // Refused before any AWS call.
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
}

/// Without SDK timeouts, an endpoint that accepted connections and never answered held the
/// invocation past Lambda's timeout (no answer after 40 s against a 30 s deadline).
#[tokio::test]
async fn regression_hung_endpoint_is_retryable_before_the_function_timeout() {
    let (endpoint, accepted) = black_hole().await;
    let payload = json!({"Records": [record("invoices/report.pdf")]});
    let wait = FUNCTION_TIMEOUT + Duration::from_secs(10);
    let (posted, took, log) = invoke(payload.to_string().into_bytes(), &endpoint, wait).await;
    assert!(
        posted.is_some(),
        "no answer after {took:?}; the log:\n{log}"
    );
    let (error_type, message) = error_of(posted, &log);
    assert_eq!(error_type, "Handler.Retryable", "{message}\n{log}");
    assert!(
        message.contains("HeadObject failed transiently"),
        "{message}"
    );
    assert!(message.contains("timeout"), "{message}");
    // Within the function's timeout, with room to spare for init.
    assert!(
        took < FUNCTION_TIMEOUT - Duration::from_secs(5),
        "answered after {took:?}"
    );
    // The SDK's three attempts, each on a new connection.
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}
