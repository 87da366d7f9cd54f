//! Math functions: `States.MathAdd`, `States.MathRandom`, and the rounding AWS applies to every
//! argument that must be an integer.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::Value;

use super::Args;
use crate::asl::error_name::Failure;

/// Java's `Math.round`: the nearest integer, ties toward +∞ (AWS: 1.5→2, 2.5→3, −1.5→−1,
/// −2.5→−2, −0.5→0). Not `f64::round`, which sends ties away from zero.
pub(super) fn java_round(x: f64) -> f64 {
    let floor = x.floor();
    // `x - floor` is exact for every f64, so 0.49999999999999994 still rounds down.
    if x - floor >= 0.5 { floor + 1.0 } else { floor }
}

/// `States.MathAdd(a, b)`: the sum of two integers in Java's `int` range, rounded first.
pub(super) fn add(a: &Args) -> Result<Value, Failure> {
    let x = int32(a, 0)?;
    let y = int32(a, 1)?;
    Ok(Value::from(x + y))
}

fn int32(a: &Args, i: usize) -> Result<i64, Failure> {
    let v = a.int(i)?;
    if i32::try_from(v).is_err() {
        return Err(a.fail(format_args!(
            "argument {} ({v}) is outside the integer range [{}, {}]",
            i + 1,
            i32::MIN,
            i32::MAX
        )));
    }
    Ok(v)
}

/// `States.MathRandom(start, end[, seed])`: an integer with start ≤ n < end (the end is
/// exclusive, as AWS documents). The same seed always gives the same number; AWS's own
/// generator cannot be reproduced, so only that property is kept.
pub(super) fn random(a: &Args) -> Result<Value, Failure> {
    let start = a.int(0)?;
    let end = a.int(1)?;
    if start >= end {
        return Err(a.fail(format_args!("the start ({start}) must be less than the end ({end})")));
    }
    let n = if a.len() == 3 {
        let seed = a.int(2)?;
        StdRng::seed_from_u64(seed as u64).random_range(start..end)
    } else {
        StdRng::seed_from_u64(a.env.random()).random_range(start..end)
    };
    Ok(Value::from(n))
}
