//! boto3 and the AWS CLI (pinned, from `scripts/install-moto`) against a loopback HTTP server
//! that checks every request with a [`Policy`] and answers refusals in AWS JSON 1.0's error shape:
//! real clients' requests, with every header they send, verify; and the clients read dmap's
//! refusals as the AWS error codes and messages they would get from AWS.
//!
//! The server is a few lines of HTTP/1.1 over std's `TcpListener`, enough for these clients;
//! the API's real server is `serve::http`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;

use super::{AccessKeys, Policy};

const KEY: &str = "AKIDDMAPTEST";
const SECRET: &str = "dmap-test-secret/with+symbols";

/// Starts a server on a free loopback port that verifies with `policy`; returns its URL.
fn serve(policy: Policy) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let policy = std::sync::Arc::new(policy);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let policy = policy.clone();
            std::thread::spawn(move || connection(stream, &policy));
        }
    });
    url
}

/// Answers the requests of one keep-alive connection until the client closes it.
fn connection(stream: TcpStream, policy: &Policy) {
    let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
        let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).expect("a header line");
            let h = h.trim_end_matches(['\r', '\n']);
            if h.is_empty() {
                break;
            }
            let (name, value) = h.split_once(':').expect("name: value");
            headers.push((name.to_owned(), value.trim().as_bytes().to_vec()));
        }
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| String::from_utf8_lossy(v).parse().expect("a length"));
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("the body");
        let pairs = headers.iter().map(|(n, v)| (n.as_str(), v.as_slice()));
        let (status, json) = match policy.check(&method, &target, pairs, &body) {
            Ok(()) => (200, r#"{"stateMachines":[]}"#.to_owned()),
            Err(e) => (e.status(), serde_json::json!({"__type": e.code(), "message": e.message()}).to_string()),
        };
        let response = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{json}",
            json.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn verifying_server() -> String {
    let keys = AccessKeys::new([(KEY, SECRET)]).unwrap();
    serve(Policy::decide("127.0.0.1:8083".parse().unwrap(), Some(keys), false, "us-east-1").unwrap())
}

/// Runs a Python snippet with boto3 (`URL` is set to `url`) and returns its stdout.
fn python(url: &str, code: &str) -> String {
    let out = Command::new(testkit::moto_venv().join("bin/python"))
        .arg("-c")
        .arg(format!("URL = {url:?}\n{code}"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .expect("python from the moto venv");
    assert!(out.status.success(), "boto3 snippet failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn boto3_calls_pass_with_a_configured_key_and_read_each_refusal_as_aws_error() {
    let url = verifying_server();
    let out = python(
        &url,
        &format!(
            r#"
import boto3, botocore, json
from botocore.config import Config
def call(key, secret, region="us-east-1", unsigned=False):
    config = Config(retries={{"max_attempts": 1}}, signature_version=botocore.UNSIGNED if unsigned else None)
    c = boto3.client("stepfunctions", endpoint_url=URL, region_name=region, aws_access_key_id=key,
                     aws_secret_access_key=secret, config=config)
    try:
        return ["ok", len(c.list_state_machines()["stateMachines"])]
    except botocore.exceptions.ClientError as e:
        return [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Message"]]
print(json.dumps([
    call("{KEY}", "{SECRET}"),
    call("{KEY}", "wrong"),
    call("AKIDUNKNOWN", "{SECRET}"),
    call("{KEY}", "{SECRET}", region="eu-west-1"),
    call("{KEY}", "{SECRET}", unsigned=True),
]))
"#
        ),
    );
    let got: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON from the snippet");
    let mismatch = "The request signature we calculated does not match the signature you provided. Check your AWS \
                    Secret Access Key and signing method. Consult the service documentation for details.";
    assert_eq!(
        got,
        serde_json::json!([
            ["ok", 0],
            ["InvalidSignatureException", 400, mismatch],
            ["UnrecognizedClientException", 400, "The security token included in the request is invalid."],
            ["InvalidSignatureException", 400, "Credential should be scoped to a valid region, not 'eu-west-1'. "],
            ["MissingAuthenticationTokenException", 400, "Request is missing Authentication Token"],
        ])
    );
}

#[test]
fn the_aws_cli_passes_with_a_configured_key_and_reports_a_wrong_one_as_aws_does() {
    let url = verifying_server();
    let cli = |secret: &str| {
        Command::new(testkit::moto_venv().join("bin/aws"))
            .args(["stepfunctions", "list-state-machines", "--endpoint-url", &url, "--output", "json"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_ACCESS_KEY_ID", KEY)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_MAX_ATTEMPTS", "1")
            .output()
            .expect("the aws CLI from the moto venv")
    };
    let ok = cli(SECRET);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let listed: serde_json::Value = serde_json::from_slice(&ok.stdout).expect("JSON output");
    assert_eq!(listed, serde_json::json!({"stateMachines": []}));
    let refused = cli("wrong");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(
            "An error occurred (InvalidSignatureException) when calling the ListStateMachines operation: The request \
             signature we calculated does not match the signature you provided."
        ),
        "{stderr}"
    );
}
