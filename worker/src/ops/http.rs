//! The operations endpoint: `GET /healthz` and `GET /metrics` over HTTP/1.1 (hyper).
//!
//! The binary that serves decides what healthy means and which numbers to show, through
//! [`OpsSource`]; this module only routes and answers. It must not bind an address by itself:
//! the caller passes one (tests use `127.0.0.1:0`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use super::metrics;

/// What `/healthz` and `/metrics` report. Called on every request, so both should be cheap
/// reads of state the process keeps anyway.
pub trait OpsSource: Send + Sync + 'static {
    /// Ok(()) when healthy; Err(reason) otherwise (-> 503 with the reason as body).
    fn health(&self) -> Result<(), String>;
    /// The Prometheus exposition text.
    fn metrics(&self) -> String;
}

/// Answers `POST /` on the same listener (`dmap run --listen`: the callback actions of the
/// Step Functions API). The binary that serves decides what it is.
pub trait PostHandler: Send + Sync + 'static {
    fn post(&self, request: Request<Incoming>) -> BoxFuture<'_, Response<Full<Bytes>>>;
}

/// Binds `addr` (the caller decides; tests use 127.0.0.1:0), serves until the returned handle is aborted or the process exits.
///
/// Returns the bound address (useful with port 0). Aborting the handle also closes the
/// connections that are open at that moment.
pub async fn serve(addr: SocketAddr, source: Arc<dyn OpsSource>) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    serve_with_post(addr, source, None).await
}

/// As [`serve`], with `POST /` answered by `post`.
pub async fn serve_with_post(
    addr: SocketAddr,
    source: Arc<dyn OpsSource>,
    post: Option<Arc<dyn PostHandler>>,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((local, tokio::spawn(accept(listener, source, post))))
}

/// Accepts connections forever. The connection tasks live in a [`JoinSet`] owned by this
/// task, so aborting this task drops (and so aborts) them as well.
async fn accept(listener: TcpListener, source: Arc<dyn OpsSource>, post: Option<Arc<dyn PostHandler>>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(connection(stream, peer, source.clone(), post.clone()));
                }
                Err(e) => {
                    // Typically the process is out of file descriptors; retrying at once
                    // would spin, and the condition usually passes.
                    tracing::debug!(error = %e, "ops endpoint: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            // Reaps finished connections so the set does not grow without bound.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    source: Arc<dyn OpsSource>,
    post: Option<Arc<dyn PostHandler>>,
) {
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let (source, post) = (source.clone(), post.clone());
        async move {
            let response = match post {
                Some(p) if request.method() == Method::POST && request.uri().path() == "/" => p.post(request).await,
                _ => respond(source.as_ref(), request.method(), request.uri().path()),
            };
            Ok::<_, Infallible>(response)
        }
    });
    if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
        tracing::debug!(%peer, error = %e, "ops endpoint: connection failed");
    }
}

/// Routing: the path decides the resource (404 when unknown), then only GET is allowed.
fn respond(source: &dyn OpsSource, method: &Method, path: &str) -> Response<Full<Bytes>> {
    let resource = match path {
        "/healthz" => Resource::Health,
        "/metrics" => Resource::Metrics,
        _ => return text(StatusCode::NOT_FOUND, "not found\n".to_string()),
    };
    if method != Method::GET {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n".to_string());
        r.headers_mut().insert(ALLOW, HeaderValue::from_static("GET"));
        return r;
    }
    match resource {
        Resource::Health => match source.health() {
            Ok(()) => text(StatusCode::OK, "ok\n".to_string()),
            Err(reason) => text(StatusCode::SERVICE_UNAVAILABLE, with_newline(reason)),
        },
        Resource::Metrics => {
            let mut r = text(StatusCode::OK, source.metrics());
            r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(metrics::CONTENT_TYPE));
            r
        }
    }
}

enum Resource {
    Health,
    Metrics,
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

fn with_newline(mut s: String) -> String {
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}
