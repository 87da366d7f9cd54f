//! The fake's protocol handling, by hand-written DynamoDB requests (shapes from DynamoDB's API
//! reference: `X-Amz-Target: DynamoDB_20120810.<Operation>`, awsJson1.0 bodies, errors as
//! `{"__type": …, "message": …}` with status 400), over HTTP, and with boto3 as a real client.

use std::io::{Read, Write};
use std::sync::Arc;

use serde_json::{Value, json};

use super::*;

const PUT: &str = "DynamoDB_20120810.PutItem";
const ITEM_1: &str = r#"{"TableName": "bench-t", "Item": {"pk": {"S": "item-1"}, "v": {"N": "1"}}}"#;

fn error_type(r: &Reply) -> &str {
    r.body["__type"].as_str().unwrap_or("")
}

#[test]
fn a_put_item_with_table_and_item_is_answered_with_an_empty_object_and_counted() {
    let t = Tables::default();
    let r = handle(&t, Some(PUT), ITEM_1.as_bytes());
    assert_eq!(r, Reply { status: 200, body: json!({}) });
    let d = handle(&t, Some("DynamoDB_20120810.DescribeTable"), br#"{"TableName": "bench-t"}"#);
    assert_eq!(d.status, 200);
    assert_eq!(d.body["Table"]["ItemCount"], json!(1));
    assert_eq!(d.body["Table"]["TableName"], json!("bench-t"));
    assert_eq!(t.summary()["bench-t"]["count"], json!(1));
}

#[test]
fn another_operation_or_no_target_is_a_400_unknown_operation() {
    let t = Tables::default();
    for target in [Some("DynamoDB_20120810.Scan"), Some("AmazonSQS.SendMessage"), None] {
        let r = handle(&t, target, ITEM_1.as_bytes());
        assert_eq!(r.status, 400, "{target:?}");
        assert_eq!(error_type(&r), "com.amazon.coral.service#UnknownOperationException", "{target:?}");
        assert!(r.body["message"].is_string());
    }
    assert_eq!(t.summary(), json!({}), "nothing was counted");
}

#[test]
fn malformed_put_items_are_400s_with_dynamodbs_error_types() {
    let t = Tables::default();
    let validation = "com.amazon.coral.validate#ValidationException";
    let cases: [(&str, &str); 6] = [
        ("not json", "com.amazon.coral.service#SerializationException"),
        (r#"{"Item": {"pk": {"S": "a"}}}"#, validation),
        (r#"{"TableName": "bench-t"}"#, validation),
        (r#"{"TableName": "ab", "Item": {"pk": {"S": "a"}}}"#, validation),
        (r#"{"TableName": "bench-t", "Item": {"pk": {"S": "a", "N": "1"}}}"#, validation),
        (r#"{"TableName": "bench-t", "Item": {"pk": "a"}}"#, validation),
    ];
    for (body, kind) in cases {
        let r = handle(&t, Some(PUT), body.as_bytes());
        assert_eq!((r.status, error_type(&r)), (400, kind), "{body}");
    }
    let r = handle(&t, Some("DynamoDB_20120810.DescribeTable"), br#"{"TableName": "never-put"}"#);
    assert_eq!((r.status, error_type(&r)), (400, "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"));
    assert_eq!(t.summary(), json!({}));
}

#[test]
fn a_tables_digest_ignores_call_order_and_attribute_order_but_not_values() {
    let (a, b) = (Tables::default(), Tables::default());
    let first = r#"{"TableName": "bench-t", "Item": {"pk": {"S": "item-1"}, "v": {"N": "1"}}}"#;
    let first_reordered = r#"{"Item": {"v": {"N": "1"}, "pk": {"S": "item-1"}}, "TableName": "bench-t"}"#;
    let second = r#"{"TableName": "bench-t", "Item": {"pk": {"S": "item-2"}, "v": {"N": "2"}}}"#;
    for body in [first, second] {
        assert_eq!(handle(&a, Some(PUT), body.as_bytes()).status, 200);
    }
    for body in [second, first_reordered] {
        assert_eq!(handle(&b, Some(PUT), body.as_bytes()).status, 200);
    }
    assert_eq!(a.summary(), b.summary());
    let items = [json!({"v": {"N": "2"}, "pk": {"S": "item-2"}}), json!({"pk": {"S": "item-1"}, "v": {"N": "1"}})];
    assert_eq!(a.summary()["bench-t"]["digest"], json!(format!("{:016x}", digest_of(&items))));
    let other = [json!({"pk": {"S": "item-1"}, "v": {"N": "1"}}), json!({"pk": {"S": "item-2"}, "v": {"N": "3"}})];
    assert_ne!(digest_of(&items), digest_of(&other));
    assert_ne!(digest(&json!({"v": {"N": "1"}})), digest(&json!({"v": {"S": "1"}})));
}

/// The server on a free loopback port, on a runtime of its own thread.
fn serve() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build().unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            server::serve(listener, Arc::new(Tables::default())).await
        })
    });
    addr
}

/// One HTTP/1.1 request on a fresh connection: (status line, headers lower-cased, body).
fn request(addr: &str, head: &str, body: &str) -> (String, String, Value) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "{head}Host: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    let (status, headers) = head.split_once("\r\n").unwrap();
    (status.to_string(), headers.to_lowercase(), serde_json::from_str(body).unwrap())
}

#[test]
fn over_http_a_signed_put_item_is_200_with_a_request_id_and_a_wrong_target_is_400() {
    let addr = serve();
    let signed = format!(
        "POST / HTTP/1.1\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: {PUT}\r\nX-Amz-Date: \
         20261207T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=bench/20261207/us-east-1/dynamodb/aws4_request, \
         SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000\r\n"
    );
    let (status, headers, body) = request(&addr, &signed, ITEM_1);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(headers.contains("content-type: application/x-amz-json-1.0"), "{headers}");
    assert!(headers.contains("x-amzn-requestid: "), "{headers}");
    assert_eq!(body, json!({}));

    let wrong =
        "POST / HTTP/1.1\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.Query\r\n";
    let (status, _, body) = request(&addr, wrong, ITEM_1);
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert_eq!(body["__type"], json!("com.amazon.coral.service#UnknownOperationException"));

    let (status, _, body) = request(&addr, &format!("GET {} HTTP/1.1\r\n", server::ADMIN_PATH), "");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(body["bench-t"]["count"], json!(1));
}

/// boto3 (from `tools/moto-venv`, installed by the bench when missing) talks to the fake as to
/// DynamoDB: PutItem succeeds, DescribeTable counts it, and an unknown operation is a
/// ClientError with DynamoDB's error code.
#[test]
fn boto3_puts_items_and_reads_the_count_back() {
    let _alone = crate::cpu::REAPING.lock().unwrap_or_else(|p| p.into_inner());
    let addr = serve();
    let python = crate::tools::moto_venv_python().unwrap();
    let code = "import boto3, botocore\n\
                c = boto3.client('dynamodb')\n\
                for i in range(3):\n    c.put_item(TableName='bench-t', Item={'pk': {'S': f'item-{i}'}, 'v': {'N': str(i)}})\n\
                print(c.describe_table(TableName='bench-t')['Table']['ItemCount'])\n\
                try:\n    c.scan(TableName='bench-t')\nexcept botocore.exceptions.ClientError as e:\n    print(e.response['Error']['Code'])\n";
    let out = std::process::Command::new(python)
        .args(["-c", code])
        .env("AWS_ENDPOINT_URL", format!("http://{addr}"))
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "3\nUnknownOperationException\n");
}
