//! Supervises a LocalStack running on this machine in host mode (no Docker).
//!
//! Start: provision the venv, pick a free loopback port, start LocalStack in its own process
//! group with its log in a file, and wait for `/_localstack/health` to report every service we
//! need, with a deadline, failing early (with the log tail) if the process dies. Stop: SIGTERM
//! with a deadline, then SIGKILL for the whole process tree, functions included, and check that
//! nothing survived. `harness up` detaches an instance and records it in a state file that
//! `harness down` and other commands read.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::proc_tree;
use crate::provision::Venv;

/// The services the pipeline and the harness use.
pub const SERVICES: &[&str] = &[
    "s3", "sqs", "sns", "kms", "lambda", "iam", "sts", "logs", "ses",
];

/// The runtime executor our plugin registers under (`localstack.lambda.runtime_executor`).
pub const EXECUTOR_NAME: &str = "local-process";

/// How long LocalStack gets to exit after SIGTERM before the tree is killed (idle it takes about
/// 1 s, after running functions up to about 4.5 s).
pub const STOP_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error("cannot {what} ({path}): {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("LocalStack exited during start-up ({status}). Log: {log}\n--- last lines ---\n{tail}")]
    DiedDuringStart {
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error(
        "LocalStack at {endpoint} was not healthy after {waited:?} (last seen: {last}). \
         Log: {log}\n--- last lines ---\n{tail}"
    )]
    NotHealthy {
        endpoint: String,
        waited: Duration,
        last: String,
        log: PathBuf,
        tail: String,
    },
    #[error("LocalStack (pid {pid}) is no longer running. Log: {log}\n--- last lines ---\n{tail}")]
    Crashed {
        pid: u32,
        log: PathBuf,
        tail: String,
    },
    #[error("processes survived stopping LocalStack: {0:?}")]
    Survivors(Vec<u32>),
}

/// What is recorded about a running instance (also the state file of `harness up`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct InstanceInfo {
    pub pid: u32,
    pub port: u16,
    pub endpoint: String,
    pub dir: PathBuf,
    pub log: PathBuf,
    pub started_unix: u64,
}

impl InstanceInfo {
    /// Last `lines` lines of the instance's log.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log, lines)
    }
}

/// A LocalStack process this harness started. Dropping it stops the tree (best effort); call
/// [`EmbeddedLocalStack::stop`] to learn whether anything survived, or
/// [`EmbeddedLocalStack::detach`] to leave it running for `harness down`.
#[derive(Debug)]
pub struct EmbeddedLocalStack {
    info: InstanceInfo,
    child: Option<Child>,
}

impl EmbeddedLocalStack {
    /// Starts LocalStack from `venv` with its files under `dir` and waits until it is healthy.
    pub async fn start(
        venv: &Venv,
        dir: &Path,
        health_timeout: Duration,
        progress: &mut (dyn std::io::Write + Send),
    ) -> Result<Self, SupervisorError> {
        let port = free_port().map_err(|source| SupervisorError::Io {
            what: "find a free loopback port",
            path: PathBuf::from("127.0.0.1:0"),
            source,
        })?;
        for scratch in SCRATCH_DIRS {
            fs::create_dir_all(dir.join(scratch)).map_err(io("create the instance dir", dir))?;
        }
        let log = dir.join("localstack.log");
        let log_file = fs::File::create(&log).map_err(io("create the log", &log))?;
        let err_file = log_file.try_clone().map_err(io("create the log", &log))?;
        let mut cmd = Command::new(venv.python());
        cmd.args(["-m", "localstack.runtime.main"])
            .env_clear()
            .envs(localstack_env(port, dir))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(err_file)
            .process_group(0);
        let child = cmd
            .spawn()
            .map_err(io("start LocalStack", &venv.python()))?;
        let info = InstanceInfo {
            pid: child.id(),
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
            dir: dir.to_owned(),
            log,
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        };
        let _ = writeln!(
            progress,
            "starting LocalStack (pid {}) on {}; log: {}",
            info.pid,
            info.endpoint,
            info.log.display()
        );
        let mut instance = Self {
            info,
            child: Some(child),
        };
        instance.wait_healthy(health_timeout, progress).await?;
        Ok(instance)
    }

    pub fn info(&self) -> &InstanceInfo {
        &self.info
    }

    pub fn endpoint(&self) -> &str {
        &self.info.endpoint
    }

    /// Fails with the log tail when the process has died (a crash must fail the run loudly).
    pub fn ensure_alive(&mut self) -> Result<(), SupervisorError> {
        let exited = match self.child.as_mut() {
            Some(child) => child.try_wait().ok().flatten().is_some(),
            None => !proc_tree::is_alive(self.info.pid),
        };
        if exited {
            return Err(SupervisorError::Crashed {
                pid: self.info.pid,
                log: self.info.log.clone(),
                tail: self.info.log_tail(30),
            });
        }
        Ok(())
    }

    async fn wait_healthy(
        &mut self,
        timeout: Duration,
        progress: &mut (dyn std::io::Write + Send),
    ) -> Result<(), SupervisorError> {
        let started = Instant::now();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("a default reqwest client builds");
        let url = format!("{}/_localstack/health", self.info.endpoint);
        let mut last: String;
        let mut last_report = Instant::now();
        let _ = writeln!(
            progress,
            "waiting for {url} to report {} (up to {timeout:?})",
            SERVICES.join(",")
        );
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(SupervisorError::DiedDuringStart {
                    status: status.to_string(),
                    log: self.info.log.clone(),
                    tail: self.info.log_tail(30),
                });
            }
            match health(&client, &url).await {
                Ok(not_ready) if not_ready.is_empty() => {
                    let _ = writeln!(
                        progress,
                        "LocalStack healthy at {} after {:.2} s",
                        self.info.endpoint,
                        started.elapsed().as_secs_f64()
                    );
                    return Ok(());
                }
                Ok(not_ready) => last = format!("services not ready: {}", not_ready.join(", ")),
                Err(e) => last = e,
            }
            if started.elapsed() >= timeout {
                return Err(SupervisorError::NotHealthy {
                    endpoint: self.info.endpoint.clone(),
                    waited: started.elapsed(),
                    last,
                    log: self.info.log.clone(),
                    tail: self.info.log_tail(30),
                });
            }
            if last_report.elapsed() >= Duration::from_secs(5) {
                let _ = writeln!(
                    progress,
                    "  still waiting ({:.0} s): {last}",
                    started.elapsed().as_secs_f64()
                );
                last_report = Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the whole tree and reports what it saw; fails if anything survived.
    pub fn stop(mut self) -> Result<proc_tree::StopOutcome, SupervisorError> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<proc_tree::StopOutcome, SupervisorError> {
        let outcome = stop_instance(&self.info, self.child.take());
        if outcome.survivors.is_empty() {
            Ok(outcome)
        } else {
            Err(SupervisorError::Survivors(
                outcome.survivors.into_iter().collect(),
            ))
        }
    }

    /// Leaves LocalStack running past this process and returns what identifies it.
    pub fn detach(mut self) -> InstanceInfo {
        // Dropping a std Child neither kills nor waits; the init process reaps it later.
        self.child.take();
        self.info.clone()
    }
}

impl Drop for EmbeddedLocalStack {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.stop_inner();
        }
    }
}

/// Stops a (possibly detached) instance's process tree, reaping it when we are its parent, and
/// removes its scratch directories (unzipped functions, S3 data); the log stays.
pub fn stop_instance(info: &InstanceInfo, child: Option<Child>) -> proc_tree::StopOutcome {
    let reaper = child.map(|mut c| std::thread::spawn(move || c.wait()));
    let outcome = proc_tree::stop_tree(info.pid, STOP_GRACE);
    if let Some(reaper) = reaper {
        let _ = reaper.join();
    }
    if outcome.survivors.is_empty() {
        for scratch in SCRATCH_DIRS {
            let _ = fs::remove_dir_all(info.dir.join(scratch));
        }
    }
    outcome
}

/// The environment LocalStack is started with (and nothing else: the parent's environment is
/// cleared, so stray AWS or LocalStack variables cannot change what the harness tests).
fn localstack_env(port: u16, dir: &Path) -> Vec<(String, String)> {
    let path = |p: &str| dir.join(p).display().to_string();
    let inherited =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    vec![
        (
            "PATH".into(),
            inherited("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ),
        ("HOME".into(), inherited("HOME", "/root")),
        ("LANG".into(), "C.UTF-8".into()),
        ("PYTHONUNBUFFERED".into(), "1".into()),
        // Host mode on a loopback port of our choosing (no Docker, nothing exposed).
        ("GATEWAY_LISTEN".into(), format!("127.0.0.1:{port}")),
        // URLs LocalStack hands out (queue URLs) point at that port, not at public DNS names.
        ("LOCALSTACK_HOST".into(), format!("127.0.0.1:{port}")),
        ("SQS_ENDPOINT_STRATEGY".into(), "path".into()),
        ("SERVICES".into(), SERVICES.join(",")),
        // Run provided.al2023 functions as local processes through our plugin.
        ("LAMBDA_RUNTIME_EXECUTOR".into(), EXECUTOR_NAME.into()),
        // A machine with /.dockerenv makes LocalStack believe it is in its own container and
        // ignore FILESYSTEM_ROOT (writing to /var/lib/localstack, pinging the Docker bridge).
        ("OVERRIDE_IN_DOCKER".into(), "0".into()),
        // Per-instance state, scratch space (unzipped functions) and plugin cache, so instances
        // never share files and a stopped one leaves nothing elsewhere.
        ("FILESYSTEM_ROOT".into(), path("fs")),
        ("TMPDIR".into(), path("tmp")),
        ("XDG_CACHE_HOME".into(), path("cache")),
        // No DNS server on port 53, no analytics, no certificate download: no internet here.
        ("DNS_ADDRESS".into(), "0".into()),
        ("DISABLE_EVENTS".into(), "1".into()),
        ("SKIP_SSL_CERT_DOWNLOAD".into(), "1".into()),
    ]
}

/// The instance's scratch directories (everything but its log), removed after a stop.
const SCRATCH_DIRS: &[&str] = &["fs", "tmp", "cache"];

/// Services from the health document that are not `available`/`running`, or why it failed.
async fn health(client: &reqwest::Client, url: &str) -> Result<Vec<String>, String> {
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("not answering yet ({})", root_cause(&e)))?;
    if !response.status().is_success() {
        return Err(format!("health answered HTTP {}", response.status()));
    }
    let doc: serde_json::Value = response
        .json()
        .await
        .map_err(|e| format!("health answer is not JSON: {e}"))?;
    Ok(unready_services(&doc))
}

/// Which of [`SERVICES`] the health document does not report as usable.
fn unready_services(doc: &serde_json::Value) -> Vec<String> {
    SERVICES
        .iter()
        .filter_map(|name| {
            let state = doc
                .get("services")
                .and_then(|s| s.get(*name))
                .and_then(|v| v.as_str())
                .unwrap_or("missing");
            (!matches!(state, "available" | "running")).then(|| format!("{name}={state}"))
        })
        .collect()
}

fn root_cause(error: &dyn std::error::Error) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Last `lines` lines of a file (empty when unreadable).
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn io<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> SupervisorError + 'a {
    move |source| SupervisorError::Io {
        what,
        path: path.to_owned(),
        source,
    }
}

/// The state file of the instance `harness up` left running.
pub fn state_file(instances_dir: &Path) -> PathBuf {
    instances_dir.join("current.json")
}

/// Reads the recorded instance, if any and if its process still runs.
pub fn read_running(instances_dir: &Path) -> Option<InstanceInfo> {
    let text = fs::read_to_string(state_file(instances_dir)).ok()?;
    let info: InstanceInfo = serde_json::from_str(&text).ok()?;
    proc_tree::is_alive(info.pid).then_some(info)
}

/// Records a detached instance.
pub fn write_state(instances_dir: &Path, info: &InstanceInfo) -> Result<(), SupervisorError> {
    let path = state_file(instances_dir);
    let text = serde_json::to_string_pretty(info).expect("instance info serializes");
    fs::write(&path, text).map_err(io("write the state file", &path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_document_with_every_service_up_is_ready() {
        let services: serde_json::Map<String, serde_json::Value> = SERVICES
            .iter()
            .map(|s| (s.to_string(), "available".into()))
            .collect();
        let mut doc = serde_json::json!({ "services": services, "edition": "community" });
        assert!(unready_services(&doc).is_empty());
        doc["services"]["lambda"] = "initializing".into();
        doc["services"].as_object_mut().unwrap().remove("ses");
        assert_eq!(
            unready_services(&doc),
            ["lambda=initializing", "ses=missing"]
        );
    }

    #[test]
    fn env_isolates_each_instance() {
        let env = localstack_env(4599, Path::new("/x/inst"));
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("GATEWAY_LISTEN"), Some("127.0.0.1:4599"));
        assert_eq!(get("LAMBDA_RUNTIME_EXECUTOR"), Some(EXECUTOR_NAME));
        assert_eq!(get("FILESYSTEM_ROOT"), Some("/x/inst/fs"));
        assert_eq!(get("OVERRIDE_IN_DOCKER"), Some("0"));
        assert_eq!(
            get("AWS_ENDPOINT_URL"),
            None,
            "nothing inherited from the caller"
        );
    }

    #[test]
    fn state_file_of_a_dead_process_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let info = InstanceInfo {
            pid: u32::MAX - 1,
            port: 1,
            endpoint: "http://127.0.0.1:1".into(),
            dir: dir.path().into(),
            log: dir.path().join("log"),
            started_unix: 0,
        };
        write_state(dir.path(), &info).unwrap();
        assert_eq!(read_running(dir.path()), None);
    }
}
