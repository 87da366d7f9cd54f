//! Amazon EMR's wrapped APIs: Step Functions' EMR integration names a cluster `ClusterId` and
//! takes one step where the API takes lists (`connect-emr`: `addStep` sends one `Step` and
//! answers `StepId`, `cancelStep` answers `CancelStepsInfo`, `setClusterTerminationProtection`
//! and `terminateCluster` take `ClusterId` instead of `JobFlowIds`), answers `ClusterId` for
//! `createCluster` (whose API, `RunJobFlow`, answers `JobFlowId`), and finds an instance fleet
//! or group by name for `modifyInstanceFleetByName` / `modifyInstanceGroupByName`.
//!
//! Owns: those renamings and look-ups. Must not: know other services.

use serde_json::{Map, Value, json};
use shared::asl::Failure;

use super::Called;
use super::api::Api;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wrapped {
    CreateCluster,
    TerminationProtection,
    TerminateCluster,
    AddStep,
    CancelStep,
    ModifyInstanceFleetByName,
    ModifyInstanceGroupByName,
}

/// Calls the wrapped API `operation` for `input` and reshapes its answer. A failure is either
/// the API's error or a parameter that makes no request.
pub async fn call(api: &dyn Api, wrapped: Wrapped, operation: &str, input: Value) -> Result<Value, Called> {
    let mut params = into_map(input);
    let out = match wrapped {
        Wrapped::CreateCluster => {
            let out = api.call("emr", operation, &Value::Object(params)).await?.output;
            let mut result = Map::new();
            result.insert("ClusterId".into(), out.get("JobFlowId").cloned().unwrap_or(Value::Null));
            if let Some(arn) = out.get("ClusterArn") {
                result.insert("ClusterArn".into(), arn.clone());
            }
            return Ok(Value::Object(result));
        }
        Wrapped::TerminationProtection | Wrapped::TerminateCluster => {
            let id = take(&mut params, "ClusterId")?;
            params.insert("JobFlowIds".into(), json!([id]));
            api.call("emr", operation, &Value::Object(params)).await?.output
        }
        Wrapped::AddStep => {
            let id = take(&mut params, "ClusterId")?;
            let step = take(&mut params, "Step")?;
            params.insert("JobFlowId".into(), id);
            params.insert("Steps".into(), json!([step]));
            let out = api.call("emr", operation, &Value::Object(params)).await?.output;
            return Ok(json!({"StepId": out.pointer("/StepIds/0").cloned().unwrap_or(Value::Null)}));
        }
        Wrapped::CancelStep => {
            let step = take(&mut params, "StepId")?;
            params.insert("StepIds".into(), json!([step]));
            let out = api.call("emr", operation, &Value::Object(params)).await?.output;
            let info = out.pointer("/CancelStepsInfoList/0").cloned().unwrap_or(Value::Null);
            return Ok(json!({ "CancelStepsInfo": info }));
        }
        Wrapped::ModifyInstanceFleetByName => {
            let name = take(&mut params, "InstanceFleetName")?;
            let cluster = params.get("ClusterId").cloned().ok_or_else(|| missing("ClusterId"))?;
            let fleets = api.call("emr", "ListInstanceFleets", &json!({"ClusterId": cluster})).await?.output;
            let id = id_named(&fleets, "InstanceFleets", &name)?;
            let mut fleet = into_map(params.remove("InstanceFleet").unwrap_or(json!({})));
            fleet.insert("InstanceFleetId".into(), id);
            params.insert("InstanceFleet".into(), Value::Object(fleet));
            api.call("emr", operation, &Value::Object(params)).await?.output
        }
        Wrapped::ModifyInstanceGroupByName => {
            let name = take(&mut params, "InstanceGroupName")?;
            let cluster = params.get("ClusterId").cloned().ok_or_else(|| missing("ClusterId"))?;
            let groups = api.call("emr", "ListInstanceGroups", &json!({"ClusterId": cluster})).await?.output;
            let id = id_named(&groups, "InstanceGroups", &name)?;
            let mut group = into_map(params.remove("InstanceGroup").unwrap_or(json!({})));
            group.insert("InstanceGroupId".into(), id);
            params.insert("InstanceGroups".into(), json!([group]));
            api.call("emr", operation, &Value::Object(params)).await?.output
        }
    };
    Ok(out)
}

fn into_map(input: Value) -> Map<String, Value> {
    match input {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn missing(member: &str) -> Called {
    Called::Invalid(format!("the parameter '{member}' is required"))
}

fn take(params: &mut Map<String, Value>, member: &str) -> Result<Value, Called> {
    params.remove(member).ok_or_else(|| missing(member))
}

/// The `Id` of the member of `list` whose `Name` is `name`.
fn id_named(answer: &Value, list: &str, name: &Value) -> Result<Value, Called> {
    let found = answer.get(list).and_then(Value::as_array).into_iter().flatten().find(|x| x.get("Name") == Some(name));
    found.and_then(|x| x.get("Id").cloned()).ok_or_else(|| {
        Called::Refused(Failure::new("States.TaskFailed", format!("the cluster has no member of {list} named {name}")))
    })
}
