//! An HTTP client that records every request the SDK sends and forwards it unchanged.
//!
//! It wraps the SDK's default HTTPS client (hyper 1 + rustls with aws-lc, as the
//! `default-https-client` feature builds it), so a [`crate::run_target::Target`] whose
//! [`aws_config::SdkConfig`] uses it behaves exactly like a normal one while every signed
//! request (method, URI, headers and in-memory body) is kept for inspection. The AWS-only
//! paths are tested this way: the exact requests a deploy makes (ARNs, policies, conditions)
//! are asserted at the HTTP layer against a LocalStack.

use std::fmt;
use std::sync::{Arc, Mutex};

use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;

/// One request as it went on the wire (after signing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub uri: String,
    /// Every header, names lowercase, in the order sent.
    pub headers: Vec<(String, String)>,
    /// The body when it was in memory (every body the deploy sends); `None` for a stream.
    pub body: Option<Vec<u8>>,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text (lossy), empty when there is none.
    pub fn body_text(&self) -> String {
        self.body
            .as_deref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    }

    /// The SigV4 credential scope of the `Authorization` header: `(region, service)`.
    pub fn signing_scope(&self) -> Option<(&str, &str)> {
        let auth = self.header("authorization")?;
        let credential = auth.split("Credential=").nth(1)?;
        let scope = credential.split([',', ' ']).next()?;
        // ACCESS_KEY/DATE/REGION/SERVICE/aws4_request
        let mut parts = scope.split('/').skip(2);
        Some((parts.next()?, parts.next()?))
    }

    /// The signing name of the service the request went to (`s3`, `iam`, `kms`, ...).
    pub fn service(&self) -> Option<&str> {
        self.signing_scope().map(|(_, service)| service)
    }

    /// The URI's path, without the query.
    pub fn path(&self) -> &str {
        let without_scheme = self
            .uri
            .split_once("://")
            .map_or(self.uri.as_str(), |(_, rest)| rest);
        let path = without_scheme
            .find('/')
            .map_or("/", |i| &without_scheme[i..]);
        path.split(['?', '#']).next().unwrap_or(path)
    }

    /// The URI's raw query string (`""` when there is none).
    pub fn query(&self) -> &str {
        self.uri
            .split_once('?')
            .map_or("", |(_, q)| q.split('#').next().unwrap_or(q))
    }
}

/// The shared log of a recording client; clone it freely.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl Recorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every request recorded so far, in the order sent.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().clone()
    }

    /// Forgets what was recorded.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// An HTTP client for an [`aws_config::SdkConfig`] that records into this recorder and
    /// forwards to the SDK's default HTTPS client.
    pub fn http_client(&self) -> SharedHttpClient {
        self.wrap(default_https_client())
    }

    /// An HTTP client that records into this recorder and forwards to `inner`.
    pub fn wrap(&self, inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(RecordingClient {
            inner,
            recorder: self.clone(),
        })
    }

    fn record(&self, request: &HttpRequest) {
        let recorded = RecordedRequest {
            method: request.method().to_owned(),
            uri: request.uri().to_owned(),
            headers: request
                .headers()
                .iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
                .collect(),
            body: request.body().bytes().map(<[u8]>::to_vec),
        };
        self.lock().push(recorded);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RecordedRequest>> {
        self.requests.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The client the SDK builds by default (`default-https-client`): rustls with aws-lc.
pub fn default_https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .build_https()
}

struct RecordingClient {
    inner: SharedHttpClient,
    recorder: Recorder,
}

impl fmt::Debug for RecordingClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingClient")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl HttpClient for RecordingClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(RecordingConnector {
            inner: self.inner.http_connector(settings, components),
            recorder: self.recorder.clone(),
        })
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner
            .validate_base_client_config(runtime_components, cfg)
    }

    fn validate_final_config(
        &self,
        runtime_components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

struct RecordingConnector {
    inner: SharedHttpConnector,
    recorder: Recorder,
}

impl fmt::Debug for RecordingConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingConnector")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl HttpConnector for RecordingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.recorder.record(&request);
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, auth: Option<&str>) -> RecordedRequest {
        RecordedRequest {
            method: "PUT".into(),
            uri: uri.into(),
            headers: auth
                .map(|a| vec![("authorization".to_owned(), a.to_owned())])
                .unwrap_or_default(),
            body: None,
        }
    }

    #[test]
    fn uri_and_signing_scope_are_read_back() {
        let r = request(
            "http://localhost:4566/upl-habcdefghij-uploads?policy",
            Some(
                "AWS4-HMAC-SHA256 Credential=test/20250101/eu-west-1/s3/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=abc",
            ),
        );
        assert_eq!(r.path(), "/upl-habcdefghij-uploads");
        assert_eq!(r.query(), "policy");
        assert_eq!(r.signing_scope(), Some(("eu-west-1", "s3")));
        assert_eq!(r.service(), Some("s3"));
        assert_eq!(r.header("Authorization").map(|a| &a[..4]), Some("AWS4"));
        let bare = request("http://localhost:4566", None);
        assert_eq!((bare.path(), bare.query(), bare.service()), ("/", "", None));
    }
}
