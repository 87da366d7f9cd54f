//! Peers: what a user would run instead of dmap, measured on the same definitions and the same
//! data as dmap's scenarios, in the same invocation.
//!
//! - `aws-local-stepfunctions` (npm), the TypeScript ASL interpreter, driven by
//!   bench/peers/als.mjs: the child once per item (engine), the inline-Map equivalent of the Map
//!   Run (it has no ItemReader and no ItemBatcher, so the items are fed in the input), and
//!   children waiting in an inline Map ([`als`]);
//! - plain Python: `multiprocessing.Pool` over 1000-line chunks (bench/peers/pool.py), `xargs -P`
//!   starting one `python3` per chunk (bench/peers/five_state.py), and a thread pool holding
//!   waiting children (bench/peers/threadpool_wait.py) ([`python`]);
//! - moto's Step Functions interpreter (PyPI), opted into executing definitions, on the inline-Map
//!   equivalent at a small N (bench/peers/moto_map.py, [`moto`]).
//!
//! [`Peers::install`] puts pinned versions into a folder the caller names ([`install`]); nothing
//! is installed globally. Every measurement returns a [`PeerResult`] saying exactly what ran; a
//! scenario a peer cannot do is a [`Gap`], whose reason the table shows instead of a number.
//!
//! This module measures peers only: it starts no dmap process and knows nothing of the report.

mod als;
mod install;
mod moto;
mod python;
pub mod smoke;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use serde_json::{Value, json};

use crate::machine;

/// One measured or unsupported peer result.
#[derive(Debug, Clone)]
pub struct PeerResult {
    /// The peer and its version, e.g. "aws-local-stepfunctions 3.0.0 (node v22.23.3)".
    pub system: String,
    /// Exactly what ran: N, batch size, how the items came in and how the results went out.
    pub detail: String,
    /// "items/s", "executions/s", "s".
    pub unit: String,
    /// One per run, in run order (empty when unsupported).
    pub samples: Vec<f64>,
    /// The largest peak RSS (VmHWM) over the runs, when the peer is one process.
    pub peak_rss_mib: Option<f64>,
    /// Why the peer cannot do this scenario.
    pub unsupported: Option<String>,
}

/// A scenario a peer cannot run, with the reason the table shows. The texts live here, in one
/// table, so that every report words a gap the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// aws-local-stepfunctions and a Map Run over NATS with workers.
    AlsDistributed,
    /// multiprocessing.Pool and the engine scenario (executions/s).
    PoolEngine,
    /// xargs and the engine scenario.
    XargsEngine,
    /// multiprocessing.Pool and one child execution per item.
    PoolUnbatched,
    /// xargs and one child execution per item.
    XargsUnbatched,
    /// multiprocessing.Pool and 100,000 children waiting at once.
    PoolWaiting,
    /// xargs and 100,000 children waiting at once.
    XargsWaiting,
}

impl Gap {
    pub const ALL: [Gap; 7] = [
        Gap::AlsDistributed,
        Gap::PoolEngine,
        Gap::XargsEngine,
        Gap::PoolUnbatched,
        Gap::XargsUnbatched,
        Gap::PoolWaiting,
        Gap::XargsWaiting,
    ];

    pub fn reason(self) -> &'static str {
        match self {
            Gap::AlsDistributed => {
                "runs every execution inside one node process: it has no workers and no transport to spread a Map Run over"
            }
            Gap::PoolEngine | Gap::XargsEngine => {
                "no state machine: the work is a Python function, so there are no executions to count (see the Map Run rows)"
            }
            Gap::PoolUnbatched | Gap::XargsUnbatched => {
                "no child executions: a task or a process per item measures pickling or process starts, not dispatch; \
                 the batched Map Run row is its best case"
            }
            Gap::PoolWaiting => {
                "a process pool holds as many waiting children as it has processes (one per core): 100,000 × 5 s ÷ \
                 cores, 250,000 s on 2 cores (see the ThreadPool row)"
            }
            Gap::XargsWaiting => {
                "one process per waiting child: 100,000 × 5 s ÷ cores at -P<cores>, 250,000 s on 2 cores; all at once, \
                 100,000 python3 processes at about 10 MB each: 1 TB"
            }
        }
    }

    /// The peer a gap belongs to, named as its measured rows name it.
    fn system(self, peers: &Peers) -> String {
        match self {
            Gap::AlsDistributed => peers.als_system(),
            Gap::PoolEngine | Gap::PoolUnbatched | Gap::PoolWaiting => peers.pool_system(),
            Gap::XargsEngine | Gap::XargsUnbatched | Gap::XargsWaiting => peers.xargs_system(),
        }
    }
}

/// The installed peers: where they are and which versions, and the scratch folder their runs use.
#[derive(Debug)]
pub struct Peers {
    /// The folder the caller named; `work/` under it holds definitions, data and outputs.
    dir: PathBuf,
    /// bench/peers: the driver scripts.
    scripts: PathBuf,
    /// The pinned node binary (or `node` on PATH where no pinned build exists for the platform).
    node: PathBuf,
    node_version: String,
    /// aws-local-stepfunctions' ES module, imported by path by bench/peers/als.mjs.
    als_module: PathBuf,
    /// The interpreter `python3` resolves to: plain Python for the multiprocessing and xargs peers.
    python: PathBuf,
    /// e.g. "CPython 3.11.7".
    python_version: String,
    /// The virtual environment's interpreter, with moto installed.
    venv_python: PathBuf,
    /// Processes for the Python peers: the machine's cores.
    cores: usize,
    /// How long `install` took, or `None` when it reused a complete installation.
    installed_in: Option<Duration>,
}

impl Peers {
    /// Installs the pinned versions into `dir` (`npm install --prefix`, `python -m venv` and
    /// `pip install`). Idempotent: a complete installation of the same versions is reused.
    pub fn install(dir: &Path) -> anyhow::Result<Peers> {
        install::install(dir)
    }

    /// (component, version) of every peer and of the tools they run on.
    pub fn versions(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("aws-local-stepfunctions".to_string(), install::ALS_VERSION.to_string()),
            ("node (for aws-local-stepfunctions)".to_string(), self.node_version.clone()),
            ("moto".to_string(), install::MOTO_VERSION.to_string()),
            ("python".to_string(), self.python_version.clone()),
        ];
        v.extend(install::PIP_PINS.iter().map(|(name, version)| (name.to_string(), version.to_string())));
        v.push(("xargs".to_string(), tool_version("xargs")));
        v
    }

    /// How long [`Peers::install`] took; `None` when it reused what was there.
    pub fn install_time(&self) -> Option<Duration> {
        self.installed_in
    }

    /// The result for a scenario the peer cannot do.
    pub fn gap(&self, gap: Gap, unit: &str) -> PeerResult {
        PeerResult {
            system: gap.system(self),
            detail: String::new(),
            unit: unit.into(),
            samples: Vec::new(),
            peak_rss_mib: None,
            unsupported: Some(gap.reason().into()),
        }
    }

    fn work(&self) -> anyhow::Result<PathBuf> {
        let w = self.dir.join("work");
        std::fs::create_dir_all(&w)?;
        Ok(w)
    }

    /// `n` items `{"id": i, "v": i, "name": "item-i"}` as JSON Lines, the data dmap's Map Run
    /// reads (written by the same function), generated once per `n` and kept in the work folder.
    fn items(&self, n: u64) -> anyhow::Result<PathBuf> {
        let path = self.work()?.join(format!("items-{n}.jsonl"));
        if !path.exists() {
            let partial = path.with_extension("partial");
            crate::scenarios::maprun::generate(&partial, n)?;
            std::fs::rename(&partial, &path)?;
        }
        Ok(path)
    }

    fn write_definition(&self, name: &str, def: &Value) -> anyhow::Result<PathBuf> {
        let path = self.work()?.join(name);
        std::fs::write(&path, serde_json::to_string_pretty(def)?)?;
        Ok(path)
    }
}

/// An inline Map over `$.Items` running `child` on every item: what aws-local-stepfunctions and
/// moto can run of a Map Run (aws-local-stepfunctions ignores ItemReader and ItemBatcher; moto
/// has no ItemBatcher and no JSONL reader).
fn inline_map(child: Value, max_concurrency: Option<u64>) -> Value {
    let mut map = json!({"Type": "Map", "ItemsPath": "$.Items", "ItemProcessor": child, "End": true});
    if let Some(n) = max_concurrency {
        map["MaxConcurrency"] = json!(n);
    }
    json!({"StartAt": "Process", "States": {"Process": map}})
}

/// The waiting scenario's child: one Wait of 5 s, as in dmap's waiting definition.
fn waiting_child() -> Value {
    json!({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 5, "End": true}}})
}

/// What one peer process reported, with the wall time and peak RSS seen from outside.
struct Ran {
    /// The JSON line the driver printed last.
    report: Value,
    wall: f64,
    peak_rss_mib: f64,
}

impl Ran {
    /// `report[key]` as a number.
    fn number(&self, key: &str) -> anyhow::Result<f64> {
        self.report[key].as_f64().with_context(|| format!("no {key:?} in the peer's report {}", self.report))
    }
}

/// Runs a peer process to its end, polling its peak RSS, and parses the JSON line it prints
/// last. Its stderr goes to the terminal, so that a peer's failure explains itself.
fn run(cmd: &mut Command) -> anyhow::Result<Ran> {
    use std::io::Read;
    let program = format!("{:?}", cmd.get_program());
    let start = Instant::now();
    let mut child =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).spawn().with_context(|| format!("cannot start {program}"))?;
    // The drivers print one short line, far below a pipe's buffer, so polling before reading
    // cannot block the child.
    let (status, kib) = machine::wait_with_peak_rss(&mut child)?;
    let wall = start.elapsed().as_secs_f64();
    let mut out = String::new();
    child.stdout.take().context("no stdout")?.read_to_string(&mut out)?;
    ensure!(status.success(), "{program} exited with {status}; stdout: {out:.500}");
    let line = out.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("null");
    let report = serde_json::from_str(line).with_context(|| format!("{program} printed {line:.200}"))?;
    Ok(Ran { report, wall, peak_rss_mib: kib as f64 / 1024.0 })
}

/// The first line of `tool --version` without the tool's name, e.g. "(GNU findutils) 4.9.0".
fn tool_version(tool: &str) -> String {
    Command::new(tool)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            let text = String::from_utf8_lossy(&o.stdout);
            let line = text.lines().next()?;
            Some(line.strip_prefix(tool).unwrap_or(line).trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// `1234567` as `1,234,567`, for details people read.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
