//! Test harness shared by the crates' integration tests (a dev-dependency only).
//!
//! [`NatsServer`] starts a real nats-server with JetStream on free loopback ports and a
//! temporary file store, per test, and stops it when dropped. It never binds anything but
//! 127.0.0.1. A missing server is a loud failure with the install hint, never a skip.
//!
//! [`Moto`] starts moto in server mode (AWS's protocols) the same way, from `scripts/install-moto`.
//!
//! [`Serve`] starts `dmap serve` the same way (a data directory per test) and drives it with
//! boto3 and the AWS CLI from `scripts/install-aws-clients`.
//!
//! [`pki`] makes a throw-away CA and certificates for `127.0.0.1` with the `openssl` tool.

mod moto;
pub mod pki;
mod serve;

pub use moto::{MOTO_VENV_IN_REPO, Moto, moto_venv};
pub use serve::{AWS_CLI_IN_REPO, Serve, aws_clients, http_get};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where `scripts/install-nats` puts nats-server, relative to the repository root.
pub const NATS_SERVER_IN_REPO: &str = "tools/nats-server/usr/sbin/nats-server";

/// Where the project's setup script (`scripts/install-nats`) puts nats-server, unless
/// `NATS_SERVER` names one.
pub fn nats_server_binary() -> PathBuf {
    if let Ok(p) = std::env::var("NATS_SERVER") {
        return PathBuf::from(p);
    }
    let local = repo().join(NATS_SERVER_IN_REPO);
    if local.exists() {
        return local;
    }
    panic!(
        "nats-server (>= 2.10) is not installed: run `scripts/install-nats` (README's test command `scripts/test` \
         does it), or set NATS_SERVER=/path/to/nats-server"
    );
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repository root").to_path_buf()
}

/// A running nats-server. Restartable on the same port and store (file storage survives).
pub struct NatsServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    extra: Vec<String>,
    pub port: u16,
    pub monitor_port: u16,
}

impl NatsServer {
    /// JetStream, file storage in a temporary directory, free loopback ports.
    pub fn start() -> NatsServer {
        NatsServer::start_with(&[])
    }

    /// Like [`NatsServer::start`], with extra command-line arguments (authentication, TLS).
    pub fn start_with(extra: &[&str]) -> NatsServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut s = NatsServer {
            child: None,
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            port: 0,
            monitor_port: 0,
        };
        s.spawn(None);
        s
    }

    /// `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The monitoring endpoint (`/healthz`, `/jsz`), `http://127.0.0.1:PORT`.
    pub fn monitor_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.monitor_port)
    }

    pub fn store_dir(&self) -> &Path {
        self.dir.path()
    }

    fn spawn(&mut self, ports: Option<(u16, u16)>) {
        let bin = nats_server_binary();
        let store = self.dir.path().join("store");
        let ports_dir = self.dir.path().join("ports");
        std::fs::create_dir_all(&ports_dir).expect("ports directory");
        for e in std::fs::read_dir(&ports_dir).expect("ports directory").flatten() {
            let _ = std::fs::remove_file(e.path());
        }
        let (p, m) = match ports {
            Some((p, m)) => (p.to_string(), m.to_string()),
            None => ("-1".to_string(), "-1".to_string()),
        };
        let child = Command::new(&bin)
            .args(["-a", "127.0.0.1", "-p", &p, "-m", &m, "-js"])
            .arg("-sd")
            .arg(&store)
            .arg("--ports_file_dir")
            .arg(&ports_dir)
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {} ({e}): run `scripts/install-nats` or set NATS_SERVER", bin.display())
            });
        let file = ports_dir.join(format!("nats-server_{}.ports", child.id()));
        let deadline = Instant::now() + Duration::from_secs(20);
        let doc = loop {
            if let Ok(text) = std::fs::read_to_string(&file)
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            {
                break v;
            }
            assert!(Instant::now() < deadline, "nats-server did not report its ports within 20 s");
            std::thread::sleep(Duration::from_millis(20));
        };
        let port_of = |key: &str| -> u16 {
            let url = doc[key][0].as_str().unwrap_or_else(|| panic!("ports file without {key}: {doc}"));
            url.rsplit(':').next().and_then(|p| p.trim_end_matches('/').parse().ok()).expect("a port")
        };
        self.port = port_of("nats");
        self.monitor_port = port_of("monitoring");
        self.child = Some(child);
        self.wait_ready();
    }

    /// Waits until JetStream answers its health check.
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.monitor_port)) {
                use std::io::{Read, Write};
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let req = "GET /healthz?js-enabled-only=true HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
                let mut resp = String::new();
                if s.write_all(req.as_bytes()).is_ok() && s.read_to_string(&mut resp).is_ok() && resp.contains(" 200 ")
                {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "nats-server did not become healthy within 20 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (SIGTERM, then SIGKILL) and starts it again on the same ports and store.
    pub fn restart(&mut self) {
        let ports = (self.port, self.monitor_port);
        self.stop();
        self.spawn(Some(ports));
    }

    /// Stops the server; [`NatsServer::restart`] starts it again.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            signal(c.id(), "TERM");
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
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends a signal (`TERM`, `KILL`, `INT`) to a process with the system's `kill` command.
pub fn signal(pid: u32, name: &str) {
    let _ = Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status();
}

/// Path of a binary built beside the calling test's package binaries (`cargo test --workspace`
/// builds every binary of the workspace into the same directory).
pub fn sibling_binary(known: &str, name: &str) -> PathBuf {
    let p = Path::new(known).with_file_name(name);
    assert!(p.exists(), "{} is not built: run `cargo build --workspace --bins` (scripts/test does)", p.display());
    p
}
