//! How a [`Scope`] reaches the crate: the `$states` binding, workflow variables, the clock and
//! the random generator, built per evaluation from a plan made once at compile time.
//!
//! The crate binds variables as owned JSON, so every evaluation copies what it binds. The plan
//! keeps that copy small: the crate's static analysis ([`jlens_core::reads`]) says which fields
//! of `$states` and of each variable the expression may read, and only those are copied
//! ([`Read::cut`]). `$states.input.id` copies one number, not the input. The analysis is an
//! upper bound that the crate guarantees gives the same result or error code on the cut value.

use std::sync::Arc;

use jlens_core::reads::Read;
use jlens_core::{Bindings, NodeKind, Options};
use serde_json::{Map, Value};

use super::{Reads, Scope, functions, random};

/// What one evaluation may spend. A hostile expression (`[1..16000000]`, runaway recursion,
/// a string doubled in a loop) fails with the crate's `U1001`/`U1006`/`D1011` code, raised
/// as `States.QueryEvaluationError`, instead of taking the process's memory or time. The
/// sizes are far above AWS's 256 KiB payloads (intermediate values may be larger than the
/// result) and far below what would hurt a worker running many children at once.
static LIMITS: std::sync::LazyLock<Options> = std::sync::LazyLock::new(|| {
    Options::new()
        .max_steps(MAX_STEPS)
        .max_string_length(MAX_BYTES)
        .max_result_size(MAX_BYTES)
        .max_array_length(MAX_ITEMS)
});

/// Evaluation steps per expression: about a second of the slowest steps.
pub(super) const MAX_STEPS: u64 = 20_000_000;
/// Bytes of one string, or of the result as JSON text.
pub(super) const MAX_BYTES: usize = 64 << 20;
/// Items of one array or sequence.
pub(super) const MAX_ITEMS: usize = 4 << 20;

/// The per-expression binding plan.
#[derive(Debug)]
pub(super) struct Plan {
    /// What is read of `$states`; `None` when the expression does not mention it.
    states: Option<Read>,
    /// Workflow variables read, with what is read of each.
    variables: Vec<(String, Read)>,
    /// Calls `$now()` or `$millis()`.
    clock: bool,
    /// Calls `$random`, `$uuid` or `$shuffle`.
    random: bool,
}

impl Plan {
    pub(super) fn new(compiled: &jlens_core::Expression) -> Plan {
        let analysis = compiled.reads_with(functions::aws());
        let mut states = None;
        let mut variables = Vec::new();
        for (name, read) in analysis.bindings() {
            if name == "states" {
                states = Some(read.clone());
            } else if !functions::is_aws(name) {
                variables.push((name.clone(), read.clone()));
            }
        }
        let (mut clock, mut random) = (false, false);
        compiled.ast().root.walk(&mut |node| {
            if let NodeKind::Variable { name } = &node.kind {
                match name.as_str() {
                    "now" | "millis" => clock = true,
                    "random" | "uuid" | "shuffle" => random = true,
                    _ => {}
                }
            }
        });
        Plan { states, variables, clock, random }
    }

    pub(super) fn reads(&self) -> Reads {
        let field = |name: &str| match &self.states {
            None => false,
            Some(Read::Whole) => true,
            Some(Read::Fields(fields)) => fields.contains_key(name),
        };
        Reads {
            input: field("input"),
            result: field("result"),
            error_output: field("errorOutput"),
            context: field("context"),
            variables: !self.variables.is_empty(),
        }
    }

    /// The bindings and options of one evaluation.
    pub(super) fn bind(&self, scope: &dyn Scope) -> (Bindings, Options) {
        let mut bindings = functions::aws().clone();
        if let Some(read) = &self.states {
            bindings = bindings.var("states", states(read, scope));
        }
        for (name, read) in &self.variables {
            // An unassigned variable stays unbound: JSONata reads it as undefined, which the
            // caller reports as AWS does for `$doesNotExist`.
            if let Some(value) = scope.variable(name) {
                bindings = bindings.var(name.as_str(), read.cut(value));
            }
        }
        let mut options = LIMITS.clone();
        if self.clock {
            options = options.now(scope.now().timestamp_millis());
        }
        if self.random {
            let generator = Arc::new(random::Generator::from_unit(scope.random()));
            options = options.seed(generator.next_u64());
            bindings = random::bind(bindings, generator);
        }
        (bindings, options)
    }
}

/// `$states.context`, cut to what is read: member by member from the context view when the
/// expression names its members, whole otherwise.
fn context(read: &Read, scope: &dyn Scope) -> Value {
    match read {
        Read::Whole => scope.context().clone(),
        Read::Fields(members) => {
            let mut object = Map::new();
            for (name, member_read) in members {
                if let Some(v) = scope.context_member(name) {
                    object.insert(name.clone(), member_read.cut(v));
                }
            }
            Value::Object(object)
        }
    }
}

/// `$states`, with only the fields `read` needs, each cut to what is read of it.
fn states(read: &Read, scope: &dyn Scope) -> Value {
    let parts: [(&str, Option<&Value>); 3] =
        [("input", Some(scope.input())), ("result", scope.result()), ("errorOutput", scope.error_output())];
    let mut object = Map::new();
    for (name, value) in parts {
        let Some(value) = value else { continue };
        let cut = match read {
            Read::Whole => value.clone(),
            Read::Fields(fields) => match fields.get(name) {
                Some(field) => field.cut(value),
                None => continue,
            },
        };
        object.insert(name.to_owned(), cut);
    }
    match read {
        Read::Whole => {
            object.insert("context".to_owned(), scope.context().clone());
        }
        Read::Fields(fields) => {
            if let Some(field) = fields.get("context") {
                object.insert("context".to_owned(), context(field, scope));
            }
        }
    }
    Value::Object(object)
}
