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
//!
//! Every timed run also records the CPU time of each role (`cpu`): the coordinator from start to
//! exit, each `dmap-worker` and the nats-server over the same window; the batched and unbatched
//! scenarios report CPU seconds and items per CPU-second per role (the items/s one core of that
//! role sustains: what a CPU request is sized by). `--out DIR` writes them as JSON and Markdown.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::cpu;
use crate::machine;
use crate::report::{Measurement, Report};
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
    /// Also write the results to DIR/<date>-<host>-distributed.{json,md} (printed either way).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Worker processes killed when dropped.
pub struct Workers(Vec<Child>);

impl Workers {
    pub fn pids(&self) -> Vec<u32> {
        self.0.iter().map(Child::id).collect()
    }
}

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
    run_with_cpu(dmap, work, def, nats, &[]).map(|(secs, _)| secs)
}

/// One `dmap run`: seconds from start to exit, and the CPU time of it and of `watched` (processes
/// that outlive it) meanwhile.
pub fn run_with_cpu(
    dmap: &Path,
    work: &Path,
    def: &Path,
    nats: Option<&str>,
    watched: &[u32],
) -> anyhow::Result<(f64, cpu::Cpu)> {
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
    let watch = cpu::Watch::start(watched)?;
    let start = Instant::now();
    let status = cmd.status()?;
    let secs = start.elapsed().as_secs_f64();
    let cpu = watch.finish()?;
    if !status.success() {
        bail!("dmap exited with {status}");
    }
    Ok((secs, cpu))
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

/// One timed run: seconds from start to exit and CPU seconds per role over that window.
#[derive(Debug, Clone, Default)]
struct Sample {
    secs: f64,
    coordinator: f64,
    /// Every dmap-worker, summed.
    workers: f64,
    nats: f64,
    /// The rest of the machine and the hypervisor's steal: indicators of other load.
    other: f64,
    steal: f64,
}

impl Sample {
    /// `c.watched` holds the `w` workers, then the nats-server.
    fn new(secs: f64, c: cpu::Cpu, w: usize) -> Sample {
        let nats = c.watched.get(w).copied().unwrap_or(0.0);
        let workers = c.watched[..w].iter().sum();
        Sample { secs, coordinator: c.timed, workers, nats, other: c.other, steal: c.steal }
    }
}

struct Measured {
    embedded: Vec<Sample>,
    distributed: Vec<Vec<Sample>>,
}

/// Alternates embedded and distributed runs (for every worker count) `runs` times.
#[allow(clippy::too_many_arguments)]
fn measure(
    a: &Args,
    dmap: &Path,
    work: &Path,
    def: &Path,
    url: &str,
    nats_pid: u32,
    embedded: bool,
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
            // The idle nats-server is watched so that "the rest of the machine" leaves it out.
            let (secs, c) = run_with_cpu(dmap, work, def, None, &[nats_pid])?;
            m.embedded.push(Sample::new(secs, c, 0));
        }
        for (i, &w) in a.workers.iter().enumerate() {
            let workers = start_workers(&dir, url, w)?;
            std::thread::sleep(std::time::Duration::from_millis(300));
            let mut pids = workers.pids();
            pids.push(nats_pid);
            let (secs, c) = run_with_cpu(dmap, work, def, Some(url), &pids)?;
            m.distributed[i].push(Sample::new(secs, c, w));
        }
    }
    Ok(m)
}

pub fn run(a: &Args) -> anyhow::Result<()> {
    let dmap = dmap_binary()?;
    crate::tools::nats_server()?;
    let nats = testkit::NatsServer::start();
    // Started just now, it is this process's only child.
    let nats_pid = match cpu::children()[..] {
        [pid] => pid,
        ref other => bail!("expected the nats-server as the only child process, found {other:?}"),
    };
    let url = nats.url();
    let work = std::env::temp_dir().join(format!("dmap-bench-dist-{}", std::process::id()));
    std::fs::create_dir_all(work.join("data"))?;
    let want = |s: &str| a.only.is_empty() || a.only.iter().any(|o| o == s);
    let mut report = Report::new(&format!("bench {}", std::env::args().skip(1).collect::<Vec<_>>().join(" ")));
    report.versions.push(("nats-server".into(), nats_version()));
    println!("machine: {}", machine::describe());
    println!("nats-server: {}, loopback, file storage; workers: {:?}", nats_version(), a.workers);
    println!("load average before: {}", load_average());

    if want("batched") {
        generate(&work.join("data/items.jsonl"), a.items)?;
        let def = write_def(&work, "batched.json", &definition(a.batch))?;
        let m = measure(a, &dmap, &work, &def, &url, nats_pid, true)?;
        let what = format!(
            "{} JSONL items, {}-item batches, 5-state processing per item, ResultWriter to a local directory",
            a.items, a.batch
        );
        println!("\nbatched: {what}");
        table("items/s", a.items, &m, &a.workers);
        let c = Case { kind: "batched", what: &what, unit: "items/s", n: a.items, batch: a.batch };
        record(&mut report, &c, &m, &a.workers);
    }
    if want("unbatched") {
        generate(&work.join("data/items.jsonl"), a.unbatched_items)?;
        let def = write_def(&work, "unbatched.json", &unbatched_definition())?;
        let m = measure(a, &dmap, &work, &def, &url, nats_pid, true)?;
        let what = format!("{} items, one 5-state child execution per item", a.unbatched_items);
        println!("\nunbatched: {what}");
        table("child executions/s", a.unbatched_items, &m, &a.workers);
        let c = Case { kind: "unbatched", what: &what, unit: "child executions/s", n: a.unbatched_items, batch: 1 };
        record(&mut report, &c, &m, &a.workers);
    }
    if want("waiting") {
        generate(&work.join("data/items.jsonl"), a.waiting_items)?;
        let def = write_def(&work, "waiting.json", &waiting_definition())?;
        let m = measure(a, &dmap, &work, &def, &url, nats_pid, false)?;
        println!("\nwaiting: {} children, MaxConcurrency 100000, each waits 5 s", a.waiting_items);
        println!("| workers | median seconds | min | max |");
        println!("|---:|---:|---:|---:|");
        for (i, w) in a.workers.iter().enumerate() {
            let (med, min, max) = machine::stats(m.distributed[i].iter().map(|s| s.secs).collect());
            println!("| {w} | {med:.2} | {min:.2} | {max:.2} |");
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    println!("load average after: {}\n", load_average());
    if !report.measurements.is_empty() {
        println!("{}", report.markdown());
        if let Some(out) = &a.out {
            for p in report.write_named(out, "distributed")? {
                eprintln!("wrote {}", p.display());
            }
        }
    }
    Ok(())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.trim().to_string()).unwrap_or_default()
}

fn table(unit: &str, n: u64, m: &Measured, workers: &[usize]) {
    let rates = |s: &[Sample]| s.iter().map(|s| n as f64 / s.secs).collect::<Vec<_>>();
    println!("| mode | median {unit} | min | max | ÷ embedded (pair by pair, median) |");
    println!("|---|---:|---:|---:|---:|");
    let embedded = rates(&m.embedded);
    let (emed, emin, emax) = machine::stats(embedded.clone());
    println!("| embedded | {emed:.0} | {emin:.0} | {emax:.0} | 1.00 |");
    for (i, w) in workers.iter().enumerate() {
        let dist = rates(&m.distributed[i]);
        let (med, min, max) = machine::stats(dist.clone());
        let (r, _, _) = machine::stats(dist.iter().zip(&embedded).map(|(d, e)| d / e).collect());
        println!("| NATS, {w} workers | {med:.0} | {min:.0} | {max:.0} | {r:.2} |");
    }
    println!("\nCPU per role (median, min–max over the runs; items/s per core = items ÷ CPU seconds):\n");
    println!("| mode | role | CPU s | items/s per core |");
    println!("|---|---|---:|---:|");
    let row = |mode: &str, role: &str, cpu: Vec<f64>| {
        let per_core = cpu.iter().map(|c| n as f64 / c).collect();
        let ((c, c0, c1), (r, r0, r1)) = (machine::stats(cpu), machine::stats(per_core));
        println!("| {mode} | {role} | {c:.2} ({c0:.2}–{c1:.2}) | {r:.0} ({r0:.0}–{r1:.0}) |");
    };
    row("embedded", "dmap run", m.embedded.iter().map(|s| s.coordinator).collect());
    for (i, w) in workers.iter().enumerate() {
        let mode = format!("NATS, {w} workers");
        for (role, cpu) in roles(&m.distributed[i], *w) {
            row(&mode, &role, cpu);
        }
        let other = machine::stats(m.distributed[i].iter().map(|s| s.other).collect());
        let steal = machine::stats(m.distributed[i].iter().map(|s| s.steal).collect());
        println!(
            "| {mode} | (rest of the machine; steal) | {:.2} ({:.2}–{:.2}); {:.2} | |",
            other.0, other.1, other.2, steal.0
        );
    }
}

/// The roles of a distributed run and their CPU seconds, run by run.
fn roles(s: &[Sample], w: usize) -> Vec<(String, Vec<f64>)> {
    let col = |f: fn(&Sample) -> f64| s.iter().map(f).collect::<Vec<_>>();
    vec![
        ("coordinator (dmap run --nats)".into(), col(|s| s.coordinator)),
        (format!("dmap-worker ×{w}, summed"), col(|s| s.workers)),
        ("nats-server".into(), col(|s| s.nats)),
        ("all three roles".into(), col(|s| s.coordinator + s.workers + s.nats)),
    ]
}

/// What a scenario ran, for its report rows.
struct Case<'a> {
    kind: &'a str,
    what: &'a str,
    /// Of the throughput rows.
    unit: &'a str,
    n: u64,
    batch: u64,
}

/// Adds a scenario's throughput and CPU-per-role measurements to the report.
fn record(report: &mut Report, c: &Case, m: &Measured, workers: &[usize]) {
    let add = |report: &mut Report,
               scenario: &str,
               title: &str,
               system: &str,
               detail: String,
               unit: &str,
               samples: Vec<f64>,
               w: usize| {
        let params = [("items", c.n as f64), ("batch", c.batch as f64), ("workers", w as f64)];
        report.add(Measurement {
            scenario: scenario.into(),
            title: title.into(),
            system: system.into(),
            detail,
            unit: unit.into(),
            higher_is_better: unit != "CPU s",
            samples,
            params: params.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            unsupported: None,
        });
    };
    let rates = |s: &[Sample]| s.iter().map(|s| c.n as f64 / s.secs).collect::<Vec<_>>();
    let (t, ct) = (format!("Distributed Map Run, {} ({})", c.kind, c.unit), format!("CPU per role, {}", c.what));
    let (scenario, cpu_scenario) = (format!("distributed-{}", c.kind), format!("cpu-{}", c.kind));
    add(report, &scenario, &t, "dmap (embedded)", c.what.into(), c.unit, rates(&m.embedded), 0);
    let per_core = |cpu: &[f64]| cpu.iter().map(|x| c.n as f64 / x).collect::<Vec<_>>();
    let emb: Vec<f64> = m.embedded.iter().map(|s| s.coordinator).collect();
    let d = "embedded; utime+stime of the process, start to exit";
    add(report, &cpu_scenario, &ct, "dmap run (embedded)", d.into(), "CPU s", emb.clone(), 0);
    add(report, &cpu_scenario, &ct, "dmap run (embedded)", d.into(), "items/s per core", per_core(&emb), 0);
    for (i, &w) in workers.iter().enumerate() {
        let s = &m.distributed[i];
        let system = format!("dmap (NATS, {w} workers)");
        add(report, &scenario, &t, &system, format!("{}; {w} dmap-workers", c.what), c.unit, rates(s), w);
        let detail =
            format!("NATS, {w} dmap-workers, local nats-server; utime+stime from the coordinator's start to its exit");
        for (role, cpu) in roles(s, w) {
            add(report, &cpu_scenario, &ct, &role, detail.clone(), "CPU s", cpu.clone(), w);
            add(report, &cpu_scenario, &ct, &role, detail.clone(), "items/s per core", per_core(&cpu), w);
        }
        let detail = format!("NATS, {w} dmap-workers; the machine's busy CPU (/proc/stat) less the run's: other load");
        add(report, &cpu_scenario, &ct, "rest of the machine", detail, "CPU s", s.iter().map(|s| s.other).collect(), w);
        let detail = format!("NATS, {w} dmap-workers; the hypervisor's steal time over the run");
        add(report, &cpu_scenario, &ct, "steal", detail, "CPU s", s.iter().map(|s| s.steal).collect(), w);
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
