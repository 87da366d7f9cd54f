//! `Authentication.ConnectionArn`: each kind of connection sends its secret, read from the
//! environment, in the header the server checks; the secret never shows in a failure or in
//! `Debug` output; and a functions file that gets connections wrong is refused, naming the key.
//!
//! Tests that need a secret in the environment run again in a child process that has it (see
//! `http_support::rerun_with_env`); each uses its own variable names.

mod http_support;

use http_support::{Reply, Server, config, connection_arn, in_child, rerun_with_env, task};
use serde_json::{Value, json};
use worker::integrations::http::Http;

/// A server that answers 200 only when `header` is `expected`, 401 otherwise.
async fn guarded(header: &'static str, expected: &'static str) -> Server {
    Server::start(move |request| match request.header(header) {
        Some(value) if value == expected => Reply::json(200, json!({"welcome": true})),
        _ => Reply::json(401, json!({"message": "Unauthorized"})),
    })
    .await
}

fn through(connection: &str, url: &str) -> Value {
    json!({
        "ApiEndpoint": url,
        "Method": "GET",
        "Authentication": {"ConnectionArn": connection_arn(connection)}
    })
}

#[tokio::test]
async fn api_key_connections_send_the_key_in_their_header() {
    if !in_child() {
        return rerun_with_env(
            "api_key_connections_send_the_key_in_their_header",
            &[("DMAP_T_HTTP_APIKEY_1", "k-8d7f-secret")],
        );
    }
    let mut server = guarded("x-api-key", "k-8d7f-secret").await;
    let config = config(
        r#"
        [connections.payments]
        api_key = { header = "x-api-key", value_env = "DMAP_T_HTTP_APIKEY_1" }
        "#,
    )
    .unwrap();
    let http = Http::new(config);
    // The connection's header replaces one of the same name from the definition.
    let mut parameters = through("payments", &server.url("/pay"));
    parameters["Headers"] = json!({"X-Api-Key": "from-the-definition"});
    let result = http.invoke(task(parameters)).await.unwrap();
    assert_eq!(result["ResponseBody"], json!({"welcome": true}));
    assert_eq!(server.request().header_values("x-api-key"), ["k-8d7f-secret"]);

    // Neither a failure's cause nor Debug output shows the secret.
    let closed = http_support::closed_port_url().await;
    let failure = http.invoke(task(through("payments", &closed))).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("States.Http.Socket"));
    assert!(!format!("{failure:?}").contains("k-8d7f-secret"), "{failure:?}");
    assert!(!format!("{http:?}").contains("k-8d7f-secret"));
}

#[tokio::test]
async fn basic_connections_send_basic_credentials() {
    if !in_child() {
        let vars = [("DMAP_T_HTTP_BASIC_USER_1", "aladdin"), ("DMAP_T_HTTP_BASIC_PASS_1", "open sesame")];
        return rerun_with_env("basic_connections_send_basic_credentials", &vars);
    }
    let mut server = guarded("authorization", "Basic YWxhZGRpbjpvcGVuIHNlc2FtZQ==").await;
    let config = config(
        r#"
        [connections.ledger]
        basic = { username_env = "DMAP_T_HTTP_BASIC_USER_1", password_env = "DMAP_T_HTTP_BASIC_PASS_1" }
        "#,
    )
    .unwrap();
    let result = Http::new(config).invoke(task(through("ledger", &server.url("/")))).await.unwrap();
    assert_eq!(result["StatusCode"], 200);
    assert_eq!(server.request().header_values("authorization").len(), 1);
}

#[tokio::test]
async fn bearer_connections_send_the_token() {
    if !in_child() {
        return rerun_with_env("bearer_connections_send_the_token", &[("DMAP_T_HTTP_BEARER_1", "tok.en-42")]);
    }
    let mut server = guarded("authorization", "Bearer tok.en-42").await;
    let config = config("[connections.search]\nbearer = { token_env = \"DMAP_T_HTTP_BEARER_1\" }").unwrap();
    let result = Http::new(config).invoke(task(through("search", &server.url("/q")))).await.unwrap();
    assert_eq!(result["StatusCode"], 200);
    server.request();
}

#[tokio::test]
async fn a_wrong_secret_is_a_status_failure() {
    if !in_child() {
        return rerun_with_env("a_wrong_secret_is_a_status_failure", &[("DMAP_T_HTTP_BEARER_2", "stale")]);
    }
    let server = guarded("authorization", "Bearer fresh").await;
    let config = config("[connections.search]\nbearer = { token_env = \"DMAP_T_HTTP_BEARER_2\" }").unwrap();
    let failure = Http::new(config).invoke(task(through("search", &server.url("/q")))).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("States.Http.StatusCode.401"));
}

#[tokio::test]
async fn an_unset_secret_fails_before_connecting() {
    let mut server = guarded("x-api-key", "never").await;
    let config =
        config("[connections.p]\napi_key = { header = \"x-api-key\", value_env = \"DMAP_T_HTTP_NEVER_SET_1\" }");
    let failure = Http::new(config.unwrap()).invoke(task(through("p", &server.url("/")))).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("States.Runtime"));
    let cause = failure.cause.unwrap();
    assert!(cause.contains("'DMAP_T_HTTP_NEVER_SET_1'") && cause.contains("'p'"), "{cause}");
    assert!(server.saw_nothing());
}

#[tokio::test]
async fn an_empty_secret_fails_before_connecting_like_an_unset_one() {
    // The probe's L5: an empty variable sent an empty `x-api-key` header.
    if !in_child() {
        let vars = [("DMAP_T_HTTP_EMPTY_1", ""), ("DMAP_T_HTTP_EMPTY_USER_1", "aladdin"), ("DMAP_T_HTTP_EMPTY_2", "")];
        return rerun_with_env("an_empty_secret_fails_before_connecting_like_an_unset_one", &vars);
    }
    let mut server = guarded("x-api-key", "").await;
    let config = config(
        r#"
        [connections.p]
        api_key = { header = "x-api-key", value_env = "DMAP_T_HTTP_EMPTY_1" }
        [connections.b]
        basic = { username_env = "DMAP_T_HTTP_EMPTY_USER_1", password_env = "DMAP_T_HTTP_EMPTY_2" }
        [connections.t]
        bearer = { token_env = "DMAP_T_HTTP_EMPTY_2" }
        "#,
    )
    .unwrap();
    let http = Http::new(config);
    for (connection, variable) in
        [("p", "DMAP_T_HTTP_EMPTY_1"), ("b", "DMAP_T_HTTP_EMPTY_2"), ("t", "DMAP_T_HTTP_EMPTY_2")]
    {
        let failure = http.invoke(task(through(connection, &server.url("/")))).await.unwrap_err();
        assert_eq!(failure.error.as_deref(), Some("States.Runtime"), "{connection}: {failure:?}");
        let cause = failure.cause.unwrap();
        assert!(cause.contains(&format!("'{variable}'")) && cause.contains(&format!("'{connection}'")), "{cause}");
        assert!(cause.contains("empty"), "{cause}");
    }
    assert!(server.saw_nothing());
}

#[tokio::test]
async fn an_unknown_connection_fails_naming_it() {
    let mut server = guarded("x-api-key", "never").await;
    let config = config("[connections.known]\nbearer = { token_env = \"DMAP_T_HTTP_UNUSED_1\" }").unwrap();
    let failure = Http::new(config).invoke(task(through("missing", &server.url("/")))).await.unwrap_err();
    assert_eq!(failure.error.as_deref(), Some("States.Runtime"));
    assert!(failure.cause.as_deref().unwrap().contains("'missing'"), "{failure:?}");
    assert!(server.saw_nothing());
}

#[test]
fn functions_files_that_get_connections_wrong_are_refused_naming_the_key() {
    let cases = [
        ("[connections.a]\napi_key = { header = \"x-api-key\", value = \"plain\" }", "connections.a.api_key.value:"),
        ("[connections.a]\napi_key = { header = \"bad header\", value_env = \"K\" }", "connections.a.api_key.header:"),
        ("[connections.a]\napi_key = { value_env = \"K\" }", "connections.a.api_key.header: missing"),
        ("[connections.a]\nbasic = { username_env = \"U\" }", "connections.a.basic.password_env: missing"),
        ("[connections.a]\nbearer = { token_env = 7 }", "connections.a.bearer.token_env: expected a string"),
        ("[connections.a]\nbearer = { token_env = \"A=B\" }", "connections.a.bearer.token_env:"),
        ("[connections.a]\nbearer = \"T\"", "connections.a.bearer: expected a table"),
        ("[connections.a]", "connections.a: needs one of"),
        (
            "[connections.a]\nbearer = { token_env = \"T\" }\nbasic = { username_env = \"U\", password_env = \"P\" }",
            "connections.a:",
        ),
        ("[connections.a]\noauth = {}", "connections.a.oauth:"),
        ("[connections.a]\nkind = \"api_key\"", "connections.a.kind: unknown key"),
        ("[connections.\"bad/name\"]\nbearer = { token_env = \"T\" }", "connections.bad/name:"),
        ("[http]\nallow_hosts = [\"https://api.example.com\"]", "http.allow_hosts[0]:"),
        ("[http]\nallow_hosts = [\"ok.example.com\", \"api.example.com:443\"]", "http.allow_hosts[1]:"),
        ("[http]\nallow_hosts = \"api.example.com\"", "http.allow_hosts:"),
        ("[http]\nallow_host = []", "http.allow_host: unknown key"),
    ];
    for (text, expected) in cases {
        let error = config(text).unwrap_err();
        assert!(error.starts_with(expected), "{text}\n→ {error}");
    }
}

#[test]
fn a_well_formed_file_loads_every_kind() {
    let config = config(
        r#"
        [connections.a]
        api_key = { header = "X-Key", value_env = "A_KEY" }
        [connections.b]
        basic = { username_env = "B_USER", password_env = "B_PASS" }
        [connections.c]
        bearer = { token_env = "C_TOKEN" }
        [http]
        allow_hosts = ["Example.COM", "*.internal", "[::1]", "127.0.0.1"]
        "#,
    )
    .unwrap();
    assert!(config.connection("a").is_some() && config.connection("b").is_some() && config.connection("c").is_some());
    assert!(config.connection("d").is_none());
    assert_eq!(config.allow_hosts().unwrap(), ["example.com", "*.internal", "::1", "127.0.0.1"]);
}
