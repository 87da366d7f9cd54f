//! The coordinator ↔ worker wire protocol: versioned messages, separate from the ASL model.
//!
//! A Map Run sends [`Batch`]es (one child execution each) and receives [`Outcome`]s. The
//! same types cross the in-process transport and, from the NATS issue on, JetStream. A batch is
//! identified by (map run, batch index); redelivery is expected, so a handler is idempotent
//! per (map run, batch, attempt) and the coordinator de-duplicates outcomes by (map run, batch).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The version of these messages; a receiver refuses versions it does not know.
pub const VERSION: u32 = 1;

/// Names and ARNs a child execution reports through `$$`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildIdentity {
    /// The child's execution name (a UUID-formatted string).
    pub name: String,
    /// `<parent state machine>/<label>`.
    pub state_machine_name: String,
    pub region: String,
    pub account: String,
    pub role_arn: String,
}

/// One child execution to run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Batch {
    pub v: u32,
    pub map_run_id: String,
    /// Index of this batch (child) within the Map Run, from 0.
    pub batch: u64,
    /// Delivery attempt, from 1.
    pub attempt: u32,
    /// Content hash of the child state machine (the ItemProcessor definition).
    pub definition: String,
    /// Index of the batch's first item in the dataset.
    pub first_item: u64,
    /// Items carried (1 unless batched).
    pub item_count: u64,
    pub child: ChildIdentity,
    /// The child execution's input as JSON text: the item after ItemSelector, or
    /// `{"Items": [...], "BatchInput": {...}}` when batched. Shared, not copied: the Map Run
    /// keeps it for the child's result record while the child runs.
    pub input: Arc<str>,
}

/// How a child execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutcomeStatus {
    Succeeded,
    Failed,
    TimedOut,
}

/// The result of one [`Batch`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    pub v: u32,
    pub map_run_id: String,
    pub batch: u64,
    pub attempt: u32,
    pub status: OutcomeStatus,
    /// The child's output (when it succeeded).
    pub output: Option<Box<RawValue>>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// Start and stop of the child execution, in milliseconds since the Unix epoch.
    pub start_millis: i64,
    pub stop_millis: i64,
}
