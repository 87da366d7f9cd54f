//! Where a Map Run's items come from — the state input (`ItemsPath`) or an `ItemReader` — and
//! `ItemSelector` applied to each. Yields child inputs as JSON text in dataset order; an item
//! is parsed only when the selector must look inside it.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::Value;
use serde_json::value::RawValue;
use shared::asl::Failure;
use shared::asl::error_name::RUNTIME;
use shared::asl::eval::map_run::{ItemSelector, MapItem, MapRunRequest};

use super::reader::{self, ItemStream};
use crate::storage::Storage;

/// Items per chunk when they come from the state input.
const CHUNK: usize = 1024;

/// One selected item: its index in the dataset and the child input it makes.
#[derive(Debug)]
pub struct Selected {
    pub index: u64,
    pub input: Box<RawValue>,
}

pub struct Source<'r> {
    kind: Kind<'r>,
    next_index: u64,
    selector: Option<&'r ItemSelector<'r>>,
    input: &'r Value,
}

enum Kind<'r> {
    /// Borrowed from the request: the state input's array is not copied.
    State(std::slice::Iter<'r, MapItem>),
    Reader(ItemStream),
}

impl<'r> Source<'r> {
    pub fn new(req: &'r MapRunRequest<'r>, storage: Arc<Storage>) -> Self {
        let kind = match (&req.items, &req.reader) {
            (Some(items), _) => Kind::State(items.iter()),
            (None, Some(r)) => Kind::Reader(reader::open(storage, r.clone())),
            (None, None) => Kind::State([].iter()),
        };
        Source { kind, next_index: 0, selector: req.selector.as_ref(), input: &req.input }
    }

    /// The next chunk of selected items; `None` when the dataset is exhausted.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<Selected>>, Failure> {
        match &mut self.kind {
            Kind::State(it) => {
                let mut out = Vec::with_capacity(CHUNK.min(it.len()));
                for item in it.by_ref().take(CHUNK) {
                    let index = self.next_index;
                    self.next_index += 1;
                    let input = match self.selector {
                        Some(sel) => {
                            let item = MapItem { source: Some("STATE_DATA".into()), ..item.clone() };
                            to_raw(&sel.select(self.input, &item)?)?
                        }
                        None => to_raw(&item.value)?,
                    };
                    out.push(Selected { index, input });
                }
                Ok((!out.is_empty()).then_some(out))
            }
            Kind::Reader(stream) => {
                let Some(chunk) = stream.next().await else { return Ok(None) };
                let chunk = chunk?;
                let mut out = Vec::with_capacity(chunk.len());
                for read in chunk {
                    let index = self.next_index;
                    self.next_index += 1;
                    let input = match self.selector {
                        None => read.value,
                        Some(sel) => {
                            let value: Value = serde_json::from_str(read.value.get())
                                .map_err(|e| Failure::new(RUNTIME, format!("item {index} is not valid JSON: {e}")))?;
                            let item = MapItem {
                                index: index as usize,
                                key: None,
                                value,
                                source: read.source.as_deref().map(str::to_string),
                            };
                            to_raw(&sel.select(self.input, &item)?)?
                        }
                    };
                    out.push(Selected { index, input });
                }
                Ok(Some(out))
            }
        }
    }
}

fn to_raw(v: &Value) -> Result<Box<RawValue>, Failure> {
    serde_json::value::to_raw_value(v).map_err(|e| Failure::new(RUNTIME, format!("cannot serialise an item: {e}")))
}
