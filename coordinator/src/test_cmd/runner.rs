//! Runs one loaded case: validate the definition, decide whether it is runnable yet, execute
//! it through the [`TestHost`] and judge the outcome.
//!
//! A case is skipped, not failed, when it needs something dmap does not support yet: the
//! parser says so with `NOT_SUPPORTED_YET` diagnostics. Cases with Distributed Maps run their
//! Map Runs on the in-process worker pool, with the case's S3 objects as local buckets.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use chrono::{DurationRound, TimeDelta, Utc};
use shared::asl::diagnostic::{Severity, code};
use shared::asl::eval::{ExecutionOptions, Host, Outcome, execute};
use shared::asl::model::{ProcessorMode, StateKind, StateMachine};
use shared::asl::parse::parse_value;

use std::path::Path;
use std::sync::Arc;

use worker::mock::{self, MockError, MockHost, TestCase};

use super::CaseStatus;
use super::case::Loaded;
use super::host::{Runaway, TestHost};
use super::{compare, functions, s3};
use crate::host::EmbeddedHost;
use crate::map_run::run::RunOptions;
use crate::map_run::status::Progress;
use crate::storage::Storage;

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
    // The case's S3 objects live in a temporary directory, one sub-directory per bucket.
    let store = if case.s3_objects.is_empty() && case.s3_buckets.is_empty() {
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
    // Lambda mocks become real functions (processes), served by the Lambda integration.
    let functions = match functions::for_mocks(&case.tasks) {
        Ok(f) => f,
        Err(e) => return CaseStatus::Failed { diff: format!("cannot set up the case's functions: {e}") },
    };
    let mocks = match mock_test_case(loaded, &machine) {
        Ok(m) => m.map(Arc::new),
        Err(e) => return CaseStatus::Failed { diff: e.to_string() },
    };
    let run = if distributed_map(&machine).is_some() || functions.is_some() {
        // Map Runs and processes need a runtime; there, sleeps jump the clock at once.
        let host = TestHost::new(start, case.tasks.clone()).with_functions(functions);
        let storage = match store.as_ref().map(|d| bucket_dirs(d.path())).transpose() {
            Ok(s) => s.unwrap_or_default(),
            Err(e) => return CaseStatus::Failed { diff: format!("cannot map the case's buckets: {e}") },
        };
        let input = case.input.clone();
        catch_unwind(AssertUnwindSafe(|| match mocks {
            Some(m) => run_with_map_runs(&machine, input, &options, MockHost::new(host, m), storage),
            None => run_with_map_runs(&machine, input, &options, host, storage),
        }))
    } else {
        let host = TestHost::discrete(start, case.tasks.clone());
        let input = case.input.clone();
        catch_unwind(AssertUnwindSafe(|| match mocks {
            Some(m) => {
                let host = MockHost::new(host, m);
                block_on(execute(&machine, input, &options, &host), host.base())
            }
            None => block_on(execute(&machine, input, &options, &host), &host),
        }))
    };
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

/// Runs an execution with Distributed Maps: Map Runs need the async runtime and the
/// in-process worker pool; buckets are the case's temporary directories.
fn run_with_map_runs<H: Host + 'static>(
    machine: &StateMachine,
    input: serde_json::Value,
    options: &ExecutionOptions,
    host: H,
    storage: Storage,
) -> Option<Outcome> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
    let progress = Arc::new(Progress::silent());
    let run_options = RunOptions { max_payload_bytes: options.max_payload_bytes, ..RunOptions::default() };
    Some(rt.block_on(async {
        let host = EmbeddedHost::new(host, Arc::new(storage), run_options, progress);
        execute(machine, input, options, &*host).await
    }))
}

/// The test case of the case's `mock_config`, checked against the definition.
fn mock_test_case(loaded: &Loaded, machine: &StateMachine) -> Result<Option<TestCase>, MockError> {
    let case = &loaded.case;
    let (Some(config), Some(wanted)) = (&case.mock_config, &case.mock_test_case) else { return Ok(None) };
    match config {
        serde_json::Value::String(path) => mock::load(&loaded.dir.join(path), wanted, None, machine).map(Some),
        inline => {
            let text = inline.to_string();
            mock::from_text(&text, Path::new("mock_config"), wanted, None, machine).map(Some)
        }
    }
}

/// Maps every sub-directory of `root` (one per bucket) as that bucket.
fn bucket_dirs(root: &std::path::Path) -> Result<Storage, String> {
    let mut specs = Vec::new();
    for entry in std::fs::read_dir(root).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        if entry.path().is_dir() {
            specs.push(format!("{}={}", entry.file_name().to_string_lossy(), entry.path().display()));
        }
    }
    Storage::from_specs(&specs).map_err(|e| e.to_string())
}

/// Drives an execution without an async runtime: when it is pending, every branch is blocked
/// on a sleep, so the clock moves to the earliest deadline and the execution is polled again.
fn block_on<F: Future>(fut: F, host: &TestHost) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    (0..MAX_POLLS).find_map(|_| match fut.as_mut().poll(&mut cx) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => {
            host.advance();
            None
        }
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
