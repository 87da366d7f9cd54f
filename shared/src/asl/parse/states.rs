//! One state object → [`State`]: the fields common to all types, then the type's own.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::asl::bound::StateGrowth;
use crate::asl::diagnostic::{code, pointer_push};
use crate::asl::model::*;
use crate::asl::path::template::{Expr, ExprKind};
use crate::asl::path::{Path, Template};
use crate::asl::resource::Resource;

use super::fields::Obj;
use super::jsonata::{JSONPATH_ONLY, Reads};
use super::{Cx, display_ptr};

/// Fields valid only in JSONata states.
const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items", "Condition"];

impl Cx {
    pub(super) fn state<'a>(
        &mut self,
        name: &str,
        obj: &mut Obj<'a>,
        names: &HashMap<&str, usize>,
        parent_jsonata: bool,
    ) -> Option<State> {
        let ty = obj.required_string("Type", &mut self.diags)?;
        obj.string("Comment", &mut self.diags);
        let declared = self.query_language(obj);
        if declared == Some(false) && self.top_jsonata {
            self.diags.error(
                &obj.at("QueryLanguage"),
                code::INVALID_VALUE,
                format!(
                    "the state at {} is JSONPath, but the state machine's QueryLanguage is JSONata: a JSONata state machine cannot contain JSONPath states",
                    display_ptr(&obj.ptr)
                ),
            );
        }
        let jsonata = declared.unwrap_or(parent_jsonata);
        // The state's language governs its own fields and, by inheritance, its nested machines.
        let enclosing = std::mem::replace(&mut self.jsonata, jsonata);
        let state = self.state_in_language(name, ty, obj, names);
        self.jsonata = enclosing;
        state
    }

    fn state_in_language<'a>(
        &mut self,
        name: &str,
        ty: &'a str,
        obj: &mut Obj<'a>,
        names: &HashMap<&str, usize>,
    ) -> Option<State> {
        let jsonata = self.jsonata;
        if jsonata {
            self.jsonpath_only(obj, JSONPATH_ONLY);
        } else {
            for key in JSONATA_ONLY {
                if obj.get(key).is_some() {
                    self.diags.error(
                        &obj.at(key),
                        code::UNKNOWN_FIELD,
                        format!("the field '{key}' is only valid in JSONata states (QueryLanguage: JSONata)"),
                    );
                }
            }
        }
        let kind = match ty {
            "Pass" => self.pass(obj),
            "Task" => self.task(obj),
            "Choice" => self.choice(obj, names),
            "Wait" => self.wait(obj),
            "Succeed" => Some(StateKind::Succeed),
            "Fail" => self.fail(obj),
            "Parallel" => self.parallel(obj),
            "Map" => self.map(obj, name),
            other => {
                self.diags.error(&obj.at("Type"), code::INVALID_VALUE, format!("unknown state type \"{other}\"; expected one of Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map"));
                return None;
            }
        };
        let has = |f: &str| type_has(ty, f);
        let state_reads = if matches!(ty, "Task" | "Parallel" | "Map") { Reads::Result } else { Reads::Input };
        let flow = if jsonata {
            let arguments = if matches!(ty, "Task" | "Parallel") {
                self.jsonata_template(obj, "Arguments", "Arguments")
            } else {
                None
            };
            self.check_reads(arguments.as_ref(), &obj.at("Arguments"), Reads::Input);
            let output = if ty != "Fail" { self.jsonata_template(obj, "Output", "Output") } else { None };
            self.check_reads(output.as_ref(), &obj.at("Output"), state_reads);
            DataFlow::Jsonata(JsonataIo { arguments, output })
        } else {
            DataFlow::JsonPath(self.jsonpath_io(obj, ty))
        };
        let assign = if has("Assign") { self.assign_in(obj, "Assign") } else { None };
        if jsonata {
            self.check_reads(assign.as_ref(), &obj.at("Assign"), state_reads);
        }
        let transition = if has("Next") { self.transition(obj, names) } else { Transition::None };
        let (retry, catch) =
            if has("Retry") { (self.retriers(obj), self.catchers(obj, names)) } else { (Vec::new(), Vec::new()) };
        obj.finish(&format!("a {ty} state"), &mut self.diags);
        let kind = kind?;
        let growth = StateGrowth::of(&kind, &flow, assign.as_ref());
        Some(State {
            name: name.to_string(),
            pointer: obj.ptr.clone(),
            kind,
            flow,
            assign,
            transition,
            retry,
            catch,
            growth,
        })
    }

    /// The five JSONPath input/output fields, as far as the state type has them.
    fn jsonpath_io(&mut self, obj: &mut Obj<'_>, ty: &str) -> Io {
        let has = |f: &str| type_has(ty, f);
        let mut io = Io::default();
        if has("InputPath") {
            io.input_path = self.path_or_null(obj, "InputPath");
        }
        if has("OutputPath") {
            io.output_path = self.path_or_null(obj, "OutputPath");
        }
        if has("Parameters") {
            io.parameters = self.template(obj, "Parameters");
        }
        if has("ResultSelector") {
            io.result_selector = self.template(obj, "ResultSelector");
        }
        if has("ResultPath") {
            io.result_path = self.result_path(obj, "ResultPath");
        }
        io
    }

    fn path_or_null(&mut self, obj: &mut Obj<'_>, key: &'static str) -> PathOrNull {
        match obj.get(key) {
            None => PathOrNull::Root,
            Some(Value::Null) => PathOrNull::Null,
            Some(Value::String(s)) => match Path::parse(s) {
                Ok(p) => {
                    p.warn_unquoted(&obj.at(key), &mut self.diags);
                    PathOrNull::Path(p)
                }
                Err(e) => {
                    self.diags.error(&obj.at(key), code::INVALID_PATH, e);
                    PathOrNull::Root
                }
            },
            Some(_) => {
                self.diags.error(&obj.at(key), code::WRONG_TYPE, format!("{key} must be a JSONPath string or null"));
                PathOrNull::Root
            }
        }
    }

    pub(super) fn result_path(&mut self, obj: &mut Obj<'_>, key: &'static str) -> ResultPath {
        match obj.get(key) {
            None => ResultPath::Replace,
            Some(Value::Null) => ResultPath::Discard,
            Some(Value::String(s)) => match Path::parse_reference(s) {
                Ok(p) if *p.root() != crate::asl::path::Root::Input => {
                    self.diags.error(
                        &obj.at(key),
                        code::INVALID_REFERENCE_PATH,
                        format!("{key} must start with '$': context and variable paths cannot be written"),
                    );
                    ResultPath::Replace
                }
                Ok(p) if p.is_root_input() => ResultPath::Replace,
                Ok(p) => ResultPath::At(p),
                Err(e) => {
                    self.diags.error(&obj.at(key), code::INVALID_REFERENCE_PATH, e);
                    ResultPath::Replace
                }
            },
            Some(_) => {
                self.diags.error(
                    &obj.at(key),
                    code::WRONG_TYPE,
                    format!("{key} must be a reference path string or null"),
                );
                ResultPath::Replace
            }
        }
    }

    pub(super) fn template(&mut self, obj: &mut Obj<'_>, key: &'static str) -> Option<Template> {
        let ptr = obj.at(key);
        let v = obj.get(key)?;
        Some(Template::compile(v, &ptr, &mut self.diags))
    }

    /// A field given as an integer or by its `…Path` twin.
    pub(super) fn int_or_path(
        &mut self,
        obj: &mut Obj<'_>,
        key: &'static str,
        path_key: &'static str,
        min: u64,
        max: u64,
    ) -> Option<Operand<u64>> {
        if self.jsonata && !obj.is_seen(path_key) {
            // Nested objects (ReaderConfig, ItemBatcher) are not swept by the state's check.
            self.jsonpath_only(obj, &[path_key]);
        }
        if let Some(op) = self.jsonata_operand(obj, key) {
            self.check_operand_reads(Some(&op), &obj.at(key));
            return Some(op);
        }
        obj.exclusive(key, path_key, &mut self.diags);
        let value = obj.uint(key, min, max, &mut self.diags).map(Operand::Literal);
        value.or_else(|| self.reference_operand(obj, path_key))
    }

    /// A `…Path` field as the expression of an [`Operand`].
    pub(super) fn reference_operand<T>(&mut self, obj: &mut Obj<'_>, path_key: &'static str) -> Option<Operand<T>> {
        let path = self.reference(obj, path_key)?;
        Some(Operand::Expr(Expr { field: path_key.to_string(), kind: ExprKind::Path(path) }))
    }

    pub(super) fn reference(&mut self, obj: &mut Obj<'_>, key: &'static str) -> Option<Path> {
        let s = obj.string(key, &mut self.diags)?;
        match Path::parse_reference(s) {
            Ok(p) => Some(p),
            Err(e) => {
                self.diags.error(&obj.at(key), code::INVALID_REFERENCE_PATH, e);
                None
            }
        }
    }

    fn pass(&mut self, obj: &mut Obj<'_>) -> Option<StateKind> {
        let result = obj.get("Result").cloned();
        Some(StateKind::Pass(Pass { result }))
    }

    fn task(&mut self, obj: &mut Obj<'_>) -> Option<StateKind> {
        let resource = obj.required_string("Resource", &mut self.diags).and_then(|r| match Resource::parse(r) {
            Ok(r) => Some(Arc::new(r)),
            Err(e) => {
                self.diags.error(&obj.at("Resource"), e.code(), e.to_string());
                None
            }
        });
        let timeout = self.int_or_path(obj, "TimeoutSeconds", "TimeoutSecondsPath", 1, 99_999_999);
        let heartbeat = self.int_or_path(obj, "HeartbeatSeconds", "HeartbeatSecondsPath", 1, 99_999_999);
        if let (Some(Operand::Literal(t)), Some(Operand::Literal(h))) = (&timeout, &heartbeat)
            && h >= t
        {
            self.diags.error(
                &obj.at("HeartbeatSeconds"),
                code::INVALID_VALUE,
                format!("HeartbeatSeconds ({h}) must be smaller than TimeoutSeconds ({t})"),
            );
        }
        let credentials = self.payload(obj, "Credentials", "Credentials");
        if credentials.is_some() {
            self.diags.warning(
                &obj.at("Credentials"),
                code::IGNORED_FIELD,
                "Credentials are accepted and ignored: local integrations run with the worker's own identity",
            );
        }
        Some(StateKind::Task(Box::new(Task { resource: resource?, timeout, heartbeat, credentials })))
    }

    fn parallel(&mut self, obj: &mut Obj<'_>) -> Option<StateKind> {
        if !obj.has("Branches") {
            self.diags.error(&obj.ptr, code::MISSING_FIELD, "the field 'Branches' is required");
            return None;
        }
        let list = obj.array("Branches", &mut self.diags)?;
        if list.is_empty() {
            self.diags.error(&obj.at("Branches"), code::SCHEMA, "Branches must contain at least one branch");
        }
        let mut branches = Vec::with_capacity(list.len());
        for (i, b) in list.iter().enumerate() {
            let ptr = pointer_push(&obj.at("Branches"), &i.to_string());
            let Some(mut bo) = Obj::expect(b, &ptr, "a branch", &mut self.diags) else { continue };
            if let Some(m) = self.machine(&mut bo, false) {
                branches.push(m);
            }
            bo.finish("a Parallel branch", &mut self.diags);
        }
        Some(StateKind::Parallel(Parallel { branches }))
    }
}

/// Which fields each state type accepts (JSONPath mode, spec §4.2 and §2.1).
pub(super) fn type_has(ty: &str, field: &str) -> bool {
    let list: &[&str] = match ty {
        "Pass" => &["InputPath", "OutputPath", "Parameters", "ResultPath", "Assign", "Next"],
        "Task" => &["InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Assign", "Next", "Retry"],
        "Choice" => &["InputPath", "OutputPath", "Assign"],
        "Wait" => &["InputPath", "OutputPath", "Assign", "Next"],
        "Succeed" => &["InputPath", "OutputPath"],
        "Fail" => &[],
        "Parallel" => {
            &["InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Assign", "Next", "Retry"]
        }
        // A Map's `Parameters` is the legacy name of `ItemSelector`, read by the Map parser.
        "Map" => &["InputPath", "OutputPath", "ResultSelector", "ResultPath", "Assign", "Next", "Retry"],
        _ => &[],
    };
    list.contains(&field)
}
