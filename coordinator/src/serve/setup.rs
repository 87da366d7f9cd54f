//! What `dmap serve` runs executions with, built once at start: the task integrations (the
//! functions file), the buckets (`--config`, `--bucket`), and Map Runs on the in-process
//! worker pool or, with `--nats`, on `dmap-worker` processes. The same pieces as `dmap run`,
//! plus callbacks and nested executions (`serve::nested`, bound to the engine once it exists).

use std::path::PathBuf;
use std::sync::Arc;

use shared::asl::StateMachine;
use shared::asl::diagnostic::Diagnostic;
use shared::asl::eval::Host;
use worker::integrations::Integrations;
use worker::nats::connect::NatsArgs;
use worker::nats::topology::Settings;

use crate::callbacks::{ActivityQueue, CallbackHost, Callbacks};
use crate::host::{EmbeddedHost, LocalHost};
use crate::map_run::nats::NatsTransport;
use crate::map_run::registry::MapRuns;
use crate::map_run::run::RunOptions;
use crate::map_run::status::Progress;
use crate::map_run::transport::Transport;
use crate::serve::engine::{Logged, StoreObserver};
use crate::serve::nested::{Binding, NestedHost};
use crate::serve::store::Store;
use crate::storage::Storage;

/// The flags that decide the host.
#[derive(Debug, Clone, Default)]
pub struct HostOptions {
    pub functions: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub buckets: Vec<String>,
    pub nats: NatsArgs,
    pub nats_replicas: usize,
    /// Lifts AWS's 256 KiB payload limit (`--no-payload-limits`).
    pub no_payload_limits: bool,
}

/// The server's host, and what validation of a new state machine needs to know of it.
pub struct Setup {
    pub host: Arc<dyn Host>,
    /// The host's running Map Runs (UpdateMapRun, DescribeMapRun, StopExecution).
    pub map_runs: MapRuns,
    pub integrations: Arc<Integrations>,
    /// Children run on NATS workers (a Distributed Map inside a child is then refused).
    pub remote_children: bool,
    pub max_payload_bytes: Option<usize>,
    /// The pending callbacks (SendTaskSuccess/Failure/Heartbeat reach them), durable in the
    /// store.
    pub callbacks: Arc<Callbacks>,
    /// Where the engine is given to the host's nested executions once it exists.
    pub nested: Binding,
}

impl Setup {
    /// What this server cannot run in `machine`, each at its pointer (empty: it can run it).
    pub fn unsupported(&self, machine: &StateMachine) -> Vec<Diagnostic> {
        crate::support::unsupported_served(machine, &self.integrations, self.remote_children)
    }
}

/// Builds the host; its Map Runs' records go to `store`, its activity Tasks to `activities`.
/// Connects to NATS when `--nats` is given (an error names the server).
pub async fn build(
    o: &HostOptions,
    store: Arc<dyn Store>,
    activities: Option<Arc<dyn ActivityQueue>>,
) -> Result<Setup, String> {
    let limit = if o.no_payload_limits { None } else { Some(shared::asl::eval::MAX_PAYLOAD_BYTES) };
    let integrations = Arc::new(match &o.functions {
        Some(path) => Integrations::load(path, limit).map_err(|e| format!("dmap: {e}"))?,
        None => Integrations::none(limit),
    });
    let storage = match &o.config {
        Some(path) => Storage::from_config(path).map_err(|e| format!("dmap: {e}"))?,
        None => Storage::default(),
    };
    let storage = Arc::new(storage.merge(Storage::from_specs(&o.buckets).map_err(|e| format!("dmap: {e}"))?));
    let run_options = RunOptions { max_payload_bytes: limit, ..RunOptions::default() };
    let progress = Arc::new(Progress::silent());
    // Callbacks sit under the Map Runs' host, so in-process children get tokens too; the
    // tokens' key and the accepted callbacks are kept in the store.
    let codec = crate::serve::callback_store::codec(&*store).await.map_err(|e| format!("dmap: the store: {e}"))?;
    let durable = Arc::new(crate::serve::callback_store::StoreCallbacks { store: store.clone() });
    let callbacks = Callbacks::new(codec, Some(durable));
    // Nested executions (`states:startExecution`) are answered under the callbacks (which arm a
    // `.waitForTaskToken` child's token before it starts) and under the Map Runs' host (so
    // in-process children start them too); activity Tasks go to `activities` (GetActivityTask
    // hands them out), from in-process children too.
    let nested = Binding::default();
    let base = CallbackHost {
        base: NestedHost::new(LocalHost::new(integrations.clone()), nested.clone()),
        callbacks: callbacks.clone(),
        activities,
    };
    let transport: Option<Arc<dyn Transport>> = match &o.nats.nats {
        None => None,
        Some(_) => {
            let settings = Settings { nats_replicas: o.nats_replicas.max(1), ..Settings::default() };
            Some(Arc::new(NatsTransport::connect(&o.nats, &settings).await.map_err(|e| format!("dmap: {e}"))?))
        }
    };
    let map_runs = MapRuns::with_observer(Arc::new(StoreObserver::new(store.clone())));
    // In-process children's outcomes are recorded, so that a restart does not run them again.
    let log = |inner| Arc::new(Logged { inner, store }) as Arc<dyn Transport>;
    let host: Arc<dyn Host> =
        EmbeddedHost::with_map_runs_logged(base, storage, run_options, progress, transport, map_runs.clone(), log);
    Ok(Setup {
        host,
        map_runs,
        integrations,
        remote_children: o.nats.nats.is_some(),
        max_payload_bytes: limit,
        callbacks,
        nested,
    })
}
