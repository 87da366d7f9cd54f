//! The store of `dmap serve`: state machines (with versions and aliases), tags, executions,
//! their history events, Map Runs, and activities. Everything the API reports and everything recovery
//! after a crash reads comes from here, and only committed data is ever read.
//!
//! One trait, [`Store`], so that a replicated implementation (JetStream) can follow the
//! embedded one (SQLite) without touching the engine or the API.
//!
//! Writes are [`Write`]s, grouped into units: a unit commits whole or not at all (a unit that
//! breaks a uniqueness rule fails alone with [`StoreError::Conflict`], without failing the
//! units committed beside it). Units are applied in submission order and committed in groups
//! (group commit): one transaction and one sync of the log for every unit that arrived while
//! the previous group was being written. [`Store::submit`] does not wait for durability: the
//! engine appends history without waiting, since a crash can only lose a suffix of what it
//! submitted, which replay rebuilds. [`Store::commit`] waits for durability: the API answers
//! only after what it acknowledges is on disk. Both queue the unit before they return (so
//! order is the order of the calls, and a dropped [`Commit`] still writes its unit); both
//! block while the store's queue is full, which bounds memory and slows producers down to
//! what the disk can take.
//!
//! The store must not interpret definitions or run anything.

pub mod sqlite;

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};

/// What a store can fail with. Conflicts are part of the API (`…AlreadyExists`); the rest are
/// infrastructure errors, reported as `InternalFailure`/500 by the API.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unit tried to create something that exists (the key is named).
    #[error("{0} already exists")]
    Conflict(String),
    /// The database cannot be opened, read or written.
    #[error("the store at {path}: {source}")]
    Database { path: String, source: Box<dyn std::error::Error + Send + Sync> },
    /// The store's writer has stopped (the process is shutting down, or it failed before).
    #[error("the store is closed")]
    Closed,
    /// A [`PageRequest::after`] that is not a key of this listing (the API answers
    /// `InvalidToken`).
    #[error("invalid page key: {0}")]
    InvalidPageKey(String),
}

/// `STANDARD` or `EXPRESS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MachineType {
    Standard,
    Express,
}

impl MachineType {
    pub fn as_str(self) -> &'static str {
        match self {
            MachineType::Standard => "STANDARD",
            MachineType::Express => "EXPRESS",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "STANDARD" => Some(MachineType::Standard),
            "EXPRESS" => Some(MachineType::Express),
            _ => None,
        }
    }
}

/// A state machine as CreateStateMachine/UpdateStateMachine leave it (its `$LATEST` revision).
#[derive(Debug, Clone, PartialEq)]
pub struct StateMachineRecord {
    pub arn: String,
    pub name: String,
    pub machine_type: MachineType,
    /// The definition text exactly as given (DescribeStateMachine returns it unchanged).
    pub definition: String,
    pub role_arn: String,
    pub description: Option<String>,
    /// `loggingConfiguration`, `tracingConfiguration`, `encryptionConfiguration` as given
    /// (JSON text), echoed by DescribeStateMachine.
    pub logging_configuration: Option<String>,
    pub tracing_configuration: Option<String>,
    pub encryption_configuration: Option<String>,
    pub creation_date: DateTime<Utc>,
    /// Changes with every update (a UUID); versions record the revision they were published
    /// from.
    pub revision_id: String,
    /// The number the next published version gets (versions count from 1 and are never
    /// reused, even after a version is deleted).
    pub next_version: u64,
}

/// A published, immutable version (`<state machine ARN>:<n>`).
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    pub arn: String,
    pub state_machine_arn: String,
    pub version: u64,
    pub definition: String,
    pub role_arn: String,
    pub description: Option<String>,
    pub logging_configuration: Option<String>,
    pub tracing_configuration: Option<String>,
    pub encryption_configuration: Option<String>,
    pub revision_id: String,
    pub creation_date: DateTime<Utc>,
}

/// An alias (`<state machine ARN>:<alias name>`) routing to one or two versions by weight.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasRecord {
    pub arn: String,
    pub state_machine_arn: String,
    pub name: String,
    pub description: Option<String>,
    /// `(version ARN, weight)`, weights summing to 100.
    pub routing: Vec<(String, u32)>,
    pub creation_date: DateTime<Utc>,
    pub update_date: Option<DateTime<Utc>>,
}

/// An execution's status as DescribeExecution reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
    PendingRedrive,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
            ExecutionStatus::PendingRedrive => "PENDING_REDRIVE",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "RUNNING" => ExecutionStatus::Running,
            "SUCCEEDED" => ExecutionStatus::Succeeded,
            "FAILED" => ExecutionStatus::Failed,
            "TIMED_OUT" => ExecutionStatus::TimedOut,
            "ABORTED" => ExecutionStatus::Aborted,
            "PENDING_REDRIVE" => ExecutionStatus::PendingRedrive,
            _ => return None,
        })
    }
}

/// One execution: a Standard execution, an asynchronous Express one (kept while it runs and
/// for its description; it has no history), or a Map Run's child.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRecord {
    pub arn: String,
    pub name: String,
    /// The state machine's unqualified ARN (a Map Run child: the labelled
    /// `…:stateMachine:<name>/<label>`).
    pub state_machine_arn: String,
    /// Set when the execution was started through a version or an alias.
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
    pub machine_type: MachineType,
    pub status: ExecutionStatus,
    /// The input text as given (JSON).
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub start_date: DateTime<Utc>,
    pub stop_date: Option<DateTime<Utc>>,
    /// SHA-256 (hex) of the definition it runs, kept in the definitions table
    /// (DescribeStateMachineForExecution, and recovery after a crash).
    pub definition_hash: String,
    pub role_arn: String,
    pub trace_header: Option<String>,
    /// The Map Run that started it (children only), and the items it carried.
    pub map_run_arn: Option<String>,
    pub item_count: Option<u64>,
    pub redrive_count: u64,
    pub redrive_date: Option<DateTime<Utc>>,
    /// The mocked test case it runs with (`stateMachineArn#TestCase` with `--mock-config`), so
    /// that a restarted server resumes it with its mocks.
    pub mock_test_case: Option<String>,
}

/// One history event as AWS's GetExecutionHistory returns it, plus the engine's journal key.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub execution_arn: String,
    pub id: u64,
    pub previous_event_id: u64,
    pub timestamp: DateTime<Utc>,
    /// AWS's event type (`TaskStateEntered`).
    pub event_type: String,
    /// The event's details object as JSON text (the members of `<type>EventDetails`), or `None`
    /// for events without details.
    pub details: Option<String>,
    /// The engine's stable key of the step that wrote it (see `shared::asl::history`), by
    /// which replay after a crash finds it; `None` for events written outside the engine.
    pub key: Option<String>,
}

/// Item or child-execution counts of a Map Run (DescribeMapRun's `itemCounts` and
/// `executionCounts`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MapRunCounts {
    pub pending: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub aborted: u64,
    pub total: u64,
    pub results_written: u64,
}

/// A Map Run as DescribeMapRun reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct MapRunRecord {
    pub arn: String,
    pub execution_arn: String,
    /// The labelled child state machine ARN (`…:stateMachine:<name>/<label>`).
    pub state_machine_arn: String,
    /// `RUNNING`, `SUCCEEDED`, `FAILED` or `ABORTED`.
    pub status: String,
    pub start_date: DateTime<Utc>,
    pub stop_date: Option<DateTime<Utc>>,
    pub max_concurrency: u64,
    pub tolerated_failure_percentage: f64,
    pub tolerated_failure_count: u64,
    pub item_counts: MapRunCounts,
    pub execution_counts: MapRunCounts,
    pub redrive_count: u64,
    /// When it was last redriven (DescribeMapRun's `redriveDate`).
    pub redrive_date: Option<DateTime<Utc>>,
}

/// An activity (CreateActivity): a name that workers poll and Task states name by ARN.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRecord {
    pub arn: String,
    pub name: String,
    pub creation_date: DateTime<Utc>,
    /// `encryptionConfiguration` as given (JSON text), echoed by DescribeActivity.
    pub encryption_configuration: Option<String>,
}

/// One change. Units of writes are applied in order; see the module's documentation.
///
/// Updates and deletes of something that does not exist change nothing (the API checks
/// existence first; an update racing a delete is then the update ordered before it). A write
/// that needs something missing (a version of a deleted state machine, events of an unknown
/// execution) fails its unit with [`StoreError::Database`].
#[derive(Debug, Clone)]
pub enum Write {
    /// Keeps a definition text under its SHA-256 (hex); a no-op when present.
    PutDefinition {
        hash: String,
        text: String,
    },
    /// Creates a state machine; [`StoreError::Conflict`] if its ARN exists.
    CreateStateMachine(StateMachineRecord),
    /// Replaces a state machine's `$LATEST` revision (same ARN).
    UpdateStateMachine(StateMachineRecord),
    /// Deletes a state machine, its versions, aliases and tags (executions stay).
    DeleteStateMachine {
        arn: String,
    },
    /// Creates a version; [`StoreError::Conflict`] if its ARN, or its number for the state
    /// machine, exists.
    CreateVersion(VersionRecord),
    DeleteVersion {
        arn: String,
    },
    /// Creates an alias; [`StoreError::Conflict`] if its ARN exists.
    CreateAlias(AliasRecord),
    UpdateAlias(AliasRecord),
    DeleteAlias {
        arn: String,
    },
    /// Adds or replaces tags of a resource.
    Tag {
        resource_arn: String,
        tags: Vec<(String, String)>,
    },
    Untag {
        resource_arn: String,
        keys: Vec<String>,
    },
    /// Creates an execution; [`StoreError::Conflict`] if its ARN exists. Its definition must
    /// be stored already (a `PutDefinition` earlier in the same unit will do): recovery needs
    /// it.
    CreateExecution(ExecutionRecord),
    /// Records how an execution ended (or a change of status, such as a redrive).
    UpdateExecution {
        arn: String,
        status: ExecutionStatus,
        output: Option<String>,
        error: Option<String>,
        cause: Option<String>,
        stop_date: Option<DateTime<Utc>>,
    },
    /// Appends history events (ids are assigned by the engine; an `(execution, id)` pair that
    /// exists is a conflict). The execution must exist.
    AppendEvents(Vec<EventRecord>),
    /// Creates or replaces a Map Run. Its parent execution must exist.
    PutMapRun(MapRunRecord),
    /// Records outcomes of a Map Run's children run in this process (their wire form).
    AppendOutcomes {
        map_run_id: String,
        body: Vec<u8>,
    },
    /// Forgets a Map Run's outcomes (it ended and its result is recorded).
    DropOutcomes {
        map_run_id: String,
    },
    /// Creates an activity; [`StoreError::Conflict`] if its ARN exists.
    CreateActivity(ActivityRecord),
    /// Deletes an activity and its tags.
    DeleteActivity {
        arn: String,
    },
    /// RedriveExecution: the execution runs again (`RUNNING`, no stop date, output, error or
    /// cause), its `redriveCount` one more and its `redriveDate` this one.
    Redrive {
        arn: String,
        date: DateTime<Utc>,
    },
    /// A child of a redriven Map Run as it ended: a child that had not succeeded is redriven
    /// (its end replaces the one it had, its `redriveCount` grows by one and its `redriveDate`
    /// is the record's: AWS redrives the same child execution); one that never ran is created;
    /// one that had succeeded is left as it was (its outcome was replayed, it did not run).
    RedriveChild(ExecutionRecord),
    /// Keeps a server secret under `name` unless one is kept already (the first one stays).
    PutSecret {
        name: String,
        value: Vec<u8>,
    },
    /// Records the accepted callback of a task token (SendTaskSuccess/Failure), unless one is
    /// recorded already.
    PutCallbackOutcome {
        token: String,
        execution_arn: String,
        outcome: String,
    },
    /// Forgets the callbacks of an execution that ended.
    DropCallbackOutcomes {
        execution_arn: String,
    },
}

/// A page of a listing. `after` is the sort key of the last row of the previous page (taken
/// from a `nextToken` by the API: the [`Page::next`] of that page, opaque text); `limit` is
/// AWS's `maxResults`: 0 means the default of 100, and more than 1,000 is taken as 1,000.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub after: Option<String>,
    pub limit: usize,
}

/// A page of rows, and the sort key to continue after when more rows exist.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// ListExecutions' filters.
#[derive(Debug, Clone, Default)]
pub struct ExecutionFilter {
    /// Executions of this state machine (any version or alias), or of this version or alias
    /// when the ARN is qualified.
    pub state_machine_arn: Option<String>,
    /// Children of this Map Run.
    pub map_run_arn: Option<String>,
    pub status: Option<ExecutionStatus>,
    /// `Some(true)`: only redriven executions; `Some(false)`: only never redriven.
    pub redriven: Option<bool>,
}

/// Resolves when a unit is durable (or failed).
pub type Commit = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>;

/// The store. Reads see only committed data; listings are ordered as AWS orders them
/// (executions and Map Runs newest first, state machines and aliases by name, versions newest
/// first, events by id).
pub trait Store: Send + Sync + 'static {
    /// Queues a unit; the future resolves once it is durable (or failed). Reads made after
    /// that see it.
    fn commit(&self, unit: Vec<Write>) -> Commit;
    /// Queues a unit without waiting for it; it is applied after every unit queued before it.
    /// A failure is logged (a conflict cannot happen for events the engine numbers itself).
    fn submit(&self, unit: Vec<Write>);

    fn definition(&self, hash: &str) -> Result<Option<String>, StoreError>;
    fn state_machine(&self, arn: &str) -> Result<Option<StateMachineRecord>, StoreError>;
    fn list_state_machines(&self, page: &PageRequest) -> Result<Page<StateMachineRecord>, StoreError>;
    fn version(&self, arn: &str) -> Result<Option<VersionRecord>, StoreError>;
    fn list_versions(&self, state_machine_arn: &str, page: &PageRequest) -> Result<Page<VersionRecord>, StoreError>;
    fn alias(&self, arn: &str) -> Result<Option<AliasRecord>, StoreError>;
    fn list_aliases(&self, state_machine_arn: &str, page: &PageRequest) -> Result<Page<AliasRecord>, StoreError>;
    /// Tags in the order they were first added.
    fn tags(&self, resource_arn: &str) -> Result<Vec<(String, String)>, StoreError>;

    fn execution(&self, arn: &str) -> Result<Option<ExecutionRecord>, StoreError>;
    fn list_executions(
        &self,
        filter: &ExecutionFilter,
        page: &PageRequest,
    ) -> Result<Page<ExecutionRecord>, StoreError>;
    /// Every execution still `RUNNING`, oldest first: what a restarted server resumes.
    fn running_executions(&self) -> Result<Vec<ExecutionRecord>, StoreError>;
    /// At most `limit` events of an execution: when not `reverse`, ascending by id, with ids
    /// greater than `from` (all from the first when `None`); when `reverse`, descending, with
    /// ids less than `from` (from the last when `None`). `from` is exclusive both ways: pass
    /// the id of the last event of the previous page. An unknown execution has no events.
    fn events(
        &self,
        execution_arn: &str,
        from: Option<u64>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<EventRecord>, StoreError>;

    fn map_run(&self, arn: &str) -> Result<Option<MapRunRecord>, StoreError>;
    fn list_map_runs(&self, execution_arn: &str, page: &PageRequest) -> Result<Page<MapRunRecord>, StoreError>;
    /// The outcome bodies of a Map Run's children run in this process, in recorded order.
    fn outcomes(&self, map_run_id: &str) -> Result<Vec<Vec<u8>>, StoreError>;

    fn activity(&self, arn: &str) -> Result<Option<ActivityRecord>, StoreError>;
    /// Activities by name.
    fn list_activities(&self, page: &PageRequest) -> Result<Page<ActivityRecord>, StoreError>;
    /// How many activities exist (AWS's quota of registered activities).
    fn activity_count(&self) -> Result<u64, StoreError>;
    /// The Map Runs whose recorded outcomes belong to an execution that ended before
    /// `stopped_before` (past its redrive window: nothing will read them again).
    fn expired_outcomes(&self, stopped_before: DateTime<Utc>) -> Result<Vec<String>, StoreError>;
    /// A secret kept with [`Write::PutSecret`].
    fn secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// The callback recorded for a task token ([`Write::PutCallbackOutcome`]).
    fn callback_outcome(&self, token: &str) -> Result<Option<String>, StoreError>;
}
