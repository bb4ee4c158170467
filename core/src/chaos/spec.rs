//! Faults as data: the `[[chaos]]` tables of a scenario file.
//!
//! A fault says what breaks, how often or when, and nothing about how; the harness's
//! fault proxy and the chaos driver of the `harness` crate carry it out. Windows are given in
//! upload positions (`during-uploads = [2, 5]`: opened before the third upload, closed after
//! the fifth was processed), not in milliseconds, so a replay breaks the same uploads whatever
//! the machine's speed. Pure: parsing and validation only.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One fault of a scenario.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(
    tag = "fault",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub enum FaultSpec {
    /// A network fault on the function's AWS calls, injected by the fault proxy.
    Http(HttpFault),
    /// Reserved concurrency 0 while the window's uploads land, then restored.
    ThrottleFunction { during_uploads: [usize; 2] },
    /// The stack's KMS key disabled while the window's uploads are attempted, then enabled.
    DisableKmsKey { during_uploads: [usize; 2] },
    /// The FIFO queue's subscription removed for the window's uploads, then restored.
    RemoveFifoSubscription { during_uploads: [usize; 2] },
    /// After the run's own deliveries, every S3 event invoked again `copies` times, in a seeded
    /// shuffled order (S3 delivers at least once and in no particular order).
    RedeliverEvents {
        #[serde(default = "default_copies")]
        copies: usize,
    },
    /// LocalStack's process stopped and started again after the given upload (its state lives
    /// in memory): the run must detect the restart and report what it lost, not blame the
    /// pipeline. Needs a LocalStack the run started itself.
    RestartLocalstack { after_upload: usize },
}

fn default_copies() -> usize {
    1
}

/// A fault the proxy injects into matching requests.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct HttpFault {
    pub service: Service,
    /// `HeadObject` (s3) or `Publish` (sns); any operation of the service when left out.
    #[serde(default)]
    pub operation: Option<String>,
    /// For sns Publish: only the FIFO or only the standard (email) topic.
    #[serde(default)]
    pub topic: Option<TopicKind>,
    pub action: HttpAction,
    /// Chance that a new matching call is picked (drawn from the run's seed).
    #[serde(default = "one")]
    pub probability: f64,
    /// At most this many picked calls (default: no limit).
    #[serde(default)]
    pub max: Option<u64>,
    /// How many attempts of one picked SDK call are faulted (its retries share the
    /// `amz-sdk-invocation-id` header); default 1, so the SDK's own retry recovers.
    #[serde(default = "one_u32")]
    pub attempts: u32,
    /// For `latency`: added delay.
    #[serde(default)]
    pub latency_ms: Option<u64>,
}

fn one() -> f64 {
    1.0
}

fn one_u32() -> u32 {
    1
}

/// The services whose calls the function makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    S3,
    Sns,
}

/// The two topics the function publishes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TopicKind {
    Fifo,
    Standard,
}

/// What the proxy does to a picked request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HttpAction {
    /// AWS's throttling error (S3 503 SlowDown, SNS 400 Throttling).
    Throttle,
    /// AWS's internal error (500 InternalError).
    ServerError,
    /// Forwarded after `latency-ms`.
    Latency,
    /// The connection is closed without a response.
    Reset,
    /// Forwarded twice (a replayed request, e.g. a duplicate publish).
    Duplicate,
    /// The calling process (the function) is killed while the request is held, mid-invocation.
    KillCaller,
}

/// Why a `[[chaos]]` table is not valid; each names the field and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidFault {
    #[error("[[chaos]] #{0}: `probability` must be between 0 and 1")]
    Probability(usize),
    #[error(
        "[[chaos]] #{0}: this fault can never fire (`probability = 0` or `max = 0`), so the run \
         would prove nothing about it; raise it or remove the table"
    )]
    NeverFires(usize),
    #[error("[[chaos]] #{0}: `attempts` must be at least 1")]
    Attempts(usize),
    #[error("[[chaos]] #{0}: `latency` needs `latency-ms` (1 to 60000)")]
    Latency(usize),
    #[error("[[chaos]] #{0}: `latency-ms` is only for action `latency`; remove it")]
    StrayLatency(usize),
    #[error("[[chaos]] #{0}: operation `{1}` is not a call the function makes to {2}; use {3}")]
    Operation(usize, String, &'static str, &'static str),
    #[error("[[chaos]] #{0}: `topic` only applies to service sns; remove it")]
    StrayTopic(usize),
    #[error(
        "[[chaos]] #{index}: `during-uploads = [{from}, {to}]` must satisfy 1 <= from <= to <= {files} (the workload's upload count)"
    )]
    Window {
        index: usize,
        from: usize,
        to: usize,
        files: usize,
    },
    #[error("[[chaos]] #{0}: `copies` must be 1 to 5")]
    Copies(usize),
    #[error(
        "[[chaos]] #{0} and #{1} both use a window of the same kind; one per kind per scenario"
    )]
    Twice(usize, usize),
    #[error(
        "[[chaos]] #{index}: `after-upload = {after}` must satisfy 1 <= after-upload < {files} \
         (uploads must remain to show what the restart cost)"
    )]
    RestartPoint {
        index: usize,
        after: usize,
        files: usize,
    },
    #[error(
        "[[chaos]] #{restart} restarts LocalStack, which ends the run's stack, but #{other} needs \
         it afterwards; close windows before the restart and do not combine it with \
         redeliver-events"
    )]
    AfterRestart { restart: usize, other: usize },
}

impl FaultSpec {
    /// Checks one fault (position `index`, 1-based as users count) against a workload of
    /// `files` uploads.
    pub fn validate(&self, index: usize, files: usize) -> Result<(), InvalidFault> {
        match self {
            FaultSpec::Http(h) => h.validate(index),
            FaultSpec::ThrottleFunction { during_uploads }
            | FaultSpec::DisableKmsKey { during_uploads }
            | FaultSpec::RemoveFifoSubscription { during_uploads } => {
                let [from, to] = *during_uploads;
                if from == 0 || from > to || to > files {
                    return Err(InvalidFault::Window {
                        index,
                        from,
                        to,
                        files,
                    });
                }
                Ok(())
            }
            FaultSpec::RedeliverEvents { copies } => {
                if (1..=5).contains(copies) {
                    Ok(())
                } else {
                    Err(InvalidFault::Copies(index))
                }
            }
            FaultSpec::RestartLocalstack { after_upload } => {
                if *after_upload == 0 || *after_upload >= files {
                    return Err(InvalidFault::RestartPoint {
                        index,
                        after: *after_upload,
                        files,
                    });
                }
                Ok(())
            }
        }
    }

    /// For `restart-localstack`: how many uploads are made before the restart.
    pub fn restart_after(&self) -> Option<usize> {
        match self {
            FaultSpec::RestartLocalstack { after_upload } => Some(*after_upload),
            _ => None,
        }
    }

    /// Whether the fault needs a LocalStack process this run started (and may restart).
    pub fn needs_owned_localstack(&self) -> bool {
        matches!(self, FaultSpec::RestartLocalstack { .. })
    }

    /// The window of a windowed fault, as 0-based upload positions `[from, to)`.
    pub fn window(&self) -> Option<std::ops::Range<usize>> {
        match self {
            FaultSpec::ThrottleFunction { during_uploads }
            | FaultSpec::DisableKmsKey { during_uploads }
            | FaultSpec::RemoveFifoSubscription { during_uploads } => {
                Some(during_uploads[0] - 1..during_uploads[1])
            }
            _ => None,
        }
    }

    /// Whether the fault needs the function to run on this machine (the proxy is on loopback).
    pub fn needs_local_function(&self) -> bool {
        matches!(self, FaultSpec::Http(_))
    }

    /// Whether the fault is safe and reversible on a real (sandbox) account.
    pub fn safe_on_aws(&self) -> bool {
        matches!(
            self,
            FaultSpec::ThrottleFunction { .. }
                | FaultSpec::DisableKmsKey { .. }
                | FaultSpec::RemoveFifoSubscription { .. }
                | FaultSpec::RedeliverEvents { .. }
        )
    }
}

/// Checks every fault and that windowed kinds appear at most once.
pub fn validate_all(faults: &[FaultSpec], files: usize) -> Result<(), InvalidFault> {
    for (i, fault) in faults.iter().enumerate() {
        fault.validate(i + 1, files)?;
        if fault.window().is_some()
            && let Some(j) = faults[..i]
                .iter()
                .position(|f| std::mem::discriminant(f) == std::mem::discriminant(fault))
        {
            return Err(InvalidFault::Twice(j + 1, i + 1));
        }
    }
    let restart = faults
        .iter()
        .enumerate()
        .find_map(|(i, f)| f.restart_after().map(|after| (i, after)));
    if let Some((r, after)) = restart {
        for (i, fault) in faults.iter().enumerate() {
            let needs_stack_after = match fault {
                FaultSpec::RedeliverEvents { .. } => true,
                FaultSpec::RestartLocalstack { .. } => i != r,
                other => other.window().is_some_and(|w| w.end > after),
            };
            if needs_stack_after {
                return Err(InvalidFault::AfterRestart {
                    restart: r + 1,
                    other: i + 1,
                });
            }
        }
    }
    Ok(())
}

impl HttpFault {
    fn validate(&self, index: usize) -> Result<(), InvalidFault> {
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(InvalidFault::Probability(index));
        }
        if self.probability == 0.0 || self.max == Some(0) {
            return Err(InvalidFault::NeverFires(index));
        }
        if self.attempts == 0 {
            return Err(InvalidFault::Attempts(index));
        }
        match (self.action, self.latency_ms) {
            (HttpAction::Latency, Some(ms)) if (1..=60_000).contains(&ms) => {}
            (HttpAction::Latency, _) => return Err(InvalidFault::Latency(index)),
            (_, Some(_)) => return Err(InvalidFault::StrayLatency(index)),
            (_, None) => {}
        }
        let (known, name): (&[&str], &'static str) = match self.service {
            Service::S3 => (&["HeadObject"], "s3"),
            Service::Sns => (&["Publish"], "sns"),
        };
        if let Some(op) = &self.operation
            && !known.contains(&op.as_str())
        {
            return Err(InvalidFault::Operation(index, op.clone(), name, known[0]));
        }
        if self.topic.is_some() && self.service != Service::Sns {
            return Err(InvalidFault::StrayTopic(index));
        }
        Ok(())
    }
}

impl fmt::Display for FaultSpec {
    /// The fault as the report names it, e.g. `sns Publish (fifo) throttle p=0.5 max 4`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultSpec::Http(h) => {
                let service = match h.service {
                    Service::S3 => "s3",
                    Service::Sns => "sns",
                };
                write!(f, "{service} {}", h.operation.as_deref().unwrap_or("*"))?;
                if let Some(topic) = h.topic {
                    write!(f, " ({})", topic.as_str())?;
                }
                write!(f, " {}", h.action.as_str())?;
                if let Some(ms) = h.latency_ms {
                    write!(f, " {ms} ms")?;
                }
                write!(f, " p={}", h.probability)?;
                if let Some(max) = h.max {
                    write!(f, " max {max}")?;
                }
                if h.attempts > 1 {
                    write!(f, " x{} attempts", h.attempts)?;
                }
                Ok(())
            }
            FaultSpec::ThrottleFunction {
                during_uploads: [a, b],
            } => {
                write!(
                    f,
                    "function throttled (reserved concurrency 0) for uploads {a}-{b}"
                )
            }
            FaultSpec::DisableKmsKey {
                during_uploads: [a, b],
            } => {
                write!(f, "KMS key disabled for uploads {a}-{b}")
            }
            FaultSpec::RemoveFifoSubscription {
                during_uploads: [a, b],
            } => {
                write!(f, "FIFO subscription removed for uploads {a}-{b}")
            }
            FaultSpec::RedeliverEvents { copies } => {
                write!(f, "every S3 event redelivered {copies}x, shuffled")
            }
            FaultSpec::RestartLocalstack { after_upload } => {
                write!(f, "LocalStack restarted after upload {after_upload}")
            }
        }
    }
}

impl TopicKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TopicKind::Fifo => "fifo",
            TopicKind::Standard => "standard",
        }
    }
}

impl HttpAction {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpAction::Throttle => "throttle",
            HttpAction::ServerError => "server-error",
            HttpAction::Latency => "latency",
            HttpAction::Reset => "reset",
            HttpAction::Duplicate => "duplicate",
            HttpAction::KillCaller => "kill-caller",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        chaos: Vec<FaultSpec>,
    }

    fn parse(text: &str) -> Result<Vec<FaultSpec>, String> {
        toml::from_str::<Doc>(text)
            .map(|d| d.chaos)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn every_fault_kind_parses_in_kebab_case() {
        let faults = parse(
            "[[chaos]]\nfault = \"http\"\nservice = \"sns\"\noperation = \"Publish\"\n\
             topic = \"fifo\"\naction = \"throttle\"\nprobability = 0.5\nmax = 4\n\
             [[chaos]]\nfault = \"http\"\nservice = \"s3\"\naction = \"latency\"\nlatency-ms = 200\n\
             [[chaos]]\nfault = \"throttle-function\"\nduring-uploads = [2, 3]\n\
             [[chaos]]\nfault = \"disable-kms-key\"\nduring-uploads = [1, 1]\n\
             [[chaos]]\nfault = \"remove-fifo-subscription\"\nduring-uploads = [4, 5]\n\
             [[chaos]]\nfault = \"redeliver-events\"\ncopies = 2\n",
        )
        .unwrap();
        assert_eq!(faults.len(), 6);
        validate_all(&faults, 5).unwrap();
        assert_eq!(
            faults[0].to_string(),
            "sns Publish (fifo) throttle p=0.5 max 4"
        );
        assert_eq!(faults[1].to_string(), "s3 * latency 200 ms p=1");
        assert_eq!(faults[2].window(), Some(1..3));
        assert_eq!(faults[5], FaultSpec::RedeliverEvents { copies: 2 });
        assert!(faults[0].needs_local_function() && !faults[0].safe_on_aws());
        assert!(faults[3].safe_on_aws());
    }

    #[test]
    fn unknown_fields_and_kinds_are_named() {
        let err = parse("[[chaos]]\nfault = \"meteor\"\n").unwrap_err();
        assert!(err.contains("meteor"), "{err}");
        let err = parse(
            "[[chaos]]\nfault = \"http\"\nservice = \"s3\"\naction = \"reset\"\nprobabilty = 1\n",
        )
        .unwrap_err();
        assert!(err.contains("probabilty"), "{err}");
    }

    fn http(action: HttpAction) -> HttpFault {
        HttpFault {
            service: Service::Sns,
            operation: None,
            topic: None,
            action,
            probability: 1.0,
            max: None,
            attempts: 1,
            latency_ms: None,
        }
    }

    #[test]
    fn regression_a_fault_that_can_never_fire_is_refused_on_load() {
        let mut never = http(HttpAction::Throttle);
        never.probability = 0.0;
        assert_eq!(
            FaultSpec::Http(never).validate(1, 3),
            Err(InvalidFault::NeverFires(1))
        );
        let mut capped = http(HttpAction::Throttle);
        capped.max = Some(0);
        assert_eq!(
            FaultSpec::Http(capped).validate(2, 3),
            Err(InvalidFault::NeverFires(2))
        );
    }

    #[test]
    fn invalid_faults_say_what_to_fix() {
        let mut bad = http(HttpAction::Throttle);
        bad.probability = 1.5;
        assert_eq!(
            FaultSpec::Http(bad).validate(1, 3),
            Err(InvalidFault::Probability(1))
        );
        let latency = FaultSpec::Http(http(HttpAction::Latency));
        assert!(
            latency
                .validate(2, 3)
                .unwrap_err()
                .to_string()
                .contains("latency-ms")
        );
        let mut op = http(HttpAction::Reset);
        op.operation = Some("CreateTopic".into());
        assert!(
            FaultSpec::Http(op)
                .validate(1, 3)
                .unwrap_err()
                .to_string()
                .contains("use Publish")
        );
        let mut topic = http(HttpAction::Reset);
        topic.service = Service::S3;
        topic.topic = Some(TopicKind::Fifo);
        assert_eq!(
            FaultSpec::Http(topic).validate(1, 3),
            Err(InvalidFault::StrayTopic(1))
        );
        for window in [[0, 1], [3, 2], [2, 4]] {
            let err = FaultSpec::DisableKmsKey {
                during_uploads: window,
            }
            .validate(1, 3)
            .unwrap_err();
            assert!(err.to_string().contains("<= 3"), "{err}");
        }
        let twice = [
            FaultSpec::ThrottleFunction {
                during_uploads: [1, 1],
            },
            FaultSpec::ThrottleFunction {
                during_uploads: [2, 2],
            },
        ];
        assert_eq!(validate_all(&twice, 3), Err(InvalidFault::Twice(1, 2)));
        assert_eq!(
            FaultSpec::RedeliverEvents { copies: 0 }.validate(1, 3),
            Err(InvalidFault::Copies(1))
        );
    }

    #[test]
    fn a_restart_leaves_uploads_after_it_and_nothing_that_needs_the_stack() {
        let faults =
            parse("[[chaos]]\nfault = \"restart-localstack\"\nafter-upload = 2\n").unwrap();
        assert_eq!(faults[0].restart_after(), Some(2));
        assert!(faults[0].needs_owned_localstack() && !faults[0].safe_on_aws());
        assert_eq!(faults[0].to_string(), "LocalStack restarted after upload 2");
        validate_all(&faults, 3).unwrap();
        for files in [2, 1] {
            let err = validate_all(&faults, files).unwrap_err();
            assert!(err.to_string().contains("after-upload < "), "{err}");
        }
        let restart = FaultSpec::RestartLocalstack { after_upload: 2 };
        let before = FaultSpec::ThrottleFunction {
            during_uploads: [1, 2],
        };
        validate_all(&[before, restart.clone()], 4).unwrap();
        let across = FaultSpec::DisableKmsKey {
            during_uploads: [2, 3],
        };
        assert_eq!(
            validate_all(&[restart.clone(), across], 4),
            Err(InvalidFault::AfterRestart {
                restart: 1,
                other: 2
            })
        );
        let redeliver = FaultSpec::RedeliverEvents { copies: 1 };
        assert!(validate_all(&[redeliver, restart], 4).is_err());
    }
}
