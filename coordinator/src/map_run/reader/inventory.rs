//! S3 Inventory (InputType MANIFEST, or ManifestType S3_INVENTORY): the `Key` names an
//! inventory `manifest.json`; its `files` are CSV data files (usually gzip) without a header
//! row, whose columns are the manifest's `fileSchema`. Each data row becomes an object from
//! those column names to strings, files in manifest order, each item's source being its data
//! file.
//!
//! Data files are read from the manifest's `destinationBucket` (an ARN or a bucket name), or
//! from the manifest's own bucket when it names none. Only CSV inventories are supported, as on
//! AWS; values are kept as written (inventory keys stay URL-encoded).

use serde::Deserialize;

use super::csv;
use super::file::{self, Ctx, Text};
use super::params::ObjectRef;
use super::sink::{Halt, Sink};
use super::{failure, object};

/// A manifest is a few KiB per thousand data files; anything far larger is not one.
const MAX_MANIFEST: u64 = 64 * 1024 * 1024;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    destination_bucket: Option<String>,
    file_format: String,
    file_schema: String,
    files: Vec<DataFile>,
}

#[derive(Deserialize)]
struct DataFile {
    key: String,
}

pub async fn read(ctx: &Ctx, manifest: &ObjectRef, sink: &mut Sink) -> Result<(), Halt> {
    let text = object::read_small(&ctx.storage, manifest, MAX_MANIFEST).await?;
    let parsed: Manifest = serde_json::from_slice(&text)
        .map_err(|e| failure::manifest(&manifest.uri, &format!("not an S3 inventory manifest: {e}")))?;
    if !parsed.file_format.eq_ignore_ascii_case("CSV") {
        let problem = format!("fileFormat is {}, but only CSV inventories can be read", parsed.file_format);
        return Err(failure::manifest(&manifest.uri, &problem).into());
    }
    let headers: Vec<String> = parsed.file_schema.split(',').map(|c| c.trim().to_string()).collect();
    let bucket = match &parsed.destination_bucket {
        Some(b) => b.strip_prefix("arn:aws:s3:::").unwrap_or(b).to_string(),
        None => manifest.bucket.clone(),
    };
    let options = csv::Options { delimiter: b',', headers: Some(headers) };
    options.check_given().map_err(|f| failure::manifest(&manifest.uri, f.cause.as_deref().unwrap_or_default()))?;
    for data in &parsed.files {
        let obj = ObjectRef::new(&bucket, &data.key);
        file::read_text(&ctx.storage, &obj, Text::Csv(options.clone()), sink).await?;
    }
    Ok(())
}
