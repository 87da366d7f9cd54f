//! A reader over one JSON object of the definition that remembers which keys were consumed,
//! so every unknown key can be reported, and that turns type problems into diagnostics.

use serde_json::{Map, Value};

use crate::asl::diagnostic::{Diagnostics, code, pointer_push};

pub(crate) struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    pub ptr: String,
    seen: Vec<&'a str>,
}

impl<'a> Obj<'a> {
    pub fn new(map: &'a Map<String, Value>, ptr: &str) -> Self {
        Obj { map, ptr: ptr.to_string(), seen: Vec::with_capacity(map.len()) }
    }

    /// Wraps a value that must be an object; reports it otherwise.
    pub fn expect(v: &'a Value, ptr: &str, what: &str, diags: &mut Diagnostics) -> Option<Self> {
        match v {
            Value::Object(m) => Some(Obj::new(m, ptr)),
            _ => {
                diags.error(ptr, code::WRONG_TYPE, format!("{what} must be a JSON object"));
                None
            }
        }
    }

    pub fn at(&self, key: &str) -> String {
        pointer_push(&self.ptr, key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// Whether `key` was read already.
    pub fn is_seen(&self, key: &str) -> bool {
        self.seen.contains(&key)
    }

    /// Marks `key` as known and returns its value.
    pub fn get(&mut self, key: &'a str) -> Option<&'a Value> {
        let (k, v) = self.map.get_key_value(key)?;
        self.seen.push(k.as_str());
        Some(v)
    }

    pub fn string(&mut self, key: &'a str, diags: &mut Diagnostics) -> Option<&'a str> {
        match self.get(key)? {
            Value::String(s) => Some(s),
            _ => {
                diags.error(&self.at(key), code::WRONG_TYPE, format!("{key} must be a string"));
                None
            }
        }
    }

    pub fn required_string(&mut self, key: &'a str, diags: &mut Diagnostics) -> Option<&'a str> {
        if !self.has(key) {
            diags.error(&self.ptr, code::MISSING_FIELD, format!("the field '{key}' is required"));
            return None;
        }
        self.string(key, diags)
    }

    pub fn bool(&mut self, key: &'a str, diags: &mut Diagnostics) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(*b),
            _ => {
                diags.error(&self.at(key), code::WRONG_TYPE, format!("{key} must be a boolean"));
                None
            }
        }
    }

    /// A non-negative integer no larger than `max`. `min` is the smallest accepted value.
    pub fn uint(&mut self, key: &'a str, min: u64, max: u64, diags: &mut Diagnostics) -> Option<u64> {
        let v = self.get(key)?;
        match as_integer(v) {
            Some(n) if n >= min as i128 && n <= max as i128 => Some(n as u64),
            Some(_) => {
                diags.error(
                    &self.at(key),
                    code::INVALID_VALUE,
                    format!("{key} must be between {min} and {max}, got {v}"),
                );
                None
            }
            None => {
                diags.error(&self.at(key), code::WRONG_TYPE, format!("{key} must be an integer, got {v}"));
                None
            }
        }
    }

    pub fn number(&mut self, key: &'a str, diags: &mut Diagnostics) -> Option<f64> {
        match self.get(key)? {
            Value::Number(n) => n.as_f64(),
            v => {
                diags.error(&self.at(key), code::WRONG_TYPE, format!("{key} must be a number, got {v}"));
                None
            }
        }
    }

    pub fn object(&mut self, key: &'a str, diags: &mut Diagnostics) -> Option<Obj<'a>> {
        let ptr = self.at(key);
        let v = self.get(key)?;
        Obj::expect(v, &ptr, key, diags)
    }

    pub fn array(&mut self, key: &'a str, diags: &mut Diagnostics) -> Option<&'a Vec<Value>> {
        match self.get(key)? {
            Value::Array(a) => Some(a),
            _ => {
                diags.error(&self.at(key), code::WRONG_TYPE, format!("{key} must be an array"));
                None
            }
        }
    }

    /// Reports both keys when a field and its `Path` twin are given together.
    pub fn exclusive(&mut self, a: &'a str, b: &'a str, diags: &mut Diagnostics) {
        // Both are known fields: reading them keeps them out of the unknown-field report.
        self.get(a);
        self.get(b);
        if self.has(a) && self.has(b) {
            diags.error(&self.at(b), code::MUTUALLY_EXCLUSIVE, format!("'{a}' and '{b}' cannot both be set"));
        }
    }

    /// Reports every key that was never read. `context` names the object for the message.
    pub fn finish(&self, context: &str, diags: &mut Diagnostics) {
        for k in self.map.keys() {
            if !self.seen.contains(&k.as_str()) {
                diags.error(
                    &pointer_push(&self.ptr, k),
                    code::UNKNOWN_FIELD,
                    format!("the field '{k}' is not supported in {context}"),
                );
            }
        }
    }
}

/// An integral JSON number (`3` or `3.0`), as i128 so that range checks cannot overflow.
pub fn as_integer(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(i as i128)
            } else if let Some(u) = n.as_u64() {
                Some(u as i128)
            } else {
                let f = n.as_f64()?;
                (f.fract() == 0.0 && f.abs() < 1e30).then_some(f as i128)
            }
        }
        _ => None,
    }
}
