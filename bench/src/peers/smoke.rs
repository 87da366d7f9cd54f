//! `bench peers-smoke`: installs the peers (or reuses the installation) and runs every peer
//! measurement once at a small N, printing what each ran and what it measured. A minute instead
//! of `bench all`'s half hour: the check to run after changing a pinned version or a driver script.
//! The flags scale any measurement up to the sizes `bench all` uses.

use std::path::PathBuf;
use std::time::Instant;

use super::{Gap, PeerResult, Peers};
use crate::machine;
use crate::scenarios::engine::five_state;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the peers are installed (reused when complete).
    #[arg(long, default_value = "target/bench-peers")]
    dir: PathBuf,
    /// Runs of every measurement.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Executions of the 5-state child in aws-local-stepfunctions.
    #[arg(long, default_value_t = 20_000)]
    als_engine_items: u64,
    /// Items of aws-local-stepfunctions' inline Map (repeat the flag for several sizes).
    #[arg(long = "als-map-items", default_values_t = vec![10_000u64])]
    als_map_items: Vec<u64>,
    /// Waiting children in aws-local-stepfunctions.
    #[arg(long, default_value_t = 10_000)]
    als_waiting: u64,
    /// Items of the multiprocessing and xargs peers.
    #[arg(long, default_value_t = 100_000)]
    python_items: u64,
    /// Lines per chunk of the multiprocessing and xargs peers.
    #[arg(long, default_value_t = 1000)]
    batch: u64,
    /// Waiting children in the Python thread pool.
    #[arg(long, default_value_t = 1000)]
    threadpool_waiting: u64,
    /// Items of moto's inline Map.
    #[arg(long, default_value_t = 200)]
    moto_items: u64,
    /// Waiting children in moto.
    #[arg(long, default_value_t = 1000)]
    moto_waiting: u64,
}

pub fn run(a: &Args) -> anyhow::Result<()> {
    let peers = Peers::install(&a.dir)?;
    println!("machine: {}", machine::describe());
    match peers.install_time() {
        Some(t) => println!("installed into {} in {:.1} s", a.dir.display(), t.as_secs_f64()),
        None => println!("reused the installation in {}", a.dir.display()),
    }
    for (component, version) in peers.versions() {
        println!("- {component} {version}");
    }
    println!();
    println!("| system | detail | median | min | max | unit | peak RSS (MiB) | took (s) |");
    println!("|---|---|---:|---:|---:|---|---:|---:|");
    let jsonl = peers.items(a.python_items)?;
    let timed = |f: &dyn Fn() -> anyhow::Result<PeerResult>| -> anyhow::Result<()> {
        let start = Instant::now();
        let r = f()?;
        row(&r, start.elapsed().as_secs_f64());
        Ok(())
    };
    timed(&|| peers.als_engine(&five_state(), a.als_engine_items, a.runs))?;
    for &n in &a.als_map_items {
        timed(&|| peers.als_inline_map(n, a.runs))?;
    }
    timed(&|| peers.als_waiting(a.als_waiting, a.runs))?;
    timed(&|| peers.multiprocessing(&jsonl, a.python_items, a.batch, a.runs))?;
    timed(&|| peers.xargs(&jsonl, a.python_items, a.batch, a.runs))?;
    timed(&|| peers.threadpool_waiting(a.threadpool_waiting, a.runs))?;
    timed(&|| peers.moto(a.moto_items, a.runs))?;
    timed(&|| peers.moto_waiting(a.moto_waiting, a.runs))?;
    for gap in Gap::ALL {
        row(&peers.gap(gap, "—"), 0.0);
    }
    Ok(())
}

fn row(r: &PeerResult, took: f64) {
    let rss = r.peak_rss_mib.map_or("—".to_string(), |m| format!("{m:.0}"));
    match &r.unsupported {
        Some(why) => println!("| {} | cannot: {why} | — | — | — | {} | — | — |", r.system, r.unit),
        None => {
            let (med, min, max) = machine::stats(r.samples.clone());
            let (med, min, max) = (num(med), num(min), num(max));
            println!("| {} | {} | {med} | {min} | {max} | {} | {rss} | {took:.1} |", r.system, r.detail, r.unit);
        }
    }
}

/// Rates without decimals, seconds with two.
fn num(x: f64) -> String {
    if x >= 100.0 { format!("{x:.0}") } else { format!("{x:.2}") }
}
