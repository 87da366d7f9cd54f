//! `Retry` and `Catch`: retriers and catchers with AWS's ranges and `States.ALL` rules.

use std::collections::HashMap;

use serde_json::Value;

use crate::asl::diagnostic::{code, pointer_push};
use crate::asl::error_name;
use crate::asl::model::{Catcher, JitterStrategy, ResultPath, Retrier};
use crate::asl::suggest;

use super::Cx;
use super::fields::Obj;

impl Cx {
    pub(super) fn retriers(&mut self, obj: &mut Obj<'_>) -> Vec<Retrier> {
        let Some(list) = obj.array("Retry", &mut self.diags) else { return Vec::new() };
        let base = obj.at("Retry");
        let mut out = Vec::with_capacity(list.len());
        for (i, r) in list.iter().enumerate() {
            let ptr = pointer_push(&base, &i.to_string());
            let Some(mut ro) = Obj::expect(r, &ptr, "a retrier", &mut self.diags) else { continue };
            ro.string("Comment", &mut self.diags);
            let error_equals = self.error_equals(&mut ro, i + 1 == list.len(), "retrier");
            let interval_seconds = ro.uint("IntervalSeconds", 1, 99_999_999, &mut self.diags).unwrap_or(1);
            let max_attempts = ro.uint("MaxAttempts", 0, 99_999_999, &mut self.diags).unwrap_or(3);
            let backoff_rate = match ro.number("BackoffRate", &mut self.diags) {
                Some(b) if b < 1.0 => {
                    self.diags.error(
                        &ro.at("BackoffRate"),
                        code::INVALID_RETRY,
                        format!("BackoffRate must be at least 1.0, got {b}"),
                    );
                    2.0
                }
                Some(b) => b,
                None => 2.0,
            };
            let max_delay_seconds = ro.uint("MaxDelaySeconds", 1, 31_622_400, &mut self.diags);
            let jitter = match ro.string("JitterStrategy", &mut self.diags) {
                None | Some("NONE") => JitterStrategy::None,
                Some("FULL") => JitterStrategy::Full,
                Some(other) => {
                    self.diags.error(
                        &ro.at("JitterStrategy"),
                        code::INVALID_RETRY,
                        format!("JitterStrategy must be \"FULL\" or \"NONE\", got \"{other}\""),
                    );
                    JitterStrategy::None
                }
            };
            ro.finish("a retrier", &mut self.diags);
            out.push(Retrier { error_equals, interval_seconds, max_attempts, backoff_rate, max_delay_seconds, jitter });
        }
        out
    }

    pub(super) fn catchers(&mut self, obj: &mut Obj<'_>, names: &HashMap<&str, usize>) -> Vec<Catcher> {
        let Some(list) = obj.array("Catch", &mut self.diags) else { return Vec::new() };
        let base = obj.at("Catch");
        let mut out = Vec::with_capacity(list.len());
        for (i, c) in list.iter().enumerate() {
            let ptr = pointer_push(&base, &i.to_string());
            let Some(mut co) = Obj::expect(c, &ptr, "a catcher", &mut self.diags) else { continue };
            co.string("Comment", &mut self.diags);
            let error_equals = self.error_equals(&mut co, i + 1 == list.len(), "catcher");
            let next = co.required_string("Next", &mut self.diags).map(|n| {
                let p = co.at("Next");
                self.target(names, n, &p)
            });
            let jsonata = self.jsonata;
            let (result_path, output) = if jsonata {
                self.jsonpath_only(&mut co, &["ResultPath"]);
                (ResultPath::Replace, self.jsonata_template(&mut co, "Output", &format!("Catch[{i}]/Output")))
            } else {
                for key in ["Output", "Arguments"] {
                    if co.get(key).is_some() {
                        self.diags.error(
                            &co.at(key),
                            code::UNKNOWN_FIELD,
                            format!("the field '{key}' is only valid in JSONata states"),
                        );
                    }
                }
                (self.result_path(&mut co, "ResultPath"), None)
            };
            let assign = self.assign_in(&mut co, &format!("Catch[{i}]/Assign"));
            if jsonata {
                self.check_reads(output.as_ref(), &co.at("Output"), super::jsonata::Reads::ErrorOutput);
                self.check_reads(assign.as_ref(), &co.at("Assign"), super::jsonata::Reads::ErrorOutput);
            }
            co.finish("a catcher", &mut self.diags);
            if let Some(next) = next {
                out.push(Catcher { error_equals, next, result_path, assign, output, jsonata });
            }
        }
        out
    }

    /// `ErrorEquals`: a non-empty array of error names; `States.ALL` must stand alone and only
    /// in the last retrier or catcher; predefined names must exist.
    fn error_equals(&mut self, o: &mut Obj<'_>, last: bool, what: &str) -> Vec<String> {
        if !o.has("ErrorEquals") {
            self.diags.error(&o.ptr, code::MISSING_FIELD, format!("a {what} must have 'ErrorEquals'"));
            return Vec::new();
        }
        let ptr = o.at("ErrorEquals");
        let Some(list) = o.array("ErrorEquals", &mut self.diags) else { return Vec::new() };
        if list.is_empty() {
            self.diags.error(&ptr, code::SCHEMA, "ErrorEquals must list at least one error name");
        }
        let mut names = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            let p = pointer_push(&ptr, &i.to_string());
            let Value::String(s) = v else {
                self.diags.error(&p, code::WRONG_TYPE, "error names must be strings");
                continue;
            };
            // AWS deploys custom names that start with `States.` (a Fail state may raise one and
            // a catcher catch it), though the spec reserves the prefix: a name near a predefined
            // one is more likely a typo, and only that is worth a warning.
            if s.starts_with("States.")
                && !is_predefined(s)
                && let Some(near) = suggest::nearest_within(s, error_name::PREDEFINED.iter().copied(), 2)
            {
                self.diags.warning(
                    &p,
                    code::INVALID_ERROR_NAME,
                    format!("'{s}' is not a predefined error name (did you mean '{near}'?); it matches only an error raised with exactly this name"),
                );
            }
            names.push(s.clone());
        }
        if names.iter().any(|n| n == error_name::ALL) {
            if names.len() > 1 {
                self.diags.error(&ptr, code::STATES_ALL_NOT_LAST, "States.ALL must appear alone in ErrorEquals");
            } else if !last {
                self.diags.error(
                    &ptr,
                    code::STATES_ALL_NOT_LAST,
                    format!("a {what} with States.ALL must be the last one"),
                );
            }
        }
        names
    }
}

fn is_predefined(s: &str) -> bool {
    if error_name::PREDEFINED.contains(&s) {
        return true;
    }
    s.strip_prefix("States.Http.StatusCode.").is_some_and(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()))
}
