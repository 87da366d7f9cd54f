//! Every `States.ItemReaderFailed` cause the readers produce, in one table. AWS's own texts are
//! kept exactly where they are known (they carry no object name, because AWS's do not); the
//! others name the object (`s3://bucket/key`) and the place in it (line, byte offset, row).

use shared::asl::Failure;
use shared::asl::error_name::ITEM_READER_FAILED;

/// AWS: a JSON document (or the node `ItemsPointer` selects) that is not an array.
pub const NON_ITERABLE: &str = "Attempting to map over non-iterable node.";
/// AWS: two CSV header fields with the same name.
pub const DUPLICATE_HEADERS: &str = "CSV headers cannot contain duplicates.";

fn failed(cause: impl Into<String>) -> Failure {
    Failure::new(ITEM_READER_FAILED, cause)
}

pub fn aws(text: &str) -> Failure {
    failed(text)
}

pub fn parameter(name: &str, what: &str) -> Failure {
    failed(format!("The ItemReader's Parameters field '{name}' {what}."))
}

pub fn storage(bucket: &str, e: &crate::storage::StorageError) -> Failure {
    failed(format!("Cannot read bucket '{bucket}': {e}"))
}

pub fn not_found(uri: &str) -> Failure {
    failed(format!("{uri} does not exist."))
}

/// A store operation (`what`: "reading", "listing", ...) that failed for another reason.
pub fn store(uri: &str, what: &str, e: &dyn std::fmt::Display) -> Failure {
    failed(format!("{what} {uri} failed: {e}"))
}

/// An I/O error while reading an object's bytes (network, decompression).
pub fn io(uri: &str, place: &str, e: &std::io::Error) -> Failure {
    failed(format!("Reading {uri} failed at {place}: {e}"))
}

pub fn invalid_json(uri: &str, offset: u64, e: &serde_json::Error) -> Failure {
    failed(format!("{uri} is not valid JSON at byte offset {offset}: {e}"))
}

/// Names the file's line and serde's column in it; serde's own position ("at line 1 column 7")
/// counts lines within the one line parsed, so it is cut from its message.
pub fn invalid_json_line(uri: &str, line: u64, e: &serde_json::Error) -> Failure {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let message = text.strip_suffix(&position).unwrap_or(&text);
    failed(format!("{uri} is not valid JSON Lines at line {line}, column {}: {message}", e.column()))
}

/// Bytes on the way to the items (a member name, or a scalar where the pointer leads) that
/// would have to be held whole.
pub fn value_too_large(uri: &str, offset: u64, limit: usize) -> Failure {
    failed(format!("{uri}: a value larger than {} MiB at byte offset {offset}.", limit >> 20))
}

pub fn row_too_large(uri: &str, row: u64, limit: usize) -> Failure {
    failed(format!("{uri}: row {row} is larger than {} MiB.", limit >> 20))
}

/// A Parquet row group whose pages would decompress to more than `limit` bytes.
pub fn row_group_too_large(uri: &str, group: usize, rows: (u64, u64), bytes: u64, limit: usize) -> Failure {
    failed(format!(
        "{uri}: row group {group} (rows {} to {}) holds {bytes} bytes uncompressed, over the {} MiB a row group may hold.",
        rows.0,
        rows.1,
        limit >> 20
    ))
}

pub fn pointer_not_found(uri: &str, pointer: &str) -> Failure {
    failed(format!("ItemsPointer '{pointer}' selects nothing in {uri}."))
}

pub fn invalid_pointer(pointer: &str) -> Failure {
    failed(format!("ItemsPointer '{pointer}' is not a JSON Pointer."))
}

pub fn invalid_utf8(uri: &str, line: u64) -> Failure {
    failed(format!("{uri} is not UTF-8 text at line {line}."))
}

pub fn too_large(uri: &str, line: u64, limit: usize) -> Failure {
    failed(format!("{uri}: the item at line {line} is larger than {} MiB.", limit >> 20))
}

pub fn element_too_large(uri: &str, index: u64, limit: usize) -> Failure {
    failed(format!("{uri}: item {index} is larger than {} MiB.", limit >> 20))
}

pub fn unclosed_quote(uri: &str, line: u64) -> Failure {
    failed(format!("{uri}: the quote opened at line {line} is never closed."))
}

pub fn header_too_large(uri: &str) -> Failure {
    failed(format!("{uri}: the CSV header is larger than 10 KiB."))
}

pub fn parquet(uri: &str, e: &dyn std::fmt::Display) -> Failure {
    failed(format!("{uri} cannot be read as Parquet: {e}"))
}

pub fn manifest(uri: &str, problem: &str) -> Failure {
    failed(format!("Manifest {uri}: {problem}"))
}

pub fn input_type(what: &str) -> Failure {
    failed(format!("The ItemReader's ReaderConfig {what}."))
}

pub fn unsupported_key(uri: &str, e: &dyn std::fmt::Display) -> Failure {
    failed(format!("{uri} cannot be read: {e}"))
}

/// A reader task that panicked or was cancelled: a bug, reported rather than hidden.
pub fn internal(e: &dyn std::fmt::Display) -> Failure {
    failed(format!("The item reader stopped unexpectedly: {e}"))
}
