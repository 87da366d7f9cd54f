//! The validated model of a definition. Transitions are resolved [`StateId`]s, every path,
//! template, intrinsic and timestamp is compiled, and defaults are filled. Evaluation trusts
//! this model and never re-checks or re-parses anything.

mod map;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::asl::choice::Rule;
use crate::asl::path::template::Expr;
use crate::asl::path::{Path, Template};

pub use map::*;

/// Index of a state inside its [`StateMachine`]'s `states`.
pub type StateId = usize;

/// A compiled state machine: the top level, a Parallel branch or a Map's ItemProcessor.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub start_at: StateId,
    pub states: Vec<State>,
    pub timeout_seconds: Option<u64>,
    pub comment: Option<String>,
    /// Whether any path in this machine reads the context object (`$$`), or any JSONata
    /// expression may read `$states.context`. Executions keep their input for
    /// `$$.Execution.Input` only when one does.
    pub reads_context: bool,
    /// Whether evaluation must read the clock at every state: the machine waits, calls out, or
    /// reads `$$` (whose times must be true). Otherwise the execution's start time serves.
    pub reads_clock: bool,
    /// Executions of this machine are Express (a Distributed Map's `EXPRESS` children): AWS
    /// keeps no history for them, so the 25,000-event limit does not apply; their bound is
    /// Express's 5-minute maximum duration instead. Set by the parser on such a Map's
    /// processor (and by whoever compiles one on its own).
    pub express: bool,
}

impl StateMachine {
    pub fn state_id(&self, name: &str) -> Option<StateId> {
        self.states.iter().position(|s| s.name == name)
    }

    /// Whether the machine completes without ever suspending, so that it needs no async runtime
    /// (see ARCHITECTURE.md, "Pure machines need no runtime"). It does not when any state, at
    /// any depth, can wait or call out through the host: a Task, a Wait, a Distributed Map (a
    /// Map Run), or a state with a retrier that can fire (its back-off sleeps; `MaxAttempts: 0`
    /// never retries). Catch, Choice, Fail and an execution's `TimeoutSeconds` only compare or
    /// read the clock, which needs no runtime.
    pub fn is_pure(&self) -> bool {
        self.states.iter().all(|s| {
            s.retry.iter().all(|r| r.max_attempts == 0)
                && match &s.kind {
                    StateKind::Task(_) | StateKind::Wait(_) => false,
                    StateKind::Parallel(p) => p.branches.iter().all(|b| b.is_pure()),
                    StateKind::Map(m) => m.mode == ProcessorMode::Inline && m.processor.is_pure(),
                    _ => true,
                }
        })
    }
}

#[derive(Debug, Clone)]
pub struct State {
    pub name: String,
    /// JSON pointer of the state in the definition, for messages.
    pub pointer: String,
    pub kind: StateKind,
    /// How the state's input becomes its effective input, and its result its output.
    pub flow: DataFlow,
    pub assign: Option<Template>,
    pub transition: Transition,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    /// How big this state can make its data (see [`crate::asl::bound`]).
    pub growth: crate::asl::bound::StateGrowth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Next(StateId),
    End,
    /// Choice states transition through their rules; Succeed/Fail end by their type.
    None,
}

/// `InputPath`/`OutputPath`: absent means `$`, JSON null means `{}`.
#[derive(Debug, Clone, Default)]
pub enum PathOrNull {
    #[default]
    Root,
    Null,
    Path(Path),
}

/// `ResultPath`: absent means `$` (replace), null means discard the result.
#[derive(Debug, Clone, Default)]
pub enum ResultPath {
    #[default]
    Replace,
    Discard,
    At(Path),
}

/// A state's data flow, in the state's query language. Evaluation reaches it through one
/// pair of functions (`eval::flow`: the effective input, the state output) and never reads
/// the fields of either language elsewhere.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // One per state, read in place: boxing would add a hop per state.
pub enum DataFlow {
    JsonPath(Io),
    Jsonata(JsonataIo),
}

impl Default for DataFlow {
    fn default() -> Self {
        DataFlow::JsonPath(Io::default())
    }
}

impl DataFlow {
    /// The template that builds the effective input of a Task or Parallel (`Parameters` or
    /// `Arguments`), for callers that look at a Task's literal arguments before running it.
    pub fn arguments(&self) -> Option<&Template> {
        match self {
            DataFlow::JsonPath(io) => io.parameters.as_ref(),
            DataFlow::Jsonata(j) => j.arguments.as_ref(),
        }
    }

    pub fn is_jsonata(&self) -> bool {
        matches!(self, DataFlow::Jsonata(_))
    }
}

/// The JSONata data flow: `Arguments` (Task, Parallel) builds the effective input from
/// `$states.input`; `Output` builds the state output from `$states.input` and
/// `$states.result`. Absent `Output` passes the result (Task, Parallel, Map) or the input.
#[derive(Debug, Clone, Default)]
pub struct JsonataIo {
    pub arguments: Option<Template>,
    pub output: Option<Template>,
}

/// The JSONPath input/output processing fields.
#[derive(Debug, Clone, Default)]
pub struct Io {
    pub input_path: PathOrNull,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub result_path: ResultPath,
    pub output_path: PathOrNull,
}

#[derive(Debug, Clone)]
pub enum StateKind {
    Pass(Pass),
    Task(Box<Task>),
    Choice(Choice),
    Wait(Wait),
    Succeed,
    Fail(Fail),
    Parallel(Parallel),
    Map(Box<MapState>),
}

impl StateKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Pass(_) => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice(_) => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail(_) => "Fail",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Pass {
    pub result: Option<Value>,
}

/// A field that reads data, compiled once: a literal, or an expression evaluated per visit.
///
/// In JSONPath states the expression is the field's `…Path` twin (`TimeoutSecondsPath`,
/// `MaxConcurrencyPath`, `ErrorPath`, ...: a reference path or an intrinsic); in JSONata
/// states it is the field itself written as `{% … %}`. Every such field is resolved by one
/// resolver (`eval::operand`) with one table of error texts.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand<T> {
    Literal(T),
    Expr(Expr),
}

#[derive(Debug, Clone)]
pub struct Task {
    /// Parsed once at load; shared with every call's [`crate::asl::eval::TaskRequest`].
    pub resource: std::sync::Arc<crate::asl::resource::Resource>,
    pub timeout: Option<Operand<u64>>,
    pub heartbeat: Option<Operand<u64>>,
    pub credentials: Option<Template>,
}

#[derive(Debug, Clone)]
pub struct Choice {
    pub choices: Vec<ChoiceBranch>,
    pub default: Option<StateId>,
}

#[derive(Debug, Clone)]
pub struct ChoiceBranch {
    pub rule: Rule,
    pub next: StateId,
    pub assign: Option<Template>,
    /// A JSONata rule's own `Output`, which replaces the state's when the rule matches.
    pub output: Option<Template>,
}

/// Wait: for a number of seconds or until a time, each literal or read from the data.
#[derive(Debug, Clone)]
pub enum Wait {
    Seconds(Operand<u64>),
    Timestamp(Operand<DateTime<Utc>>),
}

#[derive(Debug, Clone)]
pub struct Fail {
    pub error: Option<Operand<String>>,
    pub cause: Option<Operand<String>>,
}

#[derive(Debug, Clone)]
pub struct Parallel {
    pub branches: Vec<StateMachine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JitterStrategy {
    None,
    Full,
}

#[derive(Debug, Clone)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: u64,
    pub max_attempts: u64,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<u64>,
    pub jitter: JitterStrategy,
}

#[derive(Debug, Clone)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: StateId,
    /// JSONPath: where the error output goes in the raw input.
    pub result_path: ResultPath,
    pub assign: Option<Template>,
    /// JSONata: the state output after the catch (absent: the error output itself).
    pub output: Option<Template>,
    /// The catcher belongs to a JSONata state.
    pub jsonata: bool,
}

#[cfg(test)]
mod tests;
