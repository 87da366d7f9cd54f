//! The embedded Map Run: N items of JSONL (generated here), `MaxItemsPerBatch: 1000`, each
//! child applying the engine benchmark's 5-state processing to every item of its batch (an
//! inline Map over `$.Items`), results exported by the ResultWriter to a local directory; the
//! same Map Run written in JSONata (with the JSONata 5-state child) runs beside it, run by run.
//! Runs the release `dmap` binary as a child process, so that the time covers everything a
//! user waits for and the peak RSS is the coordinator's own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};

use crate::machine;
use crate::report::stats;
use crate::scenarios::engine::{Refused, compile, five_state, five_state_jsonata};

/// Issue 12's target for the JSONata Map Run, embedded, items per second.
pub const JSONATA_TARGET: f64 = 500_000.0;

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

/// [`definition`] in JSONata: `Arguments` for the ItemReader and the ResultWriter, `Items` for
/// the inline Map, and [`five_state_jsonata`] as the child.
pub fn definition_jsonata(batch: u64) -> Value {
    let mut child = five_state_jsonata();
    // The child's states inherit the top level's query language: whether an ItemProcessor may
    // carry its own `QueryLanguage` key is not documented, so it carries none.
    if let Some(fields) = child.as_object_mut() {
        fields.remove("QueryLanguage");
    }
    json!({
        "Comment": "bench: the 5-state processing in JSONata over every item of 1000-item batches",
        "QueryLanguage": "JSONata",
        "StartAt": "Process",
        "States": {"Process": {
            "Type": "Map",
            "Label": "bench",
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSONL"},
                "Arguments": {"Bucket": "bench-data", "Key": "items.jsonl"}},
            "ItemBatcher": {"MaxItemsPerBatch": batch},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                "StartAt": "EachItem",
                "States": {"EachItem": {"Type": "Map", "Items": "{% $states.input.Items %}", "MaxConcurrency": 1,
                    "ItemProcessor": child, "End": true}}},
            "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                "Arguments": {"Bucket": "bench-results", "Prefix": "run"}},
            "End": true}}
    })
}

/// Whether the engine accepts a definition, checked here so that a refusal is one clear line
/// rather than a failed `dmap` process.
pub fn accepted(def: &Value) -> Result<(), Refused> {
    compile(def).map(|_| ())
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
    anyhow::ensure!(a.runs >= 1, "--runs must be at least 1");
    let dmap = dmap_binary()?;
    println!(
        "embedded Map Run (JSONL, {}-item batches, 5-state child per item, ResultWriter to a local directory), \
         JSONPath and JSONata alternating run by run; machine: {}",
        a.batch,
        machine::describe()
    );
    let jsonata = accepted(&definition_jsonata(a.batch));
    if let Err(why) = &jsonata {
        eprintln!("warning: the JSONata Map Run is not measured: {why}");
    }
    println!("| items | definition | median items/s | min | max | peak RSS (MiB) |");
    println!("|---:|---|---:|---:|---:|---:|");
    let mut ratios = Vec::new();
    for &n in &a.items {
        let work = tempfile_dir()?;
        std::fs::create_dir_all(work.join("data"))?;
        generate(&work.join("data/items.jsonl"), n)?;
        let path_def = work.join("def.json");
        std::fs::write(&path_def, serde_json::to_string_pretty(&definition(a.batch))?)?;
        let ata_def = work.join("def-jsonata.json");
        std::fs::write(&ata_def, serde_json::to_string_pretty(&definition_jsonata(a.batch))?)?;
        let (mut path, mut ata) = (Runs::default(), Runs::default());
        for _ in 0..a.runs {
            path.push(n, run_once(&dmap, &work, &path_def)?);
            if jsonata.is_ok() {
                ata.push(n, run_once(&dmap, &work, &ata_def)?);
            }
        }
        path.print(n, "JSONPath");
        match &jsonata {
            Ok(()) => {
                ata.print(n, "JSONata");
                let pairs: Vec<f64> = ata.rates.iter().zip(&path.rates).map(|(x, y)| x / y).collect();
                ratios.push((n, stats(&pairs)));
            }
            Err(why) => println!("| {n} | JSONata | cannot: {} | — | — | — |", why.replace('|', "\\|")),
        }
        let _ = std::fs::remove_dir_all(&work);
    }
    for (n, (med, min, max)) in ratios {
        println!("JSONata ÷ JSONPath at {n} items, pair by pair: {med:.3} ({min:.3}–{max:.3})");
    }
    println!(
        "issue 12's target: the JSONata Map Run ≥ {} items/s embedded (1,000,000 items)",
        crate::report::number(JSONATA_TARGET)
    );
    Ok(())
}

/// The timed runs of one definition at one size: items/s and the peak RSS.
#[derive(Default)]
struct Runs {
    rates: Vec<f64>,
    peak_kib: u64,
}

impl Runs {
    fn push(&mut self, n: u64, (secs, rss_kib): (f64, u64)) {
        self.rates.push(n as f64 / secs);
        self.peak_kib = self.peak_kib.max(rss_kib);
    }

    fn print(&self, n: u64, name: &str) {
        let (med, min, max) = stats(&self.rates);
        println!("| {n} | {name} | {med:.0} | {min:.0} | {max:.0} | {:.1} |", self.peak_kib as f64 / 1024.0);
    }
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("dmap-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
