//! Nested executions on `dmap serve`: a Task whose resource is
//! `arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]` starts an execution
//! of another state machine on the same server, through the same path as the API's
//! StartExecution (name and input checks, version and alias resolution, idempotency).
//!
//! [`NestedHost`] wraps the server's base host and answers those Tasks; every other call goes
//! to the base. It needs the engine, which is built after the host: [`Binding`] is the slot the
//! server fills once the engine exists (`dmap serve` binds it before resuming executions).
//!
//! Owns: the integration's parameters, the child's name when none is given, finding the child
//! again after a restart, waiting for its end (`.sync`), stopping it when the wait is abandoned.
//! Must not: run executions (the engine does) or format API answers (the shapes are in
//! [`shapes`]).

mod call;
pub mod shapes;

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::Value;
use shared::asl::Failure;
use shared::asl::error_name::RUNTIME;
use shared::asl::eval::{Host, TaskRequest};
use shared::asl::resource::{Resource, Service, Target};

use super::api::arn::Scope;
use super::api::cache::MachineCache;
use super::engine::WeakEngine;
use super::store::Store;

/// What starting a child needs: the engine, and what the API reads to resolve a start.
pub struct Starter {
    pub engine: WeakEngine,
    pub store: Arc<dyn Store>,
    pub scope: Scope,
    /// The API's state machine cache (the same one, so that an update is seen at once).
    pub machines: Arc<MachineCache>,
    /// The server's activities (the start path's `Ctx` carries them; a start reads none).
    pub activities: Arc<super::activities::Activities>,
}

/// The slot for the [`Starter`], filled once the engine exists. Cheap to clone.
#[derive(Clone, Default)]
pub struct Binding(Arc<OnceLock<Starter>>);

impl Binding {
    /// Fills the slot; a second call is ignored (one engine per server).
    pub fn bind(&self, starter: Starter) {
        let _ = self.0.set(starter);
    }

    fn get(&self) -> Option<&Starter> {
        self.0.get()
    }
}

/// `arn:aws:states:::states:startExecution` in any pattern.
pub fn is_start_execution(resource: &Resource) -> bool {
    matches!(&resource.target, Target::Optimized { service: Service::States, action } if action == "startExecution")
}

/// The server's base host plus nested executions.
pub struct NestedHost<H> {
    base: H,
    binding: Binding,
}

impl<H> NestedHost<H> {
    pub fn new(base: H, binding: Binding) -> Self {
        NestedHost { base, binding }
    }
}

impl<H: Host> Host for NestedHost<H> {
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
        if !is_start_execution(&request.resource) {
            return self.base.invoke_task(request);
        }
        Box::pin(async move {
            match self.binding.get() {
                Some(starter) => starter.call(request).await,
                None => Err(Failure::new(
                    RUNTIME,
                    format!(
                        "the Task state '{}' starts a nested execution, and this server's engine is not running",
                        request.state_name
                    ),
                )),
            }
        })
    }
}
#[cfg(test)]
mod tests;
