//! Athena data (ManifestType ATHENA_DATA): the `Key` names the `*-manifest.csv` that an Athena
//! UNLOAD writes, one `s3://bucket/key` URI per line and no header. Every listed data file is
//! read with the `InputType` (CSV, JSONL or PARQUET; UNLOAD's CSV has no header row, so CSV
//! needs `CSVHeaderLocation` GIVEN), in manifest order, each item's source being its data file.
//! Blank lines are skipped; any other line that is not an S3 URI fails with its number.

use shared::asl::model::InputType;

use super::file::{self, Ctx};
use super::params::ObjectRef;
use super::sink::{Halt, Sink};
use super::{failure, object};

/// One URI per data file: even a million files stay far below this.
const MAX_MANIFEST: u64 = 256 * 1024 * 1024;

pub async fn read(ctx: &Ctx, manifest: &ObjectRef, sink: &mut Sink) -> Result<(), Halt> {
    let input_type = match ctx.config.input_type {
        Some(t @ (InputType::Csv | InputType::Jsonl | InputType::Parquet)) => t,
        _ => return Err(failure::input_type("needs InputType CSV, JSONL or PARQUET with ATHENA_DATA").into()),
    };
    let text = object::read_small(&ctx.storage, manifest, MAX_MANIFEST).await?;
    let text = String::from_utf8(text).map_err(|_| failure::manifest(&manifest.uri, "not UTF-8 text"))?;
    let mut files = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let obj = ObjectRef::from_uri(line)
            .ok_or_else(|| failure::manifest(&manifest.uri, &format!("line {} is not an S3 URI: {line}", i + 1)))?;
        files.push(obj);
    }
    for obj in &files {
        file::read_as(ctx, obj, input_type, sink).await?;
    }
    Ok(())
}
