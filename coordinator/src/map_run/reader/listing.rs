//! listObjectsV2: every object whose key starts with `Prefix`, in S3's key order (UTF-8 byte
//! order), through all pages. With Transformation NONE each object's metadata is an item
//! (`{"Etag", "Key", "LastModified", "Size", "StorageClass"}` as AWS shapes it, with source
//! `s3://bucket`); with LOAD_AND_FLATTEN each object is read per `InputType` and its records
//! are the items, object after object.
//!
//! S3 prefixes are plain string prefixes while object_store lists whole path segments, so the
//! prefix's parent "directory" is listed and filtered. S3 lists in key order; a local directory
//! does not, so its listing is gathered and sorted (a listing, not the data).
//!
//! object_store has no storage class: every object reports `STANDARD`. An ETag the listing
//! lacks (some S3-compatible servers omit it) is fetched with a HEAD; quotes are added when the
//! store returns it bare. With LOAD_AND_FLATTEN, console "folder" placeholders (keys ending in
//! `/`) are skipped: they hold no data (AWS does not say; with NONE they are items, as on AWS).

use std::sync::Arc;

use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore};
use serde::Serialize;
use serde_json::value::RawValue;
use shared::asl::Failure;
use shared::asl::model::InputType;

use super::file::{self, Ctx};
use super::params::{ObjectRef, Params};
use super::sink::{Halt, Sink};
use super::{failure, object};
use crate::storage::Location;

const HEADS_IN_FLIGHT: usize = 16;

/// One listObjectsV2 item, fields in AWS's order.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(rename = "Etag")]
    etag: &'a str,
    #[serde(rename = "Key")]
    key: &'a str,
    #[serde(rename = "LastModified")]
    last_modified: i64,
    #[serde(rename = "Size")]
    size: u64,
    #[serde(rename = "StorageClass")]
    storage_class: &'static str,
}

/// Transformation NONE: each object's metadata.
pub async fn read_metadata(ctx: &Ctx, params: &Params, sink: &mut Sink) -> Result<(), Halt> {
    let store = ctx.storage.store(&params.bucket).map_err(|e| failure::storage(&params.bucket, &e))?;
    let source = Some(Arc::from(format!("s3://{}", params.bucket)));
    let objects = list(ctx, &store, params).await?;
    // In order, but several at once: an ETag missing from the listing costs a HEAD each.
    let mut items = objects
        .map_ok(|meta| {
            let (store, bucket) = (store.clone(), params.bucket.clone());
            async move { metadata_item(&*store, &bucket, meta).await }
        })
        .try_buffered(HEADS_IN_FLIGHT);
    while let Some(value) = items.try_next().await? {
        sink.push(value, &source).await?;
    }
    Ok(())
}

async fn metadata_item(store: &dyn ObjectStore, bucket: &str, meta: ObjectMeta) -> Result<Box<RawValue>, Failure> {
    let key = meta.location.as_ref();
    let etag = match meta.e_tag.clone() {
        Some(e) => e,
        None => object::head(store, &ObjectRef::new(bucket, key)).await?.e_tag.unwrap_or_default(),
    };
    let etag = if etag.starts_with('"') { etag } else { format!("\"{etag}\"") };
    let item = Listed {
        etag: &etag,
        key,
        last_modified: meta.last_modified.timestamp(),
        size: meta.size,
        storage_class: "STANDARD",
    };
    serde_json::value::to_raw_value(&item).map_err(|e| failure::internal(&e))
}

/// Transformation LOAD_AND_FLATTEN: the records of every listed object.
pub async fn read_flattened(ctx: &Ctx, params: &Params, sink: &mut Sink) -> Result<(), Halt> {
    let input_type = match ctx.config.input_type {
        None | Some(InputType::Manifest) => {
            return Err(failure::input_type("needs InputType CSV, JSON, JSONL or PARQUET with LOAD_AND_FLATTEN").into());
        }
        Some(t) => t,
    };
    let store = ctx.storage.store(&params.bucket).map_err(|e| failure::storage(&params.bucket, &e))?;
    let mut objects = list(ctx, &store, params).await?;
    while let Some(meta) = objects.try_next().await? {
        let key = meta.location.as_ref();
        if key.ends_with('/') {
            continue;
        }
        file::read_as(ctx, &ObjectRef::new(&params.bucket, key), input_type, sink).await?;
    }
    Ok(())
}

/// The objects under `params.prefix`, in key order.
async fn list(
    ctx: &Ctx,
    store: &Arc<dyn ObjectStore>,
    params: &Params,
) -> Result<BoxStream<'static, Result<ObjectMeta, Failure>>, Failure> {
    let bucket_uri = format!("s3://{}/{}", params.bucket, params.prefix);
    let listing_error = move |e: object_store::Error| failure::store(&bucket_uri, "Listing", &e);
    let prefix = params.prefix.clone();
    let parent = match prefix.rfind('/') {
        Some(i) if i > 0 => Some(Path::parse(&prefix[..i]).map_err(|e| listing_error(e.into()))?),
        _ => None,
    };
    let listed = store.list(parent.as_ref());
    let local = matches!(ctx.storage.location(&params.bucket), Ok(Location::Directory(_)));
    if local {
        let mut all: Vec<ObjectMeta> = listed
            .try_filter(|m| std::future::ready(m.location.as_ref().starts_with(prefix.as_str())))
            .try_collect()
            .await
            .map_err(listing_error)?;
        all.sort_unstable_by(|a, b| a.location.as_ref().cmp(b.location.as_ref()));
        return Ok(stream::iter(all.into_iter().map(Ok)).boxed());
    }
    // In key order, the keys with the prefix come together: stop at the first one past them.
    let ordered = listed
        .map_err(listing_error)
        .try_filter(move |m| std::future::ready(m.location.as_ref() >= prefix.as_str()))
        .try_take_while({
            let prefix = params.prefix.clone();
            move |m| std::future::ready(Ok(m.location.as_ref().starts_with(prefix.as_str())))
        });
    Ok(ordered.boxed())
}
