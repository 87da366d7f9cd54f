//! The Step Functions API: one action per file under `actions/`, behind the closed [`Action`]
//! enum that `X-Amz-Target: AWSStepFunctions.<Name>` selects.
//!
//! An action reads its request ([`request::Request`]: AWS's type and constraint checks),
//! resolves ARNs ([`arn`]), reads or commits to the store, calls the engine through
//! [`Executions`] for what runs, and returns its answer as JSON or an [`ApiError`] from AWS's
//! table ([`error`]). This module knows nothing of HTTP (`serve::http` carries bytes to
//! [`dispatch`]) and runs nothing itself.

pub mod actions;
pub mod arn;
pub mod cache;
pub mod config;
pub mod definition;
pub mod error;
pub mod executions;
pub mod express;
pub mod history;
pub mod page;
pub mod request;
pub mod resolve;
pub mod routing;
pub mod start;
pub mod tags;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::Value;
use shared::asl::{Diagnostic, StateMachine};

pub use self::error::ApiError;
use super::engine::{EngineError, MapRunError, MapRunUpdate, StartSpec, Started, SyncOutcome};
use super::store::Store;

/// What runs executions: the engine (`serve::engine::Engine` implements this). A trait so the
/// API can be built and tested apart from the engine.
pub trait Executions: Send + Sync + 'static {
    /// StartExecution: a new execution, or AWS's idempotent answer for a running one with the
    /// same name and input.
    fn start(&self, spec: StartSpec) -> BoxFuture<'_, Result<Started, EngineError>>;
    /// StartSyncExecution: runs an Express execution to its end.
    fn start_sync(&self, spec: StartSpec) -> BoxFuture<'_, Result<SyncOutcome, EngineError>>;
    /// StopExecution: the stop date.
    fn stop<'a>(
        &'a self,
        execution_arn: &'a str,
        error: Option<String>,
        cause: Option<String>,
    ) -> BoxFuture<'a, Result<DateTime<Utc>, EngineError>>;
    /// RedriveExecution: the redrive date.
    fn redrive<'a>(
        &'a self,
        execution_arn: &'a str,
        client_token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<DateTime<Utc>, EngineError>>;
    /// UpdateMapRun on a running Map Run.
    fn update_map_run(&self, map_run_arn: &str, update: MapRunUpdate) -> Result<(), MapRunError>;
    /// The live record of a Map Run running in this server (fresher than the store's).
    fn map_run(&self, map_run_arn: &str) -> Option<crate::serve::store::MapRunRecord>;
    /// TestState: the server's host, through which a Task tested without a mock calls its
    /// integration as a run would. `None`: this server has none (TestState is refused).
    fn test_host(&self) -> Option<Arc<dyn shared::asl::eval::Host>> {
        None
    }
}

/// What this build can run: definitions that name Task resources no configured integration
/// serves are refused at CreateStateMachine/UpdateStateMachine (see [`definition`]).
pub trait Support: Send + Sync + 'static {
    /// One error diagnostic per Task this server cannot run.
    fn unsupported(&self, machine: &StateMachine) -> Vec<Diagnostic>;
}

/// What every action works with.
#[derive(Clone)]
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub executions: Arc<dyn Executions>,
    /// The region and account in the ARNs this server forms.
    pub scope: arn::Scope,
    /// `None` accepts every Task resource.
    pub support: Option<Arc<dyn Support>>,
    /// State machines as the start actions read them.
    pub machines: Arc<cache::MachineCache>,
    /// Activity tasks waiting for workers (GetActivityTask).
    pub activities: Arc<crate::serve::activities::Activities>,
    /// The pending callbacks (SendTaskSuccess/Failure/Heartbeat); `None` in API tests
    /// without an engine.
    pub callbacks: Option<Arc<crate::callbacks::Callbacks>>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("scope", &self.scope).finish_non_exhaustive()
    }
}

/// The prefix of every `X-Amz-Target` of this service (botocore's `targetPrefix`).
pub const TARGET_PREFIX: &str = "AWSStepFunctions.";

/// Declares the closed set of actions: the enum, its names, and the dispatch to each file.
macro_rules! actions {
    ($($variant:ident => $module:ident,)*) => {
        /// An action of the Step Functions API that this server implements.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            /// Every action, in the order declared.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// AWS's name of the action (`CreateStateMachine`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => stringify!($variant),)*
                }
            }

            fn from_name(name: &str) -> Option<Action> {
                match name {
                    $(stringify!($variant) => Some(Action::$variant),)*
                    _ => None,
                }
            }
        }

        /// Runs `action` on the request `body` (the raw JSON bytes).
        pub async fn dispatch(ctx: &Ctx, action: Action, body: &[u8]) -> Result<Value, ApiError> {
            let request = request::Request::parse(body)?;
            match action {
                $(Action::$variant => actions::$module::run(ctx, request).await,)*
            }
        }
    };
}

actions! {
    CreateStateMachine => create_state_machine,
    DescribeStateMachine => describe_state_machine,
    ListStateMachines => list_state_machines,
    DeleteStateMachine => delete_state_machine,
    UpdateStateMachine => update_state_machine,
    PublishStateMachineVersion => publish_state_machine_version,
    ListStateMachineVersions => list_state_machine_versions,
    DeleteStateMachineVersion => delete_state_machine_version,
    CreateStateMachineAlias => create_state_machine_alias,
    DescribeStateMachineAlias => describe_state_machine_alias,
    UpdateStateMachineAlias => update_state_machine_alias,
    DeleteStateMachineAlias => delete_state_machine_alias,
    ListStateMachineAliases => list_state_machine_aliases,
    ValidateStateMachineDefinition => validate_state_machine_definition,
    TagResource => tag_resource,
    UntagResource => untag_resource,
    ListTagsForResource => list_tags_for_resource,
    DescribeExecution => describe_execution,
    ListExecutions => list_executions,
    GetExecutionHistory => get_execution_history,
    DescribeStateMachineForExecution => describe_state_machine_for_execution,
    DescribeMapRun => describe_map_run,
    ListMapRuns => list_map_runs,
    StartExecution => start_execution,
    StartSyncExecution => start_sync_execution,
    StopExecution => stop_execution,
    UpdateMapRun => update_map_run,
    CreateActivity => create_activity,
    DescribeActivity => describe_activity,
    ListActivities => list_activities,
    DeleteActivity => delete_activity,
    GetActivityTask => get_activity_task,
    RedriveExecution => redrive_execution,
    SendTaskSuccess => send_task_success,
    SendTaskFailure => send_task_failure,
    SendTaskHeartbeat => send_task_heartbeat,
    TestState => test_state,
}

impl Action {
    /// The action an `X-Amz-Target` header names; `UnknownOperationException` for anything
    /// else (another service's prefix, no header, or a name the service does not have).
    pub fn parse(target: Option<&str>) -> Result<Action, ApiError> {
        let target = target.unwrap_or("");
        let name = target.strip_prefix(TARGET_PREFIX);
        if let Some(action) = name.and_then(Action::from_name) {
            return Ok(action);
        }
        Err(ApiError::unknown_operation(target))
    }
}

/// A timestamp as the AWS JSON protocol writes it: epoch seconds, milliseconds as a fraction.
pub fn epoch(t: DateTime<Utc>) -> Value {
    Value::from(t.timestamp_millis() as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_actions_of_this_service_only() {
        assert_eq!(Action::parse(Some("AWSStepFunctions.CreateStateMachine")), Ok(Action::CreateStateMachine));
        for bad in [None, Some(""), Some("AWSStepFunctions.Nope"), Some("DynamoDB_20120810.CreateStateMachine")] {
            assert_eq!(Action::parse(bad).map_err(|e| e.code), Err("UnknownOperationException"), "{bad:?}");
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(Some(&format!("{TARGET_PREFIX}{}", a.name()))), Ok(*a));
        }
    }

    #[test]
    fn every_operation_of_the_stepfunctions_model_is_served() {
        // botocore 1.44.18's stepfunctions (2016-11-23) model, `operation_names`.
        let model = [
            "CreateActivity",
            "CreateStateMachine",
            "CreateStateMachineAlias",
            "DeleteActivity",
            "DeleteStateMachine",
            "DeleteStateMachineAlias",
            "DeleteStateMachineVersion",
            "DescribeActivity",
            "DescribeExecution",
            "DescribeMapRun",
            "DescribeStateMachine",
            "DescribeStateMachineAlias",
            "DescribeStateMachineForExecution",
            "GetActivityTask",
            "GetExecutionHistory",
            "ListActivities",
            "ListExecutions",
            "ListMapRuns",
            "ListStateMachineAliases",
            "ListStateMachineVersions",
            "ListStateMachines",
            "ListTagsForResource",
            "PublishStateMachineVersion",
            "RedriveExecution",
            "SendTaskFailure",
            "SendTaskHeartbeat",
            "SendTaskSuccess",
            "StartExecution",
            "StartSyncExecution",
            "StopExecution",
            "TagResource",
            "TestState",
            "UntagResource",
            "UpdateMapRun",
            "UpdateStateMachine",
            "UpdateStateMachineAlias",
            "ValidateStateMachineDefinition",
        ];
        let mut served: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
        served.sort_unstable();
        assert_eq!(served, model);
    }
}
