//! Map Runs over NATS JetStream against the embedded default, in the same invocation, on a
//! nats-server started here (loopback, temporary file store) and `dmap-worker` processes kept
//! running across the timed runs:
//!
//! - batched: the `maprun` scenario's workload (N JSONL items, 1000-item batches, 5-state
//!   processing per item, ResultWriter to a local directory), embedded and with W workers;
//! - unbatched: one child execution per item (the 5-state child), child executions/s;
//! - waiting: 100,000 items, `MaxConcurrency: 100000`, every child waits 5 s: seconds to finish.
//!
//! Each timed run is a whole `dmap run` process, from start to exit. Embedded and distributed
//! runs alternate, so that a slow moment of a shared machine hits both.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::machine;
use crate::scenarios::engine::five_state;
use crate::scenarios::maprun::{definition, dmap_binary, generate};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Items of the batched run.
    #[arg(long, default_value_t = 1_000_000)]
    items: u64,
    /// Items of the unbatched run (one child each).
    #[arg(long, default_value_t = 200_000)]
    unbatched_items: u64,
    /// Children of the waiting run.
    #[arg(long, default_value_t = 100_000)]
    waiting_items: u64,
    /// Worker counts to measure (repeat the flag).
    #[arg(long = "workers", default_values_t = vec![2usize])]
    workers: Vec<usize>,
    /// Timed runs per configuration (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Items per child of the batched run (MaxItemsPerBatch).
    #[arg(long, default_value_t = 1000)]
    batch: u64,
    /// Scenarios to run: batched, unbatched, waiting (repeat; default all).
    #[arg(long = "only")]
    only: Vec<String>,
}

/// Worker processes killed when dropped.
pub struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn start_workers(dir: &Path, url: &str, n: usize) -> anyhow::Result<Workers> {
    let bin = dir.join("dmap-worker");
    if !bin.exists() {
        bail!("{} is missing: build it with `cargo build --release -p worker`", bin.display());
    }
    let mut ws = Workers(Vec::new());
    for _ in 0..n {
        ws.0.push(
            Command::new(&bin)
                .args(["--nats", url, "--log-level", "warn"])
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .with_context(|| format!("starting {}", bin.display()))?,
        );
    }
    Ok(ws)
}

/// One `dmap run`: seconds from start to exit.
pub fn run_once(dmap: &Path, work: &Path, def: &Path, nats: Option<&str>) -> anyhow::Result<f64> {
    let results = work.join("results");
    let _ = std::fs::remove_dir_all(&results);
    std::fs::create_dir_all(&results)?;
    let mut cmd = Command::new(dmap);
    cmd.arg("run")
        .arg(def)
        .arg("--quiet")
        .args(["--log-level", "warn"])
        .arg("--bucket")
        .arg(format!("bench-data={}", work.join("data").display()))
        .arg("--bucket")
        .arg(format!("bench-results={}", results.display()))
        .stdout(Stdio::null());
    if let Some(url) = nats {
        cmd.args(["--nats", url]);
    }
    let start = Instant::now();
    let status = cmd.status()?;
    let secs = start.elapsed().as_secs_f64();
    if !status.success() {
        bail!("dmap exited with {status}");
    }
    Ok(secs)
}

pub fn unbatched_definition() -> Value {
    let mut d = definition(1);
    let states = d["States"]["Process"].as_object_mut().expect("Map state");
    states.remove("ItemBatcher");
    let mut child = five_state();
    child["ProcessorConfig"] = json!({"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"});
    states.insert("ItemProcessor".into(), child);
    d
}

pub fn waiting_definition() -> Value {
    let mut d = definition(1);
    let states = d["States"]["Process"].as_object_mut().expect("Map state");
    states.remove("ItemBatcher");
    states.insert("MaxConcurrency".into(), json!(100_000));
    states.insert(
        "ItemProcessor".into(),
        json!({"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 5, "End": true}}}),
    );
    d
}

struct Measured {
    embedded: Vec<f64>,
    distributed: Vec<Vec<f64>>,
}

/// Alternates embedded and distributed runs (for every worker count) `runs` times.
fn measure(
    a: &Args,
    dmap: &Path,
    work: &Path,
    def: &Path,
    url: &str,
    embedded: bool,
    n: u64,
) -> anyhow::Result<Measured> {
    let dir = dmap.parent().context("dmap has a directory")?.to_path_buf();
    let mut m = Measured { embedded: Vec::new(), distributed: vec![Vec::new(); a.workers.len()] };
    // One untimed distributed run warms the server's streams and the workers' caches.
    {
        let _w = start_workers(&dir, url, a.workers[0])?;
        run_once(dmap, work, def, Some(url))?;
    }
    for _ in 0..a.runs {
        if embedded {
            m.embedded.push(n as f64 / run_once(dmap, work, def, None)?);
        }
        for (i, &w) in a.workers.iter().enumerate() {
            let _workers = start_workers(&dir, url, w)?;
            std::thread::sleep(std::time::Duration::from_millis(300));
            m.distributed[i].push(n as f64 / run_once(dmap, work, def, Some(url))?);
        }
    }
    Ok(m)
}

pub fn run(a: &Args) -> anyhow::Result<()> {
    let dmap = dmap_binary()?;
    let nats = testkit::NatsServer::start();
    let url = nats.url();
    let work = std::env::temp_dir().join(format!("dmap-bench-dist-{}", std::process::id()));
    std::fs::create_dir_all(work.join("data"))?;
    let want = |s: &str| a.only.is_empty() || a.only.iter().any(|o| o == s);
    println!("machine: {}", machine::describe());
    println!("nats-server: {}, loopback, file storage; workers: {:?}", nats_version(), a.workers);

    if want("batched") {
        generate(&work.join("data/items.jsonl"), a.items)?;
        let def = write_def(&work, "batched.json", &definition(a.batch))?;
        let m = measure(a, &dmap, &work, &def, &url, true, a.items)?;
        println!(
            "\nbatched: {} JSONL items, {}-item batches, 5-state processing per item, ResultWriter to a local directory",
            a.items, a.batch
        );
        table("items/s", &m, &a.workers);
    }
    if want("unbatched") {
        generate(&work.join("data/items.jsonl"), a.unbatched_items)?;
        let def = write_def(&work, "unbatched.json", &unbatched_definition())?;
        let m = measure(a, &dmap, &work, &def, &url, true, a.unbatched_items)?;
        println!("\nunbatched: {} items, one 5-state child execution per item", a.unbatched_items);
        table("child executions/s", &m, &a.workers);
    }
    if want("waiting") {
        generate(&work.join("data/items.jsonl"), a.waiting_items)?;
        let def = write_def(&work, "waiting.json", &waiting_definition())?;
        let m = measure(a, &dmap, &work, &def, &url, false, a.waiting_items)?;
        println!("\nwaiting: {} children, MaxConcurrency 100000, each waits 5 s", a.waiting_items);
        println!("| workers | median seconds | min | max |");
        println!("|---:|---:|---:|---:|");
        for (i, w) in a.workers.iter().enumerate() {
            let secs: Vec<f64> = m.distributed[i].iter().map(|r| a.waiting_items as f64 / r).collect();
            let (med, min, max) = machine::stats(secs);
            println!("| {w} | {med:.2} | {min:.2} | {max:.2} |");
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

fn table(unit: &str, m: &Measured, workers: &[usize]) {
    println!("| mode | median {unit} | min | max | ÷ embedded (pair by pair, median) |");
    println!("|---|---:|---:|---:|---:|");
    let (emed, emin, emax) = machine::stats(m.embedded.clone());
    println!("| embedded | {emed:.0} | {emin:.0} | {emax:.0} | 1.00 |");
    for (i, w) in workers.iter().enumerate() {
        let (med, min, max) = machine::stats(m.distributed[i].clone());
        let ratios: Vec<f64> = m.distributed[i].iter().zip(&m.embedded).map(|(d, e)| d / e).collect();
        let (r, _, _) = machine::stats(ratios);
        println!("| NATS, {w} workers | {med:.0} | {min:.0} | {max:.0} | {r:.2} |");
    }
}

pub fn write_def(work: &Path, name: &str, def: &Value) -> anyhow::Result<PathBuf> {
    let p = work.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(def)?)?;
    Ok(p)
}

pub fn nats_version() -> String {
    Command::new(testkit::nats_server_binary())
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
