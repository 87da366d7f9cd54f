//! The HTTP side of the fake DynamoDB: hyper's HTTP/1.1 connections (kept alive) on a tokio
//! runtime of its own, bound to 127.0.0.1 only, answering through [`super::handle`]; and
//! [`Process`], the fake run as a child process of the bench (`bench fake-dynamodb`), so that
//! its CPU time is its own in /proc and never mixed with the client's.
//!
//! Every answer carries `Content-Type: application/x-amz-json-1.0` and an `x-amzn-RequestId`,
//! as DynamoDB's do; no `x-amz-crc32` (clients check it only when it is present).

use std::convert::Infallible;
use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

use super::{Reply, Tables, handle};

/// The path listing every table's count and digest (not a DynamoDB operation).
pub const ADMIN_PATH: &str = "/_bench/tables";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The port on 127.0.0.1 (0: any free port). The URL is printed as the first line on stdout.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Threads of the server's runtime.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

/// `bench fake-dynamodb`: serves until its stdin closes (the bench holds it open, so the fake
/// ends with the bench however the bench ends).
pub fn run(a: &Args) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(a.threads.max(1))
        .enable_io()
        .enable_time()
        .build()?;
    rt.block_on(async {
        let listener = TcpListener::bind(("127.0.0.1", a.port)).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "http://{}", listener.local_addr()?)?;
        out.flush()?;
        drop(out);
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
            std::process::exit(0);
        });
        serve(listener, Arc::new(Tables::default())).await
    })
}

/// Accepts connections for ever. A failed accept (out of file descriptors when a client opens
/// thousands of connections) is retried after a pause: the connections already open go on.
pub async fn serve(listener: TcpListener, tables: Arc<Tables>) -> anyhow::Result<()> {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                eprintln!("fake-dynamodb: accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let tables = tables.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| respond(tables.clone(), req));
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}

async fn respond(tables: Arc<Tables>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() == Method::GET && req.uri().path() == ADMIN_PATH {
        return Ok(answer(Reply { status: 200, body: tables.summary() }));
    }
    let target = req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let reply = match req.into_body().collect().await {
        Ok(body) => handle(&tables, target.as_deref(), &body.to_bytes()),
        Err(e) => Reply { status: 400, body: serde_json::json!({"message": format!("reading the body: {e}")}) },
    };
    Ok(answer(reply))
}

fn answer(reply: Reply) -> Response<Full<Bytes>> {
    static REQUESTS: AtomicU64 = AtomicU64::new(0);
    let id = format!("BENCH{:047}", REQUESTS.fetch_add(1, Ordering::Relaxed));
    let mut resp = Response::new(Full::new(Bytes::from(reply.body.to_string())));
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert("content-type", hyper::header::HeaderValue::from_static("application/x-amz-json-1.0"));
    if let Ok(v) = id.parse() {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

/// The fake running as a child process of this one; stopped when dropped.
pub struct Process {
    child: Child,
    /// Held open: the fake exits when it closes.
    _stdin: ChildStdin,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Process {
    /// Starts `exe fake-dynamodb --threads N` (`exe`: this bench binary) and waits for its URL.
    pub fn start(exe: &Path, threads: usize) -> anyhow::Result<Process> {
        let mut child = Command::new(exe)
            .args(["fake-dynamodb", "--threads", &threads.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {} fake-dynamodb", exe.display()))?;
        let stdin = child.stdin.take().context("no stdin")?;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
        let url = line.trim().to_string();
        if !url.starts_with("http://127.0.0.1:") {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the fake DynamoDB did not start (it printed {url:?})");
        }
        Ok(Process { child, _stdin: stdin, url })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every table's count and digest, from [`ADMIN_PATH`].
    pub fn tables(&self) -> anyhow::Result<Value> {
        let addr = self.url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(s, "GET {ADMIN_PATH} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
        let mut resp = String::new();
        s.read_to_string(&mut resp)?;
        let body = resp.split_once("\r\n\r\n").map(|(_, b)| b).context("no HTTP body from the fake DynamoDB")?;
        serde_json::from_str(body).with_context(|| format!("the fake DynamoDB's tables: {body:.200}"))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
