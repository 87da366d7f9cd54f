//! Runs one batch: parses its input, executes the child state machine through the host and
//! turns the result into an [`Outcome`]. Children that never suspend
//! ([`StateMachine::is_pure`]) run on the rayon pool, driven by a no-op waker; children that
//! can wait (Wait, a Retry back-off), call out or start Map Runs of their own run as tokio tasks.

use std::sync::Arc;

use serde_json::Value;
use shared::asl::eval::{ExecutionOptions, Host, Outcome as ExecOutcome, Status, execute, execute_pure};
use shared::asl::{Failure, StateMachine};
use shared::protocol::{Batch, Outcome, OutcomeStatus, VERSION};

/// What a child needs besides its input: the compiled definition and the execution settings
/// shared by every child of a Map Run.
#[derive(Debug)]
pub struct Child {
    pub machine: Arc<StateMachine>,
    /// Whether the machine never suspends (decided once per Map Run; [`StateMachine::is_pure`]).
    pub pure: bool,
    pub max_payload_bytes: Option<usize>,
}

impl Child {
    pub fn new(machine: Arc<StateMachine>, max_payload_bytes: Option<usize>) -> Self {
        let pure = machine.is_pure();
        Child { machine, pure, max_payload_bytes }
    }
}

/// Executes batches with one host (clock, sleeps, task integrations, nested Map Runs).
#[derive(Clone)]
pub struct Executor {
    host: Arc<dyn Host>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Executor")
    }
}

impl Executor {
    pub fn new(host: Arc<dyn Host>) -> Self {
        Executor { host }
    }

    /// Runs one batch to its outcome. Pure children run on the rayon pool; the others on the
    /// calling tokio task.
    pub async fn run(&self, child: Arc<Child>, batch: Batch) -> Outcome {
        if child.pure {
            let ids = Ids { map_run_id: batch.map_run_id.clone(), batch: batch.batch, attempt: batch.attempt };
            let host = self.host.clone();
            let (tx, rx) = tokio::sync::oneshot::channel();
            rayon::spawn(move || {
                // A panic must not take the pool (or the process) down: it fails this child.
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_pure(&*host, &child, batch)));
                if let Ok(o) = ran {
                    let _ = tx.send(o);
                }
            });
            match rx.await {
                Ok(o) => o,
                // The child panicked (or the pool shut down) before answering.
                Err(_) => {
                    let f = Failure::new("States.Runtime", "the child execution stopped abnormally (engine panic)");
                    let now = self.host.now();
                    outcome_of(ids, failed(f), now, now)
                }
            }
        } else {
            let start = self.host.now();
            let (options, input, ids) = match prepare(&child, &batch) {
                Ok(p) => p,
                Err(f) => return outcome(&batch, failed(f), start, start),
            };
            let result = execute(&child.machine, input, &options, &*self.host).await;
            let stop = self.host.now();
            outcome_of(ids, result, start, stop)
        }
    }
}

/// Runs a batch of a pure child synchronously (on the caller's thread).
pub fn run_pure(host: &dyn Host, child: &Child, batch: Batch) -> Outcome {
    let start = host.now();
    let (options, input, ids) = match prepare(child, &batch) {
        Ok(p) => p,
        Err(f) => return outcome(&batch, failed(f), start, start),
    };
    let result = execute_pure(&child.machine, input, &options, host).unwrap_or_else(|| ExecOutcome {
        status: Status::Failed,
        output: None,
        failure: Some(Failure::new(
            "States.Runtime",
            "the child execution tried to wait or call out without an async runtime (it was wrongly taken for one \
             that never waits)",
        )),
    });
    outcome_of(ids, result, start, host.now())
}

struct Ids {
    map_run_id: String,
    batch: u64,
    attempt: u32,
}

fn prepare(child: &Child, batch: &Batch) -> Result<(ExecutionOptions, Value, Ids), Failure> {
    let input: Value = serde_json::from_str(&batch.input)
        .map_err(|e| Failure::new("States.Runtime", format!("the child input is not valid JSON: {e}")))?;
    let c = &batch.child;
    let options = ExecutionOptions {
        execution_name: c.name.clone(),
        state_machine_name: c.state_machine_name.clone(),
        region: c.region.clone(),
        account: c.account.clone(),
        role_arn: c.role_arn.clone(),
        redrive_count: Some(0),
        max_payload_bytes: child.max_payload_bytes,
    };
    Ok((options, input, Ids { map_run_id: batch.map_run_id.clone(), batch: batch.batch, attempt: batch.attempt }))
}

fn failed(f: Failure) -> ExecOutcome {
    ExecOutcome { status: Status::Failed, output: None, failure: Some(f) }
}

fn outcome(
    batch: &Batch,
    r: ExecOutcome,
    start: chrono::DateTime<chrono::Utc>,
    stop: chrono::DateTime<chrono::Utc>,
) -> Outcome {
    let ids = Ids { map_run_id: batch.map_run_id.clone(), batch: batch.batch, attempt: batch.attempt };
    outcome_of(ids, r, start, stop)
}

fn outcome_of(
    ids: Ids,
    r: ExecOutcome,
    start: chrono::DateTime<chrono::Utc>,
    stop: chrono::DateTime<chrono::Utc>,
) -> Outcome {
    let (status, output, failure) = match r.status {
        Status::Succeeded => {
            let text = r.output.as_ref().and_then(|v| serde_json::to_string(v).ok());
            (OutcomeStatus::Succeeded, text, None)
        }
        Status::Failed => (OutcomeStatus::Failed, None, r.failure),
        Status::TimedOut => (OutcomeStatus::TimedOut, None, r.failure),
    };
    let (error, cause) = failure.map(|f| (f.error, f.cause)).unwrap_or((None, None));
    Outcome {
        v: VERSION,
        map_run_id: ids.map_run_id,
        batch: ids.batch,
        attempt: ids.attempt,
        // The NATS worker sets the batch's nonce when it publishes.
        nonce: String::new(),
        status,
        output,
        error,
        cause,
        start_millis: start.timestamp_millis(),
        stop_millis: stop.timestamp_millis(),
    }
}
