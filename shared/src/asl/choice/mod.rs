//! JSONPath Choice rules: a rule is a comparison (`Variable` plus exactly one operator) or a
//! combination (`And`/`Or` over a non-empty array of rules, `Not` over one rule).
//!
//! This module owns the rule grammar: it validates one rule object and everything nested in
//! it, reporting every problem at once, and compiles it so that evaluation only walks the tree
//! (paths, timestamps and `StringMatches` patterns are compiled here, never at run time). It
//! does not own the Choice state (`Choices`, `Default`, `Next`, `Assign`): the state parser
//! reads those and passes their names in `extra`. JSONata `Condition` rules are not rules of
//! this module. Operators live in [`compare`], the `StringMatches` pattern in [`matches`].

mod compare;
mod matches;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use crate::asl::diagnostic::{Diagnostics, code, pointer_push};
use crate::asl::error_name::{Failure, RUNTIME};
use crate::asl::path::{Env, Path};

pub use compare::{Cmp, Kind, Operand, Test};
pub use matches::Pattern;

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Compare(Comparison),
    /// A JSONata rule's `Condition`: `true`/`false`, or an expression that must give a
    /// boolean.
    Condition(crate::asl::model::Operand<bool>),
}

/// `Variable` and its operator.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub variable: Path,
    pub test: Test,
}

impl Rule {
    /// Parses one rule object. `extra` lists keys the caller owns (for a top-level rule:
    /// `Next`, `Assign`) that must not be reported as unknown; `Comment` is always allowed.
    /// Every problem is pushed to `diags`; `None` means the rule is unusable.
    pub fn parse(obj: &Map<String, Value>, ptr: &str, diags: &mut Diagnostics, extra: &[&str]) -> Option<Rule> {
        let mut ok = true;
        let mut variable = None;
        let mut operators: Vec<(&str, &Value)> = Vec::new();
        let mut combinators: Vec<(&str, &Value)> = Vec::new();
        for (key, value) in obj {
            let key = key.as_str();
            match key {
                _ if extra.contains(&key) => {}
                "Comment" => {
                    if !value.is_string() {
                        diags.error(&pointer_push(ptr, key), code::WRONG_TYPE, "Comment must be a string");
                        ok = false;
                    }
                }
                "Variable" => variable = Some(value),
                "And" | "Or" | "Not" => combinators.push((key, value)),
                // The caller passes `Next` in `extra` for a top-level rule, so here it sits on
                // a nested rule, where ASL forbids it; say so rather than "unknown field".
                "Next" | "Assign" => {
                    diags.error(
                        &pointer_push(ptr, key),
                        code::INVALID_CHOICE_RULE,
                        format!("'{key}' is only allowed on a top-level choice rule, not inside And, Or or Not"),
                    );
                    ok = false;
                }
                _ if compare::is_operator(key) => operators.push((key, value)),
                "Condition" | "Output" => {
                    diags.error(
                        &pointer_push(ptr, key),
                        code::UNKNOWN_FIELD,
                        format!("the field '{key}' is only valid in JSONata choice rules (QueryLanguage: JSONata)"),
                    );
                    ok = false;
                }
                _ => {
                    diags.error(
                        &pointer_push(ptr, key),
                        code::UNKNOWN_FIELD,
                        format!("the field '{key}' is not supported in a choice rule"),
                    );
                    ok = false;
                }
            }
        }

        let comparison = variable.is_some() || !operators.is_empty();
        match (&combinators[..], comparison) {
            ([], false) => {
                diags.error(
                    ptr,
                    code::INVALID_CHOICE_RULE,
                    "a choice rule needs a comparison (Variable and one operator) or one of And, Or, Not",
                );
                None
            }
            ([], true) => {
                let cmp = parse_comparison(variable, &operators, ptr, diags);
                cmp.filter(|_| ok).map(Rule::Compare)
            }
            ([(name, value)], false) => {
                let rule = parse_combinator(name, value, ptr, diags);
                rule.filter(|_| ok)
            }
            (many, _) => {
                let mut found: Vec<&str> = many.iter().map(|(k, _)| *k).collect();
                if comparison {
                    found.insert(0, "a comparison");
                }
                diags.error(
                    ptr,
                    code::INVALID_CHOICE_RULE,
                    format!("a choice rule is exactly one of a comparison, And, Or, Not; found {}", found.join(", ")),
                );
                // Still validate each part, so that all problems are reported at once.
                if comparison {
                    parse_comparison(variable, &operators, ptr, diags);
                }
                for (name, value) in many {
                    parse_combinator(name, value, ptr, diags);
                }
                None
            }
        }
    }

    /// Evaluates the rule against the state's effective input. `And`/`Or` short-circuit, so an
    /// `IsPresent` test placed first guards the comparisons after it.
    pub fn eval(&self, input: &Value, env: &dyn Env) -> Result<bool, Failure> {
        match self {
            Rule::Compare(c) => c.eval(input, env),
            Rule::Condition(op) => crate::asl::eval::operand::condition(op, input, env),
            Rule::And(rules) => {
                for r in rules {
                    if !r.eval(input, env)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rules) => {
                for r in rules {
                    if r.eval(input, env)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(r) => Ok(!r.eval(input, env)?),
        }
    }
}

impl Comparison {
    fn eval(&self, input: &Value, env: &dyn Env) -> Result<bool, Failure> {
        match self.variable.select_ref(input, env) {
            Ok(v) => self.test.eval(v, input, env),
            Err(_) => match self.test {
                // `IsPresent: false` holds exactly when nothing is selected. For the other
                // predicates a missing value has none of the types, so `IsNull: true` is false
                // and `IsNull: false` true. AWS was not observed for those; LocalStack, which
                // is built against AWS recordings, answers the same way.
                Test::Is(_, want) => Ok(!want),
                // AWS documents that a missing Variable fails the execution; the cause is the
                // text AWS reports for it.
                _ => Err(invalid_path(&self.variable)),
            },
        }
    }
}

/// The `States.Runtime` failure for a Variable or `…Path` operand that selects nothing.
fn invalid_path(p: &Path) -> Failure {
    Failure::new(
        RUNTIME,
        format!("Invalid path '{}': The choice state's condition path references an invalid value.", p.text()),
    )
}

fn parse_comparison(
    variable: Option<&Value>,
    operators: &[(&str, &Value)],
    ptr: &str,
    diags: &mut Diagnostics,
) -> Option<Comparison> {
    let variable = match variable {
        None => {
            diags.error(ptr, code::MISSING_FIELD, "the field 'Variable' is required in a comparison");
            None
        }
        Some(Value::String(text)) => match Path::parse_reference(text) {
            Ok(p) => Some(p),
            Err(why) => {
                diags.error(&pointer_push(ptr, "Variable"), code::INVALID_REFERENCE_PATH, format!("Variable: {why}"));
                None
            }
        },
        Some(v) => {
            diags.error(
                &pointer_push(ptr, "Variable"),
                code::WRONG_TYPE,
                format!("Variable must be a reference path string, got {v}"),
            );
            None
        }
    };
    match operators {
        [] => diags.error(
            ptr,
            code::INVALID_CHOICE_RULE,
            "a comparison needs one operator besides Variable, e.g. StringEquals",
        ),
        [_] => {}
        many => {
            let names: Vec<&str> = many.iter().map(|(k, _)| *k).collect();
            diags.error(
                ptr,
                code::INVALID_CHOICE_RULE,
                format!("a comparison has exactly one operator; found {}", names.join(", ")),
            );
        }
    }
    // Validate every operand, even when there are too many, so each one's problems show.
    let mut tests: Vec<Option<Test>> =
        operators.iter().map(|(name, value)| Test::parse(name, value, &pointer_push(ptr, name), diags)).collect();
    match (variable, tests.pop()) {
        (Some(variable), Some(Some(test))) if tests.is_empty() => Some(Comparison { variable, test }),
        _ => None,
    }
}

fn parse_combinator(name: &str, value: &Value, ptr: &str, diags: &mut Diagnostics) -> Option<Rule> {
    let at = pointer_push(ptr, name);
    if name == "Not" {
        let Value::Object(inner) = value else {
            diags.error(&at, code::WRONG_TYPE, "Not must be a choice rule object");
            return None;
        };
        return Rule::parse(inner, &at, diags, &[]).map(|r| Rule::Not(Box::new(r)));
    }
    let Value::Array(items) = value else {
        diags.error(&at, code::WRONG_TYPE, format!("{name} must be an array of choice rules"));
        return None;
    };
    if items.is_empty() {
        diags.error(&at, code::INVALID_CHOICE_RULE, format!("{name} must contain at least one rule"));
        return None;
    }
    let mut rules = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let item_ptr = pointer_push(&at, &i.to_string());
        let parsed = match item {
            Value::Object(inner) => Rule::parse(inner, &item_ptr, diags, &[]),
            _ => {
                diags.error(
                    &item_ptr,
                    code::WRONG_TYPE,
                    format!("each element of {name} must be a choice rule object"),
                );
                None
            }
        };
        match parsed {
            Some(r) => rules.push(r),
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    Some(if name == "And" { Rule::And(rules) } else { Rule::Or(rules) })
}
