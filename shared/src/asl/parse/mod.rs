//! JSON definition → validated [`StateMachine`], collecting every diagnostic at once.
//!
//! The walk is by hand over `serde_json::Value` rather than through derived serde structs:
//! serde stops at the first problem, while users need every problem with its JSON pointer.
//! Each object is read through [`fields::Obj`], which reports unknown keys when done.

mod choice;
mod fields;
mod graph;
mod handling;
mod jsonata;
mod map;
mod reader;
mod states;
mod wait_fail;

use std::collections::HashMap;

use serde_json::Value;

use crate::asl::diagnostic::{Diagnostic, Diagnostics, code, pointer_push};
use crate::asl::model::{State, StateKind, StateMachine, Transition};

use fields::Obj;

/// Parses and validates a definition given as JSON text. On success the warnings (if any) come
/// with the machine; on failure every diagnostic found is returned.
pub fn parse_definition(text: &str) -> Result<(StateMachine, Vec<Diagnostic>), Vec<Diagnostic>> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let mut d = Diagnostics::default();
            d.error(
                "",
                code::INVALID_JSON,
                format!("the definition is not valid JSON: {e} (line {}, column {})", e.line(), e.column()),
            );
            return Err(d.items);
        }
    };
    parse_value(&value)
}

/// Parses and validates a definition already parsed as JSON.
pub fn parse_value(value: &Value) -> Result<(StateMachine, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut cx = Cx::default();
    let machine = match Obj::expect(value, "", "the definition", &mut cx.diags) {
        Some(mut top) => {
            let m = cx.machine(&mut top, true);
            top.finish("the top level of a state machine", &mut cx.diags);
            m
        }
        None => None,
    };
    match machine {
        Some(m) if !cx.diags.has_errors() => Ok((m, cx.diags.items)),
        _ => Err(cx.diags.items),
    }
}

/// Parsing context shared by the whole definition.
#[derive(Default)]
pub(crate) struct Cx {
    pub diags: Diagnostics,
    /// Map Run labels seen so far, with where they were defined (labels are unique per
    /// definition).
    pub labels: HashMap<String, String>,
    /// State names seen so far, with where: names are unique across the whole definition,
    /// branches and item processors included.
    pub state_names: HashMap<String, String>,
    /// The query language of the state being read (JSONata when true); nested machines
    /// (Parallel branches, ItemProcessors) inherit it.
    pub jsonata: bool,
    /// The top level is JSONata: then no state may be JSONPath.
    pub top_jsonata: bool,
}

impl Cx {
    /// Parses `StartAt`/`States` (and, at the top level, `Comment`, `Version`,
    /// `TimeoutSeconds`, `QueryLanguage`) of a state machine, a branch or an item processor.
    pub fn machine<'a>(&mut self, obj: &mut Obj<'a>, top: bool) -> Option<StateMachine> {
        let comment = obj.string("Comment", &mut self.diags).map(str::to_string);
        let mut timeout_seconds = None;
        if top {
            if let Some(v) = obj.string("Version", &mut self.diags)
                && v != "1.0"
            {
                self.diags.error(
                    &obj.at("Version"),
                    code::INVALID_VALUE,
                    format!("Version must be \"1.0\", got \"{v}\""),
                );
            }
            timeout_seconds = obj.uint("TimeoutSeconds", 1, 99_999_999, &mut self.diags);
        }
        let machine_jsonata = if top {
            let j = self.query_language(obj).unwrap_or(false);
            self.top_jsonata = j;
            j
        } else {
            self.jsonata
        };
        let start_at = obj.required_string("StartAt", &mut self.diags);
        if !obj.has("States") {
            self.diags.error(&obj.ptr, code::MISSING_FIELD, "the field 'States' is required");
            return None;
        }
        let states_obj = obj.object("States", &mut self.diags)?;
        if states_obj.map.is_empty() {
            self.diags.error(&states_obj.ptr, code::SCHEMA, "States must contain at least one state");
            return None;
        }
        let names: HashMap<&str, usize> = states_obj.map.keys().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
        for name in states_obj.map.keys() {
            if name.is_empty() || name.chars().count() > 80 {
                self.diags.error(
                    &pointer_push(&states_obj.ptr, name),
                    code::INVALID_STATE_NAME,
                    format!("state names must have 1 to 80 characters: '{name}'"),
                );
            }
        }
        let mut states = Vec::with_capacity(names.len());
        // The transitions of a state that could not be read are unknown: every `Next` or
        // `Default` name found inside it counts as an edge, so its targets are not reported
        // unreachable as well.
        let mut fallback_edges = Vec::new();
        for (name, v) in states_obj.map {
            let ptr = pointer_push(&states_obj.ptr, name);
            if let Some(prev) = self.state_names.insert(name.clone(), ptr.clone()) {
                self.diags.error(&ptr, code::DUPLICATE_STATE_NAME, format!("the state name '{name}' is already used at {prev}; state names must be unique in the whole state machine"));
            }
            let state = match Obj::expect(v, &ptr, "a state", &mut self.diags) {
                Some(mut o) => self.state(name, &mut o, &names, machine_jsonata),
                None => None,
            };
            if state.is_none() {
                let from = states.len();
                let mut targets = Vec::new();
                transition_names(v, &mut targets);
                fallback_edges.extend(targets.into_iter().filter_map(|t| names.get(t)).map(|&to| (from, to)));
            }
            states.push(state.unwrap_or_else(|| placeholder(name, &ptr)));
        }
        let start = match start_at {
            Some(s) => match names.get(s) {
                Some(id) => *id,
                None => {
                    self.diags.error(
                        &obj.at("StartAt"),
                        code::MISSING_TRANSITION_TARGET,
                        format!("StartAt names the state '{s}', which does not exist"),
                    );
                    0
                }
            },
            None => 0,
        };
        let reads_context = states_obj.map.values().any(|s| mentions_context(s) || mentions_jsonata_context(s));
        let mut machine = StateMachine {
            start_at: start,
            states,
            timeout_seconds,
            comment,
            reads_context,
            reads_clock: true,
            express: false,
        };
        machine.reads_clock = reads_context || !machine.is_pure();
        graph::check(&machine, &fallback_edges, &states_obj.ptr, &mut self.diags);
        Some(machine)
    }

    /// `QueryLanguage`: `Some(true)` for JSONata, `Some(false)` for JSONPath, `None` when
    /// absent (the enclosing language applies) or invalid (reported).
    pub fn query_language(&mut self, obj: &mut Obj<'_>) -> Option<bool> {
        match obj.string("QueryLanguage", &mut self.diags)? {
            "JSONata" => Some(true),
            "JSONPath" => Some(false),
            other => {
                let message = format!("QueryLanguage must be \"JSONPath\" or \"JSONata\", got \"{other}\"");
                self.diags.error(&obj.at("QueryLanguage"), code::INVALID_VALUE, message);
                None
            }
        }
    }

    /// Resolves a `Next`-like reference to a state id, reporting unknown names.
    pub fn target(&mut self, names: &HashMap<&str, usize>, name: &str, ptr: &str) -> usize {
        match names.get(name) {
            Some(id) => *id,
            None => {
                self.diags.error(ptr, code::MISSING_TRANSITION_TARGET, format!("the state '{name}' does not exist"));
                usize::MAX
            }
        }
    }

    /// Reads `Next`/`End` for the state types that transition.
    pub fn transition(&mut self, obj: &mut Obj<'_>, names: &HashMap<&str, usize>) -> Transition {
        let next = obj.string("Next", &mut self.diags);
        let end = obj.bool("End", &mut self.diags).unwrap_or(false);
        match (next, end) {
            (Some(n), true) => {
                self.diags.error(&obj.at("End"), code::NEXT_AND_END, "a state cannot have both 'Next' and 'End': true");
                // Follow Next, so that its target is not also reported unreachable.
                Transition::Next(self.target(names, n, &obj.at("Next")))
            }
            (Some(n), false) => Transition::Next(self.target(names, n, &obj.at("Next"))),
            (None, true) => Transition::End,
            // A mistyped Next or End was reported already.
            (None, false) if obj.has("Next") || obj.has("End") => Transition::End,
            (None, false) => {
                self.diags.error(
                    &obj.ptr,
                    code::MISSING_NEXT_OR_END,
                    "a state of this type must have 'Next' or 'End': true",
                );
                Transition::End
            }
        }
    }
}

/// Every string under a `Next` or `Default` key inside a state's JSON.
fn transition_names<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("Next" | "Default", Value::String(s)) => out.push(s),
                    // Nested machines have their own graphs.
                    ("Branches" | "ItemProcessor" | "Iterator", _) => {}
                    _ => transition_names(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| transition_names(x, out)),
        _ => {}
    }
}

/// Whether a JSON subtree has a string that may be a context path (`$$`).
fn mentions_context(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("$$"),
        Value::Array(a) => a.iter().any(mentions_context),
        Value::Object(m) => m.values().any(mentions_context),
        _ => false,
    }
}

/// Whether a JSON subtree has a JSONata expression that may read `$states.context`: one
/// that names `$states` other than as `$states.input`, `.result` or `.errorOutput`.
fn mentions_jsonata_context(v: &Value) -> bool {
    match v {
        Value::String(s) if crate::asl::path::template::is_jsonata(s) => s.match_indices("$states").any(|(i, _)| {
            let rest = &s[i + "$states".len()..];
            ![".input", ".result", ".errorOutput"].iter().any(|f| rest.starts_with(f))
        }),
        Value::Array(a) => a.iter().any(mentions_jsonata_context),
        Value::Object(m) => m.values().any(mentions_jsonata_context),
        _ => false,
    }
}

/// The place of a pointer as shown in messages ("/States/X").
pub(crate) fn display_ptr(ptr: &str) -> &str {
    if ptr.is_empty() { "/" } else { ptr }
}

fn placeholder(name: &str, ptr: &str) -> State {
    State {
        name: name.to_string(),
        pointer: ptr.to_string(),
        kind: StateKind::Succeed,
        flow: Default::default(),
        assign: None,
        transition: Transition::None,
        retry: Vec::new(),
        catch: Vec::new(),
        growth: Default::default(),
    }
}

#[cfg(test)]
mod tests;
