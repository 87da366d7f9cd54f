//! ItemBatcher: groups selected items, in order, into child inputs
//! `{"Items": [...], "BatchInput": {...}}` (spec §2.6). Packing is sequential: a batch closes
//! when it holds `MaxItemsPerBatch` items or when one more item would take the serialised child
//! input over `MaxInputBytesPerBatch` (256 KiB when only a count is given). The byte count is
//! the whole serialised child input — the safe reading of what AWS counts.
//!
//! Items stay JSON text here: the batch input is built by concatenation, without parsing.

use serde_json::value::RawValue;

/// AWS's cap on a child's input.
pub const MAX_BATCH_BYTES: u64 = 262_144;

#[derive(Debug)]
pub struct Batcher {
    max_items: u64,
    max_bytes: u64,
    /// `,"BatchInput":{...}` or empty, appended after the items.
    tail: String,
    buf: String,
    count: u64,
    first_item: u64,
}

/// A closed batch: its first item's index, how many items, and the child input text.
#[derive(Debug, PartialEq)]
pub struct Packed {
    pub first_item: u64,
    pub item_count: u64,
    pub input: String,
}

impl Batcher {
    pub fn new(max_items: Option<u64>, max_bytes: Option<u64>, batch_input: Option<&serde_json::Value>) -> Self {
        let tail = match batch_input {
            Some(v) => format!(",\"BatchInput\":{}", serde_json::to_string(v).unwrap_or_else(|_| "null".into())),
            None => String::new(),
        };
        Batcher {
            max_items: max_items.unwrap_or(u64::MAX).max(1),
            max_bytes: max_bytes.unwrap_or(MAX_BATCH_BYTES).min(MAX_BATCH_BYTES),
            tail,
            buf: String::new(),
            count: 0,
            first_item: 0,
        }
    }

    /// Adds the item with dataset index `index`; returns the batch it closed, if any. An item
    /// too big to share a batch goes alone (the child's own size check then fails it).
    pub fn push(&mut self, index: u64, item: &RawValue) -> Option<Packed> {
        let text = item.get();
        let mut closed = None;
        if self.count > 0 {
            // `{"Items":[` + items + `]` + tail + `}`; one more item adds a comma and itself.
            let projected = self.buf.len() as u64 + 1 + text.len() as u64 + 2 + self.tail.len() as u64;
            if self.count >= self.max_items || projected > self.max_bytes {
                closed = self.take();
            }
        }
        if self.count == 0 {
            self.buf.clear();
            self.buf.push_str("{\"Items\":[");
            self.first_item = index;
        } else {
            self.buf.push(',');
        }
        self.buf.push_str(text);
        self.count += 1;
        closed
    }

    /// Closes the open batch, if any.
    pub fn take(&mut self) -> Option<Packed> {
        if self.count == 0 {
            return None;
        }
        let mut input = std::mem::take(&mut self.buf);
        input.push(']');
        input.push_str(&self.tail);
        input.push('}');
        let packed = Packed { first_item: self.first_item, item_count: self.count, input };
        self.count = 0;
        Some(packed)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).unwrap_or_else(|_| panic!("bad json {s}"))
    }

    fn check(
        max_items: Option<u64>,
        max_bytes: Option<u64>,
        items: &[&str],
        expected: &[(u64, u64, serde_json::Value)],
    ) {
        let mut b = Batcher::new(max_items, max_bytes, Some(&json!({"k": 1})));
        let mut got = Vec::new();
        for (i, it) in items.iter().enumerate() {
            got.extend(b.push(i as u64, &raw(it)));
        }
        got.extend(b.take());
        let got: Vec<(u64, u64, serde_json::Value)> = got
            .into_iter()
            .map(|p| (p.first_item, p.item_count, serde_json::from_str(&p.input).unwrap_or_default()))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn packs_by_count_sequentially() {
        check(
            Some(2),
            None,
            &["1", "2", "3"],
            &[
                (0, 2, json!({"Items": [1, 2], "BatchInput": {"k": 1}})),
                (2, 1, json!({"Items": [3], "BatchInput": {"k": 1}})),
            ],
        );
    }

    #[test]
    fn packs_by_bytes_of_the_whole_child_input() {
        // {"Items":[1,2],"BatchInput":{"k":1}} is 36 bytes; a third item would make it 38.
        check(
            None,
            Some(37),
            &["1", "2", "3"],
            &[
                (0, 2, json!({"Items": [1, 2], "BatchInput": {"k": 1}})),
                (2, 1, json!({"Items": [3], "BatchInput": {"k": 1}})),
            ],
        );
    }

    #[test]
    fn eleven_batches_of_a_hundred_and_one_of_thirty() {
        let items: Vec<String> = (0..1130).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = items.iter().map(String::as_str).collect();
        let mut b = Batcher::new(Some(100), None, None);
        let mut sizes = Vec::new();
        for (i, it) in refs.iter().enumerate() {
            sizes.extend(b.push(i as u64, &raw(it)).map(|p| p.item_count));
        }
        sizes.extend(b.take().map(|p| p.item_count));
        assert_eq!(sizes.len(), 12);
        assert!(sizes[..11].iter().all(|&n| n == 100));
        assert_eq!(sizes[11], 30);
    }
}
