//! The S3 mailbox against a real S3 (LocalStack's): raw MIME objects as SES stores them come
//! back decoded, each once, page after page; and a confirmation mail's token really confirms a
//! pending email subscription in SNS.

use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use harness::deploy::describe_error;
use harness::mailbox::s3::{SES_SETUP_NOTIFICATION, confirm_subscriptions};
use harness::mailbox::{Mailbox, S3Mailbox};
use harness::oracle::MailReceived;
use libtest_mimic::{Failed, Trial};

use crate::shared::{self, Shared, unique_name};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("mailbox::s3_mailbox_returns_each_stored_mail_once", || {
            with_shared(s3_mailbox_returns_each_stored_mail_once)
        }),
        Trial::test(
            "mailbox::confirm_subscriptions_confirms_a_pending_email_subscription",
            || with_shared(confirm_subscriptions_confirms_a_pending_email_subscription),
        ),
    ]
}

type TestResult = Result<(), Failed>;

fn with_shared(test: fn(&'static Shared) -> TestResult) -> TestResult {
    test(shared::get()?)
}

const PREFIX: &str = "inbound/";

/// multipart/alternative whose plain-text part is quoted-printable (with a soft line break).
const ALTERNATIVE: &str = "Return-Path: <no-reply@sns.amazonaws.com>\r
From: AWS Notifications <no-reply@sns.amazonaws.com>\r
To: alerts@example.com\r
Subject: Upload alert: report.csv\r
Message-ID: <alt-1@email.amazonses.com>\r
MIME-Version: 1.0\r
Content-Type: multipart/alternative; boundary=\"=_alt\"\r
\r
--=_alt\r
Content-Type: text/plain; charset=UTF-8\r
Content-Transfer-Encoding: quoted-printable\r
\r
Gr=C3=B6=C3=9Fe: 42 bytes, a line long enough that quoted-printable breaks it=\r
 softly =E2=9C=93\r
--=_alt\r
Content-Type: text/html; charset=UTF-8\r
\r
<p>Gr&ouml;&szlig;e: 42 bytes</p>\r
--=_alt--\r
";

/// A single text part under an RFC 2047 encoded-word subject.
const ENCODED_SUBJECT: &str = "From: AWS Notifications <no-reply@sns.amazonaws.com>\r
To: Alerts <alerts@example.com>\r
Subject: =?UTF-8?Q?Caf=C3=A9_upload_=E2=9C=93?=\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset=UTF-8\r
\r
Object café.txt was uploaded.\r
";

const THIRD: &str = "To: alerts@example.com\r
Subject: third\r
\r
later\r
";

/// What SES writes when the receipt rule is created: mail-like, and not a mail to return.
const SETUP: &str = "To: alerts@example.com\r
Subject: Amazon SES Setup Notification\r
\r
This is a notification from Amazon SES that your receipt rule can write to the bucket.\r
";

fn s3_mailbox_returns_each_stored_mail_once(shared: &'static Shared) -> TestResult {
    let target = shared.target();
    let s3 = target.s3();
    let bucket = unique_name("upl-mailbox");
    shared.runtime.block_on(async {
        create_bucket(&s3, &bucket, &target.region).await?;
        let result = poll_twice_then_once_more(&s3, &bucket).await;
        let deleted = empty_and_delete(&s3, &bucket).await;
        result?;
        deleted
    })
}

async fn poll_twice_then_once_more(s3: &aws_sdk_s3::Client, bucket: &str) -> TestResult {
    let epoch = Instant::now();
    put(
        s3,
        bucket,
        &format!("{PREFIX}{SES_SETUP_NOTIFICATION}"),
        SETUP,
    )
    .await?;
    put(s3, bucket, &format!("{PREFIX}0a1b2c"), ALTERNATIVE).await?;
    put(s3, bucket, &format!("{PREFIX}9f8e7d"), ENCODED_SUBJECT).await?;
    // Outside the prefix: someone else's, never read.
    put(s3, bucket, "elsewhere/1234", THIRD).await?;
    // One key a page, so each object under the prefix is on a page of its own.
    let mut mailbox = S3Mailbox::new(s3.clone(), bucket, PREFIX).with_page_size(1);

    let mut first = mailbox.poll(epoch).await?;
    first.sort_by(|a, b| a.subject.cmp(&b.subject));
    let got: Vec<(&str, &str)> = first
        .iter()
        .map(|m| (m.subject.as_str(), m.body.as_str()))
        .collect();
    let want = [
        ("Café upload ✓", "Object café.txt was uploaded.\n"),
        (
            "Upload alert: report.csv",
            "Größe: 42 bytes, a line long enough that quoted-printable breaks it softly ✓",
        ),
    ];
    if got != want {
        return Err(format!("first poll:\n got  {got:?}\n want {want:?}").into());
    }
    if !first.iter().all(|m| m.to == ["alerts@example.com"]) {
        return Err(format!("recipients: {first:?}").into());
    }

    let second = mailbox.poll(epoch).await?;
    if !second.is_empty() {
        return Err(format!("the second poll returned mails again: {second:?}").into());
    }

    put(s3, bucket, &format!("{PREFIX}5e5e5e"), THIRD).await?;
    let third = mailbox.poll(epoch).await?;
    let subjects: Vec<&str> = third.iter().map(|m| m.subject.as_str()).collect();
    if subjects != ["third"] || third[0].body != "later\n" {
        return Err(format!("the third poll: {third:?}").into());
    }
    Ok(())
}

async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str, region: &str) -> TestResult {
    let mut create = s3.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    create
        .send()
        .await
        .map_err(|e| format!("CreateBucket {bucket}: {}", describe_error(&e)))?;
    Ok(())
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, raw: &str) -> TestResult {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(raw.as_bytes().to_vec()))
        .send()
        .await
        .map_err(|e| format!("PutObject {key}: {}", describe_error(&e)))?;
    Ok(())
}

/// Deletes every object, then the bucket.
async fn empty_and_delete(s3: &aws_sdk_s3::Client, bucket: &str) -> TestResult {
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    let mut keys = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("ListObjectsV2 {bucket}: {}", describe_error(&e)))?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_owned),
        );
    }
    for key in keys {
        s3.delete_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| format!("DeleteObject {key}: {}", describe_error(&e)))?;
    }
    s3.delete_bucket()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| format!("DeleteBucket {bucket}: {}", describe_error(&e)))?;
    Ok(())
}

fn confirm_subscriptions_confirms_a_pending_email_subscription(
    shared: &'static Shared,
) -> TestResult {
    let target = shared.target();
    let endpoint = target
        .endpoint_url
        .clone()
        .ok_or("the shared target has no endpoint")?;
    let sns = target.sns();
    shared.runtime.block_on(async {
        let topic = sns
            .create_topic()
            .name(unique_name("upl-mailbox"))
            .send()
            .await
            .map_err(|e| format!("CreateTopic: {}", describe_error(&e)))?
            .topic_arn()
            .ok_or("CreateTopic gave no ARN")?
            .to_owned();
        let result = confirm_by_mail(&sns, &endpoint, &topic).await;
        let deleted = sns.delete_topic().topic_arn(&topic).send().await;
        result?;
        deleted.map_err(|e| format!("DeleteTopic: {}", describe_error(&e)))?;
        Ok(())
    })
}

async fn confirm_by_mail(sns: &aws_sdk_sns::Client, endpoint: &str, topic: &str) -> TestResult {
    let subscription = sns
        .subscribe()
        .topic_arn(topic)
        .protocol("email")
        .endpoint("alerts@example.com")
        .return_subscription_arn(true)
        .send()
        .await
        .map_err(|e| format!("Subscribe: {}", describe_error(&e)))?
        .subscription_arn()
        .ok_or("Subscribe gave no ARN")?
        .to_owned();
    if pending(sns, &subscription).await? != "true" {
        return Err("the email subscription is not pending to begin with".into());
    }
    // The token SNS put in the confirmation mail, from LocalStack's introspection endpoint.
    let url = format!("{endpoint}/_aws/sns/subscription-tokens/{subscription}");
    let answer: serde_json::Value = reqwest::get(&url)
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("{url}: {e}"))?
        .json()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let token = answer["subscription_token"]
        .as_str()
        .ok_or_else(|| format!("{url}: no token in {answer}"))?;
    let encoded: String = form_urlencoded::byte_serialize(topic.as_bytes()).collect();
    let mails = [
        mail("Upload alert", "Not a confirmation.\n".into()),
        mail(
            "AWS Notification - Subscription Confirmation",
            format!(
                "You have chosen to subscribe to the topic: \n{topic}\n\nTo confirm this \
                 subscription, click or visit the link below (If this was in error no action is \
                 necessary):\nConfirm subscription\n<https://sns.us-east-1.amazonaws.com/\
                 ?Action=ConfirmSubscription&TopicArn={encoded}&Token={token}\
                 &Endpoint=alerts%40example.com>\n"
            ),
        ),
    ];
    let results = confirm_subscriptions(sns, &mails).await;
    if results != [Ok(subscription.clone())] {
        return Err(
            format!("confirm_subscriptions: {results:?}, want [Ok({subscription})]").into(),
        );
    }
    if pending(sns, &subscription).await? != "false" {
        return Err("the subscription is still pending after confirmation".into());
    }
    Ok(())
}

async fn pending(sns: &aws_sdk_sns::Client, subscription: &str) -> Result<String, Failed> {
    let attributes = sns
        .get_subscription_attributes()
        .subscription_arn(subscription)
        .send()
        .await
        .map_err(|e| format!("GetSubscriptionAttributes: {}", describe_error(&e)))?;
    Ok(attributes
        .attributes()
        .and_then(|a| a.get("PendingConfirmation"))
        .cloned()
        .unwrap_or_default())
}

fn mail(subject: &str, body: String) -> MailReceived {
    MailReceived {
        to: vec!["alerts@example.com".into()],
        subject: subject.into(),
        body,
        at_ms: 0,
    }
}
