//! The coordinator ↔ worker wire protocol: versioned messages, separate from the ASL model.
//!
//! A Map Run sends [`Batch`]es (one child execution each) and receives [`Outcome`]s. The
//! same types cross the in-process transport and, from the NATS issue on, JetStream. A batch is
//! identified by (map run, batch index); redelivery is expected, so a handler is idempotent
//! per (map run, batch, attempt) and the coordinator de-duplicates outcomes by (map run, batch).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

mod capabilities;
mod tokens;
pub use capabilities::{ANY, Advert, Needs};
pub use tokens::{BadField, check_definition, check_map_run_id, check_nonce, valid_definition_hash};

/// The version of these messages; a receiver refuses versions it does not know. Version 2 added
/// the per-attempt `nonce` that an outcome echoes.
pub const VERSION: u32 = 2;

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
    /// What the batch's outcome must echo: 32 hex digits (128 bits) the coordinator derives from
    /// a secret of the Map Run, so that nobody who only can publish on the outcome subject can
    /// answer for a batch. Empty on the in-process transport.
    pub nonce: String,
    /// The child execution's input as JSON text: the item after ItemSelector, or
    /// `{"Items": [...], "BatchInput": {...}}` when batched. Shared, not copied: the Map Run
    /// keeps it for the child's result record while the child runs.
    pub input: Arc<str>,
}

/// The fields of a [`Batch`] besides its input, as they go on the wire.
#[derive(Serialize, Deserialize)]
struct BatchHead<'a> {
    v: u32,
    #[serde(borrow)]
    map_run_id: Cow<'a, str>,
    batch: u64,
    attempt: u32,
    #[serde(borrow)]
    definition: Cow<'a, str>,
    first_item: u64,
    item_count: u64,
    child: Cow<'a, ChildIdentity>,
    #[serde(borrow)]
    nonce: Cow<'a, str>,
    input_bytes: usize,
}

/// Writes batches for the wire: a JSON array of their other fields, a newline, then the
/// inputs' bytes one after the other (each head says how many are its own). Inputs are
/// neither escaped on the way out nor parsed on the way in: the worker parses each once, to
/// run it.
pub fn write_batches(batches: &[Batch], out: &mut Vec<u8>) {
    let heads: Vec<BatchHead<'_>> = batches
        .iter()
        .map(|b| BatchHead {
            v: b.v,
            map_run_id: Cow::Borrowed(&b.map_run_id),
            batch: b.batch,
            attempt: b.attempt,
            definition: Cow::Borrowed(&b.definition),
            first_item: b.first_item,
            item_count: b.item_count,
            child: Cow::Borrowed(&b.child),
            nonce: Cow::Borrowed(&b.nonce),
            input_bytes: b.input.len(),
        })
        .collect();
    // Serialising plain fields into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &heads);
    out.push(b'\n');
    for b in batches {
        out.extend_from_slice(b.input.as_bytes());
    }
}

/// Reads what [`write_batches`] wrote, and checks every field that becomes a subject token, a KV
/// key or a message id (see [`tokens`]).
pub fn read_batches(body: &[u8]) -> Result<Vec<Batch>, WireError> {
    let (heads, mut rest): (Vec<BatchHead<'_>>, &[u8]) = unframe(body)?;
    let mut batches = Vec::with_capacity(heads.len());
    for h in heads {
        check_map_run_id(&h.map_run_id)?;
        check_definition(&h.definition)?;
        check_nonce(&h.nonce)?;
        let input = take_text(&mut rest, h.input_bytes)?;
        batches.push(Batch {
            v: h.v,
            map_run_id: h.map_run_id.into_owned(),
            batch: h.batch,
            attempt: h.attempt,
            definition: h.definition.into_owned(),
            first_item: h.first_item,
            item_count: h.item_count,
            child: h.child.into_owned(),
            nonce: h.nonce.into_owned(),
            input: Arc::from(input),
        });
    }
    Ok(batches)
}

/// What every version of a batch message holds, whatever else it holds: a JSON array of heads,
/// then a newline, each head naming at least its version, Map Run, batch index and nonce. A
/// worker that cannot read a batch (another version, a field it refuses) reads this much to
/// answer it — or, if even this fails, knows that nobody can be answered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Envelope {
    pub v: u32,
    pub map_run_id: String,
    pub batch: u64,
    #[serde(default)]
    pub item_count: u64,
    #[serde(default)]
    pub nonce: String,
}

impl Envelope {
    /// Whether an outcome can be sent for it: its Map Run id names a subject, and its nonce is
    /// one or absent (version 1 had none; its coordinators take an outcome without one, later
    /// ones drop it).
    pub fn answerable(&self) -> bool {
        tokens::valid_map_run_id(&self.map_run_id) && (self.nonce.is_empty() || tokens::valid_nonce(&self.nonce))
    }
}

/// Reads the [`Envelope`]s of a batch message of any version.
pub fn read_envelopes(body: &[u8]) -> Result<Vec<Envelope>, WireError> {
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<Vec<Envelope>>();
    Ok(stream.next().ok_or(WireError::Body)??)
}

/// A wire message that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("unreadable message head: {0}")]
    Head(#[from] serde_json::Error),
    #[error("message ends early or holds a body that is not UTF-8")]
    Body,
    #[error("{0}")]
    Field(#[from] BadField),
}

/// Splits a message into its JSON array of heads and the bytes after the newline.
fn unframe<'a, H: Deserialize<'a>>(body: &'a [u8]) -> Result<(Vec<H>, &'a [u8]), WireError> {
    let mut stream = serde_json::Deserializer::from_slice(body).into_iter::<Vec<H>>();
    let heads = stream.next().ok_or(WireError::Body)??;
    let rest = &body[stream.byte_offset()..];
    let rest = rest.strip_prefix(b"\n").ok_or(WireError::Body)?;
    Ok((heads, rest))
}

fn take_text<'a>(rest: &mut &'a [u8], n: usize) -> Result<&'a str, WireError> {
    if rest.len() < n {
        return Err(WireError::Body);
    }
    let (text, tail) = rest.split_at(n);
    *rest = tail;
    std::str::from_utf8(text).map_err(|_| WireError::Body)
}

/// How a child execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutcomeStatus {
    Succeeded,
    Failed,
    TimedOut,
}

/// The result of one [`Batch`]. On the wire: [`write_outcomes`], [`read_outcomes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub v: u32,
    pub map_run_id: String,
    pub batch: u64,
    pub attempt: u32,
    /// The nonce of the batch this answers ([`Batch::nonce`]).
    pub nonce: String,
    pub status: OutcomeStatus,
    /// The child's output as JSON text (when it succeeded).
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// Start and stop of the child execution, in milliseconds since the Unix epoch.
    pub start_millis: i64,
    pub stop_millis: i64,
}

impl Outcome {
    /// A FAILED outcome decided without running the child (or after it stopped abnormally):
    /// no output, `error` and `cause` as given, started and stopped at `now_millis`.
    pub fn failed(
        map_run_id: String,
        batch: u64,
        attempt: u32,
        error: impl Into<String>,
        cause: impl Into<String>,
        now_millis: i64,
    ) -> Outcome {
        Outcome {
            v: VERSION,
            map_run_id,
            batch,
            attempt,
            nonce: String::new(),
            status: OutcomeStatus::Failed,
            output: None,
            error: Some(error.into()),
            cause: Some(cause.into()),
            start_millis: now_millis,
            stop_millis: now_millis,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct OutcomeHead<'a> {
    v: u32,
    #[serde(borrow)]
    map_run_id: Cow<'a, str>,
    batch: u64,
    attempt: u32,
    #[serde(default, borrow)]
    nonce: Cow<'a, str>,
    status: OutcomeStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    output_bytes: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    error: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    cause: Option<Cow<'a, str>>,
    start_millis: i64,
    stop_millis: i64,
}

/// Writes outcomes for the wire as [`write_batches`] writes batches: heads, a newline, then
/// the outputs' bytes.
pub fn write_outcomes(outcomes: &[Outcome], out: &mut Vec<u8>) {
    let heads: Vec<OutcomeHead<'_>> = outcomes
        .iter()
        .map(|o| OutcomeHead {
            v: o.v,
            map_run_id: Cow::Borrowed(&o.map_run_id),
            batch: o.batch,
            attempt: o.attempt,
            nonce: Cow::Borrowed(&o.nonce),
            status: o.status,
            output_bytes: o.output.as_ref().map(String::len),
            error: o.error.as_deref().map(Cow::Borrowed),
            cause: o.cause.as_deref().map(Cow::Borrowed),
            start_millis: o.start_millis,
            stop_millis: o.stop_millis,
        })
        .collect();
    let _ = serde_json::to_writer(&mut *out, &heads);
    out.push(b'\n');
    for o in outcomes {
        if let Some(text) = &o.output {
            out.extend_from_slice(text.as_bytes());
        }
    }
}

/// Reads what [`write_outcomes`] wrote.
pub fn read_outcomes(body: &[u8]) -> Result<Vec<Outcome>, WireError> {
    let (heads, mut rest): (Vec<OutcomeHead<'_>>, &[u8]) = unframe(body)?;
    let mut outcomes = Vec::with_capacity(heads.len());
    for h in heads {
        let output = match h.output_bytes {
            Some(n) => Some(take_text(&mut rest, n)?.to_string()),
            None => None,
        };
        outcomes.push(Outcome {
            v: h.v,
            map_run_id: h.map_run_id.into_owned(),
            batch: h.batch,
            attempt: h.attempt,
            nonce: h.nonce.into_owned(),
            status: h.status,
            output,
            error: h.error.map(Cow::into_owned),
            cause: h.cause.map(Cow::into_owned),
            start_millis: h.start_millis,
            stop_millis: h.stop_millis,
        });
    }
    Ok(outcomes)
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
        let text = serde_json::to_string(self).unwrap_or_default();
        Self::hash_of(text.as_bytes())
    }

    /// SHA-256 (hex) of a record as stored: a worker checks that it equals the key it read.
    pub fn hash_of(stored: &[u8]) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(stored))
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
    /// The outcome stream's subjects: every [`outcome_subject`].
    pub const OUTCOME_SUBJECTS: &str = "dmap.outcomes.>";
    /// Child definitions by content hash ([`super::DefinitionRecord`]).
    pub const DEFINITIONS_BUCKET: &str = "dmap-definitions";
    /// Map Run checkpoints, one key per Map Run id.
    pub const RUNS_BUCKET: &str = "dmap-runs";
    /// Children that call functions or connections: one subject per [`super::Needs::token`]
    /// ([`capability_subject`]), pulled by the workers that serve all of it.
    pub const BATCH_SUBJECTS_CAPABILITY: &str = "dmap.batches.fn.*";
    /// What each capability token stands for ([`super::Needs`] as JSON, key = the token),
    /// written by coordinators, watched by workers.
    pub const CAPABILITIES_BUCKET: &str = "dmap-capabilities";
    /// Live workers and what they serve ([`super::Advert`], key = worker id); entries expire.
    pub const WORKERS_BUCKET: &str = "dmap-workers";
    /// Header naming the Map Run of a batch message (read without parsing the body).
    pub const RUN_HEADER: &str = "Dmap-Map-Run";

    /// The subject of one Map Run's outcome messages (within [`OUTCOME_SUBJECTS`]).
    pub fn outcome_subject(map_run_id: &str) -> String {
        format!("dmap.outcomes.{map_run_id}")
    }

    /// The batch subject of children needing what `token` stands for.
    pub fn capability_subject(token: &str) -> String {
        format!("dmap.batches.fn.{token}")
    }

    /// The shared durable pull consumer of [`capability_subject`] (`dmap-workers-<token>`).
    pub fn capability_consumer(token: &str) -> String {
        format!("dmap-workers-{token}")
    }

    /// The runs-bucket key counting the runs of a redelivered batch.
    pub fn run_starts_key(map_run_id: &str, batch: u64) -> String {
        format!("{map_run_id}.starts.{batch}")
    }

    /// The de-duplication id of a batch message carrying batches `first..first+count`.
    pub fn batch_msg_id(map_run_id: &str, first: u64, count: usize) -> String {
        format!("{map_run_id}:b{first}+{count}")
    }

    /// The de-duplication id of the outcome message answering batches `first..first+count`.
    pub fn outcome_msg_id(map_run_id: &str, first: u64, count: usize) -> String {
        format!("{map_run_id}:o{first}+{count}")
    }

    pub use super::tokens::valid_map_run_id;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child() -> ChildIdentity {
        ChildIdentity {
            name: "c\"1".into(),
            state_machine_name: "sm/Map".into(),
            region: "us-east-1".into(),
            account: "1".into(),
            role_arn: "arn".into(),
        }
    }

    fn batch(n: u64, input: &str) -> Batch {
        Batch {
            v: VERSION,
            map_run_id: "run-1".into(),
            batch: n,
            attempt: 1,
            definition: "ab".repeat(32),
            first_item: n * 2,
            item_count: 2,
            child: child(),
            nonce: "0123456789abcdef".repeat(2),
            input: Arc::from(input),
        }
    }

    #[test]
    fn batches_round_trip_with_inputs_as_they_are() {
        let sent = [batch(0, r#"{"Items":[{"a":"x\"y é"},2]}"#), batch(1, r#""just a string""#), batch(2, "")];
        let mut out = Vec::new();
        write_batches(&sent, &mut out);
        let text = String::from_utf8(out.clone()).expect("utf-8");
        // Heads, a newline, then the inputs verbatim.
        assert!(text.ends_with("\n{\"Items\":[{\"a\":\"x\\\"y é\"},2]}\"just a string\""), "{text}");
        let got = read_batches(&out).expect("reads");
        assert_eq!(got.len(), 3);
        assert_eq!(&*got[0].input, r#"{"Items":[{"a":"x\"y é"},2]}"#);
        assert_eq!(&*got[1].input, r#""just a string""#);
        assert_eq!(&*got[2].input, "");
        assert_eq!((got[1].batch, got[1].first_item, got[1].item_count), (1, 2, 2));
        assert_eq!(got[0].child, child());
        assert_eq!(got[0].map_run_id, "run-1");
    }

    #[test]
    fn outcomes_round_trip_with_and_without_output() {
        let ok = Outcome {
            v: VERSION,
            map_run_id: "run-1".into(),
            batch: 3,
            attempt: 2,
            nonce: "f".repeat(32),
            status: OutcomeStatus::Succeeded,
            output: Some(r#"{"n":[1,"two"]}"#.into()),
            error: None,
            cause: None,
            start_millis: 10,
            stop_millis: 20,
        };
        let failed = Outcome {
            batch: 4,
            status: OutcomeStatus::Failed,
            output: None,
            error: Some("States.Runtime".into()),
            cause: Some("it \"broke\"\n".into()),
            ..ok.clone()
        };
        let mut out = Vec::new();
        write_outcomes(&[ok.clone(), failed.clone()], &mut out);
        assert_eq!(read_outcomes(&out).expect("reads"), vec![ok, failed]);
    }

    #[test]
    fn outcome_subjects_cover_every_outcome_subject() {
        let prefix = nats::OUTCOME_SUBJECTS.strip_suffix('>').expect("a trailing wildcard");
        assert_eq!(nats::outcome_subject("run-1"), format!("{prefix}run-1"));
        assert_eq!(nats::run_starts_key("run-1", 7), "run-1.starts.7");
    }

    #[test]
    fn truncated_or_garbled_messages_are_errors() {
        let mut out = Vec::new();
        write_batches(&[batch(0, r#"{"a":1}"#)], &mut out);
        assert!(matches!(read_batches(&out[..out.len() - 1]), Err(WireError::Body)));
        assert!(matches!(read_batches(b"[{\"v\":1}]\n"), Err(WireError::Head(_))));
        assert!(matches!(read_batches(b"[]"), Err(WireError::Body)));
        assert!(read_batches(b"[]\n").expect("an empty message").is_empty());
    }

    #[test]
    fn batches_whose_ids_cannot_name_a_subject_are_refused_at_decode() {
        for id in ["evil run", "", "x\r\nPUB dmap.outcomes.injected 5\r\nhello"] {
            let mut b = batch(0, "{}");
            b.map_run_id = id.into();
            let mut out = Vec::new();
            write_batches(&[batch(1, "{}"), b], &mut out);
            match read_batches(&out) {
                Err(WireError::Field(f)) => assert_eq!(f.field, "map_run_id"),
                other => panic!("{id:?}: {other:?}"),
            }
        }
        // Envelopes of any version say where to answer.
        let mut later = batch(5, "{}");
        later.v = VERSION + 1;
        let mut out = Vec::new();
        write_batches(&[later.clone()], &mut out);
        let e = read_envelopes(&out).expect("an envelope");
        assert_eq!((e[0].v, e[0].batch, e[0].nonce.as_str()), (VERSION + 1, 5, later.nonce.as_str()));
        assert!(e[0].answerable());
        let mut b = batch(0, "{}");
        b.definition = "../x y".into();
        let mut out = Vec::new();
        write_batches(&[b], &mut out);
        assert!(matches!(read_batches(&out), Err(WireError::Field(f)) if f.field == "definition"));
    }
}
