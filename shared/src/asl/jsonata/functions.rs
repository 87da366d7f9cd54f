//! The functions Step Functions adds to JSONata (`$partition`, `$range`, `$hash`, `$parse`;
//! `$random` and `$uuid` are in [`random`](super::random)), and the one it takes away
//! (`$eval`).
//!
//! AWS documents them in "Transforming data with JSONata in Step Functions"
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html>): integer
//! parameters round non-integers down; `$range`'s step may be negative; `$hash` takes MD5,
//! SHA-1, SHA-256, SHA-384 or SHA-512. An undefined first argument gives undefined, as for
//! JSONata's own functions. AWS's error texts for bad arguments are not documented; ours name
//! the function and the rule broken.

use std::sync::OnceLock;

use jlens_core::{Ast, Bindings, HostFunction, NodeKind};
use md5::Md5;
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::CompileError;

/// The names of AWS's functions, as bound (without `$`).
const AWS: [&str; 6] = ["partition", "range", "hash", "parse", "random", "uuid"];

/// The most items `$range` builds: the crate's own limit on an array an evaluation builds.
const MAX_RANGE_ITEMS: i64 = 16_777_216;

pub(super) fn is_aws(name: &str) -> bool {
    AWS.contains(&name)
}

/// The bindings every evaluation starts from: AWS's functions that need no per-evaluation
/// state. Built once; cloning them copies one `Arc`.
pub(super) fn aws() -> &'static Bindings {
    static AWS_BINDINGS: OnceLock<Bindings> = OnceLock::new();
    AWS_BINDINGS.get_or_init(|| {
        Bindings::new()
            .function("partition", HostFunction::new(2, partition).without_input())
            .function("range", HostFunction::new(3, range).without_input())
            .function("hash", HostFunction::new(2, hash).without_input())
            .function("parse", HostFunction::new(1, parse).without_input())
    })
}

/// Refuses `$eval`, which Step Functions does not provide (AWS's advice is `$parse`).
pub(super) fn refuse_unsupported(ast: &Ast) -> Result<(), CompileError> {
    let mut refused = false;
    ast.root.walk(&mut |node| {
        if matches!(&node.kind, NodeKind::Variable { name } if name == "eval") {
            refused = true;
        }
    });
    if refused {
        return Err(CompileError {
            code: "eval".to_owned(),
            message: "The JSONata function $eval is not supported".to_owned(),
        });
    }
    Ok(())
}

/// An error raised by AWS function `function`.
pub(super) fn aws_error(function: &str, message: impl Into<String>) -> jlens_core::Error {
    jlens_core::Error::new(function).with("message", message.into())
}

/// An integer parameter: a number, rounded down.
pub(super) fn integer_argument(function: &str, parameter: &str, value: &Value) -> Result<i64, jlens_core::Error> {
    match value.as_f64() {
        Some(number) if number.is_finite() && number.abs() < 9.0e15 => Ok(number.floor() as i64),
        _ => Err(aws_error(
            function,
            format!("The {parameter} argument of ${function} must be a number, but was {value}"),
        )),
    }
}

type Args<'a> = &'a [Option<Value>];
type Outcome = Result<Option<Value>, jlens_core::Error>;

/// The `index`th argument, required.
fn required<'a>(function: &str, args: Args<'a>, index: usize, name: &str) -> Result<&'a Value, jlens_core::Error> {
    args.get(index)
        .and_then(Option::as_ref)
        .ok_or_else(|| aws_error(function, format!("The function ${function} requires the argument {name}")))
}

/// `$partition(array, size)`: the array in chunks of `size`, the last one possibly shorter.
fn partition(args: Args<'_>, _call: &jlens_core::HostCall<'_>) -> Outcome {
    let Some(array) = args.first().and_then(Option::as_ref) else {
        return Ok(None);
    };
    let Value::Array(items) = array else {
        return Err(aws_error(
            "partition",
            format!("The array argument of $partition must be an array, but was {array}"),
        ));
    };
    let size = integer_argument("partition", "size", required("partition", args, 1, "size")?)?;
    if size < 1 {
        return Err(aws_error(
            "partition",
            format!("The size argument of $partition must be a positive integer, but was {size}"),
        ));
    }
    let chunks =
        items.chunks(usize::try_from(size).unwrap_or(usize::MAX)).map(|chunk| Value::Array(chunk.to_vec())).collect();
    Ok(Some(Value::Array(chunks)))
}

/// `$range(start, end, step)`: `start`, `start + step`, … up to and including `end`.
fn range(args: Args<'_>, _call: &jlens_core::HostCall<'_>) -> Outcome {
    let Some(start) = args.first().and_then(Option::as_ref) else {
        return Ok(None);
    };
    let start = integer_argument("range", "start", start)?;
    let end = integer_argument("range", "end", required("range", args, 1, "end")?)?;
    let step = integer_argument("range", "step", required("range", args, 2, "step")?)?;
    if step == 0 {
        return Err(aws_error("range", "The step argument of $range must not be 0"));
    }
    let count = if (end - start).signum() == -step.signum() { 0 } else { (end - start) / step + 1 };
    if count > MAX_RANGE_ITEMS {
        return Err(aws_error("range", format!("$range would build {count} items, more than {MAX_RANGE_ITEMS}")));
    }
    let mut items: Vec<Value> = (0..count).map(|i| Value::from(start + i * step)).collect();
    // A range of one number is that number, as a JSONata sequence of one is: recorded on AWS
    // (`$range(1, 9, 9)` gave `1`; case intrinsic_functions.test_array_jsonata.test_array_range).
    if items.len() == 1 {
        return Ok(items.pop());
    }
    Ok(Some(Value::Array(items)))
}

/// `$hash(value, algorithm)`: the hexadecimal digest of a string's UTF-8 bytes.
fn hash(args: Args<'_>, _call: &jlens_core::HostCall<'_>) -> Outcome {
    let Some(value) = args.first().and_then(Option::as_ref) else {
        return Ok(None);
    };
    let Value::String(text) = value else {
        return Err(aws_error("hash", format!("The value argument of $hash must be a string, but was {value}")));
    };
    let algorithm = required("hash", args, 1, "algorithm")?;
    let bytes = text.as_bytes();
    let digest = match algorithm.as_str() {
        Some("MD5") => hex::encode(Md5::digest(bytes)),
        Some("SHA-1") => hex::encode(Sha1::digest(bytes)),
        Some("SHA-256") => hex::encode(Sha256::digest(bytes)),
        Some("SHA-384") => hex::encode(Sha384::digest(bytes)),
        Some("SHA-512") => hex::encode(Sha512::digest(bytes)),
        _ => {
            return Err(aws_error(
                "hash",
                format!(
                    "The algorithm argument of $hash must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512, but was {algorithm}"
                ),
            ));
        }
    };
    Ok(Some(Value::String(digest)))
}

/// `$parse(jsonString)`: the JSON value a string holds.
fn parse(args: Args<'_>, _call: &jlens_core::HostCall<'_>) -> Outcome {
    let Some(value) = args.first().and_then(Option::as_ref) else {
        return Ok(None);
    };
    let Value::String(text) = value else {
        return Err(aws_error("parse", format!("The argument of $parse must be a string, but was {value}")));
    };
    serde_json::from_str(text)
        .map(Some)
        .map_err(|error| aws_error("parse", format!("$parse could not parse its argument as JSON: {error}")))
}
