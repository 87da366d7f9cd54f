//! Run-time evaluation of a [`Tree`]: JSONata's operators on borrowed JSON, for the operand
//! types whose result is certain; `None` ("ask the interpreter") for everything else.
//!
//! Every case the crate answers with an error (a string in arithmetic, a Boolean in `<`, an
//! overflow to infinity, a non-object in `$merge`) is left to the interpreter, which raises
//! it with its exact code and message; so is every case whose rules are not copied here
//! (arrays as operands, which JSONata flattens and unwraps). Numbers are doubles, as in the
//! crate; values read from the scope are borrowed, never copied, until they become part of
//! the result.

use std::borrow::Cow;

use jlens_core::ast::BinaryOp;
use serde_json::{Map, Value};

use super::super::Scope;
use super::tree::Tree;
use super::{normalised, number};

/// Deeper than this, `=` leaves the comparison to the interpreter, which bounds its own depth.
const MAX_DEPTH: usize = 128;

/// An intermediate value.
#[derive(Debug)]
pub(super) enum Val<'a> {
    /// JSONata's undefined (nothing).
    Undefined,
    /// A computed number.
    Number(f64),
    /// A computed Boolean.
    Bool(bool),
    /// A value of the scope or of the tree, not yet copied; numbers not yet normalised.
    Json(&'a Value),
    /// A built value (`$merge`, object constructor), already normalised.
    Owned(Value),
}

impl Val<'_> {
    /// The result as the crate would give it.
    pub(super) fn into_result(self) -> Option<Value> {
        match self {
            Val::Undefined => None,
            Val::Number(n) => Some(number(n)),
            Val::Bool(b) => Some(Value::Bool(b)),
            Val::Json(value) => Some(normalised(value)),
            Val::Owned(value) => Some(value),
        }
    }

    fn json(&self) -> Option<Cow<'_, Value>> {
        match self {
            Val::Undefined => None,
            Val::Number(n) => Some(Cow::Owned(number(*n))),
            Val::Bool(b) => Some(Cow::Owned(Value::Bool(*b))),
            Val::Json(value) => Some(Cow::Borrowed(value)),
            Val::Owned(value) => Some(Cow::Borrowed(value)),
        }
    }
}

/// The value of `tree`, or `None` when the interpreter must answer.
pub(super) fn eval<'a>(tree: &'a Tree, scope: &'a dyn Scope) -> Option<Val<'a>> {
    Some(match tree {
        Tree::Number(n) => Val::Number(*n),
        Tree::Literal(value) => Val::Json(value),
        Tree::Lookup(lookup) => match lookup.find(scope)? {
            // JSONata maps a path over an array and unwraps singletons: not copied here.
            Some(value) if value.is_array() => return None,
            Some(value) => Val::Json(value),
            None => Val::Undefined,
        },
        Tree::Binary(op, lhs, rhs) => binary(*op, lhs, rhs, scope)?,
        Tree::Not(arg) => match boolean(&eval(arg, scope)?)? {
            Some(b) => Val::Bool(!b),
            None => Val::Undefined,
        },
        Tree::Merge(items) => merge(items, scope)?,
        Tree::Object(members) => {
            let mut object = Map::with_capacity(members.len());
            for (key, member) in members {
                if let Some(value) = eval(member, scope)?.into_result() {
                    object.insert(key.clone(), value);
                }
            }
            Val::Owned(Value::Object(object))
        }
    })
}

fn binary<'a>(op: BinaryOp, lhs: &'a Tree, rhs: &'a Tree, scope: &'a dyn Scope) -> Option<Val<'a>> {
    let left = eval(lhs, scope)?;
    if matches!(op, BinaryOp::And | BinaryOp::Or) {
        // Short-circuit as the crate does: the right operand is not evaluated once decided.
        let l = boolean(&left)?.unwrap_or(false);
        if l == (op == BinaryOp::Or) {
            return Some(Val::Bool(l));
        }
        return Some(Val::Bool(boolean(&eval(rhs, scope)?)?.unwrap_or(false)));
    }
    let right = eval(rhs, scope)?;
    match op {
        BinaryOp::Eq | BinaryOp::Ne => {
            let (Some(l), Some(r)) = (left.json(), right.json()) else {
                return Some(Val::Bool(false)); // Undefined is neither equal nor unequal.
            };
            Some(Val::Bool(deep_eq(&l, &r, 0)? == (op == BinaryOp::Eq)))
        }
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => compare(op, &left, &right),
        _ => arithmetic(op, &left, &right),
    }
}

/// An operand as `<` and arithmetic see it.
enum Scalar<'a> {
    Undefined,
    Number(f64),
    String(&'a str),
    /// Anything else: an error in every operator that takes scalars.
    Other,
}

fn scalar<'a>(value: &'a Val<'_>) -> Scalar<'a> {
    let json = match value {
        Val::Undefined => return Scalar::Undefined,
        Val::Number(n) => return Scalar::Number(*n),
        Val::Bool(_) => return Scalar::Other,
        Val::Json(json) => json,
        Val::Owned(json) => json,
    };
    match json {
        Value::Number(n) => n.as_f64().map_or(Scalar::Other, Scalar::Number),
        Value::String(s) => Scalar::String(s),
        _ => Scalar::Other,
    }
}

/// `+ - * / %`: undefined if an operand is; an error (left to the interpreter) if an operand
/// is not a number or the result is not finite.
fn arithmetic<'a>(op: BinaryOp, left: &Val<'_>, right: &Val<'_>) -> Option<Val<'a>> {
    let (l, r) = match (scalar(left), scalar(right)) {
        (Scalar::Number(l), Scalar::Number(r)) => (l, r),
        (Scalar::Number(_) | Scalar::Undefined, Scalar::Number(_) | Scalar::Undefined) => {
            return Some(Val::Undefined);
        }
        _ => return None,
    };
    let n = match op {
        BinaryOp::Add => l + r,
        BinaryOp::Sub => l - r,
        BinaryOp::Mul => l * r,
        BinaryOp::Div => l / r,
        _ => l % r,
    };
    n.is_finite().then_some(Val::Number(n))
}

/// `< <= > >=` on two numbers or two strings (by UTF-16 code units, as JavaScript compares);
/// undefined if an operand is and the other is comparable; otherwise an error.
fn compare<'a>(op: BinaryOp, left: &Val<'_>, right: &Val<'_>) -> Option<Val<'a>> {
    let ordering = match (scalar(left), scalar(right)) {
        (Scalar::Other, _) | (_, Scalar::Other) => return None,
        (Scalar::Undefined, _) | (_, Scalar::Undefined) => return Some(Val::Undefined),
        (Scalar::Number(l), Scalar::Number(r)) => l.partial_cmp(&r)?,
        (Scalar::String(l), Scalar::String(r)) => l.encode_utf16().cmp(r.encode_utf16()),
        _ => return None,
    };
    Some(Val::Bool(match op {
        BinaryOp::Lt => ordering.is_lt(),
        BinaryOp::Le => ordering.is_le(),
        BinaryOp::Gt => ordering.is_gt(),
        _ => ordering.is_ge(),
    }))
}

/// JSONata's deep equality: numbers as doubles, objects regardless of key order.
fn deep_eq(a: &Value, b: &Value, depth: usize) -> Option<bool> {
    if depth > MAX_DEPTH {
        return None;
    }
    Some(match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()? == y.as_f64()?,
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            for (x, y) in x.iter().zip(y) {
                if !deep_eq(x, y, depth + 1)? {
                    return Some(false);
                }
            }
            true
        }
        (Value::Object(x), Value::Object(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            for (key, x) in x {
                match y.get(key) {
                    Some(y) if deep_eq(x, y, depth + 1)? => {}
                    _ => return Some(false),
                }
            }
            true
        }
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Null, Value::Null) => true,
        _ => false,
    })
}

/// `$boolean`'s cast; `Some(None)` for undefined. Arrays, whose cast looks into their items,
/// are left to the interpreter.
fn boolean(value: &Val<'_>) -> Option<Option<bool>> {
    let json = match value {
        Val::Undefined => return Some(None),
        Val::Number(n) => return Some(Some(*n != 0.0)),
        Val::Bool(b) => return Some(Some(*b)),
        Val::Json(json) => json,
        Val::Owned(json) => json,
    };
    Some(Some(match json {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64()? != 0.0,
        Value::String(s) => !s.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Array(_) => return None,
    }))
}

/// `$merge([…])`: the objects' members left to right, a later value replacing an earlier
/// one in the earlier one's position; undefined items are skipped (the array constructor
/// drops them).
fn merge<'a>(items: &'a [Tree], scope: &'a dyn Scope) -> Option<Val<'a>> {
    let mut merged = Map::new();
    for item in items {
        match eval(item, scope)? {
            Val::Undefined => {}
            Val::Json(Value::Object(object)) => {
                for (key, value) in object {
                    merged.insert(key.clone(), normalised(value));
                }
            }
            Val::Owned(Value::Object(object)) => merged.extend(object),
            _ => return None,
        }
    }
    Some(Val::Owned(Value::Object(merged)))
}
