//! InputType CSV: each record becomes an object from header names to the record's fields, all
//! strings. The header is the first record (FIRST_ROW) or `CSVHeaders` (GIVEN); `MaxItems`
//! counts records after it. As AWS does: a short record is padded with `""`, a long one
//! truncated, duplicate header names fail, and the header may not exceed 10 KiB. How records
//! and fields are split is `csv_lexer`'s.

use std::collections::HashSet;
use std::io::BufRead;

use serde::ser::{Serialize, SerializeMap, Serializer};
use shared::asl::Failure;

use super::csv_lexer::{LexError, Lexer};
use super::failure;
use super::json::MAX_ITEM;
use super::params::ObjectRef;
use super::sink::{Halt, Sink};

const MAX_HEADER: usize = 10 * 1024;

#[derive(Debug, Clone)]
pub struct Options {
    pub delimiter: u8,
    /// `CSVHeaders` (GIVEN); `None` reads them from the first row.
    pub headers: Option<Vec<String>>,
}

impl Options {
    /// Checks given headers before any object is read.
    pub fn check_given(&self) -> Result<(), Failure> {
        match &self.headers {
            Some(h) => check_headers(h, None),
            None => Ok(()),
        }
    }
}

pub fn read(input: Box<dyn BufRead + Send>, obj: &ObjectRef, options: &Options, sink: &mut Sink) -> Result<(), Halt> {
    let source = obj.source();
    let mut lexer = Lexer::new(input, options.delimiter);
    let mut fields = Vec::new();
    let lex_error = |e: LexError, line: u64| match e {
        LexError::Io(e) => failure::io(&obj.uri, &format!("line {line}"), &e),
        LexError::Utf8 => failure::invalid_utf8(&obj.uri, line),
        LexError::TooLong => failure::too_large(&obj.uri, line, MAX_ITEM),
        LexError::UnclosedQuote(opened) => failure::unclosed_quote(&obj.uri, opened),
    };
    let headers = match &options.headers {
        Some(h) => h.clone(),
        None => match lexer.next(&mut fields, MAX_HEADER) {
            Ok(None) => return Ok(()),
            Ok(Some(_)) => {
                check_headers(&fields, Some(obj))?;
                std::mem::take(&mut fields)
            }
            Err(LexError::TooLong) => return Err(failure::header_too_large(&obj.uri).into()),
            Err(e) => return Err(lex_error(e, lexer.record_line()).into()),
        },
    };
    loop {
        match lexer.next(&mut fields, MAX_ITEM) {
            Ok(None) => return Ok(()),
            Ok(Some(_)) => {}
            Err(e) => return Err(lex_error(e, lexer.record_line()).into()),
        }
        let row = Row { headers: &headers, fields: &fields };
        let value = serde_json::value::to_raw_value(&row).map_err(|e| failure::internal(&e))?;
        sink.push_blocking(value, &source)?;
    }
}

/// Duplicates fail with AWS's text; a header over 10 KiB with a text naming the object.
fn check_headers(headers: &[String], obj: Option<&ObjectRef>) -> Result<(), Failure> {
    let mut seen = HashSet::with_capacity(headers.len());
    if !headers.iter().all(|h| seen.insert(h.as_str())) {
        return Err(failure::aws(failure::DUPLICATE_HEADERS));
    }
    let size: usize = headers.iter().map(|h| h.len() + 1).sum();
    if size > MAX_HEADER {
        return Err(failure::header_too_large(obj.map_or("CSVHeaders", |o| &o.uri)));
    }
    Ok(())
}

/// One record as a JSON object: every header, in order, with its field or `""`.
struct Row<'a> {
    headers: &'a [String],
    fields: &'a [String],
}

impl Serialize for Row<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.headers.len()))?;
        for (i, h) in self.headers.iter().enumerate() {
            map.serialize_entry(h, self.fields.get(i).map_or("", String::as_str))?;
        }
        map.end()
    }
}
