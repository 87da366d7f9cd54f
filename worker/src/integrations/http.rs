//! The HTTP Task (`arn:aws:states:::http:invoke`): a Task whose `Parameters` describe an HTTP
//! call, made for real against the endpoint, with AWS's result and error names.
//!
//! Owns: reading the parameters (`params`), URL-encoded bodies (`form`), the named connections
//! and host allow-list of the functions file (`config`), and turning a response into the result
//! or a failure (`response`). Must not: put a secret in a log, a failure's cause or `Debug`
//! output; follow redirects (a redirect could leave the allow-list, and would carry an API-key
//! header to another host), so a 3xx is a `States.Http.StatusCode.3xx` failure.
//!
//! Errors: a non-2xx status is `States.Http.StatusCode.<code>`; a connection that cannot be made
//! or breaks, or the 60-second cap AWS puts on every HTTP Task, is `States.Http.Socket`; a
//! `TimeoutSeconds` below that cap expires as `States.Timeout`, as any Task's does (so a host
//! that also enforces `TimeoutSeconds` cannot race it to another name); a 2xx body over the
//! response limit (256 KiB unless lifted) is `States.DataLimitExceeded`. Everything the
//! definition or the functions file gets wrong — bad parameters, an unknown connection, an unset
//! secret variable, a host not on the allow-list — is `States.Runtime`, found before any
//! connection is opened: retrying cannot fix it.

mod config;
mod form;
mod params;
pub(crate) use params::connection_name;
mod response;

use std::time::Duration;

use serde_json::Value;
use shared::asl::error_name::{Failure, RUNTIME, TIMEOUT};
use shared::asl::eval::TaskRequest;
use shared::asl::resource::Target;

pub use config::{Connection, HttpConfig};
pub use params::validate_parameters;
pub use response::ERROR_BODY_BYTES;

/// The resource of the HTTP Task.
pub const RESOURCE: &str = "arn:aws:states:::http:invoke";

/// The error of a call that could not be made or completed.
pub const SOCKET: &str = "States.Http.Socket";

/// AWS's limit on a task result, applied to a response body unless lifted.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// The bound on a 2xx response body when AWS's limit is lifted (`--no-payload-limits`): a body
/// is held whole (and parsed), so it needs one.
pub const RESPONSE_CEILING_BYTES: usize = 64 << 20;

/// AWS caps every HTTP Task at 60 seconds, whatever its `TimeoutSeconds`.
pub const SOCKET_TIMEOUT: Duration = Duration::from_secs(60);

/// The HTTP Task integration. Cheap to share: one connection pool serves every call.
#[derive(Debug)]
pub struct Http {
    config: HttpConfig,
    /// An error only if the TLS stack cannot start; every call then fails with its text rather
    /// than the process panicking at start-up.
    client: Result<reqwest::Client, String>,
    max_response_bytes: Option<usize>,
    socket_timeout: Duration,
}

impl Http {
    pub fn new(config: HttpConfig) -> Http {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("the HTTP client could not start: {e}"));
        Http { config, client, max_response_bytes: Some(DEFAULT_MAX_RESPONSE_BYTES), socket_timeout: SOCKET_TIMEOUT }
    }

    /// Bounds a 2xx response body; `None` (`--no-payload-limits`) lifts it to
    /// [`RESPONSE_CEILING_BYTES`].
    pub fn with_max_response_bytes(mut self, limit: Option<usize>) -> Http {
        self.max_response_bytes = Some(limit.unwrap_or(RESPONSE_CEILING_BYTES));
        self
    }

    /// Replaces AWS's 60-second cap on a call (tests use a short one).
    pub fn with_socket_timeout(mut self, timeout: Duration) -> Http {
        self.socket_timeout = timeout;
        self
    }

    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Makes the call `request.input` (the evaluated `Parameters`) describes.
    pub async fn invoke(&self, request: TaskRequest) -> Result<Value, Failure> {
        let state = &request.state_name;
        let runtime = |problem: String| Failure::new(RUNTIME, format!("the HTTP Task '{state}': {problem}"));
        if request.resource.target != Target::Http {
            return Err(runtime(format!("the resource is {}, not {RESOURCE}", request.resource)));
        }
        let client = self.client.as_ref().map_err(|e| runtime(e.clone()))?;
        let call = params::parse(&request.input).map_err(runtime)?;
        let host = call.url.host_str().unwrap_or_default();
        if !self.config.is_host_allowed(host) {
            return Err(runtime(format!(
                "the host '{host}' is not in the allow-list (allow_hosts in the functions file's [http] table)"
            )));
        }
        let mut headers = call.headers;
        if let Some(name) = &call.connection {
            let connection = self.config.connection(name).ok_or_else(|| {
                runtime(format!("the connection '{name}' is not defined ([connections.{name}] in the functions file)"))
            })?;
            connection.authorize(name, &mut headers)?;
        }

        let url = call.url.to_string();
        let head = call.method == reqwest::Method::HEAD;
        let mut builder = client.request(call.method, call.url).headers(headers);
        if let Some(body) = call.body {
            builder = builder.body(body);
        }
        let task_timeout = Duration::from_secs(request.timeout_seconds);
        let (deadline, expired) = if task_timeout < self.socket_timeout {
            (task_timeout, Failure::named(TIMEOUT))
        } else {
            let cap = self.socket_timeout;
            (cap, Failure::new(SOCKET, format!("the call to {url} did not complete within {cap:?}")))
        };
        let exchange = async {
            let response = builder.send().await.map_err(|e| response::socket(&url, "sending the request to", &e))?;
            response::read(response, self.max_response_bytes, &url, head).await
        };
        tokio::time::timeout(deadline, exchange).await.unwrap_or(Err(expired))
    }
}
