//! Fast paths: the expressions most definitions are made of, evaluated without the
//! interpreter and without binding anything.
//!
//! Two shapes are recognised at compile time. A *constant* (literals, and arrays, objects and
//! operators over them: `1`, `'s'`, `[0]`, `{'foo': 'bar'}`) is evaluated once, by the crate,
//! so its value is the crate's by construction. A *lookup* (`$states.input.order.id`,
//! `$states.context.Map.Item.Value`, `$myVar.a.b`) walks objects field by field. JSONata maps
//! a path over arrays and unwraps singleton sequences; rather than copy those rules, a lookup
//! gives up at run time (and the interpreter answers) whenever it meets a non-object before
//! the last step, finds an array at the end, or finds the variable unassigned (its name may
//! be a built-in function's). Numbers come back as the crate writes them ([`normalised`]).

use jlens_core::{Bindings, Node, NodeKind};
use serde_json::Value;

use super::Scope;

/// A recognised expression.
#[derive(Debug)]
pub(super) enum Fast {
    /// The value, computed at compile time (`None`: undefined).
    Constant(Option<Value>),
    /// A chain of field names from a root.
    Lookup { root: Root, fields: Vec<String> },
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

impl Fast {
    pub(super) fn recognise(compiled: &jlens_core::Expression) -> Option<Fast> {
        let root = &compiled.ast().root;
        if is_constant(root) {
            // An error (`1 / 'a'`) is left to the interpreter, which raises it at each evaluation.
            let value = compiled.evaluate(None, &Bindings::new()).ok()?;
            return Some(Fast::Constant(value));
        }
        lookup(root)
    }

    /// The value, or `None` when this evaluation must go through the interpreter.
    pub(super) fn eval(&self, scope: &dyn Scope) -> Option<Option<Value>> {
        let (root, fields) = match self {
            Fast::Constant(value) => return Some(value.clone()),
            Fast::Lookup { root, fields } => (root, fields),
        };
        let start = match root {
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
        let skip = usize::from(matches!(root, Root::Context) && !fields.is_empty());
        for field in &fields[skip..] {
            let Value::Object(object) = value else {
                return None;
            };
            match object.get(field) {
                Some(next) => value = next,
                None => return Some(None),
            }
        }
        if value.is_array() && !fields.is_empty() {
            return None;
        }
        Some(Some(normalised(value)))
    }
}

/// A copy of `value` with numbers as the crate gives them back. JSONata numbers are doubles:
/// the crate reads every JSON number as an `f64` and writes integral ones below 2^53 as JSON
/// integers (`7.0` → `7`, `-0.0` → `0`), others as doubles, non-finite ones as `null`.
fn normalised(value: &Value) -> Value {
    match value {
        Value::Number(number) => {
            let n = number.as_f64().unwrap_or(f64::NAN);
            if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
                Value::from(n as i64)
            } else {
                serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
            }
        }
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

/// `$name.field.field…` with no predicates, sorting, grouping or `[]`.
fn lookup(node: &Node) -> Option<Fast> {
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
    } else if name.is_empty() || super::functions::is_aws(name) {
        return None;
    } else {
        Root::Variable(name.clone())
    };
    Some(Fast::Lookup { root, fields })
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
