//! Starting, running, stopping and resuming executions.
//!
//! A Standard execution is acknowledged once its record and its `ExecutionStarted` event are
//! durable; it then runs on a tokio task with a [`DurableHost`], every event journaled. Its
//! end (the last event and the record's status) is written once, by whichever comes first:
//! the engine's outcome or StopExecution. An asynchronous Express execution is acknowledged
//! once its record is durable and keeps no history (a restart runs it again: at least once);
//! a synchronous one is never stored (at most once).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use shared::asl::StateMachine;
use shared::asl::eval::{ExecutionOptions, Outcome, Status, execute};

use shared::asl::eval::Host;
use worker::mock::{MockHost, TestCase};

use super::generations::Replay;
use super::host::{Borrowed, DurableHost};
use super::journal::StoreJournal;
use super::{Engine, EngineError, StartSpec, Started, SyncOutcome};
use crate::serve::store::{EventRecord, ExecutionRecord, ExecutionStatus, MachineType, StoreError, Write};

/// Counts for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    pub started: AtomicU64,
    pub succeeded: AtomicU64,
    pub failed: AtomicU64,
    pub timed_out: AtomicU64,
    pub aborted: AtomicU64,
    /// History events written (state transitions and their task events).
    pub events: AtomicU64,
    pub sync_executions: AtomicU64,
    pub resumed: AtomicU64,
}

/// A running execution: how to stop it, and how it ended (for those waiting on it).
pub(super) struct Running {
    /// Standard executions only.
    journal: Option<Arc<StoreJournal>>,
    task: OnceLock<tokio::task::AbortHandle>,
    pub(super) record: ExecutionRecord,
    /// Set once, by whichever writes the end (the engine's outcome or StopExecution), before
    /// the execution leaves the running set: a `.sync` parent waits on it (`Engine::ended`).
    pub(super) ended: tokio::sync::watch::Sender<Option<Arc<super::Ended>>>,
}

impl Running {
    fn new(journal: Option<Arc<StoreJournal>>, record: ExecutionRecord) -> Running {
        Running { journal, task: OnceLock::new(), record, ended: tokio::sync::watch::channel(None).0 }
    }

    fn publish(
        &self,
        status: ExecutionStatus,
        output: Option<String>,
        error: Option<String>,
        cause: Option<String>,
        stop_date: DateTime<Utc>,
    ) {
        let ended = super::Ended { status, output, error, cause, stop_date };
        self.ended.send_replace(Some(Arc::new(ended)));
    }
}

impl Engine {
    /// StartExecution: durable before it returns.
    pub async fn start(&self, spec: StartSpec) -> Result<Started, EngineError> {
        // A name in use is found by the store's conflict, not by a read before every start.
        let machine = self.machine(&spec.definition_hash, &spec.definition, spec.machine_type)?;
        let case = self.mock_case(&spec.state_machine_name, spec.mock_test_case.as_deref(), &machine)?;
        let now = Utc::now();
        let record = spec.record(now);
        // A definition is written once, not with every execution of it.
        let stored = self.definition_stored(&spec.definition_hash);
        let mut unit = Vec::with_capacity(3);
        if !stored {
            unit.push(Write::PutDefinition { hash: spec.definition_hash.clone(), text: spec.definition.clone() });
        }
        unit.push(Write::CreateExecution(record.clone()));
        if spec.machine_type == MachineType::Standard {
            unit.push(Write::AppendEvents(vec![started_event(&spec, now)]));
        }
        match self.inner.store.commit(unit).await {
            Ok(()) => {
                if !stored {
                    self.note_definition_stored(&spec.definition_hash);
                }
            }
            // Started at the same moment by another request: answer as if it came first.
            Err(StoreError::Conflict(_)) => match self.inner.store.execution(&spec.execution_arn)? {
                Some(existing) => return idempotent(existing, &spec),
                None => return Err(EngineError::AlreadyExists(spec.execution_arn)),
            },
            Err(e) => return Err(e.into()),
        }
        Counters::bump(&self.inner.counters.started);
        self.launch(record.clone(), machine, case, Replay { last_id: 1, ..Replay::default() });
        Ok(Started::New(record))
    }

    /// StartSyncExecution: runs an Express execution to its end and stores nothing.
    pub async fn start_sync(&self, spec: StartSpec) -> Result<SyncOutcome, EngineError> {
        let machine = self.machine(&spec.definition_hash, &spec.definition, MachineType::Express)?;
        let case = self.mock_case(&spec.state_machine_name, spec.mock_test_case.as_deref(), &machine)?;
        let input: Value = serde_json::from_str(&spec.input).unwrap_or(Value::Null);
        let options = self.execution_options(&spec.name, &spec.state_machine_name, &spec.role_arn, None);
        let start_date = Utc::now();
        let base = self.inner.host.clone();
        let mocked = case.map(|c| MockHost::new(Borrowed(&*base), c));
        let host: &dyn Host = match &mocked {
            Some(m) => m,
            None => &*base,
        };
        let outcome = execute(&machine, input, &options, host).await;
        Counters::bump(&self.inner.counters.sync_executions);
        let (status, output, error, cause) = ending(&outcome);
        Ok(SyncOutcome { status: status.as_str(), output, error, cause, start_date, stop_date: Utc::now() })
    }

    /// StopExecution: the execution ends ABORTED, durable before this returns.
    pub async fn stop(
        &self,
        execution_arn: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<DateTime<Utc>, EngineError> {
        let running = self.inner.running.lock().unwrap_or_else(|e| e.into_inner()).get(execution_arn).cloned();
        let Some(running) = running else {
            return match self.inner.store.execution(execution_arn)? {
                None => Err(EngineError::DoesNotExist(execution_arn.to_string())),
                // Ended already: AWS answers with when it stopped.
                Some(r) => Ok(r.stop_date.unwrap_or(r.start_date)),
            };
        };
        // Claim the execution's end first (its journal, or for Express its place among the
        // running), so that what it does while its Map Runs stop is not its end.
        let closing = match &running.journal {
            Some(j) => match j.close() {
                Some(c) => Some(c),
                // It ended on its own meanwhile.
                None => return self.stopped_date(execution_arn),
            },
            None => {
                if self.inner.running.lock().unwrap_or_else(|e| e.into_inner()).remove(execution_arn).is_none() {
                    return self.stopped_date(execution_arn);
                }
                None
            }
        };
        // Its Map Runs stop before the execution is dropped, so that their children end
        // ABORTED and their results are written (dropping them would only drop them).
        let runs = self.inner.map_runs.of_execution(execution_arn);
        for run in &runs {
            run.stop();
        }
        for run in runs {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(30), run.ended()).await;
        }
        if let Some(task) = running.task.get() {
            task.abort();
        }
        let now = Utc::now();
        let mut unit = Vec::new();
        if let Some(c) = closing {
            let details = detail_object(&[("error", error.clone()), ("cause", cause.clone())]);
            let mut events = c.held;
            events.push(event(execution_arn, c.id, c.previous, now, "ExecutionAborted", details));
            unit.push(Write::AppendEvents(events));
        }
        unit.push(Write::UpdateExecution {
            arn: execution_arn.to_string(),
            status: ExecutionStatus::Aborted,
            output: None,
            error: error.clone(),
            cause: cause.clone(),
            stop_date: Some(now),
        });
        running.publish(ExecutionStatus::Aborted, None, error, cause, now);
        self.inner.running.lock().unwrap_or_else(|e| e.into_inner()).remove(execution_arn);
        Counters::bump(&self.inner.counters.aborted);
        self.inner.store.commit(unit).await?;
        Ok(now)
    }

    /// Forgets the recorded outcomes of an ended execution's Map Runs (see
    /// `outcome_log`): nothing will resume them. Only once it has succeeded: until then a
    /// redrive reuses its Map Runs' successful children.
    pub(super) fn drop_outcomes(&self, execution_arn: &str) -> Vec<Write> {
        let page = crate::serve::store::PageRequest { after: None, limit: 1000 };
        match self.inner.store.list_map_runs(execution_arn, &page) {
            Ok(runs) => runs
                .items
                .into_iter()
                .filter_map(|r| r.arn.rsplit(':').next().map(|id| Write::DropOutcomes { map_run_id: id.to_string() }))
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    fn stopped_date(&self, execution_arn: &str) -> Result<DateTime<Utc>, EngineError> {
        match self.inner.store.execution(execution_arn)? {
            Some(r) => Ok(r.stop_date.unwrap_or_else(Utc::now)),
            None => Ok(Utc::now()),
        }
    }

    /// Resumes every execution the store holds as RUNNING: Standard ones replay their
    /// history; Express ones run again from their input (AWS's at-least-once).
    pub fn recover(&self) -> Result<usize, EngineError> {
        self.sweep_outcomes(Utc::now());
        let records = self.inner.store.running_executions()?;
        let n = records.len();
        for record in records {
            let Some(text) = self.inner.store.definition(&record.definition_hash)? else {
                tracing::error!(execution = %record.arn, "its definition is missing from the store; it cannot resume");
                continue;
            };
            let machine = match self.machine(&record.definition_hash, &text, record.machine_type) {
                Ok(m) => m,
                Err(e) => {
                    tracing::error!(execution = %record.arn, error = %e, "its definition no longer parses; it cannot resume");
                    continue;
                }
            };
            let name = state_machine_name(&record.state_machine_arn).to_string();
            let case = match self.mock_case(&name, record.mock_test_case.as_deref(), &machine) {
                Ok(c) => c,
                Err(e) => {
                    // Run without its mocks, it would call out for real: it stays as it was.
                    tracing::error!(execution = %record.arn, error = %e, "its mocked test case is not served; it cannot resume");
                    continue;
                }
            };
            let replay = match record.machine_type {
                MachineType::Standard => self.recorded(&record.arn)?,
                MachineType::Express => Replay { last_id: 1, ..Replay::default() },
            };
            Counters::bump(&self.inner.counters.resumed);
            self.launch(record, machine, case, replay);
        }
        Ok(n)
    }

    /// The events an execution recorded, by key, as its latest generation replays them (see
    /// `generations`), and its highest event id.
    pub(super) fn recorded(&self, arn: &str) -> Result<Replay, EngineError> {
        let events = self.inner.store.events(arn, None, false, usize::MAX)?;
        Ok(super::generations::replay(events))
    }

    /// Runs an execution on its own task.
    pub(super) fn launch(
        &self,
        record: ExecutionRecord,
        machine: Arc<StateMachine>,
        case: Option<Arc<TestCase>>,
        replay: Replay,
    ) {
        let journal = (record.machine_type == MachineType::Standard).then(|| {
            Arc::new(
                StoreJournal::new(
                    self.inner.store.clone(),
                    record.arn.clone(),
                    record.start_date,
                    replay.recorded,
                    replay.last_id,
                )
                .redriven(replay.redrive, record.redrive_date),
            )
        });
        let running = Arc::new(Running::new(journal.clone(), record.clone()));
        self.inner.running.lock().unwrap_or_else(|e| e.into_inner()).insert(record.arn.clone(), running.clone());
        let engine = self.clone();
        let task = tokio::spawn(async move {
            let input: Value = serde_json::from_str(&record.input).unwrap_or(Value::Null);
            let name = state_machine_name(&record.state_machine_arn);
            let options = engine.execution_options(&record.name, name, &record.role_arn, Some(record.redrive_count));
            let base = engine.inner.host.clone();
            // A mocked execution's Task states are answered by its test case. (After a
            // restart, a mocked state counts its invocations from the first one made again.)
            let mocked = case.map(|c| MockHost::new(Borrowed(&*base), c));
            let base: &dyn Host = match &mocked {
                Some(m) => m,
                None => &*base,
            };
            let outcome = match &journal {
                Some(j) => {
                    let host = DurableHost { base, journal: j };
                    execute(&machine, input, &options, &host).await
                }
                None => execute(&machine, input, &options, base).await,
            };
            engine.finish(&record, journal.as_deref(), &outcome);
        });
        let _ = running.task.set(task.abort_handle());
    }

    /// Writes how an execution ended, unless StopExecution did first.
    fn finish(&self, record: &ExecutionRecord, journal: Option<&StoreJournal>, outcome: &Outcome) {
        let closing = match journal {
            Some(j) => match j.close() {
                Some(c) => Some(c),
                None => return,
            },
            None => None,
        };
        let running = self.inner.running.lock().unwrap_or_else(|e| e.into_inner()).remove(&record.arn);
        if running.is_none() && closing.is_none() {
            // An Express execution stopped meanwhile.
            return;
        }
        let (status, output, error, cause) = ending(outcome);
        let now = Utc::now();
        if let Some(r) = &running {
            r.publish(status, output.clone(), error.clone(), cause.clone(), now);
        }
        let c = &self.inner.counters;
        Counters::bump(match status {
            ExecutionStatus::Succeeded => &c.succeeded,
            ExecutionStatus::TimedOut => &c.timed_out,
            _ => &c.failed,
        });
        let mut unit = Vec::with_capacity(2);
        if let (Some(closing), Some(j)) = (closing, journal) {
            c.events.fetch_add(j.written(), Ordering::Relaxed);
            let (kind, details) = match status {
                ExecutionStatus::Succeeded => (
                    "ExecutionSucceeded",
                    Some(json!({"output": output.clone().unwrap_or_default(), "outputDetails": {"truncated": false}})),
                ),
                ExecutionStatus::TimedOut => {
                    ("ExecutionTimedOut", detail_object(&[("error", error.clone()), ("cause", cause.clone())]))
                }
                _ => ("ExecutionFailed", detail_object(&[("error", error.clone()), ("cause", cause.clone())])),
            };
            let mut events = closing.held;
            events.push(event(&record.arn, closing.id, closing.previous, now, kind, details));
            unit.push(Write::AppendEvents(events));
        }
        let succeeded = status == ExecutionStatus::Succeeded;
        unit.push(Write::UpdateExecution {
            arn: record.arn.clone(),
            status,
            output,
            error,
            cause,
            stop_date: Some(now),
        });
        if succeeded {
            unit.extend(self.drop_outcomes(&record.arn));
        }
        self.sweep_outcomes(now);
        self.inner.store.submit(unit);
    }

    fn execution_options(&self, name: &str, machine: &str, role: &str, redrive_count: Option<u64>) -> ExecutionOptions {
        ExecutionOptions {
            execution_name: name.to_string(),
            state_machine_name: machine.to_string(),
            region: self.inner.options.region.clone(),
            account: self.inner.options.account.clone(),
            role_arn: role.to_string(),
            redrive_count,
            max_payload_bytes: self.inner.options.max_payload_bytes,
        }
    }

    /// The record of a running execution (what DescribeExecution would show before the store
    /// catches up is the store's; this is for tests and the console).
    pub fn running_record(&self, arn: &str) -> Option<ExecutionRecord> {
        self.inner.running.lock().unwrap_or_else(|e| e.into_inner()).get(arn).map(|r| r.record.clone())
    }
}

/// AWS's idempotent StartExecution: the same name and input of a running Standard execution
/// give that execution; anything else is ExecutionAlreadyExists.
fn idempotent(existing: ExecutionRecord, spec: &StartSpec) -> Result<Started, EngineError> {
    let same_input = existing.input == spec.input
        || serde_json::from_str::<Value>(&existing.input).ok() == serde_json::from_str::<Value>(&spec.input).ok();
    if existing.status == ExecutionStatus::Running && existing.machine_type == MachineType::Standard && same_input {
        Ok(Started::Existing(existing))
    } else {
        Err(EngineError::AlreadyExists(existing.arn))
    }
}

/// `ExecutionStarted` (event 1) as AWS writes it.
fn started_event(spec: &StartSpec, at: DateTime<Utc>) -> EventRecord {
    let mut d = json!({
        "input": spec.input, "inputDetails": {"truncated": false},
        "roleArn": spec.role_arn, "stateMachineArn": spec.state_machine_arn,
    });
    if let Some(v) = &spec.version_arn {
        d["stateMachineVersionArn"] = json!(v);
    }
    if let Some(a) = &spec.alias_arn {
        d["stateMachineAliasArn"] = json!(a);
    }
    event(&spec.execution_arn, 1, 0, at, "ExecutionStarted", Some(d))
}

fn event(arn: &str, id: u64, previous: u64, at: DateTime<Utc>, kind: &str, details: Option<Value>) -> EventRecord {
    EventRecord {
        execution_arn: arn.to_string(),
        id,
        previous_event_id: previous,
        timestamp: at,
        event_type: kind.to_string(),
        details: details.map(|d| d.to_string()),
        key: None,
    }
}

/// A details object of the members that are set (`None` when none is).
fn detail_object(members: &[(&str, Option<String>)]) -> Option<Value> {
    let m: serde_json::Map<String, Value> =
        members.iter().filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), Value::String(v.clone())))).collect();
    Some(Value::Object(m))
}

/// Status, output, error and cause of an outcome, as the API reports them.
fn ending(outcome: &Outcome) -> (ExecutionStatus, Option<String>, Option<String>, Option<String>) {
    let status = match outcome.status {
        Status::Succeeded => ExecutionStatus::Succeeded,
        Status::Failed => ExecutionStatus::Failed,
        Status::TimedOut => ExecutionStatus::TimedOut,
    };
    let output = outcome.output.as_ref().map(|v| serde_json::to_string(v).unwrap_or_default());
    let (error, cause) = match &outcome.failure {
        Some(f) => (f.error.clone(), f.cause.clone()),
        None => (None, None),
    };
    (status, output, error, cause)
}

/// `arn:aws:states:R:A:stateMachine:NAME` → `NAME`.
fn state_machine_name(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}
