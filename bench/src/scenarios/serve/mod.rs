//! `bench serve`: the Step Functions API of `dmap serve`, with durable history, driven by a
//! closed-loop load generator in this process (hyper, N keep-alive connections) against a
//! `dmap serve` child process on loopback with a fresh `--data` directory:
//!
//! - Standard: `StartExecution` of the 3-state machine of [`workload`] with unique names for
//!   the run's duration, then until no execution is RUNNING; started/s, completed/s (executions
//!   ÷ the server's time from the first startDate to the last stopDate), StartExecution's
//!   latency, and the CPU time per execution of the server and of the generator (/proc). Every
//!   acknowledged execution must be listed SUCCEEDED, and a sample is checked through
//!   DescribeExecution and GetExecutionHistory;
//! - Express: `StartSyncExecution` of the same machine as EXPRESS; calls/s, latency and CPU per
//!   call, every answer SUCCEEDED with the output the input implies;
//! - Callbacks: the latency from `SendTaskSuccess` to the next state, with 1,000 callbacks
//!   pending (one at a time and paced), [`callbacks`];
//! - Fan-out: 10,000 `startExecution.sync:2` children from one Distributed Map, against the same
//!   children run in process, [`fanout`].
//!
//! Each round runs a warm-up (its own state machine, not counted) before the timed run. The
//! reference figures are AWS's default quotas (not measurements) and the same machine run by
//! the engine in this process without API or store (what the API and durability add).

mod callbacks;
mod client;
mod fanout;
mod hooks;
mod load;
mod process;
mod report;
mod report_integrations;
mod standard;
mod workload;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use bytes::Bytes;
use serde_json::json;

use crate::cpu;
use crate::scenarios::maprun::dmap_binary;
use client::Conn;
use hooks::Hooks;
use load::{Outcome, Workload, drive};
use process::Server;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Timed rounds (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Seconds of load per timed run.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Seconds of load before each timed run, on a state machine of its own.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Connections of the load generator, each one request in flight.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Threads of the load generator's runtime.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Seconds to wait for the started executions to complete.
    #[arg(long, default_value_t = 300)]
    drain_timeout: u64,
    /// Executions per Standard run checked through DescribeExecution and GetExecutionHistory.
    #[arg(long, default_value_t = 20)]
    verify: u64,
    /// Executions of the in-process engine baseline per round.
    #[arg(long, default_value_t = 200_000)]
    engine_executions: u64,
    /// Parts to run: standard, express, callbacks, fanout. Repeat; default all.
    #[arg(long = "only", value_parser = ["standard", "express", "callbacks", "fanout"])]
    only: Vec<String>,
    /// Callbacks: executions kept waiting for their callback during every timed one.
    #[arg(long, default_value_t = 1000)]
    callbacks_pending: u64,
    /// Callbacks: SendTaskSuccess timed one at a time (each waits for the next state).
    #[arg(long, default_value_t = 1000)]
    callbacks_sequential: u64,
    /// Callbacks: SendTaskSuccess sent at --callbacks-rate, open loop.
    #[arg(long, default_value_t = 1000)]
    callbacks_paced: u64,
    /// Callbacks: SendTaskSuccess per second in the paced part.
    #[arg(long, default_value_t = 500.0)]
    callbacks_rate: f64,
    /// Fan-out: items of the Map, each one nested `.sync:2` child.
    #[arg(long, default_value_t = 10_000)]
    fanout: u64,
    /// Fan-out: the Map's MaxConcurrency.
    #[arg(long, default_value_t = 1000)]
    fanout_concurrency: u64,
    /// Fan-out: nested children checked by DescribeExecution per run.
    #[arg(long, default_value_t = 50)]
    fanout_verify: u64,
    /// An argument for `dmap serve` (repeat), e.g. `--serve-arg=--region --serve-arg=eu-west-1`.
    #[arg(long = "serve-arg", allow_hyphen_values = true)]
    serve_args: Vec<String>,
    /// Also write the results to DIR/<date>-<host>-serve.{json,md} (printed either way).
    #[arg(long)]
    out: Option<PathBuf>,
}

impl Args {
    fn part(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == name)
    }
}

/// The targets.
pub const STANDARD_TARGET: f64 = 5_000.0;
pub const EXPRESS_TARGET: f64 = 20_000.0;

/// One Standard timed run.
#[derive(Debug)]
pub struct StandardRun {
    pub load: Outcome,
    pub started_per_s: f64,
    pub completed_per_s: f64,
    /// From the first request to the moment nothing was RUNNING, by the bench's clock.
    pub drained_after: f64,
    pub server_cpu: f64,
    pub client_cpu: f64,
    pub verified: standard::Verified,
    /// The server's store and engine counters over the run and the drain (zero without them).
    pub store: standard::StoreWork,
}

/// One Express timed run.
#[derive(Debug)]
pub struct ExpressRun {
    pub load: Outcome,
    pub server_cpu: f64,
    pub client_cpu: f64,
}

/// One fan-out round: the nested children and the same children in process.
#[derive(Debug, Clone, Copy)]
pub struct FanoutRun {
    pub nested: fanout::Finished,
    pub in_process: fanout::Finished,
}

/// Every part's rounds.
#[derive(Debug, Default)]
pub struct Runs {
    pub standard: Vec<StandardRun>,
    pub express: Vec<ExpressRun>,
    pub callbacks: Vec<callbacks::CallbackRun>,
    pub fanout: Vec<FanoutRun>,
}

pub fn run(a: &Args) -> anyhow::Result<()> {
    ensure!(
        a.runs >= 1 && a.seconds > 0.0 && a.connections >= 1,
        "--runs, --seconds and --connections must be positive"
    );
    let dmap = dmap_binary()?;
    let engine = report::engine_baseline(a.runs, a.engine_executions)?;
    let work = std::env::temp_dir().join(format!("dmap-bench-serve-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(a.client_threads.max(1)).enable_all().build()?;
    let result = rt.block_on(measure(a, &dmap, &work));
    drop(rt);
    let _ = std::fs::remove_dir_all(&work);
    let (runs, metrics) = result?;
    let mut r =
        crate::report::Report::new(&format!("bench {}", std::env::args().skip(1).collect::<Vec<_>>().join(" ")));
    report::record(&mut r, a, &runs.standard, &runs.express, &engine);
    report_integrations::record(&mut r, a, &runs.callbacks, &runs.fanout);
    println!("\n{}", r.markdown());
    if !metrics.is_empty() {
        println!("dmap serve's /metrics after the runs (executions, transitions, store):\n{metrics}");
    }
    report::targets(&r);
    report_integrations::targets(&r);
    if let Some(out) = &a.out {
        for p in r.write_named(out, "serve")? {
            eprintln!("wrote {}", p.display());
        }
    }
    Ok(())
}

async fn measure(a: &Args, dmap: &Path, work: &Path) -> anyhow::Result<(Runs, String)> {
    // The functions the callback workload calls are served by this process (hooks.rs).
    let hooks = Hooks::start().await?;
    let functions = work.join("functions.toml");
    std::fs::write(&functions, hooks.functions_toml())?;
    let mut serve_args = a.serve_args.clone();
    serve_args.extend(["--functions".to_string(), functions.display().to_string()]);
    let mut server = Server::start(dmap, work, &serve_args).await?;
    eprintln!("dmap serve: pid {} on {}, data {}", server.pid(), server.addr, server.data.display());
    let mut conn = Conn::open(server.addr).await?;
    let mut runs = Runs::default();
    let express_arn = if a.part("express") { Some(create(&mut conn, "bench-express", "EXPRESS").await?) } else { None };
    for round in 0..a.runs {
        if a.part("standard") {
            let r = standard_round(a, &mut server, &mut conn, round)
                .await
                .with_context(|| format!("Standard round {round}"))?;
            eprintln!(
                "standard round {round}: {} started, {:.0}/s started, {:.0}/s completed, none RUNNING after {:.2} s, p50 \
                 {:.2} ms, p99 {:.2} ms, server {:.1} µs/execution; store: {:.0} groups of {:.1} units, {:.2} ms \
                 per commit, {:.1} events per execution",
                r.load.ok,
                r.started_per_s,
                r.completed_per_s,
                r.drained_after,
                r.load.latency_ms(0.5),
                r.load.latency_ms(0.99),
                r.server_cpu * 1e6 / r.load.ok as f64,
                r.store.groups,
                r.store.units / r.store.groups,
                r.store.commit_seconds * 1e3 / r.store.groups,
                r.store.events / r.load.ok as f64
            );
            runs.standard.push(r);
        }
        if let Some(arn) = &express_arn {
            let r = express_round(a, &mut server, arn).await.with_context(|| format!("Express round {round}"))?;
            eprintln!(
                "express round {round}: {:.0} calls/s, p50 {:.2} ms, p99 {:.2} ms, server {:.1} µs/call",
                r.load.rate(),
                r.load.latency_ms(0.5),
                r.load.latency_ms(0.99),
                r.server_cpu * 1e6 / r.load.ok as f64
            );
            runs.express.push(r);
        }
        if a.part("callbacks") {
            let r = callbacks_round(a, &mut server, &mut conn, &hooks, round)
                .await
                .with_context(|| format!("callbacks round {round}"))?;
            let q = |v: &[callbacks::Sample], f: fn(&callbacks::Sample) -> u32, q: f64| {
                load::quantile_ms(&v.iter().map(f).collect::<Vec<_>>(), q)
            };
            eprintln!(
                "callbacks round {round}: {} pending after {:.2} s; one at a time: next state's call p50 {:.2} ms, p99 {:.2} ms; paced \
                 at {:.0}/s: p50 {:.2} ms, p99 {:.2} ms; server {:.1} µs/callback",
                r.pending_at_start,
                r.all_pending_after,
                q(&r.sequential, |s| s.next_call_us, 0.5),
                q(&r.sequential, |s| s.next_call_us, 0.99),
                r.paced_rate,
                q(&r.paced, |s| s.next_call_us, 0.5),
                q(&r.paced, |s| s.next_call_us, 0.99),
                r.server_cpu_us
            );
            runs.callbacks.push(r);
        }
        if a.part("fanout") {
            let r = fanout_round(a, &mut server, &mut conn, round)
                .await
                .with_context(|| format!("fan-out round {round}"))?;
            eprintln!(
                "fan-out round {round}: {} nested .sync:2 children in {:.2} s, in process {:.2} s ({:.1}×)",
                a.fanout,
                r.nested.server_seconds,
                r.in_process.server_seconds,
                r.nested.server_seconds / r.in_process.server_seconds
            );
            runs.fanout.push(r);
        }
    }
    let metrics = metrics_excerpt(server.addr).await.unwrap_or_default();
    Ok((runs, metrics))
}

/// CreateStateMachine of `definition` as STANDARD; its ARN.
async fn create_def(conn: &mut Conn, name: &str, definition: &str) -> anyhow::Result<String> {
    let body = json!({"name": name, "definition": definition, "roleArn": workload::ROLE, "type": "STANDARD"});
    let answer = conn.call("CreateStateMachine", Bytes::from(body.to_string())).await?;
    answer["stateMachineArn"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("CreateStateMachine answered {answer}"))
}

async fn callbacks_round(
    a: &Args,
    server: &mut Server,
    conn: &mut Conn,
    hooks: &Hooks,
    round: usize,
) -> anyhow::Result<callbacks::CallbackRun> {
    let timeout = Duration::from_secs(a.drain_timeout);
    let plan = callbacks::Plan {
        pending: a.callbacks_pending,
        sequential: a.callbacks_sequential,
        paced: a.callbacks_paced,
        rate: a.callbacks_rate,
        connections: 16,
    };
    ensure!(plan.sequential + plan.paced > 0 && plan.rate > 0.0, "nothing to time: --callbacks-sequential/paced/rate");
    if a.warmup > 0.0 {
        // A small round of its own first: connections, the functions' pools, the store's pages.
        let arn = create_def(conn, &format!("bench-callbacks-warm-{round}"), callbacks::DEFINITION).await?;
        let warm = callbacks::Plan { pending: 50, sequential: 50, paced: 50, ..plan };
        callbacks::round(warm, server, conn, hooks, &arn, &format!("w{round}"), timeout).await.context("warm-up")?;
    }
    let arn = create_def(conn, &format!("bench-callbacks-{round}"), callbacks::DEFINITION).await?;
    let r = callbacks::round(plan, server, conn, hooks, &arn, &format!("cb{round}"), timeout).await?;
    server.running()?;
    Ok(r)
}

async fn fanout_round(a: &Args, server: &mut Server, conn: &mut Conn, round: usize) -> anyhow::Result<FanoutRun> {
    let timeout = Duration::from_secs(a.drain_timeout);
    let local =
        create_def(conn, &format!("bench-in-process-{round}"), &fanout::in_process_parent(a.fanout_concurrency))
            .await?;
    let in_process = fanout::run_parent(conn, &local, "run", a.fanout, timeout).await.context("in process")?;
    eprintln!("fan-out round {round}: in process {:.2} s", in_process.server_seconds);
    let child = create_def(conn, &format!("bench-child-{round}"), fanout::CHILD).await?;
    let nested =
        create_def(conn, &format!("bench-fanout-{round}"), &fanout::nested_parent(&child, a.fanout_concurrency))
            .await?;
    let nested_run = fanout::run_parent(conn, &nested, "run", a.fanout, timeout).await.context("nested")?;
    fanout::check_children(conn, &child, a.fanout, a.fanout_verify).await?;
    server.running()?;
    Ok(FanoutRun { nested: nested_run, in_process })
}

/// CreateStateMachine of [`workload::DEFINITION`]; its ARN.
async fn create(conn: &mut Conn, name: &str, kind: &str) -> anyhow::Result<String> {
    let body = json!({"name": name, "definition": workload::DEFINITION, "roleArn": workload::ROLE, "type": kind});
    let answer = conn.call("CreateStateMachine", Bytes::from(body.to_string())).await?;
    answer["stateMachineArn"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("CreateStateMachine answered {answer}"))
}

/// Runs the generator, failing on any wrong answer.
async fn timed(a: &Args, addr: SocketAddr, seconds: f64, w: Arc<dyn Workload>) -> anyhow::Result<Outcome> {
    let out = drive(addr, a.connections, Duration::from_secs_f64(seconds), w).await;
    ensure!(
        out.failed == 0,
        "{} of {} requests failed; the first: {}",
        out.failed,
        out.failed + out.ok,
        out.first_failure.as_deref().unwrap_or("?")
    );
    Ok(out)
}

async fn standard_round(a: &Args, server: &mut Server, conn: &mut Conn, round: usize) -> anyhow::Result<StandardRun> {
    let drain_timeout = Duration::from_secs(a.drain_timeout);
    let warm = create(conn, &format!("bench-standard-warm-{round}"), "STANDARD").await?;
    if a.warmup > 0.0 {
        let w = Arc::new(workload::Start { state_machine_arn: warm.clone(), prefix: format!("w{round}") });
        timed(a, server.addr, a.warmup, w).await.context("warm-up")?;
        standard::drain(conn, &warm, drain_timeout).await.context("warm-up")?;
    }
    let arn = create(conn, &format!("bench-standard-{round}"), "STANDARD").await?;
    let w = Arc::new(workload::Start { state_machine_arn: arn.clone(), prefix: format!("r{round}") });
    let metrics0 = scrape(server.addr).await;
    let (server0, client0, t0) = (cpu::process_seconds(server.pid())?, cpu::own_seconds()?, Instant::now());
    let load = timed(a, server.addr, a.seconds, w).await?;
    let client_cpu = cpu::own_seconds()? - client0;
    let drained = standard::drain(conn, &arn, drain_timeout).await?;
    let server_cpu = cpu::process_seconds(server.pid())? - server0;
    server.running()?;
    let store = standard::StoreWork::between(&metrics0, &scrape(server.addr).await);
    let drained_after = (drained - t0).as_secs_f64();

    let every = (load.ok / a.verify.max(1)).max(1);
    let tally = standard::tally(conn, &arn, every).await?;
    ensure!(
        tally.total() == load.ok && tally.succeeded() == load.ok,
        "{} executions were acknowledged; ListExecutions lists {:?}",
        load.ok,
        tally.by_status
    );
    let verified = standard::verify(conn, &tally.sample).await?;
    let span = tally.span();
    // Without dates (or with coarse ones) the bench's own clock is the fallback.
    let completed_per_s =
        if span.is_finite() && span > 0.0 { load.ok as f64 / span } else { load.ok as f64 / drained_after };
    Ok(StandardRun {
        started_per_s: load.rate(),
        completed_per_s,
        drained_after,
        server_cpu,
        client_cpu,
        verified,
        store,
        load,
    })
}

async fn express_round(a: &Args, server: &mut Server, arn: &str) -> anyhow::Result<ExpressRun> {
    let w: Arc<dyn Workload> = Arc::new(workload::StartSync { state_machine_arn: arn.to_string() });
    if a.warmup > 0.0 {
        timed(a, server.addr, a.warmup, w.clone()).await.context("warm-up")?;
    }
    let (server0, client0) = (cpu::process_seconds(server.pid())?, cpu::own_seconds()?);
    let load = timed(a, server.addr, a.seconds, w).await?;
    let server_cpu = cpu::process_seconds(server.pid())? - server0;
    let client_cpu = cpu::own_seconds()? - client0;
    server.running()?;
    Ok(ExpressRun { load, server_cpu, client_cpu })
}

/// `/metrics` as samples; empty when it cannot be read (the counters are then reported as 0).
async fn scrape(addr: SocketAddr) -> std::collections::BTreeMap<String, f64> {
    match Conn::open(addr).await {
        Ok(mut c) => match c.get("/metrics").await {
            Ok((200, body)) => standard::samples(&String::from_utf8_lossy(&body)),
            _ => Default::default(),
        },
        Err(_) => Default::default(),
    }
}

/// The `/metrics` samples about executions, transitions and the store's commits.
async fn metrics_excerpt(addr: SocketAddr) -> anyhow::Result<String> {
    let (status, body) = Conn::open(addr).await?.get("/metrics").await?;
    ensure!(status == 200, "GET /metrics answered {status}");
    let text = String::from_utf8_lossy(&body);
    let keep = |l: &&str| {
        ["dmap_executions", "dmap_transitions", "dmap_store"].iter().any(|p| l.starts_with(p)) && !l.contains("_bucket")
    };
    Ok(text.lines().filter(keep).take(60).collect::<Vec<_>>().join("\n"))
}
