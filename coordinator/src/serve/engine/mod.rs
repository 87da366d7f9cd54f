//! The executions of `dmap serve`: starts them, runs them on the shared engine with a durable
//! host (every history event goes to the store), resumes the running ones after a restart,
//! stops them, and keeps a handle per running Map Run.
//!
//! It does not parse API requests or format API answers (`serve::api` does), and it reads the
//! store only to recover.

use chrono::{DateTime, Utc};

use super::store::{ExecutionRecord, MachineType};

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
    /// The definition stored for the execution no longer parses (a store written by another
    /// build).
    #[error("{0}")]
    InvalidDefinition(String),
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
}
