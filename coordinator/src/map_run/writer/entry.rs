//! What a child record becomes in the results: the entries a Transformation makes of it, and how
//! an OutputType frames entries into a body. Shared by the export and the in-memory state
//! result so that both hold the same bytes.
//!
//! An entry is one element of the JSON array, or one line of JSON Lines. A child yields one
//! entry, except under FLATTEN, where a succeeded child whose output is an array yields one
//! entry per element (possibly none).

use serde_json::value::RawValue;
use shared::asl::model::{OutputType, WriterTransformation};

use super::record_json::write_none_record;
use crate::map_run::record::{ChildRecord, ChildStatus};

/// One element of the results.
#[derive(Debug, Clone, Copy)]
pub(super) enum Entry<'a> {
    /// JSON text copied verbatim: a child's output (COMPACT) or an element of it (FLATTEN).
    Raw(&'a str),
    /// AWS's NONE record of the child.
    Record(&'a ChildRecord),
}

impl Entry<'_> {
    pub(super) fn encode(self, buf: &mut Vec<u8>) {
        match self {
            Entry::Raw(json) => buf.extend_from_slice(json.as_bytes()),
            Entry::Record(record) => write_none_record(record, buf),
        }
    }
}

/// The entries `record` yields under `transformation`. Children that did not succeed are always
/// NONE records: AWS returns a failed child's result "unchanged", as if the Transformation were
/// NONE, and a PENDING child has no output to compact.
pub(super) fn entries(record: &ChildRecord, transformation: WriterTransformation) -> Entries<'_> {
    let output = match record.status {
        // A succeeded child always has an output; should one be missing, it counts as `null`.
        ChildStatus::Succeeded => record.output.as_deref().unwrap_or("null"),
        _ => return Entries::One(Some(Entry::Record(record))),
    };
    match transformation {
        WriterTransformation::None => Entries::One(Some(Entry::Record(record))),
        WriterTransformation::Compact => Entries::One(Some(Entry::Raw(output))),
        WriterTransformation::Flatten => match split_array(output) {
            Some(elements) => Entries::Flat(elements.into_iter()),
            None => Entries::One(Some(Entry::Raw(output))),
        },
    }
}

/// The elements of `json` when it is an array, borrowed from the text. Only one level is
/// opened: nested arrays stay whole elements.
fn split_array(json: &str) -> Option<Vec<&RawValue>> {
    // Check the first byte before parsing so that non-array outputs cost nothing.
    if json.trim_start().as_bytes().first() != Some(&b'[') {
        return None;
    }
    serde_json::from_str(json).ok()
}

/// Iterator over the entries of one record.
#[derive(Debug)]
pub(super) enum Entries<'a> {
    One(Option<Entry<'a>>),
    Flat(std::vec::IntoIter<&'a RawValue>),
}

impl<'a> Iterator for Entries<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        match self {
            Entries::One(entry) => entry.take(),
            Entries::Flat(elements) => elements.next().map(|raw| Entry::Raw(raw.get())),
        }
    }
}

/// The bytes around entries for an OutputType. JSON: `[`, entries separated by `,`, `]`.
/// JSONL: each entry followed by `\n`, so that the last line is terminated as well, as JSON
/// Lines tools expect.
#[derive(Debug, Clone, Copy)]
pub(super) struct Framing(pub(super) OutputType);

impl Framing {
    pub(super) fn open(self) -> &'static [u8] {
        match self.0 {
            OutputType::Json => b"[",
            OutputType::Jsonl => b"",
        }
    }

    /// What goes before an entry; `first` is whether the body holds no entry yet.
    pub(super) fn before(self, first: bool) -> &'static [u8] {
        match self.0 {
            OutputType::Json if !first => b",",
            _ => b"",
        }
    }

    pub(super) fn after(self) -> &'static [u8] {
        match self.0 {
            OutputType::Json => b"",
            OutputType::Jsonl => b"\n",
        }
    }

    pub(super) fn close(self) -> &'static [u8] {
        match self.0 {
            OutputType::Json => b"]",
            OutputType::Jsonl => b"",
        }
    }
}
