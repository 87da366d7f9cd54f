//! JSONata expressions (`{% … %}`): compiled once, evaluated against a [`Scope`].
//!
//! The language itself is the `jlens-core` crate's (JSONata 2.x on `serde_json::Value`,
//! `Send + Sync` compiled expressions, a static analysis of the fields an expression reads).
//! This module owns what Step Functions adds around it: the `$states` variable and workflow
//! variables ([`bind`]), AWS's extra functions and the refusal of `$eval` ([`functions`]), a
//! clock and randomness taken from the [`Scope`] rather than the system, and fast paths for
//! the field lookups and literals that most real expressions are ([`fast`]).
//!
//! It does not decide what an undefined result or a wrong result type means for a state
//! (that is `States.QueryEvaluationError`, raised by the caller, which knows the field); it
//! reports `None` and the crate's error code and message.

mod bind;
mod fast;
pub mod field;
mod functions;
mod random;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

/// The run-time view an expression reads: `$states`, workflow variables, clock and randomness.
pub trait Scope {
    /// `$states.input`: the state's raw input.
    fn input(&self) -> &Value;
    /// `$states.result`, where the state has one (Task, Parallel and Map `Output`/`Assign`).
    fn result(&self) -> Option<&Value>;
    /// `$states.errorOutput`, inside a Catcher's `Output`/`Assign`.
    fn error_output(&self) -> Option<&Value>;
    /// `$states.context`: the whole context object.
    fn context(&self) -> &Value;
    /// One member of the context object (`Execution`, `State`, `Map`, ...). Expressions that
    /// read only some members get only those, so the whole object (which holds the
    /// execution input) is not built for them.
    fn context_member(&self, key: &str) -> Option<&Value>;
    /// A workflow variable (`$name`); `None` when it is not assigned.
    fn variable(&self, name: &str) -> Option<&Value>;
    /// The time `$now()` and `$millis()` give.
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
    /// A number in `[0, 1)`. Read once per evaluation that calls `$random()` or `$uuid()`; it
    /// seeds the generator those calls draw from, so a replayed scope replays them.
    fn random(&self) -> f64;
}

/// Which parts of `$states`, and whether workflow variables, an expression may read.
///
/// Validation uses it (AWS refuses `$states.result` where no result exists and
/// `$states.errorOutput` outside a Catcher); the engine builds only what is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reads {
    /// `$states.input`.
    pub input: bool,
    /// `$states.result`.
    pub result: bool,
    /// `$states.errorOutput`.
    pub error_output: bool,
    /// `$states.context`.
    pub context: bool,
    /// Any workflow variable.
    pub variables: bool,
}

/// An expression that does not compile: a syntax error or a refused function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CompileError {
    /// JSONata's error code (`S0203`, …); `eval` for the refused `$eval`.
    pub code: String,
    /// A message fit for a validation diagnostic.
    pub message: String,
}

/// An evaluation that failed: a JSONata error, or one of AWS's functions refusing its
/// arguments. The caller raises it as `States.QueryEvaluationError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    /// JSONata's error code (`T2001`, …), or the name of the AWS function that failed.
    pub code: String,
    /// The message, for the failure's cause.
    pub message: String,
}

impl From<jlens_core::Error> for EvalError {
    fn from(error: jlens_core::Error) -> Self {
        EvalError { code: error.code().to_owned(), message: error.message() }
    }
}

/// One compiled `{% … %}` expression (the text between the delimiters).
#[derive(Debug, Clone)]
pub struct Expression {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    compiled: jlens_core::Expression,
    plan: bind::Plan,
    fast: Option<fast::Fast>,
}

impl Expression {
    /// Compiles the text between `{%` and `%}`.
    pub fn compile(text: &str) -> Result<Expression, CompileError> {
        let compiled = jlens_core::Expression::compile(text)
            .map_err(|error| CompileError { code: error.code().to_owned(), message: error.message() })?;
        functions::refuse_unsupported(compiled.ast())?;
        let plan = bind::Plan::new(&compiled);
        let fast = fast::Fast::recognise(&compiled);
        Ok(Expression { inner: Arc::new(Inner { compiled, plan, fast }) })
    }

    /// The source text, as written between the delimiters.
    pub fn text(&self) -> &str {
        self.inner.compiled.source()
    }

    /// How big its value can be, from what it reads (see `crate::asl::bound`); `None` when
    /// the expression is outside the fast language and nothing is promised.
    pub fn growth(&self) -> Option<crate::asl::bound::Growth> {
        self.inner.fast.as_ref()?.growth()
    }

    /// What the expression may read (an upper bound, from the crate's static analysis).
    pub fn reads(&self) -> Reads {
        self.inner.plan.reads()
    }

    /// Evaluates the expression; `Ok(None)` is JSONata's *undefined* (nothing).
    pub fn eval(&self, scope: &dyn Scope) -> Result<Option<Value>, EvalError> {
        if let Some(fast) = &self.inner.fast
            && let Some(result) = fast.eval(scope)
        {
            return Ok(result);
        }
        self.eval_interpreted(scope)
    }

    /// The fast path's answer alone: `None` when the expression is not recognised or this
    /// evaluation would go to the interpreter.
    #[cfg(test)]
    fn eval_fast(&self, scope: &dyn Scope) -> Option<Option<Value>> {
        self.inner.fast.as_ref()?.eval(scope)
    }

    /// Evaluates through the crate, never through a fast path: the oracle the fast paths are
    /// tested (and fuzzed) against. Not for production use: it is slower and gives the same
    /// answers.
    #[doc(hidden)]
    pub fn eval_interpreted(&self, scope: &dyn Scope) -> Result<Option<Value>, EvalError> {
        let inner = &*self.inner;
        let (bindings, options) = inner.plan.bind(scope);
        Ok(inner.compiled.evaluate_with(None, &bindings, &options)?)
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}
