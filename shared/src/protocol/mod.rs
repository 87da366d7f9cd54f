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

/// One child execution to run. On the wire, a message holds an array of them, written by
/// [`write_batches`] and read by [`read_batches`]: `input` goes as the JSON it is, not as a
/// string, so it is neither escaped nor unescaped on the way.
#[derive(Debug, Clone)]
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

/// A batch on the wire, borrowing the message body.
#[derive(Deserialize)]
struct WireBatch<'a, C> {
    v: u32,
    #[serde(borrow)]
    map_run_id: std::borrow::Cow<'a, str>,
    batch: u64,
    attempt: u32,
    #[serde(borrow)]
    definition: std::borrow::Cow<'a, str>,
    first_item: u64,
    item_count: u64,
    child: C,
    #[serde(borrow)]
    input: &'a RawValue,
}

/// Writes batches as a JSON array. Each input must be JSON text (the batcher builds it from
/// JSON items); it is copied as it is.
pub fn write_batches(batches: &[Batch], out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, b) in batches.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        #[derive(Serialize)]
        struct Head<'a> {
            v: u32,
            map_run_id: &'a str,
            batch: u64,
            attempt: u32,
            definition: &'a str,
            first_item: u64,
            item_count: u64,
            child: &'a ChildIdentity,
        }
        let head = Head {
            v: b.v,
            map_run_id: &b.map_run_id,
            batch: b.batch,
            attempt: b.attempt,
            definition: &b.definition,
            first_item: b.first_item,
            item_count: b.item_count,
            child: &b.child,
        };
        // Serialising plain fields into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, &head);
        out.pop(); // the closing brace
        out.extend_from_slice(b",\"input\":");
        out.extend_from_slice(b.input.as_bytes());
        out.push(b'}');
    }
    out.push(b']');
}

/// Reads what [`write_batches`] wrote.
pub fn read_batches(body: &[u8]) -> Result<Vec<Batch>, serde_json::Error> {
    let wire: Vec<WireBatch<'_, ChildIdentity>> = serde_json::from_slice(body)?;
    Ok(wire
        .into_iter()
        .map(|w| Batch {
            v: w.v,
            map_run_id: w.map_run_id.into_owned(),
            batch: w.batch,
            attempt: w.attempt,
            definition: w.definition.into_owned(),
            first_item: w.first_item,
            item_count: w.item_count,
            child: w.child,
            input: Arc::from(w.input.get()),
        })
        .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_round_trip_with_inputs_as_raw_json() {
        let child = ChildIdentity {
            name: "c\"1".into(),
            state_machine_name: "sm/Map".into(),
            region: "us-east-1".into(),
            account: "1".into(),
            role_arn: "arn".into(),
        };
        let batch = |n: u64, input: &str| Batch {
            v: VERSION,
            map_run_id: "run-1".into(),
            batch: n,
            attempt: 1,
            definition: "abc".into(),
            first_item: n * 2,
            item_count: 2,
            child: child.clone(),
            input: Arc::from(input),
        };
        let sent = [batch(0, r#"{"Items":[{"a":"x\"y"},2]}"#), batch(1, r#""just a string""#)];
        let mut out = Vec::new();
        write_batches(&sent, &mut out);
        let text = String::from_utf8(out.clone()).expect("utf-8");
        // The input is embedded as JSON, not as an escaped string.
        assert!(text.contains(r#","input":{"Items":[{"a":"x\"y"},2]}}"#), "{text}");
        let got = read_batches(&out).expect("reads");
        assert_eq!(got.len(), 2);
        assert_eq!(&*got[0].input, r#"{"Items":[{"a":"x\"y"},2]}"#);
        assert_eq!(&*got[1].input, r#""just a string""#);
        assert_eq!((got[1].batch, got[1].first_item, got[1].item_count), (1, 2, 2));
        assert_eq!(got[0].child, child);
        assert_eq!(got[0].map_run_id, "run-1");
    }
}
