//! One keep-alive HTTP/1.1 connection to `dmap serve`, speaking Step Functions' AWS JSON 1.0:
//! `POST /` with `X-Amz-Target: AWSStepFunctions.<Action>` and a JSON body, answered with JSON
//! or with HTTP 400 `{"__type": "<Code>", "message": "..."}`. No SigV4: the server listens on
//! loopback, where it asks for none.
//!
//! A [`Conn`] carries one request at a time (HTTP/1.1 without pipelining), which is what a
//! closed-loop client with one task per connection wants. It knows nothing about workloads.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

/// AWS JSON 1.0's content type, which every SDK sends.
pub const JSON_1_0: &str = "application/x-amz-json-1.0";

/// Why a call got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("connecting to {addr}: {source}")]
    Connect { addr: SocketAddr, source: std::io::Error },
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    #[error("building the request: {0}")]
    Request(#[from] hyper::http::Error),
    /// The API's error answer: AWS's code and message.
    #[error("{action}: HTTP {status} {code}: {message}")]
    Api { action: String, status: u16, code: String, message: String },
    #[error("{action}: the answer is not JSON ({source}): {body}")]
    Json { action: String, source: serde_json::Error, body: String },
}

/// One connection, one request at a time.
pub struct Conn {
    send: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

impl Conn {
    /// Connects (with Nagle off, as every HTTP client does for small requests) and runs the
    /// connection's I/O on a task of the current runtime.
    pub async fn open(addr: SocketAddr) -> Result<Conn, CallError> {
        let tcp = TcpStream::connect(addr).await.map_err(|source| CallError::Connect { addr, source })?;
        tcp.set_nodelay(true).map_err(|source| CallError::Connect { addr, source })?;
        let (send, conn) = http1::handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(async move {
            // The connection ends when `send` is dropped or the server closes it; the next
            // call on `send` reports either.
            let _ = conn.await;
        });
        let host = HeaderValue::from_str(&addr.to_string()).expect("a socket address is a valid header value");
        Ok(Conn { send, host })
    }

    /// `AWSStepFunctions.<action>` with `body` (JSON); the answer's JSON.
    pub async fn call(&mut self, action: &str, body: Bytes) -> Result<Value, CallError> {
        let (status, bytes) = self.call_raw(action, body).await?;
        parse(action, status, &bytes)
    }

    /// The same, without parsing: the status and the body as received.
    pub async fn call_raw(&mut self, action: &str, body: Bytes) -> Result<(u16, Bytes), CallError> {
        self.send.ready().await?;
        let req = Request::builder()
            .method(Method::POST)
            .uri("/")
            .header(HOST, self.host.clone())
            .header(CONTENT_TYPE, JSON_1_0)
            .header("x-amz-target", format!("AWSStepFunctions.{action}"))
            .body(Full::new(body))?;
        let resp = self.send.send_request(req).await?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }

    /// `GET path`: the status and body (for `/healthz` and `/metrics`).
    pub async fn get(&mut self, path: &str) -> Result<(u16, Bytes), CallError> {
        self.send.ready().await?;
        let req = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header(HOST, self.host.clone())
            .body(Full::new(Bytes::new()))?;
        let resp = self.send.send_request(req).await?;
        let status = resp.status().as_u16();
        Ok((status, resp.into_body().collect().await?.to_bytes()))
    }
}

/// A 200 answer's JSON, or the API's error as [`CallError::Api`].
pub fn parse(action: &str, status: u16, body: &[u8]) -> Result<Value, CallError> {
    let json = |body: &[u8]| {
        serde_json::from_slice::<Value>(body).map_err(|source| CallError::Json {
            action: action.to_string(),
            source,
            body: String::from_utf8_lossy(body).chars().take(200).collect(),
        })
    };
    if status == 200 {
        return json(body);
    }
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let (code, message) = match json(body) {
        // AWS JSON 1.0 may prefix the code with a namespace (`com.amazonaws...#Code`).
        Ok(v) => (text(&v, "__type").rsplit('#').next().unwrap_or_default().to_string(), text(&v, "message")),
        Err(_) => (String::new(), String::from_utf8_lossy(body).chars().take(200).collect()),
    };
    Err(CallError::Api { action: action.to_string(), status, code, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_carry_the_code_without_its_namespace() {
        let body = br#"{"__type":"com.amazonaws.swf.base.model#ExecutionAlreadyExists","message":"Execution Already Exists: 'x'"}"#;
        match parse("StartExecution", 400, body) {
            Err(CallError::Api { status, code, message, .. }) => {
                assert_eq!((status, code.as_str()), (400, "ExecutionAlreadyExists"));
                assert_eq!(message, "Execution Already Exists: 'x'");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_200_answer_is_its_json_and_garbage_is_an_error() {
        assert_eq!(parse("X", 200, br#"{"a":1}"#).unwrap()["a"], 1);
        assert!(matches!(parse("X", 200, b"<html>"), Err(CallError::Json { .. })));
        assert!(matches!(parse("X", 500, b"oops"), Err(CallError::Api { status: 500, .. })));
    }
}
