//! InputType JSONL: one JSON value per line, passed through as raw text.
//!
//! Lines that are empty or hold only whitespace are skipped (AWS does not say; a blank last line
//! is what most writers leave, and a blank line carries no value to map over). A line ends at
//! `\n`, and a `\r` before it is dropped. Anything else that is not exactly one JSON value fails
//! with the line's number. A line longer than AWS's 8 MB item limit fails without being held.

use std::io::{BufRead, Read};

use serde_json::value::RawValue;

use super::failure;
use super::json::MAX_ITEM;
use super::params::ObjectRef;
use super::sink::{Halt, Sink};

pub fn read(mut input: Box<dyn BufRead + Send>, obj: &ObjectRef, sink: &mut Sink) -> Result<(), Halt> {
    let source = obj.source();
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        number += 1;
        // One byte over the limit tells a too-long line from one exactly at it.
        let n = (&mut input)
            .take(MAX_ITEM as u64 + 2)
            .read_until(b'\n', &mut line)
            .map_err(|e| failure::io(&obj.uri, &format!("line {number}"), &e))?;
        if n == 0 {
            return Ok(());
        }
        let text = trim_end(&line);
        if text.len() > MAX_ITEM {
            return Err(failure::too_large(&obj.uri, number, MAX_ITEM).into());
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let value: Box<RawValue> =
            serde_json::from_slice(text).map_err(|e| failure::invalid_json_line(&obj.uri, number, &e))?;
        sink.push_blocking(value, &source)?;
    }
}

fn trim_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}
