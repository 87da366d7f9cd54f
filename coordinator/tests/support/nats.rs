//! The harness of the NATS tests: a real nats-server (testkit), real `dmap-worker` and `dmap`
//! processes with their output kept in files, guards that kill every process when dropped
//! (also when a test panics), free loopback ports, plain-HTTP reads of `/healthz` and
//! `/metrics`, polling with a deadline, and ResultWriter output read as multisets.
//!
//! Faults are real: a worker or coordinator is stopped by a signal, nats-server by
//! [`testkit::NatsServer::restart`]. Nothing here waits a fixed time to synchronise: every wait
//! polls a condition until a deadline and fails with a diagnostic when it passes.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use testkit::NatsServer;

use super::dmap::{Results, read_results, repo};

/// How often conditions are polled.
const POLL: Duration = Duration::from_millis(50);

pub fn worker_binary() -> PathBuf {
    testkit::sibling_binary(env!("CARGO_BIN_EXE_dmap"), "dmap-worker")
}

/// A file of `coordinator/tests/nats/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nats").join(name)
}

/// A loopback port nothing listens on right now (bound, then released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local address").port()
}

/// `127.0.0.1:PORT` with a free port, for `--listen`.
pub fn free_addr() -> String {
    format!("127.0.0.1:{}", free_port())
}

/// Polls `f` until it returns `Some`, failing the test with `what` and `diagnostic()` when
/// `deadline` passes.
pub fn wait_for<T>(
    what: &str,
    deadline: Instant,
    mut f: impl FnMut() -> Option<T>,
    diagnostic: impl Fn() -> String,
) -> T {
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}\n{}", diagnostic());
        std::thread::sleep(POLL);
    }
}

/// A process started by a test: stdout and stderr go to files; killed (SIGKILL) when dropped.
pub struct Proc {
    pub name: String,
    child: Option<Child>,
    status: Option<ExitStatus>,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Proc {
    pub fn spawn(name: &str, mut cmd: Command, logs: &Path) -> Proc {
        let stdout = logs.join(format!("{name}.out"));
        let stderr = logs.join(format!("{name}.err"));
        let out = std::fs::File::create(&stdout).expect("stdout file");
        let err = std::fs::File::create(&stderr).expect("stderr file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        Proc { name: name.to_string(), child: Some(child), status: None, stdout, stderr }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The exit status once the process has ended (reaped here), `None` while it runs.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none()
            && let Some(c) = &mut self.child
            && let Ok(Some(s)) = c.try_wait()
        {
            self.status = Some(s);
        }
        self.status
    }

    pub fn running(&mut self) -> bool {
        self.exited().is_none()
    }

    /// Sends a signal (`TERM`, `KILL`) without waiting.
    pub fn signal(&self, name: &str) {
        if self.status.is_none() {
            testkit::signal(self.pid(), name);
        }
    }

    /// SIGKILL, then waits until the process is gone.
    pub fn kill(&mut self) {
        if let Some(c) = &mut self.child
            && self.status.is_none()
        {
            let _ = c.kill();
            self.status = c.wait().ok();
        }
    }

    /// Waits for the process to end, failing the test with its output if it has not by `deadline`.
    pub fn wait_exit(&mut self, deadline: Instant) -> ExitStatus {
        let name = self.name.clone();
        let (out, err) = (self.stdout.clone(), self.stderr.clone());
        wait_for(&format!("{name} to exit"), deadline, || self.exited(), || tail_of(&name, &out, &err))
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The last lines of both outputs, for failure messages.
    pub fn tail(&self) -> String {
        tail_of(&self.name, &self.stdout, &self.stderr)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn tail_of(name: &str, stdout: &Path, stderr: &Path) -> String {
    let last = |p: &Path| {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    };
    format!("--- {name} stdout (end) ---\n{}\n--- {name} stderr (end) ---\n{}", last(stdout), last(stderr))
}

/// One test's world: a nats-server, a temporary directory with the `data` and `results`
/// buckets and the processes' logs, and the workers. Dropping it kills every process.
pub struct Cluster {
    pub workers: Vec<Worker>,
    worker_args: Vec<String>,
    /// Environment of every process the cluster starts (workers and `dmap run`), e.g. the
    /// endpoint of a local AWS-protocol server.
    env: Vec<(String, String)>,
    started: usize,
    pub nats: NatsServer,
    pub dir: tempfile::TempDir,
}

/// A `dmap-worker` process and its ops address (`--listen`).
pub struct Worker {
    pub proc: Proc,
    pub listen: String,
}

impl Worker {
    /// The worker's `/metrics` text, `None` when it cannot be read (not listening, or gone).
    pub fn metrics(&self) -> Option<String> {
        let (status, body) = http_get(&self.listen, "/metrics")?;
        (status == 200).then_some(body)
    }
}

impl Cluster {
    /// Starts nats-server; every worker started later gets `worker_args`.
    pub fn new(worker_args: &[&str]) -> Cluster {
        let dir = tempfile::Builder::new().prefix("dmap-nats-test-").tempdir().expect("temporary directory");
        for d in ["data", "results", "logs"] {
            std::fs::create_dir_all(dir.path().join(d)).expect("test directories");
        }
        Cluster {
            workers: Vec::new(),
            worker_args: worker_args.iter().map(|s| s.to_string()).collect(),
            env: Vec::new(),
            started: 0,
            nats: NatsServer::start(),
            dir,
        }
    }

    /// Replaces the arguments of workers started from now on (e.g. a functions file written
    /// into the cluster's directory).
    pub fn with_worker_args(mut self, worker_args: &[&str]) -> Cluster {
        self.worker_args = worker_args.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Sets environment variables of every process started from now on.
    pub fn with_env<K: ToString, V: ToString>(mut self, env: impl IntoIterator<Item = (K, V)>) -> Cluster {
        self.env.extend(env.into_iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn logs(&self) -> PathBuf {
        self.path("logs")
    }

    /// Writes `data/items.jsonl`: items `0..n`, each `item(i)`.
    pub fn write_items(&self, n: u64, item: impl Fn(u64) -> Value) {
        let file = std::fs::File::create(self.path("data").join("items.jsonl")).expect("items file");
        let mut f = std::io::BufWriter::new(file);
        for i in 0..n {
            writeln!(f, "{}", item(i)).expect("write an item");
        }
        f.flush().expect("flush the items");
    }

    /// Starts a worker with the cluster's arguments, serving `/healthz` and `/metrics` on a
    /// free port; returns its index.
    pub fn start_worker(&mut self) -> usize {
        self.started += 1;
        let listen = free_addr();
        let mut cmd = Command::new(worker_binary());
        cmd.current_dir(repo()).arg("--nats").arg(self.nats.url()).arg("--listen").arg(&listen).args(&self.worker_args);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        let proc = Proc::spawn(&format!("worker-{}", self.started), cmd, &self.logs());
        self.workers.push(Worker { proc, listen });
        self.workers.len() - 1
    }

    /// Starts a new worker in place of each one that has exited; returns how many.
    pub fn replace_dead(&mut self) -> usize {
        let dead: Vec<usize> = (0..self.workers.len()).filter(|&i| !self.workers[i].proc.running()).collect();
        for &i in &dead {
            self.start_worker();
            let fresh = self.workers.pop().expect("the worker just started");
            self.workers[i] = fresh;
        }
        dead.len()
    }

    /// Waits until every worker answers `/healthz` with 200 (connected, consumers set up).
    pub fn wait_workers_ready(&self, deadline: Instant) {
        for i in 0..self.workers.len() {
            self.wait_worker_ready(i, deadline);
        }
    }

    /// Waits until worker `i` answers `/healthz` with 200.
    pub fn wait_worker_ready(&self, i: usize, deadline: Instant) {
        let addr = &self.workers[i].listen;
        wait_for(
            "a worker's /healthz to answer 200",
            deadline,
            || http_get(addr, "/healthz").filter(|(s, _)| *s == 200),
            || self.workers[i].proc.tail(),
        );
    }

    /// A `dmap run` of `definition` against this cluster's NATS and buckets, as Map Run `id`.
    pub fn dmap_run(&self, definition: &Path, id: &str, input: &Value) -> DmapRun {
        let mut args: Vec<std::ffi::OsString> = vec!["run".into(), definition.into(), "--quiet".into()];
        for a in ["--input-json", &input.to_string(), "--resume", id] {
            args.push(a.into());
        }
        DmapRun {
            args,
            env: self.env.clone(),
            nats: Some(self.nats.url()),
            data: self.path("data"),
            results: self.path("results"),
            logs: self.logs(),
        }
    }

    /// Every worker's and the given processes' output ends, for failure messages.
    pub fn diagnostic(&self, others: &[&Proc]) -> String {
        let mut out: Vec<String> = self.workers.iter().map(|w| w.proc.tail()).collect();
        out.extend(others.iter().map(|p| p.tail()));
        out.join("\n")
    }

    /// The ResultWriter output of Map Run `id` (`results/out/ID/manifest.json`).
    pub fn results(&self, id: &str) -> Results {
        read_results(&self.path("results"), &format!("out/{id}/manifest.json"))
    }
}

/// A `dmap run` command being put together.
pub struct DmapRun {
    args: Vec<std::ffi::OsString>,
    env: Vec<(String, String)>,
    nats: Option<String>,
    data: PathBuf,
    results: PathBuf,
    logs: PathBuf,
}

impl DmapRun {
    pub fn arg(mut self, a: impl Into<std::ffi::OsString>) -> Self {
        self.args.push(a.into());
        self
    }

    /// Runs it on the in-process worker pool instead of NATS (a reference run).
    pub fn without_nats(mut self) -> Self {
        self.nats = None;
        self
    }

    /// Maps the `results` bucket to `dir` instead of the cluster's.
    pub fn results_in(mut self, dir: &Path) -> Self {
        self.results = dir.to_path_buf();
        self
    }

    pub fn spawn(self, name: &str) -> Proc {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dmap"));
        cmd.current_dir(repo()).args(&self.args).envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd.arg("--bucket").arg(format!("data={}", self.data.display()));
        cmd.arg("--bucket").arg(format!("results={}", self.results.display()));
        if let Some(url) = &self.nats {
            cmd.arg("--nats").arg(url);
        }
        Proc::spawn(name, cmd, &self.logs)
    }
}

/// Writes a functions file serving the handlers of `tests/nats/faults.py`; `record` appends
/// to `log`.
pub fn write_functions(path: &Path, log: &Path) {
    let runtime = repo().join("examples/python/dmap_runtime.py");
    let mut text = String::new();
    for (name, concurrency) in [("record", 16), ("poison", 8)] {
        text.push_str(&format!(
            "[functions.{name}]\ncommand = [\"python3\", {runtime:?}, \"faults:{name}\"]\nworking_dir = {dir:?}\n\
             timeout_seconds = 60\nconcurrency = {concurrency}\nenv = {{ RECORD_LOG = {log:?} }}\n\n",
            runtime = runtime.display().to_string(),
            dir = fixture("").display().to_string(),
            log = log.display().to_string(),
        ));
    }
    std::fs::write(path, text).expect("functions file");
}

/// The status document `--map-run-status FILE` keeps, once it exists.
pub fn status_doc(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// `itemCounts.FIELD` of a status document (0 when absent).
pub fn item_count(doc: &Value, field: &str) -> u64 {
    doc["itemCounts"][field].as_u64().unwrap_or(0)
}

/// The status document counts `items` items, all succeeded and written, none failed or pending.
#[track_caller]
pub fn assert_item_counts(doc: &Value, items: u64) {
    for (field, want) in
        [("total", items), ("succeeded", items), ("failed", 0), ("pending", 0), ("resultsWritten", items)]
    {
        assert_eq!(item_count(doc, field), want, "itemCounts.{field}: {doc}");
    }
}

/// The sum of metric `name` (samples with `labels`) on `worker`'s `/metrics`, if it answers.
pub fn worker_metric(c: &Cluster, worker: usize, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    Some(metric_sum(&c.workers[worker].metrics()?, name, labels))
}

/// Every item of `0..n` is in exactly one SUCCEEDED record, and no record failed or is pending.
/// Returns the records.
#[track_caller]
pub fn assert_all_succeeded_once(c: &Cluster, id: &str, n: u64) -> Results {
    let r = c.results(id);
    assert!(r.failed.is_empty(), "FAILED records: {:?}", r.failed);
    assert!(r.pending.is_empty(), "PENDING records: {:?}", r.pending);
    assert_exactly_once(&ids_in(&r.succeeded, "Output"), 0..n, "items in the SUCCEEDED files' outputs");
    r
}

/// A GET over plain HTTP/1.1 on loopback: status and body, `None` if nothing answers.
pub fn http_get(addr: &str, path: &str) -> Option<(u16, String)> {
    let sock: std::net::SocketAddr = addr.parse().ok()?;
    let mut s = std::net::TcpStream::connect_timeout(&sock, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// The samples of metric family `name` in a Prometheus text: labels and value.
pub fn samples(text: &str, name: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else { continue };
        let (metric, labels) = match series.split_once('{') {
            Some((m, rest)) => (m, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        if metric != name {
            continue;
        }
        let mut map = BTreeMap::new();
        for pair in labels.split("\",").filter(|p| !p.is_empty()) {
            if let Some((k, v)) = pair.split_once("=\"") {
                map.insert(k.to_string(), v.trim_end_matches('"').to_string());
            }
        }
        if let Ok(v) = value.parse() {
            out.push((map, v));
        }
    }
    out
}

/// The sum of the samples of `name` whose labels include all of `labels`.
pub fn metric_sum(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples(text, name)
        .iter()
        .filter(|(l, _)| labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v)))
        .map(|(_, v)| v)
        .sum()
}

/// The item ids listed in records' `Output` (a JSON array of items with `id`) or `Input`
/// (`{"Items": [...]}`).
pub fn ids_in(records: &[Value], field: &str) -> Vec<u64> {
    let mut ids = Vec::new();
    for r in records {
        let text = r[field].as_str().unwrap_or_else(|| panic!("{field} of {r} is not a string"));
        let v: Value = serde_json::from_str(text).expect("a JSON document");
        let items = if field == "Input" { v["Items"].clone() } else { v };
        for it in items.as_array().unwrap_or_else(|| panic!("{field} of {r} is not a list of items")) {
            ids.push(it["id"].as_u64().expect("an item id"));
        }
    }
    ids
}

/// Fails unless `ids` is exactly `expected`, each once, naming what is missing or doubled.
pub fn assert_exactly_once(ids: &[u64], expected: impl IntoIterator<Item = u64>, what: &str) {
    let mut seen: BTreeMap<u64, u32> = BTreeMap::new();
    for &i in ids {
        *seen.entry(i).or_default() += 1;
    }
    let expected: Vec<u64> = expected.into_iter().collect();
    let missing: Vec<u64> = expected.iter().copied().filter(|i| !seen.contains_key(i)).take(20).collect();
    let doubled: Vec<(u64, u32)> = seen.iter().filter(|(_, n)| **n > 1).map(|(i, n)| (*i, *n)).take(20).collect();
    let unexpected: Vec<u64> = seen.keys().copied().filter(|i| expected.binary_search(i).is_err()).take(20).collect();
    assert!(
        missing.is_empty() && doubled.is_empty() && unexpected.is_empty() && ids.len() == expected.len(),
        "{what}: {} ids for {} items; missing (first 20) {missing:?}; more than once (id, times) {doubled:?}; \
         unexpected {unexpected:?}",
        ids.len(),
        expected.len()
    );
}

/// The records of each kind as a sorted list of their `Status`, `Name`, `Input` and `Output`
/// (what must not depend on timing), for comparing two runs' ResultWriter output as multisets.
pub fn multisets(r: &Results) -> BTreeMap<&'static str, Vec<Value>> {
    let key = |records: &[Value]| {
        let mut v: Vec<Value> = records
            .iter()
            .map(|r| {
                json!({"Status": r["Status"], "Name": r["Name"], "Input": r["Input"], "Output": r["Output"],
                    "ExecutionArn": r["ExecutionArn"]})
            })
            .collect();
        v.sort_by_key(|a| a.to_string());
        v
    };
    BTreeMap::from([("SUCCEEDED", key(&r.succeeded)), ("FAILED", key(&r.failed)), ("PENDING", key(&r.pending))])
}

/// The batch numbers of every outcome recorded so far on Map Run `id`'s outcome subject
/// (read with a NATS client of the test's own), with repeats.
pub fn recorded_outcomes(url: &str, id: &str) -> Vec<u64> {
    use async_nats::jetstream::consumer::pull::OrderedConfig;
    use futures::StreamExt;
    use shared::protocol::nats::{OUTCOME_STREAM, outcome_subject};
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    rt.block_on(async {
        let client = async_nats::connect(url).await.expect("the test connects to NATS");
        let js = async_nats::jetstream::new(client);
        let stream = js.get_stream(OUTCOME_STREAM).await.expect("the outcome stream");
        let subject = outcome_subject(id);
        let mut batches = Vec::new();
        let consumer = stream
            .create_consumer(OrderedConfig { filter_subject: subject, ..Default::default() })
            .await
            .expect("an ordered consumer");
        let mut messages = consumer.messages().await.expect("the outcome messages");
        loop {
            let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(5), messages.next()).await else { break };
            let m = m.expect("an outcome message");
            let body = worker::nats::codec::decode(&m.payload, m.headers.as_ref()).expect("a readable outcome message");
            let outcomes = shared::protocol::read_outcomes(&body).expect("an outcome message");
            batches.extend(outcomes.iter().map(|o| o.batch));
            if m.info().map(|i| i.pending).unwrap_or(0) == 0 {
                break;
            }
        }
        batches
    })
}
