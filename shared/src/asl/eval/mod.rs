//! The interpreter: runs a compiled [`StateMachine`] on an input through a [`Host`].

mod host;

use serde_json::Value;

use crate::asl::error_name::Failure;
use crate::asl::model::StateMachine;

pub use host::{Host, TaskRequest};

/// Names and ARNs an execution reports through the context object (`$$`).
#[derive(Debug, Clone)]
pub struct ExecutionOptions {
    pub execution_name: String,
    pub state_machine_name: String,
    pub region: String,
    pub account: String,
    pub role_arn: String,
}

impl Default for ExecutionOptions {
    fn default() -> Self {
        ExecutionOptions {
            execution_name: "local".into(),
            state_machine_name: "StateMachine".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            role_arn: "arn:aws:iam::123456789012:role/dmap".into(),
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
pub async fn execute(
    machine: &StateMachine,
    input: Value,
    options: &ExecutionOptions,
    host: &dyn Host,
) -> Outcome {
    let _ = (machine, input, options, host);
    unimplemented!("being written")
}
