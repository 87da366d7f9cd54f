//! Fast paths: the expressions most definitions are made of, evaluated without the
//! interpreter and without binding anything.
//!
//! A *constant* (literals, and arrays, objects and operators over them: `1`, `'s'`, `[0]`,
//! `{'foo': 'bar'}`) is evaluated once at compile time, by the crate, so its value is the
//! crate's by construction. Otherwise the expression is recognised, if it can be, as a
//! [`Tree`] of [`Lookup`]s, literals and a few operators and functions ([`tree`]), which is
//! evaluated on the scope's JSON as borrowed values ([`ops`]). Whenever an evaluation meets a
//! case whose rules are not copied here, or that the crate answers with an error, it gives up
//! and the interpreter answers: a fast path never gives a different result or error.
//! Numbers come back as the crate writes them ([`normalised`]).

mod growth;
mod lookup;
mod ops;
#[cfg(test)]
mod tests;
mod tree;

use jlens_core::{Bindings, Node, NodeKind};
use serde_json::Value;

use super::Scope;
use lookup::Lookup;
use tree::Tree;

/// A recognised expression.
#[derive(Debug)]
pub(super) struct Fast(Shape);

#[derive(Debug)]
enum Shape {
    /// The value, computed at compile time (`None`: undefined).
    Constant(Option<Value>),
    /// A lookup on its own: whatever it finds, an array included. Every step before the last
    /// met an object (otherwise [`Lookup::find`] gives up), so JSONata has mapped over
    /// nothing, and the crate returns the value as it is (singletons and nested arrays
    /// included: the agreement test pins it).
    Lookup(Lookup),
    /// Anything else in the fast language.
    Tree(Tree),
}

impl Fast {
    pub(super) fn recognise(compiled: &jlens_core::Expression) -> Option<Fast> {
        let root = &compiled.ast().root;
        if is_constant(root) {
            // An error (`1 / 'a'`) is left to the interpreter, which raises it at each evaluation.
            let value = compiled.evaluate(None, &Bindings::new()).ok()?;
            return Some(Fast(Shape::Constant(value)));
        }
        Some(Fast(match Tree::recognise(root)? {
            Tree::Lookup(lookup) => Shape::Lookup(lookup),
            tree => Shape::Tree(tree),
        }))
    }

    /// A bound of the value (`None`: none known), see [`growth`].
    pub(super) fn growth(&self) -> Option<crate::asl::bound::Growth> {
        match &self.0 {
            Shape::Constant(Some(v)) => Some(crate::asl::bound::Growth::literal(v)),
            Shape::Constant(None) => Some(crate::asl::bound::Growth::fixed(0, 0)),
            Shape::Lookup(l) => growth::of_lookup(l),
            Shape::Tree(t) => growth::of_tree(t),
        }
    }

    /// The value, or `None` when this evaluation must go through the interpreter.
    pub(super) fn eval(&self, scope: &dyn Scope) -> Option<Option<Value>> {
        match &self.0 {
            Shape::Constant(value) => Some(value.clone()),
            Shape::Lookup(lookup) => {
                let value = lookup.find(scope)?;
                Some(value.map(normalised))
            }
            Shape::Tree(tree) => Some(ops::eval(tree, scope)?.into_result()),
        }
    }
}

/// A double as the crate writes it: integral values below 2^53 as JSON integers (`7.0` → `7`,
/// `-0.0` → `0`), others as doubles, non-finite ones as `null`.
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// A copy of `value` with numbers as the crate gives them back. JSONata numbers are doubles:
/// the crate reads every JSON number as an `f64` and writes integral ones below 2^53 as JSON
/// integers (`7.0` → `7`, `-0.0` → `0`), others as doubles, non-finite ones as `null`.
fn normalised(value: &Value) -> Value {
    match value {
        Value::Number(n) => number(n.as_f64().unwrap_or(f64::NAN)),
        Value::Array(items) => Value::Array(items.iter().map(normalised).collect()),
        Value::Object(object) => {
            Value::Object(object.iter().map(|(key, value)| (key.clone(), normalised(value))).collect())
        }
        Value::Null | Value::Bool(_) | Value::String(_) => value.clone(),
    }
}

/// Literals, and constructors and operators over literals only.
fn is_constant(node: &Node) -> bool {
    let mut constant = true;
    node.walk(&mut |node| {
        constant &= matches!(
            node.kind,
            NodeKind::Number { .. }
                | NodeKind::String { .. }
                | NodeKind::Bool { .. }
                | NodeKind::Null
                | NodeKind::Array { .. }
                | NodeKind::Object { .. }
                | NodeKind::Negate { .. }
                | NodeKind::Binary { .. }
        ) && plain(node);
    });
    constant
}

/// A node without the step attributes that change a path's meaning.
fn plain(node: &Node) -> bool {
    let a = &node.attrs;
    node.annotation.is_none()
        && !a.keep_array
        && !a.tuple
        && a.focus.is_none()
        && a.index.is_none()
        && a.stages.is_empty()
        && a.predicate.is_empty()
        && a.group.is_none()
        && a.ancestor.is_none()
        && a.seeking_parent.is_empty()
}
