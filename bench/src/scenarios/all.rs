//! `bench all`: every scenario in one invocation, dmap and the peers a user would pick instead
//! (installed on demand, pinned), each a median of `--runs` runs with min and max. Within a
//! scenario, dmap and its peers alternate round by round, so ratios are taken pair by pair
//! (run i of dmap ÷ run i of the peer) and a slow moment of a shared machine weighs on both.
//! Writes `bench/results/<date>-<host>.{json,md}` and PNG plots; prints the Markdown table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use serde_json::json;

use crate::peers::{Gap, PeerResult, Peers};
use crate::report::{Measurement, Report};
use crate::scenarios::distributed::{
    self, run_once as run_dmap, start_workers, unbatched_definition, waiting_definition, write_def,
};
use crate::scenarios::engine::{self, five_state, one_state};
use crate::scenarios::functions;
use crate::scenarios::inline_map;
use crate::scenarios::maprun::{self, definition, definition_jsonata, dmap_binary, generate};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Runs per configuration (medians of at least 5 are what the results report).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Where the JSON, Markdown and PNG results go.
    #[arg(long, default_value = "bench/results")]
    out: PathBuf,
    /// Where the peers are installed (kept between invocations; pinned versions).
    #[arg(long, default_value = "target/bench-peers")]
    peers_dir: PathBuf,
}

const ITEMS: u64 = 1_000_000;
const MEMORY_ITEMS: [u64; 2] = [1_000_000, 10_000_000];
const UNBATCHED_ITEMS: u64 = 200_000;
const WAITING_ITEMS: u64 = 100_000;
const WORKERS: [usize; 3] = [1, 2, 4];
/// Batch sizes: a 5-state child's output for 3,000 items stays under AWS's 256 KiB.
const BATCHES: [u64; 3] = [100, 1000, 3000];
/// Peers are slower by orders of magnitude: they get smaller inputs (rates compare; N is stated).
const ALS_ENGINE_ITEMS: u64 = 20_000;
const ALS_MAP_ITEMS: [u64; 3] = [10_000, 30_000, 100_000];
const ALS_WAITING: u64 = 100_000;
const THREADPOOL_WAITING: u64 = 5_000;
const MOTO_ITEMS: u64 = 1_000;
const MOTO_WAITING: u64 = 1_000;
/// xargs starts a process per batch: its rate at 200k items is its rate at 1M, in a fifth of the time.
const XARGS_ITEMS: u64 = 200_000;

const DMAP: &str = "dmap";

fn params(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[allow(clippy::too_many_arguments)]
fn measurement(
    scenario: &str,
    title: &str,
    system: &str,
    detail: String,
    unit: &str,
    higher_is_better: bool,
    samples: Vec<f64>,
    params: BTreeMap<String, f64>,
) -> Measurement {
    Measurement {
        scenario: scenario.into(),
        title: title.into(),
        system: system.into(),
        detail,
        unit: unit.into(),
        higher_is_better,
        samples,
        params,
        unsupported: None,
    }
}

/// A peer's result as a measurement of `scenario`.
fn peer(
    scenario: &str,
    title: &str,
    r: PeerResult,
    higher_is_better: bool,
    params: BTreeMap<String, f64>,
) -> Measurement {
    Measurement {
        scenario: scenario.into(),
        title: title.into(),
        system: r.system,
        detail: r.detail,
        unit: r.unit,
        higher_is_better,
        samples: r.samples,
        params,
        unsupported: r.unsupported,
    }
}

/// Appends one run of a peer to the samples gathered so far (rounds alternate with dmap).
fn merge(acc: &mut Option<PeerResult>, r: PeerResult) {
    match acc {
        None => *acc = Some(r),
        Some(a) => {
            a.samples.extend(r.samples);
            a.peak_rss_mib = match (a.peak_rss_mib, r.peak_rss_mib) {
                (Some(x), Some(y)) => Some(x.max(y)),
                (x, y) => x.or(y),
            };
        }
    }
}

pub fn run(a: &Args) -> anyhow::Result<()> {
    anyhow::ensure!(a.runs >= 1, "--runs must be at least 1");
    let started = Instant::now();
    let dmap = dmap_binary()?;
    let bin_dir = dmap.parent().context("dmap has a directory")?.to_path_buf();
    anyhow::ensure!(
        bin_dir.join("dmap-worker").exists(),
        "dmap-worker is missing: build with `cargo build --release -p coordinator -p worker -p bench`"
    );
    // Before the peers' long installation, so that a missing nats-server is found at once.
    crate::tools::nats_server()?;
    let work = std::env::temp_dir().join(format!("dmap-bench-all-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("data"))?;
    let result = (|| -> anyhow::Result<Report> {
        let mut report = Report::new("cargo run -p bench --release -- all");
        eprintln!("installing the peers into {} …", a.peers_dir.display());
        let t = Instant::now();
        let peers = Peers::install(&a.peers_dir)?;
        eprintln!("peers ready in {:.0} s", t.elapsed().as_secs_f64());
        report.versions = peers.versions();
        report.versions.push(("nats-server".into(), distributed::nats_version()));
        let nats = testkit::NatsServer::start();
        let url = nats.url();
        let ctx = Ctx { a, dmap: &dmap, bin: &bin_dir, work: &work, peers: &peers, url: &url };
        ctx.engine(&mut report)?;
        ctx.maprun(&mut report)?;
        ctx.scaling(&mut report)?;
        ctx.unbatched(&mut report)?;
        ctx.waiting(&mut report)?;
        ctx.memory(&mut report)?;
        ctx.functions(&mut report)?;
        ctx.startup(&mut report)?;
        Ok(report)
    })();
    let _ = std::fs::remove_dir_all(&work);
    let report = result?;
    std::fs::create_dir_all(&a.out)?;
    let written = report.write(&a.out)?;
    println!("{}", report.markdown());
    eprintln!("`bench all` took {:.1} min; wrote:", started.elapsed().as_secs_f64() / 60.0);
    for p in written {
        eprintln!("  {}", p.display());
    }
    Ok(())
}

/// `bench startup`: the start-up scenario alone, printed as a table.
#[derive(Debug, clap::Args)]
pub struct StartupArgs {
    /// Runs (the median is reported).
    #[arg(long, default_value_t = 20)]
    runs: usize,
}

pub fn startup(a: &StartupArgs) -> anyhow::Result<()> {
    let dmap = dmap_binary()?;
    let work = std::env::temp_dir().join(format!("dmap-bench-startup-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let mut report = Report::new("cargo run -p bench --release -- startup");
    let r = startup_runs(&dmap, &work, a.runs, &mut report);
    let _ = std::fs::remove_dir_all(&work);
    r?;
    println!("{}", report.markdown());
    Ok(())
}

struct Ctx<'a> {
    a: &'a Args,
    dmap: &'a Path,
    bin: &'a Path,
    work: &'a Path,
    peers: &'a Peers,
    url: &'a str,
}

impl Ctx<'_> {
    fn runs(&self) -> usize {
        self.a.runs
    }

    fn data(&self, items: u64) -> anyhow::Result<PathBuf> {
        let path = self.work.join("data/items.jsonl");
        generate(&path, items)?;
        Ok(path)
    }

    /// Engine alone: child executions per second on one core; the peer runs the same child
    /// once per item. The JSONata 5-state child alternates with the JSONPath one; then the
    /// inline Map reading `$$` as its item count grows.
    fn engine(&self, report: &mut Report) -> anyhow::Result<()> {
        eprintln!("== engine");
        for (scenario, name, def) in
            [("engine-1-state", "1-state", one_state()), ("engine-5-state", "5-state", five_state())]
        {
            let title = engine::title(name);
            let machine = engine::compile(&def).map_err(|e| anyhow::anyhow!("invalid benchmark definition: {e}"))?;
            // Only the 5-state child has a JSONata twin.
            let jsonata = if name == "5-state" { Some(engine::jsonata_child(&machine)?) } else { None };
            engine::measure_machine(&machine, (ITEMS / 10) as usize)?; // warm-up
            if let Some(Ok(m)) = &jsonata {
                engine::measure_machine(m, (ITEMS / 10) as usize)?;
            }
            let mut ata = jsonata.as_ref().map(|j| j.as_ref().map(|_| Vec::new()).map_err(Clone::clone));
            let (mut ours, mut theirs) = (Vec::new(), None);
            for _ in 0..self.runs() {
                ours.push(engine::measure_machine(&machine, ITEMS as usize)?);
                if let (Some(Ok(m)), Some(Ok(samples))) = (&jsonata, &mut ata) {
                    samples.push(engine::measure_machine(m, ITEMS as usize)?);
                }
                merge(&mut theirs, self.peers.als_engine(&def, ALS_ENGINE_ITEMS, 1)?);
            }
            let detail = format!("{ITEMS} executions of the {name} child in-process (shared::asl::eval::execute_pure)");
            report.add(measurement(scenario, &title, DMAP, detail, "executions/s", true, ours, params(&[])));
            if let Some(r) = theirs {
                let system = r.system.clone();
                report.add(peer(scenario, &title, r, true, params(&[])));
                report.ratio(scenario, DMAP, &system, "pair by pair, same invocation");
            }
            for gap in [Gap::PoolEngine, Gap::XargsEngine] {
                report.add(peer(scenario, &title, self.peers.gap(gap, "executions/s"), true, params(&[])));
            }
            if let Some(samples) = ata {
                report.add(engine::jsonata_measurement(ITEMS as usize, samples));
                report.ratio(scenario, engine::JSONATA, DMAP, &engine::jsonata_note());
            }
        }
        inline_map::add(report, self.runs())
    }

    /// The Map Run over 1M JSONL items in 1000-item batches, 5-state processing per item.
    fn maprun(&self, report: &mut Report) -> anyhow::Result<()> {
        eprintln!("== map run");
        let scenario = "maprun";
        let title = "Map Run: 1M JSONL items, 1000-item batches, 5-state processing per item (items/s)";
        let xargs_jsonl = self.work.join("xargs.jsonl");
        generate(&xargs_jsonl, XARGS_ITEMS)?;
        let jsonl = self.data(ITEMS)?;
        let def = write_def(self.work, "batched.json", &definition(1000))?;
        let _workers = start_workers(self.bin, self.url, 2)?;
        run_dmap(self.dmap, self.work, &def, Some(self.url))?; // warm-up
        let ata_def = write_def(self.work, "batched-jsonata.json", &definition_jsonata(1000))?;
        let mut ata = maprun::accepted(&definition_jsonata(1000)).map(|()| Vec::new());
        if ata.is_ok() {
            run_dmap(self.dmap, self.work, &ata_def, None)?; // warm-up
        }
        let (mut embedded, mut nats) = (Vec::new(), Vec::new());
        let (mut mp, mut xargs, mut als, mut moto) = (None, None, None, None);
        for round in 0..self.runs() {
            embedded.push(ITEMS as f64 / run_dmap(self.dmap, self.work, &def, None)?);
            if let Ok(samples) = &mut ata {
                samples.push(ITEMS as f64 / run_dmap(self.dmap, self.work, &ata_def, None)?);
            }
            nats.push(ITEMS as f64 / run_dmap(self.dmap, self.work, &def, Some(self.url))?);
            merge(&mut mp, self.peers.multiprocessing(&jsonl, ITEMS, 1000, 1)?);
            merge(&mut xargs, self.peers.xargs(&xargs_jsonl, XARGS_ITEMS, 1000, 1)?);
            merge(&mut als, self.peers.als_inline_map(ALS_MAP_ITEMS[0], 1)?);
            merge(&mut moto, self.peers.moto(MOTO_ITEMS, 1)?);
            eprintln!("  round {}/{}", round + 1, self.runs());
        }
        let base =
            "dmap run, JSONL ItemReader on a local directory, ItemBatcher 1000, ResultWriter to a local directory";
        let p = params(&[("items", ITEMS as f64), ("batch", 1000.0)]);
        report.add(measurement(scenario, title, "dmap (embedded)", base.into(), "items/s", true, embedded, p.clone()));
        let nats_detail = format!("{base}; --nats, 2 dmap-worker processes, local nats-server, same 2 cores");
        report.add(measurement(
            scenario,
            title,
            "dmap (NATS, 2 workers)",
            nats_detail,
            "items/s",
            true,
            nats,
            p.clone(),
        ));
        for r in [mp, xargs, als, moto].into_iter().flatten() {
            let system = r.system.clone();
            report.add(peer(scenario, title, r, true, p.clone()));
            report.ratio(scenario, "dmap (embedded)", &system, "pair by pair, same invocation");
            report.ratio(scenario, "dmap (NATS, 2 workers)", &system, "pair by pair, same invocation");
        }
        let (samples, unsupported) = match ata {
            Ok(s) => (s, None),
            Err(why) => (Vec::new(), Some(why)),
        };
        let d = format!("{base}; the same Map Run and 5-state child written in JSONata (QueryLanguage JSONata)");
        let jsonata = "dmap (embedded, JSONata)";
        report.add(Measurement {
            unsupported,
            ..measurement(scenario, title, jsonata, d, "items/s", true, samples, p.clone())
        });
        let note = format!(
            "JSONata ÷ JSONPath, pair by pair, same invocation; issue 12's target: the JSONata Map Run ≥ {} items/s",
            crate::report::number(maprun::JSONATA_TARGET)
        );
        report.ratio(scenario, jsonata, "dmap (embedded)", &note);
        let gap = self.peers.gap(Gap::AlsDistributed, "items/s");
        report.add(peer("maprun-distributed", title, gap, true, params(&[])));
        Ok(())
    }

    /// Distributed throughput against workers (batch 1000) and against batch size (2 workers),
    /// with the embedded run as the reference.
    fn scaling(&self, report: &mut Report) -> anyhow::Result<()> {
        eprintln!("== workers and batch size");
        self.data(ITEMS)?;
        let title = "Map Run over NATS: 1M items, 5-state processing per item (items/s)";
        for &w in &WORKERS {
            let def = write_def(self.work, "batched.json", &definition(1000))?;
            let _workers = start_workers(self.bin, self.url, w)?;
            run_dmap(self.dmap, self.work, &def, Some(self.url))?;
            let samples = (0..self.runs())
                .map(|_| run_dmap(self.dmap, self.work, &def, Some(self.url)).map(|s| ITEMS as f64 / s))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let detail =
                format!("{w} dmap-worker processes, batches of 1000, same 2-core machine as nats-server and dmap");
            let p = params(&[("workers", w as f64), ("batch", 1000.0), ("items", ITEMS as f64)]);
            report.add(measurement(
                "maprun-distributed",
                title,
                &format!("dmap (NATS, {w} workers)"),
                detail,
                "items/s",
                true,
                samples,
                p,
            ));
        }
        let _workers = start_workers(self.bin, self.url, 2)?;
        for &b in &BATCHES {
            let def = write_def(self.work, "batch.json", &definition(b))?;
            let (mut emb, mut dist) = (Vec::new(), Vec::new());
            for _ in 0..self.runs() {
                emb.push(ITEMS as f64 / run_dmap(self.dmap, self.work, &def, None)?);
                dist.push(ITEMS as f64 / run_dmap(self.dmap, self.work, &def, Some(self.url))?);
            }
            let p = params(&[("batch", b as f64), ("items", ITEMS as f64), ("workers", 2.0)]);
            let t = "Map Run against batch size: 1M items (items/s)";
            report.add(measurement(
                "batch",
                t,
                "dmap (embedded)",
                format!("MaxItemsPerBatch {b}"),
                "items/s",
                true,
                emb,
                p.clone(),
            ));
            report.add(measurement(
                "batch",
                t,
                "dmap (NATS, 2 workers)",
                format!("MaxItemsPerBatch {b}"),
                "items/s",
                true,
                dist,
                p,
            ));
        }
        Ok(())
    }

    /// One child per item: child executions per second.
    fn unbatched(&self, report: &mut Report) -> anyhow::Result<()> {
        eprintln!("== unbatched");
        self.data(UNBATCHED_ITEMS)?;
        let def = write_def(self.work, "unbatched.json", &unbatched_definition())?;
        let _workers = start_workers(self.bin, self.url, 2)?;
        run_dmap(self.dmap, self.work, &def, Some(self.url))?;
        let (mut emb, mut dist, mut als) = (Vec::new(), Vec::new(), None);
        for _ in 0..self.runs() {
            emb.push(UNBATCHED_ITEMS as f64 / run_dmap(self.dmap, self.work, &def, None)?);
            dist.push(UNBATCHED_ITEMS as f64 / run_dmap(self.dmap, self.work, &def, Some(self.url))?);
            merge(&mut als, self.peers.als_inline_map(ALS_MAP_ITEMS[0], 1)?);
        }
        let title = "Unbatched dispatch: one 5-state child execution per item (child executions/s)";
        let d = format!("{UNBATCHED_ITEMS} JSONL items, no ItemBatcher, ResultWriter to a local directory");
        let p = params(&[("items", UNBATCHED_ITEMS as f64)]);
        report.add(measurement(
            "unbatched",
            title,
            "dmap (embedded)",
            d.clone(),
            "child executions/s",
            true,
            emb,
            p.clone(),
        ));
        report.add(measurement(
            "unbatched",
            title,
            "dmap (NATS, 2 workers)",
            format!("{d}; 2 dmap-workers"),
            "child executions/s",
            true,
            dist,
            p.clone(),
        ));
        if let Some(mut r) = als {
            r.unit = "child executions/s".into();
            r.detail = format!("{} (one iteration per item of an inline Map: its child executions)", r.detail);
            let system = r.system.clone();
            report.add(peer("unbatched", title, r, true, p));
            report.ratio("unbatched", "dmap (NATS, 2 workers)", &system, "pair by pair, same invocation");
            report.ratio("unbatched", "dmap (embedded)", &system, "pair by pair, same invocation");
        }
        for gap in [Gap::PoolUnbatched, Gap::XargsUnbatched] {
            report.add(peer("unbatched", title, self.peers.gap(gap, "child executions/s"), true, params(&[])));
        }
        Ok(())
    }

    /// 100,000 children each waiting 5 s under MaxConcurrency 100000: seconds to finish.
    fn waiting(&self, report: &mut Report) -> anyhow::Result<()> {
        eprintln!("== waiting children");
        self.data(WAITING_ITEMS)?;
        let def = write_def(self.work, "waiting.json", &waiting_definition())?;
        let _workers = start_workers(self.bin, self.url, 2)?;
        let (mut dist, mut als, mut pool, mut moto) = (Vec::new(), None, None, None);
        for _ in 0..self.runs() {
            dist.push(run_dmap(self.dmap, self.work, &def, Some(self.url))?);
            merge(&mut als, self.peers.als_waiting(ALS_WAITING, 1)?);
            merge(&mut pool, self.peers.threadpool_waiting(THREADPOOL_WAITING, 1)?);
            merge(&mut moto, self.peers.moto_waiting(MOTO_WAITING, 1)?);
        }
        let title = "Waiting children: each waits 5 s (seconds to finish; 5 s is the floor)";
        let d = format!("{WAITING_ITEMS} children, MaxConcurrency 100000, 2 dmap-workers over NATS");
        report.add(measurement(
            "waiting",
            title,
            "dmap (NATS, 2 workers)",
            d,
            "s",
            false,
            dist,
            params(&[("items", WAITING_ITEMS as f64)]),
        ));
        if let Some(r) = als {
            let system = r.system.clone();
            report.add(peer("waiting", title, r, false, params(&[("items", ALS_WAITING as f64)])));
            report.ratio("waiting", "dmap (NATS, 2 workers)", &system, "same 100,000 children, pair by pair");
        }
        for (r, n) in [(pool, THREADPOOL_WAITING), (moto, MOTO_WAITING)] {
            if let Some(r) = r {
                report.add(peer("waiting", title, r, false, params(&[("items", n as f64)])));
            }
        }
        for gap in [Gap::PoolWaiting, Gap::XargsWaiting] {
            report.add(peer("waiting", title, self.peers.gap(gap, "s"), false, params(&[])));
        }
        Ok(())
    }

    /// Peak RSS of the coordinator at 1M and 10M items, and of the TypeScript interpreter as
    /// its input grows.
    fn memory(&self, report: &mut Report) -> anyhow::Result<()> {
        eprintln!("== memory");
        let title = "Peak memory against items (MiB, lower is better)";
        let def = write_def(self.work, "batched.json", &definition(1000))?;
        for &n in &MEMORY_ITEMS {
            self.data(n)?;
            let mut rss = Vec::new();
            for _ in 0..self.runs() {
                let (_, kib) = maprun::run_once(self.dmap, self.work, &def)?;
                rss.push(kib as f64 / 1024.0);
            }
            let d = format!("dmap run (embedded), {n} JSONL items, batches of 1000; VmHWM of the dmap process");
            report.add(measurement("memory", title, DMAP, d, "MiB", false, rss, params(&[("items", n as f64)])));
        }
        for &n in &ALS_MAP_ITEMS {
            let (mut last, mut mib) = (None, Vec::new());
            for _ in 0..self.runs() {
                let r = self.peers.als_inline_map(n, 1)?;
                mib.extend(r.peak_rss_mib);
                last = Some(r);
            }
            if let Some(r) = last {
                let mut m = peer("memory", title, r, false, params(&[("items", n as f64)]));
                m.unit = "MiB".into();
                m.detail = format!("{} — peak RSS (VmHWM) of the node process", m.detail);
                m.samples = mib;
                report.add(m);
            }
        }
        Ok(())
    }

    /// Map Runs calling a Python function (the task-integration scenario), with its xargs baseline.
    fn functions(&self, report: &mut Report) -> anyhow::Result<()> {
        eprintln!("== functions");
        let args = functions::Args {
            items: ITEMS,
            unbatched_items: 100_000,
            runs: self.runs(),
            batch: 1000,
            concurrency: None,
            max_concurrency: None,
            baseline_parallel: 2,
            python: None,
        };
        let s = functions::samples(&args)?;
        let title = "Map Run calling a Python function per 1000-item batch (items/s)";
        let p = params(&[("items", ITEMS as f64), ("batch", 1000.0)]);
        let d = format!(
            "1M JSONL items, each child one lambda:invoke of a JSON Lines Python function ({}), {} processes",
            s.python, s.concurrency
        );
        report.add(measurement("functions-batched", title, DMAP, d, "items/s", true, s.batched, p.clone()));
        let baseline = "xargs -P2 python3 (one process per batch)";
        let bd = "`xargs -P2 -n1 python3 bench/functions/batch_once.py` over 1000-line chunk files, the same work"
            .to_string();
        report.add(measurement("functions-batched", title, baseline, bd, "items/s", true, s.baseline, p));
        report.ratio("functions-batched", DMAP, baseline, "pair by pair, same invocation");
        let t2 = "Map Run calling a Python function per item (invocations/s)";
        report.add(measurement(
            "functions-unbatched",
            t2,
            DMAP,
            "100,000 items, one lambda:invoke each".into(),
            "invocations/s",
            true,
            s.unbatched,
            params(&[("items", 100_000.0)]),
        ));
        Ok(())
    }

    /// From `dmap run` to the output of a one-state machine.
    fn startup(&self, report: &mut Report) -> anyhow::Result<()> {
        eprintln!("== start-up");
        startup_runs(self.dmap, self.work, self.runs().max(20), report)
    }
}

/// Times `dmap run` of a one-state machine `runs` times (after one untimed run).
fn startup_runs(dmap: &Path, work: &Path, runs: usize, report: &mut Report) -> anyhow::Result<()> {
    let def = write_def(
        work,
        "one.json",
        &json!({"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": "hello", "End": true}}}),
    )?;
    let once = || -> anyhow::Result<f64> {
        let t = Instant::now();
        let out = std::process::Command::new(dmap).arg("run").arg(&def).arg("--quiet").output()?;
        let secs = t.elapsed().as_secs_f64();
        anyhow::ensure!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("hello"));
        Ok(secs * 1000.0)
    };
    once()?;
    let samples = (0..runs).map(|_| once()).collect::<anyhow::Result<Vec<_>>>()?;
    let title = "Start-up: `dmap run` to the output of a one-state machine (ms, lower is better)";
    report.add(measurement(
        "startup",
        title,
        DMAP,
        "a Pass state; process start to exit".into(),
        "ms",
        false,
        samples,
        params(&[]),
    ));
    Ok(())
}
