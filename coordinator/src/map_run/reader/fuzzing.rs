//! Bytes in, items out: the text ItemReaders (JSON, JSON Lines, CSV) without object_store or an
//! async runtime, for the fuzz targets (`fuzz/`) and the test that replays their corpus. Not
//! part of dmap's interface.
//!
//! The bytes take the same path as an object's: `object::text` (gzip or zstd by magic bytes, a
//! byte order mark dropped), then the sync parser, into a real `Sink`. Only the decoded text is
//! cut at `max_text` bytes, so that a decompression bomb costs a fuzzer one bounded input
//! instead of its whole memory.

use std::io::{Cursor, Read as _};

use serde_json::value::RawValue;
use shared::asl::Failure;
use tokio::sync::mpsc;

use super::file::Text;
use super::params::ObjectRef;
use super::sink::Sink;
use super::{csv, failure, json, jsonl, object};

/// A text `InputType` and its settings.
#[derive(Debug, Clone)]
pub enum Format {
    /// JSON, with the `ItemsPointer` if any.
    Json(Option<String>),
    Jsonl,
    /// CSV with its delimiter and `CSVHeaders` (`None`: the first row).
    Csv {
        delimiter: u8,
        headers: Option<Vec<String>>,
    },
}

/// What a reader delivered: the items in order, then the failure that ended it, if any.
#[derive(Debug)]
pub struct Read {
    pub items: Vec<Box<RawValue>>,
    pub failure: Option<Failure>,
}

/// Reads `bytes` as the object `s3://fuzz/input` in `format`, stopping after `max_items` items
/// (`None`: all) or `max_text` bytes of decoded text.
pub fn read_bytes(bytes: Vec<u8>, format: Format, max_items: Option<u64>, max_text: u64) -> Read {
    let obj = ObjectRef::new("fuzz", "input");
    // Two chunks in flight, as in `reader::open`; the consumer drains on its own thread.
    let (tx, mut rx) = mpsc::channel(2);
    let mut sink = Sink::new(tx, max_items.filter(|n| *n > 0));
    std::thread::scope(|scope| {
        let consumer = scope.spawn(move || {
            let mut read = Read { items: Vec::new(), failure: None };
            while let Some(chunk) = rx.blocking_recv() {
                match chunk {
                    Ok(items) => read.items.extend(items.into_iter().map(|i| i.value)),
                    Err(f) => read.failure = Some(f),
                }
            }
            read
        });
        let result = (|| {
            let format = match format {
                Format::Json(pointer) => Text::Json(pointer),
                Format::Jsonl => Text::Jsonl,
                Format::Csv { delimiter, headers } => {
                    let options = csv::Options { delimiter, headers };
                    // As `file::read_text` does: given headers are checked before any byte.
                    options.check_given()?;
                    Text::Csv(options)
                }
            };
            let text =
                object::text(Box::new(Cursor::new(bytes))).map_err(|e| failure::io(&obj.uri, "the start", &e))?;
            let text = Box::new(std::io::BufReader::new(text.take(max_text)));
            match format {
                Text::Json(pointer) => json::read(text, &obj, pointer.as_deref(), &mut sink),
                Text::Jsonl => jsonl::read(text, &obj, &mut sink),
                Text::Csv(options) => csv::read(text, &obj, &options, &mut sink),
            }
        })();
        futures::executor::block_on(sink.finish(result));
        consumer.join().expect("the consumer only collects")
    })
}
