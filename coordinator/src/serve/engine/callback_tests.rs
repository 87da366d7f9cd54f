//! Tasks that wait for a callback, on the engine over the SQLite store with the server's
//! callback registry: the token reaches the integration, SendTaskSuccess/Failure end the wait,
//! a missed heartbeat is `States.Timeout` for Catch, a restarted server waits again with the same
//! token, and in-process Map Run children get tokens too.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use shared::asl::Failure;
use shared::asl::eval::{Host, TaskRequest};

use super::*;
use crate::callbacks::{CallbackHost, Callbacks};
use crate::serve::callback_store::{StoreCallbacks, codec};
use crate::serve::store::sqlite::Sqlite;
use crate::serve::store::{ExecutionStatus, Store};

/// A host on the wall clock whose calls are recorded (a queue that keeps the messages).
#[derive(Default)]
struct Queue {
    sent: Mutex<Vec<Value>>,
}

impl Host for Queue {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let wait = (deadline - Utc::now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        self.sent.lock().unwrap().push(request.input);
        Box::pin(async { Ok(json!({"MessageId": "m-1"})) })
    }
}

impl Queue {
    fn tokens(&self) -> Vec<String> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter_map(|m| m["MessageBody"]["token"].as_str().map(str::to_string))
            .collect()
    }
}

struct Server {
    engine: Engine,
    callbacks: Arc<Callbacks>,
}

async fn server(store: Arc<dyn Store>, queue: Arc<Queue>) -> Server {
    let durable = Arc::new(StoreCallbacks { store: store.clone() });
    let callbacks = Callbacks::new(codec(&*store).await.unwrap(), Some(durable));
    let host = crate::host::EmbeddedHost::new(
        CallbackHost::new(Borrowed(queue), callbacks.clone()),
        Arc::new(crate::storage::Storage::default()),
        crate::map_run::run::RunOptions::default(),
        Arc::new(crate::map_run::status::Progress::silent()),
    );
    let options = EngineOptions {
        region: "us-east-1".into(),
        account: "123456789012".into(),
        max_payload_bytes: None,
        mocks: None,
    };
    Server { engine: Engine::new(store, host, crate::map_run::registry::MapRuns::new(), options), callbacks }
}

/// An owned handle on the shared queue, as a base host.
struct Borrowed(Arc<Queue>);

impl Host for Borrowed {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        self.0.sleep_until(deadline)
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        self.0.invoke_task(request)
    }
}

fn spec(name: &str, definition: &Value) -> StartSpec {
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
        input: "{}".into(),
        trace_header: None,
        mock_test_case: None,
    }
}

fn callback_task(heartbeat: Option<u64>) -> Value {
    let mut task = json!({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}}, "End": true});
    if let Some(h) = heartbeat {
        task["HeartbeatSeconds"] = json!(h);
    }
    task
}

async fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..1000 {
        if let Some(t) = f() {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what} did not come");
}

async fn ended(store: &dyn Store, arn: &str) -> crate::serve::store::ExecutionRecord {
    until("the end", || store.execution(arn).unwrap().filter(|r| r.status != ExecutionStatus::Running)).await
}

fn kinds(store: &dyn Store, arn: &str) -> Vec<String> {
    store.events(arn, None, false, 10_000).unwrap().into_iter().map(|e| e.event_type).collect()
}

#[tokio::test]
async fn send_task_success_ends_the_wait_with_its_output_after_task_submitted() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let queue = Arc::new(Queue::default());
    let s = server(store.clone(), queue.clone()).await;
    let def = json!({"StartAt": "Wait", "States": {"Wait": callback_task(None)}});
    let Started::New(record) = s.engine.start(spec("ok", &def)).await.unwrap() else { panic!() };
    let token = until("a token", || queue.tokens().pop()).await;
    s.callbacks.send_success(&token, r#"{"approved": true}"#).await.expect("accepted");
    let done = ended(&*store, &record.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(serde_json::from_str::<Value>(done.output.as_deref().unwrap()).unwrap(), json!({"approved": true}));
    // AWS's events of a callback Task: the call's answer in TaskSubmitted, then the outcome.
    let k = kinds(&*store, &record.arn);
    let task: Vec<&str> =
        k.iter().map(String::as_str).filter(|k| k.starts_with("Task") && !k.contains("State")).collect();
    assert_eq!(task, ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]);
    assert_eq!(s.callbacks.send_success(&token, "{}").await.unwrap_err().code(), "TaskTimedOut");
    // Dropped when the execution ended (submitted without waiting: it comes shortly after).
    until("the callback's row dropped", || store.callback_outcome(&token).unwrap().is_none().then_some(())).await;
}

#[tokio::test]
async fn a_missed_heartbeat_is_states_timeout_and_catch_takes_it() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let queue = Arc::new(Queue::default());
    let s = server(store.clone(), queue.clone()).await;
    let mut wait = callback_task(Some(1));
    wait.as_object_mut().unwrap().remove("End");
    wait["Next"] = json!("Done");
    wait["Catch"] = json!([{"ErrorEquals": ["States.Timeout"], "Next": "Caught"}]);
    let def = json!({"StartAt": "Wait", "States": {"Wait": wait,
        "Done": {"Type": "Succeed"}, "Caught": {"Type": "Pass", "Result": "caught", "End": true}}});
    let Started::New(record) = s.engine.start(spec("hb", &def)).await.unwrap() else { panic!() };
    let done = ended(&*store, &record.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(done.output.as_deref(), Some("\"caught\""));
    assert!(kinds(&*store, &record.arn).contains(&"TaskTimedOut".to_string()));
}

#[tokio::test]
async fn send_task_failure_fails_the_task_with_its_error_and_cause() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let queue = Arc::new(Queue::default());
    let s = server(store.clone(), queue.clone()).await;
    let def = json!({"StartAt": "Wait", "States": {"Wait": callback_task(None)}});
    let Started::New(record) = s.engine.start(spec("no", &def)).await.unwrap() else { panic!() };
    let token = until("a token", || queue.tokens().pop()).await;
    s.callbacks.send_failure(&token, Some("Rejected".into()), Some("by a person".into())).await.unwrap();
    let done = ended(&*store, &record.arn).await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    assert_eq!((done.error.as_deref(), done.cause.as_deref()), (Some("Rejected"), Some("by a person")));
}

/// The server dies while the Task waits; the restarted one replays to the same wait with the
/// same token (the call is not made again), and takes the callback.
#[test]
fn a_restarted_server_waits_again_with_the_same_token() {
    let dir = tempfile::tempdir().unwrap();
    let def = json!({"StartAt": "Wait", "States": {"Wait": callback_task(None)}});
    let first = tokio::runtime::Runtime::new().unwrap();
    let (arn, token) = first.block_on(async {
        let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
        let queue = Arc::new(Queue::default());
        let s = server(store.clone(), queue.clone()).await;
        let Started::New(record) = s.engine.start(spec("restart", &def)).await.unwrap() else { panic!() };
        let token = until("a token", || queue.tokens().pop()).await;
        until("TaskSubmitted", || kinds(&*store, &record.arn).contains(&"TaskSubmitted".to_string()).then_some(()))
            .await;
        (record.arn, token)
    });
    drop(first);
    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
        let queue = Arc::new(Queue::default());
        let s = server(store.clone(), queue.clone()).await;
        // Before the execution resumes, the callback is accepted and kept for its wait.
        s.callbacks.send_success(&token, "\"later\"").await.expect("accepted while the execution replays");
        assert_eq!(s.engine.recover().unwrap(), 1);
        let done = ended(&*store, &arn).await;
        assert_eq!(done.output.as_deref(), Some("\"later\""));
        assert!(queue.sent.lock().unwrap().is_empty(), "the call is not made again");
    });
}

/// A Distributed Map's children run in-process with the server's callbacks: each child's Task
/// gets a token of its own and waits for it.
#[tokio::test]
async fn map_run_children_wait_for_their_own_callbacks() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let queue = Arc::new(Queue::default());
    let s = server(store.clone(), queue.clone()).await;
    let def = json!({"StartAt": "Seed", "States": {
        "Seed": {"Type": "Pass", "Result": [1, 2, 3], "Next": "Fan"},
        "Fan": {"Type": "Map",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Wait", "States": {"Wait": callback_task(None)}}, "End": true}}});
    let Started::New(record) = s.engine.start(spec("fan", &def)).await.unwrap() else { panic!() };
    let tokens = until("three tokens", || Some(queue.tokens()).filter(|t| t.len() == 3)).await;
    let distinct: std::collections::HashSet<&String> = tokens.iter().collect();
    assert_eq!(distinct.len(), 3);
    for (i, t) in tokens.iter().enumerate() {
        s.callbacks.send_success(t, &i.to_string()).await.expect("accepted");
    }
    let done = ended(&*store, &record.arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{:?}", done.cause);
    let mut out: Vec<u64> = serde_json::from_str(done.output.as_deref().unwrap()).unwrap();
    out.sort();
    assert_eq!(out, [0, 1, 2]);
}
