//! Array functions: `States.Array`, `ArrayPartition`, `ArrayContains`, `ArrayRange`,
//! `ArrayGetItem`, `ArrayLength` and `ArrayUnique`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use serde_json::Value;

use super::Args;
use crate::asl::error_name::Failure;

/// `States.ArrayRange` may not build more elements than this.
const MAX_RANGE: i64 = 1000;

/// `States.Array(a, b, ...)`: the arguments as an array.
pub(super) fn array(a: &Args) -> Result<Value, Failure> {
    let items = (0..a.len()).map(|i| a.value(i).map(Cow::into_owned)).collect::<Result<_, _>>()?;
    Ok(Value::Array(items))
}

/// `States.ArrayPartition(array, size)`: consecutive chunks of `size`, the last one possibly
/// shorter; an empty array gives `[]`.
pub(super) fn partition(a: &Args) -> Result<Value, Failure> {
    let items = a.array(0)?;
    let size = a.int(1)?;
    if size <= 0 {
        return Err(a.fail(format_args!("the chunk size must be a positive integer, but got {size}")));
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    Ok(Value::Array(items.chunks(size).map(|c| Value::Array(c.to_vec())).collect()))
}

/// `States.ArrayContains(array, value)`: whether an element equals `value` (deep equality, so
/// `[1, 2, 3]` is found in `[[1, 2, 3], 2]`).
pub(super) fn contains(a: &Args) -> Result<Value, Failure> {
    let items = a.array(0)?;
    let wanted = a.value(1)?;
    Ok(Value::Bool(items.iter().any(|x| x == wanted.as_ref())))
}

/// `States.ArrayRange(first, last, step)`: `first`, `first + step`, … up to and including
/// `last`; `step` may be negative but not zero, and at most 1000 elements may result.
pub(super) fn range(a: &Args) -> Result<Value, Failure> {
    let (first, last, step) = (a.int(0)?, a.int(1)?, a.int(2)?);
    if step == 0 {
        return Err(a.fail("the step must not be 0"));
    }
    let span = i128::from(last) - i128::from(first);
    let count = if span == 0 || (span > 0) == (step > 0) { span / i128::from(step) + 1 } else { 0 };
    if count > i128::from(MAX_RANGE) {
        return Err(a.fail(format_args!("the range would have {count} elements, but at most {MAX_RANGE} are allowed")));
    }
    // `count` ≤ 1000, so neither the index nor the products can overflow.
    Ok(Value::Array((0..count as i64).map(|i| Value::from(first + i * step)).collect()))
}

/// `States.ArrayGetItem(array, index)`: the element at a zero-based index.
pub(super) fn get_item(a: &Args) -> Result<Value, Failure> {
    let items = a.array(0)?;
    let index = a.int(1)?;
    let len = items.len();
    match usize::try_from(index) {
        Ok(i) if i < len => Ok(match items {
            Cow::Borrowed(s) => s[i].clone(),
            Cow::Owned(mut v) => v.swap_remove(i),
        }),
        _ => Err(a.fail(format_args!("index {index} is out of bounds for an array of length {len}"))),
    }
}

/// `States.ArrayLength(array)`.
pub(super) fn length(a: &Args) -> Result<Value, Failure> {
    Ok(Value::from(a.array(0)?.len()))
}

/// `States.ArrayUnique(array)`: duplicates removed (deep equality), first occurrences kept in
/// their order. Hashing keeps long arrays linear.
pub(super) fn unique(a: &Args) -> Result<Value, Failure> {
    let items = a.array(0)?;
    let mut seen: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut out: Vec<Value> = Vec::new();
    for x in items.iter() {
        let slot = seen.entry(hash_of(x)).or_default();
        if slot.iter().all(|&i| out[i] != *x) {
            slot.push(out.len());
            out.push(x.clone());
        }
    }
    Ok(Value::Array(out))
}

/// A hash consistent with `Value`'s equality: members hash independently of their order, as
/// objects compare equal whatever their key order.
fn hash_of(v: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    feed(v, &mut h);
    h.finish()
}

fn feed(v: &Value, h: &mut DefaultHasher) {
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(n) => {
            // Equal numbers have equal f64 images; `-0.0 == 0.0`, so both hash as 0.0.
            let f = n.as_f64().unwrap_or(0.0);
            (2u8, if f == 0.0 { 0 } else { f.to_bits() }).hash(h);
        }
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(items) => {
            (4u8, items.len()).hash(h);
            items.iter().for_each(|x| feed(x, h));
        }
        Value::Object(m) => {
            let sum = m.iter().fold(0u64, |acc, (k, x)| {
                let mut e = DefaultHasher::new();
                k.hash(&mut e);
                feed(x, &mut e);
                acc.wrapping_add(e.finish())
            });
            (5u8, m.len(), sum).hash(h);
        }
    }
}
