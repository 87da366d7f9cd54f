//! `dmap run --listen ADDR`: a one-shot run whose `.waitForTaskToken` Task waits for a
//! callback sent to ADDR with the Step Functions API's protocol — boto3's and the AWS CLI's
//! SendTaskSuccess / SendTaskHeartbeat / SendTaskFailure — and ends with what it was sent.
//! Without `--listen` the run refuses the Task at its resource before anything runs.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::serve_clients::callbacks::functions;

const DEFINITION: &str = r#"{"StartAt": "Approve", "States": {
  "Approve": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
    "HeartbeatSeconds": 600,
    "Parameters": {"FunctionName": "approve", "Payload": {"token.$": "$$.Task.Token"}}, "End": true}}}"#;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// Starts `dmap run` on the definition with the `approve` function and `--listen`.
fn start(dir: &Path, port: u16) -> Child {
    let file = functions(dir);
    let def = dir.join("approval.asl.json");
    std::fs::write(&def, DEFINITION).expect("the definition");
    Command::new(env!("CARGO_BIN_EXE_dmap"))
        .args(["run", def.to_str().unwrap(), "--functions", file.to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dmap run")
}

fn token(dir: &Path, child: &mut Child) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(t) =
            std::fs::read_to_string(dir.join("tokens.txt")).ok().and_then(|t| t.lines().next().map(str::to_string))
        {
            return t;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            child.stderr.take().map(|mut e| e.read_to_string(&mut err));
            panic!("dmap run ended ({status}) before its function ran:\n{err}");
        }
        assert!(Instant::now() < deadline, "the function recorded no token within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The run's exit code and standard output, once it ends.
fn finish(mut child: Child) -> (i32, String, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("the run's status") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("dmap run did not end within 60 s of its callback");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().map(|mut o| o.read_to_string(&mut out));
    child.stderr.take().map(|mut e| e.read_to_string(&mut err));
    (status.code().unwrap_or(-1), out, err)
}

/// The environment of a client of `http://127.0.0.1:port` (as `testkit::Serve::env`).
fn client(program: &Path, port: u16) -> Command {
    let mut c = Command::new(program);
    c.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null());
    c
}

#[test]
fn boto3_calls_back_a_dmap_run_on_its_listen_address() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = start(dir.path(), port);
    let token = token(dir.path(), &mut child);
    let python = testkit::moto_venv().join("bin/python");
    let code = format!(
        r#"
import boto3, botocore, json
sfn = boto3.client("stepfunctions")
token = {token:?}
def code(call, **kw):
    try:
        call(**kw)
    except botocore.exceptions.ClientError as e:
        return (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
    raise AssertionError(f"{{call.__name__}} succeeded")
assert code(sfn.send_task_success, taskToken="forged", output="{{}}") == ("InvalidToken", 400)
assert code(sfn.send_task_success, taskToken=token, output="nope") == ("InvalidOutput", 400)
assert code(sfn.list_state_machines) == ("UnknownOperationException", 400)
sfn.send_task_heartbeat(taskToken=token)
# The run ends (and its listener with it) once this is answered.
sfn.send_task_success(taskToken=token, output=json.dumps({{"approved": True}}))
"#
    );
    let out = client(&python, port).arg("-c").arg(&code).output().expect("python");
    assert!(out.status.success(), "boto3:\n{}", String::from_utf8_lossy(&out.stderr));
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, 0, "{stderr}");
    let output: serde_json::Value = serde_json::from_str(stdout.trim()).expect("the run's output");
    assert_eq!(output, serde_json::json!({"approved": true}));
}

#[test]
fn the_aws_cli_fails_a_dmap_run_task_and_a_run_without_listen_refuses_callbacks() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = start(dir.path(), port);
    let token = token(dir.path(), &mut child);
    let aws = testkit::aws_clients();
    let out = client(&aws, port)
        .args(["stepfunctions", "send-task-failure", "--task-token", &token, "--error", "Nope", "--cause", "no"])
        .output()
        .expect("aws");
    assert!(out.status.success(), "aws:\n{}", String::from_utf8_lossy(&out.stderr));
    let (code, stdout, stderr) = finish(child);
    // `dmap run` prints a failed execution's error and cause, and exits 1.
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let output: serde_json::Value = serde_json::from_str(stdout.trim()).expect("the run's error");
    assert_eq!(output, serde_json::json!({"Error": "Nope", "Cause": "no"}));

    let def = dir.path().join("approval.asl.json");
    let file = dir.path().join("functions.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_dmap"))
        .args(["run", def.to_str().unwrap(), "--functions", file.to_str().unwrap()])
        .output()
        .expect("dmap run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("/States/Approve/Resource") && err.contains("--listen"), "{err}");
}

/// The common AWS pattern end to end: `sqs:sendMessage.waitForTaskToken` puts the token in a
/// real queue (moto), a consumer reads the message and calls back with boto3, and the run ends
/// with the consumer's output.
#[test]
fn an_sqs_consumer_calls_back_with_the_token_from_its_message() {
    let moto = testkit::Moto::start();
    let url = moto.python("import boto3\nprint(boto3.client('sqs').create_queue(QueueName='approvals')['QueueUrl'])");
    let dir = tempfile::tempdir().unwrap();
    let def = dir.path().join("queue.asl.json");
    let definition = serde_json::json!({"StartAt": "Ask", "States": {"Ask": {"Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": url.trim(), "MessageBody": {"order.$": "$.order", "token.$": "$$.Task.Token"}},
        "End": true}}});
    std::fs::write(&def, definition.to_string()).unwrap();
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_dmap"))
        .args(["run", def.to_str().unwrap(), "--input-json", r#"{"order": 7}"#])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .envs(moto.env())
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dmap run");
    let consumer = format!(
        r#"
import boto3, json, os, time
sqs = boto3.client("sqs")
deadline = time.monotonic() + 60
while True:
    got = sqs.receive_message(QueueUrl={url:?}, WaitTimeSeconds=1).get("Messages", [])
    if got:
        break
    assert time.monotonic() < deadline, "no message in the queue within 60 s"
body = json.loads(got[0]["Body"])
assert body["order"] == 7, body
sfn = boto3.client("stepfunctions", endpoint_url="http://127.0.0.1:{port}")
sfn.send_task_success(taskToken=body["token"], output=json.dumps({{"order": body["order"], "approved": True}}))
"#,
        url = url.trim()
    );
    let out = Command::new(testkit::moto_venv().join("bin/python"))
        .arg("-c")
        .arg(&consumer)
        .envs(moto.env())
        .env_remove("AWS_PROFILE")
        .output()
        .expect("python");
    assert!(out.status.success(), "the consumer:\n{}", String::from_utf8_lossy(&out.stderr));
    let (code, stdout, stderr) = finish(child);
    assert_eq!(code, 0, "{stderr}");
    let output: serde_json::Value = serde_json::from_str(stdout.trim()).expect("the run's output");
    assert_eq!(output, serde_json::json!({"order": 7, "approved": true}));
}
