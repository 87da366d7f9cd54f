//! InputType JSON: the elements of the document's top-level array, or of the array that
//! `ItemsPointer` (RFC 6901) selects, streamed one element at a time with flat memory. The
//! parser walks down the pointer's path, skipping every other member unparsed, and hands each
//! element of the target array over as raw JSON text.
//!
//! Anything but an array at the target fails with AWS's "Attempting to map over non-iterable
//! node." (AWS refused a top-level object in 2024; whether it now iterates objects is unknown).
//! A pointer that selects nothing fails naming the pointer and the object.
//!
//! Memory stays bounded while streaming: the parser holds an element (and a member name, or a
//! scalar, on the pointer's way) whole, so the byte counter under it fails the read as soon as
//! the value being held has taken more than AWS's 8 MiB item limit (plus [`SLACK`] for the
//! separator and whitespace before it), instead of after buffering it. Values skipped unparsed
//! are not held and are not limited.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufRead, Read};
use std::rc::Rc;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use shared::asl::Failure;

use super::failure;
use super::params::ObjectRef;
use super::sink::{Halt, Sink};

/// The largest element accepted: AWS reads items up to 8 MB from JSON, CSV and JSON Lines.
pub const MAX_ITEM: usize = 8 * 1024 * 1024;

/// Bytes beyond [`MAX_ITEM`] that a value being held may take before reading stops: the comma
/// and whitespace read before it count too. The exact limit is checked on the value itself.
const SLACK: u64 = 64 * 1024;

pub fn read(
    input: Box<dyn BufRead + Send>,
    obj: &ObjectRef,
    pointer: Option<&str>,
    sink: &mut Sink,
) -> Result<(), Halt> {
    let path = match pointer {
        None | Some("") => Vec::new(),
        Some(p) => parse_pointer(p).ok_or_else(|| failure::invalid_pointer(p))?,
    };
    let budget = Rc::new(Budget { count: Cell::new(0), limit: Cell::new(u64::MAX) });
    let mut input = Counting::new(input, budget.clone());
    let mut walk = Walk {
        sink,
        source: obj.source(),
        uri: obj.uri.clone(),
        stop: None,
        reached: false,
        index: 0,
        budget,
        held: Held::Value(0),
    };
    walk.hold(Held::Value(0));
    let mut de = serde_json::Deserializer::from_reader(&mut input);
    let parsed = Step { path: &path, walk: &mut walk }.deserialize(&mut de).and_then(|()| de.end());
    if let Some(halt) = walk.stop.take() {
        return Err(halt);
    }
    if walk.budget.exceeded() {
        return Err(match walk.held {
            Held::Element(index) => failure::element_too_large(&obj.uri, index, MAX_ITEM),
            Held::Value(offset) => failure::value_too_large(&obj.uri, offset, MAX_ITEM),
        }
        .into());
    }
    if let Err(e) = parsed {
        let offset = input.offset(e.line(), e.column());
        let failure = match e.is_io() {
            true => failure::io(&obj.uri, &format!("byte offset {offset}"), &io::Error::other(e)),
            false => failure::invalid_json(&obj.uri, offset, &e),
        };
        return Err(failure.into());
    }
    if !walk.reached {
        return Err(failure::pointer_not_found(&obj.uri, pointer.unwrap_or_default()).into());
    }
    Ok(())
}

/// RFC 6901: `/a/b~1c/0` → `["a", "b/c", "0"]`.
fn parse_pointer(p: &str) -> Option<Vec<String>> {
    let unescape = |token: &str| {
        let mut out = String::with_capacity(token.len());
        let mut chars = token.chars();
        while let Some(c) = chars.next() {
            out.push(match (c, c == '~') {
                (_, false) => c,
                (_, true) => match chars.next()? {
                    '0' => '~',
                    '1' => '/',
                    _ => return None,
                },
            });
        }
        Some(out)
    };
    p.strip_prefix('/')?.split('/').map(unescape).collect()
}

/// The bytes the parser has taken, and how many it may take before the value it holds must
/// have ended; shared by the byte counter under the parser and the walk above it.
struct Budget {
    count: Cell<u64>,
    /// `u64::MAX` while nothing is held.
    limit: Cell<u64>,
}

impl Budget {
    fn exceeded(&self) -> bool {
        self.count.get() > self.limit.get()
    }
}

/// Counts the bytes the parser has taken and remembers where the last few lines began, so
/// that serde_json's line and column become a byte offset in the (decompressed) text. The
/// parser reads a little ahead, but never by more than a few lines. Reading fails once the
/// budget's limit is passed.
struct Counting<R> {
    inner: R,
    budget: Rc<Budget>,
    lines: u64,
    /// (line number, offset of its first byte) of the latest lines, newest last.
    starts: [(u64, u64); 4],
}

impl<R> Counting<R> {
    fn new(inner: R, budget: Rc<Budget>) -> Self {
        Counting { inner, budget, lines: 1, starts: [(1, 0); 4] }
    }

    /// The byte offset of serde_json's (1-based line, 1-based column; 0 at the end).
    fn offset(&self, line: usize, column: usize) -> u64 {
        let start = self.starts.iter().rev().find(|(l, _)| *l == line as u64).map(|(_, o)| *o);
        start.map_or(self.budget.count.get(), |s| s + (column as u64).saturating_sub(1))
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let count = self.budget.count.get();
        for (i, _) in buf[..n].iter().enumerate().filter(|(_, b)| **b == b'\n') {
            self.lines += 1;
            self.starts.rotate_left(1);
            self.starts[3] = (self.lines, count + i as u64 + 1);
        }
        self.budget.count.set(count + n as u64);
        if self.budget.exceeded() {
            return Err(io::Error::other("the value being read is over the item limit"));
        }
        Ok(n)
    }
}

/// What the parser holds whole while it reads: an element of the target array (its index), or
/// a member name or scalar on the pointer's way (the byte offset where it began).
#[derive(Debug, Clone, Copy)]
enum Held {
    Element(u64),
    Value(u64),
}

/// State shared by every level of the walk.
struct Walk<'s> {
    sink: &'s mut Sink,
    source: Option<Arc<str>>,
    uri: Arc<str>,
    /// Why the walk stopped early, when it did; the parser's own error is then meaningless.
    stop: Option<Halt>,
    /// The pointer's target was found.
    reached: bool,
    index: u64,
    budget: Rc<Budget>,
    held: Held,
}

impl Walk<'_> {
    /// The parser is about to hold `held`: it may read [`MAX_ITEM`] + [`SLACK`] bytes for it.
    fn hold(&mut self, held: Held) {
        let count = self.budget.count.get();
        self.held = match held {
            Held::Value(_) => Held::Value(count),
            element => element,
        };
        self.budget.limit.set(count + MAX_ITEM as u64 + SLACK);
    }

    /// The parser is about to skip a value without holding it.
    fn release(&mut self) {
        self.budget.limit.set(u64::MAX);
    }

    fn halt<E: de::Error>(&mut self, halt: Halt) -> E {
        self.stop = Some(halt);
        E::custom("reading stopped")
    }
}

/// One level of the walk: `path` is what is left of the pointer.
struct Step<'p, 'w, 's> {
    path: &'p [String],
    walk: &'w mut Walk<'s>,
}

impl<'de> DeserializeSeed<'de> for Step<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Step<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.path.split_first() else {
            // The target: every element is an item.
            self.walk.reached = true;
            loop {
                self.walk.hold(Held::Element(self.walk.index));
                let Some(raw) = seq.next_element::<Box<RawValue>>()? else { break };
                if raw.get().len() > MAX_ITEM {
                    let f = failure::element_too_large(&self.walk.uri, self.walk.index, MAX_ITEM);
                    return Err(self.walk.halt(f.into()));
                }
                self.walk.index += 1;
                if let Err(halt) = self.walk.sink.push_blocking(raw, &self.walk.source) {
                    return Err(self.walk.halt(halt));
                }
            }
            self.walk.release();
            return Ok(());
        };
        // RFC 6901 array indexes: digits without a leading zero.
        let index = (first == "0" || !first.starts_with('0')).then(|| first.parse::<usize>().ok()).flatten();
        let mut i = 0;
        loop {
            let more = match index {
                Some(n) if i == n => {
                    self.walk.hold(Held::Value(0));
                    seq.next_element_seed(Step { path: rest, walk: self.walk })?.is_some()
                }
                _ => {
                    self.walk.release();
                    seq.next_element::<IgnoredAny>()?.is_some()
                }
            };
            if !more {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((first, rest)) = self.path.split_first() else {
            return Err(self.walk.halt(non_iterable().into()));
        };
        // Only the first member with the name is followed, as a parser that keeps the first
        // duplicate would.
        let mut followed = false;
        loop {
            self.walk.hold(Held::Value(0));
            let Some(key) = map.next_key::<String>()? else { break };
            if !followed && key == *first {
                followed = true;
                self.walk.hold(Held::Value(0));
                map.next_value_seed(Step { path: rest, walk: self.walk })?;
            } else {
                self.walk.release();
                map.next_value::<IgnoredAny>()?;
            }
        }
        self.walk.release();
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
}

impl Step<'_, '_, '_> {
    /// A scalar at the target is not iterable; above it, the pointer selects nothing here.
    fn scalar<E: de::Error>(self) -> Result<(), E> {
        match self.path.is_empty() {
            true => Err(self.walk.halt(Halt::Failed(non_iterable()))),
            false => Ok(()),
        }
    }
}

fn non_iterable() -> Failure {
    failure::aws(failure::NON_ITERABLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_come_from_line_and_column() {
        let budget = Rc::new(Budget { count: Cell::new(0), limit: Cell::new(u64::MAX) });
        let mut c = Counting::new(&b"[1,\n 2,\n\n ,]"[..], budget);
        std::io::copy(&mut c, &mut std::io::sink()).unwrap();
        assert_eq!(c.offset(1, 1), 0);
        assert_eq!(c.offset(2, 2), 5);
        assert_eq!(c.offset(4, 2), 10);
    }

    #[test]
    fn pointers_unescape_and_refuse_bad_syntax() {
        assert_eq!(parse_pointer("/a/b~1c/~0d/0"), Some(vec!["a".into(), "b/c".into(), "~d".into(), "0".into()]));
        assert_eq!(parse_pointer("/"), Some(vec![String::new()]));
        assert_eq!(parse_pointer("a/b"), None);
        assert_eq!(parse_pointer("/a~2"), None);
        assert_eq!(parse_pointer("/a~"), None);
    }
}
