//! How big a recognised expression's value can be (see `crate::asl::bound`), so that a JSONata
//! state built of such expressions is measured only when its bound passes a limit, as a
//! JSONPath one is. Whichever path answers (fast or interpreter: they agree), the value is
//! within this bound; an expression outside the fast language has no bound (`None`).

use jlens_core::ast::BinaryOp;

use crate::asl::bound::Growth;
use crate::asl::path::Root as PathRoot;

use super::lookup::{Lookup, Root};
use super::tree::Tree;

/// The longest JSON text of a double (`-1.7976931348623157e308`), rounded up.
const NUMBER_BYTES: usize = 32;

pub(super) fn of_tree(tree: &Tree) -> Option<Growth> {
    Some(match tree {
        Tree::Number(_) => Growth::fixed(NUMBER_BYTES, 0),
        Tree::Literal(v) => Growth::literal(v),
        Tree::Lookup(l) => of_lookup(l)?,
        Tree::Binary(op, lhs, rhs) => match op {
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                Growth::fixed(NUMBER_BYTES, 0)
            }
            // Comparisons and `and`/`or` give a boolean; their operands must be bounded too,
            // or nothing is promised (an operand may be anything the interpreter evaluates).
            _ => {
                of_tree(lhs)?;
                of_tree(rhs)?;
                Growth::fixed(5, 0)
            }
        },
        Tree::Not(x) => {
            of_tree(x)?;
            Growth::fixed(5, 0)
        }
        // The merged object holds at most every member of every item once.
        Tree::Merge(items) => items.iter().try_fold(Growth::fixed(2, 1), |g, t| Some(g.plus(of_tree(t)?)))?,
        Tree::Object(members) => members.iter().try_fold(Growth::fixed(2, 1), |g, (k, t)| {
            // `"key":` (escaped at most 6 bytes a character) and a comma.
            Some(g.plus(of_tree(t)?.deeper(1).times(1, k.len() * 6 + 4)))
        })?,
    })
}

/// A lookup gives a part of its root. Where it goes through arrays the interpreter maps over
/// them, and the result is a new array of parts: one more level and its brackets.
pub(super) fn of_lookup(l: &Lookup) -> Option<Growth> {
    let source = match l.root() {
        Root::Input => PathRoot::Input,
        Root::Context => PathRoot::Context,
        Root::Variable(name) => PathRoot::Variable(name.clone()),
        // Results are measured where they enter; what they hold is not known here.
        Root::Result | Root::ErrorOutput => return None,
    };
    Some(Growth::source(&source).times(1, 16).deeper(1))
}
