//! The engine over the SQLite store: a started execution is durable at once, ends once with
//! AWS's last event, and after a restart (a new engine on the same directory) resumes from its
//! history without making again the calls whose outcome was recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use shared::asl::Failure;
use shared::asl::eval::{Host, TaskRequest};

use super::*;
use crate::serve::store::sqlite::Sqlite;
use crate::serve::store::{ExecutionStatus, Store};

/// A host on the wall clock whose tasks answer their input, except that call number
/// `hang_at` (counting from 1) never answers: a call in flight when the server dies.
struct TestHost {
    calls: AtomicU32,
    hang_at: u32,
}

impl Host for TestHost {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let wait = (deadline - Utc::now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.hang_at {
            return Box::pin(futures::future::pending());
        }
        Box::pin(async move { Ok(json!({"echo": request.input})) })
    }
}

fn spec(name: &str, definition: &Value, input: &Value) -> StartSpec {
    let text = definition.to_string();
    StartSpec {
        execution_arn: format!("arn:aws:states:us-east-1:123456789012:execution:m:{name}"),
        name: name.to_string(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m".into(),
        state_machine_name: "m".into(),
        version_arn: None,
        alias_arn: None,
        machine_type: MachineType::Standard,
        definition_hash: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())),
        definition: text,
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        input: input.to_string(),
        trace_header: None,
        mock_test_case: None,
    }
}

fn engine(store: Arc<dyn Store>, host: Arc<TestHost>) -> Engine {
    engine_with_mocks(store, host, None)
}

fn engine_with_mocks(store: Arc<dyn Store>, host: Arc<TestHost>, mocks: Option<&str>) -> Engine {
    let mocks = mocks.map(|text| Arc::new(worker::mock::MockConfig::parse(text).expect("a valid mock configuration")));
    let options =
        EngineOptions { region: "us-east-1".into(), account: "123456789012".into(), max_payload_bytes: None, mocks };
    Engine::new(store, host, crate::map_run::registry::MapRuns::new(), options)
}

async fn ended(store: &dyn Store, arn: &str) -> crate::serve::store::ExecutionRecord {
    for _ in 0..500 {
        if let Some(r) = store.execution(arn).unwrap().filter(|r| r.status != ExecutionStatus::Running) {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{arn} did not end");
}

fn kinds(store: &dyn Store, arn: &str) -> Vec<(u64, String)> {
    store.events(arn, None, false, 10_000).unwrap().into_iter().map(|e| (e.id, e.event_type)).collect()
}

#[tokio::test]
async fn an_execution_is_durable_when_started_and_ends_with_aws_s_last_event() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let host = Arc::new(TestHost { calls: AtomicU32::new(0), hang_at: 0 });
    let e = engine(store.clone(), host);
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}});
    let s = spec("one", &def, &json!({"a": 1}));
    let Started::New(record) = e.start(s.clone()).await.unwrap() else { panic!("a new execution") };
    // Acknowledged means stored.
    assert!(store.execution(&record.arn).unwrap().is_some());
    let done = ended(&*store, &record.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(serde_json::from_str::<Value>(done.output.as_deref().unwrap()).unwrap(), json!({"echo": {"a": 1}}));
    let k: Vec<String> = kinds(&*store, &record.arn).into_iter().map(|(_, k)| k).collect();
    assert_eq!(
        k,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    // AWS: the same name and input of a running execution is the same execution; of an ended
    // one, ExecutionAlreadyExists.
    assert!(matches!(e.start(s).await, Err(EngineError::AlreadyExists(_))));
}

#[test]
fn a_restarted_engine_replays_the_history_and_calls_only_what_had_no_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let def = json!({"StartAt": "First", "States": {
        "First": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Second"},
        "Second": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}});
    // The first server: its second call hangs, and the server "dies" while it is in flight
    // (the runtime and every task on it are dropped).
    let first = tokio::runtime::Runtime::new().unwrap();
    let arn = first.block_on(async {
        let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
        let host = Arc::new(TestHost { calls: AtomicU32::new(0), hang_at: 2 });
        let e = engine(store.clone(), host);
        let Started::New(record) = e.start(spec("two", &def, &json!({}))).await.unwrap() else { panic!() };
        for _ in 0..500 {
            if kinds(&*store, &record.arn).iter().filter(|(_, k)| k == "TaskStarted").count() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        record.arn
    });
    drop(first);
    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
        let before = kinds(&*store, &arn);
        assert_eq!(before.iter().filter(|(_, k)| k == "TaskSucceeded").count(), 1, "{before:?}");
        let host = Arc::new(TestHost { calls: AtomicU32::new(0), hang_at: 0 });
        let e = engine(store.clone(), host.clone());
        assert_eq!(e.recover().unwrap(), 1);
        let done = ended(&*store, &arn).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded);
        assert_eq!(host.calls.load(Ordering::SeqCst), 1, "only the call in flight is made again");
        let after = kinds(&*store, &arn);
        assert_eq!(after.iter().map(|(id, _)| *id).collect::<Vec<_>>(), (1..=after.len() as u64).collect::<Vec<_>>());
        assert_eq!(after.len(), 12, "{after:?}");
        assert_eq!(after.last().unwrap().1, "ExecutionSucceeded");
    });
}

#[tokio::test]
async fn stop_ends_a_running_execution_aborted_once() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let host = Arc::new(TestHost { calls: AtomicU32::new(0), hang_at: 0 });
    let e = engine(store.clone(), host);
    let def = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let Started::New(record) = e.start(spec("w", &def, &json!({}))).await.unwrap() else { panic!() };
    e.stop(&record.arn, Some("Operator".into()), Some("enough".into())).await.unwrap();
    let r = store.execution(&record.arn).unwrap().unwrap();
    assert_eq!(r.status, ExecutionStatus::Aborted);
    assert_eq!((r.error.as_deref(), r.cause.as_deref()), (Some("Operator"), Some("enough")));
    let k = kinds(&*store, &record.arn);
    assert_eq!(k.last().unwrap().1, "ExecutionAborted");
    assert_eq!(k.iter().filter(|(_, t)| t.starts_with("Execution")).count(), 2, "{k:?}");
    assert_eq!(e.running(), 0);
}

#[tokio::test]
async fn a_mocked_test_case_answers_its_task_states_without_calling_out() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let host = Arc::new(TestHost { calls: AtomicU32::new(0), hang_at: 0 });
    // AWS Step Functions Local's format: test cases per state machine, responses by invocation.
    let mocks = r#"{
        "StateMachines": {"m": {"TestCases": {"Happy": {"T": "Ok"}}}},
        "MockedResponses": {"Ok": {"0": {"Return": {"mocked": true}}}}
    }"#;
    let e = engine_with_mocks(store.clone(), host.clone(), Some(mocks));
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}});
    let mut s = spec("mocked", &def, &json!({}));
    s.mock_test_case = Some("Happy".into());
    let Started::New(record) = e.start(s).await.unwrap() else { panic!() };
    assert_eq!(record.mock_test_case.as_deref(), Some("Happy"));
    let done = ended(&*store, &record.arn).await;
    assert_eq!(serde_json::from_str::<Value>(done.output.as_deref().unwrap()).unwrap(), json!({"mocked": true}));
    assert_eq!(host.calls.load(Ordering::SeqCst), 0, "a mocked state never calls out");
    // A test case the file lacks is refused before anything is stored.
    let mut missing = spec("missing", &def, &json!({}));
    missing.mock_test_case = Some("Sad".into());
    assert!(matches!(e.start(missing).await, Err(EngineError::MockTestCase(_))));
    assert!(store.execution("arn:aws:states:us-east-1:123456789012:execution:m:missing").unwrap().is_none());
}
