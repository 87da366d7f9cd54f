//! IAM roles for service accounts (IRSA), offline: `dmap run` given only what EKS injects into
//! a pod (`AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_REGION`, `AWS_DEFAULT_REGION`,
//! `AWS_STS_REGIONAL_ENDPOINTS`; no keys, no profile) exchanges the token with STS
//! (AssumeRoleWithWebIdentity) and reads and writes S3 with the temporary credentials it gets.
//!
//! STS is a fake over HTTPS on 127.0.0.1 (object_store talks to STS over HTTPS only), with a
//! certificate from a throw-away CA that `dmap` trusts through `SSL_CERT_FILE`, reached with
//! `AWS_ENDPOINT_URL_STS`. It grants credentials only for the expected role and token, and logs
//! every request. S3 is the in-process s3s-fs server, accepting only the granted key pair and
//! session token, so a run that succeeds can only have used the exchanged credentials. A
//! wrong token is refused by STS, and the run then fails, naming the problem, writing nothing.

mod support;

#[path = "support/s3.rs"]
mod s3;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use support::dmap::{Ran, Run, read_results};
use testkit::pki;

const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/dmap-irsa-test";
/// A JWT-shaped projected service account token (header.payload.signature, base64url).
const TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImRtYXAtdGVzdCJ9.eyJhdWQiOlsic3RzLmFtYXpvbmF3cy5jb20iXSwic3ViIjoic3lz\
                     dGVtOnNlcnZpY2VhY2NvdW50OmRtYXA6ZG1hcCJ9.ZG1hcC1pcnNhLXRlc3Qtc2lnbmF0dXJl";
const ACCESS_KEY: &str = "ASIAIRSATESTKEY00001";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYIRSATEST";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEIRSA//test/session+token==";
const ITEMS: u64 = 25;

/// The fake STS: argv is cert, key, log, role ARN, token, access key, secret key, session token.
/// It prints its port, then serves; each request is logged (one JSON line) before the answer.
const FAKE_STS: &str = r#"
import datetime, json, ssl, sys, threading, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
cert, key, log, role, token, access, secret, session = sys.argv[1:9]
NS = "https://sts.amazonaws.com/doc/2011-06-15/"
lock = threading.Lock()

class Sts(BaseHTTPRequestHandler):
    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        params.update(urllib.parse.parse_qsl(body, keep_blank_values=True))
        granted = (self.command == "POST" and params.get("Action") == "AssumeRoleWithWebIdentity"
                   and params.get("RoleArn") == role and params.get("WebIdentityToken") == token)
        with lock, open(log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": url.path, "params": params, "granted": granted}) + "\n")
        if granted:
            expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
            self.reply(200, f'<AssumeRoleWithWebIdentityResponse xmlns="{NS}"><AssumeRoleWithWebIdentityResult>'
                f'<SubjectFromWebIdentityToken>system:serviceaccount:dmap:dmap</SubjectFromWebIdentityToken>'
                f'<AssumedRoleUser><Arn>{role}/{params.get("RoleSessionName")}</Arn>'
                f'<AssumedRoleId>AROA:x</AssumedRoleId>'
                f'</AssumedRoleUser><Credentials><AccessKeyId>{access}</AccessKeyId><SecretAccessKey>{secret}'
                f'</SecretAccessKey><SessionToken>{session}</SessionToken><Expiration>'
                f'{expires.strftime("%Y-%m-%dT%H:%M:%SZ")}</Expiration></Credentials><Audience>sts.amazonaws.com'
                f'</Audience></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>1</RequestId>'
                f'</ResponseMetadata></AssumeRoleWithWebIdentityResponse>')
        else:
            code, text = ("InvalidIdentityToken", "Incorrect token audience or signature")
            if params.get("WebIdentityToken") == token:
                code, text = ("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
            self.reply(403, f'<ErrorResponse xmlns="{NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
                f'<Message>{text}</Message></Error><RequestId>2</RequestId></ErrorResponse>')

    do_GET = do_POST

    def reply(self, status, xml):
        data = xml.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Sts)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

/// The fake STS process; killed when dropped, so a failing test leaves nothing running.
struct FakeSts {
    child: Child,
    port: u16,
    log: PathBuf,
    /// The throw-away CA that signed the STS's certificate (for 127.0.0.1), to trust.
    ca: PathBuf,
}

impl FakeSts {
    fn start(dir: &Path) -> FakeSts {
        let mut authority = pki::Authority::new(dir, "irsa");
        let cert = authority.server();
        let script = dir.join("fake_sts.py");
        std::fs::write(&script, FAKE_STS).expect("fake STS script");
        let log = dir.join("sts-requests.jsonl");
        let child = Command::new("python3")
            .arg(&script)
            .args([cert.cert, cert.key, log.clone()])
            .args([ROLE_ARN, TOKEN, ACCESS_KEY, SECRET_KEY, SESSION_TOKEN])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the fake STS");
        let mut sts = FakeSts { child, port: 0, log, ca: authority.ca.cert };
        let mut line = String::new();
        let stdout = sts.child.stdout.take().expect("piped stdout");
        std::io::BufReader::new(stdout).read_line(&mut line).expect("the fake STS's port");
        sts.port = line.trim().parse().unwrap_or_else(|_| panic!("the fake STS did not start: {line:?}"));
        sts
    }

    /// Every request so far: `{method, path, params, granted}`.
    fn requests(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).expect("a JSON log line")).collect()
    }
}

impl Drop for FakeSts {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a Distributed Map over `items/in/items.jsonl` writing results to bucket `results`, both
/// on `s3`, with a pod's IRSA environment, `token` in the token file and `extra` variables.
fn run_in_pod(dir: &Path, sts: &FakeSts, s3: &s3::S3Server, token: &str, extra: &[(&str, &str)]) -> Ran {
    let items: String = (0..ITEMS).map(|i| format!("{}\n", json!({"id": i}))).collect();
    s3.put("items", "in/items.jsonl", items);
    s3.create_bucket("results");
    let definition = json!({"StartAt": "Map", "States": {"Map": {
        "Type": "Map",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
            "Parameters": {"Bucket": "items", "Key": "in/items.jsonl"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"id.$": "$.id"}, "End": true}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "results", "Prefix": "out"}},
        "End": true}}});
    let def = dir.join("irsa.asl.json");
    std::fs::write(&def, definition.to_string()).expect("definition");
    let token_file = dir.join("token");
    std::fs::write(&token_file, token).expect("token file");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let mut run = Run::new(def.to_str().expect("utf-8"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        // What EKS's pod identity webhook injects (it sets no session name).
        .env("AWS_ROLE_ARN", ROLE_ARN)
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
        .env("AWS_STS_REGIONAL_ENDPOINTS", "regional")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        // Only for the test: STS on 127.0.0.1, its CA trusted.
        .env("AWS_ENDPOINT_URL_STS", format!("https://127.0.0.1:{}", sts.port))
        .env("SSL_CERT_FILE", &sts.ca)
        .arg("--bucket")
        .arg(&format!("items={}", s3.endpoint()))
        .arg("--bucket")
        .arg(&format!("results={}", s3.endpoint()));
    for (name, value) in extra {
        run = run.env(name, value);
    }
    run.go()
}

fn irsa_server() -> s3::S3Server {
    s3::S3Server::start_with_keys(ACCESS_KEY, SECRET_KEY, Some(SESSION_TOKEN))
}

/// Files under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").map(|e| e.expect("entry").path()) {
        if entry.is_dir() { out.extend(files(&entry)) } else { out.push(entry) }
    }
    out
}

#[test]
fn a_pod_with_irsa_reads_and_writes_s3_with_credentials_from_sts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sts = FakeSts::start(dir.path());
    let s3 = irsa_server();
    // A pod may carry AWS_ENDPOINT_URL_S3 for other tools; a bucket mapped to an endpoint with
    // --bucket must still go there (the variable used to override the mapping).
    let ran = run_in_pod(dir.path(), &sts, &s3, TOKEN, &[("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")]);
    assert_eq!(ran.code, 0, "stdout: {}\nstderr: {}", ran.stdout, ran.stderr);

    // One exchange per bucket (each bucket's store caches its credentials until near expiry).
    let requests = sts.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    for r in &requests {
        assert_eq!((&r["method"], &r["path"], &r["granted"]), (&json!("POST"), &json!("/"), &json!(true)), "{r}");
        let p = &r["params"];
        assert_eq!(p["Action"], "AssumeRoleWithWebIdentity");
        assert_eq!(p["Version"], "2011-06-15");
        assert_eq!(p["RoleArn"], ROLE_ARN);
        assert_eq!(p["WebIdentityToken"], TOKEN);
        assert_eq!(p["RoleSessionName"], "WebIdentitySession", "object_store's name when none is set");
    }

    let out: Value = serde_json::from_str(&ran.stdout).expect("the execution output");
    assert_eq!(out["ResultWriterDetails"]["Bucket"], "results");
    let key = out["ResultWriterDetails"]["Key"].as_str().expect("a manifest key");
    let results = read_results(&s3.root().join("results"), key);
    assert!(results.failed.is_empty() && results.pending.is_empty(), "{results:?}");
    let mut ids: Vec<u64> = results
        .succeeded
        .iter()
        .map(|r| {
            assert_eq!(r["Status"], "SUCCEEDED", "{r}");
            let output: Value = serde_json::from_str(r["Output"].as_str().expect("Output")).expect("JSON");
            output["id"].as_u64().expect("an id")
        })
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..ITEMS).collect::<Vec<_>>(), "every item succeeded once");
}

#[test]
fn a_token_sts_refuses_fails_the_run_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sts = FakeSts::start(dir.path());
    let s3 = irsa_server();
    let wrong = TOKEN.replace(".ZG1h", ".Zm9yZ2Vk");
    let ran = run_in_pod(dir.path(), &sts, &s3, &wrong, &[("AWS_ROLE_SESSION_NAME", "dmap-job-7")]);
    assert_eq!(ran.code, 1, "stdout: {}\nstderr: {}", ran.stdout, ran.stderr);

    // The reader's bucket asks first and fails the run; the writer's asks when it tries to
    // write the manifest. Both are refused; a session name, when set, is passed on.
    let requests = sts.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    for r in &requests {
        assert_eq!(r["granted"], false, "{r}");
        assert_eq!((&r["params"]["WebIdentityToken"], &r["params"]["RoleArn"]), (&json!(wrong), &json!(ROLE_ARN)));
        assert_eq!(r["params"]["RoleSessionName"], "dmap-job-7");
    }
    let out: Value = serde_json::from_str(&ran.stdout).expect("the error output");
    assert_eq!(out["Error"], "States.ItemReaderFailed", "{out}");
    let cause = out["Cause"].as_str().expect("a cause");
    assert!(cause.contains("s3://items/in/items.jsonl"), "{cause}");
    // object_store redacts the STS URL; the status and STS's error code reach the user.
    assert!(cause.contains("403 Forbidden") && cause.contains("InvalidIdentityToken"), "{cause}");
    assert!(ran.stderr.is_empty(), "the failure is the execution's error output: {}", ran.stderr);
    assert_eq!(files(&s3.root().join("results")), Vec::<PathBuf>::new(), "no results written");
}
