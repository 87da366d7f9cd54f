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

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Path(Path),
    Call(Call),
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
                Ok(p) => ExprKind::Path(p),
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
                e => Failure::new(RUNTIME, e.message()),
            }),
            ExprKind::Call(c) => c.eval(input, env),
        }
    }
}

impl Template {
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
