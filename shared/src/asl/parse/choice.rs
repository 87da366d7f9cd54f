//! A Choice state: JSONPath rules (`Variable` and an operator, `And`/`Or`/`Not`) or JSONata
//! rules (`Condition`), each with its `Next`, `Assign` and (JSONata) `Output`.

use std::collections::HashMap;

use serde_json::Value;

use crate::asl::choice::Rule;
use crate::asl::diagnostic::{code, pointer_push};
use crate::asl::model::*;
use crate::asl::path::template::{Expr, is_jsonata};

use super::Cx;
use super::fields::Obj;
use super::jsonata::Reads;

impl Cx {
    pub(super) fn choice(&mut self, obj: &mut Obj<'_>, names: &HashMap<&str, usize>) -> Option<StateKind> {
        if obj.has("End") || obj.has("Next") {
            for k in ["End", "Next"] {
                if obj.get(k).is_some() {
                    self.diags.error(
                        &obj.at(k),
                        code::UNKNOWN_FIELD,
                        format!("a Choice state cannot have '{k}': it transitions through its rules and Default"),
                    );
                }
            }
        }
        let default = obj.string("Default", &mut self.diags).map(|d| {
            let p = obj.at("Default");
            self.target(names, d, &p)
        });
        if !obj.has("Choices") {
            self.diags.error(&obj.ptr, code::MISSING_FIELD, "the field 'Choices' is required");
            return None;
        }
        let list = obj.array("Choices", &mut self.diags)?;
        if list.is_empty() {
            self.diags.error(&obj.at("Choices"), code::SCHEMA, "Choices must contain at least one rule");
        }
        let mut choices = Vec::with_capacity(list.len());
        for (i, rule) in list.iter().enumerate() {
            let ptr = pointer_push(&obj.at("Choices"), &i.to_string());
            let Some(mut ro) = Obj::expect(rule, &ptr, "a choice rule", &mut self.diags) else { continue };
            let next = ro.string("Next", &mut self.diags).map(|n| {
                let p = ro.at("Next");
                self.target(names, n, &p)
            });
            if next.is_none() && !ro.has("Next") {
                self.diags.error(&ptr, code::MISSING_FIELD, "a top-level choice rule must have 'Next'");
            }
            let assign = self.assign_in(&mut ro, &format!("Choices[{i}]/Assign"));
            let (parsed, output) = if self.jsonata {
                self.check_reads(assign.as_ref(), &ro.at("Assign"), Reads::Input);
                let output = self.jsonata_template(&mut ro, "Output", &format!("Choices[{i}]/Output"));
                (self.condition(&mut ro, i), output)
            } else {
                (Rule::parse(ro.map, &ptr, &mut self.diags, &["Next", "Assign"]), None)
            };
            self.check_reads(output.as_ref(), &ro.at("Output"), Reads::Input);
            // A rule with problems (already reported) still leads to its Next, so that its
            // target is not reported unreachable as well.
            if let Some(next) = next {
                let rule = parsed.unwrap_or(Rule::Or(Vec::new()));
                choices.push(ChoiceBranch { rule, next, assign, output });
            }
        }
        Some(StateKind::Choice(Choice { choices, default }))
    }

    /// A JSONata Choice rule: `Condition` (a boolean or an expression), `Next`, `Assign`,
    /// `Output` and `Comment`; anything else is reported.
    fn condition(&mut self, ro: &mut Obj<'_>, i: usize) -> Option<Rule> {
        ro.string("Comment", &mut self.diags);
        let field = format!("Choices[{i}]/Condition");
        let rule = match ro.get("Condition") {
            None => {
                self.diags.error(&ro.ptr, code::MISSING_FIELD, "a JSONata choice rule needs 'Condition'");
                None
            }
            Some(Value::Bool(b)) => Some(Rule::Condition(Operand::Literal(*b))),
            Some(Value::String(s)) if is_jsonata(s) => {
                let ptr = ro.at("Condition");
                let e = Expr::compile_jsonata(&field, s, &ptr, &mut self.diags)?;
                let op = Operand::Expr(e);
                self.check_operand_reads(Some(&op), &ptr);
                Some(Rule::Condition(op))
            }
            Some(_) => {
                self.diags.error(
                    &ro.at("Condition"),
                    code::WRONG_TYPE,
                    "Condition must be true, false or a JSONata expression {% … %}",
                );
                None
            }
        };
        ro.finish("a JSONata choice rule", &mut self.diags);
        rule
    }
}
