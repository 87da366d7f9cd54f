//! Intrinsic functions (`States.Format(...)` and friends, JSONPath mode only).
//!
//! A call is parsed once, when the definition is loaded, into a [`Call`]: the function is
//! resolved to a [`Func`], paths are compiled, string literals are unescaped and a literal
//! `States.Format` template is split into its pieces. Evaluation only walks that tree; it never
//! re-parses text and borrows argument values from the input wherever it can, so a hot call such
//! as `States.MathAdd($.v, $.v)` allocates nothing but its result.
//!
//! This module owns the call model, the function table (names, arity) and the dispatch; each
//! family of functions lives in its own file with AWS's observed quirks. Runtime problems
//! (wrong argument types, out-of-range values, paths that select nothing) become a
//! [`Failure`] named [`ERROR`]; it must not report definition problems at run time that the
//! parser can see at load time.

mod array;
mod encoding;
mod growth;
mod hash;
mod json;
mod math;
mod parse;
mod string;

use std::borrow::Cow;

use serde_json::Value;

use crate::asl::error_name::{Failure, RUNTIME};
use crate::asl::path::{Env, Path};

pub use string::Template;

/// The error name of every intrinsic runtime failure. AWS documents `States.IntrinsicFailure`
/// but executions observed so far end with `States.Runtime` (spec §8 item 13 keeps it open);
/// one constant keeps the choice in one place.
pub const ERROR: &str = RUNTIME;

/// AWS allows at most this many levels of nested calls in one field.
pub const MAX_NESTING: usize = 10;

/// A compiled intrinsic function call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    func: Func,
    args: Box<[Arg]>,
}

/// One argument of a call, compiled.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A JSON literal; string literals are already unescaped.
    Literal(Value),
    /// `$.x`, `$$.x` or `$var`.
    Path(Path),
    /// A nested call.
    Call(Call),
    /// The literal first argument of `States.Format`, split at its `{}` placeholders at load
    /// time (the split needs the escapes, which an unescaped literal has lost).
    Template(Template),
}

/// The intrinsic functions AWS offers in JSONPath mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

impl Func {
    pub const ALL: [Func; 18] = [
        Func::Format,
        Func::StringToJson,
        Func::JsonToString,
        Func::Array,
        Func::ArrayPartition,
        Func::ArrayContains,
        Func::ArrayRange,
        Func::ArrayGetItem,
        Func::ArrayLength,
        Func::ArrayUnique,
        Func::Base64Encode,
        Func::Base64Decode,
        Func::Hash,
        Func::JsonMerge,
        Func::MathRandom,
        Func::MathAdd,
        Func::StringSplit,
        Func::Uuid,
    ];

    /// Looks up a full name such as `States.Format`; names are case-sensitive, as in AWS.
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The full name, as written in definitions and causes.
    pub fn name(self) -> &'static str {
        match self {
            Func::Format => "States.Format",
            Func::StringToJson => "States.StringToJson",
            Func::JsonToString => "States.JsonToString",
            Func::Array => "States.Array",
            Func::ArrayPartition => "States.ArrayPartition",
            Func::ArrayContains => "States.ArrayContains",
            Func::ArrayRange => "States.ArrayRange",
            Func::ArrayGetItem => "States.ArrayGetItem",
            Func::ArrayLength => "States.ArrayLength",
            Func::ArrayUnique => "States.ArrayUnique",
            Func::Base64Encode => "States.Base64Encode",
            Func::Base64Decode => "States.Base64Decode",
            Func::Hash => "States.Hash",
            Func::JsonMerge => "States.JsonMerge",
            Func::MathRandom => "States.MathRandom",
            Func::MathAdd => "States.MathAdd",
            Func::StringSplit => "States.StringSplit",
            Func::Uuid => "States.UUID",
        }
    }

    /// The accepted number of arguments: (min, max), `None` meaning no upper bound.
    pub fn arity(self) -> (usize, Option<usize>) {
        match self {
            Func::Format => (1, None),
            Func::Array => (0, None),
            Func::Uuid => (0, Some(0)),
            Func::MathRandom => (2, Some(3)),
            Func::ArrayRange | Func::JsonMerge => (3, Some(3)),
            Func::ArrayPartition
            | Func::ArrayContains
            | Func::ArrayGetItem
            | Func::Hash
            | Func::MathAdd
            | Func::StringSplit => (2, Some(2)),
            Func::StringToJson
            | Func::JsonToString
            | Func::ArrayLength
            | Func::ArrayUnique
            | Func::Base64Encode
            | Func::Base64Decode => (1, Some(1)),
        }
    }
}

impl Call {
    /// Compiles a whole intrinsic expression, e.g. `States.Format('x={}', $.a, States.UUID())`.
    /// The error is a human-readable reason, reported as a validation diagnostic.
    pub fn parse(text: &str) -> Result<Call, String> {
        parse::parse(text)
    }

    /// Assembles a call after the parser has checked the arity and the literal arguments.
    fn new(func: Func, args: Vec<Arg>) -> Call {
        Call { func, args: args.into_boxed_slice() }
    }

    pub fn func(&self) -> Func {
        self.func
    }

    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    /// Visits every path used by the call and its nested calls (validation checks that the
    /// variables they name exist).
    pub fn paths<'a>(&'a self, out: &mut Vec<&'a Path>) {
        for a in self.args.iter() {
            match a {
                Arg::Path(p) => out.push(p),
                Arg::Call(c) => c.paths(out),
                Arg::Literal(_) | Arg::Template(_) => {}
            }
        }
    }

    pub fn eval(&self, input: &Value, env: &dyn Env) -> Result<Value, Failure> {
        let a = Args { func: self.func, args: &self.args, input, env };
        match self.func {
            Func::Format => string::format(&a),
            Func::StringSplit => string::split(&a),
            Func::StringToJson => json::string_to_json(&a),
            Func::JsonToString => json::json_to_string(&a),
            Func::JsonMerge => json::merge(&a),
            Func::Array => array::array(&a),
            Func::ArrayPartition => array::partition(&a),
            Func::ArrayContains => array::contains(&a),
            Func::ArrayRange => array::range(&a),
            Func::ArrayGetItem => array::get_item(&a),
            Func::ArrayLength => array::length(&a),
            Func::ArrayUnique => array::unique(&a),
            Func::Base64Encode => encoding::encode(&a),
            Func::Base64Decode => encoding::decode(&a),
            Func::Hash => hash::hash(&a),
            Func::MathRandom => math::random(&a),
            Func::MathAdd => math::add(&a),
            // A random version-4 UUID in its usual lowercase hyphenated form; too small for a
            // file of its own.
            Func::Uuid => {
                let bits = (u128::from(env.random()) << 64) | u128::from(env.random());
                Ok(Value::String(uuid::Builder::from_random_bytes(bits.to_le_bytes()).into_uuid().to_string()))
            }
        }
    }
}

impl Arg {
    /// The argument's value, borrowed from the literal or the input when possible.
    fn eval<'a>(&'a self, input: &'a Value, env: &'a dyn Env) -> Result<Cow<'a, Value>, Failure> {
        match self {
            Arg::Literal(v) => Ok(Cow::Borrowed(v)),
            Arg::Template(t) => Ok(Cow::Borrowed(t.source())),
            Arg::Call(c) => c.eval(input, env).map(Cow::Owned),
            Arg::Path(p) => {
                let r = if p.is_definite() {
                    p.select_ref(input, env).map(Cow::Borrowed)
                } else {
                    p.select(input, env).map(Cow::Owned)
                };
                r.map_err(|e| Failure::new(ERROR, format!("Invalid path '{}' : {}", p.text(), e.message())))
            }
        }
    }
}

/// The evaluation context of one call: its function, its compiled arguments and what paths
/// see. Accessors evaluate one argument each and check its type, so no vector of evaluated
/// arguments is ever built.
struct Args<'a> {
    func: Func,
    args: &'a [Arg],
    input: &'a Value,
    env: &'a dyn Env,
}

impl<'a> Args<'a> {
    fn len(&self) -> usize {
        self.args.len()
    }

    fn arg(&self, i: usize) -> &'a Arg {
        &self.args[i]
    }

    /// A runtime failure whose cause names the function.
    fn fail(&self, problem: impl std::fmt::Display) -> Failure {
        Failure::new(ERROR, format!("{}: {problem}", self.func.name()))
    }

    fn value(&self, i: usize) -> Result<Cow<'a, Value>, Failure> {
        self.args[i].eval(self.input, self.env)
    }

    fn wrong_type(&self, i: usize, expected: &str, got: &Value) -> Failure {
        self.fail(format_args!(
            "argument {} must be {expected}, but got {}",
            i + 1,
            crate::asl::path::type_with_article(got)
        ))
    }

    fn string(&self, i: usize) -> Result<Cow<'a, str>, Failure> {
        match self.value(i)? {
            Cow::Borrowed(Value::String(s)) => Ok(Cow::Borrowed(s.as_str())),
            Cow::Owned(Value::String(s)) => Ok(Cow::Owned(s)),
            other => Err(self.wrong_type(i, "a string", &other)),
        }
    }

    fn array(&self, i: usize) -> Result<Cow<'a, [Value]>, Failure> {
        match self.value(i)? {
            Cow::Borrowed(Value::Array(a)) => Ok(Cow::Borrowed(a.as_slice())),
            Cow::Owned(Value::Array(a)) => Ok(Cow::Owned(a)),
            other => Err(self.wrong_type(i, "an array", &other)),
        }
    }

    fn object(&self, i: usize) -> Result<serde_json::Map<String, Value>, Failure> {
        match self.value(i)?.into_owned() {
            Value::Object(m) => Ok(m),
            other => Err(self.wrong_type(i, "a JSON object", &other)),
        }
    }

    fn boolean(&self, i: usize) -> Result<bool, Failure> {
        match self.value(i)?.as_ref() {
            Value::Bool(b) => Ok(*b),
            other => Err(self.wrong_type(i, "a boolean", other)),
        }
    }

    /// An argument that must be an integer: a number, rounded the way AWS's Java runtime does
    /// (`Math.round`, half up) when it has a fraction.
    fn int(&self, i: usize) -> Result<i64, Failure> {
        let v = self.value(i)?;
        let Value::Number(n) = v.as_ref() else {
            return Err(self.wrong_type(i, "an integer", &v));
        };
        if let Some(x) = n.as_i64() {
            return Ok(x);
        }
        let rounded = n.as_f64().map(math::java_round).filter(|r| r.abs() < 9.0e18);
        match rounded {
            Some(r) => Ok(r as i64),
            None => Err(self.fail(format_args!("argument {} ({n}) is out of range", i + 1))),
        }
    }
}

/// Whether a string is longer than `limit` characters as Java counts them (UTF-16 code units):
/// AWS's 10,000-character limits are Java `String.length()` limits.
fn longer_than(s: &str, limit: usize) -> bool {
    // A UTF-8 string never has more UTF-16 units than bytes, so short strings skip the count.
    s.len() > limit && s.encode_utf16().count() > limit
}

#[cfg(test)]
mod tests;
