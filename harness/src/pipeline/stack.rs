//! A run's stack as a guard, in the way testcontainers treats a container: the explicit async
//! [`Stack::teardown`] is the path every run takes, and dropping a stack whose deploy was tried
//! but that was not torn down (a panic, an early return, Ctrl-C) is the safety net: the drop
//! tears it down on a thread of its own, waits for it at most a deadline, and prints the
//! command that finishes the job if that failed or did not end in time.

use std::sync::mpsc;
use std::time::Duration;

use super::finding::Finding;
use crate::deploy::teardown::{TeardownReport, teardown};
use crate::deploy::{self, DeployConfig, Deployment};
use crate::run_target::Target;
use crate::stack::{RunId, StackNames};

/// How long the drop's safety-net teardown may take before it gives up and says what to run.
const DROP_TEARDOWN_DEADLINE: Duration = Duration::from_secs(120);

/// The stack of one run on one target, from before its deploy to its verified teardown.
#[derive(Debug)]
pub struct Stack<'t> {
    target: &'t Target,
    names: StackNames,
    /// A deploy was tried: from then on something may exist to tear down.
    deployed: bool,
    torn_down: bool,
}

impl<'t> Stack<'t> {
    /// The stack of a new run (a fresh run id); nothing is made yet.
    pub fn new(target: &'t Target) -> Self {
        Self::named(target, StackNames::with_default_prefix(&RunId::random()))
    }

    /// The stack of `names` (tests and commands that name the run themselves).
    pub fn named(target: &'t Target, names: StackNames) -> Self {
        Self {
            target,
            names,
            deployed: false,
            torn_down: false,
        }
    }

    pub fn run_id(&self) -> &RunId {
        &self.names.run_id
    }

    /// Deploys (or converges) the stack. A failed deploy may have made part of it: the
    /// teardown, explicit or on drop, removes that part too.
    pub async fn deploy(
        &mut self,
        config: &DeployConfig,
        progress: &mut (dyn std::io::Write + Send),
    ) -> Result<Deployment, Finding> {
        self.deployed = true;
        deploy::deploy(self.target, &self.names, config, progress)
            .await
            .map(|(deployment, _journal)| deployment)
            .map_err(|e| Finding::Deploy(e.to_string()))
    }

    /// Removes the stack and verifies nothing is left; the report says what was done.
    pub async fn teardown(mut self, progress: &mut (dyn std::io::Write + Send)) -> TeardownReport {
        let report = teardown(self.target, &self.names, progress).await;
        // Only now: a teardown interrupted halfway is finished by the drop.
        self.torn_down = true;
        report
    }
}

impl Drop for Stack<'_> {
    fn drop(&mut self) {
        if self.torn_down || !self.deployed {
            return;
        }
        let run = self.names.run_id.to_string();
        eprintln!("run {run} ended without its teardown; tearing its stack down now");
        let finish = format!(
            "finish it with `harness {} teardown --run-id {run}`",
            self.target.replay_flags()
        );
        match self.teardown_detached() {
            Ok(torn) if torn.is_clean() => eprintln!("run {run}: stack removed"),
            Ok(torn) => eprintln!(
                "run {run}: teardown incomplete ({}); {finish}",
                Finding::of_teardown(&torn).map_or_else(String::new, |f| f.to_string())
            ),
            Err(why) => eprintln!("run {run}: teardown failed ({why}); {finish}"),
        }
    }
}

impl Stack<'_> {
    /// The teardown, on a thread and runtime of its own (a drop cannot await, and the caller's
    /// runtime may be the one blocked in this drop), waited for at most
    /// [`DROP_TEARDOWN_DEADLINE`]; a teardown still running then is left to finish on its own.
    fn teardown_detached(&self) -> Result<TeardownReport, String> {
        let target = Target::with_sdk_config(
            self.target.kind,
            &self.target.region,
            self.target.endpoint_url.as_deref(),
            self.target.sdk.clone(),
        );
        let names = self.names.clone();
        let (done, outcome) = mpsc::channel();
        std::thread::Builder::new()
            .name("stack-teardown".into())
            .spawn(move || {
                let torn = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())
                    .map(|runtime| {
                        runtime.block_on(teardown(&target, &names, &mut std::io::sink()))
                    });
                // The drop may have stopped waiting: then nobody reads this.
                let _ = done.send(torn);
            })
            .map_err(|e| format!("cannot start the teardown thread: {e}"))?;
        outcome
            .recv_timeout(DROP_TEARDOWN_DEADLINE)
            .map_err(|_| format!("no end within {DROP_TEARDOWN_DEADLINE:?}"))?
    }
}
