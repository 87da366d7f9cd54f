//! The HTTP Task's request as a real server receives it — method, headers, query, body and
//! every `Transform` — and the result built from the server's answer.

mod http_support;

use http_support::{Reply, Server, get, open, task};
use serde_json::{Value, json};

#[tokio::test]
async fn every_method_reaches_the_server() {
    let mut server = Server::always(Reply::json(200, json!({"ok": true}))).await;
    for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"] {
        let result = open()
            .invoke(task(json!({"ApiEndpoint": server.url("/m"), "Method": method})))
            .await
            .unwrap_or_else(|f| panic!("{method}: {f:?}"));
        assert_eq!(server.request().method, method);
        assert_eq!(result["StatusCode"], 200, "{method}");
        // A HEAD answer has no body, whatever its Content-Type says.
        let body = if method == "HEAD" { json!("") } else { json!({"ok": true}) };
        assert_eq!(result["ResponseBody"], body, "{method}");
    }
}

#[tokio::test]
async fn the_result_has_aws_shape() {
    let reply = Reply::json(201, json!({"id": 7, "tags": ["a"]})).header("x-trace", "one").header("x-trace", "two");
    let server = Server::always(reply).await;
    let result = open().invoke(task(get(&server.url("/items")))).await.unwrap();
    let keys: Vec<&str> = result.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["Headers", "ResponseBody", "StatusCode", "StatusText"]);
    assert_eq!(result["StatusCode"], 201);
    assert_eq!(result["StatusText"], "Created");
    assert_eq!(result["ResponseBody"], json!({"id": 7, "tags": ["a"]}));
    assert_eq!(result["Headers"]["x-trace"], json!(["one", "two"]));
    assert_eq!(result["Headers"]["content-type"], json!(["application/json"]));
}

#[tokio::test]
async fn response_bodies_that_are_not_json_stay_strings() {
    let cases = [
        (Reply::text(200, "plain words"), json!("plain words")),
        (Reply::bytes(200, "{\"a\":1}"), json!("{\"a\":1}")),
        (Reply::bytes(200, "{not json").header("content-type", "application/json"), json!("{not json")),
        (Reply::bytes(200, "{\"a\":1}").header("content-type", "application/problem+json"), json!({"a": 1})),
        (Reply::bytes(200, &b"caf\xe9"[..]).header("content-type", "text/plain"), json!("caf\u{fffd}")),
    ];
    for (reply, expected) in cases {
        let server = Server::always(reply).await;
        let result = open().invoke(task(get(&server.url("/")))).await.unwrap();
        assert_eq!(result["ResponseBody"], expected);
    }
}

#[tokio::test]
async fn headers_are_sent_as_written() {
    let mut server = Server::always(Reply::json(200, json!({}))).await;
    let parameters = json!({
        "ApiEndpoint": server.url("/h"),
        "Method": "GET",
        "Headers": {"X-One": "1", "x-number": 5, "x-flag": true, "x-many": ["a", "b"], "Accept": "application/json"}
    });
    open().invoke(task(parameters)).await.unwrap();
    let received = server.request();
    assert_eq!(received.header("x-one"), Some("1"));
    assert_eq!(received.header("x-number"), Some("5"));
    assert_eq!(received.header("x-flag"), Some("true"));
    assert_eq!(received.header_values("x-many"), ["a", "b"]);
    assert_eq!(received.header("accept"), Some("application/json"));
}

#[tokio::test]
async fn query_parameters_extend_the_endpoint_query() {
    let mut server = Server::always(Reply::json(200, json!({}))).await;
    let parameters = json!({
        "ApiEndpoint": server.url("/search?fixed=1"),
        "Method": "GET",
        "QueryParameters": {"q": "a b&c", "ids": [1, 2], "flag": true, "empty": null}
    });
    open().invoke(task(parameters)).await.unwrap();
    assert_eq!(server.request().query(), "fixed=1&q=a%20b%26c&ids=1&ids=2&flag=true&empty=");
}

#[tokio::test]
async fn json_bodies_are_sent_as_json() {
    let mut server = Server::always(Reply::json(200, json!({}))).await;
    let body = json!({"name": "x", "list": [1, true, null], "nested": {"k": "v"}});
    let parameters = json!({"ApiEndpoint": server.url("/b"), "Method": "POST", "RequestBody": body});
    open().invoke(task(parameters)).await.unwrap();
    let received = server.request();
    assert_eq!(received.body_text(), r#"{"name":"x","list":[1,true,null],"nested":{"k":"v"}}"#);
    assert_eq!(received.header("content-type"), Some("application/json"));

    // A Content-Type from the definition wins; a string is sent as it is.
    let parameters = json!({
        "ApiEndpoint": server.url("/b"),
        "Method": "PUT",
        "Headers": {"Content-Type": "application/vnd.api+json"},
        "RequestBody": "{\"raw\": true}"
    });
    open().invoke(task(parameters)).await.unwrap();
    let received = server.request();
    assert_eq!(received.body_text(), "{\"raw\": true}");
    assert_eq!(received.header("content-type"), Some("application/vnd.api+json"));

    let parameters = json!({"ApiEndpoint": server.url("/b"), "Method": "POST", "RequestBody": "just text"});
    open().invoke(task(parameters)).await.unwrap();
    let received = server.request();
    assert_eq!(received.body_text(), "just text");
    assert_eq!(received.header("content-type"), Some("text/plain; charset=UTF-8"));
}

/// `{"array": ["a","b","c"], "obj": {"k": "v w"}, "n": 1}` under every `ArrayFormat`; the
/// expected bytes are what `qs.stringify(body, {arrayFormat})` writes.
#[tokio::test]
async fn url_encoded_bodies_follow_each_array_format() {
    let mut server = Server::always(Reply::json(200, json!({}))).await;
    let body = json!({"array": ["a", "b", "c"], "obj": {"k": "v w"}, "n": 1});
    let cases = [
        (
            json!({"RequestBodyEncoding": "URL_ENCODED"}),
            "array%5B0%5D=a&array%5B1%5D=b&array%5B2%5D=c&obj%5Bk%5D=v%20w&n=1",
        ),
        (with_format("INDICES"), "array%5B0%5D=a&array%5B1%5D=b&array%5B2%5D=c&obj%5Bk%5D=v%20w&n=1"),
        (with_format("REPEAT"), "array=a&array=b&array=c&obj%5Bk%5D=v%20w&n=1"),
        (with_format("COMMAS"), "array=a%2Cb%2Cc&obj%5Bk%5D=v%20w&n=1"),
        (with_format("BRACKETS"), "array%5B%5D=a&array%5B%5D=b&array%5B%5D=c&obj%5Bk%5D=v%20w&n=1"),
    ];
    for (transform, expected) in cases {
        let parameters = json!({
            "ApiEndpoint": server.url("/form"),
            "Method": "POST",
            // The encoding decides the Content-Type, whatever the definition says.
            "Headers": {"Content-Type": "application/json"},
            "RequestBody": body,
            "Transform": transform
        });
        open().invoke(task(parameters)).await.unwrap();
        let received = server.request();
        assert_eq!(received.body_text(), expected, "{transform}");
        assert_eq!(received.header_values("content-type"), ["application/x-www-form-urlencoded"]);
    }
}

#[tokio::test]
async fn url_encoding_leaves_strings_and_none_alone() {
    let mut server = Server::always(Reply::json(200, json!({}))).await;
    let parameters = json!({
        "ApiEndpoint": server.url("/form"),
        "Method": "POST",
        "RequestBody": "already=encoded&x=1",
        "Transform": {"RequestBodyEncoding": "URL_ENCODED"}
    });
    open().invoke(task(parameters)).await.unwrap();
    assert_eq!(server.request().body_text(), "already=encoded&x=1");

    let parameters = json!({
        "ApiEndpoint": server.url("/json"),
        "Method": "POST",
        "RequestBody": {"array": [1]},
        "Transform": {"RequestBodyEncoding": "NONE", "RequestEncodingOptions": {"ArrayFormat": "BRACKETS"}}
    });
    open().invoke(task(parameters)).await.unwrap();
    let received = server.request();
    assert_eq!(received.body_text(), r#"{"array":[1]}"#);
    assert_eq!(received.header("content-type"), Some("application/json"));
}

fn with_format(format: &str) -> Value {
    json!({"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": format}})
}
