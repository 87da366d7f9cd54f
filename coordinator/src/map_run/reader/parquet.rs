//! InputType PARQUET: one JSON object per row, column name → value, with explicit nulls. The
//! footer is read once, then one row group at a time (ranged reads through
//! `ParquetObjectReader`), so memory holds one row group, as AWS's 256 MB row-group limit
//! assumes. Internal Snappy, GZIP and ZSTD compression are supported.
//!
//! Type mapping (AWS does not document one) is arrow_json's: integers and floats are numbers
//! (NaN and infinities become null), booleans booleans, strings and binary-as-UTF8 strings,
//! decimals numbers, dates and timestamps ISO 8601 strings, lists arrays, structs and maps
//! objects.

use std::ops::Range;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_json::writer::{LineDelimited, WriterBuilder};
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use serde_json::value::RawValue;

use super::params::ObjectRef;
use super::sink::{CHUNK, Halt, Sink};
use super::{failure, object};
use crate::storage::Storage;

pub async fn read(storage: &Storage, obj: &ObjectRef, sink: &mut Sink) -> Result<(), Halt> {
    if obj.version.is_some() {
        return Err(failure::parameter("VersionId", "is not supported with InputType PARQUET").into());
    }
    let store = object::store(storage, obj)?;
    let meta = object::head(&*store, obj).await?;
    let bad = |e: &dyn std::fmt::Display| failure::parquet(&obj.uri, e);
    let mut reader = ObjectFile { store, path: meta.location, size: meta.size };
    let metadata =
        ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::default()).await.map_err(|e| bad(&e))?;
    let source = obj.source();
    for group in 0..metadata.metadata().num_row_groups() {
        let mut batches = ParquetRecordBatchStreamBuilder::new_with_metadata(reader.clone(), metadata.clone())
            .with_row_groups(vec![group])
            .with_batch_size(CHUNK)
            .build()
            .map_err(|e| bad(&e))?;
        while let Some(batch) = batches.next().await {
            let batch = batch.map_err(|e| bad(&e))?;
            for row in rows(&batch).map_err(|e| bad(&e))? {
                sink.push(row, &source).await?;
            }
        }
    }
    Ok(())
}

/// The batch's rows as JSON objects.
fn rows(batch: &RecordBatch) -> Result<Vec<Box<RawValue>>, Box<dyn std::error::Error>> {
    let mut writer = WriterBuilder::new().with_explicit_nulls(true).build::<_, LineDelimited>(Vec::new());
    writer.write(batch)?;
    writer.finish()?;
    let text = String::from_utf8(writer.into_inner())?;
    // JSON text escapes newlines inside strings, so every line is one row.
    let rows = text.lines().filter(|l| !l.is_empty()).map(|l| RawValue::from_string(l.to_string()));
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A Parquet file in an object store, read by byte ranges. (parquet's own
/// `ParquetObjectReader` is deprecated in favour of implementing `AsyncFileReader`.)
#[derive(Clone)]
struct ObjectFile {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
}

impl AsyncFileReader for ObjectFile {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move { self.store.get_range(&self.path, range).await.map_err(external) }.boxed()
    }

    fn get_byte_ranges(&mut self, ranges: Vec<Range<u64>>) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move { self.store.get_ranges(&self.path, &ranges).await.map_err(external) }.boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let reader =
                ParquetMetaDataReader::new().with_metadata_options(options.map(|o| o.metadata_options().clone()));
            let size = self.size;
            Ok(Arc::new(reader.load_and_finish(self, size).await?))
        }
        .boxed()
    }
}

fn external(e: object_store::Error) -> parquet::errors::ParquetError {
    parquet::errors::ParquetError::External(Box::new(e))
}
