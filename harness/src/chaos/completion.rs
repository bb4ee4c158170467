//! When has the function finished with an object? The handler writes one JSON log line per
//! processed record (`"message":"record processed"` with the object's key) after both of its
//! publishes, into the function's CloudWatch log group. A fault window that must contain whole
//! invocations (the FIFO subscription's removal: the FIFO publish comes after the email) closes
//! only once each of its objects has that line, observed rather than guessed with a sleep.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::deploy::describe_error;

/// How often the log group is read while waiting.
const POLL: Duration = Duration::from_millis(250);

/// The keys of the records a batch of log messages says were processed. Pure.
pub fn processed_keys<'a>(messages: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    messages
        .into_iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line.trim()).ok())
        .filter(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .is_some_and(|m| m.starts_with("record processed"))
        })
        .filter_map(|v| v.get("key")?.as_str().map(str::to_owned))
        .collect()
}

/// Waits until the function logged every key in `keys` as processed, or `deadline` passed
/// (then `Err` names the keys still unprocessed).
pub async fn wait_processed(
    logs: &aws_sdk_cloudwatchlogs::Client,
    log_group: &str,
    keys: &[String],
    deadline: Duration,
) -> Result<(), String> {
    let started = Instant::now();
    let wanted: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
    loop {
        let seen = read_processed(logs, log_group).await?;
        let missing: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|k| !seen.contains(*k))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if started.elapsed() >= deadline {
            return Err(format!(
                "the function did not log {} of {} object(s) as processed within {} s (log \
                 group {log_group}): {missing:?}",
                missing.len(),
                wanted.len(),
                deadline.as_secs()
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Every key the log group holds a "record processed" line for (a missing group is empty:
/// the function has not logged yet).
async fn read_processed(
    logs: &aws_sdk_cloudwatchlogs::Client,
    log_group: &str,
) -> Result<BTreeSet<String>, String> {
    let mut seen = BTreeSet::new();
    let mut token = None;
    loop {
        let out = logs
            .filter_log_events()
            .log_group_name(log_group)
            .set_next_token(token)
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(seen);
            }
            Err(e) => {
                return Err(format!(
                    "logs FilterLogEvents {log_group}: {}",
                    describe_error(&e)
                ));
            }
        };
        seen.extend(processed_keys(
            out.events().iter().filter_map(|e| e.message()),
        ));
        token = out.next_token().map(str::to_owned);
        if token.is_none() || out.events().is_empty() {
            return Ok(seen);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_http::fake_localstack_with;

    /// A CloudWatch Logs client for a fake endpoint answering every call with `answer`.
    async fn logs(answer: (&'static str, String)) -> aws_sdk_cloudwatchlogs::Client {
        let (endpoint, _) = fake_localstack_with(move |_| answer.clone());
        let sdk = crate::run_target::localstack_sdk_config(&endpoint, "us-east-1").await;
        aws_sdk_cloudwatchlogs::Client::new(&sdk)
    }

    #[tokio::test]
    async fn the_wait_ends_when_every_key_was_logged_and_names_the_missing_ones_at_the_deadline() {
        let events = serde_json::json!({"events": [
            {"message": r#"{"message":"record processed","key":"a"}"#, "timestamp": 1}
        ]});
        let logs = logs(("200 OK", events.to_string())).await;
        let keys = |k: &[&str]| k.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>();
        wait_processed(&logs, "/aws/lambda/f", &keys(&["a"]), Duration::ZERO)
            .await
            .unwrap();
        let err = wait_processed(&logs, "/aws/lambda/f", &keys(&["a", "b"]), Duration::ZERO)
            .await
            .unwrap_err();
        assert!(err.contains("1 of 2") && err.contains("\"b\""), "{err}");
    }

    #[tokio::test]
    async fn a_log_group_not_made_yet_is_nothing_processed_yet() {
        let missing = r#"{"__type":"ResourceNotFoundException","message":"no group"}"#;
        let logs = logs(("400 Bad Request", missing.to_owned())).await;
        let err = wait_processed(&logs, "/aws/lambda/f", &["a".to_owned()], Duration::ZERO)
            .await
            .unwrap_err();
        assert!(err.contains("did not log 1 of 1"), "{err}");
    }

    #[test]
    fn only_processed_records_count_by_their_key() {
        let lines = [
            r#"{"timestamp":"t","level":"INFO","message":"record processed","key":"a b/c.txt","record_index":0}"#,
            r#"{"timestamp":"t","level":"WARN","message":"record processed: SECURITY ALERT","key":"x"}"#,
            r#"{"timestamp":"t","level":"ERROR","message":"record failed","key":"failed.txt"}"#,
            "START RequestId: 1 Version: $LATEST",
            r#"{"message":"record processed"}"#,
            "  {\"message\":\"record processed\",\"key\":\"indented\"}\n",
        ];
        let keys = processed_keys(lines);
        assert_eq!(
            keys.into_iter().collect::<Vec<_>>(),
            ["a b/c.txt", "indented", "x"]
        );
    }
}
