//! `dmap serve`: the Step Functions API on `--listen` (127.0.0.1:8083 by default), with its
//! store under `--data`.
//!
//! It opens the store, builds the API's context, binds, prints one line
//! `dmap serve listening on http://ADDR` to stderr when it accepts requests, and on SIGTERM
//! or SIGINT stops accepting, finishes the requests in flight and closes the store.
//!
//! Off loopback the API must be authenticated: `dmap serve` refuses a non-loopback address
//! unless `--config` holds access keys (`[[serve.access_keys]]`, whose signatures the auth
//! module verifies) or `--open` says the API is open on purpose. This file owns the flags and
//! the start-up order only; what runs executions is `serve::engine`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use shared::asl::{Diagnostic, StateMachine};
use tokio::signal::unix::{SignalKind, signal};
use worker::integrations::Integrations;
use worker::ops::logging::{LogArgs, LogFormat};

use crate::serve::api::arn::Scope;
use crate::serve::api::{Ctx, Executions, Support};
use crate::serve::http::metrics::Metrics;
use crate::serve::http::{Options, Server};
use crate::serve::store::Store;
use crate::serve::store::sqlite::Sqlite;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The address to serve the API on. Anything but loopback needs access keys in --config,
    /// or --open.
    #[arg(long, env = "DMAP_SERVE_LISTEN", default_value = "127.0.0.1:8083", value_name = "ADDR")]
    listen: SocketAddr,
    /// The directory of the store (created when missing).
    #[arg(long, env = "DMAP_DATA", default_value = "dmap-data", value_name = "DIR")]
    data: PathBuf,
    /// A functions file (TOML) mapping Lambda function names to local implementations, and
    /// HTTP Task connections.
    #[arg(long, value_name = "FILE")]
    functions: Option<PathBuf>,
    /// A TOML file: `[buckets]` as for `dmap run`, and `[[serve.access_keys]]`, the keys whose
    /// SigV4 signatures the API accepts.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A mock configuration file of AWS Step Functions Local (`MockConfigFile.json`):
    /// executions started as `stateMachineArn#TestCase` return its mocked responses.
    #[arg(long, value_name = "FILE")]
    mock_config: Option<PathBuf>,
    /// Serve the API without authentication on a non-loopback address.
    #[arg(long)]
    open: bool,
    /// The region in the ARNs this server forms.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    #[command(flatten)]
    nats: worker::nats::connect::NatsArgs,
    /// Log line format: json (one object per line, the default for a server) or text.
    #[arg(long, value_enum, default_value_t = LogFormat::Json, env = "DMAP_LOG_FORMAT")]
    log_format: LogFormat,
    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `coordinator=debug`.
    #[arg(long, default_value = "info", env = "DMAP_LOG")]
    log_level: String,
}

impl Args {
    /// The `--config` file, for the auth module's access keys.
    pub fn config(&self) -> Option<&Path> {
        self.config.as_deref()
    }
}

/// Why `dmap serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "refusing to serve the API unauthenticated on {0}: add access keys to --config ([[serve.access_keys]]) or \
         pass --open"
    )]
    Unauthenticated(SocketAddr),
    #[error("--config {path}: {message}")]
    Config { path: String, message: String },
    #[error("{0}")]
    Functions(String),
    #[error(transparent)]
    Store(#[from] crate::serve::store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

pub fn run(a: &Args) -> i32 {
    let log = LogArgs { log_format: a.log_format, log_level: a.log_level.clone() };
    if let Err(e) = log.init() {
        eprintln!("dmap: {e}");
        return 2;
    }
    let started = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(StartError::Runtime)
        .and_then(|rt| rt.block_on(serve(a)));
    match started {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("dmap serve: {e}");
            2
        }
    }
}

async fn serve(a: &Args) -> Result<(), StartError> {
    if !a.listen.ip().is_loopback() && !a.open && !has_access_keys(a.config())? {
        return Err(StartError::Unauthenticated(a.listen));
    }
    let integrations = Arc::new(match &a.functions {
        Some(path) => Integrations::load(path, Some(shared::asl::eval::MAX_PAYLOAD_BYTES))
            .map_err(|e| StartError::Functions(format!("--functions {}: {e}", path.display())))?,
        None => Integrations::none(Some(shared::asl::eval::MAX_PAYLOAD_BYTES)),
    });
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(&a.data)?);
    let ctx = Ctx {
        store: store.clone(),
        executions: executions(a, store.clone()),
        scope: Scope::new(a.region.clone()),
        support: Some(Arc::new(BuildSupport { integrations, remote_children: a.nats.nats.is_some() })),
    };
    let metrics = Arc::new(Metrics::new());
    let options = Options::new(a.listen);
    let server = Server::bind(&options, ctx, metrics, None)
        .await
        .map_err(|source| StartError::Listen { addr: a.listen, source })?;
    let handle = server.start().map_err(|source| StartError::Listen { addr: a.listen, source })?;
    tracing::info!(address = %handle.addr(), data = %a.data.display(), "serving the Step Functions API");
    eprintln!("dmap serve listening on http://{}", handle.addr());
    stopped().await;
    tracing::info!("stopping: finishing the requests in flight");
    handle.shutdown().await;
    drop(store);
    worker::integrations::lambda::kill_all_processes();
    Ok(())
}

/// Resolves on SIGTERM or SIGINT (or at once when they cannot be listened for, so that the
/// server never runs without a way to stop it cleanly).
async fn stopped() {
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        tracing::error!("cannot listen for SIGTERM and SIGINT");
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// Whether `--config` names access keys (`[[serve.access_keys]]` with at least one entry).
/// The auth module reads and checks the keys themselves.
fn has_access_keys(config: Option<&Path>) -> Result<bool, StartError> {
    let Some(path) = config else { return Ok(false) };
    let failed = |message: String| StartError::Config { path: path.display().to_string(), message };
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| failed(e.to_string()))?;
    let keys = table.get("serve").and_then(|s| s.get("access_keys")).and_then(|k| k.as_array());
    Ok(keys.is_some_and(|k| !k.is_empty()))
}

/// What this server can run: the Task resources its integrations serve.
struct BuildSupport {
    integrations: Arc<Integrations>,
    remote_children: bool,
}

impl Support for BuildSupport {
    fn unsupported(&self, machine: &StateMachine) -> Vec<Diagnostic> {
        crate::support::unsupported(machine, &self.integrations, self.remote_children)
    }
}

/// What runs executions: the engine (`serve::engine`), which the lead's branch adds.
fn executions(_a: &Args, _store: Arc<dyn Store>) -> Arc<dyn Executions> {
    Arc::new(pending::NoEngine)
}

/// Until `serve::engine::Engine` is merged, the execution actions answer that the store is
/// closed. MERGE: replace [`executions`] with the engine and delete this module.
mod pending {
    use chrono::{DateTime, Utc};
    use futures::future::BoxFuture;

    use crate::serve::api::Executions;
    use crate::serve::engine::{EngineError, MapRunError, MapRunUpdate, StartSpec, Started, SyncOutcome};
    use crate::serve::store::StoreError;

    pub struct NoEngine;

    impl Executions for NoEngine {
        fn start(&self, _: StartSpec) -> BoxFuture<'_, Result<Started, EngineError>> {
            Box::pin(async { Err(EngineError::Store(StoreError::Closed)) })
        }
        fn start_sync(&self, _: StartSpec) -> BoxFuture<'_, Result<SyncOutcome, EngineError>> {
            Box::pin(async { Err(EngineError::Store(StoreError::Closed)) })
        }
        fn stop<'a>(
            &'a self,
            _: &'a str,
            _: Option<String>,
            _: Option<String>,
        ) -> BoxFuture<'a, Result<DateTime<Utc>, EngineError>> {
            Box::pin(async { Err(EngineError::Store(StoreError::Closed)) })
        }
        fn update_map_run(&self, arn: &str, _: MapRunUpdate) -> Result<(), MapRunError> {
            Err(MapRunError::DoesNotExist(arn.to_string()))
        }
    }
}
