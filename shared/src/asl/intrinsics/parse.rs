//! The argument grammar of an intrinsic call, compiled in one pass into a [`Call`].
//!
//! ```text
//! call    := 'States.' name '(' [ arg (',' arg)* ] ')'
//! arg     := string | number | 'true' | 'false' | 'null' | path | call
//! string  := "'" ( '\' any-char | any-char-but-quote-or-backslash )* "'"
//! path    := '$' ...   (up to the next ',' or ')' outside brackets, parentheses and quotes)
//! ```
//!
//! The definition's JSON has already removed one level of escaping, so `\'`, `\{`, `\}` and
//! `\\` arrive here as a backslash and the character. Whitespace may surround arguments.
//! Everything wrong that can be seen without data is an error here, not at run time: unknown
//! names, wrong argument counts, too deep nesting, a literal `States.Format` template whose
//! placeholders do not match its arguments, a `States.JsonMerge` asked for a deep merge.

use serde_json::Value;

use super::{Arg, Call, Func, MAX_NESTING, Template};
use crate::asl::path::Path;

pub(super) fn parse(text: &str) -> Result<Call, String> {
    let mut p = Parser { text, pos: 0 };
    p.skip_ws();
    let call = p.call(1)?;
    p.skip_ws();
    if p.pos < text.len() {
        return Err(p.error("unexpected text after the end of the call"));
    }
    Ok(call)
}

/// An argument as written, before the function decides what it means: a string literal keeps
/// its raw text because `States.Format` needs to see which braces were escaped.
enum Parsed {
    Str { value: String, raw: String },
    Arg(Arg),
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// An error message with a 1-based character position, as a diagnostic shows it.
    fn error(&self, what: impl std::fmt::Display) -> String {
        let at = self.text[..self.pos].chars().count() + 1;
        format!("{what} at character {at} of the intrinsic function '{}'", self.text)
    }

    fn call(&mut self, depth: usize) -> Result<Call, String> {
        if depth > MAX_NESTING {
            return Err(self.error(format_args!("intrinsic functions can be nested at most {MAX_NESTING} levels deep")));
        }
        let name_len = self
            .rest()
            .strip_prefix("States.")
            .map(|r| 7 + r.len() - r.trim_start_matches(|c: char| c.is_ascii_alphanumeric()).len())
            .ok_or_else(|| self.error("expected an intrinsic function name starting with 'States.'"))?;
        let name = &self.text[self.pos..self.pos + name_len];
        let func =
            Func::from_name(name).ok_or_else(|| self.error(format_args!("unknown intrinsic function '{name}'")))?;
        self.pos += name_len;
        self.skip_ws();
        if self.peek() != Some('(') {
            return Err(self.error(format_args!("expected '(' after '{name}'")));
        }
        self.pos += 1;

        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(')') {
            self.pos += 1;
        } else {
            loop {
                self.skip_ws();
                args.push(self.arg(depth)?);
                self.skip_ws();
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some(')') => {
                        self.pos += 1;
                        break;
                    }
                    Some(c) => {
                        return Err(self.error(format_args!("expected ',' or ')' but found '{c}'")));
                    }
                    None => return Err(self.error(format_args!("missing ')' to close '{name}('"))),
                }
            }
        }
        finish(func, args)
    }

    fn arg(&mut self, depth: usize) -> Result<Parsed, String> {
        match self.peek() {
            Some('\'') => self.string(),
            Some('$') => self.path(),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(_) if self.rest().starts_with("States.") => Ok(Parsed::Arg(Arg::Call(self.call(depth + 1)?))),
            Some(c) if c.is_ascii_alphabetic() => self.word(),
            Some('"') => Err(self.error("string literals are written in single quotes")),
            Some(c) => Err(self.error(format_args!("unexpected '{c}'"))),
            None => Err(self.error("missing argument")),
        }
    }

    /// A single-quoted literal. A backslash makes the next character literal, whatever it is.
    fn string(&mut self) -> Result<Parsed, String> {
        let start = self.pos;
        let mut value = String::new();
        let mut raw = String::new();
        let mut chars = self.text[start + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    self.pos = start + 1 + i + 1;
                    return Ok(Parsed::Str { value, raw });
                }
                '\\' => {
                    let Some((_, next)) = chars.next() else { break };
                    value.push(next);
                    raw.push('\\');
                    raw.push(next);
                }
                c => {
                    value.push(c);
                    raw.push(c);
                }
            }
        }
        Err(self.error("unterminated string literal"))
    }

    /// A path runs to the next `,` or `)` (or blank) that is not inside brackets, parentheses
    /// or quotes, so filters such as `$.a[?(@.b == 'x,y')]` stay whole.
    fn path(&mut self) -> Result<Parsed, String> {
        let rest = self.rest();
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        let mut escaped = false;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            if let Some(q) = quote {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                continue;
            }
            match c {
                '[' | '(' => depth += 1,
                ']' | ')' if depth > 0 => depth -= 1,
                '\'' | '"' if depth > 0 => quote = Some(c),
                ',' | ')' if depth == 0 => {
                    end = i;
                    break;
                }
                c if c.is_whitespace() && depth == 0 => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let text = &rest[..end];
        let path = Path::parse(text).map_err(|e| self.error(format_args!("invalid path '{text}': {e}")))?;
        self.pos += end;
        Ok(Parsed::Arg(Arg::Path(path)))
    }

    /// A JSON number: integers stay integers, anything with a fraction or exponent is a float.
    fn number(&mut self) -> Result<Parsed, String> {
        let rest = self.rest();
        let len = rest.len()
            - rest.trim_start_matches(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')).len();
        let text = &rest[..len];
        match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Number(_)) => {
                self.pos += len;
                Ok(Parsed::Arg(Arg::Literal(v)))
            }
            _ => Err(self.error(format_args!("invalid number '{text}'"))),
        }
    }

    fn word(&mut self) -> Result<Parsed, String> {
        let rest = self.rest();
        let len = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_').len();
        let value = match &rest[..len] {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            w => {
                return Err(self.error(format_args!(
                    "unexpected '{w}': an argument is a 'string', a number, true, false, null, a path or an intrinsic function"
                )));
            }
        };
        self.pos += len;
        Ok(Parsed::Arg(Arg::Literal(value)))
    }
}

/// Checks the argument count and what the literal arguments allow to check, then builds the
/// call.
fn finish(func: Func, parsed: Vec<Parsed>) -> Result<Call, String> {
    let name = func.name();
    let n = parsed.len();
    let (min, max) = func.arity();
    if n < min || max.is_some_and(|m| n > m) {
        let expected = match (min, max) {
            (min, None) => format!("at least {min}"),
            (min, Some(max)) if min == max => format!("{min}"),
            (min, Some(max)) => format!("{min} to {max}"),
        };
        return Err(format!("{name} takes {expected} argument(s), but {n} were given"));
    }

    let mut args = Vec::with_capacity(n);
    for (i, p) in parsed.into_iter().enumerate() {
        args.push(match p {
            Parsed::Str { raw, .. } if func == Func::Format && i == 0 => {
                let t = Template::compile(&raw).map_err(|e| format!("{name}: {e}"))?;
                if t.placeholders() != n - 1 {
                    return Err(format!(
                        "{name}: the template has {} '{{}}' placeholder(s) but {} argument(s) follow it",
                        t.placeholders(),
                        n - 1
                    ));
                }
                Arg::Template(t)
            }
            Parsed::Str { value, .. } => Arg::Literal(Value::String(value)),
            Parsed::Arg(a) => a,
        });
    }

    match (func, args.first(), args.get(2)) {
        (Func::Format, Some(Arg::Literal(v)), _) => {
            return Err(format!("{name}: the template (argument 1) must be a string, not {v}"));
        }
        (Func::JsonMerge, _, Some(Arg::Literal(Value::Bool(true)))) => {
            return Err(format!("{name}: deep merging is not supported; the third argument must be false"));
        }
        (Func::JsonMerge, _, Some(Arg::Literal(v))) if !v.is_boolean() => {
            return Err(format!("{name}: the third argument must be false, not {v}"));
        }
        _ => {}
    }
    Ok(Call::new(func, args))
}
