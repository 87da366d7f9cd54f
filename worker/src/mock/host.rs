//! [`MockHost`]: any host, with the Task states of one test case answered from the mock
//! configuration instead of their integrations.
//!
//! A mocked state never calls out, whatever its resource. Its invocations are counted per
//! execution and per state, retries and every inline Map iteration included, from 0, as Step
//! Functions Local counts them; invocation `n` takes the response whose key holds `n`, and one
//! that no key holds fails the execution with `States.Runtime` (Step Functions Local fails it;
//! its own cause text is not documented). A Distributed Map child is an execution of its own:
//! its counts start at 0 and are dropped when it ends ([`Host::execution_ended`]), so a Map
//! Run of a million children holds counts only for the children running.
//!
//! Owns the counts. Must not know the file format (`config`) or the choice of test case.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::error_name::RUNTIME;
use shared::asl::eval::{CallbackWait, Host, TaskRequest};

use super::config::{MockedResponse, Response};
use super::select::TestCase;

/// A base host whose calls to the test case's Task states are answered by their mocks.
pub struct MockHost<H> {
    base: H,
    case: Arc<TestCase>,
    /// Mocked state name → its slot in an execution's counts.
    slots: HashMap<String, (usize, Arc<MockedResponse>)>,
    /// Execution ARN → the invocations so far of each mocked state (by slot).
    counts: Mutex<HashMap<String, Vec<u64>>>,
    /// The answers of mocked `.waitForTaskToken` calls by token, until their wait takes them:
    /// Step Functions Local answers such a state with its mocked response, counted once.
    callbacks: Mutex<HashMap<String, (String, Value)>>,
}

impl<H: Host> MockHost<H> {
    pub fn new(base: H, case: Arc<TestCase>) -> Self {
        let mut names: Vec<&String> = case.states.keys().collect();
        names.sort();
        let slots = names.into_iter().enumerate().map(|(i, n)| (n.clone(), (i, case.states[n].clone()))).collect();
        MockHost { base, case, slots, counts: Mutex::new(HashMap::new()), callbacks: Mutex::new(HashMap::new()) }
    }

    pub fn base(&self) -> &H {
        &self.base
    }

    /// Executions holding counts now (for tests of the bound).
    pub fn executions_counted(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<u64>>> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The number of this invocation of the state in its execution (0 for the first).
    fn next(&self, execution_arn: &str, slot: usize) -> u64 {
        let mut counts = self.lock();
        let per_state = match counts.get_mut(execution_arn) {
            Some(v) => v,
            None => counts.entry(execution_arn.to_string()).or_insert_with(|| vec![0; self.slots.len()]),
        };
        let n = per_state[slot];
        per_state[slot] += 1;
        n
    }

    fn answer(&self, request: &TaskRequest, slot: usize, response: &MockedResponse) -> Result<Value, Failure> {
        self.respond(&request.execution_arn, &request.state_name, slot, response)
    }

    fn respond(
        &self,
        execution_arn: &str,
        state_name: &str,
        slot: usize,
        response: &MockedResponse,
    ) -> Result<Value, Failure> {
        let n = self.next(execution_arn, slot);
        match response.get(n) {
            Some(Response::Return(v)) => Ok(v.clone()),
            Some(Response::Throw(f)) => Err(f.clone()),
            None => Err(Failure::new(
                RUNTIME,
                format!(
                    "the mock configuration has no response for invocation {n} of the Task state '{}' (test case \
                     '{}#{}', mocked response '{}' answers invocations {})",
                    state_name,
                    self.case.state_machine,
                    self.case.name,
                    response.name,
                    response.describe_keys()
                ),
            )),
        }
    }
}

impl<H: Host> Host for MockHost<H> {
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
        match self.slots.get(&request.state_name) {
            Some((slot, response)) => {
                let answer = self.answer(&request, *slot, response);
                // A mocked `.waitForTaskToken` call: its wait gives the mocked response, and
                // the call itself answers with it too (a Throw fails the call, with no wait).
                if let (Some(token), Ok(v)) = (&request.task_token, &answer) {
                    self.callbacks
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(token.clone(), (request.execution_arn.clone(), v.clone()));
                }
                Box::pin(std::future::ready(answer))
            }
            None => self.base.invoke_task(request),
        }
    }

    fn execution_ended(&self, execution_arn: &str) {
        self.lock().remove(execution_arn);
        self.callbacks.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, (arn, _)| arn != execution_arn);
        self.base.execution_ended(execution_arn);
    }
    /// The base's token; a host that cannot take callbacks still runs mocked ones, under a
    /// token that names the attempt.
    fn task_token(&self, execution_arn: &str, entered_id: u64, attempt: u64) -> Option<String> {
        let base = self.base.task_token(execution_arn, entered_id, attempt);
        base.or_else(|| (!self.slots.is_empty()).then(|| format!("mock:{execution_arn}:{entered_id}:{attempt}")))
    }
    fn wait_for_callback(&self, wait: CallbackWait) -> BoxFuture<'_, Result<Value, Failure>> {
        let Some((slot, response)) = self.slots.get(&wait.state_name) else {
            return self.base.wait_for_callback(wait);
        };
        let taken = self.callbacks.lock().unwrap_or_else(|e| e.into_inner()).remove(&wait.token);
        match taken {
            Some((_, v)) => Box::pin(std::future::ready(Ok(v))),
            // A restarted server resumes the wait of a call made before it (the counts start
            // again after a restart): the state's next mocked response answers it.
            None => Box::pin(std::future::ready(self.respond(&wait.execution_arn, &wait.state_name, *slot, response))),
        }
    }
}

#[cfg(test)]
mod tests;
