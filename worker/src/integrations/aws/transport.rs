//! How AWS calls travel: hyper's pooled keep-alive client, HTTP/1.1, over rustls with the
//! platform's certificate verifier (or plain HTTP for a local endpoint).
//!
//! Not reqwest (which the HTTP Task uses): on the DynamoDB PutItem path reqwest cost ~7 µs more
//! client CPU per call than this (measured: ~31 µs vs ~24 µs per call against a local
//! endpoint, 64 calls in flight, on the shared 2-core machine), and the budget is 30 µs.
//!
//! At most [`MAX_CONNECTIONS_PER_HOST`] requests are in flight to one host; the others wait in
//! line for a turn. hyper's pool has no such cap: a Map Run of 10,000 children waiting on one
//! endpoint opened a connection per child, and the fresh memory and TLS/TCP set-up of thousands
//! of connections cost ~20 µs of CPU per call (`bench integrations`, perf: 30% of samples in
//! the kernel zeroing pages for them).
//!
//! Owns: connections and moving bytes. Must not: sign, serialise, or retry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// Requests in flight to one host at once, and so connections kept to it: AWS's SDKs default
/// to 50 (Java) and 10 (Python); 64 keeps a local endpoint busy on every core without a
/// connection per waiting child.
pub const MAX_CONNECTIONS_PER_HOST: usize = 64;

/// The most bytes of a response body read: a body is held whole (and parsed), so an endpoint
/// that answers without end must not grow the process without bound. Beyond it the call fails
/// as a transport error; anything near it would fail the state's 256 KiB limit anyway, unless
/// `--no-payload-limits`, whose state ceiling is 256 MiB of which no single answer needs more.
pub const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// A response: status, headers (lower-case names), the whole body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// The pooled client. Clones share the pool.
#[derive(Clone, Debug)]
pub struct Transport {
    client: Client<Https, Full<Bytes>>,
    /// A turn per request in flight, per host (`scheme://authority`).
    turns: Arc<Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>>,
}

impl Transport {
    pub fn new(connect_timeout: Duration) -> Result<Transport, String> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_platform_verifier(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| format!("cannot start TLS: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(50)).build(https);
        Ok(Transport { client, turns: Arc::default() })
    }

    /// The turns of requests to `host` (`scheme://authority`): callers that send to one host
    /// again and again keep them rather than look them up per request.
    pub fn turns(&self, host: &str) -> Arc<tokio::sync::Semaphore> {
        let mut all = self.turns.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(turns) = all.get(host) {
            return Arc::clone(turns);
        }
        let turns = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS_PER_HOST));
        all.insert(host.to_owned(), Arc::clone(&turns));
        turns
    }

    /// Sends one request; `headers` must not hold `host` (it comes from `url`).
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<Reply, String> {
        let uri: hyper::Uri = url.parse().map_err(|e: hyper::http::uri::InvalidUri| e.to_string())?;
        let host = match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
            _ => String::new(),
        };
        // Held until the body is read: the connection is busy until then.
        let _turn = self.turns(&host).acquire_owned().await.map_err(|e| e.to_string())?;
        self.send_in_turn(method, url, headers, body).await
    }

    /// [`Transport::send`] for a caller that holds a turn of `url`'s host ([`Transport::turns`])
    /// until this returns.
    pub async fn send_in_turn(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<Reply, String> {
        // Built in place rather than with `Request::builder()`, which moves the whole request
        // head on every `.header()`: ~1,000 instructions per header.
        let mut request = hyper::Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = hyper::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        *request.uri_mut() = url.parse().map_err(|e: hyper::http::uri::InvalidUri| e.to_string())?;
        let map = request.headers_mut();
        map.reserve(headers.len());
        for (name, value) in headers {
            let name = hyper::header::HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
            let value = hyper::header::HeaderValue::from_str(value).map_err(|e| e.to_string())?;
            map.append(name, value);
        }
        let response = self.client.request(request).await.map_err(|e| chain(&e))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = http_body_util::Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| match e.downcast_ref::<http_body_util::LengthLimitError>() {
                Some(_) => format!("the response is larger than {} MiB", MAX_RESPONSE_BYTES >> 20),
                None => chain(e.as_ref()),
            })?
            .to_bytes();
        Ok(Reply { status, headers, body })
    }
}

/// An error with its causes, which say what went wrong (refused, reset, certificate).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
