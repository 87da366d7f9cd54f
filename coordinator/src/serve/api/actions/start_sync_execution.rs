//! StartSyncExecution: runs an Express execution to its end and answers with its outcome.
//! Standard state machines are refused (`StateMachineTypeNotSupported`), as on AWS.
//! `billingDetails` reports what AWS would bill: the duration rounded up to 100 ms and the
//! smallest memory step, 64 MB (dmap bills nothing).

use serde_json::{Map, Value, json};

use crate::serve::api::error::ApiError;
use crate::serve::api::request::Request;
use crate::serve::api::start::{StartRequest, engine_error, spec};
use crate::serve::api::{Ctx, epoch};
use crate::serve::store::MachineType;

pub async fn run(ctx: &Ctx, mut r: Request) -> Result<Value, ApiError> {
    let req = StartRequest::read(&mut r)?;
    let included = r.enumeration("includedData", &["ALL_DATA", "METADATA_ONLY"])?;
    r.finish()?;
    let spec = spec(ctx, req)?;
    if spec.machine_type == MachineType::Standard {
        return Err(ApiError::type_not_supported(format!(
            "StartSyncExecution is not supported for STANDARD state machines: '{}'",
            spec.state_machine_arn
        )));
    }
    let with_data = included.as_deref() != Some("METADATA_ONLY");
    let mut m = Map::new();
    m.insert("executionArn".into(), Value::from(spec.execution_arn.clone()));
    m.insert("stateMachineArn".into(), Value::from(spec.state_machine_arn.clone()));
    m.insert("name".into(), Value::from(spec.name.clone()));
    if with_data {
        m.insert("input".into(), Value::from(spec.input.clone()));
    }
    m.insert("inputDetails".into(), json!({"included": with_data}));
    if let Some(t) = &spec.trace_header {
        m.insert("traceHeader".into(), Value::from(t.clone()));
    }
    let outcome = ctx.executions.start_sync(spec).await.map_err(engine_error)?;
    m.insert("startDate".into(), epoch(outcome.start_date));
    m.insert("stopDate".into(), epoch(outcome.stop_date));
    m.insert("status".into(), Value::from(outcome.status));
    if let Some(output) = outcome.output {
        if with_data {
            m.insert("output".into(), Value::from(output));
        }
        m.insert("outputDetails".into(), json!({"included": with_data}));
    }
    if let Some(e) = outcome.error {
        m.insert("error".into(), Value::from(e));
    }
    if let Some(c) = outcome.cause {
        m.insert("cause".into(), Value::from(c));
    }
    let millis = (outcome.stop_date - outcome.start_date).num_milliseconds().max(1);
    let billed = (millis + 99) / 100 * 100;
    m.insert("billingDetails".into(), json!({"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": billed}));
    Ok(Value::Object(m))
}
