//! Reads LocalStack's `/_localstack/health` document: which of the services we need are not
//! usable yet, or why the health check itself failed.

use super::SERVICES;

/// Services from the health document that are not `available`/`running`, or why it failed.
pub(super) async fn health(client: &reqwest::Client, url: &str) -> Result<Vec<String>, String> {
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
}
