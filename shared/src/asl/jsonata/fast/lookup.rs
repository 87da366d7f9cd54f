//! Field lookups (`$states.input.order.id`, `$states.context.Map.Item.Value`, `$myVar.a.b`):
//! recognised from a path of plain names after a variable, and walked object by object.
//!
//! JSONata maps a path over arrays and unwraps singleton sequences; rather than copy those
//! rules, a lookup gives up (and the interpreter answers) whenever it meets a non-object before
//! the last step, or finds the variable unassigned; a variable named like one of the crate's
//! functions is the function, and not a lookup.
//! An array at the end is returned as it is: with only objects before it, nothing was mapped
//! (see `Shape::Lookup`); an operator meeting it decides for itself.

use jlens_core::{Node, NodeKind};
use serde_json::Value;

use super::super::{Scope, functions};
use super::plain;

/// A chain of field names from a root.
#[derive(Debug)]
pub(super) struct Lookup {
    root: Root,
    fields: Vec<String>,
}

/// Where a lookup starts.
#[derive(Debug)]
pub(super) enum Root {
    Input,
    Result,
    ErrorOutput,
    Context,
    Variable(String),
}

impl Lookup {
    pub(super) fn root(&self) -> &Root {
        &self.root
    }

    /// `$name.field.field…` with no predicates, sorting, grouping or `[]`.
    pub(super) fn recognise(node: &Node) -> Option<Lookup> {
        let steps: &[Node] = match &node.kind {
            NodeKind::Path { steps, keep_singleton_array: false } if plain(node) => steps,
            NodeKind::Variable { .. } => std::slice::from_ref(node),
            _ => return None,
        };
        let (first, rest) = steps.split_first()?;
        let NodeKind::Variable { name } = &first.kind else {
            return None;
        };
        if !plain(first) {
            return None;
        }
        let mut fields = Vec::with_capacity(rest.len());
        for step in rest {
            match &step.kind {
                NodeKind::Name { name } if plain(step) => fields.push(name.clone()),
                _ => return None,
            }
        }
        let root = if name == "states" {
            if fields.is_empty() {
                return None;
            }
            match fields.remove(0).as_str() {
                "input" => Root::Input,
                "result" => Root::Result,
                "errorOutput" => Root::ErrorOutput,
                "context" => Root::Context,
                _ => return None,
            }
        } else if name.is_empty() || functions::is_aws(name) || is_builtin(name) {
            return None;
        } else {
            Root::Variable(name.clone())
        };
        Some(Lookup { root, fields })
    }

    /// The value found (`Some(None)`: undefined), or `None` when the interpreter must answer.
    pub(super) fn find<'a>(&self, scope: &'a dyn Scope) -> Option<Option<&'a Value>> {
        let fields = &self.fields;
        let start = match &self.root {
            Root::Input => Some(scope.input()),
            Root::Result => scope.result(),
            Root::ErrorOutput => scope.error_output(),
            // The context object is a view: start at the member, never build the whole.
            Root::Context => match fields.first() {
                Some(member) => match scope.context_member(member) {
                    Some(v) => Some(v),
                    None => return Some(None),
                },
                None => Some(scope.context()),
            },
            Root::Variable(name) => Some(scope.variable(name)?),
        };
        let Some(mut value) = start else {
            return Some(None);
        };
        let skip = usize::from(matches!(self.root, Root::Context) && !fields.is_empty());
        for field in &fields[skip..] {
            let Value::Object(object) = value else {
                return None;
            };
            match object.get(field) {
                Some(next) => value = next,
                None => return Some(None),
            }
        }
        Some(Some(value))
    }
}

/// Whether `$name` is one of the crate's functions, which the binding plan never shadows with
/// a workflow variable of the same name.
fn is_builtin(name: &str) -> bool {
    jlens_core::function_catalog().iter().any(|function| function.name == name)
}
