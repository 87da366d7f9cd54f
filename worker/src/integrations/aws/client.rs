//! [`Aws`]: the generic, signed AWS client. Any operation of any embedded service model, from
//! the parameters as the API names them, to the output as the API names it — serialised by the
//! service's protocol, signed with SigV4, sent over one pooled keep-alive HTTP client. Cheap to
//! clone; one per process serves every Task (the coordinator links the same library).
//!
//! A Task's `Credentials.RoleArn` is assumed through STS over the process's credentials, and
//! the role's credentials cached (per role and external id) until 5 minutes before expiry.
//!
//! Owns: the process's AWS configuration (snapshot of the environment and shared files), the
//! connection pool, credentials caches, and the call. Must not: name errors the Step Functions
//! way (`sdk` does).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use futures::future::BoxFuture;
use serde_json::Value;

use super::api_types::{ApiError, ApiOutput};
use super::credentials::{self, Cached, Credentials, CredentialsError, Source, Sts};
use super::endpoint;
use super::model::{self, Service};
use super::profile::{Env, Profiles};
use super::protocol::{self, Outcome, Response};
use super::sign::{Scope, Signer};
use super::transport::Transport;

/// A role to call as (a Task's `Credentials`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Role {
    pub arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
}

/// How the client is set up; `Default` reads the process's environment.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// The environment to read AWS's variables from (`None`: the process's).
    pub env: Option<Env>,
    /// Bound on connecting; a Task's `TimeoutSeconds` bounds the whole call.
    pub connect_timeout: Option<Duration>,
}

/// The client. Clones share everything.
#[derive(Clone)]
pub struct Aws(Arc<Inner>);

struct Inner {
    http: reqwest::Client,
    transport: Transport,
    env: Env,
    profiles: Profiles,
    region: String,
    credentials: Result<Cached, CredentialsError>,
    roles: Mutex<HashMap<Role, Arc<Cached>>>,
    targets: Mutex<HashMap<String, Arc<Target>>>,
    signer: Signer,
}

/// A service's endpoint, parsed.
struct Target {
    scheme: String,
    host: String,
    port: Option<u16>,
    /// An IP address or `localhost`: no host prefix.
    local: bool,
    /// The endpoint's own path (`/prefix` of `http://host/prefix`), without a trailing `/`.
    base_path: String,
    signing_region: String,
    /// `host[:port]`, and the turns of requests to it: made once, used on every call.
    authority: String,
    turns: std::sync::Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for Aws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aws").field("region", &self.0.region).finish()
    }
}

impl Aws {
    /// Reads the configuration now; credentials are fetched on the first call.
    pub fn new(options: AwsOptions) -> Result<Aws, ApiError> {
        let env = options.env.unwrap_or_else(Env::from_process);
        let profiles = Profiles::load(&env);
        let connect_timeout = options.connect_timeout.unwrap_or(Duration::from_secs(10));
        let transport = Transport::new(connect_timeout).map_err(ApiError::Transport)?;
        // For the credential endpoints (container, instance metadata): rare calls.
        let http = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .pool_idle_timeout(Duration::from_secs(50))
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ApiError::Transport(format!("cannot start the HTTP client: {e}")))?;
        Ok(Aws(Arc::new(Inner {
            region: endpoint::region(&env, &profiles),
            credentials: credentials::chain(&env, &profiles).map(Cached::new),
            http,
            transport,
            env,
            profiles,
            roles: Mutex::default(),
            targets: Mutex::default(),
            signer: Signer::default(),
        })))
    }

    pub fn region(&self) -> &str {
        &self.0.region
    }

    /// Calls `operation` (`PutItem` or `putItem`) of the service Step Functions names `service`.
    pub async fn call_api(
        &self,
        service: &str,
        operation: &str,
        input: &Value,
        role: Option<&Role>,
    ) -> Result<ApiOutput, ApiError> {
        let model = model::service(service).map_err(|e| ApiError::Model(e.to_string()))?;
        let credentials = match role {
            None => self.0.base_credentials().await?,
            Some(role) => self.0.role_credentials(role).await?,
        };
        self.0.call(&model, operation, input, Some(&credentials)).await
    }
}

impl Inner {
    async fn base_credentials(&self) -> Result<Arc<Credentials>, CredentialsError> {
        match &self.credentials {
            Ok(c) => c.get(&self.http, self).await,
            Err(e) => Err(e.clone()),
        }
    }

    async fn role_credentials(&self, role: &Role) -> Result<Arc<Credentials>, CredentialsError> {
        let cached = {
            let mut roles = self.roles.lock().unwrap_or_else(|p| p.into_inner());
            match roles.get(role) {
                Some(c) => c.clone(),
                None => {
                    let c = Arc::new(Cached::new(self.assume(role)?));
                    roles.insert(role.clone(), c.clone());
                    c
                }
            }
        };
        cached.get(&self.http, self).await
    }

    /// The source that assumes `role` over the process's own credentials.
    fn assume(&self, role: &Role) -> Result<Source, CredentialsError> {
        let base = credentials::chain(&self.env, &self.profiles)?;
        Ok(Source::AssumeRole {
            role_arn: role.arn.clone(),
            session_name: role.session_name.clone(),
            external_id: role.external_id.clone(),
            base: Box::new(base),
        })
    }

    /// Where `service`'s calls go, resolved and parsed once.
    fn target(&self, service: &Service) -> Result<Arc<Target>, ApiError> {
        let mut targets = self.targets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = targets.get(&service.name) {
            return Ok(t.clone());
        }
        let endpoint = endpoint::resolve(service, &self.region, &self.env, &self.profiles);
        let bad = |why: String| ApiError::Transport(format!("the endpoint '{}' {why}", endpoint.url));
        let url = reqwest::Url::parse(&endpoint.url).map_err(|e| bad(format!("is not a URL: {e}")))?;
        let authority = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let turns = self.transport.turns(&format!("{}://{authority}", url.scheme()));
        let target = Arc::new(Target {
            authority,
            turns,
            scheme: url.scheme().to_owned(),
            host: url.host_str().ok_or_else(|| bad("has no host".into()))?.to_owned(),
            port: url.port(),
            local: url
                .host_str()
                .is_some_and(|h| h == "localhost" || h.starts_with('[') || h.parse::<std::net::Ipv4Addr>().is_ok()),
            base_path: url.path().trim_end_matches('/').to_owned(),
            signing_region: endpoint.signing_region.clone(),
        });
        targets.insert(service.name.clone(), target.clone());
        Ok(target)
    }

    /// One call, signed with `credentials` (unsigned when `None`).
    async fn call(
        &self,
        service: &Service,
        operation: &str,
        input: &Value,
        credentials: Option<&Credentials>,
    ) -> Result<ApiOutput, ApiError> {
        let op = service
            .operation(operation)
            .ok_or_else(|| ApiError::Model(format!("the service '{}' has no action '{operation}'", service.name)))?;
        let target = self.target(service);
        // The turn is taken before the request is built: of thousands of children waiting on
        // one endpoint, only those with a turn hold a serialised, signed request (a smaller
        // working set), and a request is signed when it is sent, not minutes before. An
        // operation with a host prefix waits for its own host's turn once the prefix is known.
        let early = match &target {
            Ok(t) if t.local || op.1.host_prefix.is_none() => Some(wait_turn(&t.turns).await?),
            _ => None,
        };
        let request = protocol::serialize(service, op, input).map_err(|e| ApiError::InvalidParameters(e.0))?;
        let target = target?;
        // A host prefix (`{AccountId}.` of S3 Control) cannot go before an IP address or
        // `localhost`: local endpoints (moto, LocalStack) take the call without it.
        let prefix = request.host_prefix.as_ref().filter(|_| !target.local);
        let authority = match (prefix, target.port) {
            (None, _) => target.authority.clone(),
            (Some(prefix), None) => format!("{prefix}{}", target.host),
            (Some(prefix), Some(port)) => format!("{prefix}{}:{port}", target.host),
        };
        let path_and_query = match target.base_path.as_str() {
            "" => request.path_and_query,
            base_path => format!("{base_path}{}", request.path_and_query),
        };
        let mut headers = request.headers;
        if let Some(credentials) = credentials {
            headers.push(("host".into(), authority.clone()));
            let scope =
                Scope { credentials, region: &target.signing_region, service: &service.signing_name, now: Utc::now() };
            self.signer.sign(&request.method, &path_and_query, &mut headers, &request.body, scope);
        }
        let mut url = String::with_capacity(target.scheme.len() + 3 + authority.len() + path_and_query.len());
        for piece in [target.scheme.as_str(), "://", &authority, &path_and_query] {
            url.push_str(piece);
        }
        headers.retain(|(n, _)| n != "host");
        // Held until the body is read: the connection is busy until then.
        let _turn = match early {
            Some(turn) => turn,
            None => {
                let host = match prefix {
                    None => Arc::clone(&target.turns),
                    Some(_) => self.transport.turns(&format!("{}://{authority}", target.scheme)),
                };
                wait_turn(&host).await?
            }
        };
        let reply = self
            .transport
            .send_in_turn(&request.method, &url, &headers, request.body)
            .await
            .map_err(ApiError::Transport)?;
        let (status, headers, body) = (reply.status, reply.headers, reply.body);
        let response = Response { status, headers: &headers, body: &body };
        let outcome = protocol::deserialize(service, op, &response).map_err(|e| ApiError::Malformed(e.to_string()))?;
        let request_id = ["x-amzn-requestid", "x-amz-request-id"]
            .iter()
            .find_map(|h| headers.iter().find(|(n, _)| n == h))
            .map(|(_, v)| v.clone());
        match outcome {
            Outcome::Ok(output) => Ok(ApiOutput { output, status, headers, request_id }),
            Outcome::Err(e) => Err(ApiError::Service {
                service: service.error_prefix.clone(),
                status: e.status,
                code: e.code,
                message: e.message,
                request_id: e.request_id.or(request_id),
            }),
        }
    }
}

/// A turn to send to a host (see [`Transport::turns`]).
async fn wait_turn(turns: &Arc<tokio::sync::Semaphore>) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    Arc::clone(turns).acquire_owned().await.map_err(|e| ApiError::Transport(e.to_string()))
}

/// The answer of [`Aws::send`]: any status, headers as received (lower-case names).
#[derive(Debug, Clone)]
pub struct Sent {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Aws {
    /// Sends a plain HTTP request over the shared pool (API Gateway's `invoke` calls a deployed
    /// API, not an operation of a model), signed with SigV4 for the signing name `sign_as` in
    /// the client's region when given, as the process or as `role`.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        sign_as: Option<&str>,
        role: Option<&Role>,
    ) -> Result<Sent, ApiError> {
        let parsed =
            reqwest::Url::parse(url).map_err(|e| ApiError::InvalidParameters(format!("'{url}' is not a URL: {e}")))?;
        let mut headers: Vec<(String, String)> =
            headers.into_iter().map(|(n, v)| (n.to_ascii_lowercase(), v)).collect();
        if let Some(service) = sign_as {
            let credentials = match role {
                None => self.0.base_credentials().await?,
                Some(role) => self.0.role_credentials(role).await?,
            };
            let host = parsed.host_str().unwrap_or_default();
            let authority = match parsed.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            };
            let path_and_query = match parsed.query() {
                Some(q) => format!("{}?{q}", parsed.path()),
                None => parsed.path().to_owned(),
            };
            headers.push(("host".into(), authority));
            let scope = Scope { credentials: &credentials, region: &self.0.region, service, now: Utc::now() };
            self.0.signer.sign(method, &path_and_query, &mut headers, &body, scope);
        }
        headers.retain(|(n, _)| n != "host");
        let reply =
            self.0.transport.send(method, parsed.as_str(), &headers, body).await.map_err(ApiError::Transport)?;
        Ok(Sent { status: reply.status, headers: reply.headers, body: reply.body.to_vec() })
    }
}

impl Sts for Inner {
    fn call<'a>(
        &'a self,
        credentials: Option<&'a Credentials>,
        operation: &'a str,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, String>> {
        Box::pin(async move {
            let sts = model::service("sts").map_err(|e| e.to_string())?;
            Inner::call(self, &sts, operation, &input, credentials).await.map(|o| o.output).map_err(|e| e.to_string())
        })
    }
}
