//! The small expression language the fast path evaluates, and its recognition from the
//! crate's syntax tree at compile time.
//!
//! Leaves are literals and [`Lookup`]s; inner nodes are arithmetic, comparisons, `and`/`or`,
//! `$not`, `$merge([…])` and object constructors with literal keys. Anything else (paths with
//! predicates, other functions, lambdas, `?:`, ranges, …) is not recognised, and the whole
//! expression goes to the interpreter. Recognition only accepts nodes whose meaning does not
//! depend on the context value, since the fast path has none.

use jlens_core::ast::BinaryOp;
use jlens_core::{Node, NodeKind};
use serde_json::{Map, Value};

use super::lookup::Lookup;
use super::plain;

/// A recognised sub-expression.
#[derive(Debug)]
pub(super) enum Tree {
    /// A number literal, kept as the double the interpreter computes with (`-0` stays `-0`).
    Number(f64),
    /// A string, `true`/`false`, `null`, or an object or array built only of literals; numbers
    /// in it are written as the crate writes them.
    Literal(Value),
    /// A field lookup.
    Lookup(Lookup),
    /// `+ - * / %`, `= !=`, `< <= > >=`, `and`, `or`.
    Binary(BinaryOp, Box<Tree>, Box<Tree>),
    /// `$not(x)`.
    Not(Box<Tree>),
    /// `$merge([a, b, …])`: the items of the array constructor.
    Merge(Vec<Tree>),
    /// `{'k': v, …}` with distinct literal keys, in source order.
    Object(Vec<(String, Tree)>),
}

impl Tree {
    /// The tree of `node`, or `None` when some part of it is outside the language.
    pub(super) fn recognise(node: &Node) -> Option<Tree> {
        if !plain(node) {
            return None;
        }
        match &node.kind {
            NodeKind::Number { value } => Some(Tree::Number(*value)),
            NodeKind::Negate { expr } => match &expr.kind {
                NodeKind::Number { value } if plain(expr) => Some(Tree::Number(-value)),
                _ => None,
            },
            NodeKind::String { value } => Some(Tree::Literal(Value::String(value.clone()))),
            NodeKind::Bool { value } => Some(Tree::Literal(Value::Bool(*value))),
            NodeKind::Null => Some(Tree::Literal(Value::Null)),
            NodeKind::Array { items } => array(items),
            NodeKind::Object { pairs } => object(pairs),
            NodeKind::Path { .. } | NodeKind::Variable { .. } => Lookup::recognise(node).map(Tree::Lookup),
            NodeKind::Binary { op, lhs, rhs } => {
                let supported = matches!(
                    op,
                    BinaryOp::Add
                        | BinaryOp::Sub
                        | BinaryOp::Mul
                        | BinaryOp::Div
                        | BinaryOp::Mod
                        | BinaryOp::Eq
                        | BinaryOp::Ne
                        | BinaryOp::Lt
                        | BinaryOp::Le
                        | BinaryOp::Gt
                        | BinaryOp::Ge
                        | BinaryOp::And
                        | BinaryOp::Or
                );
                if !supported {
                    return None;
                }
                Some(Tree::Binary(*op, Box::new(Tree::recognise(lhs)?), Box::new(Tree::recognise(rhs)?)))
            }
            NodeKind::Function { procedure, args } => function(procedure, args),
            _ => None,
        }
    }

    /// The literal value of a tree made only of literals.
    fn literal(&self) -> Option<Value> {
        match self {
            Tree::Number(n) => Some(super::number(*n)),
            Tree::Literal(value) => Some(value.clone()),
            _ => None,
        }
    }
}

/// An array constructor of scalar and object literals. Nested arrays and ranges, whose
/// flattening rules differ, are left to the interpreter.
fn array(items: &[Node]) -> Option<Tree> {
    let mut values = Vec::with_capacity(items.len());
    for item in items {
        let tree = Tree::recognise(item)?;
        if matches!(tree, Tree::Literal(Value::Array(_))) {
            return None;
        }
        values.push(tree.literal()?);
    }
    Some(Tree::Literal(Value::Array(values)))
}

/// An object constructor with string-literal keys, each once (a repeated key is the error
/// D1009 at every evaluation). Folded into a literal when every value is one.
fn object(pairs: &[(Node, Node)]) -> Option<Tree> {
    let mut members: Vec<(String, Tree)> = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        let NodeKind::String { value: key } = &key.kind else {
            return None;
        };
        if members.iter().any(|(seen, _)| seen == key) {
            return None;
        }
        members.push((key.clone(), Tree::recognise(value)?));
    }
    let literal: Option<Map<String, Value>> =
        members.iter().map(|(key, tree)| Some((key.clone(), tree.literal()?))).collect();
    Some(match literal {
        Some(map) => Tree::Literal(Value::Object(map)),
        None => Tree::Object(members),
    })
}

/// `$not(x)` and `$merge([…])`; no other function.
fn function(procedure: &Node, args: &[Node]) -> Option<Tree> {
    let NodeKind::Variable { name } = &procedure.kind else {
        return None;
    };
    if !plain(procedure) {
        return None;
    }
    match (name.as_str(), args) {
        ("not", [arg]) => Some(Tree::Not(Box::new(Tree::recognise(arg)?))),
        ("merge", [arg]) => {
            let NodeKind::Array { items } = &arg.kind else {
                return None;
            };
            if !plain(arg) {
                return None;
            }
            Some(Tree::Merge(items.iter().map(Tree::recognise).collect::<Option<_>>()?))
        }
        _ => None,
    }
}
