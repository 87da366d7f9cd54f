//! One data file read according to the `InputType`: the unit that getObject, listObjectsV2 with
//! LOAD_AND_FLATTEN and Athena manifests share. Text formats are parsed on a blocking thread;
//! Parquet is read row group by row group.

use std::sync::Arc;

use shared::asl::model::{CsvHeaderLocation, InputType, ReaderConfig};

use super::params::ObjectRef;
use super::sink::{Halt, Sink};
use super::{csv, failure, json, jsonl, object, parquet};
use crate::storage::Storage;

/// What every reader needs: where buckets live and how to parse.
pub struct Ctx {
    pub storage: Arc<Storage>,
    pub config: ReaderConfig,
}

/// Reads `obj` as the `InputType` says.
pub async fn read(ctx: &Ctx, obj: &ObjectRef, sink: &mut Sink) -> Result<(), Halt> {
    let input_type = ctx.config.input_type.ok_or_else(|| failure::input_type("needs an InputType"))?;
    read_as(ctx, obj, input_type, sink).await
}

/// Reads `obj` as `input_type` with the reader's CSV settings.
pub async fn read_as(ctx: &Ctx, obj: &ObjectRef, input_type: InputType, sink: &mut Sink) -> Result<(), Halt> {
    let format = match input_type {
        InputType::Json => Text::Json(ctx.config.items_pointer.clone()),
        InputType::Jsonl => Text::Jsonl,
        InputType::Csv => Text::Csv(csv::Options {
            delimiter: ctx.config.csv_delimiter.byte(),
            headers: match &ctx.config.csv_header_location {
                CsvHeaderLocation::FirstRow => None,
                CsvHeaderLocation::Given(h) => Some(h.clone()),
            },
        }),
        InputType::Parquet => return parquet::read(&ctx.storage, obj, sink).await,
        InputType::Manifest => return Err(failure::input_type("cannot read a data file as MANIFEST").into()),
    };
    read_text(&ctx.storage, obj, format, sink).await
}

/// A text format and its settings.
pub enum Text {
    /// JSON, with the `ItemsPointer` if any.
    Json(Option<String>),
    Jsonl,
    Csv(csv::Options),
}

/// Fetches `obj` and parses it as `format` on a blocking thread.
pub async fn read_text(storage: &Storage, obj: &ObjectRef, format: Text, sink: &mut Sink) -> Result<(), Halt> {
    if let Text::Csv(options) = &format {
        // Checked before the object is fetched: the headers alone are wrong.
        options.check_given()?;
    }
    let raw = object::get(storage, obj).await?;
    let obj = obj.clone();
    sink.in_blocking(move |sink| {
        let text = object::text(raw).map_err(|e| failure::io(&obj.uri, "the start", &e))?;
        match format {
            Text::Json(pointer) => json::read(text, &obj, pointer.as_deref(), sink),
            Text::Jsonl => jsonl::read(text, &obj, sink),
            Text::Csv(options) => csv::read(text, &obj, &options, sink),
        }
    })
    .await
}
