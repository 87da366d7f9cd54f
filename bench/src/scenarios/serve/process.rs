//! `dmap serve` as a child process of the bench, on a free loopback port with a fresh data
//! directory, so that its CPU time is its own in /proc and never mixed with the load
//! generator's. Dropping the [`Server`] kills it and removes the directory.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::client::Conn;

/// A running `dmap serve`.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub data: PathBuf,
    /// Where its stderr (its logs) goes, shown when it fails.
    pub log: PathBuf,
}

impl Server {
    /// Starts `dmap serve --listen 127.0.0.1:<free port> --data <work>/data` and waits until
    /// `GET /healthz` answers 200 (at most 30 s).
    pub async fn start(dmap: &Path, work: &Path, extra: &[String]) -> anyhow::Result<Server> {
        let data = work.join("data");
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data)?;
        // A port the kernel had free a moment ago; nothing else on this machine races for it.
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log = work.join("serve.log");
        let child = Command::new(dmap)
            .arg("serve")
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data")
            .arg(&data)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("starting {} serve", dmap.display()))?;
        let mut server = Server { child, addr, data, log };
        server.healthy(Duration::from_secs(30)).await?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines of its log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }

    async fn healthy(&mut self, within: Duration) -> anyhow::Result<()> {
        let until = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("dmap serve exited with {status} before it was healthy:\n{}", self.log_tail());
            }
            if let Ok(mut c) = Conn::open(self.addr).await
                && let Ok((200, _)) = c.get("/healthz").await
            {
                return Ok(());
            }
            if Instant::now() > until {
                bail!("dmap serve on {} did not answer /healthz within {within:?}:\n{}", self.addr, self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Fails with its log when it is no longer running.
    pub fn running(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait()? {
            Some(status) => bail!("dmap serve exited with {status}:\n{}", self.log_tail()),
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
