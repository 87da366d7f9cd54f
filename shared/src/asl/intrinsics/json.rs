//! JSON functions: `States.StringToJson`, `States.JsonToString` and `States.JsonMerge`.

use serde_json::{Map, Value};

use super::Args;
use crate::asl::error_name::Failure;

/// `States.StringToJson(s)`: parses `s`. An empty or blank string gives `null` (observed on
/// AWS for `""` and `" "`).
pub(super) fn string_to_json(a: &Args) -> Result<Value, Failure> {
    let s = a.string(0)?;
    let text = s.trim_matches([' ', '\t', '\n', '\r']);
    if text.is_empty() {
        return Ok(Value::Null);
    }
    let mut v: Value =
        serde_json::from_str(text).map_err(|e| a.fail(format_args!("the argument is not valid JSON: {e}")))?;
    positive_zero(&mut v);
    Ok(v)
}

/// AWS parses `"-0"` into the integer `0`, while serde_json keeps a float `-0.0`, which would
/// print as `-0.0`. (Jackson keeps `-0.0` written as a float; the two cannot be told apart
/// after parsing, and `-0` is the form seen in practice.)
fn positive_zero(v: &mut Value) {
    match v {
        Value::Number(n) if n.is_f64() && n.as_f64().is_some_and(|f| f == 0.0 && f.is_sign_negative()) => {
            *v = Value::from(0);
        }
        Value::Array(items) => items.iter_mut().for_each(positive_zero),
        Value::Object(m) => m.values_mut().for_each(positive_zero),
        _ => {}
    }
}

/// `States.JsonToString(v)`: compact JSON text, keys in their order.
pub(super) fn json_to_string(a: &Args) -> Result<Value, Failure> {
    let v = a.value(0)?;
    serde_json::to_string(v.as_ref()).map(Value::String).map_err(|e| a.fail(e))
}

/// `States.JsonMerge(a, b, false)`: a shallow merge in which `b`'s members replace `a`'s. Deep
/// merging (`true`) is not supported by AWS.
///
/// The result's members come out in the iteration order of a Java `HashMap`, not in insertion
/// order: AWS returned `{"a":…, "b":…, "c":…, "d":…}` for `{a, b, d}` merged with `{a, c, d}`,
/// and `constant_input_field` before `constant_in_literal` when the latter came first.
pub(super) fn merge(a: &Args) -> Result<Value, Failure> {
    let mut merged = a.object(0)?;
    let other = a.object(1)?;
    if a.boolean(2)? {
        return Err(a.fail("deep merging is not supported; the third argument must be false"));
    }
    for (k, v) in other {
        merged.insert(k, v);
    }
    Ok(Value::Object(java_hash_map_order(merged)))
}

/// Reorders members as a `java.util.HashMap` filled by successive `put`s iterates them: by
/// bucket (the spread `String.hashCode` masked by the table size), then by insertion within a
/// bucket. The table starts at 16 buckets and doubles whenever it is more than 3/4 full.
fn java_hash_map_order(m: Map<String, Value>) -> Map<String, Value> {
    let mut buckets = 16usize;
    while m.len() > buckets / 4 * 3 {
        buckets *= 2;
    }
    let mut entries: Vec<(usize, (String, Value))> = m
        .into_iter()
        .map(|(k, v)| {
            let h = java_string_hash(&k);
            ((h ^ (h >> 16)) as usize & (buckets - 1), (k, v))
        })
        .collect();
    // A stable sort keeps insertion order within a bucket.
    entries.sort_by_key(|e| e.0);
    entries.into_iter().map(|(_, kv)| kv).collect()
}

/// Java's `String.hashCode`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units, wrapping.
fn java_string_hash(s: &str) -> u32 {
    s.encode_utf16().fold(0u32, |h, c| h.wrapping_mul(31).wrapping_add(u32::from(c)))
}

#[cfg(test)]
mod tests {
    use super::java_string_hash;

    #[test]
    fn java_hash_codes() {
        // Values of "abc".hashCode() and "Hello".hashCode() in Java.
        assert_eq!(java_string_hash("abc") as i32, 96354);
        assert_eq!(java_string_hash("Hello") as i32, 69609650);
        assert_eq!(java_string_hash(""), 0);
    }
}
