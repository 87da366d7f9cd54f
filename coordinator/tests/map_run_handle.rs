//! A running Map Run is controlled through its handle, as UpdateMapRun and DescribeMapRun
//! control and report AWS's: MaxConcurrency shrinks and grows the window at once, a lowered
//! tolerated failure count fails the run as soon as it is below the failures seen, a stop
//! aborts it with every item accounted for, and a completed run refuses updates.
//!
//! Children are Task states whose calls wait at a gate the test opens one call at a time, so
//! the test decides when each child ends; it waits for what it expects by polling `describe`
//! (or awaiting the run's end) under a deadline, never by sleeping a guessed time.
//!
//! Over NATS, a Map Run keyed by its execution and Map state entry keeps its ARN across a
//! restart of its host, and a run found ended reports its final counts, not zeros.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinator::host::{EmbeddedHost, LocalHost};
use coordinator::map_run::handle::{MapRunHandle, MapRunStatus, MapRunView, UpdateError};
use coordinator::map_run::registry::{MapRunObserver, MapRuns};
use coordinator::map_run::run::RunOptions;
use coordinator::map_run::status::Progress;
use coordinator::storage::Storage;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use shared::asl::Failure;
use shared::asl::eval::map_run::MapRunRequest;
use shared::asl::eval::{ExecutionOptions, Host, Outcome, Status, TaskRequest, execute};
use tokio::sync::Semaphore;

const DEADLINE: Duration = Duration::from_secs(20);

/// A base host whose task calls wait for a permit; an input with `"fail": true` fails.
struct Gate {
    local: LocalHost,
    permits: Semaphore,
    /// Calls waiting at the gate now.
    inside: AtomicU64,
}

impl Host for Gate {
    fn now(&self) -> DateTime<Utc> {
        self.local.now()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        self.local.sleep_until(deadline)
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        Box::pin(async move {
            self.inside.fetch_add(1, Ordering::SeqCst);
            let permit = self.permits.acquire().await.expect("the gate stays open");
            permit.forget();
            self.inside.fetch_sub(1, Ordering::SeqCst);
            if request.input["fail"] == json!(true) {
                return Err(Failure::new("Boom", "the item asked to fail"));
            }
            Ok(request.input)
        })
    }
}

/// Records what the observer is told.
#[derive(Default)]
struct Recorder(Mutex<Vec<(&'static str, MapRunView)>>);

impl MapRunObserver for Recorder {
    fn started(&self, view: &MapRunView) {
        self.0.lock().expect("lock").push(("started", view.clone()));
    }
    fn progressed(&self, view: &MapRunView) {
        self.0.lock().expect("lock").push(("progressed", view.clone()));
    }
    fn ended(&self, view: &MapRunView) {
        self.0.lock().expect("lock").push(("ended", view.clone()));
    }
}

/// Gives every Map Run the key `entry-7`, as the engine gives the id of the Map state's
/// entry event.
struct Keyed(Arc<EmbeddedHost<Gate>>);

impl Host for Keyed {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        self.0.sleep_until(deadline)
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        self.0.invoke_task(request)
    }
    fn run_map<'a>(&'a self, request: MapRunRequest<'a>) -> BoxFuture<'a, Result<Value, Failure>> {
        self.0.run_map_keyed(request, "entry-7")
    }
}

struct Harness {
    host: Arc<EmbeddedHost<Gate>>,
    recorder: Arc<Recorder>,
}

fn harness(storage: Storage) -> Harness {
    let gate = Gate { local: LocalHost::default(), permits: Semaphore::new(0), inside: AtomicU64::new(0) };
    let recorder = Arc::new(Recorder::default());
    let host = EmbeddedHost::with_map_runs(
        gate,
        Arc::new(storage),
        RunOptions::default(),
        Arc::new(Progress::silent()),
        None,
        MapRuns::with_observer(recorder.clone()),
    );
    Harness { host, recorder }
}

/// A Distributed Map over `$.items` whose children call the gate once.
fn machine(config: Value) -> shared::asl::model::StateMachine {
    let mut map = json!({
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Call", "States": {"Call": {"Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "f", "fail.$": "$.fail"}, "End": true}}},
        "End": true
    });
    map.as_object_mut().expect("object").extend(config.as_object().expect("object").clone());
    let definition = json!({"StartAt": "Fan", "States": {"Fan": map}}).to_string();
    shared::asl::parse_definition(&definition).expect("valid").0
}

fn items(n: usize, failing: usize) -> Value {
    json!({"items": (0..n).map(|i| json!({"fail": i < failing})).collect::<Vec<_>>()})
}

fn options(name: &str) -> ExecutionOptions {
    ExecutionOptions { execution_name: name.into(), state_machine_name: "Fanout".into(), ..Default::default() }
}

/// Starts the execution and returns its task and the handle of its Map Run once running.
async fn start(
    h: &Harness,
    machine: shared::asl::model::StateMachine,
    input: Value,
    name: &str,
) -> (tokio::task::JoinHandle<Outcome>, MapRunHandle) {
    let host = h.host.clone();
    let opts = options(name);
    let execution_arn = opts.execution_arn();
    let task = tokio::spawn(async move { execute(&machine, input, &opts, &*host).await });
    let runs = h.host.map_runs().clone();
    let handle = until("the Map Run starts", || runs.of_execution(&execution_arn).into_iter().next()).await;
    (task, handle)
}

/// Polls `probe` until it gives a value, failing the test at the deadline.
async fn until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let end = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(tokio::time::Instant::now() < end, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits until `describe` satisfies `ok`; returns that view.
async fn described(handle: &MapRunHandle, what: &str, ok: impl Fn(&MapRunView) -> bool) -> MapRunView {
    until(what, || Some(handle.describe()).filter(|v| ok(v))).await
}

async fn ended(handle: &MapRunHandle) -> MapRunView {
    tokio::time::timeout(DEADLINE, handle.ended()).await.expect("the Map Run ends")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrency_shrinks_and_grows_the_window_of_a_running_map_run() {
    let h = harness(Storage::default());
    let (task, run) = start(&h, machine(json!({"MaxConcurrency": 10})), items(40, 0), "window").await;
    let v = described(&run, "10 children run", |v| v.execution_counts.running == 10).await;
    assert_eq!((v.status, v.max_concurrency), (MapRunStatus::Running, 10));
    until("10 calls wait at the gate", || (h.host.base().inside.load(Ordering::SeqCst) == 10).then_some(())).await;

    // Down to 3: the 10 running finish, and none starts until fewer than 3 run.
    run.update(Some(3), None, None).expect("a running Map Run accepts updates");
    assert_eq!(run.describe().max_concurrency, 3);
    for done in 1..=7u64 {
        h.host.base().permits.add_permits(1);
        let v = described(&run, "one more child succeeds", |v| v.execution_counts.succeeded == done).await;
        assert_eq!(v.execution_counts.running, 10 - done, "nothing starts above the new limit");
        assert_eq!(v.execution_counts.total, 10);
    }
    h.host.base().permits.add_permits(1);
    let v = described(&run, "a child replaces the 8th", |v| {
        v.execution_counts.succeeded == 8 && v.execution_counts.total == 11
    })
    .await;
    assert_eq!(v.execution_counts.running, 3);

    // Up to 8: five more start at once, without any child ending.
    run.update(Some(8), None, None).expect("still running");
    let v = described(&run, "8 children run", |v| v.execution_counts.running == 8).await;
    assert_eq!((v.execution_counts.succeeded, v.execution_counts.total), (8, 16));
    until("8 calls wait at the gate", || (h.host.base().inside.load(Ordering::SeqCst) == 8).then_some(())).await;

    // 0 is AWS's default: as many as possible (all 24 left start).
    run.update(Some(0), None, None).expect("still running");
    let v = described(&run, "every child runs", |v| v.execution_counts.running == 32).await;
    assert_eq!(v.max_concurrency, 0);

    h.host.base().permits.add_permits(1000);
    let end = ended(&run).await;
    assert_eq!(end.status, MapRunStatus::Succeeded);
    assert_eq!((end.item_counts.succeeded, end.item_counts.total, end.item_counts.running), (40, 40, 0));
    assert!(end.stop_date.is_some());
    let outcome = task.await.expect("the execution task");
    assert_eq!(outcome.status, Status::Succeeded, "{:?}", outcome.failure);
    assert_eq!(outcome.output.as_ref().and_then(Value::as_array).map(Vec::len), Some(40));

    // AWS: ValidationException CANNOT_UPDATE_COMPLETED_MAP_RUN.
    assert_eq!(run.update(Some(5), None, None), Err(UpdateError::Completed(end.map_run_arn.clone())));
    assert!(!run.stop(), "a completed run cannot be stopped");
    // The registry holds running runs only: the ended one is no longer found there.
    assert_eq!(
        h.host.map_runs().update(&end.map_run_arn, Some(5), None, None),
        Err(UpdateError::NotFound(end.map_run_arn.clone()))
    );

    // The observer saw the start, the updates at once, and the end last.
    let events = h.recorder.0.lock().expect("lock").clone();
    assert_eq!(events.first().map(|e| (e.0, e.1.status)), Some(("started", MapRunStatus::Running)));
    assert_eq!(events.last().map(|e| (e.0, e.1.status)), Some(("ended", MapRunStatus::Succeeded)));
    let limits: Vec<u64> = events.iter().filter(|e| e.0 == "progressed").map(|e| e.1.max_concurrency).collect();
    for limit in [3, 8, 0] {
        assert!(limits.contains(&limit), "the update to {limit} was reported: {limits:?}");
    }
    assert_eq!(events.iter().filter(|e| e.0 == "ended").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lowering_the_tolerated_failure_count_below_the_failures_seen_fails_the_run() {
    let h = harness(Storage::default());
    let config = json!({"MaxConcurrency": 5, "ToleratedFailureCount": 10});
    let (task, run) = start(&h, machine(config), items(20, 5), "tolerance").await;
    described(&run, "5 children run", |v| v.execution_counts.running == 5).await;
    // The first five items fail; five more children start in their place.
    h.host.base().permits.add_permits(5);
    let v =
        described(&run, "5 failed and 5 more run", |v| v.item_counts.failed == 5 && v.execution_counts.running == 5)
            .await;
    assert_eq!((v.status, v.tolerated_failure_count), (MapRunStatus::Running, 10));

    run.update(None, None, Some(2)).expect("a running Map Run accepts updates");
    let end = ended(&run).await;
    assert_eq!(end.status, MapRunStatus::Failed);
    assert_eq!(end.tolerated_failure_count, 2);
    let i = end.item_counts;
    // The five in flight are aborted (Standard children), the ten never started stay pending.
    assert_eq!((i.succeeded, i.failed, i.aborted, i.pending, i.total), (0, 5, 5, 10, 20));
    let outcome = task.await.expect("the execution task");
    assert_eq!(outcome.status, Status::Failed);
    let failure = outcome.failure.expect("a failure");
    assert_eq!(failure.error.as_deref(), Some("States.ExceedToleratedFailureThreshold"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_map_run_ends_aborted_with_every_item_accounted_for() {
    let results = tempfile::tempdir().expect("tempdir");
    let spec = format!("results={}", results.path().display());
    let h = harness(Storage::from_specs(&[spec]).expect("bucket"));
    let config = json!({"MaxConcurrency": 4,
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "results", "Prefix": "out"}}});
    let (task, run) = start(&h, machine(config), items(30, 0), "stop").await;
    described(&run, "4 children run", |v| v.execution_counts.running == 4).await;
    h.host.base().permits.add_permits(6);
    described(&run, "6 succeeded and 4 run", |v| v.item_counts.succeeded == 6 && v.execution_counts.running == 4).await;

    assert!(run.stop(), "the run was running");
    let end = ended(&run).await;
    assert_eq!(end.status, MapRunStatus::Aborted);
    let i = end.item_counts;
    assert_eq!((i.succeeded, i.aborted, i.pending, i.running, i.total), (6, 4, 20, 0, 30));
    assert_eq!(i.succeeded + i.failed + i.timed_out + i.aborted + i.pending, i.total);
    assert_eq!(run.update(Some(1), None, None), Err(UpdateError::Completed(end.map_run_arn.clone())));

    // No Catch catches it: the execution fails (its engine may call it aborted).
    let outcome = task.await.expect("the execution task");
    assert_eq!(outcome.status, Status::Failed);
    assert_eq!(outcome.failure.and_then(|f| f.error).as_deref(), Some("States.Runtime"));

    // The results are written: the manifest, and every item in exactly one file.
    let id = end.map_run_arn.rsplit(':').next().expect("an id");
    let dir = results.path().join("out").join(id);
    assert!(dir.join("manifest.json").is_file(), "the manifest is written");
    let mut by_file = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("results") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if name == "manifest.json" {
            continue;
        }
        let records: Vec<Value> = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        by_file.insert(name, records.len());
    }
    let expected: std::collections::BTreeMap<String, usize> =
        [("SUCCEEDED_0.json".to_string(), 6), ("FAILED_0.json".to_string(), 4), ("PENDING_0.json".to_string(), 20)]
            .into();
    assert_eq!(by_file, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_map_run_has_the_same_arn_in_the_same_execution_only() {
    let h = harness(Storage::default());
    h.host.base().permits.add_permits(1000);
    let keyed = Arc::new(Keyed(h.host.clone()));
    let m = machine(json!({}));
    let mut arns = Vec::new();
    for name in ["same", "same", "other"] {
        let outcome = execute(&m, items(3, 0), &options(name), &*keyed).await;
        assert_eq!(outcome.status, Status::Succeeded, "{:?}", outcome.failure);
        let events = h.recorder.0.lock().expect("lock").clone();
        let started = events.iter().rev().find(|e| e.0 == "started").expect("a start").1.clone();
        assert_eq!(started.execution_arn, options(name).execution_arn());
        arns.push(started.map_run_arn);
    }
    assert_eq!(arns[0], arns[1], "the same execution and key name the same Map Run");
    assert_ne!(arns[0], arns[2], "another execution names another Map Run");
    assert!(arns[0].starts_with("arn:aws:states:us-east-1:123456789012:mapRun:Fanout/Fan:"));
}

/// A host over NATS that runs every Map Run with the key `entry-7`.
struct KeyedNats(Arc<EmbeddedHost<LocalHost>>);

impl Host for KeyedNats {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        self.0.sleep_until(deadline)
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        self.0.invoke_task(request)
    }
    fn run_map<'a>(&'a self, request: MapRunRequest<'a>) -> BoxFuture<'a, Result<Value, Failure>> {
        self.0.run_map_keyed(request, "entry-7")
    }
}

/// A host whose Map Runs go to NATS workers, as `dmap serve --nats` would make after a start.
async fn nats_host(url: String, recorder: Arc<Recorder>) -> KeyedNats {
    use coordinator::map_run::nats::NatsTransport;
    let args = worker::nats::connect::NatsArgs { nats: Some(url), ..Default::default() };
    let settings = worker::nats::topology::Settings::default();
    let transport = Arc::new(NatsTransport::connect(&args, &settings).await.expect("NATS"));
    KeyedNats(EmbeddedHost::with_map_runs(
        LocalHost::default(),
        Arc::new(Storage::default()),
        RunOptions::default(),
        Arc::new(Progress::silent()),
        Some(transport),
        MapRuns::with_observer(recorder),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_host_finds_a_keyed_map_run_by_its_arn_over_nats() {
    let mut cluster = support::nats::Cluster::new(&[]);
    cluster.start_worker();
    cluster.wait_workers_ready(std::time::Instant::now() + DEADLINE);
    let definition = json!({"StartAt": "Fan", "States": {"Fan": {"Type": "Map", "ItemsPath": "$.items",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": true}}},
        "End": true}}});
    let m = shared::asl::parse_definition(&definition.to_string()).expect("valid").0;
    let input = json!({"items": (0..50).collect::<Vec<_>>()});

    let first = Arc::new(Recorder::default());
    let host = nats_host(cluster.nats.url(), first.clone()).await;
    let ran = tokio::time::timeout(DEADLINE, execute(&m, input.clone(), &options("durable"), &host)).await;
    let ran = ran.expect("the first run ends");
    assert_eq!(ran.status, Status::Succeeded, "{:?}\n{}", ran.failure, cluster.diagnostic(&[]));
    let ended_first = first.0.lock().expect("lock").last().expect("an end").1.clone();
    drop(host);

    // No worker is left: a run that started its children again would never end.
    for w in &mut cluster.workers {
        w.proc.kill();
    }
    let second = Arc::new(Recorder::default());
    let host = nats_host(cluster.nats.url(), second.clone()).await;
    let again = tokio::time::timeout(DEADLINE, execute(&m, input, &options("durable"), &host)).await;
    let again = again.expect("the resumed run ends without workers: nothing ran again");
    assert_eq!(again.status, Status::Succeeded, "{:?}", again.failure);
    assert_eq!(again.output, ran.output);
    let events = second.0.lock().expect("lock").clone();
    let (kind, ended) = events.last().expect("an end").clone();
    assert_eq!((kind, ended.status), ("ended", MapRunStatus::Succeeded));
    assert_eq!(ended.map_run_arn, ended_first.map_run_arn, "the same execution and key name the same Map Run");
    assert_eq!((ended.item_counts.succeeded, ended.item_counts.total), (50, 50));
    assert_eq!(ended.item_counts, ended_first.item_counts);
    assert_eq!(ended.execution_counts, ended_first.execution_counts);
}
