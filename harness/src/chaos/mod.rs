//! Chaos: faults injected on purpose into a pipeline run, and the invariants that must hold
//! afterwards.
//!
//! A scenario's `[[chaos]]` tables ([`spec`]) name the faults: network faults on the function's
//! AWS calls, injected by a proxy on loopback that the function is pointed at ([`proxy`], with
//! seeded decisions in [`schedule`] and the killing of the calling process in [`caller`]);
//! platform faults opened and closed around windows of the workload ([`platform`]); and event
//! faults, the function invoked again with the events it already got ([`redeliver`]); and
//! LocalStack itself restarted, which the run must notice on its own. The [`driver`] runs the
//! workload with them (cut into segments at the faults' edges in `segments`, with windows that
//! wait on the function's logged completions in `completion`), and [`invariants`] accounts for
//! what the faults explain, so anything else the oracle finds is a violation naming the object,
//! the faults that touched it and the seed.

mod caller;
mod collection;
mod completion;
pub mod driver;
mod findings;
pub mod platform;
pub mod proxy;
pub mod redeliver;
mod segments;

// The fault model is pure and lives in the core crate.
pub use harness_core::chaos::{dropped, invariants, report, schedule, spec};

use std::time::Instant;

use crate::run_target::{Target, TargetKind};
use crate::scenario::Scenario;

pub use report::{ChaosSummary, FaultCount, TimelineEvent, TimelineKind};
pub use spec::FaultSpec;

/// What a chaos run sets up before the deploy: the run's clock and the fault proxy.
pub struct ChaosSetup {
    /// Time zero of the run: uploads, deliveries and injections are in ms since it.
    pub epoch: Instant,
    proxy: Option<proxy::FaultProxy>,
}

impl ChaosSetup {
    /// Checks that `scenario`'s faults can run on `target` and starts the proxy if any fault
    /// needs it. `Err` is the reason the scenario is skipped there.
    pub async fn prepare(target: &Target, scenario: &Scenario, seed: u64) -> Result<Self, String> {
        let epoch = Instant::now();
        if !target.is_sandbox() {
            return Err(
                "chaos injects faults into a real account only when it is marked as a sandbox: \
                 pass --sandbox-account ACCOUNT (or HARNESS_SANDBOX_ACCOUNTS) for an allowed \
                 account that nothing else depends on"
                    .into(),
            );
        }
        for fault in &scenario.chaos {
            if fault.needs_local_function() && target.kind != TargetKind::Embedded {
                return Err(format!(
                    "fault `{fault}` needs the embedded target: the fault proxy listens on this \
                     machine's loopback, which a function in Docker or on AWS cannot reach"
                ));
            }
            if fault.needs_owned_localstack() && !target.embedded_is_owned() {
                return Err(format!(
                    "fault `{fault}` restarts the LocalStack process, which only a LocalStack \
                     this run started itself can be (the default embedded target, without \
                     --endpoint-url and without `harness up`); a shared or attached LocalStack \
                     and AWS are left alone"
                ));
            }
            if target.kind == TargetKind::Aws && !fault.safe_on_aws() {
                return Err(format!(
                    "fault `{fault}` is not safe to inject on a real account"
                ));
            }
        }
        let http: Vec<(usize, spec::HttpFault)> = scenario
            .chaos
            .iter()
            .enumerate()
            .filter_map(|(i, f)| match f {
                FaultSpec::Http(h) => Some((i, h.clone())),
                _ => None,
            })
            .collect();
        let proxy = match (&target.endpoint_url, http.is_empty()) {
            (Some(upstream), false) => Some(
                proxy::FaultProxy::start(upstream, http, seed, epoch)
                    .await
                    .map_err(|e| e.to_string())?,
            ),
            _ => None,
        };
        Ok(Self { epoch, proxy })
    }

    /// Environment for the deployed function: its S3 and SNS calls go through the proxy.
    pub fn function_env(&self) -> Vec<(String, String)> {
        match &self.proxy {
            Some(proxy) => vec![
                ("AWS_ENDPOINT_URL_S3".into(), proxy.url()),
                ("AWS_ENDPOINT_URL_SNS".into(), proxy.url()),
            ],
            None => Vec::new(),
        }
    }

    /// Every fault the proxy injected so far.
    pub fn injections(&self) -> Vec<proxy::Injection> {
        self.proxy
            .as_ref()
            .map(proxy::FaultProxy::injections)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{load_file, scenarios_dir};

    fn scenario(name: &str) -> Scenario {
        load_file(&scenarios_dir().join(format!("{name}.toml"))).unwrap()
    }

    fn aws() -> Target {
        let sdk = aws_config::SdkConfig::builder()
            .region(aws_config::Region::new("eu-west-1"))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        Target::with_sdk_config(TargetKind::Aws, "eu-west-1", None, sdk)
    }

    #[tokio::test]
    async fn a_real_account_gets_faults_only_when_marked_as_a_sandbox() {
        let throttle = scenario("chaos-throttle");
        let mut target = aws();
        let Err(reason) = ChaosSetup::prepare(&target, &throttle, 1).await else {
            panic!("an unmarked account must be refused");
        };
        assert!(reason.contains("--sandbox-account"), "{reason}");
        target.mark_sandbox();
        assert!(ChaosSetup::prepare(&target, &throttle, 1).await.is_ok());
        let Err(reason) = ChaosSetup::prepare(&target, &scenario("chaos-network"), 1).await else {
            panic!("the fault proxy cannot reach a function on AWS");
        };
        assert!(reason.contains("needs the embedded target"), "{reason}");
    }

    #[tokio::test]
    async fn a_restart_needs_a_localstack_the_run_owns() {
        let attached = Target::attach(
            TargetKind::Embedded,
            "http://127.0.0.1:9",
            &crate::run_target::AwsArgs::default(),
        )
        .await;
        let Err(reason) = ChaosSetup::prepare(&attached, &scenario("chaos-restart"), 1).await
        else {
            panic!("an attached LocalStack must not be restarted");
        };
        assert!(
            reason.contains("restarts the LocalStack process"),
            "{reason}"
        );
    }
}
