//! InputType JSON: the elements of the document's top-level array, or of the array that
//! `ItemsPointer` (RFC 6901) selects, streamed one element at a time with flat memory. The
//! parser walks down the pointer's path, skipping every other member unparsed, and hands each
//! element of the target array over as raw JSON text.
//!
//! Anything but an array at the target fails with AWS's "Attempting to map over non-iterable
//! node." (AWS refused a top-level object in 2024; whether it now iterates objects is unknown).
//! A pointer that selects nothing fails naming the pointer and the object.

use std::fmt;
use std::io::{self, BufRead, Read};
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use shared::asl::Failure;

use super::failure;
use super::params::ObjectRef;
use super::sink::{Halt, Sink};

/// The largest element accepted: AWS reads items up to 8 MB from JSON, CSV and JSON Lines.
pub const MAX_ITEM: usize = 8 * 1024 * 1024;

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
    let mut input = Counting::new(input);
    let mut walk = Walk { sink, source: obj.source(), uri: obj.uri.clone(), stop: None, reached: false, index: 0 };
    let mut de = serde_json::Deserializer::from_reader(&mut input);
    let parsed = Step { path: &path, walk: &mut walk }.deserialize(&mut de).and_then(|()| de.end());
    if let Some(halt) = walk.stop.take() {
        return Err(halt);
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

/// Counts the bytes the parser has taken and remembers where the last few lines began, so
/// that serde_json's line and column become a byte offset in the (decompressed) text. The
/// parser reads a little ahead, but never by more than a few lines.
struct Counting<R> {
    inner: R,
    count: u64,
    lines: u64,
    /// (line number, offset of its first byte) of the latest lines, newest last.
    starts: [(u64, u64); 4],
}

impl<R> Counting<R> {
    fn new(inner: R) -> Self {
        Counting { inner, count: 0, lines: 1, starts: [(1, 0); 4] }
    }

    /// The byte offset of serde_json's (1-based line, 1-based column; 0 at the end).
    fn offset(&self, line: usize, column: usize) -> u64 {
        let start = self.starts.iter().rev().find(|(l, _)| *l == line as u64).map(|(_, o)| *o);
        start.map_or(self.count, |s| s + (column as u64).saturating_sub(1))
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, _) in buf[..n].iter().enumerate().filter(|(_, b)| **b == b'\n') {
            self.lines += 1;
            self.starts.rotate_left(1);
            self.starts[3] = (self.lines, self.count + i as u64 + 1);
        }
        self.count += n as u64;
        Ok(n)
    }
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
}

impl Walk<'_> {
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
            while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
                if raw.get().len() > MAX_ITEM {
                    let f = failure::element_too_large(&self.walk.uri, self.walk.index, MAX_ITEM);
                    return Err(self.walk.halt(f.into()));
                }
                self.walk.index += 1;
                if let Err(halt) = self.walk.sink.push_blocking(raw, &self.walk.source) {
                    return Err(self.walk.halt(halt));
                }
            }
            return Ok(());
        };
        // RFC 6901 array indexes: digits without a leading zero.
        let index = (first == "0" || !first.starts_with('0')).then(|| first.parse::<usize>().ok()).flatten();
        let mut i = 0;
        loop {
            let more = match index {
                Some(n) if i == n => seq.next_element_seed(Step { path: rest, walk: self.walk })?.is_some(),
                _ => seq.next_element::<IgnoredAny>()?.is_some(),
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
        while let Some(key) = map.next_key::<String>()? {
            if !followed && key == *first {
                followed = true;
                map.next_value_seed(Step { path: rest, walk: self.walk })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
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
        let mut c = Counting::new(&b"[1,\n 2,\n\n ,]"[..]);
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
