//! `url` functions against a real HTTP server on loopback: a minimal HTTP/1.1 server written
//! with tokio here, so that each route can misbehave exactly as a test needs.

mod lambda_support;

use lambda_support::*;
use serde_json::json;
use shared::asl::eval::TaskRequest;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use worker::integrations::lambda::LAMBDA_INVOKE;

/// An answer: status line, extra headers, body. `None` never answers.
type Answer = Option<(&'static str, Vec<(&'static str, String)>, Vec<u8>)>;

fn route(path: &str, headers: &[(String, String)], body: Vec<u8>) -> Answer {
    let header = |name: &str| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    Some(match path {
        "/echo" => ("200 OK", vec![], body),
        "/context" => {
            let context = json!({
                "content_type": header("content-type"),
                "request_id": header("lambda-runtime-aws-request-id"),
                "deadline_ms": header("lambda-runtime-deadline-ms"),
                "arn": header("lambda-runtime-invoked-function-arn"),
            });
            ("200 OK", vec![], context.to_string().into_bytes())
        }
        "/text" => ("200 OK", vec![], b"plain text".to_vec()),
        "/error" => {
            ("500 Internal Server Error", vec![], br#"{"errorType":"OutOfStock","errorMessage":"none"}"#.to_vec())
        }
        "/header-error" => (
            "200 OK",
            vec![("X-Amz-Function-Error", "Unhandled".into())],
            br#"{"errorType":"Boom","errorMessage":"bad"}"#.to_vec(),
        ),
        "/gateway" => ("502 Bad Gateway", vec![], b"upstream down".to_vec()),
        "/big" => ("200 OK", vec![], vec![b'x'; 50_000]),
        // Without Content-Length: the body ends when the connection closes.
        "/stream" => ("200 OK", vec![("Content-Length", String::new())], vec![b'x'; 50_000]),
        _ => return None,
    })
}

/// Serves [`route`] on 127.0.0.1 and returns the base URL.
async fn server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                let mut line = String::new();
                stream.read_line(&mut line).await.unwrap();
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let mut headers = Vec::new();
                loop {
                    line.clear();
                    stream.read_line(&mut line).await.unwrap();
                    let Some((name, value)) = line.trim_end().split_once(':') else { break };
                    headers.push((name.to_string(), value.trim().to_string()));
                }
                let length = headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                    .map_or(0, |(_, v)| v.parse().unwrap());
                let mut body = vec![0; length];
                stream.read_exact(&mut body).await.unwrap();
                let Some((status, extra, body)) = route(&path, &headers, body) else {
                    // Holds the connection open without answering.
                    std::future::pending::<()>().await;
                    return;
                };
                let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
                if !extra.iter().any(|(name, _)| *name == "Content-Length") {
                    head.push_str(&format!("Content-Length: {}\r\n", body.len()));
                }
                for (name, value) in extra.into_iter().filter(|(name, _)| *name != "Content-Length") {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let stream = stream.get_mut();
                stream.write_all(head.as_bytes()).await.unwrap();
                stream.write_all(&body).await.unwrap();
                stream.shutdown().await.unwrap();
            });
        }
    });
    base
}

async fn url_lambda(routes: &[(&str, &str)], extra: &str) -> (tempfile::TempDir, worker::integrations::lambda::Lambda) {
    let base = server().await;
    let text: String =
        routes.iter().map(|(name, path)| format!("[functions.{name}]\nurl = \"{base}{path}\"\n{extra}\n")).collect();
    lambda_with_limit(&text, Some(10_000))
}

#[tokio::test]
async fn the_event_is_posted_as_json_and_the_body_is_the_result() {
    let (_dir, lambda) = url_lambda(&[("echo", "/echo"), ("text", "/text")], "").await;
    let event = json!({"order": 7, "lines": [{"sku": "a"}]});
    assert_eq!(call(&lambda, "echo", event.clone()).await, Ok(event));
    let input = json!({"FunctionName": "text", "Payload": {}});
    let got = lambda.invoke(request(LAMBDA_INVOKE, input)).await.unwrap();
    assert_eq!(got["Payload"], "plain text", "a non-JSON body is a string Payload");
}

#[tokio::test]
async fn the_request_carries_the_lambda_runtime_context_headers() {
    let (_dir, lambda) = url_lambda(&[("ctx", "/context")], "").await;
    let input = json!({"FunctionName": "ctx:live", "Payload": {}});
    let got = lambda.invoke(request(LAMBDA_INVOKE, input)).await.unwrap();
    let context = &got["Payload"];
    assert_eq!(context["content_type"], "application/json");
    assert_eq!(context["request_id"], got["SdkResponseMetadata"]["RequestId"]);
    assert_eq!(context["arn"], "arn:aws:lambda:eu-west-1:111111111111:function:ctx:live");
    assert!(context["deadline_ms"].as_str().unwrap().parse::<u64>().is_ok());
}

#[tokio::test]
async fn function_errors_come_from_an_error_body_or_the_function_error_header() {
    let (_dir, lambda) = url_lambda(&[("error", "/error"), ("header", "/header-error")], "").await;
    let (error, cause) = error_of(call(&lambda, "error", json!({})).await);
    assert_eq!((error.as_str(), &cause["errorMessage"]), ("OutOfStock", &json!("none")));
    let (error, cause) = error_of(call(&lambda, "header", json!({})).await);
    assert_eq!((error.as_str(), &cause["errorType"]), ("Boom", &json!("Boom")));
    assert!(cause["requestId"].is_string());
}

#[tokio::test]
async fn any_other_failed_status_is_lambda_unknown_with_the_body() {
    let (_dir, lambda) = url_lambda(&[("gateway", "/gateway")], "").await;
    let failure = call(&lambda, "gateway", json!({})).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("Lambda.Unknown"));
    let cause = failure.cause.unwrap();
    assert!(cause.contains("502 Bad Gateway") && cause.contains("upstream down"), "{cause}");
}

#[tokio::test]
async fn a_server_that_does_not_answer_times_out() {
    let (_dir, lambda) = url_lambda(&[("hang", "/hang")], "timeout_seconds = 1").await;
    let (error, cause) = error_of(call(&lambda, "hang", json!({})).await);
    assert_eq!(error, "Sandbox.Timedout");
    assert_eq!(cause["errorType"], "Sandbox.Timedout");
    let (_dir, lambda) = url_lambda(&[("hang", "/hang")], "").await;
    let request = TaskRequest { timeout_seconds: 1, ..request(&arn("hang"), json!({})) };
    assert_eq!(lambda.invoke(request).await.unwrap_err().error.as_deref(), Some("States.Timeout"));
}

#[tokio::test]
async fn a_body_over_the_limit_fails_the_call() {
    let (_dir, lambda) = url_lambda(&[("big", "/big"), ("stream", "/stream")], "").await;
    assert_eq!(error_of(call(&lambda, "big", json!({})).await).0, "States.DataLimitExceeded");
    assert_eq!(error_of(call(&lambda, "stream", json!({})).await).0, "States.DataLimitExceeded");
}

#[tokio::test]
async fn an_unreachable_server_is_an_sdk_client_exception() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let (_dir, lambda) = lambda(&format!("[functions.down]\nurl = \"http://{addr}/\"\n"));
    let failure = call(&lambda, "down", json!({})).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("Lambda.SdkClientException"));
    let cause: String = failure.cause.unwrap();
    assert!(cause.contains(&addr.to_string()), "{cause}");
}
