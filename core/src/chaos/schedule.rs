//! Which request gets which fault: the proxy's decisions, pure and seeded.
//!
//! A request is first described ([`RequestInfo::describe`]: service from the SigV4 credential
//! scope, operation, topic, the SDK's per-call invocation id), then offered to the rules in
//! scenario order. Each rule draws from its own stream of the run's seed,
//! [`Stream::Fault`]`(position)` (see [`crate::seeds`]), once per new SDK call, so the n-th
//! matching call of a replay gets the same decision; the retries of a picked call (same
//! `amz-sdk-invocation-id`) are faulted up to `attempts` times, then let through, which is
//! what lets the SDK's retry policy recover.

use std::collections::HashMap;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::spec::{HttpAction, HttpFault, Service, TopicKind};
use crate::seeds::{self, Stream};

/// What the proxy knows about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    pub service: Option<Service>,
    /// `HeadObject`, `Publish`, ... (`None` when not recognised).
    pub operation: Option<String>,
    pub topic: Option<TopicKind>,
    /// The SDK's `amz-sdk-invocation-id`: equal for every attempt of one call.
    pub call_id: Option<String>,
    /// What the request is about, for the report: the S3 path or the topic and key.
    pub subject: String,
}

impl RequestInfo {
    /// Describes a request from its method, path (with query), headers and body.
    pub fn describe(
        method: &str,
        path_and_query: &str,
        header: impl Fn(&str) -> Option<String>,
        body: &[u8],
    ) -> Self {
        let service = header("authorization").and_then(|auth| scope_service(&auth));
        let call_id = header("amz-sdk-invocation-id");
        let (operation, topic, subject) = match service {
            Some(Service::Sns) => {
                let form: HashMap<String, String> = form_urlencoded::parse(body)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                let topic_arn = form.get("TopicArn").cloned().unwrap_or_default();
                let topic = (!topic_arn.is_empty()).then(|| {
                    if topic_arn.ends_with(".fifo") {
                        TopicKind::Fifo
                    } else {
                        TopicKind::Standard
                    }
                });
                let key = form
                    .get("Message")
                    .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
                    .and_then(|m| m.get("key")?.as_str().map(str::to_owned));
                let subject = match key {
                    Some(key) => format!("{topic_arn} key {key:?}"),
                    None => topic_arn,
                };
                (form.get("Action").cloned(), topic, subject)
            }
            Some(Service::S3) => {
                let path = path_and_query.split('?').next().unwrap_or_default();
                // Path style: /bucket/key; an object operation has a key.
                let has_key = path.trim_start_matches('/').contains('/');
                let operation = match (method, has_key) {
                    ("HEAD", true) => Some("HeadObject".to_owned()),
                    ("GET", true) => Some("GetObject".to_owned()),
                    _ => None,
                };
                let subject = percent_encoding::percent_decode_str(path)
                    .decode_utf8_lossy()
                    .into_owned();
                (operation, None, subject)
            }
            None => (None, None, path_and_query.to_owned()),
        };
        Self {
            service,
            operation,
            topic,
            call_id,
            subject,
        }
    }
}

/// The service of a SigV4 `Authorization` header: `Credential=AKID/date/region/SERVICE/aws4_request`.
fn scope_service(authorization: &str) -> Option<Service> {
    let credential = authorization.split("Credential=").nth(1)?;
    let scope = credential.split([',', ' ']).next()?;
    match scope.split('/').nth(3)? {
        "s3" => Some(Service::S3),
        "sns" => Some(Service::Sns),
        _ => None,
    }
}

/// A decision: fault `rule` (its position in the scenario's `[[chaos]]` list) does `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub rule: usize,
    pub action: HttpAction,
    pub latency_ms: Option<u64>,
}

struct Rule {
    index: usize,
    fault: HttpFault,
    rng: ChaCha8Rng,
    picked: u64,
    /// Per SDK call seen: how many of its attempts were faulted (`None`: not picked).
    calls: HashMap<String, Option<u32>>,
}

/// The seeded decisions of every network fault of a scenario.
pub struct Scheduler {
    rules: Vec<Rule>,
}

impl Scheduler {
    /// `faults` are `(position in the scenario, fault)`.
    pub fn new(seed: u64, faults: Vec<(usize, HttpFault)>) -> Self {
        let rules = faults
            .into_iter()
            .map(|(index, fault)| Rule {
                index,
                fault,
                rng: seeds::rng(seed, Stream::Fault(index)),
                picked: 0,
                calls: HashMap::new(),
            })
            .collect();
        Self { rules }
    }

    /// The fault to inject into `request`, if any (the first rule that fires).
    pub fn decide(&mut self, request: &RequestInfo) -> Option<Decision> {
        for rule in &mut self.rules {
            if !matches(&rule.fault, request) {
                continue;
            }
            let fault = &rule.fault;
            // A request without a call id is its own call.
            let call = request.call_id.clone();
            let known = call.as_ref().and_then(|c| rule.calls.get(c).copied());
            let fire = match known {
                Some(Some(faulted)) => faulted < fault.attempts,
                Some(None) => false,
                None => {
                    let under_max = fault.max.is_none_or(|max| rule.picked < max);
                    let drawn = rule.rng.random::<f64>() < fault.probability;
                    let pick = under_max && drawn;
                    if pick {
                        rule.picked += 1;
                    }
                    if let Some(call) = &call {
                        rule.calls.insert(call.clone(), pick.then_some(0));
                    }
                    pick
                }
            };
            if fire {
                if let Some(Some(faulted)) = call.as_ref().and_then(|c| rule.calls.get_mut(c)) {
                    *faulted += 1;
                }
                return Some(Decision {
                    rule: rule.index,
                    action: fault.action,
                    latency_ms: fault.latency_ms,
                });
            }
        }
        None
    }
}

fn matches(fault: &HttpFault, request: &RequestInfo) -> bool {
    request.service == Some(fault.service)
        && fault
            .operation
            .as_ref()
            .is_none_or(|op| request.operation.as_ref() == Some(op))
        && fault.topic.is_none_or(|t| request.topic == Some(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sns_publish(topic: &str, call: &str) -> RequestInfo {
        let body = format!(
            "Action=Publish&TopicArn={}&Message=%7B%22key%22%3A%22a+b%22%7D",
            topic
        );
        RequestInfo::describe(
            "POST",
            "/",
            |h| {
                match h {
                "authorization" => Some(
                    "AWS4-HMAC-SHA256 Credential=test/20261202/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=x".into(),
                ),
                "amz-sdk-invocation-id" => Some(call.into()),
                _ => None,
            }
            },
            body.as_bytes(),
        )
    }

    fn fault(action: HttpAction) -> HttpFault {
        HttpFault {
            service: Service::Sns,
            operation: Some("Publish".into()),
            topic: Some(TopicKind::Fifo),
            action,
            probability: 1.0,
            max: None,
            attempts: 1,
            latency_ms: None,
        }
    }

    #[test]
    fn requests_are_described_from_scope_action_and_topic() {
        let r = sns_publish("arn:aws:sns:us-east-1:1:t.fifo", "c1");
        assert_eq!(r.service, Some(Service::Sns));
        assert_eq!(r.operation.as_deref(), Some("Publish"));
        assert_eq!(r.topic, Some(TopicKind::Fifo));
        assert_eq!(r.call_id.as_deref(), Some("c1"));
        assert_eq!(r.subject, "arn:aws:sns:us-east-1:1:t.fifo key \"a b\"");
        let head = RequestInfo::describe(
            "HEAD",
            "/bucket/dir/a%20b?versionId=1",
            |h| {
                (h == "authorization")
                    .then(|| "AWS4-HMAC-SHA256 Credential=t/d/eu-west-1/s3/aws4_request".into())
            },
            b"",
        );
        assert_eq!(head.service, Some(Service::S3));
        assert_eq!(head.operation.as_deref(), Some("HeadObject"));
        assert_eq!(head.subject, "/bucket/dir/a b");
        let list = RequestInfo::describe(
            "GET",
            "/bucket?list-type=2",
            |h| (h == "authorization").then(|| "Credential=t/d/r/s3/aws4_request".into()),
            b"",
        );
        assert_eq!(list.operation, None);
        let unsigned = RequestInfo::describe("GET", "/_localstack/health", |_| None, b"");
        assert_eq!(unsigned.service, None);
    }

    #[test]
    fn a_picked_call_is_faulted_for_its_attempts_then_let_through() {
        let mut f = fault(HttpAction::Throttle);
        f.attempts = 2;
        let mut s = Scheduler::new(7, vec![(0, f)]);
        let r = sns_publish("arn:aws:sns:r:1:t.fifo", "call-1");
        assert!(s.decide(&r).is_some());
        assert!(s.decide(&r).is_some());
        assert_eq!(s.decide(&r), None, "third attempt goes through");
        let other = sns_publish("arn:aws:sns:r:1:t.fifo", "call-2");
        assert_eq!(s.decide(&other).map(|d| d.rule), Some(0));
    }

    #[test]
    fn only_matching_requests_are_faulted_and_max_caps_the_picks() {
        let mut f = fault(HttpAction::Reset);
        f.max = Some(2);
        let mut s = Scheduler::new(1, vec![(3, f)]);
        assert_eq!(s.decide(&sns_publish("arn:aws:sns:r:1:email", "x")), None);
        let picked = (0..5)
            .filter(|i| {
                s.decide(&sns_publish("arn:aws:sns:r:1:t.fifo", &format!("c{i}")))
                    .is_some()
            })
            .count();
        assert_eq!(picked, 2);
    }

    #[test]
    fn the_same_seed_makes_the_same_decisions() {
        let run = |seed| {
            let mut f = fault(HttpAction::ServerError);
            f.probability = 0.5;
            let mut s = Scheduler::new(seed, vec![(0, f)]);
            (0..64)
                .map(|i| {
                    s.decide(&sns_publish("arn:aws:sns:r:1:t.fifo", &format!("c{i}")))
                        .is_some()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(11), run(11));
        assert_ne!(run(11), run(12));
        let picked = run(11).iter().filter(|p| **p).count();
        assert!((16..=48).contains(&picked), "{picked} of 64 at p=0.5");
    }

    /// Fault 0 used to draw the workload's own stream, so its picks were the workload plan's
    /// first draws; now they are its own stream's, and differ from the workload's.
    #[test]
    fn fault_0_decides_from_its_own_stream_not_the_workload() {
        let n = 64;
        for seed in 0..20 {
            let mut f = fault(HttpAction::ServerError);
            f.probability = 0.5;
            let mut s = Scheduler::new(seed, vec![(0, f)]);
            let decisions: Vec<bool> = (0..n)
                .map(|i| {
                    s.decide(&sns_publish("arn:aws:sns:r:1:t.fifo", &format!("c{i}")))
                        .is_some()
                })
                .collect();
            let picks = |mut rng: ChaCha8Rng| -> Vec<bool> {
                (0..n).map(|_| rng.random::<f64>() < 0.5).collect()
            };
            assert_eq!(decisions, picks(seeds::rng(seed, Stream::Fault(0))));
            assert_ne!(decisions, picks(seeds::rng(seed, Stream::Workload)));
        }
    }
}
