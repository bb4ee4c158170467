//! Which LocalStack process answers an endpoint. `/_localstack/info` carries a session id that
//! changes at every start, so a run that notes it once its stack is deployed can tell later that
//! LocalStack was restarted underneath it: LocalStack keeps its state in memory, so the stack
//! and everything in flight are then gone, and the run must say so instead of reporting the
//! losses as the pipeline's.

use std::fmt;
use std::time::Duration;

/// The session a run started with, to compare against later.
#[derive(Debug, Clone)]
pub struct SessionWatch {
    endpoint: String,
    session: String,
    client: reqwest::Client,
}

/// LocalStack answered with another session than the run started with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restarted {
    pub endpoint: String,
    pub before: String,
    pub now: String,
}

impl fmt::Display for Restarted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "LocalStack at {} was restarted during the run (session {} is now {}): LocalStack \
             keeps its state in memory, so the run's stack and every delivery in flight were \
             lost and nothing after that point can be proven. Look for the cause in LocalStack's \
             log, then run again",
            self.endpoint, self.before, self.now
        )
    }
}

/// Why a watch could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    #[error("{0}")]
    Restarted(Box<Restarted>),
    #[error(
        "LocalStack at {endpoint} does not answer /_localstack/info ({reason}); is it still \
         running? Its state is lost if it stopped"
    )]
    Unreachable { endpoint: String, reason: String },
}

impl SessionWatch {
    /// Notes the session LocalStack at `endpoint` is in now.
    pub async fn start(endpoint: &str) -> Result<Self, WatchError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("a default reqwest client builds");
        let session = session_id(&client, endpoint).await?;
        Ok(Self {
            endpoint: endpoint.to_owned(),
            session,
            client,
        })
    }

    /// `Ok` while the same LocalStack process answers.
    pub async fn check(&self) -> Result<(), WatchError> {
        let now = session_id(&self.client, &self.endpoint).await?;
        compare(&self.endpoint, &self.session, &now)
    }
}

/// The restart, if the session changed. Pure.
pub fn compare(endpoint: &str, before: &str, now: &str) -> Result<(), WatchError> {
    if before == now {
        return Ok(());
    }
    Err(WatchError::Restarted(Box::new(Restarted {
        endpoint: endpoint.to_owned(),
        before: before.to_owned(),
        now: now.to_owned(),
    })))
}

async fn session_id(client: &reqwest::Client, endpoint: &str) -> Result<String, WatchError> {
    let unreachable = |reason: String| WatchError::Unreachable {
        endpoint: crate::redact::secrets(endpoint).into_owned(),
        reason: crate::redact::secrets(&reason).into_owned(),
    };
    let url = format!("{}/_localstack/info", endpoint.trim_end_matches('/'));
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if !response.status().is_success() {
        return Err(unreachable(format!("HTTP {}", response.status())));
    }
    let info: serde_json::Value = response
        .json()
        .await
        .map_err(|e| unreachable(format!("not JSON: {e}")))?;
    info.get("session_id")
        .and_then(|s| s.as_str())
        .map(str::to_owned)
        .ok_or_else(|| unreachable("no session_id in the answer".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_session_is_no_restart() {
        assert_eq!(compare("http://127.0.0.1:1", "a", "a"), Ok(()));
    }

    #[test]
    fn another_session_is_a_restart_that_says_what_was_lost() {
        let Err(WatchError::Restarted(restarted)) = compare("http://127.0.0.1:1", "a", "b") else {
            panic!("a changed session is a restart");
        };
        let text = restarted.to_string();
        assert!(text.contains("session a is now b"), "{text}");
        assert!(text.contains("state in memory"), "{text}");
        assert!(text.contains("run again"), "{text}");
    }

    #[tokio::test]
    async fn a_down_endpoint_is_unreachable_not_a_restart() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = SessionWatch::start(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, WatchError::Unreachable { .. }),
            "{err}: a closed port is a LocalStack that is down"
        );
        assert!(err.to_string().contains("still running"), "{err}");
    }
}
