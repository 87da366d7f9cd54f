//! The interpreter: runs a compiled [`StateMachine`] on an input through a [`Host`].
//!
//! Evaluation is an `async fn` over [`Host`], so one code path serves children that wait or
//! call out (driven by tokio) and children that never suspend ([`StateMachine::is_pure`]),
//! which complete on their first poll: [`execute_pure`] drives those without any runtime.

mod context;
mod flow;
mod handling;
mod host;
mod io;
pub mod map_run;
pub(crate) mod operand;
mod run;
mod states;
pub mod test_state;
pub mod time;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use serde_json::Value;

use crate::asl::error_name::{Failure, RUNTIME, TIMEOUT};
use crate::asl::model::StateMachine;

pub use host::{ActivityDispatch, CallbackWait, Host, TaskRequest};
pub use io::{MAX_PAYLOAD_BYTES, json_size};
pub(crate) use io::{number_len, string_len};

/// Names and ARNs an execution reports through the context object (`$$`).
#[derive(Debug, Clone)]
pub struct ExecutionOptions {
    pub execution_name: String,
    pub state_machine_name: String,
    pub region: String,
    pub account: String,
    pub role_arn: String,
    /// `$$.Execution.RedriveCount`; AWS omits it for synchronous Express executions.
    pub redrive_count: Option<u64>,
    /// The largest state output accepted (AWS: 256 KiB); `None` lifts the limit
    /// (`dmap run --no-payload-limits`).
    pub max_payload_bytes: Option<usize>,
}

impl ExecutionOptions {
    pub fn state_machine_arn(&self) -> String {
        format!("arn:aws:states:{}:{}:stateMachine:{}", self.region, self.account, self.state_machine_name)
    }

    pub fn execution_arn(&self) -> String {
        format!(
            "arn:aws:states:{}:{}:execution:{}:{}",
            self.region, self.account, self.state_machine_name, self.execution_name
        )
    }
}

impl Default for ExecutionOptions {
    fn default() -> Self {
        ExecutionOptions {
            execution_name: "local".into(),
            state_machine_name: "StateMachine".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            role_arn: "arn:aws:iam::123456789012:role/dmap".into(),
            redrive_count: Some(0),
            max_payload_bytes: Some(MAX_PAYLOAD_BYTES),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Succeeded,
    Failed,
    TimedOut,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
        }
    }
}

/// How an execution ended: its output when it succeeded, its failure otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub output: Option<Value>,
    pub failure: Option<Failure>,
}

/// Runs one execution to its end.
pub async fn execute(machine: &StateMachine, input: Value, options: &ExecutionOptions, host: &dyn Host) -> Outcome {
    let kept = machine.reads_context.then(|| input.clone());
    // Bounds carried through the state loop say when data could pass a limit (see
    // `crate::asl::bound`). The input is measured up front only when the machine reads `$$`
    // (the context object's bound holds it); otherwise its bound starts unknown and the first
    // state's output is measured instead — usually smaller than the input, and one walk
    // either way, so a one-state child costs what it did before bounds existed.
    let max_bytes = options.max_payload_bytes.unwrap_or(crate::asl::bound::HARD_MAX_BYTES);
    let input_bound = if machine.reads_context {
        run::known(crate::asl::bound::measure(&input, max_bytes), max_bytes)
    } else {
        crate::asl::bound::Bound::UNKNOWN
    };
    let exec = context::Exec::new(host, options, kept, machine.timeout_seconds, machine.express, input_bound);
    let scope = crate::asl::history::Scope::root();
    match run::run_machine(&exec, machine, input, input_bound, None, &scope).await {
        Ok(output) => Outcome { status: Status::Succeeded, output: Some(output), failure: None },
        Err(run::Halt::Failed(f)) => Outcome { status: Status::Failed, output: None, failure: Some(f) },
        Err(run::Halt::HistoryLimit) => Outcome {
            status: Status::Failed,
            output: None,
            failure: Some(Failure::new(
                RUNTIME,
                format!(
                    "The execution reached the maximum number of history events ({}).",
                    context::MAX_HISTORY_EVENTS
                ),
            )),
        },
        Err(run::Halt::TimedOut) => {
            Outcome { status: Status::TimedOut, output: None, failure: Some(Failure::named(TIMEOUT)) }
        }
    }
}

/// Runs an execution without an async runtime. Returns `None` if the machine suspended (it
/// waits or calls out through a host whose futures do not complete at once); a machine for
/// which [`StateMachine::is_pure`] holds never does.
pub fn execute_pure(
    machine: &StateMachine,
    input: Value,
    options: &ExecutionOptions,
    host: &dyn Host,
) -> Option<Outcome> {
    let fut = pin!(execute(machine, input, options, host));
    let mut cx = Context::from_waker(Waker::noop());
    match fut.poll(&mut cx) {
        Poll::Ready(o) => Some(o),
        Poll::Pending => None,
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_history;
#[cfg(test)]
mod tests_jsonata;
#[cfg(test)]
mod tests_limits;
