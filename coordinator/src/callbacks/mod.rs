//! Callbacks: the Tasks that wait for `SendTaskSuccess` / `SendTaskFailure` (`.waitForTaskToken`
//! and activity Tasks), for any host that can take them — `dmap serve`, and `dmap run --listen`
//! (so nothing here depends on the server).
//!
//! [`Callbacks`] is the registry: it makes tokens ([`token::Codec`]), holds the pending waits by
//! token, takes the `SendTask*` calls with AWS's errors, and enforces `HeartbeatSeconds` and
//! the Task's deadline. With a [`Durable`] store (serve), an accepted callback is recorded before
//! it is answered and found again by the wait after a restart. [`CallbackHost`] wraps a host
//! with it, and hands activity Tasks to an [`ActivityQueue`].

pub mod token;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::error_name::{RUNTIME, TIMEOUT};
use shared::asl::eval::{ActivityDispatch, CallbackWait, Host, TaskRequest};
use tokio::sync::Notify;
use tokio::time::Instant;

pub use token::{Attempt, Codec};

/// Where activity Tasks go (`dmap serve`'s activities: `GetActivityTask` hands them out).
pub trait ActivityQueue: Send + Sync {
    /// Offers the task to the activity's workers; completes with the name of the worker that
    /// took it. Before a worker sees the token, the registry has armed it (a `SendTask*` that
    /// comes at once is kept for the wait).
    fn dispatch(&self, d: ActivityDispatch) -> BoxFuture<'_, Result<String, Failure>>;
}

/// What a callback said.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `SendTaskSuccess`: the output, parsed.
    Success(Value),
    /// `SendTaskFailure`: error and cause, either may be absent.
    Failure { error: Option<String>, cause: Option<String> },
}

impl Outcome {
    fn into_result(self) -> Result<Value, Failure> {
        match self {
            Outcome::Success(v) => Ok(v),
            Outcome::Failure { error, cause } => Err(Failure { error, cause }),
        }
    }

    /// The outcome as stored: `{"output": …}` or `{"error": …, "cause": …}`.
    pub fn to_json(&self) -> String {
        match self {
            Outcome::Success(v) => serde_json::json!({ "output": v }).to_string(),
            Outcome::Failure { error, cause } => serde_json::json!({ "error": error, "cause": cause }).to_string(),
        }
    }

    pub fn from_json(text: &str) -> Option<Outcome> {
        let v: Value = serde_json::from_str(text).ok()?;
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        match v.get("output") {
            Some(output) => Some(Outcome::Success(output.clone())),
            None => Some(Outcome::Failure { error: text("error"), cause: text("cause") }),
        }
    }
}

/// Why a `SendTask*` call was refused: AWS's error codes
/// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// "The provided token is not valid."
    #[error("{0}")]
    InvalidToken(String),
    /// A token of an execution this host does not have.
    #[error("{0}")]
    TaskDoesNotExist(String),
    /// "The task token has either expired or the task associated with the token has already
    /// been closed."
    #[error("{0}")]
    TaskTimedOut(String),
    /// "The provided JSON output data is not valid."
    #[error("{0}")]
    InvalidOutput(String),
    /// The callback could not be recorded; the caller may send it again.
    #[error("{0}")]
    Internal(String),
}

impl CallbackError {
    /// The AWS error code (`__type`).
    pub fn code(&self) -> &'static str {
        match self {
            CallbackError::InvalidToken(_) => "InvalidToken",
            CallbackError::TaskDoesNotExist(_) => "TaskDoesNotExist",
            CallbackError::TaskTimedOut(_) => "TaskTimedOut",
            CallbackError::InvalidOutput(_) => "InvalidOutput",
            CallbackError::Internal(_) => "InternalFailure",
        }
    }
}

/// Where a durable host keeps accepted callbacks (`dmap serve`'s store).
pub trait Durable: Send + Sync {
    /// Records the outcome of `token`, a token of `execution_arn`; `Ok` once it survives a crash.
    fn save<'a>(
        &'a self,
        token: &'a str,
        execution_arn: &'a str,
        outcome: &'a Outcome,
    ) -> BoxFuture<'a, Result<(), String>>;
    /// The outcome recorded for `token`, if any.
    fn load<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Option<Outcome>, String>>;
    /// Whether `execution_arn` exists, and whether it is still running: `None` when it does
    /// not exist.
    fn running<'a>(&'a self, execution_arn: &'a str) -> BoxFuture<'a, Result<Option<bool>, String>>;
    /// Drops what was recorded for an execution that ended.
    fn forget(&self, execution_arn: &str);
}

/// How many closed tokens are remembered, to answer a late callback `TaskTimedOut` rather
/// than `TaskDoesNotExist`.
const CLOSED_REMEMBERED: usize = 100_000;

/// The pending waits of one host, by token.
pub struct Callbacks {
    codec: Codec,
    durable: Option<Arc<dyn Durable>>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    pending: HashMap<String, Entry>,
    closed: HashMap<String, ()>,
    closed_order: VecDeque<String>,
    /// Executions with callbacks in the durable store: only these are forgotten there when
    /// they end (a Map Run's million children end without a write each).
    saved: HashSet<String>,
}

struct Entry {
    outcome: Option<Outcome>,
    /// Heartbeats received so far.
    beats: u64,
    notify: Arc<Notify>,
}

impl Entry {
    fn new() -> Entry {
        Entry { outcome: None, beats: 0, notify: Arc::new(Notify::new()) }
    }
}

impl State {
    fn close(&mut self, token: &str) {
        self.pending.remove(token);
        if self.closed.insert(token.to_string(), ()).is_none() {
            self.closed_order.push_back(token.to_string());
            while self.closed_order.len() > CLOSED_REMEMBERED {
                if let Some(old) = self.closed_order.pop_front() {
                    self.closed.remove(&old);
                }
            }
        }
    }
}

/// What `send` found for a token.
enum Found {
    Pending,
    Closed,
    Unknown,
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callbacks").field("durable", &self.durable.is_some()).finish()
    }
}

impl Callbacks {
    /// A registry whose tokens are made with `codec`; `durable` keeps accepted callbacks
    /// across a restart.
    pub fn new(codec: Codec, durable: Option<Arc<dyn Durable>>) -> Arc<Callbacks> {
        Arc::new(Callbacks { codec, durable, state: Mutex::new(State::default()) })
    }

    /// A registry for one process: a random secret, nothing durable (`dmap run --listen`).
    pub fn ephemeral() -> Arc<Callbacks> {
        Callbacks::new(Codec::random(), None)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The token of an attempt.
    pub fn token(&self, execution_arn: &str, entered_id: u64, attempt: u64) -> String {
        self.codec.encode(execution_arn, entered_id, attempt)
    }

    /// Makes `token` pending before anyone outside sees it (the integration's call, the
    /// activity's hand-out), so a callback that comes before the wait begins is kept for it.
    pub fn arm(&self, token: &str) {
        let mut s = self.lock();
        if !s.closed.contains_key(token) {
            s.pending.entry(token.to_string()).or_insert_with(Entry::new);
        }
    }

    /// Undoes [`Callbacks::arm`] when the call failed: no wait follows.
    pub fn disarm(&self, token: &str) {
        self.lock().pending.remove(token);
    }

    /// Pending waits (armed or waiting), for `/metrics` and tests.
    pub fn pending(&self) -> usize {
        self.lock().pending.len()
    }

    /// The execution a token belongs to, or `InvalidToken`.
    pub fn check(&self, token: &str) -> Result<Attempt, CallbackError> {
        self.codec.decode(token).ok_or_else(|| CallbackError::InvalidToken("Invalid Token: 'Invalid token'".into()))
    }

    /// `SendTaskSuccess`: `output` must be JSON text of at most 256 KiB (checked here too).
    pub async fn send_success(&self, token: &str, output: &str) -> Result<(), CallbackError> {
        let attempt = self.check(token)?;
        let value: Value = serde_json::from_str(output).map_err(|e| {
            CallbackError::InvalidOutput(format!("Invalid Output: 'The output is not valid JSON: {e}'"))
        })?;
        self.deliver(token, &attempt, Outcome::Success(value)).await
    }

    /// `SendTaskFailure`.
    pub async fn send_failure(
        &self,
        token: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<(), CallbackError> {
        let attempt = self.check(token)?;
        self.deliver(token, &attempt, Outcome::Failure { error, cause }).await
    }

    /// `SendTaskHeartbeat`: restarts the wait's `HeartbeatSeconds`.
    pub async fn send_heartbeat(&self, token: &str) -> Result<(), CallbackError> {
        let attempt = self.check(token)?;
        let found = {
            let mut s = self.lock();
            let closed = s.closed.contains_key(token);
            match s.pending.get_mut(token) {
                Some(e) => {
                    e.beats += 1;
                    e.notify.notify_one();
                    Found::Pending
                }
                None if closed => Found::Closed,
                None => Found::Unknown,
            }
        };
        match found {
            Found::Pending => Ok(()),
            Found::Closed => Err(timed_out()),
            // A restarted server replaying towards the wait: the wait's heartbeat clock starts
            // when it begins, so this beat has nothing to reset.
            Found::Unknown => self.unknown(&attempt).await,
        }
    }

    async fn deliver(&self, token: &str, attempt: &Attempt, outcome: Outcome) -> Result<(), CallbackError> {
        let found = {
            let s = self.lock();
            match s.pending.get(token) {
                Some(e) if e.outcome.is_some() => Found::Closed,
                Some(_) => Found::Pending,
                None if s.closed.contains_key(token) => Found::Closed,
                None => Found::Unknown,
            }
        };
        match found {
            Found::Closed => return Err(timed_out()),
            Found::Unknown => self.unknown(attempt).await?,
            Found::Pending => {}
        }
        // Durable before it is answered: a crash after this finds it again.
        if let Some(d) = &self.durable {
            d.save(token, &attempt.execution_arn, &outcome).await.map_err(CallbackError::Internal)?;
        }
        let mut s = self.lock();
        if self.durable.is_some() {
            s.saved.insert(attempt.execution_arn.clone());
        }
        if let Some(e) = s.pending.get_mut(token) {
            if e.outcome.is_some() {
                return Err(timed_out());
            }
            e.outcome = Some(outcome);
            e.notify.notify_one();
        }
        Ok(())
    }

    /// A valid token no wait holds: after a restart, its execution may still be replaying
    /// towards the wait (accepted: the wait reads the stored outcome first); otherwise the
    /// task is over.
    async fn unknown(&self, attempt: &Attempt) -> Result<(), CallbackError> {
        let Some(d) = &self.durable else {
            return Err(does_not_exist());
        };
        match d.running(&attempt.execution_arn).await.map_err(CallbackError::Internal)? {
            Some(true) => Ok(()),
            Some(false) => Err(timed_out()),
            None => Err(does_not_exist()),
        }
    }

    /// Waits for the callback of `wait.token`, enforcing `HeartbeatSeconds` and the deadline
    /// (both fail with `States.Timeout`, as AWS reports a missed heartbeat).
    pub async fn wait(&self, wait: CallbackWait) -> Result<Value, Failure> {
        let notify = {
            let mut s = self.lock();
            s.closed.remove(&wait.token);
            s.pending.entry(wait.token.clone()).or_insert_with(Entry::new).notify.clone()
        };
        let guard = Closer { callbacks: self, token: &wait.token };
        if let Some(d) = &self.durable {
            match d.load(&wait.token).await {
                Ok(Some(outcome)) => {
                    self.lock().saved.insert(wait.execution_arn.clone());
                    return outcome.into_result();
                }
                Ok(None) => {}
                Err(e) => return Err(Failure::new(RUNTIME, format!("the callback store could not be read: {e}"))),
            }
        }
        let left = (wait.deadline - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        let deadline = Instant::now() + left;
        let mut beats = 0;
        let mut last_beat = Instant::now();
        loop {
            {
                let mut s = self.lock();
                let Some(entry) = s.pending.get_mut(&wait.token) else {
                    return Err(Failure::new(RUNTIME, "the callback's wait was dropped"));
                };
                if let Some(outcome) = entry.outcome.take() {
                    drop(s);
                    drop(guard);
                    return outcome.into_result();
                }
                if entry.beats != beats {
                    beats = entry.beats;
                    last_beat = Instant::now();
                }
            }
            let until = match wait.heartbeat_seconds {
                Some(h) => deadline.min(last_beat + Duration::from_secs(h)),
                None => deadline,
            };
            tokio::select! {
                _ = notify.notified() => {}
                _ = tokio::time::sleep_until(until) => {
                    let s = self.lock();
                    let beat_since = s.pending.get(&wait.token).is_some_and(|e| e.beats != beats || e.outcome.is_some());
                    if !beat_since {
                        return Err(Failure::named(TIMEOUT));
                    }
                }
            }
        }
    }

    /// Forgets what is kept for an execution that ended.
    pub fn execution_ended(&self, execution_arn: &str) {
        // Its waits closed their tokens as they ended (see `Closer`, `Armed`).
        let saved = self.lock().saved.remove(execution_arn);
        if let (Some(d), true) = (&self.durable, saved) {
            d.forget(execution_arn);
        }
    }
}

fn timed_out() -> CallbackError {
    CallbackError::TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'".into())
}

fn does_not_exist() -> CallbackError {
    CallbackError::TaskDoesNotExist("Task Does Not Exist: 'Provided task does not exist'".into())
}

/// Closes the token when the wait ends, however it ends (an outcome, a timeout, or the
/// execution stopped and its future dropped).
struct Closer<'a> {
    callbacks: &'a Callbacks,
    token: &'a str,
}

impl Drop for Closer<'_> {
    fn drop(&mut self) {
        self.callbacks.lock().close(self.token);
    }
}

/// An armed token while its call runs: disarmed unless the call succeeded (then the wait
/// follows), also when the call is dropped (its execution was stopped).
struct Armed<'a> {
    callbacks: &'a Callbacks,
    token: &'a str,
    keep: bool,
}

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        if !self.keep {
            self.callbacks.disarm(self.token);
        }
    }
}

/// A host that takes callbacks: tokens and waits from its [`Callbacks`], activity Tasks to its
/// [`ActivityQueue`]; everything else goes to `base`.
pub struct CallbackHost<H> {
    pub base: H,
    pub callbacks: Arc<Callbacks>,
    pub activities: Option<Arc<dyn ActivityQueue>>,
}

impl<H: Host> CallbackHost<H> {
    pub fn new(base: H, callbacks: Arc<Callbacks>) -> CallbackHost<H> {
        CallbackHost { base, callbacks, activities: None }
    }
}

impl<H: Host> Host for CallbackHost<H> {
    fn inner(&self) -> Option<&dyn Host> {
        Some(&self.base)
    }
    fn now(&self) -> DateTime<Utc> {
        self.base.now()
    }
    fn sleep_until(&self, deadline: DateTime<Utc>) -> BoxFuture<'_, ()> {
        self.base.sleep_until(deadline)
    }
    fn invoke_task(&self, request: TaskRequest) -> BoxFuture<'_, Result<Value, Failure>> {
        let Some(token) = request.task_token.clone() else {
            return self.base.invoke_task(request);
        };
        // The integration may call back before it answers (a Lambda function that calls
        // SendTaskSuccess itself): the token is pending from before the call.
        self.callbacks.arm(&token);
        Box::pin(async move {
            let mut armed = Armed { callbacks: &self.callbacks, token: &token, keep: false };
            let result = self.base.invoke_task(request).await;
            armed.keep = result.is_ok();
            result
        })
    }
    fn execution_ended(&self, execution_arn: &str) {
        self.callbacks.execution_ended(execution_arn);
        self.base.execution_ended(execution_arn)
    }
    fn task_token(&self, execution_arn: &str, entered_id: u64, attempt: u64) -> Option<String> {
        Some(self.callbacks.token(execution_arn, entered_id, attempt))
    }
    fn wait_for_callback(&self, wait: CallbackWait) -> BoxFuture<'_, Result<Value, Failure>> {
        Box::pin(self.callbacks.wait(wait))
    }
    fn dispatch_activity(&self, dispatch: ActivityDispatch) -> BoxFuture<'_, Result<String, Failure>> {
        match &self.activities {
            Some(queue) => {
                self.callbacks.arm(&dispatch.token);
                Box::pin(async move {
                    let token = dispatch.token.clone();
                    let mut armed = Armed { callbacks: &self.callbacks, token: &token, keep: false };
                    let result = queue.dispatch(dispatch).await;
                    armed.keep = result.is_ok();
                    result
                })
            }
            None => self.base.dispatch_activity(dispatch),
        }
    }
}

#[cfg(test)]
mod tests;
