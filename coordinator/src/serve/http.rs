//! The HTTP/1.1 listener of `dmap serve` (hyper): `POST /` carries the Step Functions API
//! (AWS JSON 1.0), `GET /healthz` answers `ok`, `GET /metrics` the Prometheus text.
//!
//! Options → [`Server`] → [`Handle`]: [`Server::bind`] binds the address it is given (the
//! caller decides; tests bind 127.0.0.1:0), [`Server::start`] serves, and
//! [`Handle::shutdown`] stops accepting, lets the requests in flight finish, and returns.
//!
//! Per request: the body is read up to [`Options::body_limit`] (AWS's largest member, a
//! definition, is 1 MiB), then the [`Authenticator`] (if any) sees the request, then the
//! target selects the action and `api::dispatch` answers. Any `Content-Type` is accepted:
//! SDKs send `application/x-amz-json-1.0`, and the body is read as JSON whatever it says.
//! This module must not interpret requests beyond that.

pub mod metrics;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use self::metrics::Metrics;
use super::api::{self, Action, ApiError, Ctx};
use super::auth::{AuthError, Policy};

/// The `Content-Type` of the API's answers.
pub const JSON_1_0: &str = "application/x-amz-json-1.0";

/// Definitions are at most 1 MiB of characters; in a JSON string each `"` or `\` doubles and
/// a non-ASCII character takes up to 3 bytes, so a limit at 1 MiB would refuse definitions
/// AWS takes. 3 MiB + 64 KiB admits every 1 MiB definition of ordinary text; anything larger
/// is refused before it is parsed.
pub const DEFAULT_BODY_LIMIT: usize = (3 << 20) + (64 << 10);

/// Checks a request before any action sees it (SigV4 off loopback). Errors are answered as
/// they are (AWS's `IncompleteSignatureException`, `InvalidSignatureException`, …).
pub trait Authenticator: Send + Sync + 'static {
    /// Before the body is read: refuses what the headers alone condemn (no signature at all),
    /// so that an unsigned request cannot make the server read a large body.
    fn verify_headers(&self, _uri: &Uri, _headers: &HeaderMap) -> Result<(), ApiError> {
        Ok(())
    }
    /// With the whole body: the signature.
    fn verify(&self, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError>;
}

/// `dmap serve`'s start-time policy (loopback, open, or SigV4 against the configured keys).
impl Authenticator for Policy {
    fn verify_headers(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), ApiError> {
        self.check_headers(path_and_query(uri), header_pairs(headers)).map_err(refused)
    }
    fn verify(&self, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
        self.check(method.as_str(), path_and_query(uri), header_pairs(headers), body).map_err(refused)
    }
}

fn path_and_query(uri: &Uri) -> &str {
    uri.path_and_query().map_or("/", |p| p.as_str())
}

fn header_pairs(headers: &HeaderMap) -> impl Iterator<Item = (&str, &[u8])> {
    headers.iter().map(|(name, value)| (name.as_str(), value.as_bytes()))
}

fn refused(e: AuthError) -> ApiError {
    ApiError::with_status(e.code(), e.message(), e.status())
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    pub body_limit: usize,
    /// Connections served at once; more wait in the listen backlog until one closes, so that
    /// a flood of idle connections cannot exhaust file descriptors or memory.
    pub max_connections: usize,
    /// How long a shutdown waits for the requests in flight (a synchronous Express execution
    /// can run for minutes); those still running after it are dropped.
    pub drain: Duration,
}

/// The default [`Options::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

impl Options {
    pub fn new(listen: SocketAddr) -> Self {
        Options {
            listen,
            body_limit: DEFAULT_BODY_LIMIT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            // Inside Kubernetes' default grace period of 30 s, before its SIGKILL.
            drain: Duration::from_secs(20),
        }
    }
}

/// What `/healthz` asks: `Err(reason)` answers 503 with the reason.
pub type Health = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// What every connection shares.
struct Shared {
    ctx: Ctx,
    metrics: Arc<Metrics>,
    auth: Option<Arc<dyn Authenticator>>,
    health: Option<Health>,
    body_limit: usize,
    max_connections: usize,
    drain: Duration,
}

/// A bound, not yet serving, listener.
pub struct Server {
    listener: TcpListener,
    shared: Shared,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("listener", &self.listener).finish_non_exhaustive()
    }
}

impl Server {
    /// Binds `options.listen`.
    pub async fn bind(
        options: &Options,
        ctx: Ctx,
        metrics: Arc<Metrics>,
        auth: Option<Arc<dyn Authenticator>>,
    ) -> std::io::Result<Server> {
        let listener = TcpListener::bind(options.listen).await?;
        let shared = Shared {
            ctx,
            metrics,
            auth,
            health: None,
            body_limit: options.body_limit,
            max_connections: options.max_connections.max(1),
            drain: options.drain,
        };
        Ok(Server { listener, shared })
    }

    /// Makes `/healthz` ask `health` (by default it answers `ok` while the server runs).
    pub fn with_health(mut self, health: Health) -> Server {
        self.shared.health = Some(health);
        self
    }

    /// The bound address (the port chosen when the options said 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until the handle is shut down.
    pub fn start(self) -> std::io::Result<Handle> {
        let addr = self.listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept(self.listener, Arc::new(self.shared), stopped));
        Ok(Handle { addr, stop, task })
    }
}

/// A running server.
#[derive(Debug)]
pub struct Handle {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Handle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, finishes the requests in flight (idle keep-alive connections close),
    /// and returns when every connection is closed, or after [`Options::drain`].
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept(), if connections.len() < shared.max_connections => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(connection(stream, peer, shared.clone(), stopped.clone()));
                }
                Err(e) => {
                    // Typically out of file descriptors: retrying at once would spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            // Reaps finished connections so the set does not grow without bound.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stopped.changed() => break,
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(shared.drain, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "shutdown: dropping requests still running after the drain time"
        );
        connections.shutdown().await;
    }
}

async fn connection(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    // Many small requests per connection: Nagle's delay would add 40 ms to each answer.
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(respond(&shared, request).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = stopped.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection closed with an error");
    }
}

async fn respond(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    match (request.method(), path) {
        (&Method::POST, "/") => api_request(shared, request).await,
        (&Method::GET, "/healthz") => match shared.health.as_ref().map_or(Ok(()), |h| h()) {
            Ok(()) => text(StatusCode::OK, "ok\n".into()),
            Err(reason) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")),
        },
        (&Method::GET, "/metrics") => {
            let mut r = text(StatusCode::OK, shared.metrics.render());
            r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(worker::ops::metrics::CONTENT_TYPE));
            r
        }
        (_, "/") => not_allowed("POST"),
        (_, "/healthz" | "/metrics") => not_allowed("GET"),
        _ => text(StatusCode::NOT_FOUND, "not found\n".into()),
    }
}

async fn api_request(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_string);
    let parsed = Action::parse(target.as_deref());
    let action = parsed.as_ref().ok().copied();
    let answer = async {
        // Authentication comes before the target is looked at: an unsigned request learns
        // nothing, not even which actions exist.
        if let Some(auth) = &shared.auth {
            auth.verify_headers(&parts.uri, &parts.headers)?;
        }
        let bytes = read_body(&parts.headers, body, shared.body_limit).await?;
        if let Some(auth) = &shared.auth {
            auth.verify(&parts.method, &parts.uri, &parts.headers, &bytes)?;
        }
        api::dispatch(&shared.ctx, parsed?, &bytes).await
    }
    .await;
    let elapsed = started.elapsed();
    let name = action.map_or("-", Action::name);
    match answer {
        Ok(value) => {
            shared.metrics.observe(action, "OK", elapsed);
            tracing::debug!(action = name, micros = elapsed.as_micros() as u64, "answered");
            json(StatusCode::OK, value.to_string())
        }
        Err(e) => {
            shared.metrics.observe(action, e.code, elapsed);
            if e.status >= 500 {
                tracing::warn!(action = name, code = e.code, message = %e.message, "failed");
            } else {
                tracing::debug!(action = name, code = e.code, message = %e.message, "refused");
            }
            error_response(&e)
        }
    }
}

fn error_response(e: &ApiError) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = json(status, e.body().to_string());
    if let Ok(v) = HeaderValue::from_str(e.code) {
        r.headers_mut().insert("x-amzn-errortype", v);
    }
    r
}

/// `POST /` of `dmap run --listen`: the callback actions alone (SendTaskSuccess, SendTaskFailure,
/// SendTaskHeartbeat) on `callbacks`, with this API's protocol, checks, errors and
/// authentication; any other action is `UnknownOperationException`.
pub async fn callbacks_request(
    callbacks: &crate::callbacks::Callbacks,
    auth: Option<&dyn Authenticator>,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    use super::api::actions::{send_task_failure, send_task_heartbeat, send_task_success};
    let (parts, body) = request.into_parts();
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_string);
    let answer = async {
        if let Some(auth) = auth {
            auth.verify_headers(&parts.uri, &parts.headers)?;
        }
        // The largest callback: a 256 KiB output, as JSON text, with its token.
        let bytes = read_body(&parts.headers, body, 1 << 20).await?;
        if let Some(auth) = auth {
            auth.verify(&parts.method, &parts.uri, &parts.headers, &bytes)?;
        }
        let action = Action::parse(target.as_deref());
        let request = super::api::request::Request::parse(&bytes);
        match action {
            Ok(Action::SendTaskSuccess) => send_task_success::answer(callbacks, request?).await,
            Ok(Action::SendTaskFailure) => send_task_failure::answer(callbacks, request?).await,
            Ok(Action::SendTaskHeartbeat) => send_task_heartbeat::answer(callbacks, request?).await,
            _ => {
                let mut e = ApiError::unknown_operation(target.as_deref().unwrap_or(""));
                e.message = format!(
                    "{}: `dmap run --listen` serves SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat only",
                    e.message
                );
                Err(e)
            }
        }
    }
    .await;
    match answer {
        Ok(value) => json(StatusCode::OK, value.to_string()),
        Err(e) => error_response(&e),
    }
}

/// The body, at most `limit` bytes (a declared length over the limit is refused before
/// reading).
async fn read_body(headers: &HeaderMap, body: Incoming, limit: usize) -> Result<Bytes, ApiError> {
    let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::too_large(limit)),
        Err(e) => Err(ApiError::serialization(format!("The request body could not be read: {e}"))),
    }
}

fn json(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    let headers = r.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON_1_0));
    if let Ok(id) = HeaderValue::from_str(&super::api::start::random_uuid()) {
        headers.insert("x-amzn-requestid", id);
    }
    r
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

fn not_allowed(allow: &'static str) -> Response<Full<Bytes>> {
    let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n".into());
    r.headers_mut().insert(ALLOW, HeaderValue::from_static(allow));
    r
}
