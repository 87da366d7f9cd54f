//! The fields of JSONata states (spec §5): `{% … %}` templates, `Assign` without `.$`, the
//! JSONPath-only fields refused, and the `$states` fields each place may read.

use serde_json::Value;

use crate::asl::diagnostic::{code, pointer_push};
use crate::asl::model::Operand;
use crate::asl::path::Template;
use crate::asl::path::template::{Expr, ExprKind, is_jsonata};

use super::Cx;
use super::fields::Obj;

/// Fields of JSONPath states that JSONata states do not have (AWS refuses them).
pub(super) const JSONPATH_ONLY: &[&str] =
    &["InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Result", "ItemsPath"];

/// Which `$states` fields a place may read besides `input` and `context`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reads {
    /// Arguments, Items, ItemSelector, Condition, counts, Wait, Fail fields.
    Input,
    /// Output and Assign of a Task, Parallel or Map.
    Result,
    /// Output and Assign of a Catcher.
    ErrorOutput,
}

impl Cx {
    /// Reports each JSONPath-only field present in a JSONata object.
    pub(super) fn jsonpath_only(&mut self, obj: &mut Obj<'_>, keys: &[&'static str]) {
        for key in keys {
            if obj.get(key).is_some() {
                self.diags.error(
                    &obj.at(key),
                    code::JSONPATH_FIELD_IN_JSONATA,
                    format!("the field '{key}' is not supported in a JSONata state (QueryLanguage: JSONata); use Arguments and Output"),
                );
            }
        }
        // Every `…Path` twin (TimeoutSecondsPath, ErrorPath, ...) is JSONPath too.
        let path_keys: Vec<&str> = obj
            .map
            .keys()
            .map(String::as_str)
            .filter(|k| k.ends_with("Path") && !keys.contains(k) && !obj.is_seen(k))
            .collect();
        for key in path_keys {
            let ptr = obj.at(key);
            obj.get(key);
            self.diags.error(
                &ptr,
                code::JSONPATH_FIELD_IN_JSONATA,
                format!("the field '{key}' is not supported in a JSONata state (QueryLanguage: JSONata); write the field without 'Path' as a {{% … %}} expression"),
            );
        }
    }

    /// A JSONata template field; `field` is its place as AWS's causes name it.
    pub(super) fn jsonata_template(&mut self, obj: &mut Obj<'_>, key: &'static str, field: &str) -> Option<Template> {
        let ptr = obj.at(key);
        let v = obj.get(key)?;
        Some(Template::compile_jsonata(v, &ptr, field, &mut self.diags))
    }

    /// A payload template in the state's language: `jsonpath_key` (`.$` keys) in JSONPath,
    /// `jsonata_key` (`{% %}` strings) in JSONata.
    pub(super) fn payload(
        &mut self,
        obj: &mut Obj<'_>,
        jsonpath_key: &'static str,
        jsonata_key: &'static str,
    ) -> Option<Template> {
        if !self.jsonata {
            return self.template(obj, jsonpath_key);
        }
        let t = self.jsonata_template(obj, jsonata_key, jsonata_key);
        // Reader and writer Arguments, BatchInput and Credentials see no result.
        self.check_reads(t.as_ref(), &obj.at(jsonata_key), Reads::Input);
        t
    }

    /// `Assign` in the state's language: an object whose keys are variable names. In JSONPath
    /// a `.$` suffix takes a path or intrinsic; in JSONata any value may hold expressions.
    pub(super) fn assign_in(&mut self, obj: &mut Obj<'_>, field: &str) -> Option<Template> {
        let ptr = obj.at("Assign");
        let v = obj.get("Assign")?;
        let Value::Object(m) = v else {
            self.diags.error(&ptr, code::WRONG_TYPE, "Assign must be a JSON object");
            return None;
        };
        for k in m.keys() {
            let name = if self.jsonata { k.as_str() } else { k.strip_suffix(".$").unwrap_or(k) };
            if name == "states" || !crate::asl::path::is_variable_name(name) {
                self.diags.error(&pointer_push(&ptr, k), code::INVALID_VARIABLE_NAME, format!("'{name}' is not a valid variable name (letters, digits and '_', not starting with a digit, at most 80 characters; 'states' is reserved)"));
            }
        }
        Some(if self.jsonata {
            Template::compile_jsonata(v, &ptr, field, &mut self.diags)
        } else {
            Template::compile(v, &ptr, &mut self.diags)
        })
    }

    /// A field that is a literal or, in a JSONata state, a `{% %}` expression: `Some(expr)`
    /// when it is an expression (the caller reads the literal form otherwise).
    pub(super) fn jsonata_operand<T>(&mut self, obj: &mut Obj<'_>, key: &'static str) -> Option<Operand<T>> {
        if !self.jsonata {
            return None;
        }
        let s = obj.map.get(key)?.as_str().filter(|s| is_jsonata(s))?;
        obj.get(key);
        let ptr = obj.at(key);
        Expr::compile_jsonata(key, s, &ptr, &mut self.diags).map(Operand::Expr)
    }

    /// Refuses `$states.result` and `$states.errorOutput` where they do not exist.
    pub(super) fn check_reads(&mut self, t: Option<&Template>, ptr: &str, allowed: Reads) {
        let Some(t) = t else { return };
        let mut exprs = Vec::new();
        t.exprs(&mut exprs);
        for e in exprs {
            check_expr_reads(e, ptr, allowed, self);
        }
    }

    pub(super) fn check_operand_reads<T>(&mut self, op: Option<&Operand<T>>, ptr: &str) {
        if let Some(Operand::Expr(e)) = op {
            check_expr_reads(e, ptr, Reads::Input, self);
        }
    }
}

fn check_expr_reads(e: &Expr, ptr: &str, allowed: Reads, cx: &mut Cx) {
    let ExprKind::Jsonata(j) = &e.kind else { return };
    // A bare `$states` reads everything; only named fields are refused.
    let text = j.text();
    let reads = j.reads();
    if reads.result && allowed != Reads::Result && text.contains("$states.result") {
        cx.diags.error(
            ptr,
            code::INVALID_JSONATA,
            format!("the JSONata expression '{}' in the field '{}' reads $states.result, which exists only in the Output and Assign of a Task, Parallel or Map state", text.trim(), e.field),
        );
    }
    if reads.error_output && allowed != Reads::ErrorOutput && text.contains("$states.errorOutput") {
        cx.diags.error(
            ptr,
            code::INVALID_JSONATA,
            format!("the JSONata expression '{}' in the field '{}' reads $states.errorOutput, which exists only in a Catch's Output and Assign", text.trim(), e.field),
        );
    }
}
