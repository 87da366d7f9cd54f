//! Nested executions on the engine over the SQLite store: the three patterns' outputs, a
//! failing child, the stop of a `.sync` child when its parent stops waiting (StopExecution, the
//! Task's timeout), and a restart while a parent waits on its child. Expected shapes are AWS's
//! (see `shapes`); the engine runs for real, with a host whose other Tasks echo their input.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use shared::asl::Failure;
use shared::asl::eval::{CallbackWait, Host, TaskRequest};

use super::{Binding, NestedHost, Starter};
use crate::serve::api::arn::Scope;
use crate::serve::engine::{Engine, EngineOptions, StartSpec, Started};
use crate::serve::store::sqlite::Sqlite;
use crate::serve::store::{ExecutionRecord, ExecutionStatus, MachineType, StateMachineRecord, Store, Write};

const ACCOUNT: &str = "arn:aws:states:us-east-1:123456789012";

struct Echo;

impl Host for Echo {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep((deadline - Utc::now()).to_std().unwrap_or_default()))
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        Box::pin(async move { Ok(request.input) })
    }
    // Callbacks as a stand-in for the server's callback registry: every wait is answered at
    // once with the token it waited for.
    fn task_token(&self, execution_arn: &str, entered_id: u64, attempt: u64) -> Option<String> {
        Some(format!("{execution_arn}/{entered_id}/{attempt}"))
    }
    fn wait_for_callback(&self, wait: CallbackWait) -> BoxFuture<'_, Result<Value, Failure>> {
        Box::pin(async move { Ok(json!({"calledBackFor": wait.token})) })
    }
}

/// An engine whose host runs nested executions, bound as `dmap serve` binds it.
fn engine(store: Arc<dyn Store>) -> Engine {
    let binding = Binding::default();
    let host = Arc::new(NestedHost::new(Echo, binding.clone()));
    let options = EngineOptions {
        region: "us-east-1".into(),
        account: "123456789012".into(),
        max_payload_bytes: None,
        mocks: None,
    };
    let e = Engine::new(store.clone(), host, crate::map_run::registry::MapRuns::new(), options);
    binding.bind(Starter {
        engine: e.downgrade(),
        activities: Arc::new(crate::serve::activities::Activities::new(store.clone())),
        store,
        scope: Scope::new("us-east-1"),
        machines: Default::default(),
    });
    e
}

async fn machine(store: &dyn Store, name: &str, definition: &Value) -> String {
    machine_of_type(store, name, definition, MachineType::Standard).await
}

async fn machine_of_type(store: &dyn Store, name: &str, definition: &Value, machine_type: MachineType) -> String {
    let arn = format!("{ACCOUNT}:stateMachine:{name}");
    let record = StateMachineRecord {
        arn: arn.clone(),
        name: name.into(),
        machine_type,
        definition: definition.to_string(),
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        description: None,
        logging_configuration: None,
        tracing_configuration: None,
        encryption_configuration: None,
        creation_date: Utc::now(),
        revision_id: "r1".into(),
        next_version: 1,
    };
    store.commit(vec![Write::CreateStateMachine(record)]).await.unwrap();
    arn
}

fn spec(machine_arn: &str, name: &str, definition: &Value, input: &Value) -> StartSpec {
    let text = definition.to_string();
    let machine_name = machine_arn.rsplit(':').next().unwrap();
    StartSpec {
        execution_arn: format!("{ACCOUNT}:execution:{machine_name}:{name}"),
        name: name.into(),
        state_machine_arn: machine_arn.into(),
        state_machine_name: machine_name.into(),
        version_arn: None,
        alias_arn: None,
        machine_type: MachineType::Standard,
        definition_hash: crate::serve::api::definition::hash(&text),
        definition: text,
        role_arn: "arn:aws:iam::123456789012:role/r".into(),
        input: input.to_string(),
        trace_header: None,
        mock_test_case: None,
    }
}

async fn start(e: &Engine, s: StartSpec) -> String {
    let Started::New(r) = e.start(s).await.unwrap() else { panic!("a new execution") };
    r.arn
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

fn output(r: &ExecutionRecord) -> Value {
    serde_json::from_str(r.output.as_deref().expect("an output")).unwrap()
}

/// The child executions of `machine_arn`, as ListExecutions would list them.
fn children(store: &dyn Store, machine_arn: &str) -> Vec<ExecutionRecord> {
    let filter = crate::serve::store::ExecutionFilter {
        state_machine_arn: Some(machine_arn.to_string()),
        map_run_arn: None,
        status: None,
        redriven: None,
    };
    let page = crate::serve::store::PageRequest { after: None, limit: 1000 };
    store.list_executions(&filter, &page).unwrap().items
}

fn parent_of(resource: &str, parameters: Value) -> Value {
    json!({"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": true}}})
}

const DOUBLE: &str = r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.n, $.n)"}, "End": true}}}"#;

#[tokio::test]
async fn sync2_returns_the_child_s_document_with_json_output_and_sync_with_text() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let e = engine(store.clone());
    let child_def: Value = serde_json::from_str(DOUBLE).unwrap();
    let child = machine(&*store, "child", &child_def).await;
    for (resource, name, structured) in [
        ("arn:aws:states:::states:startExecution.sync:2", "p2", true),
        ("arn:aws:states:::states:startExecution.sync", "p1", false),
    ] {
        let def = parent_of(
            resource,
            json!({"StateMachineArn": child, "Input": {"n.$": "$.n", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}}),
        );
        let parent_machine = machine(&*store, &format!("parent-{name}"), &def).await;
        let arn = start(&e, spec(&parent_machine, name, &def, &json!({"n": 21}))).await;
        let done = ended(&*store, &arn).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
        let out = output(&done);
        let child_arn = out["ExecutionArn"].as_str().expect("ExecutionArn").to_string();
        assert!(child_arn.starts_with(&format!("{ACCOUNT}:execution:child:")), "{child_arn}");
        assert_eq!(out["Status"], json!("SUCCEEDED"));
        assert_eq!(out["StateMachineArn"], json!(child));
        assert_eq!(out["OutputDetails"], json!({"Included": true}));
        let expected_input = json!({"n": 21, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": arn});
        match structured {
            true => {
                assert_eq!(out["Output"], json!({"twice": 42}));
                assert_eq!(out["Input"], expected_input);
            }
            false => {
                assert_eq!(
                    serde_json::from_str::<Value>(out["Output"].as_str().expect("text")).unwrap(),
                    json!({"twice": 42})
                );
                assert_eq!(
                    serde_json::from_str::<Value>(out["Input"].as_str().expect("text")).unwrap(),
                    expected_input
                );
            }
        }
        // The child is an execution of its own, with the parent's id in its input.
        let c = store.execution(&child_arn).unwrap().unwrap();
        assert_eq!(c.status, ExecutionStatus::Succeeded);
        assert_eq!(serde_json::from_str::<Value>(&c.input).unwrap(), expected_input);
    }
    assert_eq!(children(&*store, &child).len(), 2);
}

#[tokio::test]
async fn request_response_answers_with_the_arn_and_start_date_and_the_child_runs_on() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let e = engine(store.clone());
    let child_def: Value = serde_json::from_str(DOUBLE).unwrap();
    let child = machine(&*store, "child", &child_def).await;
    let def = parent_of(
        "arn:aws:states:::states:startExecution",
        json!({"StateMachineArn": child, "Input": "{\"n\": 2}", "Name": "named-child"}),
    );
    let parent_machine = machine(&*store, "parent", &def).await;
    let arn = start(&e, spec(&parent_machine, "rr", &def, &json!({}))).await;
    let out = output(&ended(&*store, &arn).await);
    let child_arn = format!("{ACCOUNT}:execution:child:named-child");
    assert_eq!(out["ExecutionArn"], json!(child_arn));
    let date = out["StartDate"].as_str().expect("StartDate as text");
    assert!(DateTime::parse_from_rfc3339(date).is_ok(), "{date}");
    assert_eq!(out["SdkHttpMetadata"]["HttpStatusCode"], json!(200));
    let c = ended(&*store, &child_arn).await;
    assert_eq!(output(&c), json!({"twice": 4}));
}

#[tokio::test]
async fn a_failed_child_fails_the_task_with_states_task_failed_and_its_document_as_cause() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let e = engine(store.clone());
    let fail = json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "SomeFailure", "Cause": "it broke"}}});
    let child = machine(&*store, "failing", &fail).await;
    let def = parent_of("arn:aws:states:::states:startExecution.sync", json!({"StateMachineArn": child}));
    let parent_machine = machine(&*store, "parent", &def).await;
    let arn = start(&e, spec(&parent_machine, "pf", &def, &json!({}))).await;
    let done = ended(&*store, &arn).await;
    assert_eq!(done.status, ExecutionStatus::Failed);
    assert_eq!(done.error.as_deref(), Some("States.TaskFailed"));
    let cause: Value = serde_json::from_str(done.cause.as_deref().unwrap()).unwrap();
    assert_eq!(
        (&cause["Error"], &cause["Cause"], &cause["Status"]),
        (&json!("SomeFailure"), &json!("it broke"), &json!("FAILED"))
    );
    assert_eq!(cause["Input"], json!("{}"));
    assert!(cause.get("Output").is_none(), "{cause}");
    // A state machine that does not exist: the API's error, as the SDK v1 exception.
    let def = parent_of(
        "arn:aws:states:::states:startExecution.sync:2",
        json!({"StateMachineArn": format!("{ACCOUNT}:stateMachine:nope")}),
    );
    let parent_machine = machine(&*store, "parent2", &def).await;
    let arn = start(&e, spec(&parent_machine, "pm", &def, &json!({}))).await;
    let done = ended(&*store, &arn).await;
    assert_eq!(done.error.as_deref(), Some("StepFunctions.StateMachineDoesNotExistException"));
}

const WAIT_LONG: &str = r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}"#;

/// Waits until `machine_arn` has one execution, and returns it.
async fn the_child(store: &dyn Store, machine_arn: &str) -> ExecutionRecord {
    for _ in 0..1000 {
        if let [one] = children(store, machine_arn).as_slice() {
            return one.clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no child of {machine_arn}");
}

#[tokio::test]
async fn stopping_a_parent_or_timing_out_its_task_stops_the_sync_child() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let e = engine(store.clone());
    let wait: Value = serde_json::from_str(WAIT_LONG).unwrap();
    let child = machine(&*store, "slow", &wait).await;
    let def = parent_of("arn:aws:states:::states:startExecution.sync:2", json!({"StateMachineArn": child}));
    let parent_machine = machine(&*store, "parent", &def).await;
    let arn = start(&e, spec(&parent_machine, "ps", &def, &json!({}))).await;
    let c = the_child(&*store, &child).await;
    e.stop(&arn, None, None).await.unwrap();
    assert_eq!(ended(&*store, &c.arn).await.status, ExecutionStatus::Aborted);

    let slow2 = machine(&*store, "slow2", &wait).await;
    let mut def = parent_of("arn:aws:states:::states:startExecution.sync", json!({"StateMachineArn": slow2}));
    def["States"]["Call"]["TimeoutSeconds"] = json!(1);
    let parent_machine = machine(&*store, "parent-timeout", &def).await;
    let arn = start(&e, spec(&parent_machine, "pt", &def, &json!({}))).await;
    let done = ended(&*store, &arn).await;
    assert_eq!((done.status, done.error.as_deref()), (ExecutionStatus::Failed, Some("States.Timeout")));
    let c = the_child(&*store, &slow2).await;
    assert_eq!(ended(&*store, &c.arn).await.status, ExecutionStatus::Aborted);
}

#[test]
fn a_restarted_server_resumes_the_wait_and_starts_no_second_child() {
    let dir = tempfile::tempdir().unwrap();
    let child_def = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 2, "Next": "P"},
        "P": {"Type": "Pass", "Result": {"done": true}, "End": true}}});
    let def = parent_of(
        "arn:aws:states:::states:startExecution.sync:2",
        json!({"StateMachineArn": format!("{ACCOUNT}:stateMachine:child")}),
    );
    // The first server dies while the parent waits on its child (its runtime is dropped).
    let first = tokio::runtime::Runtime::new().unwrap();
    let (parent, child) = first.block_on(async {
        let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
        let e = engine(store.clone());
        let child = machine(&*store, "child", &child_def).await;
        let parent_machine = machine(&*store, "parent", &def).await;
        let parent = start(&e, spec(&parent_machine, "pr", &def, &json!({}))).await;
        (parent, the_child(&*store, &child).await.arn)
    });
    drop(first);
    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
        let e = engine(store.clone());
        assert_eq!(e.recover().unwrap(), 2, "the parent and its child resume");
        let done = ended(&*store, &parent).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
        let out = output(&done);
        assert_eq!((out["ExecutionArn"].as_str(), &out["Output"]), (Some(child.as_str()), &json!({"done": true})));
        assert_eq!(children(&*store, &format!("{ACCOUNT}:stateMachine:child")).len(), 1, "no second child");
    });
}

#[test]
fn a_parent_resumed_after_its_child_ended_finds_the_child_instead_of_starting_another() {
    let dir = tempfile::tempdir().unwrap();
    let wait: Value = serde_json::from_str(WAIT_LONG).unwrap();
    let child_machine = format!("{ACCOUNT}:stateMachine:child");
    let def = parent_of(
        "arn:aws:states:::states:startExecution.sync:2",
        json!({"StateMachineArn": child_machine, "Input": {"n": 5}, "Name": "given"}),
    );
    let first = tokio::runtime::Runtime::new().unwrap();
    let (parent, child) = first.block_on(async {
        let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
        let e = engine(store.clone());
        machine(&*store, "child", &wait).await;
        let parent_machine = machine(&*store, "parent", &def).await;
        let parent = start(&e, spec(&parent_machine, "pe", &def, &json!({}))).await;
        let child = the_child(&*store, &child_machine).await.arn;
        // The child ends, and the server dies before the parent's Task records its outcome.
        let ended = Write::UpdateExecution {
            arn: child.clone(),
            status: ExecutionStatus::Succeeded,
            output: Some(r#"{"twice":10}"#.into()),
            error: None,
            cause: None,
            stop_date: Some(Utc::now()),
        };
        store.commit(vec![ended]).await.unwrap();
        (parent, child)
    });
    drop(first);
    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
        let e = engine(store.clone());
        assert_eq!(e.recover().unwrap(), 1, "only the parent was still running");
        let done = ended(&*store, &parent).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
        let out = output(&done);
        assert_eq!((out["ExecutionArn"].as_str(), &out["Output"]), (Some(child.as_str()), &json!({"twice": 10})));
        // Another execution's call with the same given name, after that child ended: AWS's
        // ExecutionAlreadyExists, not the first parent's child.
        let again = start(&e, spec(&format!("{ACCOUNT}:stateMachine:parent"), "pe-again", &def, &json!({}))).await;
        let again = ended(&*store, &again).await;
        assert_eq!(again.error.as_deref(), Some("StepFunctions.ExecutionAlreadyExistsException"), "{again:?}");
        assert_eq!(children(&*store, &child_machine).len(), 1);
    });
}

#[tokio::test]
async fn wait_for_task_token_starts_the_child_request_response_with_the_token_in_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let e = engine(store.clone());
    let wait: Value = serde_json::from_str(WAIT_LONG).unwrap();
    let child = machine(&*store, "worker", &wait).await;
    let def = parent_of(
        "arn:aws:states:::states:startExecution.waitForTaskToken",
        json!({"StateMachineArn": child, "Input": {"token.$": "$$.Task.Token"}}),
    );
    let parent_machine = machine(&*store, "parent", &def).await;
    let arn = start(&e, spec(&parent_machine, "pw", &def, &json!({}))).await;
    let done = ended(&*store, &arn).await;
    let token = output(&done)["calledBackFor"].as_str().expect("the callback's output").to_string();
    let events = store.events(&arn, None, false, 100).unwrap();
    let submitted = events.iter().find(|e| e.event_type == "TaskSubmitted").expect("TaskSubmitted");
    let details: Value = serde_json::from_str(submitted.details.as_deref().unwrap()).unwrap();
    let answer: Value = serde_json::from_str(details["output"].as_str().unwrap()).unwrap();
    let child_arn = answer["ExecutionArn"].as_str().expect("the StartExecution answer").to_string();
    assert!(answer["StartDate"].is_string(), "{answer}");
    // The child got the token through its input and runs on: the parent waited for the
    // callback, not for the child.
    let c = store.execution(&child_arn).unwrap().unwrap();
    assert_eq!(serde_json::from_str::<Value>(&c.input).unwrap(), json!({"token": token}));
    assert_eq!(c.status, ExecutionStatus::Running);
    e.stop(&child_arn, None, None).await.unwrap();
}

#[tokio::test]
async fn a_failed_parallel_branch_stops_the_sync_child_of_its_sibling() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let e = engine(store.clone());
    let wait: Value = serde_json::from_str(WAIT_LONG).unwrap();
    let child = machine(&*store, "slow", &wait).await;
    let def = json!({"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": child}, "End": true}}},
        {"StartAt": "Later", "States": {
            "Later": {"Type": "Wait", "Seconds": 1, "Next": "Boom"},
            "Boom": {"Type": "Fail", "Error": "Boom"}}}
    ]}}});
    let parent_machine = machine(&*store, "parent", &def).await;
    let arn = start(&e, spec(&parent_machine, "pp", &def, &json!({}))).await;
    let done = ended(&*store, &arn).await;
    assert_eq!(done.error.as_deref(), Some("Boom"));
    let c = the_child(&*store, &child).await;
    assert_eq!(ended(&*store, &c.arn).await.status, ExecutionStatus::Aborted);
}

#[test]
fn an_express_child_is_found_again_after_a_restart_too() {
    let dir = tempfile::tempdir().unwrap();
    let wait: Value = serde_json::from_str(WAIT_LONG).unwrap();
    let child_machine = format!("{ACCOUNT}:stateMachine:quick");
    let def = parent_of("arn:aws:states:::states:startExecution.sync:2", json!({"StateMachineArn": child_machine}));
    let first = tokio::runtime::Runtime::new().unwrap();
    let (parent, child) = first.block_on(async {
        let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
        let e = engine(store.clone());
        machine_of_type(&*store, "quick", &wait, MachineType::Express).await;
        let parent_machine = machine(&*store, "parent", &def).await;
        let parent = start(&e, spec(&parent_machine, "px", &def, &json!({}))).await;
        let child = the_child(&*store, &child_machine).await.arn;
        assert!(child.starts_with(&format!("{ACCOUNT}:express:quick:")), "AWS's EXPRESS form: {child}");
        // The child ends, and the server dies before the parent's Task records its outcome.
        let ended = Write::UpdateExecution {
            arn: child.clone(),
            status: ExecutionStatus::Succeeded,
            output: Some(r#"{"quick":true}"#.into()),
            error: None,
            cause: None,
            stop_date: Some(Utc::now()),
        };
        store.commit(vec![ended]).await.unwrap();
        (parent, child)
    });
    drop(first);
    let second = tokio::runtime::Runtime::new().unwrap();
    second.block_on(async {
        let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
        let e = engine(store.clone());
        assert_eq!(e.recover().unwrap(), 1, "only the parent was still running");
        let done = ended(&*store, &parent).await;
        assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
        let out = output(&done);
        assert_eq!((out["ExecutionArn"].as_str(), &out["Output"]), (Some(child.as_str()), &json!({"quick": true})));
        assert_eq!(children(&*store, &child_machine).len(), 1, "no second EXPRESS child");
    });
}

#[tokio::test]
async fn a_sync_parent_waits_for_an_express_child_too() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(Sqlite::open(dir.path()).unwrap());
    let e = engine(store.clone());
    let child_def: Value = serde_json::from_str(DOUBLE).unwrap();
    let child = machine_of_type(&*store, "express-child", &child_def, MachineType::Express).await;
    let def = parent_of(
        "arn:aws:states:::states:startExecution.sync:2",
        json!({"StateMachineArn": child, "Input": {"n": 7}}),
    );
    let parent_machine = machine(&*store, "parent", &def).await;
    let arn = start(&e, spec(&parent_machine, "pe", &def, &json!({}))).await;
    let done = ended(&*store, &arn).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    assert_eq!(output(&done)["Output"], json!({"twice": 14}));
}
