//! [`Moto`]: moto in server mode, an AWS-protocol server (DynamoDB, SNS, SQS, S3, STS, Athena,
//! Glue, …), started per test on a free 127.0.0.1 port and stopped when dropped.
//!
//! moto comes from `scripts/install-moto` (pinned, in `tools/moto-venv`). When it is missing the
//! harness runs that script once itself; if that fails the test fails with the hint, never
//! skips. Every `Moto` has its own process, so tests never see each other's resources.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::repo;

/// Where `scripts/install-moto` puts the virtualenv, relative to the repository root.
pub const MOTO_VENV_IN_REPO: &str = "tools/moto-venv";

/// The virtualenv holding moto and boto3, installed on first use.
pub fn moto_venv() -> PathBuf {
    static INSTALL: Mutex<()> = Mutex::new(());
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    let venv = repo().join(MOTO_VENV_IN_REPO);
    if venv.join(".pins").exists() {
        return venv;
    }
    let status = Command::new(repo().join("scripts/install-moto")).stdout(Stdio::null()).status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "moto is not installed and `scripts/install-moto` failed ({status:?}): run it by hand to see why \
         (it needs python3-venv and PyPI)"
    );
    venv
}

/// A running moto server.
pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    /// Starts moto on a free loopback port and waits until it answers.
    pub fn start() -> Moto {
        let bin = moto_venv().join("bin/moto_server");
        // Asking the kernel for a free port, then freeing it for moto, can race with another
        // test doing the same; a moto that fails to bind exits, and we try another port.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
            let mut child = Command::new(&bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {} ({e}): run `scripts/install-moto`", bin.display()));
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if get(port, "/moto-api/data.json")
                    .is_some_and(|r| r.starts_with("HTTP/1.1 200") || r.starts_with("HTTP/1.0 200"))
                {
                    return Moto { child, port };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("moto did not answer on 127.0.0.1:{port} within 30 s");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("moto could not bind a free port in 5 tries");
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Environment for a process that should reach this moto as AWS: endpoint, region and
    /// dummy credentials (moto accepts any).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ]
    }

    /// Runs a Python snippet with boto3 against this moto (to create tables, queues and
    /// topics, and to read back side effects) and returns its stdout. A failing snippet fails
    /// the test with its stderr.
    pub fn python(&self, code: &str) -> String {
        let out = Command::new(moto_venv().join("bin/python"))
            .arg("-c")
            .arg(code)
            .envs(self.env())
            .env_remove("AWS_PROFILE")
            .output()
            .expect("python from the moto venv");
        assert!(out.status.success(), "boto3 snippet failed:\n{code}\n{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        crate::signal(self.child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.0 GET, enough to see that moto answers.
fn get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes()).ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    Some(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moto_starts_and_boto3_reaches_it() {
        let m = Moto::start();
        let out = m.python(
            "import boto3\nq=boto3.client('sqs').create_queue(QueueName='q')['QueueUrl']\nprint(q.rsplit('/',1)[1])",
        );
        assert_eq!(out.trim(), "q");
    }
}
