//! The state trials share: one tokio runtime, one embedded LocalStack, one built `bootstrap`.
//!
//! Started lazily by the first trial that needs it, so filtering to a pure trial starts nothing;
//! a crash of LocalStack fails every later trial with its log tail.

use std::sync::{Mutex, OnceLock};

use harness::artifact::{self, BuildProfile};
use harness::run_target::{Target, TargetArgs};

pub struct Shared {
    pub runtime: tokio::runtime::Runtime,
    target: Mutex<Option<Target>>,
    /// The handler's deployment package (built once, dev profile).
    pub bootstrap_zip: Vec<u8>,
    pub sdk: aws_config::SdkConfig,
    /// The same LocalStack as a target that trials may share (it does not own the process).
    view: Target,
    pub localstack_pid: u32,
    /// LocalStack's log, which also holds the functions' output.
    pub log: std::path::PathBuf,
}

static SHARED: OnceLock<Result<Shared, String>> = OnceLock::new();

/// The shared context, started on first use.
pub fn get() -> Result<&'static Shared, String> {
    let shared = SHARED.get_or_init(start).as_ref().map_err(Clone::clone)?;
    shared.ensure_alive()?;
    Ok(shared)
}

fn start() -> Result<Shared, String> {
    let bootstrap = artifact::build_bootstrap(BuildProfile::Dev).map_err(|e| e.to_string())?;
    let bootstrap_zip = artifact::zip_bootstrap(&bootstrap).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    // Always a LocalStack of our own: a `harness up` one may hold unrelated state.
    let mut target = start_owned(&runtime)?;
    let instance = target.embedded().expect("started above");
    let localstack_pid = instance.info().pid;
    let log = instance.info().log.clone();
    let sdk = target.sdk.clone();
    let endpoint = instance_endpoint(&mut target);
    let view = runtime.block_on(Target::attach(
        harness::run_target::TargetKind::Embedded,
        &endpoint,
        &TargetArgs::default().aws,
    ));
    Ok(Shared {
        runtime,
        target: Mutex::new(Some(target)),
        bootstrap_zip,
        sdk,
        localstack_pid,
        log,
        view,
    })
}

fn instance_endpoint(target: &mut Target) -> String {
    target
        .embedded()
        .expect("started above")
        .endpoint()
        .to_owned()
}

/// A LocalStack this process starts and owns, as a target.
fn start_owned(runtime: &tokio::runtime::Runtime) -> Result<Target, String> {
    runtime
        .block_on(async {
            let instance = harness::run_target::start_embedded(
                TargetArgs::default().python,
                &mut std::io::stderr(),
            )
            .await?;
            Target::for_embedded(instance, &TargetArgs::default().aws).await
        })
        .map_err(|e| format!("starting the embedded LocalStack: {e}"))
}

impl Shared {
    /// The shared LocalStack as a target.
    pub fn target(&self) -> &Target {
        &self.view
    }

    /// A LocalStack for one trial alone (the caller shuts it down), for what must not touch
    /// the shared one, such as restarting it.
    pub fn private_target(&self) -> Result<Target, String> {
        start_owned(&self.runtime)
    }

    fn ensure_alive(&self) -> Result<(), String> {
        let mut guard = self.target.lock().unwrap_or_else(|p| p.into_inner());
        match guard.as_mut() {
            Some(target) => target.ensure_alive().map_err(|e| e.to_string()),
            None => Err("the shared LocalStack was already stopped".into()),
        }
    }
}

/// Stops the shared LocalStack if one was started, failing if any process survived.
pub fn shutdown() -> Result<(), String> {
    let Some(Ok(shared)) = SHARED.get() else {
        return Ok(());
    };
    let target = shared
        .target
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    match target {
        Some(target) => target.shutdown().map_err(|e| e.to_string()),
        None => Ok(()),
    }
}

/// A name unique to this test process and call, within Lambda/S3/SNS naming rules.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
