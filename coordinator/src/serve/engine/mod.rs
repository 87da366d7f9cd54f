//! The executions of `dmap serve`: starts them, runs them on the shared engine with a durable
//! host (every history event goes to the store), resumes the running ones after a restart,
//! stops them, and keeps a handle per running Map Run.
//!
//! It does not parse API requests or format API answers (`serve::api` does), and it reads the
//! store only to recover.

mod ended;
mod generations;
mod host;
mod journal;
mod map_runs;
mod outcome_log;
mod redrive;
mod run;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use shared::asl::StateMachine;
use shared::asl::eval::Host;

use super::store::{ExecutionRecord, ExecutionStatus, MachineType, Store};
use crate::map_run::registry::MapRuns;

pub use ended::{Ended, WeakEngine};
pub use map_runs::StoreObserver;
pub use outcome_log::Logged;
pub use redrive::not_redrivable;
pub use run::Counters;

/// What StartExecution/StartSyncExecution resolved: which definition runs, under which names.
/// The API layer has checked the name, the input and the state machine's existence, and
/// resolved a version or an alias to the version that runs.
#[derive(Debug, Clone)]
pub struct StartSpec {
    /// The execution's ARN (AWS's form for its type).
    pub execution_arn: String,
    pub name: String,
    /// The unqualified state machine ARN.
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
    pub machine_type: MachineType,
    /// The definition text, and its SHA-256 in hex.
    pub definition: String,
    pub definition_hash: String,
    pub role_arn: String,
    /// The input text (valid JSON, at most 256 KiB: checked by the API).
    pub input: String,
    pub trace_header: Option<String>,
    /// The test case of `--mock-config` it runs with (`stateMachineArn#TestCase`, as AWS Step
    /// Functions Local takes it).
    pub mock_test_case: Option<String>,
}

impl StartSpec {
    /// The record of the execution this spec starts at `start`: RUNNING, nothing ended yet.
    pub fn record(&self, start: DateTime<Utc>) -> ExecutionRecord {
        ExecutionRecord {
            arn: self.execution_arn.clone(),
            name: self.name.clone(),
            state_machine_arn: self.state_machine_arn.clone(),
            version_arn: self.version_arn.clone(),
            alias_arn: self.alias_arn.clone(),
            machine_type: self.machine_type,
            status: ExecutionStatus::Running,
            input: self.input.clone(),
            output: None,
            error: None,
            cause: None,
            start_date: start,
            stop_date: None,
            definition_hash: self.definition_hash.clone(),
            role_arn: self.role_arn.clone(),
            trace_header: self.trace_header.clone(),
            map_run_arn: None,
            item_count: None,
            redrive_count: 0,
            redrive_date: None,
            mock_test_case: self.mock_test_case.clone(),
        }
    }
}

/// How StartExecution ended.
#[derive(Debug, Clone)]
pub enum Started {
    /// A new execution, durable before this is returned.
    New(ExecutionRecord),
    /// A running Standard execution with the same name and input: AWS's idempotent answer.
    Existing(ExecutionRecord),
}

/// Why an execution could not be started or stopped, in the API's words.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// An execution with this name exists with another input, or has ended.
    #[error("Execution Already Exists: '{0}'")]
    AlreadyExists(String),
    #[error("Execution Does Not Exist: '{0}'")]
    DoesNotExist(String),
    /// RedriveExecution refused, for AWS's reason (its `redriveStatusReason` texts).
    #[error("{0}")]
    NotRedrivable(String),
    /// The definition stored for the execution no longer parses (a store written by another
    /// build).
    #[error("{0}")]
    InvalidDefinition(String),
    /// The `#TestCase` asked for cannot be had from the mock configuration.
    #[error("{0}")]
    MockTestCase(String),
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
}

/// StartSyncExecution's answer.
#[derive(Debug, Clone)]
pub struct SyncOutcome {
    pub status: &'static str,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub start_date: DateTime<Utc>,
    pub stop_date: DateTime<Utc>,
}

/// UpdateMapRun's changes; `None` leaves a value as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct MapRunUpdate {
    pub max_concurrency: Option<u64>,
    pub tolerated_failure_percentage: Option<f64>,
    pub tolerated_failure_count: Option<u64>,
}

/// Why UpdateMapRun was refused.
#[derive(Debug, thiserror::Error)]
pub enum MapRunError {
    #[error("Map Run Does Not Exist: '{0}'")]
    DoesNotExist(String),
    /// AWS: ValidationException, reason CANNOT_UPDATE_COMPLETED_MAP_RUN.
    #[error("Cannot update a completed Map Run: '{0}'")]
    Completed(String),
    /// A value out of its range (AWS's validation text).
    #[error("{0}")]
    Invalid(String),
}

/// What every execution of the server shares.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub region: String,
    pub account: String,
    /// The largest state output (AWS: 256 KiB); `None` lifts it.
    pub max_payload_bytes: Option<usize>,
    /// `--mock-config`: AWS Step Functions Local's mocked test cases.
    pub mocks: Option<Arc<worker::mock::config::MockConfig>>,
}

/// The executions of one server. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    /// The server's host: clock, timers, task integrations and Map Runs (in-process or NATS).
    host: Arc<dyn Host>,
    options: EngineOptions,
    /// Parsed definitions by SHA-256: a state machine is parsed once, not per execution.
    machines: Mutex<HashMap<String, Arc<StateMachine>>>,
    running: Mutex<HashMap<String, Arc<run::Running>>>,
    counters: Counters,
    /// The Map Runs running in this server (the host's registry).
    map_runs: MapRuns,
    /// Definitions known to be committed (a unit that failed may have taken its definition
    /// with it, so only committed ones are noted).
    stored_definitions: Mutex<std::collections::HashSet<String>>,
    /// Redrives are made one at a time.
    redriving: tokio::sync::Mutex<()>,
    /// RedriveExecution's client tokens (see `redrive`).
    redrive_tokens: redrive::Tokens,
    /// Map Runs run on NATS workers (`--nats`): they cannot be redriven.
    remote_map_runs: std::sync::atomic::AtomicBool,
    /// When outcome logs past their redrive window were last dropped (seconds since the epoch).
    last_sweep: std::sync::atomic::AtomicI64,
}

/// At most this many parsed definitions are kept; past it the cache starts again (a server
/// with more distinct definitions than this in use parses some twice).
const MAX_CACHED_MACHINES: usize = 4096;

impl Engine {
    /// `map_runs` is the registry of the host's Map Runs (`setup::Setup::map_runs`).
    pub fn new(store: Arc<dyn Store>, host: Arc<dyn Host>, map_runs: MapRuns, options: EngineOptions) -> Engine {
        Engine {
            inner: Arc::new(Inner {
                store,
                host,
                options,
                machines: Mutex::new(HashMap::new()),
                running: Mutex::new(HashMap::new()),
                counters: Counters::default(),
                map_runs,
                stored_definitions: Mutex::new(std::collections::HashSet::new()),
                redriving: tokio::sync::Mutex::new(()),
                redrive_tokens: Default::default(),
                remote_map_runs: Default::default(),
                last_sweep: Default::default(),
            }),
        }
    }

    /// Notes that the host runs Map Runs on NATS workers: executions that stopped in a Map Run
    /// are then refused a redrive (see `redrive`).
    pub fn set_remote_map_runs(&self, remote: bool) {
        self.inner.remote_map_runs.store(remote, Ordering::Relaxed);
    }

    /// The server's host (clock, timers, integrations), shared by every execution: what
    /// TestState calls an unmocked Task through.
    pub fn host(&self) -> Arc<dyn Host> {
        self.inner.host.clone()
    }

    /// Counts for `/metrics`.
    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// Executions running in this process.
    pub fn running(&self) -> usize {
        self.inner.running.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn definition_stored(&self, hash: &str) -> bool {
        self.inner.stored_definitions.lock().unwrap_or_else(|e| e.into_inner()).contains(hash)
    }

    fn note_definition_stored(&self, hash: &str) {
        let mut set = self.inner.stored_definitions.lock().unwrap_or_else(|e| e.into_inner());
        if set.len() >= MAX_CACHED_MACHINES {
            set.clear();
        }
        set.insert(hash.to_string());
    }

    /// The parsed definition of `hash` (parsing `text` on first use).
    fn machine(&self, hash: &str, text: &str, machine_type: MachineType) -> Result<Arc<StateMachine>, EngineError> {
        let key = format!("{hash}:{}", machine_type.as_str());
        if let Some(m) = self.inner.machines.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(m.clone());
        }
        let (mut machine, _) = shared::asl::parse_definition(text).map_err(|diags| {
            EngineError::InvalidDefinition(diags.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
        })?;
        machine.express = machine_type == MachineType::Express;
        let machine = Arc::new(machine);
        let mut cache = self.inner.machines.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_CACHED_MACHINES {
            cache.clear();
        }
        cache.insert(key, machine.clone());
        Ok(machine)
    }
}

impl Engine {
    /// The mocked test case `case` of state machine `machine_name`, checked against its
    /// definition (`None` when no case is asked for).
    fn mock_case(
        &self,
        machine_name: &str,
        case: Option<&str>,
        machine: &StateMachine,
    ) -> Result<Option<Arc<worker::mock::TestCase>>, EngineError> {
        let Some(case) = case else { return Ok(None) };
        let Some(config) = &self.inner.options.mocks else {
            return Err(EngineError::MockTestCase(format!(
                "the test case '{case}' is asked for, but dmap serve was started without --mock-config"
            )));
        };
        let chosen = worker::mock::select::choose(config, &format!("{machine_name}#{case}"), Some(machine_name))
            .map_err(EngineError::MockTestCase)?;
        let problems = worker::mock::select::check(&chosen, machine);
        if !problems.is_empty() {
            let text: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.pointer, p.message)).collect();
            return Err(EngineError::MockTestCase(text.join("; ")));
        }
        Ok(Some(Arc::new(chosen)))
    }
}

impl Counters {
    fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_redrive;

#[cfg(test)]
mod callback_tests;
