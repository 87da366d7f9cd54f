//! `dmap serve`: the Step Functions API on `--listen` (127.0.0.1:8083 by default), with its
//! store under `--data`.
//!
//! It decides the authentication policy, builds the host (functions, buckets, NATS), opens
//! the store, resumes the executions that were running, binds, prints one line
//! `dmap serve listening on http://ADDR` to stderr when it accepts requests, and on SIGTERM
//! or SIGINT stops accepting, finishes the requests in flight and closes the store.
//!
//! Off loopback the API must be authenticated: `dmap serve` refuses a non-loopback address
//! unless `--config` holds access keys (`[[serve.access_keys]]`, whose signatures the auth
//! module verifies) or `--open` says the API is open on purpose. This file owns the flags and
//! the start-up order only; what runs executions is `serve::engine`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use shared::asl::{Diagnostic, StateMachine};
use tokio::signal::unix::{SignalKind, signal};
use worker::integrations::Integrations;
use worker::ops::logging::{LogArgs, LogFormat};

use crate::serve::activities::Activities;
use crate::serve::api::arn::Scope;
use crate::serve::api::{Ctx, Support};
use crate::serve::auth::{AccessKeys, Policy};
use crate::serve::engine::{Engine, EngineOptions};
use crate::serve::http::metrics::{Metrics, Snapshot};
use crate::serve::http::{Authenticator, Options, Server};
use crate::serve::setup::{self, HostOptions};
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
    /// Where a bucket named in a definition lives: a local directory, `s3://bucket`, or an
    /// S3-compatible endpoint `http(s)://host:port` (repeatable). Unmapped buckets are real S3.
    #[arg(long = "bucket", value_name = "NAME=PATH_OR_URL")]
    buckets: Vec<String>,
    /// Lift AWS's 256 KiB limits on state outputs and child inputs.
    #[arg(long)]
    no_payload_limits: bool,
    /// A mock configuration file of AWS Step Functions Local (`MockConfigFile.json`): an
    /// execution of `stateMachineArn#TestCase` runs with that test case, its Task states
    /// answered from the file.
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
    /// Stream replicas when dmap creates its streams (3 on a three-node NATS cluster).
    #[arg(long, default_value_t = 1, env = "DMAP_NATS_REPLICAS", value_name = "N")]
    nats_replicas: usize,
    /// Log line format: json (one object per line, the default for a server) or text.
    #[arg(long, value_enum, default_value_t = LogFormat::Json, env = "DMAP_LOG_FORMAT")]
    log_format: LogFormat,
    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `coordinator=debug`.
    #[arg(long, default_value = "info", env = "DMAP_LOG")]
    log_level: String,
}

/// Why `dmap serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Off loopback without keys or `--open` (the auth module's words).
    #[error(transparent)]
    Policy(#[from] crate::serve::auth::StartError),
    #[error("--config: {0}")]
    Keys(#[from] crate::serve::auth::KeysError),
    /// The mock configuration cannot be read or is invalid (every problem at its pointer).
    #[error("{0}")]
    MockConfig(String),
    /// The functions file, the buckets or NATS.
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Store(#[from] crate::serve::store::StoreError),
    /// Resuming the executions that were running.
    #[error("resuming the executions that were running: {0}")]
    Recover(#[from] crate::serve::engine::EngineError),
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
            // Some causes already name the command (the auth policy's, the host's).
            let text = e.to_string();
            let text = text.strip_prefix("dmap serve: ").or_else(|| text.strip_prefix("dmap: ")).unwrap_or(&text);
            eprintln!("dmap serve: {text}");
            2
        }
    }
}

async fn serve(a: &Args) -> Result<(), StartError> {
    // AWS Step Functions Local's mock configuration: read and checked at start, so that a
    // mistake in it is found before any execution asks for a test case.
    let mocks = match &a.mock_config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| StartError::MockConfig(format!("--mock-config {}: {e}", path.display())))?;
            let config = worker::mock::MockConfig::parse(&text).map_err(|problems| {
                StartError::MockConfig(worker::mock::MockError::Invalid { file: path.clone(), problems }.to_string())
            })?;
            Some(Arc::new(config))
        }
        None => None,
    };
    let keys = match &a.config {
        Some(path) => AccessKeys::from_config(path)?,
        None => None,
    };
    let policy = Policy::decide(a.listen, keys, a.open, &a.region)?;
    let host_options = HostOptions {
        functions: a.functions.clone(),
        config: a.config.clone(),
        buckets: a.buckets.clone(),
        nats: a.nats.clone(),
        nats_replicas: a.nats_replicas,
        no_payload_limits: a.no_payload_limits,
    };
    let sqlite = Arc::new(Sqlite::open(&a.data)?);
    let store: Arc<dyn Store> = sqlite.clone();
    let activities = Arc::new(Activities::new(store.clone()));
    let setup =
        setup::build(&host_options, store.clone(), Some(activities.clone())).await.map_err(StartError::Setup)?;
    let scope = Scope::new(a.region.clone());
    let engine = Engine::new(
        store.clone(),
        setup.host.clone(),
        setup.map_runs.clone(),
        EngineOptions {
            region: scope.region.clone(),
            account: scope.account.clone(),
            max_payload_bytes: setup.max_payload_bytes,
            mocks,
        },
    );
    // The state machine cache is the API's and the nested executions' alike, so that both see
    // an update at once.
    let machines: Arc<crate::serve::api::cache::MachineCache> = Default::default();
    // Nested executions need the engine, which needs the host: bound now, before any execution
    // (a resumed one included) can start a child.
    setup.nested.bind(crate::serve::nested::Starter {
        engine: engine.downgrade(),
        store: store.clone(),
        scope: scope.clone(),
        machines: machines.clone(),
        activities: activities.clone(),
    });
    engine.set_remote_map_runs(setup.remote_children);
    // Executions that were running when the server last stopped continue before any request
    // is answered, so that a client never sees one of them stall.
    let resumed = engine.recover()?;
    let metrics = Arc::new(Metrics::new());
    register_metrics(&metrics, &engine, &sqlite);
    let callbacks = setup.callbacks.clone();
    metrics.register(move |t| {
        let pending = callbacks.pending() as f64;
        t.gauge("dmap_callbacks_pending", "Tasks waiting for their task token's callback.", &[], pending);
    });
    let queued = activities.clone();
    metrics.register(move |t| {
        t.gauge("dmap_activity_tasks_pending", "Activity tasks waiting for a worker.", &[], queued.pending() as f64);
        t.gauge(
            "dmap_activity_pollers",
            "GetActivityTask long polls waiting for a task.",
            &[],
            queued.pollers() as f64,
        );
    });
    let ctx = Ctx {
        store,
        executions: Arc::new(engine),
        scope,
        support: Some(Arc::new(BuildSupport {
            integrations: setup.integrations.clone(),
            remote_children: setup.remote_children,
        })),
        activities: activities.clone(),
        machines,
        callbacks: Some(setup.callbacks.clone()),
    };
    let verifies = policy.verifies();
    tracing::info!(policy = %policy, "authentication");
    let auth: Option<Arc<dyn Authenticator>> = verifies.then(|| Arc::new(policy) as Arc<dyn Authenticator>);
    let options = Options::new(a.listen);
    let server = Server::bind(&options, ctx, metrics, auth)
        .await
        .map_err(|source| StartError::Listen { addr: a.listen, source })?;
    let handle = server.start().map_err(|source| StartError::Listen { addr: a.listen, source })?;
    tracing::info!(address = %handle.addr(), data = %a.data.display(), resumed, "serving the Step Functions API");
    eprintln!("dmap serve listening on http://{}", handle.addr());
    stopped().await;
    tracing::info!("stopping: finishing the requests in flight");
    // Long polls would hold the drain for up to a minute: they answer "no task" now.
    activities.close();
    handle.shutdown().await;
    // Everything acknowledged is durable already; this commits what the engine submitted
    // without waiting (history of executions still running, which replay would rebuild).
    sqlite.close();
    worker::integrations::lambda::kill_all_processes();
    Ok(())
}

/// The engine's and the store's numbers on `/metrics`.
fn register_metrics(metrics: &Metrics, engine: &Engine, sqlite: &Arc<Sqlite>) {
    let e = engine.clone();
    metrics.register(move |t| {
        let c = e.counters();
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let ended = [
            ("SUCCEEDED", load(&c.succeeded)),
            ("FAILED", load(&c.failed)),
            ("TIMED_OUT", load(&c.timed_out)),
            ("ABORTED", load(&c.aborted)),
        ];
        t.counter("dmap_executions_started_total", "Executions started (Standard and Express).", &[], load(&c.started));
        for (status, n) in ended {
            t.counter("dmap_executions_ended_total", "Executions ended, by status.", &[("status", status)], n);
        }
        t.gauge("dmap_executions_running", "Executions running in this process.", &[], e.running() as f64);
        t.counter(
            "dmap_transitions_total",
            "History events written (state transitions and task events).",
            &[],
            load(&c.events),
        );
        t.counter("dmap_executions_resumed_total", "Executions resumed after a restart.", &[], load(&c.resumed));
    });
    let s = sqlite.clone();
    metrics.register(move |t| {
        t.counter(
            "dmap_store_groups_total",
            "Groups committed by the store (one transaction and sync each).",
            &[],
            s.groups_committed(),
        );
        t.counter("dmap_store_units_total", "Units committed by the store.", &[], s.units_committed());
    });
    let s = sqlite.clone();
    metrics.register_histogram("dmap_store_commit_seconds", "How long the store's group commits took.", move || {
        let l = s.commit_latency();
        Snapshot { buckets: l.buckets, count: l.count, sum: l.sum_seconds }
    });
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

/// What this server can run: the Task resources its integrations serve.
struct BuildSupport {
    integrations: Arc<Integrations>,
    remote_children: bool,
}

impl Support for BuildSupport {
    fn unsupported(&self, machine: &StateMachine) -> Vec<Diagnostic> {
        crate::support::unsupported_served(machine, &self.integrations, self.remote_children)
    }
}
