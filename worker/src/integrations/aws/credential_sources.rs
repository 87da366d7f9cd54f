//! The credential sources that are not STS: `credential_process` (a command printing JSON), the
//! container endpoint (ECS, EKS Pod Identity) and EC2's instance metadata service (IMDSv2: a
//! session token first, then the role's credentials).
//!
//! Owns: those three fetches. Must not: cache (the caller does) or choose the source.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::credentials::{Credentials, CredentialsError};

/// Metadata endpoints answer at once or not at all.
const METADATA_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs `command` through the shell; its stdout is `{"Version": 1, "AccessKeyId": …}`.
pub async fn process(command: &str) -> Result<Credentials, CredentialsError> {
    let err = |m: String| CredentialsError::source("credential_process", m);
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| err(format!("cannot run `{command}`: {e}")))?;
    if !out.status.success() {
        return Err(err(format!(
            "`{command}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| err(format!("`{command}` printed no JSON: {e}")))?;
    if v.get("Version").and_then(Value::as_i64) != Some(1) {
        return Err(err(format!("`{command}` printed Version {}, not 1", v.get("Version").unwrap_or(&Value::Null))));
    }
    Credentials::from_json(&v).ok_or_else(|| err(format!("`{command}` printed no AccessKeyId/SecretAccessKey")))
}

/// GETs the container credentials endpoint, with the authorization token when there is one.
pub async fn container(
    http: &reqwest::Client,
    uri: &str,
    token: Option<&str>,
    token_file: Option<&Path>,
) -> Result<Credentials, CredentialsError> {
    let err = |m: String| CredentialsError::source("the container endpoint", format!("{uri}: {m}"));
    let token = match token_file {
        Some(f) => {
            Some(std::fs::read_to_string(f).map_err(|e| err(format!("{}: {e}", f.display())))?.trim().to_owned())
        }
        None => token.map(str::to_owned),
    };
    let mut request = http.get(uri).timeout(METADATA_TIMEOUT);
    if let Some(t) = token {
        request = request.header("authorization", t);
    }
    let response = request.send().await.map_err(|e| err(e.to_string()))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| err(e.to_string()))?;
    if !status.is_success() {
        return Err(err(format!("status {status}: {}", String::from_utf8_lossy(&body))));
    }
    let v: Value = serde_json::from_slice(&body).map_err(|e| err(format!("not JSON: {e}")))?;
    Credentials::from_json(&v).ok_or_else(|| err("no AccessKeyId/SecretAccessKey in the answer".into()))
}

/// IMDSv2: PUT a session token, read the role's name, then its credentials.
pub async fn imds(http: &reqwest::Client, endpoint: &str) -> Result<Credentials, CredentialsError> {
    let err = |m: String| CredentialsError::source("instance metadata", format!("{endpoint}: {m}"));
    let text = |r: reqwest::RequestBuilder| async move {
        let response = r.timeout(METADATA_TIMEOUT).send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response.text().await.map_err(|e| e.to_string())?;
        if status.is_success() { Ok(body) } else { Err(format!("status {status}: {body}")) }
    };
    let token =
        text(http.put(format!("{endpoint}/latest/api/token")).header("x-aws-ec2-metadata-token-ttl-seconds", "21600"))
            .await
            .map_err(err)?;
    let base = format!("{endpoint}/latest/meta-data/iam/security-credentials/");
    let roles = text(http.get(&base).header("x-aws-ec2-metadata-token", &token)).await.map_err(err)?;
    let role =
        roles.lines().next().map(str::trim).filter(|r| !r.is_empty()).ok_or_else(|| err("no instance role".into()))?;
    let body = text(http.get(format!("{base}{role}")).header("x-aws-ec2-metadata-token", &token)).await.map_err(err)?;
    let v: Value = serde_json::from_str(&body).map_err(|e| err(format!("not JSON: {e}")))?;
    Credentials::from_json(&v).ok_or_else(|| err("no AccessKeyId/SecretAccessKey in the answer".into()))
}
