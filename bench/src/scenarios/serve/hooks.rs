//! The Lambda functions the callback and fan-out workloads call, served by the bench itself as
//! `url` functions of `dmap serve`'s functions file (`[functions.NAME] url = "http://…"`): the
//! server POSTs each Lambda event here as JSON and takes the 2xx body as the function's result.
//!
//! - `bench-hold` (`POST /hold`) is the worker of a `lambda:invoke.waitForTaskToken` Task: it
//!   records the event's `token` under its `n` and answers at once, as a Lambda function that
//!   queues work and lets someone else call `SendTaskSuccess` later does.
//! - `bench-mark` (`POST /mark`) is the state after the callback: it notes the instant its call
//!   arrived (the bench's monotonic clock, the same one that timed the `SendTaskSuccess` sent)
//!   and echoes the event as its result.
//!
//! Serving them in the bench keeps both instants on one clock in one process and costs the
//! server one loopback HTTP call per Task, the cheapest integration `dmap serve` has offline.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// What the functions saw, keyed by the event's `n`.
#[derive(Default)]
struct Seen {
    /// `n` → the task token `bench-hold` was given.
    tokens: HashMap<u64, String>,
    /// Calls of `bench-hold` beyond the first for an `n` (a repeated call would be a retry).
    repeated_holds: u64,
    /// `n` → when `bench-mark`'s call for it arrived.
    marks: HashMap<u64, Instant>,
    /// Events that named no `n` or no token: a definition that does not match the bench's.
    malformed: Vec<String>,
}

/// The two functions, on a loopback port of their own.
pub struct Hooks {
    pub addr: SocketAddr,
    seen: Mutex<Seen>,
    changed: Notify,
}

impl Hooks {
    /// Binds 127.0.0.1 on a free port and serves on the current runtime until the process ends.
    pub async fn start() -> anyhow::Result<Arc<Hooks>> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let hooks =
            Arc::new(Hooks { addr: listener.local_addr()?, seen: Mutex::new(Seen::default()), changed: Notify::new() });
        let served = hooks.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    // Out of descriptors for a moment: the open connections go on.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let hooks = served.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| respond(hooks.clone(), req));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        Ok(hooks)
    }

    /// The `[functions]` tables of a functions file that serves `bench-hold` and `bench-mark`.
    pub fn functions_toml(&self) -> String {
        format!(
            "[functions.bench-hold]\nurl = \"http://{a}/hold\"\ntimeout_seconds = 30\n\n\
             [functions.bench-mark]\nurl = \"http://{a}/mark\"\ntimeout_seconds = 30\n",
            a = self.addr
        )
    }

    /// Forgets everything seen (between rounds).
    pub fn clear(&self) {
        *self.seen.lock().expect("hooks") = Seen::default();
    }

    /// The token `bench-hold` got for `n`.
    pub fn token(&self, n: u64) -> Option<String> {
        self.seen.lock().expect("hooks").tokens.get(&n).cloned()
    }

    /// When `bench-mark`'s call for `n` arrived.
    pub fn mark(&self, n: u64) -> Option<Instant> {
        self.seen.lock().expect("hooks").marks.get(&n).copied()
    }

    /// (tokens held, repeated holds, marks seen).
    pub fn counts(&self) -> (usize, u64, usize) {
        let s = self.seen.lock().expect("hooks");
        (s.tokens.len(), s.repeated_holds, s.marks.len())
    }

    /// Waits until `count` distinct tokens were given to `bench-hold`.
    pub async fn wait_tokens(&self, count: usize, until: Instant) -> anyhow::Result<()> {
        self.wait(&format!("{count} tokens at bench-hold"), until, |s| s.tokens.len() >= count).await
    }

    /// Waits until `bench-mark` was called for `count` distinct `n`.
    pub async fn wait_marks(&self, count: usize, until: Instant) -> anyhow::Result<()> {
        self.wait(&format!("{count} calls of bench-mark"), until, |s| s.marks.len() >= count).await
    }

    /// Waits for `bench-mark`'s call for `n`; its arrival.
    pub async fn wait_mark(&self, n: u64, until: Instant) -> anyhow::Result<Instant> {
        self.wait(&format!("the call of bench-mark for n = {n}"), until, |s| s.marks.contains_key(&n)).await?;
        Ok(self.mark(n).expect("seen"))
    }

    /// Waits until `done` holds of what was seen, failing on a malformed event or at `until`.
    async fn wait(&self, what: &str, until: Instant, done: impl Fn(&Seen) -> bool) -> anyhow::Result<()> {
        loop {
            // Registered before the check, so that a change between the check and the await
            // still wakes this waiter.
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let s = self.seen.lock().expect("hooks");
                if let Some(m) = s.malformed.first() {
                    bail!("a function got an event the bench did not make: {m}");
                }
                if done(&s) {
                    return Ok(());
                }
                if Instant::now() >= until {
                    bail!("{what}: not reached in time ({} tokens held, {} marks)", s.tokens.len(), s.marks.len());
                }
            }
            let _ = tokio::time::timeout_at(until.into(), notified).await;
        }
    }
}

async fn respond(hooks: Arc<Hooks>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let arrived = Instant::now();
    let path = req.uri().path().to_string();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Ok(answer(StatusCode::BAD_REQUEST, &json!({"errorMessage": e.to_string()}))),
    };
    let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let n = event["n"].as_u64();
    let reply = {
        let mut s = hooks.seen.lock().expect("hooks");
        match (path.as_str(), n, event["token"].as_str()) {
            ("/hold", Some(n), Some(token)) => {
                if s.tokens.insert(n, token.to_string()).is_some() {
                    s.repeated_holds += 1;
                }
                json!({"accepted": true})
            }
            ("/mark", Some(n), _) => {
                s.marks.entry(n).or_insert(arrived);
                event.clone()
            }
            _ => {
                s.malformed.push(format!("POST {path}: {}", String::from_utf8_lossy(&body)));
                json!({"errorType": "BenchMalformedEvent", "errorMessage": "not an event the bench made"})
            }
        }
    };
    hooks.changed.notify_waiters();
    Ok(answer(StatusCode::OK, &reply))
}

fn answer(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
    resp
}
