//! String functions: `States.Format` (with its compiled [`Template`] and AWS's Java-style
//! rendering of non-string arguments) and `States.StringSplit`.

use std::fmt::Write as _;

use serde_json::{Number, Value};

use super::{Arg, Args};
use crate::asl::error_name::Failure;

/// A `States.Format` template split at its `{}` placeholders: `pieces` has one more element
/// than there are placeholders. A backslash makes the next character literal, so `\{}` is text.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The template with its escapes removed, i.e. the string literal's value.
    source: Value,
    pieces: Box<[String]>,
}

impl Template {
    /// Compiles a template from its escaped text: the inside of a string literal, or a string
    /// taken from the data at run time. A brace that is not part of `{}` stays literal text.
    pub(super) fn compile(raw: &str) -> Result<Template, String> {
        let mut source = String::with_capacity(raw.len());
        let mut pieces = Vec::new();
        let mut piece = String::new();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    // Only data can end with a lone backslash: in a literal it would have
                    // escaped the closing quote.
                    let next = chars.next().ok_or("the template ends with a dangling '\\'")?;
                    source.push(next);
                    piece.push(next);
                }
                '{' if chars.peek() == Some(&'}') => {
                    chars.next();
                    source.push_str("{}");
                    pieces.push(std::mem::take(&mut piece));
                }
                c => {
                    source.push(c);
                    piece.push(c);
                }
            }
        }
        pieces.push(piece);
        Ok(Template { source: Value::String(source), pieces: pieces.into_boxed_slice() })
    }

    pub(super) fn placeholders(&self) -> usize {
        self.pieces.len() - 1
    }

    pub(super) fn source(&self) -> &Value {
        &self.source
    }
}

/// `States.Format(template, args...)`: each `{}` is replaced by the next argument, rendered as
/// AWS's Java runtime prints it.
pub(super) fn format(a: &Args) -> Result<Value, Failure> {
    let compiled;
    let template = match a.arg(0) {
        Arg::Template(t) => t,
        _ => {
            compiled = Template::compile(&a.string(0)?).map_err(|e| a.fail(e))?;
            &compiled
        }
    };
    let given = a.len() - 1;
    if template.placeholders() != given {
        return Err(a.fail(format_args!(
            "the template has {} '{{}}' placeholder(s) but {given} argument(s) follow it",
            template.placeholders()
        )));
    }
    let mut out = String::new();
    for (i, piece) in template.pieces.iter().enumerate() {
        out.push_str(piece);
        if i < given {
            render(a.value(i + 1)?.as_ref(), &mut out);
        }
    }
    Ok(Value::String(out))
}

/// Renders a value the way Java's `String.valueOf` prints the maps and lists AWS converts JSON
/// into: strings raw (no quotes, also inside containers), `null`, objects as `{k=v, k2=v2}`,
/// arrays as `[a, b]`. Observed on AWS: `{"Arg1": 1, "Arg2": []}` → `{Arg1=1, Arg2=[]}`.
fn render(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => render_number(n, out),
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                render(x, out);
            }
            out.push('}');
        }
    }
}

fn render_number(n: &Number, out: &mut String) {
    match n.as_f64() {
        Some(f) if n.is_f64() => java_double(f, out),
        _ => {
            let _ = write!(out, "{n}");
        }
    }
}

/// Java's `Double.toString`: plain notation with at least one fractional digit for
/// 10⁻³ ≤ |x| < 10⁷ (`1.1`, `100.0`), otherwise `d.dddE±n` (`1.0E20`, `1.5E-5`). Both use the
/// shortest digits that round-trip, which is also what Rust prints.
fn java_double(f: f64, out: &mut String) {
    let abs = f.abs();
    if abs == 0.0 || (1e-3..1e7).contains(&abs) {
        let start = out.len();
        let _ = write!(out, "{f}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
        return;
    }
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    out.push_str(mantissa);
    if !mantissa.contains('.') {
        out.push_str(".0");
    }
    out.push('E');
    out.push_str(exponent);
}

/// `States.StringSplit(s, delimiters)`: every character of `delimiters` separates tokens and
/// empty tokens are dropped (Java's `StringTokenizer`): `", , ,"` split on `","` gives
/// `[" ", " "]`, `",,,,"` gives `[]`.
pub(super) fn split(a: &Args) -> Result<Value, Failure> {
    let s = a.string(0)?;
    let delimiters = a.string(1)?;
    let tokens =
        s.split(|c| delimiters.contains(c)).filter(|t| !t.is_empty()).map(|t| Value::String(t.to_string())).collect();
    Ok(Value::Array(tokens))
}
