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

/// A child definition as workers receive it, stored once per content hash (NATS: in the
/// definitions bucket) and cached by workers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DefinitionRecord {
    pub v: u32,
    /// The ItemProcessor as written (its ProcessorConfig is ignored by workers).
    pub definition: serde_json::Value,
    /// AWS's 256 KiB limits, or `None` when lifted (`--no-payload-limits`).
    pub max_payload_bytes: Option<usize>,
}

impl DefinitionRecord {
    /// SHA-256 (hex) of the record's compact JSON: the key workers look it up by.
    pub fn content_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let text = serde_json::to_string(self).unwrap_or_default();
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// Names on NATS JetStream: streams, subjects, consumers and buckets. Every process that
/// touches JetStream takes them from here.
pub mod nats {
    /// Work-queue stream of batch messages (each a JSON array of [`super::Batch`]).
    pub const BATCH_STREAM: &str = "DMAP_BATCHES";
    /// Children that never suspend (CPU-bound): workers take as many as they have cores for.
    pub const BATCH_SUBJECT_CPU: &str = "dmap.batches.cpu";
    /// Children that wait or call out: workers hold many at once.
    pub const BATCH_SUBJECT_IO: &str = "dmap.batches.io";
    /// The shared durable pull consumers (one per subject; a work-queue stream allows no overlap).
    pub const CONSUMER_CPU: &str = "dmap-workers-cpu";
    pub const CONSUMER_IO: &str = "dmap-workers-io";
    /// Stream of outcome messages (each a JSON array of [`super::Outcome`]), one subject per Map Run.
    pub const OUTCOME_STREAM: &str = "DMAP_OUTCOMES";
    /// Child definitions by content hash ([`super::DefinitionRecord`]).
    pub const DEFINITIONS_BUCKET: &str = "dmap-definitions";
    /// Map Run checkpoints, one key per Map Run id.
    pub const RUNS_BUCKET: &str = "dmap-runs";
    /// Header naming the Map Run of a batch message (read without parsing the body).
    pub const RUN_HEADER: &str = "Dmap-Map-Run";

    pub fn outcome_subject(map_run_id: &str) -> String {
        format!("dmap.outcomes.{map_run_id}")
    }

    /// The de-duplication id of a batch message carrying batches `first..first+count`.
    pub fn batch_msg_id(map_run_id: &str, first: u64, count: usize) -> String {
        format!("{map_run_id}:b{first}+{count}")
    }

    /// The de-duplication id of the outcome message answering batches `first..first+count`.
    pub fn outcome_msg_id(map_run_id: &str, first: u64, count: usize) -> String {
        format!("{map_run_id}:o{first}+{count}")
    }

    /// Whether a Map Run id can name NATS subjects and keys: `[A-Za-z0-9_-]`, 1 to 80 characters.
    pub fn valid_map_run_id(id: &str) -> bool {
        !id.is_empty() && id.len() <= 80 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }
}
