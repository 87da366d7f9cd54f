//! The one resolver of [`Operand`]s: every field that reads a number, a time or a text from
//! the state's data (`TimeoutSeconds`, `HeartbeatSeconds`, `MaxConcurrency`,
//! `ToleratedFailure*`, `MaxItems`, `MaxItemsPerBatch`, `MaxInputBytesPerBatch`, Wait
//! `Seconds`/`Timestamp`, Fail `Error`/`Cause`, a JSONata Choice rule's `Condition`), in its
//! `…Path` form or as a JSONata expression, with AWS's error texts for each in one table
//! ([`Field`]).
//!
//! Literals were checked at load; only values read at run time are checked here.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::asl::error_name::{Failure, ITEM_READER_FAILED, QUERY_EVALUATION_ERROR, RUNTIME};
use crate::asl::jsonata::Expression;
use crate::asl::model::Operand;
use crate::asl::path::template::{Expr, ExprKind, compact};
use crate::asl::path::{Env, PathError};
use crate::asl::timestamp;

use super::io::invalid_path;

/// AWS's longest wait: 99,999,999 seconds.
pub(crate) const MAX_WAIT_SECONDS: i64 = 99_999_999;

/// A field that reads data, naming its rules and texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    TimeoutSeconds,
    HeartbeatSeconds,
    MaxConcurrency,
    ToleratedFailureCount,
    ToleratedFailurePercentage,
    MaxItems,
    MaxItemsPerBatch,
    MaxInputBytesPerBatch,
    WaitSeconds,
    WaitTimestamp,
}

impl Field {
    /// The field's name in its JSONPath `…Path` form, as AWS's texts quote it.
    fn path_name(self) -> &'static str {
        match self {
            Field::TimeoutSeconds => "TimeoutSecondsPath",
            Field::HeartbeatSeconds => "HeartbeatSecondsPath",
            Field::MaxConcurrency => "MaxConcurrencyPath",
            Field::ToleratedFailureCount => "ToleratedFailureCountPath",
            Field::ToleratedFailurePercentage => "ToleratedFailurePercentagePath",
            Field::MaxItems => "MaxItemsPath",
            Field::MaxItemsPerBatch => "MaxItemsPerBatchPath",
            Field::MaxInputBytesPerBatch => "MaxInputBytesPerBatchPath",
            Field::WaitSeconds => "SecondsPath",
            Field::WaitTimestamp => "TimestampPath",
        }
    }
}

/// Resolves an integer field.
pub(crate) fn int(op: &Operand<u64>, field: Field, eff: &Value, env: &dyn Env) -> Result<u64, Failure> {
    match op {
        Operand::Literal(n) => Ok(*n),
        Operand::Expr(e) => {
            let v = read(e, field, eff, env)?;
            match &e.kind {
                ExprKind::Jsonata(j) => jsonata_int(field, &v, j, e),
                _ => check_int(field, &v, e),
            }
        }
    }
}

/// A JSONata count: an integral number within the field's range (AWS: wrong types and
/// values out of range are `States.QueryEvaluationError`s naming the expression and field).
fn jsonata_int(field: Field, v: &Value, j: &Expression, e: &Expr) -> Result<u64, Failure> {
    let n = match v {
        Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|x| x.fract() == 0.0 && x.abs() < 9.0e15).map(|x| x as i64))
        }
        _ => None,
    };
    let Some(n) = n else {
        return Err(crate::asl::jsonata::field::unexpected_type(j, &e.field, "integer", v));
    };
    let (min, max) = match field {
        Field::TimeoutSeconds | Field::HeartbeatSeconds | Field::MaxItemsPerBatch | Field::MaxInputBytesPerBatch => {
            (1, i64::MAX)
        }
        Field::WaitSeconds => (0, MAX_WAIT_SECONDS),
        _ => (0, i64::MAX),
    };
    if n < min || n > max {
        return Err(Failure::new(
            QUERY_EVALUATION_ERROR,
            format!(
                "The JSONata expression '{}' specified for the field '{}' returned the value {n}, out of the range {min} to {max}.",
                crate::asl::jsonata::field::shown_text(j),
                e.field
            ),
        ));
    }
    Ok(n as u64)
}

/// Resolves `ToleratedFailurePercentage`.
pub(crate) fn percentage(op: &Operand<f64>, eff: &Value, env: &dyn Env) -> Result<f64, Failure> {
    let field = Field::ToleratedFailurePercentage;
    match op {
        Operand::Literal(x) => Ok(*x),
        Operand::Expr(e) => {
            let v = read(e, field, eff, env)?;
            if let ExprKind::Jsonata(j) = &e.kind
                && !v.is_number()
            {
                return Err(crate::asl::jsonata::field::unexpected_type(j, &e.field, "number", &v));
            }
            match lenient_f64(&v) {
                Some(x) if !(0.0..=100.0).contains(&x) => {
                    Err(Failure::new(RUNTIME, "ToleratedFailurePercentage must be between 0 and 100."))
                }
                Some(x) => Ok(x),
                None => Err(not_valid(field, &v, "float", e)),
            }
        }
    }
}

/// Resolves a Wait state's `Timestamp` (or `TimestampPath`).
pub(crate) fn timestamp(op: &Operand<DateTime<Utc>>, eff: &Value, env: &dyn Env) -> Result<DateTime<Utc>, Failure> {
    match op {
        Operand::Literal(t) => Ok(*t),
        Operand::Expr(e) => {
            let v = read(e, Field::WaitTimestamp, eff, env)?;
            match v.as_str().and_then(timestamp::parse) {
                Some(t) => Ok(t),
                None if matches!(e.kind, ExprKind::Jsonata(_)) => Err(Failure::new(
                    QUERY_EVALUATION_ERROR,
                    format!(
                        "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {}",
                        shown(&v)
                    ),
                )),
                None => Err(Failure::new(
                    RUNTIME,
                    format!(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                        expr_text(e),
                        shown(&v)
                    ),
                )),
            }
        }
    }
}

/// Resolves a JSONata Choice rule's `Condition`, which must give a boolean.
pub(crate) fn condition(op: &Operand<bool>, input: &Value, env: &dyn Env) -> Result<bool, Failure> {
    match op {
        Operand::Literal(b) => Ok(*b),
        Operand::Expr(e) => match e.eval(input, env)? {
            Value::Bool(b) => Ok(b),
            other => Err(match &e.kind {
                ExprKind::Jsonata(j) => crate::asl::jsonata::field::unexpected_type(j, &e.field, "boolean", &other),
                _ => Failure::new(
                    QUERY_EVALUATION_ERROR,
                    format!("The Condition field must give a boolean, got {}", compact(&other)),
                ),
            }),
        },
    }
}

/// Resolves a Fail state's `Error` or `Cause`: strings as they are, anything else as JSON.
pub(crate) fn text(op: &Operand<String>, raw: &Value, env: &dyn Env) -> Result<String, Failure> {
    match op {
        Operand::Literal(s) => Ok(s.clone()),
        Operand::Expr(e) => Ok(match e.eval(raw, env)? {
            Value::String(s) => s,
            other => compact(&other),
        }),
    }
}

/// Reads an expression's value, with the field's text when a path finds nothing.
fn read<'v>(e: &Expr, field: Field, eff: &'v Value, env: &'v dyn Env) -> Result<Cow<'v, Value>, Failure> {
    match &e.kind {
        ExprKind::Path(p) => p.select_ref(eff, env).map(Cow::Borrowed).map_err(|err| match (field, err) {
            (Field::WaitSeconds | Field::WaitTimestamp, PathError::NotFound { .. }) => Failure::new(
                RUNTIME,
                format!("The {} parameter does not reference an input value: {}", field.path_name(), p.text()),
            ),
            (_, err) => invalid_path(p, err),
        }),
        ExprKind::Call(_) | ExprKind::Jsonata(_) => e.eval(eff, env).map(Cow::Owned),
    }
}

fn check_int(field: Field, v: &Value, e: &Expr) -> Result<u64, Failure> {
    match field {
        // Task timeouts take JSON integers only.
        Field::TimeoutSeconds | Field::HeartbeatSeconds => match v.as_u64() {
            Some(n) if n > 0 => Ok(n),
            _ => Err(Failure::new(
                RUNTIME,
                format!(
                    "The {} field refers to value \"{}\" which is not a valid positive integer: {}",
                    field.path_name(),
                    shown(v),
                    expr_text(e)
                ),
            )),
        },
        Field::MaxConcurrency => match lenient_i64(v) {
            Some(n) if n >= 0 => Ok(n as u64),
            Some(n) => Err(Failure::new(
                RUNTIME,
                format!("Expected non-negative integer for MaxConcurrency, got '{n}' instead."),
            )),
            None => Err(not_valid(field, v, "integer", e)),
        },
        Field::ToleratedFailureCount => match lenient_i64(v) {
            Some(n) if n >= 0 => Ok(n as u64),
            Some(_) => Err(Failure::new(RUNTIME, "ToleratedFailureCount cannot be negative.")),
            None => Err(not_valid(field, v, "integer", e)),
        },
        Field::MaxItems => match lenient_i64(v) {
            Some(n) if n >= 0 => Ok(n as u64),
            // A negative value fails the Map Run, not the state's evaluation.
            Some(_) => Err(Failure::new(ITEM_READER_FAILED, "field MaxItems must be positive")),
            None => Err(not_valid(field, v, "integer", e)),
        },
        Field::MaxItemsPerBatch | Field::MaxInputBytesPerBatch => match lenient_i64(v) {
            Some(n) if n > 0 => Ok(n as u64),
            _ => Err(not_valid(field, v, "positive integer", e)),
        },
        Field::WaitSeconds => {
            let secs = match v {
                Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64().unwrap_or(i64::MAX),
                other => {
                    return Err(Failure::new(
                        RUNTIME,
                        format!(
                            "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                            expr_text(e),
                            shown(other)
                        ),
                    ));
                }
            };
            if secs < 0 {
                return Err(Failure::new(
                    RUNTIME,
                    format!("The SecondsPath parameter references a negative value: {} == {secs}", expr_text(e)),
                ));
            }
            if secs > MAX_WAIT_SECONDS {
                return Err(Failure::new(RUNTIME, "Wait state delay is too long."));
            }
            Ok(secs.unsigned_abs())
        }
        Field::ToleratedFailurePercentage | Field::WaitTimestamp => {
            unreachable!("{field:?} is not an integer field")
        }
    }
}

/// An integer given as a JSON number or as a string holding one (AWS accepts `"2"`).
pub(crate) fn lenient_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_u64().map(|u| u.min(i64::MAX as u64) as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn lenient_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok().filter(|x: &f64| x.is_finite()),
        _ => None,
    }
}

/// AWS's text for a `…Path` field whose value has the wrong type.
fn not_valid(field: Field, v: &Value, kind: &str, e: &Expr) -> Failure {
    let shown = match v {
        Value::String(s) => s.clone(),
        other => compact(other),
    };
    Failure::new(
        RUNTIME,
        format!(
            "The {} field refers to value \"{shown}\" which is not a valid {kind}: {}",
            field.path_name(),
            expr_text(e)
        ),
    )
}

fn expr_text(e: &Expr) -> &str {
    match &e.kind {
        ExprKind::Path(p) => p.text(),
        ExprKind::Call(_) => &e.field,
        ExprKind::Jsonata(j) => crate::asl::jsonata::field::shown_text(j),
    }
}

/// A value as AWS shows it in these texts: strings bare, everything else as JSON.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
