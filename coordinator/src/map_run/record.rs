//! A child execution's result as the Map Run records it: what the tracker counts, what the
//! ResultWriter writes (AWS's NONE record fields), and what shapes the state result.

use chrono::{DateTime, Utc};

/// How a child execution ended, or that it never started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChildStatus {
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
    /// Never started: the Map Run failed or was aborted first.
    Pending,
}

impl ChildStatus {
    /// The `Status` field of AWS's records.
    pub fn as_str(self) -> &'static str {
        match self {
            ChildStatus::Succeeded => "SUCCEEDED",
            ChildStatus::Failed => "FAILED",
            ChildStatus::TimedOut => "TIMED_OUT",
            ChildStatus::Aborted => "ABORTED",
            ChildStatus::Pending => "PENDING",
        }
    }
}

/// One child execution (one item, or one batch of items) with its result.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildRecord {
    pub status: ChildStatus,
    /// `arn:aws:states:<region>:<account>:execution:<stateMachine>/<label>:<name>`.
    pub execution_arn: String,
    /// The child execution's name (a UUID-formatted string).
    pub name: String,
    /// `arn:aws:states:<region>:<account>:stateMachine:<stateMachine>/<label>`.
    pub state_machine_arn: String,
    /// The child's input as compact JSON text (shared with the batch that carried it).
    pub input: std::sync::Arc<str>,
    /// The child's output as compact JSON text, when it succeeded.
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub start_date: Option<DateTime<Utc>>,
    pub stop_date: Option<DateTime<Utc>>,
    /// How many items of the dataset this child carried (1 unless batched).
    pub item_count: u64,
}
