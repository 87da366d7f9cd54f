//! Where child results go: exported by the ResultWriter as they arrive, or kept in memory
//! (in item order) to become the Map state's result.

use serde_json::Value;
use shared::asl::Failure;
use shared::asl::error_name::RESULT_WRITER_FAILED;
use shared::asl::eval::map_run::ResolvedWriter;
use shared::asl::model::{OutputType, WriterConfig, WriterTransformation};

use super::record::ChildRecord;
use super::writer::{ResultWriter, WriterOptions, shape_results};
use crate::storage::Storage;

pub enum Sink {
    Export(Box<ResultWriter>),
    Memory { records: Vec<(u64, ChildRecord)>, config: Option<WriterConfig> },
}

impl Sink {
    pub async fn new(
        writer: Option<&ResolvedWriter>,
        storage: &Storage,
        map_run_id: &str,
        map_run_arn: &str,
        rollover_bytes: u64,
    ) -> Result<Sink, Failure> {
        let Some(w) = writer else { return Ok(Sink::Memory { records: Vec::new(), config: None }) };
        let Some(export) = &w.export else { return Ok(Sink::Memory { records: Vec::new(), config: w.config.clone() }) };
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
            Sink::Memory { .. } => Vec::new(),
        }
    }

    /// Records one child; `batch` orders in-memory results.
    pub async fn write(&mut self, batch: u64, record: ChildRecord) -> Result<(), Failure> {
        match self {
            Sink::Export(w) => w.write(&record).await,
            Sink::Memory { records, .. } => {
                records.push((batch, record));
                Ok(())
            }
        }
    }

    /// The Map state's result: the ResultWriter details, or the children's results in order.
    pub async fn finish(self) -> Result<Value, Failure> {
        match self {
            Sink::Export(w) => w.finish().await,
            Sink::Memory { mut records, config } => {
                records.sort_by_key(|(b, _)| *b);
                Ok(shape_results(records.into_iter().map(|(_, r)| r), config.as_ref()))
            }
        }
    }
}
