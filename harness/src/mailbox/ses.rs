//! The mailbox of LocalStack Community: its SES emulation.
//!
//! LocalStack Community hands SNS email to its SES emulation instead of SMTP; its introspection
//! endpoint (`GET /_aws/ses`) lists every mail sent, already split into subject and text part. A
//! mail's time is when the harness first saw it, so email latency has the polling interval as
//! its resolution.

use std::collections::HashSet;
use std::time::Instant;

use super::Mailbox;
use crate::oracle::MailReceived;

/// LocalStack's SES introspection endpoint.
#[derive(Debug)]
pub struct LocalStackSes {
    url: String,
    health_url: String,
    client: reqwest::Client,
    seen: HashSet<String>,
}

impl LocalStackSes {
    pub fn new(endpoint: &str) -> Self {
        Self {
            url: format!("{}/_aws/ses", endpoint.trim_end_matches('/')),
            health_url: format!("{}/_localstack/health", endpoint.trim_end_matches('/')),
            client: reqwest::Client::new(),
            seen: HashSet::new(),
        }
    }
}

impl Mailbox for LocalStackSes {
    async fn poll(&mut self, epoch: Instant) -> Result<Vec<MailReceived>, String> {
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| format!("{}: {e}", self.url))?;
        // LocalStack loads services lazily, and `/_aws/ses` answers 404 until SES has handled its
        // first mail: that is an empty mailbox when SES is among the services it runs.
        if response.status() == reqwest::StatusCode::NOT_FOUND && self.ses_enabled().await {
            return Ok(Vec::new());
        }
        if !response.status().is_success() {
            return Err(format!(
                "{} answered HTTP {} (is `ses` among LocalStack's SERVICES?)",
                self.url,
                response.status()
            ));
        }
        let doc: serde_json::Value = response
            .json()
            .await
            .map_err(|e| format!("{}: not JSON: {e}", self.url))?;
        let at_ms = epoch.elapsed().as_millis() as u64;
        Ok(new_mails(&doc, &mut self.seen, at_ms))
    }
}

impl LocalStackSes {
    /// True when `/_localstack/health` lists SES as a service it runs (loaded or not yet).
    async fn ses_enabled(&self) -> bool {
        let Ok(response) = self.client.get(&self.health_url).send().await else {
            return false;
        };
        let Ok(doc) = response.json::<serde_json::Value>().await else {
            return false;
        };
        doc["services"]["ses"]
            .as_str()
            .is_some_and(|state| state != "disabled" && state != "error")
    }
}

/// The mails of a `/_aws/ses` document not seen before.
fn new_mails(doc: &serde_json::Value, seen: &mut HashSet<String>, at_ms: u64) -> Vec<MailReceived> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    doc["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| seen.insert(text(&m["Id"])))
        .map(|m| MailReceived {
            to: m["Destination"]["ToAddresses"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect(),
            subject: text(&m["Subject"]),
            body: text(&m["Body"]["text_part"]),
            at_ms,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mail_is_returned_once() {
        let doc = serde_json::json!({"messages": [
            {"Id": "a", "Destination": {"ToAddresses": ["x@example.com"]}, "Subject": "S",
             "Body": {"text_part": "hello", "html_part": null}, "Source": "admin@localstack.com"},
            {"Id": "b", "Destination": {"ToAddresses": ["y@example.com"]}, "Subject": "T",
             "Body": {"text_part": "there"}}
        ]});
        let mut seen = HashSet::new();
        let first = new_mails(&doc, &mut seen, 5);
        assert_eq!(first.len(), 2);
        assert_eq!(first[0].to, ["x@example.com"]);
        assert_eq!(first[0].body, "hello");
        assert_eq!(first[1].at_ms, 5);
        assert!(new_mails(&doc, &mut seen, 9).is_empty());
    }

    /// A fake LocalStack: `/_aws/ses` answers 404, the health document lists SES as `ses_state`.
    fn fake_localstack(ses_state: &'static str) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut stream = stream;
                let mut buf = [0u8; 2048];
                let n = stream.read(&mut buf).unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]);
                let (status, body) = if request.starts_with("GET /_localstack/health") {
                    (
                        "200 OK",
                        format!("{{\"services\": {{\"ses\": \"{ses_state}\"}}}}"),
                    )
                } else {
                    ("404 Not Found", String::new())
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn regression_ses_404_before_the_first_mail_is_an_empty_mailbox() {
        let mut loading = LocalStackSes::new(&fake_localstack("available"));
        assert_eq!(loading.poll(Instant::now()).await, Ok(Vec::new()));
        let mut absent = LocalStackSes::new(&fake_localstack("disabled"));
        let err = absent.poll(Instant::now()).await.unwrap_err();
        assert!(err.contains("404") && err.contains("SERVICES"), "{err}");
    }
}
