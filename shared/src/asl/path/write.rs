//! Writing into a value at a reference path (ResultPath, catcher ResultPath).

use serde_json::{Map, Value};

use super::Segment;

pub(super) fn write(segs: &[Segment], target: Value, value: Value) -> Result<Value, String> {
    let Some((first, rest)) = segs.split_first() else {
        return Ok(value);
    };
    match (first, target) {
        (Segment::Name(n), Value::Object(mut m)) => {
            // Replacing an existing key keeps its position, as AWS does.
            if rest.is_empty() {
                m.insert(n.clone(), value);
                return Ok(Value::Object(m));
            }
            match m.get_mut(n) {
                Some(slot) => {
                    let child = std::mem::take(slot);
                    let base = if child.is_null() { Value::Object(Map::new()) } else { child };
                    *slot = write(rest, base, value)?;
                }
                None => {
                    let child = write(rest, Value::Object(Map::new()), value)?;
                    m.insert(n.clone(), child);
                }
            }
            Ok(Value::Object(m))
        }
        (Segment::Index(i), Value::Array(mut a)) => {
            let i = usize::try_from(*i).map_err(|_| "negative index".to_string())?;
            if i >= a.len() {
                return Err(format!("index {i} is out of bounds"));
            }
            let child = std::mem::take(&mut a[i]);
            a[i] = write(rest, child, value)?;
            Ok(Value::Array(a))
        }
        (Segment::Name(n), other) => Err(format!("cannot set field '{n}' on a value of type {}", type_name(&other))),
        (_, other) => Err(format!("cannot index a value of type {}", type_name(&other))),
    }
}

/// Whether [`write`] would succeed, and its error if not, without touching `target`: the
/// caller quotes the untouched input in the error, and checking first spares serialising it
/// for every write that succeeds. `None` stands for the fresh object a write creates.
pub(super) fn check(segs: &[Segment], target: Option<&Value>) -> Result<(), String> {
    let Some((first, rest)) = segs.split_first() else {
        return Ok(());
    };
    match (first, target) {
        (Segment::Name(_), None) => check(rest, None),
        (Segment::Name(n), Some(Value::Object(m))) => match m.get(n) {
            _ if rest.is_empty() => Ok(()),
            Some(child) if !child.is_null() => check(rest, Some(child)),
            _ => check(rest, None),
        },
        (Segment::Index(i), Some(Value::Array(a))) => {
            let i = usize::try_from(*i).map_err(|_| "negative index".to_string())?;
            match a.get(i) {
                Some(child) => check(rest, Some(child)),
                None => Err(format!("index {i} is out of bounds")),
            }
        }
        (_, None) => Err("cannot index a value of type object".to_string()),
        (Segment::Name(n), Some(other)) => {
            Err(format!("cannot set field '{n}' on a value of type {}", type_name(other)))
        }
        (_, Some(other)) => Err(format!("cannot index a value of type {}", type_name(other))),
    }
}

/// A JSON value's type with its article (`a string`, `an object`, `null`), for causes and
/// parameter errors that say what was given.
pub fn type_with_article(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON value's type as JSONata and AWS's causes name it (`null`, `boolean`, `number`,
/// `string`, `array`, `object`).
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
