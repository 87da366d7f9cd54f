//! The Map state's model: inline and distributed processing, with every Distributed Map field.

use crate::asl::path::{Path, Template};

use super::{Operand, StateMachine};

#[derive(Debug, Clone)]
pub struct MapState {
    pub items_path: Option<Path>,
    /// JSONata `Items`: a literal array or an expression giving one. Absent in a JSONata Map,
    /// the state input itself must be the array.
    pub items: Option<Template>,
    /// The Map state is JSONata (its items, ItemSelector and fields read `$states`).
    pub jsonata: bool,
    pub item_selector: Option<Template>,
    pub processor: StateMachine,
    /// The ItemProcessor (or Iterator) as written: children of a Map Run are run from it by
    /// workers that receive it by content hash.
    pub processor_definition: std::sync::Arc<serde_json::Value>,
    pub mode: ProcessorMode,
    pub max_concurrency: Option<Operand<u64>>,
    pub item_reader: Option<ItemReader>,
    pub item_batcher: Option<ItemBatcher>,
    pub result_writer: Option<ResultWriter>,
    pub tolerated_failure_count: Option<Operand<u64>>,
    pub tolerated_failure_percentage: Option<Operand<f64>>,
    pub label: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessorMode {
    Inline,
    Distributed(ExecutionType),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionType {
    Standard,
    Express,
}

#[derive(Debug, Clone)]
pub struct ItemReader {
    pub resource: ReaderResource,
    pub config: ReaderConfig,
    pub parameters: Option<Template>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReaderResource {
    GetObject,
    ListObjectsV2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    Csv,
    Json,
    Jsonl,
    Parquet,
    Manifest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReaderTransformation {
    None,
    LoadAndFlatten,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestType {
    AthenaData,
    S3Inventory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvDelimiter {
    Comma,
    Pipe,
    Semicolon,
    Space,
    Tab,
}

impl CsvDelimiter {
    pub fn byte(self) -> u8 {
        match self {
            CsvDelimiter::Comma => b',',
            CsvDelimiter::Pipe => b'|',
            CsvDelimiter::Semicolon => b';',
            CsvDelimiter::Space => b' ',
            CsvDelimiter::Tab => b'\t',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvHeaderLocation {
    FirstRow,
    Given(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct ReaderConfig {
    pub input_type: Option<InputType>,
    pub transformation: ReaderTransformation,
    pub manifest_type: Option<ManifestType>,
    pub csv_delimiter: CsvDelimiter,
    pub csv_header_location: CsvHeaderLocation,
    pub max_items: Option<Operand<u64>>,
    pub items_pointer: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ItemBatcher {
    pub max_items_per_batch: Option<Operand<u64>>,
    pub max_input_bytes_per_batch: Option<Operand<u64>>,
    pub batch_input: Option<Template>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputType {
    Json,
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriterTransformation {
    None,
    Compact,
    Flatten,
}

#[derive(Debug, Clone)]
pub struct WriterConfig {
    pub output_type: OutputType,
    pub transformation: WriterTransformation,
}

#[derive(Debug, Clone)]
pub struct ResultWriter {
    /// `arn:aws:states:::s3:putObject` with its `Parameters` (`Bucket`, `Prefix`), or absent
    /// when only `WriterConfig` reshapes the state result.
    pub export: Option<Template>,
    pub writer_config: Option<WriterConfig>,
}
