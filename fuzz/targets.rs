//! The fuzz targets' bodies, shared by the fuzz binaries (`fuzz/fuzz_targets/`, built by
//! `scripts/fuzz`) and by `coordinator/tests/fuzz_corpus.rs`, which replays every checked-in
//! corpus file through them on each `cargo test`.
//!
//! Each body takes arbitrary bytes and must neither panic, nor abort, nor hang; where an
//! independent answer exists it also checks the result against it (a decoded message written
//! back and read again is the same message, a JSON ItemReader yields the elements serde_json
//! sees). A finding here is a bug in dmap, never in the target.

use serde_json::value::RawValue;
use serde_json::{Value, json};
use shared::asl::intrinsics::Call;
use shared::asl::path::{FixedEnv, Path, Root};
use shared::protocol::{self, Batch};

/// A target's body: any bytes in, a panic only for a bug.
pub type Target = fn(&[u8]);

/// Every target by name: the name is its fuzz binary's and its corpus folder's.
pub const TARGETS: &[(&str, Target)] = &[
    ("asl_definition", asl_definition),
    ("jsonpath", jsonpath),
    ("jsonata", jsonata),
    ("intrinsics", intrinsics),
    ("reader_json", reader_json),
    ("reader_jsonl", reader_jsonl),
    ("reader_csv", reader_csv),
    ("wire_batches", wire_batches),
    ("wire_outcomes", wire_outcomes),
];

/// Decoded text a reader target reads at most; see `reader::fuzzing`.
const MAX_TEXT: u64 = 1 << 20;

/// A definition, parsed and validated as `dmap validate`, `dmap run` and the workers do.
pub fn asl_definition(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let diagnostics = match shared::asl::parse_definition(text) {
        Ok((_, warnings)) => warnings,
        Err(errors) => {
            assert!(!errors.is_empty(), "a refused definition comes with a reason");
            errors
        }
    };
    for d in &diagnostics {
        assert!(d.location.is_empty() || d.location.starts_with('/'), "not a JSON pointer: {d:?}");
    }
}

/// The first line is a JSONata expression (the text between `{%` and `%}`); the rest is the
/// document bound as `$states.input` (and as `$v` and the context's `Execution.Input`). The
/// expression must compile or be refused, evaluate within the limits, and give the same
/// answer (value, or error code) through the fast paths as through the interpreter alone.
pub fn jsonata(data: &[u8]) {
    let Some((text, doc)) = split_expression(data) else { return };
    let Ok(expr) = shared::asl::jsonata::Expression::compile(text) else { return };
    let env = env(&doc);
    let scope = FuzzScope { doc: &doc, env: &env };
    let fast = expr.eval(&scope).map_err(|e| e.code);
    let slow = expr.eval_interpreted(&scope).map_err(|e| e.code);
    assert_eq!(fast, slow, "{text:?} on {doc}");
}

/// A fixed scope: no result, no error output, a fixed clock and a fixed random number.
struct FuzzScope<'a> {
    doc: &'a Value,
    env: &'a FixedEnv,
}

impl shared::asl::jsonata::Scope for FuzzScope<'_> {
    fn input(&self) -> &Value {
        self.doc
    }
    fn result(&self) -> Option<&Value> {
        None
    }
    fn error_output(&self) -> Option<&Value> {
        None
    }
    fn context(&self) -> &Value {
        &self.env.context
    }
    fn context_member(&self, key: &str) -> Option<&Value> {
        self.env.context.get(key)
    }
    fn variable(&self, name: &str) -> Option<&Value> {
        self.env.variables.get(name)
    }
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::UNIX_EPOCH
    }
    fn random(&self) -> f64 {
        0.5
    }
}

/// The first line is a JSONPath; the rest is the document it runs on (a fixed one when the
/// rest is not JSON). The variable `$v` and the context `$$` hold the document too.
pub fn jsonpath(data: &[u8]) {
    let Some((text, doc)) = split_expression(data) else { return };
    let env = env(&doc);
    let reference = Path::parse_reference(text);
    let Ok(path) = Path::parse(text) else {
        assert!(reference.is_err(), "a reference path is a path: {text:?}");
        return;
    };
    assert_eq!(reference.is_ok(), path.is_reference(), "{text:?}");
    let selected = path.select(&doc, &env);
    let present = path.is_present(&doc, &env);
    match (&selected, path.is_definite()) {
        (Ok(v), false) => assert_eq!(present, v.as_array().is_some_and(|a| !a.is_empty()), "{text:?}"),
        (Err(_), false) => assert!(!present, "{text:?}"),
        (selected, true) => {
            assert_eq!(present, selected.is_ok(), "{text:?}");
            assert_eq!(path.select_ref(&doc, &env).ok(), selected.as_ref().ok(), "{text:?}");
        }
    }
    if path.is_definite() && *path.root() == Root::Input {
        assert_eq!(path.take(&mut doc.clone()).ok(), selected.ok(), "take and select agree on {text:?}");
    }
    if path.is_reference()
        && *path.root() == Root::Input
        && let Ok(written) = path.write(doc.clone(), json!("w"))
    {
        assert_eq!(path.select(&written, &env).ok(), Some(json!("w")), "{text:?} reads back what it wrote");
    }
}

/// The first line is an intrinsic call; the rest is the input it runs on, as for `jsonpath`.
pub fn intrinsics(data: &[u8]) {
    let Some((text, doc)) = split_expression(data) else { return };
    if let Ok(call) = Call::parse(text) {
        let _ = call.eval(&doc, &env(&doc));
    }
}

/// InputType JSON at the top level and under `ItemsPointer` `/items`.
pub fn reader_json(data: &[u8]) {
    use coordinator::map_run::reader::fuzzing::{Format, read_bytes};
    let top = read_bytes(data.to_vec(), Format::Json(None), None, MAX_TEXT);
    // The independent answer: serde_json's own parse of an uncompressed document.
    if top.failure.is_none()
        && let Ok(Value::Array(elements)) = serde_json::from_slice::<Value>(data)
    {
        let items: Vec<Value> =
            top.items.iter().map(|i| serde_json::from_str(i.get()).expect("an item is JSON")).collect();
        assert_eq!(items, elements, "the reader's items are the array's elements");
    }
    let _ = read_bytes(data.to_vec(), Format::Json(Some("/items".into())), Some(3), MAX_TEXT);
}

/// InputType JSONL.
pub fn reader_jsonl(data: &[u8]) {
    use coordinator::map_run::reader::fuzzing::{Format, read_bytes};
    let read = read_bytes(data.to_vec(), Format::Jsonl, None, MAX_TEXT);
    // The independent answer for uncompressed text: one item per line that serde_json reads
    // as a value, up to the first line that fails.
    if !compressed(data) && (data.len() as u64) < MAX_TEXT {
        let text = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
        let values: Vec<&[u8]> = text
            .split(|b| *b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .collect();
        // Compared as raw JSON text: an item such as `1e400` is valid JSON that serde_json's
        // `Value` cannot hold (corpus/reader_jsonl/number-beyond-binary64; ARCHITECTURE.md
        // says what such an item does).
        let expected: Vec<Box<RawValue>> = values.iter().map_while(|l| serde_json::from_slice(l).ok()).collect();
        let items: Vec<&str> = read.items.iter().map(|i| i.get()).collect();
        assert_eq!(items, expected.iter().map(|i| i.get()).collect::<Vec<_>>(), "the items are the lines' values");
        assert_eq!(read.failure.is_some(), expected.len() < values.len(), "fails exactly at a bad line");
    }
}

/// InputType CSV with the header in the first row, and with given headers and `;`.
pub fn reader_csv(data: &[u8]) {
    use coordinator::map_run::reader::fuzzing::{Format, read_bytes};
    let first_row = read_bytes(data.to_vec(), Format::Csv { delimiter: b',', headers: None }, None, MAX_TEXT);
    let given = vec!["a".to_string(), "b".to_string(), "c".to_string()];
    let given_read = read_bytes(data.to_vec(), Format::Csv { delimiter: b';', headers: Some(given) }, None, MAX_TEXT);
    for item in first_row.items.iter().chain(&given_read.items) {
        let row: serde_json::Map<String, Value> = serde_json::from_str(item.get()).expect("a CSV row is an object");
        assert!(row.values().all(Value::is_string), "every field is a string: {}", item.get());
    }
    for item in &given_read.items {
        let row: serde_json::Map<String, Value> = serde_json::from_str(item.get()).expect("a CSV row is an object");
        assert_eq!(row.keys().map(String::as_str).collect::<Vec<_>>(), ["a", "b", "c"]);
    }
}

/// A batch message body as a worker receives it: zstd-compressed or plain.
pub fn wire_batches(data: &[u8]) {
    for body in bodies(data) {
        if let Ok(batches) = protocol::read_batches(&body) {
            let mut out = Vec::new();
            protocol::write_batches(&batches, &mut out);
            let again = protocol::read_batches(&out).expect("a written batch reads back");
            assert_eq!(debug(&again), debug(&batches), "batches survive a round trip");
        }
    }
}

/// An outcome message body as the coordinator receives it: zstd-compressed or plain.
pub fn wire_outcomes(data: &[u8]) {
    for body in bodies(data) {
        if let Ok(outcomes) = protocol::read_outcomes(&body) {
            let mut out = Vec::new();
            protocol::write_outcomes(&outcomes, &mut out);
            assert_eq!(protocol::read_outcomes(&out).expect("a written outcome reads back"), outcomes);
        }
    }
}

/// The body as plain JSON, and as zstd if it decodes; checks that encoding round-trips.
fn bodies(data: &[u8]) -> Vec<Vec<u8>> {
    use worker::nats::codec;
    let mut headers = async_nats::HeaderMap::new();
    let encoded = codec::encode(data.to_vec(), &mut headers);
    assert_eq!(codec::decode(&encoded, Some(&headers)).expect("an encoded body decodes"), data);
    let mut zstd = async_nats::HeaderMap::new();
    zstd.insert(codec::ENCODING_HEADER, "zstd");
    let mut out = vec![data.to_vec()];
    if let Ok(decoded) = codec::decode(data, Some(&zstd)) {
        out.push(decoded.into_owned());
    }
    out
}

fn debug(batches: &[Batch]) -> String {
    format!("{batches:?}")
}

/// Whether the reader will decompress `data` (gzip or zstd magic bytes).
fn compressed(data: &[u8]) -> bool {
    data.starts_with(&[0x1f, 0x8b]) || data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
}

/// `(expression, document)` from `expression\ndocument`; `None` when the first line is not
/// UTF-8 or is too long to be a definition's field.
fn split_expression(data: &[u8]) -> Option<(&str, Value)> {
    let (head, rest) = match data.iter().position(|b| *b == b'\n') {
        Some(n) => (&data[..n], &data[n + 1..]),
        None => (data, &[][..]),
    };
    let text = std::str::from_utf8(head).ok()?;
    let doc = serde_json::from_slice(rest).unwrap_or_else(|_| {
        json!({"a": [1, 2.5, "x", null, true, {"b": [{"c": 1}, {"c": "2"}]}], "s": "text", "n": -3, "o": {"k": {}}})
    });
    Some((text, doc))
}

fn env(doc: &Value) -> FixedEnv {
    let mut variables = serde_json::Map::new();
    variables.insert("v".into(), doc.clone());
    FixedEnv { context: json!({"Execution": {"Input": doc}, "Map": {"Item": {"Index": 0}}}), variables }
}
