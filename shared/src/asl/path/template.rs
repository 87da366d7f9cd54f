//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`, `BatchInput`, `Assign`,
//! reader/writer `Parameters`): JSON in which a key ending in `.$` takes the value of a path
//! or an intrinsic function call, evaluated against the state's data.

use serde_json::{Map, Value};

use crate::asl::diagnostic::{Diagnostics, code, pointer_push};
use crate::asl::error_name::{Failure, RUNTIME};
use crate::asl::intrinsics::Call;

use super::{Env, Path, PathError};

/// A compiled payload template. Subtrees without any `.$` key stay literal JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Template {
    Literal(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    Dynamic(Box<Expr>),
}

/// The value of a `.$` key: a path or an intrinsic call, with the key it came from (AWS names
/// the field in its causes).
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub field: String,
    pub kind: ExprKind,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Path(Path),
    Call(Call),
    /// A `{% … %}` string of a JSONata state; `Expr::field` is the field's place as AWS names
    /// it in causes (`Output/result`, `Items`).
    Jsonata(crate::asl::jsonata::Expression),
}

impl PartialEq for ExprKind {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ExprKind::Path(a), ExprKind::Path(b)) => a == b,
            (ExprKind::Call(a), ExprKind::Call(b)) => a == b,
            (ExprKind::Jsonata(a), ExprKind::Jsonata(b)) => a.text() == b.text(),
            _ => false,
        }
    }
}

/// Whether a JSON string of a JSONata state is an expression: it starts with `{%` and ends
/// with `%}`. Any other string is a literal.
pub fn is_jsonata(s: &str) -> bool {
    s.len() >= 4 && s.starts_with("{%") && s.ends_with("%}")
}

impl Expr {
    /// Compiles the string value of a `.$` key (or of `ErrorPath`/`CausePath`).
    pub fn compile(field: &str, text: &str, ptr: &str, diags: &mut Diagnostics) -> Option<Expr> {
        let kind = if text.starts_with("States.") {
            match Call::parse(text) {
                Ok(c) => ExprKind::Call(c),
                Err(e) => {
                    diags.error(ptr, code::INVALID_INTRINSIC, e);
                    return None;
                }
            }
        } else {
            match Path::parse(text) {
                Ok(p) => {
                    p.warn_unquoted(ptr, diags);
                    ExprKind::Path(p)
                }
                Err(e) => {
                    diags.error(
                        ptr,
                        code::INVALID_PATH,
                        format!("the value of '{field}' must be a JSONPath or an intrinsic function: {e}"),
                    );
                    return None;
                }
            }
        };
        Some(Expr { field: field.to_string(), kind })
    }

    pub fn eval(&self, input: &Value, env: &dyn Env) -> Result<Value, Failure> {
        match &self.kind {
            ExprKind::Path(p) => p.select(input, env).map_err(|e| match e {
                PathError::NotFound { .. } => Failure::new(
                    RUNTIME,
                    format!(
                        "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                        p.text(),
                        self.field,
                        compact(input)
                    ),
                ),
                PathError::Uncompilable { message } => Failure::new(
                    RUNTIME,
                    format!(
                        "The JSONPath '{}' specified for the field '{}' is invalid: {message}",
                        p.text(),
                        self.field
                    ),
                ),
                e => Failure::new(RUNTIME, e.message()),
            }),
            ExprKind::Call(c) => c.eval(input, env),
            ExprKind::Jsonata(j) => crate::asl::jsonata::field::eval(j, &self.field, input, env),
        }
    }

    /// Compiles a JSONata state's `{% … %}` string (`text` with its delimiters).
    pub fn compile_jsonata(field: &str, text: &str, ptr: &str, diags: &mut Diagnostics) -> Option<Expr> {
        let inner = &text[2..text.len() - 2];
        match crate::asl::jsonata::Expression::compile(inner) {
            Ok(j) => Some(Expr { field: field.to_string(), kind: ExprKind::Jsonata(j) }),
            Err(e) => {
                diags.error(
                    ptr,
                    code::INVALID_JSONATA,
                    format!("the JSONata expression '{}' is invalid: {} ({})", inner.trim(), e.message, e.code),
                );
                None
            }
        }
    }
}

impl Template {
    /// Compiles a field of a JSONata state: any string `{% … %}` anywhere inside is an
    /// expression, everything else literal JSON. `field` names the place in AWS's causes
    /// (`Output`, then `Output/key`, `Output/list[0]`).
    pub fn compile_jsonata(v: &Value, ptr: &str, field: &str, diags: &mut Diagnostics) -> Template {
        if !has_jsonata(v) {
            return Template::Literal(v.clone());
        }
        match v {
            Value::String(s) => match Expr::compile_jsonata(field, s, ptr, diags) {
                Some(e) => Template::Dynamic(Box::new(e)),
                None => Template::Literal(Value::Null),
            },
            Value::Object(m) => Template::Object(
                m.iter()
                    .map(|(k, x)| {
                        (k.clone(), Template::compile_jsonata(x, &pointer_push(ptr, k), &format!("{field}/{k}"), diags))
                    })
                    .collect(),
            ),
            Value::Array(a) => Template::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| {
                        Template::compile_jsonata(
                            x,
                            &pointer_push(ptr, &i.to_string()),
                            &format!("{field}[{i}]"),
                            diags,
                        )
                    })
                    .collect(),
            ),
            other => Template::Literal(other.clone()),
        }
    }

    /// Compiles a template. Problems become diagnostics; the returned template is then unusable
    /// but parsing goes on to find every problem.
    pub fn compile(v: &Value, ptr: &str, diags: &mut Diagnostics) -> Template {
        if !has_dynamic(v) {
            return Template::Literal(v.clone());
        }
        match v {
            Value::Object(m) => {
                let mut out = Vec::with_capacity(m.len());
                for (k, val) in m {
                    let p = pointer_push(ptr, k);
                    if let Some(name) = k.strip_suffix(".$") {
                        match val {
                            Value::String(s) => {
                                if let Some(e) = Expr::compile(k, s, &p, diags) {
                                    out.push((name.to_string(), Template::Dynamic(Box::new(e))));
                                }
                            }
                            _ => diags.error(
                                &p,
                                code::WRONG_TYPE,
                                format!("the value of '{k}' must be a string holding a path or an intrinsic function"),
                            ),
                        }
                    } else {
                        out.push((k.clone(), Template::compile(val, &p, diags)));
                    }
                }
                Template::Object(out)
            }
            Value::Array(a) => Template::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| Template::compile(x, &pointer_push(ptr, &i.to_string()), diags))
                    .collect(),
            ),
            other => Template::Literal(other.clone()),
        }
    }

    pub fn eval(&self, input: &Value, env: &dyn Env) -> Result<Value, Failure> {
        match self {
            Template::Literal(v) => Ok(v.clone()),
            Template::Dynamic(e) => e.eval(input, env),
            Template::Array(a) => a.iter().map(|t| t.eval(input, env)).collect::<Result<Vec<_>, _>>().map(Value::Array),
            Template::Object(entries) => {
                let mut m = Map::with_capacity(entries.len());
                for (k, t) in entries {
                    m.insert(k.clone(), t.eval(input, env)?);
                }
                Ok(Value::Object(m))
            }
        }
    }

    /// Visits every compiled expression (used by validation to check variable references).
    pub fn exprs<'a>(&'a self, out: &mut Vec<&'a Expr>) {
        match self {
            Template::Literal(_) => {}
            Template::Dynamic(e) => out.push(e),
            Template::Array(a) => a.iter().for_each(|t| t.exprs(out)),
            Template::Object(m) => m.iter().for_each(|(_, t)| t.exprs(out)),
        }
    }
}

/// Whether a JSON subtree holds a JSONata expression.
pub fn has_jsonata(v: &Value) -> bool {
    match v {
        Value::String(s) => is_jsonata(s),
        Value::Object(m) => m.values().any(has_jsonata),
        Value::Array(a) => a.iter().any(has_jsonata),
        _ => false,
    }
}

fn has_dynamic(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| k.ends_with(".$") || has_dynamic(v)),
        Value::Array(a) => a.iter().any(has_dynamic),
        _ => false,
    }
}

/// Compact JSON text, as AWS quotes inputs in causes.
pub fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
