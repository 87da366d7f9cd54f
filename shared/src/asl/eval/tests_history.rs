//! History through a journal: the events AWS writes, and replay after a crash (calls whose
//! outcome was recorded are not made again; ids, keys, time and randomness stay the same).

use std::collections::HashMap;
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use chrono::{DateTime, Duration, TimeZone, Utc};
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::*;
use crate::asl::history::{Entry, Event, Journal, outcome_of};
use crate::asl::parse::parse_value;

#[derive(Debug, Clone)]
struct Row {
    key: String,
    id: u64,
    previous: u64,
    kind: &'static str,
    details: Option<Value>,
    at: DateTime<Utc>,
}

/// A journal in memory: what a store would keep.
struct MemoryJournal {
    rows: Mutex<Vec<Row>>,
    clock: Mutex<DateTime<Utc>>,
}

impl MemoryJournal {
    fn new() -> Self {
        MemoryJournal { rows: Mutex::new(Vec::new()), clock: Mutex::new(start()) }
    }
    fn rows(&self) -> Vec<Row> {
        self.rows.lock().unwrap().clone()
    }
    fn kinds(&self) -> Vec<(u64, &'static str)> {
        self.rows().iter().map(|r| (r.id, r.kind)).collect()
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap()
}

impl Journal for MemoryJournal {
    fn record(&self, key: &str, previous: u64, event: Event<'_>) -> Entry {
        let mut rows = self.rows.lock().unwrap();
        if let Some(r) = rows.iter().find(|r| r.key == key) {
            return Entry { id: r.id, at: r.at };
        }
        let at = *self.clock.lock().unwrap();
        // Event 1 is ExecutionStarted, written by whoever starts the execution.
        let id = rows.last().map_or(2, |r| r.id + 1);
        rows.push(Row { key: key.to_string(), id, previous, kind: event.kind(), details: event.details(), at });
        Entry { id, at }
    }
    fn outcome(&self, key: &str) -> Option<Result<Value, Failure>> {
        let rows = self.rows.lock().unwrap();
        let r = rows.iter().find(|r| r.key == key)?;
        outcome_of(r.kind, r.details.as_ref())
    }
    fn started_at(&self) -> DateTime<Utc> {
        start()
    }
    fn seed(&self) -> u64 {
        42
    }
}

/// A host over the journal whose clock moves only when the engine sleeps; task calls echo
/// their input with the call's number, and the call numbered `crash_at` never answers.
struct JournalHost<'j> {
    journal: &'j MemoryJournal,
    calls: Mutex<Vec<String>>,
    crash_at: Option<usize>,
}

impl Host for JournalHost<'_> {
    fn now(&self) -> DateTime<Utc> {
        *self.journal.clock.lock().unwrap()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let mut now = self.journal.clock.lock().unwrap();
        if deadline > *now {
            *now = deadline;
        }
        Box::pin(async {})
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        let n = {
            let mut calls = self.calls.lock().unwrap();
            calls.push(request.state_name.clone());
            calls.len()
        };
        *self.journal.clock.lock().unwrap() += Duration::seconds(1);
        if Some(n) == self.crash_at {
            return Box::pin(futures::future::pending());
        }
        Box::pin(async move { Ok(json!({"state": request.state_name, "in": request.input})) })
    }
    fn journal(&self) -> Option<&dyn Journal> {
        Some(self.journal)
    }
}

/// Runs until the execution ends or the host stops answering (a crash: the future is dropped).
fn run(machine: &StateMachine, host: &JournalHost<'_>) -> Option<Outcome> {
    let options = ExecutionOptions::default();
    let fut = pin!(execute(machine, json!({"x": 1}), &options, host));
    match fut.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(o) => Some(o),
        Poll::Pending => None,
    }
}

fn machine(definition: Value) -> StateMachine {
    parse_value(&definition).unwrap_or_else(|d| panic!("invalid: {d:?}")).0
}

#[test]
fn events_are_aws_types_in_order_with_ids_from_two() {
    let m = machine(json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 5, "Next": "S"},
        "S": {"Type": "Succeed"}
    }}));
    let journal = MemoryJournal::new();
    let host = JournalHost { journal: &journal, calls: Mutex::new(vec![]), crash_at: None };
    let out = run(&m, &host).expect("ends");
    assert_eq!(out.status, Status::Succeeded);
    // The sequence AWS's console shows for these states (Lambda through `lambda:invoke` is a
    // Task… event family; a Lambda function ARN would be LambdaFunction…).
    let kinds: Vec<_> = journal.kinds().into_iter().map(|(_, k)| k).collect();
    assert_eq!(
        kinds,
        [
            "PassStateEntered",
            "PassStateExited",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "WaitStateEntered",
            "WaitStateExited",
            "SucceedStateEntered",
            "SucceedStateExited"
        ]
    );
    let rows = journal.rows();
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), (2..=12).collect::<Vec<_>>());
    assert_eq!(rows[0].previous, 1, "the first state follows ExecutionStarted");
    assert!(rows.windows(2).all(|w| w[1].previous == w[0].id), "a sequential run chains its events");
    let scheduled = rows[3].details.clone().unwrap();
    assert_eq!(scheduled["resourceType"], "lambda");
    assert_eq!(scheduled["resource"], "invoke");
    assert_eq!(scheduled["region"], "us-east-1");
    assert_eq!(scheduled["parameters"], r#"{"x":1}"#);
    // The Wait ended five seconds after it was entered, on the journal's clock.
    assert_eq!(rows[8].at - rows[7].at, Duration::seconds(5));
}

#[test]
fn replay_after_a_crash_makes_only_the_calls_without_a_recorded_outcome() {
    let m = machine(json!({"StartAt": "Par", "States": {
        "Par": {"Type": "Parallel", "Next": "After", "Branches": [
            {"StartAt": "A1", "States": {
                "A1": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "A2"},
                "A2": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
            {"StartAt": "B1", "States": {
                "B1": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "BW"},
                "BW": {"Type": "Wait", "Seconds": 30, "Next": "B2"},
                "B2": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}
        ]},
        "After": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()", "n.$": "States.MathRandom(0, 1000000)"},
                  "Next": "Last"},
        "Last": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}
    }}));
    // An uninterrupted run, for comparison.
    let whole = MemoryJournal::new();
    let host = JournalHost { journal: &whole, calls: Mutex::new(vec![]), crash_at: None };
    let expected = run(&m, &host).expect("ends");
    assert_eq!(expected.status, Status::Succeeded);
    assert_eq!(host.calls.lock().unwrap().len(), 5);

    // The same execution, killed while its fourth call is in flight, then replayed.
    let journal = MemoryJournal::new();
    let first = JournalHost { journal: &journal, calls: Mutex::new(vec![]), crash_at: Some(4) };
    assert!(run(&m, &first).is_none(), "the fourth call never answers");
    let before = journal.rows().len();
    let second = JournalHost { journal: &journal, calls: Mutex::new(vec![]), crash_at: None };
    let replayed = run(&m, &second).expect("ends");
    // Three calls had recorded outcomes; the one in flight and the last are made.
    let calls = second.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2, "calls made again: {calls:?}");
    assert_eq!(calls.last().map(String::as_str), Some("Last"));
    // Same result, randomness included (UUID and MathRandom derive from the seed and ids).
    assert_eq!(replayed, expected);
    // Nothing recorded before the crash was written again: keys are unique, ids contiguous.
    let rows = journal.rows();
    assert!(rows.len() > before);
    let mut keys: HashMap<&str, u64> = HashMap::new();
    for r in &rows {
        assert!(keys.insert(&r.key, r.id).is_none(), "key {} written twice", r.key);
    }
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), (2..2 + rows.len() as u64).collect::<Vec<_>>());
    assert_eq!(rows.len(), whole.rows().len(), "the same events as an uninterrupted run");
    // Branch events chain to their own branch: B1's Scheduled follows B1's entry.
    let by_kind_name = |kind: &str, name: &str| {
        rows.iter().find(|r| r.kind == kind && r.details.as_ref().is_some_and(|d| d["name"] == name)).unwrap().id
    };
    let b1_entered = by_kind_name("TaskStateEntered", "B1");
    let b1_scheduled = rows.iter().find(|r| r.previous == b1_entered).unwrap();
    assert_eq!(b1_scheduled.kind, "TaskScheduled");
}

#[test]
fn a_recorded_failure_is_retried_from_its_recorded_time() {
    let m = machine(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
              "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "MaxAttempts": 2,
                         "JitterStrategy": "FULL"}]}
    }}));
    // A journal holding a failed first attempt, as a crash during the back-off leaves it.
    let journal = MemoryJournal::new();
    let failing = FailingOnce { journal: &journal };
    let first = futures::executor::block_on(execute(&m, json!({}), &ExecutionOptions::default(), &failing));
    assert_eq!(first.status, Status::Succeeded);
    let rows = journal.rows();
    let failed = rows.iter().find(|r| r.kind == "TaskFailed").unwrap();
    let second_scheduled = rows.iter().filter(|r| r.kind == "TaskScheduled").nth(1).unwrap();
    let waited = second_scheduled.at - failed.at;
    assert!(waited >= Duration::zero() && waited <= Duration::seconds(10), "full jitter within the interval: {waited}");
}

/// Fails its first call, then echoes.
struct FailingOnce<'j> {
    journal: &'j MemoryJournal,
}

impl Host for FailingOnce<'_> {
    fn now(&self) -> DateTime<Utc> {
        *self.journal.clock.lock().unwrap()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let mut now = self.journal.clock.lock().unwrap();
        if deadline > *now {
            *now = deadline;
        }
        Box::pin(async {})
    }
    fn invoke_task(&self, _request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        let failed_before = self.journal.rows().iter().any(|r| r.kind == "TaskFailed");
        Box::pin(async move { if failed_before { Ok(json!("ok")) } else { Err(Failure::new("Custom.Oops", "first")) } })
    }
    fn journal(&self) -> Option<&dyn Journal> {
        Some(self.journal)
    }
}

/// A host that takes callbacks: tokens name the attempt; a wait answers what `answers` holds
/// for its token and otherwise never completes (the server is killed while it waits);
/// activity tasks are taken by "worker-7" unless `no_worker`.
struct CallbackHost<'j> {
    journal: &'j MemoryJournal,
    calls: Mutex<Vec<Value>>,
    waits: Mutex<Vec<CallbackWait>>,
    dispatched: Mutex<Vec<ActivityDispatch>>,
    answers: HashMap<String, Result<Value, Failure>>,
    no_worker: bool,
}

impl<'j> CallbackHost<'j> {
    fn new(journal: &'j MemoryJournal, answers: &[(&str, Result<Value, Failure>)]) -> Self {
        CallbackHost {
            journal,
            calls: Mutex::new(vec![]),
            waits: Mutex::new(vec![]),
            dispatched: Mutex::new(vec![]),
            answers: answers.iter().map(|(t, r)| (t.to_string(), r.clone())).collect(),
            no_worker: false,
        }
    }
}

impl Host for CallbackHost<'_> {
    fn now(&self) -> DateTime<Utc> {
        *self.journal.clock.lock().unwrap()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let mut now = self.journal.clock.lock().unwrap();
        if deadline > *now {
            *now = deadline;
        }
        Box::pin(async {})
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        self.calls.lock().unwrap().push(json!({"input": request.input, "token": request.task_token}));
        Box::pin(async { Ok(json!({"MessageId": "m-1"})) })
    }
    fn journal(&self) -> Option<&dyn Journal> {
        Some(self.journal)
    }
    fn task_token(&self, execution_arn: &str, entered_id: u64, attempt: u64) -> Option<String> {
        let name = execution_arn.rsplit(':').next().unwrap_or_default();
        Some(format!("{name}/{entered_id}/{attempt}"))
    }
    fn wait_for_callback(&self, wait: CallbackWait) -> BoxFuture<'_, Result<Value, Failure>> {
        let answer = self.answers.get(&wait.token).cloned();
        self.waits.lock().unwrap().push(wait);
        match answer {
            Some(answer) => Box::pin(std::future::ready(answer)),
            None => Box::pin(futures::future::pending()),
        }
    }
    fn dispatch_activity(&self, dispatch: ActivityDispatch) -> BoxFuture<'_, Result<String, Failure>> {
        self.dispatched.lock().unwrap().push(dispatch);
        match self.no_worker {
            true => Box::pin(futures::future::pending()),
            false => Box::pin(async { Ok("worker-7".to_string()) }),
        }
    }
}

fn run_with(machine: &StateMachine, host: &CallbackHost<'_>) -> Option<Outcome> {
    let options = ExecutionOptions { execution_name: "run-1".into(), ..ExecutionOptions::default() };
    let fut = pin!(execute(machine, json!({"order": 7}), &options, host));
    match fut.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(o) => Some(o),
        Poll::Pending => None,
    }
}

fn callback_machine() -> StateMachine {
    machine(json!({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "HeartbeatSeconds": 60, "TimeoutSeconds": 3600,
                "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.order"}},
                "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.why", "Next": "No"}],
                "Next": "Yes"},
        "Yes": {"Type": "Succeed"},
        "No": {"Type": "Pass", "End": true}
    }}))
}

#[test]
fn a_callback_task_gets_its_token_and_ends_with_what_the_callback_sent() {
    let m = callback_machine();
    let journal = MemoryJournal::new();
    // The token names the attempt: the execution, the id of TaskStateEntered (2), attempt 0.
    let host = CallbackHost::new(&journal, &[("run-1/2/0", Ok(json!({"approved": true})))]);
    let out = run_with(&m, &host).expect("ends");
    assert_eq!(out.status, Status::Succeeded);
    assert_eq!(out.output, Some(json!({"approved": true})));
    // The call carried the token in its Parameters and as the request's token.
    let calls = host.calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        [json!({"input": {"QueueUrl": "q", "MessageBody": {"token": "run-1/2/0", "order": 7}},
                               "token": "run-1/2/0"})]
    );
    // AWS's sequence for a callback Task (spec §6.3): Submitted carries the call's answer,
    // Succeeded the callback's output.
    let kinds: Vec<_> = journal.kinds().into_iter().map(|(_, k)| k).collect();
    assert_eq!(
        kinds,
        [
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited",
            "SucceedStateEntered",
            "SucceedStateExited"
        ]
    );
    let rows = journal.rows();
    assert_eq!(rows[3].details.as_ref().unwrap()["output"], r#"{"MessageId":"m-1"}"#);
    assert_eq!(rows[4].details.as_ref().unwrap()["output"], r#"{"approved":true}"#);
    // The wait's heartbeat and deadline are the Task's, its timeout counted from TaskStarted.
    let waits = host.waits.lock().unwrap().clone();
    assert_eq!(waits.len(), 1);
    assert_eq!(waits[0].heartbeat_seconds, Some(60));
    assert_eq!(waits[0].deadline, rows[2].at + Duration::seconds(3600));
    assert!(!waits[0].activity, "not an activity");
}

#[test]
fn a_failure_sent_back_is_the_tasks_error_and_goes_through_catch() {
    let m = callback_machine();
    let journal = MemoryJournal::new();
    let host = CallbackHost::new(&journal, &[("run-1/2/0", Err(Failure::new("Rejected", "too expensive")))]);
    let out = run_with(&m, &host).expect("ends");
    assert_eq!(out.status, Status::Succeeded);
    assert_eq!(out.output, Some(json!({"order": 7, "why": {"Error": "Rejected", "Cause": "too expensive"}})));
    let failed = journal.rows().into_iter().find(|r| r.kind == "TaskFailed").expect("TaskFailed");
    assert_eq!(failed.details.as_ref().unwrap()["error"], "Rejected");
    assert_eq!(failed.details.as_ref().unwrap()["cause"], "too expensive");
}

#[test]
fn after_a_restart_a_submitted_call_is_not_made_again_and_the_same_token_is_waited_for() {
    let m = callback_machine();
    let journal = MemoryJournal::new();
    // Killed while waiting: no answer yet.
    let first = CallbackHost::new(&journal, &[]);
    assert!(run_with(&m, &first).is_none(), "waits for its callback");
    assert_eq!(first.calls.lock().unwrap().len(), 1);
    let before: Vec<_> = journal.kinds();
    assert_eq!(before.last().map(|k| k.1), Some("TaskSubmitted"));
    // The callback arrives for the token handed out before the crash.
    let second = CallbackHost::new(&journal, &[("run-1/2/0", Ok(json!("ok")))]);
    let out = run_with(&m, &second).expect("ends");
    assert_eq!(out.output, Some(json!("ok")));
    assert!(second.calls.lock().unwrap().is_empty(), "the message was not sent twice");
    assert_eq!(second.waits.lock().unwrap()[0].token, "run-1/2/0");
    let rows = journal.rows();
    assert_eq!(rows.iter().filter(|r| r.kind == "TaskSubmitted").count(), 1);
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), (2..2 + rows.len() as u64).collect::<Vec<_>>());
}

#[test]
fn each_retry_of_a_callback_task_waits_for_a_token_of_its_own() {
    let m = machine(json!({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "f", "Payload": {"t.$": "$$.Task.Token"}},
                "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                "End": true}
    }}));
    let journal = MemoryJournal::new();
    let host = CallbackHost::new(
        &journal,
        &[("run-1/2/0", Err(Failure::new("States.Timeout", "no heartbeat"))), ("run-1/2/1", Ok(json!(2)))],
    );
    let out = run_with(&m, &host).expect("ends");
    assert_eq!(out.output, Some(json!(2)));
    let tokens: Vec<_> = host.calls.lock().unwrap().iter().map(|c| c["input"]["Payload"]["t"].clone()).collect();
    assert_eq!(tokens, [json!("run-1/2/0"), json!("run-1/2/1")]);
    // A timeout (heartbeat or Task) is a TaskTimedOut event.
    assert!(journal.kinds().iter().any(|k| k.1 == "TaskTimedOut"));
}

#[test]
fn an_activity_task_is_scheduled_taken_by_a_worker_and_ended_by_its_callback() {
    let m = machine(json!({"StartAt": "Review", "States": {
        "Review": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:review",
                   "Parameters": {"doc.$": "$.order"}, "TimeoutSeconds": 300, "HeartbeatSeconds": 30,
                   "End": true}
    }}));
    let journal = MemoryJournal::new();
    let host = CallbackHost::new(&journal, &[("run-1/2/0", Ok(json!({"ok": 1})))]);
    let out = run_with(&m, &host).expect("ends");
    assert_eq!(out.output, Some(json!({"ok": 1})));
    let d = host.dispatched.lock().unwrap().clone();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].activity_arn, "arn:aws:states:us-east-1:123456789012:activity:review");
    assert_eq!((d[0].token.as_str(), &d[0].input), ("run-1/2/0", &json!({"doc": 7})));
    // AWS's activity events (spec §6.2); no integration was called.
    let kinds: Vec<_> = journal.kinds().into_iter().map(|(_, k)| k).collect();
    assert_eq!(
        kinds,
        ["TaskStateEntered", "ActivityScheduled", "ActivityStarted", "ActivitySucceeded", "TaskStateExited"]
    );
    assert!(host.calls.lock().unwrap().is_empty());
    let rows = journal.rows();
    let scheduled = rows[1].details.clone().unwrap();
    assert_eq!(scheduled["resource"], "arn:aws:states:us-east-1:123456789012:activity:review");
    assert_eq!(scheduled["input"], r#"{"doc":7}"#);
    assert_eq!(
        (scheduled["timeoutInSeconds"].clone(), scheduled["heartbeatInSeconds"].clone()),
        (json!(300), json!(30))
    );
    assert_eq!(rows[2].details.as_ref().unwrap()["workerName"], "worker-7");
    // The Task's timeout runs from ActivityStarted.
    let waits = host.waits.lock().unwrap().clone();
    assert_eq!((waits[0].deadline, waits[0].activity), (rows[2].at + Duration::seconds(300), true));
}

#[test]
fn an_activity_task_taken_before_a_restart_is_not_handed_out_again() {
    let m = machine(json!({"StartAt": "Review", "States": {
        "Review": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:review", "End": true}
    }}));
    let journal = MemoryJournal::new();
    let first = CallbackHost::new(&journal, &[]);
    assert!(run_with(&m, &first).is_none());
    assert_eq!(first.dispatched.lock().unwrap().len(), 1);
    let second = CallbackHost::new(&journal, &[("run-1/2/0", Err(Failure::new("Bad.Doc", "unreadable")))]);
    let out = run_with(&m, &second).expect("ends");
    assert_eq!(out.status, Status::Failed);
    assert!(second.dispatched.lock().unwrap().is_empty(), "taken once");
    let kinds: Vec<_> = journal.kinds().into_iter().map(|(_, k)| k).collect();
    assert_eq!(kinds, ["TaskStateEntered", "ActivityScheduled", "ActivityStarted", "ActivityFailed"]);
    // An activity task nobody takes stays scheduled (until its execution's deadline).
    let idle = MemoryJournal::new();
    let mut host = CallbackHost::new(&idle, &[]);
    host.no_worker = true;
    assert!(run_with(&m, &host).is_none());
    assert_eq!(host.dispatched.lock().unwrap()[0].deadline, time::LATEST);
}

#[test]
fn a_host_without_callbacks_fails_the_task_instead_of_hanging() {
    let m = callback_machine();
    let journal = MemoryJournal::new();
    let host = JournalHost { journal: &journal, calls: Mutex::new(vec![]), crash_at: None };
    let out = run(&m, &host).expect("ends");
    assert_eq!(out.status, Status::Failed);
    let f = out.failure.expect("failure");
    assert_eq!(f.error.as_deref(), Some("States.Runtime"));
    assert!(f.cause.unwrap().contains("cannot take callbacks"));
    assert!(host.calls.lock().unwrap().is_empty(), "no message sent without a way back");
}
