//! `bench integrations`: a Distributed Map of N items (JSONL, 100,000 by default), each child one
//! DynamoDB PutItem, run by `dmap run` (embedded), beside boto3 making the same N calls from a
//! pool of 64 threads, in the same invocation, rounds alternating, against one endpoint:
//!
//! - the fake DynamoDB of [`crate::fake_dynamodb`] in its own process (moto is Python and
//!   would be the limit at these rates): calls/s of each client, and the CPU time per call of
//!   each client process (utime + stime from /proc, start to exit, as `bench distributed`
//!   measures roles) and of the endpoint over the same window;
//! - a sanity row at a small N against moto in server mode (`testkit::Moto`), the same two
//!   clients.
//!
//! Every run writes into a table of its own, and the endpoint's tally for it must then be
//! exactly the N items the run was given (count, and the digest of the items' contents); moto's
//! tables are counted with a Scan. A run whose side effect is off fails the bench.
//!
//! dmap runs in a child process as in `maprun` (the release `dmap` beside this binary). Should
//! dmap refuse the definition (an older build, without the integration), its rows say "cannot"
//! with dmap's message and the boto3 rows are still measured.

mod clients;
mod moto;

use std::path::{Path, PathBuf};

use anyhow::{Context, ensure};

use crate::fake_dynamodb;
use crate::machine;
use crate::report::{Measurement, Report, number};
use crate::scenarios::distributed::write_def;
use crate::scenarios::maprun::{dmap_binary, generate};
use clients::{Boto3, Resource, Timed};

/// The targets: dmap's calls/s at least this many times boto3's, and dmap's CPU per call
/// at most this many microseconds.
pub const RATIO_TARGET: f64 = 5.0;
pub const CPU_TARGET_US: f64 = 30.0;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Items of the Map Run, and PutItem calls of each client per run.
    #[arg(long, default_value_t = 100_000)]
    items: u64,
    /// Timed rounds (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// boto3's thread pool.
    #[arg(long, default_value_t = 64)]
    threads: usize,
    /// dmap's resources to measure (repeat): optimized (`dynamodb:putItem`), sdk
    /// (`aws-sdk:dynamodb:putItem`).
    #[arg(long = "resource", value_enum, default_values_t = vec![Resource::Optimized])]
    resources: Vec<Resource>,
    /// The Map's MaxConcurrency (default: unset, as a user writes it).
    #[arg(long)]
    max_concurrency: Option<u64>,
    /// Threads of the fake endpoint's runtime.
    #[arg(long, default_value_t = 1)]
    endpoint_threads: usize,
    /// Calls per client per run of the sanity rows against moto (0: no moto rows).
    #[arg(long, default_value_t = 2_000)]
    moto_items: u64,
    /// After the timed rounds, run dmap once more (untimed, the first resource, all the items)
    /// under `valgrind --tool=callgrind`, writing the profile to FILE (`callgrind_annotate FILE`).
    #[arg(long, value_name = "FILE")]
    callgrind: Option<PathBuf>,
    /// Also write the results to DIR/<date>-<host>-integrations.{json,md} (printed either way).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// What the rounds need besides the arguments.
struct Setup<'a> {
    dmap: PathBuf,
    boto3: Boto3<'a>,
    work: PathBuf,
}

/// One client's runs against one endpoint, or why it cannot run.
#[derive(Debug, Default)]
struct Runs {
    runs: Vec<Timed>,
    cannot: Option<String>,
}

impl Runs {
    fn calls_per_s(&self, n: u64) -> Vec<f64> {
        self.runs.iter().map(|t| n as f64 / t.calls).collect()
    }

    /// Calls ÷ the client process's whole life, start to exit.
    fn calls_per_s_whole(&self, n: u64) -> Vec<f64> {
        self.runs.iter().map(|t| n as f64 / t.wall).collect()
    }

    fn client_us(&self, n: u64) -> Vec<f64> {
        self.runs.iter().map(|t| t.cpu.timed * 1e6 / n as f64).collect()
    }

    fn endpoint_us(&self, n: u64) -> Vec<f64> {
        self.runs.iter().map(|t| t.cpu.watched.first().copied().unwrap_or(0.0) * 1e6 / n as f64).collect()
    }
}

pub fn run(a: &Args) -> anyhow::Result<()> {
    ensure!(a.runs >= 1 && a.items >= 1, "--runs and --items must be at least 1");
    let python = crate::tools::moto_venv_python()?;
    let boto3 = Boto3 { python: &python, script: testkit::repo().join("bench/peers/boto3_put.py"), threads: a.threads };
    let work = std::env::temp_dir().join(format!("dmap-bench-integrations-{}", std::process::id()));
    std::fs::create_dir_all(work.join("data"))?;
    let s = Setup { dmap: dmap_binary()?, boto3, work };
    let result = measure(a, &s);
    let _ = std::fs::remove_dir_all(&s.work);
    result
}

fn measure(a: &Args, s: &Setup) -> anyhow::Result<()> {
    let mut report = Report::new(&format!("bench {}", std::env::args().skip(1).collect::<Vec<_>>().join(" ")));
    let boto3_system = format!("{}, {} threads", s.boto3.version(), a.threads);
    report.versions.push(("boto3 (tools/moto-venv)".into(), boto3_system.clone()));
    println!("machine: {}", machine::describe());
    println!("clients: dmap {:?}; {boto3_system}", a.resources.iter().map(|r| r.arn()).collect::<Vec<_>>());

    let data = s.work.join("data");
    generate(&data.join("items.jsonl"), a.items)?;
    let items = data.join("items.jsonl");
    let want = fake_dynamodb::digest_of(&(0..a.items).map(clients::item).collect::<Vec<_>>());

    let exe = std::env::current_exe()?;
    let endpoint = fake_dynamodb::server::Process::start(&exe, a.endpoint_threads)?;
    let watched = [endpoint.pid()];
    let check = |table: &str, n: u64, want: u64| -> anyhow::Result<()> {
        let t = &endpoint.tables()?[table];
        let (count, digest) = (t["count"].as_u64().unwrap_or(0), t["digest"].as_str().unwrap_or(""));
        ensure!(
            count == n && digest == format!("{want:016x}"),
            "table {table} got {count} PutItem calls with digest {digest:?}; {n} calls of the run's items (digest \
             {want:016x}) were sent"
        );
        Ok(())
    };

    // One untimed run of each client on the first 1,000 items: caches, connections, and whether
    // dmap takes the definition at all.
    let warm = a.items.min(1_000);
    let warm_want = fake_dynamodb::digest_of(&(0..warm).map(clients::item).collect::<Vec<_>>());
    let mut dmap_runs: Vec<Runs> = a.resources.iter().map(|_| Runs::default()).collect();
    for (r, runs) in a.resources.iter().zip(&mut dmap_runs) {
        let table = format!("warm-{r:?}");
        let def = write_def(&s.work, "warm.json", &clients::definition(*r, &table, Some(warm), a.max_concurrency))?;
        match clients::dmap(&s.dmap, &def, &data, &s.work, &endpoint.url, &watched) {
            Ok(_) => check(&table, warm, warm_want)?,
            Err(e) => match e.downcast::<clients::Failed>() {
                Ok(f) => {
                    eprintln!("warning: {} is not measured: {f}", r.system());
                    runs.cannot = Some(format!(
                        "dmap refused the run: {}",
                        f.stderr.replace(&format!("{}: ", def.display()), "")
                    ));
                }
                Err(e) => return Err(e),
            },
        }
    }
    s.boto3.run(&items, warm, "warm-boto3", &s.work, &endpoint.url, &watched)?;
    check("warm-boto3", warm, warm_want)?;

    let mut boto3_runs = Runs::default();
    for round in 0..a.runs {
        for (r, runs) in a.resources.iter().zip(&mut dmap_runs) {
            if runs.cannot.is_some() {
                continue;
            }
            let table = format!("dmap-{r:?}-{round}");
            let def = write_def(&s.work, "def.json", &clients::definition(*r, &table, None, a.max_concurrency))?;
            let t = clients::dmap(&s.dmap, &def, &data, &s.work, &endpoint.url, &watched)
                .with_context(|| format!("{} round {round}", r.system()))?;
            check(&table, a.items, want)?;
            runs.runs.push(t);
        }
        let table = format!("boto3-{round}");
        boto3_runs.runs.push(s.boto3.run(&items, a.items, &table, &s.work, &endpoint.url, &watched)?);
        check(&table, a.items, want)?;
        eprintln!("round {} of {} done", round + 1, a.runs);
    }
    if let Some(file) = &a.callgrind {
        let r = a.resources[0];
        let table = format!("callgrind-{r:?}");
        let def = write_def(&s.work, "callgrind.json", &clients::definition(r, &table, None, a.max_concurrency))?;
        let valgrind = ["valgrind", "--tool=callgrind", "--quiet"].map(String::from);
        let wrapper = [&valgrind[..], &[format!("--callgrind-out-file={}", file.display())]].concat();
        clients::dmap_under(Some(&wrapper), &s.dmap, &def, &data, &s.work, &endpoint.url, &watched)
            .context("dmap under callgrind (is valgrind installed?)")?;
        check(&table, a.items, want)?;
        eprintln!("wrote {}: `callgrind_annotate {}`", file.display(), file.display());
    }
    drop(endpoint);

    let endpoint_name = "fake DynamoDB (bench fake-dynamodb, Rust, hyper)";
    let case = Case { id: "integrations", endpoint: endpoint_name, n: a.items, threads: a.threads };
    record(&mut report, &case, a, &dmap_runs, &boto3_system, &boto3_runs);

    if a.moto_items > 0 {
        let (dmap_moto, boto3_moto, version) = moto::measure(a, s)?;
        report.versions.push(("moto (tools/moto-venv)".into(), version.clone()));
        let endpoint = format!("moto {version} in server mode");
        let case = Case { id: "integrations-moto", endpoint: &endpoint, n: a.moto_items, threads: a.threads };
        record(&mut report, &case, a, &dmap_moto, &boto3_system, &boto3_moto);
    }

    println!("\n{}", report.markdown());
    targets(&report, &a.resources[0].system(), &boto3_system);
    if let Some(out) = &a.out {
        for p in report.write_named(out, "integrations")? {
            eprintln!("wrote {}", p.display());
        }
    }
    Ok(())
}

/// Which endpoint, how many calls per run.
struct Case<'a> {
    id: &'a str,
    endpoint: &'a str,
    n: u64,
    threads: usize,
}

fn record(report: &mut Report, c: &Case, a: &Args, dmap: &[Runs], boto3_system: &str, boto3: &Runs) {
    let rate_id = format!("{}-calls", c.id);
    let client_id = format!("{}-client-cpu", c.id);
    let endpoint_id = format!("{}-endpoint-cpu", c.id);
    let titles = [
        (&rate_id, format!("DynamoDB PutItem, {} calls against {} (calls/s)", grouped(c.n), c.endpoint)),
        (&client_id, format!("Client CPU per PutItem call, {} calls against {} (µs)", grouped(c.n), c.endpoint)),
        (&endpoint_id, format!("Endpoint CPU per PutItem call: {} (µs)", c.endpoint)),
    ];
    let mc = a.max_concurrency.map_or("MaxConcurrency unset".to_string(), |m| format!("MaxConcurrency {m}"));
    let mut add = |id: &String, system: &str, detail: &str, unit: &str, samples: Vec<f64>, cannot: &Option<String>| {
        let title = titles.iter().find(|(i, _)| *i == id).map(|(_, t)| t.clone()).unwrap_or_default();
        report.add(Measurement {
            scenario: id.clone(),
            title,
            system: system.into(),
            detail: detail.into(),
            unit: unit.into(),
            higher_is_better: unit == "calls/s",
            samples: if cannot.is_some() { Vec::new() } else { samples },
            params: [("items".to_string(), c.n as f64)].into_iter().collect(),
            unsupported: cannot.clone(),
        });
    };
    let us = "µs per call";
    for (r, runs) in a.resources.iter().zip(dmap) {
        let system = r.system();
        let detail = format!(
            "dmap run (embedded), Distributed Map over {} JSONL items, one {} per child, {mc}, ResultWriter to a local \
             directory; the whole process, start to exit",
            grouped(c.n),
            r.arn()
        );
        add(&rate_id, &system, &detail, "calls/s", runs.calls_per_s(c.n), &runs.cannot);
        let cpu = "utime + stime of the dmap process from /proc, start to exit, ÷ calls";
        add(&client_id, &system, cpu, us, runs.client_us(c.n), &runs.cannot);
        let ep = format!("{}'s utime + stime over the dmap run, ÷ calls", c.endpoint);
        add(&endpoint_id, &format!("serving {system}"), &ep, us, runs.endpoint_us(c.n), &runs.cannot);
    }
    let detail = format!(
        "bench/peers/boto3_put.py: one client (max_pool_connections {t}), ThreadPoolExecutor({t}).map(put_item) over the \
         same {} items; the calls timed in-process (reading the items and making the client left out)",
        grouped(c.n),
        t = c.threads
    );
    add(&rate_id, boto3_system, &detail, "calls/s", boto3.calls_per_s(c.n), &None);
    let whole = "the same runs, timed as dmap is: the python process from start to exit";
    add(&rate_id, &format!("{boto3_system} (whole process)"), whole, "calls/s", boto3.calls_per_s_whole(c.n), &None);
    let cpu = "utime + stime of the python process from /proc, start to exit (interpreter start and imports included), ÷ calls";
    add(&client_id, boto3_system, cpu, us, boto3.client_us(c.n), &None);
    let ep = format!("{}'s utime + stime over the boto3 run, ÷ calls", c.endpoint);
    add(&endpoint_id, &format!("serving {boto3_system}"), &ep, us, boto3.endpoint_us(c.n), &None);
    for r in &a.resources {
        let note = "pair by pair, same invocation, same endpoint";
        report.ratio(&rate_id, &r.system(), boto3_system, note);
        report.ratio(&client_id, &r.system(), boto3_system, note);
    }
}

/// The two targets, met or not, from the fake endpoint's rows.
fn targets(report: &Report, dmap: &str, boto3: &str) {
    let ratio = report.ratios.iter().find(|r| r.scenario == "integrations-calls" && r.numerator == dmap);
    let cpu = report.measurements.iter().find(|m| m.scenario == "integrations-client-cpu" && m.system == dmap);
    match ratio.filter(|r| !r.samples.is_empty()) {
        Some(r) => {
            let (med, min, max) = crate::report::stats(&r.samples);
            let met = if med >= RATIO_TARGET { "met" } else { "NOT met" };
            println!("target: {dmap} ≥ {RATIO_TARGET}× {boto3} calls/s: {med:.2}× ({min:.2}–{max:.2}×): {met}");
        }
        None => println!("target: {dmap} ≥ {RATIO_TARGET}× boto3 calls/s: not measured"),
    }
    match cpu.and_then(Measurement::stats) {
        Some((med, min, max)) => {
            let met = if med <= CPU_TARGET_US { "met" } else { "NOT met" };
            println!("target: {dmap} CPU per call ≤ {CPU_TARGET_US} µs: {med:.1} µs ({min:.1}–{max:.1}): {met}");
        }
        None => println!("target: {dmap} CPU per call ≤ {CPU_TARGET_US} µs: not measured"),
    }
}

/// `100000` as `100,000`.
fn grouped(n: u64) -> String {
    number(n as f64)
}

/// Writes the first `n` items of the benchmark's data as `dir/items.jsonl`.
fn data_of(dir: &Path, n: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    generate(&dir.join("items.jsonl"), n)
}
