//! The embedded Map Run: N items of JSONL (generated here), `MaxItemsPerBatch: 1000`, each
//! child applying the engine benchmark's 5-state processing to every item of its batch (an
//! inline Map over `$.Items`), results exported by the ResultWriter to a local directory.
//! Runs the release `dmap` binary as a child process, so that the time covers everything a
//! user waits for and the peak RSS is the coordinator's own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};

use crate::machine;
use crate::scenarios::engine::five_state;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Items in the dataset (repeat the flag for several sizes).
    #[arg(long = "items", default_values_t = vec![1_000_000u64])]
    items: Vec<u64>,
    /// Timed runs per size (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Items per child.
    #[arg(long, default_value_t = 1000)]
    batch: u64,
}

pub fn definition(batch: u64) -> Value {
    let child = five_state();
    json!({
        "Comment": "bench: 5-state processing over every item of 1000-item batches",
        "StartAt": "Process",
        "States": {"Process": {
            "Type": "Map",
            "Label": "bench",
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSONL"},
                "Parameters": {"Bucket": "bench-data", "Key": "items.jsonl"}},
            "ItemBatcher": {"MaxItemsPerBatch": batch},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                "StartAt": "EachItem",
                "States": {"EachItem": {"Type": "Map", "ItemsPath": "$.Items", "MaxConcurrency": 1,
                    "ItemProcessor": child, "End": true}}},
            "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                "Parameters": {"Bucket": "bench-results", "Prefix": "run"}},
            "End": true}}
    })
}

/// Writes `n` items `{"id": i, "v": i, "name": "item-i"}` as JSON Lines.
pub fn generate(path: &Path, n: u64) -> anyhow::Result<()> {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    for i in 0..n {
        writeln!(w, "{{\"id\":{i},\"v\":{i},\"name\":\"item-{i}\"}}")?;
    }
    w.flush()?;
    Ok(())
}

pub fn dmap_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().context("no directory for the bench binary")?;
    let dmap = dir.join("dmap");
    ensure!(dmap.exists(), "{} is missing: build it with `cargo build --release -p coordinator`", dmap.display());
    Ok(dmap)
}

/// One timed run: (seconds, peak RSS in KiB).
pub fn run_once(dmap: &Path, work: &Path, def: &Path) -> anyhow::Result<(f64, u64)> {
    let results = work.join("results");
    let _ = std::fs::remove_dir_all(&results);
    std::fs::create_dir_all(&results)?;
    let start = Instant::now();
    let mut child = Command::new(dmap)
        .arg("run")
        .arg(def)
        .arg("--quiet")
        .arg("--bucket")
        .arg(format!("bench-data={}", work.join("data").display()))
        .arg("--bucket")
        .arg(format!("bench-results={}", results.display()))
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let (status, rss_kib) = machine::wait_with_peak_rss(&mut child)?;
    let secs = start.elapsed().as_secs_f64();
    if !status.success() {
        bail!("dmap exited with {status}");
    }
    Ok((secs, rss_kib))
}

pub fn run(a: &Args) -> anyhow::Result<()> {
    let dmap = dmap_binary()?;
    println!(
        "embedded Map Run (JSONL, {}-item batches, 5-state child per item, ResultWriter to a local directory); machine: {}",
        a.batch,
        machine::describe()
    );
    println!("| items | median items/s | min | max | peak RSS (MiB) |");
    println!("|---:|---:|---:|---:|---:|");
    for &n in &a.items {
        let work = tempfile_dir()?;
        std::fs::create_dir_all(work.join("data"))?;
        generate(&work.join("data/items.jsonl"), n)?;
        let def = work.join("def.json");
        std::fs::write(&def, serde_json::to_string_pretty(&definition(a.batch))?)?;
        let mut rates = Vec::new();
        let mut peak = 0;
        for _ in 0..a.runs {
            let (secs, rss) = run_once(&dmap, &work, &def)?;
            rates.push(n as f64 / secs);
            peak = peak.max(rss);
        }
        let (med, min, max) = machine::stats(rates);
        println!("| {n} | {med:.0} | {min:.0} | {max:.0} | {:.1} |", peak as f64 / 1024.0);
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("dmap-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
