//! The fault proxy: an HTTP server on loopback between the deployed function and the endpoint.
//!
//! The function is pointed at it through the SDK's standard service endpoint variables
//! (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_SNS`), so the production binary runs unchanged.
//! Every request is described and offered to the [`Scheduler`]; a picked one gets AWS's own
//! error shape (throttling, internal error), a delay, a closed connection, a second copy, or
//! its caller killed; everything else is forwarded as is. Each injection is recorded with the
//! time and what the request was about, for the report and the timeline.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::caller;
use super::schedule::{Decision, RequestInfo, Scheduler};
use super::spec::{HttpAction, HttpFault, Service};

/// One fault the proxy injected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Injection {
    /// The fault's position in the scenario's `[[chaos]]` list (0-based).
    pub rule: usize,
    pub at_ms: u64,
    pub action: HttpAction,
    /// The operation and what it was about (S3 path, topic and key).
    pub request: String,
    /// What happened beyond the action itself, e.g. `killed pid 1234`.
    pub detail: String,
}

struct Shared {
    upstream: String,
    scheduler: Mutex<Scheduler>,
    injections: Mutex<Vec<Injection>>,
    client: reqwest::Client,
    epoch: Instant,
    local: SocketAddr,
}

/// A running proxy; it stops when dropped.
pub struct FaultProxy {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("starting the fault proxy on 127.0.0.1: {0}")]
    Bind(std::io::Error),
    #[error("building the fault proxy's HTTP client: {0}")]
    Client(reqwest::Error),
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (e.g. `http://127.0.0.1:4566`) injecting `faults`
    /// (`(position, fault)`) with decisions from `seed`; times are ms since `epoch`.
    pub async fn start(
        upstream: &str,
        faults: Vec<(usize, HttpFault)>,
        seed: u64,
        epoch: Instant,
    ) -> Result<Self, ProxyError> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(ProxyError::Bind)?;
        let local = listener.local_addr().map_err(ProxyError::Bind)?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(ProxyError::Client)?;
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            scheduler: Mutex::new(Scheduler::new(seed, faults)),
            injections: Mutex::new(Vec::new()),
            client,
            epoch,
            local,
        });
        let accept = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((stream, peer)) = listener.accept().await {
                let shared = Arc::clone(&accept);
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let shared = Arc::clone(&shared);
                        async move { handle(&shared, req, peer).await }
                    });
                    // A dropped connection (reset, killed caller) ends here; nothing to report.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { shared, task })
    }

    /// The proxy's URL, for `AWS_ENDPOINT_URL_<SERVICE>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.local)
    }

    /// Every injection so far, in time order.
    pub fn injections(&self) -> Vec<Injection> {
        lock(&self.shared.injections).clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

type Reply = Result<Response<Full<Bytes>>, String>;

async fn handle(shared: &Shared, req: Request<Incoming>, peer: SocketAddr) -> Reply {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| format!("reading the request body: {e}"))?
        .to_bytes();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let info = RequestInfo::describe(
        parts.method.as_str(),
        &path,
        |name| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        },
        &body,
    );
    let decision = lock(&shared.scheduler).decide(&info);
    let Some(decision) = decision else {
        return forward(shared, &parts, &path, body).await;
    };
    let mut detail = String::new();
    let reply = match decision.action {
        HttpAction::Throttle | HttpAction::ServerError => Ok(aws_error(&info, decision.action)),
        HttpAction::Latency => {
            // The fault itself: hold the request, then forward it.
            let delay = Duration::from_millis(decision.latency_ms.unwrap_or(0));
            tokio::time::sleep(delay).await;
            forward(shared, &parts, &path, body.clone()).await
        }
        HttpAction::Reset => Err("connection reset by the fault proxy".to_owned()),
        HttpAction::Duplicate => {
            let first = forward(shared, &parts, &path, body.clone()).await;
            detail = format!(
                "first copy: {}",
                first
                    .as_ref()
                    .map_or_else(Clone::clone, |r| r.status().to_string())
            );
            forward(shared, &parts, &path, body.clone()).await
        }
        HttpAction::KillCaller => {
            detail = kill_caller(peer, shared.local);
            Err("caller killed by the fault proxy".to_owned())
        }
    };
    record(shared, decision, &info, detail);
    reply
}

fn record(shared: &Shared, decision: Decision, info: &RequestInfo, detail: String) {
    let request = format!(
        "{} {}",
        info.operation.as_deref().unwrap_or("request"),
        info.subject
    );
    lock(&shared.injections).push(Injection {
        rule: decision.rule,
        at_ms: shared.epoch.elapsed().as_millis() as u64,
        action: decision.action,
        request,
        detail,
    });
}

fn kill_caller(peer: SocketAddr, local: SocketAddr) -> String {
    match caller::socket_owner(peer, local) {
        Some(pid) => {
            let pid = nix::unistd::Pid::from_raw(pid as i32);
            match nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL) {
                Ok(()) => format!("killed pid {pid}"),
                Err(e) => format!("kill pid {pid} failed: {e}"),
            }
        }
        None => format!("no process found for {peer}; connection reset instead"),
    }
}

/// Headers not to pass on: hop-by-hop ones and those the client recomputes.
fn passes(name: &str) -> bool {
    !matches!(
        name,
        "host"
            | "connection"
            | "keep-alive"
            | "transfer-encoding"
            | "te"
            | "upgrade"
            | "proxy-connection"
            | "content-length"
    )
}

async fn forward(
    shared: &Shared,
    parts: &hyper::http::request::Parts,
    path: &str,
    body: Bytes,
) -> Reply {
    let url = format!("{}{path}", shared.upstream);
    let mut request = shared.client.request(parts.method.clone(), &url).body(body);
    for (name, value) in &parts.headers {
        if passes(name.as_str()) {
            request = request.header(name, value);
        }
    }
    let upstream = request
        .send()
        .await
        .map_err(|e| format!("forwarding to {url}: {e}"))?;
    let mut response = Response::builder().status(upstream.status());
    for (name, value) in upstream.headers() {
        // Content-Length stays: a HEAD response's is the object's size.
        if name.as_str() == "content-length" || passes(name.as_str()) {
            response = response.header(name, value);
        }
    }
    let bytes = upstream
        .bytes()
        .await
        .map_err(|e| format!("reading the response of {url}: {e}"))?;
    response
        .body(Full::new(bytes))
        .map_err(|e| format!("building the response: {e}"))
}

/// AWS's error response for a throttled or failed call, in the service's protocol.
fn aws_error(info: &RequestInfo, action: HttpAction) -> Response<Full<Bytes>> {
    let throttle = action == HttpAction::Throttle;
    let request_id = "chaos-0000-0000";
    let (status, content_type, body) = match info.service {
        Some(Service::Sns) => {
            let (status, kind, code, message) = if throttle {
                (
                    StatusCode::BAD_REQUEST,
                    "Sender",
                    "Throttling",
                    "Rate exceeded",
                )
            } else {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Receiver",
                    "InternalError",
                    "Internal Error",
                )
            };
            let body = format!(
                "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
            );
            (status, "text/xml", body)
        }
        _ => {
            let (status, code, message) = if throttle {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SlowDown",
                    "Please reduce your request rate.",
                )
            } else {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                )
            };
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
            );
            (status, "application/xml", body)
        }
    };
    let head = info.operation.as_deref() == Some("HeadObject");
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-amz-request-id", request_id)
        .body(Full::new(if head {
            Bytes::new()
        } else {
            Bytes::from(body)
        }))
        .expect("static response parts are valid")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chaos::spec::TopicKind;

    fn info(service: Service, operation: &str) -> RequestInfo {
        RequestInfo {
            service: Some(service),
            operation: Some(operation.into()),
            topic: Some(TopicKind::Fifo),
            call_id: None,
            subject: String::new(),
        }
    }

    #[test]
    fn errors_have_each_services_shape() {
        let sns = aws_error(&info(Service::Sns, "Publish"), HttpAction::Throttle);
        assert_eq!(sns.status(), StatusCode::BAD_REQUEST);
        let s3 = aws_error(&info(Service::S3, "HeadObject"), HttpAction::Throttle);
        assert_eq!(s3.status(), StatusCode::SERVICE_UNAVAILABLE);
        let s3 = aws_error(&info(Service::S3, "GetObject"), HttpAction::ServerError);
        assert_eq!(s3.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(passes("authorization") && passes("x-amz-date"));
        assert!(!passes("host") && !passes("transfer-encoding"));
    }
}
