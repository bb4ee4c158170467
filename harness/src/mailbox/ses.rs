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
    client: reqwest::Client,
    seen: HashSet<String>,
}

impl LocalStackSes {
    pub fn new(endpoint: &str) -> Self {
        Self {
            url: format!("{}/_aws/ses", endpoint.trim_end_matches('/')),
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
}
