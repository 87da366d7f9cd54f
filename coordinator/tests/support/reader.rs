//! Running an ItemReader in tests: the `ItemReader` field as a definition writes it, parsed by
//! the engine's own parser, and the whole dataset collected.
//!
//! Include it with `#[path = "support/reader.rs"] mod reader;`.

#![allow(dead_code)]

use std::sync::Arc;

use coordinator::map_run::reader::{self, ReadItem};
use coordinator::storage::Storage;
use futures::StreamExt;
use serde_json::{Value, json};
use shared::asl::Failure;
use shared::asl::eval::map_run::ResolvedReader;
use shared::asl::model::{Operand, StateKind};

/// `item_reader` is `{"Resource", "ReaderConfig", "Parameters"}`; `Parameters` must be literal
/// (it is used as the evaluated value) and `MaxItems`, if any, a number.
pub fn resolved(item_reader: Value) -> ResolvedReader {
    let definition = json!({
        "StartAt": "Map",
        "States": {"Map": {
            "Type": "Map",
            "ItemReader": item_reader,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "P",
                "States": {"P": {"Type": "Pass", "End": true}}
            },
            "End": true
        }}
    });
    let (machine, _) = shared::asl::parse::parse_value(&definition)
        .unwrap_or_else(|d| panic!("the test's ItemReader is invalid: {d:?}"));
    let StateKind::Map(map) = &machine.states[0].kind else { panic!("not a Map state") };
    let reader = map.item_reader.as_ref().expect("an ItemReader");
    let max_items = match &reader.config.max_items {
        None => None,
        Some(Operand::Literal(n)) => Some(*n),
        Some(_) => panic!("MaxItemsPath is resolved by the engine, not here"),
    };
    ResolvedReader {
        resource: reader.resource,
        config: reader.config.clone(),
        max_items,
        parameters: item_reader.get("Parameters").cloned().unwrap_or(json!({})),
    }
}

/// Every item in order, or the failure that ended the stream.
pub async fn read_all(storage: &Arc<Storage>, reader: &ResolvedReader) -> Result<Vec<ReadItem>, Failure> {
    let mut stream = reader::open(storage.clone(), reader.clone());
    let mut items = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        assert!(!chunk.is_empty() && chunk.len() <= reader::CHUNK, "chunks hold 1..=CHUNK items");
        items.extend(chunk);
    }
    Ok(items)
}

/// The items' values as JSON.
pub fn values(items: &[ReadItem]) -> Vec<Value> {
    items.iter().map(|i| serde_json::from_str(i.value.get()).expect("items are JSON")).collect()
}

/// The items' sources.
pub fn sources(items: &[ReadItem]) -> Vec<String> {
    items.iter().map(|i| i.source.as_deref().unwrap_or("").to_string()).collect()
}

/// The failure's cause; panics if reading succeeded or failed with another error name.
pub fn cause(result: Result<Vec<ReadItem>, Failure>) -> String {
    let failure = result.expect_err("reading should fail");
    assert_eq!(failure.error.as_deref(), Some("States.ItemReaderFailed"));
    failure.cause.unwrap_or_default()
}

/// What reading a dataset must give.
pub enum Expect<'a> {
    /// These items, in order.
    Items(Value),
    /// A failure with exactly this cause.
    Cause(&'a str),
    /// A failure whose cause starts with this.
    CauseStarting(&'a str),
}

/// Reads `item_reader`'s dataset from every storage of `buckets` and checks the result.
pub async fn check(buckets: &super::buckets::Buckets, item_reader: Value, expect: Expect<'_>) {
    let reader = resolved(item_reader.clone());
    for (kind, storage) in buckets.storages() {
        let context = format!("{kind} storage, ItemReader {item_reader}");
        match (&expect, read_all(&storage, &reader).await) {
            (Expect::Items(want), Ok(items)) => assert_eq!(Value::Array(values(&items)), *want, "{context}"),
            (Expect::Items(_), Err(f)) => panic!("{context}: expected items, failed with {f:?}"),
            (_, Ok(items)) => panic!("{context}: expected a failure, read {}", Value::Array(values(&items))),
            (Expect::Cause(want), Err(f)) => {
                assert_eq!(f.error.as_deref(), Some("States.ItemReaderFailed"), "{context}");
                assert_eq!(f.cause.as_deref(), Some(*want), "{context}");
            }
            (Expect::CauseStarting(want), Err(f)) => {
                assert_eq!(f.error.as_deref(), Some("States.ItemReaderFailed"), "{context}");
                let cause = f.cause.unwrap_or_default();
                assert!(cause.starts_with(want), "{context}: cause {cause:?} should start with {want:?}");
            }
        }
    }
}
