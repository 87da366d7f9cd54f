//! Execution history as the engine writes it: events of AWS's types with their details, each
//! under a stable key, through a [`Journal`] that the host supplies.
//!
//! The history is the durable record of an execution (`dmap serve`): the journal appends each
//! event as it happens and, after a restart, replays the recorded ones. Replay re-runs the
//! execution from its start with the same definition and input; every event the engine writes
//! again is found by its key and not written twice, and what the outside world answered — a
//! task's result, a Map Run's result — is read back from it instead of being asked again. The
//! engine is deterministic given those answers: time enters as the recorded events'
//! timestamps and randomness from a seed and the ids of recorded events.
//!
//! **Keys** are structural, not positional: a scope (the top level, a Parallel branch, an
//! inline Map iteration) numbers its own events in order, and a nested scope's key starts with
//! the key of the event that opened it. Branches that interleave differently after a restart
//! therefore still find their own events.
//!
//! Nothing here does I/O; the journal's implementation (in `coordinator::serve`) does.

use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::asl::error_name::Failure;
use crate::asl::model::{State, StateKind};
use crate::asl::resource::{Resource, Target};

/// Where an event was written, as the journal answers: its id and its time. After a restart
/// these are the recorded ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub id: u64,
    pub at: DateTime<Utc>,
}

/// The door to an execution's history. One journal per execution.
pub trait Journal: Send + Sync {
    /// Writes `event` under `key`, after `previous` (AWS's `previousEventId`), and returns its
    /// id and time; when replaying and `key` was recorded, returns the recorded entry and
    /// writes nothing.
    fn record(&self, key: &str, previous: u64, event: Event<'_>) -> Entry;

    /// When replaying: how the call whose outcome event has `key` ended, if that event was
    /// recorded (a task's output or failure; a Map Run's result or failure).
    fn outcome(&self, key: &str) -> Option<Result<Value, Failure>>;

    /// When the execution started (its `ExecutionStarted` event): the clock its deadline and
    /// `$$.Execution.StartTime` read.
    fn started_at(&self) -> DateTime<Utc>;

    /// Where the execution's `TimeoutSeconds` counts from: its start, unless it was redriven
    /// (AWS resets the state machine's timeout at a redrive).
    fn timeout_from(&self) -> DateTime<Utc> {
        self.started_at()
    }

    /// The execution's seed: its randomness derives from it and event ids only.
    fn seed(&self) -> u64;
}

/// One event, borrowing what it reports. [`Event::kind`] and [`Event::details`] give AWS's
/// type name and `…EventDetails` members.
#[derive(Debug)]
pub enum Event<'a> {
    StateEntered {
        state: &'a State,
        input: &'a Value,
    },
    StateExited {
        state: &'a State,
        output: &'a Value,
        assigned: Option<&'a Map<String, Value>>,
    },
    TaskScheduled {
        resource: &'a Resource,
        region: &'a str,
        parameters: &'a Value,
        timeout: u64,
        heartbeat: Option<u64>,
    },
    TaskStarted {
        resource: &'a Resource,
    },
    TaskSucceeded {
        resource: &'a Resource,
        output: &'a Value,
    },
    TaskFailed {
        resource: &'a Resource,
        failure: &'a Failure,
    },
    TaskTimedOut {
        resource: &'a Resource,
        failure: &'a Failure,
    },
    /// A `.waitForTaskToken` Task's call answered (`output`, the call's answer); the Task
    /// now waits for its token's callback.
    TaskSubmitted {
        resource: &'a Resource,
        output: &'a Value,
    },
    ActivityScheduled {
        resource: &'a Resource,
        input: &'a Value,
        timeout: u64,
        heartbeat: Option<u64>,
    },
    /// A worker took the activity task (`GetActivityTask`).
    ActivityStarted {
        worker_name: &'a str,
    },
    ActivitySucceeded {
        output: &'a Value,
    },
    ActivityFailed {
        failure: &'a Failure,
    },
    ActivityTimedOut {
        failure: &'a Failure,
    },
    /// The activity task could not be scheduled (its activity does not exist).
    ActivityScheduleFailed {
        failure: &'a Failure,
    },
    ParallelStateStarted,
    ParallelStateSucceeded,
    ParallelStateFailed,
    MapStateStarted {
        length: usize,
    },
    MapIterationStarted {
        name: &'a str,
        index: usize,
    },
    MapIterationSucceeded {
        name: &'a str,
        index: usize,
    },
    MapIterationFailed {
        name: &'a str,
        index: usize,
    },
    MapStateSucceeded,
    MapStateFailed,
    MapRunStarted {
        map_run_arn: &'a str,
    },
    /// `result` is the Map state's raw result, kept for replay (AWS's event has no details;
    /// the API leaves it out).
    MapRunSucceeded {
        result: &'a Value,
    },
    MapRunFailed {
        failure: &'a Failure,
    },
}

/// The member of a details object that holds data only replay reads; the API never shows it.
pub const REPLAY_MEMBER: &str = "dmapReplay";

impl Event<'_> {
    /// AWS's event type.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::StateEntered { state, .. } => entered_kind(state),
            Event::StateExited { state, .. } => exited_kind(state),
            Event::TaskScheduled { resource, .. } => task_kind(resource, "Scheduled"),
            Event::TaskStarted { resource } => task_kind(resource, "Started"),
            Event::TaskSucceeded { resource, .. } => task_kind(resource, "Succeeded"),
            Event::TaskFailed { resource, .. } => task_kind(resource, "Failed"),
            Event::TaskTimedOut { resource, .. } => task_kind(resource, "TimedOut"),
            Event::TaskSubmitted { .. } => "TaskSubmitted",
            Event::ActivityScheduled { .. } => "ActivityScheduled",
            Event::ActivityStarted { .. } => "ActivityStarted",
            Event::ActivitySucceeded { .. } => "ActivitySucceeded",
            Event::ActivityFailed { .. } => "ActivityFailed",
            Event::ActivityTimedOut { .. } => "ActivityTimedOut",
            Event::ActivityScheduleFailed { .. } => "ActivityScheduleFailed",
            Event::ParallelStateStarted => "ParallelStateStarted",
            Event::ParallelStateSucceeded => "ParallelStateSucceeded",
            Event::ParallelStateFailed => "ParallelStateFailed",
            Event::MapStateStarted { .. } => "MapStateStarted",
            Event::MapIterationStarted { .. } => "MapIterationStarted",
            Event::MapIterationSucceeded { .. } => "MapIterationSucceeded",
            Event::MapIterationFailed { .. } => "MapIterationFailed",
            Event::MapStateSucceeded => "MapStateSucceeded",
            Event::MapStateFailed => "MapStateFailed",
            Event::MapRunStarted { .. } => "MapRunStarted",
            Event::MapRunSucceeded { .. } => "MapRunSucceeded",
            Event::MapRunFailed { .. } => "MapRunFailed",
        }
    }

    /// The members of the event's details object, as AWS writes them (`None`: the event has
    /// no details). Payloads are JSON text, as in AWS's API.
    pub fn details(&self) -> Option<Value> {
        Some(match self {
            Event::StateEntered { state, input } => json!({
                "name": state.name, "input": text(input), "inputDetails": {"truncated": false}
            }),
            Event::StateExited { state, output, assigned } => {
                let mut d = json!({
                    "name": state.name, "output": text(output), "outputDetails": {"truncated": false}
                });
                if let Some(a) = assigned {
                    let vars: Map<String, Value> = a.iter().map(|(k, v)| (k.clone(), Value::String(text(v)))).collect();
                    d["assignedVariables"] = Value::Object(vars);
                    d["assignedVariablesDetails"] = json!({"truncated": false});
                }
                d
            }
            Event::TaskScheduled { resource, region, parameters, timeout, heartbeat } => {
                if let Target::Function { .. } = resource.target {
                    let mut d = json!({
                        "resource": resource.arn, "input": text(parameters),
                        "inputDetails": {"truncated": false}, "timeoutInSeconds": timeout
                    });
                    if let Some(h) = heartbeat {
                        d["heartbeatInSeconds"] = json!(h);
                    }
                    return Some(d);
                }
                let (kind, name) = resource_parts(resource);
                let mut d = json!({
                    "resourceType": kind, "resource": name, "region": region,
                    "parameters": text(parameters), "timeoutInSeconds": timeout
                });
                if let Some(h) = heartbeat {
                    d["heartbeatInSeconds"] = json!(h);
                }
                d
            }
            Event::TaskStarted { resource } => match resource.target {
                Target::Function { .. } => return None,
                _ => resource_object(resource),
            },
            Event::TaskSucceeded { resource, output } => {
                let mut d = resource_object(resource);
                d["output"] = Value::String(text(output));
                d["outputDetails"] = json!({"truncated": false});
                d
            }
            Event::TaskFailed { resource, failure } | Event::TaskTimedOut { resource, failure } => {
                let mut d = resource_object(resource);
                failure_members(&mut d, failure);
                d
            }
            Event::TaskSubmitted { resource, output } => {
                let mut d = resource_object(resource);
                d["output"] = Value::String(text(output));
                d["outputDetails"] = json!({"truncated": false});
                d
            }
            Event::ActivityScheduled { resource, input, timeout, heartbeat } => {
                let mut d = json!({
                    "resource": resource.arn, "input": text(input),
                    "inputDetails": {"truncated": false}, "timeoutInSeconds": timeout
                });
                if let Some(h) = heartbeat {
                    d["heartbeatInSeconds"] = json!(h);
                }
                d
            }
            // A worker that polled without a name: AWS records no workerName (localstack's
            // snapshot `test_activity_task_no_worker_name`, recorded against AWS).
            Event::ActivityStarted { worker_name: "" } => json!({}),
            Event::ActivityStarted { worker_name } => json!({ "workerName": worker_name }),
            Event::ActivitySucceeded { output } => {
                json!({ "output": text(output), "outputDetails": {"truncated": false} })
            }
            Event::ActivityFailed { failure }
            | Event::ActivityTimedOut { failure }
            | Event::ActivityScheduleFailed { failure } => {
                let mut d = json!({});
                failure_members(&mut d, failure);
                d
            }
            Event::MapStateStarted { length } => json!({ "length": length }),
            Event::MapIterationStarted { name, index }
            | Event::MapIterationSucceeded { name, index }
            | Event::MapIterationFailed { name, index } => json!({ "name": name, "index": index }),
            Event::MapRunStarted { map_run_arn } => json!({ "mapRunArn": map_run_arn }),
            Event::MapRunSucceeded { result } => json!({ REPLAY_MEMBER: text(result) }),
            Event::MapRunFailed { failure } => {
                let mut d = json!({});
                failure_members(&mut d, failure);
                d
            }
            Event::ParallelStateStarted
            | Event::ParallelStateSucceeded
            | Event::ParallelStateFailed
            | Event::MapStateSucceeded
            | Event::MapStateFailed => return None,
        })
    }
}

/// How a call ended, read back from a recorded outcome event (its type and details): what
/// [`Journal::outcome`] implementations return. `None` when the event is not an outcome.
pub fn outcome_of(kind: &str, details: Option<&Value>) -> Option<Result<Value, Failure>> {
    let member = |name: &str| details.and_then(|d| d.get(name)).and_then(Value::as_str);
    let failure = || Failure { error: member("error").map(str::to_string), cause: member("cause").map(str::to_string) };
    if kind == "MapRunSucceeded" {
        return Some(Ok(parse(member(REPLAY_MEMBER)?)?));
    }
    // A callback Task's call, and an activity task taken by a worker (its name).
    if kind == "TaskSubmitted" || kind == "ActivitySucceeded" {
        return Some(Ok(parse(member("output")?)?));
    }
    if kind == "ActivityStarted" {
        return Some(Ok(Value::String(member("workerName").unwrap_or_default().to_string())));
    }
    if matches!(kind, "ActivityFailed" | "ActivityTimedOut" | "ActivityScheduleFailed") {
        return Some(Err(failure()));
    }
    if kind == "MapRunFailed"
        || kind.ends_with("Failed") && (kind.starts_with("Task") || kind.starts_with("LambdaFunction"))
    {
        return Some(Err(failure()));
    }
    if kind.ends_with("TimedOut") && (kind.starts_with("Task") || kind.starts_with("LambdaFunction")) {
        return Some(Err(failure()));
    }
    if kind.ends_with("Succeeded") && (kind.starts_with("Task") || kind.starts_with("LambdaFunction")) {
        return Some(Ok(parse(member("output")?)?));
    }
    None
}

fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

fn text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn failure_members(d: &mut Value, failure: &Failure) {
    if let Some(e) = &failure.error {
        d["error"] = Value::String(e.clone());
    }
    if let Some(c) = &failure.cause {
        d["cause"] = Value::String(c.clone());
    }
}

fn resource_object(resource: &Resource) -> Value {
    let (kind, name) = resource_parts(resource);
    json!({ "resourceType": kind, "resource": name })
}

/// `arn:aws:states:::lambda:invoke` → (`lambda`, `invoke`); `…:::aws-sdk:s3:getObject` →
/// (`aws-sdk:s3`, `getObject`); a pattern suffix stays on the resource (`startJobRun.sync`,
/// and `startExecution.sync:2`, as AWS records it: LocalStack's AWS-recorded snapshot
/// `test_start_execution_sync2`).
fn resource_parts(resource: &Resource) -> (&str, &str) {
    let rest = resource.arn.splitn(6, ':').nth(5).unwrap_or(&resource.arn);
    let unsuffixed = rest.strip_suffix(":2").unwrap_or(rest);
    match unsuffixed.rsplit_once(':') {
        Some((kind, _)) => (kind, &rest[kind.len() + 1..]),
        None => ("", rest),
    }
}

fn task_kind(resource: &Resource, what: &str) -> &'static str {
    let lambda = matches!(resource.target, Target::Function { .. });
    match (lambda, what) {
        (true, "Scheduled") => "LambdaFunctionScheduled",
        (true, "Started") => "LambdaFunctionStarted",
        (true, "Succeeded") => "LambdaFunctionSucceeded",
        (true, "Failed") => "LambdaFunctionFailed",
        (true, _) => "LambdaFunctionTimedOut",
        (false, "Scheduled") => "TaskScheduled",
        (false, "Started") => "TaskStarted",
        (false, "Succeeded") => "TaskSucceeded",
        (false, "Failed") => "TaskFailed",
        (false, _) => "TaskTimedOut",
    }
}

fn entered_kind(state: &State) -> &'static str {
    match state.kind {
        StateKind::Pass(_) => "PassStateEntered",
        StateKind::Task(_) => "TaskStateEntered",
        StateKind::Choice(_) => "ChoiceStateEntered",
        StateKind::Wait(_) => "WaitStateEntered",
        StateKind::Succeed => "SucceedStateEntered",
        StateKind::Fail(_) => "FailStateEntered",
        StateKind::Parallel(_) => "ParallelStateEntered",
        StateKind::Map(_) => "MapStateEntered",
    }
}

fn exited_kind(state: &State) -> &'static str {
    match state.kind {
        StateKind::Pass(_) => "PassStateExited",
        StateKind::Task(_) => "TaskStateExited",
        StateKind::Choice(_) => "ChoiceStateExited",
        StateKind::Wait(_) => "WaitStateExited",
        StateKind::Succeed => "SucceedStateExited",
        StateKind::Fail(_) => "FailStateExited",
        StateKind::Parallel(_) => "ParallelStateExited",
        StateKind::Map(_) => "MapStateExited",
    }
}

/// One scope's numbering of its events: the top level, a Parallel branch or an inline Map
/// iteration. Only used when the host has a journal.
#[derive(Debug)]
pub struct Scope {
    prefix: String,
    /// The next event's number in this scope. A load and a store rather than an atomic add:
    /// a scope's events are written by one future at a time.
    seq: AtomicU32,
    /// The id of the scope's last event: the next one's `previousEventId`.
    last: AtomicU64,
    /// The time of the scope's last event written through a journal, in microseconds since
    /// the epoch (`i64::MIN`: none yet).
    last_at: AtomicI64,
}

impl Scope {
    /// The execution's top level; its first event follows `ExecutionStarted` (id 1).
    pub fn root() -> Scope {
        Scope {
            prefix: String::new(),
            seq: AtomicU32::new(0),
            last: AtomicU64::new(1),
            last_at: AtomicI64::new(i64::MIN),
        }
    }

    /// A nested scope opened by the event `opened` (key and id) of this scope: branch or
    /// iteration `index`.
    pub fn nested(opened_key: &str, opened_id: u64, index: usize) -> Scope {
        Scope {
            prefix: format!("{opened_key}/{index}."),
            seq: AtomicU32::new(0),
            last: AtomicU64::new(opened_id),
            last_at: AtomicI64::new(i64::MIN),
        }
    }

    /// The key the next event of this scope takes (and consumes it).
    pub fn next_key(&self) -> String {
        let n = self.seq.load(Ordering::Relaxed);
        self.seq.store(n + 1, Ordering::Relaxed);
        format!("{}{n}", self.prefix)
    }

    pub fn last(&self) -> u64 {
        self.last.load(Ordering::Relaxed)
    }

    /// Notes the scope's latest event.
    pub fn set_last(&self, entry: Entry) {
        self.last.store(entry.id, Ordering::Relaxed);
        self.last_at.store(entry.at.timestamp_micros(), Ordering::Relaxed);
    }

    /// The time of the scope's latest event written through a journal.
    pub fn last_at(&self) -> Option<DateTime<Utc>> {
        match self.last_at.load(Ordering::Relaxed) {
            i64::MIN => None,
            us => DateTime::from_timestamp_micros(us),
        }
    }
}

/// A deterministic 64-bit value from a seed and a position.
pub fn mix(seed: u64, a: u64, b: u64) -> u64 {
    splitmix64(seed ^ splitmix64(a ^ splitmix64(b)))
}

/// SplitMix64's finaliser: spreads a counter into well-mixed 64-bit numbers.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's `resourceType`/`resource` pairs, as recorded on AWS (LocalStack's snapshots
    /// `test_start_execution`, `test_start_execution_sync2`, `test_sqs_wait_for_task_token`).
    #[test]
    fn resources_split_into_aws_s_type_and_name() {
        let parts = |arn: &str| {
            let r = Resource::parse(arn).expect("a valid resource");
            let (kind, name) = resource_parts(&r);
            (kind.to_string(), name.to_string())
        };
        let pair = |k: &str, n: &str| (k.to_string(), n.to_string());
        assert_eq!(parts("arn:aws:states:::states:startExecution"), pair("states", "startExecution"));
        assert_eq!(parts("arn:aws:states:::states:startExecution.sync:2"), pair("states", "startExecution.sync:2"));
        assert_eq!(
            parts("arn:aws:states:::sqs:sendMessage.waitForTaskToken"),
            pair("sqs", "sendMessage.waitForTaskToken")
        );
        assert_eq!(parts("arn:aws:states:::aws-sdk:s3:getObject"), pair("aws-sdk:s3", "getObject"));
    }
}
