//! Task integrations: Map Runs whose children call a Python function through dmap's JSON Lines
//! runtime (`examples/python/dmap_runtime.py`, handlers in `bench/functions/handlers.py`), in
//! one invocation:
//!
//! 1. batched — a Distributed Map over N JSONL items, `MaxItemsPerBatch: 1000`, each child one
//!    `arn:aws:states:::lambda:invoke` with `Payload.$: $` whose function applies the per-item
//!    work (`{"id": id, "double": v * 2}`) to every item of the batch, ResultWriter to a local
//!    directory: items/s;
//! 2. the baseline — the same work on the same data with one `python3` process per 1000-item
//!    batch, `xargs -P2 -n1 python3 bench/functions/batch_once.py OUT` over chunk files
//!    written beforehand (untimed), each process writing its results to a file: items/s, and
//!    the ratio of (1) to it within the same round;
//! 3. unbatched — a Distributed Map without ItemBatcher over M items, each child one
//!    `lambda:invoke` of a trivial function: invocations/s.
//!
//! The scenarios alternate within each round, so that a background load (another build on the
//! machine) weighs on all of them alike. dmap runs as the release binary in a child process,
//! as in `maprun`, so the time covers everything a user waits for, the Python processes'
//! start included. Both dmap and the baseline run the interpreter `python3` resolves to
//! (`sys.executable`), so that a version manager's shim script (pyenv) does not slow down the
//! baseline's per-batch process starts.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};

use crate::machine;
use crate::scenarios::maprun::{dmap_binary, generate};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Items of the batched Map Run and of the baseline.
    #[arg(long, default_value_t = 1_000_000)]
    pub items: u64,
    /// Items (one invocation each) of the unbatched Map Run.
    #[arg(long, default_value_t = 100_000)]
    pub unbatched_items: u64,
    /// Timed rounds (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Items per batch (dmap's `MaxItemsPerBatch`, the baseline's chunk size).
    #[arg(long, default_value_t = 1000)]
    pub batch: u64,
    /// The functions' `concurrency`: Python processes in dmap's pool (default: twice the core
    /// count, which measured better than the core count on 2 cores — a process waits on its
    /// pipe between calls — and no worse than 8).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// `MaxConcurrency` of both Map Runs (default: unset, AWS's 10,000 children at once).
    #[arg(long)]
    pub max_concurrency: Option<u64>,
    /// Parallel processes of the baseline (`xargs -P`).
    #[arg(long, default_value_t = 2)]
    pub baseline_parallel: usize,
    /// The Python interpreter (default: the one `python3` on PATH resolves to).
    #[arg(long)]
    pub python: Option<PathBuf>,
}

/// Targets of the task-integration issue.
const BATCHED_TARGET: f64 = 150_000.0;
const RATIO_TARGET: f64 = 4.0;
const UNBATCHED_TARGET: f64 = 20_000.0;

fn reader() -> Value {
    json!({"Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSONL"},
        "Parameters": {"Bucket": "bench-data", "Key": "items.jsonl"}})
}

fn writer() -> Value {
    json!({"Resource": "arn:aws:states:::s3:putObject",
        "Parameters": {"Bucket": "bench-results", "Prefix": "run"}})
}

/// A child calling `function` with its whole input, keeping the function's result as its
/// output (`OutputPath: $.Payload`, as Workflow Studio writes a Lambda Invoke state).
fn invoke(function: &str) -> Value {
    json!({"StartAt": "Call", "States": {"Call": {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function, "Payload.$": "$"},
        "OutputPath": "$.Payload",
        "End": true}}})
}

fn processor(function: &str) -> Value {
    let mut p = invoke(function);
    p["ProcessorConfig"] = json!({"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"});
    p
}

/// The batched Map Run: every batch of `batch` items to the `double` function.
pub fn batched_definition(batch: u64, max_concurrency: Option<u64>) -> Value {
    with_max_concurrency(
        json!({
            "Comment": "bench functions: a Python function doubles every item of 1000-item batches",
            "StartAt": "Process",
            "States": {"Process": {
                "Type": "Map",
                "Label": "batched",
                "ItemReader": reader(),
                "ItemBatcher": {"MaxItemsPerBatch": batch},
                "ItemProcessor": processor("double"),
                "ResultWriter": writer(),
                "End": true}}
        }),
        max_concurrency,
    )
}

/// The unbatched Map Run: one call of the `trivial` function per item.
pub fn unbatched_definition(max_concurrency: Option<u64>) -> Value {
    with_max_concurrency(
        json!({
            "Comment": "bench functions: one Python function call per item",
            "StartAt": "Process",
            "States": {"Process": {
                "Type": "Map",
                "Label": "unbatched",
                "ItemReader": reader(),
                "ItemProcessor": processor("trivial"),
                "ResultWriter": writer(),
                "End": true}}
        }),
        max_concurrency,
    )
}

fn with_max_concurrency(mut def: Value, max_concurrency: Option<u64>) -> Value {
    if let Some(n) = max_concurrency {
        def["States"]["Process"]["MaxConcurrency"] = json!(n);
    }
    def
}

/// A TOML basic string (JSON's escapes are TOML's for what a path holds).
fn toml_str(p: &Path) -> String {
    Value::String(p.display().to_string()).to_string()
}

/// The functions file: `double` and `trivial` from bench/functions/handlers.py, served by
/// examples/python/dmap_runtime.py.
fn functions_file(python: &Path, root: &Path, concurrency: usize) -> String {
    let runtime = root.join("examples/python/dmap_runtime.py");
    let dir = root.join("bench/functions");
    let mut text = String::new();
    for name in ["double", "trivial"] {
        text.push_str(&format!(
            "[functions.{name}]\ncommand = [{}, {}, \"handlers:{name}\"]\nworking_dir = {}\nconcurrency = {concurrency}\n\n",
            toml_str(python),
            toml_str(&runtime),
            toml_str(&dir),
        ));
    }
    text
}

/// The interpreter `python3` resolves to, past any shim script.
pub fn resolve_python() -> anyhow::Result<PathBuf> {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .context("cannot run python3")?;
    ensure!(out.status.success(), "python3 -c failed: {}", String::from_utf8_lossy(&out.stderr));
    let path = PathBuf::from(String::from_utf8(out.stdout)?.trim());
    ensure!(path.is_absolute(), "python3 reports no executable path");
    Ok(path)
}

fn python_version(python: &Path) -> String {
    Command::new(python)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|_| "unknown Python".into())
}

/// One `dmap run` of `def` over `data`: (seconds, peak RSS in KiB). The results directory is
/// left for checking.
fn run_dmap(dmap: &Path, def: &Path, functions: &Path, data: &Path, results: &Path) -> anyhow::Result<(f64, u64)> {
    let _ = std::fs::remove_dir_all(results);
    std::fs::create_dir_all(results)?;
    let start = Instant::now();
    let mut child = Command::new(dmap)
        .arg("run")
        .arg(def)
        .arg("--quiet")
        .arg("--functions")
        .arg(functions)
        .arg("--bucket")
        .arg(format!("bench-data={}", data.display()))
        .arg("--bucket")
        .arg(format!("bench-results={}", results.display()))
        .stdout(Stdio::null())
        .spawn()?;
    let (status, rss_kib) = machine::wait_with_peak_rss(&mut child)?;
    let secs = start.elapsed().as_secs_f64();
    if !status.success() {
        bail!("dmap exited with {status} running {}", def.display());
    }
    Ok((secs, rss_kib))
}

/// Checks (untimed) that every item succeeded: the manifest lists no FAILED or PENDING file,
/// and the SUCCEEDED files hold `children` records, the first one with the function's output.
fn check_results(results: &Path, children: u64, output_has: &str) -> anyhow::Result<()> {
    let run_dir =
        std::fs::read_dir(results.join("run"))?.next().context("no Map Run directory under the results")??.path();
    let manifest: Value = serde_json::from_slice(&std::fs::read(run_dir.join("manifest.json"))?)?;
    let files = &manifest["ResultFiles"];
    for status in ["FAILED", "PENDING"] {
        let n = files[status].as_array().map_or(0, Vec::len);
        ensure!(n == 0, "{n} {status} result files in {}", run_dir.display());
    }
    let mut records = 0u64;
    let mut first = None;
    for file in files["SUCCEEDED"].as_array().context("no SUCCEEDED list in the manifest")? {
        let key = file["Key"].as_str().context("a result file without Key")?;
        let name = Path::new(key).file_name().context("an empty result key")?;
        let list: Vec<Value> = serde_json::from_slice(&std::fs::read(run_dir.join(name))?)?;
        records += list.len() as u64;
        if first.is_none() {
            first = list.into_iter().next();
        }
    }
    ensure!(records == children, "{records} SUCCEEDED records, expected {children}");
    let output = first.as_ref().and_then(|r| r["Output"].as_str()).unwrap_or("");
    ensure!(output.contains(output_has), "unexpected child output: {output:.200}");
    Ok(())
}

/// Splits the dataset into `batch`-line chunk files (untimed) and returns their names.
fn split(data: &Path, chunks: &Path, batch: u64) -> anyhow::Result<Vec<String>> {
    use std::io::{BufRead, Write};
    std::fs::create_dir_all(chunks)?;
    let mut names = Vec::new();
    let mut out: Option<std::io::BufWriter<std::fs::File>> = None;
    for (i, line) in std::io::BufReader::new(std::fs::File::open(data)?).lines().enumerate() {
        if (i as u64).is_multiple_of(batch) {
            if let Some(mut w) = out.take() {
                w.flush()?;
            }
            let name = format!("chunk-{:07}.jsonl", names.len());
            out = Some(std::io::BufWriter::new(std::fs::File::create(chunks.join(&name))?));
            names.push(name);
        }
        let w = out.as_mut().context("no chunk open")?;
        w.write_all(line?.as_bytes())?;
        w.write_all(b"\n")?;
    }
    if let Some(mut w) = out {
        w.flush()?;
    }
    Ok(names)
}

/// One timed baseline run: `ls | xargs -P<p> -n1 python3 batch_once.py OUT` in the chunk
/// directory (the listing is written to xargs's stdin); seconds.
pub fn run_baseline(
    python: &Path,
    script: &Path,
    chunks: &Path,
    names: &[String],
    out: &Path,
    p: usize,
) -> anyhow::Result<f64> {
    use std::io::Write;
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out)?;
    let start = Instant::now();
    let mut child = Command::new("xargs")
        .arg(format!("-P{p}"))
        .arg("-n1")
        .arg(python)
        .arg(script)
        .arg(out)
        .current_dir(chunks)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .spawn()
        .context("cannot run xargs")?;
    {
        let mut stdin = std::io::BufWriter::new(child.stdin.take().context("no stdin for xargs")?);
        for name in names {
            writeln!(stdin, "{name}")?;
        }
    }
    let status = child.wait()?;
    let secs = start.elapsed().as_secs_f64();
    ensure!(status.success(), "xargs exited with {status}");
    let written = std::fs::read_dir(out)?.count();
    ensure!(written == names.len(), "the baseline wrote {written} files for {} chunks", names.len());
    Ok(secs)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// `1234567` as `1,234,567`.
fn grouped(x: f64) -> String {
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn met(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

/// What one invocation measured, run by run (rounds alternate the three).
#[derive(Debug, Default)]
pub struct Samples {
    pub batched: Vec<f64>,
    pub baseline: Vec<f64>,
    pub unbatched: Vec<f64>,
    pub python: String,
    pub concurrency: usize,
}

pub fn run(a: &Args) -> anyhow::Result<()> {
    samples(a).map(|_| ())
}

/// Sets up, measures, prints the table, and returns the samples.
pub fn samples(a: &Args) -> anyhow::Result<Samples> {
    ensure!(a.runs > 0 && a.items > 0 && a.unbatched_items > 0 && a.batch > 0, "counts must be positive");
    let dmap = dmap_binary()?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("no repository root")?.to_path_buf();
    let python = match &a.python {
        Some(p) => p.clone(),
        None => resolve_python()?,
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let concurrency = a.concurrency.unwrap_or(2 * cores);

    let work = std::env::temp_dir().join(format!("dmap-bench-functions-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let result = measure(a, &dmap, &root, &python, concurrency, &work);
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// Everything after the set-up, in the scratch directory `work`.
fn measure(
    a: &Args,
    dmap: &Path,
    root: &Path,
    python: &Path,
    concurrency: usize,
    work: &Path,
) -> anyhow::Result<Samples> {
    let script = root.join("bench/functions/batch_once.py");
    let data = work.join("data");
    let unbatched_data = work.join("unbatched-data");
    std::fs::create_dir_all(&data)?;
    std::fs::create_dir_all(&unbatched_data)?;
    generate(&data.join("items.jsonl"), a.items)?;
    generate(&unbatched_data.join("items.jsonl"), a.unbatched_items)?;
    let chunks = work.join("chunks");
    let names = split(&data.join("items.jsonl"), &chunks, a.batch)?;
    let functions = work.join("functions.toml");
    std::fs::write(&functions, functions_file(python, root, concurrency))?;
    let batched_def = work.join("batched.asl.json");
    std::fs::write(&batched_def, serde_json::to_string_pretty(&batched_definition(a.batch, a.max_concurrency))?)?;
    let unbatched_def = work.join("unbatched.asl.json");
    std::fs::write(&unbatched_def, serde_json::to_string_pretty(&unbatched_definition(a.max_concurrency))?)?;
    let results = work.join("results");
    let out = work.join("baseline-out");

    println!("Task integrations: Map Runs calling a Python function (JSON Lines runtime)");
    println!("machine: {}", machine::describe());
    println!(
        "python: {} ({}); dmap function concurrency = {concurrency}; baseline xargs -P{}",
        python.display(),
        python_version(python),
        a.baseline_parallel
    );
    println!(
        "dmap: `dmap run DEF --quiet --functions FILE --bucket ...` (handlers in bench/functions/handlers.py, runtime examples/python/dmap_runtime.py), MaxConcurrency {}",
        a.max_concurrency.map_or("unset (10,000)".to_string(), |n| n.to_string())
    );
    println!(
        "baseline: `ls chunks | xargs -P{} -n1 python3 bench/functions/batch_once.py OUT` over {}-line chunk files (split untimed)",
        a.baseline_parallel, a.batch
    );
    println!("load average before: {}", loadavg());

    let (mut batched, mut baseline, mut ratios, mut unbatched) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut batched_rss, mut unbatched_rss) = (0u64, 0u64);
    let batches = names.len() as u64;
    for round in 1..=a.runs {
        let (secs, rss) = run_dmap(dmap, &batched_def, &functions, &data, &results)?;
        check_results(&results, batches, "\"double\"")?;
        let dmap_rate = a.items as f64 / secs;
        batched.push(dmap_rate);
        batched_rss = batched_rss.max(rss);

        let secs = run_baseline(python, &script, &chunks, &names, &out, a.baseline_parallel)?;
        let base_rate = a.items as f64 / secs;
        baseline.push(base_rate);
        ratios.push(dmap_rate / base_rate);

        let (secs, rss) = run_dmap(dmap, &unbatched_def, &functions, &unbatched_data, &results)?;
        check_results(&results, a.unbatched_items, "\"id\"")?;
        let calls_rate = a.unbatched_items as f64 / secs;
        unbatched.push(calls_rate);
        unbatched_rss = unbatched_rss.max(rss);
        eprintln!(
            "round {round}/{}: batched {} items/s, baseline {} items/s, unbatched {} invocations/s",
            a.runs,
            grouped(dmap_rate),
            grouped(base_rate),
            grouped(calls_rate),
        );
    }
    println!("load average after: {}", loadavg());
    println!();

    let samples = Samples {
        batched: batched.clone(),
        baseline: baseline.clone(),
        unbatched: unbatched.clone(),
        python: python_version(python),
        concurrency,
    };
    let (b, bmin, bmax) = machine::stats(batched);
    let (x, xmin, xmax) = machine::stats(baseline);
    let (r, rmin, rmax) = machine::stats(ratios);
    let (u, umin, umax) = machine::stats(unbatched);
    println!("| scenario | median | min | max | target | met? |");
    println!("|---|---:|---:|---:|---:|---|");
    println!(
        "| batched: {} items, {}-item batches, Python function per batch (items/s) | {} | {} | {} | ≥ {} | {} |",
        grouped(a.items as f64),
        a.batch,
        grouped(b),
        grouped(bmin),
        grouped(bmax),
        grouped(BATCHED_TARGET),
        met(b >= BATCHED_TARGET)
    );
    println!(
        "| baseline: `xargs -P{}`, one python3 per {}-item batch (items/s) | {} | {} | {} | — | — |",
        a.baseline_parallel,
        a.batch,
        grouped(x),
        grouped(xmin),
        grouped(xmax)
    );
    println!(
        "| dmap ÷ baseline (same round) | {r:.1}× | {rmin:.1}× | {rmax:.1}× | ≥ {RATIO_TARGET:.0}× | {} |",
        met(r >= RATIO_TARGET)
    );
    println!(
        "| unbatched: {} items, one invocation each (invocations/s) | {} | {} | {} | ≥ {} | {} |",
        grouped(a.unbatched_items as f64),
        grouped(u),
        grouped(umin),
        grouped(umax),
        grouped(UNBATCHED_TARGET),
        met(u >= UNBATCHED_TARGET)
    );
    println!();
    println!(
        "{} rounds; dmap peak RSS {:.0} MiB (batched), {:.0} MiB (unbatched).",
        a.runs,
        batched_rss as f64 / 1024.0,
        unbatched_rss as f64 / 1024.0
    );
    Ok(samples)
}
