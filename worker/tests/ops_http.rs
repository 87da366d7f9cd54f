//! The operations endpoint (`ops::http::serve`) on a real loopback socket, spoken to with
//! plain HTTP/1.1 over `std::net::TcpStream`: `/healthz` follows the source's health,
//! `/metrics` returns the source's text with the Prometheus content type, other paths are 404,
//! other methods 405, and a broken connection does not stop the server.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use worker::ops::http::{OpsSource, serve};

const METRICS: &str = "# HELP dmap_up Up.\n# TYPE dmap_up gauge\ndmap_up 1\n";

/// Healthy unless `unhealthy` is set; then unhealthy with a fixed reason.
#[derive(Default)]
struct Source {
    unhealthy: AtomicBool,
}

impl OpsSource for Source {
    fn health(&self) -> Result<(), String> {
        if self.unhealthy.load(Ordering::SeqCst) { Err("NATS disconnected".to_string()) } else { Ok(()) }
    }
    fn metrics(&self) -> String {
        METRICS.to_string()
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

async fn start() -> (SocketAddr, Arc<Source>, tokio::task::JoinHandle<()>) {
    let source = Arc::new(Source::default());
    let (addr, handle) = serve("127.0.0.1:0".parse().expect("address"), source.clone()).await.expect("bind");
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    (addr, source, handle)
}

/// Sends one request (`Connection: close`) and reads the whole reply.
async fn request(addr: SocketAddr, method: &'static str, path: &'static str) -> Reply {
    tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        write!(s, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
            .expect("send");
        let mut raw = String::new();
        s.read_to_string(&mut raw).expect("read the reply");
        parse_reply(&raw)
    })
    .await
    .expect("request thread")
}

fn parse_reply(raw: &str) -> Reply {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or_else(|| panic!("a complete reply: {raw:?}"));
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let mut parts = status_line.splitn(3, ' ');
    assert_eq!(parts.next(), Some("HTTP/1.1"), "{status_line}");
    let status = parts.next().and_then(|s| s.parse().ok()).expect("status code");
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').expect("header");
            (n.trim().to_string(), v.trim().to_string())
        })
        .collect::<Vec<_>>();
    let reply = Reply { status, headers, body: body.to_string() };
    if let Some(len) = reply.header("content-length") {
        assert_eq!(len.parse::<usize>().expect("length"), reply.body.len(), "content-length matches the body");
    }
    reply
}

#[tokio::test]
async fn healthz_follows_the_source() {
    let (addr, source, _server) = start().await;

    let r = request(addr, "GET", "/healthz").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));

    source.unhealthy.store(true, Ordering::SeqCst);
    let r = request(addr, "GET", "/healthz").await;
    assert_eq!((r.status, r.body.as_str()), (503, "NATS disconnected\n"));

    source.unhealthy.store(false, Ordering::SeqCst);
    let r = request(addr, "GET", "/healthz").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok\n"));
}

#[tokio::test]
async fn metrics_returns_the_source_text_as_prometheus_text() {
    let (addr, _source, _server) = start().await;
    let r = request(addr, "GET", "/metrics").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    assert_eq!(r.body, METRICS);

    // A query string does not change the resource.
    let r = request(addr, "GET", "/metrics?name=dmap_up").await;
    assert_eq!((r.status, r.body.as_str()), (200, METRICS));
}

#[tokio::test]
async fn unknown_paths_are_not_found() {
    let (addr, _source, _server) = start().await;
    for path in ["/", "/health", "/metrics/", "/healthz/x"] {
        let r = request(addr, "GET", path).await;
        assert_eq!(r.status, 404, "{path}");
    }
}

#[tokio::test]
async fn other_methods_are_not_allowed() {
    let (addr, _source, _server) = start().await;
    for (method, path) in [("POST", "/metrics"), ("PUT", "/healthz"), ("DELETE", "/metrics")] {
        let r = request(addr, method, path).await;
        assert_eq!(r.status, 405, "{method} {path}");
        assert_eq!(r.header("allow"), Some("GET"), "{method} {path}");
    }
}

#[tokio::test]
async fn one_connection_serves_several_requests() {
    let (addr, _source, _server) = start().await;
    let raw = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        // Pipelined: the second request is sent before the first reply is read.
        write!(
            s,
            "GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\nGET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut raw = String::new();
        s.read_to_string(&mut raw).expect("read the replies");
        raw
    })
    .await
    .expect("request thread");
    assert_eq!(raw.matches("HTTP/1.1 200 OK\r\n").count(), 2, "{raw}");
}

#[tokio::test]
async fn a_broken_connection_does_not_stop_the_server() {
    let (addr, _source, _server) = start().await;
    tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        s.write_all(b"\x00\x01 this is not HTTP\r\n\r\n").expect("send garbage");
        let mut raw = Vec::new();
        // hyper answers 400 or closes; either way the connection ends.
        let _ = s.read_to_end(&mut raw);
        // A connection that closes in the middle of a request.
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(b"GET /metr").expect("send half a request");
    })
    .await
    .expect("garbage thread");
    let r = request(addr, "GET", "/healthz").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn aborting_the_handle_stops_serving() {
    let (addr, _source, server) = start().await;
    assert_eq!(request(addr, "GET", "/healthz").await.status, 200);
    server.abort();
    assert!(server.await.expect_err("aborted").is_cancelled());
    let refused = tokio::task::spawn_blocking(move || TcpStream::connect(addr)).await.expect("connect thread");
    assert!(refused.is_err(), "the listener is closed after abort");
}

#[tokio::test]
async fn binding_a_port_in_use_is_an_error() {
    let (addr, _source, _server) = start().await;
    let again = serve(addr, Arc::new(Source::default())).await;
    assert_eq!(again.err().map(|e| e.kind()), Some(std::io::ErrorKind::AddrInUse));
}
