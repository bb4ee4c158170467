//! Helpers that read what the recording client captured: find a request, decode its form or
//! JSON body, pull statements, condition values and ARNs out of it, and compare with a
//! readable failure.

use std::collections::BTreeMap;

use harness::recording::RecordedRequest;
use libtest_mimic::Failed;
use serde_json::Value;

/// The first request `matches` accepts, or an error listing what was sent.
pub(super) fn find<'a>(
    requests: &'a [RecordedRequest],
    what: &str,
    matches: impl Fn(&RecordedRequest) -> bool,
) -> Result<&'a RecordedRequest, Failed> {
    requests.iter().find(|r| matches(r)).ok_or_else(|| {
        let sent: Vec<String> = requests
            .iter()
            .map(|r| format!("{} {} {:?}", r.method, r.uri, r.header("x-amz-target")))
            .collect();
        format!("no {what} request among:\n{}", sent.join("\n")).into()
    })
}

pub(super) fn expect_eq<T: PartialEq + std::fmt::Debug + ?Sized>(
    what: &str,
    found: &T,
    wanted: &T,
) -> Result<(), Failed> {
    if found == wanted {
        Ok(())
    } else {
        Err(format!("{what}:\nsent   {found:?}\nwanted {wanted:?}").into())
    }
}

/// The URL-decoded parameters of a form body (the query protocol of IAM, SNS, STS).
pub(super) fn form(request: &RecordedRequest) -> BTreeMap<String, String> {
    form_urlencoded::parse(request.body.as_deref().unwrap_or_default())
        .into_owned()
        .collect()
}

pub(super) fn json_body(request: &RecordedRequest) -> Result<Value, Failed> {
    serde_json::from_slice(request.body.as_deref().unwrap_or_default())
        .map_err(|e| format!("{} {}: body is not JSON: {e}", request.method, request.uri).into())
}

pub(super) fn json_text<S: AsRef<str>>(what: &str, text: Option<S>) -> Result<Value, Failed> {
    let text = text.ok_or_else(|| format!("{what} missing"))?;
    serde_json::from_str(text.as_ref()).map_err(|e| format!("{what} is not JSON: {e}").into())
}

pub(super) fn statements(policy: &Value) -> Vec<&Value> {
    policy["Statement"]
        .as_array()
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

/// Every value of condition key `key`, under any operator, in any statement.
pub(super) fn condition_values<'a>(policy: &'a Value, key: &str) -> Vec<&'a str> {
    statements(policy)
        .into_iter()
        .filter_map(|s| s["Condition"].as_object())
        .flat_map(|operators| operators.values())
        .filter_map(|keys| keys.get(key))
        .filter_map(Value::as_str)
        .collect()
}

/// Every ARN in a request: in its URI and in its body, form bodies URL-decoded first (JSON
/// bodies escape nested policies with `\"`, which ends an ARN as well).
pub(super) fn arns_in(request: &RecordedRequest) -> Vec<String> {
    let mut texts = vec![percent_decode(&request.uri)];
    let is_form = request
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        texts.extend(form(request).into_values());
    } else {
        texts.push(request.body_text());
    }
    let mut found = Vec::new();
    for text in &texts {
        let mut rest = text.as_str();
        while let Some(at) = rest.find("arn:") {
            let starts_word = rest[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_ascii_alphanumeric());
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| c.is_whitespace() || "\"\\,<>&]}'".contains(c))
                .unwrap_or(tail.len());
            if starts_word {
                found.push(tail[..end].to_owned());
            }
            rest = &tail[4..];
        }
    }
    found
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}
