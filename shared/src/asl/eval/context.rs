//! Per-execution data ([`Exec`]), variable scopes ([`Vars`]) and the environment expressions
//! see while a state is evaluated ([`StateEnv`]; with JSONata's `$states` bound, [`Scoped`]).
//!
//! The context object (`$$`, `$states.context`) is a view over parts: `Execution` (which holds
//! the execution input) and `StateMachine` are built once per execution, in [`Exec`]; `State`
//! and `Map` once per visit, on first read. A read of one member touches only that part, so an
//! inline Map's ItemSelector costs the same per item whatever the size of the execution input.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::asl::bound::{Bound, HARD_MAX_BYTES};
use crate::asl::history::{self, Event, Journal, Scope};
use crate::asl::path::{Env, States};
use crate::asl::timestamp;

use super::{ExecutionOptions, Host};

/// What every state of one execution shares.
pub(crate) struct Exec<'a> {
    pub host: &'a dyn Host,
    pub options: &'a ExecutionOptions,
    /// `$$.Execution`, holding the execution's input: built once per execution, and only
    /// when some field of the definition reads the context object.
    execution_context: Option<Value>,
    /// `$$.StateMachine`, built on first read.
    machine_context: OnceLock<Value>,
    pub start_time: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    /// The largest state data allowed: AWS's 256 KiB, or dmap's hard ceiling when lifted.
    pub max_bytes: usize,
    /// A bound of the context object `$$` (the execution input and names; see
    /// [`crate::asl::bound`]).
    pub context_bound: Bound,
    /// Counter of the history events AWS would have written; AWS quotes the id of a state's
    /// `…StateEntered` event in runtime causes, and ends a Standard execution at 25,000.
    events: AtomicU64,
    /// The id no event but `ExecutionSucceeded` may reach (AWS: 25,000); `None` for Express
    /// executions, which keep no history.
    history_limit: Option<u64>,
    /// The last block of 1,024 event ids at which an Express execution looked at the clock.
    clock_block: AtomicU64,
    execution_arn: OnceLock<String>,
    /// The host's journal: where events go, and what replay reads (see
    /// [`crate::asl::history`]).
    pub journal: Option<&'a dyn Journal>,
}

/// An event as written: its id, and its time when a journal keeps it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recorded {
    pub id: u64,
    pub at: Option<DateTime<Utc>>,
}

impl<'a> Exec<'a> {
    pub fn new(
        host: &'a dyn Host,
        options: &'a ExecutionOptions,
        input: Option<Value>,
        timeout_seconds: Option<u64>,
        express: bool,
        input_bound: Bound,
    ) -> Self {
        let max_bytes = options.max_payload_bytes.unwrap_or(HARD_MAX_BYTES);
        // The names and ARNs, each at most twice (escapes), plus keys and timestamps.
        let names = [
            &options.execution_name,
            &options.state_machine_name,
            &options.region,
            &options.account,
            &options.role_arn,
        ]
        .iter()
        .map(|s| s.len() * 12)
        .sum::<usize>();
        let context_bound = Bound {
            size: input_bound.size.saturating_add(names + 1024),
            depth: input_bound.depth.saturating_add(2).max(3),
        };
        let journal = host.journal();
        let start_time = journal.map_or_else(|| host.now(), |j| j.started_at());
        let timeout_from = journal.map_or(start_time, |j| j.timeout_from());
        let deadline = timeout_seconds.map(|s| super::time::after_seconds(timeout_from, s));
        let history_limit = (!express).then_some(MAX_HISTORY_EVENTS);
        let execution_arn = OnceLock::new();
        let execution_context = input.map(|input| {
            let arn = execution_arn.get_or_init(|| options.execution_arn()).clone();
            let mut e = Map::new();
            e.insert("Id".into(), Value::String(arn));
            e.insert("Input".into(), input);
            e.insert("StartTime".into(), Value::String(timestamp::format(start_time)));
            e.insert("Name".into(), Value::String(options.execution_name.clone()));
            e.insert("RoleArn".into(), Value::String(options.role_arn.clone()));
            if let Some(n) = options.redrive_count {
                e.insert("RedriveCount".into(), json!(n));
            }
            Value::Object(e)
        });
        Exec {
            host,
            options,
            execution_context,
            machine_context: OnceLock::new(),
            start_time,
            deadline,
            max_bytes,
            context_bound,
            // Event 1 is ExecutionStarted.
            events: AtomicU64::new(1),
            history_limit,
            clock_block: AtomicU64::new(0),
            execution_arn,
            journal,
        }
    }

    /// Writes an event of `scope` (with a journal), or counts it. `make` builds the event only
    /// when a journal keeps it.
    pub fn record<'e>(&self, scope: &Scope, make: impl FnOnce() -> Event<'e>) -> Recorded {
        let key = self.journal.map(|_| scope.next_key());
        self.record_keyed(scope, key.as_deref(), make)
    }

    /// [`Exec::record`] under a key taken beforehand with [`Exec::next_key`] (to look for a
    /// recorded outcome first).
    pub fn record_keyed<'e>(&self, scope: &Scope, key: Option<&str>, make: impl FnOnce() -> Event<'e>) -> Recorded {
        match (self.journal, key) {
            (Some(j), Some(key)) => {
                let entry = j.record(key, scope.last(), make());
                scope.set_last(entry);
                if entry.id > self.events.load(Ordering::Relaxed) {
                    self.events.store(entry.id, Ordering::Relaxed);
                }
                Recorded { id: entry.id, at: Some(entry.at) }
            }
            _ => Recorded { id: self.events(1), at: None },
        }
    }

    /// The key the scope's next event takes, when a journal keeps events.
    pub fn next_key(&self, scope: &Scope) -> Option<String> {
        self.journal.map(|_| scope.next_key())
    }

    /// With a journal: how the call whose outcome event has `key` ended, if it was recorded.
    pub fn replayed(&self, key: Option<&str>) -> Option<Result<Value, crate::asl::error_name::Failure>> {
        self.journal.zip(key).and_then(|(j, k)| j.outcome(k))
    }

    /// A retry's jitter: from the host, or, with a journal, from the seed and the failure's
    /// event id (so a replay waits as the first run did).
    pub fn jitter_millis(&self, upper_bound_millis: u64, event_id: u64) -> u64 {
        match self.journal {
            Some(j) => history::mix(j.seed(), event_id, 1) % upper_bound_millis.saturating_add(1),
            None => self.host.jitter_millis(upper_bound_millis),
        }
    }

    /// Records `n` history events and returns the id of the last one.
    ///
    /// A load and a store rather than an atomic add: an execution's futures (its Parallel
    /// branches and inline Map iterations included) are polled by one task at a time, so the
    /// counter is never updated from two threads at once, and a locked add on every state was
    /// measurable in small children.
    pub fn events(&self, n: u64) -> u64 {
        let v = self.events.load(Ordering::Relaxed) + n;
        self.events.store(v, Ordering::Relaxed);
        v
    }

    /// Whether event `id` (anything but `ExecutionSucceeded`) would break the history limit.
    pub fn history_full(&self, id: u64) -> bool {
        self.history_limit.is_some_and(|limit| id >= limit)
    }

    /// The history limit's end of an execution, if it has come: the events written so far
    /// leave no room for the next one. Checked where an execution can loop without passing
    /// through a state entry (retries).
    pub fn history_exhausted(&self) -> bool {
        self.history_full(self.events.load(Ordering::Relaxed) + 1)
    }

    /// Express executions have no history limit; their bound is AWS's 5-minute maximum
    /// duration. Reading the clock at every state would cost as much as a small state, so a
    /// runaway Express loop is caught by looking at the clock once every 1,024 events.
    /// (Once per block of ids, not at multiples of 1,024: a loop's entry ids may step over
    /// every multiple.)
    pub fn express_overran(&self, id: u64) -> bool {
        if self.history_limit.is_some() {
            return false;
        }
        let block = id >> 10;
        if block == self.clock_block.load(Ordering::Relaxed) {
            return false;
        }
        self.clock_block.store(block, Ordering::Relaxed);
        self.host.now() >= super::time::after_seconds(self.start_time, EXPRESS_MAX_SECONDS)
    }

    /// `$$.Execution` (`Null` when the definition never reads the context object).
    pub fn execution_context(&self) -> &Value {
        static NULL: Value = Value::Null;
        self.execution_context.as_ref().unwrap_or(&NULL)
    }

    /// `$$.StateMachine`.
    pub fn machine_context(&self) -> &Value {
        self.machine_context
            .get_or_init(|| json!({"Id": self.options.state_machine_arn(), "Name": self.options.state_machine_name}))
    }

    pub fn execution_arn(&self) -> &str {
        self.execution_arn.get_or_init(|| self.options.execution_arn())
    }

    pub fn timed_out(&self, now: DateTime<Utc>) -> bool {
        self.deadline.is_some_and(|d| now >= d)
    }
}

/// Tells the host that the execution ended, if it ever handed its ARN out (every task call
/// does): on every way out of `execute`, including a dropped future.
impl Drop for Exec<'_> {
    fn drop(&mut self) {
        if let Some(arn) = self.execution_arn.get() {
            self.host.execution_ended(arn);
        }
    }
}

/// AWS's hard limit on a Standard execution's history: event 25,000 may only be
/// `ExecutionSucceeded`; any other event there fails the execution.
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

/// An Express execution's maximum duration (AWS: 5 minutes).
pub const EXPRESS_MAX_SECONDS: u64 = 300;

/// Workflow variables of one scope, reading through to the enclosing scopes (Parallel
/// branches and inline Map iterations read outer variables but write their own).
#[derive(Default)]
pub(crate) struct Vars<'p> {
    local: HashMap<String, Value>,
    parent: Option<&'p Vars<'p>>,
    /// A bound of every variable visible here (see [`crate::asl::bound`]).
    pub bound: Bound,
}

impl<'p> Vars<'p> {
    pub fn child(parent: Option<&'p Vars<'p>>) -> Self {
        Vars { local: HashMap::new(), parent, bound: parent.map(|p| p.bound).unwrap_or_default() }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        match self.local.get(name) {
            Some(v) => Some(v),
            None => self.parent.and_then(|p| p.get(name)),
        }
    }

    /// Every variable visible here, inner scopes winning: what a Distributed Map's
    /// ItemSelector sees of its parent.
    pub fn snapshot(&self) -> Map<String, Value> {
        let mut out = self.parent.map(|p| p.snapshot()).unwrap_or_default();
        for (k, v) in &self.local {
            out.insert(k.clone(), v.clone());
        }
        out
    }

    /// Applies the values of an `Assign` block, all at once after the state.
    pub fn assign(&mut self, values: Map<String, Value>, bound: Bound) {
        self.bound = self.bound.max(bound);
        for (k, v) in values {
            self.local.insert(k, v);
        }
    }
}

/// One item of a Map state, and the `Map.Item` part of the context object while its
/// ItemSelector is evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct MapItem {
    pub index: usize,
    pub key: Option<String>,
    pub value: Value,
    pub source: Option<String>,
}

impl MapItem {
    /// `$$.Map.Item`: `Index`, `Value`, and `Key`/`Source` where they exist.
    pub fn to_context(&self) -> Value {
        let mut it = Map::new();
        if let Some(k) = &self.key {
            it.insert("Key".into(), Value::String(k.clone()));
        }
        it.insert("Index".into(), json!(self.index));
        it.insert("Value".into(), self.value.clone());
        if let Some(s) = &self.source {
            it.insert("Source".into(), Value::String(s.clone()));
        }
        Value::Object(it)
    }
}

/// What paths see while one state is evaluated: a view of the context object whose
/// execution-wide parts live in [`Exec`] and whose state and Map-item parts are built here,
/// each on first read, so that no visit copies the execution input.
pub(crate) struct StateEnv<'a> {
    pub exec: &'a Exec<'a>,
    pub vars: &'a Vars<'a>,
    pub state_name: &'a str,
    pub entered: DateTime<Utc>,
    pub retry_count: Option<u64>,
    pub map_item: Option<&'a MapItem>,
    /// `$$.Task` of a Task attempt that waits for a callback (`{"Token": …}`).
    task_part: Option<Value>,
    /// The scope whose events this state writes, and the id of its entry event.
    pub scope: &'a Scope,
    pub entered_id: u64,
    /// Draws of randomness so far (with a journal, randomness derives from the entry event).
    draws: AtomicU64,
    state_part: OnceLock<Value>,
    map_part: OnceLock<Value>,
    whole: OnceLock<Value>,
}

impl<'a> StateEnv<'a> {
    pub fn new(
        exec: &'a Exec<'a>,
        vars: &'a Vars<'a>,
        state_name: &'a str,
        entered: DateTime<Utc>,
        retry_count: Option<u64>,
        scope: &'a Scope,
        entered_id: u64,
    ) -> Self {
        StateEnv {
            exec,
            vars,
            state_name,
            entered,
            retry_count,
            map_item: None,
            task_part: None,
            scope,
            entered_id,
            draws: AtomicU64::new(0),
            state_part: OnceLock::new(),
            map_part: OnceLock::new(),
            whole: OnceLock::new(),
        }
    }

    /// The environment of one Map item's `ItemSelector`: this state's, plus `$$.Map.Item`.
    /// The state's own part is shared when already built.
    pub fn with_item(&self, item: &'a MapItem) -> StateEnv<'a> {
        StateEnv {
            exec: self.exec,
            vars: self.vars,
            state_name: self.state_name,
            entered: self.entered,
            retry_count: self.retry_count,
            map_item: Some(item),
            task_part: self.task_part.clone(),
            scope: self.scope,
            entered_id: self.entered_id,
            // Each item draws its own sequence (with a journal), as it would from the host.
            draws: AtomicU64::new(((item.index as u64) + 1) << 32),
            state_part: self.state_part.clone(),
            map_part: OnceLock::new(),
            whole: OnceLock::new(),
        }
    }

    /// This state's environment with `$$.Task.Token` set: a Task attempt that waits for a
    /// callback evaluates its Parameters (or Arguments) in it.
    pub fn with_task_token(&self, token: &str) -> StateEnv<'a> {
        StateEnv {
            exec: self.exec,
            vars: self.vars,
            state_name: self.state_name,
            entered: self.entered,
            retry_count: self.retry_count,
            map_item: self.map_item,
            task_part: Some(json!({ "Token": token })),
            scope: self.scope,
            entered_id: self.entered_id,
            draws: AtomicU64::new(self.draws.load(Ordering::Relaxed)),
            state_part: self.state_part.clone(),
            map_part: self.map_part.clone(),
            whole: OnceLock::new(),
        }
    }

    fn state_part(&self) -> &Value {
        self.state_part.get_or_init(|| {
            let mut st = Map::new();
            st.insert("Name".into(), Value::String(self.state_name.to_string()));
            st.insert("EnteredTime".into(), Value::String(timestamp::format(self.entered)));
            // Only states that can retry (Task, Parallel, Map) report a RetryCount.
            if let Some(n) = self.retry_count {
                st.insert("RetryCount".into(), json!(n));
            }
            Value::Object(st)
        })
    }
}

/// The whole context object, from its parts, in AWS's order of members.
pub(crate) fn whole_context(env: &dyn Env) -> Value {
    let mut ctx = Map::new();
    for key in ["Execution", "StateMachine", "State", "Map", "Task"] {
        if let Some(v) = env.context_member(key) {
            ctx.insert(key.into(), v.clone());
        }
    }
    Value::Object(ctx)
}

impl Env for StateEnv<'_> {
    fn context(&self) -> &Value {
        self.whole.get_or_init(|| whole_context(self))
    }

    fn context_member(&self, key: &str) -> Option<&Value> {
        match key {
            "Execution" => Some(self.exec.execution_context()),
            "StateMachine" => Some(self.exec.machine_context()),
            "State" => Some(self.state_part()),
            "Map" => self.map_item.map(|item| self.map_part.get_or_init(|| json!({ "Item": item.to_context() }))),
            "Task" => self.task_part.as_ref(),
            _ => None,
        }
    }

    fn variable(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }

    fn now(&self) -> DateTime<Utc> {
        // With a journal, time is the recorded entry's: replay reads the same clock.
        match self.exec.journal {
            Some(_) => self.entered,
            None => self.exec.host.now(),
        }
    }

    fn random(&self) -> u64 {
        match self.exec.journal {
            Some(j) => {
                let n = self.draws.load(Ordering::Relaxed);
                self.draws.store(n + 1, Ordering::Relaxed);
                history::mix(j.seed(), self.entered_id, n)
            }
            None => self.exec.host.random(),
        }
    }
}

/// An environment with JSONata's `$states` bound: the raw state input, and the result and
/// the error output where the field being evaluated may read them.
pub(crate) struct Scoped<'a> {
    env: &'a dyn Env,
    states: States<'a>,
}

impl<'a> Scoped<'a> {
    pub fn new(env: &'a dyn Env, input: &'a Value, result: Option<&'a Value>, error_output: Option<&'a Value>) -> Self {
        Scoped { env, states: States { input, result, error_output } }
    }

    /// Only `$states.input` (and the context and variables).
    pub fn input(env: &'a dyn Env, input: &'a Value) -> Self {
        Scoped::new(env, input, None, None)
    }
}

impl Env for Scoped<'_> {
    fn context(&self) -> &Value {
        self.env.context()
    }

    fn context_member(&self, key: &str) -> Option<&Value> {
        self.env.context_member(key)
    }

    fn variable(&self, name: &str) -> Option<&Value> {
        self.env.variable(name)
    }

    fn states(&self) -> Option<States<'_>> {
        Some(self.states)
    }

    fn now(&self) -> DateTime<Utc> {
        self.env.now()
    }

    fn random(&self) -> u64 {
        self.env.random()
    }
}
