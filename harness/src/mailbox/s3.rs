//! An S3 mailbox for real AWS, and confirming SNS email subscriptions from the mail it holds.
//!
//! AWS sends the alert email to a real address, so reading it back needs a real inbox. With a
//! domain verified in SES and a receipt rule whose S3 action stores each incoming mail as a raw
//! MIME object under a prefix, a bucket is that inbox, read with the credentials the harness
//! already deploys with: no IMAP account, no third-party service. [`S3Mailbox`] lists the prefix,
//! fetches the objects it has not seen and decodes them with [`super::mime::parse_mail`]. The
//! receipt rule's optional KMS setting (client-side envelope encryption) is not supported: such
//! objects need the S3 encryption client. Bucket default encryption (SSE-S3, SSE-KMS) is
//! transparent.
//!
//! SNS delivers to an email subscription only once the address confirms it, through a link in a
//! "Subscription Confirmation" mail. [`confirmation_request`] reads the topic and token out of
//! that mail and [`confirm_subscriptions`] calls `ConfirmSubscription` with them, so a
//! subscription to the S3 mailbox's address needs no human to click.

use std::collections::HashSet;
use std::time::Instant;

use super::Mailbox;
use super::mime::parse_mail;
use crate::deploy::describe_error as describe;
use crate::oracle::MailReceived;

/// The last part of the key of the object SES writes when the receipt rule is created: a notice
/// that the rule can write to the bucket, not a mail.
pub const SES_SETUP_NOTIFICATION: &str = "AMAZON_SES_SETUP_NOTIFICATION";

/// How the subject of a stored object that is not a readable mail begins.
pub const UNPARSEABLE: &str = "(unparseable mail)";

/// Mail that SES stored in `s3://bucket/prefix...`, each object returned once.
#[derive(Debug)]
pub struct S3Mailbox {
    s3: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    seen: HashSet<String>,
    /// Keys per `ListObjectsV2` page (S3's own maximum by default; small in tests of paging).
    page_size: i32,
}

impl S3Mailbox {
    pub fn new(
        s3: aws_sdk_s3::Client,
        bucket: impl Into<String>,
        prefix: impl Into<String>,
    ) -> Self {
        Self {
            s3,
            bucket: bucket.into(),
            prefix: prefix.into(),
            seen: HashSet::new(),
            page_size: 1000,
        }
    }

    /// Lists `page_size` keys per request instead of 1000.
    pub fn with_page_size(mut self, page_size: i32) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// The keys under the prefix not seen before that can be mails, oldest first.
    async fn new_keys(&self) -> Result<Vec<String>, String> {
        let mut pages = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&self.prefix)
            .into_paginator()
            .page_size(self.page_size)
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                format!(
                    "ListObjectsV2 s3://{}/{}: {}",
                    self.bucket,
                    self.prefix,
                    describe(&e)
                )
            })?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                if !key.ends_with(SES_SETUP_NOTIFICATION) && !self.seen.contains(key) {
                    found.push((object.last_modified().copied(), key.to_owned()));
                }
            }
        }
        // S3 lists by key, and SES names objects by message id; arrival order is more useful.
        found.sort();
        Ok(found.into_iter().map(|(_, key)| key).collect())
    }

    /// The object's bytes, or `None` when it was deleted since it was listed.
    async fn fetch(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        let location = || format!("s3://{}/{key}", self.bucket);
        let object = match self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(object) => object,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(format!("GetObject {}: {}", location(), describe(&e))),
        };
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| format!("reading {}: {e}", location()))?;
        Ok(Some(bytes.to_vec()))
    }
}

impl Mailbox for S3Mailbox {
    /// Fails without consuming anything when S3 does, so the next poll returns the same mails.
    ///
    /// Mails are stamped with the time of the listing. `LastModified` says when SES stored the
    /// mail, but in whole seconds of another clock, which could date it before its upload.
    async fn poll(&mut self, epoch: Instant) -> Result<Vec<MailReceived>, String> {
        let keys = self.new_keys().await?;
        let at_ms = epoch.elapsed().as_millis() as u64;
        let mut mails = Vec::with_capacity(keys.len());
        for key in &keys {
            if let Some(raw) = self.fetch(key).await? {
                mails.push(decode(&self.bucket, key, &raw, at_ms));
            }
        }
        self.seen.extend(keys);
        Ok(mails)
    }
}

/// The mail in `raw`; if it cannot be decoded, a stand-in saying so, where it is and why, with
/// the raw text as its body.
///
/// Not an error: a malformed object stays malformed, so an error would end every run's
/// collection (or repeat on every poll), though the bucket may hold mail for a whole domain and
/// the object need not be ours. As a mail it is returned once, and any reader of all mails sees
/// it; one filtering by recipient drops it like any mail not addressed to the run.
fn decode(bucket: &str, key: &str, raw: &[u8], at_ms: u64) -> MailReceived {
    parse_mail(raw, at_ms).unwrap_or_else(|e| MailReceived {
        to: Vec::new(),
        subject: format!("{UNPARSEABLE} s3://{bucket}/{key}: {e}"),
        body: String::from_utf8_lossy(raw).into_owned(),
        at_ms,
    })
}

/// What `ConfirmSubscription` needs, as found in SNS's confirmation mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub topic_arn: String,
    pub token: String,
}

/// The confirmation request in a mail from SNS, if it is one.
///
/// The link is found in plain text (`<https://...>`, bare) and in HTML (`href="..."`, with
/// `&amp;`). SNS has used two shapes: `/?Action=ConfirmSubscription&TopicArn=..&Token=..` and,
/// in the mail it sends today, `/confirmation.html?TopicArn=..&Token=..&Endpoint=..`. The host is
/// not checked: the link is never followed, and a token confirms nothing but its own topic.
pub fn confirmation_request(mail: &MailReceived) -> Option<Confirmation> {
    mail.body
        .split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '(' | ')'))
        .find_map(confirmation_link)
}

fn confirmation_link(candidate: &str) -> Option<Confirmation> {
    let link = candidate.replace("&amp;", "&");
    let rest = link
        .strip_prefix("https://")
        .or_else(|| link.strip_prefix("http://"))?;
    let (address, query) = rest.split_once('?')?;
    let path = address.split_once('/').map_or("", |(_, path)| path);
    let query = query.split('#').next().unwrap_or_default();
    let (mut action, mut topic_arn, mut token) = (None, None, None);
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*name {
            "Action" => action = Some(value.into_owned()),
            "TopicArn" => topic_arn = Some(value.into_owned()),
            "Token" => token = Some(value.trim_end_matches(['.', ',', ';']).to_owned()),
            _ => {}
        }
    }
    let confirms =
        action.as_deref() == Some("ConfirmSubscription") || path.ends_with("confirmation.html");
    let topic_arn = topic_arn.filter(|arn| arn.starts_with("arn:") && arn.contains(":sns:"))?;
    let token = token.filter(|t| !t.is_empty())?;
    confirms.then_some(Confirmation { topic_arn, token })
}

/// Confirms the subscription of every SNS confirmation mail among `mails`, in order, giving the
/// subscription ARN or what went wrong for each (other mails give nothing).
///
/// Unsubscribing then requires AWS credentials (`AuthenticateOnUnsubscribe`), so the
/// unauthenticated unsubscribe link in every alert, which a mail scanner may follow, cannot end
/// the subscription.
pub async fn confirm_subscriptions(
    sns: &aws_sdk_sns::Client,
    mails: &[MailReceived],
) -> Vec<Result<String, String>> {
    let mut results = Vec::new();
    for request in mails.iter().filter_map(confirmation_request) {
        results.push(confirm(sns, &request).await);
    }
    results
}

/// Polls `mailbox` until the confirmation mail to `address` arrives and confirms it: the
/// subscription ARN, or why not (a mailbox error, a refused confirmation, or no mail within
/// `deadline`). AWS delivers no alert to an unconfirmed email subscription.
pub async fn await_confirmation(
    sns: &aws_sdk_sns::Client,
    mailbox: &mut S3Mailbox,
    address: &str,
    deadline: std::time::Duration,
) -> Result<String, String> {
    let started = Instant::now();
    loop {
        let mails = mailbox.poll(started).await?;
        let ours: Vec<_> = mails
            .into_iter()
            .filter(|m| m.to.iter().any(|to| to == address))
            .collect();
        if let Some(result) = confirm_subscriptions(sns, &ours).await.into_iter().next() {
            return result;
        }
        if started.elapsed() >= deadline {
            return Err(format!(
                "no subscription confirmation mail to {address} within {deadline:?}"
            ));
        }
        tokio::time::sleep(CONFIRMATION_POLL).await;
    }
}

/// How often the mailbox is listed while waiting for the confirmation mail.
const CONFIRMATION_POLL: std::time::Duration = std::time::Duration::from_secs(2);

async fn confirm(sns: &aws_sdk_sns::Client, request: &Confirmation) -> Result<String, String> {
    let failed = |why: String| format!("ConfirmSubscription for {}: {why}", request.topic_arn);
    let answer = in_region_of(sns, &request.topic_arn)
        .confirm_subscription()
        .topic_arn(&request.topic_arn)
        .token(&request.token)
        .authenticate_on_unsubscribe("true")
        .send()
        .await
        .map_err(|e| failed(describe(&e)))?;
    answer
        .subscription_arn()
        .map(str::to_owned)
        .ok_or_else(|| failed("no subscription ARN in the answer".into()))
}

/// SNS knows a token only in its topic's region, so a client for another region is re-aimed.
fn in_region_of(sns: &aws_sdk_sns::Client, topic_arn: &str) -> aws_sdk_sns::Client {
    let topic_region = topic_arn.split(':').nth(3).filter(|r| !r.is_empty());
    let client_region = sns.config().region().map(|r| r.as_ref());
    match topic_region {
        Some(region) if Some(region) != client_region => {
            let config = sns
                .config()
                .to_builder()
                .region(aws_sdk_sns::config::Region::new(region.to_owned()))
                .build();
            aws_sdk_sns::Client::from_conf(config)
        }
        _ => sns.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:sns:us-west-1:111122223333:upl-x-notify";
    const TOKEN: &str = "2336412f37fb687f5d51e6e2425c464de257e9a829aa2d84c5a7249b36788ba5";

    fn mail(subject: &str, body: String) -> MailReceived {
        MailReceived {
            to: vec!["alerts@example.com".into()],
            subject: subject.into(),
            body,
            at_ms: 1,
        }
    }

    fn confirmation_mail(body: String) -> MailReceived {
        mail("AWS Notification - Subscription Confirmation", body)
    }

    fn expected() -> Option<Confirmation> {
        Some(Confirmation {
            topic_arn: ARN.into(),
            token: TOKEN.into(),
        })
    }

    #[test]
    fn the_plain_text_confirmation_gives_topic_and_token() {
        let body = format!(
            "You have chosen to subscribe to the topic: \n{ARN}\n\n\
             To confirm this subscription, click or visit the link below (If this was in error \
             no action is necessary):\nConfirm subscription\n\
             <https://sns.us-west-1.amazonaws.com/?Action=ConfirmSubscription\
             &TopicArn=arn%3Aaws%3Asns%3Aus-west-1%3A111122223333%3Aupl-x-notify\
             &Token={TOKEN}&Endpoint=alerts%40example.com>\n\n\
             Please do not reply directly to this email.\n"
        );
        assert_eq!(confirmation_request(&confirmation_mail(body)), expected());
    }

    #[test]
    fn the_html_confirmation_of_today_gives_topic_and_token() {
        // Today's link: confirmation.html, the ARN not percent-encoded, `&amp;` in HTML.
        let body = format!(
            "<p>You have chosen to subscribe to the topic: <br><br><b>{ARN}</b></p>\
             <p>To confirm this subscription, click or visit the link below (If this was in \
             error no action is necessary):<br><a href=\"https://sns.us-west-1.amazonaws.com/\
             confirmation.html?TopicArn={ARN}&amp;Token={TOKEN}&amp;\
             Endpoint=alerts@example.com\" target=\"_blank\" rel=\"noopener noreferrer\">\
             Confirm subscription</a></p>"
        );
        assert_eq!(confirmation_request(&confirmation_mail(body)), expected());
    }

    #[test]
    fn a_bare_link_at_the_end_of_a_sentence_still_parses() {
        let body = format!(
            "Visit https://sns.us-west-1.amazonaws.com/confirmation.html?TopicArn={ARN}\
             &Token={TOKEN}."
        );
        assert_eq!(confirmation_request(&confirmation_mail(body)), expected());
    }

    #[test]
    fn other_mails_and_other_links_are_not_confirmations() {
        let alert = mail(
            "Upload alert",
            format!(
                "Object uploads/a.txt was uploaded to bucket b.\n\n--\nIf you wish to stop \
                 receiving notifications from this topic, please click or visit the link below \
                 to unsubscribe:\nhttps://sns.us-west-1.amazonaws.com/unsubscribe.html?\
                 SubscriptionArn={ARN}:0e3b5c1a-1111-2222-3333-444455556666\
                 &Endpoint=alerts@example.com\n"
            ),
        );
        assert_eq!(confirmation_request(&alert), None);
        let cases = [
            // No token; an empty one; a token for something that is not an SNS topic.
            format!(
                "https://sns.us-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={ARN}"
            ),
            format!("https://sns.us-west-1.amazonaws.com/confirmation.html?TopicArn={ARN}&Token="),
            format!("https://example.com/confirmation.html?TopicArn=arn:aws:s3:::b&Token={TOKEN}"),
            // Another action.
            format!(
                "https://sns.us-west-1.amazonaws.com/?Action=Unsubscribe&TopicArn={ARN}&Token={TOKEN}"
            ),
            String::new(),
        ];
        for body in cases {
            assert_eq!(
                confirmation_request(&confirmation_mail(body.clone())),
                None,
                "{body}"
            );
        }
    }

    #[test]
    fn the_sns_client_is_aimed_at_the_topic_region() {
        let config = aws_sdk_sns::Config::builder()
            .behavior_version(aws_sdk_sns::config::BehaviorVersion::latest())
            .region(aws_sdk_sns::config::Region::new("eu-west-1"))
            .build();
        let sns = aws_sdk_sns::Client::from_conf(config);
        let region = |c: aws_sdk_sns::Client| c.config().region().map(|r| r.to_string());
        assert_eq!(
            region(in_region_of(&sns, ARN)).as_deref(),
            Some("us-west-1")
        );
        let here = "arn:aws:sns:eu-west-1:111122223333:t";
        assert_eq!(
            region(in_region_of(&sns, here)).as_deref(),
            Some("eu-west-1")
        );
    }

    #[test]
    fn an_undecodable_object_becomes_a_mail_that_says_so() {
        let m = decode(
            "inbox",
            "in/abc",
            b"Content-Type: image/png\r\n\r\nPNG\xff\r\n",
            7,
        );
        assert!(
            m.subject.starts_with(&format!(
                "{UNPARSEABLE} s3://inbox/in/abc: mail has no text part"
            )),
            "{}",
            m.subject
        );
        assert!(m.body.ends_with("PNG\u{fffd}\r\n"), "{:?}", m.body);
        assert!(m.to.is_empty());
        assert_eq!(m.at_ms, 7);
    }
}
