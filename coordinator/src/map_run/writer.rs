//! ResultWriter: a Map Run's child results, exported to storage exactly as AWS lays them out,
//! or shaped into the Map state's result in memory.
//!
//! Export: records stream into `<Prefix>/<mapRunId>/SUCCEEDED_<n>.json`, `FAILED_<n>.json`
//! (failed, timed out, aborted) and `PENDING_<n>.json` (never started) as they arrive, each file
//! a multipart upload that rolls over to `n + 1` before it would exceed the rollover size.
//! `finish` completes every file and only then writes `manifest.json`, so a reader that finds the
//! manifest finds every file it lists. Files are created on their first entry: a run without
//! failures has no `FAILED_0.json`, and its manifest lists `"FAILED": []`.
//!
//! This module must not hold a whole file in memory, and it knows nothing of buckets beyond the
//! name it reports: the caller resolves the bucket to an [`ObjectStore`]. Parts upload as tokio
//! tasks, so exporting needs a tokio runtime; shaping in memory ([`shape_results`]) does not.

mod entry;
mod file;
mod manifest;
mod record_json;
mod shape;
#[cfg(test)]
mod tests;

use std::fmt::Display;
use std::sync::Arc;

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::error_name::RESULT_WRITER_FAILED;
use shared::asl::model::{OutputType, WriterTransformation};

use crate::map_run::record::ChildRecord;
use entry::{Framing, entries};
use file::{Appended, ResultFile, WrittenFile};
use manifest::FileKind;

pub use shape::shape_results;

/// Where and how a Map Run's results are exported.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// `Parameters.Bucket`: reported in the manifest and the state result.
    pub bucket: String,
    /// `Parameters.Prefix`, possibly empty.
    pub prefix: String,
    /// The last segment of the Map Run ARN: the directory under the prefix.
    pub map_run_id: String,
    pub map_run_arn: String,
    /// `WriterConfig.OutputType`; JSON when exporting without WriterConfig.
    pub output_type: OutputType,
    /// `WriterConfig.Transformation`; NONE when exporting without WriterConfig.
    pub transformation: WriterTransformation,
    /// A file rolls over to the next index before it would exceed this size;
    /// [`WriterOptions::DEFAULT_ROLLOVER_BYTES`] on AWS.
    pub rollover_bytes: u64,
}

impl WriterOptions {
    /// AWS caps a results file at 5 GB.
    pub const DEFAULT_ROLLOVER_BYTES: u64 = 5 * 1024 * 1024 * 1024;
}

/// S3's minimum part size (except for the last part), and so the smallest memory bound per file.
const PART_BYTES: usize = 5 * 1024 * 1024;

/// Exports a Map Run's child results. Create it before the first child ends, [`write`] every
/// record as it arrives, then [`finish`]. Dropping it unfinished abandons the open multipart
/// uploads (S3 expires them by lifecycle rule); [`abort`] asks the store to discard them.
///
/// [`write`]: ResultWriter::write
/// [`finish`]: ResultWriter::finish
/// [`abort`]: ResultWriter::abort
pub struct ResultWriter {
    store: Arc<dyn ObjectStore>,
    opts: WriterOptions,
    framing: Framing,
    /// `<Prefix>/<mapRunId>/`.
    dir: String,
    part_bytes: usize,
    /// The file each kind is writing to, indexed by [`FileKind`].
    open: [Option<ResultFile>; 3],
    /// Files completed so far, by kind, in index order.
    written: [Vec<WrittenFile>; 3],
}

impl std::fmt::Debug for ResultWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultWriter").field("dir", &self.dir).field("written", &self.written).finish_non_exhaustive()
    }
}

impl ResultWriter {
    /// Checks that the export directory is a key the store can hold. Nothing is written until
    /// the first record arrives (a file exists only once it has an entry); `async` so that
    /// callers need not change should creating ever touch the store.
    pub async fn create(store: Arc<dyn ObjectStore>, opts: WriterOptions) -> Result<Self, Failure> {
        let dir = manifest::run_dir(&opts.prefix, &opts.map_run_id);
        let manifest_key = manifest::manifest_key(&dir);
        Path::parse(&manifest_key).map_err(|e| write_failed(&opts.bucket, &manifest_key, e))?;
        Ok(ResultWriter {
            store,
            framing: Framing(opts.output_type),
            opts,
            dir,
            part_bytes: PART_BYTES,
            open: [None, None, None],
            written: [Vec::new(), Vec::new(), Vec::new()],
        })
    }

    /// Streams one child's record into the file for its status.
    pub async fn write(&mut self, record: &ChildRecord) -> Result<(), Failure> {
        let kind = FileKind::of(record.status);
        for entry in entries(record, self.opts.transformation) {
            let mut file = match self.open[kind as usize].take() {
                Some(file) => file,
                None => self.open_next(kind).await?,
            };
            if file.append(entry, self.opts.rollover_bytes).await? == Appended::FileFull {
                self.written[kind as usize].push(file.close().await?);
                file = self.open_next(kind).await?;
                // A fresh file takes any entry, so this cannot report FileFull again.
                file.append(entry, self.opts.rollover_bytes).await?;
            }
            self.open[kind as usize] = Some(file);
        }
        Ok(())
    }

    /// Keys of the files completed so far (by a rollover).
    pub fn files_written(&self) -> Vec<String> {
        self.written.iter().flatten().map(|f| f.key.clone()).collect()
    }

    /// Completes every file, then writes `manifest.json`, and returns the Map state's result:
    /// `{"MapRunArn": …, "ResultWriterDetails": {"Bucket": …, "Key": "<dir>manifest.json"}}`.
    pub async fn finish(mut self) -> Result<Value, Failure> {
        for kind in FileKind::ALL {
            let Some(file) = self.open[kind as usize].take() else { continue };
            match file.close().await {
                Ok(written) => self.written[kind as usize].push(written),
                Err(failure) => {
                    self.abort().await;
                    return Err(failure);
                }
            }
        }
        let bucket = &self.opts.bucket;
        let arn = &self.opts.map_run_arn;
        let key = manifest::manifest_key(&self.dir);
        let body = serde_json::to_vec(&manifest::manifest(bucket, arn, &self.written))
            .map_err(|e| write_failed(bucket, &key, e))?;
        let path = Path::parse(&key).map_err(|e| write_failed(bucket, &key, e))?;
        self.store.put(&path, PutPayload::from(body)).await.map_err(|e| write_failed(bucket, &key, e))?;
        Ok(manifest::state_result(bucket, arn, &key))
    }

    /// Gives up the export: discards the open uploads, best effort, and writes no manifest.
    /// Files already completed by a rollover stay.
    pub async fn abort(mut self) {
        for slot in &mut self.open {
            if let Some(file) = slot.take() {
                file.abort().await;
            }
        }
    }

    fn open_next(&self, kind: FileKind) -> impl Future<Output = Result<ResultFile, Failure>> + Send + 'static {
        // Owned copies, not `&self`, cross the await: open uploads make the writer `!Sync`, and
        // a borrow of it held across an await would make the Map Run's future `!Send`.
        let index = self.written[kind as usize].len() as u32;
        let key = manifest::file_key(&self.dir, kind, index);
        let (store, bucket, framing, part_bytes) =
            (self.store.clone(), self.opts.bucket.clone(), self.framing, self.part_bytes);
        async move { ResultFile::open(&store, &bucket, key, framing, part_bytes).await }
    }

    /// Tests use small parts to exercise multipart uploads without megabytes of records.
    #[cfg(test)]
    fn with_part_bytes(mut self, part_bytes: usize) -> Self {
        self.part_bytes = part_bytes;
        self
    }
}

/// `States.ResultWriterFailed`, naming the object and the store's error.
fn write_failed(bucket: &str, key: &str, error: impl Display) -> Failure {
    Failure::new(RESULT_WRITER_FAILED, format!("Could not write s3://{bucket}/{key}: {error}"))
}
