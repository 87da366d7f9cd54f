//! AWS credentials: where they come from (AWS's standard chain, in its order) and a cache that
//! refreshes them 5 minutes before they expire, one refresh at a time.
//!
//! The chain, first match wins, as AWS's SDKs: (1) `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY`
//! (+ `AWS_SESSION_TOKEN`); (2) the selected profile of the shared files: static keys,
//! `credential_process`, `web_identity_token_file` + `role_arn`, or `role_arn` with a
//! `source_profile` (AssumeRole over that profile's credentials); (3) web identity / IRSA:
//! `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`; (4) the container endpoint
//! (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `_FULL_URI`, with
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)`); (5) instance metadata, IMDSv2 (unless
//! `AWS_EC2_METADATA_DISABLED=true`).
//!
//! Written here, not with `aws-config`: see ARCHITECTURE.md (build cost measured; the chain
//! needs STS, which our own client speaks).
//!
//! Owns: choosing the source, the cache. Must not: sign or call services itself — STS calls go
//! through [`Sts`], the HTTP sources through `credential_sources`.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::credential_sources;
use super::profile::{Env, Profiles, Section};

/// A set of credentials. `Debug` never shows the secret or the token.
#[derive(Clone, PartialEq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub expires: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("expires", &self.expires)
            .finish()
    }
}

impl Credentials {
    /// From a JSON object with `AccessKeyId`, `SecretAccessKey`, `SessionToken` or `Token`, and
    /// `Expiration` (the form of STS results, the container and instance endpoints and
    /// `credential_process`).
    pub fn from_json(v: &Value) -> Option<Credentials> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(Credentials {
            access_key_id: text("AccessKeyId")?,
            secret_access_key: text("SecretAccessKey")?,
            session_token: text("SessionToken").or_else(|| text("Token")),
            expires: text("Expiration")
                .and_then(|e| DateTime::parse_from_rfc3339(&e).ok())
                .map(|e| e.with_timezone(&Utc)),
        })
    }

    fn fresh(&self, now: DateTime<Utc>) -> bool {
        self.expires.is_none_or(|e| e - Duration::minutes(5) > now)
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum CredentialsError {
    #[error(
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a profile in ~/.aws, \
         or run where a web identity, container or instance role is available"
    )]
    NotFound,
    #[error("AWS credentials from {from}: {message}")]
    Source { from: &'static str, message: String },
}

impl CredentialsError {
    pub(super) fn source(from: &'static str, message: impl std::fmt::Display) -> Self {
        CredentialsError::Source { from, message: message.to_string() }
    }
}

/// Calls STS for role assumption; implemented by the client, which speaks STS's protocol.
pub trait Sts: Send + Sync {
    /// STS's `operation` with `input`, signed with `credentials` (unsigned when `None`, as
    /// `AssumeRoleWithWebIdentity` is); its output as the API names it.
    fn call<'a>(
        &'a self,
        credentials: Option<&'a Credentials>,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, String>>;
}

/// Where credentials come from.
#[derive(Debug, Clone)]
pub enum Source {
    Static(Credentials),
    /// `credential_process`: a command printing the credentials as JSON.
    Process(String),
    WebIdentity {
        token_file: PathBuf,
        role_arn: String,
        session_name: String,
    },
    AssumeRole {
        role_arn: String,
        session_name: String,
        external_id: Option<String>,
        base: Box<Source>,
    },
    Container {
        uri: String,
        token: Option<String>,
        token_file: Option<PathBuf>,
    },
    Imds {
        endpoint: String,
    },
}

/// The first source of AWS's chain that `env` and the shared files provide.
pub fn chain(env: &Env, profiles: &Profiles) -> Result<Source, CredentialsError> {
    if let (Some(id), Some(secret)) = (env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")) {
        return Ok(Source::Static(Credentials {
            access_key_id: id.into(),
            secret_access_key: secret.into(),
            session_token: env.get("AWS_SESSION_TOKEN").map(str::to_owned),
            expires: None,
        }));
    }
    if let Some(section) = profiles.profile(&profiles.selected)
        && CREDENTIAL_KEYS.iter().any(|k| section.contains_key(*k))
    {
        return from_profile(profiles, &profiles.selected, section, env, 0);
    }
    if let (Some(file), Some(role)) = (env.get("AWS_WEB_IDENTITY_TOKEN_FILE"), env.get("AWS_ROLE_ARN")) {
        return Ok(Source::WebIdentity {
            token_file: file.into(),
            role_arn: role.into(),
            session_name: env.get("AWS_ROLE_SESSION_NAME").map_or_else(default_session_name, str::to_owned),
        });
    }
    let token = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN").map(str::to_owned);
    let token_file = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE").map(PathBuf::from);
    if let Some(relative) = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
        return Ok(Source::Container { uri: format!("http://169.254.170.2{relative}"), token, token_file });
    }
    if let Some(full) = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
        return Ok(Source::Container { uri: full.into(), token, token_file });
    }
    if env.get("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Err(CredentialsError::NotFound);
    }
    let endpoint = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT").unwrap_or("http://169.254.169.254");
    Ok(Source::Imds { endpoint: endpoint.trim_end_matches('/').to_owned() })
}

/// The keys that make a profile a source of credentials (one with only `region` is not).
const CREDENTIAL_KEYS: &[&str] = &["aws_access_key_id", "role_arn", "credential_process", "web_identity_token_file"];

fn from_profile(
    profiles: &Profiles,
    name: &str,
    section: &Section,
    env: &Env,
    depth: u8,
) -> Result<Source, CredentialsError> {
    let key = |k: &str| section.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let bad = |m: String| CredentialsError::source("the shared config files", format!("profile '{name}': {m}"));
    if depth > 4 {
        return Err(bad("source_profile chain is too long (or loops)".into()));
    }
    let session_name = || key("role_session_name").map_or_else(default_session_name, str::to_owned);
    if let Some(role_arn) = key("role_arn") {
        if let Some(token_file) = key("web_identity_token_file") {
            return Ok(Source::WebIdentity {
                token_file: token_file.into(),
                role_arn: role_arn.into(),
                session_name: session_name(),
            });
        }
        let base = match (key("source_profile"), key("credential_source")) {
            (Some(source), _) if source == name => static_keys(section).ok_or_else(|| bad("no static keys".into()))?,
            (Some(source), _) => {
                let s =
                    profiles.profile(source).ok_or_else(|| bad(format!("source_profile '{source}' does not exist")))?;
                from_profile(profiles, source, s, env, depth + 1)?
            }
            (None, Some("Environment")) => chain(env, &Profiles::default())
                .map_err(|_| bad("credential_source = Environment, but no keys".into()))?,
            (None, Some(other)) => chain(&Env::from_pairs(env_without_keys(env, other)), &Profiles::default())?,
            (None, None) => return Err(bad("role_arn needs source_profile or credential_source".into())),
        };
        return Ok(Source::AssumeRole {
            role_arn: role_arn.into(),
            session_name: session_name(),
            external_id: key("external_id").map(str::to_owned),
            base: Box::new(base),
        });
    }
    if let Some(command) = key("credential_process") {
        return Ok(Source::Process(command.into()));
    }
    static_keys(section)
        .ok_or_else(|| bad("no aws_access_key_id/aws_secret_access_key, role_arn or credential_process".into()))
}

/// `credential_source = EcsContainer | Ec2InstanceMetadata`: the chain past the environment.
fn env_without_keys(env: &Env, source: &str) -> Vec<(String, String)> {
    let keep: &[&str] = match source {
        "EcsContainer" => &[
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        ],
        _ => &["AWS_EC2_METADATA_SERVICE_ENDPOINT"],
    };
    keep.iter().filter_map(|k| Some((k.to_string(), env.get(k)?.to_owned()))).collect()
}

fn static_keys(section: &Section) -> Option<Source> {
    Some(Source::Static(Credentials {
        access_key_id: section.get("aws_access_key_id")?.clone(),
        secret_access_key: section.get("aws_secret_access_key")?.clone(),
        session_token: section.get("aws_session_token").cloned(),
        expires: None,
    }))
}

fn default_session_name() -> String {
    format!("dmap-{}", Utc::now().timestamp_millis())
}

/// Credentials from `source`, fetched now.
pub fn fetch<'a>(
    source: &'a Source,
    http: &'a reqwest::Client,
    sts: &'a dyn Sts,
) -> BoxFuture<'a, Result<Credentials, CredentialsError>> {
    Box::pin(async move {
        match source {
            Source::Static(c) => Ok(c.clone()),
            Source::Process(command) => credential_sources::process(command).await,
            Source::Container { uri, token, token_file } => {
                credential_sources::container(http, uri, token.as_deref(), token_file.as_deref()).await
            }
            // The chain's last resort: say that everything before it was missing too.
            Source::Imds { endpoint } => credential_sources::imds(http, endpoint).await.map_err(|e| {
                CredentialsError::source(
                    "AWS's chain",
                    format!("{}; nothing before it was configured either ({e})", CredentialsError::NotFound),
                )
            }),
            Source::WebIdentity { token_file, role_arn, session_name } => {
                let token = std::fs::read_to_string(token_file)
                    .map_err(|e| CredentialsError::source("web identity", format!("{}: {e}", token_file.display())))?;
                let input =
                    json!({"RoleArn": role_arn, "RoleSessionName": session_name, "WebIdentityToken": token.trim()});
                let out = sts.call(None, "AssumeRoleWithWebIdentity", input).await;
                sts_credentials("web identity", out)
            }
            Source::AssumeRole { role_arn, session_name, external_id, base } => {
                let base = fetch(base, http, sts).await?;
                let mut input = json!({"RoleArn": role_arn, "RoleSessionName": session_name});
                if let Some(id) = external_id {
                    input["ExternalId"] = Value::String(id.clone());
                }
                sts_credentials("STS AssumeRole", sts.call(Some(&base), "AssumeRole", input).await)
            }
        }
    })
}

fn sts_credentials(from: &'static str, out: Result<Value, String>) -> Result<Credentials, CredentialsError> {
    let out = out.map_err(|e| CredentialsError::source(from, e))?;
    out.get("Credentials")
        .and_then(Credentials::from_json)
        .ok_or_else(|| CredentialsError::source(from, "STS answered without Credentials"))
}

/// Credentials of one source, cached until 5 minutes before they expire. Concurrent callers
/// of an expired entry wait for one refresh rather than each fetching.
#[derive(Debug)]
pub struct Cached {
    source: Source,
    current: RwLock<Option<Arc<Credentials>>>,
    refresh: tokio::sync::Mutex<()>,
}

impl Cached {
    pub fn new(source: Source) -> Cached {
        let current = match &source {
            Source::Static(c) => Some(Arc::new(c.clone())),
            _ => None,
        };
        Cached { source, current: RwLock::new(current), refresh: tokio::sync::Mutex::new(()) }
    }

    pub async fn get(&self, http: &reqwest::Client, sts: &dyn Sts) -> Result<Arc<Credentials>, CredentialsError> {
        if let Some(c) = self.fresh() {
            return Ok(c);
        }
        let _one_refresh = self.refresh.lock().await;
        if let Some(c) = self.fresh() {
            return Ok(c);
        }
        match fetch(&self.source, http, sts).await {
            Ok(c) => {
                let c = Arc::new(c);
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(c.clone());
                Ok(c)
            }
            // Credentials inside their last 5 minutes still sign; a failed refresh uses them.
            Err(e) => self.current().filter(|c| c.expires.is_none_or(|x| x > Utc::now())).ok_or(e),
        }
    }

    fn current(&self) -> Option<Arc<Credentials>> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn fresh(&self) -> Option<Arc<Credentials>> {
        self.current().filter(|c| c.fresh(Utc::now()))
    }
}
