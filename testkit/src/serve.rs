//! [`Serve`]: a `dmap serve` process per test on a free 127.0.0.1 port with its own data
//! directory, and the real clients that talk to it: boto3 snippets ([`Serve::python`]) and
//! `aws stepfunctions …` commands ([`Serve::aws`]) from the pinned virtualenv that
//! `scripts/install-aws-clients` makes.
//!
//! It owns the process (start, `kill -9`, restart on the same port and data, stop on drop) and
//! the clients' environment. It knows nothing of the API's answers: the tests assert those.
//! The `dmap` binary's path is an argument, because only the coordinator's tests know it
//! (`env!("CARGO_BIN_EXE_dmap")`).

use std::fs::{File, OpenOptions};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::moto_venv;

/// How long a starting server may take to answer `GET /healthz`: a debug build on a busy
/// machine opens its store and recovers its executions first.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// Python code run before every snippet: the Step Functions client and the helpers the tests
/// share (JSON output, AWS error codes, waiting for an execution to end).
const PRELUDE: &str = r#"
import json, sys, time, datetime
import boto3, botocore
sfn = boto3.client("stepfunctions")

def _default(o):
    if isinstance(o, datetime.datetime):
        return o.timestamp()
    raise TypeError(repr(o))

def emit(value):
    """The snippet's result, as the last line of stdout (datetimes as epoch seconds)."""
    print(json.dumps(value, default=_default))

def error_of(call, **kwargs):
    """The AWS error a call ends with: {code, message, status}; None when it succeeds."""
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as e:
        return {"code": e.response["Error"]["Code"], "message": e.response["Error"].get("Message", ""),
                "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}
    return None

def wait_done(execution_arn, timeout=60):
    """Polls DescribeExecution until the execution leaves RUNNING (or PENDING_REDRIVE)."""
    deadline = time.monotonic() + timeout
    while True:
        d = sfn.describe_execution(executionArn=execution_arn)
        if d["status"] not in ("RUNNING", "PENDING_REDRIVE"):
            return d
        if time.monotonic() > deadline:
            raise SystemExit(f"{execution_arn} still {d['status']} after {timeout} s")
        time.sleep(0.05)

def history(execution_arn, **kwargs):
    """Every event of GetExecutionHistory, following nextToken."""
    events, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=execution_arn, **({"nextToken": token} if token else {}), **kwargs)
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events
"#;

/// A running `dmap serve`. Dropping it stops the process (SIGTERM, then SIGKILL).
pub struct Serve {
    bin: PathBuf,
    extra: Vec<String>,
    child: Option<Child>,
    port: u16,
    /// Holds `data/` (the server's `--data`) and `serve.log` (its stderr, every start appended).
    dir: tempfile::TempDir,
}

impl Serve {
    /// Starts `BIN serve --listen 127.0.0.1:<free port> --data <temporary directory>` and waits
    /// until `GET /healthz` answers 200.
    pub fn start(bin: impl AsRef<Path>) -> Serve {
        Serve::start_with(bin, &[])
    }

    /// Like [`Serve::start`], with more arguments (`--config FILE`, `--nats URL`, …).
    pub fn start_with(bin: impl AsRef<Path>, extra: &[&str]) -> Serve {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::create_dir_all(dir.path().join("data")).expect("data directory");
        let mut s = Serve {
            bin: bin.as_ref().to_path_buf(),
            extra: extra.iter().map(|a| a.to_string()).collect(),
            child: None,
            port: 0,
            dir,
        };
        // Asking the kernel for a free port and then freeing it for the server can race with
        // another test doing the same; a server that could not bind exits, and we try another.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
            match s.spawn(port) {
                Ok(()) => return s,
                Err(Exit::AddressInUse) => continue,
            }
        }
        panic!("dmap serve could not bind a free loopback port in 5 tries:\n{}", s.log());
    }

    /// `http://127.0.0.1:PORT`, for `endpoint_url` and `AWS_ENDPOINT_URL`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's `--data` directory (it survives [`Serve::kill9`] and [`Serve::restart`]).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A scratch directory beside the data, removed with the server (config files, buckets).
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// Everything the server wrote to stderr since it was first started.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The environment of a client process that should reach this server as AWS: endpoint,
    /// region, dummy credentials, no retries (a retried request would hide the first answer),
    /// and no configuration from the user's home.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_MAX_ATTEMPTS", "1".into()),
            ("AWS_RETRY_MODE", "standard".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_PAGER", String::new()),
            // botocore sends StartSyncExecution (and TestState) to the host `sync-<endpoint host>`
            // as AWS's endpoint does; `sync-127.0.0.1` does not resolve, so clients must not
            // prefix the host (boto3: `Config(inject_host_prefix=False)`).
            ("AWS_DISABLE_HOST_PREFIX_INJECTION", "true".into()),
        ]
    }

    /// Runs a Python snippet with boto3 against this server after [`PRELUDE`] (`sfn`, `emit`,
    /// `error_of`, `wait_done`, `history`) and returns its stdout. A failing snippet fails the
    /// test with its stderr and the server's log.
    pub fn python(&self, code: &str) -> String {
        self.python_after("", code)
    }

    /// [`Serve::python`] with the suite's own definitions (`setup`) run before `code`; a
    /// failure shows `code` only.
    pub fn python_after(&self, setup: &str, code: &str) -> String {
        let program = format!("{PRELUDE}\n{setup}\n{code}");
        let out = self.client(&moto_venv().join("bin/python")).arg("-c").arg(&program).output().expect("python");
        assert!(
            out.status.success(),
            "boto3 snippet failed:\n{code}\n--- stderr\n{}\n--- dmap serve\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// [`Serve::python`], parsing the last line of stdout (what the snippet `emit`ted).
    pub fn python_json(&self, code: &str) -> serde_json::Value {
        let out = self.python(code);
        let last = out.lines().last().unwrap_or_else(|| panic!("the snippet emitted nothing:\n{code}"));
        serde_json::from_str(last).unwrap_or_else(|e| panic!("the snippet's last line is not JSON ({e}): {last}"))
    }

    /// `aws stepfunctions ARGS… --output json`, which must succeed; its parsed stdout
    /// (`null` when the command prints nothing, as for DeleteStateMachine).
    pub fn aws(&self, args: &[&str]) -> serde_json::Value {
        let out = self.aws_output(args);
        assert!(
            out.status.success(),
            "aws stepfunctions {args:?} failed ({}):\n{}\n--- dmap serve\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        let text = String::from_utf8_lossy(&out.stdout);
        if text.trim().is_empty() {
            return serde_json::Value::Null;
        }
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("aws printed no JSON ({e}):\n{text}"))
    }

    /// `aws stepfunctions ARGS…`, which must fail; its stderr (the CLI prints
    /// `An error occurred (Code) when calling the Action operation: message`).
    pub fn aws_fails(&self, args: &[&str]) -> String {
        let out = self.aws_output(args);
        assert!(
            !out.status.success(),
            "aws stepfunctions {args:?} succeeded, but should have failed:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn aws_output(&self, args: &[&str]) -> std::process::Output {
        self.client(&aws_clients())
            .arg("stepfunctions")
            .args(args)
            .args(["--output", "json"])
            .output()
            .expect("the aws command")
    }

    fn client(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.envs(self.env()).env_remove("AWS_PROFILE").env_remove("AWS_SESSION_TOKEN").stdin(Stdio::null());
        c
    }

    /// `kill -9`: the server gets no chance to flush or say goodbye. [`Serve::restart`] starts
    /// it again on the same port and data.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the server if it runs (SIGTERM, then SIGKILL) and starts it again on the same
    /// port and data directory, waiting for `/healthz`.
    pub fn restart(&mut self) {
        self.stop();
        // The port was ours a moment ago; a client's connection in TIME_WAIT does not stop a
        // listener from binding it, but give another process that grabbed it a few chances.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.spawn(self.port) {
                Ok(()) => return,
                Err(Exit::AddressInUse) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(Exit::AddressInUse) => {
                    panic!("127.0.0.1:{} stayed in use after a restart:\n{}", self.port, self.log())
                }
            }
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            crate::signal(c.id(), "TERM");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("serve.log")
    }

    /// Starts the process on `port` and waits for `/healthz`. Panics with the log unless the
    /// process exited because the address was taken.
    fn spawn(&mut self, port: u16) -> Result<(), Exit> {
        let log: File = OpenOptions::new().create(true).append(true).open(self.log_path()).expect("serve.log");
        let start_of_log = log.metadata().map(|m| m.len()).unwrap_or(0) as usize;
        let mut child = Command::new(&self.bin)
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data")
            .arg(self.data_dir())
            .args(&self.extra)
            // The clients' region (see `env`), whatever the test runner's environment says.
            .env("AWS_REGION", "us-east-1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("serve.log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} serve: {e}", self.bin.display()));
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let text = self.log();
                let this_start = text.get(start_of_log..).unwrap_or(&text);
                if this_start.to_ascii_lowercase().contains("address already in use")
                    || this_start.to_ascii_lowercase().contains("address in use")
                {
                    return Err(Exit::AddressInUse);
                }
                panic!("dmap serve exited ({status}) before it answered /healthz:\n{text}");
            }
            if http_get(port, "/healthz")
                .is_some_and(|r| r.starts_with("HTTP/1.1 200") || r.starts_with("HTTP/1.0 200"))
            {
                self.port = port;
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "dmap serve did not answer GET /healthz on 127.0.0.1:{port} within {READY_WITHIN:?}:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Why a start did not come up, when it is worth another try.
enum Exit {
    AddressInUse,
}

/// Where `scripts/install-aws-clients` puts the AWS CLI, relative to the repository root.
pub const AWS_CLI_IN_REPO: &str = "tools/moto-venv/bin/aws";

/// The AWS CLI (and boto3 beside it), installed on first use by `scripts/install-aws-clients`.
pub fn aws_clients() -> PathBuf {
    static INSTALL: Mutex<()> = Mutex::new(());
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    let venv = moto_venv();
    if venv.join(".pins-awscli").exists() {
        return crate::repo().join(AWS_CLI_IN_REPO);
    }
    let status = Command::new(crate::repo().join("scripts/install-aws-clients")).stdout(Stdio::null()).status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "the AWS CLI is not installed and `scripts/install-aws-clients` failed ({status:?}): run it by hand to see \
         why (it needs python3-venv and PyPI)"
    );
    crate::repo().join(AWS_CLI_IN_REPO)
}

/// A plain HTTP/1.0 GET; the response's text, or `None` when nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes()).ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    Some(resp)
}
