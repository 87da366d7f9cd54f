//! InputType PARQUET: one JSON object per row, column name → value, with explicit nulls. The
//! footer is read once, then one row group at a time (ranged reads through
//! `ParquetObjectReader`), so memory holds one row group, as AWS's 256 MB row-group limit
//! assumes. Internal Snappy, GZIP and ZSTD compression are supported.
//!
//! Memory is bounded from the footer, before any page is decompressed: a row group whose
//! column chunks hold more than 256 MiB uncompressed (AWS's row-group limit) is refused, so no
//! page decompresses to more; and rows are decoded in batches sized so that one batch decodes
//! to at most [`BATCH_BYTES`], counting for a dictionary-encoded string column its whole chunk
//! per row (one dictionary value may repeat in every row). A row whose JSON is over AWS's
//! 8 MiB item limit fails, naming it, before it becomes an item.
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
use parquet::basic::Type as PhysicalType;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader, RowGroupMetaData};
use serde_json::value::RawValue;

use super::json::MAX_ITEM;
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
    let mut first_row = 0u64;
    for (group, meta) in metadata.metadata().row_groups().iter().enumerate() {
        let rows = meta.num_rows().max(0) as u64;
        let bytes = uncompressed(meta);
        if bytes > MAX_ROW_GROUP as u64 {
            let last = (first_row + rows).saturating_sub(1);
            return Err(failure::row_group_too_large(&obj.uri, group, (first_row, last), bytes, MAX_ROW_GROUP).into());
        }
        let mut batches = ParquetRecordBatchStreamBuilder::new_with_metadata(reader.clone(), metadata.clone())
            .with_row_groups(vec![group])
            .with_batch_size(batch_rows(meta))
            .build()
            .map_err(|e| bad(&e))?;
        let mut row = first_row;
        while let Some(batch) = batches.next().await {
            let batch = batch.map_err(|e| bad(&e))?;
            for value in json_rows(&batch).map_err(|e| bad(&e))? {
                if value.get().len() > MAX_ITEM {
                    return Err(failure::row_too_large(&obj.uri, row, MAX_ITEM).into());
                }
                row += 1;
                sink.push(value, &source).await?;
            }
        }
        first_row += rows;
    }
    Ok(())
}

/// AWS's limit on a Parquet row group, applied to its uncompressed size: what its pages may
/// decompress to.
pub const MAX_ROW_GROUP: usize = 256 << 20;

/// What one batch of rows may decode to, judged from the footer.
const BATCH_BYTES: u64 = 64 << 20;

/// The row group's column chunks, uncompressed (dictionary and data pages).
fn uncompressed(meta: &RowGroupMetaData) -> u64 {
    meta.columns().iter().map(|c| c.uncompressed_size().max(0) as u64).sum()
}

/// Rows per batch so that a batch decodes to at most [`BATCH_BYTES`]. A row of a plain column
/// decodes to its share of the chunk (values are stored as they decode, and the whole chunk is
/// bounded by the row-group limit), at least 16 bytes; a row of a dictionary-encoded string
/// column to as much as its largest dictionary value, bounded only by the chunk.
fn batch_rows(meta: &RowGroupMetaData) -> usize {
    let rows = meta.num_rows().max(1) as u64;
    let row: u64 = meta
        .columns()
        .iter()
        .map(|c| {
            let size = c.uncompressed_size().max(0) as u64;
            match (c.column_type(), c.dictionary_page_offset()) {
                (PhysicalType::BYTE_ARRAY | PhysicalType::FIXED_LEN_BYTE_ARRAY, Some(_)) => size,
                _ => (size / rows).max(16),
            }
        })
        .sum();
    (BATCH_BYTES / row.max(1)).clamp(1, CHUNK as u64) as usize
}

/// The batch's rows as JSON objects.
fn json_rows(batch: &RecordBatch) -> Result<Vec<Box<RawValue>>, Box<dyn std::error::Error>> {
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
