//! `dmap-worker --nats URL [--functions FILE]`: a stateless worker. Pulls batches of any Map
//! Run from NATS JetStream, runs their children, publishes the outcomes. SIGTERM (or Ctrl-C)
//! drains: no new pulls, in-flight batches finish (or are handed back after --drain-seconds),
//! every function process left is killed with its process group, exit 0.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Parser;

/// The allocator the `dmap` binary uses (measured faster for the engine's many small JSON values).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use worker::executor::Executor;
use worker::host::LocalHost;
use worker::integrations::Integrations;
use worker::nats::connect::{ConnectionState, NatsArgs};
use worker::nats::consume::{Limits, Stats, Worker};
use worker::nats::topology::{self, Settings};
use worker::ops::http::OpsSource;
use worker::ops::logging::LogArgs;
use worker::ops::metrics::MetricsText;

#[derive(Debug, Parser)]
#[command(name = "dmap-worker", version, about = "Runs the children of dmap Map Runs from NATS JetStream")]
struct Args {
    #[command(flatten)]
    nats: NatsArgs,
    #[command(flatten)]
    settings: Settings,
    #[command(flatten)]
    log: LogArgs,
    /// A functions file (TOML) mapping Lambda function names to local implementations, and
    /// HTTP Task connections: the handler code lives with the workers.
    #[arg(long, env = "DMAP_FUNCTIONS", value_name = "FILE")]
    functions: Option<PathBuf>,
    /// Lift AWS's 256 KiB limit on what a function may return.
    #[arg(long)]
    no_payload_limits: bool,
    /// Threads running CPU-bound children (default: the machine's cores).
    #[arg(long, env = "DMAP_THREADS", value_name = "N")]
    threads: Option<usize>,
    /// Messages of children that wait or call out held at once.
    #[arg(long, default_value_t = 4096, env = "DMAP_IO_MESSAGES", value_name = "N")]
    io_messages: usize,
    /// On SIGTERM, seconds in-flight batches may take to finish before they are handed back.
    #[arg(long, default_value_t = 25, env = "DMAP_DRAIN_SECONDS", value_name = "SECONDS")]
    drain_seconds: u64,
    /// Serve /healthz and /metrics on this address (e.g. 0.0.0.0:9090 in a pod).
    #[arg(long, env = "DMAP_LISTEN", value_name = "ADDR")]
    listen: Option<SocketAddr>,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = args.log.init() {
        eprintln!("dmap-worker: {e}");
        std::process::exit(2);
    }
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    if let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global() {
        eprintln!("dmap-worker: cannot start the worker threads: {e}");
        std::process::exit(2);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("dmap-worker: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    let code = rt.block_on(run(args, threads));
    // Batches still running after the drain (handed back) keep their function processes, and
    // `exit` runs no destructor: kill every function process group first.
    worker::integrations::lambda::kill_all_processes();
    std::process::exit(code);
}

async fn run(args: Args, threads: usize) -> i32 {
    let limit = if args.no_payload_limits { None } else { Some(shared::asl::eval::MAX_PAYLOAD_BYTES) };
    let integrations = match &args.functions {
        Some(path) => match Integrations::load(path, limit) {
            Ok(i) => i,
            Err(e) => {
                eprintln!("dmap-worker: {e}");
                return 2;
            }
        },
        None => Integrations::none(limit),
    };
    let connection = Arc::new(ConnectionState::default());
    let client = match args.nats.connect("dmap-worker", connection.clone()).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("dmap-worker: {e}");
            return 2;
        }
    };
    let js = async_nats::jetstream::new(client);
    let side = match topology::worker_side(&js, &args.settings).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("dmap-worker: {e}");
            return 2;
        }
    };
    // Children that call functions or connections reach this worker only if it serves them all.
    let serves = integrations.serves();
    if !serves.is_empty() {
        tracing::info!(serves = %serves.describe(), "serving children that call these");
    }
    let executor = Executor::new(Arc::new(LocalHost::new(Arc::new(integrations))));
    let limits = Limits {
        cpu_messages: threads * 2,
        io_messages: args.io_messages,
        ack_wait: args.settings.ack_wait(),
        max_deliveries: args.settings.max_deliveries,
        drain: Duration::from_secs(args.drain_seconds),
        hand_back: HAND_BACK,
    };
    let worker = Worker::serving(js, side, executor, limits, serves);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let ops = Arc::new(Ops { connection, stats: worker.stats.clone(), stopping: stop_rx.clone() });
    if let Some(addr) = args.listen {
        match worker::ops::http::serve(addr, ops.clone()).await {
            Ok((bound, _)) => tracing::info!(address = %bound, "serving /healthz and /metrics"),
            Err(e) => {
                eprintln!("dmap-worker: cannot listen on {addr}: {e}");
                return 2;
            }
        }
    }
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stopping: no new batches; finishing those in flight");
        let _ = stop_tx.send(true);
    });
    tracing::info!(threads, "worker ready");
    worker.run(stop_rx).await;
    tracing::info!("stopped");
    0
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

/// How long a batch of another protocol version waits before its next delivery: long enough
/// for a worker of that version to take it in between, short enough that its children are
/// answered (FAILED, naming both versions) within a minute when no such worker is up.
const HAND_BACK: Duration = Duration::from_secs(5);

struct Ops {
    connection: Arc<ConnectionState>,
    stats: Arc<Stats>,
    stopping: tokio::sync::watch::Receiver<bool>,
}

impl OpsSource for Ops {
    fn health(&self) -> Result<(), String> {
        if *self.stopping.borrow() {
            return Err("draining".into());
        }
        if !self.connection.connected.load(Ordering::Relaxed) {
            return Err("not connected to NATS".into());
        }
        let stuck = self.stats.stuck_publishes.load(Ordering::Relaxed);
        if stuck > 0 {
            return Err(format!("{stuck} outcome publishes unconfirmed for longer than the ack wait: no progress"));
        }
        Ok(())
    }

    fn metrics(&self) -> String {
        let s = &self.stats;
        let mut m = MetricsText::new();
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        for (outcome, batches, items) in [
            ("succeeded", &s.batches_succeeded, &s.items_succeeded),
            ("failed", &s.batches_failed, &s.items_failed),
            ("timed_out", &s.batches_timed_out, &s.items_timed_out),
        ] {
            m.counter(
                "dmap_worker_batches_total",
                "Child executions finished, by outcome.",
                &[("outcome", outcome)],
                load(batches),
            );
            m.counter(
                "dmap_worker_items_total",
                "Items of finished child executions, by outcome.",
                &[("outcome", outcome)],
                load(items),
            );
        }
        m.counter("dmap_worker_messages_total", "Batch messages received.", &[], load(&s.messages));
        m.gauge(
            "dmap_worker_in_flight_batches",
            "Child executions running now.",
            &[],
            s.in_flight_batches.load(Ordering::Relaxed) as f64,
        );
        m.counter(
            "dmap_worker_redeliveries_total",
            "Batch messages received again after a delivery that did not finish.",
            &[],
            load(&s.redeliveries),
        );
        m.counter(
            "dmap_worker_exhausted_total",
            "Batch messages failed because they reached the maximum deliveries.",
            &[],
            load(&s.exhausted),
        );
        m.counter(
            "dmap_worker_splits_total",
            "Redelivered messages of several children split into one message per child.",
            &[],
            load(&s.splits),
        );
        m.counter("dmap_worker_returned_total", "Batch messages handed back while draining.", &[], load(&s.returned));
        m.counter(
            "dmap_worker_publish_retries_total",
            "Outcome publishes retried for want of a confirmation.",
            &[],
            load(&s.publish_retries),
        );
        m.gauge(
            "dmap_worker_stuck_publishes",
            "Outcome publishes unconfirmed for longer than the ack wait (the worker is unhealthy while any is).",
            &[],
            s.stuck_publishes.load(Ordering::Relaxed) as f64,
        );
        m.counter(
            "dmap_worker_handed_back_total",
            "Batch messages of another protocol version handed back for a worker that reads them.",
            &[],
            load(&s.handed_back),
        );
        m.counter(
            "dmap_worker_terminated_total",
            "Batch messages terminated without an outcome, because nobody could be answered (reason in the log).",
            &[],
            load(&s.terminated),
        );
        self.connection.write_metrics(&mut m);
        m.finish()
    }
}
