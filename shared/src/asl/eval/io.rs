//! JSONPath input/output processing: InputPath → Parameters → (work) → ResultSelector →
//! ResultPath → OutputPath, with AWS's null semantics and error texts.
//!
//! The raw state input is borrowed, not cloned, while the effective input is computed: most
//! states use `InputPath: $`, and cloning the input for every state would dominate the cost
//! of small child executions.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::asl::bound::{Bound, MAX_DEPTH};
use crate::asl::error_name::{DATA_LIMIT_EXCEEDED, Failure, RESULT_PATH_MATCH_FAILURE, RUNTIME};
use crate::asl::model::{PathOrNull, ResultPath};
use crate::asl::path::template::compact;
use crate::asl::path::{Env, Path, PathError, Template};

/// The largest state input or output AWS accepts (256 KiB of UTF-8).
pub const MAX_PAYLOAD_BYTES: usize = 262_144;

/// Applies `InputPath` (or `OutputPath`): `$` keeps the value, null gives `{}`.
pub(crate) fn select<'v>(p: &PathOrNull, value: &'v Value, env: &dyn Env) -> Result<Cow<'v, Value>, Failure> {
    match p {
        PathOrNull::Root => Ok(Cow::Borrowed(value)),
        PathOrNull::Null => Ok(Cow::Owned(Value::Object(Map::new()))),
        PathOrNull::Path(path) => select_path(path, value, env).map(Cow::Owned),
    }
}

/// Like [`select`] but consumes the value, so `$` costs nothing.
pub(crate) fn select_owned(p: &PathOrNull, value: Value, env: &dyn Env) -> Result<Value, Failure> {
    match p {
        PathOrNull::Root => Ok(value),
        PathOrNull::Null => Ok(Value::Object(Map::new())),
        PathOrNull::Path(path) => select_path(path, &value, env),
    }
}

fn select_path(path: &Path, value: &Value, env: &dyn Env) -> Result<Value, Failure> {
    path.select(value, env).map_err(|e| invalid_path(path, e))
}

/// AWS's cause for a path that selects nothing in InputPath/OutputPath/ItemsPath.
pub(crate) fn invalid_path(path: &Path, e: PathError) -> Failure {
    Failure::new(RUNTIME, format!("Invalid path '{}' : {}", path.text(), e.message()))
}

/// Evaluates an optional template; without one the value passes through.
pub(crate) fn apply_template<'v>(
    t: Option<&Template>,
    value: Cow<'v, Value>,
    env: &dyn Env,
) -> Result<Cow<'v, Value>, Failure> {
    match t {
        None => Ok(value),
        Some(t) => t.eval(&value, env).map(Cow::Owned),
    }
}

/// Combines the raw state input with a result according to `ResultPath`.
pub(crate) fn result_path(rp: &ResultPath, raw_input: Value, result: Value) -> Result<Value, Failure> {
    match rp {
        ResultPath::Replace => Ok(result),
        ResultPath::Discard => Ok(raw_input),
        ResultPath::At(path) => {
            // Checked first, so that the input is serialised for the message only when it is
            // needed: the write itself consumes it.
            let cannot = |e: String, input: &Value| {
                Failure::new(
                    RESULT_PATH_MATCH_FAILURE,
                    format!("Unable to apply ResultPath \"{}\" to input \"{}\": {e}", path.text(), compact(input)),
                )
            };
            if let Err(e) = path.check_write(&raw_input) {
                return Err(cannot(e, &raw_input));
            }
            path.write(raw_input, result).map_err(|e| cannot(e, &Value::Null))
        }
    }
}

/// Fails with `States.DataLimitExceeded` when a measurement ([`crate::asl::bound::measure`])
/// of what a state `did` is past the size limit or the depth limit.
pub(crate) fn check_bound(state_name: &str, did: &str, m: Bound, max_bytes: usize) -> Result<(), Failure> {
    if m.size > max_bytes {
        return Err(Failure::new(
            DATA_LIMIT_EXCEEDED,
            format!(
                "The state/task '{state_name}' {did} with a size exceeding the maximum number of bytes service limit."
            ),
        ));
    }
    if m.depth > MAX_DEPTH {
        return Err(Failure::new(
            DATA_LIMIT_EXCEEDED,
            format!(
                "The state/task '{state_name}' {did} nested deeper than {MAX_DEPTH} levels, the most JSON that dmap reads back."
            ),
        ));
    }
    Ok(())
}

/// The length of `v` serialised as compact JSON, counting at most up to `limit` (the walk
/// stops early once past it). Avoids serialising every state output just to measure it.
pub fn json_size(v: &Value, limit: usize) -> usize {
    fn walk(v: &Value, acc: &mut usize, limit: usize) {
        if *acc > limit {
            return;
        }
        match v {
            Value::Null => *acc += 4,
            Value::Bool(b) => *acc += if *b { 4 } else { 5 },
            Value::Number(n) => *acc += number_len(n),
            Value::String(s) => *acc += string_len(s),
            Value::Array(a) => {
                *acc += 2 + a.len().saturating_sub(1);
                for x in a {
                    walk(x, acc, limit);
                }
            }
            Value::Object(m) => {
                *acc += 2 + m.len().saturating_sub(1) + m.len();
                for (k, x) in m {
                    *acc += string_len(k);
                    walk(x, acc, limit);
                }
            }
        }
    }
    let mut acc = 0;
    walk(v, &mut acc, limit);
    acc
}

pub(crate) fn number_len(n: &serde_json::Number) -> usize {
    if let Some(i) = n.as_i64() {
        let mut len = if i < 0 { 2 } else { 1 };
        let mut x = i.unsigned_abs();
        while x >= 10 {
            x /= 10;
            len += 1;
        }
        len
    } else {
        n.to_string().len()
    }
}

pub(crate) fn string_len(s: &str) -> usize {
    let mut n = 2;
    for b in s.bytes() {
        n += match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        };
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_size_matches_serde() {
        for v in [
            json!(null),
            json!({"a": [1, -20, 3.5, true, false, null], "b\"": "x\ny\u{1}é"}),
            json!([]),
            json!({}),
            json!([{"k": {}}, "s"]),
        ] {
            assert_eq!(json_size(&v, usize::MAX), serde_json::to_string(&v).map(|s| s.len()).unwrap_or(0), "{v}");
        }
    }
}
