//! Runs one loaded case: validate the definition, decide whether it is runnable yet, execute
//! it through the [`TestHost`] and judge the outcome.
//!
//! A case is skipped, not failed, when it needs something dmap does not support yet: the
//! parser says so with `NOT_SUPPORTED_YET` diagnostics, and Distributed Map (which parses but
//! cannot run in-process) is found by walking the model.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use chrono::{DurationRound, TimeDelta, Utc};
use shared::asl::diagnostic::{Severity, code};
use shared::asl::eval::{ExecutionOptions, Outcome, execute};
use shared::asl::model::{ProcessorMode, StateKind, StateMachine};
use shared::asl::parse::parse_value;

use super::CaseStatus;
use super::case::Loaded;
use super::host::{Runaway, TestHost};
use super::{compare, s3};

/// The names every case runs under. The account and region are those of the recorded
/// corpus's sandbox; the names themselves appear only in ARNs, which cases ignore.
const STATE_MACHINE_NAME: &str = "dmap-test";
const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";

/// How often an execution future may ask to be polled again. The test host never suspends, so
/// a pending poll is only a combinator yielding for fairness; this bounds a broken one.
const MAX_POLLS: usize = 1_000_000;

pub fn run(loaded: &Loaded) -> CaseStatus {
    let case = &loaded.case;
    let machine = match parse_value(&case.definition) {
        Ok((machine, _warnings)) => machine,
        Err(diags) => {
            if let Some(d) = diags.iter().find(|d| d.code == code::NOT_SUPPORTED) {
                return CaseStatus::Skipped { feature: d.message.clone() };
            }
            let errors: Vec<String> =
                diags.iter().filter(|d| d.severity == Severity::Error).map(ToString::to_string).collect();
            return CaseStatus::Failed { diff: format!("the definition is invalid: {}", errors.join("; ")) };
        }
    };
    if let Some(at) = distributed_map(&machine) {
        return CaseStatus::Skipped { feature: format!("Distributed Map is not supported yet at {at}") };
    }
    // Held until the execution ends; nothing reads it until a storage host exists.
    let _store = if case.s3_objects.is_empty() && case.s3_buckets.is_empty() {
        None
    } else {
        match s3::write_objects(&case.s3_objects, &case.s3_buckets) {
            Ok(dir) => Some(dir),
            Err(e) => return CaseStatus::Failed { diff: format!("cannot write the case's s3_objects: {e}") },
        }
    };
    let options = ExecutionOptions {
        execution_name: loaded.name.clone(),
        state_machine_name: STATE_MACHINE_NAME.into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
        role_arn: format!("arn:aws:iam::{ACCOUNT}:role/{STATE_MACHINE_NAME}"),
        ..Default::default()
    };
    // AWS's times have millisecond precision.
    let now = Utc::now();
    let start = now.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(now);
    let host = TestHost::new(start, &case.tasks);
    let run = catch_unwind(AssertUnwindSafe(|| block_on(execute(&machine, case.input.clone(), &options, &host))));
    match run {
        Ok(Some(outcome)) => judge(loaded, &outcome),
        Ok(None) => {
            CaseStatus::Failed { diff: "the execution never finished (it kept yielding without progress)".into() }
        }
        Err(payload) if payload.is::<Runaway>() => CaseStatus::Failed {
            diff: "the execution was stopped after entering millions of states (a loop without end?)".into(),
        },
        Err(payload) => {
            CaseStatus::Failed { diff: format!("the engine panicked: {}", panic_message(payload.as_ref())) }
        }
    }
}

fn judge(loaded: &Loaded, outcome: &Outcome) -> CaseStatus {
    match compare::check(&loaded.case.expected, &loaded.ignore, outcome) {
        Ok(()) => CaseStatus::Passed,
        Err(diff) => CaseStatus::Failed { diff },
    }
}

/// The JSON pointer of the first Distributed Map state, at any depth.
pub fn distributed_map(machine: &StateMachine) -> Option<&str> {
    machine.states.iter().find_map(|s| match &s.kind {
        StateKind::Map(m) if matches!(m.mode, ProcessorMode::Distributed(_)) => Some(s.pointer.as_str()),
        StateKind::Map(m) => distributed_map(&m.processor),
        StateKind::Parallel(p) => p.branches.iter().find_map(distributed_map),
        _ => None,
    })
}

/// Drives a future whose every leaf is ready at once, without an async runtime.
fn block_on<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    (0..MAX_POLLS).find_map(|_| match fut.as_mut().poll(&mut cx) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    })
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".into()
    }
}
