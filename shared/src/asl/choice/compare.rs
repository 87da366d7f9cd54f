//! The comparison operators of JSONPath Choice rules: which operator names exist, how each
//! operand is validated and compiled, and how a selected value is tested.
//!
//! Comparisons are type-strict, as AWS documents: a value of the wrong type makes the test
//! false, it is never coerced (`"1"` is not `NumericEquals: 1`). This module never sees a
//! missing `Variable`; [`super::Rule::eval`] decides what that means.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::matches::Pattern;
use crate::asl::diagnostic::{Diagnostics, code};
use crate::asl::error_name::Failure;
use crate::asl::path::{Env, Path};
use crate::asl::timestamp;

/// The relation an ordering operator asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Equals,
    LessThan,
    GreaterThan,
    LessThanEquals,
    GreaterThanEquals,
}

impl Cmp {
    /// Operator name suffixes, longest first so `LessThanEquals` is not read as `LessThan`.
    const SUFFIXES: [(&'static str, Cmp); 5] = [
        ("GreaterThanEquals", Cmp::GreaterThanEquals),
        ("LessThanEquals", Cmp::LessThanEquals),
        ("GreaterThan", Cmp::GreaterThan),
        ("LessThan", Cmp::LessThan),
        ("Equals", Cmp::Equals),
    ];

    fn holds(self, o: Ordering) -> bool {
        match self {
            Cmp::Equals => o == Ordering::Equal,
            Cmp::LessThan => o == Ordering::Less,
            Cmp::GreaterThan => o == Ordering::Greater,
            Cmp::LessThanEquals => o != Ordering::Greater,
            Cmp::GreaterThanEquals => o != Ordering::Less,
        }
    }
}

/// What a comparison compares against: a literal from the definition, or (for the `…Path`
/// operators) the value at another reference path, read at evaluation time.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand<T> {
    Literal(T),
    Path(Path),
}

/// The type predicates (`IsNull`, ...). `IsPresent` is here for completeness of the operator
/// table, but it is the one test that looks at whether a value exists rather than at a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

/// One compiled operator with its operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    String(Cmp, Operand<String>),
    StringMatches(Pattern),
    Numeric(Cmp, Operand<f64>),
    Boolean(Operand<bool>),
    Timestamp(Cmp, Operand<DateTime<Utc>>),
    /// `IsNull: true` is `Is(Kind::Null, true)`; the boolean is what the predicate must equal.
    Is(Kind, bool),
}

/// The operand family of an operator name, before its operand is read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Family {
    String(Cmp),
    Matches,
    Numeric(Cmp),
    Boolean,
    Timestamp(Cmp),
    Is(Kind),
}

/// Reads an operator name: its family and whether it is a `…Path` twin.
fn operator(name: &str) -> Option<(Family, bool)> {
    let (base, path) = match name.strip_suffix("Path") {
        Some(b) => (b, true),
        None => (name, false),
    };
    let family = match base {
        "StringMatches" if !path => Family::Matches,
        "BooleanEquals" => Family::Boolean,
        "IsNull" | "IsPresent" | "IsNumeric" | "IsString" | "IsBoolean" | "IsTimestamp" if !path => {
            Family::Is(match base {
                "IsNull" => Kind::Null,
                "IsPresent" => Kind::Present,
                "IsNumeric" => Kind::Numeric,
                "IsString" => Kind::String,
                "IsBoolean" => Kind::Boolean,
                _ => Kind::Timestamp,
            })
        }
        _ => {
            let (make, rest): (fn(Cmp) -> Family, &str) = if let Some(r) = base.strip_prefix("String") {
                (Family::String, r)
            } else if let Some(r) = base.strip_prefix("Numeric") {
                (Family::Numeric, r)
            } else if let Some(r) = base.strip_prefix("Timestamp") {
                (Family::Timestamp, r)
            } else {
                return None;
            };
            let cmp = Cmp::SUFFIXES.iter().find(|(s, _)| *s == rest)?.1;
            make(cmp)
        }
    };
    Some((family, path))
}

/// Whether `name` is a comparison operator (including the `…Path` twins).
pub fn is_operator(name: &str) -> bool {
    operator(name).is_some()
}

impl Test {
    /// Compiles operator `name` (which [`is_operator`] accepted) with its operand, reporting a
    /// wrong operand at `ptr`.
    pub fn parse(name: &str, value: &Value, ptr: &str, diags: &mut Diagnostics) -> Option<Test> {
        let (family, is_path) = operator(name)?;
        if is_path {
            let path = parse_path(name, value, ptr, diags)?;
            return Some(match family {
                Family::String(c) => Test::String(c, Operand::Path(path)),
                Family::Numeric(c) => Test::Numeric(c, Operand::Path(path)),
                Family::Boolean => Test::Boolean(Operand::Path(path)),
                Family::Timestamp(c) => Test::Timestamp(c, Operand::Path(path)),
                // `operator` never marks these as having a Path twin.
                Family::Matches | Family::Is(_) => unreachable!("{name} has no Path twin"),
            });
        }
        let wrong = |diags: &mut Diagnostics, what: &str| {
            diags.error(ptr, code::WRONG_TYPE, format!("{name} must be {what}, got {value}"));
            None
        };
        match family {
            Family::String(c) => match value {
                Value::String(s) => Some(Test::String(c, Operand::Literal(s.clone()))),
                _ => wrong(diags, "a string"),
            },
            Family::Matches => match value {
                Value::String(s) => Some(Test::StringMatches(Pattern::new(s))),
                _ => wrong(diags, "a string"),
            },
            Family::Numeric(c) => match value.as_f64() {
                Some(n) => Some(Test::Numeric(c, Operand::Literal(n))),
                None => wrong(diags, "a number"),
            },
            Family::Boolean => match value {
                Value::Bool(b) => Some(Test::Boolean(Operand::Literal(*b))),
                _ => wrong(diags, "a boolean"),
            },
            Family::Timestamp(c) => match value {
                Value::String(s) => match timestamp::parse(s) {
                    Some(t) => Some(Test::Timestamp(c, Operand::Literal(t))),
                    None => {
                        diags.error(
                            ptr,
                            code::INVALID_TIMESTAMP,
                            format!("{name} must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z, got '{s}'"),
                        );
                        None
                    }
                },
                _ => wrong(diags, "a timestamp string"),
            },
            Family::Is(k) => match value {
                Value::Bool(b) => Some(Test::Is(k, *b)),
                _ => wrong(diags, "a boolean"),
            },
        }
    }

    /// Tests the value the rule's `Variable` selected. Fails only when a `…Path` operand
    /// selects nothing.
    pub fn eval(&self, v: &Value, input: &Value, env: &dyn Env) -> Result<bool, Failure> {
        Ok(match self {
            Test::String(c, op) => match (v, op) {
                (Value::String(a), Operand::Literal(b)) => c.holds(java_compare(a, b)),
                (Value::String(a), Operand::Path(p)) => match operand(p, input, env)? {
                    Value::String(b) => c.holds(java_compare(a, b)),
                    _ => false,
                },
                _ => false,
            },
            Test::StringMatches(p) => v.as_str().is_some_and(|s| p.matches(s)),
            Test::Numeric(c, op) => {
                let Some(a) = v.as_f64() else { return Ok(false) };
                let b = match op {
                    Operand::Literal(b) => *b,
                    Operand::Path(p) => match operand(p, input, env)?.as_f64() {
                        Some(b) => b,
                        None => return Ok(false),
                    },
                };
                // JSON has no NaN, so the ordering always exists.
                a.partial_cmp(&b).is_some_and(|o| c.holds(o))
            }
            Test::Boolean(op) => {
                let Some(a) = v.as_bool() else { return Ok(false) };
                match op {
                    Operand::Literal(b) => a == *b,
                    Operand::Path(p) => operand(p, input, env)?.as_bool() == Some(a),
                }
            }
            Test::Timestamp(c, op) => {
                // A string that is not a timestamp compares false, like any type mismatch.
                let Some(a) = v.as_str().and_then(timestamp::parse) else { return Ok(false) };
                let b = match op {
                    Operand::Literal(b) => *b,
                    Operand::Path(p) => match operand(p, input, env)?.as_str().and_then(timestamp::parse) {
                        Some(b) => b,
                        None => return Ok(false),
                    },
                };
                c.holds(a.cmp(&b))
            }
            Test::Is(kind, want) => is_kind(*kind, v) == *want,
        })
    }
}

/// Whether a present value has the type `kind` names (`IsPresent` is always true here).
pub fn is_kind(kind: Kind, v: &Value) -> bool {
    match kind {
        Kind::Null => v.is_null(),
        Kind::Present => true,
        Kind::Numeric => v.is_number(),
        Kind::String => v.is_string(),
        Kind::Boolean => v.is_boolean(),
        Kind::Timestamp => v.as_str().and_then(timestamp::parse).is_some(),
    }
}

fn parse_path(name: &str, value: &Value, ptr: &str, diags: &mut Diagnostics) -> Option<Path> {
    let Value::String(text) = value else {
        diags.error(ptr, code::WRONG_TYPE, format!("{name} must be a reference path string, got {value}"));
        return None;
    };
    match Path::parse_reference(text) {
        Ok(p) => Some(p),
        Err(why) => {
            diags.error(ptr, code::INVALID_REFERENCE_PATH, format!("{name}: {why}"));
            None
        }
    }
}

/// Reads a `…Path` operand. A missing operand fails the same way a missing `Variable` does.
fn operand<'v>(p: &Path, input: &'v Value, env: &'v dyn Env) -> Result<&'v Value, Failure> {
    p.select_ref(input, env).map_err(|_| super::invalid_path(p))
}

/// Orders two strings as Java's `String.compareTo` does: by UTF-16 code units. Rust orders
/// `str` by UTF-8 bytes, i.e. by code point, which differs only when a character above
/// U+FFFF (a surrogate pair in UTF-16, 0xD800..) meets one in U+E000..=U+FFFF.
pub fn java_compare(a: &str, b: &str) -> Ordering {
    // Both strings agree up to the first differing character; only that pair decides.
    let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    // Back up to the start of the character that contains the first differing byte.
    let mut at = common;
    while !a.is_char_boundary(at) {
        at -= 1;
    }
    match (a[at..].chars().next(), b[at..].chars().next()) {
        (Some(x), Some(y)) => utf16_key(x).cmp(&utf16_key(y)),
        // One string is a prefix of the other: the shorter sorts first, as in Java.
        _ => a.len().cmp(&b.len()),
    }
}

/// A character's UTF-16 code units, as a pair that orders like Java compares them.
fn utf16_key(c: char) -> (u16, u16) {
    let mut buf = [0u16; 2];
    let units = c.encode_utf16(&mut buf);
    (units[0], units.get(1).copied().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names() {
        let check = |name: &str, expected: Option<(Family, bool)>| assert_eq!(operator(name), expected, "{name}");
        check("StringEquals", Some((Family::String(Cmp::Equals), false)));
        check("StringLessThanEqualsPath", Some((Family::String(Cmp::LessThanEquals), true)));
        check("NumericGreaterThan", Some((Family::Numeric(Cmp::GreaterThan), false)));
        check("TimestampGreaterThanEqualsPath", Some((Family::Timestamp(Cmp::GreaterThanEquals), true)));
        check("BooleanEqualsPath", Some((Family::Boolean, true)));
        check("StringMatches", Some((Family::Matches, false)));
        check("IsTimestamp", Some((Family::Is(Kind::Timestamp), false)));
        for bad in [
            "StringMatchesPath",
            "IsNullPath",
            "BooleanLessThan",
            "Numeric",
            "NumericEqual",
            "Path",
            "stringEquals",
            "IsPresentPath",
        ] {
            check(bad, None);
        }
    }

    #[test]
    fn java_string_order() {
        let check = |a: &str, b: &str, expected: Ordering| {
            assert_eq!(java_compare(a, b), expected, "{a:?} vs {b:?}");
            assert_eq!(java_compare(b, a), expected.reverse(), "{b:?} vs {a:?}");
        };
        check("", "", Ordering::Equal);
        check("A", "AB", Ordering::Less);
        check("AB", "A", Ordering::Greater);
        check("A", "A\t\n\r", Ordering::Less);
        check("a", "B", Ordering::Greater);
        check("é", "z", Ordering::Greater);
        // U+1F600 is D83D DE00 in UTF-16, which sorts before U+FF5E; by code point it is after.
        check("x😀", "x～", Ordering::Less);
        check("😀", "😁", Ordering::Less);
        check("é", "ê", Ordering::Less);
        check("aé", "aéb", Ordering::Less);
    }
}
