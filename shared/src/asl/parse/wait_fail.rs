//! Wait and Fail: their time and text fields, each a literal, a `…Path` twin (JSONPath) or a
//! `{% %}` expression (JSONata).

use crate::asl::diagnostic::code;
use crate::asl::model::*;
use crate::asl::path::Path;
use crate::asl::path::template::Expr;
use crate::asl::timestamp;

use super::Cx;
use super::fields::Obj;

impl Cx {
    pub(super) fn wait(&mut self, obj: &mut Obj<'_>) -> Option<StateKind> {
        let present: Vec<&str> =
            ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"].into_iter().filter(|k| obj.has(k)).collect();
        match present.len() {
            0 => self.diags.error(
                &obj.ptr,
                code::MISSING_FIELD,
                "a Wait state needs one of Seconds, Timestamp, SecondsPath, TimestampPath",
            ),
            1 => {}
            _ => self.diags.error(
                &obj.ptr,
                code::MUTUALLY_EXCLUSIVE,
                format!(
                    "a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath; found {}",
                    present.join(", ")
                ),
            ),
        }
        if let Some(op) = self.jsonata_operand(obj, "Seconds") {
            self.check_operand_reads(Some(&op), &obj.at("Seconds"));
            return Some(StateKind::Wait(Wait::Seconds(op)));
        }
        if let Some(op) = self.jsonata_operand(obj, "Timestamp") {
            self.check_operand_reads(Some(&op), &obj.at("Timestamp"));
            return Some(StateKind::Wait(Wait::Timestamp(op)));
        }
        // Every form is read (and checked), so none is reported as unknown.
        let seconds = obj.uint("Seconds", 0, 99_999_999, &mut self.diags).map(|s| Wait::Seconds(Operand::Literal(s)));
        let ts = obj.string("Timestamp", &mut self.diags).and_then(|t| match timestamp::parse(t) {
            Some(ts) => Some(Wait::Timestamp(Operand::Literal(ts))),
            None => {
                self.diags.error(
                    &obj.at("Timestamp"),
                    code::INVALID_TIMESTAMP,
                    format!("'{t}' is not an RFC 3339 timestamp such as 2016-03-14T01:59:00Z"),
                );
                None
            }
        });
        let seconds_path = self.reference_operand(obj, "SecondsPath").map(Wait::Seconds);
        let timestamp_path = self.reference_operand(obj, "TimestampPath").map(Wait::Timestamp);
        seconds.or(ts).or(seconds_path).or(timestamp_path).map(StateKind::Wait)
    }

    pub(super) fn fail(&mut self, obj: &mut Obj<'_>) -> Option<StateKind> {
        let error = self.text_or_expr(obj, "Error", "ErrorPath");
        let cause = self.text_or_expr(obj, "Cause", "CausePath");
        Some(StateKind::Fail(Fail { error, cause }))
    }

    /// `Error`/`ErrorPath` and `Cause`/`CausePath`: the path form takes a reference path or
    /// one of the intrinsics AWS allows there.
    fn text_or_expr(
        &mut self,
        obj: &mut Obj<'_>,
        key: &'static str,
        path_key: &'static str,
    ) -> Option<Operand<String>> {
        if let Some(op) = self.jsonata_operand(obj, key) {
            self.check_operand_reads(Some(&op), &obj.at(key));
            return Some(op);
        }
        obj.exclusive(key, path_key, &mut self.diags);
        let text = obj.string(key, &mut self.diags);
        let path_text = obj.string(path_key, &mut self.diags);
        if let Some(s) = text {
            return Some(Operand::Literal(s.to_string()));
        }
        let s = path_text?;
        let ptr = obj.at(path_key);
        const ALLOWED: &[&str] = &[
            "States.Format(",
            "States.JsonToString(",
            "States.ArrayGetItem(",
            "States.Base64Encode(",
            "States.Base64Decode(",
            "States.Hash(",
            "States.UUID(",
        ];
        if s.starts_with("States.") && !ALLOWED.iter().any(|a| s.starts_with(a)) {
            self.diags.error(&ptr, code::INVALID_INTRINSIC, format!("{path_key} accepts a reference path or one of States.Format, States.JsonToString, States.ArrayGetItem, States.Base64Encode, States.Base64Decode, States.Hash, States.UUID"));
            return None;
        }
        if !s.starts_with("States.") && Path::parse_reference(s).is_err() {
            self.diags.error(
                &ptr,
                code::INVALID_REFERENCE_PATH,
                format!("{path_key} must be a reference path or an intrinsic function, got '{s}'"),
            );
            return None;
        }
        Expr::compile(path_key, s, &ptr, &mut self.diags).map(Operand::Expr)
    }
}
