//! A JSONata expression as the value of a state's field: evaluated against the engine's
//! environment ([`Env`]: the context view, the variables, the host's clock and randomness,
//! and `$states`), with AWS's `States.QueryEvaluationError` texts, which name the expression
//! and the field (`Output/result`, `Choices[0]/Condition`, `Items`).

use serde_json::Value;

use crate::asl::error_name::{Failure, QUERY_EVALUATION_ERROR};
use crate::asl::path::template::compact;
use crate::asl::path::{Env, States};

use super::{Expression, Scope};

/// Evaluates `expr`, written in `field`. `input` is `$states.input` when the environment
/// binds no `$states` of its own.
pub fn eval(expr: &Expression, field: &str, input: &Value, env: &dyn Env) -> Result<Value, Failure> {
    let states = env.states().unwrap_or(States { input, result: None, error_output: None });
    let scope = EnvScope { env, states };
    match expr.eval(&scope) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(Failure::new(
            QUERY_EVALUATION_ERROR,
            format!(
                "The JSONata expression '{}' specified for the field '{field}' returned nothing (undefined).",
                shown_text(expr)
            ),
        )),
        Err(e) => Err(Failure::new(
            QUERY_EVALUATION_ERROR,
            format!(
                "The JSONata expression '{}' specified for the field '{field}' threw an error during evaluation. {}: {}",
                shown_text(expr),
                e.code,
                e.message
            ),
        )),
    }
}

/// AWS's cause for a value of the wrong type (`Items` not an array, a `Condition` not a
/// boolean, a count not an integer).
pub fn unexpected_type(expr: &Expression, field: &str, expected: &str, v: &Value) -> Failure {
    Failure::new(
        QUERY_EVALUATION_ERROR,
        format!(
            "The JSONata expression '{}' specified for the field '{field}' returned an unexpected result type. Expected '{expected}', but was '{}' for value: {}",
            shown_text(expr),
            crate::asl::path::type_name(v),
            compact(v)
        ),
    )
}

/// The expression as AWS quotes it: the text between the delimiters, trimmed.
pub fn shown_text(expr: &Expression) -> &str {
    expr.text().trim()
}

/// The engine's environment seen as a JSONata [`Scope`].
struct EnvScope<'a> {
    env: &'a dyn Env,
    states: States<'a>,
}

impl Scope for EnvScope<'_> {
    fn input(&self) -> &Value {
        self.states.input
    }

    fn result(&self) -> Option<&Value> {
        self.states.result
    }

    fn error_output(&self) -> Option<&Value> {
        self.states.error_output
    }

    fn context(&self) -> &Value {
        self.env.context()
    }

    fn context_member(&self, key: &str) -> Option<&Value> {
        self.env.context_member(key)
    }

    fn variable(&self, name: &str) -> Option<&Value> {
        self.env.variable(name)
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.env.now()
    }

    fn random(&self) -> f64 {
        // 53 random bits: every double in [0, 1) that a uniform draw can give.
        (self.env.random() >> 11) as f64 / (1u64 << 53) as f64
    }
}
