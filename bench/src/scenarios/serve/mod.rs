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
//!   call, every answer SUCCEEDED with the output the input implies.
//!
//! Each round runs a warm-up (its own state machine, not counted) before the timed run. The
//! reference figures are AWS's default quotas (not measurements) and the same machine run by
//! the engine in this process without API or store (what the API and durability add).

mod client;
mod load;
mod process;
mod report;
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
    /// Parts to run: standard, express. Repeat; default both.
    #[arg(long = "only", value_parser = ["standard", "express"])]
    only: Vec<String>,
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
    let (standard, express, metrics) = result?;
    let mut r =
        crate::report::Report::new(&format!("bench {}", std::env::args().skip(1).collect::<Vec<_>>().join(" ")));
    report::record(&mut r, a, &standard, &express, &engine);
    println!("\n{}", r.markdown());
    if !metrics.is_empty() {
        println!("dmap serve's /metrics after the runs (executions, transitions, store):\n{metrics}");
    }
    report::targets(&r);
    if let Some(out) = &a.out {
        for p in r.write_named(out, "serve")? {
            eprintln!("wrote {}", p.display());
        }
    }
    Ok(())
}

async fn measure(a: &Args, dmap: &Path, work: &Path) -> anyhow::Result<(Vec<StandardRun>, Vec<ExpressRun>, String)> {
    let mut server = Server::start(dmap, work, &a.serve_args).await?;
    eprintln!("dmap serve: pid {} on {}, data {}", server.pid(), server.addr, server.data.display());
    let mut conn = Conn::open(server.addr).await?;
    let (mut standard, mut express) = (Vec::new(), Vec::new());
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
            standard.push(r);
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
            express.push(r);
        }
    }
    let metrics = metrics_excerpt(server.addr).await.unwrap_or_default();
    Ok((standard, express, metrics))
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
