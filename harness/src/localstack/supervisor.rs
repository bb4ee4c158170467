//! The supervisor: starts an emulator (LocalStack or MiniStack) in its own process group and
//! waits until it is healthy, notices when it has died, and stops its whole process tree (or
//! leaves it running for `harness down`).

use std::fs;
use std::io::Write as _;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::emulator::Emulator;
use super::health::health;
use super::identify::ProcessIdentity;
use super::{InstanceInfo, SERVICES, STOP_GRACE, SupervisorError, io};
use crate::proc_tree;
use crate::provision::Venv;

/// An emulator process (LocalStack or MiniStack) this harness started. Dropping it stops the
/// tree (best effort); call
/// [`EmbeddedLocalStack::stop`] to learn whether anything survived, or
/// [`EmbeddedLocalStack::detach`] to leave it running for `harness down`.
#[derive(Debug)]
pub struct EmbeddedLocalStack {
    info: InstanceInfo,
    child: Option<Child>,
    /// Kept to start the same emulator again ([`EmbeddedLocalStack::restart`]).
    venv: Venv,
    emulator: Emulator,
}

impl EmbeddedLocalStack {
    /// Starts LocalStack from `venv` with its files under `dir` and waits until it is healthy.
    pub async fn start(
        venv: &Venv,
        dir: &Path,
        health_timeout: Duration,
        progress: &mut (dyn std::io::Write + Send),
    ) -> Result<Self, SupervisorError> {
        Self::start_emulator(Emulator::LocalStack, venv, dir, health_timeout, progress).await
    }

    /// Starts `emulator` from `venv` with its files under `dir` and waits until it is healthy.
    pub async fn start_emulator(
        emulator: Emulator,
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
        fs::create_dir_all(dir).map_err(io("create the instance dir", dir))?;
        let log = log_path(emulator, dir);
        let log_file = fs::File::create(&log).map_err(io("create the log", &log))?;
        let (child, info) = spawn(emulator, venv, dir, port, log_file)?;
        let _ = writeln!(
            progress,
            "starting {} (pid {}) on {}; log: {}",
            emulator.name(),
            info.pid,
            info.endpoint,
            info.log.display()
        );
        let mut instance = Self {
            info,
            child: Some(child),
            venv: venv.clone(),
            emulator,
        };
        instance.wait_healthy(health_timeout, progress).await?;
        Ok(instance)
    }

    /// Stops the whole tree and starts the emulator again on the same port and directory, as a
    /// crash followed by a supervisor's restart would: the endpoint stays, the state (kept in
    /// memory only) is gone. The log continues in the same file after a marker line.
    pub async fn restart(
        &mut self,
        health_timeout: Duration,
        progress: &mut (dyn std::io::Write + Send),
    ) -> Result<(), SupervisorError> {
        let old_pid = self.info.pid;
        // Stopping waits out the grace period; keep it off the async workers.
        let (info, child) = (self.info.clone(), self.child.take());
        let outcome = tokio::task::spawn_blocking(move || stop_instance(&info, child))
            .await
            .map_err(|e| SupervisorError::Io {
                what: "stop the emulator before the restart",
                path: self.info.dir.clone(),
                source: std::io::Error::other(e),
            })?;
        no_survivors(outcome)?;
        let log = self.info.log.clone();
        let mut log_file = fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .map_err(io("reopen the log", &log))?;
        let name = self.emulator.name();
        let _ = writeln!(
            log_file,
            "--- harness: {name} (pid {old_pid}) stopped and started again on port {} ---",
            self.info.port
        );
        let (child, info) = spawn(
            self.emulator,
            &self.venv,
            &self.info.dir,
            self.info.port,
            log_file,
        )?;
        let _ = writeln!(
            progress,
            "restarting {name} on {} (pid {old_pid} -> {})",
            info.endpoint, info.pid
        );
        self.info = info;
        self.child = Some(child);
        self.wait_healthy(health_timeout, progress).await
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
                emulator: self.emulator.name(),
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
        let url = format!("{}{}", self.info.endpoint, self.emulator.health_path());
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
                    emulator: self.emulator.name(),
                    status: status.to_string(),
                    log: self.info.log.clone(),
                    tail: self.info.log_tail(30),
                });
            }
            match health(&client, &url).await {
                Ok(not_ready) if not_ready.is_empty() => {
                    let _ = writeln!(
                        progress,
                        "{} healthy at {} after {:.2} s",
                        self.emulator.name(),
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
                    instance: format!("{} at {}", self.emulator.name(), self.info.endpoint),
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
        no_survivors(stop_instance(&self.info, self.child.take()))
    }

    /// The emulator this instance runs.
    pub fn emulator(&self) -> Emulator {
        self.emulator
    }

    /// Leaves the emulator running past this process and returns what identifies it.
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

/// A stop that left a process alive is an error naming them.
fn no_survivors(
    outcome: proc_tree::StopOutcome,
) -> Result<proc_tree::StopOutcome, SupervisorError> {
    if outcome.survivors.is_empty() {
        Ok(outcome)
    } else {
        Err(SupervisorError::Survivors(
            outcome.survivors.into_iter().collect(),
        ))
    }
}

/// Where `emulator`'s output goes under its instance directory.
fn log_path(emulator: Emulator, dir: &Path) -> PathBuf {
    dir.join(format!("{}.log", emulator.slug()))
}

/// Spawns `emulator` on `port` with its files under `dir` and its output into `log_file`.
fn spawn(
    emulator: Emulator,
    venv: &Venv,
    dir: &Path,
    port: u16,
    log_file: fs::File,
) -> Result<(Child, InstanceInfo), SupervisorError> {
    let log = log_path(emulator, dir);
    for scratch in SCRATCH_DIRS {
        fs::create_dir_all(dir.join(scratch)).map_err(io("create the instance dir", dir))?;
    }
    let err_file = log_file.try_clone().map_err(io("open the log", &log))?;
    let mut cmd = Command::new(venv.python());
    cmd.args(["-m", emulator.module()])
        .env_clear()
        .envs(emulator.env(port, dir))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file)
        .process_group(0);
    let child = cmd
        .spawn()
        .map_err(io("start the emulator", &venv.python()))?;
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
        // Read while the child is unreaped, so the pid cannot have been reused yet.
        identity: ProcessIdentity::of(child.id()),
    };
    Ok((child, info))
}

/// The instance's scratch directories (everything but its log), removed after a stop.
const SCRATCH_DIRS: &[&str] = &["fs", "tmp", "cache"];

fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    //! The supervisor's failure paths, driven by stand-ins for LocalStack's interpreter: real
    //! processes and real HTTP, no LocalStack needed.

    use super::*;

    /// A "venv" whose `bin/python` is the given shell script.
    fn fake_venv(dir: &Path, script: &str) -> Venv {
        use std::os::unix::fs::PermissionsExt;
        let bin = dir.join("venv/bin");
        fs::create_dir_all(&bin).unwrap();
        let python = bin.join("python");
        fs::write(&python, script).unwrap();
        fs::set_permissions(&python, fs::Permissions::from_mode(0o755)).unwrap();
        Venv {
            dir: dir.join("venv"),
        }
    }

    #[tokio::test]
    async fn death_during_start_up_fails_with_the_log_tail() {
        let dir = tempfile::tempdir().unwrap();
        let venv = fake_venv(
            dir.path(),
            "#!/bin/sh\necho 'ImportError: cannot import name X'\nexit 3\n",
        );
        let err = EmbeddedLocalStack::start(
            &venv,
            &dir.path().join("inst"),
            Duration::from_secs(20),
            &mut Vec::new(),
        )
        .await
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("exited during start-up"), "{text}");
        assert!(text.contains("ImportError: cannot import name X"), "{text}");
    }

    /// A stand-in that answers the health check like LocalStack (every service available) on
    /// GATEWAY_LISTEN.
    fn healthy_server() -> String {
        format!(
            r#"#!/bin/sh
echo 'Ready.'
exec python3 -c '
import http.server, json, os
host, port = os.environ["GATEWAY_LISTEN"].split(":")
body = json.dumps({{"services": {{s: "available" for s in "{services}".split(",")}}}}).encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer((host, int(port)), H).serve_forever()
'
"#,
            services = SERVICES.join(",")
        )
    }

    /// A started instance of the [`healthy_server`] stand-in under `dir`.
    async fn start_healthy(dir: &Path) -> EmbeddedLocalStack {
        let venv = fake_venv(dir, &healthy_server());
        EmbeddedLocalStack::start(
            &venv,
            &dir.join("inst"),
            Duration::from_secs(20),
            &mut Vec::new(),
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_restart_keeps_the_endpoint_with_a_new_process() {
        let dir = tempfile::tempdir().unwrap();
        let mut instance = start_healthy(dir.path()).await;
        let before = instance.info().clone();
        let mut progress = Vec::new();
        instance
            .restart(Duration::from_secs(20), &mut progress)
            .await
            .unwrap();
        let after = instance.info().clone();
        assert!(after.identity.is_some(), "recorded at the start");
        assert_eq!(after.identity, ProcessIdentity::of(after.pid));
        assert_ne!(after.identity, before.identity);
        assert_eq!(after.endpoint, before.endpoint);
        assert_ne!(after.pid, before.pid);
        assert!(!proc_tree::is_alive(before.pid), "the old tree is gone");
        instance.ensure_alive().unwrap();
        let log = fs::read_to_string(&after.log).unwrap();
        assert!(log.contains("stopped and started again"), "{log}");
        assert!(String::from_utf8_lossy(&progress).contains("restarting LocalStack"));
        instance.stop().unwrap();
    }

    #[tokio::test]
    async fn a_crash_after_start_is_reported_with_the_log_tail() {
        let dir = tempfile::tempdir().unwrap();
        let mut instance = start_healthy(dir.path()).await;
        instance.ensure_alive().unwrap();
        let pid = instance.info().pid;
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let err = loop {
            match instance.ensure_alive() {
                Err(e) => break e,
                Ok(()) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(()) => panic!("a killed LocalStack still counts as alive"),
            }
        };
        let text = err.to_string();
        assert!(
            text.contains("no longer running") && text.contains("Ready."),
            "{text}"
        );
    }
}
