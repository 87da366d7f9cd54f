//! The engine as the API's [`Executions`]: each method hands the resolved request to
//! `serve::engine::Engine`.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use super::Executions;
use crate::serve::engine::{Engine, EngineError, MapRunError, MapRunUpdate, StartSpec, Started, SyncOutcome};

impl Executions for Engine {
    fn start(&self, spec: StartSpec) -> BoxFuture<'_, Result<Started, EngineError>> {
        Box::pin(Engine::start(self, spec))
    }
    fn start_sync(&self, spec: StartSpec) -> BoxFuture<'_, Result<SyncOutcome, EngineError>> {
        Box::pin(Engine::start_sync(self, spec))
    }
    fn stop<'a>(
        &'a self,
        execution_arn: &'a str,
        error: Option<String>,
        cause: Option<String>,
    ) -> BoxFuture<'a, Result<DateTime<Utc>, EngineError>> {
        Box::pin(Engine::stop(self, execution_arn, error, cause))
    }
    fn redrive<'a>(
        &'a self,
        execution_arn: &'a str,
        client_token: Option<&'a str>,
    ) -> BoxFuture<'a, Result<DateTime<Utc>, EngineError>> {
        Box::pin(Engine::redrive(self, execution_arn, client_token))
    }
    fn update_map_run(&self, map_run_arn: &str, update: MapRunUpdate) -> Result<(), MapRunError> {
        Engine::update_map_run(self, map_run_arn, update)
    }
    fn map_run(&self, map_run_arn: &str) -> Option<crate::serve::store::MapRunRecord> {
        Engine::map_run(self, map_run_arn)
    }
    fn test_host(&self) -> Option<std::sync::Arc<dyn shared::asl::eval::Host>> {
        Some(Engine::host(self))
    }
}
