//! The Map state's result when nothing is exported: the children's results shaped in memory by
//! `WriterConfig`, or COMPACT when there is no ResultWriter at all.
//!
//! Each element is what the export would have written for the child (the same entries, see
//! `entry.rs`), so a run gives the same results whether they are exported or returned.

use serde_json::Value;
use shared::asl::model::{OutputType, WriterConfig, WriterTransformation};

use super::entry::{Entry, Framing, entries};
use crate::map_run::record::ChildRecord;

/// The state result for `records`, in the order given (item or batch order):
/// - no `WriterConfig` (no ResultWriter): COMPACT, an array of the children's outputs, failed
///   and never-started children as NONE records (spec §2.10, §3.2);
/// - `OutputType` JSON: the array of entries under the configured Transformation;
/// - `OutputType` JSONL: a JSON string holding the JSON Lines text, exactly the bytes an export
///   would write (every line ends with `\n`). AWS's behaviour here is unknown (spec §8 item 5);
///   a string keeps "JSON Lines" meaningful in a JSON state result, while an array would make
///   JSONL indistinguishable from JSON.
pub fn shape_results(records: impl IntoIterator<Item = ChildRecord>, config: Option<&WriterConfig>) -> Value {
    let (output_type, transformation) = match config {
        Some(config) => (config.output_type, config.transformation),
        None => (OutputType::Json, WriterTransformation::Compact),
    };
    match output_type {
        OutputType::Json => {
            let mut scratch = Vec::new();
            let mut shaped = Vec::new();
            for record in records {
                shaped.extend(entries(&record, transformation).map(|entry| to_value(entry, &mut scratch)));
            }
            Value::Array(shaped)
        }
        OutputType::Jsonl => {
            let framing = Framing(OutputType::Jsonl);
            let mut text = Vec::new();
            for record in records {
                for entry in entries(&record, transformation) {
                    entry.encode(&mut text);
                    text.extend_from_slice(framing.after());
                }
            }
            // Every piece is valid UTF-8: Rust strings and ASCII punctuation.
            Value::String(
                String::from_utf8(text).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            )
        }
    }
}

/// An entry as a value. A child's output is parsed from its JSON text; should that text not be
/// JSON (it always is, by `ChildRecord`'s contract), it is kept as a string rather than lost.
fn to_value(entry: Entry<'_>, scratch: &mut Vec<u8>) -> Value {
    match entry {
        Entry::Raw(json) => serde_json::from_str(json).unwrap_or_else(|_| Value::String(json.to_owned())),
        Entry::Record(_) => {
            // Encoding and parsing back keeps the NONE record defined in one place; records in an
            // in-memory result are few, since the whole result must fit in 256 KiB.
            scratch.clear();
            entry.encode(scratch);
            serde_json::from_slice(scratch).unwrap_or(Value::Null)
        }
    }
}
