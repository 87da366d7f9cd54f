//! How the HTTP Task fails: status codes, sockets, timeouts, the allow-list, the response
//! limit, and parameters it cannot use — each with its error name, and without a request
//! reaching the server when the failure is decided beforehand.

mod http_support;

use std::time::Duration;

use http_support::{Reply, Server, closed_port_url, config, get, open, task};
use serde_json::{Value, json};
use shared::asl::error_name::Failure;
use shared::asl::resource::Resource;
use worker::integrations::http::{ERROR_BODY_BYTES, Http};

fn error(failure: &Failure) -> &str {
    failure.error.as_deref().unwrap_or("")
}

fn cause_json(failure: &Failure) -> Value {
    serde_json::from_str(failure.cause.as_deref().unwrap()).expect("a JSON cause")
}

#[tokio::test]
async fn non_2xx_statuses_fail_with_their_code_and_the_response_as_cause() {
    let cases = [
        (
            Reply::json(404, json!({"message": "no such item"})),
            "States.Http.StatusCode.404",
            json!({"message": "no such item"}),
        ),
        (Reply::text(500, "boom"), "States.Http.StatusCode.500", json!("boom")),
        (Reply::json(429, json!({})).header("retry-after", "3"), "States.Http.StatusCode.429", json!({})),
    ];
    for (reply, name, body) in cases {
        let server = Server::always(reply).await;
        let failure = open().invoke(task(get(&server.url("/x")))).await.unwrap_err();
        assert_eq!(error(&failure), name);
        let cause = cause_json(&failure);
        assert_eq!(cause["ResponseBody"], body, "{name}");
        assert_eq!(cause["StatusCode"].as_u64(), name.rsplit('.').next().unwrap().parse().ok());
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let mut server = Server::always(Reply::bytes(302, "").header("location", "http://example.com/elsewhere")).await;
    let failure = open().invoke(task(get(&server.url("/old")))).await.unwrap_err();
    assert_eq!(error(&failure), "States.Http.StatusCode.302");
    assert_eq!(cause_json(&failure)["Headers"]["location"], json!(["http://example.com/elsewhere"]));
    server.request();
    assert!(server.saw_nothing());
}

#[tokio::test]
async fn a_large_error_page_stays_a_status_failure_with_its_body_cut() {
    let server = Server::always(Reply::text(503, &"e".repeat(100_000))).await;
    let failure = open().invoke(task(get(&server.url("/")))).await.unwrap_err();
    assert_eq!(error(&failure), "States.Http.StatusCode.503");
    let body = cause_json(&failure)["ResponseBody"].as_str().unwrap().len();
    assert_eq!(body, ERROR_BODY_BYTES);
    assert!(failure.cause.unwrap().len() < 32_768);
}

#[tokio::test]
async fn a_refused_connection_is_a_socket_failure() {
    let url = closed_port_url().await;
    let failure = open().invoke(task(get(&url))).await.unwrap_err();
    assert_eq!(error(&failure), "States.Http.Socket");
    assert!(failure.cause.as_deref().unwrap().contains(&url), "{failure:?}");
}

#[tokio::test]
async fn a_slow_server_hits_the_socket_cap() {
    let server = Server::always(Reply::json(200, json!({})).after(Duration::from_secs(30))).await;
    let http = open().with_socket_timeout(Duration::from_millis(300));
    let failure = http.invoke(task(get(&server.url("/slow")))).await.unwrap_err();
    assert_eq!(error(&failure), "States.Http.Socket");
    assert!(failure.cause.as_deref().unwrap().contains("did not complete within 300ms"), "{failure:?}");
}

#[tokio::test]
async fn a_task_timeout_below_the_cap_is_states_timeout() {
    let server = Server::always(Reply::json(200, json!({})).after(Duration::from_secs(30))).await;
    let mut request = task(get(&server.url("/slow")));
    request.timeout_seconds = 1;
    let failure = open().invoke(request).await.unwrap_err();
    assert_eq!(failure, Failure::named("States.Timeout"));
}

#[tokio::test]
async fn hosts_off_the_allow_list_are_refused_before_connecting() {
    let mut server = Server::always(Reply::json(200, json!({}))).await;
    let elsewhere = Http::new(config("[http]\nallow_hosts = [\"api.example.com\", \"*.127.0.0.1\"]").unwrap());
    let failure = elsewhere.invoke(task(get(&server.url("/")))).await.unwrap_err();
    assert_eq!(error(&failure), "States.Runtime");
    assert!(failure.cause.as_deref().unwrap().contains("'127.0.0.1'"), "{failure:?}");
    assert!(server.saw_nothing());

    let loopback = Http::new(config("[http]\nallow_hosts = [\"127.0.0.1\"]").unwrap());
    assert_eq!(loopback.invoke(task(get(&server.url("/")))).await.unwrap()["StatusCode"], 200);
}

#[tokio::test]
async fn response_bodies_over_the_limit_fail() {
    let big = "x".repeat(300 * 1024);
    let server = Server::always(Reply::text(200, &big)).await;
    // AWS's 256 KiB by default, found from Content-Length.
    let failure = open().invoke(task(get(&server.url("/")))).await.unwrap_err();
    assert_eq!(error(&failure), "States.DataLimitExceeded");
    assert!(failure.cause.as_deref().unwrap().contains("262144 bytes"), "{failure:?}");
    // Lifted, the body arrives whole.
    let result = open().with_max_response_bytes(None).invoke(task(get(&server.url("/")))).await.unwrap();
    assert_eq!(result["ResponseBody"].as_str().unwrap().len(), big.len());
    // Within a smaller limit, a small body passes.
    let small = Server::always(Reply::text(200, "tiny")).await;
    let http = open().with_max_response_bytes(Some(4));
    assert_eq!(http.invoke(task(get(&small.url("/")))).await.unwrap()["ResponseBody"], "tiny");
}

#[tokio::test]
async fn without_payload_limits_a_body_still_has_a_ceiling() {
    // Probe M5: with --no-payload-limits a 1.3 GB body was read whole (3.9 GB RSS).
    let server = Server::always(Reply::bytes(200, vec![b'y'; (64 << 20) + 1])).await;
    // Matched rather than unwrapped: a failure must not print 64 MiB.
    let Err(failure) = open().with_max_response_bytes(None).invoke(task(get(&server.url("/")))).await else {
        panic!("a body over the ceiling was accepted")
    };
    assert_eq!(error(&failure), "States.DataLimitExceeded");
    let cause = failure.cause.as_deref().unwrap();
    assert!(cause.contains("67108864 bytes") && cause.contains("--no-payload-limits"), "{cause}");
}

#[tokio::test]
async fn an_endless_body_is_cut_off_at_the_limit() {
    let server = Server::always(Reply::endless(&[b'z'; 8192])).await;
    let http = open().with_max_response_bytes(Some(64 * 1024));
    let failure = http.invoke(task(get(&server.url("/stream")))).await.unwrap_err();
    assert_eq!(error(&failure), "States.DataLimitExceeded");
}

#[tokio::test]
async fn parameters_it_cannot_use_fail_before_connecting() {
    let mut server = Server::always(Reply::json(200, json!({}))).await;
    let url = server.url("/");
    let cases = [
        (json!({"ApiEndpoint": url}), "Method: required"),
        (json!({"Method": "GET"}), "ApiEndpoint: required"),
        (json!({"ApiEndpoint": url, "Method": "get"}), "Method:"),
        (json!({"ApiEndpoint": "ftp://127.0.0.1/", "Method": "GET"}), "ApiEndpoint:"),
        (json!({"ApiEndpoint": "http://u:p@127.0.0.1/", "Method": "GET"}), "ApiEndpoint:"),
        (json!({"ApiEndpoint": url, "Method": "GET", "Headers": {"Host": "x"}}), "Headers.Host:"),
        (json!({"ApiEndpoint": url, "Method": "GET", "Headers": {"x-amz-date": "x"}}), "Headers.x-amz-date:"),
        (json!({"ApiEndpoint": url, "Method": "GET", "Headers": {"x-obj": {}}}), "Headers.x-obj:"),
        (json!({"ApiEndpoint": url, "Method": "GET", "QueryParameters": {"a": {"b": 1}}}), "QueryParameters.a:"),
        (json!({"ApiEndpoint": url, "Method": "GET", "Timeout": 3}), "Timeout: unknown field"),
        (
            json!({"ApiEndpoint": url, "Method": "GET", "Authentication": {"ConnectionArn": "nope"}}),
            "Authentication.ConnectionArn:",
        ),
        (
            json!({"ApiEndpoint": url, "Method": "POST", "RequestBody": [1],
                   "Transform": {"RequestBodyEncoding": "URL_ENCODED"}}),
            "RequestBody:",
        ),
        (
            json!({"ApiEndpoint": url, "Method": "POST", "RequestBody": {"a": [[1]]},
                   "Transform": {"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": "COMMAS"}}}),
            "RequestBody.a:",
        ),
        (
            json!({"ApiEndpoint": url, "Method": "POST",
                   "Transform": {"RequestEncodingOptions": {"ArrayFormat": "PIPES"}}}),
            "Transform.RequestEncodingOptions.ArrayFormat:",
        ),
    ];
    for (parameters, expected) in cases {
        let failure = open().invoke(task(parameters.clone())).await.unwrap_err();
        assert_eq!(error(&failure), "States.Runtime", "{parameters}");
        let cause = failure.cause.unwrap();
        assert!(cause.starts_with(&format!("the HTTP Task 'Call': {expected}")), "{parameters}\n→ {cause}");
    }
    let mut wrong = task(get(&url));
    wrong.resource = std::sync::Arc::new(Resource::parse("arn:aws:states:::lambda:invoke").expect("a resource"));
    assert_eq!(error(&open().invoke(wrong).await.unwrap_err()), "States.Runtime");
    assert!(server.saw_nothing());
}
