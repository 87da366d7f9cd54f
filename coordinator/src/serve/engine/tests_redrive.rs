//! RedriveExecution on the engine over the SQLite store. What is expected comes from AWS's
//! documentation (API reference, RedriveExecution; Developer Guide, "Redriving executions"):
//! a redrive "continues the failed execution from the unsuccessful step and uses the same
//! input", the successful steps "aren't rerun", "for Parallel and inline Map states only the
//! iterations and branches that failed or aborted" run again, a redriven state's retry
//! attempts count from zero, and the history gains `ExecutionRedriven {redriveCount}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use shared::asl::Failure;
use shared::asl::eval::{Host, TaskRequest};

use super::*;
use crate::serve::store::sqlite::Sqlite;
use crate::serve::store::{ExecutionRecord, ExecutionStatus, StateMachineRecord, Store, Write};

/// Tasks answer `{"state": <name>}`, except that a state named in `failing` fails its first
/// `n` calls with `Flaky`. Calls are counted per state.
#[derive(Default)]
struct FlakyHost {
    failing: HashMap<String, u32>,
    /// A state whose call number `n` never answers: a call in flight when the server dies.
    hang: Option<(String, u32)>,
    calls: Mutex<HashMap<String, u32>>,
}

impl FlakyHost {
    fn new(failing: &[(&str, u32)]) -> Arc<Self> {
        Arc::new(FlakyHost {
            failing: failing.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
            ..Default::default()
        })
    }
    fn calls(&self, state: &str) -> u32 {
        self.calls.lock().unwrap().get(state).copied().unwrap_or(0)
    }
}

impl Host for FlakyHost {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let wait = (deadline - Utc::now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        let n = {
            let mut calls = self.calls.lock().unwrap();
            let c = calls.entry(request.state_name.clone()).or_default();
            *c += 1;
            *c
        };
        if self.hang.as_ref().is_some_and(|(state, at)| *state == request.state_name && *at == n) {
            return Box::pin(futures::future::pending());
        }
        let fails = self.failing.get(&request.state_name).is_some_and(|limit| n <= *limit);
        let state = request.state_name.clone();
        Box::pin(async move {
            if fails { Err(Failure::new("Flaky", format!("call {n} of {state}"))) } else { Ok(json!({"state": state})) }
        })
    }
}

const LAMBDA: &str = "arn:aws:states:::lambda:invoke";

fn engine(store: Arc<dyn Store>, host: Arc<FlakyHost>) -> Engine {
    let options = EngineOptions {
        region: "us-east-1".into(),
        account: "123456789012".into(),
        max_payload_bytes: None,
        mocks: None,
    };
    Engine::new(store, host, crate::map_run::registry::MapRuns::new(), options)
}

/// Stores state machine `m` (RedriveExecution needs it) and starts `definition` as its
/// execution `name`.
async fn start(e: &Engine, store: &dyn Store, name: &str, definition: &Value) -> ExecutionRecord {
    let text = definition.to_string();
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
    let machine_arn = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
    if store.state_machine(machine_arn).unwrap().is_none() {
        store
            .commit(vec![Write::CreateStateMachine(StateMachineRecord {
                arn: machine_arn.into(),
                name: "m".into(),
                machine_type: MachineType::Standard,
                definition: text.clone(),
                role_arn: "arn:aws:iam::123456789012:role/r".into(),
                description: None,
                logging_configuration: None,
                tracing_configuration: None,
                encryption_configuration: None,
                creation_date: Utc::now(),
                revision_id: "r".into(),
                next_version: 1,
            })])
            .await
            .unwrap();
    }
    let spec = StartSpec {
        execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:m:{name}"),
        name: name.into(),
        state_machine_arn: machine_arn.into(),
        state_machine_name: "m".into(),
        version_arn: None,
        alias_arn: None,
        machine_type: MachineType::Standard,
        definition_hash: hash,
        definition: text,
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        input: json!({"n": 1}).to_string(),
        trace_header: None,
        mock_test_case: None,
    };
    let Started::New(record) = e.start(spec).await.unwrap() else { panic!("a new execution") };
    record
}

/// [`start`], then waits for the execution's end.
async fn run(e: &Engine, store: &dyn Store, name: &str, definition: &Value) -> ExecutionRecord {
    let record = start(e, store, name, definition).await;
    ended(store, &record.arn).await
}

async fn ended(store: &dyn Store, arn: &str) -> ExecutionRecord {
    for _ in 0..1000 {
        if let Some(r) = store.execution(arn).unwrap().filter(|r| r.status != ExecutionStatus::Running) {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{arn} did not end");
}

fn kinds(store: &dyn Store, arn: &str) -> Vec<String> {
    store.events(arn, None, false, 10_000).unwrap().into_iter().map(|e| e.event_type).collect()
}

#[tokio::test]
async fn a_redrive_runs_the_failed_state_again_and_not_the_successful_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let host = FlakyHost::new(&[("Second", 1)]);
    let e = engine(store.clone(), host.clone());
    let def = json!({"StartAt": "First", "States": {
        "First": {"Type": "Task", "Resource": LAMBDA, "Next": "Second"},
        "Second": {"Type": "Task", "Resource": LAMBDA, "End": true}}});
    let failed = run(&e, &*store, "flaky", &def).await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("Flaky"));
    let before = kinds(&*store, &failed.arn);

    let date = e.redrive(&failed.arn, None).await.unwrap();
    let done = ended(&*store, &failed.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{:?}", kinds(&*store, &failed.arn));
    assert_eq!(serde_json::from_str::<Value>(done.output.as_deref().unwrap()).unwrap(), json!({"state": "Second"}));
    assert_eq!((done.redrive_count, done.redrive_date), (1, Some(date)));
    assert_eq!(done.start_date, failed.start_date, "the same execution, started when it was");
    // Only the failed step ran again.
    assert_eq!((host.calls("First"), host.calls("Second")), (1, 2));
    // The history is appended to: the first attempt's events stay, then ExecutionRedriven and
    // the failed state entered again.
    let after = store.events(&failed.arn, None, false, 10_000).unwrap();
    let types: Vec<&str> = after.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types[..before.len()], before.iter().map(String::as_str).collect::<Vec<_>>()[..]);
    assert_eq!(
        types[before.len()..],
        [
            "ExecutionRedriven",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let redriven = &after[before.len()];
    assert_eq!(redriven.details.as_deref(), Some(r#"{"redriveCount":1}"#));
    assert_eq!(redriven.previous_event_id, redriven.id - 1);
    assert_eq!(after.iter().map(|e| e.id).collect::<Vec<_>>(), (1..=after.len() as u64).collect::<Vec<_>>());
    let entered = &after[before.len() + 1];
    assert_eq!(entered.previous_event_id, redriven.id, "the redriven run follows ExecutionRedriven");
    let input: Value = serde_json::from_str(entered.details.as_deref().unwrap()).unwrap();
    assert_eq!(input["input"], json!({"state": "First"}).to_string(), "the failed state's own input");

    // Succeeded: not redrivable any more.
    match e.redrive(&failed.arn, None).await {
        Err(EngineError::NotRedrivable(reason)) => assert_eq!(reason, "Execution is SUCCEEDED and cannot be redriven"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_redriven_state_counts_its_retries_from_zero() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    // Two attempts (one retry) fail the first run; the redrive's first attempt fails too, and
    // its retry succeeds: only possible if the redriven state may retry again.
    let host = FlakyHost::new(&[("T", 3)]);
    let e = engine(store.clone(), host.clone());
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true,
        "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 1, "IntervalSeconds": 1, "BackoffRate": 1.0}]}}});
    let failed = run(&e, &*store, "retries", &def).await;
    assert_eq!((failed.status, host.calls("T")), (ExecutionStatus::Failed, 2));
    e.redrive(&failed.arn, None).await.unwrap();
    let done = ended(&*store, &failed.arn).await;
    assert_eq!((done.status, host.calls("T")), (ExecutionStatus::Succeeded, 4));
}

#[tokio::test]
async fn a_parallel_redrives_only_its_failed_branch() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let host = FlakyHost::new(&[("Bad", 1)]);
    let e = engine(store.clone(), host.clone());
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "Good", "States": {"Good": {"Type": "Task", "Resource": LAMBDA, "End": true}}},
        {"StartAt": "Before", "States": {
            "Before": {"Type": "Task", "Resource": LAMBDA, "Next": "Bad"},
            "Bad": {"Type": "Task", "Resource": LAMBDA, "End": true}}}]}}});
    let failed = run(&e, &*store, "parallel", &def).await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    e.redrive(&failed.arn, None).await.unwrap();
    let done = ended(&*store, &failed.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(
        serde_json::from_str::<Value>(done.output.as_deref().unwrap()).unwrap(),
        json!([{"state": "Good"}, {"state": "Bad"}])
    );
    assert_eq!((host.calls("Good"), host.calls("Before"), host.calls("Bad")), (1, 1, 2));
}

#[tokio::test]
async fn an_inline_map_redrives_only_its_failed_iterations() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    // The iteration's Task fails its first call: one of the three iterations fails the first
    // run (the others may or may not have finished; MaxConcurrency 1 makes it the first).
    let host = FlakyHost::new(&[("Work", 1)]);
    let e = engine(store.clone(), host.clone());
    let def = json!({"StartAt": "Items", "States": {
        "Items": {"Type": "Pass", "Result": {"items": [1, 2, 3]}, "Next": "M"},
        "M": {"Type": "Map", "End": true, "MaxConcurrency": 1, "ItemsPath": "$.items",
            "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Work",
                "States": {"Work": {"Type": "Task", "Resource": LAMBDA, "End": true}}}}}});
    let failed = run(&e, &*store, "inline", &def).await;
    assert_eq!((failed.status, host.calls("Work")), (ExecutionStatus::Failed, 1));
    e.redrive(&failed.arn, None).await.unwrap();
    let done = ended(&*store, &failed.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    // The failed iteration once more, and the two that never started.
    assert_eq!(host.calls("Work"), 4);
}

#[tokio::test]
async fn redrive_errors_follow_aws() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let e = engine(store.clone(), FlakyHost::new(&[("T", 1)]));
    match e.redrive("arn:aws:states:us-east-1:123456789012:execution:m:nope", None).await {
        Err(EngineError::DoesNotExist(arn)) => assert!(arn.ends_with(":nope")),
        other => panic!("{other:?}"),
    }
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": LAMBDA, "End": true}}});
    let failed = run(&e, &*store, "tokens", &def).await;
    // The same client token answers the same redrive date; another token finds it running
    // (or, by then, succeeded).
    let first = e.redrive(&failed.arn, Some("token-1")).await.unwrap();
    assert_eq!(e.redrive(&failed.arn, Some("token-1")).await.unwrap(), first);
    assert!(matches!(e.redrive(&failed.arn, Some("token-2")).await, Err(EngineError::NotRedrivable(_))));
    let done = ended(&*store, &failed.arn).await;
    assert_eq!(done.redrive_count, 1);
    // Past the redrivable period of 14 days.
    let mut old = done.clone();
    old.status = ExecutionStatus::Failed;
    old.stop_date = Some(Utc::now() - chrono::Duration::days(15));
    assert_eq!(redrive::not_redrivable(&old, Utc::now()).as_deref(), Some("Execution redrivable period exceeded"));
    old.stop_date = Some(Utc::now());
    assert_eq!(redrive::not_redrivable(&old, Utc::now()), None);
    old.map_run_arn = Some("arn:aws:states:us-east-1:123456789012:mapRun:m/Map:1".into());
    assert!(redrive::not_redrivable(&old, Utc::now()).is_some());
}

#[tokio::test]
async fn an_aborted_execution_is_redriven_from_the_state_it_was_stopped_in() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let host = FlakyHost::new(&[]);
    let e = engine(store.clone(), host.clone());
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": LAMBDA, "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 1, "End": true}}});
    let record = start(&e, &*store, "stopped", &def).await;
    for _ in 0..500 {
        if kinds(&*store, &record.arn).iter().any(|k| k == "WaitStateEntered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    e.stop(&record.arn, None, None).await.unwrap();
    assert_eq!(store.execution(&record.arn).unwrap().unwrap().status, ExecutionStatus::Aborted);
    e.redrive(&record.arn, None).await.unwrap();
    let done = ended(&*store, &record.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(host.calls("T"), 1, "the Task had succeeded before the stop");
    let k = kinds(&*store, &record.arn);
    let redriven = k.iter().position(|t| t == "ExecutionRedriven").unwrap();
    assert_eq!(k[redriven - 1], "ExecutionAborted");
    assert_eq!(k[redriven + 1], "WaitStateEntered");
}

/// A server that dies while a redriven execution runs resumes it from its latest generation:
/// the redriven run's events are found again, the first attempt's failure is not, and only the
/// call in flight is made again.
#[test]
fn a_redriven_execution_resumes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let def = json!({"StartAt": "First", "States": {
        "First": {"Type": "Task", "Resource": LAMBDA, "Next": "Second"},
        "Second": {"Type": "Task", "Resource": LAMBDA, "End": true}}});
    let first = tokio::runtime::Runtime::new().unwrap();
    let arn = first.block_on(async {
        let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
        // Second fails its first call; the redrive's call to it hangs.
        let host = Arc::new(FlakyHost {
            failing: HashMap::from([("Second".to_string(), 1)]),
            hang: Some(("Second".into(), 2)),
            ..Default::default()
        });
        let e = engine(store.clone(), host);
        let failed = run(&e, &*store, "crash", &def).await;
        assert_eq!(failed.status, ExecutionStatus::Failed);
        e.redrive(&failed.arn, None).await.unwrap();
        for _ in 0..500 {
            let k = kinds(&*store, &failed.arn);
            let after = k.iter().skip_while(|t| *t != "ExecutionRedriven").filter(|t| *t == "TaskStarted").count();
            if after == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        failed.arn
    });
    drop(first);
    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
        let host = FlakyHost::new(&[]);
        let e = engine(store.clone(), host.clone());
        assert_eq!(e.recover().unwrap(), 1);
        let done = ended(&*store, &arn).await;
        assert_eq!((done.status, done.redrive_count), (ExecutionStatus::Succeeded, 1));
        assert_eq!((host.calls("First"), host.calls("Second")), (0, 1), "only the call in flight again");
        let events = store.events(&arn, None, false, 10_000).unwrap();
        assert_eq!(events.iter().map(|e| e.id).collect::<Vec<_>>(), (1..=events.len() as u64).collect::<Vec<_>>());
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        let at = types.iter().position(|t| *t == "ExecutionRedriven").unwrap();
        assert_eq!(
            types[at..],
            [
                "ExecutionRedriven",
                "TaskStateEntered",
                "TaskScheduled",
                "TaskStarted",
                "TaskSucceeded",
                "TaskStateExited",
                "ExecutionSucceeded"
            ]
        );
    });
}

/// AWS: "When you redrive an execution, the state machine level timeout, if defined, is reset
/// to 0." The first run times out in its second Wait; redriven, the Wait runs again under a
/// deadline counted from the redrive, which leaves it time to finish.
#[tokio::test]
async fn a_redrive_restarts_the_execution_s_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let e = engine(store.clone(), FlakyHost::new(&[]));
    // 1 s, then 2 s, within 3 s: the second Wait overruns the timeout; redriven, it runs alone
    // under a deadline counted from the redrive, and fits.
    let def = json!({"TimeoutSeconds": 3, "StartAt": "A", "States": {
        "A": {"Type": "Wait", "Seconds": 1, "Next": "B"},
        "B": {"Type": "Wait", "Seconds": 2, "End": true}}});
    let timed_out = run(&e, &*store, "timeout", &def).await;
    assert_eq!(timed_out.status, ExecutionStatus::TimedOut);
    e.redrive(&timed_out.arn, None).await.unwrap();
    let done = ended(&*store, &timed_out.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{:?}", kinds(&*store, &timed_out.arn));
}

/// With `--nats`, a Map Run's checkpoint records it as ended and its outcome stream keeps its
/// failures: an execution that stopped in a Distributed Map is refused a redrive, with the
/// reason, rather than failing again at once.
#[tokio::test]
async fn a_map_run_on_nats_workers_is_refused_a_redrive() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let e = engine(store.clone(), FlakyHost::new(&[]));
    e.set_remote_map_runs(true);
    // This host cannot run Map Runs: the Map Run fails, which is where the execution stops.
    let def = json!({"StartAt": "Items", "States": {
        "Items": {"Type": "Pass", "Result": {"items": [1, 2]}, "Next": "M"},
        "M": {"Type": "Map", "End": true, "ItemsPath": "$.items",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": true}}}}}});
    let failed = run(&e, &*store, "nats", &def).await;
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert!(kinds(&*store, &failed.arn).iter().any(|k| k == "MapRunStarted"));
    match e.redrive(&failed.arn, None).await {
        Err(EngineError::NotRedrivable(reason)) => assert!(reason.contains("NATS"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let r = store.execution(&failed.arn).unwrap().unwrap();
    assert_eq!((r.status, r.redrive_count), (ExecutionStatus::Failed, 0), "nothing changed");
}
