//! The mailbox of LocalStack Community: its SES emulation.
//!
//! LocalStack Community hands SNS email to its SES emulation instead of SMTP; its introspection
//! endpoint (`GET /_aws/ses`) lists every mail sent, already split into subject and text part. A
//! mail's time is when the harness first saw it, so email latency has the polling interval as
//! its resolution.
//!
//! A mailbox made `consuming` an address deletes that address's mails from LocalStack once read
//! (`DELETE /_aws/ses?id=`), so each poll lists only what is new and a long run's polls stay
//! small, while other runs' mails on a shared LocalStack are left alone. Deletes go out a few at a
//! time; one that fails is tried again on the next poll and never costs a mail (the mail was
//! returned already, and `seen` keeps it from being returned twice). A listing's 5xx is retried a
//! few times: LocalStack's listing races with SES adding mails ("dictionary changed size during
//! iteration", HTTP 500) when many arrive at once.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use super::Mailbox;
use crate::oracle::MailReceived;

/// LocalStack's SES introspection endpoint.
#[derive(Debug)]
pub struct LocalStackSes {
    url: String,
    health_url: String,
    client: reqwest::Client,
    seen: HashSet<String>,
    /// Mails to this address are deleted from LocalStack once read.
    consumed: Option<String>,
    /// Ids of read mails to the consumed address not deleted yet.
    to_delete: Vec<String>,
}

/// How many deletes are in flight at once.
const DELETES_IN_FLIGHT: usize = 8;

/// How often a listing answered with a server error is tried in all.
const ATTEMPTS: u32 = 4;

impl LocalStackSes {
    pub fn new(endpoint: &str) -> Self {
        Self {
            url: format!("{}/_aws/ses", endpoint.trim_end_matches('/')),
            health_url: format!("{}/_localstack/health", endpoint.trim_end_matches('/')),
            client: reqwest::Client::new(),
            seen: HashSet::new(),
            consumed: None,
            to_delete: Vec::new(),
        }
    }

    /// Deletes the mails to `address` from LocalStack once they were read (the run's own
    /// address: nobody else reads them).
    pub fn consuming(mut self, address: &str) -> Self {
        self.consumed = Some(address.to_owned());
        self
    }

    /// `GET /_aws/ses`, with a server error tried again after a short pause.
    async fn list(&self) -> Result<reqwest::Response, String> {
        let mut attempt = 1;
        loop {
            let response = self
                .client
                .get(&self.url)
                .send()
                .await
                .map_err(|e| format!("{}: {e}", self.url))?;
            if !response.status().is_server_error() || attempt == ATTEMPTS {
                return Ok(response);
            }
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            attempt += 1;
        }
    }

    /// Deletes the read mails waiting for it, [`DELETES_IN_FLIGHT`] at a time; those whose
    /// delete failed (a 5xx, no answer) stay waiting for the next poll. A LocalStack that
    /// refuses deletes outright (another 4xx: no such endpoint in its version) is not asked
    /// again: its polls just list every mail, as without `consuming`.
    async fn consume(&mut self) {
        let mut failed = Vec::new();
        while !self.to_delete.is_empty() {
            let batch: Vec<String> = self
                .to_delete
                .drain(..self.to_delete.len().min(DELETES_IN_FLIGHT))
                .collect();
            let mut deletes = tokio::task::JoinSet::new();
            for id in batch {
                let query = form_urlencoded::Serializer::new(String::new())
                    .append_pair("id", &id)
                    .finish();
                let request = self.client.delete(format!("{}?{query}", self.url));
                deletes.spawn(async move { (id, request.send().await.map(|r| r.status())) });
            }
            while let Some(joined) = deletes.join_next().await {
                let Ok((id, answer)) = joined else { continue };
                match answer {
                    // Gone already (e.g. cleared) is as good as deleted.
                    Ok(status) if status.is_success() || status == StatusCode::NOT_FOUND => {}
                    Ok(status) if status.is_client_error() => {
                        self.consumed = None;
                        self.to_delete.clear();
                        return;
                    }
                    Ok(_) | Err(_) => failed.push(id),
                }
            }
        }
        self.to_delete = failed;
    }
}

impl Mailbox for LocalStackSes {
    async fn poll(&mut self, epoch: Instant) -> Result<Vec<MailReceived>, String> {
        let response = self.list().await?;
        // LocalStack loads services lazily, and `/_aws/ses` answers 404 until SES has handled its
        // first mail: that is an empty mailbox when SES is among the services it runs.
        if response.status() == StatusCode::NOT_FOUND && self.ses_enabled().await {
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
        let mails = new_mails(&doc, &mut self.seen, at_ms);
        if let Some(address) = &self.consumed {
            let ours = mails.iter().filter(|(_, m)| m.to.contains(address));
            self.to_delete.extend(ours.map(|(id, _)| id.clone()));
            self.consume().await;
        }
        Ok(mails.into_iter().map(|(_, mail)| mail).collect())
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

/// The mails of a `/_aws/ses` document not seen before, with their ids.
fn new_mails(
    doc: &serde_json::Value,
    seen: &mut HashSet<String>,
    at_ms: u64,
) -> Vec<(String, MailReceived)> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    doc["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| seen.insert(text(&m["Id"])))
        .map(|m| {
            let mail = MailReceived {
                to: m["Destination"]["ToAddresses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(text)
                    .collect(),
                subject: text(&m["Subject"]),
                body: text(&m["Body"]["text_part"]),
                at_ms,
            };
            (text(&m["Id"]), mail)
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
        assert_eq!(first[0].0, "a");
        assert_eq!(first[0].1.to, ["x@example.com"]);
        assert_eq!(first[0].1.body, "hello");
        assert_eq!(first[1].1.at_ms, 5);
        assert!(new_mails(&doc, &mut seen, 9).is_empty());
    }

    use crate::fake_http::fake_localstack_with;

    /// A fake LocalStack: `/_aws/ses` answers 404, the health document lists SES as `ses_state`.
    fn fake_localstack(ses_state: &'static str) -> String {
        fake_localstack_with(move |line| {
            if line.starts_with("GET /_localstack/health") {
                (
                    "200 OK",
                    format!("{{\"services\": {{\"ses\": \"{ses_state}\"}}}}"),
                )
            } else {
                ("404 Not Found", String::new())
            }
        })
        .0
    }

    #[tokio::test]
    async fn a_racing_listing_is_retried_and_only_our_mails_are_consumed() {
        let calls = std::sync::atomic::AtomicU32::new(0);
        let (endpoint, requests) = fake_localstack_with(move |line| {
            if line.starts_with("DELETE") {
                return ("204 No Content", String::new());
            }
            // The first listing races with SES adding a mail, as LocalStack's does.
            if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                return ("500 Internal Server Error", String::new());
            }
            let doc = serde_json::json!({"messages": [
                {"Id": "ours", "Destination": {"ToAddresses": ["run@example.com"]},
                 "Subject": "S", "Body": {"text_part": "a"}},
                {"Id": "theirs", "Destination": {"ToAddresses": ["other@example.com"]},
                 "Subject": "T", "Body": {"text_part": "b"}}
            ]});
            ("200 OK", doc.to_string())
        });
        let mut mailbox = LocalStackSes::new(&endpoint).consuming("run@example.com");
        let mails = mailbox.poll(Instant::now()).await.unwrap();
        assert_eq!(mails.len(), 2, "every new mail is still returned");
        let requests = requests.lock().unwrap().clone();
        let deletes: Vec<&String> = requests
            .iter()
            .filter(|r| r.starts_with("DELETE"))
            .collect();
        assert_eq!(requests.iter().filter(|r| r.starts_with("GET")).count(), 2);
        assert_eq!(deletes.len(), 1, "{requests:?}");
        assert!(deletes[0].contains("id=ours"), "{requests:?}");
    }

    #[tokio::test]
    async fn a_failed_delete_keeps_the_mail_and_is_tried_again_on_the_next_poll() {
        let deletes = std::sync::atomic::AtomicU32::new(0);
        let (endpoint, requests) = fake_localstack_with(move |line| {
            if line.starts_with("DELETE") {
                return match deletes.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                    0 => ("500 Internal Server Error", String::new()),
                    _ => ("204 No Content", String::new()),
                };
            }
            let doc = serde_json::json!({"messages": [
                {"Id": "m1", "Destination": {"ToAddresses": ["run@example.com"]},
                 "Subject": "S", "Body": {"text_part": "a"}}
            ]});
            ("200 OK", doc.to_string())
        });
        let mut mailbox = LocalStackSes::new(&endpoint).consuming("run@example.com");
        let first = mailbox.poll(Instant::now()).await.unwrap();
        assert_eq!(
            first.len(),
            1,
            "the mail is returned although its delete failed"
        );
        assert_eq!(mailbox.to_delete, ["m1"]);
        let second = mailbox.poll(Instant::now()).await.unwrap();
        assert!(second.is_empty(), "and only once");
        assert!(
            mailbox.to_delete.is_empty(),
            "the second delete went through"
        );
        let requests = requests.lock().unwrap().clone();
        assert_eq!(
            requests.iter().filter(|r| r.starts_with("DELETE")).count(),
            2,
            "{requests:?}"
        );
    }

    #[tokio::test]
    async fn a_localstack_that_refuses_deletes_is_not_asked_again() {
        let (endpoint, requests) = fake_localstack_with(move |line| {
            if line.starts_with("DELETE") {
                return ("405 Method Not Allowed", String::new());
            }
            let doc = serde_json::json!({"messages": [
                {"Id": "m1", "Destination": {"ToAddresses": ["run@example.com"]},
                 "Subject": "S", "Body": {"text_part": "a"}},
                {"Id": "m2", "Destination": {"ToAddresses": ["run@example.com"]},
                 "Subject": "T", "Body": {"text_part": "b"}}
            ]});
            ("200 OK", doc.to_string())
        });
        let mut mailbox = LocalStackSes::new(&endpoint).consuming("run@example.com");
        assert_eq!(mailbox.poll(Instant::now()).await.unwrap().len(), 2);
        assert!(mailbox.poll(Instant::now()).await.unwrap().is_empty());
        assert!(mailbox.consumed.is_none() && mailbox.to_delete.is_empty());
        let requests = requests.lock().unwrap().clone();
        let deletes = requests.iter().filter(|r| r.starts_with("DELETE")).count();
        assert!(
            (1..=2).contains(&deletes),
            "one batch at most: {requests:?}"
        );
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
