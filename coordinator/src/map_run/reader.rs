//! The ItemReaders: a Distributed Map's dataset read from storage as a stream of raw JSON items
//! in dataset order, each with the `$$.Map.Item.Source` of the object it came from.
//!
//! `open` starts a driver task on the stream's first poll. The driver fetches objects, and
//! parses text formats on blocking threads (object_store byte stream → `StreamReader` →
//! `SyncIoBridge` → decompression → a sync parser), so a large object never sits in memory:
//! items flow through a small bounded channel in chunks, and `MaxItems` stops the reading as
//! soon as it is reached. Items nobody must look inside stay raw JSON text (`RawValue`).
//!
//! Code map: `params` (the resolved `Parameters` and object names), `sink` (chunks,
//! `MaxItems`, back-pressure), `failure` (every cause text), `object` (opening an object as
//! text, compression by magic bytes), `file` (one data file per `InputType`), `json`, `jsonl`,
//! `csv` (+ `csv_lexer`), `parquet`, `listing` (listObjectsV2), `inventory` (S3 inventory
//! manifests), `athena` (Athena UNLOAD manifests).
//!
//! Every failure is `States.ItemReaderFailed`. This module never evaluates ASL: the engine has
//! already resolved `Parameters` and `MaxItems`.

mod athena;
mod csv;
mod csv_lexer;
mod failure;
mod file;
#[doc(hidden)]
pub mod fuzzing;
mod inventory;
mod json;
mod jsonl;
mod listing;
mod object;
mod params;
mod parquet;
mod sink;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures::Stream;
use futures::stream::BoxStream;
use serde_json::value::RawValue;
use shared::asl::Failure;
use shared::asl::eval::map_run::ResolvedReader;
use shared::asl::model::{ManifestType, ReaderResource, ReaderTransformation};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::storage::Storage;

pub use sink::CHUNK;

/// One item of the dataset.
#[derive(Debug, Clone)]
pub struct ReadItem {
    /// The item exactly as the dataset holds it (CSV rows and listings become JSON objects).
    pub value: Box<RawValue>,
    /// `$$.Map.Item.Source`: `s3://bucket/key` of the object the item came from, or
    /// `s3://bucket` for listObjectsV2 items.
    pub source: Option<Arc<str>>,
}

/// Chunks of items in dataset order; an `Err` ends the stream.
pub type ItemStream = BoxStream<'static, Result<Vec<ReadItem>, Failure>>;

/// Starts reading `reader`'s dataset. Nothing happens until the stream is first polled, which
/// must be inside a tokio runtime. Dropping the stream stops the reading.
pub fn open(storage: Arc<Storage>, reader: ResolvedReader) -> ItemStream {
    // Two chunks in flight keep the reader busy while the consumer works, and bound memory.
    let (tx, rx) = mpsc::channel(2);
    let driver = async move {
        let mut sink = sink::Sink::new(tx, reader.max_items.filter(|n| *n > 0));
        let result = read(&storage, &reader, &mut sink).await;
        sink.finish(result).await;
    };
    Box::pin(Items { rx, driver: Some(Box::pin(driver)), task: None })
}

/// Reads the whole dataset into `sink`.
async fn read(storage: &Arc<Storage>, reader: &ResolvedReader, sink: &mut sink::Sink) -> Result<(), sink::Halt> {
    let ctx = file::Ctx { storage: storage.clone(), config: reader.config.clone() };
    let params = params::Params::parse(&reader.parameters)?;
    match reader.resource {
        ReaderResource::ListObjectsV2 => match reader.config.transformation {
            ReaderTransformation::None => listing::read_metadata(&ctx, &params, sink).await,
            ReaderTransformation::LoadAndFlatten => listing::read_flattened(&ctx, &params, sink).await,
        },
        ReaderResource::GetObject => {
            let object = params.object()?;
            match (reader.config.manifest_type, reader.config.input_type) {
                (Some(ManifestType::AthenaData), _) => athena::read(&ctx, &object, sink).await,
                (Some(ManifestType::S3Inventory), _) | (None, Some(shared::asl::model::InputType::Manifest)) => {
                    inventory::read(&ctx, &object, sink).await
                }
                (None, _) => file::read(&ctx, &object, sink).await,
            }
        }
    }
}

type Driver = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The receiving end, which also owns the driver task: spawned on first poll, aborted on drop.
struct Items {
    rx: mpsc::Receiver<Result<Vec<ReadItem>, Failure>>,
    driver: Option<Driver>,
    task: Option<JoinHandle<()>>,
}

impl Stream for Items {
    type Item = Result<Vec<ReadItem>, Failure>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(driver) = self.driver.take() {
            self.task = Some(tokio::spawn(driver));
        }
        if let Some(chunk) = ready!(self.rx.poll_recv(cx)) {
            return Poll::Ready(Some(chunk));
        }
        // The channel closes when the driver ends; a driver that panicked must not look like
        // a dataset that ended early.
        let Some(task) = self.task.as_mut() else { return Poll::Ready(None) };
        let outcome = ready!(Pin::new(task).poll(cx));
        self.task = None;
        Poll::Ready(outcome.err().map(|e| Err(failure::internal(&e))))
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[tokio::test]
    async fn a_driver_that_panics_ends_the_stream_with_a_failure() {
        let (tx, rx) = mpsc::channel(1);
        let driver: Driver = Box::pin(async move {
            let _keep = tx;
            panic!("a bug in a reader");
        });
        let mut items = Items { rx, driver: Some(driver), task: None };
        let failure = items.next().await.expect("a failure, not the end").expect_err("a failure");
        assert_eq!(failure.error.as_deref(), Some(shared::asl::error_name::ITEM_READER_FAILED));
        assert!(failure.cause.unwrap().starts_with("The item reader stopped unexpectedly"));
        assert!(items.next().await.is_none());
    }
}
