//! Where child results go: exported by the ResultWriter as they arrive, or kept in memory
//! (in item order) to become the Map state's result.
//!
//! The in-memory result is bounded while it builds, not only once it is whole: each record adds
//! a lower bound of what it will add to the result's JSON, and once that passes AWS's 256 KiB
//! the result is certain to fail with `States.DataLimitExceeded`, so it fails then (the run
//! stops dispatching; what was not run is PENDING). Independently, what the records hold in
//! memory is capped at [`MEMORY_CEILING`], which also bounds it under `--no-payload-limits`.

use serde_json::Value;
use shared::asl::Failure;
use shared::asl::error_name::{DATA_LIMIT_EXCEEDED, RESULT_WRITER_FAILED};
use shared::asl::eval::map_run::ResolvedWriter;
use shared::asl::model::{OutputType, WriterConfig, WriterTransformation};

use super::record::{ChildRecord, ChildStatus};
use super::writer::{ResultWriter, WriterOptions, shape_results};
use crate::storage::Storage;

/// The most the in-memory result's records may hold, with or without `--no-payload-limits`;
/// beyond it a run must export its results with a ResultWriter.
pub const MEMORY_CEILING: usize = 64 << 20;

pub enum Sink {
    Export(Box<ResultWriter>),
    Memory(Memory),
}

/// The in-memory result while it builds.
pub struct Memory {
    records: Vec<(u64, ChildRecord)>,
    config: Option<WriterConfig>,
    /// The result's size cannot be less than this (JSON bytes): `[`, then each entry and the
    /// `,` or `]` after it.
    floor: usize,
    /// Roughly what the records hold in memory.
    held: usize,
    /// AWS's limit on the result; `None` under `--no-payload-limits`.
    limit: Option<usize>,
    /// The Map state, which AWS names when its result is too large.
    state: String,
    /// Set once a bound is passed; the records are then dropped.
    over: Option<Failure>,
}

impl Memory {
    fn new(config: Option<WriterConfig>, limit: Option<usize>, state: &str) -> Memory {
        Memory { records: Vec::new(), config, floor: 1, held: 0, limit, state: state.to_string(), over: None }
    }

    fn add(&mut self, batch: u64, record: ChildRecord) {
        if self.over.is_some() {
            return;
        }
        self.floor += floor(&record, self.config.as_ref());
        self.held += held(&record);
        if self.limit.is_some_and(|limit| self.floor > limit) {
            let cause = format!(
                "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                self.state
            );
            self.overflow(Failure::new(DATA_LIMIT_EXCEEDED, cause));
        } else if self.held > MEMORY_CEILING {
            let cause = format!(
                "The results of the Map state '{}' kept in memory exceed dmap's ceiling of {} MiB; export them with a ResultWriter.",
                self.state,
                MEMORY_CEILING >> 20
            );
            self.overflow(Failure::new(DATA_LIMIT_EXCEEDED, cause));
        } else {
            self.records.push((batch, record));
        }
    }

    fn overflow(&mut self, failure: Failure) {
        self.records = Vec::new();
        self.over = Some(failure);
    }
}

/// The fewest bytes `record` adds to the result's JSON (with its separator): a child's output
/// as it is (COMPACT), its elements (FLATTEN), or the NONE record that holds its input, name
/// and ARN.
fn floor(record: &ChildRecord, config: Option<&WriterConfig>) -> usize {
    let transformation = config.map_or(WriterTransformation::Compact, |c| c.transformation);
    match (record.status, &record.output, transformation) {
        (ChildStatus::Succeeded, Some(output), WriterTransformation::Compact) => output.len() + 1,
        (ChildStatus::Succeeded, Some(output), WriterTransformation::Flatten) => output.len().saturating_sub(2),
        _ => {
            let output = record.output.as_ref().map_or(0, String::len);
            record.input.len() + record.name.len() + record.execution_arn.len() + output + 1
        }
    }
}

/// What `record` holds in memory, roughly: its texts and a fixed overhead.
fn held(r: &ChildRecord) -> usize {
    let texts = [
        Some(&r.execution_arn),
        Some(&r.name),
        Some(&r.state_machine_arn),
        r.output.as_ref(),
        r.error.as_ref(),
        r.cause.as_ref(),
    ];
    r.input.len() + texts.iter().flatten().map(|t| t.len()).sum::<usize>() + std::mem::size_of::<(u64, ChildRecord)>()
}

impl Sink {
    pub async fn new(
        writer: Option<&ResolvedWriter>,
        storage: &Storage,
        map_run_id: &str,
        map_run_arn: &str,
        rollover_bytes: u64,
        memory: (Option<usize>, &str),
    ) -> Result<Sink, Failure> {
        let (limit, state) = memory;
        let Some(w) = writer else { return Ok(Sink::Memory(Memory::new(None, limit, state))) };
        let Some(export) = &w.export else { return Ok(Sink::Memory(Memory::new(w.config.clone(), limit, state))) };
        let bucket = export
            .get("Bucket")
            .and_then(Value::as_str)
            .ok_or_else(|| Failure::new(RESULT_WRITER_FAILED, "ResultWriter Parameters need a Bucket"))?;
        let prefix = export.get("Prefix").and_then(Value::as_str).unwrap_or("");
        let store = storage
            .store(bucket)
            .map_err(|e| Failure::new(RESULT_WRITER_FAILED, format!("cannot open the bucket '{bucket}': {e}")))?;
        let (output_type, transformation) = match &w.config {
            Some(c) => (c.output_type, c.transformation),
            None => (OutputType::Json, WriterTransformation::None),
        };
        let opts = WriterOptions {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            map_run_id: map_run_id.to_string(),
            map_run_arn: map_run_arn.to_string(),
            output_type,
            transformation,
            rollover_bytes,
        };
        Ok(Sink::Export(Box::new(ResultWriter::create(store, opts).await?)))
    }

    pub fn exports(&self) -> bool {
        matches!(self, Sink::Export(_))
    }

    /// Keys of the result files completed so far.
    pub fn files_written(&self) -> Vec<String> {
        match self {
            Sink::Export(w) => w.files_written(),
            Sink::Memory(_) => Vec::new(),
        }
    }

    /// Records one child; `batch` orders in-memory results.
    pub async fn write(&mut self, batch: u64, record: ChildRecord) -> Result<(), Failure> {
        match self {
            Sink::Export(w) => w.write(&record).await,
            Sink::Memory(memory) => {
                memory.add(batch, record);
                Ok(())
            }
        }
    }

    /// The failure of an in-memory result that passed a bound while it built.
    pub fn overflowed(&self) -> Option<&Failure> {
        match self {
            Sink::Export(_) => None,
            Sink::Memory(memory) => memory.over.as_ref(),
        }
    }

    /// The Map state's result: the ResultWriter details, or the children's results in order.
    pub async fn finish(self) -> Result<Value, Failure> {
        match self {
            Sink::Export(w) => w.finish().await,
            Sink::Memory(Memory { over: Some(failure), .. }) => Err(failure),
            Sink::Memory(Memory { mut records, config, .. }) => {
                records.sort_by_key(|(b, _)| *b);
                Ok(shape_results(records.into_iter().map(|(_, r)| r), config.as_ref()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn record(output: &str, status: ChildStatus) -> ChildRecord {
        ChildRecord {
            status,
            execution_arn: "arn:aws:states:us-east-1:123456789012:execution:sm/label:name".into(),
            name: "name".into(),
            state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm/label".into(),
            input: Arc::from("{}"),
            output: Some(output.into()),
            error: None,
            cause: None,
            start_date: None,
            stop_date: None,
            item_count: 1,
        }
    }

    #[tokio::test]
    async fn an_in_memory_result_fails_as_soon_as_it_must_pass_the_limit() {
        let mut sink = Sink::Memory(Memory::new(None, Some(100), "M"));
        // `[` + 9 × `0123456789,` is 100 bytes: still within the limit.
        for batch in 0..9 {
            sink.write(batch, record("0123456789", ChildStatus::Succeeded)).await.unwrap();
        }
        assert!(sink.overflowed().is_none());
        sink.write(9, record("0123456789", ChildStatus::Succeeded)).await.unwrap();
        let failure = sink.overflowed().expect("over the limit").clone();
        assert_eq!(failure.error.as_deref(), Some(DATA_LIMIT_EXCEEDED));
        // Later records (ABORTED, PENDING) are dropped, and the result is the failure.
        sink.write(10, record("x", ChildStatus::Pending)).await.unwrap();
        let Sink::Memory(memory) = &sink else { unreachable!() };
        assert!(memory.records.is_empty());
        assert_eq!(sink.finish().await.unwrap_err(), failure);
    }

    #[tokio::test]
    async fn without_payload_limits_what_is_held_has_a_ceiling() {
        let mut sink = Sink::Memory(Memory::new(None, None, "M"));
        let big = "1".repeat(1 << 20);
        for batch in 0..(MEMORY_CEILING >> 20) as u64 - 1 {
            sink.write(batch, record(&big, ChildStatus::Succeeded)).await.unwrap();
        }
        assert!(sink.overflowed().is_none());
        sink.write(99, record(&big, ChildStatus::Succeeded)).await.unwrap();
        let cause = sink.overflowed().expect("over the ceiling").cause.clone().unwrap_or_default();
        assert!(cause.contains("64 MiB") && cause.contains("ResultWriter"), "{cause}");
    }
}
