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
