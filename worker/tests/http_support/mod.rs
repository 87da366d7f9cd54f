//! Test harness for the HTTP Task: a real HTTP/1.1 server on 127.0.0.1 that records every
//! request exactly as received and answers what the test's responder says; task requests; and
//! a way to run a test with secrets in its environment.

#![allow(dead_code)] // Each test file uses a different part of this module.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use shared::asl::eval::TaskRequest;
use shared::asl::resource::Resource;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use worker::integrations::http::{Http, HttpConfig, RESOURCE};

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Names in lowercase, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    /// The values of a header, in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).first().copied()
    }

    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    pub fn body_text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: ReplyBody,
    delay: Option<Duration>,
}

#[derive(Debug, Clone)]
enum ReplyBody {
    Full(Bytes),
    /// This chunk again and again, never ending, with no `Content-Length`.
    Endless(Bytes),
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply::bytes(status, body.to_string()).header("content-type", "application/json")
    }

    pub fn text(status: u16, body: &str) -> Reply {
        Reply::bytes(status, body.to_owned()).header("content-type", "text/plain; charset=utf-8")
    }

    pub fn bytes(status: u16, body: impl Into<Bytes>) -> Reply {
        Reply { status, headers: Vec::new(), body: ReplyBody::Full(body.into()), delay: None }
    }

    /// A 200 whose body never ends.
    pub fn endless(chunk: &'static [u8]) -> Reply {
        Reply { status: 200, headers: Vec::new(), body: ReplyBody::Endless(Bytes::from_static(chunk)), delay: None }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Waits this long before answering (the handler sleeps; nothing in the test does).
    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = Some(delay);
        self
    }
}

type Responder = dyn Fn(&Received) -> Reply + Send + Sync;

/// The server; it stops with the test's runtime.
pub struct Server {
    pub addr: SocketAddr,
    received: mpsc::UnboundedReceiver<Received>,
}

impl Server {
    /// Starts a server on a free loopback port.
    pub async fn start(respond: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let (sender, received) = mpsc::unbounded_channel();
        let respond: Arc<Responder> = Arc::new(respond);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (sender, respond) = (sender.clone(), respond.clone());
                let service = service_fn(move |request: Request<Incoming>| {
                    let (sender, respond) = (sender.clone(), respond.clone());
                    async move { Ok::<_, Infallible>(answer(request, &sender, &*respond).await) }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        Server { addr, received }
    }

    /// Answers every request with the same reply.
    pub async fn always(reply: Reply) -> Server {
        Server::start(move |_| reply.clone()).await
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }

    /// The request the server received next. Call it after the task returned: the server
    /// records a request before it answers, so the record is already there.
    pub fn request(&mut self) -> Received {
        self.received.try_recv().expect("the server received a request")
    }

    /// Whether no (further) request reached the server.
    pub fn saw_nothing(&mut self) -> bool {
        self.received.try_recv().is_err()
    }
}

async fn answer(
    request: Request<Incoming>,
    sender: &mpsc::UnboundedSender<Received>,
    respond: &Responder,
) -> Response<ReplyBody> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
    let received = Received {
        method: parts.method.to_string(),
        target: parts.uri.path_and_query().map_or("/".to_owned(), |pq| pq.to_string()),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body,
    };
    let reply = respond(&received);
    // Recorded before answering, so that the test finds it as soon as its call returns.
    let _ = sender.send(received);
    if let Some(delay) = reply.delay {
        tokio::time::sleep(delay).await;
    }
    let mut response = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        response = response.header(name, value);
    }
    response.body(reply.body).expect("a valid reply")
}

impl Body for ReplyBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let frame = match self.get_mut() {
            ReplyBody::Full(bytes) if bytes.is_empty() => None,
            ReplyBody::Full(bytes) => Some(Ok(Frame::data(std::mem::take(bytes)))),
            ReplyBody::Endless(chunk) => Some(Ok(Frame::data(chunk.clone()))),
        };
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ReplyBody::Full(bytes) if bytes.is_empty())
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            ReplyBody::Full(bytes) => hyper::body::SizeHint::with_exact(bytes.len() as u64),
            ReplyBody::Endless(_) => hyper::body::SizeHint::default(),
        }
    }
}

/// A URL on a loopback port where nothing listens: a listener is bound, its port noted, and
/// the listener closed, so connecting is refused.
pub async fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{addr}/closed")
}

/// A task request for the HTTP Task with these parameters and AWS's default timeout.
pub fn task(parameters: Value) -> TaskRequest {
    TaskRequest {
        state_name: "Call".to_owned(),
        resource: Arc::new(Resource::parse(RESOURCE).expect("the HTTP Task resource")),
        input: parameters,
        timeout_seconds: 99_999_999,
        heartbeat_seconds: None,
        credentials: None,
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:m:e".to_owned(),
        call_id: 2,
        task_token: None,
    }
}

/// `GET` of a URL, the smallest valid parameters.
pub fn get(url: &str) -> Value {
    json!({"ApiEndpoint": url, "Method": "GET"})
}

/// The functions file's HTTP settings from TOML text holding `[connections.*]` and `[http]`.
pub fn config(toml_text: &str) -> Result<HttpConfig, String> {
    let table: toml::Table = toml::from_str(toml_text).map_err(|e| e.to_string())?;
    let connections: BTreeMap<String, toml::Value> = match table.get("connections") {
        Some(toml::Value::Table(t)) => t.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => BTreeMap::new(),
    };
    HttpConfig::from_raw(&connections, table.get("http"))
}

/// An integration with no connections and no allow-list.
pub fn open() -> Http {
    Http::new(HttpConfig::default())
}

/// A connection ARN naming `name`, as EventBridge writes them.
pub fn connection_arn(name: &str) -> String {
    format!("arn:aws:events:us-east-1:123456789012:connection/{name}/5d3c6a1e-8f0b-4b7e-9a61-2f4c8d9e0a1b")
}

const CHILD: &str = "DMAP_HTTP_TEST_CHILD";

/// Whether this process is the child copy [`rerun_with_env`] started.
pub fn in_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Runs the test `name` again in a child copy of this test binary whose environment also holds
/// `vars`, and fails unless it passed there. Secrets must come from a real environment, and
/// setting a variable in this process needs `unsafe` (Rust 2024), which the workspace forbids.
pub fn rerun_with_env(name: &str, vars: &[(&str, &str)]) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let output = std::process::Command::new(exe)
        .args(["--exact", name, "--test-threads=1"])
        .env(CHILD, "1")
        .envs(vars.iter().copied())
        .output()
        .expect("start the test binary again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // "1 passed" also proves that the filter found the test: zero tests would pass too.
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the child run of {name} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
