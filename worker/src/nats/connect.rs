//! Connecting to NATS: the command-line options both binaries share (server, authentication,
//! TLS) and a client that reconnects forever once connected, logging and counting its events.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// NATS options of `dmap run` and `dmap-worker`. Secrets also come from the environment, so
/// they need not appear in a process listing.
#[derive(Clone, Default, clap::Args)]
pub struct NatsArgs {
    /// NATS server URL(s), comma-separated (`nats://host:4222`, `tls://host:4222`).
    #[arg(long, env = "DMAP_NATS", value_name = "URL")]
    pub nats: Option<String>,
    /// User name for user/password authentication.
    #[arg(long, env = "DMAP_NATS_USER", value_name = "USER", requires = "nats_password")]
    pub nats_user: Option<String>,
    /// Password for user/password authentication.
    #[arg(long, env = "DMAP_NATS_PASSWORD", value_name = "PASSWORD", hide_env_values = true)]
    pub nats_password: Option<String>,
    /// Token authentication.
    #[arg(long, env = "DMAP_NATS_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub nats_token: Option<String>,
    /// A file holding an NKey seed (`SU…`) for NKey authentication.
    #[arg(long, env = "DMAP_NATS_NKEY", value_name = "FILE")]
    pub nats_nkey: Option<PathBuf>,
    /// A credentials file (JWT and NKey seed, as `nsc` writes them).
    #[arg(long, env = "DMAP_NATS_CREDS", value_name = "FILE")]
    pub nats_creds: Option<PathBuf>,
    /// PEM file of CA certificates to trust for the server's TLS certificate.
    #[arg(long, env = "DMAP_NATS_CA", value_name = "FILE")]
    pub nats_ca: Option<PathBuf>,
    /// PEM client certificate for mutual TLS (with --nats-key).
    #[arg(long, env = "DMAP_NATS_CERT", value_name = "FILE", requires = "nats_key")]
    pub nats_cert: Option<PathBuf>,
    /// PEM private key of the client certificate.
    #[arg(long, env = "DMAP_NATS_KEY", value_name = "FILE", requires = "nats_cert")]
    pub nats_key: Option<PathBuf>,
    /// Refuse to talk to the server without TLS.
    #[arg(long, env = "DMAP_NATS_TLS")]
    pub nats_tls: bool,
}

/// Secrets stay out of logs and panics.
impl std::fmt::Debug for NatsArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |s: &Option<String>| s.as_ref().map(|_| "<hidden>");
        f.debug_struct("NatsArgs")
            .field("nats", &self.nats)
            .field("nats_user", &self.nats_user)
            .field("nats_password", &hidden(&self.nats_password))
            .field("nats_token", &hidden(&self.nats_token))
            .field("nats_nkey", &self.nats_nkey)
            .field("nats_creds", &self.nats_creds)
            .field("nats_ca", &self.nats_ca)
            .field("nats_cert", &self.nats_cert)
            .field("nats_key", &self.nats_key)
            .field("nats_tls", &self.nats_tls)
            .finish()
    }
}

/// What the client has been through: readable by `/healthz` and `/metrics`.
#[derive(Debug, Default)]
pub struct ConnectionState {
    pub connected: AtomicBool,
    pub disconnects: AtomicU64,
    pub slow_consumer_events: AtomicU64,
    pub errors: AtomicU64,
}

impl ConnectionState {
    /// The connection's metrics, as both binaries report them.
    pub fn write_metrics(&self, m: &mut crate::ops::metrics::MetricsText) {
        let connected = if self.connected.load(Ordering::Relaxed) { 1.0 } else { 0.0 };
        m.gauge("dmap_nats_connected", "1 while connected to NATS.", &[], connected);
        let lost = self.disconnects.load(Ordering::Relaxed);
        m.counter("dmap_nats_disconnects_total", "Times the NATS connection was lost.", &[], lost);
        let slow = self.slow_consumer_events.load(Ordering::Relaxed);
        m.counter("dmap_nats_slow_consumer_total", "NATS slow-consumer events (dropped messages).", &[], slow);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("no NATS server given (--nats URL or DMAP_NATS)")]
    NoServer,
    #[error("cannot read the NATS file {path}: {source}")]
    File { path: PathBuf, source: std::io::Error },
    #[error("cannot connect to NATS at {url}: {message}")]
    Connect { url: String, message: String },
}

impl NatsArgs {
    /// Connects once (failing clearly when the server cannot be reached or refuses the
    /// credentials); afterwards the client reconnects forever.
    pub async fn connect(
        &self,
        client_name: &str,
        state: Arc<ConnectionState>,
    ) -> Result<async_nats::Client, ConnectError> {
        let url = self.nats.clone().ok_or(ConnectError::NoServer)?;
        // Two rustls back-ends are linked in (async-nats brings ring, reqwest aws-lc-rs), so
        // rustls cannot pick one by itself; an already installed provider is fine.
        let _ = async_nats::rustls::crypto::ring::default_provider().install_default();
        let tls_required = self.nats_tls || url.starts_with("tls://");
        let mut o = async_nats::ConnectOptions::new()
            .name(client_name)
            .max_reconnects(None::<usize>)
            .connection_timeout(Duration::from_secs(5))
            // Outcome subscriptions can burst; a full subscription channel drops messages.
            .subscription_capacity(1 << 18)
            .request_timeout(Some(Duration::from_secs(10)));
        if let (Some(u), Some(p)) = (&self.nats_user, &self.nats_password) {
            o = o.user_and_password(u.clone(), p.clone());
        }
        if let Some(t) = &self.nats_token {
            o = o.token(t.clone());
        }
        if let Some(path) = &self.nats_nkey {
            let seed =
                std::fs::read_to_string(path).map_err(|source| ConnectError::File { path: path.clone(), source })?;
            o = o.nkey(seed.trim().to_string());
        }
        if let Some(path) = &self.nats_creds {
            o = o.credentials_file(path).await.map_err(|source| ConnectError::File { path: path.clone(), source })?;
        }
        if let Some(ca) = &self.nats_ca {
            o = o.add_root_certificates(ca.clone());
        }
        if let (Some(cert), Some(key)) = (&self.nats_cert, &self.nats_key) {
            o = o.add_client_certificate(cert.clone(), key.clone());
        }
        if tls_required {
            o = o.require_tls(true);
        }
        let events = state.clone();
        o = o.event_callback(move |event| {
            let state = events.clone();
            async move {
                match event {
                    async_nats::Event::Connected => {
                        state.connected.store(true, Ordering::Relaxed);
                        tracing::info!("connected to NATS");
                    }
                    async_nats::Event::Disconnected => {
                        state.connected.store(false, Ordering::Relaxed);
                        state.disconnects.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!("disconnected from NATS; reconnecting");
                    }
                    async_nats::Event::SlowConsumer(sid) => {
                        state.slow_consumer_events.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(subscription = sid, "NATS slow consumer: messages were dropped");
                    }
                    async_nats::Event::Closed => tracing::debug!("NATS connection closed"),
                    other => {
                        state.errors.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(event = %other, "NATS client event");
                    }
                }
            }
        });
        let client = o
            .connect(url.as_str())
            .await
            .map_err(|e| ConnectError::Connect { url: url.clone(), message: e.to_string() })?;
        state.connected.store(true, Ordering::Relaxed);
        Ok(client)
    }
}
